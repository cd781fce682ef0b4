//! Parses arbitrary bytes as a MIME-style `MSG` payload.
//!
//! Invariants: nothing panics; at most 64 headers, each with a non-empty trimmed name without
//! `:` and a trimmed value, neither holding a CR or LF; the body is exactly what follows the
//! first empty line (nothing when there is none); `header` finds the first match ignoring case;
//! `content_type` is lower-case without parameters; writing the headers and body out again and
//! re-parsing gives the same `Mime`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::mime::Mime;

/// Where the body starts: after the first line that is empty or a lone CR.
fn body_start(data: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            if matches!(&data[line_start..i], b"" | b"\r") {
                return Some(i + 1);
            }
            line_start = i + 1;
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let mime = Mime::parse(data);
    assert!(mime.headers.len() <= 64);
    for (name, value) in &mime.headers {
        assert!(
            !name.is_empty() && !name.contains([':', '\n']),
            "bad name {name:?}"
        );
        assert_eq!(name.trim(), name);
        assert_eq!(value.trim(), value);
        assert!(
            !name.contains('\r') && !value.contains(['\r', '\n']),
            "line break in {value:?}"
        );
        let first = mime
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        assert_eq!(mime.header(name), first);
        assert_eq!(mime.header(&name.to_ascii_uppercase()), first);
    }
    match body_start(data) {
        Some(start) => assert_eq!(mime.body, &data[start..]),
        None => assert!(mime.body.is_empty()),
    }
    if let Some(media) = mime.content_type() {
        assert!(!media.is_empty() && !media.contains(';'));
        assert_eq!(media.trim(), media);
        assert_eq!(media.to_ascii_lowercase(), media);
    }

    let mut written = Vec::new();
    for (name, value) in &mime.headers {
        written.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    written.extend_from_slice(b"\r\n");
    written.extend_from_slice(&mime.body);
    assert_eq!(
        Mime::parse(&written),
        mime,
        "write-then-parse changed the payload"
    );
});
