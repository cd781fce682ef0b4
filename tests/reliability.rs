//! Nothing lost, whatever the network does, through purple-stub on real libpurple against the
//! project's test server: appearing offline, offline messages at every version, and opening a
//! conversation the way Finch does.

mod common;

use common::accounts;
use common::contacts::wait_status;
use common::conversations::{
    assert_healthy, is_write, next_im, online, send, server, text_of, ALICE, BOB, STEP,
};
use common::plugin::PluginDir;
use common::stub::pct;
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
/// is told it was not delivered, with its text; Bob never got it.
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
    send(&mut a, ALICE, BOB, "before");
    next_im(&mut b, BOB, ALICE);

    server.sb_hold_next_message(ALICE);
    send(&mut a, ALICE, BOB, "in flight at the drop");
    let deadline = std::time::Instant::now() + STEP;
    while !server.transcript().iter().any(|e| {
        e.service == Service::Sb
            && e.event == Event::Received
            && e.payload
                .as_deref()
                .is_some_and(|p| String::from_utf8_lossy(p).contains("in flight at the drop"))
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "the message never left"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(server.kick(ALICE, "SSD"), 1);
    let report = a.wait_for(STEP, |e| is_write(e, ALICE, "error"));
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("in flight at the drop"),
        "{report}"
    );
    assert!(
        !b.events_seen().iter().any(|e| e["event"] == "im"
            && text_of(e["message"].as_str().unwrap_or("")) == "in flight at the drop"),
        "reported yet delivered"
    );
    assert!(a.quit().success());
    assert!(b.quit().success());
}
