//! Parses arbitrary text as an MSNObject.
//!
//! Invariants: nothing panics; a parsed object has a non-zero size, a Creator without spaces
//! or control characters, a Location and friendly name free of path separators, `..`, drive
//! colons and control characters, base64 SHA-1 digests; its canonical element parses back to
//! the same fields (SHA1C filled in when it was absent), and `matches` agrees with SHA1D.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::p2p::msnobj::{MsnObject, MAX_XML};

fn plain(name: &str) -> bool {
    !name.contains(['/', '\\', ':']) && !name.contains("..") && !name.chars().any(char::is_control)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(object) = MsnObject::parse(text) else {
        return;
    };
    assert!(object.xml.len() <= MAX_XML);
    assert!(object.size > 0);
    assert!(!object
        .creator
        .chars()
        .any(|c| c.is_control() || c.is_whitespace()));
    assert!(plain(&object.location), "{:?}", object.location);
    assert!(
        plain(&object.friendly_name()),
        "{:?}",
        object.friendly_name()
    );
    assert_eq!(object.sha1d.len(), 28);
    let again = MsnObject::parse(&object.to_xml()).expect("canonical form parses");
    let expected = MsnObject {
        sha1c: Some(
            object
                .sha1c
                .clone()
                .unwrap_or_else(|| object.computed_sha1c()),
        ),
        xml: object.to_xml(),
        ..object.clone()
    };
    assert_eq!(again, expected);
    assert!(!object.matches(b"") || object.size == 0);
});
