//! Accept loops: one thread per listening socket, one thread per connection, all stoppable.

use crate::shared::Shared;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How often blocked loops look at the stop flag.
pub const POLL: Duration = Duration::from_millis(25);

/// Binds `127.0.0.1:port` (0 = ephemeral).
pub fn bind(port: u16) -> io::Result<TcpListener> {
    let l = TcpListener::bind(("127.0.0.1", port))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Runs `handle` on a new thread for every connection `listener` accepts until the server stops;
/// the returned thread joins all connection threads before it ends.
pub fn spawn_acceptor<F>(
    name: &str,
    listener: TcpListener,
    shared: Arc<Shared>,
    handle: F,
) -> io::Result<JoinHandle<()>>
where
    F: Fn(Arc<Shared>, TcpStream) + Send + Sync + Clone + 'static,
{
    thread::Builder::new()
        .name(format!("msnp-ts-{name}"))
        .spawn(move || {
            let mut workers: Vec<JoinHandle<()>> = Vec::new();
            while !shared.stopping() {
                match listener.accept() {
                    Ok((stream, _)) => {
                        workers.retain(|w| !w.is_finished());
                        if stream.set_nonblocking(false).is_err() {
                            continue;
                        }
                        // As Escargot's asyncio transports: every write goes out at once.
                        let _ = stream.set_nodelay(true);
                        let (shared, handle) = (shared.clone(), handle.clone());
                        match thread::Builder::new().spawn(move || handle(shared, stream)) {
                            Ok(w) => workers.push(w),
                            Err(e) => log::warn!("cannot spawn connection thread: {e}"),
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
                    Err(e) => {
                        log::warn!("accept failed: {e}");
                        thread::sleep(POLL);
                    }
                }
            }
            for w in workers {
                let _ = w.join();
            }
        })
}
