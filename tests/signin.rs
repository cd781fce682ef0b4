//! Sign-in through purple-stub on real libpurple against the project's test server, at every
//! protocol generation, and every failure class with libpurple's reason.

mod common;

use std::time::{Duration, Instant};

use common::accounts::{self, outcome, sign_in, users, Login};
use common::plugin::PluginDir;
use msnp_testserver::{ServerConfig, Service, TestServer};

fn signs_in(version: u32, login: Login, config: ServerConfig) -> TestServer {
    let (server, mut stub, _plugins) = accounts::alice_signing_in(config, version, login, false);
    let event = outcome(&mut stub, "alice@example.com");
    assert_eq!(event["event"], "signed-on", "{event}");
    let usr_ok = server
        .transcript()
        .iter()
        .any(|e| e.line.starts_with("USR ") && e.line.contains(" OK alice@example.com"));
    assert!(
        usr_ok,
        "the server accepted the login before the account was signed on"
    );
    assert!(stub.quit().success());
    server
}

/// The server's `VER` answer.
fn negotiated(server: &TestServer) -> String {
    let transcript = server.transcript();
    let ver = transcript
        .iter()
        .find(|e| e.event == msnp_testserver::Event::Sent && e.line.starts_with("VER "));
    ver.map(|e| e.line.clone()).unwrap_or_default()
}

#[test]
fn signs_in_at_msnp18_over_https() {
    let server = signs_in(18, Login::Https, users());
    assert_eq!(negotiated(&server), "VER 1 MSNP18");
}

#[test]
fn signs_in_at_msnp15_over_plain_http() {
    let server = signs_in(15, Login::Http, users());
    assert_eq!(negotiated(&server), "VER 1 MSNP15");
}

#[test]
fn signs_in_at_msnp12_over_https() {
    let server = signs_in(12, Login::Https, users());
    assert_eq!(negotiated(&server), "VER 1 MSNP12");
}

#[test]
fn signs_in_at_msnp8_over_plain_http() {
    let mut config = users();
    config.nexus_plain_http = true;
    let server = signs_in(8, Login::Http, config);
    assert_eq!(negotiated(&server), "VER 1 MSNP8");
}

#[test]
fn adapts_to_the_version_the_server_picks() {
    let server = signs_in(18, Login::Https, users().with_versions([8, 9, 10, 11, 12]));
    assert_eq!(negotiated(&server), "VER 1 MSNP12");
}

#[test]
fn follows_an_xfr_ns_redirect() {
    let mut config = users();
    config.redirect_first = true;
    let server = signs_in(12, Login::Https, config);
    assert_eq!(server.ns_connections(), 2);
}

#[test]
fn answers_a_challenge_and_stays_signed_in() {
    let mut config = users();
    config.send_chl = true;
    config.chl_timeout = Duration::from_secs(20);
    let (server, mut stub, _plugins) = accounts::alice_signing_in(config, 15, Login::Https, false);
    assert_eq!(
        outcome(&mut stub, "alice@example.com")["event"],
        "signed-on"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server
        .transcript()
        .iter()
        .any(|e| e.line.starts_with("QRY "))
    {
        assert!(Instant::now() < deadline, "no QRY reached the server");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The server checks the answer on receipt and answers a wrong one with 540 (and a close,
    // which the barrier's own challenge would then not survive).
    accounts::ns_barrier(&server, &mut stub, "alice@example.com");
    assert!(
        !server
            .transcript()
            .iter()
            .any(|e| e.line.starts_with("540")),
        "the answer was wrong"
    );
    assert!(!stub
        .events_seen()
        .iter()
        .any(|e| e["event"] == "connection-error"));
    assert!(stub.quit().success());
}

#[test]
fn wrong_password_is_authentication_failed_and_not_retried() {
    for (version, login) in [(18, Login::Https), (12, Login::Https)] {
        let server = TestServer::start(users()).unwrap();
        let plugins = PluginDir::new();
        let mut stub = accounts::stub(&plugins, false);
        sign_in(
            &mut stub,
            &server,
            "alice@example.com",
            "wrongpass",
            version,
            login,
        );
        let event = outcome(&mut stub, "alice@example.com");
        assert_eq!(
            event["reason_name"], "AUTHENTICATION_FAILED",
            "MSNP{version}: {event}"
        );
        // libpurple destroys the connection (and the plugin its state, timers included) before
        // the stub's main loop is idle; the server has seen the plugin hang up.
        stub.sync();
        let deadline = Instant::now() + accounts::SIGN_IN * stub.time_factor();
        while !server
            .transcript()
            .iter()
            .any(|e| e.service == Service::Ns && e.event == msnp_testserver::Event::ClosedByClient)
        {
            assert!(
                Instant::now() < deadline,
                "MSNP{version}: the NS stayed open"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            server.ns_connections(),
            1,
            "MSNP{version}: signed in again after a wrong password"
        );
        let connecting = stub
            .events_seen()
            .iter()
            .filter(|e| e["event"] == "connecting")
            .count();
        assert_eq!(connecting, 1);
        assert!(stub.quit().success());
    }
}

#[test]
fn a_server_closing_mid_login_is_a_network_error() {
    let mut config = users();
    config.drop_after = Some("USR".into());
    let (_server, mut stub, _plugins) = accounts::alice_signing_in(config, 18, Login::Https, false);
    let event = outcome(&mut stub, "alice@example.com");
    assert_eq!(event["reason_name"], "NETWORK_ERROR", "{event}");
    assert!(stub.quit().success());
}

fn kicked(reason: &str) -> serde_json::Value {
    let (server, mut stub, _plugins) = accounts::alice_signing_in(users(), 12, Login::Https, false);
    assert_eq!(
        outcome(&mut stub, "alice@example.com")["event"],
        "signed-on"
    );
    assert_eq!(server.kick("alice@example.com", reason), 1);
    let event = stub.wait_event(accounts::SIGN_IN, "connection-error");
    assert!(stub.quit().success());
    event
}

#[test]
fn out_oth_is_name_in_use() {
    let event = kicked("OTH");
    assert_eq!(event["reason_name"], "NAME_IN_USE", "{event}");
    assert!(event["text"].as_str().unwrap().contains("another location"));
}

#[test]
fn out_ssd_is_a_network_error_naming_maintenance() {
    let event = kicked("SSD");
    assert_eq!(event["reason_name"], "NETWORK_ERROR", "{event}");
    assert!(
        event["text"].as_str().unwrap().contains("maintenance"),
        "{event}"
    );
}

#[test]
fn unsupported_version_has_its_own_error() {
    let (_server, mut stub, _plugins) =
        accounts::alice_signing_in(users().with_versions([18]), 12, Login::Https, false);
    let event = outcome(&mut stub, "alice@example.com");
    assert_eq!(event["reason_name"], "OTHER_ERROR", "{event}");
    assert!(
        event["text"]
            .as_str()
            .unwrap()
            .contains("protocol versions"),
        "{event}"
    );
    assert!(stub.quit().success());
}

#[test]
fn a_missed_keepalive_is_a_network_error() {
    let mut config = users();
    config.ignore_png = true;
    // After the first CHG the server asks for a ping every 5 s, then never answers one.
    config.garbage_after = Some(("CHG".into(), b"QNG 5\r\n".to_vec()));
    let server = TestServer::start(config).unwrap();
    let plugins = PluginDir::new();
    // The plugin's clock runs 10 times faster: the ping and its timeout pass in about 1 s.
    let mut stub = accounts::fast_stub(&plugins, false, 10);
    sign_in(
        &mut stub,
        &server,
        "alice@example.com",
        "alicepass",
        12,
        Login::Https,
    );
    assert_eq!(
        outcome(&mut stub, "alice@example.com")["event"],
        "signed-on"
    );
    let event = stub.wait_event(Duration::from_secs(30), "connection-error");
    assert_eq!(event["reason_name"], "NETWORK_ERROR", "{event}");
    assert!(
        event["text"]
            .as_str()
            .unwrap()
            .contains("stopped responding"),
        "{event}"
    );
    assert!(server.transcript().iter().any(|e| e.line == "PNG"));
    assert!(stub.quit().success());
}

#[test]
fn secrets_never_reach_the_debug_log() {
    for (version, login) in [(18, Login::Https), (12, Login::Https)] {
        let (server, mut stub, _plugins) =
            accounts::alice_signing_in(users(), version, login, true);
        assert_eq!(
            outcome(&mut stub, "alice@example.com")["event"],
            "signed-on"
        );
        let log = stub.debug_log();
        assert!(log.contains("msnp"), "debug logging was on");
        let secrets = secrets_seen_by(&server);
        assert!(
            secrets.len() >= 2,
            "MSNP{version}: found the ticket and password: {secrets:?}"
        );
        for secret in &secrets {
            assert!(
                !log.contains(secret.as_str()),
                "MSNP{version}: a secret is in the debug log: {secret}\n{log}"
            );
        }
        assert!(stub.quit().success());
    }
}

/// The password and every ticket, token, proof key and cookie the server handed out or received.
fn secrets_seen_by(server: &TestServer) -> Vec<String> {
    let mut secrets = vec!["alicepass".to_owned()];
    for entry in server.transcript() {
        if let Some(rest) = entry
            .line
            .split_once(" TWN S ")
            .or(entry.line.split_once(" SSO S "))
            .map(|(_, r)| r)
        {
            if !rest.starts_with("MBI_KEY_OLD") && !rest.starts_with("ct=") {
                for token in rest.split(' ') {
                    let token = token
                        .trim_start_matches("t=")
                        .split('&')
                        .next()
                        .unwrap_or_default();
                    if token.len() >= 16 {
                        secrets.push(token.to_owned());
                    }
                }
            }
        }
        let payload =
            String::from_utf8_lossy(entry.payload.as_deref().unwrap_or_default()).into_owned();
        for (open, close) in [
            ("BinarySecret>", "<"),
            ("MSPAuth: ", "\r"),
            ("from-PP='", "'"),
        ] {
            for piece in payload.split(open).skip(1) {
                let value = piece.split(close).next().unwrap_or_default();
                if value.len() >= 16 {
                    secrets.push(value.chars().take(40).collect());
                }
            }
        }
    }
    secrets.sort();
    secrets.dedup();
    secrets
}

#[test]
fn signs_in_through_the_accounts_http_connect_proxy() {
    let mut config = users();
    config.proxy = true;
    let server = TestServer::start(config).unwrap();
    let proxy = server.proxy_addr().expect("proxy started");
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    let line =
        accounts::add_account_line(&server, "alice@example.com", "alicepass", 18, Login::Https);
    stub.send(&format!("{line} proxy=http:127.0.0.1:{}", proxy.port()));
    stub.send("enable alice@example.com");
    let event = outcome(&mut stub, "alice@example.com");
    assert_eq!(event["event"], "signed-on", "{event}");
    // The NS connection and the RST request both went through the proxy.
    assert!(
        server.proxy_tunnels() >= 2,
        "tunnels: {}",
        server.proxy_tunnels()
    );
    assert!(stub.quit().success());
}

/// Through the HTTP gateway only, behind the account's proxy: every gateway request (and the
/// RST one) goes through the proxy, as it would where only HTTP gets out.
#[test]
fn signs_in_through_the_http_gateway_behind_the_accounts_proxy() {
    let mut config = users();
    config.proxy = true;
    let server = TestServer::start(config).unwrap();
    let proxy = server.proxy_addr().expect("proxy started");
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    let line =
        accounts::add_account_line(&server, "alice@example.com", "alicepass", 18, Login::Https);
    stub.send(&format!(
        "{line} connection_method=http proxy=http:127.0.0.1:{}",
        proxy.port()
    ));
    stub.send("enable alice@example.com");
    let event = outcome(&mut stub, "alice@example.com");
    assert_eq!(event["event"], "signed-on", "{event}");
    assert_eq!(server.gateway_sessions(), (1, 0));
    let gateway_requests = server
        .transcript()
        .iter()
        .filter(|e| {
            e.service == Service::Http
                && e.event == msnp_testserver::Event::Received
                && e.line.contains("/gateway/gateway.dll?")
        })
        .count() as u64;
    assert!(gateway_requests >= 3, "{gateway_requests}");
    // Every HTTP request the server answered, the gateway's among them, came through a tunnel.
    assert!(
        server.proxy_tunnels() >= server.http_requests(),
        "tunnels: {}, HTTP requests: {}",
        server.proxy_tunnels(),
        server.http_requests()
    );
    assert!(stub.quit().success());
}
