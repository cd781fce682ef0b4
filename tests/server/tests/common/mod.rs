//! Test-side helpers: a tiny raw-socket MSNP client, an HTTP(S) client trusting the server's
//! certificate, login shortcuts and a reader for the transcripts' `.raw.txt` files.
#![allow(dead_code, unused_imports)]

mod raw;
mod web;

pub use raw::{raw_chunks, read_transcript};
pub use web::{
    http_get, http_post, http_raw, rst_body, rst_ticket, tls_config, twn_token, HttpResponse,
};

use msnp_testserver::TestServer;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Server commands that carry a payload when their last token is a byte count.
const SERVER_PAYLOAD: &[&str] = &[
    "MSG", "GCF", "UBX", "NOT", "FQY", "IPG", "UBN", "UBM", "ADL", "RML", "NFY", "SDG", "PUT",
    "DEL",
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
                    assert!(
                        self.buf.is_empty(),
                        "partial data before close: {:?}",
                        self.buf
                    );
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

    /// Exactly `n` raw bytes (no framing).
    pub fn raw(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            let mut chunk = [0u8; 1024];
            let got = self.stream.read(&mut chunk).expect("raw read");
            assert!(got > 0, "closed before {n} bytes");
            self.buf.extend_from_slice(&chunk[..got]);
        }
        self.buf.drain(..n).collect()
    }

    /// Asserts the server closes without sending anything more.
    pub fn expect_closed(&mut self) {
        if let Some(r) = self.recv() {
            panic!("expected close, got {r:?}");
        }
    }

    /// Asserts the server sent nothing more in answer to what came before: a `PNG` sent now
    /// is answered with the very next line (the server answers each connection's commands in
    /// order).
    pub fn expect_nothing_before_qng(&mut self) {
        self.send("PNG");
        let next = self.line();
        assert!(next.starts_with("QNG "), "unexpected: {next}");
    }
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
    c.send(&format!(
        "CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 7.5.0324 msmsgs {email}"
    ));
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
pub fn login_sso(
    server: &TestServer,
    email: &str,
    password: &str,
    dialect: u32,
    guid: Option<&str>,
) -> Client {
    let mut c = Client::connect(server.ns_addr());
    c.send(&format!("VER 1 MSNP{dialect} CVR0"));
    assert_eq!(c.line(), format!("VER 1 MSNP{dialect}"));
    c.send(&format!(
        "CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 14.0.8117.0416 msmsgs {email}"
    ));
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
    let nonce = usr
        .strip_prefix("USR 3 SSO S MBI_KEY_OLD ")
        .expect("nonce")
        .to_owned();
    assert_eq!(nonce.len(), 64);
    nonce
}
