//! Classifies arbitrary switchboard `MSG` payloads.
//!
//! Invariants: nothing panics and the result is deterministic; every field respects its
//! documented bound (content type ≤ 100 lower-case characters, ≤ 16 emoticons with non-empty
//! parts, charset labels printable ASCII ≤ 40 characters, chunk parts without their chunking
//! headers); a text message's `to_html()` is markup we produced around escaped text: only our
//! own tags, properly nested, no raw `<`, `>` or quote from the peer, no control characters but
//! tab, and only our five entities.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::message::{CharsetIssue, MsgPayload};

/// The tags `to_html` writes. `<font …>` is checked separately.
const TAGS: [&str; 12] = [
    "<span dir=\"rtl\">",
    "</span>",
    "</font>",
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<u>",
    "</u>",
    "<s>",
    "</s>",
    "<br>",
];
const ENTITIES: [&str; 5] = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];

/// Length of a `<font face="…" color="#RRGGBB">` tag at the start of `s`, if it is one we make:
/// the face made of letters, digits, spaces, `-` and `_`; the colour six upper-case hex digits.
fn font_tag(s: &str) -> Option<usize> {
    let mut rest = s.strip_prefix("<font")?;
    if let Some(after) = rest.strip_prefix(" face=\"") {
        let end = after.find('"')?;
        let face = &after[..end];
        assert!(!face.is_empty(), "empty face attribute");
        assert!(
            face.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_')),
            "unsanitized face {face:?}"
        );
        rest = &after[end + 1..];
    }
    if let Some(after) = rest.strip_prefix(" color=\"#") {
        let hex = after.get(..6)?;
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
        rest = after.get(6..)?.strip_prefix('"')?;
    }
    let rest = rest.strip_prefix('>')?;
    let len = s.len() - rest.len();
    assert!(len > "<font>".len(), "font tag without attributes");
    Some(len)
}

/// Walks `html`, checking that it is our markup around escaped text (see the module docs).
fn check_html(html: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let step = match c {
            '<' => {
                let (tag, len) = match font_tag(rest) {
                    Some(len) => ("<font>", len),
                    None => {
                        let tag =
                            TAGS.iter()
                                .find(|t| rest.starts_with(**t))
                                .unwrap_or_else(|| {
                                    panic!("raw '<' or foreign tag at {rest:?} in {html:?}")
                                });
                        (*tag, tag.len())
                    }
                };
                if let Some(name) = tag.strip_prefix("</") {
                    let opened = open
                        .pop()
                        .unwrap_or_else(|| panic!("{tag} closes nothing in {html:?}"));
                    assert!(
                        opened.starts_with(&format!("<{}", &name[..name.len() - 1])),
                        "{opened} closed by {tag}"
                    );
                } else if tag != "<br>" {
                    open.push(tag);
                }
                len
            }
            '&' => ENTITIES
                .iter()
                .find(|e| rest.starts_with(**e))
                .map(|e| e.len())
                .unwrap_or_else(|| panic!("bare '&' at {rest:?}")),
            '>' | '"' | '\'' => panic!("unescaped {c:?} in {html:?}"),
            c if c.is_control() && c != '\t' => panic!("control character {c:?} in {html:?}"),
            c => c.len_utf8(),
        };
        rest = &rest[step..];
    }
    assert!(open.is_empty(), "unclosed {open:?} in {html:?}");
}

fn check(payload: &MsgPayload) {
    match payload {
        MsgPayload::Text(message) => {
            match &message.charset_issue {
                Some(CharsetIssue::Unsupported(label)) => {
                    assert!(
                        label.chars().count() <= 40
                            && label.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
                    );
                }
                Some(CharsetIssue::InvalidBytes) | None => {}
            }
            assert!(!message.text.contains("\r\n"), "CRLF left in text");
            check_html(&message.to_html());
            if let Some(format) = &message.format {
                assert!(format.font.chars().count() <= msnp::message::MAX_FONT);
            }
        }
        MsgPayload::Emoticons { list, .. } => {
            // The list's own invariants are the `emoticon_list` target's.
            if let Ok(list) = list {
                assert!(list.emoticons.len() <= msnp::message::emoticons::MAX_EMOTICONS);
            }
        }
        MsgPayload::Unknown {
            content_type: Some(t),
        } => {
            assert!(t.chars().count() <= 100);
            assert_eq!(&t.to_ascii_lowercase(), t);
            assert!(!t.is_empty() && !t.contains(char::is_whitespace) && !t.contains(';'));
        }
        MsgPayload::Chunk(part) => {
            for (name, _) in &part.mime.headers {
                assert!(!["Message-ID", "Chunks", "Chunk"]
                    .iter()
                    .any(|h| name.eq_ignore_ascii_case(h)));
            }
        }
        MsgPayload::Ink(msnp::message::Ink::Gif(gif)) => {
            assert!(gif.len() <= msnp::message::ink::MAX_INK && gif.starts_with(b"GIF8"));
        }
        MsgPayload::ClientCaps { fields } => assert!(fields.len() <= 64),
        MsgPayload::Typing { user } => assert!(!user.contains(['\r', '\n'])),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let payload = MsgPayload::parse(data);
    assert_eq!(payload, MsgPayload::parse(data), "not deterministic");
    check(&payload);
});
