//! Parses arbitrary bytes as an MSNSLP message.
//!
//! Invariants: nothing panics; a parsed message has addresses without spaces or control
//! characters, GUID-shaped branch and Call-ID, at most 32 body fields with names free of `:`,
//! and no CR or LF in names or values; its encoding ends with a NUL and parses back to the
//! same message; the answers built from it (200, 603, 500, BYE) parse back to what was built;
//! `invite()` never panics and decodes no more bytes than its `Context` text holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::p2p::slp::{self, SlpMessage};

fn guid_shaped(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| {
            matches!(i, 8 | 13 | 18 | 23) == (b == b'-') && (b == b'-' || b.is_ascii_hexdigit())
        })
}

fn round_trip(message: &SlpMessage) {
    let bytes = message.encode();
    assert_eq!(bytes.last(), Some(&0), "body ends with NUL");
    assert_eq!(SlpMessage::parse(&bytes).as_ref(), Ok(message), "{bytes:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(message) = SlpMessage::parse(data) else {
        return;
    };
    for address in [&message.to, &message.from] {
        assert!(!address.is_empty() && !address.chars().any(|c| c.is_control() || c == ' '));
    }
    assert!(guid_shaped(&message.branch) && guid_shaped(&message.call_id));
    assert!(message.body.len() <= 32);
    for (name, value) in &message.body {
        assert!(!name.contains([':', '\r', '\n']) && !value.contains(['\r', '\n']));
        assert_eq!((name.trim(), value.trim()), (name.as_str(), value.as_str()));
    }
    round_trip(&message);
    if let Ok(invite) = message.invite() {
        match message.field("Context") {
            Some(text) => assert!(invite.context.len() <= text.len() / 4 * 3 + 3),
            None => assert!(invite.context.is_empty()),
        }
    }
    let session = message.session_id().unwrap_or(0);
    for code in [200, 603, 500] {
        let answer = slp::response(&message, code, session);
        assert_eq!(answer.session_id(), Some(session));
        round_trip(&answer);
    }
    round_trip(&slp::bye(
        &message.from,
        &message.to,
        message.branch.clone(),
        &message.call_id,
    ));
});
