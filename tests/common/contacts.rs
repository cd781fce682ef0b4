//! Helpers for the contact-list tests: signing accounts in, reading a stub's buddy list and
//! waiting for presence.

use std::time::{Duration, Instant};

use msnp_testserver::TestServer;
use serde_json::Value;

use super::accounts::{add_account_line, outcome, sign_in, Login};
use super::stub::{pct, Stub};

/// How long one list or presence step may take.
pub const STEP: Duration = Duration::from_secs(20);

/// The password the default test accounts use (`alice` -> `alicepass`).
pub fn password(email: &str) -> String {
    format!("{}pass", email.split('@').next().unwrap_or_default())
}

/// Signs `email` in at `version` and waits until it is online.
pub fn online(stub: &mut Stub, server: &TestServer, email: &str, version: u32) {
    sign_in(stub, server, email, &password(email), version, Login::Https);
    let event = outcome(stub, email);
    assert_eq!(
        event["event"], "signed-on",
        "{email} at MSNP{version}: {event}"
    );
}

/// Signs `email` in at `version` with status `status` and personal message `message`.
pub fn online_as(
    stub: &mut Stub,
    server: &TestServer,
    email: &str,
    version: u32,
    status: &str,
    message: &str,
) {
    stub.send(&add_account_line(
        server,
        email,
        &password(email),
        version,
        Login::Https,
    ));
    stub.send(&format!(
        "status {} {status} message={}",
        pct(email),
        pct(message)
    ));
    stub.send(&format!("enable {}", pct(email)));
    let event = outcome(stub, email);
    assert_eq!(event["event"], "signed-on", "{email}: {event}");
}

/// The account's `account-info` event (display name, privacy, permit/deny lists, buddies).
pub fn info(stub: &mut Stub, email: &str) -> Value {
    stub.send(&format!("account-info {}", pct(email)));
    let email = email.to_owned();
    stub.wait_for(STEP, move |e| {
        e["event"] == "account-info" && e["account"] == email.as_str()
    })
}

/// Polls `account-info` until `pred` holds (panics with the last answer after `timeout`,
/// stretched as `stub`'s timeouts are under a wrapper such as valgrind).
pub fn wait_info(
    stub: &mut Stub,
    email: &str,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout * stub.time_factor();
    loop {
        let info = info(stub, email);
        if pred(&info) {
            return info;
        }
        assert!(Instant::now() < deadline, "gave up waiting; last: {info}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `pred` holds for `email`'s list as the server stores it (contacts as
/// `(name, lists bitmask, group names)`, group names): the changes a client queued have
/// reached the server. Panics with the last state after [`STEP`] (stretched as `stub`'s
/// timeouts are).
pub fn wait_server_list(
    server: &TestServer,
    stub: &Stub,
    email: &str,
    pred: impl Fn(&[(String, u8, Vec<String>)], &[String]) -> bool,
) {
    let deadline = Instant::now() + STEP * stub.time_factor();
    loop {
        let (list, groups) = (server.contact_list(email), server.group_names(email));
        if pred(&list, &groups) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server's list never got there: {list:?} {groups:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The server's lists bitmask for `who` in a [`wait_server_list`] list (0 if absent).
pub fn lists_of(list: &[(String, u8, Vec<String>)], who: &str) -> u8 {
    list.iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(who))
        .map_or(0, |(_, lists, _)| *lists)
}

/// The forward-list contacts of a [`wait_server_list`] list with their group names.
pub fn forward_list(list: &[(String, u8, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    list.iter()
        .filter(|(_, lists, _)| lists & 1 != 0)
        .map(|(name, _, groups)| (name.clone(), groups.clone()))
        .collect()
}

/// The `(who, group)` pairs of an `account-info`, sorted.
pub fn buddies(info: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = info["buddies"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|b| {
                    (
                        b["who"].as_str().unwrap_or_default().to_owned(),
                        b["group"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The server alias of `who` in an `account-info`.
pub fn server_alias(info: &Value, who: &str) -> Option<String> {
    info["buddies"]
        .as_array()?
        .iter()
        .find(|b| b["who"] == who)?["server_alias"]
        .as_str()
        .map(str::to_owned)
}

/// Whether `name` is in the list `key` (`permit`, `deny`) of an `account-info`.
pub fn listed(info: &Value, key: &str, name: &str) -> bool {
    info[key]
        .as_array()
        .is_some_and(|l| l.iter().any(|n| n.as_str() == Some(name)))
}

/// Waits until `account` shows `who` with status id `status` (and, if given, `message`).
pub fn wait_status(
    stub: &mut Stub,
    account: &str,
    who: &str,
    status: &str,
    message: Option<&str>,
) -> Value {
    let (account, who, status) = (account.to_owned(), who.to_owned(), status.to_owned());
    let message = message.map(str::to_owned);
    stub.wait_for(STEP, move |e| {
        e["event"] == "buddy-status"
            && e["account"] == account.as_str()
            && e["who"] == who.as_str()
            && e["status"] == status.as_str()
            && message
                .as_deref()
                .is_none_or(|m| e["message"].as_str() == Some(m))
    })
}
