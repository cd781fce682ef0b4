//! Two `P2p` parts exchanging objects through the switchboard payload form, and hostile peers.

use super::*;
use std::collections::HashMap;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

/// A deterministic random source (xorshift).
fn rng(seed: u64) -> impl FnMut() -> u32 {
    let mut state = seed.wrapping_mul(2).wrapping_add(1);
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 16) as u32
    }
}

struct Peer {
    me: &'static str,
    p2p: P2p,
    objects: HashMap<String, Arc<[u8]>>,
    rng: Box<dyn FnMut() -> u32>,
}

impl Peer {
    fn new(me: &'static str, seed: u64) -> Peer {
        let mut rng = rng(seed);
        Peer {
            me,
            p2p: P2p::new(Config::new(me), &mut rng),
            objects: HashMap::new(),
            rng: Box::new(rng),
        }
    }

    /// Serves `data` as a display picture; returns the object as presence carries it.
    fn serve(&mut self, data: &[u8]) -> MsnObject {
        let object = MsnObject::new(self.me, msnobj::kind::DISPLAY_PICTURE, "0", "", data);
        self.objects.insert(object.sha1d.clone(), data.into());
        MsnObject::parse(&object.xml).unwrap()
    }

    fn receive(&mut self, from: &str, packet: &[u8], now: Instant) -> Result<(), P2pError> {
        let objects = &self.objects;
        let store = |sha1d: &str| objects.get(sha1d).cloned();
        self.p2p
            .handle_packet(from, packet, now, &store, &mut *self.rng)
    }

    fn request(&mut self, peer: &str, object: &MsnObject, now: Instant) -> u32 {
        self.p2p
            .request_object(peer, object, now, &mut *self.rng)
            .unwrap()
    }

    fn sent(&mut self, now: Instant) -> Vec<Transmit> {
        std::iter::from_fn(|| self.p2p.poll_transmit(now)).collect()
    }

    fn events(&mut self) -> Vec<P2pEvent> {
        std::iter::from_fn(|| self.p2p.poll_event()).collect()
    }
}

/// Sends what `sender` has for `receiver` through the switchboard payload form.
fn deliver(sender: &mut Peer, receiver: &mut Peer, now: Instant, log: &mut Vec<Packet>) -> bool {
    let out = sender.sent(now);
    for t in &out {
        assert_eq!(t.peer, receiver.me, "addressed to the other peer");
        let payload = sb_payload(&t.peer, None, &t.packet).expect("fits a MSG");
        let wire = SbP2p::parse(&payload).unwrap();
        assert_eq!(wire.dest.as_deref(), Some(receiver.me));
        let packet = Packet::parse(&wire.packet).unwrap();
        assert!(packet.payload.len() <= MAX_CHUNK);
        log.push(packet);
        receiver.receive(sender.me, &wire.packet, now).unwrap();
    }
    !out.is_empty()
}

/// Moves packets both ways until both are quiet; returns what each side sent.
fn pump(a: &mut Peer, b: &mut Peer, now: Instant) -> (Vec<Packet>, Vec<Packet>) {
    let mut log = (Vec::new(), Vec::new());
    for _ in 0..10_000 {
        let moved = deliver(a, b, now, &mut log.0);
        if !deliver(b, a, now, &mut log.1) && !moved {
            return log;
        }
    }
    panic!("the peers never went quiet");
}

fn picture(len: usize) -> Vec<u8> {
    let mut next = rng(7);
    (0..len).map(|_| next() as u8).collect()
}

fn pair() -> (Peer, Peer, Instant) {
    (
        Peer::new(ALICE, 1),
        Peer::new(BOB, 2),
        crate::test_time_origin(),
    )
}

#[test]
fn a_display_picture_crosses_byte_for_byte_through_chunks_and_acks() {
    let (mut alice, mut bob, now) = pair();
    let data = picture(5000);
    let object = bob.serve(&data);
    alice.request(BOB, &object, now);
    let (from_alice, from_bob) = pump(&mut alice, &mut bob, now);

    assert_eq!(
        alice.events(),
        vec![P2pEvent::ObjectReceived {
            peer: BOB.into(),
            creator: BOB.into(),
            sha1d: object.sha1d.clone(),
            data: data.clone(),
        }]
    );
    assert!(bob.events().is_empty());
    assert_eq!((alice.p2p.sessions(), bob.p2p.sessions()), (0, 0));
    assert_eq!((alice.p2p.reassembling(), bob.p2p.reassembling()), (0, 0));

    // Alice: INVITE, ack of 200 OK, ack of data preparation, ack of data, BYE.
    assert_eq!(from_alice.len(), 5);
    let invite = SlpMessage::parse(&from_alice[0].payload).unwrap();
    assert_eq!(invite.invite().unwrap().euf_guid, slp::EUF_GUID_OBJECT);
    assert_eq!(invite.invite().unwrap().app_id, 1);
    assert_eq!(
        invite.invite().unwrap().context,
        [object.xml.as_bytes(), b"\0"].concat()
    );
    let session = invite.invite().unwrap().session_id;
    assert!(from_alice[1..4].iter().all(|p| p.header.is_ack()));
    let bye = SlpMessage::parse(&from_alice[4].payload).unwrap();
    assert!(matches!(
        bye.start,
        StartLine::Request {
            method: Method::Bye,
            ..
        }
    ));
    assert_eq!(bye.call_id, invite.call_id);

    // Bob: ack of INVITE, 200 OK, data preparation, five data chunks, ack of BYE.
    assert_eq!(from_bob.len(), 9);
    assert!(from_bob[0].header.is_ack());
    assert_eq!(from_bob[0].header.ack_id, from_alice[0].header.id);
    assert_eq!(from_bob[0].header.ack_uid, from_alice[0].header.ack_id);
    let ok = SlpMessage::parse(&from_bob[1].payload).unwrap();
    assert_eq!(
        ok.start,
        StartLine::Response {
            code: 200,
            reason: "OK".into()
        }
    );
    assert_eq!(ok.session_id(), Some(session));
    let prep = &from_bob[2];
    assert_eq!(
        (
            prep.header.session_id,
            prep.header.flags,
            prep.payload.as_slice(),
            prep.app_id
        ),
        (session, 0, &[0u8; 4][..], 1)
    );
    let mut joined = Vec::new();
    for chunk in &from_bob[3..8] {
        assert_eq!(chunk.header.session_id, session);
        assert_eq!(chunk.header.flags, flags::MSN_OBJECT_DATA);
        assert_eq!(chunk.header.total_size, 5000);
        assert_eq!(chunk.header.offset, joined.len() as u64);
        assert_eq!(chunk.app_id, 1);
        joined.extend_from_slice(&chunk.payload);
    }
    assert_eq!(joined, data);
    assert_eq!(from_bob[3].payload.len(), MAX_CHUNK);
    let data_ack = &from_alice[3].header;
    assert_eq!(
        (data_ack.session_id, data_ack.ack_id, data_ack.ack_size),
        (session, from_bob[7].header.id, 5000)
    );
    assert!(from_bob[8].header.is_ack());
}

#[test]
fn pictures_cross_both_ways_at_once() {
    let (mut alice, mut bob, now) = pair();
    let (a_data, b_data) = (picture(1), picture(1202 * 3));
    let a_object = alice.serve(&a_data);
    let b_object = bob.serve(&b_data);
    alice.request(BOB, &b_object, now);
    bob.request(ALICE, &a_object, now);
    pump(&mut alice, &mut bob, now);
    assert!(
        matches!(&alice.events()[..], [P2pEvent::ObjectReceived { data, .. }] if *data == b_data)
    );
    assert!(
        matches!(&bob.events()[..], [P2pEvent::ObjectReceived { data, .. }] if *data == a_data)
    );
    assert_eq!((alice.p2p.sessions(), bob.p2p.sessions()), (0, 0));
}

#[test]
fn an_unknown_object_is_declined() {
    let (mut alice, mut bob, now) = pair();
    let object = MsnObject::new(BOB, msnobj::kind::DISPLAY_PICTURE, "0", "", b"gone");
    alice.request(BOB, &object, now);
    let (_, from_bob) = pump(&mut alice, &mut bob, now);
    let answer = SlpMessage::parse(&from_bob[1].payload).unwrap();
    assert_eq!(
        answer.start,
        StartLine::Response {
            code: 603,
            reason: "Decline".into()
        }
    );
    assert_eq!(
        alice.events(),
        vec![P2pEvent::Declined {
            peer: BOB.into(),
            sha1d: object.sha1d
        }]
    );
    assert_eq!((alice.p2p.sessions(), bob.p2p.sessions()), (0, 0));
}

/// An INVITE from Bob to Alice as packets, with the body fields given.
fn invite_packet(id: u32, session_id: u32, euf: &str, app: u32, context: &[u8]) -> Vec<u8> {
    let mut next = rng(u64::from(id) + 99);
    let message = slp::InviteRequest {
        to: ALICE,
        from: BOB,
        branch: slp::guid(&mut next),
        call_id: slp::guid(&mut next),
        invite: slp::Invite {
            euf_guid: euf.into(),
            session_id,
            app_id: app,
            context: context.to_vec(),
        },
    }
    .message();
    slp_packet(id, &message.encode())
}

fn slp_packet(id: u32, text: &[u8]) -> Vec<u8> {
    Packet {
        header: Header {
            id,
            total_size: text.len() as u64,
            length: text.len() as u32,
            ack_id: 0x0A0B_0C0D,
            ..Header::default()
        },
        payload: text.to_vec(),
        app_id: 0,
    }
    .encode()
}

/// The MSNSLP messages among `sent`.
fn slp_answers(sent: &[Transmit]) -> Vec<SlpMessage> {
    sent.iter()
        .map(|t| Packet::parse(&t.packet).unwrap())
        .filter(|p| !p.header.is_ack())
        .map(|p| SlpMessage::parse(&p.payload).unwrap())
        .collect()
}

fn code(message: &SlpMessage) -> u16 {
    match message.start {
        StartLine::Response { code, .. } => code,
        _ => 0,
    }
}

#[test]
fn windows_live_invites_get_their_application_id_and_data_flag() {
    let (mut alice, _, now) = pair();
    let object = alice.serve(b"tile");
    let context = [object.xml.as_bytes(), b"\0"].concat();
    let invite = invite_packet(10, 77, slp::EUF_GUID_OBJECT, 12, &context);
    alice.receive(BOB, &invite, now).unwrap();
    let sent = alice.sent(now);
    let ok = &slp_answers(&sent)[0];
    assert_eq!((code(ok), ok.cseq, ok.session_id()), (200, 1, Some(77)));
    let ok_packet = Packet::parse(&sent[1].packet).unwrap();
    // Bob acks the 200 OK, then the preparation.
    for round in 0..2 {
        let acked = match round {
            0 => ok_packet.header,
            _ => Packet::parse(&alice.sent(now)[0].packet).unwrap().header,
        };
        let ack = Packet {
            header: acked.ack(500 + round),
            payload: Vec::new(),
            app_id: 0,
        };
        alice.receive(BOB, &ack.encode(), now).unwrap();
    }
    let data = Packet::parse(&alice.sent(now)[0].packet).unwrap();
    assert_eq!(
        (
            data.header.session_id,
            data.header.flags,
            data.app_id,
            data.payload.as_slice()
        ),
        (
            77,
            flags::MSN_OBJECT_DATA | flags::WLM2009,
            12,
            &b"tile"[..]
        )
    );
}

#[test]
fn unknown_euf_guids_and_foreign_sessions_are_declined() {
    let (mut alice, _, now) = pair();
    let invite = invite_packet(10, 77, slp::EUF_GUID_FILE, 2, b"ctx");
    alice.receive(BOB, &invite, now).unwrap();
    let answers = slp_answers(&alice.sent(now));
    assert_eq!(answers.iter().map(code).collect::<Vec<_>>(), vec![603]);
    assert_eq!(answers[0].session_id(), Some(77));
    assert_eq!(alice.p2p.sessions(), 0);
}

#[test]
fn invalid_base64_in_context_is_answered_with_an_error() {
    let (mut alice, _, now) = pair();
    let text = String::from_utf8(
        SlpMessage::parse(
            &Packet::parse(&invite_packet(1, 5, slp::EUF_GUID_OBJECT, 1, b"x"))
                .unwrap()
                .payload,
        )
        .unwrap()
        .encode(),
    )
    .unwrap()
    .replace("Context: eA==", "Context: e*==");
    let result = alice.receive(BOB, &slp_packet(1, text.as_bytes()), now);
    assert_eq!(result, Err(P2pError::Slp(SlpError::BadContext)));
    let sent = alice.sent(now);
    assert!(Packet::parse(&sent[0].packet).unwrap().header.is_ack());
    assert_eq!(
        slp_answers(&sent).iter().map(code).collect::<Vec<_>>(),
        vec![500]
    );
    assert_eq!(alice.p2p.sessions(), 0);
}

#[test]
fn objects_naming_paths_are_refused() {
    let (mut alice, _, now) = pair();
    let object = alice.serve(b"tile");
    let evil = object
        .xml
        .replace("Location=\"0\"", "Location=\"../../.purple/accounts.xml\"");
    let invite = invite_packet(1, 5, slp::EUF_GUID_OBJECT, 1, evil.as_bytes());
    assert_eq!(
        alice.receive(BOB, &invite, now),
        Err(P2pError::Object(MsnObjectError::Bad("Location")))
    );
    assert_eq!(
        slp_answers(&alice.sent(now))
            .iter()
            .map(code)
            .collect::<Vec<_>>(),
        vec![500]
    );
    assert_eq!(alice.p2p.sessions(), 0);
}

#[test]
fn missing_call_id_and_misaddressed_messages_are_ignored() {
    let (mut alice, _, now) = pair();
    let object = alice.serve(b"tile");
    let context = [object.xml.as_bytes(), b"\0"].concat();
    let text = SlpMessage::parse(
        &Packet::parse(&invite_packet(1, 5, slp::EUF_GUID_OBJECT, 1, &context))
            .unwrap()
            .payload,
    )
    .unwrap();
    let raw = String::from_utf8(text.encode()).unwrap();
    let no_call = raw.replace(&format!("Call-ID: {{{}}}\r\n", text.call_id), "");
    assert_eq!(
        alice.receive(BOB, &slp_packet(1, no_call.as_bytes()), now),
        Err(P2pError::Slp(SlpError::Missing("Call-ID")))
    );
    // Claims to come from someone else than the switchboard sender.
    assert_eq!(
        alice.receive("carol@example.com", &slp_packet(2, raw.as_bytes()), now),
        Err(P2pError::Misaddressed)
    );
    let sent = alice.sent(now);
    assert!(slp_answers(&sent).is_empty(), "only acks");
    assert_eq!(alice.p2p.sessions(), 0);
}

#[test]
fn a_chunk_beyond_its_total_is_refused() {
    let (mut alice, _, now) = pair();
    let mut packet = slp_packet(1, b"abc");
    packet[16] = 2; // total 2 < length 3
    assert_eq!(
        alice.receive(BOB, &packet, now),
        Err(P2pError::Packet(PacketError::BeyondTotal {
            offset: 0,
            length: 3,
            total: 2
        }))
    );
    assert!(alice.receive(BOB, &[], now).is_err());
    assert!(alice.receive(BOB, &[0; 30], now).is_err());
    assert!(alice.sent(now).is_empty());
}

#[test]
fn totals_over_the_cap_buffer_nothing_and_end_the_fetch() {
    let (mut alice, mut bob, now) = pair();
    let object = bob.serve(&picture(100));
    let session = alice.request(BOB, &object, now);
    let _ = alice.sent(now);
    // An MSNSLP message claiming more than 64 KiB.
    let mut slp = slp_packet(1, b"abc");
    slp[16..24].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(matches!(
        alice.receive(BOB, &slp, now),
        Err(P2pError::Reassembly(ReassemblyError::TooLarge { .. }))
    ));
    // Data claiming more than the object's size.
    let data = Packet {
        header: Header {
            session_id: session,
            id: 2,
            total_size: 101,
            length: 1,
            flags: flags::MSN_OBJECT_DATA,
            ..Header::default()
        },
        payload: vec![0],
        app_id: 1,
    };
    assert!(matches!(
        alice.receive(BOB, &data.encode(), now),
        Err(P2pError::Reassembly(ReassemblyError::TooLarge {
            total: 101,
            cap: 100
        }))
    ));
    assert_eq!(alice.p2p.reassembling(), 0);
    assert_eq!(
        alice.events(),
        vec![P2pEvent::Failed {
            peer: BOB.into(),
            sha1d: object.sha1d,
            reason: FailReason::Malformed
        }]
    );
    assert_eq!(alice.p2p.sessions(), 0);
}

#[test]
fn data_that_does_not_match_sha1d_is_not_delivered() {
    let (mut alice, mut bob, now) = pair();
    let object = bob.serve(&picture(3000));
    // Bob's store now hands out other bytes under that SHA1D.
    bob.objects.insert(
        object.sha1d.clone(),
        picture(2999).into_iter().chain([1]).collect(),
    );
    alice.request(BOB, &object, now);
    pump(&mut alice, &mut bob, now);
    assert_eq!(
        alice.events(),
        vec![P2pEvent::Failed {
            peer: BOB.into(),
            sha1d: object.sha1d,
            reason: FailReason::Mismatch
        }]
    );
}

#[test]
fn a_reused_message_id_is_not_processed_twice() {
    let (mut alice, _, now) = pair();
    let object = alice.serve(b"tile");
    let invite = invite_packet(10, 77, slp::EUF_GUID_OBJECT, 1, object.xml.as_bytes());
    alice.receive(BOB, &invite, now).unwrap();
    let again = invite_packet(10, 78, slp::EUF_GUID_OBJECT, 1, object.xml.as_bytes());
    assert_eq!(
        alice.receive(BOB, &again, now),
        Err(P2pError::Reassembly(ReassemblyError::ReusedId(10)))
    );
    assert_eq!(
        slp_answers(&alice.sent(now))
            .iter()
            .map(code)
            .collect::<Vec<_>>(),
        vec![200]
    );
    assert_eq!(alice.p2p.sessions(), 1);
}

#[test]
fn data_for_an_unknown_session_is_dropped_unbuffered() {
    let (mut alice, mut bob, now) = pair();
    let object = bob.serve(&picture(100));
    let session = alice.request(BOB, &object, now);
    let _ = alice.sent(now);
    for (from, sid) in [
        (BOB, session.wrapping_add(1)),
        ("carol@example.com", session),
    ] {
        let data = Packet {
            header: Header {
                session_id: sid,
                id: 3,
                total_size: 10,
                length: 1,
                flags: flags::MSN_OBJECT_DATA,
                ..Header::default()
            },
            payload: vec![0],
            app_id: 1,
        };
        assert_eq!(
            alice.receive(from, &data.encode(), now),
            Err(P2pError::UnknownSession(sid))
        );
    }
    assert_eq!(alice.p2p.reassembling(), 0);
    assert!(alice.sent(now).is_empty());
    assert_eq!(alice.p2p.sessions(), 1);
}

#[test]
fn an_ack_storm_costs_nothing() {
    let (mut alice, mut bob, now) = pair();
    let object = bob.serve(&picture(100));
    alice.request(BOB, &object, now);
    let _ = alice.sent(now);
    let mut next = rng(3);
    for _ in 0..100_000 {
        let header = Header {
            id: next(),
            ack_id: next(),
            ack_uid: next(),
            ack_size: 9,
            flags: flags::ACK,
            ..Header::default()
        };
        let ack = Packet {
            header,
            payload: Vec::new(),
            app_id: 0,
        };
        alice.receive(BOB, &ack.encode(), now).unwrap();
    }
    assert!(alice.sent(now).is_empty());
    assert!(alice.events().is_empty());
    assert_eq!((alice.p2p.sessions(), alice.p2p.reassembling()), (1, 0));
}

#[test]
fn thousands_of_invites_stay_bounded() {
    let (mut alice, _, now) = pair();
    let object = alice.serve(&picture(2000));
    let context = [object.xml.as_bytes(), b"\0"].concat();
    let config = Config::new(ALICE);
    let (mut accepted, mut declined) = (0, 0);
    for i in 0..5000u32 {
        let peer = format!("p{}@example.com", i % 50);
        let mut next = rng(u64::from(i) + 1);
        let message = slp::InviteRequest {
            to: ALICE,
            from: &peer,
            branch: slp::guid(&mut next),
            call_id: slp::guid(&mut next),
            invite: slp::Invite {
                euf_guid: slp::EUF_GUID_OBJECT.into(),
                session_id: i + 1,
                app_id: 1,
                context: context.clone(),
            },
        }
        .message();
        alice
            .receive(&peer, &slp_packet(i, &message.encode()), now)
            .unwrap();
        let sent = alice.sent(now);
        assert_eq!(sent.len(), 2, "an ack and one answer per INVITE");
        match code(&slp_answers(&sent)[0]) {
            200 => accepted += 1,
            603 => declined += 1,
            other => panic!("answered {other}"),
        }
        assert!(alice.p2p.sessions() <= config.max_sessions);
    }
    assert_eq!(
        (accepted, declined),
        (config.max_sessions, 5000 - config.max_sessions)
    );
    // Nobody acks: every session lapses.
    alice
        .p2p
        .handle_timeout(now + config.timeout, &mut *alice.rng);
    assert_eq!(alice.p2p.sessions(), 0);
    assert_eq!(alice.p2p.poll_timeout(), None);
}

#[test]
fn one_peer_gets_a_bounded_share_of_sessions() {
    let (mut alice, _, now) = pair();
    let object = alice.serve(b"tile");
    let mut codes = Vec::new();
    for i in 0..10u32 {
        let invite = invite_packet(i, i + 1, slp::EUF_GUID_OBJECT, 1, object.xml.as_bytes());
        alice.receive(BOB, &invite, now).unwrap();
        codes.push(code(&slp_answers(&alice.sent(now))[0]));
    }
    assert_eq!(codes, [[200; 4].as_slice(), &[603; 6]].concat());
}

#[test]
fn a_silent_peer_times_out_with_a_bye() {
    let (mut alice, mut bob, now) = pair();
    let object = bob.serve(&picture(100));
    alice.request(BOB, &object, now);
    let _ = alice.sent(now);
    let deadline = alice.p2p.poll_timeout().unwrap();
    alice
        .p2p
        .handle_timeout(deadline - Duration::from_secs(1), &mut *alice.rng);
    assert_eq!(alice.p2p.sessions(), 1);
    alice.p2p.handle_timeout(deadline, &mut *alice.rng);
    assert_eq!(
        alice.events(),
        vec![P2pEvent::Failed {
            peer: BOB.into(),
            sha1d: object.sha1d,
            reason: FailReason::Timeout
        }]
    );
    let bye = &slp_answers(&alice.sent(now))[0];
    assert!(matches!(
        bye.start,
        StartLine::Request {
            method: Method::Bye,
            ..
        }
    ));
}

#[test]
fn a_peer_going_away_mid_fetch_leaves_nothing_half_done() {
    let (mut alice, mut bob, now) = pair();
    let object = bob.serve(&picture(5000));
    alice.request(BOB, &object, now);
    let mut log = Vec::new();
    // INVITE; ack and 200 OK; ack; data preparation; ack; then the first data chunks.
    for _ in 0..2 {
        deliver(&mut alice, &mut bob, now, &mut log);
        deliver(&mut bob, &mut alice, now, &mut log);
    }
    deliver(&mut alice, &mut bob, now, &mut log);
    let sent = bob.sent(now);
    for t in &sent[..3] {
        alice.receive(BOB, &t.packet, now).unwrap();
    }
    assert_eq!(alice.p2p.reassembling(), 1);
    alice.p2p.peer_gone(BOB);
    assert_eq!(
        alice.events(),
        vec![P2pEvent::Failed {
            peer: BOB.into(),
            sha1d: object.sha1d,
            reason: FailReason::PeerGone
        }]
    );
    assert_eq!((alice.p2p.sessions(), alice.p2p.reassembling()), (0, 0));
    assert!(alice.sent(now).is_empty());
    // The rest of the data is for a session that no longer exists.
    assert!(matches!(
        alice.receive(BOB, &sent[3].packet, now),
        Err(P2pError::UnknownSession(_))
    ));
    assert!(alice.events().is_empty());
}

#[test]
fn requests_are_bounded() {
    let (mut alice, mut bob, now) = pair();
    let object = bob.serve(&picture(10));
    alice.request(BOB, &object, now);
    assert_eq!(
        alice.p2p.request_object(BOB, &object, now, &mut *alice.rng),
        Err(RequestError::Duplicate)
    );
    let mut big = object.clone();
    big.size = Config::new(ALICE).max_object + 1;
    assert_eq!(
        alice.p2p.request_object(BOB, &big, now, &mut *alice.rng),
        Err(RequestError::TooLarge)
    );
    for i in 0..3 {
        let other = bob.serve(&picture(11 + i));
        alice.request(BOB, &other, now);
    }
    let fifth = bob.serve(&picture(20));
    assert_eq!(
        alice.p2p.request_object(BOB, &fifth, now, &mut *alice.rng),
        Err(RequestError::Busy)
    );
}

#[test]
fn an_undrained_queue_stays_bounded() {
    let (mut alice, _, now) = pair();
    let object = alice.serve(b"tile");
    for i in 0..1000u32 {
        let invite = invite_packet(i, i + 1, slp::EUF_GUID_OBJECT, 1, object.xml.as_bytes());
        let from = format!("p{i}@example.com");
        let text = Packet::parse(&invite).unwrap().payload;
        let text = String::from_utf8(text).unwrap().replace(BOB, &from);
        alice
            .receive(&from, &slp_packet(i, text.as_bytes()), now)
            .unwrap();
    }
    let max = Config::new(ALICE).max_queued;
    assert_eq!(alice.sent(now).len(), max);
    assert_eq!(alice.p2p.dropped(), 2000 - max as u64);
}
