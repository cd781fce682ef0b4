//! The switchboard (docs/protocol.md §7, transcripts `*/alice-sb.log`, `*/bob-sb.log`,
//! `extra-multiparty/`): its own port as on Escargot, `USR` with an `XFR` cookie, `ANS` with a
//! `RNG` cookie (both good for 60 s, single use), `CAL`, the roster (`IRO`, `JOI`, `BYE` in each
//! receiver's dialect), payloads relayed byte for byte, `ACK` for ack modes `A` and `D`, and the
//! connection closed for a payload over 1,664 bytes, an unknown ack mode, P2P without `D`, or no
//! sign-in within 60 s. Offline messages are kept here too ([`mailbox`]).

mod chat;
pub(crate) mod mailbox;
mod session;

use crate::conn::Conn;
use crate::shared::Shared;
use crate::transcript::{Event, Service};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub(crate) use session::serve;

/// How long a cookie from `XFR` or `RNG` is good for (Escargot drops older `ANS`es).
const COOKIE_LIFETIME: Duration = Duration::from_secs(60);
/// Most cookies outstanding (expired ones are purged first).
const MAX_COOKIES: usize = 10_000;
/// Largest `MSG` payload a client may send; Escargot closes the connection on a bigger one.
pub(crate) const MAX_MSG_PAYLOAD: usize = 1664;

/// What a cookie lets its holder do.
#[derive(Debug, Clone)]
struct Ticket {
    /// Who may use it.
    email: String,
    /// `Some` for an `RNG` invitation: the switchboard session to join.
    session_id: Option<String>,
    /// When it was issued.
    issued: Instant,
    /// The holder's protocol version.
    dialect: u32,
    /// The holder's capabilities token (from their `CHG`).
    caps: String,
}

/// Someone in a switchboard session.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// Sign-in name.
    pub(crate) email: String,
    /// MSNP16+ endpoint GUID (without braces).
    pub(crate) endpoint: Option<String>,
    /// Display name (decoded).
    pub(crate) friendly: String,
    /// Capabilities token for `IRO`/`JOI`.
    pub(crate) caps: String,
    /// Protocol version of this member's client.
    pub(crate) dialect: u32,
    /// Their switchboard connection.
    pub(crate) conn: Arc<Conn>,
}

/// Switchboard state shared by every connection of one server.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    cookies: HashMap<String, Ticket>,
    /// Session id → members.
    chats: HashMap<String, Vec<Member>>,
    /// Users whose next `MSG` is swallowed, unacknowledged, and their connection closed.
    drop_next: Vec<String>,
    /// Users whose next `MSG` is swallowed and unacknowledged, the connection kept.
    hold_next: Vec<String>,
    /// Users whose next `XFR SB` the NS leaves unanswered.
    ignore_xfr: Vec<String>,
    /// Users whose next `CAL` is answered `RINGING` and rings nobody.
    silent_call: Vec<String>,
    mailbox: mailbox::Mailbox,
    /// Switchboard sessions each user (lower-case) is in now, and the most at once.
    open: HashMap<String, (usize, usize)>,
}

impl Hub {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issues a cookie for `email` (an invitation to `session_id`, or a new session).
    pub(crate) fn issue(
        &self,
        email: &str,
        session_id: Option<&str>,
        dialect: u32,
        caps: &str,
    ) -> String {
        let now = Instant::now();
        let mut state = self.state();
        state
            .cookies
            .retain(|_, t| now.duration_since(t.issued) < COOKIE_LIFETIME);
        if state.cookies.len() >= MAX_COOKIES {
            state.cookies.clear();
        }
        let cookie = crate::crypto::random_hex(20);
        state.cookies.insert(
            cookie.clone(),
            Ticket {
                email: email.to_owned(),
                session_id: session_id.map(str::to_owned),
                issued: now,
                dialect,
                caps: caps.to_owned(),
            },
        );
        cookie
    }

    /// Takes a cookie (single use) if it is `email`'s, unexpired, and for `session_id`.
    fn redeem(&self, cookie: &str, email: &str, session_id: Option<&str>) -> Option<Ticket> {
        let mut state = self.state();
        let ticket = state.cookies.get(cookie)?;
        let usable = ticket.email.eq_ignore_ascii_case(email)
            && ticket.session_id.as_deref() == session_id
            && ticket.issued.elapsed() < COOKIE_LIFETIME;
        if usable {
            state.cookies.remove(cookie)
        } else {
            None
        }
    }

    /// Makes the next `MSG` from `email` vanish with its switchboard connection.
    pub(crate) fn drop_next_message(&self, email: &str) {
        self.state().drop_next.push(email.to_ascii_lowercase());
    }

    /// Whether the next `MSG` from `email` is to vanish (the flag is consumed).
    fn take_drop(&self, email: &str) -> bool {
        let mut state = self.state();
        let before = state.drop_next.len();
        state.drop_next.retain(|e| !e.eq_ignore_ascii_case(email));
        state.drop_next.len() != before
    }

    /// Makes the next `MSG` from `email` vanish unacknowledged, its connection kept.
    pub(crate) fn hold_next_message(&self, email: &str) {
        self.state().hold_next.push(email.to_ascii_lowercase());
    }

    /// Whether the next `MSG` from `email` is to vanish silently (the flag is consumed).
    fn take_hold(&self, email: &str) -> bool {
        let mut state = self.state();
        let before = state.hold_next.len();
        state.hold_next.retain(|e| !e.eq_ignore_ascii_case(email));
        state.hold_next.len() != before
    }

    /// Leaves the next `XFR SB` from `email` unanswered.
    pub(crate) fn ignore_next_xfr(&self, email: &str) {
        self.state().ignore_xfr.push(email.to_ascii_lowercase());
    }

    /// Whether the next `XFR SB` from `email` is to go unanswered (the flag is consumed).
    pub(crate) fn take_ignored_xfr(&self, email: &str) -> bool {
        let mut state = self.state();
        let before = state.ignore_xfr.len();
        state.ignore_xfr.retain(|e| !e.eq_ignore_ascii_case(email));
        state.ignore_xfr.len() != before
    }

    /// Makes the next `CAL` from `email` ring nobody.
    pub(crate) fn silence_next_call(&self, email: &str) {
        self.state().silent_call.push(email.to_ascii_lowercase());
    }

    /// Whether the next `CAL` from `email` is to ring nobody (the flag is consumed).
    fn take_silent_call(&self, email: &str) -> bool {
        let mut state = self.state();
        let before = state.silent_call.len();
        state.silent_call.retain(|e| !e.eq_ignore_ascii_case(email));
        state.silent_call.len() != before
    }

    /// The members of session `id`.
    fn members(&self, id: &str) -> Vec<Member> {
        self.state().chats.get(id).cloned().unwrap_or_default()
    }

    /// Adds a member to session `id` (created if new); returns who was there before.
    fn join(&self, id: &str, member: Member) -> Vec<Member> {
        let mut state = self.state();
        let counts = state
            .open
            .entry(member.email.to_ascii_lowercase())
            .or_default();
        counts.0 += 1;
        counts.1 = counts.1.max(counts.0);
        let members = state.chats.entry(id.to_owned()).or_default();
        let before = members.clone();
        members.push(member);
        before
    }

    /// [`Hub::join`], running `greet` with who was there before while no message can be
    /// relayed in the session (the joiner's roster and `ANS OK`, and the others' `JOI`, go out
    /// first).
    fn join_with(&self, id: &str, member: Member, greet: impl FnOnce(&[Member])) {
        let mut state = self.state();
        let members = state.chats.entry(id.to_owned()).or_default();
        let before = members.clone();
        greet(&before);
        members.push(member);
    }

    /// Removes the member on connection `conn` from session `id`; returns who is left.
    fn leave(&self, id: &str, conn: u64) -> Vec<Member> {
        let mut state = self.state();
        let Some(members) = state.chats.get_mut(id) else {
            return Vec::new();
        };
        let gone: Vec<String> = members
            .iter()
            .filter(|m| m.conn.id == conn)
            .map(|m| m.email.to_ascii_lowercase())
            .collect();
        members.retain(|m| m.conn.id != conn);
        let left = members.clone();
        for email in gone {
            if let Some(counts) = state.open.get_mut(&email) {
                counts.0 = counts.0.saturating_sub(1);
            }
        }
        if left.is_empty() {
            state.chats.remove(id);
        }
        left
    }

    /// The switchboard connections of `email`, in every session.
    fn connections_of(&self, email: &str) -> Vec<Arc<Conn>> {
        self.state()
            .chats
            .values()
            .flatten()
            .filter(|m| m.email.eq_ignore_ascii_case(email))
            .map(|m| m.conn.clone())
            .collect()
    }

    /// The most switchboard sessions `email` was in at once.
    fn peak(&self, email: &str) -> usize {
        let state = self.state();
        state
            .open
            .get(&email.to_ascii_lowercase())
            .map_or(0, |c| c.1)
    }

    /// Runs `f` on the offline-message store.
    pub(crate) fn mailbox<T>(&self, f: impl FnOnce(&mut mailbox::Mailbox) -> T) -> T {
        f(&mut self.state().mailbox)
    }
}

/// What the NS knows about one of its connections: the dialect and the last `CHG`
/// capabilities, from its presence record or, before its first `CHG`, read back from the
/// transcript.
pub(crate) fn ns_profile(shared: &Shared, conn: u64) -> (u32, String) {
    if let Some(online) = shared.directory().online(conn) {
        return (online.dialect, online.caps.clone());
    }
    let mut dialect = 0;
    let mut caps = "0".to_owned();
    for entry in shared.transcript.snapshot() {
        if entry.conn != conn || entry.service != Service::Ns {
            continue;
        }
        let mut words = entry.line.split(' ');
        match (entry.event, words.next()) {
            (Event::Sent, Some("VER")) => {
                dialect = words
                    .find_map(|w| w.strip_prefix("MSNP").and_then(|n| n.parse().ok()))
                    .unwrap_or(dialect)
            }
            (Event::Received, Some("CHG")) => {
                if let Some(c) = words.nth(2) {
                    caps = c.to_owned();
                }
            }
            _ => {}
        }
    }
    (dialect, caps)
}

/// `host:port` of the switchboard, as `XFR` and `RNG` give it.
pub(crate) fn address(shared: &Shared) -> String {
    SocketAddr::from(([127, 0, 0, 1], shared.ports.sb)).to_string()
}

impl crate::TestServer {
    /// Address of the switchboard.
    pub fn sb_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.shared.ports.sb))
    }

    /// Fault switch: the next `MSG` `email` sends on a switchboard is neither relayed nor
    /// acknowledged, and that switchboard connection is closed (a switchboard lost
    /// mid-conversation).
    pub fn sb_drop_next_message(&self, email: &str) {
        self.shared.sb.drop_next_message(email);
    }

    /// Fault switch: the next `MSG` `email` sends on a switchboard is neither relayed nor
    /// acknowledged, and the connection stays open (a message in flight when something else
    /// fails).
    pub fn sb_hold_next_message(&self, email: &str) {
        self.shared.sb.hold_next_message(email);
    }

    /// Fault switch: the NS leaves the next `XFR SB` of `email` unanswered (a switchboard
    /// request still in flight when something else fails).
    pub fn ns_ignore_next_xfr(&self, email: &str) {
        self.shared.sb.ignore_next_xfr(email);
    }

    /// Fault switch: the next `CAL` `email` sends is answered `RINGING` but rings nobody (an
    /// invitee slow to answer), so messages for them wait unwritten on that switchboard.
    pub fn sb_ring_nobody_next(&self, email: &str) {
        self.shared.sb.silence_next_call(email);
    }

    /// Closes every switchboard connection of `email` from the server side; returns how many.
    pub fn sb_kick(&self, email: &str) -> usize {
        let conns = self.shared.sb.connections_of(email);
        for conn in &conns {
            conn.close();
        }
        conns.len()
    }

    /// Writes raw bytes to every switchboard connection of `email`, as if a peer had sent
    /// them through the switchboard (hostile-peer tests); returns how many connections.
    pub fn sb_inject(&self, email: &str, bytes: &[u8]) -> usize {
        let conns = self.shared.sb.connections_of(email);
        for conn in &conns {
            conn.send_raw(bytes);
        }
        conns.len()
    }

    /// Switchboard connections `email` has open (signed in) now.
    pub fn sb_connections(&self, email: &str) -> usize {
        self.shared.sb.connections_of(email).len()
    }

    /// The most switchboard sessions `email` was in at once since the server started.
    pub fn sb_peak(&self, email: &str) -> usize {
        self.shared.sb.peak(email)
    }

    /// Offline messages stored for `email`, not yet deleted.
    pub fn offline_messages(&self, email: &str) -> usize {
        self.shared.sb.mailbox(|m| m.count_for(email))
    }
}
