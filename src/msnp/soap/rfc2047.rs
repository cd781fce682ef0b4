//! RFC 2047 encoded words (`=?utf-8?B?QWxpY2U=?=`), used for friendly names in offline
//! messages; their charsets are decoded as message bodies are ([`message::decode`]).

use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::message;

/// Base64 as servers send it: trailing bits and missing padding are tolerated.
pub(crate) const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Longest header text decoded; anything after it is dropped.
const MAX_HEADER_TEXT: usize = 4096;

/// `text` as one UTF-8 base64 encoded word.
pub(crate) fn encode(text: &str) -> String {
    format!("=?utf-8?B?{}?=", STANDARD.encode(text))
}

/// Decodes the encoded words in a header value; other text is kept, whitespace between two
/// encoded words is dropped, malformed words stay as they are, and control characters are
/// removed from the result.
pub(crate) fn decode(value: &str) -> String {
    let value = truncate(value, MAX_HEADER_TEXT);
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, candidate) = rest.split_at(start);
        match decode_word(candidate) {
            Some((decoded, len)) => {
                if !(after_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&decoded);
                rest = candidate.get(len..).unwrap_or_default();
                after_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = candidate.get(2..).unwrap_or_default();
                after_word = false;
            }
        }
    }
    out.push_str(rest);
    out.chars().filter(|c| !c.is_control()).collect()
}

/// Decodes the encoded word at the start of `text`: its text and its length in bytes.
fn decode_word(text: &str) -> Option<(String, usize)> {
    let inner = text.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let payload = inner.get(..end)?;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"-_.:*".contains(&b);
    if charset.is_empty() || !charset.bytes().all(token) || payload.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => LENIENT_BASE64.decode(payload).ok()?,
        "Q" | "q" => decode_q(payload)?,
        _ => return None,
    };
    let len = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((message::decode(&bytes, Some(charset)).text, len))
}

/// The `Q` encoding: `_` is a space, `=XX` a byte.
fn decode_q(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = [bytes.next()?, bytes.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
            }
            b => out.push(b),
        }
    }
    Some(out)
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_and_standard_words_decode() {
        assert_eq!(decode("=?utf-8?B?QWxpY2U=?="), "Alice");
        assert_eq!(decode(&encode("Ålice ✉")), "Ålice ✉");
        assert_eq!(decode("=?ISO-8859-1?Q?Andr=E9_M?= <a@b>"), "André M <a@b>");
        assert_eq!(decode("=?utf-8?B?QQ==?= =?utf-8?B?Qg==?="), "AB");
        assert_eq!(decode("x =?utf-8?Q?y?= z"), "x y z");
        assert_eq!(decode("plain name"), "plain name");
    }

    #[test]
    fn malformed_words_are_kept_and_nothing_panics() {
        for odd in [
            "=?",
            "=??=",
            "=?utf-8?X?abc?=",
            "=?utf-8?B?***?=",
            "=?utf-8?Q?=G?=",
            "=?utf-8?Q?=",
            "=?utf-8?B?a b?=",
            "=?é?B?QQ==?=",
            "a=?b",
        ] {
            let out = decode(odd);
            assert!(out.contains("=?"), "{odd} -> {out}");
        }
        assert_eq!(decode("=?utf-8?B?/w==?="), "\u{FFFD}");
        assert_eq!(decode("=?utf-8?Q?a=0D=0Ab?="), "ab");
        assert_eq!(decode(&"é".repeat(MAX_HEADER_TEXT)).len(), MAX_HEADER_TEXT);
    }

    #[test]
    fn charsets() {
        let decode_charset = |bytes: &[u8], charset| message::decode(bytes, Some(charset)).text;
        assert_eq!(decode_charset(b"caf\xe9", "ISO-8859-1"), "café");
        assert_eq!(decode_charset(b"caf\xe9", "\"utf-8\""), "caf\u{FFFD}");
        assert_eq!(decode_charset("café".as_bytes(), "unknown"), "café");
        assert_eq!(truncate("aé", 2), "a");
    }
}
