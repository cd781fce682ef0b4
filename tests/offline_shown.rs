//! An offline message is shown once, even when the server fails to delete it (found by the
//! fault-injection soak, `tests/soak/`): through purple-stub on real libpurple against the
//! project's test server.

mod common;

use std::time::{Duration, Instant};

use common::accounts::{self, ns_barrier};
use common::conversations::{online, send, text_of, ALICE, BOB, STEP};
use common::plugin::PluginDir;
use common::stub::pct;
use msnp_testserver::{Event, HttpOverride, Service, TestServer};

/// How many `DeleteMessages` requests the server received.
fn deletes(server: &TestServer) -> usize {
    server
        .transcript()
        .iter()
        .filter(|e| {
            e.service == Service::Http
                && e.event == Event::Received
                && e.payload
                    .as_deref()
                    .is_some_and(|p| String::from_utf8_lossy(p).contains("<DeleteMessages"))
        })
        .count()
}

/// Waits until the server has received `n` `DeleteMessages` requests.
fn wait_deletes(server: &TestServer, n: usize) {
    let deadline = Instant::now() + STEP;
    while deletes(server) < n {
        assert!(Instant::now() < deadline, "no DeleteMessages number {n}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Bob (MSNP15) gets an offline message the server never deletes: after signing out and in
/// again it is announced again, and deleted again, but not shown a second time.
#[test]
fn an_offline_message_the_server_fails_to_delete_is_shown_once() {
    let mut config = accounts::users();
    for (a, b) in [(ALICE, BOB), (BOB, ALICE)] {
        config = config.with_contact(a, b, 11);
    }
    config.http_override = Some(HttpOverride {
        matches: "DeleteMessages".into(),
        status: 500,
        headers: Vec::new(),
        body: Vec::new(),
    });
    let server = TestServer::start(config).unwrap();
    let plugins = PluginDir::new();
    let (mut a, mut b) = (
        accounts::stub(&plugins, false),
        accounts::stub(&plugins, false),
    );
    online(&mut a, &server, &[ALICE], 15);
    send(&mut a, ALICE, BOB, "stored once");
    a.wait_for(STEP, |e| {
        e["event"] == "write" && e["message"].as_str().is_some_and(|m| m.contains("stored"))
    });

    online(&mut b, &server, &[BOB], 15);
    wait_deletes(&server, 1);
    b.send(&format!("disable {}", pct(BOB)));
    b.send(&format!("enable {}", pct(BOB)));
    b.wait_for(STEP, |e| e["event"] == "signed-on" && e["account"] == BOB);
    wait_deletes(&server, 2);
    ns_barrier(&server, &mut b, BOB);
    let shown = b
        .events_seen()
        .iter()
        .filter(|e| {
            e["event"] == "im" && text_of(e["message"].as_str().unwrap_or("")) == "stored once"
        })
        .count();
    assert_eq!(shown, 1, "shown again after the next sign-in");
    assert_eq!(server.offline_messages(BOB), 1, "the server kept it");
    assert!(a.quit().success());
    assert!(b.quit().success());
}
