//! Conversation helpers shared by the conversation and hostile-server tests.

use std::time::Duration;

use msnp_testserver::TestServer;
use serde_json::Value;

use super::accounts::{outcome, sign_in, users, Login};
use super::stub::{pct, Stub};

/// How long one conversation step may take.
pub const STEP: Duration = Duration::from_secs(20);
pub const ALICE: &str = "alice@example.com";
pub const BOB: &str = "bob@example.com";
pub const CAROL: &str = "carol@example.com";

/// A server where Alice, Bob and Carol have each other on their lists.
pub fn server() -> TestServer {
    let mut config = users();
    for (a, b) in [(ALICE, BOB), (ALICE, CAROL), (BOB, CAROL)] {
        config = config.with_contact(a, b, 11).with_contact(b, a, 11);
    }
    TestServer::start(config).expect("test server")
}

/// A stub with `who` signed in at `version`.
pub fn online(stub: &mut Stub, server: &TestServer, who: &[&str], version: u32) {
    for email in who {
        let password = format!("{}pass", email.split('@').next().unwrap_or_default());
        sign_in(stub, server, email, &password, version, Login::Https);
    }
    for email in who {
        let event = outcome(stub, email);
        assert_eq!(
            event["event"], "signed-on",
            "{email} at MSNP{version}: {event}"
        );
    }
}

/// Waits for the next `im` event of `account` from `from`.
pub fn next_im(stub: &mut Stub, account: &str, from: &str) -> Value {
    let (account, from) = (account.to_owned(), from.to_owned());
    stub.wait_for(STEP, move |e| {
        e["event"] == "im" && e["account"] == account.as_str() && e["from"] == from.as_str()
    })
}

/// Waits for the next `chat-message` event of `account` from `from`.
pub fn next_chat_message(stub: &mut Stub, account: &str, from: &str) -> Value {
    let (account, from) = (account.to_owned(), from.to_owned());
    stub.wait_for(STEP, move |e| {
        e["event"] == "chat-message"
            && e["account"] == account.as_str()
            && e["from"] == from.as_str()
    })
}

/// `html` without its tags and with the entities libpurple's messages use decoded.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Sends an IM.
pub fn send(stub: &mut Stub, from: &str, to: &str, html: &str) {
    stub.send(&format!("send-im {} {} {}", pct(from), pct(to), pct(html)));
}

/// Sends `html` to the chat `chat` of `from`.
pub fn send_chat(stub: &mut Stub, from: &str, chat: i64, html: &str) {
    stub.send(&format!("chat-send {} {chat} {}", pct(from), pct(html)));
}

/// Whether `event` is a conversation line of `account` with the libpurple message flag `flag`.
pub fn is_write(event: &Value, account: &str, flag: &str) -> bool {
    event["event"] == "write"
        && event["account"] == account
        && event["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == flag))
}

/// No `connection-error` up to a stub `sync`, and the stub still runs.
pub fn assert_healthy(stub: &mut Stub) {
    stub.sync();
    assert!(stub.is_running(), "purple-stub died");
    let errors: Vec<&Value> = stub
        .events_seen()
        .iter()
        .filter(|e| e["event"] == "connection-error")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
