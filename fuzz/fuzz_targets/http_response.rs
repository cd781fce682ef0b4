//! Parses arbitrary bytes as a raw HTTP response, and every line as a URL.
//!
//! Invariants: nothing panics; a parsed response has a status in 100-599, at most 100 headers
//! with token names and trimmed one-line values, and a body within the limit that is no longer
//! than the input (exactly `Content-Length` when given); writing it out again (status line,
//! headers, body re-framed by `Content-Length`) and parsing gives the same response. A URL that
//! parses has a host, a non-zero port and a path starting with `/`, and its `Display` form parses
//! to the same URL and prints the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::http::{HttpResponse, Url, MAX_BODY_LEN, MAX_HEADERS, MAX_HEADER_BLOCK};

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn check_response(raw: &[u8], response: &HttpResponse) {
    assert!((100..=599).contains(&response.status));
    assert!(response.headers.len() <= MAX_HEADERS);
    for (name, value) in &response.headers {
        assert!(
            !name.is_empty() && name.bytes().all(is_token),
            "bad header name {name:?}"
        );
        assert!(
            !value.contains('\n') && value.trim_matches([' ', '\t']) == value,
            "bad value {value:?}"
        );
    }
    assert!(response.body.len() <= MAX_BODY_LEN && response.body.len() <= raw.len());
    let framing = |name: &str| {
        response
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    let chunked = response
        .header("Transfer-Encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if let (false, Some(len)) = (chunked, response.header("Content-Length")) {
        assert_eq!(
            len.parse::<usize>().ok(),
            Some(response.body.len()),
            "body is not Content-Length long"
        );
    }
    if raw.len() > MAX_HEADER_BLOCK / 2 {
        return;
    }

    // Write it out again, framed by Content-Length when the original was framed at all.
    let kept: Vec<&(String, String)> = response
        .headers
        .iter()
        .filter(|(n, _)| {
            !n.eq_ignore_ascii_case("Content-Length")
                && !n.eq_ignore_ascii_case("Transfer-Encoding")
        })
        .collect();
    let mut written = format!("HTTP/1.1 {} Reason\r\n", response.status);
    for (name, value) in &kept {
        written.push_str(&format!("{name}: {value}\r\n"));
    }
    if framing("Content-Length") || framing("Transfer-Encoding") {
        written.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    written.push_str("\r\n");
    let mut written = written.into_bytes();
    written.extend_from_slice(&response.body);
    let again = HttpResponse::parse(&written)
        .unwrap_or_else(|e| panic!("rewritten response does not parse: {e:?}"));
    assert_eq!(again.status, response.status);
    assert_eq!(again.body, response.body);
    let again_kept: Vec<&(String, String)> =
        again.headers.iter().filter(|h| kept.contains(h)).collect();
    assert_eq!(again_kept, kept, "headers changed");
}

fn check_url(text: &str) {
    let Ok(url) = Url::parse(text) else { return };
    assert!(!url.host.is_empty() && url.port != 0 && url.path.starts_with('/'));
    assert!(!url.path.contains('#'));
    let shown = url.to_string();
    let again = Url::parse(&shown)
        .unwrap_or_else(|e| panic!("{shown:?} (from {text:?}) does not parse: {e:?}"));
    assert_eq!(again, url, "{text:?} → {shown:?} changed");
    assert_eq!(again.to_string(), shown);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = HttpResponse::parse(data) {
        check_response(data, &response);
        for (_, value) in &response.headers {
            check_url(value);
        }
    }
    for line in data.split(|&b| b == b'\n') {
        check_url(&String::from_utf8_lossy(line));
    }
});
