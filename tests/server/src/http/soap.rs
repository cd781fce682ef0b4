//! SOAP web services under `/abservice/`: the address book (`abservice.asmx`, [`abook`]) and
//! the sharing service (`SharingService.asmx`, [`sharing`]), answered like Escargot
//! (docs/protocol.md §5.2; transcripts `msnp15`/`msnp18` `http.log`, `extra-contact-add`). Requests
//! are authenticated by the first 20 characters of their `TicketToken`; delta syncs get the
//! `FullSyncRequired` fault.

use super::abook;
use super::message::{Request, Response};
use super::sharing;
use crate::shared::Shared;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use std::time::Instant;

/// Namespace of both services.
pub(super) const AB_NS: &str = "http://www.msn.com/webservices/AddressBook";
/// Largest request read.
const MAX_REQUEST: usize = 1024 * 1024;
/// Most text nodes kept from one request.
const MAX_TEXTS: usize = 10_000;

/// Whether `path` belongs to the SOAP services.
pub fn is_soap_path(path: &str) -> bool {
    [
        "/abservice/",
        "/soap/",
        "/storageservice/",
        "/OimWS/",
        "/rsi/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// A parsed request: its method (the first element in `Body`), the caller and the text of
/// every element, with the local names of its ancestors.
pub(super) struct Call {
    /// `FindMembership`, `ABContactAdd`, ...
    pub method: String,
    /// The signed-in account the ticket belongs to.
    pub email: String,
    texts: Texts,
}

impl Call {
    /// The first text of an element called `name` (below `within`, when given).
    pub fn text<'a>(&'a self, within: Option<&'a str>, name: &'a str) -> Option<&'a str> {
        self.texts(within, name).next()
    }

    /// Every text of elements called `name` (below `within`, when given).
    pub fn texts<'a>(
        &'a self,
        within: Option<&'a str>,
        name: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.texts
            .iter()
            .filter(move |(path, _)| {
                path.last().is_some_and(|n| n == name)
                    && within.is_none_or(|w| path.iter().any(|p| p == w))
            })
            .map(|(_, text)| text.trim())
    }
}

/// Text nodes with the local names of their elements, outermost first.
type Texts = Vec<(Vec<String>, String)>;

/// The method, ticket and text nodes of a SOAP request; `None` if it is not XML.
fn parse(body: &[u8]) -> Option<(String, String, Texts)> {
    if body.len() > MAX_REQUEST {
        return None;
    }
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut path: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut method = String::new();
    let mut ticket = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if method.is_empty() && path.last().is_some_and(|p| p == "Body") {
                    method = name.clone();
                }
                path.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if method.is_empty() && path.last().is_some_and(|p| p == "Body") {
                    method = name;
                }
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().ok()?.into_owned();
                if path.last().is_some_and(|p| p == "TicketToken") {
                    ticket.push_str(&text);
                } else if !text.trim().is_empty() && texts.len() < MAX_TEXTS {
                    texts.push((path.clone(), text));
                }
            }
            Event::Eof => return Some((method, ticket, texts)),
            _ => {}
        }
    }
}

/// Answers a SOAP request.
pub fn handle(shared: &Shared, req: &Request) -> Response {
    let path = req.path.to_ascii_lowercase();
    let service = match path.as_str() {
        "/abservice/abservice.asmx" => Service::AddressBook,
        "/abservice/sharingservice.asmx" => Service::Sharing,
        _ => {
            log::info!("SOAP service not served: {}", req.path);
            return Response::plain(404, Vec::new());
        }
    };
    if req.method != "POST" {
        return Response::plain(405, Vec::new());
    }
    let Some((method, ticket, texts)) = parse(&req.body) else {
        return fault("soap:Client", "Malformed request", "");
    };
    let email = shared
        .directory()
        .token(&ticket, Instant::now())
        .map(|t| t.email.clone());
    let Some(email) = email else {
        // Escargot: 403 from the address book, 500 from the others.
        return Response::plain(
            if service == Service::AddressBook {
                403
            } else {
                500
            },
            Vec::new(),
        );
    };
    let call = Call {
        method,
        email,
        texts,
    };
    let delta = ["deltasOnly", "DeltasOnly"]
        .iter()
        .any(|n| call.text(None, n).is_some_and(|v| v == "true"));
    if delta {
        return fault(
            "soap:Client",
            "Full sync required.  Details: Delta sync is not supported.",
            "FullSyncRequired",
        );
    }
    if call
        .text(None, "abId")
        .is_some_and(|id| id != "00000000-0000-0000-0000-000000000000")
    {
        return Response::plain(500, Vec::new());
    }
    match service {
        Service::AddressBook => abook::handle(shared, &call),
        Service::Sharing => sharing::handle(shared, &call),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    AddressBook,
    Sharing,
}

/// A `200` answer with the service header and `body` in the SOAP body.
pub(super) fn answer(body: &str) -> Response {
    Response::xml(
        200,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope \
             xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n\t<soap:Header>\n\t\t\
             <ServiceHeader xmlns=\"{AB_NS}\">\n\t\t\t<Version>15.01.1408.0000</Version>\n\t\t\t\
             <CacheKeyChanged>true</CacheKeyChanged>\n\t\t\t<PreferredHostName>127.0.0.1</PreferredHostName>\n\
             \t\t</ServiceHeader>\n\t</soap:Header>\n\t<soap:Body>\n{body}\n\t</soap:Body>\n</soap:Envelope>"
        ),
    )
}

/// An empty `<method>Response` answer.
pub(super) fn empty(method: &str) -> Response {
    answer(&format!("<{method}Response xmlns=\"{AB_NS}\" />"))
}

/// A `500` SOAP fault (Escargot's templates: code, text and an `errorcode` detail).
pub(super) fn fault(code: &str, text: &str, errorcode: &str) -> Response {
    let detail = match errorcode {
        "" => String::new(),
        e => format!(
            "<detail><errorcode xmlns=\"{AB_NS}\">{e}</errorcode>\
             <errorstring xmlns=\"{AB_NS}\">{}</errorstring></detail>",
            escape(text)
        ),
    };
    Response::xml(
        500,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope \
             xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><soap:Fault>\
             <faultcode>{code}</faultcode><faultstring>{}</faultstring>{detail}</soap:Fault>\
             </soap:Body></soap:Envelope>",
            escape(text)
        ),
    )
}

/// A client fault with an address-book error code.
pub(super) fn client_fault(errorcode: &str, text: &str) -> Response {
    fault("soap:Client", text, errorcode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_method_ticket_and_texts() {
        let body = br#"<?xml version="1.0"?><soap:Envelope xmlns:soap="s"><soap:Header>
            <ABAuthHeader xmlns="a"><TicketToken>t=abc&amp;p=</TicketToken></ABAuthHeader></soap:Header>
            <soap:Body><ABGroupContactAdd xmlns="a"><groupFilter><groupIds><guid>g1</guid></groupIds>
            </groupFilter><contacts><Contact><contactId>c1</contactId></Contact></contacts>
            </ABGroupContactAdd></soap:Body></soap:Envelope>"#;
        let (method, ticket, texts) = parse(body).unwrap();
        assert_eq!(method, "ABGroupContactAdd");
        assert_eq!(ticket, "t=abc&p=");
        let call = Call {
            method,
            email: String::new(),
            texts,
        };
        assert_eq!(call.text(Some("groupIds"), "guid"), Some("g1"));
        assert_eq!(call.text(Some("contacts"), "contactId"), Some("c1"));
        assert_eq!(call.text(Some("contacts"), "guid"), None);
        assert!(parse(b"<a><b></a>").is_none());
    }
}
