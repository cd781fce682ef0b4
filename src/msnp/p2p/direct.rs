//! A direct TCP connection between two clients, as Pidgin's
//! `libpurple/protocols/msn/directconn.c` frames it (`docs/protocol.md` §8.2): every packet is
//! preceded by its length (4 bytes, little-endian). The connecting side first sends `foo\0`,
//! then a handshake: a 48-byte P2P header with flags `0x100` and the negotiated nonce in its
//! last 16 bytes (the acknowledgement fields); the listening side checks it and answers with
//! the same. After that each frame is a P2P version 1 packet without footer, with at most
//! [`MAX_DIRECT_CHUNK`] bytes of payload.

use thiserror::Error;

use super::header::{Header, Packet, PacketError, HEADER_LEN};
use super::transreq::{Accepts, Nonce};

/// Largest payload of one P2P packet on a direct connection (Pidgin's `DC_MAX_BODY_SIZE`).
pub const MAX_DIRECT_CHUNK: usize = 1352;
/// Largest frame: a header and the largest payload.
const MAX_FRAME: usize = HEADER_LEN + MAX_DIRECT_CHUNK;
/// The first frame of the connecting side.
const FOO: &[u8; 4] = b"foo\0";
/// The handshake flag.
pub const HANDSHAKE: u32 = 0x100;

/// Why a direct connection is given up.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    /// A frame longer than any packet.
    #[error("direct-connection frame of {0} bytes")]
    Oversized(usize),
    /// The connecting side did not start with `foo`.
    #[error("direct connection without its foo packet")]
    NoFoo,
    /// The handshake is not a 48-byte header with flag `0x100`.
    #[error("bad direct-connection handshake")]
    BadHandshake,
    /// The handshake's nonce is not the negotiated one.
    #[error("direct-connection nonce mismatch")]
    NonceMismatch,
    /// A packet that does not parse.
    #[error(transparent)]
    Packet(#[from] PacketError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Listening side: waiting for `foo`.
    Foo,
    /// Listening side: waiting for the handshake.
    Handshake,
    /// Connecting side: waiting for the handshake's answer.
    Reply,
    /// Packets flow.
    Up,
}

/// One direct connection's framing and handshake, sans I/O: bytes in, packets and bytes out.
#[derive(Debug)]
pub struct DirectLink {
    state: State,
    accepts: Accepts,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl DirectLink {
    /// The connecting side: `foo` and the handshake with `nonce` (message id `id`) go out at
    /// once; the answer must carry a nonce `accepts` takes.
    pub fn connecting(nonce: Nonce, id: u32, accepts: Accepts) -> DirectLink {
        let mut link = DirectLink {
            state: State::Reply,
            accepts,
            input: Vec::new(),
            output: Vec::new(),
        };
        link.frame(FOO);
        link.frame(&handshake(nonce, id));
        link
    }

    /// The listening side, for a connection just accepted.
    pub fn accepted(accepts: Accepts) -> DirectLink {
        DirectLink {
            state: State::Foo,
            accepts,
            input: Vec::new(),
            output: Vec::new(),
        }
    }

    /// Whether the handshake is done.
    pub fn is_up(&self) -> bool {
        self.state == State::Up
    }

    /// Bytes that arrived; returns the packets they completed (none before the handshake is
    /// done). An error means the connection is to be closed.
    pub fn push(
        &mut self,
        bytes: &[u8],
        id: &mut dyn FnMut() -> u32,
    ) -> Result<Vec<Packet>, LinkError> {
        self.input.extend_from_slice(bytes);
        let mut packets = Vec::new();
        let mut at = 0;
        while let Some(len_bytes) = self.input.get(at..at + 4) {
            let len = u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]])
                as usize;
            if len > MAX_FRAME {
                return Err(LinkError::Oversized(len));
            }
            let Some(frame) = self.input.get(at + 4..at + 4 + len) else {
                break;
            };
            let frame = frame.to_vec();
            at += 4 + len;
            if let Some(packet) = self.frame_in(&frame, id)? {
                packets.push(packet);
            }
        }
        self.input.drain(..at);
        Ok(packets)
    }

    fn frame_in(
        &mut self,
        frame: &[u8],
        id: &mut dyn FnMut() -> u32,
    ) -> Result<Option<Packet>, LinkError> {
        match self.state {
            State::Foo => {
                if frame != FOO {
                    return Err(LinkError::NoFoo);
                }
                self.state = State::Handshake;
                Ok(None)
            }
            State::Handshake | State::Reply => {
                let nonce = read_handshake(frame)?;
                if !self.accepts.accepts(&nonce) {
                    return Err(LinkError::NonceMismatch);
                }
                if self.state == State::Handshake {
                    self.frame(&handshake(nonce, id()));
                }
                self.state = State::Up;
                Ok(None)
            }
            State::Up => {
                let header = Header::parse(frame)?;
                let payload = &frame[HEADER_LEN..];
                if header.length as usize != payload.len() {
                    return Err(PacketError::Length {
                        declared: header.length,
                        actual: payload.len(),
                    }
                    .into());
                }
                if header
                    .offset
                    .checked_add(u64::from(header.length))
                    .is_none_or(|end| end > header.total_size)
                {
                    return Err(PacketError::BeyondTotal {
                        offset: header.offset,
                        length: header.length,
                        total: header.total_size,
                    }
                    .into());
                }
                Ok(Some(Packet {
                    header,
                    payload: payload.to_vec(),
                    app_id: 0,
                }))
            }
        }
    }

    /// Queues a packet (its header and payload; a direct connection carries no footer).
    pub fn send(&mut self, packet: &Packet) {
        let len = (HEADER_LEN + packet.payload.len()) as u32;
        self.output.extend_from_slice(&len.to_le_bytes());
        self.output.extend_from_slice(&packet.header.encode());
        self.output.extend_from_slice(&packet.payload);
    }

    /// Bytes queued so far.
    pub fn queued(&self) -> usize {
        self.output.len()
    }

    /// Takes the bytes to write.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    fn frame(&mut self, body: &[u8]) {
        self.output
            .extend_from_slice(&(body.len() as u32).to_le_bytes());
        self.output.extend_from_slice(body);
    }
}

/// The handshake header: flags `0x100`, message id `id`, the nonce over the acknowledgement
/// fields.
fn handshake(nonce: Nonce, id: u32) -> [u8; HEADER_LEN] {
    let header = Header {
        id,
        flags: HANDSHAKE,
        ..Header::default()
    };
    let mut bytes = header.encode();
    bytes[32..48].copy_from_slice(&nonce.0);
    bytes
}

fn read_handshake(frame: &[u8]) -> Result<Nonce, LinkError> {
    if frame.len() != HEADER_LEN {
        return Err(LinkError::BadHandshake);
    }
    let header = Header::parse(frame)?;
    if header.flags & HANDSHAKE == 0 || header.length != 0 || header.session_id != 0 {
        return Err(LinkError::BadHandshake);
    }
    let mut nonce = [0u8; 16];
    nonce.copy_from_slice(&frame[32..48]);
    Ok(Nonce(nonce))
}

#[cfg(test)]
mod tests {
    use super::super::header::flags;
    use super::*;

    const N: Nonce = Nonce([0x5A; 16]);

    fn ids() -> impl FnMut() -> u32 {
        let mut n = 100;
        move || {
            n += 1;
            n
        }
    }

    fn data(offset: u64, len: usize) -> Packet {
        Packet {
            header: Header {
                session_id: 9,
                id: 3,
                offset,
                total_size: 10_000,
                length: len as u32,
                flags: flags::FILE_DATA,
                ..Header::default()
            },
            payload: vec![7; len],
            app_id: 0,
        }
    }

    /// Connects two links and moves bytes, `split` at a time, until quiet.
    fn connected(split: usize) -> (DirectLink, DirectLink) {
        let mut a = DirectLink::connecting(N, 1, Accepts::plain(N));
        let mut b = DirectLink::accepted(Accepts::plain(N));
        let mut id = ids();
        let out = a.take_output();
        assert_eq!(&out[..8], b"\x04\0\0\0foo\0", "foo comes first");
        assert_eq!(out.len(), 8 + 4 + 48);
        for part in out.chunks(split) {
            assert!(b.push(part, &mut id).unwrap().is_empty());
        }
        assert!(b.is_up());
        let reply = b.take_output();
        assert_eq!(reply.len(), 4 + 48);
        assert_eq!(&reply[4 + 32..], &N.0, "the reply echoes the nonce");
        assert!(a.push(&reply, &mut id).unwrap().is_empty());
        assert!(a.is_up());
        (a, b)
    }

    #[test]
    fn handshake_then_packets_in_both_directions() {
        for split in [1, 3, 1000] {
            let (mut a, mut b) = connected(split);
            let mut id = ids();
            a.send(&data(0, MAX_DIRECT_CHUNK));
            a.send(&data(MAX_DIRECT_CHUNK as u64, 5));
            let bytes = a.take_output();
            assert_eq!(bytes.len(), 2 * (4 + 48) + MAX_DIRECT_CHUNK + 5);
            let mut got = Vec::new();
            for part in bytes.chunks(split) {
                got.extend(b.push(part, &mut id).unwrap());
            }
            assert_eq!(
                got,
                vec![data(0, MAX_DIRECT_CHUNK), data(MAX_DIRECT_CHUNK as u64, 5)]
            );
            b.send(&data(0, 0));
            assert_eq!(a.push(&b.take_output(), &mut id).unwrap(), vec![data(0, 0)]);
        }
    }

    #[test]
    fn a_hashed_nonce_checks_the_handshake_of_windows_live_messenger() {
        let mut id = ids();
        let body = vec![("Hashed-Nonce".to_owned(), N.hashed().to_guid())];
        let mut b = DirectLink::accepted(Accepts::default().with_body(&body));
        let mut a = DirectLink::connecting(N, 1, Accepts::plain(N));
        assert!(b.push(&a.take_output(), &mut id).unwrap().is_empty());
        assert!(b.is_up());
        a.push(&b.take_output(), &mut id).unwrap();
        assert!(a.is_up());
    }

    #[test]
    fn a_wrong_nonce_or_random_bytes_end_the_link() {
        let mut id = ids();
        let mut b = DirectLink::accepted(Accepts::plain(N));
        let mut liar = DirectLink::connecting(Nonce([1; 16]), 1, Accepts::plain(N));
        assert_eq!(
            b.push(&liar.take_output(), &mut id),
            Err(LinkError::NonceMismatch)
        );
        assert!(!b.is_up());
        assert_eq!(b.take_output(), Vec::<u8>::new(), "no reply to a stranger");

        let mut a = DirectLink::connecting(N, 1, Accepts::plain(N));
        a.take_output();
        let mut reply = Vec::from(48u32.to_le_bytes());
        reply.extend_from_slice(&handshake(Nonce([2; 16]), 5));
        assert_eq!(a.push(&reply, &mut id), Err(LinkError::NonceMismatch));

        let mut b = DirectLink::accepted(Accepts::plain(N));
        assert_eq!(b.push(b"\x04\0\0\0bar\0", &mut id), Err(LinkError::NoFoo));
        let mut b = DirectLink::accepted(Accepts::plain(N));
        assert_eq!(
            b.push(b"\xff\xff\xff\x7fxxxx", &mut id),
            Err(LinkError::Oversized(0x7fff_ffff))
        );
        let mut b = DirectLink::accepted(Accepts::plain(N));
        let mut bad = Vec::from(&b"\x04\0\0\0foo\0"[..]);
        bad.extend_from_slice(&10u32.to_le_bytes());
        bad.extend_from_slice(&[0; 10]);
        assert_eq!(b.push(&bad, &mut id), Err(LinkError::BadHandshake));
        let mut b = DirectLink::accepted(Accepts::plain(N));
        let mut zero = Vec::from(&b"\x04\0\0\0foo\0"[..]);
        zero.extend_from_slice(&48u32.to_le_bytes());
        zero.extend_from_slice(&handshake(Nonce([0; 16]), 5));
        assert_eq!(b.push(&zero, &mut id), Err(LinkError::NonceMismatch));
    }

    #[test]
    fn packets_that_lie_about_their_length_end_the_link() {
        let (mut a, mut b) = connected(1000);
        let mut id = ids();
        let mut p = data(0, 10);
        p.header.length = 11;
        a.send(&p);
        assert!(matches!(
            b.push(&a.take_output(), &mut id),
            Err(LinkError::Packet(_))
        ));
        let (mut a, mut b) = connected(1000);
        let mut p = data(9_995, 10);
        p.header.total_size = 10_000;
        a.send(&p);
        assert!(matches!(
            b.push(&a.take_output(), &mut id),
            Err(LinkError::Packet(_))
        ));
    }
}
