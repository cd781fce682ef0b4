//! GUID text: the 8-4-4-4-12 hex layout of MSNP's machine, contact, group and call ids.

/// Whether `text` has the 8-4-4-4-12 hex layout of a GUID (no braces).
pub(crate) fn is_guid(text: &[u8]) -> bool {
    text.len() == 36
        && text.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `bytes` in the order given as `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`, upper-case.
pub(crate) fn braced_upper(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "{{{}-{}-{}-{}-{}}}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_guids() {
        assert!(is_guid(b"dbd254aa-c066-4dc0-80db-f87fd43c2af2"));
        assert!(!is_guid(b"dbd254aa-c066-4dc0-80db-f87fd43c2af"));
        assert!(!is_guid(b"dbd254aaxc066-4dc0-80db-f87fd43c2af2"));
        assert!(!is_guid(b"Friends"));
    }

    #[test]
    fn writes_bytes_in_order() {
        let bytes: [u8; 16] = std::array::from_fn(|i| (i as u8) * 17);
        assert_eq!(
            braced_upper(&bytes),
            "{00112233-4455-6677-8899-AABBCCDDEEFF}"
        );
    }
}
