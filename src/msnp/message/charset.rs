//! Decoding a message body by the `charset` parameter of its `Content-Type` (docs/protocol.md
//! §7.5).
//!
//! UTF-8 is the default and what every MSN client sends. The single-byte charsets old clients
//! declare are decoded by table; labels follow the WHATWG Encoding Standard, where `us-ascii` and
//! `iso-8859-1` mean windows-1252. Anything else is decoded as UTF-8 with U+FFFD for bad bytes and
//! flagged, so the text is shown, never dropped.

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

/// A supported charset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Windows1252,
    Latin9,
}

/// windows-1252 bytes 0x80–0x9F; `None` for the five unassigned ones.
const WINDOWS_1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// The eight ISO-8859-15 code points that differ from ISO-8859-1.
const LATIN9_CHANGES: [(u8, char); 8] = [
    (0xA4, '\u{20AC}'),
    (0xA6, '\u{0160}'),
    (0xA8, '\u{0161}'),
    (0xB4, '\u{017D}'),
    (0xB8, '\u{017E}'),
    (0xBC, '\u{0152}'),
    (0xBD, '\u{0153}'),
    (0xBE, '\u{0178}'),
];

impl Charset {
    fn from_label(label: &str) -> Option<Charset> {
        let label = label.trim().to_ascii_lowercase();
        match label.as_str() {
            "utf-8" | "utf8" | "unicode-1-1-utf-8" => Some(Charset::Utf8),
            "windows-1252" | "cp1252" | "x-cp1252" | "iso-8859-1" | "iso8859-1" | "iso_8859-1"
            | "latin1" | "l1" | "cp819" | "ibm819" | "us-ascii" | "ascii" => {
                Some(Charset::Windows1252)
            }
            "iso-8859-15" | "iso8859-15" | "iso_8859-15" | "latin9" | "l9" => Some(Charset::Latin9),
            _ => None,
        }
    }

    fn decode_byte(self, b: u8) -> Option<char> {
        match (self, b) {
            (_, 0..=0x7F) => Some(char::from(b)),
            (Charset::Windows1252, 0x80..=0x9F) => WINDOWS_1252_HIGH
                .get(usize::from(b - 0x80))
                .copied()
                .flatten(),
            (Charset::Latin9, _) => Some(
                LATIN9_CHANGES
                    .iter()
                    .find(|(byte, _)| *byte == b)
                    .map_or(char::from(b), |(_, c)| *c),
            ),
            _ => Some(char::from(b)),
        }
    }
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

/// Decodes `body` in `charset` (UTF-8 when `None`).
pub fn decode(body: &[u8], charset: Option<&str>) -> DecodedText {
    let known = match charset {
        None => Some(Charset::Utf8),
        Some(label) => Charset::from_label(label),
    };
    match known {
        Some(Charset::Utf8) => decode_utf8(body, None),
        Some(single_byte) => {
            let mut issue = None;
            let text = body
                .iter()
                .map(|&b| {
                    single_byte.decode_byte(b).unwrap_or_else(|| {
                        issue = Some(CharsetIssue::InvalidBytes);
                        char::REPLACEMENT_CHARACTER
                    })
                })
                .collect();
            DecodedText { text, issue }
        }
        None => {
            let label: String = charset
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(MAX_LABEL)
                .collect();
            decode_utf8(body, Some(CharsetIssue::Unsupported(label)))
        }
    }
}

fn decode_utf8(body: &[u8], issue: Option<CharsetIssue>) -> DecodedText {
    match std::str::from_utf8(body) {
        Ok(text) => DecodedText {
            text: text.to_owned(),
            issue,
        },
        Err(_) => DecodedText {
            text: String::from_utf8_lossy(body).into_owned(),
            issue: issue.or(Some(CharsetIssue::InvalidBytes)),
        },
    }
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
