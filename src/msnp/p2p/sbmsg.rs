//! P2P packets inside switchboard `MSG` payloads (sent with ack mode `D`): a MIME header block
//! naming the addressee (`P2P-Dest`; MSNP16+ also `P2P-Src`, both as `address;{guid}`) and the
//! binary packet as body.

use super::super::message::MAX_PAYLOAD;
use super::super::mime::Mime;

/// The media type of a P2P payload.
pub const CONTENT_TYPE: &str = "application/x-msnmsgrp2p";

/// The `MSG` payload carrying `packet` to `dest` (from `src`, MSNP16+); `None` when it would
/// exceed what a switchboard accepts.
pub fn sb_payload(dest: &str, src: Option<&str>, packet: &[u8]) -> Option<Vec<u8>> {
    let mut head = format!("MIME-Version: 1.0\r\nContent-Type: {CONTENT_TYPE}\r\n");
    if let Some(src) = src {
        head.push_str(&format!("P2P-Src: {src}\r\n"));
    }
    head.push_str(&format!("P2P-Dest: {dest}\r\n\r\n"));
    let payload = [head.as_bytes(), packet].concat();
    (payload.len() <= MAX_PAYLOAD).then_some(payload)
}

/// A received P2P payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbP2p {
    /// `P2P-Src`, when sent (MSNP16+).
    pub src: Option<String>,
    /// `P2P-Dest`: only the named endpoint may process the packet.
    pub dest: Option<String>,
    /// The binary packet.
    pub packet: Vec<u8>,
}

impl SbP2p {
    /// Reads a payload; `None` unless its type is `application/x-msnmsgrp2p`.
    pub fn parse(payload: &[u8]) -> Option<SbP2p> {
        let mime = Mime::parse(payload);
        if mime.content_type()? != CONTENT_TYPE {
            return None;
        }
        Some(SbP2p {
            src: mime.header("P2P-Src").map(str::to_owned),
            dest: mime.header("P2P-Dest").map(str::to_owned),
            packet: mime.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_the_packet_byte_for_byte() {
        let packet: Vec<u8> = (0..=255).collect();
        let payload = sb_payload("bob@example.com", None, &packet).unwrap();
        let head = b"MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: bob@example.com\r\n\r\n";
        assert_eq!(payload[..head.len()], head[..]);
        assert_eq!(
            SbP2p::parse(&payload),
            Some(SbP2p {
                src: None,
                dest: Some("bob@example.com".into()),
                packet: packet.clone(),
            })
        );
        let guid = ";{00000000-0000-0000-0000-000000000001}";
        let payload = sb_payload(
            &format!("bob@example.com{guid}"),
            Some(&format!("a@b.c{guid}")),
            &packet,
        )
        .unwrap();
        let parsed = SbP2p::parse(&payload).unwrap();
        assert_eq!(parsed.src.unwrap(), format!("a@b.c{guid}"));
        assert_eq!(parsed.packet, packet);
        assert_eq!(SbP2p::parse(b"Content-Type: text/plain\r\n\r\nhi"), None);
    }

    #[test]
    fn a_full_chunk_fits_a_switchboard_message() {
        let packet = vec![0; 48 + super::super::chunk::MAX_CHUNK + 4];
        let guid = ";{00000000-0000-0000-0000-000000000001}";
        let long = format!("{}@example.com{guid}", "x".repeat(64));
        assert!(sb_payload(&long, Some(&long), &packet).is_some());
        assert!(sb_payload(&"x".repeat(400), None, &packet).is_none());
    }
}
