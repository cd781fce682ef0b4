//! Passport 1.4 ("Tweener") login for `USR TWN` (MSNP8-12, docs/protocol.md §3.1): ask the nexus
//! where the login server is, then trade account name, password and the server's challenge string
//! for a ticket.

use super::AuthError;
use crate::http::{HttpRequest, HttpResponse, Method, Scheme, Url};
use crate::secret::Secret;

/// The historical nexus; revival servers publish their own (e.g. `http://host:8081/rdr/pprdr.asp`).
pub const NEXUS_URL: &str = "https://nexus.passport.com/rdr/pprdr.asp";
/// Longest ticket accepted from the login server.
pub const MAX_TICKET_LEN: usize = 4096;
/// Longest challenge string (the argument of `USR TWN S`) accepted.
pub const MAX_CHALLENGE_LEN: usize = 2048;
/// Longest account name accepted.
pub const MAX_EMAIL_LEN: usize = 256;
/// Longest password accepted.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The fixed start of the `Authorization` header.
const ORIGIN: &str = "OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom";

/// `GET <nexus_url>`, whose answer [`parse_nexus`] reads.
pub fn nexus_request(nexus_url: &str) -> Result<HttpRequest, AuthError> {
    Url::parse(nexus_url)?;
    Ok(HttpRequest {
        method: Method::Get,
        url: nexus_url.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
        sensitive: false,
    })
}

/// The login (`DALogin`) URL from the nexus's `PassportURLs` header (any header-name case),
/// with `https://` prefixed when it names no scheme.
pub fn parse_nexus(response: &HttpResponse) -> Result<String, AuthError> {
    if response.status != 200 {
        return Err(AuthError::bad(format!(
            "nexus answered HTTP {}",
            response.status
        )));
    }
    let urls = response
        .header("PassportURLs")
        .ok_or_else(|| AuthError::bad("nexus answer has no PassportURLs header"))?;
    let dalogin = urls
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("DALogin"))
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| AuthError::bad("nexus answer names no DALogin"))?;
    let url = if dalogin.contains("://") {
        dalogin.to_owned()
    } else {
        format!("https://{dalogin}")
    };
    let parsed =
        Url::parse(&url).map_err(|_| AuthError::bad("nexus DALogin is not a usable URL"))?;
    if parsed.scheme != Scheme::Https {
        log::warn!("Passport login server {url} is not https; the password will travel in clear");
    }
    Ok(url)
}

/// `GET <dalogin_url>` with the `Authorization: Passport1.4 ...` header: account name and
/// password percent-encoded, then the challenge string from `USR TWN S` unchanged.
pub fn login_request(
    dalogin_url: &str,
    email: &str,
    password: &Secret<String>,
    challenge: &str,
) -> Result<HttpRequest, AuthError> {
    Url::parse(dalogin_url)?;
    if email.is_empty() || email.len() > MAX_EMAIL_LEN {
        return Err(AuthError::InvalidInput("account name is empty or too long"));
    }
    let password = password.expose();
    if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
        return Err(AuthError::InvalidInput("password is empty or too long"));
    }
    if challenge.is_empty()
        || challenge.len() > MAX_CHALLENGE_LEN
        || !challenge.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AuthError::InvalidInput(
            "unusable Passport challenge string",
        ));
    }
    let authorization = format!(
        "Passport1.4 {ORIGIN},sign-in={},pwd={},{challenge}",
        percent_encode(email),
        percent_encode(password)
    );
    Ok(HttpRequest {
        method: Method::Get,
        url: dalogin_url.to_owned(),
        headers: vec![("Authorization".to_owned(), authorization)],
        body: Vec::new(),
        sensitive: true,
    })
}

/// The ticket from a login answer: the text between `from-PP='` and `'` of
/// `Authentication-Info`. 401 or `da-status=failed` is [`AuthError::BadCredentials`]; a redirect
/// to an https URL is [`AuthError::Redirect`].
pub fn parse_login(response: &HttpResponse) -> Result<Secret<String>, AuthError> {
    let failed = |name: &str| {
        response
            .header(name)
            .is_some_and(|value| value.to_ascii_lowercase().contains("da-status=failed"))
    };
    if response.status == 401 || failed("WWW-Authenticate") || failed("Authentication-Info") {
        return Err(AuthError::BadCredentials);
    }
    match response.status {
        200 => ticket_from(response),
        301 | 302 | 303 | 307 | 308 => {
            let location = response
                .header("Location")
                .ok_or_else(|| AuthError::bad("redirect without Location"))?;
            match Url::parse(location) {
                Ok(url) if url.scheme == Scheme::Https => {
                    Err(AuthError::Redirect(location.to_owned()))
                }
                Ok(_) => Err(AuthError::bad("login server redirected to a non-https URL")),
                Err(_) => Err(AuthError::bad("login server redirected to an unusable URL")),
            }
        }
        status => Err(AuthError::bad(format!(
            "login server answered HTTP {status}"
        ))),
    }
}

fn ticket_from(response: &HttpResponse) -> Result<Secret<String>, AuthError> {
    const START: &str = "from-PP='";
    let info = response
        .header("Authentication-Info")
        .ok_or_else(|| AuthError::bad("login answer has no Authentication-Info header"))?;
    let start = info
        .find(START)
        .ok_or_else(|| AuthError::bad("login answer has no from-PP ticket"))?;
    let rest = &info[start + START.len()..];
    let ticket = rest
        .split_once('\'')
        .map(|(ticket, _)| ticket)
        .ok_or_else(|| AuthError::bad("unterminated from-PP ticket"))?;
    if ticket.is_empty()
        || ticket.len() > MAX_TICKET_LEN
        || !ticket.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AuthError::bad("unusable from-PP ticket"));
    }
    Ok(Secret::new(ticket.to_owned()))
}

/// Percent-encodes every byte except RFC 3986's unreserved characters, so that commas, `=`,
/// `%` and non-ASCII survive the comma-separated header.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::testlog;

    const ESC_CHALLENGE: &str = "ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1";

    fn response(raw: &str) -> HttpResponse {
        HttpResponse::parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn recorded_nexus_answers_give_the_login_url() {
        for dir in ["msnp8", "msnp12"] {
            let log = testlog::load(dir);
            let nexus: Vec<_> = log.iter().filter(|e| e.label == "nexus").collect();
            assert!(!nexus.is_empty(), "{dir}");
            for exchange in nexus {
                assert_eq!(
                    parse_nexus(&exchange.response()).unwrap(),
                    "https://127.0.0.1:8443/login"
                );
            }
        }
    }

    #[test]
    fn nexus_variants() {
        let ok =
            |header: &str| parse_nexus(&response(&format!("HTTP/1.1 200 OK\r\n{header}\r\n\r\n")));
        assert_eq!(
            ok("PassportURLs: DARealm=Passport.Net,DALogin=login.passport.com/login2.srf,DAReg=x")
                .unwrap(),
            "https://login.passport.com/login2.srf"
        );
        assert_eq!(
            ok("passporturls: dalogin=http://127.0.0.1:1/l").unwrap(),
            "http://127.0.0.1:1/l"
        );
        assert!(matches!(
            ok("PassportURLs: DAReg=x"),
            Err(AuthError::BadResponse(_))
        ));
        assert!(matches!(
            ok("PassportURLs: DALogin="),
            Err(AuthError::BadResponse(_))
        ));
        assert!(matches!(
            ok("PassportURLs: DALogin=bad host/x"),
            Err(AuthError::BadResponse(_))
        ));
        assert!(matches!(ok("X-Other: 1"), Err(AuthError::BadResponse(_))));
        let not_found = response("HTTP/1.1 404 Not Found\r\nPassportURLs: DALogin=a/b\r\n\r\n");
        assert!(matches!(
            parse_nexus(&not_found),
            Err(AuthError::BadResponse(_))
        ));
        assert_eq!(
            nexus_request(NEXUS_URL).unwrap().describe(),
            format!("GET {NEXUS_URL}")
        );
        assert!(nexus_request("nexus.passport.com").is_err());
    }

    #[test]
    fn login_request_matches_the_transcripts() {
        let mut checked = 0;
        for dir in ["msnp8", "msnp12", "extra-authfail"] {
            for exchange in testlog::load(dir)
                .iter()
                .filter(|e| e.request_header("Authorization").is_some())
            {
                let recorded = exchange.request_header("Authorization").unwrap();
                let (email, password) = if recorded.contains("sign-in=bob") {
                    ("bob@example.com", "bobpass")
                } else if recorded.contains("pwd=wrong") {
                    ("alice@example.com", "wrong")
                } else {
                    ("alice@example.com", "alicepass")
                };
                let password = Secret::new(password.to_owned());
                let request = login_request(
                    "https://127.0.0.1:8443/login",
                    email,
                    &password,
                    ESC_CHALLENGE,
                )
                .unwrap();
                assert_eq!(
                    request.headers,
                    vec![("Authorization".to_owned(), recorded.to_owned())]
                );
                assert!(request.sensitive);
                assert_eq!(request.method, Method::Get);
                checked += 1;
            }
        }
        assert!(checked >= 6, "only {checked} recorded logins");
    }

    #[test]
    fn credentials_are_percent_encoded() {
        let password = Secret::new("p,w=d%é '".to_owned());
        let request =
            login_request("https://h/l", "a+b@x.com", &password, "lc=1033,id=507").unwrap();
        assert_eq!(
            request.headers[0].1,
            "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=a%2Bb%40x.com,\
             pwd=p%2Cw%3Dd%25%C3%A9%20%27,lc=1033,id=507"
        );
        assert!(!format!("{request:?}").contains("%2Cw"));
        assert!(!request.describe().contains("pwd"));
    }

    #[test]
    fn unusable_login_inputs_are_refused() {
        let pw = Secret::new("pw".to_owned());
        let empty = Secret::new(String::new());
        assert!(login_request("https://h/l", "", &pw, "id=1").is_err());
        assert!(login_request("https://h/l", "a@b", &empty, "id=1").is_err());
        assert!(login_request("https://h/l", "a@b", &pw, "").is_err());
        assert!(login_request("https://h/l", "a@b", &pw, "id=1\r\nX: y").is_err());
        assert!(login_request(
            "https://h/l",
            "a@b",
            &pw,
            &"x".repeat(MAX_CHALLENGE_LEN + 1)
        )
        .is_err());
        assert!(login_request("not a url", "a@b", &pw, "id=1").is_err());
        // Control characters in credentials are encoded, never injected.
        let request = login_request("https://h/l", "a@b\r\n", &pw, "id=1").unwrap();
        assert!(request.headers[0].1.contains("sign-in=a%40b%0D%0A,"));
    }

    #[test]
    fn recorded_login_answers() {
        let mut tickets = Vec::new();
        for dir in ["msnp8", "msnp12", "extra-authfail"] {
            for exchange in testlog::load(dir)
                .iter()
                .filter(|e| e.request_header("Authorization").is_some())
            {
                match parse_login(&exchange.response()) {
                    Ok(ticket) => {
                        let info = exchange
                            .response()
                            .header("Authentication-Info")
                            .unwrap()
                            .to_owned();
                        assert!(info.contains(&format!("from-PP='{}'", ticket.expose())));
                        assert_eq!(ticket.expose().len(), 20);
                        tickets.push(ticket);
                    }
                    Err(e) => {
                        assert_eq!(exchange.label, "wrong password");
                        assert_eq!(e, AuthError::BadCredentials);
                    }
                }
            }
        }
        assert!(tickets.len() >= 6);
        assert_eq!(tickets[0].expose(), "9bb618d7e61b9cfb5d14");
    }

    #[test]
    fn login_answer_variants() {
        let parse = |raw: &str| parse_login(&response(raw));
        let live =
            "HTTP/1.1 200 OK\r\nAuthentication-Info: Passport1.4 da-status=success,tname=MSPAuth,\
                    from-PP='t=abc&p=def',ru=http://messenger.msn.com\r\n\r\n";
        assert_eq!(parse(live).unwrap().expose(), "t=abc&p=def");
        assert_eq!(
            parse("HTTP/1.1 302 Found\r\nLocation: https://other/login2.srf\r\n\r\n"),
            Err(AuthError::Redirect("https://other/login2.srf".into()))
        );
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\nAuthentication-Info: Passport1.4 da-status=failed\r\n\r\n"),
            Err(AuthError::BadCredentials)
        );
        assert_eq!(
            parse("HTTP/1.1 403 Nope\r\nWWW-Authenticate: Passport1.4 da-status=failed,srealm=x\r\n\r\n"),
            Err(AuthError::BadCredentials)
        );
        assert_eq!(
            parse("HTTP/1.1 401 Unauthorized\r\n\r\n"),
            Err(AuthError::BadCredentials)
        );
        for bad in [
            "HTTP/1.1 302 Found\r\n\r\n",
            "HTTP/1.1 302 Found\r\nLocation: http://plain/login\r\n\r\n",
            "HTTP/1.1 302 Found\r\nLocation: /relative\r\n\r\n",
            "HTTP/1.1 500 Oops\r\n\r\n",
            "HTTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nAuthentication-Info: Passport1.4 da-status=success\r\n\r\n",
            "HTTP/1.1 200 OK\r\nAuthentication-Info: from-PP='unterminated\r\n\r\n",
            "HTTP/1.1 200 OK\r\nAuthentication-Info: from-PP=''\r\n\r\n",
            "HTTP/1.1 200 OK\r\nAuthentication-Info: from-PP='has space'\r\n\r\n",
        ] {
            assert!(
                matches!(parse(bad), Err(AuthError::BadResponse(_))),
                "{bad:?}"
            );
        }
        let long = format!(
            "HTTP/1.1 200 OK\r\nAuthentication-Info: from-PP='{}'\r\n\r\n",
            "t".repeat(MAX_TICKET_LEN + 1)
        );
        assert!(matches!(parse(&long), Err(AuthError::BadResponse(_))));
    }
}
