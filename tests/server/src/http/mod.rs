//! The HTTP and HTTPS listeners: both serve every path (nexus, Passport 1.4 login, RST, SOAP).

mod abook;
pub mod gateway;
mod message;
mod oim;
mod passport;
mod rst;
mod sharing;
mod soap;
pub mod tls;

pub use message::{Request, Response};

use crate::faults::SoapFault;
use crate::listener::POLL;
use crate::shared::Shared;
use crate::transcript::{Entry, Event, Service};
use message::ReadError;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest time one request may take to arrive.
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);

/// Routes a request by path.
fn route(shared: &Shared, req: &Request, client_ip: &str) -> Response {
    if let Some(canned) = shared.config.http_override.as_ref().filter(|o| {
        req.path.contains(&o.matches)
            || req
                .header("SOAPAction")
                .is_some_and(|a| a.contains(&o.matches))
    }) {
        let mut response = Response::plain(canned.status, canned.headers.clone());
        response.body = canned.body.clone();
        return response;
    }
    match req.path.as_str() {
        "/gateway/gateway.dll" if req.method == "POST" => gateway::handle(shared, req),
        "/gateway/gateway.dll" => Response::plain(405, Vec::new()),
        "/rdr/pprdr.asp" | "/nexus-mock" => passport::nexus(shared),
        "/login" | "/login2.srf" => passport::login(shared, req),
        p if p.eq_ignore_ascii_case("/RST.srf") || p.eq_ignore_ascii_case("/RST2.srf") => {
            if req.method == "POST" {
                rst::handle(shared, req, client_ip)
            } else {
                Response::plain(405, Vec::new())
            }
        }
        p if (oim::is_oim_path(p) || soap::is_soap_path(p)) && req.method == "POST" => {
            match shared.faults.soap() {
                Some(SoapFault::Fault) => soap::fault("soap:Server", "Internal server error", ""),
                Some(SoapFault::Bare) => Response::plain(500, Vec::new()),
                None if oim::is_oim_path(p) => oim::handle(shared, req),
                None => soap::handle(shared, req),
            }
        }
        p if oim::is_oim_path(p) => oim::handle(shared, req),
        p if soap::is_soap_path(p) => soap::handle(shared, req),
        _ => Response::plain(404, Vec::new()),
    }
}

fn log(shared: &Shared, conn: u64, event: Event, line: &str, body: &[u8]) {
    shared.transcript.push(Entry {
        conn,
        service: Service::Http,
        event,
        line: line.to_owned(),
        payload: (!body.is_empty()).then(|| body.to_vec()),
    });
}

/// Reads one request from `stream`, answers it and returns (the caller closes).
fn exchange<S: Read + Write>(shared: &Shared, stream: &mut S, client_ip: &str) {
    let conn = shared.next_conn_id();
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let response = match message::read_request(stream, deadline, &|| shared.stopping()) {
        Ok(req) => {
            let mut rest: Vec<u8> = req
                .headers
                .iter()
                .flat_map(|(k, v)| format!("{k}: {v}\r\n").into_bytes())
                .collect();
            rest.extend_from_slice(b"\r\n");
            rest.extend_from_slice(&req.body);
            log(shared, conn, Event::Received, &req.line, &rest);
            route(shared, &req, client_ip)
        }
        Err(ReadError::Bad(status)) => Response::plain(status, Vec::new()),
        Err(ReadError::Io(e)) => {
            log::debug!("HTTP request not read: {e}");
            return;
        }
    };
    shared.counters.http_requests.fetch_add(1, Ordering::SeqCst);
    log(
        shared,
        conn,
        Event::Sent,
        &format!(
            "HTTP/1.1 {} {}",
            response.status,
            message::reason(response.status)
        ),
        &response.body,
    );
    if let Err(e) = message::write_response(stream, &response) {
        log::debug!("HTTP response not written: {e}");
    }
}

/// Serves one plain-HTTP connection.
pub(crate) fn serve_plain(shared: Arc<Shared>, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(REQUEST_DEADLINE));
    let ip = stream
        .peer_addr()
        .map_or_else(|_| "127.0.0.1".to_owned(), |a| a.ip().to_string());
    exchange(&shared, &mut stream, &ip);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Serves one HTTPS connection.
pub(crate) fn serve_tls(shared: Arc<Shared>, stream: TcpStream, config: Arc<rustls::ServerConfig>) {
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(REQUEST_DEADLINE));
    let ip = stream
        .peer_addr()
        .map_or_else(|_| "127.0.0.1".to_owned(), |a| a.ip().to_string());
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, stream);
    exchange(&shared, &mut tls, &ip);
    tls.conn.send_close_notify();
    let _ = tls.flush();
    let _ = tls.sock.shutdown(std::net::Shutdown::Both);
}
