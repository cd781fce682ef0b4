//! Conversations through purple-stub on real libpurple against the project's test server, at
//! MSNP12 and MSNP18: IMs both ways, formatting, long messages, typing, nudges, group chats,
//! offline messages, a switchboard lost mid-conversation, and hostile payloads.

mod common;

use std::time::{Duration, Instant};

use common::accounts::{self, Login};
use common::conversations::{
    assert_healthy, chat_event, chat_opened_with, is_write, next_chat_message, next_im, online,
    send, send_chat, server, start_chat, text_of, ALICE, BOB, CAROL, STEP,
};
use common::plugin::PluginDir;
use common::stub::pct;
use msnp_testserver::Service;

fn im_both_ways_with_formatting(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB], version);

    send(&mut stub, ALICE, BOB, "Grüße ☃ &lt;&amp;&gt; from Alice");
    let im = next_im(&mut stub, BOB, ALICE);
    assert_eq!(
        text_of(im["message"].as_str().unwrap()),
        "Grüße ☃ <&> from Alice",
        "{im}"
    );
    send(&mut stub, BOB, ALICE, "Привет, 你好 👋");
    let im = next_im(&mut stub, ALICE, BOB);
    assert_eq!(text_of(im["message"].as_str().unwrap()), "Привет, 你好 👋");

    // Formatting: face, colour and effects survive the X-MMS-IM-Format round trip; a hostile
    // face cannot inject markup.
    send(
        &mut stub,
        ALICE,
        BOB,
        "<font face=\"Comic Sans MS\" color=\"#ff8000\"><b><i><u>styled</u></i></b></font>",
    );
    let im = next_im(&mut stub, BOB, ALICE);
    let html = im["message"].as_str().unwrap();
    for part in ["<b>", "<i>", "<u>", "face=\"Comic Sans MS\"", "#ff8000"] {
        assert!(
            html.to_ascii_lowercase()
                .contains(&part.to_ascii_lowercase()),
            "{part} in {html}"
        );
    }
    assert_eq!(text_of(html), "styled");
    send(
        &mut stub,
        BOB,
        ALICE,
        "<font face='x\"&gt;&lt;script&gt;'>plain</font>",
    );
    let im = next_im(&mut stub, ALICE, BOB);
    let html = im["message"].as_str().unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(text_of(html), "plain");

    // A 5,000-character message arrives whole (split into parts that fit a switchboard MSG).
    let long: String = (0..5000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect::<String>()
        .chars()
        .enumerate()
        .map(|(i, c)| if i % 50 == 49 { ' ' } else { c })
        .collect();
    send(&mut stub, ALICE, BOB, &long);
    let mut received = String::new();
    while received.len() < long.len() {
        let im = next_im(&mut stub, BOB, ALICE);
        received.push_str(&text_of(im["message"].as_str().unwrap()));
    }
    assert_eq!(received, long);
    assert!(
        server
            .transcript()
            .iter()
            .filter(|e| e.service == Service::Sb && e.line.starts_with("MSG "))
            .all(|e| e.payload.as_ref().is_none_or(|p| p.len() <= 1664)),
        "every MSG fits the switchboard limit"
    );
    assert_healthy(&mut stub);
    assert!(stub.quit().success());
}

#[test]
fn ims_formatting_and_long_messages_at_msnp12() {
    im_both_ways_with_formatting(12);
}

#[test]
fn ims_formatting_and_long_messages_at_msnp18() {
    im_both_ways_with_formatting(18);
}

fn typing_and_nudges(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    // The plugin's typing timeout (6 s) passes in 1.5 s.
    let mut stub = accounts::fast_stub(&plugins, false, 4);
    online(&mut stub, &server, &[ALICE, BOB], version);
    send(&mut stub, ALICE, BOB, "hi");
    next_im(&mut stub, BOB, ALICE);

    stub.send(&format!("typing {} {} typing", pct(ALICE), pct(BOB)));
    let started = Instant::now();
    stub.wait_for(STEP, |e| {
        e["event"] == "typing" && e["account"] == BOB && e["who"] == ALICE && e["state"] == "typing"
    });
    stub.wait_for(STEP, |e| {
        e["event"] == "typing" && e["account"] == BOB && e["who"] == ALICE && e["state"] == "none"
    });
    assert!(
        started.elapsed() >= Duration::from_secs(4) / stub.time_scale(),
        "typing stopped too early"
    );

    stub.send(&format!("attention {} {}", pct(BOB), pct(ALICE)));
    stub.wait_for(STEP, |e| {
        e["event"] == "attention" && e["account"] == ALICE && e["who"] == BOB
    });
    assert_healthy(&mut stub);
    assert!(stub.quit().success());
}

#[test]
fn typing_and_nudges_at_msnp12() {
    typing_and_nudges(12);
}

#[test]
fn typing_and_nudges_at_msnp18() {
    typing_and_nudges(18);
}

fn three_party_chat(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB, CAROL], version);

    let chat = start_chat(&mut stub, ALICE, BOB);
    stub.send(&format!("chat-invite {} {chat} {}", pct(ALICE), pct(CAROL)));
    // Carol is invited into a switchboard with two people: a chat for her from the start;
    // Bob's one-to-one conversation becomes a chat when Carol joins.
    let carol_chat = chat_event(&mut stub, CAROL, "chat-joined")["chat_id"]
        .as_i64()
        .unwrap();
    let bob_chat = chat_event(&mut stub, BOB, "chat-joined")["chat_id"]
        .as_i64()
        .unwrap();
    stub.wait_for(STEP, |e| {
        e["event"] == "chat-buddies"
            && e["account"] == ALICE
            && e["joined"] == serde_json::json!([CAROL])
    });

    send_chat(&mut stub, ALICE, chat, "hello both ☃");
    for who in [BOB, CAROL] {
        let message = next_chat_message(&mut stub, who, ALICE);
        assert_eq!(
            text_of(message["message"].as_str().unwrap()),
            "hello both ☃"
        );
    }
    send_chat(&mut stub, CAROL, carol_chat, "hi from carol");
    for who in [ALICE, BOB] {
        next_chat_message(&mut stub, who, CAROL);
    }
    // Carol sees her own message once, as sent.
    stub.wait_for(STEP, |e| {
        e["event"] == "chat-message" && e["account"] == CAROL && e["from"] == CAROL
    });

    stub.send(&format!("chat-leave {} {chat}", pct(ALICE)));
    for who in [BOB, CAROL] {
        stub.wait_for(STEP, move |e| {
            e["event"] == "chat-buddies"
                && e["account"] == who
                && e["left"] == serde_json::json!([ALICE])
        });
    }
    send_chat(&mut stub, BOB, bob_chat, "alice left");
    stub.wait_for(STEP, |e| {
        e["event"] == "chat-message" && e["account"] == CAROL && e["from"] == BOB
    });
    assert_healthy(&mut stub);
    assert!(stub.quit().success());
}

#[test]
fn three_party_chat_at_msnp12() {
    three_party_chat(12);
}

#[test]
fn three_party_chat_at_msnp18() {
    three_party_chat(18);
}

/// Opening a window is enough for the contact to be invited (the seed's behaviour): the
/// switchboard is up before anything is typed.
#[test]
fn opening_a_conversation_invites_the_contact_at_once() {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB], 18);
    stub.send(&format!("open-im {} {}", pct(ALICE), pct(BOB)));
    let deadline = Instant::now() + STEP;
    loop {
        let joined = server.transcript().iter().any(|e| {
            e.service == Service::Sb
                && e.event == msnp_testserver::Event::Sent
                && e.line.starts_with("JOI bob@example.com ")
        });
        if joined {
            break;
        }
        assert!(Instant::now() < deadline, "Bob never joined");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A barrier through the switchboard: whatever Alice had sent on it reaches Bob before her
    // typing notification does. The server has sent `JOI` but Alice's plugin may not have read
    // it yet, and until then it drops typing notices; so the notice is repeated (bounded).
    let typed = (0..20).any(|_| {
        stub.send(&format!("typing {} {} typing", pct(ALICE), pct(BOB)));
        stub.wait_for_within(Duration::from_millis(500), |e| {
            e["event"] == "typing" && e["account"] == BOB && e["who"] == ALICE
        })
        .is_some()
    });
    assert!(typed, "Alice's typing notice never reached Bob");
    assert!(
        !stub.events_seen().iter().any(|e| e["event"] == "im"),
        "nothing was sent"
    );
    // Closing the window leaves the switchboard.
    stub.send(&format!("close-im {} {}", pct(ALICE), pct(BOB)));
    let deadline = Instant::now() + STEP;
    while !server
        .transcript()
        .iter()
        .any(|e| e.service == Service::Sb && e.line == "BYE alice@example.com")
    {
        assert!(Instant::now() < deadline, "Alice never left");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_healthy(&mut stub);
    assert!(stub.quit().success());
}

/// A window opened while the account is still signing in (Finch lets the user open one as soon
/// as the account has a connection; UI scripts do it right after enabling the account) gets its
/// switchboard once signed in: the contact is invited without anything typed.
#[test]
fn a_conversation_opened_while_signing_in_invites_the_contact_once_signed_in() {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[BOB], 18);
    accounts::sign_in(&mut stub, &server, ALICE, "alicepass", 18, Login::Https);
    stub.send(&format!("open-im {} {}", pct(ALICE), pct(BOB)));
    let first = stub.wait_for(STEP, |e| {
        e["account"] == ALICE && (e["event"] == "conversation-created" || e["event"] == "signed-on")
    });
    assert_eq!(
        first["event"], "conversation-created",
        "the window must open before Alice is signed in: {first}"
    );
    assert_eq!(accounts::outcome(&mut stub, ALICE)["event"], "signed-on");
    let deadline = Instant::now() + STEP;
    while !server.transcript().iter().any(|e| {
        e.service == Service::Sb
            && e.event == msnp_testserver::Event::Sent
            && e.line.starts_with("JOI bob@example.com ")
    }) {
        assert!(Instant::now() < deadline, "Bob was never invited");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !stub.events_seen().iter().any(|e| e["event"] == "im"),
        "nothing was sent"
    );
    assert_healthy(&mut stub);
    assert!(stub.quit().success());
}

/// A switchboard that vanishes with a message written and not acknowledged: the message may
/// have arrived, so it is reported with its text and not sent again (docs/protocol.md §7.9);
/// the conversation goes on on a new switchboard and nothing arrives twice.
fn dropped_switchboard(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB], version);
    send(&mut stub, ALICE, BOB, "before");
    next_im(&mut stub, BOB, ALICE);
    server.sb_drop_next_message(ALICE);
    send(&mut stub, ALICE, BOB, "swallowed by the drop");
    let report = stub.wait_for(STEP, |e| is_write(e, ALICE, "error"));
    assert!(
        text_of(report["message"].as_str().unwrap()).ends_with("swallowed by the drop"),
        "{report}"
    );
    send(&mut stub, ALICE, BOB, "after");
    let im = next_im(&mut stub, BOB, ALICE);
    assert_eq!(text_of(im["message"].as_str().unwrap()), "after");
    // A copy sent before "after" would have arrived before it; one shown since, before this.
    stub.sync();
    let ims: Vec<String> = stub
        .events_seen()
        .iter()
        .filter(|e| e["event"] == "im" && e["account"] == BOB)
        .map(|e| text_of(e["message"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(ims, ["before", "after"], "the swallowed one never arrived");
    let reports = stub
        .events_seen()
        .iter()
        .filter(|e| is_write(e, ALICE, "error"))
        .count();
    assert_eq!(reports, 1, "reported once");
    assert_healthy(&mut stub);
    assert!(stub.quit().success());
}

#[test]
fn a_dropped_switchboard_loses_nothing_at_msnp12() {
    dropped_switchboard(12);
}

#[test]
fn a_dropped_switchboard_loses_nothing_at_msnp18() {
    dropped_switchboard(18);
}

/// Bob is offline: the text is stored and shown to him once, with its time, at his next
/// sign-in (and not at the one after); at MSNP8 (no offline messages) Alice is told it was
/// not delivered.
fn offline_messages_are_stored_and_delivered_exactly_once(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE], version);
    send(&mut stub, ALICE, BOB, "while you were out ✉");
    let notice = stub.wait_for(STEP, |e| {
        is_write(e, ALICE, "system") && e["message"].as_str().unwrap_or("").contains("stored")
            || is_write(e, ALICE, "error")
    });
    assert!(is_write(&notice, ALICE, "system"), "{notice}");
    assert_eq!(server.offline_messages(BOB), 1);
    let sent_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    let mut bob = accounts::stub(&plugins, false);
    online(&mut bob, &server, &[BOB], version);
    let im = next_im(&mut bob, BOB, ALICE);
    assert_eq!(
        text_of(im["message"].as_str().unwrap()),
        "while you were out ✉"
    );
    assert!(
        im["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "delayed"),
        "{im}"
    );
    assert!(
        (im["timestamp"].as_i64().unwrap() - sent_at).abs() <= 5,
        "{im}"
    );
    let deadline = Instant::now() + STEP;
    while server.offline_messages(BOB) != 0 {
        assert!(Instant::now() < deadline, "never deleted");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(bob.quit().success());

    let mut again = accounts::stub(&plugins, false);
    online(&mut again, &server, &[BOB], version);
    // The sign-in's `Mail-Data` has been processed: a message it announced is being fetched or
    // shown already.
    accounts::ns_barrier(&server, &mut again, BOB);
    assert!(
        !again.events_seen().iter().any(|e| e["event"] == "im"),
        "delivered twice"
    );
    assert!(again.quit().success());
    assert!(stub.quit().success());
}

#[test]
fn offline_messages_are_stored_and_delivered_exactly_once_at_msnp12() {
    offline_messages_are_stored_and_delivered_exactly_once(12);
}

#[test]
fn offline_messages_are_stored_and_delivered_exactly_once_at_msnp18() {
    offline_messages_are_stored_and_delivered_exactly_once(18);
}

#[test]
fn an_offline_contact_at_msnp8_gets_the_message_reported_as_not_delivered() {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE], 8);
    send(&mut stub, ALICE, BOB, "nobody home");
    let report = stub.wait_for(STEP, |e| is_write(e, ALICE, "error"));
    assert!(
        report["message"].as_str().unwrap().contains("nobody home"),
        "{report}"
    );
    assert!(stub.quit().success());
}

/// A peer's malformed `MSG`s (missing headers, wrong lengths, bad charsets, odd content types)
/// are shown safely or ignored; the conversation goes on.
fn hostile_payloads(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB], version);
    send(&mut stub, ALICE, BOB, "hello");
    next_im(&mut stub, BOB, ALICE);
    let payloads: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"no headers at all".to_vec(),
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nweird charset".to_vec(),
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nbad \xff\xfe bytes".to_vec(),
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Length: 99999\r\nX-MMS-IM-Format: FN=%22%3E%3Cscript%3E; EF=Z; CO=zz\r\n\r\n<script>x</script>".to_vec(),
        b"MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\n\r\n\x00\x01\x02".to_vec(),
        b"MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 99999999999999999999".to_vec(),
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nMessage-ID: {1}\r\nChunks: 999999\r\n\r\nx".to_vec(),
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nMessage-ID: {2}\r\nChunk: 3\r\n\r\ny".to_vec(),
        b"Content-Type: \r\n\r\n\r\n\r\n".to_vec(),
    ];
    let mut raw = Vec::new();
    for payload in &payloads {
        raw.extend_from_slice(
            format!("MSG alice@example.com Alice {}\r\n", payload.len()).as_bytes(),
        );
        raw.extend_from_slice(payload);
    }
    raw.extend_from_slice(b"MSG alice@example.com Alice notanumber\r\nJOI\r\nBYE %00\r\n");
    assert!(server.sb_inject(BOB, &raw) > 0);
    send(&mut stub, ALICE, BOB, "still talking");
    let deadline = Instant::now() + STEP;
    loop {
        let im = next_im(&mut stub, BOB, ALICE);
        let html = im["message"].as_str().unwrap().to_owned();
        assert!(!html.contains("<script"), "{html}");
        if text_of(&html) == "still talking" {
            break;
        }
        assert!(Instant::now() < deadline);
    }
    assert_healthy(&mut stub);
    assert!(stub.quit().success());
}

#[test]
fn hostile_payloads_never_break_a_conversation_at_msnp12() {
    hostile_payloads(12);
}

#[test]
fn hostile_payloads_never_break_a_conversation_at_msnp18() {
    hostile_payloads(18);
}

/// "Initiate Chat" in a buddy's menu opens a chat with the buddy invited.
#[test]
fn initiate_chat_from_the_buddy_menu() {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB], 12);
    stub.send(&format!("add-buddy {} {}", pct(ALICE), pct(BOB)));
    stub.send(&format!(
        "buddy-menu {} {} Initiate Chat",
        pct(ALICE),
        pct(BOB)
    ));
    let chat = chat_opened_with(&mut stub, ALICE, BOB);
    send_chat(&mut stub, ALICE, chat, "a chat");
    // With only Bob in it, Bob sees a one-to-one conversation.
    let im = next_im(&mut stub, BOB, ALICE);
    assert_eq!(text_of(im["message"].as_str().unwrap()), "a chat");
    assert!(!stub
        .events_seen()
        .iter()
        .any(|e| e["event"] == "error" && e["command"] == "buddy-menu"));
    assert_healthy(&mut stub);
    assert!(stub.quit().success());
}
