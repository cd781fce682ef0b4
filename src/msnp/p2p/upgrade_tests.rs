//! File transfers moved to a direct connection, between two P2P parts wired back to back
//! through a simulated switchboard and a simulated driver.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use super::header::Header;
use super::upgrade::SETUP;
use super::*;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const PORT: u16 = 5000;

/// How Bob's side of the direct connection behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Peer {
    /// Connections to Bob's port succeed.
    Reachable,
    /// Connections are refused.
    Refusing,
    /// Connections never complete.
    Silent,
    /// Bob's answer to the transport upgrade is lost.
    Mute,
}

struct Net {
    alice: P2p,
    bob: P2p,
    now: Instant,
    peer: Peer,
    /// Bob's listening link.
    listening: Option<LinkId>,
    /// Connected links: (Alice's, Bob's).
    pairs: Vec<(LinkId, LinkId)>,
    /// File-data packets relayed by the switchboard.
    sb_data: usize,
    /// Bytes written on direct connections.
    direct_bytes: usize,
    /// The direct connection breaks once this many bytes went over it.
    cut_after: Option<usize>,
    rng: u32,
}

impl Net {
    fn new(alice_direct: bool, bob_direct: bool, peer: Peer) -> Net {
        let mut rng = words(1);
        let mut net = Net {
            alice: P2p::new(Config::new(ALICE), &mut rng),
            bob: P2p::new(Config::new(BOB), &mut rng),
            now: crate::test_time_origin(),
            peer,
            listening: None,
            pairs: Vec::new(),
            sb_data: 0,
            direct_bytes: 0,
            cut_after: None,
            rng: 77,
        };
        net.alice.set_direct(alice_direct);
        net.bob.set_direct(bob_direct);
        net
    }

    fn draw(&mut self) -> u32 {
        self.rng = self.rng.wrapping_mul(2_654_435_761).wrapping_add(12345);
        self.rng
    }

    /// Moves everything until quiet; returns Alice's and Bob's events.
    fn run(&mut self) -> (Vec<FileEvent>, Vec<FileEvent>) {
        let (mut a_events, mut b_events) = (Vec::new(), Vec::new());
        let store = |_: &str| None;
        loop {
            let now = self.now;
            let mut busy = false;
            let mut sb = Vec::new();
            while let Some(t) = self.alice.poll_transmit(now) {
                sb.push((true, t));
            }
            while let Some(t) = self.alice.poll_file_transmit(now, &|_| true) {
                sb.push((true, t));
            }
            while let Some(t) = self.bob.poll_transmit(now) {
                sb.push((false, t));
            }
            for (from_alice, t) in sb {
                busy = true;
                let answer = t.packet.windows(13).any(|w| w == b"transrespbody");
                if !from_alice && answer && self.peer == Peer::Mute {
                    continue;
                }
                let h = Header::parse(&t.packet).unwrap();
                if h.session_id != 0 && h.length > 0 {
                    self.sb_data += 1;
                }
                let mut rng = words(self.draw());
                let _ = match from_alice {
                    true => self
                        .bob
                        .handle_packet(ALICE, &t.packet, now, &store, &mut rng),
                    false => self
                        .alice
                        .handle_packet(BOB, &t.packet, now, &store, &mut rng),
                };
            }
            while let Some(out) = self.bob.poll_direct(now) {
                busy = true;
                let mut rng = words(self.draw());
                match out {
                    DirectOutput::Listen { link } => {
                        self.listening = Some(link);
                        let bound = Ok((vec![Ipv4Addr::LOCALHOST], PORT));
                        self.bob.direct_listening(link, bound, &mut rng);
                    }
                    DirectOutput::Send { link, bytes } => {
                        self.bob.direct_drained(link);
                        if let Some(&(a, _)) = self.pairs.iter().find(|(_, b)| *b == link) {
                            self.alice.direct_bytes(a, &bytes, now, &mut rng);
                        }
                    }
                    DirectOutput::Close { link } => self.pairs.retain(|(_, b)| *b != link),
                    DirectOutput::Connect { .. } => panic!("Bob connects"),
                }
            }
            while let Some(out) = self.alice.poll_direct(now) {
                busy = true;
                let mut rng = words(self.draw());
                match out {
                    DirectOutput::Connect { link, addr } => {
                        assert_eq!(addr, SocketAddrV4::new(Ipv4Addr::LOCALHOST, PORT));
                        match (self.peer, self.listening.take()) {
                            (Peer::Reachable, Some(b)) => {
                                self.pairs.push((link, b));
                                self.bob.direct_connected(b);
                                self.alice.direct_connected(link);
                            }
                            (Peer::Silent, _) => {}
                            _ => self.alice.direct_lost(link, &mut rng),
                        }
                    }
                    DirectOutput::Send { link, bytes } => {
                        self.direct_bytes += bytes.len();
                        self.alice.direct_drained(link);
                        let Some(&(_, b)) = self.pairs.iter().find(|(a, _)| *a == link) else {
                            continue;
                        };
                        if self.cut_after.is_some_and(|cut| self.direct_bytes > cut) {
                            self.pairs.retain(|(a, _)| *a != link);
                            self.alice.direct_lost(link, &mut rng);
                            self.bob.direct_lost(b, &mut rng);
                            continue;
                        }
                        self.bob.direct_bytes(b, &bytes, now, &mut rng);
                    }
                    DirectOutput::Close { link } => self.pairs.retain(|(a, _)| *a != link),
                    DirectOutput::Listen { .. } => panic!("Alice listens"),
                }
            }
            while let Some(e) = self.alice.poll_file_event() {
                busy = true;
                a_events.push(e);
            }
            while let Some(e) = self.bob.poll_file_event() {
                busy = true;
                b_events.push(e);
            }
            if !busy {
                return (a_events, b_events);
            }
        }
    }

    /// Alice offers `len` bytes to Bob, who accepts; returns Alice's transfer id.
    fn offer_accepted(&mut self, len: usize, rng: &mut dyn FnMut() -> u32) -> TransferId {
        let now = self.now;
        let sent = self
            .alice
            .offer_file(BOB, "f.bin", len as u64, now, rng)
            .unwrap();
        let (_, b) = self.run();
        let Some(FileEvent::Offered { id, .. }) = b.first() else {
            panic!("no offer: {b:?}");
        };
        assert!(self.bob.accept_file(*id, now, rng));
        sent
    }

    /// Alice asked for up to `max` more bytes of `data`, of which `supplied` went already:
    /// hands them over; returns how many went in all.
    fn supply(&mut self, id: TransferId, max: usize, data: &[u8], supplied: usize) -> usize {
        let end = (supplied + max).min(data.len());
        self.alice.supply_file_data(id, &data[supplied..end]);
        end
    }

    /// Alice sends `data` to Bob, accepted; returns what Bob received.
    fn transfer(&mut self, data: &[u8]) -> Vec<u8> {
        let mut rng = words(5);
        self.offer_accepted(data.len(), &mut rng);
        let (mut received, mut supplied, mut done) = (Vec::new(), 0, (false, false));
        for _ in 0..100_000 {
            let (a, b) = self.run();
            if a.is_empty() && b.is_empty() {
                // Only a deadline can move things on.
                let next = self.alice.poll_timeout().expect("a deadline");
                self.now = self.now.max(next);
                let now = self.now;
                self.alice.handle_timeout(now, &mut rng);
                self.bob.handle_timeout(now, &mut rng);
            }
            for e in a {
                match e {
                    FileEvent::WantData { id, max } => {
                        supplied = self.supply(id, max, data, supplied);
                    }
                    FileEvent::Completed { .. } => done.0 = true,
                    FileEvent::Accepted { .. } => {}
                    other => panic!("alice: {other:?}"),
                }
            }
            for e in b {
                match e {
                    FileEvent::Data { data, .. } => received.extend(data),
                    FileEvent::Completed { .. } => done.1 = true,
                    other => panic!("bob: {other:?}"),
                }
            }
            if done == (true, true) {
                break;
            }
        }
        assert_eq!(done, (true, true));
        assert_eq!(self.alice.transfers() + self.bob.transfers(), 0);
        received
    }
}

fn words(seed: u32) -> impl FnMut() -> u32 {
    let mut n = seed;
    move || {
        n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        n
    }
}

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 % 251) as u8).collect()
}

#[test]
fn the_data_goes_over_the_direct_connection_when_both_allow_it() {
    for len in [1, 1352, 1353, 700_000] {
        let mut net = Net::new(true, true, Peer::Reachable);
        let data = content(len);
        assert!(net.transfer(&data) == data, "{len} bytes");
        assert_eq!(net.sb_data, 0, "no file data by switchboard");
        assert!(net.direct_bytes > len);
        assert!(net.pairs.is_empty(), "both sides closed the link");
    }
}

#[test]
fn without_direct_connections_on_either_side_the_switchboard_carries_the_data() {
    for (alice, bob) in [(false, true), (true, false), (false, false)] {
        let mut net = Net::new(alice, bob, Peer::Reachable);
        let data = content(50_000);
        assert!(net.transfer(&data) == data);
        assert!(net.sb_data > 0);
        assert_eq!(net.direct_bytes, 0);
    }
}

#[test]
fn a_refused_or_silent_connection_or_no_answer_falls_back_to_the_switchboard() {
    for peer in [Peer::Refusing, Peer::Silent, Peer::Mute] {
        let mut net = Net::new(true, true, peer);
        let start = net.now;
        let data = content(50_000);
        assert!(net.transfer(&data) == data);
        assert!(net.sb_data > 0);
        assert_eq!(net.direct_bytes, 0);
        if peer != Peer::Refusing {
            assert!(net.now >= start + SETUP, "waited for the set-up deadline");
        }
    }
}

#[test]
fn a_direct_connection_lost_mid_way_fails_the_transfer_on_both_sides() {
    let mut net = Net::new(true, true, Peer::Reachable);
    net.cut_after = Some(200_000);
    let data = content(1_000_000);
    let sent = net.offer_accepted(data.len(), &mut words(9));
    let (mut supplied, mut ends) = (0, (None, None));
    for _ in 0..10_000 {
        let (a, b) = net.run();
        for e in a {
            match e {
                FileEvent::WantData { id, max } => supplied = net.supply(id, max, &data, supplied),
                FileEvent::Failed { id, reason } => ends.0 = Some((id, reason)),
                FileEvent::Accepted { .. } => {}
                other => panic!("alice: {other:?}"),
            }
        }
        for e in b {
            match e {
                FileEvent::Data { .. } => {}
                FileEvent::Cancelled { .. } => ends.1 = Some(()),
                other => panic!("bob: {other:?}"),
            }
        }
        if ends.0.is_some() && ends.1.is_some() {
            break;
        }
    }
    assert_eq!(ends.0, Some((sent, FailReason::PeerGone)));
    assert_eq!(ends.1, Some(()), "Bob heard BYE");
    assert_eq!(net.sb_data, 0, "nothing went on by switchboard");
    assert_eq!(net.alice.transfers() + net.bob.transfers(), 0);
}
