//! `/RST.srf` and `/RST2.srf`: RequestMultipleSecurityTokens, answered with the token XML
//! shaped exactly like Escargot's (docs/protocol.md §3.2; transcripts `msnp15/http.log`,
//! `extra-authfail/http.log`).

use super::message::{Request, Response};
use crate::clock;
use crate::crypto;
use crate::ns::TICKET_SUFFIX;
use crate::shared::Shared;
use base64::Engine as _;
use quick_xml::events::Event;
use std::time::Instant;

const HEAD: &str = include_str!("../templates/rst_head.xml");
const TOKEN: &str = include_str!("../templates/rst_token.xml");
const PROOF: &str = include_str!("../templates/rst_proof.xml");
const TAIL: &str = include_str!("../templates/rst_tail.xml");
const FAULT: &str = include_str!("../templates/rst_fault.xml");
/// The master-token address answered by the fixed legacy block.
const LEGACY_ADDRESS: &str = "http://Passport.NET/tb";
/// The service whose token carries the proof key for the MBI blob.
const MESSENGER_CLEAR: &str = "messengerclear.live.com";
/// Most services answered in one request.
const MAX_SERVICES: usize = 32;

/// What an RST request asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RstRequest {
    /// `wsse:Username`.
    pub username: String,
    /// `wsse:Password`.
    pub password: String,
    /// Every `wsa:Address` in request order.
    pub addresses: Vec<String>,
}

/// Parses the SOAP envelope by local element names; `None` if it is not well-formed XML.
pub fn parse(body: &[u8]) -> Option<RstRequest> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut req = RstRequest::default();
    let mut current: Option<Vec<u8>> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => current = Some(e.local_name().as_ref().to_vec()),
            Event::End(_) => current = None,
            Event::Text(t) => {
                let text = t.unescape().ok()?.into_owned();
                match current.as_deref() {
                    Some(b"Username") => req.username.push_str(&text),
                    Some(b"Password") => req.password.push_str(&text),
                    Some(b"Address") if req.addresses.len() < MAX_SERVICES => {
                        req.addresses.push(text)
                    }
                    _ => {}
                }
            }
            Event::Eof => return Some(req),
            _ => {}
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The fault Escargot answers bad credentials with (HTTP 200).
fn fault(path: &str) -> Response {
    let status = if path.eq_ignore_ascii_case("/RST2.srf") {
        "0x80048821"
    } else {
        "0x80048823"
    };
    let now = clock::iso8601(clock::unix_now());
    Response::xml(
        200,
        FAULT
            .replace("{REQSTATUS}", status)
            .replace("{SERVER_TIME}", &now),
    )
}

/// Answers an RST request: a token for every requested service, numbered from `Compact2`.
pub fn handle(shared: &Shared, req: &Request, client_ip: &str) -> Response {
    let Some(rst) = parse(&req.body) else {
        return fault(&req.path);
    };
    let user = shared
        .directory()
        .check_password(&rst.username, &rst.password)
        .cloned();
    let Some(user) = user else {
        return fault(&req.path);
    };
    let wants_secret = rst.addresses.iter().any(|a| a == MESSENGER_CLEAR);
    let secret = wants_secret.then(|| crypto::random_bytes(24));
    let token = shared.directory().issue_token(
        &user.email,
        shared.config.rst_token_lifetime,
        secret.clone(),
        Instant::now(),
    );
    let ticket = xml_escape(&format!("t={token}{TICKET_SUFFIX}"));
    let now = clock::unix_now();
    let (created, expires) = (clock::iso8601(now), clock::iso8601(now + 86_400));

    let mut body = HEAD
        .replace("{PUID}", &user.puid())
        .replace("{CID}", &user.cid())
        .replace("{EMAIL}", &xml_escape(&user.email))
        .replace("{IP}", client_ip)
        .replace("{SERVER_TIME}", &created)
        .replace("{CREATED}", &created)
        .replace("{EXPIRES}", &expires);
    let services = rst.addresses.iter().filter(|a| *a != LEGACY_ADDRESS);
    for (i, address) in services.enumerate() {
        let proof = match (&secret, address == MESSENGER_CLEAR) {
            (Some(s), true) => PROOF.replace(
                "{SECRET}",
                &base64::engine::general_purpose::STANDARD.encode(s),
            ),
            _ => String::new(),
        };
        body.push_str(
            &TOKEN
                .replace("{ADDRESS}", &xml_escape(address))
                .replace("{CREATED}", &created)
                .replace("{EXPIRES}", &expires)
                .replace("{N}", &(i + 2).to_string())
                .replace("{TICKET}", &ticket)
                .replace("{PROOF}", &proof),
        );
    }
    body.push_str(TAIL);
    Response::xml(200, body)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_credentials_and_addresses() {
        let body = br#"<Envelope><Header><wsse:Security><wsse:UsernameToken Id="user">
            <wsse:Username>alice@example.com</wsse:Username><wsse:Password>a&amp;b</wsse:Password>
            </wsse:UsernameToken></wsse:Security></Header><Body>
            <wsa:Address>http://Passport.NET/tb</wsa:Address><wsa:Address>messengerclear.live.com</wsa:Address>
            </Body></Envelope>"#;
        let r = parse(body).unwrap();
        assert_eq!(r.username, "alice@example.com");
        assert_eq!(r.password, "a&b");
        assert_eq!(
            r.addresses,
            ["http://Passport.NET/tb", "messengerclear.live.com"]
        );
        assert!(parse(b"<a><b></a>").is_none());
    }
}
