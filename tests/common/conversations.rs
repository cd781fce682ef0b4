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

/// `from` sends `html` to `to`, and it arrives as it was sent.
pub fn im_arrives(stub: &mut Stub, from: &str, to: &str, html: &str) {
    send(stub, from, to, html);
    let im = next_im(stub, to, from);
    assert_eq!(text_of(im["message"].as_str().unwrap()), html);
}

/// Waits for the next event `name` of `account`.
pub fn chat_event(stub: &mut Stub, account: &str, name: &str) -> Value {
    let (account, name) = (account.to_owned(), name.to_owned());
    stub.wait_for(STEP, move |e| {
        e["event"] == name.as_str() && e["account"] == account.as_str()
    })
}

/// A chat of `account` opens with `invitee` in it; returns its id.
pub fn chat_opened_with(stub: &mut Stub, account: &str, invitee: &str) -> i64 {
    let chat = chat_event(stub, account, "chat-joined")["chat_id"]
        .as_i64()
        .unwrap();
    let joined = chat_event(stub, account, "chat-buddies");
    assert_eq!(joined["joined"], serde_json::json!([invitee]), "{joined}");
    chat
}

/// `account` starts a chat inviting `invitee`; returns its id once `invitee` is in it.
pub fn start_chat(stub: &mut Stub, account: &str, invitee: &str) -> i64 {
    stub.send(&format!(
        "join-chat {} invite={}",
        pct(account),
        pct(invitee)
    ));
    chat_opened_with(stub, account, invitee)
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
