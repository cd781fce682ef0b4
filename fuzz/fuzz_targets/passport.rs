//! Reads arbitrary bytes as raw HTTP answers of the Passport 1.4 nexus and login server.
//!
//! Invariants: nothing panics; a login URL from the nexus comes from a 200 answer and parses as
//! a URL; a ticket comes from a 200 answer and is 1-4096 printable characters without spaces; a
//! redirect names an https URL; wrong credentials are reported only
//! for a 401 or a `da-status=failed` header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::auth::passport::{parse_login, parse_nexus, MAX_TICKET_LEN};
use msnp::auth::AuthError;
use msnp::http::{HttpResponse, Scheme, Url};

fn check(response: &HttpResponse) {
    if let Ok(url) = parse_nexus(response) {
        assert_eq!(response.status, 200);
        Url::parse(&url).unwrap_or_else(|e| panic!("nexus URL {url:?} does not parse: {e:?}"));
    }
    match parse_login(response) {
        Ok(ticket) => {
            assert_eq!(response.status, 200);
            let ticket = ticket.expose();
            assert!(!ticket.is_empty() && ticket.len() <= MAX_TICKET_LEN);
            assert!(
                ticket.bytes().all(|b| b.is_ascii_graphic()),
                "ticket {ticket:?}"
            );
        }
        Err(AuthError::Redirect(location)) => {
            let url =
                Url::parse(&location).unwrap_or_else(|e| panic!("redirect to {location:?}: {e:?}"));
            assert_eq!(url.scheme, Scheme::Https);
        }
        Err(AuthError::BadCredentials) => {
            let failed = response
                .headers
                .iter()
                .any(|(_, v)| v.to_ascii_lowercase().contains("da-status=failed"));
            assert!(
                response.status == 401 || failed,
                "bad credentials without a reason"
            );
        }
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = HttpResponse::parse(data) {
        check(&response);
    }
    // Headers straight from `name: value` lines reach more shapes than raw HTTP does.
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let status = [200, 302, 401, 500, 301, 307, 200, 200][usize::from(control & 7)];
    let headers = rest
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let line = String::from_utf8_lossy(line);
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    check(&HttpResponse {
        status,
        headers,
        body: Vec::new(),
    });
});
