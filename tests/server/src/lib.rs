//! The purple-msnp project's MSNP test server: an independent, loopback-only imitation of an
//! Escargot server (NS with `VER`/`CVR`/`USR` TWN and SSO, nexus, Passport 1.4 `/login`,
//! `RST.srf`, an optional `CONNECT` proxy), modelled on the transcripts of a real one, quirks
//! included, with fault switches and a transcript of every connection for assertions.
//!
//! Threads and blocking sockets only; every loop polls a stop flag, and dropping the
//! [`TestServer`] stops and joins them all.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
mod clock;
mod config;
mod conn;
pub mod crypto;
mod directory;
mod faults;
mod http;
mod listener;
mod ns;
pub mod peer;
mod proxy;
mod sb;
mod shared;
mod strict;
mod transcript;
pub mod wire;

pub use config::{ContactSpec, HttpOverride, ServerConfig, UserSpec};
pub use faults::{FaultCounts, FaultPlan};
pub use transcript::{Entry, Event, Service};

use shared::{Ports, Shared};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running server; stops and joins its threads on `Drop`.
pub struct TestServer {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    cert_der: Vec<u8>,
    cert_pem: String,
    /// Plain-HTTP port.
    pub http_port: u16,
    /// HTTPS port.
    pub https_port: u16,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("ports", &self.shared.ports)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Binds every listener on 127.0.0.1 and starts serving.
    pub fn start(config: ServerConfig) -> io::Result<TestServer> {
        let tls = http::tls::make()?;
        let ns = listener::bind(config.ns_port)?;
        let ns_second = config
            .redirect_first
            .then(|| listener::bind(0))
            .transpose()?;
        let http_l = listener::bind(config.http_port)?;
        let https_l = listener::bind(config.https_port)?;
        let proxy_l = config.proxy.then(|| listener::bind(0)).transpose()?;
        let sb_l = listener::bind(0)?;
        let port = |l: &std::net::TcpListener| l.local_addr().map(|a| a.port());
        let ports = Ports {
            ns: port(&ns)?,
            ns_second: ns_second.as_ref().map(port).transpose()?.unwrap_or(0),
            http: port(&http_l)?,
            https: port(&https_l)?,
            proxy: proxy_l.as_ref().map(port).transpose()?.unwrap_or(0),
            sb: port(&sb_l)?,
        };
        let shared = Arc::new(Shared::new(config, ports));
        let redirect = ns_second.is_some();

        let mut threads = vec![listener::spawn_acceptor(
            "ns",
            ns,
            shared.clone(),
            move |s, stream| ns::serve(s, stream, redirect),
        )?];
        if let Some(l) = ns_second {
            threads.push(listener::spawn_acceptor(
                "ns2",
                l,
                shared.clone(),
                |s, stream| ns::serve(s, stream, false),
            )?);
        }
        threads.push(listener::spawn_acceptor(
            "sb",
            sb_l,
            shared.clone(),
            sb::serve,
        )?);
        threads.push(listener::spawn_acceptor(
            "http",
            http_l,
            shared.clone(),
            http::serve_plain,
        )?);
        let tls_config = tls.config.clone();
        threads.push(listener::spawn_acceptor(
            "https",
            https_l,
            shared.clone(),
            move |s, stream| http::serve_tls(s, stream, tls_config.clone()),
        )?);
        if let Some(l) = proxy_l {
            threads.push(listener::spawn_acceptor(
                "proxy",
                l,
                shared.clone(),
                proxy::serve,
            )?);
        }
        Ok(TestServer {
            http_port: ports.http,
            https_port: ports.https,
            shared,
            threads,
            cert_der: tls.cert_der,
            cert_pem: tls.cert_pem,
        })
    }

    /// Address of the NS clients connect to first.
    pub fn ns_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.shared.ports.ns))
    }

    /// Address of the second NS (`redirect_first`), if any.
    pub fn ns_second_addr(&self) -> Option<SocketAddr> {
        let p = self.shared.ports.ns_second;
        (p != 0).then(|| SocketAddr::from(([127, 0, 0, 1], p)))
    }

    /// Address of the `CONNECT` proxy (`ServerConfig::proxy`), if any.
    pub fn proxy_addr(&self) -> Option<SocketAddr> {
        let p = self.shared.ports.proxy;
        (p != 0).then(|| SocketAddr::from(([127, 0, 0, 1], p)))
    }

    /// `https://127.0.0.1:<port>/rdr/pprdr.asp`.
    pub fn nexus_url(&self) -> String {
        format!("https://127.0.0.1:{}/rdr/pprdr.asp", self.https_port)
    }

    /// `http://127.0.0.1:<port>/rdr/pprdr.asp`.
    pub fn nexus_url_plain(&self) -> String {
        format!("http://127.0.0.1:{}/rdr/pprdr.asp", self.http_port)
    }

    /// `https://127.0.0.1:<port>/login` (Passport 1.4).
    pub fn login_url(&self) -> String {
        format!("https://127.0.0.1:{}/login", self.https_port)
    }

    /// `http://127.0.0.1:<port>/login`.
    pub fn login_url_plain(&self) -> String {
        format!("http://127.0.0.1:{}/login", self.http_port)
    }

    /// `https://127.0.0.1:<port>/RST.srf`.
    pub fn sso_url(&self) -> String {
        format!("https://127.0.0.1:{}/RST.srf", self.https_port)
    }

    /// `http://127.0.0.1:<port>/RST.srf`.
    pub fn sso_url_plain(&self) -> String {
        format!("http://127.0.0.1:{}/RST.srf", self.http_port)
    }

    /// The self-signed certificate (DER) the HTTPS port presents.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The same certificate in PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Everything received and sent so far, on every connection, in order.
    pub fn transcript(&self) -> Vec<Entry> {
        self.shared.transcript.snapshot()
    }

    /// The NS lines sent and received on connection `conn`, as `"C>S ..."`/`"S>C ..."` strings.
    pub fn ns_lines(&self, conn: u64) -> Vec<String> {
        self.transcript()
            .into_iter()
            .filter(|e| e.conn == conn && e.service == Service::Ns)
            .filter_map(|e| match e.event {
                Event::Received => Some(format!("C>S {}", e.line)),
                Event::Sent => Some(format!("S>C {}", e.line)),
                _ => None,
            })
            .collect()
    }

    /// NS connections accepted so far.
    pub fn ns_connections(&self) -> u64 {
        self.shared.counters.ns_connections.load(Ordering::SeqCst)
    }

    /// Successful NS logins so far.
    pub fn logins(&self) -> u64 {
        self.shared.counters.logins.load(Ordering::SeqCst)
    }

    /// HTTP(S) requests answered so far.
    pub fn http_requests(&self) -> u64 {
        self.shared.counters.http_requests.load(Ordering::SeqCst)
    }

    /// HTTP gateway sessions opened so far: (to the NS, to switchboards).
    pub fn gateway_sessions(&self) -> (u64, u64) {
        self.shared.gateway.opened()
    }

    /// P2P messages carrying an MSNSLP `INVITE` relayed so far.
    pub fn p2p_invites(&self) -> u64 {
        self.shared.counters.p2p_invites.load(Ordering::SeqCst)
    }

    /// P2P messages carrying file-transfer data relayed so far.
    pub fn p2p_file_data(&self) -> u64 {
        self.shared.counters.p2p_file_data.load(Ordering::SeqCst)
    }

    /// Proxy tunnels opened so far.
    pub fn proxy_tunnels(&self) -> u64 {
        self.shared.counters.proxy_tunnels.load(Ordering::SeqCst)
    }

    /// How many faults of each kind were injected ([`ServerConfig::faults`]).
    pub fn fault_counts(&self) -> FaultCounts {
        self.shared.faults.counts()
    }

    /// Ends fault injection: from now on the server behaves as without
    /// [`ServerConfig::faults`] (a soak's quiet end).
    pub fn stop_faults(&self) {
        self.shared.faults.stop();
    }

    /// Sends `OUT <reason>` (`OTH`, `SSD`) to every live NS connection of `email` and closes them;
    /// returns how many there were.
    pub fn kick(&self, email: &str, reason: &str) -> usize {
        let sessions = self.shared.directory().sessions_of(email);
        for s in &sessions {
            s.conn.send(&format!("OUT {reason}"));
            s.conn.close();
        }
        sessions.len()
    }

    /// Fault switch: the notification server restarts. Every NS connection, signed in or not,
    /// is closed at once without `OUT` (as when the server process goes away); the listener
    /// keeps accepting, so clients can sign in again. Switchboards are left alone (see
    /// [`TestServer::drop_switchboards`]). Returns how many connections were closed.
    pub fn restart_ns(&self) -> usize {
        self.shared.close_all(Service::Ns)
    }

    /// Fault switch: every switchboard connection, of every session, is closed at once from
    /// the server side, mid-conversation; the NS stays up and hands out new switchboards.
    /// Returns how many connections were closed.
    pub fn drop_switchboards(&self) -> usize {
        self.shared.close_all(Service::Sb)
    }

    /// A barrier on every live NS connection of `email`: sends `CHL` and waits (up to
    /// `timeout`) for the right `QRY`. Once it returns, the client has processed every line
    /// the server sent on those connections before, and the server has received and handled
    /// every line the client sent before its answer. Returns how many connections answered.
    pub fn ns_sync(&self, email: &str, timeout: Duration) -> usize {
        let waiting: Vec<_> = self
            .shared
            .directory()
            .sessions_of(email)
            .iter()
            .map(|s| s.conn.request_sync())
            .collect();
        let deadline = Instant::now() + timeout;
        waiting
            .into_iter()
            .filter(|rx| {
                rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .is_ok()
            })
            .count()
    }

    /// `email`'s stored contact list: each contact's sign-in name, list bitmask (1 FL, 2 AL,
    /// 4 BL, 8 RL, 16 PL) and group names, sorted by name.
    pub fn contact_list(&self, email: &str) -> Vec<(String, u8, Vec<String>)> {
        let dir = self.shared.directory();
        let Some(user) = dir.user(email) else {
            return Vec::new();
        };
        let group_name = |id: &String| {
            user.groups
                .iter()
                .find(|g| &g.id == id)
                .map_or_else(|| id.clone(), |g| g.name.clone())
        };
        let mut list: Vec<_> = user
            .contacts
            .iter()
            .map(|c| {
                (
                    c.email.clone(),
                    c.lists,
                    c.groups.iter().map(group_name).collect(),
                )
            })
            .collect();
        list.sort();
        list
    }

    /// The names of `email`'s stored contact groups, sorted.
    pub fn group_names(&self, email: &str) -> Vec<String> {
        let dir = self.shared.directory();
        let mut names: Vec<String> = dir
            .user(email)
            .map(|u| u.groups.iter().map(|g| g.name.clone()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// What strict mode ([`ServerConfig::strict`]) found the client doing that the real server
    /// refuses: unknown verbs, TrIDs out of sequence, SOAP requests Escargot rejects.
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations.snapshot()
    }

    /// Writes raw bytes to every live NS connection of `email`, as if the server had sent them
    /// (hostile-server tests); returns how many connections.
    pub fn ns_inject(&self, email: &str, bytes: &[u8]) -> usize {
        let sessions = self.shared.directory().sessions_of(email);
        for s in &sessions {
            s.conn.send_raw(bytes);
        }
        sessions.len()
    }
}

impl Drop for TestServer {
    /// Stops the server; in strict mode, fails the test (panics) if the client did anything
    /// the real server refuses, unless the thread is panicking already.
    fn drop(&mut self) {
        self.shared.shutdown();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let violations = self.violations();
        if self.shared.config.strict && !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "the client did what the real server refuses:\n{}",
                violations.join("\n")
            );
        }
    }
}
