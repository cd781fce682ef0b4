//! One soak participant: a purple-stub process with one account, the driver's view of it
//! (signed on or not, its open chat), and what a front end does after a dropped connection.
//!
//! Reconnection is a front end's job (Pidgin and Finch have theirs in the UI, not in libpurple;
//! purple-stub's `reconnect` command is left off here). After a `connection-error` that is not
//! fatal, the client does what they do: it waits a moment, then signs the account on again
//! (`enable`, which runs `purple_account_connect`), unless something already started a new
//! sign-on.

use std::time::{Duration, Instant};

use msnp_testserver::TestServer;
use serde_json::Value;

use crate::common::accounts::{add_account_line, Login};
use crate::common::contacts::password;
use crate::common::plugin::PluginDir;
use crate::common::stub::{pct, Stub};

/// The longest a sign-on may take before the client tries again (as a user would).
const SIGN_ON_PATIENCE: Duration = Duration::from_secs(45);

/// A process's file descriptors and resident memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Open file descriptors.
    pub fds: usize,
    /// Resident set size in KiB.
    pub rss_kb: u64,
}

/// Reads `/proc/<pid>` for `pid`'s footprint.
pub fn footprint(pid: u32) -> Footprint {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Footprint { fds, rss_kb }
}

/// One account in its own purple-stub.
pub struct Client {
    /// The account.
    pub email: &'static str,
    /// The stub.
    pub stub: Stub,
    /// Signed on, as far as the events read so far tell.
    pub online: bool,
    /// The chat id of its open group chat, if any.
    pub chat: Option<i64>,
    /// Whom to invite once the chat this client asked for opens.
    pub invite_next: Option<&'static str>,
    /// Connection errors seen.
    pub errors: usize,
    /// Of which libpurple called fatal (a front end would not reconnect).
    pub fatal_errors: Vec<String>,
    /// Sign-ons the client started after an error or a sign-on that never finished.
    pub reconnects: usize,
    /// When to sign on again.
    retry_at: Option<Instant>,
    /// A sign-on started since the last error (the stub's own, or ours).
    connecting: bool,
    /// Events read so far.
    cursor: usize,
}

impl Client {
    /// Starts a stub with `email` added at `version` and signing on.
    pub fn start(
        plugins: &PluginDir,
        server: &TestServer,
        email: &'static str,
        version: u32,
        debug: bool,
    ) -> Client {
        let mut stub = crate::common::accounts::stub(plugins, debug);
        stub.send(&add_account_line(
            server,
            email,
            &password(email),
            version,
            Login::Https,
        ));
        stub.send(&format!("enable {}", pct(email)));
        Client {
            email,
            stub,
            online: false,
            chat: None,
            invite_next: None,
            errors: 0,
            fatal_errors: Vec::new(),
            reconnects: 0,
            retry_at: Some(Instant::now() + SIGN_ON_PATIENCE),
            connecting: true,
            cursor: 0,
        }
    }

    /// Reads the events that arrived since the last call and reacts as a front end would;
    /// `backoff` is the pause before signing on again after an error.
    pub fn poll(&mut self, now: Instant, backoff: Duration) {
        let events: Vec<Value> = self.stub.events_seen()[self.cursor..].to_vec();
        self.cursor += events.len();
        for e in events {
            if e["account"] != self.email {
                continue;
            }
            match e["event"].as_str().unwrap_or_default() {
                "connecting" => {
                    self.connecting = true;
                    self.retry_at = Some(now + SIGN_ON_PATIENCE);
                }
                "signed-on" => {
                    self.online = true;
                    self.retry_at = None;
                }
                "signed-off" => self.online = false,
                "connection-error" => {
                    self.online = false;
                    self.chat = None;
                    self.errors += 1;
                    if e["fatal"] == true {
                        self.fatal_errors.push(e["text"].to_string());
                    }
                    self.connecting = false;
                    self.retry_at = Some(now + backoff);
                }
                "chat-joined" => {
                    let id = e["chat_id"].as_i64();
                    self.chat = id;
                    if let (Some(id), Some(who)) = (id, self.invite_next.take()) {
                        self.stub.send(&format!(
                            "chat-invite {} {id} {}",
                            pct(self.email),
                            pct(who)
                        ));
                    }
                }
                "chat-left" if e["chat_id"].as_i64() == self.chat => self.chat = None,
                _ => {}
            }
        }
        match self.retry_at {
            Some(at) if !self.online && now >= at && !self.connecting => {
                self.reconnects += 1;
                self.sign_on_again(now);
            }
            Some(at) if !self.online && now >= at => {
                // A sign-on that never finished: start over, as a user would.
                self.stub.send(&format!("disable {}", pct(self.email)));
                self.reconnects += 1;
                self.sign_on_again(now);
            }
            _ => {}
        }
    }

    /// Signs the account out and on again (as a user disabling and enabling it).
    pub fn sign_out_and_in(&mut self) {
        self.stub.send(&format!("disable {}", pct(self.email)));
        self.stub.sync();
        self.poll(Instant::now(), Duration::ZERO);
        self.online = false;
        self.sign_on_again(Instant::now());
    }

    fn sign_on_again(&mut self, now: Instant) {
        self.stub.send(&format!("enable {}", pct(self.email)));
        self.connecting = true;
        self.retry_at = Some(now + SIGN_ON_PATIENCE);
    }

    /// The stub's footprint now.
    pub fn footprint(&self) -> Footprint {
        footprint(self.stub.pid().expect("the stub runs"))
    }

    /// The stub's `stats` event (main-loop dispatch times, RSS).
    pub fn stats(&mut self) -> Value {
        self.stub.send("stats");
        self.stub
            .wait_for(Duration::from_secs(20), |e| e["event"] == "stats")
    }
}
