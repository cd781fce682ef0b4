//! File transfers between two P2P parts wired back to back.

use std::time::Instant;

use super::*;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

struct Pair {
    alice: P2p,
    bob: P2p,
    now: Instant,
}

/// Random words from a shared counter, so ids differ across calls.
fn words() -> impl FnMut() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEED: AtomicU32 = AtomicU32::new(99);
    || {
        let n = SEED.fetch_add(1, Ordering::Relaxed);
        n.wrapping_mul(2_654_435_761).rotate_left(7)
    }
}

impl Pair {
    fn new() -> Pair {
        let mut rng = words();
        Pair {
            alice: P2p::new(Config::new(ALICE), &mut rng),
            bob: P2p::new(Config::new(BOB), &mut rng),
            now: crate::test_time_origin(),
        }
    }

    /// Moves packets both ways until quiet; `room` says whether data may flow. Returns the
    /// events of Alice and Bob.
    fn run(&mut self, room: bool) -> (Vec<FileEvent>, Vec<FileEvent>) {
        let (mut a_events, mut b_events) = (Vec::new(), Vec::new());
        let store = |_: &str| None;
        loop {
            let mut busy = false;
            let now = self.now;
            let mut out = Vec::new();
            while let Some(t) = self.alice.poll_transmit(now) {
                out.push((true, t));
            }
            while let Some(t) = self.alice.poll_file_transmit(now, &|_| room) {
                out.push((true, t));
            }
            while let Some(t) = self.bob.poll_transmit(now) {
                out.push((false, t));
            }
            while let Some(t) = self.bob.poll_file_transmit(now, &|_| room) {
                out.push((false, t));
            }
            for (from_alice, t) in out {
                busy = true;
                let mut rng = words();
                let (to, from) = match from_alice {
                    true => (&mut self.bob, ALICE),
                    false => (&mut self.alice, BOB),
                };
                let _ = to.handle_packet(from, &t.packet, now, &store, &mut rng);
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
}

fn offered(events: &[FileEvent]) -> TransferId {
    events
        .iter()
        .find_map(|e| match e {
            FileEvent::Offered { id, .. } => Some(*id),
            _ => None,
        })
        .expect("an offer")
}

#[test]
fn a_file_streams_in_order_and_completes_on_both_sides() {
    for size in [0usize, 1, 1202, 1203, 100_000] {
        let mut p = Pair::new();
        let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let now = p.now;
        let mut rng = words();
        let sent = p
            .alice
            .offer_file(BOB, "../x/ré.bin", size as u64, now, &mut rng)
            .unwrap();
        let (_, b) = p.run(true);
        assert!(
            matches!(&b[..], [FileEvent::Offered { name, size: s, peer, .. }]
            if name == "ré.bin" && *s == size as u64 && peer == ALICE)
        );
        let got = offered(&b);
        let mut rng = words();
        assert!(p.bob.accept_file(got, now, &mut rng));
        let mut received = Vec::new();
        let mut supplied = 0;
        let mut done = (false, false);
        for _ in 0..10_000 {
            let (a, b) = p.run(true);
            for e in a {
                match e {
                    FileEvent::Accepted { id } => assert_eq!(id, sent),
                    FileEvent::WantData { id, max } => {
                        assert!(max <= 16 * MAX_CHUNK);
                        let end = (supplied + max).min(data.len());
                        p.alice.supply_file_data(id, &data[supplied..end]);
                        supplied = end;
                    }
                    FileEvent::Completed { .. } => done.0 = true,
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
        assert_eq!(done, (true, true), "size {size}");
        assert_eq!(received, data, "size {size}");
        assert_eq!((p.alice.transfers(), p.bob.transfers()), (0, 0));
    }
}

#[test]
fn no_data_flows_without_room() {
    let mut p = Pair::new();
    let now = p.now;
    let mut rng = words();
    let id = p.alice.offer_file(BOB, "f", 5000, now, &mut rng).unwrap();
    let (_, b) = p.run(false);
    let got = offered(&b);
    let mut rng = words();
    p.bob.accept_file(got, now, &mut rng);
    let (a, _) = p.run(false);
    assert!(a.contains(&FileEvent::Accepted { id }));
    p.alice.supply_file_data(id, &[1; 5000]);
    let (a, b) = p.run(false);
    assert!(a.is_empty() && b.is_empty(), "{a:?} {b:?}");
}

#[test]
fn decline_and_cancel_reach_the_other_side() {
    let mut p = Pair::new();
    let now = p.now;
    let mut rng = words();
    let id = p.alice.offer_file(BOB, "f", 10, now, &mut rng).unwrap();
    let (_, b) = p.run(true);
    let mut rng = words();
    p.bob.decline_file(offered(&b), &mut rng);
    let (a, _) = p.run(true);
    assert_eq!(a, [FileEvent::Declined { id }]);

    let mut rng = words();
    let id = p.alice.offer_file(BOB, "f", 10_000, now, &mut rng).unwrap();
    let (_, b) = p.run(true);
    let got = offered(&b);
    let mut rng = words();
    p.bob.accept_file(got, now, &mut rng);
    p.run(true);
    let mut rng = words();
    p.bob.cancel_file(got, &mut rng);
    let (a, b) = p.run(true);
    assert!(a.contains(&FileEvent::Cancelled { id }), "{a:?}");
    assert!(b.is_empty(), "{b:?}");
    assert_eq!((p.alice.transfers(), p.bob.transfers()), (0, 0));
}

#[test]
fn offers_over_the_limit_are_refused_both_ways() {
    let mut p = Pair::new();
    let now = p.now;
    p.bob.set_max_file(100);
    let mut rng = words();
    let id = p.alice.offer_file(BOB, "big", 101, now, &mut rng).unwrap();
    let (a, b) = p.run(true);
    assert_eq!(a, [FileEvent::Declined { id }]);
    assert!(matches!(
        &b[..],
        [FileEvent::Refused {
            size: Some(101),
            ..
        }]
    ));
    let mut rng = words();
    assert_eq!(
        p.bob.offer_file(ALICE, "big", 101, now, &mut rng),
        Err(RequestError::TooLarge)
    );
}

#[test]
fn an_unanswered_offer_times_out_with_a_bye() {
    let mut p = Pair::new();
    let now = p.now;
    let mut rng = words();
    let id = p.alice.offer_file(BOB, "f", 10, now, &mut rng).unwrap();
    while p.alice.poll_transmit(now).is_some() {}
    let due = p
        .alice
        .poll_timeout()
        .expect("a deadline while the offer waits");
    assert!(
        due > now + std::time::Duration::from_secs(60),
        "the user has time to answer"
    );
    p.alice.handle_timeout(due, &mut rng);
    assert_eq!(
        p.alice.poll_file_event(),
        Some(FileEvent::Failed {
            id,
            reason: FailReason::Timeout
        })
    );
    let bye = p.alice.poll_transmit(due).expect("the peer is told");
    let bye = Packet::parse(&bye.packet).unwrap();
    assert!(matches!(
        SlpMessage::parse(&bye.payload).unwrap().start,
        slp::StartLine::Request {
            method: slp::Method::Bye,
            ..
        }
    ));
    assert_eq!(p.alice.transfers(), 0);
}

#[test]
fn a_peer_going_away_fails_its_transfers_only() {
    let mut p = Pair::new();
    let now = p.now;
    let mut rng = words();
    let to_bob = p.alice.offer_file(BOB, "f", 10, now, &mut rng).unwrap();
    let to_carol = p
        .alice
        .offer_file("carol@example.com", "f", 10, now, &mut rng)
        .unwrap();
    p.alice.peer_gone(BOB);
    assert_eq!(
        p.alice.poll_file_event(),
        Some(FileEvent::Failed {
            id: to_bob,
            reason: FailReason::PeerGone
        })
    );
    assert_eq!(p.alice.poll_file_event(), None);
    assert_eq!(p.alice.transfers(), 1);
    p.alice.cancel_file(to_carol, &mut rng);
    assert_eq!(p.alice.transfers(), 0);
}
