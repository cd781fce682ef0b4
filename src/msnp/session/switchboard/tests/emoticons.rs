//! Custom emoticons through the session: a contact's declaration comes out before the text
//! (which is never held back), the image is fetched over P2P on the conversation's switchboard
//! and not again once known; ours are declared before the text and served on request.

use std::sync::Arc;

use super::pictures::{xorshift, Peer};
use super::*;
use crate::message::emoticons::payloads;
use crate::p2p::msnobj::kind::EMOTICON;
use crate::p2p::{self, MsnObject};
use crate::session::emoticons::{Declared, EmoticonEvent};
use crate::wire::percent;

const BOB: &str = "bob@example.com";
const ALICE: &str = "alice@example.com";

/// Alice signed in at `version`, in a conversation Bob opened; returns its switchboard.
fn invited(version: u32) -> (Sim, ConnId) {
    let mut h = Sim::sign_in(&format!("msnp{version}"), "alice", version, ALICE_GUID);
    h.feed_on(
        h.ns(),
        format!("RNG 11752013 127.0.0.1:1864 CKI 1.2.3 {BOB} Bob\r\n").as_bytes(),
    );
    let sb = h.connect_last();
    h.feed_on(
        sb,
        format!("IRO 1 1 1 {BOB} Bob\r\nANS 1 OK\r\n").as_bytes(),
    );
    h.take_chat_events();
    h.frames(sb);
    (h, sb)
}

/// Bob's `MSG` carrying `payload`.
fn from_bob(payload: &[u8]) -> Vec<u8> {
    let mut raw = format!("MSG {BOB} Bob {}\r\n", payload.len()).into_bytes();
    raw.extend_from_slice(payload);
    raw
}

fn text(body: &str) -> Vec<u8> {
    from_bob(
        format!("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{body}")
            .as_bytes(),
    )
}

fn declared_and_fetched(version: u32) {
    let (mut h, sb) = invited(version);
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 13 % 251) as u8).collect();
    let object = MsnObject::new(BOB, EMOTICON, "TFR2C2.tmp", "", &data);
    let declaration = payloads(&[("(tux)", &object)]).remove(0);
    h.feed_on(sb, &from_bob(&declaration));
    h.feed_on(sb, &text("look (tux)"));
    let conversation = Conversation::Im(BOB.into());
    assert_eq!(
        h.emoticons,
        [(
            0,
            EmoticonEvent::Declared {
                conversation: conversation.clone(),
                from: BOB.into(),
                emoticons: vec![Declared {
                    shortcut: "(tux)".into(),
                    sha1d: object.sha1d.clone(),
                }],
            }
        )],
        "declared before the text"
    );
    assert!(
        matches!(&h.take_chat_events()[..], [ChatEvent::Message { html, .. }] if html.contains("look (tux)"))
    );
    h.emoticons.clear();

    h.session
        .fetch_emoticon(&conversation, BOB, "(tux)", &object.sha1d, h.now);
    let mut bob = Peer::new();
    bob.picture = Some((object.sha1d.clone(), data.clone().into()));
    bob.answer_until_quiet(&mut h, sb, 40);
    assert_eq!(
        h.emoticons,
        [(
            0,
            EmoticonEvent::Received {
                conversation: conversation.clone(),
                shortcut: "(tux)".into(),
                data: Arc::from(data.as_slice()),
            }
        )]
    );
    assert_eq!(bob.p2p.sessions(), 0, "closed by BYE");
    h.emoticons.clear();

    // Used again: the image is known, nothing is fetched.
    h.feed_on(sb, &from_bob(&declaration));
    h.session
        .fetch_emoticon(&conversation, BOB, "(tux)", &object.sha1d, h.now);
    h.drain();
    assert!(matches!(
        &h.emoticons[..],
        [_, (_, EmoticonEvent::Received { .. })]
    ));
    assert!(h.frames(sb).is_empty(), "no INVITE");
}

#[test]
fn a_contacts_emoticon_is_declared_before_the_text_and_fetched_once_at_msnp12() {
    declared_and_fetched(12);
}

#[test]
fn a_contacts_emoticon_is_declared_before_the_text_and_fetched_once_at_msnp18() {
    declared_and_fetched(18);
}

#[test]
fn an_emoticon_that_cannot_be_had_is_answered_as_failed() {
    let (mut h, sb) = invited(12);
    let object = MsnObject::new(BOB, EMOTICON, "TFR2C2.tmp", "", b"tux");
    let conversation = Conversation::Im(BOB.into());
    // Not declared: failed at once.
    h.session
        .fetch_emoticon(&conversation, BOB, "(tux)", &object.sha1d, h.now);
    h.drain();
    assert!(matches!(
        &h.emoticons[..],
        [(_, EmoticonEvent::Failed { .. })]
    ));
    h.emoticons.clear();
    // Declared by someone else as Bob's: not taken.
    let foreign = MsnObject::new("carol@example.com", EMOTICON, "x", "", b"tux");
    h.feed_on(sb, &from_bob(&payloads(&[("(c)", &foreign)]).remove(0)));
    assert!(h.emoticons.is_empty());
    // Declined by Bob, and the session ending with a request open: one answer each.
    h.feed_on(sb, &from_bob(&payloads(&[("(tux)", &object)]).remove(0)));
    h.emoticons.clear();
    h.session
        .fetch_emoticon(&conversation, BOB, "(tux)", &object.sha1d, h.now);
    Peer::new().answer_until_quiet(&mut h, sb, 20);
    assert!(matches!(
        &h.emoticons[..],
        [(_, EmoticonEvent::Failed { .. })]
    ));
    h.emoticons.clear();
    h.session
        .fetch_emoticon(&conversation, BOB, "(tux)", &object.sha1d, h.now);
    h.session.sign_out();
    h.drain();
    assert!(matches!(
        &h.emoticons[..],
        [(_, EmoticonEvent::Failed { .. })]
    ));
}

#[test]
fn our_emoticons_are_declared_before_the_text_and_served() {
    let mut h = Sim::sign_in("msnp12", "alice", 12, ALICE_GUID);
    let data = b"GIF89a our cat".to_vec();
    let conversation = Conversation::Im(BOB.into());
    h.session
        .send_emoticons(&conversation, &[("(cat)", &data), ("", b"x")], h.now)
        .unwrap();
    h.session.send_im(BOB, "a (cat)", h.now).unwrap();
    let sb = h.open_board("cookie");
    h.feed_on(sb, b"USR 1 OK alice@example.com Alice\r\n");
    h.frames(sb);
    h.feed_on(sb, format!("JOI {BOB} Bob 1342177280\r\n").as_bytes());
    let frames = h.frames(sb);
    assert_eq!(
        frames.len(),
        2,
        "{:?}",
        frames.iter().map(line).collect::<Vec<_>>()
    );
    assert!(line(&frames[0]).starts_with("MSG 3 N "));
    let declaration = crate::mime::Mime::parse(frames[0].payload.as_deref().unwrap());
    assert_eq!(
        declaration.content_type().as_deref(),
        Some("text/x-mms-emoticon")
    );
    let list = crate::message::emoticons::parse(&declaration.body).unwrap();
    assert_eq!(list.emoticons.len(), 1);
    let object = list.emoticons[0].object.clone();
    assert_eq!((object.creator.as_str(), object.kind), (ALICE, EMOTICON));
    assert!(object.matches(&data));
    assert!(body(frames[1].payload.as_deref().unwrap()).contains("a (cat)"));

    // Bob asks for exactly that object and gets it.
    let mut bob = Peer::new();
    let state = &mut bob.state;
    bob.p2p
        .request_object(ALICE, &object, h.now, &mut || xorshift(state))
        .unwrap();
    let mut answer = bob.exchange(&[], h.now);
    let mut got = None;
    for _ in 0..20 {
        h.feed_on(sb, &answer);
        let frames = h.frames(sb);
        answer = bob.exchange(&frames, h.now);
        if let Some(event) = bob.p2p.poll_event() {
            got = Some(event);
            break;
        }
    }
    match got {
        Some(p2p::P2pEvent::ObjectReceived { data: d, .. }) => assert_eq!(d, data),
        other => panic!("Bob got {other:?}"),
    }
    // The percent-encoded form Pidgin may send reads the same.
    let mut encoded = Vec::new();
    percent::encode_url_into(&object.xml, &mut encoded);
    let list = crate::message::emoticons::parse(
        format!("(cat)\t{}", String::from_utf8(encoded).unwrap()).as_bytes(),
    )
    .unwrap();
    assert_eq!(list.emoticons[0].object.sha1d, object.sha1d);
}

#[test]
fn a_conversation_is_given_a_bounded_number_of_shortcuts() {
    let (mut h, sb) = invited(12);
    let objects: Vec<(String, MsnObject)> = (0..200)
        .map(|i| {
            let data = format!("emoticon {i}");
            let object = MsnObject::new(BOB, EMOTICON, "TFR2C2.tmp", "", data.as_bytes());
            (format!("({i})"), object)
        })
        .collect();
    for round in 0..2 {
        for batch in objects.chunks(16) {
            let refs: Vec<(&str, &MsnObject)> =
                batch.iter().map(|(s, o)| (s.as_str(), o)).collect();
            for payload in payloads(&refs) {
                h.feed_on(sb, &from_bob(&payload));
            }
        }
        let given: Vec<String> = h
            .emoticons
            .drain(..)
            .flat_map(|(_, e)| match e {
                EmoticonEvent::Declared { emoticons, .. } => emoticons,
                other => panic!("{other:?}"),
            })
            .map(|d| d.shortcut)
            .collect();
        // The first 128 shortcuts, again when used again; none beyond.
        assert_eq!(given.len(), 128, "round {round}");
        assert_eq!(given[127], "(127)");
    }
}
