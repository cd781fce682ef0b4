//! The MSNP HTTP gateway (`gateway.dll`), for networks that let only HTTP out: one MSNP
//! connection carried as a series of HTTP `POST`s, one in flight at a time, each body holding
//! what the client sends and each answer's body what the server sent meanwhile. See
//! `docs/protocol.md`, "Connection methods".
//!
//! A [`GatewayLink`] is one such connection (to the notification server or a switchboard):
//! bytes go in with [`GatewayLink::queue`], requests come out of [`GatewayLink::next_request`],
//! answers go back into [`GatewayLink::handle_response`]. No I/O and no clock: the caller says
//! when it is and when the idle poll is due.

use std::time::{Duration, Instant};

use crate::http::{HttpError, HttpRequest, HttpResponse, Method, Scheme, Url};

/// How long an idle link waits before it polls again. Immediately after an answer that carried
/// data it polls at once (more is likely to follow).
pub const POLL_IDLE: Duration = Duration::from_secs(2);
/// How long an answer may take before the link is given up.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes sent in one request; the rest goes with the next.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;
/// Most bytes queued for sending before the link gives up (the server is not taking them).
pub const MAX_QUEUED: usize = 4 * 1024 * 1024;
/// Largest answer body accepted.
pub const MAX_RESPONSE_BODY: usize = 1024 * 1024;
/// Longest `SessionID` accepted.
const MAX_SESSION_ID: usize = 128;
/// The gateway's path.
const PATH: &str = "/gateway/gateway.dll";

/// The kind of server a link reaches through the gateway (`Server=` of the opening request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// A notification server.
    Ns,
    /// A switchboard.
    Sb,
}

impl ServerKind {
    fn as_str(self) -> &'static str {
        match self {
            ServerKind::Ns => "NS",
            ServerKind::Sb => "SB",
        }
    }
}

/// Why a gateway link failed; the text is what the user sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The answer is not HTTP, or is malformed.
    #[error("the HTTP gateway sent an invalid answer ({0})")]
    Http(#[from] HttpError),
    /// The answer's status is not 200.
    #[error("the HTTP gateway answered with status {0}")]
    Status(u16),
    /// The answer has no usable `X-MSN-Messenger` session id.
    #[error("the HTTP gateway's answer has no valid SessionID")]
    NoSession,
    /// The `GW-IP` of the answer is not a host name or address.
    #[error("the HTTP gateway named an invalid gateway address")]
    BadGatewayHost,
    /// The answer's body is larger than [`MAX_RESPONSE_BODY`].
    #[error("the HTTP gateway's answer is too large")]
    TooLarge,
    /// More than [`MAX_QUEUED`] bytes wait to be sent.
    #[error("the HTTP gateway is not taking data")]
    Backlog,
}

/// What an answer brought.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// The first answer: the gateway opened the session (the connection is up).
    pub opened: bool,
    /// MSNP bytes from the server.
    pub bytes: Vec<u8>,
    /// The gateway ended the session (`Session=close`): the connection is gone.
    pub closed: bool,
}

/// One MSNP connection through the gateway.
#[derive(Debug)]
pub struct GatewayLink {
    /// Where requests go: the configured gateway, then the `GW-IP` the gateway names (on the
    /// configured scheme and port).
    scheme: Scheme,
    host: String,
    port: u16,
    server: ServerKind,
    /// The server behind the gateway (`IP=` of the opening request).
    target: String,
    session_id: Option<String>,
    outgoing: Vec<u8>,
    /// When the request in flight was made.
    in_flight: Option<Instant>,
    /// When an idle link polls next.
    poll_at: Option<Instant>,
}

impl GatewayLink {
    /// A link to `server` at `target` through the gateway at `gateway` (its scheme, host and
    /// port); its first request opens the session.
    pub fn new(gateway: &Url, server: ServerKind, target: &str) -> GatewayLink {
        GatewayLink {
            scheme: gateway.scheme,
            host: gateway.host.clone(),
            port: gateway.port,
            server,
            target: target.to_owned(),
            session_id: None,
            outgoing: Vec::new(),
            in_flight: None,
            poll_at: None,
        }
    }

    /// Queues MSNP bytes for the server; they go with the next request.
    pub fn queue(&mut self, bytes: &[u8]) -> Result<(), GatewayError> {
        if self.outgoing.len() + bytes.len() > MAX_QUEUED {
            return Err(GatewayError::Backlog);
        }
        self.outgoing.extend_from_slice(bytes);
        Ok(())
    }

    /// When the link wants the caller back: to poll ([`GatewayLink::next_request`]) once idle,
    /// or to give the request in flight up ([`GatewayLink::overdue`]).
    pub fn deadline(&self) -> Option<Instant> {
        match self.in_flight {
            Some(sent) => Some(sent + ANSWER_TIMEOUT),
            None => self.poll_at,
        }
    }

    /// Whether the answer to the request in flight is overdue at `now` (the link is over).
    pub fn overdue(&self, now: Instant) -> bool {
        self.in_flight
            .is_some_and(|sent| now >= sent + ANSWER_TIMEOUT)
    }

    /// The request to make now, if any: the opening one, queued data, or a poll once
    /// [`GatewayLink::poll_at`] has passed. Nothing while a request is out: the gateway takes
    /// one at a time per session.
    pub fn next_request(&mut self, now: Instant) -> Option<HttpRequest> {
        if self.in_flight.is_some() {
            return None;
        }
        let query = match &self.session_id {
            None => format!(
                "Action=open&Server={}&IP={}",
                self.server.as_str(),
                self.target
            ),
            Some(id) if !self.outgoing.is_empty() => format!("SessionID={id}"),
            Some(id) if self.poll_at.is_some_and(|at| at <= now) => {
                format!("Action=poll&SessionID={id}")
            }
            Some(_) => return None,
        };
        let take = self.outgoing.len().min(MAX_REQUEST_BODY);
        let body: Vec<u8> = self.outgoing.drain(..take).collect();
        self.in_flight = Some(now);
        self.poll_at = None;
        Some(self.request(&query, body))
    }

    /// The link is closing: the request that carries everything still queued (its last words,
    /// such as `OUT`), if the session is open and anything is queued. It goes once the request
    /// in flight is answered; its answer is of no interest.
    pub fn farewell(mut self) -> Option<HttpRequest> {
        let id = self.session_id.take()?;
        let body = std::mem::take(&mut self.outgoing);
        (!body.is_empty()).then(|| self.request(&format!("SessionID={id}"), body))
    }

    /// A request to the gateway with `query` and `body`.
    fn request(&self, query: &str, body: Vec<u8>) -> HttpRequest {
        HttpRequest {
            method: Method::Post,
            url: format!(
                "{}://{}:{}{PATH}?{query}",
                self.scheme.as_str(),
                self.host,
                self.port
            ),
            headers: vec![
                ("Accept".into(), "*/*".into()),
                ("Pragma".into(), "no-cache".into()),
                ("Content-Type".into(), "application/x-msn-messenger".into()),
            ],
            body,
            // The NS lines carry the login tickets.
            sensitive: true,
        }
    }

    /// Takes the answer to the request in flight: checks status and session, follows `GW-IP`,
    /// and returns the server's bytes. An error ends the link.
    pub fn handle_response(
        &mut self,
        raw: Vec<u8>,
        now: Instant,
    ) -> Result<Received, GatewayError> {
        self.in_flight = None;
        let response = HttpResponse::parse_owned(raw)?;
        if response.status != 200 {
            return Err(GatewayError::Status(response.status));
        }
        if response.body.len() > MAX_RESPONSE_BODY {
            return Err(GatewayError::TooLarge);
        }
        let header = response
            .header("X-MSN-Messenger")
            .ok_or(GatewayError::NoSession)?;
        let mut session_id = None;
        let mut closed = false;
        for field in header.split(';') {
            match field.trim().split_once('=') {
                Some(("SessionID", id)) => session_id = Some(id.trim()),
                Some(("GW-IP", host)) => self.follow(host.trim())?,
                Some(("Session", "close")) => closed = true,
                _ => {}
            }
        }
        let session_id = session_id
            .filter(|id| is_session_id(id))
            .ok_or(GatewayError::NoSession)?;
        let opened = self.session_id.is_none();
        self.session_id = Some(session_id.to_owned());
        let bytes = response.body;
        self.poll_at = Some(match bytes.is_empty() {
            true => now + POLL_IDLE,
            false => now,
        });
        Ok(Received {
            opened,
            bytes,
            closed,
        })
    }

    /// Sends later requests to `host` (the `GW-IP` of an answer), on the configured scheme and
    /// port. A `GW-IP` that only echoes the `IP=` of the opening request (as Escargot's does)
    /// names the MSNP server, not a gateway, and is not followed.
    fn follow(&mut self, host: &str) -> Result<(), GatewayError> {
        let url = Url::parse(&format!("{}://{host}:{}/", self.scheme.as_str(), self.port))
            .map_err(|_| GatewayError::BadGatewayHost)?;
        if url.port != self.port || url.path != "/" {
            return Err(GatewayError::BadGatewayHost);
        }
        if !url.host.eq_ignore_ascii_case(&self.target) {
            self.host = url.host;
        }
        Ok(())
    }
}

/// A session id as gateways hand them out: letters, digits and `{}-._`, not too long.
fn is_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SESSION_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"{}-._".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> GatewayLink {
        let gateway = Url::parse("http://gw.example.com").unwrap();
        GatewayLink::new(&gateway, ServerKind::Ns, "ns.example.com")
    }

    fn answer(header: &str, body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\nX-MSN-Messenger: {header}\r\nContent-Type: application/x-msn-messenger\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn opened(link: &mut GatewayLink, now: Instant) {
        link.next_request(now).expect("open");
        let got = link
            .handle_response(answer("SessionID=abc-1; GW-IP=10.0.0.2", ""), now)
            .unwrap();
        assert!(got.opened);
    }

    #[test]
    fn opens_sends_and_polls_one_request_at_a_time() {
        let now = crate::test_time_origin();
        let mut link = link();
        let open = link.next_request(now).unwrap();
        assert_eq!(open.method, Method::Post);
        assert_eq!(
            open.url,
            "http://gw.example.com:80/gateway/gateway.dll?Action=open&Server=NS&IP=ns.example.com"
        );
        assert!(open.body.is_empty());
        let wire = String::from_utf8(open.to_wire().unwrap()).unwrap();
        assert!(wire.starts_with("POST /gateway/gateway.dll?Action=open&Server=NS&IP=ns.example.com HTTP/1.1\r\nHost: gw.example.com\r\n"));
        assert!(wire.contains("Content-Type: application/x-msn-messenger\r\n"));
        assert!(wire.contains("Content-Length: 0\r\n"));

        // Queued while the open is out: nothing more goes until its answer is in.
        link.queue(b"VER 1 MSNP18 CVR0\r\n").unwrap();
        assert!(link.next_request(now).is_none());
        let got = link
            .handle_response(answer("SessionID=abc-1; GW-IP=10.0.0.2", ""), now)
            .unwrap();
        assert_eq!(
            got,
            Received {
                opened: true,
                bytes: Vec::new(),
                closed: false
            }
        );

        // Data goes at once, to the GW-IP, with the session id.
        let send = link.next_request(now).unwrap();
        assert_eq!(
            send.url,
            "http://10.0.0.2:80/gateway/gateway.dll?SessionID=abc-1"
        );
        assert_eq!(send.body, b"VER 1 MSNP18 CVR0\r\n");
        let got = link
            .handle_response(
                answer("SessionID=abc-1; GW-IP=10.0.0.2", "VER 1 MSNP18\r\n"),
                now,
            )
            .unwrap();
        assert!(!got.opened);
        assert_eq!(got.bytes, b"VER 1 MSNP18\r\n");

        // After data, a poll goes at once; after an empty answer, the next waits POLL_IDLE.
        assert_eq!(link.deadline(), Some(now));
        let poll = link.next_request(now).unwrap();
        assert_eq!(
            poll.url,
            "http://10.0.0.2:80/gateway/gateway.dll?Action=poll&SessionID=abc-1"
        );
        assert!(poll.body.is_empty());
        assert_eq!(link.deadline(), Some(now + ANSWER_TIMEOUT));
        assert!(!link.overdue(now + ANSWER_TIMEOUT / 2));
        assert!(link.overdue(now + ANSWER_TIMEOUT));
        link.handle_response(answer("SessionID=abc-1; GW-IP=10.0.0.2", ""), now)
            .unwrap();
        assert_eq!(link.deadline(), Some(now + POLL_IDLE));
        assert!(!link.overdue(now + ANSWER_TIMEOUT));
        assert!(link.next_request(now + POLL_IDLE / 2).is_none());
        assert!(link.next_request(now + POLL_IDLE).is_some());
    }

    #[test]
    fn a_closing_link_sends_what_is_queued_in_one_last_request() {
        let now = crate::test_time_origin();
        assert!(link().farewell().is_none(), "no session yet");
        let mut idle = link();
        opened(&mut idle, now);
        assert!(idle.farewell().is_none(), "nothing to say");

        let mut link = link();
        opened(&mut link, now);
        link.queue(b"PNG\r\n").unwrap();
        link.next_request(now).unwrap();
        assert!(link.in_flight.is_some());
        link.queue(b"OUT\r\n").unwrap();
        let last = link.farewell().unwrap();
        assert_eq!(
            last.url,
            "http://10.0.0.2:80/gateway/gateway.dll?SessionID=abc-1"
        );
        assert_eq!(last.body, b"OUT\r\n");
    }

    #[test]
    fn switchboard_links_open_with_server_sb_and_https_is_kept() {
        let now = crate::test_time_origin();
        let gateway = Url::parse("https://127.0.0.1:8443/").unwrap();
        let mut link = GatewayLink::new(&gateway, ServerKind::Sb, "127.0.0.1");
        let open = link.next_request(now).unwrap();
        assert_eq!(
            open.url,
            "https://127.0.0.1:8443/gateway/gateway.dll?Action=open&Server=SB&IP=127.0.0.1"
        );
        link.handle_response(answer("SessionID=s; GW-IP=10.0.0.3", ""), now)
            .unwrap();
        link.queue(b"USR 1 x\r\n").unwrap();
        assert_eq!(
            link.next_request(now).unwrap().url,
            "https://10.0.0.3:8443/gateway/gateway.dll?SessionID=s"
        );
    }

    #[test]
    fn session_id_changes_and_close_are_followed() {
        let now = crate::test_time_origin();
        let mut link = link();
        opened(&mut link, now);
        link.queue(b"PNG\r\n").unwrap();
        link.next_request(now).unwrap();
        let got = link
            .handle_response(
                answer("SessionID=xyz.2; GW-IP=gw2.example.com; Session=close", ""),
                now,
            )
            .unwrap();
        assert!(got.closed);
        link.queue(b"PNG\r\n").unwrap();
        assert_eq!(
            link.next_request(now).unwrap().url,
            "http://gw2.example.com:80/gateway/gateway.dll?SessionID=xyz.2"
        );
    }

    #[test]
    fn a_gw_ip_echoing_the_target_is_not_followed() {
        let now = crate::test_time_origin();
        let mut link = link();
        link.next_request(now).unwrap();
        link.handle_response(answer("SessionID=e; GW-IP=ns.example.com", ""), now)
            .unwrap();
        link.queue(b"PNG\r\n").unwrap();
        assert_eq!(
            link.next_request(now).unwrap().url,
            "http://gw.example.com:80/gateway/gateway.dll?SessionID=e"
        );
    }

    #[test]
    fn large_sends_are_split_and_the_backlog_is_bounded() {
        let now = crate::test_time_origin();
        let mut link = link();
        opened(&mut link, now);
        link.queue(&vec![b'x'; MAX_REQUEST_BODY + 10]).unwrap();
        assert_eq!(link.next_request(now).unwrap().body.len(), MAX_REQUEST_BODY);
        link.handle_response(answer("SessionID=abc-1", ""), now)
            .unwrap();
        assert_eq!(link.next_request(now).unwrap().body.len(), 10);
        assert_eq!(
            link.queue(&vec![b'x'; MAX_QUEUED + 1]),
            Err(GatewayError::Backlog)
        );
    }

    #[test]
    fn bad_answers_are_clear_errors() {
        let now = crate::test_time_origin();
        let cases: Vec<(Vec<u8>, GatewayError)> = vec![
            (
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec(),
                GatewayError::Status(500),
            ),
            (
                b"HTTP/1.1 400 Bad Request\r\nX-MSN-Messenger: SessionID=a\r\nContent-Length: 0\r\n\r\n"
                    .to_vec(),
                GatewayError::Status(400),
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
                GatewayError::NoSession,
            ),
            (answer("GW-IP=10.0.0.2", ""), GatewayError::NoSession),
            (answer("SessionID=", ""), GatewayError::NoSession),
            (answer("SessionID=a b; GW-IP=x", ""), GatewayError::NoSession),
            (
                answer(&format!("SessionID={}", "a".repeat(200)), ""),
                GatewayError::NoSession,
            ),
            (
                answer("SessionID=a; GW-IP=evil host/x", ""),
                GatewayError::BadGatewayHost,
            ),
            (
                b"VER 1 MSNP18 CVR0\r\n\r\n".to_vec(),
                GatewayError::Http(HttpError::BadStatusLine),
            ),
        ];
        for (raw, want) in cases {
            let mut link = link();
            link.next_request(now).unwrap();
            assert_eq!(
                link.handle_response(raw.clone(), now),
                Err(want),
                "{}",
                String::from_utf8_lossy(&raw)
            );
        }
        let mut link = link();
        link.next_request(now).unwrap();
        let big = "x".repeat(MAX_RESPONSE_BODY + 1);
        assert_eq!(
            link.handle_response(answer("SessionID=a", &big), now),
            Err(GatewayError::TooLarge)
        );
    }
}
