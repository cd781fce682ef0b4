//! The hostile-server suite, third part: SOAP and login services that answer with faults,
//! truncated, deeply nested, huge or entity-expanding XML, or a redirect to nowhere. The
//! account must end in the right state (a clear error, or online with the failure reported)
//! and purple-stub must keep running with bounded memory.

mod common;

use std::time::Duration;

use common::accounts::{self, outcome, sign_in, users, Login};
use common::conversations::{is_write, send, ALICE, BOB, STEP};
use common::plugin::PluginDir;
use common::stub::Stub;
use msnp_testserver::{HttpOverride, ServerConfig, TestServer};
use serde_json::Value;

/// Resident memory may grow this much while a hostile answer is handled.
const RSS_BUDGET_KB: i64 = 64 * 1024;

fn canned(matches: &str, status: u16, body: Vec<u8>) -> HttpOverride {
    HttpOverride {
        matches: matches.into(),
        status,
        headers: Vec::new(),
        body,
    }
}

fn rss(stub: &mut Stub) -> i64 {
    stub.send("stats");
    stub.wait_event(Duration::from_secs(10), "stats")["rss_kb"]
        .as_i64()
        .unwrap()
}

/// Signs Alice in at `version` against `config`; returns the first outcome.
fn sign_in_with(config: ServerConfig, version: u32) -> (TestServer, Stub, PluginDir, Value, i64) {
    let server = TestServer::start(config).unwrap();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    let before = rss(&mut stub);
    sign_in(
        &mut stub,
        &server,
        ALICE,
        "alicepass",
        version,
        Login::Https,
    );
    let first = outcome(&mut stub, ALICE);
    (server, stub, plugins, first, before)
}

/// Online despite the broken answer, still parsing the NS, the failure reported to the user,
/// memory bounded.
fn survives_broken_list_answer(matches: &str, status: u16, body: Vec<u8>) {
    let mut config = users();
    config.http_override = Some(canned(matches, status, body));
    let (server, mut stub, _plugins, first, before) = sign_in_with(config, 18);
    assert_eq!(first["event"], "signed-on", "{first}");
    let notice = stub.wait_for(STEP, |e| e["event"] == "notify" || e["event"] == "request");
    assert!(!notice.to_string().is_empty());
    let grown = rss(&mut stub) - before;
    assert!(grown < RSS_BUDGET_KB, "memory grew by {grown} KiB");
    assert_eq!(server.kick(ALICE, "OTH"), 1);
    let error = stub.wait_event(STEP, "connection-error");
    assert_eq!(
        error["reason_name"], "NAME_IN_USE",
        "the session stopped parsing: {error}"
    );
    assert!(stub.quit().success());
}

fn fault(code: &str, text: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
         <soap:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    )
    .into_bytes()
}

#[test]
fn a_soap_fault_with_an_empty_faultcode_is_reported() {
    survives_broken_list_answer("FindMembership", 500, fault("", ""));
}

#[test]
fn a_soap_fault_without_code_or_string_elements_is_reported() {
    let body = b"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><soap:Fault/></soap:Body></soap:Envelope>".to_vec();
    survives_broken_list_answer("FindMembership", 500, body);
}

#[test]
fn a_truncated_address_book_is_reported() {
    let body = b"<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><ABFindContactsPagedResponse><ABFindContactsPagedResult><Contacts><Contact><contactId>".to_vec();
    survives_broken_list_answer("ABFind", 200, body);
}

#[test]
fn a_deeply_nested_address_book_is_reported() {
    let mut body =
        b"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
            .to_vec();
    body.extend(b"<a>".repeat(100_000));
    body.extend(b"</a>".repeat(100_000));
    body.extend_from_slice(b"</soap:Body></soap:Envelope>");
    survives_broken_list_answer("ABFind", 200, body);
}

#[test]
fn a_huge_address_book_is_refused_with_bounded_memory() {
    let mut body =
        b"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><x>"
            .to_vec();
    body.resize(body.len() + 24 * 1024 * 1024, b'A');
    body.extend_from_slice(b"</x></soap:Body></soap:Envelope>");
    survives_broken_list_answer("ABFind", 200, body);
}

#[test]
fn entity_expansion_in_a_membership_answer_is_refused() {
    let body = b"<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><x>&lol3;</x></soap:Body></soap:Envelope>".to_vec();
    survives_broken_list_answer("FindMembership", 200, body);
}

#[test]
fn an_rst_fault_with_an_empty_faultcode_is_a_clear_sign_in_error() {
    let mut config = users();
    config.http_override = Some(canned("RST", 500, fault("", "")));
    let (_server, stub, _plugins, first, _) = sign_in_with(config, 18);
    assert_eq!(first["event"], "connection-error", "{first}");
    assert!(
        first["text"].as_str().unwrap().contains("login server"),
        "{first}"
    );
    assert!(stub.quit().success());
}

#[test]
fn a_passport_redirect_to_an_empty_url_is_a_clear_sign_in_error() {
    let mut config = users();
    let mut redirect = canned("/login", 302, Vec::new());
    redirect.headers.push(("Location".into(), String::new()));
    config.http_override = Some(redirect);
    let (_server, mut stub, _plugins, first, _) = sign_in_with(config, 12);
    assert_eq!(first["event"], "connection-error", "{first}");
    assert!(stub.is_running());
    assert!(stub.quit().success());
}

#[test]
fn an_offline_message_fault_without_its_challenge_is_reported_with_the_text() {
    let mut config = users();
    for (a, b) in [(ALICE, BOB), (BOB, ALICE)] {
        config = config.with_contact(a, b, 11);
    }
    let body = fault(
        "q0:AuthenticationFailed",
        "Exception of type 'System.Web.Services.Protocols.SoapException' was thrown.",
    );
    config.http_override = Some(canned("Store", 500, body));
    let (_server, mut stub, _plugins, first, _) = sign_in_with(config, 18);
    assert_eq!(first["event"], "signed-on", "{first}");
    send(&mut stub, ALICE, BOB, "are you there");
    let report = stub.wait_for(STEP, |e| is_write(e, ALICE, "error"));
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("are you there"),
        "{report}"
    );
    assert!(stub.quit().success());
}
