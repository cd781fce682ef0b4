//! Custom emoticons through purple-stub on real libpurple against the project's test server, at
//! MSNP12 and MSNP18: Bob puts a custom smiley in his store and uses it; his plugin declares it
//! (`text/x-mms-emoticon`) before the text, Alice's libpurple gets the smiley added before the
//! text is written, the text at once, then the image (fetched over P2P, the same bytes); used
//! again it is not fetched again; and the same the other way. In a group chat, everyone gets
//! the sender's image.

mod common;

use common::accounts;
use common::conversations::{
    assert_healthy, chat_event, next_chat_message, next_im, online, send, send_chat, server,
    text_of, ALICE, BOB, CAROL, STEP,
};
use common::plugin::PluginDir;
use common::stub::{pct, Stub};
use msnp::p2p::MsnObject;
use msnp_testserver::{Event, Service, TestServer};
use serde_json::Value;

/// An image of several P2P chunks (a GIF header, then filler bytes).
fn image(seed: u32) -> Vec<u8> {
    let mut data = b"GIF89a".to_vec();
    data.extend((0..3000u32).map(|i| (i * seed % 251) as u8));
    data
}

/// The base64 SHA-1 of `data` (an MSNObject's `SHA1D`).
fn sha1d(data: &[u8]) -> String {
    MsnObject::new("x@example.com", 2, "x", "", data).sha1d
}

/// Puts `data` in `stub`'s custom smiley store under `shortcut`.
fn add_smiley(stub: &mut Stub, shortcut: &str, data: &[u8]) {
    let file = stub.user_dir().join(format!("smiley-{}.gif", data.len()));
    std::fs::write(&file, data).unwrap();
    stub.send(&format!(
        "add-smiley {} {}",
        pct(shortcut),
        pct(file.to_str().unwrap())
    ));
    stub.wait_event(STEP, "smiley-added");
}

/// Position of the last event `stub` reported that matches `pred`.
fn last(stub: &mut Stub, pred: impl Fn(&Value) -> bool) -> usize {
    stub.events_seen().iter().rposition(pred).unwrap()
}

/// The switchboard payloads relayed from `sender`, in order: emoticon declarations and texts.
fn sent_kinds(server: &TestServer, sender: &str) -> Vec<&'static str> {
    let relayed = format!("MSG {sender} ");
    server
        .transcript()
        .into_iter()
        .filter(|e| e.service == Service::Sb && e.event == Event::Sent)
        .filter(|e| e.line.starts_with(&relayed))
        .filter_map(|e| {
            let payload = String::from_utf8_lossy(e.payload.as_deref()?).into_owned();
            if payload.contains("Content-Type: text/x-mms-emoticon") {
                Some("emoticons")
            } else if payload.contains("Content-Type: text/plain") {
                Some("text")
            } else {
                None
            }
        })
        .collect()
}

/// `account` got `shortcut` in the conversation with `from`: the smiley is added before the
/// text is written, then the image is written; one that is `fetched` comes after the text (the
/// peer's answers follow its text on the switchboard), which was not held back for it.
/// Returns the `custom-smiley` event.
fn received(
    stub: &mut Stub,
    (account, from): (&str, &str),
    shortcut: &str,
    text: &str,
    fetched: bool,
) -> Value {
    let (a, s) = (account.to_owned(), shortcut.to_owned());
    let is_added = move |e: &Value| {
        e["event"] == "custom-smiley-added"
            && e["account"] == a.as_str()
            && e["shortcut"] == s.as_str()
            && e["remote"] == true
    };
    let added = stub.wait_for(STEP, &is_added);
    assert_eq!(added["conversation"], from);
    let im = next_im(stub, account, from);
    assert_eq!(text_of(im["message"].as_str().unwrap()), text);
    let (a, s) = (account.to_owned(), shortcut.to_owned());
    let is_smiley = move |e: &Value| {
        e["event"] == "custom-smiley" && e["account"] == a.as_str() && e["shortcut"] == s.as_str()
    };
    let smiley = stub.wait_for(STEP, &is_smiley);
    let is_im = |e: &Value| e["event"] == "im";
    let (added, im, written) = (
        last(stub, is_added),
        last(stub, is_im),
        last(stub, is_smiley),
    );
    assert!(added < im, "the smiley is added before the text is written");
    assert!(
        !fetched || im < written,
        "the text is not held back for the image"
    );
    smiley
}

fn round_trip(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut alice = accounts::stub(&plugins, false);
    let mut bob = accounts::stub(&plugins, false);
    online(&mut alice, &server, &[ALICE], version);
    online(&mut bob, &server, &[BOB], version);

    let tux = image(7);
    add_smiley(&mut bob, "(tux)", &tux);
    send(&mut bob, BOB, ALICE, "look (tux)!");
    let smiley = received(&mut alice, (ALICE, BOB), "(tux)", "look (tux)!", true);
    assert_eq!(smiley["size"], tux.len());
    assert_eq!(smiley["sha1"], sha1d(&tux).as_str(), "the bytes Bob has");
    assert_eq!(server.p2p_invites(), 1);
    assert_eq!(sent_kinds(&server, BOB), ["emoticons", "text"]);

    // Used again: shown from what Alice's plugin has, not fetched again.
    send(&mut bob, BOB, ALICE, "(tux) again");
    let smiley = received(&mut alice, (ALICE, BOB), "(tux)", "(tux) again", false);
    assert_eq!(smiley["sha1"], sha1d(&tux).as_str());
    assert_eq!(server.p2p_invites(), 1, "no second fetch");

    // A text without it declares nothing.
    send(&mut bob, BOB, ALICE, "plain");
    next_im(&mut alice, ALICE, BOB);
    assert_eq!(
        sent_kinds(&server, BOB),
        ["emoticons", "text", "emoticons", "text", "text"]
    );

    // The other way.
    let cat = image(11);
    add_smiley(&mut alice, "(cat)", &cat);
    send(&mut alice, ALICE, BOB, "a (cat) for you");
    let smiley = received(&mut bob, (BOB, ALICE), "(cat)", "a (cat) for you", true);
    assert_eq!(smiley["sha1"], sha1d(&cat).as_str(), "the bytes Alice has");
    assert_eq!(server.p2p_invites(), 2);

    assert_healthy(&mut alice);
    assert_healthy(&mut bob);
    assert!(server.violations().is_empty(), "{:?}", server.violations());
    // Under `make memcheck` the exit status carries valgrind's verdict.
    assert!(alice.quit().success());
    assert!(bob.quit().success());
}

#[test]
fn msnp12_custom_emoticons_go_both_ways_and_are_fetched_once() {
    round_trip(12);
}

#[test]
fn msnp18_custom_emoticons_go_both_ways_and_are_fetched_once() {
    round_trip(18);
}

#[test]
fn a_custom_emoticon_in_a_group_chat_reaches_everyone() {
    let server = server();
    let plugins = PluginDir::new();
    // One libpurple, so one smiley store: Alice's smiley is the one she sends.
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB, CAROL], 12);
    stub.send(&format!("join-chat {} invite={}", pct(ALICE), pct(BOB)));
    let chat = chat_event(&mut stub, ALICE, "chat-joined")["chat_id"]
        .as_i64()
        .unwrap();
    chat_event(&mut stub, ALICE, "chat-buddies");
    stub.send(&format!("chat-invite {} {chat} {}", pct(ALICE), pct(CAROL)));
    stub.wait_for(STEP, |e| {
        e["event"] == "chat-buddies"
            && e["account"] == ALICE
            && e["joined"] == serde_json::json!([CAROL])
    });
    chat_event(&mut stub, BOB, "chat-joined");

    let tux = image(5);
    add_smiley(&mut stub, "(tux)", &tux);
    send_chat(&mut stub, ALICE, chat, "all see (tux)");
    for who in [BOB, CAROL] {
        let message = next_chat_message(&mut stub, who, ALICE);
        assert_eq!(
            text_of(message["message"].as_str().unwrap()),
            "all see (tux)"
        );
        let smiley = stub.wait_for(STEP, move |e| {
            e["event"] == "custom-smiley" && e["account"] == who
        });
        assert_eq!(smiley["shortcut"], "(tux)");
        assert_eq!(
            smiley["sha1"],
            sha1d(&tux).as_str(),
            "{who} got Alice's bytes"
        );
    }
    assert_eq!(server.p2p_invites(), 2, "one fetch each");
    assert_healthy(&mut stub);
    assert!(server.violations().is_empty(), "{:?}", server.violations());
    assert!(stub.quit().success());
}
