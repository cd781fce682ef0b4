//! SOAP plumbing shared by the services: endpoint URLs, the address-book envelope with its
//! `ABApplicationHeader`/`ABAuthHeader`, request values, fault and status handling.

use quick_xml::escape::escape;

use super::xml::{Node, Path, XmlError, XmlStream};
use super::SoapError;
use crate::auth::rst::Token;
use crate::http::{self, HttpRequest, Method, Url};

/// Namespace (and `SOAPAction` prefix) of the address-book and sharing services.
pub const AB_NAMESPACE: &str = "http://www.msn.com/webservices/AddressBook";
/// Path of the address-book service.
pub const ABOOK_PATH: &str = "/abservice/abservice.asmx";
/// Path of the sharing (membership) service.
pub const SHARING_PATH: &str = "/abservice/SharingService.asmx";
/// Path of the offline-message retrieval service (RSI).
pub const RSI_PATH: &str = "/rsi/rsi.asmx";
/// Path of the offline-message store service.
pub const OIM_PATH: &str = "/OimWS/oim.asmx";
/// Largest SOAP answer parsed (a 5,000-contact address book is about 7 MB).
pub const MAX_BODY_LEN: usize = http::MAX_BODY_LEN;
/// Longest account name (passport) accepted in requests and answers.
pub const MAX_EMAIL_LEN: usize = 256;
/// Longest display name, group name or annotation value accepted in requests and answers.
pub const MAX_NAME_LEN: usize = 1024;
/// Longest GUID-like identifier (contact, group, message id) accepted.
pub const MAX_ID_LEN: usize = 64;

/// The all-zero address-book id; Escargot refuses any other.
pub(crate) const AB_ID: &str = "00000000-0000-0000-0000-000000000000";
/// `ApplicationId` the official client sent with `ABFindAll`.
pub(crate) const FIND_ALL_APP_ID: &str = "996CDE1E-AA53-4477-B943-2BE802EA6166";
/// `ApplicationId` the official client sent with every other address-book request.
pub(crate) const APP_ID: &str = "CFE80F9D-180F-4399-82AB-413F33A1FA11";

/// The service URLs of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Address-book service (`ABFindAll`, `ABContactAdd`, ...).
    pub abook: String,
    /// Sharing service (`FindMembership`, `AddMember`, `DeleteMember`).
    pub sharing: String,
    /// Offline-message retrieval (`GetMetadata`, `GetMessage`, `DeleteMessages`).
    pub rsi: String,
    /// Offline-message store (`Store2`).
    pub oim: String,
}

impl Endpoints {
    /// The standard paths on the scheme, host and port of `sso_url` (the account's RST URL),
    /// or under `services_url` (scheme, host, port and path prefix) when one is given.
    pub fn new(sso_url: &str, services_url: Option<&str>) -> Result<Endpoints, SoapError> {
        let base = match services_url {
            Some(services) => {
                let url = Url::parse(services)?;
                let prefix = url.path.split('?').next().unwrap_or_default();
                format!(
                    "{}://{}{}",
                    url.scheme.as_str(),
                    url.authority(),
                    prefix.trim_end_matches('/')
                )
            }
            None => {
                let url = Url::parse(sso_url)?;
                format!("{}://{}", url.scheme.as_str(), url.authority())
            }
        };
        Ok(Endpoints {
            abook: format!("{base}{ABOOK_PATH}"),
            sharing: format!("{base}{SHARING_PATH}"),
            rsi: format!("{base}{RSI_PATH}"),
            oim: format!("{base}{OIM_PATH}"),
        })
    }
}

/// The `PartnerScenario` of an address-book request: why the client is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Sign-in synchronisation.
    Initial,
    /// A periodic or notification-triggered refresh.
    Timer,
    /// Adding, removing or editing a contact.
    ContactSave,
    /// Adding, removing or renaming a group.
    GroupSave,
    /// Allowing or blocking someone.
    BlockUnblock,
    /// Answering an authorisation request (accepting or dismissing a pending contact).
    ContactMsgrApi,
}

impl Scenario {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Initial => "Initial",
            Scenario::Timer => "Timer",
            Scenario::ContactSave => "ContactSave",
            Scenario::GroupSave => "GroupSave",
            Scenario::BlockUnblock => "BlockUnblock",
            Scenario::ContactMsgrApi => "ContactMsgrAPI",
        }
    }
}

/// A `POST` of `body` to `url` with the given `SOAPAction` (quoted when `quote_action`, as the
/// official client did for the OIM services). Marked sensitive: SOAP requests carry tickets.
pub(crate) fn soap_request(
    url: &str,
    action: &str,
    quote_action: bool,
    body: String,
) -> HttpRequest {
    let action = match quote_action {
        true => format!("\"{action}\""),
        false => action.to_owned(),
    };
    HttpRequest {
        method: Method::Post,
        url: url.to_owned(),
        headers: vec![
            ("SOAPAction".to_owned(), action),
            (
                "Content-Type".to_owned(),
                "text/xml; charset=utf-8".to_owned(),
            ),
        ],
        body: body.into_bytes(),
        sensitive: true,
    }
}

/// An address-book or sharing request: the envelope with both headers around `method_xml`
/// (the method element, indented as the official client did).
pub(crate) fn ab_request(
    url: &str,
    method: &str,
    app_id: &str,
    scenario: Scenario,
    ticket: &Token,
    method_xml: &str,
) -> HttpRequest {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:soapenc=\"http://schemas.xmlsoap.org/soap/encoding/\">\n  \
         <soap:Header>\n    \
         <ABApplicationHeader xmlns=\"{AB_NAMESPACE}\">\n      \
         <ApplicationId>{app_id}</ApplicationId>\n      \
         <IsMigration>false</IsMigration>\n      \
         <PartnerScenario>{}</PartnerScenario>\n    \
         </ABApplicationHeader>\n    \
         <ABAuthHeader xmlns=\"{AB_NAMESPACE}\">\n      \
         <ManagedGroupRequest>false</ManagedGroupRequest>\n      \
         <TicketToken>{}</TicketToken>\n    \
         </ABAuthHeader>\n  \
         </soap:Header>\n  \
         <soap:Body>\n    \
         {method_xml}\n  \
         </soap:Body>\n\
         </soap:Envelope>",
        scenario.as_str(),
        escape(ticket.ticket.expose().as_str()),
    );
    soap_request(url, &format!("{AB_NAMESPACE}/{method}"), false, body)
}

/// Starts reading a SOAP answer.
pub(crate) fn soap_stream(body: Vec<u8>) -> Result<XmlStream, SoapError> {
    Ok(XmlStream::new(body, b"Envelope", MAX_BODY_LEN)?)
}

/// One step of a resumable reader: `state` handles up to `budget` events of `stream`; `Ok(None)`
/// while unfinished, then the answer's SOAP fault, or what `finish` collected, or
/// `Malformed(missing)` when the answer lacked the method's result. Not to be called again after a
/// result or an error.
pub(crate) fn step_stream<S, T>(
    stream: &mut XmlStream,
    state: &mut S,
    budget: usize,
    handle: fn(&mut S, &Path, Node<'_>) -> Result<(), XmlError>,
    finish: fn(&mut S) -> Option<T>,
    missing: &'static str,
) -> Result<Option<T>, SoapError> {
    if !stream.step(budget, |path, node| handle(state, path, node))? {
        return Ok(None);
    }
    check_fault(stream)?;
    finish(state).map(Some).ok_or(SoapError::Malformed(missing))
}

/// After a whole answer was read: its SOAP fault as an error, if it had one.
pub(crate) fn check_fault(stream: &XmlStream) -> Result<(), SoapError> {
    match stream.fault() {
        Some(fault) => Err(fault.to_error()),
        None => Ok(()),
    }
}

/// Combines an answer's HTTP status with what its parser made of the body. Services send
/// faults (and the OIM lock-key challenge) with status 500, so a body that parsed, or parsed
/// as a SOAP fault, speaks for itself; any other parse failure of a non-200 answer (an error
/// page, an empty body) becomes [`SoapError::Status`].
pub fn with_status<T>(status: u16, parsed: Result<T, SoapError>) -> Result<T, SoapError> {
    match parsed {
        Err(SoapError::Fault { .. }) | Ok(_) => parsed,
        Err(_) if status != 200 => Err(SoapError::Status(status)),
        Err(e) => Err(e),
    }
}

/// Reads an answer that carries nothing but success (`AddMember`, `ABContactDelete`,
/// `ABGroupUpdate`, `DeleteMessages`, ...): `Ok` for a SOAP envelope with a `Body` and no fault.
pub fn parse_empty_response(body: &[u8]) -> Result<(), SoapError> {
    let mut stream = soap_stream(body.to_vec())?;
    let mut saw_body = false;
    stream.run(|path, node| {
        if let super::xml::Node::Open(_) = node {
            saw_body |= path.depth() == 2 && path.last() == b"Body";
        }
        Ok(())
    })?;
    check_fault(&stream)?;
    match saw_body {
        true => Ok(()),
        false => Err(SoapError::Malformed("SOAP answer has no Body")),
    }
}

/// Checks a value for a request: non-empty, at most `max` bytes, no control characters.
pub(crate) fn check_text(value: &str, max: usize, what: &'static str) -> Result<(), SoapError> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(SoapError::InvalidInput(what));
    }
    Ok(())
}

/// Checks an account name for a request: printable ASCII except space, with an `@`.
pub(crate) fn check_email(email: &str) -> Result<(), SoapError> {
    if is_email(email) {
        Ok(())
    } else {
        Err(SoapError::InvalidInput("unusable account name"))
    }
}

/// Whether `email` looks like an account name: `local@domain` with one `@`, at most
/// [`MAX_EMAIL_LEN`] bytes, printable ASCII without spaces, quotes or angle brackets.
pub(crate) fn is_email(email: &str) -> bool {
    let usable = |b: u8| b.is_ascii_graphic() && !b"\"'<>&".contains(&b);
    email.len() <= MAX_EMAIL_LEN
        && email.bytes().all(usable)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
}

/// Whether `id` looks like a GUID-style identifier: hex digits, dashes and braces only.
pub(crate) fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b"-{}".contains(&b))
}

/// Checks a contact, group or message id for a request.
pub(crate) fn check_id(id: &str) -> Result<(), SoapError> {
    if is_id(id) {
        Ok(())
    } else {
        Err(SoapError::InvalidInput("unusable identifier"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn endpoints_follow_the_sso_host_or_the_services_base() {
        let e = Endpoints::new("https://127.0.0.1:8443/RST.srf", None).unwrap();
        assert_eq!(e.abook, "https://127.0.0.1:8443/abservice/abservice.asmx");
        assert_eq!(
            e.sharing,
            "https://127.0.0.1:8443/abservice/SharingService.asmx"
        );
        assert_eq!(e.rsi, "https://127.0.0.1:8443/rsi/rsi.asmx");
        assert_eq!(e.oim, "https://127.0.0.1:8443/OimWS/oim.asmx");

        let e = Endpoints::new(
            "https://login.live.com/RST.srf",
            Some("http://10.0.0.2:8080/esc/?x=1"),
        )
        .unwrap();
        assert_eq!(e.abook, "http://10.0.0.2:8080/esc/abservice/abservice.asmx");
        assert_eq!(e.oim, "http://10.0.0.2:8080/esc/OimWS/oim.asmx");
        let e = Endpoints::new("https://login.live.com:443/RST.srf", None).unwrap();
        assert_eq!(e.rsi, "https://login.live.com/rsi/rsi.asmx");

        assert!(matches!(
            Endpoints::new("ftp://x/", None),
            Err(SoapError::Http(_))
        ));
        assert!(Endpoints::new("https://ok/", Some("not a url")).is_err());
    }

    #[test]
    fn requests_are_sensitive_posts_and_escape_the_ticket() {
        let ticket = Token {
            ticket: Secret::new("t=abc<&>&p=xyz".to_owned()),
        };
        let req = ab_request(
            "https://h/abservice/abservice.asmx",
            "ABGroupDelete",
            APP_ID,
            Scenario::GroupSave,
            &ticket,
            "<X/>",
        );
        assert_eq!(req.method, Method::Post);
        assert!(req.sensitive);
        let body = String::from_utf8(req.body.clone()).unwrap();
        assert!(body.contains("<TicketToken>t=abc&lt;&amp;&gt;&amp;p=xyz</TicketToken>"));
        assert!(body.contains("<PartnerScenario>GroupSave</PartnerScenario>"));
        assert_eq!(
            req.headers[0],
            (
                "SOAPAction".to_owned(),
                format!("{AB_NAMESPACE}/ABGroupDelete")
            )
        );
        assert!(!format!("{req:?}").contains("abc"));
        let quoted = soap_request("https://h/", "urn:a", true, String::new());
        assert_eq!(quoted.headers[0].1, "\"urn:a\"");
    }

    #[test]
    fn status_and_faults_combine() {
        let fault = || SoapError::Fault {
            code: "c".into(),
            text: "t".into(),
        };
        assert_eq!(with_status(500, Err::<(), _>(fault())), Err(fault()));
        assert_eq!(
            with_status(500, Err::<(), _>(SoapError::Malformed("x"))),
            Err(SoapError::Status(500))
        );
        assert_eq!(with_status(500, Ok(1)), Ok(1));
        assert_eq!(with_status(200, Ok(1)), Ok(1));
        assert_eq!(
            with_status(200, Err::<(), _>(SoapError::Malformed("x"))),
            Err(SoapError::Malformed("x"))
        );
    }

    #[test]
    fn empty_responses_and_faults() {
        let ok = b"<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"s\"><soap:Body>\
                   <ABGroupDeleteResponse xmlns=\"x\"/></soap:Body></soap:Envelope>";
        assert_eq!(parse_empty_response(ok), Ok(()));
        assert_eq!(
            parse_empty_response(b"<Envelope><Header/></Envelope>"),
            Err(SoapError::Malformed("SOAP answer has no Body"))
        );
        for (body, code, text) in [
            (
                "<Envelope><Body><Fault><faultcode>soap:Client</faultcode><faultstring> Group exists </faultstring>\
                 <detail><errorcode>GroupAlreadyExists</errorcode></detail></Fault></Body></Envelope>",
                "GroupAlreadyExists",
                "Group exists",
            ),
            (
                "<Envelope><Body><Fault><faultcode/><faultstring></faultstring></Fault></Body></Envelope>",
                "",
                "",
            ),
            ("<Envelope><Body><Fault/></Body></Envelope>", "", ""),
        ] {
            assert_eq!(
                parse_empty_response(body.as_bytes()),
                Err(SoapError::Fault {
                    code: code.into(),
                    text: text.into()
                }),
                "{body}"
            );
        }
        for bad in [
            &b""[..],
            b"500 Internal Server Error\n\nServer got itself in trouble\n",
            b"<Envelope><Body>",
            b"<html><body/></html>",
        ] {
            assert!(
                matches!(parse_empty_response(bad), Err(SoapError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// Fuzzing finding (`listxml`): `carol@example.com@` passed as an address, split at its
    /// first `@` here and at its last by the list builders, which then refused it.
    #[test]
    fn an_address_has_one_at_sign() {
        for bad in ["carol@example.com@", "a@b@c", "@@x", "a@@x"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn input_checks() {
        assert!(is_email("bob@example.com"));
        for bad in ["", "bob", "@x", "bob@", "b ob@x", "a\"b@x", "a<b@x", "bø@x"] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(!is_email(&format!("{}@x", "a".repeat(MAX_EMAIL_LEN))));
        assert!(is_id("dbd254aa-c066-4dc0-80db-f87fd43c2af2"));
        assert!(is_id("{3A3BE82C-684D-4F4F-8005-CBE8D4F82BAD}"));
        for bad in ["", "x", "a b", &"a".repeat(MAX_ID_LEN + 1)] {
            assert!(!is_id(bad), "{bad}");
        }
        assert!(check_text("ok", 2, "x").is_ok());
        assert!(check_text("long", 2, "x").is_err());
        assert!(check_text("a\nb", 10, "x").is_err());
        assert!(check_text("", 10, "x").is_err());
    }
}
