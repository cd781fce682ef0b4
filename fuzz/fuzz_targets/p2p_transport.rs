//! Reads arbitrary bytes as an MSNSLP transport-upgrade message and as what a direct
//! connection's peer sends.
//!
//! Invariants: nothing panics; a request that `check_request` takes accepts some nonce; the
//! addresses `listening_addresses` gives are 1 to 8 usable IPv4 addresses with a non-zero port,
//! without duplicates; our answer to a request lists exactly the addresses we put in it; a
//! nonce's GUID text reads back as the same nonce; a direct connection's listening side given
//! the bytes never yields a packet before the handshake, nor one with more than 1352 payload
//! bytes or a length other than its header's, and after an error it is done.
#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use msnp::p2p::direct::{DirectLink, MAX_DIRECT_CHUNK};
use msnp::p2p::slp::SlpMessage;
use msnp::p2p::transreq::{self, Accepts, Nonce};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = SlpMessage::parse(data) {
        let body = &message.body;
        if let Ok(accepts) = transreq::check_request(body) {
            assert!(!accepts.is_empty());
            let ours = [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::LOCALHOST];
            let answer = transreq::response_body(body, &ours, 4242, 7);
            let listed = transreq::listening_addresses(&answer).unwrap();
            let ips: Vec<Ipv4Addr> = listed.iter().map(|a| *a.ip()).collect();
            assert_eq!(ips, ours);
            assert!(listed.iter().all(|a| a.port() == 4242));
        }
        if let Ok(addresses) = transreq::listening_addresses(body) {
            assert!((1..=transreq::MAX_ADDRESSES).contains(&addresses.len()));
            for (i, a) in addresses.iter().enumerate() {
                let ip = a.ip();
                assert!(a.port() != 0);
                assert!(!ip.is_unspecified() && !ip.is_broadcast() && !ip.is_multicast());
                assert!(!addresses[..i].contains(a));
            }
        }
        for (_, value) in body {
            if let Some(nonce) = Nonce::from_guid(value) {
                assert_eq!(Nonce::from_guid(&nonce.to_guid()), Some(nonce));
            }
        }
    }
    let nonce = Nonce([0x5A; 16]);
    let mut link = DirectLink::accepted(Accepts::plain(nonce));
    let mut id = 0u32;
    let mut next = || {
        id += 1;
        id
    };
    for part in data.chunks(97) {
        let up = link.is_up();
        match link.push(part, &mut next) {
            Ok(packets) => {
                assert!(packets.is_empty() || up || link.is_up());
                for p in packets {
                    assert!(p.payload.len() <= MAX_DIRECT_CHUNK);
                    assert_eq!(p.payload.len(), p.header.length as usize);
                }
            }
            Err(_) => break,
        }
    }
});
