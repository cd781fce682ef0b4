//! Cutting an outgoing P2P message into packets: every chunk keeps the message id and the total
//! and advances the offset; payloads are at most [`MAX_CHUNK`] bytes over a switchboard
//! (Pidgin's `MSN_SBCONN_MAX_SIZE`).

use std::sync::Arc;

use super::header::{Header, Packet};

/// Largest payload of one P2P packet sent through a switchboard.
pub const MAX_CHUNK: usize = 1202;

/// A message being sent, one chunk at a time.
#[derive(Debug, Clone)]
pub struct Outgoing {
    header: Header,
    data: Arc<[u8]>,
    app_id: u32,
    started: bool,
}

impl Outgoing {
    /// A message of `data` in session `session_id` (0 for MSNSLP) with message id `id`, the
    /// random `ack_id`, `flags` and footer `app_id`.
    pub fn new(
        session_id: u32,
        id: u32,
        ack_id: u32,
        flags: u32,
        data: Arc<[u8]>,
        app_id: u32,
    ) -> Outgoing {
        Outgoing {
            header: Header {
                session_id,
                id,
                total_size: data.len() as u64,
                flags,
                ack_id,
                ..Header::default()
            },
            data,
            app_id,
            started: false,
        }
    }

    /// The message id.
    pub fn id(&self) -> u32 {
        self.header.id
    }

    /// Whether every chunk has been taken.
    pub fn is_done(&self) -> bool {
        self.started && self.header.offset >= self.header.total_size
    }

    /// The next chunk (an empty message is one packet without payload); `None` when done.
    pub fn next_chunk(&mut self) -> Option<Packet> {
        if self.is_done() {
            return None;
        }
        self.started = true;
        let start = usize::try_from(self.header.offset).unwrap_or(usize::MAX);
        let payload = self.data.get(start..)?;
        let payload = payload[..payload.len().min(MAX_CHUNK)].to_vec();
        let mut header = self.header;
        header.length = payload.len() as u32;
        self.header.offset += payload.len() as u64;
        Some(Packet {
            header,
            payload,
            app_id: self.app_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(len: usize) -> Vec<Packet> {
        let data: Arc<[u8]> = (0..len).map(|i| i as u8).collect();
        let mut out = Outgoing::new(7, 100, 55, 0x20, data, 1);
        std::iter::from_fn(|| out.next_chunk()).collect()
    }

    #[test]
    fn messages_are_cut_at_1202_bytes() {
        for (len, count) in [(0, 1), (1, 1), (1202, 1), (1203, 2), (3 * 1202, 3)] {
            let packets = chunks(len);
            assert_eq!(packets.len(), count, "{len}");
            let mut joined = Vec::new();
            for p in &packets {
                assert!(p.payload.len() <= MAX_CHUNK);
                assert_eq!(p.header.offset, joined.len() as u64);
                assert_eq!(
                    (p.header.id, p.header.session_id, p.header.ack_id),
                    (100, 7, 55)
                );
                assert_eq!(p.header.total_size, len as u64);
                assert_eq!(p.header.length as usize, p.payload.len());
                joined.extend_from_slice(&p.payload);
                assert_eq!(Packet::parse(&p.encode()).as_ref(), Ok(p));
            }
            assert_eq!(joined, (0..len).map(|i| i as u8).collect::<Vec<_>>());
        }
    }
}
