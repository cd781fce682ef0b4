//! Switchboard sessions driven with a simulated clock: the recorded Escargot switchboard
//! sessions replayed (our client's lines must be the recorded ones), then failures, bounds and
//! offline messages.

use crate::dialect::Dialect;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::*;
use crate::auth::testlog;
use crate::http::HttpRequest;
use crate::session::{Output, Session};
use crate::wire::transcript;
use crate::wire::{Direction, Frame, Framer, Limits};

mod emoticons;
mod pictures;

const ALICE_GUID: &str = "{0961ffc4-f6e6-41a0-9845-2214a26f069d}";
const BOB_GUID: &str = "{67276431-56b0-47ec-92cd-61d5bfc49e43}";

/// A session and everything it asked for.
struct H {
    s: Session,
    now: Instant,
    ns: ConnId,
    /// Bytes written, per connection.
    written: HashMap<ConnId, Vec<u8>>,
    connects: Vec<(ConnId, String, u16)>,
    closed: Vec<ConnId>,
    http: Vec<(HttpId, HttpRequest)>,
    events: Vec<ChatEvent>,
    pictures: Vec<crate::session::PictureEvent>,
    /// Custom-emoticon events, each with the number of conversation events before it.
    emoticons: Vec<(usize, crate::session::EmoticonEvent)>,
    exchanges: Vec<testlog::Exchange>,
}

impl H {
    /// Signs `user` in by replaying `<dir>/<user>-ns.raw.txt` (and its HTTP log) up to `USR OK`.
    fn sign_in(dir: &str, user: &str, version: u32, guid: &str) -> H {
        let account = format!("{user}@example.com");
        let config =
            crate::session::config::test_config(&account, &format!("{user}pass"), version, guid);
        let now = crate::test_clock_start();
        let mut h = H {
            s: Session::new(config, now),
            now,
            ns: ConnId(0),
            written: HashMap::new(),
            connects: Vec::new(),
            closed: Vec::new(),
            http: Vec::new(),
            events: Vec::new(),
            pictures: Vec::new(),
            emoticons: Vec::new(),
            exchanges: testlog::load(dir)
                .into_iter()
                .filter(|x| {
                    let body = String::from_utf8_lossy(&x.request_body);
                    let auth = x.request_header("Authorization").unwrap_or_default();
                    body.contains(&account)
                        || auth.contains(&account.replace('@', "%40"))
                        || x.label == "nexus"
                        || x.label.starts_with("RSI")
                })
                .collect(),
        };
        h.drain();
        h.ns = h.connects[0].0;
        h.s.handle_connected(h.ns, now);
        h.drain();
        let t = transcript::load(&format!("{dir}/{user}-ns.raw.txt"));
        for (from_server, bytes) in &t.chunks {
            if !*from_server {
                continue;
            }
            h.feed(h.ns, bytes);
            while !h.http.is_empty() && !h.s.login.is_done() {
                let url = h.http[0].1.url.clone();
                let at = h
                    .exchanges
                    .iter()
                    .position(|x| url.ends_with(x.url_path()))
                    .expect("a recorded answer");
                let raw = h.exchanges.remove(at).raw_response();
                h.answer_http(&raw);
            }
            if h.s.login.is_done() {
                break;
            }
        }
        assert!(h.s.login.is_done(), "signed in");
        // Contact-list requests made at sign-in are not answered here.
        h.http.clear();
        h.written.clear();
        h
    }

    fn drain(&mut self) {
        while let Some(output) = self.s.poll() {
            match output {
                Output::Connect { conn, host, port } => self.connects.push((conn, host, port)),
                Output::Send { conn, bytes } => self.written.entry(conn).or_default().extend(bytes),
                Output::Close { conn } => self.closed.push(conn),
                Output::Http { id, request } => self.http.push((id, request)),
                Output::Event(Event::Chat(e)) => self.events.push(e),
                Output::Event(Event::Picture(e)) => self.pictures.push(e),
                Output::Event(Event::Emoticon(e)) => self.emoticons.push((self.events.len(), e)),
                Output::Event(_) => {}
            }
        }
    }

    fn feed(&mut self, conn: ConnId, bytes: &[u8]) {
        self.s.handle_bytes(conn, bytes, self.now);
        self.drain();
    }

    fn answer_http(&mut self, raw: &[u8]) {
        let (id, _) = self.http.remove(0);
        self.s.handle_http_response(id, raw.to_vec(), self.now);
        self.drain();
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.s.handle_timeout(self.now);
        self.drain();
    }

    /// The frames written on `conn` since the last call.
    fn frames(&mut self, conn: ConnId) -> Vec<Frame> {
        self.drain();
        let bytes = self.written.remove(&conn).unwrap_or_default();
        frames(&bytes)
    }

    /// The lines written on `conn` since the last call.
    fn lines(&mut self, conn: ConnId) -> Vec<String> {
        self.frames(conn).iter().map(line).collect()
    }

    /// The last `XFR <trid> SB` written on the NS: its TrID.
    fn xfr_trid(&mut self) -> u32 {
        let lines = self.lines(self.ns);
        let xfr = lines
            .iter()
            .rev()
            .find(|l| l.starts_with("XFR ") && l.ends_with(" SB"))
            .unwrap_or_else(|| panic!("no XFR SB in {lines:?}"));
        xfr.split(' ').nth(1).unwrap().parse().unwrap()
    }

    /// Answers the last `XFR SB` and connects the switchboard; returns its connection.
    fn open_board(&mut self, cookie: &str) -> ConnId {
        let trid = self.xfr_trid();
        self.feed(
            self.ns,
            format!("XFR {trid} SB 127.0.0.1:1864 CKI {cookie}\r\n").as_bytes(),
        );
        let (conn, host, port) = self.connects.last().cloned().expect("connect");
        assert_eq!((host.as_str(), port), ("127.0.0.1", 1864));
        self.s.handle_connected(conn, self.now);
        self.drain();
        conn
    }

    /// Connects the switchboard of the last `Connect`.
    fn connect_last(&mut self) -> ConnId {
        let (conn, _, _) = self.connects.last().cloned().expect("connect");
        self.s.handle_connected(conn, self.now);
        self.drain();
        conn
    }

    fn take_events(&mut self) -> Vec<ChatEvent> {
        self.drain();
        std::mem::take(&mut self.events)
    }
}

fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut framer = Framer::new(Direction::FromClient, Limits::default());
    framer.push(bytes);
    let mut out = Vec::new();
    while let Some(frame) = framer.next_frame().expect("framable") {
        out.push(frame);
    }
    out
}

fn line(frame: &Frame) -> String {
    String::from_utf8_lossy(&frame.line).into_owned()
}

/// The server chunks of a recorded switchboard session.
fn server_chunks(name: &str) -> Vec<Vec<u8>> {
    transcript::load(name)
        .chunks
        .into_iter()
        .filter(|(s, _)| *s)
        .map(|(_, b)| b)
        .collect()
}

/// The client frames of a recorded switchboard session.
fn client_frames(name: &str) -> Vec<Frame> {
    frames(&transcript::load(name).client_bytes())
}

/// The recorded NS chunk starting with `prefix`.
fn ns_chunk(name: &str, prefix: &str) -> Vec<u8> {
    transcript::load(name)
        .chunks
        .into_iter()
        .find(|(s, b)| *s && b.starts_with(prefix.as_bytes()))
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no {prefix} in {name}"))
}

/// The text body of a `text/plain` payload.
fn body(payload: &[u8]) -> String {
    let at = payload.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    String::from_utf8_lossy(&payload[at + 4..]).into_owned()
}

fn im(from: &str, html: &str) -> ChatEvent {
    let friendly = from.split('@').next().unwrap();
    let mut f = friendly.to_owned();
    f[..1].make_ascii_uppercase();
    ChatEvent::Message {
        conversation: Conversation::Im(from.into()),
        from: from.into(),
        friendly: f,
        html: html.into(),
        timestamp: None,
    }
}

/// Alice's side of a recorded one-to-one conversation: `XFR`, `USR`, `CAL`, `JOI`, typing and
/// a message out, a message and a nudge in, the contact leaves. Our lines must be the recorded
/// ones (the recorded client's unknown-type probe aside).
fn replay_outgoing(dir: &str, version: u32, guid: &str) {
    let mut h = H::sign_in(dir, "alice", version, guid);
    h.s.open_conversation("bob@example.com", h.now).unwrap();
    let recorded = client_frames(&format!("{dir}/alice-sb.raw.txt"));
    let cookie = line(&recorded[0]).split(' ').nth(3).unwrap().to_owned();
    let sb = h.open_board(&cookie);
    let chunks = server_chunks(&format!("{dir}/alice-sb.raw.txt"));
    let mut ours = h.frames(sb);
    h.feed(sb, &chunks[0]); // USR OK
    ours.extend(h.frames(sb));
    for chunk in &chunks[1..=2] {
        h.feed(sb, chunk); // CAL RINGING, JOI (and from MSNP16 a second JOI)
    }
    let mut rest = 3;
    if version >= 16 {
        h.feed(sb, &chunks[3]);
        rest = 4;
    }
    h.s.send_typing("bob@example.com", h.now);
    h.s.send_im("bob@example.com", "Hello Bob ☃ from probe", h.now)
        .unwrap();
    ours.extend(h.frames(sb));
    for chunk in &chunks[rest..] {
        h.feed(sb, chunk);
    }
    ours.extend(h.frames(sb));
    assert!(h.closed.contains(&sb), "left after the contact did");

    let expected: Vec<&Frame> = recorded
        .iter()
        .filter(|f| f.payload.as_ref().is_none_or(|p| body(p) != "blob"))
        .collect();
    assert_eq!(
        ours.len(),
        expected.len(),
        "{:?}",
        ours.iter().map(line).collect::<Vec<_>>()
    );
    for (o, r) in ours.iter().zip(expected) {
        if line(r).starts_with("MSG 4 A ") {
            assert!(line(o).starts_with("MSG 4 A "), "{}", line(o));
            assert_eq!(body(o.payload.as_ref().unwrap()), "Hello Bob ☃ from probe");
        } else {
            assert_eq!(o, r, "{} vs {}", line(o), line(r));
        }
    }
    assert_eq!(
        h.take_events(),
        [
            im("bob@example.com", "Hi Alice, bob here"),
            ChatEvent::Nudge {
                from: "bob@example.com".into()
            },
        ]
    );
}

/// Bob's side: the `RNG` is answered at once, the roster comes in, typing, a message, a reply
/// and a nudge go out, the conversation is closed.
fn replay_incoming(dir: &str, version: u32, guid: &str) {
    let mut h = H::sign_in(dir, "bob", version, guid);
    h.feed(h.ns, &ns_chunk(&format!("{dir}/bob-ns.raw.txt"), "RNG "));
    let sb = h.connect_last();
    let name = format!("{dir}/bob-sb.raw.txt");
    let chunks = server_chunks(&name);
    let recorded = client_frames(&name);
    let mut ours = h.frames(sb);
    for chunk in &chunks {
        let text = String::from_utf8_lossy(chunk).into_owned();
        if text.contains("x-probe-unknown") {
            h.s.send_im("alice@example.com", "Hi Alice, bob here", h.now)
                .unwrap();
            h.advance(Duration::from_secs(1));
            h.s.send_nudge("alice@example.com", h.now).unwrap();
            ours.extend(h.frames(sb));
            // What a server answers to ack mode A (the recording used N).
            h.feed(sb, b"ACK 2\r\n");
        }
        h.feed(sb, chunk);
    }
    h.s.close_conversation("alice@example.com");
    ours.extend(h.frames(sb));
    assert!(h.closed.contains(&sb));
    assert_eq!(ours.len(), recorded.len());
    for (o, r) in ours.iter().zip(&recorded) {
        if line(r).starts_with("MSG 2 ") {
            // The recording used ack N; we ask for an ACK.
            assert!(line(o).starts_with("MSG 2 A "), "{}", line(o));
            assert_eq!(
                o.payload.as_ref().map(|p| body(p)),
                r.payload.as_ref().map(|p| body(p))
            );
        } else {
            assert_eq!(o, r, "{} vs {}", line(o), line(r));
        }
    }
    let events = h.take_events();
    assert_eq!(
        events,
        [
            ChatEvent::Opened {
                with: "alice@example.com".into()
            },
            ChatEvent::Typing {
                from: "alice@example.com".into(),
                typing: true
            },
            ChatEvent::Typing {
                from: "alice@example.com".into(),
                typing: false
            },
            ChatEvent::Message {
                conversation: Conversation::Im("alice@example.com".into()),
                from: "alice@example.com".into(),
                friendly: if version >= 15 {
                    "Alice (probe)"
                } else {
                    "Alice"
                }
                .into(),
                html: "<font face=\"Segoe UI\">Hello Bob ☃ from probe</font>".into(),
                timestamp: None,
            },
        ]
    );
}

#[test]
fn msnp8_outgoing_conversation_matches_the_recording() {
    replay_outgoing("msnp8", 8, ALICE_GUID);
}

#[test]
fn msnp12_outgoing_conversation_matches_the_recording() {
    replay_outgoing("msnp12", 12, ALICE_GUID);
}

#[test]
fn msnp18_outgoing_conversation_matches_the_recording() {
    replay_outgoing("msnp18", 18, ALICE_GUID);
}

#[test]
fn msnp12_invitation_is_answered_as_recorded() {
    replay_incoming("msnp12", 12, BOB_GUID);
}

#[test]
fn msnp18_invitation_is_answered_as_recorded() {
    replay_incoming("msnp18", 18, BOB_GUID);
}

/// Bob's side of the recorded three-party chat: invited one-to-one, Carol joins (a chat now),
/// Carol writes, Alice leaves, Bob writes to the chat and leaves.
#[test]
fn a_third_person_joining_turns_the_conversation_into_a_chat() {
    let dir = "extra-multiparty";
    let mut h = H::sign_in(dir, "bob", 12, BOB_GUID);
    h.feed(h.ns, &ns_chunk(&format!("{dir}/bob-ns.raw.txt"), "RNG "));
    let sb = h.connect_last();
    let chunks = server_chunks(&format!("{dir}/bob-sb.raw.txt"));
    for chunk in &chunks {
        h.feed(sb, chunk);
    }
    let alice = Member {
        email: "alice@example.com".into(),
        friendly: "Alice (probe)".into(),
    };
    let carol = Member {
        email: "carol@example.com".into(),
        friendly: "Carol".into(),
    };
    assert_eq!(
        h.take_events(),
        [
            ChatEvent::Opened {
                with: "alice@example.com".into()
            },
            ChatEvent::ChatStarted {
                chat: 1,
                members: vec![alice, carol],
                from_im: Some("alice@example.com".into()),
            },
            ChatEvent::Message {
                conversation: Conversation::Chat(1),
                from: "carol@example.com".into(),
                friendly: "Carol".into(),
                html: "hello everyone".into(),
                timestamp: None,
            },
            ChatEvent::Left {
                chat: 1,
                email: "alice@example.com".into(),
            },
        ]
    );
    h.frames(sb);
    h.s.chat_send(1, "alice left", h.now).unwrap();
    let sent = h.frames(sb);
    assert_eq!(line(&sent[0]), "MSG 2 A 128");
    assert_eq!(body(sent[0].payload.as_ref().unwrap()), "alice left");
    h.feed(sb, b"ACK 2\r\n");
    h.s.chat_leave(1);
    assert_eq!(h.lines(sb), ["OUT"]);
    assert!(h.closed.contains(&sb));
    assert_eq!(h.s.chat_send(1, "gone", h.now), Err(SendError::NoSuchChat));
}

/// Carol is invited into a switchboard that already has two people: a chat from the start.
#[test]
fn an_invitation_with_two_people_in_it_is_a_chat() {
    let dir = "extra-multiparty";
    let mut h = H::sign_in(dir, "carol", 12, BOB_GUID);
    h.feed(h.ns, &ns_chunk(&format!("{dir}/carol-ns.raw.txt"), "RNG "));
    let sb = h.connect_last();
    let recorded = client_frames(&format!("{dir}/carol-sb.raw.txt"));
    assert_eq!(h.frames(sb), recorded[..1]);
    let chunks = server_chunks(&format!("{dir}/carol-sb.raw.txt"));
    for chunk in &chunks {
        h.feed(sb, chunk);
    }
    let events = h.take_events();
    assert!(
        matches!(&events[0], ChatEvent::ChatStarted { chat: 1, members, from_im: None } if members.len() == 2)
    );
    assert!(events.contains(&ChatEvent::Left {
        chat: 1,
        email: "bob@example.com".into()
    }));
    assert!(events.iter().any(|e| matches!(e,
        ChatEvent::Message { conversation: Conversation::Chat(1), from, html, .. }
            if from == "bob@example.com" && html == "alice left")));
}

/// Alice starts a chat with Bob, invites Carol; inviting someone unknown is reported in the
/// chat, inviting someone present again is not sent at all.
#[test]
fn a_chat_is_started_and_grown_by_invitations() {
    let dir = "extra-multiparty";
    let mut h = H::sign_in(dir, "alice", 12, ALICE_GUID);
    let chat = h.s.start_chat(Some("bob@example.com"), h.now).unwrap();
    let sb = h.open_board("e2e88bf23bc33c67b44c");
    assert_eq!(
        h.lines(sb),
        ["USR 1 alice@example.com e2e88bf23bc33c67b44c"]
    );
    let chunks = server_chunks(&format!("{dir}/alice-sb.raw.txt"));
    h.feed(sb, &chunks[0]);
    assert_eq!(h.lines(sb), ["CAL 2 bob@example.com"]);
    h.feed(sb, &chunks[1]);
    h.feed(sb, &chunks[2]);
    h.s.chat_invite(chat, "carol@example.com").unwrap();
    h.s.chat_invite(chat, "bob@example.com").unwrap();
    h.s.chat_invite(chat, "nobody@example.com").unwrap();
    assert_eq!(
        h.lines(sb),
        ["CAL 3 carol@example.com", "CAL 4 nobody@example.com"]
    );
    h.feed(sb, &chunks[3]); // CAL 3 RINGING
    h.feed(sb, &chunks[4]); // JOI carol
    h.feed(sb, b"217 4\r\n");
    let events = h.take_events();
    assert_eq!(
        events[0],
        ChatEvent::ChatStarted {
            chat,
            members: vec![],
            from_im: None
        }
    );
    assert_eq!(
        events[1..],
        [
            ChatEvent::Joined {
                chat,
                member: Member {
                    email: "bob@example.com".into(),
                    friendly: "Bob".into()
                }
            },
            ChatEvent::Joined {
                chat,
                member: Member {
                    email: "carol@example.com".into(),
                    friendly: "Carol".into()
                }
            },
            ChatEvent::Notice {
                conversation: Conversation::Chat(chat),
                text: "nobody@example.com could not be invited (offline or unknown; error 217)"
                    .into()
            },
        ]
    );
}

/// Opens the switchboard asked for last, to Alice, signed in and joined; the `USR` and `CAL`
/// are checked and consumed.
fn joined_board(h: &mut H) -> ConnId {
    let sb = h.open_board("cookie");
    h.feed(sb, b"USR 1 OK bob@example.com Bob\r\nCAL 2 RINGING 123\r\n");
    assert_eq!(
        h.lines(sb),
        ["USR 1 bob@example.com cookie", "CAL 2 alice@example.com"]
    );
    h.feed(sb, b"JOI alice@example.com Alice 1342177280\r\n");
    sb
}

fn bob() -> H {
    H::sign_in("msnp12", "bob", 12, BOB_GUID)
}

#[test]
fn messages_typed_during_set_up_go_out_in_order_once_the_contact_joined() {
    let mut h = bob();
    for text in ["one", "two", "three"] {
        h.s.send_im("alice@example.com", text, h.now).unwrap();
    }
    let sb = h.open_board("cookie");
    assert_eq!(h.lines(sb), ["USR 1 bob@example.com cookie"]);
    h.feed(sb, b"USR 1 OK bob@example.com Bob\r\nCAL 2 RINGING 123\r\n");
    assert_eq!(
        h.lines(sb),
        ["CAL 2 bob@example.com".replace("bob", "alice")]
    );
    h.feed(sb, b"JOI alice@example.com Alice 1342177280\r\n");
    let sent = h.frames(sb);
    let texts: Vec<String> = sent
        .iter()
        .map(|f| body(f.payload.as_ref().unwrap()))
        .collect();
    assert_eq!(texts, ["one", "two", "three"]);
    assert!(sent
        .iter()
        .all(|f| line(f).starts_with("MSG ") && line(f).contains(" A ")));
    // Only one switchboard was asked for.
    assert_eq!(h.connects.len(), 2);
}

#[test]
fn a_lost_switchboard_resends_once_then_reports_the_text() {
    let mut h = bob();
    h.s.send_im("alice@example.com", "important", h.now)
        .unwrap();
    let sb = joined_board(&mut h);
    assert_eq!(h.lines(sb), ["MSG 3 A 127"]);
    h.s.handle_connection_lost(sb, "reset".into(), h.now);
    h.drain();
    assert!(h.take_events().is_empty(), "nothing reported yet: re-sent");
    let sb2 = joined_board(&mut h);
    assert_ne!(sb, sb2);
    let again = h.frames(sb2);
    assert_eq!(body(again[0].payload.as_ref().unwrap()), "important");
    h.feed(sb2, b"OUT\r\n");
    assert_eq!(
        h.take_events(),
        [ChatEvent::Undelivered {
            conversation: Conversation::Im("alice@example.com".into()),
            text: "important".into(),
            reason: "the switchboard closed the conversation".into(),
        }]
    );
}

/// The NS connection is lost: the session ends, and what was unacknowledged or still waiting
/// for a switchboard is reported with its text (nothing silently dropped).
#[test]
fn messages_in_flight_when_the_session_ends_are_reported() {
    let mut h = bob();
    h.s.send_im("alice@example.com", "in flight", h.now)
        .unwrap();
    let sb = joined_board(&mut h);
    assert_eq!(h.lines(sb), ["MSG 3 A 127"]);
    h.s.send_im("carol@example.com", "still waiting", h.now)
        .unwrap();
    h.s.handle_connection_lost(h.ns, "reset".into(), h.now);
    let mut texts: Vec<String> = h
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            ChatEvent::Undelivered { text, reason, .. } if reason.contains("lost") => Some(text),
            _ => None,
        })
        .collect();
    texts.sort();
    assert_eq!(texts, ["in flight", "still waiting"]);
    assert!(h.closed.contains(&sb));
}

#[test]
fn acknowledged_messages_are_not_resent() {
    let mut h = bob();
    h.s.send_im("alice@example.com", "delivered", h.now)
        .unwrap();
    let sb = joined_board(&mut h);
    h.frames(sb);
    h.feed(sb, b"ACK 3\r\n");
    h.s.handle_connection_lost(sb, "reset".into(), h.now);
    h.drain();
    assert!(h.take_events().is_empty());
    assert_eq!(h.connects.len(), 2, "no new switchboard");
}

#[test]
fn a_nak_or_a_missing_ack_is_reported() {
    let mut h = bob();
    h.s.send_im("alice@example.com", "first", h.now).unwrap();
    h.s.send_im("alice@example.com", "second", h.now).unwrap();
    let sb = joined_board(&mut h);
    h.frames(sb);
    h.feed(sb, b"NAK 3\r\n");
    h.advance(ACK_TIMEOUT);
    let events = h.take_events();
    let texts: Vec<&str> = events
        .iter()
        .map(|e| match e {
            ChatEvent::Undelivered { text, .. } => text.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(texts, ["first", "second"]);
}

#[test]
fn an_offline_contact_at_msnp12_gets_the_text_stored_with_the_passport_ticket() {
    let mut h = bob();
    h.s.send_im("alice@example.com", "are you there?", h.now)
        .unwrap();
    h.s.send_nudge("alice@example.com", h.now).unwrap();
    let sb = h.open_board("cookie");
    h.feed(sb, b"USR 1 OK bob@example.com Bob\r\n217 2\r\n");
    assert_eq!(
        h.lines(sb),
        [
            "USR 1 bob@example.com cookie",
            "CAL 2 alice@example.com",
            "OUT"
        ]
    );
    assert!(h.closed.contains(&sb));
    assert_eq!(h.http.len(), 1);
    let store = String::from_utf8_lossy(&h.http[0].1.body).into_owned();
    assert!(h.http[0].1.url.ends_with("/OimWS/oim.asmx"));
    assert!(store.contains("passport=\"t="), "{store}");
    assert!(store.contains("msnpVer=\"MSNP12\""), "{store}");
    let events = h.take_events();
    assert!(
        matches!(&events[..], [ChatEvent::Undelivered { text, .. }] if text == "(nudge)"),
        "{events:?}"
    );
}

#[test]
fn a_refused_switchboard_request_is_reported() {
    let mut h = bob();
    h.s.send_im("alice@example.com", "hello", h.now).unwrap();
    let trid = h.xfr_trid();
    h.feed(h.ns, format!("500 {trid}\r\n").as_bytes());
    assert!(
        matches!(&h.take_events()[..], [ChatEvent::Undelivered { text, reason, .. }]
        if text == "hello" && reason.contains("error 500"))
    );
    assert!(h.lines(h.ns).is_empty(), "not asked again");
}

/// 913 is what the NS answers until our first `CHG`: ask again a few times, waiting twice
/// as long each time, then report.
#[test]
fn a_switchboard_refused_before_going_online_is_asked_for_again() {
    let mut h = bob();
    h.s.send_im("alice@example.com", "early", h.now).unwrap();
    let trid = h.xfr_trid();
    h.feed(h.ns, format!("913 {trid}\r\n").as_bytes());
    assert!(h.take_events().is_empty());
    h.advance(XFR_RETRY);
    let sb = joined_board(&mut h);
    assert_eq!(body(h.frames(sb)[0].payload.as_ref().unwrap()), "early");

    h.s.send_im("carol@example.com", "never", h.now).unwrap();
    let mut wait = XFR_RETRY;
    for _ in 0..MAX_XFR_REFUSALS {
        let trid = h.xfr_trid();
        h.feed(h.ns, format!("913 {trid}\r\n").as_bytes());
        assert!(h.take_events().is_empty());
        h.advance(wait / 2);
        assert!(h.lines(h.ns).is_empty(), "asked again too soon");
        h.advance(wait / 2);
        wait *= 2;
    }
    let trid = h.xfr_trid();
    h.feed(h.ns, format!("913 {trid}\r\n").as_bytes());
    assert!(
        matches!(&h.take_events()[..], [ChatEvent::Undelivered { text, reason, .. }]
        if text == "never" && reason.contains("appear offline"))
    );
    h.advance(SETUP_TIMEOUT);
    assert!(h.lines(h.ns).is_empty(), "not asked again");
}

/// While the server has us invisible, 913 is final: the text is stored as an offline message,
/// the nudge reported at once, nothing asked again.
#[test]
fn a_switchboard_refused_while_invisible_is_final() {
    let mut h = bob();
    h.s.set_status(crate::wire::Status::Hidden, "");
    h.feed(h.ns, b"CHG 50 HDN 0\r\n");
    h.lines(h.ns);
    h.s.send_im("alice@example.com", "hush", h.now).unwrap();
    h.s.send_nudge("alice@example.com", h.now).unwrap();
    let trid = h.xfr_trid();
    h.feed(h.ns, format!("913 {trid}\r\n").as_bytes());
    assert_eq!(h.http.len(), 1);
    assert!(h.http[0].1.url.ends_with("/OimWS/oim.asmx"));
    assert!(
        matches!(&h.take_events()[..], [ChatEvent::Undelivered { text, reason, .. }]
        if text == "(nudge)" && reason.contains("appear offline"))
    );
    h.advance(SETUP_TIMEOUT);
    assert!(h.lines(h.ns).is_empty(), "not asked again");
}

#[test]
fn a_contact_who_never_joins_times_out_and_the_text_is_reported() {
    let mut h = bob();
    h.s.send_im("alice@example.com", "hello", h.now).unwrap();
    let sb = h.open_board("cookie");
    h.feed(sb, b"USR 1 OK bob@example.com Bob\r\nCAL 2 RINGING 123\r\n");
    h.advance(SETUP_TIMEOUT);
    // Tried on a second switchboard, which also times out.
    let sb2 = h.open_board("cookie2");
    assert_ne!(sb, sb2);
    h.advance(SETUP_TIMEOUT);
    assert!(
        matches!(&h.take_events()[..], [ChatEvent::Undelivered { text, .. }] if text == "hello")
    );
}

#[test]
fn idle_conversations_are_left_and_reopened_on_demand() {
    let mut h = bob();
    h.s.open_conversation("alice@example.com", h.now).unwrap();
    let sb = joined_board(&mut h);
    h.frames(sb);
    h.advance(IDLE_TIMEOUT - Duration::from_secs(1));
    assert!(!h.closed.contains(&sb));
    h.advance(Duration::from_secs(1));
    assert!(h.closed.contains(&sb));
    assert_eq!(h.lines(sb), ["OUT"]);
    h.s.send_im("alice@example.com", "back", h.now).unwrap();
    let sb2 = joined_board(&mut h);
    assert_eq!(body(h.frames(sb2)[0].payload.as_ref().unwrap()), "back");
}

#[test]
fn an_open_switchboard_is_reused() {
    let mut h = bob();
    h.s.open_conversation("alice@example.com", h.now).unwrap();
    let sb = joined_board(&mut h);
    h.frames(sb);
    h.s.open_conversation("Alice@Example.com", h.now).unwrap();
    h.s.send_im("alice@example.com", "same board", h.now)
        .unwrap();
    assert_eq!(h.frames(sb).len(), 1);
    assert_eq!(h.connects.len(), 2);
}

#[test]
fn typing_lapses_without_a_fresh_notice() {
    let mut h = bob();
    h.feed(h.ns, &ns_chunk("msnp12/bob-ns.raw.txt", "RNG "));
    let sb = h.connect_last();
    h.feed(sb, b"IRO 1 1 1 alice@example.com Alice 0\r\nANS 1 OK\r\n");
    assert!(h.lines(sb)[0].starts_with("ANS 1 bob@example.com "));
    assert_eq!(
        h.take_events(),
        [ChatEvent::Opened {
            with: "alice@example.com".into()
        }],
        "Alice opened a conversation"
    );
    let typing = crate::message::typing_payload("alice@example.com");
    let mut msg = format!("MSG alice@example.com Alice {}\r\n", typing.len()).into_bytes();
    msg.extend_from_slice(&typing);
    h.feed(sb, &msg);
    h.advance(Duration::from_secs(4));
    h.feed(sb, &msg);
    h.advance(Duration::from_secs(4));
    assert_eq!(h.take_events().len(), 1, "still typing");
    h.advance(Duration::from_secs(2));
    assert_eq!(
        h.take_events(),
        [ChatEvent::Typing {
            from: "alice@example.com".into(),
            typing: false
        }]
    );
    // Our own typing goes out unacknowledged, and only to a joined switchboard.
    assert_eq!(h.s.send_typing("alice@example.com", h.now), TYPING_RESEND);
    assert_eq!(h.lines(sb), ["MSG 2 U 88"]);
    assert_eq!(h.s.send_typing("carol@example.com", h.now), TYPING_RESEND);
    assert_eq!(h.connects.len(), 2, "typing opens no switchboard");
}

#[test]
fn malformed_messages_from_a_peer_never_break_the_conversation() {
    let mut h = bob();
    h.s.open_conversation("alice@example.com", h.now).unwrap();
    let sb = joined_board(&mut h);
    h.frames(sb);
    let payloads: Vec<&[u8]> = vec![
        b"",
        b"no headers at all",
        b"Content-Type: text/plain\r\n\r\n",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=klingon\r\n\r\nqapla'",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nbad \xff\xfe utf8",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nX-MMS-IM-Format: FN=%22%3E%3Cscript%3E; EF=BIUSX; CO=zzzzzzzzz; CS=zz\r\n\r\n<b>x</b>",
        b"MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: bob@example.com\r\n\r\n\x00\x01",
        b"MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 99999999999999999999\r\n",
        b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\n\r\n",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nMessage-ID: {x}\r\nChunk: 5\r\n\r\norphan",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nMessage-ID: {x}\r\nChunks: 999999\r\n\r\nbig",
        b"\r\n\r\n\r\n",
    ];
    for payload in payloads {
        let mut msg = format!("MSG alice@example.com Alice {}\r\n", payload.len()).into_bytes();
        msg.extend_from_slice(payload);
        h.feed(sb, &msg);
    }
    // Wrong lengths, bad addresses and unknown verbs are skipped too.
    h.feed(sb, b"MSG alice@example.com Alice x\r\nMSG  \r\nJOI\r\nBYE %00\r\nIRO 1 9 1 a b\r\nZZZ 1 2 3\r\n");
    let events = h.take_events();
    let htmls: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Message { html, .. } => Some(html.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(htmls.len(), 4, "{events:?}");
    assert!(htmls[1].contains("could not be decoded"));
    assert!(htmls[2].contains('\u{fffd}') && htmls[2].contains("could not be decoded"));
    assert!(htmls[3].contains("&lt;b&gt;x&lt;/b&gt;") && !htmls[3].contains("<script"));
    // Still usable.
    h.s.send_im("alice@example.com", "still here", h.now)
        .unwrap();
    assert_eq!(h.frames(sb).len(), 1);
}

#[test]
fn conversations_and_queues_are_bounded() {
    let mut h = bob();
    for i in 0..MAX_BOARDS + 8 {
        let _ = h.s.send_im(&format!("user{i}@example.com"), "hi", h.now);
    }
    assert!(h.s.switchboards.boards.len() <= MAX_BOARDS);
    let refused = h
        .take_events()
        .iter()
        .filter(|e| matches!(e, ChatEvent::Undelivered { .. }))
        .count();
    assert_eq!(refused, 0, "refused sends fail at once instead");
    let mut h = bob();
    for i in 0..MAX_QUEUE + 5 {
        h.s.send_im("alice@example.com", &format!("m{i}"), h.now)
            .unwrap();
    }
    let reported = h
        .take_events()
        .iter()
        .filter(|e| matches!(e, ChatEvent::Undelivered { .. }))
        .count();
    assert_eq!(reported, 5);
}

#[test]
fn bad_addresses_and_signed_out_sessions_are_refused() {
    let mut h = bob();
    for who in ["", "no-at-sign", "a b@example.com", "bob@example.com"] {
        assert_eq!(
            h.s.send_im(who, "x", h.now),
            Err(SendError::InvalidAddress),
            "{who:?}"
        );
    }
    h.s.sign_out();
    assert_eq!(
        h.s.send_im("alice@example.com", "x", h.now),
        Err(SendError::NotSignedIn)
    );
}

/// Bob signs in at MSNP15 with an offline message waiting (recorded): it is fetched, shown with
/// its original time, then deleted; announced again, it is not fetched twice.
#[test]
fn offline_messages_are_fetched_shown_in_order_and_deleted_after() {
    let dir = "extra-oim";
    let mut h = H::sign_in(dir, "bob", 15, BOB_GUID);
    let announcement = transcript::load(&format!("{dir}/bob-ns.raw.txt"))
        .chunks
        .into_iter()
        .find(|(s, b)| *s && String::from_utf8_lossy(b).contains("<M>"))
        .unwrap()
        .1;
    h.feed(h.ns, &announcement);
    assert_eq!(h.http.len(), 1);
    let request = &h.http[0].1;
    assert!(request.url.ends_with("/rsi/rsi.asmx"));
    let body_text = String::from_utf8_lossy(&request.body).into_owned();
    assert!(body_text.contains("<messageId>831F2871-4EDA-488A-9B7F-66800ED46E25</messageId>"));
    let recorded = h
        .exchanges
        .iter()
        .find(|x| x.label == "RSI GetMessage")
        .unwrap()
        .raw_response();
    h.answer_http(&recorded);
    let events = h.take_events();
    assert_eq!(
        events,
        [ChatEvent::Message {
            conversation: Conversation::Im("alice@example.com".into()),
            from: "alice@example.com".into(),
            friendly: "Alice".into(),
            html: "offline hello to bob ✉".into(),
            timestamp: Some(1_795_559_337),
        }]
    );
    // Deleted only now, after it was shown.
    assert_eq!(h.http.len(), 1);
    let delete = String::from_utf8_lossy(&h.http[0].1.body).into_owned();
    assert!(delete.contains("<DeleteMessages"));
    assert!(delete.contains("831F2871-4EDA-488A-9B7F-66800ED46E25"));
    let recorded = h
        .exchanges
        .iter()
        .find(|x| x.label == "RSI DeleteMessages")
        .unwrap()
        .raw_response();
    h.answer_http(&recorded);
    h.feed(h.ns, &announcement);
    assert!(h.http.is_empty(), "not fetched twice");
}

/// Alice (MSNP15) writes to Bob who is offline: `CAL` fails with 217 and the text goes to the
/// OIM store, which asks for a lock key first.
#[test]
fn a_text_for_an_offline_contact_is_stored_as_an_offline_message() {
    let mut h = H::sign_in("extra-oim", "alice", 15, ALICE_GUID);
    h.s.send_im("bob@example.com", "offline hello to bob ✉", h.now)
        .unwrap();
    let sb = h.open_board("cookie");
    h.feed(sb, b"USR 1 OK alice@example.com Alice\r\n217 2\r\n");
    assert_eq!(h.http.len(), 1);
    let first = String::from_utf8_lossy(&h.http[0].1.body).into_owned();
    assert!(h.http[0].1.url.ends_with("/OimWS/oim.asmx"));
    assert!(first.contains("lockkey=\"\""));
    assert!(first.contains("b2ZmbGluZSBoZWxsbyB0byBib2Ig4pyJ"));
    let fault = "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\
        <soap:Body><soap:Fault><faultcode xmlns:q0=\"http://messenger.msn.com/ws/2004/09/oim/\">q0:AuthenticationFailed</faultcode>\
        <faultstring>Exception</faultstring><detail><LockKeyChallenge xmlns=\"http://messenger.msn.com/ws/2004/09/oim/\">1850937852</LockKeyChallenge>\
        </detail></soap:Fault></soap:Body></soap:Envelope>";
    h.answer_http(
        format!(
            "HTTP/1.1 500 Error\r\nContent-Length: {}\r\n\r\n{fault}",
            fault.len()
        )
        .as_bytes(),
    );
    assert_eq!(h.http.len(), 1, "sent again with a lock key");
    let again = String::from_utf8_lossy(&h.http[0].1.body).into_owned();
    let expected = crate::auth::challenge::answer("1850937852", Dialect::new(15))
        .unwrap()
        .1;
    assert!(again.contains(&format!("lockkey=\"{expected}\"")));
    let recorded = testlog::load("extra-oim")
        .into_iter()
        .find(|x| x.label == "OIM Store2")
        .unwrap()
        .raw_response();
    h.answer_http(&recorded);
    assert!(
        matches!(&h.take_events()[..], [ChatEvent::Notice { conversation, text }]
        if *conversation == Conversation::Im("bob@example.com".into()) && text.contains("stored"))
    );
    // A second message reuses the lock key and the run, next in sequence.
    h.s.send_im("bob@example.com", "second", h.now).unwrap();
    let sb = h.open_board("cookie2");
    h.feed(sb, b"USR 1 OK alice@example.com Alice\r\n217 2\r\n");
    let second = String::from_utf8_lossy(&h.http[0].1.body).into_owned();
    assert!(second.contains(&format!("lockkey=\"{expected}\"")));
    assert!(second.contains("<MessageNumber>2</MessageNumber>"));
}

#[test]
fn a_failed_offline_store_is_reported_with_the_text() {
    let mut h = H::sign_in("extra-oim", "alice", 15, ALICE_GUID);
    h.s.send_im("bob@example.com", "lost?", h.now).unwrap();
    let sb = h.open_board("cookie");
    h.feed(sb, b"USR 1 OK alice@example.com Alice\r\n217 2\r\n");
    let (id, _) = h.http.remove(0);
    h.s.handle_http_failed(id, "connection refused".into(), h.now);
    h.drain();
    assert!(
        matches!(&h.take_events()[..], [ChatEvent::Undelivered { text, .. }] if text == "lost?")
    );
}
