//! The P2P version 1 packet: a 48-byte little-endian binary header, the payload, and a 4-byte
//! big-endian footer holding the application id (as Pidgin's `libpurple/protocols/msn/p2p.c`
//! reads and writes it).

use thiserror::Error;

/// Length of the binary header.
pub const HEADER_LEN: usize = 48;
/// Length of the footer (the application id, big-endian).
pub const FOOTER_LEN: usize = 4;

/// Header flags (Pidgin's `p2p.h`).
pub mod flags {
    /// A plain message: MSNSLP text or a data-preparation message.
    pub const NONE: u32 = 0x0;
    /// An acknowledgement.
    pub const ACK: u32 = 0x2;
    /// A binary-level error (negative acknowledgement).
    pub const ERROR: u32 = 0x8;
    /// File data (older clients).
    pub const FILE: u32 = 0x10;
    /// MSNObject data: display pictures, emoticons, winks.
    pub const MSN_OBJECT_DATA: u32 = 0x20;
    /// The sender closed or aborted the session.
    pub const CLOSE: u32 = 0x40;
    /// A transport-level error.
    pub const TLP_ERROR: u32 = 0x80;
    /// The compatibility bit Windows Live Messenger 2009 adds to data packets.
    pub const WLM2009: u32 = 0x0100_0000;
    /// File data as Windows Live Messenger sends it.
    pub const FILE_DATA: u32 = 0x0100_0030;
}

/// Footer application ids.
pub mod app_id {
    /// MSNSLP signalling and acknowledgements.
    pub const SLP: u32 = 0;
    /// MSNObject data (MSN Messenger 7).
    pub const OBJECT: u32 = 1;
    /// File transfer.
    pub const FILE: u32 = 2;
    /// Custom emoticon (Windows Live Messenger).
    pub const EMOTICON: u32 = 11;
    /// Display picture (Windows Live Messenger).
    pub const DISPLAY_PICTURE: u32 = 12;
}

/// The 48-byte binary header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// 0 for MSNSLP signalling; the negotiated session id for data.
    pub session_id: u32,
    /// The message id; all chunks of one message share it.
    pub id: u32,
    /// Where this chunk starts within the message.
    pub offset: u64,
    /// Size of the whole message.
    pub total_size: u64,
    /// Payload bytes in this chunk.
    pub length: u32,
    /// See [`flags`].
    pub flags: u32,
    /// Random for a message; in an acknowledgement, the acked message's `id`.
    pub ack_id: u32,
    /// In an acknowledgement, the acked message's `ack_id`.
    pub ack_uid: u32,
    /// In an acknowledgement, the acked message's `total_size`.
    pub ack_size: u64,
}

/// Why bytes are not a P2P packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PacketError {
    /// Fewer bytes than a header and a footer.
    #[error("P2P packet of {0} bytes is shorter than header and footer")]
    Short(usize),
    /// The header's `length` does not match the payload present.
    #[error("P2P header declares {declared} payload bytes, {actual} present")]
    Length {
        /// The header's `length`.
        declared: u32,
        /// The bytes between header and footer.
        actual: usize,
    },
    /// `offset + length` goes beyond `total_size`.
    #[error("P2P chunk at {offset}+{length} lies beyond the total of {total}")]
    BeyondTotal {
        /// The chunk's offset.
        offset: u64,
        /// The chunk's length.
        length: u32,
        /// The declared total.
        total: u64,
    },
}

impl Header {
    /// Reads the first 48 bytes.
    pub fn parse(bytes: &[u8]) -> Result<Header, PacketError> {
        let b: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(PacketError::Short(bytes.len()))?;
        let u32_at = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let u64_at = |at: usize| u64::from(u32_at(at)) | (u64::from(u32_at(at + 4)) << 32);
        Ok(Header {
            session_id: u32_at(0),
            id: u32_at(4),
            offset: u64_at(8),
            total_size: u64_at(16),
            length: u32_at(24),
            flags: u32_at(28),
            ack_id: u32_at(32),
            ack_uid: u32_at(36),
            ack_size: u64_at(40),
        })
    }

    /// The 48 wire bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.session_id.to_le_bytes());
        out[4..8].copy_from_slice(&self.id.to_le_bytes());
        out[8..16].copy_from_slice(&self.offset.to_le_bytes());
        out[16..24].copy_from_slice(&self.total_size.to_le_bytes());
        out[24..28].copy_from_slice(&self.length.to_le_bytes());
        out[28..32].copy_from_slice(&self.flags.to_le_bytes());
        out[32..36].copy_from_slice(&self.ack_id.to_le_bytes());
        out[36..40].copy_from_slice(&self.ack_uid.to_le_bytes());
        out[40..48].copy_from_slice(&self.ack_size.to_le_bytes());
        out
    }

    /// Whether this is an acknowledgement.
    pub fn is_ack(&self) -> bool {
        self.flags & flags::ACK != 0
    }

    /// The acknowledgement of the message this header completes, with the new message id
    /// `id` (as Pidgin's `msn_p2p_info_create_ack`).
    pub fn ack(&self, id: u32) -> Header {
        Header {
            session_id: self.session_id,
            id,
            offset: 0,
            total_size: self.total_size,
            length: 0,
            flags: flags::ACK,
            ack_id: self.id,
            ack_uid: self.ack_id,
            ack_size: self.total_size,
        }
    }
}

/// One P2P packet: header, payload and footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The binary header.
    pub header: Header,
    /// The payload (`header.length` bytes).
    pub payload: Vec<u8>,
    /// The footer's application id.
    pub app_id: u32,
}

impl Packet {
    /// Reads a whole packet; the payload must be exactly `length` bytes and lie within the
    /// declared total.
    pub fn parse(bytes: &[u8]) -> Result<Packet, PacketError> {
        if bytes.len() < HEADER_LEN + FOOTER_LEN {
            return Err(PacketError::Short(bytes.len()));
        }
        let header = Header::parse(bytes)?;
        let (rest, footer) = bytes.split_at(bytes.len() - FOOTER_LEN);
        let app_id = u32::from_be_bytes([footer[0], footer[1], footer[2], footer[3]]);
        Packet::checked(header, &rest[HEADER_LEN..], app_id)
    }

    /// The packet of `header` and `payload`, which must be exactly `length` bytes and lie
    /// within the declared total.
    pub(super) fn checked(
        header: Header,
        payload: &[u8],
        app_id: u32,
    ) -> Result<Packet, PacketError> {
        if usize::try_from(header.length).ok() != Some(payload.len()) {
            return Err(PacketError::Length {
                declared: header.length,
                actual: payload.len(),
            });
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
            });
        }
        Ok(Packet {
            header,
            payload: payload.to_vec(),
            app_id,
        })
    }

    /// The wire bytes; `header.length` is written as given.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len() + FOOTER_LEN);
        out.extend_from_slice(&self.header.encode());
        out.extend_from_slice(&self.payload);
        out.extend_from_slice(&self.app_id.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/p2p_v1.json"
        );
        let text = std::fs::read_to_string(path).expect("read p2p_v1.json");
        serde_json::from_str(&text).expect("parse p2p_v1.json")
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn fields(v: &Value) -> Header {
        let n = |name: &str| v[name].as_u64().expect(name);
        let w = |name: &str| u32::try_from(n(name)).expect(name);
        Header {
            session_id: w("session_id"),
            id: w("id"),
            offset: n("offset"),
            total_size: n("total_size"),
            length: w("length"),
            flags: w("flags"),
            ack_id: w("ack_id"),
            ack_uid: w("ack_uid"),
            ack_size: n("ack_size"),
        }
    }

    #[test]
    fn headers_match_the_vectors_both_ways() {
        let v = vectors();
        for name in ["slp_invite_header", "ack_header"] {
            let bytes = unhex(v[format!("{name}_hex")].as_str().unwrap());
            let expected = fields(&v[format!("{name}_fields")]);
            assert_eq!(Header::parse(&bytes), Ok(expected), "{name}");
            assert_eq!(expected.encode().to_vec(), bytes, "{name}");
        }
    }

    #[test]
    fn the_ack_of_the_invite_is_the_vector_ack() {
        let v = vectors();
        let invite = fields(&v["slp_invite_header_fields"]);
        assert_eq!(invite.ack(1001), fields(&v["ack_header_fields"]));
        assert!(invite.ack(1001).is_ack() && !invite.is_ack());
    }

    #[test]
    fn footers_are_big_endian() {
        let v = vectors();
        for (name, app) in [
            ("footer_display_picture_hex", app_id::OBJECT),
            ("footer_file_hex", app_id::FILE),
        ] {
            let packet = Packet {
                header: Header::default(),
                payload: Vec::new(),
                app_id: app,
            };
            let bytes = packet.encode();
            assert_eq!(bytes[HEADER_LEN..], unhex(v[name].as_str().unwrap())[..]);
            assert_eq!(Packet::parse(&bytes), Ok(packet));
        }
    }

    #[test]
    fn zero_length_and_short_packets_are_refused() {
        assert_eq!(Packet::parse(&[]), Err(PacketError::Short(0)));
        assert_eq!(Header::parse(&[0; 47]), Err(PacketError::Short(47)));
        assert_eq!(Packet::parse(&[0; 51]), Err(PacketError::Short(51)));
        assert!(Packet::parse(&[0; 52]).is_ok());
    }

    #[test]
    fn the_payload_must_match_the_declared_length() {
        let header = Header {
            total_size: 10,
            length: 10,
            ..Header::default()
        };
        let mut bytes = header.encode().to_vec();
        bytes.extend_from_slice(&[0; 9 + FOOTER_LEN]);
        assert_eq!(
            Packet::parse(&bytes),
            Err(PacketError::Length {
                declared: 10,
                actual: 9
            })
        );
    }

    #[test]
    fn a_chunk_beyond_the_total_is_refused() {
        for (offset, length, total) in [(5, 6, 10), (u64::MAX, 1, u64::MAX), (0, 1, 0)] {
            let packet = Packet {
                header: Header {
                    offset,
                    length,
                    total_size: total,
                    ..Header::default()
                },
                payload: vec![0; length as usize],
                app_id: 1,
            };
            assert_eq!(
                Packet::parse(&packet.encode()),
                Err(PacketError::BeyondTotal {
                    offset,
                    length,
                    total
                })
            );
        }
    }
}
