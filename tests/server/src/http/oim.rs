//! The offline-message services (docs/protocol.md §9.2, §9.3; transcript `extra-oim/http.log`):
//! `/OimWS/oim.asmx` `Store2` with Escargot's lock-key rule and checks, and `/rsi/rsi.asmx`
//! `GetMessage`, `DeleteMessages` and (failing, as on Escargot) `GetMetadata`.

use super::message::{Request, Response};
use crate::ns::notify;
use crate::sb::mailbox::{self, Stored};
use crate::shared::Shared;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use std::time::Instant;

/// The challenge Escargot's store fault always carries.
const LOCK_KEY_CHALLENGE: &str = "1850937852";
/// Longest base64 line Escargot accepts in a stored message.
const MAX_BASE64_LINE: usize = 77;
/// Most message ids read from one `DeleteMessages`.
const MAX_IDS: usize = 100;

/// Whether `path` is one of the offline-message services.
pub fn is_oim_path(path: &str) -> bool {
    path.eq_ignore_ascii_case("/OimWS/oim.asmx") || path.eq_ignore_ascii_case("/rsi/rsi.asmx")
}

/// Answers an offline-message request.
pub fn handle(shared: &Shared, req: &Request) -> Response {
    if req.method != "POST" {
        return Response::plain(405, Vec::new());
    }
    let Some(fields) = Fields::parse(&req.body) else {
        return fault("soap:Client", "malformed request", "");
    };
    if req.path.eq_ignore_ascii_case("/OimWS/oim.asmx") {
        store(shared, &fields)
    } else {
        rsi(shared, req, &fields)
    }
}

/// What the requests carry, by local element and attribute names.
#[derive(Debug, Default)]
struct Fields {
    from: String,
    friendly: String,
    to: String,
    passport: String,
    lock_key: String,
    message_number: String,
    content: String,
    /// `PassportCookie/t`.
    cookie_t: String,
    message_ids: Vec<String>,
    /// Local names of the body's first element (the method).
    method: String,
}

impl Fields {
    fn parse(body: &[u8]) -> Option<Fields> {
        let mut reader = quick_xml::Reader::from_reader(body);
        let mut f = Fields::default();
        let mut current: Vec<u8> = Vec::new();
        let mut in_body = false;
        loop {
            let event = reader.read_event().ok()?;
            let start = match &event {
                Event::Start(e) | Event::Empty(e) => Some(e.clone()),
                _ => None,
            };
            if let Some(e) = start {
                let name = e.local_name().as_ref().to_vec();
                if in_body && f.method.is_empty() {
                    f.method = String::from_utf8_lossy(&name).into_owned();
                }
                in_body |= name == b"Body";
                for attr in e.attributes().flatten() {
                    let value = attr.unescape_value().ok()?.into_owned();
                    match (name.as_slice(), attr.key.local_name().as_ref()) {
                        (b"From", b"memberName") => f.from = value,
                        (b"From", b"friendlyName") => f.friendly = value,
                        (b"To", b"memberName") => f.to = value,
                        (b"Ticket", b"passport") => f.passport = value,
                        (b"Ticket", b"lockkey") => f.lock_key = value,
                        _ => {}
                    }
                }
                if matches!(event, Event::Start(_)) {
                    current = name;
                }
                continue;
            }
            match event {
                Event::End(_) => current.clear(),
                Event::Text(t) => {
                    let text = t.unescape().ok()?.into_owned();
                    match current.as_slice() {
                        b"MessageNumber" => f.message_number.push_str(&text),
                        b"Content" => f.content.push_str(&text),
                        b"t" => f.cookie_t.push_str(&text),
                        b"messageId" if f.message_ids.len() < MAX_IDS => {
                            f.message_ids.push(text.trim().to_owned())
                        }
                        _ => {}
                    }
                }
                Event::Eof => return Some(f),
                _ => {}
            }
        }
    }
}

/// The account a ticket (`t=…&p=…` or its `t` part) belongs to.
fn owner(shared: &Shared, ticket: &str) -> Option<String> {
    shared
        .directory()
        .token(ticket, Instant::now())
        .map(|t| t.email.clone())
}

/// `Store2`.
fn store(shared: &Shared, f: &Fields) -> Response {
    let Some(sender) = owner(shared, &f.passport) else {
        return fault("q0:AuthenticationFailed", "bad ticket", "");
    };
    if !sender.eq_ignore_ascii_case(&f.from) {
        return fault(
            "q0:AuthenticationFailed",
            "sender is not the ticket owner",
            "",
        );
    }
    if f.lock_key.is_empty() {
        let detail = format!(
            "<LockKeyChallenge xmlns=\"http://messenger.msn.com/ws/2004/09/oim/\">{LOCK_KEY_CHALLENGE}</LockKeyChallenge>"
        );
        return fault("q0:AuthenticationFailed", "lock key required", &detail);
    }
    let Some(recipient) = shared.directory().user(&f.to).map(|u| u.email.clone()) else {
        return fault("q0:InvalidRecipient", "no such recipient", "");
    };
    let friendly = shared
        .directory()
        .user(&sender)
        .map(|u| u.friendly.clone())
        .unwrap_or_default();
    let Some(message) = check_content(f, &sender, &friendly, &recipient) else {
        return fault("q0:InvalidContent", "message rejected", "");
    };
    shared.sb.mailbox(|m| m.store(message.clone()));
    let md = mailbox::mail_data(std::slice::from_ref(&message), false);
    notify(
        shared,
        &recipient,
        &mailbox::notification("text/x-msmsgsoimnotification", &md),
    );
    Response::xml(
        200,
        STORE_RESPONSE.replace("{seq}", &message.sequence.to_string()),
    )
}

/// Escargot's checks of a stored message; the message to keep if it passes.
fn check_content(f: &Fields, from: &str, friendly: &str, to: &str) -> Option<Stored> {
    let content = f.content.replace("\r\n", "\n");
    let (head, body) = content.split_once("\n\n")?;
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let sequence: u32 = header("X-OIM-Sequence-Num")?.parse().ok()?;
    let run_id = header("X-OIM-Run-Id")?;
    let guid = run_id.trim_start_matches('{').trim_end_matches('}');
    let ok = f.message_number.trim().parse::<u32>().ok() == Some(sequence)
        && header("MIME-Version")? == "1.0"
        && header("Content-Type")?.starts_with("text/plain")
        && header("Content-Transfer-Encoding")?.eq_ignore_ascii_case("base64")
        && header("X-OIM-Message-Type")? == "OfflineMessage"
        && run_id.starts_with('{')
        && guid.len() == 36
        && guid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        && body.lines().all(|l| l.trim_end().len() <= MAX_BASE64_LINE);
    ok.then(|| Stored {
        id: uuid_upper(),
        to: to.to_owned(),
        from: from.to_owned(),
        from_friendly: friendly.to_owned(),
        run_id,
        sequence,
        body: body.split_whitespace().collect(),
        received: crate::clock::unix_now(),
    })
}

/// The RSI service.
fn rsi(shared: &Shared, req: &Request, f: &Fields) -> Response {
    let Some(email) = owner(shared, &f.cookie_t) else {
        return fault("q0:AuthenticationFailed", "bad ticket", "");
    };
    let action = req.header("SOAPAction").unwrap_or_default();
    let method = match action.trim_matches('"').rsplit('/').next() {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => f.method.clone(),
    };
    match method.as_str() {
        "GetMessage" => {
            let found = f
                .message_ids
                .first()
                .and_then(|id| shared.sb.mailbox(|m| m.get(&email, id)));
            match found {
                Some(message) => Response::xml(
                    200,
                    GET_MESSAGE_RESPONSE
                        .replace("{text}", &escape(mailbox::format_oim(&message).as_str())),
                ),
                None => fault("q0:MessageNotFound", "no such message", ""),
            }
        }
        "DeleteMessages" => {
            let deleted = shared.sb.mailbox(|m| m.delete(&email, &f.message_ids));
            if deleted > 0 {
                notify(shared, &email, &mailbox::deleted_notification(deleted));
            }
            Response::xml(200, DELETE_RESPONSE.to_owned())
        }
        // Escargot fails GetMetadata (recorded: HTTP 500).
        _ => Response::plain(500, Vec::new()),
    }
}

/// A SOAP fault with HTTP 500.
fn fault(code: &str, text: &str, detail: &str) -> Response {
    Response::xml(
        500,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soap:Body><soap:Fault><faultcode xmlns:q0=\"http://messenger.msn.com/ws/2004/09/oim/\">{code}</faultcode>\
             <faultstring>{text}</faultstring><detail>{detail}</detail></soap:Fault></soap:Body></soap:Envelope>"
        ),
    )
}

/// A fresh upper-case GUID.
fn uuid_upper() -> String {
    let hex = crate::crypto::random_hex(32).to_ascii_uppercase();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

const STORE_RESPONSE: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">
\t<soap:Header>
\t\t<SequenceAcknowledgment xmlns=\"http://schemas.xmlsoap.org/ws/2003/03/rm\">
\t\t\t<Identifier xmlns=\"http://schemas.xmlsoap.org/ws/2002/07/utility\">http://messenger.msn.com</Identifier>
\t\t\t<AcknowledgmentRange Upper=\"{seq}\" Lower=\"{seq}\" />
\t\t</SequenceAcknowledgment>
\t</soap:Header>
\t<soap:Body>
\t\t<StoreResponse xmlns=\"http://messenger.live.com/ws/2006/09/oim/\">
\t\t\t<PointsConsumed>0</PointsConsumed>
\t\t</StoreResponse>
\t</soap:Body>
</soap:Envelope>
";

const GET_MESSAGE_RESPONSE: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">
\t<soap:Body>
\t\t<GetMessageResponse xmlns=\"http://www.hotmail.msn.com/ws/2004/09/oim/rsi\">
\t\t\t<GetMessageResult>{text}</GetMessageResult>
\t\t</GetMessageResponse>
\t</soap:Body>
</soap:Envelope>
";

const DELETE_RESPONSE: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">
\t<soap:Body>
\t\t<DeleteMessagesResponse xmlns=\"http://www.hotmail.msn.com/ws/2004/09/oim/rsi\" />
\t</soap:Body>
</soap:Envelope>
";
