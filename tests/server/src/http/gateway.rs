//! The HTTP gateway (`/gateway/gateway.dll`, docs/protocol.md §1.6), modelled on Escargot's:
//! `Action=open` with `Server=NS|SB` and `IP=` makes a session whose id comes back in
//! `X-MSN-Messenger: SessionID=<id>; GW-IP=<IP>`; later requests name it with `SessionID=`
//! (body: client bytes) or poll with `Action=poll`; each answer's body is what the server sent
//! meanwhile. A session is bridged to this server's own NS or SB listener over loopback, so the
//! NS and SB logic (and their transcripts) are the same as for direct connections.
//!
//! An unknown `SessionID` is `400 Bad Request`, as Escargot answers it. Stricter than Escargot,
//! which takes them silently: a request without `SessionID` that is not `Action=open`, an
//! unknown `Action` or `Server`, an `IP` this server did not hand out, and a second request for
//! a session whose first is still being answered (one request in flight per session) are `400`
//! and strict-mode violations. A session whose bridged connection the server closed answers
//! once more with what was left, then is gone (`400`); one unused for [`IDLE_TIMEOUT`] is closed
//! (Escargot: 60 s).

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Request, Response};
use crate::shared::Shared;

/// A session unused this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// After client bytes are passed on, how long the answer waits for the server's first reply.
const REPLY_WAIT: Duration = Duration::from_millis(250);
/// Once the server is writing, how long a pause ends the answer.
const QUIET: Duration = Duration::from_millis(20);
/// Most bytes in one answer; the rest waits for the next request.
const MAX_ANSWER: usize = 256 * 1024;

/// One gateway session: the bridged connection (locked while a request is answered).
struct GwSession {
    stream: Mutex<TcpStream>,
    gw_ip: String,
    last_used: Mutex<Instant>,
}

/// Every gateway session of the server.
#[derive(Default)]
pub struct Gateway {
    sessions: Mutex<HashMap<String, Arc<GwSession>>>,
    next_id: AtomicU64,
    /// Sessions opened to the NS and to switchboards.
    opened_ns: AtomicU64,
    opened_sb: AtomicU64,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    /// Sessions opened so far: (to the NS, to switchboards).
    pub fn opened(&self) -> (u64, u64) {
        (
            self.opened_ns.load(Ordering::SeqCst),
            self.opened_sb.load(Ordering::SeqCst),
        )
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<GwSession>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes sessions unused for [`IDLE_TIMEOUT`].
    fn sweep(&self) {
        let now = Instant::now();
        self.sessions().retain(|_, s| {
            let idle = now.duration_since(*s.last_used.lock().unwrap_or_else(|p| p.into_inner()));
            let keep = idle < IDLE_TIMEOUT;
            if !keep {
                if let Ok(stream) = s.stream.try_lock() {
                    let _ = stream.shutdown(Shutdown::Both);
                }
            }
            keep
        });
    }
}

/// The query parameters of the request line.
fn query(req: &Request) -> HashMap<String, String> {
    let target = req.line.split(' ').nth(1).unwrap_or("");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn bad(shared: &Shared, why: Option<String>) -> Response {
    if let Some(why) = why {
        shared.violation(format!("HTTP gateway: {why}"));
    }
    Response::plain(400, Vec::new())
}

/// Answers one gateway request.
pub fn handle(shared: &Shared, req: &Request) -> Response {
    let gateway = &shared.gateway;
    gateway.sweep();
    let q = query(req);
    let action = q.get("Action").map(String::as_str);
    let (id, session) = match q.get("SessionID") {
        None => {
            if action != Some("open") {
                return bad(
                    shared,
                    Some(format!("no SessionID and no Action=open: {}", req.line)),
                );
            }
            match open(shared, &q) {
                Ok(opened) => opened,
                Err(why) => return bad(shared, Some(why)),
            }
        }
        Some(id) => {
            if !matches!(action, None | Some("poll")) {
                return bad(shared, Some(format!("unknown action: {}", req.line)));
            }
            match gateway.sessions().get(id) {
                Some(session) => (id.clone(), session.clone()),
                None => return bad(shared, None),
            }
        }
    };
    if action == Some("poll") && !req.body.is_empty() {
        shared.violation(format!(
            "HTTP gateway: a poll with a body (Escargot drops it): {}",
            req.line
        ));
    }
    let Ok(mut stream) = session.stream.try_lock() else {
        return bad(
            shared,
            Some(format!("a second request in flight for session {id}")),
        );
    };
    *session.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    let wait = match req.body.is_empty() {
        true => Duration::ZERO,
        false => match stream.write_all(&req.body) {
            Ok(()) => REPLY_WAIT,
            Err(_) => Duration::ZERO,
        },
    };
    let (body, ended) = collect(&mut stream, wait);
    drop(stream);
    if ended {
        gateway.sessions().remove(&id);
    }
    Response {
        status: 200,
        headers: vec![
            (
                "X-MSN-Messenger".to_owned(),
                format!("SessionID={id}; GW-IP={}", session.gw_ip),
            ),
            (
                "Content-Type".to_owned(),
                "application/x-msn-messenger".to_owned(),
            ),
        ],
        body,
    }
}

/// Opens a session bridged to this server's NS or SB listener.
fn open(shared: &Shared, q: &HashMap<String, String>) -> Result<(String, Arc<GwSession>), String> {
    let gateway = &shared.gateway;
    let ip = q.get("IP").cloned().unwrap_or_default();
    if ip != "127.0.0.1" {
        return Err(format!("IP={ip} is not a server this one handed out"));
    }
    let (port, counter) = match q.get("Server").map(String::as_str) {
        Some("NS") => (shared.ports.ns, &gateway.opened_ns),
        Some("SB") => (shared.ports.sb, &gateway.opened_sb),
        other => return Err(format!("unknown Server={other:?}")),
    };
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("bridge: {e}"))?;
    let id = format!(
        "{:08x}-{:04x}",
        fastrand::u32(..),
        gateway.next_id.fetch_add(1, Ordering::SeqCst)
    );
    let session = Arc::new(GwSession {
        stream: Mutex::new(stream),
        gw_ip: ip,
        last_used: Mutex::new(Instant::now()),
    });
    counter.fetch_add(1, Ordering::SeqCst);
    gateway.sessions().insert(id.clone(), session.clone());
    Ok((id, session))
}

/// What the bridged server sent: waits up to `wait` for the first bytes, then reads until a
/// [`QUIET`] pause or [`MAX_ANSWER`]; `true` when the server closed the connection.
fn collect(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let start = Instant::now();
    while out.len() < MAX_ANSWER {
        let wait = match out.is_empty() {
            true => wait.saturating_sub(start.elapsed()),
            false => QUIET,
        };
        let set = match wait.is_zero() {
            true => stream.set_nonblocking(true),
            false => stream
                .set_nonblocking(false)
                .and_then(|()| stream.set_read_timeout(Some(wait))),
        };
        if set.is_err() {
            return (out, true);
        }
        let want = buf.len().min(MAX_ANSWER - out.len());
        match stream.read(&mut buf[..want]) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (out, true),
        }
    }
    (out, false)
}
