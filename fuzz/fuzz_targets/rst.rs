//! Reads arbitrary bytes as the body of an RST (`RST.srf`) answer, under several statuses.
//!
//! Invariants: nothing panics; tokens come only from a 200 answer, with printable tickets
//! without spaces and a non-empty proof key, and their `Debug` form shows none of the tickets;
//! a server fault's description is short and free of control characters; an error's text never
//! carries the messengerclear ticket.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::auth::rst::{parse_rst, SecurityTokens, Token};
use msnp::auth::AuthError;
use msnp::http::HttpResponse;

/// Tickets shorter than this may occur in `Debug` text by chance (`messenger_clear:`).
const DISTINCTIVE: usize = 32;

fn check_ticket(token: &Token, shown: &str) {
    let ticket = token.ticket.expose();
    assert!(
        !ticket.is_empty() && ticket.bytes().all(|b| b.is_ascii_graphic()),
        "ticket {ticket:?}"
    );
    if ticket.len() >= DISTINCTIVE {
        assert!(!shown.contains(ticket.as_str()), "Debug shows a ticket");
    }
}

fn check_tokens(tokens: &SecurityTokens) {
    let shown = format!("{tokens:?}");
    assert!(!tokens.binary_secret.expose().is_empty());
    check_ticket(&tokens.messenger_clear, &shown);
    for token in [
        &tokens.messenger,
        &tokens.contacts,
        &tokens.messenger_secure,
        &tokens.storage,
    ]
    .into_iter()
    .flatten()
    {
        check_ticket(token, &shown);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let status = [200, 500, 401, 302][usize::from(control & 3)];
    let response = HttpResponse {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    };
    let result = parse_rst(&response);
    match &result {
        Ok(tokens) => {
            assert_eq!(status, 200, "tokens from an HTTP {status} answer");
            check_tokens(tokens);
        }
        Err(AuthError::ServerFault(text)) => {
            assert!(
                text.chars().count() <= 402,
                "fault of {} characters",
                text.chars().count()
            );
            assert!(
                !text.chars().any(char::is_control),
                "control character in {text:?}"
            );
        }
        Err(_) => {}
    }
    // The same body as a 200 answer: whatever ticket it yields must not show in any error.
    if let (Err(error), Ok(tokens)) = (
        &result,
        parse_rst(&HttpResponse {
            status: 200,
            ..response
        }),
    ) {
        let ticket = tokens.messenger_clear.ticket.expose();
        if ticket.len() >= DISTINCTIVE {
            assert!(
                !format!("{error} {error:?}").contains(ticket.as_str()),
                "error shows the ticket"
            );
        }
    }
});
