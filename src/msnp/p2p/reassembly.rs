//! Reassembly of incoming P2P messages by (peer, session id, message id).
//!
//! Chunks must arrive in order (a switchboard keeps them so); each one is checked against the
//! total its message declared and the total against the cap the caller gives for that kind of
//! message. Buffers grow with the bytes received, never with what a peer claims, and at most
//! [`Limits::max_pending`] messages (fewer per peer) are open at once.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use thiserror::Error;

use super::header::{Header, Packet};

/// Bounds on messages being reassembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most messages open at once.
    pub max_pending: usize,
    /// Most messages open at once from one peer.
    pub max_pending_per_peer: usize,
    /// A message is dropped when no chunk came for this long.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pending: 16,
            max_pending_per_peer: 4,
            timeout: Duration::from_secs(60),
        }
    }
}

/// How many completed message ids are remembered to spot a reused one.
const RECENT: usize = 64;

/// Why a chunk was refused (the message it belonged to is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ReassemblyError {
    /// The declared total is over the cap for this message.
    #[error("P2P message of {total} bytes is over the cap of {cap}")]
    TooLarge {
        /// The declared total.
        total: u64,
        /// The cap.
        cap: u64,
    },
    /// The chunk does not start where the previous one ended.
    #[error("P2P chunk at offset {got}, expected {expected}")]
    OutOfOrder {
        /// Where the next chunk must start.
        expected: u64,
        /// Where it started.
        got: u64,
    },
    /// A chunk declared another total than the first.
    #[error("P2P chunk changed the message's total size")]
    TotalChanged,
    /// Too many messages open already.
    #[error("too many P2P messages in reassembly")]
    Busy,
    /// The message id was used by a message completed just before.
    #[error("P2P message id {0} reused")]
    ReusedId(u32),
}

/// A complete message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complete {
    /// The header of its last chunk (what an acknowledgement answers).
    pub header: Header,
    /// The whole payload.
    pub data: Vec<u8>,
    /// The footer's application id.
    pub app_id: u32,
}

#[derive(Debug)]
struct Pending {
    peer: String,
    session_id: u32,
    id: u32,
    total: u64,
    data: Vec<u8>,
    deadline: Instant,
}

/// Messages being reassembled.
#[derive(Debug)]
pub struct Reassembler {
    limits: Limits,
    pending: Vec<Pending>,
    recent: VecDeque<(String, u32, u32)>,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new(limits: Limits) -> Reassembler {
        Reassembler {
            limits,
            pending: Vec::new(),
            recent: VecDeque::new(),
        }
    }

    /// Messages open now.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes held by open messages.
    pub fn buffered(&self) -> usize {
        self.pending.iter().map(|p| p.data.capacity()).sum()
    }

    /// Adds a chunk from `peer`; the message may be at most `cap` bytes. Returns the message
    /// once its last chunk came.
    pub fn push(
        &mut self,
        peer: &str,
        packet: Packet,
        cap: u64,
        now: Instant,
    ) -> Result<Option<Complete>, ReassemblyError> {
        let h = packet.header;
        let at = self
            .pending
            .iter()
            .position(|p| p.session_id == h.session_id && p.id == h.id && p.peer == peer);
        let error = if h.total_size > cap {
            Some(ReassemblyError::TooLarge {
                total: h.total_size,
                cap,
            })
        } else if let Some(at) = at {
            let p = &self.pending[at];
            if p.total != h.total_size {
                Some(ReassemblyError::TotalChanged)
            } else if p.data.len() as u64 != h.offset {
                Some(ReassemblyError::OutOfOrder {
                    expected: p.data.len() as u64,
                    got: h.offset,
                })
            } else {
                None
            }
        } else if self.is_recent(peer, h.session_id, h.id) {
            Some(ReassemblyError::ReusedId(h.id))
        } else if h.offset != 0 {
            Some(ReassemblyError::OutOfOrder {
                expected: 0,
                got: h.offset,
            })
        } else {
            None
        };
        if let Some(error) = error {
            if let Some(at) = at {
                self.pending.swap_remove(at);
            }
            return Err(error);
        }
        let data = match at {
            Some(at) => {
                let p = &mut self.pending[at];
                p.data.extend_from_slice(&packet.payload);
                p.deadline = now + self.limits.timeout;
                if (p.data.len() as u64) < p.total {
                    return Ok(None);
                }
                self.pending.swap_remove(at).data
            }
            None if u64::from(h.length) == h.total_size => packet.payload,
            None => {
                let from_peer = self.pending.iter().filter(|p| p.peer == peer).count();
                if self.pending.len() >= self.limits.max_pending
                    || from_peer >= self.limits.max_pending_per_peer
                {
                    return Err(ReassemblyError::Busy);
                }
                self.pending.push(Pending {
                    peer: peer.to_owned(),
                    session_id: h.session_id,
                    id: h.id,
                    total: h.total_size,
                    data: packet.payload,
                    deadline: now + self.limits.timeout,
                });
                return Ok(None);
            }
        };
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((peer.to_owned(), h.session_id, h.id));
        Ok(Some(Complete {
            header: h,
            data,
            app_id: packet.app_id,
        }))
    }

    fn is_recent(&self, peer: &str, session_id: u32, id: u32) -> bool {
        self.recent
            .iter()
            .any(|(p, s, i)| *s == session_id && *i == id && p == peer)
    }

    /// Drops the open messages of `peer` in `session_id` (every session when `None`).
    pub fn drop_peer(&mut self, peer: &str, session_id: Option<u32>) {
        self.pending
            .retain(|p| p.peer != peer || session_id.is_some_and(|s| s != p.session_id));
        if session_id.is_none() {
            // A peer that comes back is a new client, free to reuse its message ids.
            self.recent.retain(|(p, ..)| p != peer);
        }
    }

    /// When the next open message lapses.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.deadline).min()
    }

    /// Drops the messages whose deadline passed; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.pending.len();
        self.pending.retain(|p| p.deadline > now);
        before - self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(session_id: u32, id: u32, offset: u64, total: u64, payload: &[u8]) -> Packet {
        Packet {
            header: Header {
                session_id,
                id,
                offset,
                total_size: total,
                length: payload.len() as u32,
                ..Header::default()
            },
            payload: payload.to_vec(),
            app_id: 1,
        }
    }

    fn start() -> (Reassembler, Instant) {
        (
            Reassembler::new(Limits::default()),
            crate::test_time_origin(),
        )
    }

    #[test]
    fn chunks_in_order_make_the_message() {
        let (mut r, now) = start();
        assert_eq!(r.push("bob", chunk(5, 1, 0, 6, b"abc"), 100, now), Ok(None));
        // Another peer's message with the same ids is another message.
        assert_eq!(r.push("eve", chunk(5, 1, 0, 6, b"xyz"), 100, now), Ok(None));
        let done = r.push("bob", chunk(5, 1, 3, 6, b"def"), 100, now).unwrap();
        assert_eq!(done.unwrap().data, b"abcdef");
        assert_eq!(r.pending(), 1);
        let whole = r.push("bob", chunk(0, 2, 0, 2, b"hi"), 100, now).unwrap();
        assert_eq!(whole.unwrap().data, b"hi");
        let empty = r.push("bob", chunk(0, 3, 0, 0, b""), 100, now).unwrap();
        assert_eq!(empty.unwrap().data, b"");
    }

    #[test]
    fn a_total_over_the_cap_is_refused_before_any_buffering() {
        let (mut r, now) = start();
        let claim = chunk(5, 1, 0, u64::MAX, b"abc");
        assert_eq!(
            r.push("bob", claim, 1000, now),
            Err(ReassemblyError::TooLarge {
                total: u64::MAX,
                cap: 1000
            })
        );
        assert_eq!((r.pending(), r.buffered()), (0, 0));
    }

    #[test]
    fn gaps_overlaps_and_changed_totals_drop_the_message() {
        let (mut r, now) = start();
        r.push("bob", chunk(5, 1, 0, 9, b"abc"), 100, now).unwrap();
        assert_eq!(
            r.push("bob", chunk(5, 1, 4, 9, b"e"), 100, now),
            Err(ReassemblyError::OutOfOrder {
                expected: 3,
                got: 4
            })
        );
        assert_eq!(r.pending(), 0);
        r.push("bob", chunk(5, 2, 0, 9, b"abc"), 100, now).unwrap();
        assert_eq!(
            r.push("bob", chunk(5, 2, 3, 8, b"d"), 100, now),
            Err(ReassemblyError::TotalChanged)
        );
        assert_eq!(
            r.push("bob", chunk(5, 3, 3, 9, b"d"), 100, now),
            Err(ReassemblyError::OutOfOrder {
                expected: 0,
                got: 3
            })
        );
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn a_reused_message_id_is_refused() {
        let (mut r, now) = start();
        assert!(r
            .push("bob", chunk(0, 9, 0, 2, b"hi"), 100, now)
            .unwrap()
            .is_some());
        assert_eq!(
            r.push("bob", chunk(0, 9, 0, 2, b"hi"), 100, now),
            Err(ReassemblyError::ReusedId(9))
        );
        // A restart of an open message drops it.
        r.push("bob", chunk(0, 10, 0, 4, b"ab"), 100, now).unwrap();
        assert!(r.push("bob", chunk(0, 10, 0, 4, b"ab"), 100, now).is_err());
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn open_messages_are_bounded_and_lapse() {
        let (mut r, now) = start();
        for id in 0..4 {
            r.push("bob", chunk(0, id, 0, 9, b"a"), 100, now).unwrap();
        }
        assert_eq!(
            r.push("bob", chunk(0, 4, 0, 9, b"a"), 100, now),
            Err(ReassemblyError::Busy)
        );
        for peer in 0..20 {
            let _ = r.push(&format!("p{peer}"), chunk(0, 1, 0, 9, b"a"), 100, now);
        }
        assert_eq!(r.pending(), Limits::default().max_pending);
        let later = now + Duration::from_secs(30);
        r.push("bob", chunk(0, 0, 1, 9, b"b"), 100, later).unwrap();
        assert_eq!(r.next_deadline(), Some(now + Limits::default().timeout));
        assert_eq!(r.expire(now + Limits::default().timeout), 15);
        assert_eq!(r.pending(), 1);
        r.drop_peer("bob", Some(1));
        assert_eq!(r.pending(), 1);
        r.drop_peer("bob", None);
        assert_eq!((r.pending(), r.next_deadline()), (0, None));
    }
}
