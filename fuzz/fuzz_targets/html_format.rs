//! The outgoing formatting converter and the `X-MMS-IM-Format` header.
//!
//! Invariants: `from_html` on arbitrary bytes never panics and gives text without control
//! characters other than tab and `\n`; that text split by `text_payloads` gives payloads of at
//! most `MAX_PAYLOAD` bytes which parse back as text messages whose texts, joined, are the text,
//! each carrying the format the header encodes; `ImFormat::parse` → `to_header` → `parse` is
//! stable and the header is one line of printable ASCII.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::message::{
    from_html, text_payloads, ImFormat, MsgPayload, MAX_FONT, MAX_PAYLOAD,
};

/// Parses `header`, then checks that writing and re-reading the result changes nothing.
fn check_header_stable(header: &[u8]) -> ImFormat {
    let parsed = ImFormat::parse(header);
    let written = parsed.to_header();
    assert!(
        written.bytes().all(|b| b.is_ascii_graphic() || b == b' '),
        "header {written:?} is not printable ASCII"
    );
    assert!(parsed.font.chars().count() <= MAX_FONT);
    let again = ImFormat::parse(written.as_bytes());
    assert_eq!(
        again, parsed,
        "parse(to_header(f)) != f for header {written:?}"
    );
    assert_eq!(again.to_header(), written, "to_header is not stable");
    parsed
}

fuzz_target!(|data: &[u8]| {
    check_header_stable(data);

    let (text, format) = from_html(data);
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\t' && c != '\n'),
        "control character in converted text {text:?}"
    );
    // What the peer reads back: the format as its header states it.
    let sent_format = check_header_stable(format.to_header().as_bytes());
    assert_eq!(sent_format.effects, format.effects);
    assert_eq!(sent_format.color, format.color);
    assert_eq!(sent_format.right_to_left, format.right_to_left);
    assert!(
        format.font.starts_with(&sent_format.font),
        "font {:?} sent as {:?}",
        format.font,
        sent_format.font
    );

    let payloads = text_payloads(&text, &format);
    assert!(!payloads.is_empty());
    for payload in &payloads {
        assert!(
            payload.len() <= MAX_PAYLOAD,
            "payload of {} bytes",
            payload.len()
        );
    }
    let mut joined = String::new();
    for payload in &payloads {
        match MsgPayload::parse(payload) {
            MsgPayload::Text(message) => {
                assert_eq!(message.charset_issue, None);
                assert_eq!(message.format.as_ref(), Some(&sent_format));
                joined.push_str(&message.text);
            }
            other => panic!("a text payload parsed as {other:?}"),
        }
    }
    assert_eq!(joined, text, "split payloads do not give the text back");
    // Parts are as full as the cutting rule promises: one part when the body fits, and every
    // part but the last at least about half the room left by the headers.
    let headers = format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: {}\r\n\r\n",
        format.to_header()
    );
    let room = MAX_PAYLOAD - headers.len();
    let body_len = text.len() + text.matches('\n').count();
    if body_len <= room {
        assert_eq!(payloads.len(), 1, "a body that fits was split");
    }
    for payload in payloads.iter().rev().skip(1) {
        assert!(
            payload.len() - headers.len() >= (room - 4) / 2,
            "part of {} bytes",
            payload.len()
        );
    }
});
