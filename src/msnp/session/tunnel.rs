//! The session's MSNP connections carried through the HTTP gateway ([`crate::gateway`]): the
//! session's `Connect`/`Send`/`Close` for such a connection become gateway requests, and the
//! answers come back as if the connection had connected, received bytes or closed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::gateway::{GatewayError, GatewayLink, Received, ServerKind};
use crate::http::{HttpRequest, Url};

use super::{ConnId, HttpId, Output};

/// With `auto`, how long the direct NS connection may take before the gateway is tried.
pub(super) const DIRECT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// One carried connection and its request in flight.
#[derive(Debug)]
struct Carried {
    link: GatewayLink,
    request: Option<HttpId>,
}

/// The connections carried through the gateway.
#[derive(Debug)]
pub(super) struct Tunnel {
    /// New connections go through the gateway (method `http`, or `auto` after a direct
    /// connection failed).
    pub(super) active: bool,
    /// Why the direct connection failed, when `auto` fell back to the gateway.
    pub(super) direct_error: Option<String>,
    /// With `auto`, when the direct NS connection that is being made is given up.
    pub(super) direct_deadline: Option<Instant>,
    links: BTreeMap<ConnId, Carried>,
    /// The latest instant the session was told (when idle polls are due).
    now: Instant,
}

impl Tunnel {
    pub(super) fn new(active: bool, now: Instant) -> Tunnel {
        Tunnel {
            active,
            direct_error: None,
            direct_deadline: None,
            links: BTreeMap::new(),
            now,
        }
    }

    /// Whether `conn` is carried through the gateway.
    pub(super) fn carries(&self, conn: ConnId) -> bool {
        self.links.contains_key(&conn)
    }

    /// The carried connection request `id` belongs to.
    pub(super) fn owner(&self, id: HttpId) -> Option<ConnId> {
        self.links
            .iter()
            .find(|(_, carried)| carried.request == Some(id))
            .map(|(conn, _)| *conn)
    }

    /// Carries `conn` to `server` at `target` through the gateway at `gateway`.
    pub(super) fn open(&mut self, conn: ConnId, server: ServerKind, target: &str, gateway: &Url) {
        log::info!("connecting to {target} through the HTTP gateway {gateway}");
        let link = GatewayLink::new(gateway, server, target);
        self.links.insert(
            conn,
            Carried {
                link,
                request: None,
            },
        );
    }

    /// Queues bytes on `conn`.
    pub(super) fn queue(&mut self, conn: ConnId, bytes: &[u8]) -> Result<(), GatewayError> {
        match self.links.get_mut(&conn) {
            Some(carried) => carried.link.queue(bytes),
            None => Ok(()),
        }
    }

    /// Forgets `conn`; an answer to its request in flight is ignored.
    pub(super) fn close(&mut self, conn: ConnId) {
        self.links.remove(&conn);
    }

    /// Forgets `conn`, which is being closed: the request that carries its last queued bytes
    /// (such as `OUT`), to go after its request in flight, if it has any to send.
    pub(super) fn farewell(&mut self, conn: ConnId) -> Option<Output> {
        let carried = self.links.remove(&conn)?;
        let after = carried.request;
        let request = carried.link.farewell()?;
        Some(Output::Farewell { after, request })
    }

    /// The next request of any carried connection (queued data, opening, or a due poll).
    pub(super) fn next_request(
        &mut self,
        new_id: &mut impl FnMut() -> HttpId,
    ) -> Option<(HttpId, HttpRequest)> {
        let now = self.now;
        self.links.values_mut().find_map(|carried| {
            let request = carried.link.next_request(now)?;
            let id = new_id();
            carried.request = Some(id);
            Some((id, request))
        })
    }

    /// The answer to `conn`'s request: what it brought, or why the connection is over (then
    /// it is forgotten).
    pub(super) fn handle_response(
        &mut self,
        conn: ConnId,
        raw: Vec<u8>,
        now: Instant,
    ) -> Result<Received, GatewayError> {
        self.now = self.now.max(now);
        let Some(carried) = self.links.get_mut(&conn) else {
            return Ok(Received::default());
        };
        carried.request = None;
        let result = carried.link.handle_response(raw, now);
        if result.is_err() {
            self.links.remove(&conn);
        }
        result
    }

    /// The latest instant the session was told.
    pub(super) fn now(&self) -> Instant {
        self.now
    }

    /// Time has come to `now`: idle polls due by then go out on the next `poll`.
    pub(super) fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// When the next idle poll, or the give-up time of a request in flight, is due.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.links
            .values()
            .filter_map(|carried| carried.link.deadline())
            .min()
    }

    /// Forgets and returns the connections whose gateway has not answered in time.
    pub(super) fn take_overdue(&mut self, now: Instant) -> Vec<ConnId> {
        let overdue: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(_, carried)| carried.link.overdue(now))
            .map(|(conn, _)| *conn)
            .collect();
        for conn in &overdue {
            self.links.remove(conn);
        }
        overdue
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::session::config::test_config;
    use crate::session::{ConnId, ConnectionMethod, EndReason, Event, HttpId, Output, Session};

    const GUID: &str = "{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0}";

    fn session(connection: ConnectionMethod, now: Instant) -> Session {
        let mut config = test_config("alice@example.com", "alicepass", 12, GUID);
        config.connection = connection;
        Session::new(config, now)
    }

    fn drain(session: &mut Session) -> Vec<Output> {
        std::iter::from_fn(|| session.poll()).collect()
    }

    /// The one gateway request among `outputs`.
    fn request(outputs: &[Output]) -> (HttpId, String, String) {
        let requests: Vec<_> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::Http { id, request } => Some((
                    *id,
                    request.url.clone(),
                    String::from_utf8_lossy(&request.body).into_owned(),
                )),
                Output::Connect { .. } | Output::Send { .. } => panic!("TCP output {o:?}"),
                _ => None,
            })
            .collect();
        assert_eq!(requests.len(), 1, "{outputs:?}");
        requests[0].clone()
    }

    /// A session with `connection` at the test origin, and the direct connection it opens
    /// first.
    fn connecting(connection: ConnectionMethod) -> (Instant, Session, ConnId) {
        let now = crate::test_time_origin();
        let mut s = session(connection, now);
        let conn = drain(&mut s)
            .into_iter()
            .find_map(|o| match o {
                Output::Connect { conn, .. } => Some(conn),
                _ => None,
            })
            .expect("a direct connection");
        (now, s, conn)
    }

    /// `url` is the gateway request that opens the NS connection.
    fn assert_opens_the_ns(url: &str) {
        assert!(
            url.ends_with("?Action=open&Server=NS&IP=127.0.0.1"),
            "{url}"
        );
    }

    fn answer(body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 200 OK\r\nX-MSN-Messenger: SessionID=s-1; GW-IP=127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn the_notification_server_goes_through_the_gateway() {
        let now = crate::test_time_origin();
        let mut s = session(ConnectionMethod::Http, now);
        let (id, url, body) = request(&drain(&mut s));
        assert_eq!(
            url,
            "http://127.0.0.1:8080/gateway/gateway.dll?Action=open&Server=NS&IP=127.0.0.1"
        );
        assert_eq!(body, "");
        s.handle_http_response(id, answer(""), now);
        let (id, url, body) = request(&drain(&mut s));
        assert_eq!(
            url,
            "http://127.0.0.1:8080/gateway/gateway.dll?SessionID=s-1"
        );
        assert!(body.starts_with("VER 1 MSNP12 "), "{body}");
        s.handle_http_response(id, answer("VER 1 MSNP12 CVR0\r\n"), now);
        let (id, _, body) = request(&drain(&mut s));
        assert!(body.starts_with("CVR 2 "), "{body}");

        // Nothing to say: the next poll waits for the timer.
        s.handle_http_response(id, answer(""), now);
        assert!(drain(&mut s).is_empty());
        let due = now + crate::gateway::POLL_IDLE;
        assert_eq!(s.poll_timeout(), Some(due));
        s.handle_timeout(due - Duration::from_millis(1));
        assert!(drain(&mut s).is_empty());
        s.handle_timeout(due);
        let (id, url, _) = request(&drain(&mut s));
        assert!(url.ends_with("?Action=poll&SessionID=s-1"), "{url}");

        // A gateway that does not answer in time ends the connection (here the NS: the session).
        let mut silent = session(ConnectionMethod::Http, now);
        request(&drain(&mut silent));
        let late = now + crate::gateway::ANSWER_TIMEOUT;
        assert_eq!(silent.poll_timeout(), Some(late));
        silent.handle_timeout(late);
        assert!(drain(&mut silent).iter().any(|o| matches!(
            o,
            Output::Event(Event::Ended(EndReason::Network(t))) if t.contains("did not answer")
        )));

        // A broken gateway ends the session with a clear network error.
        let raw = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec();
        s.handle_http_response(id, raw, due);
        let ended: Vec<_> = drain(&mut s)
            .into_iter()
            .filter_map(|o| match o {
                Output::Event(Event::Ended(reason)) => Some(reason),
                _ => None,
            })
            .collect();
        assert_eq!(
            ended,
            vec![EndReason::Network(
                "the HTTP gateway answered with status 500".into()
            )]
        );
    }

    #[test]
    fn signing_out_sends_out_in_a_last_request_after_the_one_in_flight() {
        let now = crate::test_time_origin();
        let mut s = session(ConnectionMethod::Http, now);
        let (id, _, _) = request(&drain(&mut s));
        s.handle_http_response(id, answer(""), now);
        let (in_flight, _, body) = request(&drain(&mut s));
        assert!(body.starts_with("VER "), "{body}");
        s.sign_out();
        let last: Vec<_> = drain(&mut s)
            .into_iter()
            .filter_map(|o| match o {
                Output::Farewell { after, request } => Some((after, request.url, request.body)),
                Output::Http { .. } | Output::Send { .. } => panic!("{o:?}"),
                _ => None,
            })
            .collect();
        assert_eq!(
            last,
            vec![(
                Some(in_flight),
                "http://127.0.0.1:8080/gateway/gateway.dll?SessionID=s-1".to_owned(),
                b"OUT\r\n".to_vec()
            )]
        );
    }

    #[test]
    fn auto_falls_back_to_the_gateway_when_tcp_fails() {
        let (now, mut s, conn) = connecting(ConnectionMethod::Auto);
        s.handle_connection_lost(conn, "Connection refused".into(), now);
        let (_, url, _) = request(&drain(&mut s));
        assert_opens_the_ns(&url);
    }

    #[test]
    fn auto_gives_a_silent_direct_connection_up_for_the_gateway() {
        let (now, mut s, conn) = connecting(ConnectionMethod::Auto);
        let due = now + super::DIRECT_CONNECT_TIMEOUT;
        assert_eq!(s.poll_timeout(), Some(due));
        s.handle_timeout(due);
        let outputs = drain(&mut s);
        assert!(
            matches!(outputs.first(), Some(Output::Close { conn: c }) if *c == conn),
            "{outputs:?}"
        );
        let (_, url, _) = request(&outputs[1..]);
        assert_opens_the_ns(&url);
    }

    #[test]
    fn auto_keeps_a_direct_connection_that_comes_up() {
        let (now, mut s, conn) = connecting(ConnectionMethod::Auto);
        s.handle_connected(conn, now);
        drain(&mut s);
        s.handle_timeout(now + super::DIRECT_CONNECT_TIMEOUT);
        let outputs = drain(&mut s);
        assert!(
            !outputs
                .iter()
                .any(|o| matches!(o, Output::Close { .. } | Output::Http { .. })),
            "{outputs:?}"
        );
    }

    #[test]
    fn tcp_only_does_not_fall_back() {
        let (now, mut s, conn) = connecting(ConnectionMethod::Tcp);
        s.handle_connection_lost(conn, "Connection refused".into(), now);
        let outputs = drain(&mut s);
        assert!(
            outputs
                .iter()
                .any(|o| matches!(o, Output::Event(Event::Ended(EndReason::Network(_))))),
            "{outputs:?}"
        );
        assert!(!outputs.iter().any(|o| matches!(o, Output::Http { .. })));
    }
}
