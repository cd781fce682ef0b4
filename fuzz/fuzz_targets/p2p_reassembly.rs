//! Drives a P2P `Reassembler` with arbitrary chunks from three peers, with small limits.
//!
//! The input is a little program: three bytes choose the limits and the cap, then each
//! operation pushes a chunk (peer, session, message id, offset, total, payload) or lets time
//! pass.
//!
//! Invariants: nothing panics; never more than `max_pending` messages open; the bytes held stay
//! within twice the cap per open message; a completed message has exactly its declared total, is within the cap, and is the
//! concatenation of the chunks accepted for it (checked against a model); a total over the cap
//! is always refused; expiry at the next deadline drops at least one message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::p2p::header::{Header, Packet};
use msnp::p2p::reassembly::{Limits, Reassembler, ReassemblyError};
use std::collections::HashMap;
use std::time::{Duration, Instant};

mod program;
use program::Program;

fuzz_target!(|data: &[u8]| {
    let mut program = Program(data);
    let (Some(a), Some(b), Some(c)) = (program.byte(), program.byte(), program.byte()) else {
        return;
    };
    let limits = Limits {
        max_pending: 1 + usize::from(a % 8),
        max_pending_per_peer: 1 + usize::from(b % 4),
        timeout: Duration::from_secs(30),
    };
    let cap = u64::from(c) * 8;
    let peers = ["bob", "carol", "dave"];
    let mut now = Instant::now();
    let mut r = Reassembler::new(limits);
    // What the model expects each open message to hold so far.
    let mut model: HashMap<(usize, u32, u32), Vec<u8>> = HashMap::new();
    while let Some(op) = program.byte() {
        if op & 0xC0 == 0xC0 {
            now += Duration::from_secs(u64::from(program.take()));
            let deadline = r.next_deadline();
            assert_eq!(deadline.is_some(), r.pending() > 0);
            let dropped = r.expire(now);
            if deadline.is_some_and(|d| d <= now) {
                assert!(dropped > 0, "a message outlived its deadline");
            }
            continue;
        }
        let peer = usize::from(op % 3);
        let session_id = u32::from((op >> 2) & 1);
        let id = u32::from((op >> 3) & 3);
        let offset = u64::from(program.take()) * 4;
        let total = u64::from(program.take()) * 8;
        let length = usize::from(program.take());
        let payload = program.bytes(length).to_vec();
        if offset + payload.len() as u64 > total {
            continue; // `Packet::parse` refuses such chunks before reassembly.
        }
        let key = (peer, session_id, id);
        let packet = Packet {
            header: Header {
                session_id,
                id,
                offset,
                total_size: total,
                length: payload.len() as u32,
                ..Header::default()
            },
            payload: payload.clone(),
            app_id: 1,
        };
        match r.push(peers[peer], packet, cap, now) {
            Ok(None) => {
                assert!(total <= cap);
                if offset == 0 {
                    model.insert(key, payload);
                } else {
                    model
                        .get_mut(&key)
                        .expect("continued an open message")
                        .extend(payload);
                }
            }
            Ok(Some(done)) => {
                assert!(total <= cap);
                let mut expected = match offset {
                    0 => Vec::new(),
                    _ => model.remove(&key).expect("completed an open message"),
                };
                model.remove(&key);
                expected.extend(payload);
                assert_eq!(done.data.len() as u64, total);
                assert_eq!(done.data, expected);
            }
            Err(e) => {
                model.remove(&key);
                if total > cap {
                    assert_eq!(e, ReassemblyError::TooLarge { total, cap });
                }
            }
        }
        assert!(r.pending() <= limits.max_pending);
        assert!(r.buffered() as u64 <= 2 * cap * r.pending() as u64 + 64 * r.pending() as u64);
    }
});
