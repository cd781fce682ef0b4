//! `USR` strictness: tokens, blobs, machine GUIDs, dialect/method mismatches and the `XFR NS`
//! redirect (docs/protocol.md §1.2, §3; `tests/transcripts/extra-authfail`).

mod common;

use common::{login_sso, login_twn, rst_ticket, sso_start, twn_token, Client};
use msnp_testserver::crypto::mbi;
use msnp_testserver::{ServerConfig, TestServer};
use std::time::Duration;

const GUID: &str = "{0961ffc4-f6e6-41a0-9845-2214a26f069d}";

fn config() -> ServerConfig {
    ServerConfig::default()
        .with_user("alice@example.com", "alicepass", "Alice")
        .with_user("bob@example.com", "bobpass", "Bob")
}

/// Connects and gets to the point where `USR 4 ... S` is due.
fn twn_until_s(server: &TestServer, dialect: u32) -> Client {
    let mut c = Client::connect(server.ns_addr());
    c.send(&format!("VER 1 MSNP{dialect} CVR0"));
    c.line();
    c.send("CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 7.5.0324 msmsgs alice@example.com");
    c.line();
    c.send("USR 3 TWN I alice@example.com");
    assert_eq!(
        c.line(),
        "USR 3 TWN S ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1"
    );
    c
}

#[test]
fn twn_unknown_token_is_911_and_close() {
    let s = TestServer::start(config()).unwrap();
    let mut c = twn_until_s(&s, 12);
    c.send("USR 4 TWN S t=00000000000000000000&p=");
    assert_eq!(c.line(), "911 4");
    c.expect_closed();
    assert_eq!(s.logins(), 0);
}

#[test]
fn twn_other_users_token_is_911_and_close() {
    let s = TestServer::start(config()).unwrap();
    let bobs = twn_token(&s, "bob@example.com", "bobpass");
    let mut c = twn_until_s(&s, 12);
    c.send(&format!("USR 4 TWN S {bobs}"));
    assert_eq!(c.line(), "911 4");
    c.expect_closed();
}

#[test]
fn twn_token_may_be_reused_while_valid() {
    let s = TestServer::start(config()).unwrap();
    let token = twn_token(&s, "alice@example.com", "alicepass");
    for _ in 0..2 {
        let mut c = twn_until_s(&s, 12);
        c.send(&format!("USR 4 TWN S {token}"));
        assert_eq!(c.line(), "USR 4 OK alice@example.com 1 0");
        c.send("OUT");
    }
    assert_eq!(s.logins(), 2);
}

#[test]
fn twn_token_expires() {
    let mut cfg = config();
    // Expired as soon as it is issued.
    cfg.twn_token_lifetime = Duration::ZERO;
    let s = TestServer::start(cfg).unwrap();
    let token = twn_token(&s, "alice@example.com", "alicepass");
    let mut c = twn_until_s(&s, 12);
    c.send(&format!("USR 4 TWN S {token}"));
    assert_eq!(c.line(), "911 4");
    c.expect_closed();
}

#[test]
fn twn_s_without_twn_i_closes() {
    let s = TestServer::start(config()).unwrap();
    let token = twn_token(&s, "alice@example.com", "alicepass");
    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP12 CVR0");
    c.line();
    c.send(&format!("USR 2 TWN S {token}"));
    c.expect_closed();
}

#[test]
fn twn_on_msnp15_and_sso_on_msnp12_close() {
    let s = TestServer::start(config()).unwrap();
    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP15 CVR0");
    c.line();
    c.send("USR 2 TWN I alice@example.com");
    c.expect_closed();
    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP12 CVR0");
    c.line();
    c.send("USR 2 SSO I alice@example.com");
    c.expect_closed();
}

#[test]
fn msnp13_pushes_policies_before_twn_challenge() {
    let s = TestServer::start(config()).unwrap();
    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP13 CVR0");
    c.line();
    c.send("USR 2 TWN I alice@example.com");
    let gcf = c.recv().unwrap();
    assert_eq!(gcf.line, "GCF 0 1187");
    assert!(gcf.payload.unwrap().starts_with(b"<Policies>"));
    assert!(c.line().starts_with("USR 2 TWN S "));
}

#[test]
fn second_usr_after_login_is_205() {
    let s = TestServer::start(config()).unwrap();
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    c.send("USR 5 TWN I alice@example.com");
    assert_eq!(c.line(), "205 5");
}

#[test]
fn msnp8_ok_carries_the_friendly_name() {
    let s = TestServer::start(config().with_user("carol@example.com", "c", "Carol Smith")).unwrap();
    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP8 CVR0");
    c.line();
    c.send("USR 2 TWN I carol@example.com");
    c.line();
    let t = twn_token(&s, "carol@example.com", "c");
    c.send(&format!("USR 3 TWN S {t}"));
    assert_eq!(c.line(), "USR 3 OK carol@example.com Carol%20Smith 1 0");
    let profile = c.recv().unwrap();
    assert!(profile.line.starts_with("MSG Hotmail Hotmail "));
}

fn sso_until_s(server: &TestServer, dialect: u32) -> (Client, String) {
    let mut c = Client::connect(server.ns_addr());
    c.send(&format!("VER 1 MSNP{dialect} CVR0"));
    c.line();
    let nonce = sso_start(&mut c, "alice@example.com");
    (c, nonce)
}

#[test]
fn sso_blob_with_wrong_key_is_911_and_close() {
    let s = TestServer::start(config()).unwrap();
    let (mut c, nonce) = sso_until_s(&s, 18);
    let (ticket, _) = rst_ticket(&s, "alice@example.com", "alicepass");
    let blob = mbi::build(&[7u8; 24], &nonce, [0; 8]);
    c.send(&format!("USR 4 SSO S {ticket} {blob} {GUID}"));
    assert_eq!(c.line(), "911 4");
    c.expect_closed();
}

#[test]
fn sso_blob_for_another_nonce_is_911() {
    let s = TestServer::start(config()).unwrap();
    let (mut c, _) = sso_until_s(&s, 15);
    let (ticket, secret) = rst_ticket(&s, "alice@example.com", "alicepass");
    let blob = mbi::build(&secret, &"A".repeat(64), [0; 8]);
    c.send(&format!("USR 4 SSO S {ticket} {blob}"));
    assert_eq!(c.line(), "911 4");
    c.expect_closed();
}

#[test]
fn msnp16_plus_requires_blob_and_machine_guid() {
    let s = TestServer::start(config()).unwrap();
    let (ticket, secret) = rst_ticket(&s, "alice@example.com", "alicepass");
    // (blob?, GUID argument): no blob, a malformed GUID, no GUID.
    for (with_blob, tail) in [(false, ""), (true, " {not-a-guid}"), (true, "")] {
        let (mut c, nonce) = sso_until_s(&s, 16);
        let blob = if with_blob {
            format!(" {}", mbi::build(&secret, &nonce, [0; 8]))
        } else {
            String::new()
        };
        c.send(&format!("USR 4 SSO S {ticket}{blob}{tail}"));
        assert_eq!(c.line(), "911 4");
        c.expect_closed();
    }
    let (mut c, nonce) = sso_until_s(&s, 16);
    let blob = mbi::build(&secret, &nonce, [0; 8]);
    c.send(&format!("USR 4 SSO S {ticket} {blob} {GUID}"));
    assert_eq!(c.line(), "USR 4 OK alice@example.com 1 0");
    assert_eq!(c.line(), "SBS 0 null");
    c.recv().unwrap();
    assert_eq!(c.line(), "UBX alice@example.com 1 0");
}

#[test]
fn sso_with_another_users_ticket_is_911() {
    let s = TestServer::start(config()).unwrap();
    let (mut c, nonce) = sso_until_s(&s, 15);
    let (ticket, secret) = rst_ticket(&s, "bob@example.com", "bobpass");
    let blob = mbi::build(&secret, &nonce, [0; 8]);
    c.send(&format!("USR 4 SSO S {ticket} {blob}"));
    assert_eq!(c.line(), "911 4");
}

#[test]
fn redirect_first_sends_xfr_ns_then_second_ns_logs_in() {
    let mut cfg = config();
    cfg.redirect_first = true;
    let s = TestServer::start(cfg).unwrap();
    let second = s.ns_second_addr().unwrap();
    let first = s.ns_addr().port();

    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP12 CVR0");
    c.line();
    c.send("USR 2 TWN I alice@example.com");
    assert_eq!(
        c.line(),
        format!("XFR 2 NS 127.0.0.1:{} 0 127.0.0.1:{first}", second.port())
    );
    c.expect_closed();

    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP15 CVR0");
    c.line();
    c.send("USR 2 SSO I alice@example.com");
    assert_eq!(
        c.line(),
        format!("XFR 2 NS 127.0.0.1:{} U D", second.port())
    );
    c.expect_closed();

    let mut c = Client::connect(second);
    c.send("VER 1 MSNP12 CVR0");
    c.line();
    c.send("USR 2 TWN I alice@example.com");
    assert!(c.line().starts_with("USR 2 TWN S "));
    assert_eq!(s.ns_connections(), 3);
}

#[test]
fn sso_login_helper_works_for_every_sso_dialect() {
    let s = TestServer::start(config()).unwrap();
    for d in 15..=18 {
        let mut c = login_sso(&s, "alice@example.com", "alicepass", d, Some(GUID));
        c.send("OUT");
        c.expect_closed();
    }
    assert_eq!(s.logins(), 4);
}
