//! Parses arbitrary bytes as a P2P version 1 packet (48-byte header, payload, 4-byte footer).
//!
//! Invariants: nothing panics; a packet parses exactly when it has a header and a footer, the
//! declared length matches the payload and the chunk lies within the declared total, and then
//! it encodes back to the same bytes; the header alone parses from any 48 bytes and encodes
//! back to them; its acknowledgement carries the acked id, ack id and total.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::p2p::header::{Header, Packet, PacketError, FOOTER_LEN, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    match Header::parse(data) {
        Ok(h) => {
            assert!(data.len() >= HEADER_LEN);
            assert_eq!(h.encode()[..], data[..HEADER_LEN]);
            let ack = h.ack(h.id.wrapping_add(1));
            assert!(ack.is_ack());
            assert_eq!(
                (
                    ack.ack_id,
                    ack.ack_uid,
                    ack.ack_size,
                    ack.length,
                    ack.offset
                ),
                (h.id, h.ack_id, h.total_size, 0, 0)
            );
        }
        Err(e) => assert_eq!(
            (e, data.len() < HEADER_LEN),
            (PacketError::Short(data.len()), true)
        ),
    }
    match Packet::parse(data) {
        Ok(p) => {
            assert_eq!(p.encode(), data, "not the same bytes");
            assert_eq!(p.payload.len(), p.header.length as usize);
            assert!(p.header.offset + u64::from(p.header.length) <= p.header.total_size);
        }
        Err(PacketError::Short(n)) => assert!(n == data.len() && n < HEADER_LEN + FOOTER_LEN),
        Err(PacketError::Length { declared, actual }) => {
            assert_eq!(actual, data.len() - HEADER_LEN - FOOTER_LEN);
            assert_ne!(declared as usize, actual);
        }
        Err(PacketError::BeyondTotal {
            offset,
            length,
            total,
        }) => assert!(offset
            .checked_add(u64::from(length))
            .is_none_or(|end| end > total)),
    }
});
