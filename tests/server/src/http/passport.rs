//! Passport 1.4: the nexus (`/rdr/pprdr.asp`, `/nexus-mock`) and `/login`
//! (docs/protocol.md §3.1; transcripts `msnp8/http.log`, `extra-authfail/http.log`).

use super::message::{Request, Response};
use crate::shared::Shared;
use crate::wire::percent_decode;
use std::time::Instant;

/// The nexus answer: a `Passporturls` header (Escargot's casing) naming the login URL.
pub fn nexus(shared: &Shared) -> Response {
    let p = shared.ports;
    let login = if shared.config.nexus_plain_http {
        format!("http://127.0.0.1:{}/login", p.http)
    } else {
        format!("https://127.0.0.1:{}/login", p.https)
    };
    Response::plain(
        200,
        vec![("Passporturls".to_owned(), format!("DALogin={login}"))],
    )
}

/// `sign-in` and `pwd` from `Authorization: Passport1.4 k=v,k=v,...` (URL-decoded), as Escargot
/// splits it: on commas, so a raw comma in a password must be percent-encoded by the client.
pub fn credentials(authorization: &str) -> Option<(String, String)> {
    let rest = authorization
        .trim()
        .strip_prefix("Passport1.4")?
        .trim_start();
    let mut email = None;
    let mut password = None;
    for field in rest.split(',') {
        match field.split_once('=') {
            Some(("sign-in", v)) => email = Some(percent_decode(v)),
            Some(("pwd", v)) => password = Some(percent_decode(v)),
            _ => {}
        }
    }
    Some((email?, password?))
}

/// `/login`: a 20-character token in `Authentication-Info` on success, `401` otherwise.
pub fn login(shared: &Shared, req: &Request) -> Response {
    let user = req
        .header("Authorization")
        .and_then(credentials)
        .and_then(|(email, pwd)| {
            let dir = shared.directory();
            dir.check_password(&email, &pwd).map(|u| u.email.clone())
        });
    let Some(email) = user else {
        return Response::plain(
            401,
            vec![(
                "WWW-Authenticate".to_owned(),
                "Passport1.4 da-status=failed".to_owned(),
            )],
        );
    };
    let token = shared.directory().issue_token(
        &email,
        shared.config.twn_token_lifetime,
        None,
        Instant::now(),
    );
    Response::plain(
        200,
        vec![(
            "Authentication-Info".to_owned(),
            format!("Passport1.4 da-status=success,from-PP='{token}'"),
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::credentials;

    #[test]
    fn parses_the_transcript_header() {
        let h = "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=alice%40example.com,pwd=a%2Cb,ct=1,rver=1";
        assert_eq!(
            credentials(h),
            Some(("alice@example.com".to_owned(), "a,b".to_owned()))
        );
        assert_eq!(credentials("Basic abc"), None);
        assert_eq!(credentials("Passport1.4 sign-in=a"), None);
    }
}
