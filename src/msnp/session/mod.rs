//! The notification-server session: sign-in, keepalive and (later) everything the NS carries.
//!
//! Sans-IO in the quinn-proto manner: the driver reports connections, bytes, HTTP responses and
//! timeouts through `handle_*`, then drains [`Session::poll`] and arms one timer at
//! [`Session::poll_timeout`].

/// The context a part works in for one call, lent from the session's own fields (so that
/// the part itself can be borrowed at the same time).
macro_rules! cx {
    ($session:ident) => {
        cx!($session, $session.login.tickets())
    };
    // The login part, where the tickets come from, works without them.
    ($session:ident, $tickets:expr) => {
        $crate::session::cx::Cx {
            out: &mut $session.out,
            ns: $session.ns.as_mut().filter(|_| !$session.ended),
            ids: &mut $session.ids,
            config: &$session.config,
            dialect: $session.dialect.unwrap_or($crate::dialect::Dialect::OLDEST),
            rng: &mut $session.rng,
            tickets: $tickets,
        }
    };
}

mod commands;
mod config;
pub mod contacts;
mod cx;
pub mod emoticons;
mod links;
mod login;
mod output;
pub mod pictures;
pub mod switchboard;
mod timers;
mod transfers;
mod tunnel;

#[cfg(test)]
pub(crate) mod sim;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Instant;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use config::{Config, ConnectionMethod, SUPPORTED_VERSIONS};
pub use contacts::ContactEvent;
pub use emoticons::EmoticonEvent;
pub use output::{ConnId, EndReason, Event, HttpId, Output, PROGRESS_STEPS};
pub use pictures::{PictureError, PictureEvent};
pub use switchboard::{ChatEvent, Unsent};
pub use transfers::TransferEvent;

use crate::dialect::Dialect;
use crate::gateway::ServerKind;
use crate::wire::{
    self, ClientCommand, Direction, Framer, Limits, NsCommand, OutReason, TrIdAllocator,
};
use cx::{Ids, NsLink};
use login::Login;
use switchboard::Handoff;
use timers::{Timer, TimerTable};

/// One account's session with the notification server.
pub struct Session {
    config: Config,
    out: VecDeque<Output>,
    timers: TimerTable,
    ns: Option<NsLink>,
    login: Login,
    contacts: contacts::Contacts,
    switchboards: switchboard::Switchboards,
    pictures: pictures::Pictures,
    /// Keepalive interval (the server's last `QNG <seconds>`).
    ping_interval: std::time::Duration,
    /// Negotiated protocol version (`None` until `VER` is answered).
    dialect: Option<Dialect>,
    ids: Ids,
    ended: bool,
    /// Every random value of the session (SSO IV, offline-message run ids) comes from here,
    /// seeded through [`Config::rng_seed`], so a session is a deterministic function of its
    /// inputs.
    rng: ChaCha8Rng,
    /// The connections carried through the HTTP gateway.
    tunnel: tunnel::Tunnel,
}

impl Session {
    /// Starts a session: the first output asks to connect to the configured server.
    pub fn new(config: Config, now: Instant) -> Session {
        let config_seed = config.rng_seed;
        let tunnel = tunnel::Tunnel::new(config.connection == ConnectionMethod::Http, now);
        // The P2P part's message-id base comes from a stream of its own, so the draws of the
        // sign-in stay what they were.
        let mut p2p_rng = ChaCha8Rng::from_seed(config.rng_seed);
        p2p_rng.set_stream(1);
        let pictures = pictures::Pictures::new(&config.account, &mut || p2p_rng.next_u32());
        let mut session = Session {
            config,
            out: VecDeque::new(),
            timers: TimerTable::default(),
            ns: None,
            login: Login::default(),
            contacts: contacts::Contacts::default(),
            switchboards: switchboard::Switchboards::default(),
            pictures,
            ping_interval: timers::DEFAULT_PING_INTERVAL,
            dialect: None,
            ids: Ids::default(),
            ended: false,
            rng: ChaCha8Rng::from_seed(config_seed),
            tunnel,
        };
        session
            .timers
            .set(Timer::Login, now + timers::LOGIN_TIMEOUT);
        let (host, port) = (session.config.server.clone(), session.config.port);
        session.connect_ns(host, port, now);
        session
    }

    /// The negotiated protocol version, once `VER` was answered.
    pub fn dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    /// The negotiated dialect; before `VER` is answered the oldest, so that nothing of a later
    /// version is sent or expected.
    fn speaks(&self) -> Dialect {
        self.dialect.unwrap_or(Dialect::OLDEST)
    }

    /// The next thing to do or show, in order. What concerns a connection carried through the
    /// HTTP gateway is turned into gateway requests here.
    pub fn poll(&mut self) -> Option<Output> {
        loop {
            let Some(output) = self.out.pop_front() else {
                let ids = &mut self.ids;
                let (id, request) = self.tunnel.next_request(&mut || ids.http())?;
                return Some(Output::Http { id, request });
            };
            match output {
                Output::Connect { conn, host, .. } if self.tunnel.active => {
                    let server = match self.ns.as_ref().is_some_and(|ns| ns.id == conn) {
                        true => ServerKind::Ns,
                        false => ServerKind::Sb,
                    };
                    self.tunnel.open(conn, server, &host, &self.config.gateway);
                }
                Output::Send { conn, bytes } if self.tunnel.carries(conn) => {
                    if let Err(e) = self.tunnel.queue(conn, &bytes) {
                        self.tunnel.close(conn);
                        let now = self.tunnel.now();
                        self.handle_connection_lost(conn, e.to_string(), now);
                    }
                }
                Output::Close { conn } if self.tunnel.carries(conn) => {
                    if let Some(last) = self.tunnel.farewell(conn) {
                        return Some(last);
                    }
                }
                other => return Some(other),
            }
        }
    }

    /// When `handle_timeout` wants to be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.ended {
            return None;
        }
        [
            self.timers.next(),
            self.contacts.deadline(),
            self.switchboards.deadline(),
            self.pictures.deadline(),
            self.tunnel.deadline(),
            self.tunnel.direct_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A connection asked for with [`Output::Connect`] is established.
    pub fn handle_connected(&mut self, conn: ConnId, now: Instant) {
        if self.pictures.owns_link(conn) {
            return self.link_connected(conn, now);
        }
        if self.switchboards.owns(conn) {
            return self
                .switchboards
                .handle_connected(&mut cx!(self), conn, now);
        }
        let Some(ns) = self.ns.as_mut().filter(|ns| ns.id == conn) else {
            return;
        };
        ns.connected = true;
        self.tunnel.direct_deadline = None;
        self.login
            .handle_connected(&mut cx!(self, cx::Tickets::default()));
    }

    /// A connection failed to open, broke, or was closed by the peer.
    pub fn handle_connection_lost(&mut self, conn: ConnId, text: String, now: Instant) {
        if self.pictures.owns_link(conn) {
            return self.link_lost(conn, &text, now);
        }
        if self.switchboards.owns(conn) {
            self.switchboards
                .handle_connection_lost(&mut cx!(self), conn, &text, now);
            return self.transfers_after_switchboards(now);
        }
        if let Some(ns) = self.ns.take_if(|ns| ns.id == conn) {
            if !ns.connected
                && !self.tunnel.active
                && self.config.connection == ConnectionMethod::Auto
            {
                log::info!(
                    "no direct connection to the notification server ({text}); trying the HTTP gateway"
                );
                self.tunnel.active = true;
                self.tunnel.direct_error = Some(text);
                return self.connect_ns(ns.host, ns.port, now);
            }
            log::info!("notification server connection lost: {text}");
            let text = match self.tunnel.direct_error.take() {
                // Neither way worked: the user hears of both.
                Some(direct) if !ns.connected => {
                    format!("{direct}; then {text}")
                }
                _ => text,
            };
            self.end(EndReason::Network(text));
        }
    }

    /// Bytes arrived on a connection.
    pub fn handle_bytes(&mut self, conn: ConnId, bytes: &[u8], now: Instant) {
        if self.pictures.owns_link(conn) {
            return self.link_bytes(conn, bytes, now);
        }
        if self.switchboards.owns(conn) {
            return self.switchboard_bytes(conn, bytes, now);
        }
        let Some(ns) = self.ns.as_mut().filter(|ns| ns.id == conn) else {
            return;
        };
        ns.framer.push(bytes);
        loop {
            if self.ended {
                return;
            }
            let Some(ns) = self.ns.as_mut().filter(|ns| ns.id == conn) else {
                return;
            };
            let frame = match ns.framer.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(e) => {
                    log::warn!("unframeable data from the notification server: {e}");
                    return self.end(EndReason::BadServerReply(e.to_string()));
                }
            };
            let line = String::from_utf8_lossy(&frame.line).into_owned();
            match wire::parse(frame, self.speaks()) {
                Ok(command) => self.dispatch(command, now),
                Err(e) => log::warn!(
                    "ignored malformed server command ({e}): {}",
                    printable(&line)
                ),
            }
        }
    }

    /// An HTTP request asked for with [`Output::Http`] completed; `raw` is the whole response.
    pub fn handle_http_response(&mut self, id: HttpId, raw: Vec<u8>, now: Instant) {
        if let Some(conn) = self.tunnel.owner(id) {
            return self.gateway_answer(conn, raw, now);
        }
        if self.login.is_waiting_for(id) {
            let next = self
                .login
                .handle_http(&mut cx!(self, cx::Tickets::default()), id, &raw);
            self.login_next(next, now);
        } else if let Some(raw) = self.contacts.handle_http(&mut cx!(self), id, raw, now) {
            if !self
                .switchboards
                .handle_http(&mut cx!(self), id, Ok(&raw), now)
            {
                log::debug!("HTTP response for a forgotten request {id:?}");
            }
        }
    }

    /// An HTTP request failed (connect, TLS or protocol error).
    pub fn handle_http_failed(&mut self, id: HttpId, text: String, now: Instant) {
        if let Some(conn) = self.tunnel.owner(id) {
            self.tunnel.close(conn);
            return self.handle_connection_lost(
                conn,
                format!("the HTTP gateway could not be reached ({text})"),
                now,
            );
        }
        if self.login.is_waiting_for(id) {
            self.end(EndReason::Network(text));
        } else if !self
            .contacts
            .handle_http_failed(&mut cx!(self), id, &text, now)
            && !self
                .switchboards
                .handle_http(&mut cx!(self), id, Err(&text), now)
        {
            log::debug!("HTTP failure for a forgotten request {id:?}: {text}");
        }
    }

    /// The answer to a gateway request of `conn`: the connection opened, bytes arrived, or it
    /// is over.
    fn gateway_answer(&mut self, conn: ConnId, raw: Vec<u8>, now: Instant) {
        match self.tunnel.handle_response(conn, raw, now) {
            Ok(received) => {
                if received.opened {
                    self.handle_connected(conn, now);
                }
                if !received.bytes.is_empty() {
                    self.handle_bytes(conn, &received.bytes, now);
                }
                if received.closed {
                    self.tunnel.close(conn);
                    let text = "The HTTP gateway closed the session".to_owned();
                    self.handle_connection_lost(conn, text, now);
                }
            }
            Err(e) => {
                log::warn!("HTTP gateway: {e}");
                self.handle_connection_lost(conn, e.to_string(), now)
            }
        }
    }

    /// `auto`: the direct NS connection did not come up in time (a firewall that drops rather
    /// than refuses); it is given up for the gateway, as if it had failed.
    fn direct_connect_timed_out(&mut self, now: Instant) {
        self.tunnel.direct_deadline = None;
        let Some(conn) = self.ns.as_ref().filter(|ns| !ns.connected).map(|ns| ns.id) else {
            return;
        };
        self.out.push_back(Output::Close { conn });
        let secs = tunnel::DIRECT_CONNECT_TIMEOUT.as_secs();
        self.handle_connection_lost(conn, format!("No connection within {secs} seconds"), now);
    }

    /// Deadlines due at `now` fire; early or spurious calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tunnel.advance(now);
        if self.ended {
            return;
        }
        if self.tunnel.direct_deadline.is_some_and(|at| at <= now) {
            self.direct_connect_timed_out(now);
        }
        for conn in self.tunnel.take_overdue(now) {
            let secs = crate::gateway::ANSWER_TIMEOUT.as_secs();
            let text = format!("the HTTP gateway did not answer within {secs} seconds");
            self.handle_connection_lost(conn, text, now);
        }
        if self.ended {
            return;
        }
        for timer in self.timers.expired(now) {
            match timer {
                Timer::Login | Timer::Pong => return self.end(EndReason::Timeout),
                Timer::Ping => {
                    self.send(ClientCommand::Png);
                    let wait = self
                        .ping_interval
                        .clamp(timers::PONG_TIMEOUT_MIN, timers::PONG_TIMEOUT_MAX);
                    self.timers.set(Timer::Pong, now + wait);
                }
            }
        }
        self.feature_timeouts(now);
    }

    /// Runs the deadlines of the contact list and the switchboards (called by `handle_timeout`).
    fn feature_timeouts(&mut self, now: Instant) {
        self.contacts.handle_timeout(&mut cx!(self), now);
        if !self.ended {
            self.switchboards.handle_timeout(&mut cx!(self), now);
            self.transfers_after_switchboards(now);
        }
        if !self.ended {
            let mut send = p2p_send(&mut self.switchboards, now);
            self.pictures.handle_timeout(&mut cx!(self), now, &mut send);
        }
    }

    /// Signs out politely (`OUT`) and ends the session.
    pub fn sign_out(&mut self) {
        if self.ended {
            return;
        }
        if self.ns.as_ref().is_some_and(|ns| ns.connected) {
            self.send(ClientCommand::Out);
        }
        self.end(EndReason::SignedOut);
    }

    fn dispatch(&mut self, command: NsCommand, now: Instant) {
        match command {
            NsCommand::Qng(qng) => {
                // Also taken unsolicited: the server may ask for another interval at any time.
                self.timers.stop(Timer::Pong);
                if let Some(secs) = qng.next_ping_secs {
                    self.ping_interval =
                        std::time::Duration::from_secs(u64::from(secs.clamp(5, 600)));
                }
                if self.login.is_done() {
                    self.timers.set(Timer::Ping, now + self.ping_interval);
                }
            }
            NsCommand::Chl(chl) => self.answer_challenge(&chl.challenge),
            NsCommand::Out(out) => self.end(out_reason(out.reason)),
            other if !self.login.is_done() => {
                let next = self
                    .login
                    .handle_command(&mut cx!(self, cx::Tickets::default()), other);
                self.login_next(next, now);
            }
            NsCommand::Ubn(ubn) => {
                if let Some(reason) = self.contacts.on_ubn(&mut cx!(self), ubn) {
                    self.end(reason);
                }
            }
            other => {
                self.presence_to_pictures(&other, now);
                self.places_to_switchboards(&other);
                let Some(other) = self.contacts.handle_ns_command(&mut cx!(self), other, now)
                else {
                    return;
                };
                let hidden = self.contacts.appears_offline();
                let Some(other) =
                    self.switchboards
                        .handle_ns_command(&mut cx!(self), other, hidden, now)
                else {
                    return;
                };
                match other {
                    NsCommand::Msg(msg) if msg.from == "Hotmail" => {
                        self.login.profile_message(&msg.payload)
                    }
                    NsCommand::Error(e) => {
                        log::warn!(
                            "server error {} for transaction {:?}: {}",
                            e.code,
                            e.trid,
                            e.description()
                        )
                    }
                    other => log::debug!("unhandled server command: {other:?}"),
                }
            }
        }
    }

    /// Does what the login part asked for.
    fn login_next(&mut self, next: login::Next, now: Instant) {
        match next {
            login::Next::Wait => {}
            login::Next::Negotiated(dialect) => self.dialect = Some(dialect),
            login::Next::Redirect { host, port } => {
                if let Some(old) = self.ns.take() {
                    self.out.push_back(Output::Close { conn: old.id });
                }
                self.dialect = None;
                self.timers.set(Timer::Login, now + timers::LOGIN_TIMEOUT);
                self.connect_ns(host, port, now);
            }
            login::Next::SignedIn => {
                self.timers.stop(Timer::Login);
                self.timers.set(Timer::Ping, now + self.ping_interval);
                self.event(Event::Progress { step: 4 });
                // What every client sends at once goes out before the UI hears it is online.
                self.contacts.signed_in(&mut cx!(self), now);
                self.switchboards.send_held(&mut cx!(self), now);
                self.event(Event::SignedIn {
                    version: self.speaks().version(),
                });
            }
            login::Next::End(reason) => self.end(reason),
        }
    }

    /// A contact's presence names their display picture (`ILN`, `NLN`), or they went offline
    /// (`FLN`): the pictures part hears it before the contact list does.
    fn presence_to_pictures(&mut self, command: &NsCommand, now: Instant) {
        let own = |email: &str| email.eq_ignore_ascii_case(&self.config.account);
        match command {
            NsCommand::Iln(wire::Iln { presence, .. }) | NsCommand::Nln(presence)
                if !own(&presence.contact) =>
            {
                let (email, object) = (presence.contact.clone(), presence.msn_object.clone());
                self.pictures
                    .announced(&mut cx!(self), &email, object.as_deref());
            }
            NsCommand::Fln(fln) if !own(&fln.contact) => {
                let email = fln.contact.clone();
                let mut send = p2p_send(&mut self.switchboards, now);
                self.pictures
                    .peer_gone(&mut cx!(self), &email, now, &mut send);
            }
            _ => {}
        }
    }

    /// MSNP16+: the places of an account, as its `UBX` lists them (ours without this one),
    /// or none once it is offline: a switchboard we start waits for them to join.
    fn places_to_switchboards(&mut self, command: &NsCommand) {
        if !self.speaks().endpoints() {
            return;
        }
        match command {
            NsCommand::Ubx(ubx) => {
                let Ok(places) = contacts::parse_places(&ubx.payload) else {
                    return;
                };
                let ours = self.config.machine_guid.trim_matches(['{', '}']);
                let guids: Vec<String> = places
                    .into_iter()
                    .map(|p| p.id)
                    .filter(|id| !id.trim_matches(['{', '}']).eq_ignore_ascii_case(ours))
                    .collect();
                self.switchboards.set_places(&ubx.contact, &guids);
            }
            NsCommand::Fln(fln) => self.switchboards.set_places(&fln.contact, &[]),
            _ => {}
        }
    }

    fn answer_challenge(&mut self, challenge: &str) {
        match crate::auth::challenge::answer(challenge, self.speaks()) {
            Ok((product_id, response)) => {
                self.send(ClientCommand::Qry {
                    product_id: product_id.to_owned(),
                    response,
                });
            }
            Err(e) => log::warn!("cannot answer challenge: {e}"),
        }
    }

    /// Bytes on a switchboard connection. The switchboards stop at each P2P packet or custom
    /// emoticon declaration, which goes to its part at once, so that what it causes comes
    /// before anything a later command on that connection causes (a declaration's event before
    /// the text that uses it).
    fn switchboard_bytes(&mut self, conn: ConnId, bytes: &[u8], now: Instant) {
        let mut bytes = bytes;
        while let Some(handoff) = self
            .switchboards
            .handle_bytes(&mut cx!(self), conn, bytes, now)
        {
            match handoff {
                Handoff::P2p(packet) => {
                    let mut send = p2p_send(&mut self.switchboards, now);
                    self.pictures
                        .handle_packet(&mut cx!(self), &packet, now, &mut send)
                }
                Handoff::Emoticons {
                    conversation,
                    from,
                    list,
                } => self
                    .pictures
                    .emoticons_declared(&mut cx!(self), conversation, &from, list),
            }
            bytes = &[];
        }
        self.transfers_after_switchboards(now);
    }

    /// After the switchboards handled an input: transfers whose switchboard was lost (or
    /// whose contact left it) fail, and data goes out where acknowledgements made room.
    fn transfers_after_switchboards(&mut self, now: Instant) {
        let lost = self.switchboards.take_p2p_lost();
        let mut send = p2p_send(&mut self.switchboards, now);
        self.pictures
            .switchboards_changed(&mut cx!(self), &lost, now, &mut send);
    }

    /// Encodes `command` with the next TrID (if it takes one) and queues it on the NS connection.
    fn send(&mut self, command: ClientCommand) -> Option<u32> {
        self.ns.as_mut()?.send(&mut self.out, command)
    }

    fn connect_ns(&mut self, host: String, port: u16, now: Instant) {
        let id = self.ids.conn();
        self.ns = Some(NsLink {
            id,
            host: host.clone(),
            port,
            framer: Framer::new(Direction::FromServer, Limits::default()),
            connected: false,
            trids: TrIdAllocator::default(),
        });
        self.out.push_back(Output::Connect {
            conn: id,
            host,
            port,
        });
        if self.config.connection == ConnectionMethod::Auto && !self.tunnel.active {
            self.tunnel.direct_deadline = Some(now + tunnel::DIRECT_CONNECT_TIMEOUT);
        }
        self.event(Event::Progress { step: 0 });
    }

    fn event(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    /// Ends the session once: closes the NS connection and reports why.
    fn end(&mut self, reason: EndReason) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.timers.stop_all();
        if let Some(ns) = self.ns.take() {
            self.out.push_back(Output::Close { conn: ns.id });
        }
        self.switchboards
            .abandon_all(&mut cx!(self), reason.is_transient());
        self.pictures.emoticons_abandon(&mut cx!(self));
        self.contacts.abandon(&mut cx!(self));
        self.event(Event::Ended(reason));
    }
}

/// The P2P part's way out: its packets go on the switchboards.
fn p2p_send(switchboards: &mut switchboard::Switchboards, now: Instant) -> SwitchboardLink<'_> {
    SwitchboardLink { switchboards, now }
}

/// The switchboards lent to the P2P part for one call at `now`.
struct SwitchboardLink<'a> {
    switchboards: &'a mut switchboard::Switchboards,
    now: Instant,
}

impl pictures::P2pLink for SwitchboardLink<'_> {
    fn send(&mut self, cx: &mut cx::Cx, peer: &str, packet: Vec<u8>) {
        self.switchboards.send_p2p(cx, peer, packet, self.now);
    }

    fn done(&mut self, cx: &mut cx::Cx, peer: &str) {
        self.switchboards.release_p2p(cx, peer);
    }

    fn room(&self, peer: &str) -> bool {
        self.switchboards.p2p_room(peer)
    }
}

/// Maps `OUT`'s reason to why the session ended.
fn out_reason(reason: Option<OutReason>) -> EndReason {
    match reason {
        Some(OutReason::OtherLogin) => EndReason::SignedInElsewhere,
        Some(OutReason::ServerShutdown) => EndReason::ServerShutdown,
        _ => EndReason::ServerClosed,
    }
}

/// A received line made safe for the log: control characters escaped, length capped.
fn printable(line: &str) -> String {
    line.chars()
        .take(200)
        .flat_map(char::escape_default)
        .collect()
}
