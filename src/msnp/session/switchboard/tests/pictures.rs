//! Display pictures through the session: a contact's announced in presence and fetched over a
//! switchboard opened for it (no conversation shown), ours advertised in `CHG` and served; the
//! contact's side is a separate `P2p` part.

use std::sync::Arc;

use super::*;
use crate::p2p::msnobj::kind::DISPLAY_PICTURE;
use crate::p2p::{self, MsnObject, P2p, SbP2p};
use crate::session::PictureEvent;
use crate::wire::percent;

const BOB: &str = "bob@example.com";
const ALICE: &str = "alice@example.com";

/// The contact's P2P part, with a deterministic random source.
pub(super) struct Peer {
    pub(super) p2p: P2p,
    pub(super) picture: Option<(String, Arc<[u8]>)>,
    pub(super) state: u32,
    /// Alice left the switchboard (`OUT`).
    pub(super) left: bool,
}

impl Peer {
    pub(super) fn new() -> Peer {
        let mut state = 0x1234_5678u32;
        let p2p = P2p::new(p2p::Config::new(BOB), &mut || xorshift(&mut state));
        Peer {
            p2p,
            picture: None,
            state,
            left: false,
        }
    }

    /// Hands the peer Alice's `MSG … D` frames (noting an `OUT`); returns its answers as
    /// switchboard bytes.
    pub(super) fn exchange(&mut self, frames: &[Frame], now: Instant) -> Vec<u8> {
        for frame in frames {
            let line = line(frame);
            if line == "OUT" {
                self.left = true;
                continue;
            }
            let payload = frame.payload.as_deref().unwrap_or_default();
            if line.starts_with("MSG ") && SbP2p::parse(payload).is_none() {
                continue; // a text of the conversation
            }
            assert!(
                line.starts_with("MSG ")
                    && line.ends_with(&format!(
                        " D {}",
                        frame.payload.as_ref().map_or(0, Vec::len)
                    )),
                "{line}"
            );
            let p2p = SbP2p::parse(frame.payload.as_deref().unwrap()).expect("a P2P payload");
            assert_eq!(p2p.dest.as_deref(), Some(BOB));
            let picture = self.picture.clone();
            let store = move |sha1d: &str| {
                picture
                    .as_ref()
                    .filter(|(s, _)| s == sha1d)
                    .map(|(_, d)| Arc::clone(d))
            };
            let state = &mut self.state;
            self.p2p
                .handle_packet(ALICE, &p2p.packet, now, &store, &mut || xorshift(state))
                .unwrap();
        }
        let mut bytes = Vec::new();
        while let Some(t) = self.p2p.poll_transmit(now) {
            let payload = p2p::sb_payload(&t.peer, None, &t.packet).unwrap();
            bytes.extend(format!("MSG {BOB} Bob {}\r\n", payload.len()).as_bytes());
            bytes.extend(payload);
        }
        bytes
    }

    /// Answers Alice's frames on `sb` for at most `rounds` rounds, until she sends none.
    pub(super) fn answer_until_quiet(&mut self, h: &mut Sim, sb: ConnId, rounds: usize) {
        for _ in 0..rounds {
            let frames = h.frames(sb);
            if frames.is_empty() {
                break;
            }
            let answer = self.exchange(&frames, h.now);
            h.feed_on(sb, &answer);
        }
    }
}

/// Feeds Bob's presence carrying `object`, checks the picture is announced (and clears the
/// events); returns the presence line.
fn announce(h: &mut Sim, object: &MsnObject) -> String {
    let mut encoded = Vec::new();
    percent::encode_into(&object.xml, &mut encoded);
    let nln = format!(
        "NLN NLN {BOB} Bob 1342177280 {}\r\n",
        String::from_utf8(encoded).unwrap()
    );
    h.feed_on(h.ns(), nln.as_bytes());
    assert_eq!(
        h.pictures,
        [PictureEvent::Announced {
            email: BOB.into(),
            sha1d: Some(object.sha1d.clone()),
        }]
    );
    h.pictures.clear();
    nln
}

pub(super) fn xorshift(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

/// Alice signed in, and a board with Bob in it opened for the picture fetch.
fn fetch_setup(version: u32, guid: &str, data: &[u8]) -> (Sim, ConnId, MsnObject) {
    let dir = format!("msnp{version}");
    let mut h = Sim::sign_in(&dir, "alice", version, guid);
    let object = MsnObject::new(BOB, DISPLAY_PICTURE, "TFR2C2.tmp", "", data);
    let nln = announce(&mut h, &object);
    // Repeated presence with the same picture is not announced again.
    h.feed_on(h.ns(), nln.as_bytes());
    assert!(h.pictures.is_empty());
    assert!(h.session.fetch_display_picture(BOB, h.now));
    let sb = join_board(&mut h, "cookie");
    (h, sb, object)
}

/// The board Alice asked for to fetch Bob's picture, signed in and joined by Bob.
fn join_board(h: &mut Sim, cookie: &str) -> ConnId {
    let sb = h.open_board(cookie);
    h.feed_on(sb, b"USR 1 OK alice@example.com Alice\r\n");
    assert!(h.lines(sb).iter().any(|l| l == &format!("CAL 2 {BOB}")));
    h.feed_on(sb, format!("JOI {BOB} Bob 1342177280\r\n").as_bytes());
    sb
}

fn fetch_round_trip(version: u32, guid: &str) {
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (mut h, sb, object) = fetch_setup(version, guid, &data);
    let mut bob = Peer::new();
    bob.answer_until_quiet(&mut h, sb, 20);
    assert_eq!(
        h.pictures,
        [PictureEvent::Failed {
            email: BOB.into(),
            sha1d: object.sha1d.clone(),
        }],
        "Bob serves no picture: declined"
    );
    h.pictures.clear();
    assert!(
        bob.left,
        "the board opened for the picture is left once the fetch ends"
    );
    bob.left = false;
    bob.picture = Some((object.sha1d.clone(), data.clone().into()));
    assert!(h.session.fetch_display_picture(BOB, h.now));
    let sb = join_board(&mut h, "cookie2");
    bob.answer_until_quiet(&mut h, sb, 40);
    assert_eq!(
        h.pictures,
        [PictureEvent::Received {
            email: BOB.into(),
            sha1d: object.sha1d,
            data,
        }]
    );
    assert!(h.take_chat_events().is_empty(), "no conversation shown");
    assert_eq!(bob.p2p.sessions(), 0, "Bob's session closed by BYE");
    assert!(bob.left, "the board is left once the picture arrived");
}

#[test]
fn a_contacts_picture_is_fetched_on_a_board_of_its_own_at_msnp12() {
    fetch_round_trip(12, ALICE_GUID);
}

#[test]
fn a_contacts_picture_is_fetched_on_a_board_of_its_own_at_msnp18() {
    fetch_round_trip(18, ALICE_GUID);
}

#[test]
fn a_contact_going_offline_ends_the_fetch_and_frees_its_slot() {
    let (mut h, sb, object) = fetch_setup(12, ALICE_GUID, b"picture");
    assert!(!h.frames(sb).is_empty(), "INVITE sent");
    h.feed_on(h.ns(), format!("FLN {BOB}\r\n").as_bytes());
    assert_eq!(
        h.pictures,
        [PictureEvent::Failed {
            email: BOB.into(),
            sha1d: object.sha1d,
        }]
    );
    assert_eq!(h.session.pictures.p2p.sessions(), 0);
}

#[test]
fn our_picture_is_advertised_in_chg_and_served_on_request() {
    let mut h = Sim::sign_in("msnp12", "alice", 12, ALICE_GUID);
    let data = b"\x89PNG our picture".to_vec();
    h.session.set_display_picture(Some(&data)).unwrap();
    let chg = h
        .lines(h.ns())
        .into_iter()
        .find(|l| l.starts_with("CHG "))
        .expect("CHG sent again");
    let encoded = chg.rsplit(' ').next().unwrap();
    let object = MsnObject::parse(&percent::decode(encoded.as_bytes())).unwrap();
    assert_eq!(object.creator, ALICE);
    assert!(object.matches(&data));
    assert_eq!(object.sha1c, Some(object.computed_sha1c()));

    // Bob invites us into a switchboard and asks for it.
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
    assert!(h.lines(sb).iter().all(|l| l.starts_with("ANS ")));
    let mut bob = Peer::new();
    let state = &mut bob.state;
    bob.p2p
        .request_object(ALICE, &object, h.now, &mut || xorshift(state))
        .unwrap();
    let mut got = None;
    let mut answer = bob.exchange(&[], h.now);
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

    // Removing the picture advertises none and serves nothing more.
    h.session.set_display_picture(None).unwrap();
    let chg = h.lines(h.ns()).into_iter().find(|l| l.starts_with("CHG "));
    assert!(chg.unwrap().ends_with(" 0"));
    let state = &mut bob.state;
    bob.p2p
        .request_object(ALICE, &object, h.now, &mut || xorshift(state))
        .unwrap();
    let mut answer = bob.exchange(&[], h.now);
    for _ in 0..10 {
        h.feed_on(sb, &answer);
        let frames = h.frames(sb);
        answer = bob.exchange(&frames, h.now);
    }
    assert!(matches!(
        bob.p2p.poll_event(),
        Some(p2p::P2pEvent::Declined { .. })
    ));
}

#[test]
fn a_picture_changed_mid_fetch_is_fetched_too() {
    let (mut h, sb, old) = fetch_setup(12, ALICE_GUID, b"old picture");
    let data = b"new picture".to_vec();
    let new = MsnObject::new(BOB, DISPLAY_PICTURE, "TFR2C2.tmp", "", &data);
    announce(&mut h, &new);
    assert!(h.session.fetch_display_picture(BOB, h.now));
    let mut bob = Peer::new();
    bob.picture = Some((new.sha1d.clone(), data.clone().into()));
    bob.answer_until_quiet(&mut h, sb, 20);
    assert_eq!(
        h.pictures,
        [
            PictureEvent::Failed {
                email: BOB.into(),
                sha1d: old.sha1d,
            },
            PictureEvent::Received {
                email: BOB.into(),
                sha1d: new.sha1d,
                data,
            }
        ]
    );
}

#[test]
fn a_picture_board_the_user_starts_talking_on_is_kept() {
    let data = b"picture".to_vec();
    let (mut h, sb, object) = fetch_setup(12, ALICE_GUID, &data);
    h.session.send_im(BOB, "hi", h.now).unwrap();
    let frames = h.frames(sb);
    let text = frames
        .iter()
        .map(line)
        .find(|l| l.starts_with("MSG ") && l.contains(" A "))
        .expect("the text sent");
    let trid = text.split(' ').nth(1).unwrap();
    h.feed_on(sb, format!("ACK {trid}\r\n").as_bytes());
    let mut bob = Peer::new();
    bob.picture = Some((object.sha1d.clone(), data.clone().into()));
    let answer = bob.exchange(&frames, h.now);
    h.feed_on(sb, &answer);
    bob.answer_until_quiet(&mut h, sb, 20);
    assert!(matches!(h.pictures[..], [PictureEvent::Received { .. }]));
    assert!(!bob.left, "the conversation keeps its switchboard");
}
