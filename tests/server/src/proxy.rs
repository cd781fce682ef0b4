//! An HTTP `CONNECT` proxy to loopback targets only, counting tunnels, so a test can prove a
//! client went through it.

use crate::listener::POLL;
use crate::shared::Shared;
use crate::transcript::{Entry, Event, Service};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest `CONNECT` request head.
const MAX_HEAD: usize = 8 * 1024;

/// The loopback target of `CONNECT host:port`, if it is one.
fn loopback_target(authority: &str) -> Option<SocketAddr> {
    let (host, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse().ok()?
    };
    ip.is_loopback().then_some(SocketAddr::new(ip, port))
}

fn read_head(stream: &mut TcpStream, shared: &Shared) -> io::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_HEAD || Instant::now() > deadline || shared.stopping() {
            return Err(io::ErrorKind::InvalidData.into());
        }
        match stream.read(&mut byte) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => head.push(byte[0]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Copies `from` to `to` until either side ends or the server stops.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: Arc<Shared>) {
    let mut buf = [0u8; 16 * 1024];
    while !shared.stopping() {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Serves one proxy client.
pub(crate) fn serve(shared: Arc<Shared>, mut client: TcpStream) {
    let _ = client.set_read_timeout(Some(POLL));
    let conn = shared.next_conn_id();
    let Ok(head) = read_head(&mut client, &shared) else {
        return;
    };
    let line = head.lines().next().unwrap_or_default().to_owned();
    shared.transcript.push(Entry {
        conn,
        service: Service::Proxy,
        event: Event::Received,
        line: line.clone(),
        payload: None,
    });
    let mut parts = line.split(' ');
    let target = match (parts.next(), parts.next()) {
        (Some("CONNECT"), Some(authority)) => loopback_target(authority),
        _ => None,
    };
    let Some(target) = target else {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
        return;
    };
    let Ok(upstream) = TcpStream::connect_timeout(&target, Duration::from_secs(5)) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    shared.counters.proxy_tunnels.fetch_add(1, Ordering::SeqCst);
    let _ = upstream.set_read_timeout(Some(POLL));
    let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let back = {
        let shared = shared.clone();
        std::thread::spawn(move || pump(upstream2, client2, shared))
    };
    pump(client, upstream, shared);
    let _ = back.join();
}

#[cfg(test)]
mod tests {
    use super::loopback_target;

    #[test]
    fn only_loopback() {
        assert!(loopback_target("127.0.0.1:1863").is_some());
        assert!(loopback_target("localhost:443").is_some());
        assert!(loopback_target("[::1]:443").is_some());
        assert!(loopback_target("10.0.0.1:1863").is_none());
        assert!(loopback_target("example.com:443").is_none());
        assert!(loopback_target("127.0.0.1").is_none());
    }
}
