//! Decoding a message body by the `charset` parameter of its `Content-Type` (docs/protocol.md
//! §7.5).
//!
//! UTF-8 is the default and what every MSN client sends. Other charsets are decoded by
//! `encoding_rs`; labels follow the WHATWG Encoding Standard, where `us-ascii` and `iso-8859-1`
//! mean windows-1252. An unknown label is decoded as UTF-8 with U+FFFD for bad bytes and
//! flagged, so the text is shown, never dropped.

use encoding_rs::{Encoding, ISO_8859_15, UTF_8, WINDOWS_1252};

/// Longest charset label kept in a [`CharsetIssue::Unsupported`].
const MAX_LABEL: usize = 40;

/// Why a decoded text may not be exactly what the sender typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CharsetIssue {
    /// The declared charset is not supported; the body was read as UTF-8 (label as sent,
    /// printable ASCII only, at most 40 characters).
    Unsupported(String),
    /// Some bytes are invalid in the charset and were replaced by U+FFFD.
    InvalidBytes,
}

/// A decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedText {
    /// The text, with U+FFFD where bytes could not be decoded.
    pub text: String,
    /// Set when the text is not a faithful decoding.
    pub issue: Option<CharsetIssue>,
}

/// The `charset` parameter of a `Content-Type` value (`text/plain; charset=UTF-8`), unquoted.
/// Tolerates missing `;`, spaces around `=` and an unterminated quote.
pub fn charset_parameter(content_type: &[u8]) -> Option<String> {
    let value = String::from_utf8_lossy(content_type);
    value.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .map_or(value, |v| v.split('"').next().unwrap_or_default());
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// Labels old clients send that the WHATWG list lacks, with the encoding they mean.
const EXTRA_LABELS: [(&str, &Encoding); 2] = [("latin-1", WINDOWS_1252), ("latin9", ISO_8859_15)];

/// The encoding a charset label names (WHATWG labels, plus [`EXTRA_LABELS`]).
fn encoding_for(label: &str) -> Option<&'static Encoding> {
    let label = label.trim();
    Encoding::for_label_no_replacement(label.as_bytes()).or_else(|| {
        EXTRA_LABELS
            .iter()
            .find(|(extra, _)| label.eq_ignore_ascii_case(extra))
            .map(|(_, encoding)| *encoding)
    })
}

/// Decodes `body` in `charset` (UTF-8 when `None`). The one charset decoder of the core:
/// switchboard messages, offline messages and RFC 2047 words all go through it.
pub fn decode(body: &[u8], charset: Option<&str>) -> DecodedText {
    let Some(encoding) = charset.map_or(Some(UTF_8), encoding_for) else {
        let label: String = charset
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(MAX_LABEL)
            .collect();
        let (text, _) = UTF_8.decode_without_bom_handling(body);
        return DecodedText {
            text: text.into_owned(),
            issue: Some(CharsetIssue::Unsupported(label)),
        };
    };
    let (text, mut invalid) = encoding.decode_without_bom_handling(body);
    let mut text = text.into_owned();
    // WHATWG maps the bytes a single-byte charset leaves unassigned (windows-1252 0x81, 0x8D,
    // ...) to C1 controls; nobody types those, so they count as invalid bytes.
    if encoding != UTF_8 && text.contains(is_c1) {
        text = text.replace(is_c1, "\u{FFFD}");
        invalid = true;
    }
    DecodedText {
        text,
        issue: invalid.then_some(CharsetIssue::InvalidBytes),
    }
}

fn is_c1(c: char) -> bool {
    ('\u{80}'..='\u{9F}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_charset_parameter() {
        assert_eq!(
            charset_parameter(b"text/plain; charset=UTF-8").as_deref(),
            Some("UTF-8")
        );
        assert_eq!(
            charset_parameter(b"text/plain;CHARSET = \"iso-8859-1\"").as_deref(),
            Some("iso-8859-1")
        );
        assert_eq!(
            charset_parameter(b"text/plain; charset=\"windows-1252").as_deref(),
            Some("windows-1252")
        );
        assert_eq!(
            charset_parameter(b"text/plain; format=flowed; charset=cp1252").as_deref(),
            Some("cp1252")
        );
        for none in [
            &b"text/plain"[..],
            b"text/plain charset=UTF-8",
            b"text/plain; charset=",
            b"; charset=\"",
            b"",
        ] {
            assert_eq!(charset_parameter(none), None, "{none:?}");
        }
    }

    #[test]
    fn utf8_is_the_default_and_bad_bytes_are_flagged() {
        assert_eq!(
            decode("h\u{e9}llo \u{263a}".as_bytes(), None),
            DecodedText {
                text: "h\u{e9}llo \u{263a}".into(),
                issue: None
            }
        );
        assert_eq!(decode(b"ok", Some("utf8")).issue, None);
        let bad = decode(b"a\xffb\xc3", Some("UTF-8"));
        assert_eq!(bad.text, "a\u{FFFD}b\u{FFFD}");
        assert_eq!(bad.issue, Some(CharsetIssue::InvalidBytes));
    }

    #[test]
    fn single_byte_charsets_by_table() {
        let bytes = b"caf\xe9 \x80 \x93q\x94 \xa4";
        assert_eq!(
            decode(bytes, Some("windows-1252")).text,
            "caf\u{e9} \u{20ac} \u{201c}q\u{201d} \u{a4}"
        );
        assert_eq!(
            decode(bytes, Some("ISO-8859-1")).text,
            "caf\u{e9} \u{20ac} \u{201c}q\u{201d} \u{a4}"
        );
        assert_eq!(
            decode(b"\xa4\xbd\xe9", Some("iso-8859-15")).text,
            "\u{20ac}\u{153}\u{e9}"
        );
        let undefined = decode(b"x\x81y", Some("cp1252"));
        assert_eq!(
            undefined,
            DecodedText {
                text: "x\u{FFFD}y".into(),
                issue: Some(CharsetIssue::InvalidBytes)
            }
        );
    }

    #[test]
    fn unknown_charset_is_read_as_utf8_and_flagged() {
        let d = decode("\u{263a}".as_bytes(), Some("x-mac-klingon"));
        assert_eq!(d.text, "\u{263a}");
        assert_eq!(
            d.issue,
            Some(CharsetIssue::Unsupported("x-mac-klingon".into()))
        );
        let d = decode(b"\xff", Some("bad\r\nlabel"));
        assert_eq!(
            d,
            DecodedText {
                text: "\u{FFFD}".into(),
                issue: Some(CharsetIssue::Unsupported("badlabel".into()))
            }
        );
        let long = "x".repeat(500);
        let Some(CharsetIssue::Unsupported(label)) = decode(b"", Some(&long)).issue else {
            panic!()
        };
        assert_eq!(label.len(), MAX_LABEL);
    }
}
