//! The HTTP(S) endpoints and the proxy: nexus, Passport 1.4 `/login`, `RST.srf`/`RST2.srf`
//! (shapes as in `tests/transcripts/msnp15/http.log` and `extra-authfail/http.log`), TLS with
//! the generated certificate, and `CONNECT` tunnels.

mod common;

use common::{http_get, http_post, http_raw, rst_body, rst_ticket, Client};
use msnp_testserver::{Entry, Event, ServerConfig, Service, TestServer};
use std::io::{Read, Write};
use std::net::TcpStream;

fn server(cfg: ServerConfig) -> TestServer {
    TestServer::start(
        cfg.with_user("alice@example.com", "alicepass", "Alice")
            .with_uuid("alice@example.com", "8221ece1-629a-4b44-b2e1-52c63b701275"),
    )
    .unwrap()
}

#[test]
fn nexus_names_the_https_login_with_escargots_header_casing() {
    let s = server(ServerConfig::default());
    for path in ["/rdr/pprdr.asp", "/nexus-mock"] {
        let r = http_get(s.http_port, None, path, &[]);
        assert_eq!(r.status, 200);
        let expected = format!(
            "Passporturls: DALogin=https://127.0.0.1:{}/login",
            s.https_port
        );
        assert!(r.head.contains(&expected), "{}", r.head);
        assert_eq!(r.header("Connection"), Some("close"));
        assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.text(), "200: OK");
    }
    let cfg = ServerConfig {
        nexus_plain_http: true,
        ..ServerConfig::default()
    };
    let s = server(cfg);
    let r = http_get(s.https_port, Some(s.cert_der()), "/rdr/pprdr.asp", &[]);
    assert_eq!(
        r.header("PassportURLs").unwrap(),
        format!("DALogin=http://127.0.0.1:{}/login", s.http_port)
    );
    assert_eq!(
        s.nexus_url(),
        format!("https://127.0.0.1:{}/rdr/pprdr.asp", s.https_port)
    );
}

#[test]
fn http_1_0_requests_are_served() {
    let s = server(ServerConfig::default());
    let r = http_raw(s.http_port, None, b"GET /rdr/pprdr.asp HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
}

fn pp_auth(password: &str) -> String {
    format!("Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=alice%40example.com,pwd={password},ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1")
}

#[test]
fn passport_login_success_and_failure() {
    let s = server(ServerConfig::default());
    let ok = http_get(
        s.http_port,
        None,
        "/login",
        &[("Authorization", &pp_auth("alicepass"))],
    );
    assert_eq!(ok.status, 200);
    let info = ok.header("Authentication-Info").unwrap();
    let token = info
        .strip_prefix("Passport1.4 da-status=success,from-PP='")
        .and_then(|t| t.strip_suffix('\''))
        .unwrap();
    assert_eq!(token.len(), 20);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));

    let bad = http_get(
        s.https_port,
        Some(s.cert_der()),
        "/login",
        &[("Authorization", &pp_auth("wrong"))],
    );
    assert_eq!(bad.status, 401);
    assert_eq!(
        bad.header("WWW-Authenticate"),
        Some("Passport1.4 da-status=failed")
    );
    assert_eq!(bad.text(), "401: Unauthorized");
    let none = http_get(s.http_port, None, "/login", &[]);
    assert_eq!(none.status, 401);

    let requests: Vec<Entry> = s
        .transcript()
        .into_iter()
        .filter(|e| e.service == Service::Http && e.event == Event::Received)
        .collect();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].line, "GET /login HTTP/1.1");
    let head = String::from_utf8(requests[0].payload.clone().unwrap()).unwrap();
    assert!(
        head.contains("sign-in=alice%40example.com,pwd=alicepass"),
        "{head}"
    );
}

#[test]
fn rst_answers_every_service_numbered_from_compact2() {
    let s = server(ServerConfig::default());
    let r = http_post(
        s.https_port,
        Some(s.cert_der()),
        "/RST.srf",
        &rst_body("alice@example.com", "alicepass"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/xml; charset=utf-8"));
    let xml = r.text();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<S:Envelope"));
    assert!(xml.contains("<psf:PUID>8221ECE13B701275</psf:PUID>"));
    assert!(xml.contains("<psf:credProperty Name=\"CID\">b2e152c63b701275</psf:credProperty>"));
    assert!(xml.contains("<wsa:Address>http://Passport.NET/tb</wsa:Address>"));
    assert!(!xml.contains("Compact1\""));
    let services = [
        "messengerclear.live.com",
        "messenger.msn.com",
        "contacts.msn.com",
        "messengersecure.live.com",
        "storage.msn.com",
        "sup.live.com",
    ];
    let mut at = 0;
    for (i, svc) in services.iter().enumerate() {
        let addr = format!("<wsa:Address>{svc}</wsa:Address>");
        at += xml[at..]
            .find(&addr)
            .unwrap_or_else(|| panic!("{svc} missing or out of order"));
        let id = format!("<wsse:BinarySecurityToken Id=\"Compact{}\">t=", i + 2);
        let block_end = xml[at..]
            .find("</wst:RequestSecurityTokenResponse>")
            .unwrap()
            + at;
        assert!(xml[at..block_end].contains(&id), "{svc}");
        assert_eq!(
            xml[at..block_end].contains("<wst:BinarySecret>"),
            *svc == "messengerclear.live.com"
        );
    }
    // The legacy master token keeps its fixed secret, as on the real server.
    assert_eq!(xml.matches("<wst:BinarySecret>").count(), 2);
    assert!(
        xml.ends_with("</wst:RequestSecurityTokenResponseCollection>\n\t</S:Body>\n</S:Envelope>")
    );
}

#[test]
fn rst_bad_credentials_is_the_soap_fault() {
    let s = server(ServerConfig::default());
    let body = rst_body("alice@example.com", "wrong");
    let r = http_post(s.https_port, Some(s.cert_der()), "/RST.srf", &body);
    assert_eq!(r.status, 200);
    let xml = r.text();
    assert!(xml.contains("<psf:reqstatus>0x80048823</psf:reqstatus>"));
    assert!(xml.contains("<faultcode>wsse:FailedAuthentication</faultcode>"));
    let r = http_post(s.http_port, None, "/RST2.srf", &body);
    assert!(r
        .text()
        .contains("<psf:reqstatus>0x80048821</psf:reqstatus>"));
    let r = http_post(s.http_port, None, "/RST.srf", "<not xml");
    assert!(r.text().contains("wsse:FailedAuthentication"));
}

#[test]
fn unknown_paths_are_404_and_soap_needs_a_ticket() {
    let s = server(ServerConfig::default());
    assert_eq!(http_get(s.http_port, None, "/nothing", &[]).status, 404);
    // Escargot: the address book answers an unknown ticket with 403.
    assert_eq!(
        http_post(s.http_port, None, "/abservice/abservice.asmx", "<x/>").status,
        403
    );
    assert_eq!(
        http_post(s.http_port, None, "/abservice/nothing.asmx", "<x/>").status,
        404
    );
    assert_eq!(http_get(s.http_port, None, "/RST.srf", &[]).status, 405);
    assert!(s.http_requests() >= 3);
}

#[test]
fn oversized_bodies_are_413() {
    let s = server(ServerConfig::default());
    let r = http_raw(
        s.http_port,
        None,
        b"POST /RST.srf HTTP/1.1\r\nContent-Length: 5000000\r\n\r\n",
    );
    assert_eq!(r.status, 413);
}

#[test]
fn tls_needs_the_servers_certificate() {
    let s = server(ServerConfig::default());
    assert!(s.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    let other = server(ServerConfig::default());
    let config = common::tls_config(other.cert_der());
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", s.https_port)).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let err = tls
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .and_then(|()| tls.read(&mut [0u8; 16]));
    assert!(
        err.is_err(),
        "handshake with an untrusted certificate must fail"
    );
}

#[test]
fn proxy_tunnels_to_loopback_only() {
    let cfg = ServerConfig {
        proxy: true,
        ..ServerConfig::default()
    };
    let s = server(cfg);
    let proxy = s.proxy_addr().unwrap();
    let mut tcp = TcpStream::connect(proxy).unwrap();
    write!(
        tcp,
        "CONNECT 127.0.0.1:{} HTTP/1.1\r\nHost: x\r\n\r\n",
        s.ns_addr().port()
    )
    .unwrap();
    let mut head = [0u8; 39];
    tcp.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200 Connection established\r\n\r\n");
    tcp.write_all(b"VER 1 MSNP12 CVR0\r\n").unwrap();
    let mut reply = [0u8; 14];
    tcp.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"VER 1 MSNP12\r\n");
    assert_eq!(s.proxy_tunnels(), 1);

    let mut tcp = TcpStream::connect(proxy).unwrap();
    tcp.write_all(b"CONNECT 192.0.2.1:1863 HTTP/1.1\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    assert_eq!(s.proxy_tunnels(), 1);
    drop(Client::connect(s.ns_addr()));
}

/// An address-book call `method` with `body` inside it; the HTTP status.
fn ab_call(s: &TestServer, ticket: &str, method: &str, body: &str) -> u16 {
    let ticket = ticket.replace('&', "&amp;");
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope \
         xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header><ABAuthHeader \
         xmlns=\"http://www.msn.com/webservices/AddressBook\"><TicketToken>{ticket}</TicketToken>\
         </ABAuthHeader></soap:Header><soap:Body><{method} \
         xmlns=\"http://www.msn.com/webservices/AddressBook\">\
         <abId>00000000-0000-0000-0000-000000000000</abId>{body}</{method}></soap:Body></soap:Envelope>"
    );
    http_post(s.http_port, None, "/abservice/abservice.asmx", &body).status
}

/// An `ABContactUpdate` for the owner with `contact` (its `propertiesChanged` and annotations).
fn contact_update(s: &TestServer, ticket: &str, contact: &str) -> u16 {
    let body = format!(
        "<contacts><Contact><contactInfo><contactType>Me</contactType><displayName>Al</displayName>\
         {contact}</Contact></contacts>"
    );
    ab_call(s, ticket, "ABContactUpdate", &body)
}

#[test]
#[should_panic(expected = "the client did what the real server refuses")]
fn strict_mode_refuses_the_updates_escargot_refuses_and_fails_the_test() {
    let s = server(ServerConfig::default());
    let (ticket, _) = rst_ticket(&s, "alice@example.com", "alicepass");
    let good = "</contactInfo><propertiesChanged>DisplayName</propertiesChanged>";
    assert_eq!(contact_update(&s, &ticket, good), 200);
    assert!(s.violations().is_empty());
    for bad in [
        "</contactInfo>",
        "</contactInfo><propertiesChanged> </propertiesChanged>",
        "</contactInfo><propertiesChanged>DisplayName Nickname</propertiesChanged>",
        "<annotations><Annotation><Name>AB.Nick</Name><Value>x</Value></Annotation></annotations>\
         </contactInfo><propertiesChanged>Annotation</propertiesChanged>",
    ] {
        assert_eq!(contact_update(&s, &ticket, bad), 500, "{bad}");
    }
    let group = "<groups><Group><groupId>x</groupId><groupInfo><name>New</name></groupInfo>\
                 </Group></groups>";
    assert_eq!(ab_call(&s, &ticket, "ABGroupUpdate", group), 500);
    let violations = s.violations();
    assert_eq!(violations.len(), 5, "{violations:?}");
    assert!(violations[2].contains("Nickname"), "{violations:?}");
    assert!(violations[3].contains("AB.Nick"), "{violations:?}");
    assert!(violations[4].contains("ABGroupUpdate"), "{violations:?}");
    drop(s);
}

/// A gateway request: `POST /gateway/gateway.dll?<query>` with `body`.
fn gateway(s: &TestServer, query: &str, body: &str) -> common::HttpResponse {
    http_post(
        s.http_port,
        None,
        &format!("/gateway/gateway.dll?{query}"),
        body,
    )
}

/// The `SessionID` of a gateway answer's `X-MSN-Messenger` header.
fn session_id(r: &common::HttpResponse) -> String {
    let header = r.header("X-MSN-Messenger").expect("X-MSN-Messenger");
    let id = header
        .split(';')
        .find_map(|f| f.trim().strip_prefix("SessionID="))
        .expect("SessionID");
    assert!(header.ends_with("; GW-IP=127.0.0.1"), "{header}");
    id.to_owned()
}

#[test]
fn the_gateway_bridges_sessions_to_the_ns() {
    let s = server(ServerConfig::default());
    let open = gateway(&s, "Action=open&Server=NS&IP=127.0.0.1", "");
    assert_eq!(open.status, 200);
    assert_eq!(
        open.header("Content-Type"),
        Some("application/x-msn-messenger")
    );
    assert_eq!(open.text(), "");
    let id = session_id(&open);
    let ver = gateway(&s, &format!("SessionID={id}"), "VER 1 MSNP18 CVR0\r\n");
    assert_eq!(ver.status, 200);
    assert_eq!(session_id(&ver), id);
    assert_eq!(ver.text(), "VER 1 MSNP18\r\n");
    let poll = gateway(&s, &format!("Action=poll&SessionID={id}"), "");
    assert_eq!((poll.status, poll.text()), (200, String::new()));
    assert_eq!(s.gateway_sessions(), (1, 0));
    // The bridged connection is an ordinary NS connection of the server.
    assert_eq!(s.ns_connections(), 1);

    // Unknown sessions are 400, as Escargot answers them; GET is not served.
    let unknown = gateway(&s, "SessionID=nonesuch", "PNG\r\n");
    assert_eq!(unknown.status, 400);
    assert!(unknown.header("X-MSN-Messenger").is_none());
    let get = common::http_get(s.http_port, None, "/gateway/gateway.dll", &[]);
    assert_eq!(get.status, 405);
    assert!(s.violations().is_empty(), "{:?}", s.violations());

    // The server closes the NS: the answer carries what was left, then the session is gone.
    let out = gateway(&s, &format!("SessionID={id}"), "OUT\r\n");
    assert_eq!(out.status, 200);
    let after = gateway(&s, &format!("Action=poll&SessionID={id}"), "");
    assert_eq!(after.status, 400);
}

#[test]
#[should_panic(expected = "the client did what the real server refuses")]
fn the_gateway_refuses_what_the_real_one_does_and_fails_the_test() {
    let s = server(ServerConfig::default());
    assert_eq!(gateway(&s, "Server=NS&IP=127.0.0.1", "").status, 400);
    assert_eq!(
        gateway(&s, "Action=open&Server=XX&IP=127.0.0.1", "").status,
        400
    );
    assert_eq!(
        gateway(&s, "Action=open&Server=NS&IP=10.1.1.1", "").status,
        400
    );
    let id = session_id(&gateway(&s, "Action=open&Server=SB&IP=127.0.0.1", ""));
    assert_eq!(s.gateway_sessions(), (0, 1));
    assert_eq!(
        gateway(&s, &format!("Action=send&SessionID={id}"), "").status,
        400
    );
    let violations = s.violations();
    assert_eq!(violations.len(), 4, "{violations:?}");
    drop(s);
}
