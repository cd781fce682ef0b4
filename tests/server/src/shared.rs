//! State shared by every listener thread of one server.

use crate::config::ServerConfig;
use crate::conn::Conn;
use crate::directory::Directory;
use crate::transcript::Transcript;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The bound ports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ports {
    /// The NS clients connect to first.
    pub ns: u16,
    /// The NS a redirect points at (`redirect_first`), else 0.
    pub ns_second: u16,
    /// Plain HTTP.
    pub http: u16,
    /// HTTPS.
    pub https: u16,
    /// `CONNECT` proxy, else 0.
    pub proxy: u16,
    /// Switchboard.
    pub sb: u16,
}

/// Event counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// NS connections accepted (both NS listeners).
    pub ns_connections: AtomicU64,
    /// Successful NS logins (`USR ... OK`).
    pub logins: AtomicU64,
    /// HTTP(S) requests answered.
    pub http_requests: AtomicU64,
    /// Proxy tunnels opened.
    pub proxy_tunnels: AtomicU64,
    /// P2P messages relayed that carry an MSNSLP `INVITE` (a P2P session asked for).
    pub p2p_invites: AtomicU64,
    /// P2P messages relayed that carry file data (a session's payload with footer 2).
    pub p2p_file_data: AtomicU64,
}

/// Everything the threads share.
#[derive(Debug)]
pub struct Shared {
    /// The configuration the server was started with.
    pub config: ServerConfig,
    /// Bound ports.
    pub ports: Ports,
    /// Accounts, tokens, sessions.
    directory: Mutex<Directory>,
    /// Switchboard sessions and offline messages.
    pub sb: crate::sb::Hub,
    /// HTTP gateway sessions.
    pub gateway: crate::http::gateway::Gateway,
    /// What was said on every connection.
    pub transcript: Arc<Transcript>,
    /// Counters.
    pub counters: Counters,
    /// What strict mode found.
    pub violations: crate::strict::Violations,
    /// Fault injection (inactive without [`ServerConfig::faults`]).
    pub faults: Arc<crate::faults::Faults>,
    /// Set on shutdown; every loop polls it.
    pub stop: AtomicBool,
    next_conn: AtomicU64,
    open: Mutex<Vec<Arc<Conn>>>,
}

impl Shared {
    /// State for a server bound to `ports`.
    pub fn new(config: ServerConfig, ports: Ports) -> Self {
        Self {
            directory: Mutex::new(Directory::from_config(&config)),
            sb: crate::sb::Hub::default(),
            gateway: Default::default(),
            faults: Arc::new(crate::faults::Faults::new(config.faults)),
            config,
            ports,
            transcript: Arc::new(Transcript::default()),
            counters: Counters::default(),
            violations: crate::strict::Violations::default(),
            stop: AtomicBool::new(false),
            next_conn: AtomicU64::new(1),
            open: Mutex::new(Vec::new()),
        }
    }

    /// Locks the directory (a poisoned lock is recovered: the data stays usable for tests).
    pub fn directory(&self) -> MutexGuard<'_, Directory> {
        self.directory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh connection number.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::SeqCst)
    }

    /// Remembers a connection so shutdown can close it.
    pub fn track(&self, conn: Arc<Conn>) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|c| !c.is_closed());
        open.push(conn);
    }

    /// Closes every open connection of `service` from the server side; returns how many.
    pub fn close_all(&self, service: crate::transcript::Service) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mut closed = 0;
        for c in open
            .iter()
            .filter(|c| c.service() == service && !c.is_closed())
        {
            c.close();
            closed += 1;
        }
        closed
    }

    /// Records a strict-mode violation (nothing when strict mode is off).
    pub fn violation(&self, what: String) {
        if self.config.strict {
            self.violations.record(what);
        }
    }

    /// Whether the server is shutting down.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Stops every loop and closes every tracked connection.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        for c in open.iter() {
            c.close();
        }
    }
}
