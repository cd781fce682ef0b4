//! Ink, winks and voice clips through purple-stub on real libpurple, sent by a raw peer on the
//! test server's switchboard at MSNP12 and MSNP18: ink as a GIF (in a switchboard message, and
//! over P2P in session 64 as Windows Live Messenger sends it to one contact) is shown inline
//! through libpurple's image store; ISF ink, unreadable ink, winks and voice clips are shown as
//! a notice naming what arrived and who sent it.

mod common;

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::accounts;
use common::conversations::{assert_healthy, next_im, online, send, server, ALICE, BOB, STEP};
use common::stub::Stub;
use msnp::p2p::{app_id, flags, Outgoing, Packet, SbP2p};
use msnp_testserver::{Event, Service, TestServer};
use serde_json::Value;

/// A 1×1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Injects a switchboard `MSG` from Alice (shown as "Alice") into Bob's switchboard.
fn inject(server: &TestServer, payload: &[u8]) {
    let mut raw = format!("MSG {ALICE} Alice {}\r\n", payload.len()).into_bytes();
    raw.extend_from_slice(payload);
    assert!(server.sb_inject(BOB, &raw) > 0, "Bob has a switchboard");
}

/// Sends `body` from Alice to Bob as one P2P message in session 64 (chunked), as Windows Live
/// Messenger sends ink.
fn inject_p2p_ink(server: &TestServer, id: u32, body: Vec<u8>) {
    let mut out = Outgoing::new(64, id, 0x5151, flags::NONE, Arc::from(body), app_id::SLP);
    while let Some(packet) = out.next_chunk() {
        let mut payload = format!(
            "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: {BOB}\r\n\r\n"
        )
        .into_bytes();
        payload.extend(packet.encode());
        inject(server, &payload);
    }
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Acks Bob's plugin sent for P2P message `id`.
fn acks_of(server: &TestServer, id: u32) -> usize {
    server
        .transcript()
        .into_iter()
        .filter(|e| e.service == Service::Sb && e.event == Event::Received)
        .filter_map(|e| SbP2p::parse(e.payload.as_deref()?))
        .filter_map(|p| Packet::parse(&p.packet).ok())
        .filter(|p| p.header.is_ack() && p.header.ack_id == id)
        .count()
}

/// Waits for a system line in Bob's conversation with Alice containing every word of `words`.
fn notice(stub: &mut Stub, words: &[&str]) -> String {
    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let event = stub.wait_for(STEP, move |e| {
        e["event"] == "write"
            && e["account"] == BOB
            && e["conversation"] == ALICE
            && e["flags"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == "system"))
            && words.iter().all(|w| {
                e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(w.as_str()))
            })
    });
    event["message"].as_str().unwrap().to_owned()
}

/// The one image of a received IM, checked to be `gif` and stored in libpurple's image store.
fn assert_inline(im: &Value, gif: &[u8]) {
    let images = im["images"].as_array().expect("images listed");
    assert_eq!(images.len(), 1, "{im}");
    assert_eq!(images[0]["hex"], hex(gif), "the GIF Alice drew");
    assert_eq!(images[0]["size"], gif.len());
    let id = images[0]["id"].as_i64().unwrap();
    let html = im["message"].as_str().unwrap().to_ascii_lowercase();
    assert!(html.contains(&format!("<img id=\"{id}\">")), "{html}");
    assert!(im["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "images"));
}

fn media_shown(version: u32) {
    let server = server();
    let plugins = common::plugin::PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB], version);
    send(&mut stub, ALICE, BOB, "hello");
    next_im(&mut stub, BOB, ALICE);

    // Ink as a GIF in a switchboard message.
    let body = format!(
        "MIME-Version: 1.0\r\nContent-Type: image/gif\r\n\r\nbase64:{}",
        BASE64.encode(GIF)
    );
    inject(&server, body.as_bytes());
    assert_inline(&next_im(&mut stub, BOB, ALICE), GIF);

    // Ink as a GIF over P2P, in several chunks: shown and acknowledged once.
    let mut big = GIF.to_vec();
    big.extend((0..3000u32).map(|i| (i * 7 % 251) as u8));
    let mut ink = utf16("MIME-Version: 1.0\r\nContent-Type: image/gif\r\n\r\n");
    ink.extend([0, 0]);
    ink.extend(utf16(&format!("base64:{}", BASE64.encode(&big))));
    ink.extend([0, 0]);
    assert!(ink.len() > 2 * msnp::p2p::MAX_CHUNK);
    inject_p2p_ink(&server, 4242, ink);
    assert_inline(&next_im(&mut stub, BOB, ALICE), &big);
    stub.sync();
    assert_eq!(acks_of(&server, 4242), 1, "the ink is acknowledged once");

    // What cannot be shown is named, with its sender.
    inject(
        &server,
        b"MIME-Version: 1.0\r\nContent-Type: application/x-ms-ink\r\n\r\nbase64:AAECAw==",
    );
    notice(&mut stub, &["Alice", "ink", "ISF"]);
    inject(
        &server,
        b"MIME-Version: 1.0\r\nContent-Type: image/gif\r\n\r\nbase64:not*base64",
    );
    notice(&mut stub, &["Alice", "ink", "could not be read"]);
    let mut odd = utf16("Content-Type: text/plain\r\n\r\n");
    odd.extend([0, 0, b'x', 0]);
    inject_p2p_ink(&server, 4243, odd);
    notice(&mut stub, &[ALICE, "ink", "could not be read"]);
    let object = "<msnobj Creator=\"alice@example.com\" Size=\"10\" Type=\"8\" Location=\"w.cab\" Friendly=\"AAA=\" SHA1D=\"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\"/>";
    let wink = format!(
        "MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 2\r\nData: {object}\r\n\r\n"
    );
    inject(&server, wink.as_bytes());
    notice(&mut stub, &["Alice", "wink"]);
    let voice = wink
        .replace("ID: 2", "ID: 3")
        .replace("Type=\"8\"", "Type=\"11\"");
    inject(&server, voice.as_bytes());
    notice(&mut stub, &["Alice", "voice clip"]);

    send(&mut stub, ALICE, BOB, "still talking");
    next_im(&mut stub, BOB, ALICE);
    assert_healthy(&mut stub);
}

#[test]
fn msnp12_ink_winks_and_voice_clips_are_shown() {
    media_shown(12);
}

#[test]
fn msnp18_ink_winks_and_voice_clips_are_shown() {
    media_shown(18);
}
