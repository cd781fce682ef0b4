//! Test-side helpers: a tiny raw-socket MSNP client, an HTTP(S) client trusting the server's
//! certificate, login shortcuts and a reader for the transcripts' `.raw.txt` files.
#![allow(dead_code)]

use msnp_testserver::TestServer;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Server commands that carry a payload when their last token is a byte count.
const SERVER_PAYLOAD: &[&str] = &[
    "MSG", "GCF", "UBX", "NOT", "FQY", "IPG", "UBN", "UBM", "ADL", "RML", "NFY", "SDG", "PUT", "DEL",
];

/// One command from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub line: String,
    pub payload: Option<Vec<u8>>,
}

impl Reply {
    pub fn verb(&self) -> &str {
        self.line.split(' ').next().unwrap_or("")
    }
}

/// Splits one server command off the front of `buf`, if complete.
pub fn take_reply(buf: &mut Vec<u8>) -> Option<Reply> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = String::from_utf8(buf[..end].to_vec()).expect("server line is UTF-8");
    let mut tokens = line.split(' ');
    let verb = tokens.next().unwrap_or("");
    let last = line.rsplit(' ').next().unwrap_or("");
    let len = (SERVER_PAYLOAD.contains(&verb) && line.contains(' '))
        .then(|| last.parse::<usize>().ok())
        .flatten();
    let total = end + 2 + len.unwrap_or(0);
    if buf.len() < total {
        return None;
    }
    let payload = len.map(|n| buf[end + 2..end + 2 + n].to_vec());
    buf.drain(..total);
    Some(Reply { line, payload })
}

/// A raw-socket MSNP client.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    pub fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes());
    }

    pub fn send_payload(&mut self, line: &str, payload: &[u8]) {
        let mut b = format!("{line}\r\n").into_bytes();
        b.extend_from_slice(payload);
        self.send_raw(&b);
    }

    /// The next command, or `None` when the server closed the connection.
    pub fn recv(&mut self) -> Option<Reply> {
        loop {
            if let Some(r) = take_reply(&mut self.buf) {
                return Some(r);
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    assert!(self.buf.is_empty(), "partial data before close: {:?}", self.buf);
                    return None;
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("timed out waiting for the server: {e}"),
            }
        }
    }

    /// The next command's line; panics if the server closed.
    pub fn line(&mut self) -> String {
        self.recv().expect("server closed the connection").line
    }

    /// Asserts the server closes without sending anything more.
    pub fn expect_closed(&mut self) {
        if let Some(r) = self.recv() {
            panic!("expected close, got {r:?}");
        }
    }

    /// Asserts nothing arrives for `wait`.
    pub fn expect_silence(&mut self, wait: Duration) {
        assert!(self.buf.is_empty(), "unread data: {:?}", self.buf);
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 1024];
        match self.stream.read(&mut b) {
            Ok(0) => panic!("server closed instead of staying silent"),
            Ok(n) => panic!("unexpected data: {:?}", String::from_utf8_lossy(&b[..n])),
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
                "{e}"
            ),
        }
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
    }
}

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
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
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

pub fn http_get(port: u16, tls: Option<&[u8]>, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
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
    let info = r.header("Authentication-Info").expect("Authentication-Info");
    let start = info.find("from-PP='").expect("from-PP") + 9;
    let end = info[start..].find('\'').unwrap() + start;
    info[start..end].to_owned()
}

/// The RST request a client sends (the transcript's, with other credentials).
pub fn rst_body(email: &str, password: &str) -> String {
    let log = read_transcript("msnp15/http.log");
    let start = log.find("<?xml version=\"1.0\" encoding=\"UTF-8\"?>").unwrap();
    let end = log[start..].find("</Envelope>").unwrap() + start + "</Envelope>".len();
    log[start..end]
        .replace("alice@example.com", email)
        .replace("<wsse:Password>alicepass<", &format!("<wsse:Password>{password}<"))
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
    let clear = &xml[xml.find("<wsa:Address>messengerclear.live.com</wsa:Address>").expect("messengerclear")..];
    let token_el = &clear[clear.find("<wsse:BinarySecurityToken").unwrap()..];
    let ticket = between(token_el, "\">", "</wsse:BinarySecurityToken>")
        .unwrap()
        .replace("&amp;", "&");
    let secret = between(clear, "<wst:BinarySecret>", "</wst:BinarySecret>").unwrap();
    let secret = base64::engine::general_purpose::STANDARD.decode(secret).unwrap();
    (ticket, secret)
}

/// Reads through the post-login messages up to and including the profile (and MSNP16+ `UBX`).
fn finish_login(c: &mut Client, dialect: u32) -> Vec<Reply> {
    let mut got = Vec::new();
    loop {
        let r = c.recv().expect("login replies");
        let done = match dialect {
            16.. => r.verb() == "UBX",
            _ => r.verb() == "MSG",
        };
        got.push(r);
        if done {
            return got;
        }
    }
}

/// Signs in over TWN (MSNP8-14) and returns the client after the profile message.
pub fn login_twn(server: &TestServer, email: &str, password: &str, dialect: u32) -> Client {
    let mut c = Client::connect(server.ns_addr());
    c.send(&format!("VER 1 MSNP{dialect} CVR0"));
    assert_eq!(c.line(), format!("VER 1 MSNP{dialect}"));
    c.send(&format!("CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 7.5.0324 msmsgs {email}"));
    c.line();
    c.send(&format!("USR 3 TWN I {email}"));
    let mut r = c.recv().unwrap();
    if r.verb() == "GCF" {
        r = c.recv().unwrap();
    }
    assert!(r.line.starts_with("USR 3 TWN S "), "{r:?}");
    let token = twn_token(server, email, password);
    c.send(&format!("USR 4 TWN S t={token}&p="));
    let got = finish_login(&mut c, dialect);
    assert!(got[0].line.starts_with("USR 4 OK "), "{got:?}");
    c
}

/// Signs in over SSO (MSNP15+) with a correct blob and `guid` (needed from MSNP16).
pub fn login_sso(server: &TestServer, email: &str, password: &str, dialect: u32, guid: Option<&str>) -> Client {
    let mut c = Client::connect(server.ns_addr());
    c.send(&format!("VER 1 MSNP{dialect} CVR0"));
    assert_eq!(c.line(), format!("VER 1 MSNP{dialect}"));
    c.send(&format!("CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 14.0.8117.0416 msmsgs {email}"));
    c.line();
    let nonce = sso_start(&mut c, email);
    let (ticket, secret) = rst_ticket(server, email, password);
    let blob = msnp_testserver::crypto::mbi::build(&secret, &nonce, [1, 2, 3, 4, 5, 6, 7, 8]);
    let tail = guid.map(|g| format!(" {g}")).unwrap_or_default();
    c.send(&format!("USR 4 SSO S {ticket} {blob}{tail}"));
    let got = finish_login(&mut c, dialect);
    assert!(got[0].line.starts_with("USR 4 OK "), "{got:?}");
    c
}

/// Sends `USR 3 SSO I` and returns the nonce.
pub fn sso_start(c: &mut Client, email: &str) -> String {
    c.send(&format!("USR 3 SSO I {email}"));
    let gcf = c.recv().unwrap();
    assert!(gcf.line.starts_with("GCF 0 "), "{gcf:?}");
    let usr = c.line();
    let nonce = usr.strip_prefix("USR 3 SSO S MBI_KEY_OLD ").expect("nonce").to_owned();
    assert_eq!(nonce.len(), 64);
    nonce
}

/// `tests/transcripts/<rel>` as text.
pub fn read_transcript(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../transcripts").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unescape_py_bytes(lit: &str) -> Vec<u8> {
    let b = lit.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'x' => {
                    out.push(u8::from_str_radix(&lit[i + 2..i + 4], 16).unwrap());
                    i += 2;
                }
                other => out.push(other),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The chunks of a `.raw.txt` transcript: (client to server?, bytes).
pub fn raw_chunks(rel: &str) -> Vec<(bool, Vec<u8>)> {
    read_transcript(rel)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (_, rest) = l.split_once(' ')?;
            let (dir, lit) = rest.split_once(' ')?;
            let lit = lit.strip_prefix('b')?;
            let inner = &lit[1..lit.len() - 1];
            Some((dir == "C>S", unescape_py_bytes(inner)))
        })
        .collect()
}
