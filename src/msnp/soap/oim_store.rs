//! Sending offline messages (docs/protocol.md §9.3): the OIM store service's `Store2`, and its
//! lock-key challenge.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use quick_xml::escape::escape;

use super::envelope::{self, check_email, check_id, check_text, Endpoints};
use super::rfc2047;
use super::xml::Node;
use super::SoapError;
use crate::auth::rst::Token;
use crate::http::HttpRequest;

/// Namespace of the `Store2` headers and body.
pub const OIM_NAMESPACE: &str = "http://messenger.live.com/ws/2006/09/oim/";
/// `SOAPAction` of `Store2`.
pub const STORE_ACTION: &str = "http://messenger.live.com/ws/2006/09/oim/Store2";
/// Longest message text accepted, in bytes.
pub const MAX_TEXT_LEN: usize = 16 * 1024;
/// Length of the base64 lines of the message body (the server takes at most 77).
const BASE64_LINE: usize = 76;
/// Longest lock-key challenge accepted.
const MAX_CHALLENGE_LEN: usize = 64;

/// Everything `Store2` needs besides the text.
#[derive(Debug, Clone, Copy)]
pub struct StoreParams<'a> {
    /// The sender (the signed-in account).
    pub from: &'a str,
    /// The sender's friendly name (the account name is used when empty).
    pub friendly_name: &'a str,
    /// The recipient.
    pub to: &'a str,
    /// The `messengersecure.live.com` ticket.
    pub ticket: &'a Token,
    /// The client's product id (as for `QRY`), e.g. `PROD0119GSJUC$18`.
    pub product_id: &'a str,
    /// The lock key: empty at first, then the `QRY`-style answer to the service's challenge.
    pub lock_key: &'a str,
    /// The braced GUID shared by every message of one offline conversation.
    pub run_id: &'a str,
    /// This message's number in the run, from 1.
    pub sequence: u32,
    /// The protocol version signed in with, e.g. `MSNP15`.
    pub msnp_version: &'a str,
    /// The client build, e.g. `8.5.1302`.
    pub build_version: &'a str,
}

/// What the store service did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored for the recipient.
    Stored,
    /// Refused until the lock key answers `challenge`: compute it like a `QRY` answer and
    /// send the message again with it (and keep it for later messages).
    LockKeyRequired {
        /// The `LockKeyChallenge` text.
        challenge: String,
    },
}

/// `Store2`: one offline message from `params.from` to `params.to`.
pub fn store_request(
    endpoints: &Endpoints,
    params: &StoreParams<'_>,
    text: &str,
) -> Result<HttpRequest, SoapError> {
    check_email(params.from)?;
    check_email(params.to)?;
    check_id(params.run_id)?;
    check_text(params.product_id, 64, "unusable product id")?;
    check_text(params.msnp_version, 16, "unusable protocol version")?;
    check_text(params.build_version, 32, "unusable build version")?;
    if params.lock_key.len() > 256 || params.lock_key.chars().any(char::is_control) {
        return Err(SoapError::InvalidInput("unusable lock key"));
    }
    if params.sequence == 0 {
        return Err(SoapError::InvalidInput("sequence numbers start at 1"));
    }
    if text.is_empty() || text.len() > MAX_TEXT_LEN {
        return Err(SoapError::InvalidInput("message text is empty or too long"));
    }
    let friendly = match params.friendly_name {
        "" => params.from,
        name => name,
    };
    check_text(friendly, envelope::MAX_NAME_LEN, "unusable friendly name")?;
    let encoded = STANDARD.encode(text);
    let mut lines = String::with_capacity(encoded.len() + encoded.len() / BASE64_LINE + 1);
    for line in encoded.as_bytes().chunks(BASE64_LINE) {
        lines.push_str(&String::from_utf8_lossy(line));
        lines.push('\n');
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <soap:Envelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\n  \
         <soap:Header>\n    \
         <From memberName=\"{from}\" friendlyName=\"{friendly}\" xml:lang=\"en-US\" proxy=\"MSNMSGR\" \
         xmlns=\"{OIM_NAMESPACE}\" msnpVer=\"{msnp}\" buildVer=\"{build}\"/>\n    \
         <To memberName=\"{to}\" xmlns=\"{OIM_NAMESPACE}\"/>\n    \
         <Ticket passport=\"{ticket}\" appid=\"{appid}\" lockkey=\"{lockkey}\" xmlns=\"{OIM_NAMESPACE}\"/>\n    \
         <Sequence xmlns=\"http://schemas.xmlsoap.org/ws/2003/03/rm\">\n      \
         <Identifier xmlns=\"http://schemas.xmlsoap.org/ws/2002/07/utility\">http://messenger.msn.com</Identifier>\n      \
         <MessageNumber>{seq}</MessageNumber>\n    \
         </Sequence>\n  \
         </soap:Header>\n  \
         <soap:Body>\n    \
         <MessageType xmlns=\"{OIM_NAMESPACE}\">text</MessageType>\n    \
         <Content xmlns=\"{OIM_NAMESPACE}\">MIME-Version: 1.0\n\
         Content-Type: text/plain; charset=UTF-8\n\
         Content-Transfer-Encoding: base64\n\
         X-OIM-Message-Type: OfflineMessage\n\
         X-OIM-Run-Id: {run_id}\n\
         X-OIM-Sequence-Num: {seq}\n\
         \n\
         {lines}</Content>\n  \
         </soap:Body>\n\
         </soap:Envelope>",
        from = escape(params.from),
        friendly = escape(rfc2047::encode(friendly).as_str()),
        msnp = escape(params.msnp_version),
        build = escape(params.build_version),
        to = escape(params.to),
        ticket = escape(params.ticket.ticket.expose().as_str()),
        appid = escape(params.product_id),
        lockkey = escape(params.lock_key),
        run_id = params.run_id,
        seq = params.sequence,
    );
    Ok(envelope::soap_request(
        &endpoints.oim,
        STORE_ACTION,
        true,
        body,
    ))
}

/// Reads a `Store2` answer: stored, or a lock-key challenge to answer; any other fault (a
/// fault without a usable challenge included) is an error (fuzzing entry point).
pub fn parse_store(body: &[u8]) -> Result<StoreOutcome, SoapError> {
    let mut stream = envelope::soap_stream(body.to_vec())?;
    let mut saw_body = false;
    stream.run(|path, node| {
        if let Node::Open(_) = node {
            saw_body |= path.depth() == 2 && path.last() == b"Body";
        }
        Ok(())
    })?;
    if let Some(fault) = stream.fault() {
        let challenge = fault.lock_key_challenge.trim();
        let usable = !challenge.is_empty()
            && challenge.len() <= MAX_CHALLENGE_LEN
            && challenge.bytes().all(|b| b.is_ascii_alphanumeric());
        return match usable {
            true => Ok(StoreOutcome::LockKeyRequired {
                challenge: challenge.to_owned(),
            }),
            false => Err(fault.to_error()),
        };
    }
    match saw_body {
        true => Ok(StoreOutcome::Stored),
        false => Err(SoapError::Malformed("SOAP answer has no Body")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::testutil::{between, recorded, text, token};

    fn endpoints() -> Endpoints {
        Endpoints::new("https://127.0.0.1:8443/RST.srf", None).unwrap()
    }

    fn params<'a>(ticket: &'a Token, lock_key: &'a str) -> StoreParams<'a> {
        StoreParams {
            from: "alice@example.com",
            friendly_name: "Alice",
            to: "bob@example.com",
            ticket,
            product_id: "PROD0119GSJUC$18",
            lock_key,
            run_id: "{3A3BE82C-684D-4F4F-8005-CBE8D4F82BAD}",
            sequence: 1,
            msnp_version: "MSNP15",
            build_version: "8.5.1302",
        }
    }

    #[test]
    fn store_matches_the_recorded_client_and_its_answer_parses() {
        let [exchange] = recorded(&["extra-oim"], "OIM Store2")
            .try_into()
            .ok()
            .unwrap();
        let ticket = token(&between(&exchange.request_body, "passport=\"", "\""));
        let request = store_request(
            &endpoints(),
            &params(&ticket, "not-a-real-lockkey"),
            "offline hello to bob \u{2709}",
        )
        .unwrap();
        assert_eq!(text(&request.body), text(&exchange.request_body));
        assert_eq!(request.url, "https://127.0.0.1:8443/OimWS/oim.asmx");
        assert_eq!(
            exchange.request_header("SOAPAction"),
            Some(request.headers[0].1.as_str())
        );
        assert!(request.sensitive);
        assert_eq!(
            envelope::with_status(exchange.status, parse_store(&exchange.response_body)),
            Ok(StoreOutcome::Stored)
        );
    }

    #[test]
    fn long_texts_wrap_at_76_and_round_trip() {
        let ticket = token("t=a&p=b");
        let long = "\u{e9}t\u{e9} ".repeat(200);
        let request = store_request(&endpoints(), &params(&ticket, ""), &long).unwrap();
        let body = text(&request.body);
        let content = between(&request.body, "X-OIM-Sequence-Num: 1\n\n", "</Content>");
        let lines: Vec<&str> = content.lines().collect();
        assert!(lines.len() > 5);
        assert!(lines.iter().all(|l| l.len() <= 76));
        assert!(lines[..lines.len() - 1].iter().all(|l| l.len() == 76));
        let decoded = STANDARD.decode(lines.concat()).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), long);
        assert!(body.contains("lockkey=\"\""));
        assert!(body.contains("passport=\"t=a&amp;p=b\""));
        // The stored message as the recipient will get it decodes back to the text.
        let stored =
            crate::soap::oim::parse_message(content_with_headers(&body).as_bytes()).unwrap();
        assert_eq!(stored.text, long);
        assert_eq!(stored.sequence, Some(1));
    }

    /// The MIME message inside `<Content>`.
    fn content_with_headers(body: &str) -> String {
        let start = body.find("MIME-Version").unwrap();
        let end = body.find("</Content>").unwrap();
        body[start..end].to_owned()
    }

    #[test]
    fn unusable_inputs_are_refused() {
        let ticket = token("t=a&p=b");
        let ok = params(&ticket, "");
        assert!(store_request(&endpoints(), &ok, "hi").is_ok());
        let cases = [
            StoreParams { to: "nobody", ..ok },
            StoreParams {
                run_id: "not a guid",
                ..ok
            },
            StoreParams { sequence: 0, ..ok },
            StoreParams {
                lock_key: "a\nb",
                ..ok
            },
            StoreParams {
                product_id: "",
                ..ok
            },
        ];
        for params in cases {
            assert!(
                store_request(&endpoints(), &params, "hi").is_err(),
                "{params:?}"
            );
        }
        assert!(store_request(&endpoints(), &ok, "").is_err());
        assert!(store_request(&endpoints(), &ok, &"x".repeat(MAX_TEXT_LEN + 1)).is_err());
        let nameless = StoreParams {
            friendly_name: "",
            ..ok
        };
        let body = text(&store_request(&endpoints(), &nameless, "hi").unwrap().body);
        assert!(body.contains(&format!(
            "friendlyName=\"{}\"",
            rfc2047::encode("alice@example.com")
        )));
    }

    fn fault(detail: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soap:Body><soap:Fault><faultcode xmlns:q0=\"http://messenger.msn.com/ws/2004/09/oim/\">q0:AuthenticationFailed\
             </faultcode><faultstring>Exception of type 'System.Web.Services.Protocols.SoapException' was thrown.</faultstring>\
             <faultactor>https://ows.messenger.msn.com/OimWS/oim.asmx</faultactor><detail>{detail}</detail></soap:Fault>\
             </soap:Body></soap:Envelope>"
        )
    }

    #[test]
    fn lock_key_challenges_and_other_faults() {
        let challenge = fault(
            "<TweenerChallenge xmlns=\"http://messenger.msn.com/ws/2004/09/oim/\">ct=1,rn=1,tw=1,id=1,kv=1</TweenerChallenge>\
             <LockKeyChallenge xmlns=\"http://messenger.msn.com/ws/2004/09/oim/\">1850937852</LockKeyChallenge>",
        );
        assert_eq!(
            envelope::with_status(500, parse_store(challenge.as_bytes())),
            Ok(StoreOutcome::LockKeyRequired {
                challenge: "1850937852".into()
            })
        );
        let expected = Err(SoapError::Fault {
            code: "q0:AuthenticationFailed".into(),
            text: "Exception of type 'System.Web.Services.Protocols.SoapException' was thrown."
                .into(),
        });
        for detail in [
            "",
            "<LockKeyChallenge></LockKeyChallenge>",
            "<LockKeyChallenge>12 34</LockKeyChallenge>",
            "<LockKeyChallenge/>",
        ] {
            assert_eq!(parse_store(fault(detail).as_bytes()), expected, "{detail}");
        }
        let bare =
            "<soap:Envelope xmlns:soap=\"s\"><soap:Body><soap:Fault/></soap:Body></soap:Envelope>";
        assert_eq!(
            parse_store(bare.as_bytes()),
            Err(SoapError::Fault {
                code: String::new(),
                text: String::new()
            })
        );
        for bad in [
            "",
            "<soap:Envelope xmlns:soap=\"s\"/>",
            "<soap:Envelope xmlns:soap=\"s\"><soap:Body>",
        ] {
            assert!(
                matches!(parse_store(bad.as_bytes()), Err(SoapError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_never_show_the_ticket() {
        let ticket = token("t=SECRETTICKET&p=PROOF");
        let request = store_request(&endpoints(), &params(&ticket, ""), "hi").unwrap();
        assert!(!format!("{request:?}").contains("SECRET"));
        assert!(!request.describe().contains("SECRET"));
        let echoed = fault("<LockKeyChallenge>t=SECRETTICKET&amp;p=PROOF</LockKeyChallenge>");
        let error = parse_store(echoed.as_bytes()).unwrap_err();
        assert!(!format!("{error:?} {error}").contains("SECRET"));
    }
}
