//! Parses arbitrary bytes as a raw HTTP response, and every line as a URL.
//!
//! Invariants: nothing panics; a parsed response has a status in 100-599, at most 100 headers
//! with token names and trimmed one-line values, and a body within the limit that is no longer
//! than the input (exactly `Content-Length` when given); writing it out again (status line,
//! headers, body re-framed by `Content-Length`) and parsing gives the same response. A URL that
//! parses has a host, a non-zero port and a path starting with `/`, and its `Display` form parses
//! to the same URL and prints the same. Once a prefix of the input is complete (by its framing,
//! before the peer closes), the whole input is too and parses the same. Taken as an HTTP
//! gateway's answer, the input either fails the link or opens it with a body within the limit,
//! and the link's next request is a valid one to `/gateway/gateway.dll?SessionID=`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::gateway::{GatewayLink, ServerKind, MAX_RESPONSE_BODY};
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

/// A response the core calls complete before the peer closes parses the same whatever follows
/// (checked at about 32 cut points, so that a run stays fast).
fn check_completeness(data: &[u8]) {
    let step = (data.len() / 32).max(1);
    let cuts = (0..data.len()).step_by(step).chain([data.len()]);
    let Some(cut) = cuts
        .into_iter()
        .find(|&n| HttpResponse::is_complete(&data[..n]))
    else {
        return;
    };
    assert!(HttpResponse::is_complete(data), "complete at {cut}, not at the end");
    assert_eq!(
        HttpResponse::parse(&data[..cut]),
        HttpResponse::parse(data),
        "bytes after completion changed the response"
    );
}

/// The input as the answer to a gateway link's opening request.
fn check_gateway(data: &[u8]) {
    let now = std::time::Instant::now();
    let gateway = Url::parse("http://gw.example.com/").expect("a valid URL");
    let mut link = GatewayLink::new(&gateway, ServerKind::Ns, "ns.example.com");
    link.next_request(now).expect("the opening request");
    let Ok(received) = link.handle_response(data.to_vec(), now) else {
        return;
    };
    assert!(received.opened);
    assert!(received.bytes.len() <= MAX_RESPONSE_BODY);
    link.queue(b"PNG\r\n").expect("room for a line");
    let request = link.next_request(now).expect("the data request");
    let url = Url::parse(&request.url).expect("a valid gateway URL");
    assert!(url.path.starts_with("/gateway/gateway.dll?SessionID="), "{url}");
    request.to_wire().expect("a valid gateway request");
}

fuzz_target!(|data: &[u8]| {
    check_completeness(data);
    check_gateway(data);
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
