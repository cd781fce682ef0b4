//! Nothing lost, whatever the network does, through purple-stub on real libpurple against the
//! project's test server: appearing offline, offline messages at every version, a message in
//! flight when the server goes down, and reconnection that keeps conversations (the NS
//! restarting, every switchboard dropping, mid-conversation); the HTTP gateway (chatting, a
//! switchboard drop, pictures and files, closing a conversation and signing out, a broken
//! gateway).

mod common;

use common::accounts;
use common::accounts::SIGN_IN;
use common::contacts::wait_status;
use common::conversations::{
    assert_healthy, im_arrives, is_write, next_im, online, send, server, start_chat, text_of,
    ALICE, BOB, CAROL, STEP,
};
use common::plugin::PluginDir;
use common::stub::{pct, Stub};
use msnp_testserver::{Event, HttpOverride, Service, TestServer};
use serde_json::Value;

/// How many `913` refusals the NS sent.
fn refusals(server: &TestServer) -> usize {
    server
        .transcript()
        .iter()
        .filter(|e| {
            e.service == Service::Ns && e.event == Event::Sent && e.line.starts_with("913 ")
        })
        .count()
}

/// Whether `event` is Alice's report of a message not delivered, or of one stored as an
/// offline message.
fn is_error_or_stored(event: &Value) -> bool {
    is_write(event, ALICE, "error")
        || is_write(event, ALICE, "system")
            && event["message"]
                .as_str()
                .is_some_and(|m| m.contains("stored"))
}

/// Alice appears offline at `version` (where the server refuses her switchboards) and writes
/// to Bob: the switchboard is asked for once only, and the message is stored as an offline
/// message (shown to Bob once) where the version has them, else reported at once with its
/// text.
fn invisible_message_is_stored_or_reported(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let (mut a, mut b) = (
        accounts::stub(&plugins, false),
        accounts::stub(&plugins, false),
    );
    online(&mut a, &server, &[ALICE], version);
    online(&mut b, &server, &[BOB], version);
    wait_status(&mut a, ALICE, BOB, "available", None);
    wait_status(&mut b, BOB, ALICE, "available", None);

    a.send(&format!("status {} invisible", pct(ALICE)));
    wait_status(&mut b, BOB, ALICE, "offline", None);
    send(&mut a, ALICE, BOB, "typed while invisible");
    let outcome = a.wait_for(STEP, is_error_or_stored);
    let line = outcome["message"].as_str().unwrap();
    let stored = version >= 11;
    if stored {
        assert!(line.contains("stored"), "{outcome}");
        let im = next_im(&mut b, BOB, ALICE);
        assert_eq!(
            text_of(im["message"].as_str().unwrap()),
            "typed while invisible"
        );
    } else {
        assert!(is_write(&outcome, ALICE, "error"), "{outcome}");
        assert!(line.contains("typed while invisible"), "{outcome}");
        assert!(line.contains("appear offline"), "{outcome}");
    }

    // Visible again, the next message goes through; the invisible one was asked for once.
    a.send(&format!("status {} available", pct(ALICE)));
    wait_status(&mut b, BOB, ALICE, "available", None);
    send(&mut a, ALICE, BOB, "visible again");
    let im = next_im(&mut b, BOB, ALICE);
    assert_eq!(text_of(im["message"].as_str().unwrap()), "visible again");
    assert_eq!(
        refusals(&server),
        1,
        "the refused switchboard was asked for again"
    );
    b.sync();
    let copies = b
        .events_seen()
        .iter()
        .filter(|e| {
            e["event"] == "im"
                && text_of(e["message"].as_str().unwrap_or("")) == "typed while invisible"
        })
        .count();
    assert_eq!(
        copies,
        usize::from(stored),
        "stored once, or reported and not delivered"
    );
    assert_healthy(&mut a);
    assert!(a.quit().success());
    assert!(b.quit().success());
}

#[test]
fn appearing_offline_at_msnp8_reports_a_message_at_once() {
    invisible_message_is_stored_or_reported(8);
}

#[test]
fn appearing_offline_at_msnp12_stores_a_message_as_offline_message() {
    invisible_message_is_stored_or_reported(12);
}

/// A server without the offline-message service at MSNP12 (it answers 404): the text for an
/// offline contact is reported at once as not delivered, with its text.
#[test]
fn a_server_refusing_offline_messages_at_msnp12_gets_a_clean_report() {
    let mut config = accounts::users();
    for (a, b) in [(ALICE, BOB), (BOB, ALICE)] {
        config = config.with_contact(a, b, 11);
    }
    config.http_override = Some(HttpOverride {
        matches: "OimWS".into(),
        status: 404,
        headers: Vec::new(),
        body: Vec::new(),
    });
    let server = TestServer::start(config).unwrap();
    let plugins = PluginDir::new();
    let mut a = accounts::stub(&plugins, false);
    online(&mut a, &server, &[ALICE], 12);
    send(&mut a, ALICE, BOB, "nobody to store this");
    let report = a.wait_for(STEP, is_error_or_stored);
    assert!(is_write(&report, ALICE, "error"), "{report}");
    let line = report["message"].as_str().unwrap();
    assert!(line.contains("nobody to store this"), "{report}");
    assert!(line.contains("offline message"), "{report}");
    assert_healthy(&mut a);
    assert!(a.quit().success());
}

/// The NS goes down (`OUT SSD`) while a message is on its way and not yet acknowledged: Alice
/// is told it was not delivered, with its text, and it is not sent again; libpurple's
/// reconnection brings her back and the conversation goes on; Bob never got the reported one.
#[test]
fn a_message_unacknowledged_when_the_server_goes_down_is_reported() {
    let server = server();
    let plugins = PluginDir::new();
    let (mut a, mut b) = (
        accounts::stub(&plugins, false),
        accounts::stub(&plugins, false),
    );
    online(&mut a, &server, &[ALICE], 12);
    online(&mut b, &server, &[BOB], 12);
    reconnecting(&mut a, ALICE);
    send(&mut a, ALICE, BOB, "before");
    next_im(&mut b, BOB, ALICE);

    server.sb_hold_next_message(ALICE);
    send(&mut a, ALICE, BOB, "in flight at the drop");
    wait_sb_received(&server, "in flight at the drop");
    assert_eq!(server.kick(ALICE, "SSD"), 1);
    let report = a.wait_for(STEP, |e| is_write(e, ALICE, "error"));
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("in flight at the drop"),
        "{report}"
    );
    back_online(&mut a, ALICE);
    send(&mut a, ALICE, BOB, "after the shutdown");
    next_im(&mut b, BOB, ALICE);
    // A copy of the reported message would have come before this one.
    b.sync();
    assert_eq!(
        ims_from(&mut b, BOB, ALICE),
        ["before", "after the shutdown"]
    );
    assert!(a.quit().success());
    assert!(b.quit().success());
}

/// Waits until the server received a switchboard message containing `text` (a barrier on what
/// the server saw; the transcript is polled).
fn wait_sb_received(server: &TestServer, text: &str) {
    let deadline = std::time::Instant::now() + STEP;
    while !server.transcript().iter().any(|e| {
        e.service == Service::Sb
            && e.event == Event::Received
            && e.payload
                .as_deref()
                .is_some_and(|p| String::from_utf8_lossy(p).contains(text))
    }) {
        assert!(std::time::Instant::now() < deadline, "{text:?} never left");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Turns purple-stub's automatic reconnection on for `who` (first attempt 50 ms after a
/// network error, as Pidgin and Finch reconnect by themselves).
fn reconnecting(stub: &mut Stub, who: &str) {
    stub.send(&format!("reconnect {} 50", pct(who)));
}

/// `who` lost its connection with a network error (which front ends reconnect after) and is
/// signed on again.
fn back_online(stub: &mut Stub, who: &str) {
    let account = who.to_owned();
    let error = stub.wait_for(SIGN_IN, move |e| {
        e["event"] == "connection-error" && e["account"] == account.as_str()
    });
    assert_eq!(error["reason_name"], "NETWORK_ERROR", "{error}");
    assert_eq!(error["fatal"], false, "{error}");
    let account = who.to_owned();
    let event = stub.wait_for(SIGN_IN, move |e| {
        e["account"] == account.as_str()
            && (e["event"] == "signed-on" || e["event"] == "connection-error")
    });
    assert_eq!(
        event["event"], "signed-on",
        "{who} did not come back: {event}"
    );
}

/// The texts of the IMs `account` received from `from`, in order.
fn ims_from(stub: &mut Stub, account: &str, from: &str) -> Vec<String> {
    stub.events_seen()
        .iter()
        .filter(|e| e["event"] == "im" && e["account"] == account && e["from"] == from)
        .map(|e| text_of(e["message"].as_str().unwrap_or_default()))
        .collect()
}

/// The error lines (messages reported as not delivered) of `account`, tags stripped.
fn reports(stub: &mut Stub, account: &str) -> Vec<String> {
    stub.events_seen()
        .iter()
        .filter(|e| is_write(e, account, "error"))
        .map(|e| text_of(e["message"].as_str().unwrap_or_default()))
        .collect()
}

/// How many times `account`'s IM window with `who` was created.
fn windows_opened(stub: &mut Stub, account: &str, who: &str) -> usize {
    stub.events_seen()
        .iter()
        .filter(|e| {
            e["event"] == "conversation-created"
                && e["account"] == account
                && e["type"] == "im"
                && e["conversation"] == who
        })
        .count()
}

/// The NS restarts (every NS connection dropped without `OUT`) while Alice talks to Bob, has a
/// message to Bob written and not acknowledged, one to Carol whose switchboard was not there
/// yet, and a group chat open. libpurple's reconnection (purple-stub's, as Pidgin's) brings all
/// three accounts back; the written message is reported with its text and never arrives, the
/// one never written arrives once after the sign-in; the chat ends with a clear line; the open
/// IM window keeps working both ways without being reopened.
fn ns_restart_keeps_the_conversation(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let (mut a, mut b) = (
        accounts::stub(&plugins, false),
        accounts::stub(&plugins, false),
    );
    online(&mut a, &server, &[ALICE], version);
    online(&mut b, &server, &[BOB, CAROL], version);
    reconnecting(&mut a, ALICE);
    reconnecting(&mut b, BOB);
    reconnecting(&mut b, CAROL);
    send(&mut a, ALICE, BOB, "before");
    next_im(&mut b, BOB, ALICE);
    a.send(&format!("join-chat {} invite={}", pct(ALICE), pct(CAROL)));
    a.wait_for(STEP, |e| {
        e["event"] == "chat-buddies"
            && e["account"] == ALICE
            && e["joined"] == serde_json::json!([CAROL])
    });

    server.sb_hold_next_message(ALICE);
    send(&mut a, ALICE, BOB, "in flight at the restart");
    wait_sb_received(&server, "in flight at the restart");
    server.ns_ignore_next_xfr(ALICE);
    send(&mut a, ALICE, CAROL, "waiting for a switchboard");
    // The XFR has reached the server (and gone unanswered) once this round trip is done.
    a.sync();
    assert_eq!(server.ns_sync(ALICE, STEP), 1);

    assert_eq!(
        server.restart_ns(),
        3,
        "Alice's, Bob's and Carol's NS connections"
    );
    let report = a.wait_for(STEP, |e| is_write(e, ALICE, "error"));
    assert!(
        text_of(report["message"].as_str().unwrap()).ends_with("in flight at the restart"),
        "{report}"
    );
    let ended = a.wait_for(STEP, |e| {
        e["event"] == "write"
            && e["account"] == ALICE
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("cannot be rejoined"))
    });
    assert!(
        ended["chat_id"].is_i64(),
        "the line is in the chat: {ended}"
    );
    back_online(&mut a, ALICE);
    back_online(&mut b, BOB);
    back_online(&mut b, CAROL);

    // The message never written goes out once Alice is back (live, or as an offline message
    // if Carol was not back yet).
    let carried = next_im(&mut b, CAROL, ALICE);
    assert_eq!(
        text_of(carried["message"].as_str().unwrap()),
        "waiting for a switchboard"
    );
    // The open window works both ways.
    send(&mut a, ALICE, BOB, "after the restart");
    let im = next_im(&mut b, BOB, ALICE);
    assert_eq!(
        text_of(im["message"].as_str().unwrap()),
        "after the restart"
    );
    send(&mut b, BOB, ALICE, "reply after the restart");
    let reply = next_im(&mut a, ALICE, BOB);
    assert_eq!(reply["conversation"], BOB);
    assert_eq!(
        text_of(reply["message"].as_str().unwrap()),
        "reply after the restart"
    );
    // A second copy of anything would have come before these.
    send(&mut a, ALICE, CAROL, "second to Carol");
    next_im(&mut b, CAROL, ALICE);
    b.sync();
    a.sync();
    assert_eq!(
        ims_from(&mut b, BOB, ALICE),
        ["before", "after the restart"]
    );
    assert_eq!(
        ims_from(&mut b, CAROL, ALICE),
        ["waiting for a switchboard", "second to Carol"]
    );
    let reported = reports(&mut a, ALICE);
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(
        windows_opened(&mut a, ALICE, BOB),
        1,
        "the window was not reopened"
    );
    assert!(a.quit().success());
    assert!(b.quit().success());
}

#[test]
fn an_ns_restart_keeps_the_conversation_at_msnp12() {
    ns_restart_keeps_the_conversation(12);
}

#[test]
fn an_ns_restart_keeps_the_conversation_at_msnp18() {
    ns_restart_keeps_the_conversation(18);
}

/// Waits until the server received a switchboard `CAL` for `who` (polls the transcript).
fn wait_sb_call(server: &TestServer, who: &str) {
    let deadline = std::time::Instant::now() + STEP;
    while !server.transcript().iter().any(|e| {
        e.service == Service::Sb
            && e.event == Event::Received
            && e.line.starts_with("CAL ")
            && e.line.ends_with(who)
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "{who} was never called"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Every switchboard drops (the NS stays up) while Alice talks to Bob with a message written
/// and not acknowledged, and has a message for Carol waiting (never written) for Carol to
/// join: the first is reported with its text and never arrives, the second goes out on a new
/// switchboard and arrives once; the same window goes on, both ways; nobody is signed out.
/// With `gateway`, Alice is connected through the HTTP gateway only.
fn switchboard_drop_keeps_the_conversation(version: u32, gateway: bool) {
    let server = server();
    let plugins = PluginDir::new();
    let (mut a, mut b) = (
        accounts::stub(&plugins, false),
        accounts::stub(&plugins, false),
    );
    if gateway {
        let line = alice_account(&server, version, "connection_method=http");
        let signed = alice_from(&mut a, &line);
        assert_eq!(signed["event"], "signed-on", "{signed}");
    } else {
        online(&mut a, &server, &[ALICE], version);
    }
    online(&mut b, &server, &[BOB, CAROL], version);
    send(&mut a, ALICE, BOB, "before");
    next_im(&mut b, BOB, ALICE);
    send(&mut b, BOB, ALICE, "hello back");
    next_im(&mut a, ALICE, BOB);

    server.sb_hold_next_message(ALICE);
    send(&mut a, ALICE, BOB, "in flight at the drop");
    wait_sb_received(&server, "in flight at the drop");
    server.sb_ring_nobody_next(ALICE);
    send(&mut a, ALICE, CAROL, "waiting for Carol to join");
    wait_sb_call(&server, CAROL);
    assert!(server.drop_switchboards() >= 2, "Alice's two at least");
    let report = a.wait_for(STEP, |e| is_write(e, ALICE, "error"));
    assert!(
        text_of(report["message"].as_str().unwrap()).ends_with("in flight at the drop"),
        "{report}"
    );
    let im = next_im(&mut b, CAROL, ALICE);
    assert_eq!(
        text_of(im["message"].as_str().unwrap()),
        "waiting for Carol to join"
    );

    send(&mut a, ALICE, BOB, "after the drop");
    let im = next_im(&mut b, BOB, ALICE);
    assert_eq!(text_of(im["message"].as_str().unwrap()), "after the drop");
    send(&mut b, BOB, ALICE, "reply after the drop");
    let reply = next_im(&mut a, ALICE, BOB);
    assert_eq!(reply["conversation"], BOB);
    // A second copy of anything would have come before these.
    send(&mut a, ALICE, BOB, "last");
    next_im(&mut b, BOB, ALICE);
    send(&mut a, ALICE, CAROL, "last to Carol");
    next_im(&mut b, CAROL, ALICE);
    a.sync();
    b.sync();
    assert_eq!(
        ims_from(&mut b, BOB, ALICE),
        ["before", "after the drop", "last"]
    );
    assert_eq!(
        ims_from(&mut b, CAROL, ALICE),
        ["waiting for Carol to join", "last to Carol"]
    );
    assert_eq!(
        ims_from(&mut a, ALICE, BOB),
        ["hello back", "reply after the drop"]
    );
    assert_eq!(reports(&mut a, ALICE).len(), 1);
    assert_eq!(windows_opened(&mut a, ALICE, BOB), 1);
    assert_healthy(&mut a);
    assert_healthy(&mut b);
    if gateway {
        let (ns, sb) = server.gateway_sessions();
        assert_eq!(ns, 1);
        assert!(sb >= 4, "switchboards through the gateway: {sb}");
    }
    assert!(a.quit().success());
    assert!(b.quit().success());
}

#[test]
fn a_switchboard_drop_keeps_the_conversation_at_msnp12() {
    switchboard_drop_keeps_the_conversation(12, false);
}

#[test]
fn a_switchboard_drop_keeps_the_conversation_at_msnp18() {
    switchboard_drop_keeps_the_conversation(18, false);
}

#[test]
fn a_switchboard_drop_through_the_http_gateway_keeps_the_conversation() {
    switchboard_drop_keeps_the_conversation(18, true);
}

/// No reconnection follows the drop (the front end does not reconnect, or the network stays
/// away): the message never written waits for the next sign-in only so long, then is reported
/// with its text.
#[test]
fn a_message_waiting_for_a_reconnection_that_never_comes_is_reported() {
    let server = server();
    let plugins = PluginDir::new();
    // The plugin's clock runs 12 times faster: the 3-minute wait passes in 15 s.
    let mut a = accounts::fast_stub(&plugins, false, 12);
    online(&mut a, &server, &[ALICE], 12);
    server.ns_ignore_next_xfr(ALICE);
    send(&mut a, ALICE, BOB, "never written");
    a.sync();
    assert_eq!(server.ns_sync(ALICE, STEP), 1);
    assert_eq!(server.restart_ns(), 1);
    let waiting = a.wait_for(STEP, |e| is_write(e, ALICE, "system"));
    assert!(
        waiting["message"]
            .as_str()
            .unwrap()
            .contains("Not sent yet"),
        "{waiting}"
    );
    assert_eq!(waiting["conversation"], BOB);
    let report = a.wait_for(STEP * 3, |e| is_write(e, ALICE, "error"));
    let line = text_of(report["message"].as_str().unwrap());
    assert!(line.ends_with("never written"), "{report}");
    assert!(line.contains("not signed in again in time"), "{report}");
    assert_eq!(report["conversation"], BOB);
    assert!(a.quit().success());
}

/// The `add-account` line of Alice at `version`, with `extra` settings appended.
fn alice_account(server: &TestServer, version: u32, extra: &str) -> String {
    let line =
        accounts::add_account_line(server, ALICE, "alicepass", version, accounts::Login::Https);
    format!("{line} {extra}")
}

/// Signs Alice in from `line`; returns the outcome (`signed-on` or `connection-error`).
fn alice_from(stub: &mut Stub, line: &str) -> Value {
    stub.send(line);
    stub.send(&format!("enable {}", pct(ALICE)));
    accounts::outcome(stub, ALICE)
}

/// Alice signs in through the HTTP gateway only (over HTTPS with `tls`); Bob and Carol
/// directly. An IM each way and a group chat Alice starts go through it (her NS and
/// switchboards are gateway sessions).
fn chatting_through_the_gateway(version: u32, tls: bool) {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    let mut line = alice_account(&server, version, "connection_method=http");
    if tls {
        let https = format!("https://127.0.0.1:{}", server.https_port);
        line = line.replace(
            &format!("gateway=127.0.0.1:{}", server.http_port),
            &format!("gateway={}", pct(&https)),
        );
        assert!(line.contains("gateway=https"), "{line}");
    }
    let signed = alice_from(&mut stub, &line);
    assert_eq!(signed["event"], "signed-on", "{signed}");
    assert_eq!(server.gateway_sessions(), (1, 0));
    online(&mut stub, &server, &[BOB, CAROL], version);
    wait_status(&mut stub, ALICE, BOB, "available", None);

    im_arrives(&mut stub, ALICE, BOB, "out through the gateway");
    im_arrives(&mut stub, BOB, ALICE, "and back");
    assert_eq!(server.gateway_sessions(), (1, 1));

    let chat = start_chat(&mut stub, ALICE, CAROL);
    stub.send(&format!("chat-invite {} {chat} {}", pct(ALICE), pct(BOB)));
    stub.wait_for(STEP, |e| {
        e["event"] == "chat-buddies"
            && e["account"] == ALICE
            && e["joined"] == serde_json::json!([BOB])
    });
    stub.send(&format!(
        "chat-send {} {chat} {}",
        pct(ALICE),
        pct("to both through the gateway")
    ));
    for who in [BOB, CAROL] {
        let (who, from) = (who.to_owned(), ALICE);
        let message = stub.wait_for(STEP, move |e| {
            e["event"] == "chat-message" && e["account"] == who.as_str() && e["from"] == from
        });
        assert_eq!(
            text_of(message["message"].as_str().unwrap()),
            "to both through the gateway"
        );
    }
    assert_eq!(server.gateway_sessions(), (1, 2));
    assert_healthy(&mut stub);
}

#[test]
fn chatting_through_the_http_gateway_at_msnp12() {
    chatting_through_the_gateway(12, false);
}

#[test]
fn chatting_through_an_https_gateway_at_msnp18() {
    chatting_through_the_gateway(18, true);
}

/// `auto` (the default): the notification server's port refuses, so Alice signs in through
/// the gateway, and her conversations go through it too.
#[test]
fn auto_falls_back_to_the_http_gateway_when_the_ns_port_refuses() {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let line = alice_account(&server, 18, "").replace(
        &format!(" port={} ", server.ns_addr().port()),
        &format!(" port={closed} "),
    );
    assert!(line.contains(&format!(" port={closed} ")), "{line}");
    let signed = alice_from(&mut stub, &line);
    assert_eq!(signed["event"], "signed-on", "{signed}");
    assert_eq!(server.gateway_sessions(), (1, 0));
    online(&mut stub, &server, &[BOB], 18);
    wait_status(&mut stub, ALICE, BOB, "available", None);
    im_arrives(&mut stub, ALICE, BOB, "after the fallback");
    assert_eq!(server.gateway_sessions(), (1, 1));
    assert_healthy(&mut stub);
}

/// Alice, through the gateway, closes a conversation, then signs out: each time her `OUT` goes
/// in one last gateway request, so Bob (connected directly) hears her leave the switchboard
/// and sees her go offline, and the server ended her sessions on those `OUT`s, not on the
/// gateway's idle timeout.
#[test]
fn signing_out_through_the_http_gateway_says_out() {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    let signed = alice_from(
        &mut stub,
        &alice_account(&server, 12, "connection_method=http"),
    );
    assert_eq!(signed["event"], "signed-on", "{signed}");
    online(&mut stub, &server, &[BOB], 12);
    wait_status(&mut stub, BOB, ALICE, "available", None);

    // Closing the conversation (nothing of hers unacknowledged on it): her switchboard's `OUT`
    // goes too, and Bob hears `BYE`.
    im_arrives(&mut stub, BOB, ALICE, "about to leave");
    stub.send(&format!("close-im {} {}", pct(ALICE), pct(BOB)));
    let deadline = std::time::Instant::now() + STEP;
    while !server.transcript().iter().any(|e| {
        e.service == Service::Sb && e.event == Event::Sent && e.line == format!("BYE {ALICE}")
    }) {
        assert!(std::time::Instant::now() < deadline, "Bob never heard BYE");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(last_received(&server, Service::Sb), "OUT");

    stub.send(&format!("disable {}", pct(ALICE)));
    wait_status(&mut stub, BOB, ALICE, "offline", None);
    assert_eq!(last_received(&server, Service::Ns), "OUT");
    assert_eq!(server.gateway_sessions(), (1, 1));
    assert_healthy(&mut stub);
}

/// The last line the server received on Alice's latest `service` connection (the one she
/// signed in to with `USR` or `ANS`).
fn last_received(server: &TestServer, service: Service) -> String {
    let transcript = server.transcript();
    let alices = transcript
        .iter()
        .rev()
        .find(|e| {
            e.service == service
                && e.event == Event::Received
                && (e.line.starts_with("USR ") || e.line.starts_with("ANS "))
                && e.line.contains(ALICE)
        })
        .map(|e| e.conn)
        .expect("Alice's connection");
    transcript
        .iter()
        .rev()
        .find(|e| e.conn == alices && e.event == Event::Received)
        .map(|e| e.line.clone())
        .unwrap_or_default()
}

/// An `xfer-*` event of `account`'s transfer `id` (any transfer when `id` is `None`).
fn xfer_event(stub: &mut Stub, name: &str, account: &str, id: Option<i64>) -> Value {
    let (name, account) = (name.to_owned(), account.to_owned());
    stub.wait_for(STEP, move |e| {
        e["event"] == name.as_str()
            && e["account"] == account.as_str()
            && id.is_none_or(|id| e["id"] == id)
    })
}

/// `from` (in stub `a`) sends `data` as a file to `to` (in stub `b`), who accepts it; both
/// ends complete, and the saved bytes are the sent ones.
fn file_arrives(a: &mut Stub, from: &str, b: &mut Stub, to: &str, data: &[u8]) {
    let name = format!("from-{from}.bin");
    let path = a.user_dir().join(&name);
    std::fs::write(&path, data).unwrap();
    a.send(&format!(
        "send-file {} {} {}",
        pct(from),
        pct(to),
        pct(path.to_str().unwrap())
    ));
    let (account, file) = (from.to_owned(), name.clone());
    let added = a.wait_for(STEP, move |e| {
        e["event"] == "xfer-added"
            && e["account"] == account.as_str()
            && e["filename"] == file.as_str()
    });
    let sent = added["id"].as_i64().unwrap();
    let request = xfer_event(b, "xfer-request", to, None);
    assert_eq!(request["filename"], name.as_str());
    assert_eq!(request["size"], data.len());
    let id = request["id"].as_i64().unwrap();
    let target = b.user_dir().join(format!("got-{name}"));
    b.send(&format!(
        "xfer-accept {id} {}",
        pct(target.to_str().unwrap())
    ));
    assert_eq!(
        xfer_event(b, "xfer-completed", to, Some(id))["bytes"],
        data.len()
    );
    assert_eq!(
        xfer_event(a, "xfer-completed", from, Some(sent))["bytes"],
        data.len()
    );
    // The file is closed when the transfer is freed.
    xfer_event(b, "xfer-destroyed", to, Some(id));
    assert!(std::fs::read(&target).unwrap() == data, "{name} differs");
}

/// Alice through the HTTP gateway only, Bob directly, in two stubs, direct connections for
/// file transfers off on both sides (so the data goes by switchboard): Alice gets Bob's
/// display picture, and a 100 KB file goes each way byte-exact, over switchboards that on
/// Alice's side are gateway sessions.
#[test]
fn pictures_and_files_go_over_gateway_switchboards() {
    let server = server();
    let plugins = PluginDir::new();
    let mut alice = accounts::stub(&plugins, false);
    let mut bob = accounts::stub(&plugins, false);
    let line = accounts::add_account_line(&server, BOB, "bobpass", 18, accounts::Login::Https);
    bob.send(&format!("{line} direct_transfers=false"));
    bob.send(&format!("enable {}", pct(BOB)));
    let signed = accounts::outcome(&mut bob, BOB);
    assert_eq!(signed["event"], "signed-on", "{signed}");
    let mut picture = include_bytes!("../icons/msn-48.png").to_vec();
    picture.extend((0..6000u32).map(|i| (i * 31 % 253) as u8));
    let file = bob.user_dir().join("bob.png");
    std::fs::write(&file, &picture).unwrap();
    bob.send(&format!(
        "set-icon {} {}",
        pct(BOB),
        pct(file.to_str().unwrap())
    ));
    bob.wait_event(STEP, "icon-set");

    let line = alice_account(&server, 18, "connection_method=http direct_transfers=false");
    let signed = alice_from(&mut alice, &line);
    assert_eq!(signed["event"], "signed-on", "{signed}");
    let icon = alice.wait_for(STEP, |e| {
        e["event"] == "buddy-icon-changed"
            && e["account"] == ALICE
            && e["who"] == BOB
            && !e["hex"].is_null()
    });
    let hex: String = picture.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(icon["hex"], hex, "the bytes Bob set");
    assert_eq!(
        server.gateway_sessions(),
        (1, 1),
        "the picture's switchboard"
    );

    alice.send(&format!("open-im {} {}", pct(ALICE), pct(BOB)));
    bob.send(&format!("open-im {} {}", pct(BOB), pct(ALICE)));
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    file_arrives(&mut alice, ALICE, &mut bob, BOB, &data);
    let back: Vec<u8> = data.iter().rev().copied().collect();
    file_arrives(&mut bob, BOB, &mut alice, ALICE, &back);
    // Both files went as P2P data through switchboards (1202-byte chunks), not over a direct
    // connection; every switchboard of Alice's is a gateway session.
    assert!(server.p2p_file_data() >= 2 * 100_000 / 1202);
    let (ns, sb) = server.gateway_sessions();
    assert_eq!(ns, 1);
    assert!(sb >= 1, "{sb}");
    assert!(server.violations().is_empty(), "{:?}", server.violations());
    assert_healthy(&mut alice);
    assert_healthy(&mut bob);
    assert!(alice.quit().success(), "Alice's purple-stub");
    assert!(bob.quit().success(), "Bob's purple-stub");
}

/// A gateway answering `status` with `headers` and `body` to every request: Alice's sign-in
/// through it ends at once with a network error whose text says what was wrong.
fn broken_gateway(status: u16, headers: &[(&str, &str)], body: &str, says: &str) {
    let mut config = accounts::users();
    config.http_override = Some(HttpOverride {
        matches: "/gateway/gateway.dll".into(),
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    });
    let server = TestServer::start(config).expect("test server");
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    let line = alice_account(&server, 18, "connection_method=http");
    let error = alice_from(&mut stub, &line);
    assert_eq!(error["event"], "connection-error", "{error}");
    assert_eq!(error["reason_name"], "NETWORK_ERROR", "{error}");
    let text = error["text"].as_str().unwrap();
    assert!(text.contains(says), "{error}");
    assert_eq!(server.logins(), 0);
    assert!(stub.is_running());
}

#[test]
fn a_gateway_answering_500_or_garbage_is_a_clear_connection_error() {
    broken_gateway(
        500,
        &[],
        "oops",
        "the HTTP gateway answered with status 500",
    );
    broken_gateway(200, &[], "VER 1 MSNP18\r\n", "no valid SessionID");
    broken_gateway(
        200,
        &[("X-MSN-Messenger", "SessionID=a b c; GW-IP=127.0.0.1")],
        "",
        "no valid SessionID",
    );
}
