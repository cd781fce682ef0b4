//! HTTP(S) client side of the tests: requests, a rustls client trusting the server's
//! certificate, and the Passport 1.4 and RST token shortcuts.

use super::read_transcript;
use msnp_testserver::TestServer;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// An HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub head: String,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        head,
        body: raw[end + 4..].to_vec(),
    }
}

/// A rustls client configuration trusting only `cert_der`.
pub fn tls_config(cert_der: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert_der.to_vec()))
        .expect("add root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// Sends `request` to `127.0.0.1:port` (over TLS when `tls` is given) and reads to the close.
pub fn http_raw(port: u16, tls: Option<&[u8]>, request: &[u8]) -> HttpResponse {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut raw = Vec::new();
    match tls {
        None => {
            tcp.write_all(request).unwrap();
            tcp.read_to_end(&mut raw).unwrap();
        }
        Some(cert) => {
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let conn = rustls::ClientConnection::new(tls_config(cert), name).unwrap();
            let mut s = rustls::StreamOwned::new(conn, tcp);
            s.write_all(request).unwrap();
            s.read_to_end(&mut raw).unwrap();
        }
    }
    parse_response(&raw)
}

pub fn http_get(
    port: u16,
    tls: Option<&[u8]>,
    path: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    http_raw(port, tls, req.as_bytes())
}

pub fn http_post(port: u16, tls: Option<&[u8]>, path: &str, body: &str) -> HttpResponse {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    http_raw(port, tls, req.as_bytes())
}

/// A Passport 1.4 token for `email` from the HTTPS `/login`.
pub fn twn_token(server: &TestServer, email: &str, password: &str) -> String {
    let auth = format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={password},ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1",
        email.replace('@', "%40")
    );
    let r = http_get(
        server.https_port,
        Some(server.cert_der()),
        "/login",
        &[("Authorization", &auth)],
    );
    assert_eq!(r.status, 200, "{}", r.head);
    let info = r
        .header("Authentication-Info")
        .expect("Authentication-Info");
    let start = info.find("from-PP='").expect("from-PP") + 9;
    let end = info[start..].find('\'').unwrap() + start;
    info[start..end].to_owned()
}

/// The RST request a client sends (the transcript's, with other credentials).
pub fn rst_body(email: &str, password: &str) -> String {
    let log = read_transcript("msnp15/http.log");
    let start = log
        .find("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .unwrap();
    let end = log[start..].find("</Envelope>").unwrap() + start + "</Envelope>".len();
    log[start..end].replace("alice@example.com", email).replace(
        "<wsse:Password>alicepass<",
        &format!("<wsse:Password>{password}<"),
    )
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// (messengerclear ticket, proof key) from the HTTPS `/RST.srf`.
pub fn rst_ticket(server: &TestServer, email: &str, password: &str) -> (String, Vec<u8>) {
    use base64::Engine as _;
    let r = http_post(
        server.https_port,
        Some(server.cert_der()),
        "/RST.srf",
        &rst_body(email, password),
    );
    let xml = r.text();
    let clear = &xml[xml
        .find("<wsa:Address>messengerclear.live.com</wsa:Address>")
        .expect("messengerclear")..];
    let token_el = &clear[clear.find("<wsse:BinarySecurityToken").unwrap()..];
    let ticket = between(token_el, "\">", "</wsse:BinarySecurityToken>")
        .unwrap()
        .replace("&amp;", "&");
    let secret = between(clear, "<wst:BinarySecret>", "</wst:BinarySecret>").unwrap();
    let secret = base64::engine::general_purpose::STANDARD
        .decode(secret)
        .unwrap();
    (ticket, secret)
}
