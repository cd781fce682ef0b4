//! Reads arbitrary bytes as the `UBX` document of our own account (MSNP16+ places).
//!
//! Invariants: nothing panics; at most `MAX_PLACES` places with unique (case-insensitive),
//! non-empty ids of at most `MAX_NAME_CHARS` characters; names trimmed, non-empty, within the
//! limit and free of control characters; the same input gives the same answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::session::contacts::{parse_places, MAX_NAME_CHARS, MAX_PLACES};

fuzz_target!(|data: &[u8]| {
    let Ok(places) = parse_places(data) else {
        assert!(parse_places(data).is_err());
        return;
    };
    assert_eq!(parse_places(data), Ok(places.clone()));
    assert!(places.len() <= MAX_PLACES);
    for (i, place) in places.iter().enumerate() {
        assert!(!place.id.is_empty());
        assert!(place.id.chars().count() <= MAX_NAME_CHARS);
        assert!(!place.id.chars().any(char::is_control));
        assert!(places[..i]
            .iter()
            .all(|other| !other.id.eq_ignore_ascii_case(&place.id)));
        if let Some(name) = &place.name {
            assert!(!name.is_empty() && name.trim() == name);
            assert!(name.len() <= MAX_NAME_CHARS);
            assert!(!name.chars().any(char::is_control));
        }
    }
});
