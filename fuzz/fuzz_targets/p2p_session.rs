//! Drives the `P2p` part of alice@example.com with arbitrary traffic from three peers.
//!
//! The input is a little program: each operation delivers raw bytes, a packet with chosen
//! header fields (often for a live session), an INVITE for our picture or for arbitrary
//! context, an acknowledgement of something we sent, a request for an object, a timeout, a
//! peer going away, or a file-transfer step (an offer either way, an answer, a cancel, file
//! data handed over); after each one everything queued is sent, file data while a random
//! switchboard has room.
//!
//! Invariants: nothing panics; at most `max_sessions` sessions and `max_pending` messages in
//! reassembly; every packet sent parses, carries at most 1202 payload bytes, fits a
//! switchboard message, and goes to a peer that spoke to us or that we asked; an object is
//! delivered only if its data matches the SHA1D that was requested; `poll_timeout` is set while
//! sessions exist, and a timeout at it leaves no lapsed session behind; at most
//! `MAX_TRANSFERS` transfers; a received file's bytes never exceed its announced size and it
//! completes only with all of them; file data is asked for only up to the file's size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::p2p::header::{flags, Header, Packet};
use msnp::p2p::msnobj::{kind, MsnObject};
use msnp::p2p::slp::{self, Invite, InviteRequest};
use msnp::p2p::file::MAX_TRANSFERS;
use msnp::p2p::{
    sb_payload, Config, FileContext, FileEvent, P2p, P2pEvent, TransferId, MAX_CHUNK,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod program;
use program::Program;

/// Four bytes of the program, little-endian (missing ones are 0).
fn word(p: &mut Program) -> u32 {
    u32::from_le_bytes([p.take(), p.take(), p.take(), p.take()])
}

const PEERS: [&str; 3] = ["bob@example.com", "carol@example.com", "dave@example.com"];

fuzz_target!(|data: &[u8]| {
    let mut program = Program(data);
    let mut seed = 0x2545_F491u32;
    let mut rng = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let config = Config::new("alice@example.com");
    let picture: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let ours = MsnObject::new(
        "alice@example.com",
        kind::DISPLAY_PICTURE,
        "0",
        "",
        &picture,
    );
    let stored: Arc<[u8]> = picture.clone().into();
    let sha1d = ours.sha1d.clone();
    let store = move |s: &str| (s == sha1d).then(|| Arc::clone(&stored));
    let mut p2p = P2p::new(config.clone(), &mut rng);
    let mut now = Instant::now();
    let mut requested: Vec<(String, MsnObject)> = Vec::new();
    let mut sent_headers: Vec<(usize, Header)> = Vec::new();
    let mut sessions: Vec<u32> = Vec::new();
    // Transfers: announced size, bytes received (or handed over, when sending), whether sending.
    let mut transfers: HashMap<TransferId, (u64, u64, bool)> = HashMap::new();
    let mut wanted: Vec<(TransferId, usize)> = Vec::new();

    while let Some(op) = program.byte() {
        let peer = usize::from(op >> 5) % 3;
        match op & 0x7 {
            0 => {
                let n = usize::from(program.take()) * 4;
                let _ = p2p.handle_packet(PEERS[peer], program.bytes(n), now, &store, &mut rng);
            }
            1 => {
                let session_id = match program.take() % 3 {
                    0 => 0,
                    1 => sessions
                        .get(usize::from(program.take()) % sessions.len().max(1))
                        .copied()
                        .unwrap_or(0),
                    _ => word(&mut program),
                };
                let length = usize::from(program.take()) * 8;
                let payload = program.bytes(length).to_vec();
                let header = Header {
                    session_id,
                    id: u32::from(program.take()),
                    offset: u64::from(program.take()) * 64,
                    total_size: u64::from(program.take()) * 64 + payload.len() as u64,
                    length: payload.len() as u32,
                    flags: [
                        flags::NONE,
                        flags::MSN_OBJECT_DATA,
                        flags::CLOSE,
                        0x0100_0020,
                    ][usize::from(program.take() % 4)],
                    ..Header::default()
                };
                let packet = Packet {
                    header,
                    payload,
                    app_id: 1,
                };
                let _ = p2p.handle_packet(PEERS[peer], &packet.encode(), now, &store, &mut rng);
            }
            2 => {
                let context = match program.take() % 2 {
                    0 => [ours.xml.as_bytes(), b"\0"].concat(),
                    _ => {
                        let n = usize::from(program.take());
                        program.bytes(n).to_vec()
                    }
                };
                let session_id = word(&mut program) % 64;
                sessions.push(session_id);
                let text = InviteRequest {
                    to: "alice@example.com",
                    from: PEERS[peer],
                    branch: slp::guid(&mut rng),
                    call_id: slp::guid(&mut rng),
                    invite: Invite {
                        euf_guid: slp::EUF_GUID_OBJECT.into(),
                        session_id,
                        app_id: 1,
                        context,
                    },
                }
                .message()
                .encode();
                let header = Header {
                    id: word(&mut program),
                    total_size: text.len() as u64,
                    length: text.len() as u32,
                    ..Header::default()
                };
                let packet = Packet {
                    header,
                    payload: text,
                    app_id: 0,
                };
                let _ = p2p.handle_packet(PEERS[peer], &packet.encode(), now, &store, &mut rng);
            }
            3 => {
                if let Some((to, h)) = sent_headers
                    .get(usize::from(program.take()) % sent_headers.len().max(1))
                    .copied()
                {
                    let ack = Packet {
                        header: h.ack(word(&mut program)),
                        payload: Vec::new(),
                        app_id: 0,
                    };
                    let _ = p2p.handle_packet(PEERS[to], &ack.encode(), now, &store, &mut rng);
                }
            }
            4 => {
                let size = 1 + usize::from(program.take()) * 16;
                let data: Vec<u8> = (0..size).map(|i| i as u8 ^ op).collect();
                let object = MsnObject::new(PEERS[peer], kind::EMOTICON, "x", "", &data);
                if let Ok(id) = p2p.request_object(PEERS[peer], &object, now, &mut rng) {
                    sessions.push(id);
                    requested.push((PEERS[peer].to_owned(), object));
                }
            }
            5 => {
                now += Duration::from_secs(u64::from(program.take()));
                let due = p2p.poll_timeout();
                p2p.handle_timeout(now, &mut rng);
                if due.is_some_and(|d| d <= now) {
                    assert!(
                        p2p.poll_timeout().is_none_or(|d| d > now),
                        "lapsed session kept"
                    );
                }
            }
            6 => p2p.peer_gone(PEERS[peer]),
            _ => {
                let ids: Vec<TransferId> = transfers.keys().copied().collect();
                let pick = ids.get(usize::from(program.take()) % ids.len().max(1)).copied();
                match program.take() % 6 {
                    0 => {
                        let context = match program.take() % 2 {
                            0 => FileContext {
                                size: u64::from(word(&mut program) % 20_000),
                                name: String::from_utf8_lossy(program.bytes(8)).into_owned(),
                                preview: false,
                            }
                            .encode(),
                            _ => {
                                let n = usize::from(program.take()) * 4;
                                program.bytes(n).to_vec()
                            }
                        };
                        let session_id = word(&mut program) % 64;
                        sessions.push(session_id);
                        let text = InviteRequest {
                            to: "alice@example.com",
                            from: PEERS[peer],
                            branch: slp::guid(&mut rng),
                            call_id: slp::guid(&mut rng),
                            invite: Invite {
                                euf_guid: slp::EUF_GUID_FILE.into(),
                                session_id,
                                app_id: 2,
                                context,
                            },
                        }
                        .message()
                        .encode();
                        let packet = Packet {
                            header: Header {
                                id: word(&mut program),
                                total_size: text.len() as u64,
                                length: text.len() as u32,
                                ..Header::default()
                            },
                            payload: text,
                            app_id: 0,
                        };
                        let _ =
                            p2p.handle_packet(PEERS[peer], &packet.encode(), now, &store, &mut rng);
                    }
                    1 => {
                        let size = u64::from(word(&mut program) % 10_000);
                        if let Ok(id) = p2p.offer_file(PEERS[peer], "f.bin", size, now, &mut rng) {
                            transfers.insert(id, (size, 0, true));
                        }
                    }
                    2 => {
                        if let Some(id) = pick {
                            p2p.accept_file(id, now, &mut rng);
                        }
                    }
                    3 => {
                        if let Some(id) = pick {
                            p2p.decline_file(id, &mut rng);
                        }
                    }
                    4 => {
                        if let Some(id) = pick {
                            p2p.cancel_file(id, &mut rng);
                            transfers.remove(&id);
                        }
                    }
                    _ => {
                        if !wanted.is_empty() {
                            let (id, max) = wanted.remove(0);
                            let n = max.min(usize::from(program.take()) * 64);
                            let data = vec![op; n];
                            p2p.supply_file_data(id, &data);
                            if let Some(t) = transfers.get_mut(&id) {
                                t.1 += n as u64;
                            }
                        }
                    }
                }
            }
        }
        assert!(p2p.sessions() <= config.max_sessions);
        assert!(p2p.reassembling() <= config.reassembly.max_pending);
        assert!(p2p.transfers() <= MAX_TRANSFERS);
        assert_eq!(
            p2p.poll_timeout().is_some(),
            p2p.sessions() + p2p.reassembling() + p2p.transfers() > 0
        );
        let room = program.take() % 4 != 0;
        while let Some(t) = p2p.poll_file_transmit(now, &|_| room) {
            let packet = Packet::parse(&t.packet).expect("sent data parses");
            assert!(packet.payload.len() <= MAX_CHUNK);
            assert!(PEERS.contains(&t.peer.as_str()));
            if sent_headers.len() == 64 {
                sent_headers.remove(0);
            }
            let to = PEERS.iter().position(|p| *p == t.peer).unwrap_or(0);
            sent_headers.push((to, packet.header));
        }
        while let Some(event) = p2p.poll_file_event() {
            match event {
                FileEvent::Offered { id, size, name, .. } => {
                    assert!(!name.is_empty() && !name.contains(['/', '\\']));
                    transfers.insert(id, (size, 0, false));
                }
                FileEvent::WantData { id, max } => {
                    let t = transfers.get(&id).expect("data wanted for a transfer we sent");
                    assert!(t.2 && max > 0 && t.1 + max as u64 <= t.0, "{t:?} {max}");
                    wanted.push((id, max));
                }
                FileEvent::Data { id, data } => {
                    let t = transfers.get_mut(&id).expect("data for a known transfer");
                    assert!(!t.2);
                    t.1 += data.len() as u64;
                    assert!(t.1 <= t.0, "more than announced");
                }
                FileEvent::Completed { id } => {
                    let t = transfers.remove(&id).expect("a known transfer completes");
                    assert!(t.2 || t.1 == t.0, "completed short: {t:?}");
                }
                FileEvent::Declined { id }
                | FileEvent::Cancelled { id }
                | FileEvent::Failed { id, .. } => {
                    transfers.remove(&id);
                    wanted.retain(|(w, _)| *w != id);
                }
                FileEvent::Accepted { .. } | FileEvent::Refused { .. } => {}
            }
        }
        while let Some(t) = p2p.poll_transmit(now) {
            let to = PEERS
                .iter()
                .position(|p| *p == t.peer)
                .expect("sent to a known peer");
            let packet = Packet::parse(&t.packet).expect("sent packets parse");
            assert!(packet.payload.len() <= MAX_CHUNK);
            assert!(sb_payload(&t.peer, None, &t.packet).is_some());
            if !packet.header.is_ack() {
                if sent_headers.len() == 64 {
                    sent_headers.remove(0);
                }
                sent_headers.push((to, packet.header));
            }
        }
        while let Some(event) = p2p.poll_event() {
            if let P2pEvent::ObjectReceived {
                peer, sha1d, data, ..
            } = event
            {
                let object = requested
                    .iter()
                    .find(|(p, o)| *p == peer && o.sha1d == sha1d)
                    .map(|(_, o)| o)
                    .expect("only requested objects arrive");
                assert!(object.matches(&data));
            }
        }
    }
});
