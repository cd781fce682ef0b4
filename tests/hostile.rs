//! The hostile-server suite: a test server that sends malformed or abusive input after a normal
//! sign-in (or during it). purple-stub must keep running, the account must end in the right
//! state (input ignored and logged, or a clear connection error), and memory must stay bounded.
//! Input classes are those behind the published libpurple MSN CVEs.

mod common;

use std::time::Duration;

use common::accounts::{self, outcome, sign_in, users, Login};
use common::plugin::PluginDir;
use common::stub::Stub;
use msnp_testserver::TestServer;
use serde_json::Value;

/// Resident memory may grow this much while hostile input is handled.
const RSS_BUDGET_KB: i64 = 32 * 1024;

struct Run {
    server: TestServer,
    stub: Stub,
    rss_before: i64,
    _plugins: PluginDir,
}

fn rss(stub: &mut Stub) -> i64 {
    stub.send("stats");
    stub.wait_event(Duration::from_secs(10), "stats")["rss_kb"]
        .as_i64()
        .unwrap()
}

/// Signs alice in at `version`; the server sends `bytes` right after answering `verb`.
fn run(version: u32, verb: &str, bytes: &[u8]) -> (Run, Value) {
    run_at(version, verb, bytes, 1)
}

/// [`run`] with the plugin's clock `time_scale` times faster.
fn run_at(version: u32, verb: &str, bytes: &[u8], time_scale: u32) -> (Run, Value) {
    let mut config = users();
    config.garbage_after = Some((verb.to_owned(), bytes.to_vec()));
    let server = TestServer::start(config).unwrap();
    let plugins = PluginDir::new();
    let mut stub = accounts::fast_stub(&plugins, false, time_scale);
    let rss_before = rss(&mut stub);
    sign_in(
        &mut stub,
        &server,
        "alice@example.com",
        "alicepass",
        version,
        Login::Https,
    );
    let first = outcome(&mut stub, "alice@example.com");
    (
        Run {
            server,
            stub,
            rss_before,
            _plugins: plugins,
        },
        first,
    )
}

impl Run {
    /// The account survived the input: still online and still parsing (an `OUT OTH` sent now
    /// is understood), the host is alive and memory stayed bounded.
    fn assert_ignored(mut self) {
        accounts::ns_barrier(&self.server, &mut self.stub, "alice@example.com");
        let errors: Vec<Value> = self
            .stub
            .events_seen()
            .iter()
            .filter(|e| e["event"] == "connection-error")
            .cloned()
            .collect();
        assert!(
            errors.is_empty(),
            "input should have been ignored: {errors:?}"
        );
        assert_eq!(self.server.kick("alice@example.com", "OTH"), 1);
        let error = self.stub.wait_event(accounts::SIGN_IN, "connection-error");
        assert_eq!(
            error["reason_name"], "NAME_IN_USE",
            "the session stopped parsing: {error}"
        );
        self.finish();
    }

    /// The input ended the connection with a clear error of this libpurple reason.
    fn assert_error(mut self, reason: &str, text_part: &str) {
        let error = self
            .stub
            .wait_event(Duration::from_secs(30), "connection-error");
        assert_eq!(error["reason_name"], reason, "{error}");
        assert!(
            error["text"].as_str().unwrap().contains(text_part),
            "{error}"
        );
        self.finish();
    }

    fn finish(mut self) {
        assert!(self.stub.is_running());
        let grown = rss(&mut self.stub) - self.rss_before;
        assert!(grown < RSS_BUDGET_KB, "memory grew by {grown} KiB");
        assert!(self.stub.quit().success());
    }
}

fn signed_on(first: &Value) {
    assert_eq!(first["event"], "signed-on", "{first}");
}

#[test]
fn msg_without_a_length_is_ignored() {
    let (run, first) = run(12, "CHG", b"MSG Hotmail Hotmail\r\n");
    signed_on(&first);
    run.assert_ignored();
}

#[test]
fn negative_and_non_numeric_payload_lengths_are_ignored() {
    let (run, first) = run(
        18,
        "CHG",
        b"MSG Hotmail Hotmail -5\r\nMSG Hotmail Hotmail abc\r\nUBX 1:bob@example.com -1\r\n",
    );
    signed_on(&first);
    run.assert_ignored();
}

#[test]
fn a_payload_length_over_the_cap_is_a_clear_error() {
    let (run, first) = run(12, "CHG", b"MSG Hotmail Hotmail 99999999\r\n");
    signed_on(&first);
    run.assert_error("NETWORK_ERROR", "invalid reply");
}

#[test]
fn a_payload_longer_than_what_follows_stalls_until_the_keepalive_ends_it() {
    // The server asks for a ping every 5 s, then announces 1000 bytes and sends 5; the
    // plugin's clock runs 5 times faster.
    let (run, first) = run_at(12, "CHG", b"QNG 5\r\nMSG Hotmail Hotmail 1000\r\nshort", 5);
    signed_on(&first);
    run.assert_error("NETWORK_ERROR", "stopped responding");
}

#[test]
fn a_line_that_never_ends_is_a_clear_error_with_bounded_memory() {
    let endless = vec![b'A'; 4 * 1024 * 1024];
    let (run, first) = run(12, "CHG", &endless);
    signed_on(&first);
    run.assert_error("NETWORK_ERROR", "invalid reply");
}

#[test]
fn a_nul_byte_in_a_line_is_ignored() {
    let (run, first) = run(
        18,
        "CHG",
        b"NLN NLN 1:bob@exa\0mple.com Bob 0:0 0\r\nFLN \0\r\n",
    );
    signed_on(&first);
    run.assert_ignored();
}

#[test]
fn unknown_commands_and_error_codes_after_sign_in_are_ignored() {
    let (run, first) = run(
        15,
        "CHG",
        b"ZZZ 1 2 3\r\nABC\r\n999 0\r\n200\r\n715 77\r\nXFR\r\nRNG\r\nCHL\r\nQNG x\r\n",
    );
    signed_on(&first);
    run.assert_ignored();
}

#[test]
fn unknown_commands_during_negotiation_are_ignored() {
    let (run, first) = run(12, "VER", b"ZZZ 1 2\r\nFOO\r\n");
    signed_on(&first);
    run.assert_ignored();
}

#[test]
fn an_error_code_during_sign_in_is_a_clear_error() {
    let (mut run, first) = run(12, "CVR", b"601 3\r\n");
    assert_eq!(first["event"], "connection-error", "{first}");
    assert_eq!(first["reason_name"], "NETWORK_ERROR", "{first}");
    assert!(first["text"].as_str().unwrap().contains("601"), "{first}");
    assert!(run.stub.is_running());
    run.finish();
}

#[test]
fn a_flood_of_presence_changes_is_absorbed() {
    let mut flood = Vec::new();
    for i in 0..50_000 {
        let status = ["NLN", "AWY", "BSY", "IDL"][i % 4];
        flood.extend_from_slice(
            format!(
                "NLN {status} 1:user{}@example.com User%20{i} 0:0 0\r\n",
                i % 500
            )
            .as_bytes(),
        );
        flood.extend_from_slice(
            format!("FLN 1:user{}@example.com 0:0\r\n", (i + 7) % 500).as_bytes(),
        );
    }
    let (run, first) = run(18, "CHG", &flood);
    signed_on(&first);
    run.assert_ignored();
}

#[test]
fn input_after_out_is_ignored() {
    let (run, first) = run(12, "CHG", b"OUT SSD\r\nNLN NLN bob@example.com Bob 0 0\r\nOUT OTH\r\nMSG Hotmail Hotmail 99999999\r\n");
    signed_on(&first);
    run.assert_error("NETWORK_ERROR", "maintenance");
}
