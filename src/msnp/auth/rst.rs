//! The RST exchange (`RequestMultipleSecurityTokens`, MSNP13-18, docs/protocol.md §3.2): one SOAP
//! request trades account name and password for a ticket per service, plus the proof key that
//! signs `USR SSO`.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::AuthError;
use crate::http::{HttpRequest, HttpResponse, Method, Url};
use crate::secret::Secret;

/// The historical RST endpoint; Escargot serves the same path.
pub const RST_URL: &str = "https://login.live.com/RST.srf";
/// Largest RST answer parsed (the live one is about 17 KiB).
pub const MAX_BODY_LEN: usize = 1024 * 1024;
/// Deepest element nesting accepted in the answer.
pub const MAX_DEPTH: usize = 64;
/// Longest ticket, secret or fault text accepted.
pub const MAX_TEXT_LEN: usize = 16 * 1024;
/// Most token responses accepted in one answer.
pub const MAX_RESPONSES: usize = 32;
/// Longest account name accepted.
pub const MAX_EMAIL_LEN: usize = 256;
/// Longest password accepted.
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Longest policy (from `USR SSO S <policy> <nonce>`) accepted.
pub const MAX_POLICY_LEN: usize = 256;

/// `AppliesTo` address of the NS login token (the one with the proof key).
pub const MESSENGER_CLEAR: &str = "messengerclear.live.com";
/// `AppliesTo` address of the OIM retrieval / web token.
pub const MESSENGER: &str = "messenger.msn.com";
/// `AppliesTo` address of the address-book and sharing SOAP token.
pub const CONTACTS: &str = "contacts.msn.com";
/// `AppliesTo` address of the OIM sending token.
pub const MESSENGER_SECURE: &str = "messengersecure.live.com";
/// `AppliesTo` address of the storage (profile, roaming picture) token.
pub const STORAGE: &str = "storage.msn.com";

/// Longest length of a fault code or string kept in [`AuthError::ServerFault`].
const MAX_FAULT_TEXT: usize = 200;
/// `psf:reqstatus` values that mean a wrong account name or password (RST, RST2).
const BAD_CREDENTIAL_STATUSES: [&str; 2] = ["0x80048823", "0x80048821"];
/// Base64 as servers send it; trailing bits and missing padding are tolerated.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One service ticket: the `t=...&p=...` text of a `BinarySecurityToken`, XML-unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The whole ticket, e.g. `t=<token>&p=` (what `USR SSO S` and `TicketToken` carry).
    pub ticket: Secret<String>,
}

impl Token {
    /// The `t` part: after a leading `t=`, up to `&p=` (OIM `<t>`).
    pub fn t(&self) -> Secret<String> {
        Secret::new(self.split().0.to_owned())
    }

    /// The `p` part: after `&p=`, often empty (OIM `<p>`).
    pub fn p(&self) -> Secret<String> {
        Secret::new(self.split().1.to_owned())
    }

    fn split(&self) -> (&str, &str) {
        let ticket = self.ticket.expose();
        let ticket = ticket.strip_prefix("t=").unwrap_or(ticket);
        ticket.split_once("&p=").unwrap_or((ticket, ""))
    }
}

/// The tokens of a successful RST answer, matched by `AppliesTo` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityTokens {
    /// `messengerclear.live.com`: the ticket for `USR SSO S`.
    pub messenger_clear: Token,
    /// The `messengerclear.live.com` proof key (`BinarySecret`, base64-decoded) for the MBI blob.
    pub binary_secret: Secret<Vec<u8>>,
    /// `messenger.msn.com`: OIM retrieval and web links.
    pub messenger: Option<Token>,
    /// `contacts.msn.com`: address book and sharing SOAP.
    pub contacts: Option<Token>,
    /// `messengersecure.live.com`: sending OIMs.
    pub messenger_secure: Option<Token>,
    /// `storage.msn.com` (or `storage.live.com`): profile and roaming display picture.
    pub storage: Option<Token>,
}

/// `POST <sso_url>`: the SOAP envelope asking for the Passport, messengerclear (with `policy`,
/// the one from `USR SSO S`), messenger, contacts, messengersecure, storage and sup tokens.
pub fn rst_request(
    sso_url: &str,
    email: &str,
    password: &Secret<String>,
    policy: &str,
) -> Result<HttpRequest, AuthError> {
    Url::parse(sso_url)?;
    let has_control = |s: &str| s.chars().any(char::is_control);
    if email.is_empty() || email.len() > MAX_EMAIL_LEN || has_control(email) {
        return Err(AuthError::InvalidInput("unusable account name"));
    }
    let secret = password.expose();
    if secret.is_empty() || secret.len() > MAX_PASSWORD_LEN || has_control(secret) {
        return Err(AuthError::InvalidInput(
            "password is empty, too long or has control characters",
        ));
    }
    if policy.is_empty()
        || policy.len() > MAX_POLICY_LEN
        || !policy.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AuthError::InvalidInput("unusable SSO policy"));
    }
    let services: [(&str, Option<&str>); 7] = [
        ("http://Passport.NET/tb", None),
        (MESSENGER_CLEAR, Some(policy)),
        (MESSENGER, Some("?id=507")),
        (CONTACTS, Some("MBI")),
        (MESSENGER_SECURE, Some("MBI_SSL")),
        (STORAGE, Some("MBI")),
        ("sup.live.com", Some("MBI")),
    ];
    let mut body = String::with_capacity(4096);
    body.push_str(ENVELOPE_START);
    body.push_str(&format!(
        "    <wsse:Security>\n      <wsse:UsernameToken Id=\"user\">\n        \
         <wsse:Username>{}</wsse:Username>\n        <wsse:Password>{}</wsse:Password>\n      \
         </wsse:UsernameToken>\n    </wsse:Security>\n  </Header>\n  <Body>\n    \
         <ps:RequestMultipleSecurityTokens xmlns:ps=\"{PPCRL}\" Id=\"RSTS\">\n",
        escape(email),
        escape(secret.as_str())
    ));
    for (i, (address, policy)) in services.iter().enumerate() {
        body.push_str(&format!(
            "      <wst:RequestSecurityToken Id=\"RST{i}\">\n        \
             <wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType>\n        \
             <wsp:AppliesTo><wsa:EndpointReference><wsa:Address>{address}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>\n"
        ));
        if let Some(policy) = policy {
            body.push_str(&format!(
                "        <wsse:PolicyReference URI=\"{}\"></wsse:PolicyReference>\n",
                escape(*policy)
            ));
        }
        body.push_str("      </wst:RequestSecurityToken>\n");
    }
    body.push_str("    </ps:RequestMultipleSecurityTokens>\n  </Body>\n</Envelope>");
    Ok(HttpRequest {
        method: Method::Post,
        url: sso_url.to_owned(),
        headers: vec![(
            "Content-Type".to_owned(),
            "text/xml; charset=utf-8".to_owned(),
        )],
        body: body.into_bytes(),
        sensitive: true,
    })
}

/// Passport's SOAP namespace, used for `AuthInfo` and `RequestMultipleSecurityTokens`.
const PPCRL: &str = "http://schemas.microsoft.com/Passport/SoapServices/PPCRL";

/// Everything before the credentials: envelope namespaces and the `AuthInfo` header.
const ENVELOPE_START: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
    "<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\"",
    " xmlns:wsse=\"http://schemas.xmlsoap.org/ws/2003/06/secext\"",
    " xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\"",
    " xmlns:wsp=\"http://schemas.xmlsoap.org/ws/2002/12/policy\"",
    " xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"",
    " xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/03/addressing\"",
    " xmlns:wssc=\"http://schemas.xmlsoap.org/ws/2004/04/sc\"",
    " xmlns:wst=\"http://schemas.xmlsoap.org/ws/2004/04/trust\">\n",
    "  <Header>\n",
    "    <ps:AuthInfo xmlns:ps=\"http://schemas.microsoft.com/Passport/SoapServices/PPCRL\" Id=\"PPAuthInfo\">\n",
    "      <ps:HostingApp>{7108E71A-9926-4FCB-BCC9-9A9D3F32E423}</ps:HostingApp>\n",
    "      <ps:BinaryVersion>4</ps:BinaryVersion>\n",
    "      <ps:UIVersion>1</ps:UIVersion>\n",
    "      <ps:Cookies></ps:Cookies>\n",
    "      <ps:RequestParams>AQAAAAIAAABsYwQAAAAxMDMz</ps:RequestParams>\n",
    "    </ps:AuthInfo>\n",
);

/// Reads an RST answer: the tokens on success; [`AuthError::BadCredentials`] for
/// `FailedAuthentication` or `psf:reqstatus` 0x80048821/0x80048823; [`AuthError::ServerFault`]
/// for other SOAP faults; [`AuthError::BadResponse`] for anything malformed, truncated or huge.
pub fn parse_rst(response: &HttpResponse) -> Result<SecurityTokens, AuthError> {
    if response.body.len() > MAX_BODY_LEN {
        return Err(AuthError::bad("RST answer is too large"));
    }
    let answer = match Answer::read(&response.body) {
        Ok(answer) => answer,
        Err(_) if response.status != 200 => {
            return Err(AuthError::bad(format!(
                "RST answered HTTP {}",
                response.status
            )))
        }
        Err(e) => return Err(e),
    };
    let reqstatus = answer.reqstatus.trim();
    if BAD_CREDENTIAL_STATUSES
        .iter()
        .any(|s| reqstatus.eq_ignore_ascii_case(s))
    {
        return Err(AuthError::BadCredentials);
    }
    if answer.saw_fault {
        let code = answer.faultcode.trim();
        if code.rsplit(':').next() == Some("FailedAuthentication") {
            return Err(AuthError::BadCredentials);
        }
        return Err(AuthError::ServerFault(describe_fault(
            code,
            answer.faultstring.trim(),
        )));
    }
    if response.status != 200 {
        return Err(AuthError::bad(format!(
            "RST answered HTTP {}",
            response.status
        )));
    }
    answer.into_tokens()
}

/// `code: string`, with control characters dropped and each part shortened.
fn describe_fault(code: &str, string: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control())
            .take(MAX_FAULT_TEXT)
            .collect()
    };
    match (clean(code), clean(string)) {
        (c, s) if c.is_empty() && s.is_empty() => "unspecified SOAP fault".to_owned(),
        (c, s) if c.is_empty() => s,
        (c, s) if s.is_empty() => c,
        (c, s) => format!("{c}: {s}"),
    }
}

/// The texts collected from one `RequestSecurityTokenResponse`.
#[derive(Default)]
struct TokenResponse {
    address: String,
    ticket: String,
    secret: String,
}

/// What the streaming reader collected from the whole answer.
#[derive(Default)]
struct Answer {
    responses: Vec<TokenResponse>,
    saw_fault: bool,
    faultcode: String,
    faultstring: String,
    reqstatus: String,
}

impl Answer {
    /// Streams through `body` with a depth limit, matching elements by local name so that any
    /// namespace prefix works.
    fn read(body: &[u8]) -> Result<Answer, AuthError> {
        let mut reader = Reader::from_reader(body);
        let mut answer = Answer::default();
        let mut stack: Vec<Vec<u8>> = Vec::new();
        let mut current: Option<TokenResponse> = None;
        let mut saw_root = false;
        loop {
            let event = reader
                .read_event()
                .map_err(|_| AuthError::bad("RST answer is not well-formed XML"))?;
            match event {
                Event::Start(e) => {
                    let name = e.local_name().as_ref().to_vec();
                    if stack.is_empty() {
                        if saw_root || name != b"Envelope" {
                            return Err(AuthError::bad("RST answer is not a single SOAP envelope"));
                        }
                        saw_root = true;
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(AuthError::bad("RST answer is nested too deeply"));
                    }
                    answer.saw_fault |= name == b"Fault";
                    if name == b"RequestSecurityTokenResponse" {
                        if current.is_some() || answer.responses.len() >= MAX_RESPONSES {
                            return Err(AuthError::bad(
                                "RST answer has nested or too many token responses",
                            ));
                        }
                        current = Some(TokenResponse::default());
                    }
                    stack.push(name);
                }
                Event::End(_) => {
                    let closed = stack.pop();
                    if closed.as_deref() == Some(b"RequestSecurityTokenResponse") {
                        answer.responses.extend(current.take());
                    }
                }
                Event::Empty(e) => {
                    if stack.is_empty() {
                        return Err(AuthError::bad("RST answer is not a SOAP envelope"));
                    }
                    answer.saw_fault |= e.local_name().as_ref() == b"Fault";
                }
                Event::Text(e) => {
                    let text = e
                        .unescape()
                        .map_err(|_| AuthError::bad("RST answer has a bad XML escape"))?;
                    answer.collect(&stack, current.as_mut(), &text)?;
                }
                Event::CData(e) => {
                    let text = std::str::from_utf8(&e)
                        .map_err(|_| AuthError::bad("RST answer is not UTF-8"))?;
                    answer.collect(&stack, current.as_mut(), text)?;
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !saw_root {
            return Err(AuthError::bad("RST answer is not a SOAP envelope"));
        }
        if !stack.is_empty() {
            return Err(AuthError::bad("RST answer is truncated"));
        }
        Ok(answer)
    }

    /// Appends `text` to the field the innermost open element stands for, if any.
    fn collect(
        &mut self,
        stack: &[Vec<u8>],
        current: Option<&mut TokenResponse>,
        text: &str,
    ) -> Result<(), AuthError> {
        let Some(innermost) = stack.last() else {
            return Ok(());
        };
        let in_applies_to = || stack.iter().any(|name| name == b"AppliesTo");
        let target = match (innermost.as_slice(), current) {
            (b"Address", Some(response)) if in_applies_to() => &mut response.address,
            (b"BinarySecurityToken", Some(response)) => &mut response.ticket,
            (b"BinarySecret", Some(response)) => &mut response.secret,
            (b"faultcode", _) => &mut self.faultcode,
            (b"faultstring", _) => &mut self.faultstring,
            (b"reqstatus", _) => &mut self.reqstatus,
            _ => return Ok(()),
        };
        if target.len() + text.len() > MAX_TEXT_LEN {
            return Err(AuthError::bad("RST answer has an oversized value"));
        }
        target.push_str(text);
        Ok(())
    }

    /// Picks the tokens by address (first one wins); the proof key only from messengerclear.
    fn into_tokens(self) -> Result<SecurityTokens, AuthError> {
        let find = |addresses: &[&str]| {
            self.responses.iter().find(|r| {
                addresses
                    .iter()
                    .any(|a| r.address.trim().eq_ignore_ascii_case(a))
            })
        };
        let optional = |addresses: &[&str]| {
            let response = find(addresses)?;
            let token = ticket(response);
            if token.is_none() {
                log::warn!("RST answer for {} has no usable ticket", addresses[0]);
            }
            token
        };
        let clear = find(&[MESSENGER_CLEAR])
            .ok_or_else(|| AuthError::bad("RST answer has no messengerclear token"))?;
        let messenger_clear = ticket(clear)
            .ok_or_else(|| AuthError::bad("messengerclear ticket is missing or unusable"))?;
        let secret: String = clear
            .secret
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let binary_secret = LENIENT_BASE64
            .decode(secret)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AuthError::bad("messengerclear proof key is missing or not base64"))?;
        Ok(SecurityTokens {
            messenger_clear,
            binary_secret: Secret::new(binary_secret),
            messenger: optional(&[MESSENGER]),
            contacts: optional(&[CONTACTS]),
            messenger_secure: optional(&[MESSENGER_SECURE]),
            storage: optional(&[STORAGE, "storage.live.com"]),
        })
    }
}

/// The response's ticket, if present and made of printable ASCII without spaces.
fn ticket(response: &TokenResponse) -> Option<Token> {
    let ticket = response.ticket.trim();
    (!ticket.is_empty() && ticket.bytes().all(|b| b.is_ascii_graphic())).then(|| Token {
        ticket: Secret::new(ticket.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::testlog;

    fn ok_response(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// A minimal success answer with the given token responses.
    fn answer(responses: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><S:Envelope xmlns:S=\"s\" xmlns:wst=\"t\" xmlns:wsp=\"p\" xmlns:wsa=\"a\" \
             xmlns:wsse=\"e\"><S:Body><wst:RequestSecurityTokenResponseCollection>{responses}\
             </wst:RequestSecurityTokenResponseCollection></S:Body></S:Envelope>"
        )
    }

    fn token_response(address: &str, ticket: &str, secret: Option<&str>) -> String {
        let secret = secret.map_or(String::new(), |s| {
            format!("<wst:RequestedProofToken><wst:BinarySecret>{s}</wst:BinarySecret></wst:RequestedProofToken>")
        });
        format!(
            "<wst:RequestSecurityTokenResponse><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>{address}\
             </wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wst:RequestedSecurityToken>\
             <wsse:BinarySecurityToken Id=\"Compact1\">{ticket}</wsse:BinarySecurityToken>\
             </wst:RequestedSecurityToken>{secret}</wst:RequestSecurityTokenResponse>"
        )
    }

    #[test]
    fn request_matches_the_recorded_client_byte_for_byte() {
        let mut checked = 0;
        for dir in ["msnp15", "msnp18", "extra-authfail"] {
            for exchange in testlog::load(dir).iter().filter(|e| e.label == "SSO RST") {
                let recorded = String::from_utf8(exchange.request_body.clone()).unwrap();
                let (email, password) = if recorded.contains("<wsse:Username>bob@") {
                    ("bob@example.com", "bobpass")
                } else {
                    ("alice@example.com", "alicepass")
                };
                let request = rst_request(
                    "https://127.0.0.1:8443/RST.srf",
                    email,
                    &Secret::new(password.to_owned()),
                    "MBI_KEY_OLD",
                )
                .unwrap();
                assert_eq!(
                    String::from_utf8(request.body.clone()).unwrap(),
                    recorded,
                    "{dir}"
                );
                assert_eq!(request.method, Method::Post);
                assert!(request.sensitive);
                checked += 1;
            }
        }
        assert!(checked >= 4, "only {checked} recorded RST requests");
    }

    #[test]
    fn request_escapes_credentials_and_policy() {
        let password = Secret::new("a<b>&\"c'".to_owned());
        let request = rst_request(RST_URL, "x&y@example.com", &password, "MBI_KEY\"<").unwrap();
        let body = String::from_utf8(request.body).unwrap();
        assert!(body.contains("<wsse:Username>x&amp;y@example.com</wsse:Username>"));
        assert!(body.contains("<wsse:Password>a&lt;b&gt;&amp;&quot;c&apos;</wsse:Password>"));
        assert!(body.contains("URI=\"MBI_KEY&quot;&lt;\""));
        // The escaped request is still well-formed XML with the raw password as its text.
        let mut reader = Reader::from_str(&body);
        let mut texts = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Text(t) => texts.push(t.unescape().unwrap().into_owned()),
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(texts.iter().any(|t| t == "a<b>&\"c'"));
    }

    #[test]
    fn unusable_request_inputs_are_refused() {
        let pw = Secret::new("pw".to_owned());
        assert!(rst_request("login.live.com", "a@b", &pw, "MBI_KEY_OLD").is_err());
        assert!(rst_request(RST_URL, "", &pw, "MBI_KEY_OLD").is_err());
        assert!(rst_request(RST_URL, "a@b\0", &pw, "MBI_KEY_OLD").is_err());
        assert!(rst_request(RST_URL, "a@b", &Secret::new(String::new()), "MBI_KEY_OLD").is_err());
        assert!(rst_request(RST_URL, "a@b", &Secret::new("p\u{1}".into()), "MBI_KEY_OLD").is_err());
        assert!(rst_request(RST_URL, "a@b", &pw, "").is_err());
        assert!(rst_request(RST_URL, "a@b", &pw, "MBI KEY").is_err());
        assert!(rst_request(RST_URL, "a@b", &pw, &"P".repeat(MAX_POLICY_LEN + 1)).is_err());
    }

    #[test]
    fn recorded_answers_yield_every_token() {
        let mut checked = 0;
        for dir in ["msnp15", "msnp18", "extra-authfail"] {
            for exchange in testlog::load(dir).iter().filter(|e| e.label == "SSO RST") {
                let body = String::from_utf8(exchange.response_body.clone()).unwrap();
                let tokens = parse_rst(&exchange.response()).unwrap();
                let clear = tokens.messenger_clear.ticket.expose();
                assert!(clear.starts_with("t=") && clear.ends_with("&p="), "{clear}");
                assert!(body.contains(&clear.replace('&', "&amp;")));
                assert_eq!(tokens.messenger_clear.t().expose().len() + 5, clear.len());
                assert_eq!(tokens.messenger_clear.p().expose(), "");
                // The proof key is messengerclear's, not the Passport.NET/tb one listed first.
                let clear_part =
                    &body[body.find("messengerclear.live.com</wsa:Address>").unwrap()..];
                let secret_b64 = clear_part
                    .split("<wst:BinarySecret>")
                    .nth(1)
                    .unwrap()
                    .split('<')
                    .next()
                    .unwrap();
                assert_eq!(
                    tokens.binary_secret.expose(),
                    &LENIENT_BASE64.decode(secret_b64).unwrap()
                );
                assert_eq!(tokens.binary_secret.expose().len(), 24);
                for token in [
                    &tokens.messenger,
                    &tokens.contacts,
                    &tokens.messenger_secure,
                    &tokens.storage,
                ] {
                    assert!(token.as_ref().unwrap().ticket.expose().starts_with("t="));
                }
                checked += 1;
            }
        }
        assert!(checked >= 4);
    }

    #[test]
    fn recorded_wrong_password_is_bad_credentials() {
        let log = testlog::load("extra-authfail");
        let exchange = log
            .iter()
            .find(|e| e.label == "RST wrong password")
            .unwrap();
        assert_eq!(
            parse_rst(&exchange.response()),
            Err(AuthError::BadCredentials)
        );
    }

    #[test]
    fn tokens_are_matched_by_address_not_position() {
        let body = answer(
            &[
                token_response("sup.live.com", "t=sup&amp;p=", None),
                token_response(" CONTACTS.msn.com ", "t=ab&amp;p=", None),
                token_response(
                    "messengerclear.live.com",
                    "\n t=clear&amp;p=pp \n",
                    Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"),
                ),
                token_response("storage.live.com", "t=st&amp;p=", None),
            ]
            .concat(),
        );
        let tokens = parse_rst(&ok_response(&body)).unwrap();
        assert_eq!(tokens.messenger_clear.ticket.expose(), "t=clear&p=pp");
        assert_eq!(tokens.messenger_clear.t().expose(), "clear");
        assert_eq!(tokens.messenger_clear.p().expose(), "pp");
        assert_eq!(
            tokens.binary_secret.expose(),
            &(0u8..24).collect::<Vec<_>>()
        );
        assert_eq!(tokens.contacts.unwrap().ticket.expose(), "t=ab&p=");
        assert_eq!(tokens.storage.unwrap().ticket.expose(), "t=st&p=");
        assert!(tokens.messenger.is_none() && tokens.messenger_secure.is_none());
        // A bare token (no t=) is passed through whole.
        let bare = Token {
            ticket: Secret::new("abc".into()),
        };
        assert_eq!(
            (bare.t().expose().as_str(), bare.p().expose().as_str()),
            ("abc", "")
        );
    }

    #[test]
    fn missing_pieces_are_bad_responses() {
        let secret = Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYX");
        for body in [
            answer(&token_response("contacts.msn.com", "t=a&amp;p=", secret)),
            answer(&token_response(
                "messengerclear.live.com",
                "t=a&amp;p=",
                None,
            )),
            answer(&token_response(
                "messengerclear.live.com",
                "t=a&amp;p=",
                Some("!!notbase64!!"),
            )),
            answer(&token_response("messengerclear.live.com", "", secret)),
            answer(&token_response(
                "messengerclear.live.com",
                "t=a b&amp;p=",
                secret,
            )),
            answer(""),
        ] {
            assert!(
                matches!(
                    parse_rst(&ok_response(&body)),
                    Err(AuthError::BadResponse(_))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn faults_are_classified() {
        let fault = |header: &str, code: &str| {
            format!(
                "<S:Envelope xmlns:S=\"s\" xmlns:psf=\"f\"><S:Header>{header}</S:Header><S:Body><S:Fault>{code}\
                 </S:Fault></S:Body></S:Envelope>"
            )
        };
        let parse = |body: String, status| {
            parse_rst(&HttpResponse {
                status,
                headers: Vec::new(),
                body: body.into_bytes(),
            })
        };
        let failed =
            "<faultcode>wsse:FailedAuthentication</faultcode><faultstring>no</faultstring>";
        assert_eq!(
            parse(fault("", failed), 500),
            Err(AuthError::BadCredentials)
        );
        for status in ["0x80048821", "0x80048823"] {
            let header = format!("<psf:pp><psf:reqstatus>{status}</psf:reqstatus></psf:pp>");
            let code = "<faultcode>S:Client</faultcode>";
            assert_eq!(
                parse(fault(&header, code), 200),
                Err(AuthError::BadCredentials)
            );
        }
        let other = "<faultcode>psf:Redirect</faultcode><faultstring>Go\r\nelsewhere</faultstring>";
        assert_eq!(
            parse(fault("", other), 500),
            Err(AuthError::ServerFault("psf:Redirect: Goelsewhere".into()))
        );
        assert_eq!(
            parse(fault("", "<faultcode></faultcode>"), 500),
            Err(AuthError::ServerFault("unspecified SOAP fault".into()))
        );
        assert_eq!(
            parse(fault("", ""), 500),
            Err(AuthError::ServerFault("unspecified SOAP fault".into()))
        );
        assert_eq!(
            parse(fault("", "<faultstring>only text</faultstring>"), 200),
            Err(AuthError::ServerFault("only text".into()))
        );
        let long = format!("<faultcode>{}</faultcode>", "x".repeat(5000));
        match parse(fault("", &long), 500) {
            Err(AuthError::ServerFault(text)) => assert_eq!(text.len(), MAX_FAULT_TEXT),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_answers_are_errors() {
        let log = testlog::load("msnp18");
        let good = log
            .iter()
            .find(|e| e.label == "SSO RST")
            .unwrap()
            .response_body
            .clone();
        let mut cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"garbage, not XML".to_vec(),
            b"<html><body>502 Bad Gateway</body></html>".to_vec(),
            b"<S:Envelope/>".to_vec(),
            b"<Envelope></Envelope><Envelope></Envelope>".to_vec(),
            b"<Envelope><a></b></Envelope>".to_vec(),
            b"<Envelope>&unknown;</Envelope>".to_vec(),
            b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><Envelope><faultcode>&a;</faultcode></Envelope>"
                .to_vec(),
            vec![0xff, 0xfe, 0x00, 0x3c],
        ];
        // Truncated at many points of the real answer.
        for cut in (0..good.len()).step_by(997) {
            cases.push(good[..cut].to_vec());
        }
        // Deep nesting, a huge value, too many responses, an oversized body.
        cases.push(format!("<Envelope>{}</Envelope>", "<a>".repeat(MAX_DEPTH + 1)).into_bytes());
        cases.push(
            answer(&token_response(
                MESSENGER_CLEAR,
                &"t".repeat(MAX_TEXT_LEN + 1),
                None,
            ))
            .into_bytes(),
        );
        cases
            .push(answer(&token_response("x", "t=1", None).repeat(MAX_RESPONSES + 1)).into_bytes());
        let mut huge = good.clone();
        huge.resize(MAX_BODY_LEN + 1, b' ');
        cases.push(huge);
        for body in cases {
            let response = HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: body.clone(),
            };
            assert!(
                matches!(parse_rst(&response), Err(AuthError::BadResponse(_))),
                "{}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            );
        }
        // A non-200 status with an unreadable body names the status.
        let response = HttpResponse {
            status: 503,
            headers: Vec::new(),
            body: b"busy".to_vec(),
        };
        assert_eq!(
            parse_rst(&response),
            Err(AuthError::BadResponse("RST answered HTTP 503".into()))
        );
        // The good answer under a non-200 status without a fault is still refused.
        let response = HttpResponse {
            status: 404,
            headers: Vec::new(),
            body: good,
        };
        assert!(matches!(
            parse_rst(&response),
            Err(AuthError::BadResponse(_))
        ));
    }

    /// The space-separated arguments after `prefix` on its first line in `<dir>/<who>-ns.log`.
    fn ns_line(dir: &str, who: &str, prefix: &str) -> Vec<String> {
        let path = format!(
            "{}/../../tests/transcripts/{dir}/{who}-ns.log",
            env!("CARGO_MANIFEST_DIR")
        );
        let log = std::fs::read_to_string(&path).unwrap();
        let line = log
            .lines()
            .find_map(|l| l.split_once(prefix).map(|(_, rest)| rest))
            .unwrap();
        line.trim_end_matches("\\r\\n")
            .split(' ')
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn recorded_logins_are_reproduced_from_the_parsed_tokens() {
        use crate::auth::sso;
        use base64::engine::general_purpose::STANDARD;
        for dir in ["msnp15", "msnp18"] {
            let log = testlog::load(dir);
            for who in ["alice", "bob"] {
                let exchange = log
                    .iter()
                    .find(|e| {
                        String::from_utf8_lossy(&e.request_body)
                            .contains(&format!("<wsse:Username>{who}@"))
                    })
                    .unwrap();
                let tokens = parse_rst(&exchange.response()).unwrap();
                let nonce = ns_line(dir, who, "S>C USR 3 SSO S MBI_KEY_OLD ").remove(0);
                let sent = ns_line(dir, who, "C>S USR 4 SSO S ");
                assert_eq!(
                    &sent[0],
                    tokens.messenger_clear.ticket.expose(),
                    "{dir} {who}"
                );
                // The client drew a random IV; it sits at bytes 28..36 of the blob it sent.
                let blob = STANDARD.decode(&sent[1]).unwrap();
                let iv: [u8; 8] = blob[28..36].try_into().unwrap();
                let ours = sso::mbi_response(tokens.binary_secret.expose(), &nonce, iv).unwrap();
                assert_eq!(ours, sent[1], "{dir} {who}");
                if dir == "msnp18" {
                    assert!(sso::is_valid_machine_guid(&sent[2]));
                }
            }
        }
    }

    #[test]
    fn debug_output_hides_tokens() {
        let log = testlog::load("msnp15");
        let tokens = parse_rst(
            &log.iter()
                .find(|e| e.label == "SSO RST")
                .unwrap()
                .response(),
        )
        .unwrap();
        let debug = format!("{tokens:?}");
        let t = tokens.messenger_clear.t();
        assert!(!debug.contains(&t.expose()[..20]), "{debug}");
    }
}
