//! Percent-encoding of command arguments (docs/protocol.md §0).
//!
//! Escargot encodes every argument it sends and decodes every argument it receives, so names,
//! group names and MSNObjects travel as `%20`-style escapes. Decoding is lenient (a `%` that is not
//! followed by two hex digits stays as it is) but never lets a line break or NUL through.

use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, CONTROLS};

/// The character put in place of CR, LF and NUL found in a decoded argument.
pub const REPLACEMENT: char = '\u{FFFD}';

/// What [`encode_into`] escapes: `%`, space, ASCII control characters (and, always, non-ASCII).
const ARG_ESCAPES: &AsciiSet = &CONTROLS.add(b'%').add(b' ');

/// Decodes the `%XX` escapes of a received argument.
///
/// Invalid UTF-8 after decoding becomes U+FFFD, and so do CR, LF and NUL (escaped or not), so a
/// decoded argument can never carry a line break into a log, a header or another command.
pub fn decode(raw: &[u8]) -> String {
    let text = percent_decode(raw).decode_utf8_lossy();
    if text.contains(['\r', '\n', '\0']) {
        text.replace(['\r', '\n', '\0'], &REPLACEMENT.to_string())
    } else {
        text.into_owned()
    }
}

/// Appends `arg` to `out` percent-encoded: `%`, space, ASCII control characters (CR, LF, NUL,
/// TAB, DEL, …) and every non-ASCII byte become `%XX`, so the result is one printable ASCII token.
pub fn encode_into(arg: &str, out: &mut Vec<u8>) {
    for piece in utf8_percent_encode(arg, ARG_ESCAPES) {
        out.extend_from_slice(piece.as_bytes());
    }
}

/// Appends `arg` URL-encoded as the official clients and Pidgin's URL encoder send an
/// MSNObject: every byte but ASCII letters, digits and `-_.!~*'()` becomes `%XX`.
pub fn encode_url_into(arg: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in arg.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0F)]]);
        }
    }
}

/// [`encode_into`] returning a new `String`.
pub fn encode(arg: &str) -> String {
    utf8_percent_encode(arg, ARG_ESCAPES).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escargot_arguments() {
        assert_eq!(decode(b"Alice%20(probe)"), "Alice (probe)");
        assert_eq!(decode(b"Other%20Contacts"), "Other Contacts");
        assert_eq!(decode(b"%3Cmsnobj%2F%3E"), "<msnobj/>");
        let mut url = Vec::new();
        encode_url_into("<msnobj Creator=\"a@b.c\" SHA1D=\"x+/=\"/>", &mut url);
        assert_eq!(
            url,
            b"%3Cmsnobj%20Creator%3D%22a%40b.c%22%20SHA1D%3D%22x%2B%2F%3D%22%2F%3E"
        );
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
