//! Percent-encoding of command arguments (docs/protocol.md §0).
//!
//! Escargot encodes every argument it sends and decodes every argument it receives, so names,
//! group names and MSNObjects travel as `%20`-style escapes. Decoding is lenient (a `%` that is not
//! followed by two hex digits stays as it is) but never lets a line break or NUL through.

/// The character put in place of CR, LF and NUL found in a decoded argument.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Decodes the `%XX` escapes of a received argument.
///
/// Invalid UTF-8 after decoding becomes U+FFFD, and so do CR, LF and NUL (escaped or not), so a
/// decoded argument can never carry a line break into a log, a header or another command.
pub fn decode(raw: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let escaped = match (b, raw.get(i + 1), raw.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => hex_value(hi).zip(hex_value(lo)),
            _ => None,
        };
        match escaped {
            Some((hi, lo)) => {
                bytes.push((hi << 4) | lo);
                i += 3;
            }
            None => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    if text.contains(['\r', '\n', '\0']) {
        text.replace(['\r', '\n', '\0'], &REPLACEMENT.to_string())
    } else {
        text.into_owned()
    }
}

/// Appends `arg` to `out` percent-encoded: `%`, space, ASCII control characters (CR, LF, NUL,
/// TAB, DEL, …) and every non-ASCII byte become `%XX`, so the result is one printable ASCII token.
pub fn encode_into(arg: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in arg.as_bytes() {
        if needs_escape(b) {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0F)]]);
        } else {
            out.push(b);
        }
    }
}

/// [`encode_into`] returning a new `String`.
pub fn encode(arg: &str) -> String {
    let mut out = Vec::with_capacity(arg.len());
    encode_into(arg, &mut out);
    // Every byte written is printable ASCII.
    String::from_utf8_lossy(&out).into_owned()
}

fn needs_escape(b: u8) -> bool {
    b == b'%' || b == b' ' || !(0x20..0x7F).contains(&b)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escargot_arguments() {
        assert_eq!(decode(b"Alice%20(probe)"), "Alice (probe)");
        assert_eq!(decode(b"Other%20Contacts"), "Other Contacts");
        assert_eq!(decode(b"%3Cmsnobj%2F%3E"), "<msnobj/>");
        assert_eq!(decode(b"100%25"), "100%");
        assert_eq!(decode(b"h%C3%A9llo"), "h\u{e9}llo");
    }

    #[test]
    fn leaves_malformed_escapes_alone() {
        assert_eq!(decode(b"50%"), "50%");
        assert_eq!(decode(b"%4"), "%4");
        assert_eq!(decode(b"%zz%41"), "%zzA");
        assert_eq!(decode(b"%%41"), "%A");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        assert_eq!(decode(b"a%FFb"), "a\u{FFFD}b");
        assert_eq!(decode(b"a\xC3"), "a\u{FFFD}");
    }

    #[test]
    fn line_breaks_and_nul_never_survive_decoding() {
        for raw in [
            &b"x%0D%0AOUT"[..],
            b"x%0aOUT",
            b"x%00y",
            b"x\ry",
            b"x\ny",
            b"x\0y",
        ] {
            let decoded = decode(raw);
            assert!(
                !decoded.contains(['\r', '\n', '\0']),
                "{raw:?} -> {decoded:?}"
            );
            assert!(decoded.contains(REPLACEMENT));
        }
    }

    #[test]
    fn encodes_separators_controls_and_non_ascii() {
        assert_eq!(encode("Alice (probe)"), "Alice%20(probe)");
        assert_eq!(encode("100%"), "100%25");
        assert_eq!(encode("a\r\nb\tc\0\u{7f}"), "a%0D%0Ab%09c%00%7F");
        assert_eq!(encode("h\u{e9}"), "h%C3%A9");
        assert_eq!(encode("alice@example.com"), "alice@example.com");
        assert_eq!(encode("t=abc&p=+/="), "t=abc&p=+/=");
    }

    #[test]
    fn encode_then_decode_is_identity_without_line_breaks() {
        for s in [
            "",
            "plain",
            "two words",
            "%41",
            "\u{263a} smile",
            "tab\there",
            "~!@#$^&*()",
        ] {
            let encoded = encode(s);
            assert!(encoded.bytes().all(|b| b.is_ascii_graphic()), "{encoded}");
            assert_eq!(decode(encoded.as_bytes()), s);
        }
    }
}
