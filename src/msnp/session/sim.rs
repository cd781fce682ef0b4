//! The one test harness of the core (quinn-proto's `Pair` is the model): a [`Session`] on a
//! simulated clock, with a simulated server side that records everything the session asks
//! for, per connection, and feeds it server bytes and HTTP answers. The sign-in, contact-list,
//! switchboard and P2P tests all drive sessions through it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::auth::testlog::{self, Exchange};
use crate::http::HttpRequest;
use crate::session::switchboard::ChatEvent;
use crate::session::{
    ConnId, ContactEvent, EmoticonEvent, EndReason, Event, HttpId, Output, PictureEvent, Session,
};
use crate::wire::{transcript, Direction, Frame, Framer, Limits};

/// The machine GUID of the recorded sessions' first client.
pub(crate) const GUID: &str = "{0961ffc4-f6e6-41a0-9845-2214a26f069d}";

/// A session and everything it asked for.
pub(crate) struct Sim {
    pub(crate) session: Session,
    /// The simulated clock.
    pub(crate) now: Instant,
    /// The NS connection: the first one asked for, and the next after it was closed.
    pub(crate) ns: Option<ConnId>,
    /// Every byte written, on any connection, in order.
    pub(crate) sent: Vec<u8>,
    /// Bytes written, per connection, not yet taken.
    pub(crate) written: HashMap<ConnId, Vec<u8>>,
    pub(crate) connects: Vec<(ConnId, String, u16)>,
    pub(crate) closed: Vec<ConnId>,
    /// HTTP requests not answered yet, oldest first.
    pub(crate) http: Vec<(HttpId, HttpRequest)>,
    /// Every event.
    pub(crate) events: Vec<Event>,
    /// Conversation events not taken yet.
    pub(crate) chats: Vec<ChatEvent>,
    /// Display-picture events.
    pub(crate) pictures: Vec<PictureEvent>,
    /// Custom-emoticon events, each with the number of conversation events before it.
    pub(crate) emoticons: Vec<(usize, EmoticonEvent)>,
    /// Recorded HTTP exchanges [`Sim::sign_in`] answers from.
    pub(crate) exchanges: Vec<Exchange>,
}

impl Sim {
    /// A session for `account` offering versions up to `version`; its first output drained.
    pub(crate) fn new(version: u32, account: &str, password: &str, guid: &str) -> Sim {
        let config = crate::session::config::test_config(account, password, version, guid);
        let now = crate::test_time_origin();
        let mut sim = Sim {
            session: Session::new(config, now),
            now,
            ns: None,
            sent: Vec::new(),
            written: HashMap::new(),
            connects: Vec::new(),
            closed: Vec::new(),
            http: Vec::new(),
            events: Vec::new(),
            chats: Vec::new(),
            pictures: Vec::new(),
            emoticons: Vec::new(),
            exchanges: Vec::new(),
        };
        sim.drain();
        sim
    }

    /// As [`Sim::new`] with the usual machine GUID, the NS connection established.
    pub(crate) fn new_connected(version: u32, account: &str, password: &str) -> Sim {
        let mut sim = Sim::new(version, account, password, GUID);
        sim.connected();
        sim
    }

    /// Takes everything the session asked for or reported.
    pub(crate) fn drain(&mut self) {
        while let Some(output) = self.session.poll() {
            match output {
                Output::Connect { conn, host, port } => {
                    if self.ns.is_none_or(|ns| self.closed.contains(&ns)) {
                        self.ns = Some(conn);
                    }
                    self.connects.push((conn, host, port));
                }
                Output::Send { conn, bytes } => {
                    self.sent.extend_from_slice(&bytes);
                    self.written.entry(conn).or_default().extend(bytes);
                }
                Output::Close { conn } => self.closed.push(conn),
                Output::Listen { .. } => panic!("direct connections are off in simulations"),
                Output::Farewell { .. } => panic!("the HTTP gateway is off in simulations"),
                Output::Http { id, request } => self.http.push((id, request)),
                Output::Event(event) => {
                    match &event {
                        Event::Chat(e) => self.chats.push(e.clone()),
                        Event::Picture(e) => self.pictures.push(e.clone()),
                        Event::Emoticon(e) => self.emoticons.push((self.chats.len(), e.clone())),
                        _ => {}
                    }
                    self.events.push(event);
                }
            }
        }
    }

    /// The NS connection.
    pub(crate) fn ns(&self) -> ConnId {
        self.ns.expect("a connection was asked for")
    }

    /// The NS connection is established.
    pub(crate) fn connected(&mut self) {
        self.session.handle_connected(self.ns(), self.now);
        self.drain();
    }

    /// Server bytes on the NS connection.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        self.feed_on(self.ns(), bytes);
    }

    /// Server lines on the NS connection, each followed by CRLF.
    pub(crate) fn feed_lines(&mut self, lines: &[&str]) {
        for line in lines {
            self.feed(format!("{line}\r\n").as_bytes());
        }
    }

    /// Bytes on connection `conn`.
    pub(crate) fn feed_on(&mut self, conn: ConnId, bytes: &[u8]) {
        self.session.handle_bytes(conn, bytes, self.now);
        self.drain();
    }

    /// Answers the oldest pending HTTP request with `raw`; returns that request.
    pub(crate) fn answer(&mut self, raw: &[u8]) -> HttpRequest {
        let (id, request) = self.http.remove(0);
        self.session
            .handle_http_response(id, raw.to_vec(), self.now);
        self.drain();
        request
    }

    /// Moves the clock on and lets the deadlines due fire.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.now += by;
        self.session.handle_timeout(self.now);
        self.drain();
    }

    /// Everything written since the last call, as text.
    pub(crate) fn take_sent(&mut self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.sent)).into_owned()
    }

    /// The lines (and payloads) written since the last call.
    pub(crate) fn take_lines(&mut self) -> Vec<String> {
        self.take_sent()
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// As [`Sim::take_lines`], keepalive `PNG`s left out.
    pub(crate) fn take_lines_but_png(&mut self) -> Vec<String> {
        let mut lines = self.take_lines();
        lines.retain(|l| l != "PNG");
        lines
    }

    /// Every event since the last call; the contact-list ones returned.
    pub(crate) fn take_contact_events(&mut self) -> Vec<ContactEvent> {
        std::mem::take(&mut self.events)
            .into_iter()
            .filter_map(|e| match e {
                Event::Contact(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// The conversation events since the last call.
    pub(crate) fn take_chat_events(&mut self) -> Vec<ChatEvent> {
        self.drain();
        std::mem::take(&mut self.chats)
    }

    /// Why the session ended, once it did.
    pub(crate) fn ended(&self) -> Option<&EndReason> {
        self.events.iter().find_map(|e| match e {
            Event::Ended(r) => Some(r),
            _ => None,
        })
    }

    /// Whether sign-in succeeded.
    pub(crate) fn signed_in(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, Event::SignedIn { .. }))
    }

    /// Signs `user` in by replaying `<dir>/<user>-ns.raw.txt` (and its HTTP log) up to
    /// `USR OK`; what it wrote and asked for is dropped.
    pub(crate) fn sign_in(dir: &str, user: &str, version: u32, guid: &str) -> Sim {
        Sim::sign_in_with(dir, user, version, guid, |_, _| {})
    }

    /// As [`Sim::sign_in`], with `before` applied to the new session before it signs in; of
    /// what was written, the switchboard requests (`XFR SB`, for messages held until sign-in)
    /// are kept.
    pub(crate) fn sign_in_with(
        dir: &str,
        user: &str,
        version: u32,
        guid: &str,
        before: impl FnOnce(&mut Session, Instant),
    ) -> Sim {
        let account = format!("{user}@example.com");
        let mut h = Sim::new(version, &account, &format!("{user}pass"), guid);
        before(&mut h.session, h.now);
        h.drain();
        h.exchanges = testlog::load(dir)
            .into_iter()
            .filter(|x| {
                let body = String::from_utf8_lossy(&x.request_body);
                let auth = x.request_header("Authorization").unwrap_or_default();
                body.contains(&account)
                    || auth.contains(&account.replace('@', "%40"))
                    || x.label == "nexus"
                    || x.label.starts_with("RSI")
            })
            .collect();
        h.connected();
        let t = transcript::load(&format!("{dir}/{user}-ns.raw.txt"));
        for (from_server, bytes) in &t.chunks {
            if !*from_server {
                continue;
            }
            h.feed(bytes);
            while !h.http.is_empty() && !h.session.login.is_done() {
                let url = h.http[0].1.url.clone();
                let at = h
                    .exchanges
                    .iter()
                    .position(|x| url.ends_with(x.url_path()))
                    .expect("a recorded answer");
                let raw = h.exchanges.remove(at).raw_response();
                h.answer(&raw);
            }
            if h.session.login.is_done() {
                break;
            }
        }
        assert!(h.session.login.is_done(), "signed in");
        // Contact-list requests made at sign-in are not answered here.
        h.http.clear();
        let xfrs: Vec<u8> = frames(&h.written.remove(&h.ns()).unwrap_or_default())
            .iter()
            .map(line)
            .filter(|l| l.starts_with("XFR ") && l.ends_with(" SB"))
            .flat_map(|l| format!("{l}\r\n").into_bytes())
            .collect();
        h.written.clear();
        h.sent.clear();
        if !xfrs.is_empty() {
            h.written.insert(h.ns(), xfrs);
        }
        h
    }

    /// Signs in at an NS-list version (8-12) with scripted server lines (no recording).
    pub(crate) fn signed_in_ns(version: u32, account: &str) -> Sim {
        let mut h = Sim::new_connected(version, account, "pw");
        h.feed_lines(&[
            &format!("VER 1 MSNP{version}"),
            "CVR 2 7.5.0324 7.5.0324 7.5.0324 https://x https://x",
            "USR 3 TWN S ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1",
        ]);
        h.answer(b"HTTP/1.1 200 OK\r\nPassportURLs: DALogin=https://127.0.0.1:8443/login\r\nContent-Length: 0\r\n\r\n");
        h.answer(b"HTTP/1.1 200 OK\r\nAuthentication-Info: Passport1.4 da-status=success,from-PP='t=0123456789abcdefghij&p='\r\nContent-Length: 0\r\n\r\n");
        let ok = match version {
            ..=9 => format!("USR 4 OK {account} Me 1 0"),
            _ => format!("USR 4 OK {account} 1 0"),
        };
        h.feed_lines(&[&ok]);
        h.take_sent();
        h
    }

    /// The frames written on `conn` since the last call.
    pub(crate) fn frames(&mut self, conn: ConnId) -> Vec<Frame> {
        self.drain();
        let bytes = self.written.remove(&conn).unwrap_or_default();
        frames(&bytes)
    }

    /// The lines written on `conn` since the last call.
    pub(crate) fn lines(&mut self, conn: ConnId) -> Vec<String> {
        self.frames(conn).iter().map(line).collect()
    }

    /// The last `XFR <trid> SB` written on the NS: its TrID.
    pub(crate) fn xfr_trid(&mut self) -> u32 {
        let lines = self.lines(self.ns());
        let xfr = lines
            .iter()
            .rev()
            .find(|l| l.starts_with("XFR ") && l.ends_with(" SB"))
            .unwrap_or_else(|| panic!("no XFR SB in {lines:?}"));
        xfr.split(' ').nth(1).unwrap().parse().unwrap()
    }

    /// Answers the last `XFR SB` and connects the switchboard; returns its connection.
    pub(crate) fn open_board(&mut self, cookie: &str) -> ConnId {
        let trid = self.xfr_trid();
        self.feed(format!("XFR {trid} SB 127.0.0.1:1864 CKI {cookie}\r\n").as_bytes());
        let (conn, host, port) = self.connects.last().cloned().expect("connect");
        assert_eq!((host.as_str(), port), ("127.0.0.1", 1864));
        self.session.handle_connected(conn, self.now);
        self.drain();
        conn
    }

    /// Connects the connection of the last `Connect`.
    pub(crate) fn connect_last(&mut self) -> ConnId {
        let (conn, _, _) = self.connects.last().cloned().expect("connect");
        self.session.handle_connected(conn, self.now);
        self.drain();
        conn
    }
}

/// Client frames in `bytes`.
pub(crate) fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut framer = Framer::new(Direction::FromClient, Limits::default());
    framer.push(bytes);
    let mut out = Vec::new();
    while let Some(frame) = framer.next_frame().expect("framable") {
        out.push(frame);
    }
    out
}

/// A frame's command line.
pub(crate) fn line(frame: &Frame) -> String {
    String::from_utf8_lossy(&frame.line).into_owned()
}
