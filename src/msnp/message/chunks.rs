//! Chunked messages (docs/protocol.md §7.8): a payload too big for one `MSG` travels as parts
//! sharing a
//! `Message-ID`. The first part carries `Chunks: <n>`, the original headers and the first slice of
//! the body; part `k` (1 … n-1) carries `Chunk: <k>` and the next slice. [`ChunkReassembler`]
//! puts them back together within hard bounds.

use super::{classify, MsgPayload};
use crate::mime::Mime;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Where a part sits in its chunked message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkPosition {
    /// The first part, announcing the number of parts.
    First {
        /// `Chunks: <n>`.
        chunks: u32,
    },
    /// A following part.
    Next {
        /// `Chunk: <k>`, from 1.
        index: u32,
    },
}

/// One part of a chunked message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPart {
    /// The `Message-ID` shared by all parts.
    pub message_id: String,
    /// Which part this is.
    pub position: ChunkPosition,
    /// The part's headers (without `Message-ID`, `Chunks` and `Chunk`) and body slice.
    pub mime: Mime,
}

/// Longest `Message-ID` taken as a chunk id (real ones are 38-character GUIDs).
const MAX_MESSAGE_ID: usize = 128;

impl ChunkPart {
    /// The part carried by `mime`, if it has a `Message-ID` (a GUID; at most
    /// [`MAX_MESSAGE_ID`] bytes, so ids cannot hold memory past the limits) and a numeric
    /// `Chunks` or `Chunk`.
    pub(super) fn from_mime(mime: &Mime) -> Option<ChunkPart> {
        let message_id = mime
            .header("Message-ID")
            .filter(|id| id.len() <= MAX_MESSAGE_ID)?;
        let number = |name| mime.header(name).and_then(|v| v.parse::<u32>().ok());
        let position = match (number("Chunks"), number("Chunk")) {
            (Some(chunks), _) => ChunkPosition::First { chunks },
            (None, Some(index)) => ChunkPosition::Next { index },
            (None, None) => return None,
        };
        let headers = mime
            .headers
            .iter()
            .filter(|(n, _)| {
                !["Message-ID", "Chunks", "Chunk"]
                    .iter()
                    .any(|c| n.eq_ignore_ascii_case(c))
            })
            .cloned()
            .collect();
        Some(ChunkPart {
            message_id: message_id.to_owned(),
            position,
            mime: Mime {
                headers,
                body: mime.body.clone(),
            },
        })
    }
}

/// Bounds on reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Most parts one message may announce (Pidgin refuses 1024 and more).
    pub max_chunks: u32,
    /// Largest reassembled message: header names and values plus body bytes.
    pub max_bytes: usize,
    /// Most messages being reassembled at once; a new one evicts the oldest.
    pub max_pending: usize,
    /// How long a message may take to arrive whole, from its first part.
    pub timeout: Duration,
}

impl Default for ChunkLimits {
    /// 1023 parts, 256 KiB, 8 messages, 60 s.
    fn default() -> Self {
        ChunkLimits {
            max_chunks: 1023,
            max_bytes: 256 * 1024,
            max_pending: 8,
            timeout: Duration::from_secs(60),
        }
    }
}

/// Why a part was refused. The message it belongs to, if any, is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ChunkError {
    /// `Chunks` is 0 or above [`ChunkLimits::max_chunks`].
    #[error("chunk count {0} out of range")]
    BadCount(u32),
    /// The message grew past [`ChunkLimits::max_bytes`].
    #[error("chunked message exceeds the size limit")]
    TooLarge,
    /// A part arrived out of order.
    #[error("chunk {got} arrived while {expected} was expected")]
    OutOfOrder {
        /// The index awaited.
        expected: u32,
        /// The index received.
        got: u32,
    },
    /// A following part of a message not being reassembled (never started, dropped or expired).
    #[error("chunk of an unknown message")]
    UnknownMessage,
}

/// A message being reassembled.
#[derive(Debug)]
struct Pending {
    sender: String,
    message_id: String,
    chunks: u32,
    next: u32,
    mime: Mime,
    size: usize,
    started: Instant,
}

/// Reassembles chunked messages, keyed by sender and `Message-ID`.
#[derive(Debug)]
pub struct ChunkReassembler {
    limits: ChunkLimits,
    pending: Vec<Pending>,
}

impl ChunkReassembler {
    /// An empty reassembler.
    pub fn new(limits: ChunkLimits) -> Self {
        ChunkReassembler {
            limits,
            pending: Vec::new(),
        }
    }

    /// Takes a part from `sender`. Returns the whole message, classified, once its last part is
    /// in; `Ok(None)` while parts are missing. Messages older than the timeout are dropped first.
    pub fn push(
        &mut self,
        sender: &str,
        part: ChunkPart,
        now: Instant,
    ) -> Result<Option<MsgPayload>, ChunkError> {
        self.expire(now);
        let ChunkPart {
            message_id,
            position,
            mime,
        } = part;
        let found = self
            .pending
            .iter()
            .position(|p| p.sender == sender && p.message_id == message_id);
        match position {
            ChunkPosition::First { chunks } => {
                if let Some(at) = found {
                    log::warn!(
                        "chunked message restarted by its sender; dropping the earlier parts"
                    );
                    self.pending.remove(at);
                }
                if chunks == 0 || chunks > self.limits.max_chunks {
                    return Err(ChunkError::BadCount(chunks));
                }
                let size = mime
                    .headers
                    .iter()
                    .map(|(n, v)| n.len() + v.len())
                    .sum::<usize>()
                    + mime.body.len();
                if size > self.limits.max_bytes {
                    return Err(ChunkError::TooLarge);
                }
                if chunks == 1 {
                    return Ok(Some(classify(mime)));
                }
                if self.pending.len() >= self.limits.max_pending {
                    if let Some(oldest) = self
                        .pending
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, p)| p.started)
                        .map(|(i, _)| i)
                    {
                        log::warn!("too many chunked messages at once; dropping the oldest");
                        self.pending.remove(oldest);
                    }
                }
                let sender = sender.to_owned();
                self.pending.push(Pending {
                    sender,
                    message_id,
                    chunks,
                    next: 1,
                    mime,
                    size,
                    started: now,
                });
                Ok(None)
            }
            ChunkPosition::Next { index } => {
                let at = found.ok_or(ChunkError::UnknownMessage)?;
                let pending = self.pending.get_mut(at).ok_or(ChunkError::UnknownMessage)?;
                if index != pending.next {
                    let expected = pending.next;
                    self.pending.remove(at);
                    return Err(ChunkError::OutOfOrder {
                        expected,
                        got: index,
                    });
                }
                pending.size = pending.size.saturating_add(mime.body.len());
                if pending.size > self.limits.max_bytes {
                    self.pending.remove(at);
                    return Err(ChunkError::TooLarge);
                }
                pending.mime.body.extend_from_slice(&mime.body);
                pending.next += 1;
                if pending.next < pending.chunks {
                    return Ok(None);
                }
                Ok(Some(classify(self.pending.remove(at).mime)))
            }
        }
    }

    /// Drops the messages whose first part came a timeout or longer before `now`; returns how
    /// many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.pending.len();
        let timeout = self.limits.timeout;
        self.pending
            .retain(|p| now.saturating_duration_since(p.started) < timeout);
        let dropped = before - self.pending.len();
        if dropped > 0 {
            log::warn!("{dropped} chunked message(s) timed out incomplete");
        }
        dropped
    }

    /// When the oldest incomplete message times out, if there is one.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending
            .iter()
            .filter_map(|p| p.started.checked_add(self.limits.timeout))
            .min()
    }

    /// Number of messages being reassembled.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{MsgPayload, TextMessage};

    fn first(id: &str, chunks: u32, body: &str) -> Vec<u8> {
        format!(
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nMessage-ID: {id}\r\nChunks: {chunks}\r\n\r\n{body}"
        )
        .into_bytes()
    }

    fn next(id: &str, index: u32, body: &str) -> Vec<u8> {
        format!("Message-ID: {id}\r\nChunk: {index}\r\n\r\n{body}").into_bytes()
    }

    fn part(payload: &[u8]) -> ChunkPart {
        match MsgPayload::parse(payload) {
            MsgPayload::Chunk(part) => part,
            other => panic!("not a chunk: {other:?}"),
        }
    }

    fn text(payload: Option<MsgPayload>) -> String {
        match payload {
            Some(MsgPayload::Text(TextMessage { text, .. })) => text,
            other => panic!("not a text: {other:?}"),
        }
    }

    const ID: &str = "{6B9C1F2A-0E4D-4C55-9F1B-2A3C4D5E6F70}";

    #[test]
    fn reassembles_in_order_parts() {
        let now = crate::test_time_origin();
        let mut r = ChunkReassembler::new(ChunkLimits::default());
        assert_eq!(
            r.push("bob@example.com", part(&first(ID, 3, "h\u{e9}l")), now),
            Ok(None)
        );
        assert_eq!(
            r.push("bob@example.com", part(&next(ID, 1, "lo ")), now),
            Ok(None)
        );
        assert_eq!(r.pending(), 1);
        let done = r
            .push("bob@example.com", part(&next(ID, 2, "\u{263a}")), now)
            .unwrap();
        assert_eq!(text(done), "h\u{e9}llo \u{263a}");
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn a_single_chunk_message_is_complete_at_once() {
        let mut r = ChunkReassembler::new(ChunkLimits::default());
        assert_eq!(
            text(
                r.push("a", part(&first(ID, 1, "x")), crate::test_time_origin())
                    .unwrap()
            ),
            "x"
        );
    }

    #[test]
    fn parts_are_keyed_by_sender() {
        let now = crate::test_time_origin();
        let mut r = ChunkReassembler::new(ChunkLimits::default());
        r.push("a", part(&first(ID, 2, "A")), now).unwrap();
        r.push("b", part(&first(ID, 2, "B")), now).unwrap();
        assert_eq!(
            text(r.push("b", part(&next(ID, 1, "2")), now).unwrap()),
            "B2"
        );
        assert_eq!(
            text(r.push("a", part(&next(ID, 1, "1")), now).unwrap()),
            "A1"
        );
        assert_eq!(
            r.push("c", part(&next(ID, 1, "?")), now),
            Err(ChunkError::UnknownMessage)
        );
    }

    #[test]
    fn out_of_order_and_oversized_messages_are_dropped() {
        let now = crate::test_time_origin();
        let mut r = ChunkReassembler::new(ChunkLimits {
            max_bytes: 200,
            ..ChunkLimits::default()
        });
        r.push("a", part(&first(ID, 3, "x")), now).unwrap();
        assert_eq!(
            r.push("a", part(&next(ID, 2, "z")), now),
            Err(ChunkError::OutOfOrder {
                expected: 1,
                got: 2
            })
        );
        assert_eq!(r.pending(), 0);
        assert_eq!(
            r.push("a", part(&next(ID, 1, "y")), now),
            Err(ChunkError::UnknownMessage)
        );

        r.push("a", part(&first(ID, 3, "x")), now).unwrap();
        assert_eq!(
            r.push("a", part(&next(ID, 1, &"y".repeat(200))), now),
            Err(ChunkError::TooLarge)
        );
        assert_eq!(r.pending(), 0);
        assert_eq!(
            r.push("a", part(&first(ID, 3, &"x".repeat(300))), now),
            Err(ChunkError::TooLarge)
        );
    }

    #[test]
    fn chunk_counts_are_bounded() {
        let mut r = ChunkReassembler::new(ChunkLimits::default());
        let now = crate::test_time_origin();
        assert_eq!(
            r.push("a", part(&first(ID, 0, "")), now),
            Err(ChunkError::BadCount(0))
        );
        assert_eq!(
            r.push("a", part(&first(ID, 1024, "")), now),
            Err(ChunkError::BadCount(1024))
        );
        assert_eq!(r.push("a", part(&first(ID, 1023, "")), now), Ok(None));
    }

    #[test]
    fn pending_messages_are_bounded_and_expire() {
        let t0 = crate::test_time_origin();
        let limits = ChunkLimits {
            max_pending: 2,
            timeout: Duration::from_secs(10),
            ..ChunkLimits::default()
        };
        let mut r = ChunkReassembler::new(limits);
        r.push("a", part(&first("1", 2, "one")), t0).unwrap();
        r.push(
            "a",
            part(&first("2", 2, "two")),
            t0 + Duration::from_secs(1),
        )
        .unwrap();
        r.push(
            "a",
            part(&first("3", 2, "three")),
            t0 + Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(r.pending(), 2);
        assert_eq!(
            r.push("a", part(&next("1", 1, "!")), t0 + Duration::from_secs(3)),
            Err(ChunkError::UnknownMessage)
        );
        assert_eq!(r.next_deadline(), Some(t0 + Duration::from_secs(11)));
        assert_eq!(r.expire(t0 + Duration::from_secs(11)), 1);
        assert_eq!(
            r.push("a", part(&next("2", 1, "!")), t0 + Duration::from_secs(11)),
            Err(ChunkError::UnknownMessage)
        );
        assert_eq!(
            text(
                r.push("a", part(&next("3", 1, "!")), t0 + Duration::from_secs(11))
                    .unwrap()
            ),
            "three!"
        );
        assert_eq!(r.next_deadline(), None);
    }

    #[test]
    fn a_restarted_message_replaces_the_old_parts() {
        let now = crate::test_time_origin();
        let mut r = ChunkReassembler::new(ChunkLimits::default());
        r.push("a", part(&first(ID, 2, "old")), now).unwrap();
        r.push("a", part(&first(ID, 2, "new")), now).unwrap();
        assert_eq!(r.pending(), 1);
        assert_eq!(
            text(r.push("a", part(&next(ID, 1, "!")), now).unwrap()),
            "new!"
        );
    }

    #[test]
    fn an_overlong_message_id_is_not_a_chunk() {
        let id = "x".repeat(MAX_MESSAGE_ID + 1);
        let payload = format!("MIME-Version: 1.0\r\nContent-Type: text/plain\r\nMessage-ID: {id}\r\nChunks: 2\r\n\r\nhi");
        assert!(ChunkPart::from_mime(&Mime::parse(payload.as_bytes())).is_none());
        let ok = format!("MIME-Version: 1.0\r\nContent-Type: text/plain\r\nMessage-ID: {}\r\nChunks: 2\r\n\r\nhi", &id[1..]);
        assert!(ChunkPart::from_mime(&Mime::parse(ok.as_bytes())).is_some());
    }
}
