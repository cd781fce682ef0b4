//! Drives a `ChunkReassembler` with arbitrary parts from two senders, with small limits.
//!
//! The input is a little program: three bytes choose the limits, then each operation sends a
//! first part, a following part or an arbitrary payload (all through `MsgPayload::parse`), or
//! lets time pass.
//!
//! Invariants: nothing panics; never more than `max_pending` messages at once; the memory the
//! reassembler holds (counted by a tracking allocator) stays within what its limits allow; a
//! count is refused exactly when it is 0 or above `max_chunks`; a reassembled message is no
//! bigger than `max_bytes`; `next_deadline` is set exactly while messages are pending and
//! `expire` at that deadline drops at least one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::message::{
    ChunkError, ChunkLimits, ChunkPosition, ChunkReassembler, MsgPayload,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; only a counter is updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Reads the operation program.
struct Program<'a> {
    data: &'a [u8],
}

impl<'a> Program<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }
}

/// What a message may occupy besides its counted bytes: the pending entry, up to 64 header
/// pairs (their `String`s), the body's spare capacity (it grows by doubling), sender and id.
fn bound(limits: &ChunkLimits, longest_key: usize) -> usize {
    const ENTRY: usize = 256;
    const HEADERS: usize = 64 * 2 * std::mem::size_of::<String>();
    let per_message = ENTRY + HEADERS + 2 * limits.max_bytes + longest_key;
    // The pending list itself may have doubled its capacity once.
    2 * limits.max_pending * per_message
}

fn check_size(payload: &MsgPayload, limits: &ChunkLimits) {
    let size = match payload {
        MsgPayload::Text(message) => message.text.len() / 3,
        MsgPayload::P2p { body, .. } => body.len(),
        _ => 0,
    };
    assert!(
        size <= limits.max_bytes,
        "reassembled message of {size} bytes"
    );
}

fuzz_target!(|data: &[u8]| {
    let mut program = Program { data };
    let (Some(a), Some(b), Some(c)) = (program.byte(), program.byte(), program.byte()) else {
        return;
    };
    let limits = ChunkLimits {
        max_chunks: 1 + u32::from(a % 16),
        max_bytes: usize::from(b) * 16,
        max_pending: 1 + usize::from(c % 4),
        timeout: Duration::from_secs(30),
    };
    let senders = ["bob@example.com", "carol@example.com"];
    let start = Instant::now();
    let mut now = start;
    let mut longest_key = 0;

    let before = LIVE.load(Ordering::Relaxed);
    let mut reassembler = ChunkReassembler::new(limits);
    while let Some(op) = program.byte() {
        let sender = senders[usize::from(op & 1)];
        let payload = match (op >> 1) & 3 {
            kind @ (0 | 1) => {
                let number = program.byte().unwrap_or(0);
                let id_byte = program.byte().unwrap_or(0);
                // Mostly two short ids; sometimes a long one, to weigh ids against the limits.
                let id = match id_byte & 0x80 {
                    0 => format!("{{id-{}}}", id_byte % 2),
                    _ => "L".repeat(usize::from(id_byte & 0x7F) * 64),
                };
                let body_len = usize::from(program.byte().unwrap_or(0)) * 4;
                let body = program.bytes(body_len);
                let header = match kind {
                    0 => format!("MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nMessage-ID: {id}\r\nChunks: {number}\r\n\r\n"),
                    _ => format!("Message-ID: {id}\r\nChunk: {number}\r\n\r\n"),
                };
                [header.as_bytes(), body].concat()
            }
            2 => {
                let len = usize::from(program.byte().unwrap_or(0)) * 8;
                program.bytes(len).to_vec()
            }
            _ => {
                now += Duration::from_secs(u64::from(program.byte().unwrap_or(0)));
                let deadline = reassembler.next_deadline();
                assert_eq!(deadline.is_some(), reassembler.pending() > 0);
                let pending = reassembler.pending();
                let dropped = reassembler.expire(now);
                assert_eq!(pending - dropped, reassembler.pending());
                if deadline.is_some_and(|d| d <= now) {
                    assert!(dropped > 0, "a message outlived its deadline");
                }
                continue;
            }
        };
        let MsgPayload::Chunk(part) = MsgPayload::parse(&payload) else {
            continue;
        };
        longest_key = longest_key.max(part.message_id.len() + sender.len());
        let position = part.position;
        match reassembler.push(sender, part, now) {
            Ok(Some(message)) => check_size(&message, &limits),
            Ok(None) => {}
            Err(ChunkError::BadCount(n)) => {
                assert_eq!(position, ChunkPosition::First { chunks: n });
                assert!(n == 0 || n > limits.max_chunks, "count {n} refused");
            }
            Err(_) => {}
        }
        drop(payload);
        assert!(
            reassembler.pending() <= limits.max_pending,
            "too many pending messages"
        );
        let held = LIVE.load(Ordering::Relaxed).saturating_sub(before);
        assert!(
            held <= bound(&limits, longest_key),
            "reassembler holds {held} bytes with {limits:?}"
        );
    }
});
