//! The hostile-peer suite, P2P part: a raw peer on a switchboard sends malformed or abusive
//! P2P packets (MSNSLP over `application/x-msnmsgrp2p`) to Bob's real plugin through the test
//! server. After each, a well-formed probe INVITE must still be answered (the barrier: the
//! switchboard is read in order), the conversation must still work, and the specific
//! consequence holds: nothing acknowledged, a `500`, a `603`, no icon set, or a file
//! transfer that ends cancelled rather than complete. Custom emoticon declarations from the raw
//! peer: the text is shown, bad entries are neither added nor asked for, and an image that does
//! not match its `SHA1D` is never shown. Direct connections: garbage transport upgrades are
//! declined, a direct peer with a wrong nonce, random bytes or silence is dropped while the
//! switchboard carries the data, and addresses that refuse or never answer fall back to it; a
//! well-behaved peer with a `Hashed-Nonce` gets its data taken over the direct connection.

mod common;

use common::accounts;
use common::conversations::{
    assert_healthy, next_im, online, send, server, text_of, ALICE, BOB, CAROL, STEP,
};
use common::plugin::PluginDir;
use common::stub::{pct, Stub};
use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;

use msnp::p2p::slp::{
    Invite, InviteRequest, Method, StartLine, EUF_GUID_FILE, EUF_GUID_OBJECT, TRANS_REQ, TRANS_RESP,
};
use msnp::p2p::transreq::{listening_addresses, Nonce};
use msnp::p2p::{app_id, flags, FileContext, Header, MsnObject, Packet, SbP2p, SlpMessage};
use msnp_testserver::client::{Online, Switchboard};
use msnp_testserver::{Event, Service, TestServer};

/// Alice and Bob in one conversation at MSNP12, Bob's switchboard open.
fn conversation() -> (TestServer, Stub, PluginDir) {
    conversation_at(12)
}

/// [`conversation`] at `version`.
fn conversation_at(version: u32) -> (TestServer, Stub, PluginDir) {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB], version);
    send(&mut stub, ALICE, BOB, "hello");
    next_im(&mut stub, BOB, ALICE);
    (server, stub, plugins)
}

/// The `MSG` bytes of a P2P payload from Alice to Bob carrying `packet`.
fn msg(packet: &[u8]) -> Vec<u8> {
    let mut payload = format!(
        "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: {BOB}\r\n\r\n"
    )
    .into_bytes();
    payload.extend_from_slice(packet);
    let mut raw = format!("MSG {ALICE} Alice {}\r\n", payload.len()).into_bytes();
    raw.extend_from_slice(&payload);
    raw
}

/// Injects raw switchboard bytes from Alice into Bob's switchboard.
fn inject(server: &TestServer, raw: &[u8]) {
    assert!(server.sb_inject(BOB, raw) > 0, "Bob has a switchboard");
}

/// One whole packet with message id `id` in session `session_id` carrying `payload`.
fn packet(session_id: u32, id: u32, payload: &[u8]) -> Vec<u8> {
    Packet {
        header: Header {
            session_id,
            id,
            total_size: payload.len() as u64,
            length: payload.len() as u32,
            ack_id: 0x1234_5678,
            ..Header::default()
        },
        payload: payload.to_vec(),
        app_id: app_id::SLP,
    }
    .encode()
}

/// A GUID (without braces) numbered `n`.
fn guid(n: u32) -> String {
    format!("{n:08X}-0000-4000-8000-000000000000")
}

/// A well-formed INVITE from Alice for an object of hers with call number `n`.
fn invite(n: u32, context: &[u8]) -> Vec<u8> {
    InviteRequest {
        to: BOB,
        from: ALICE,
        branch: guid(n + 1_000_000),
        call_id: guid(n),
        invite: Invite {
            euf_guid: EUF_GUID_OBJECT.into(),
            session_id: 1000 + n,
            app_id: app_id::DISPLAY_PICTURE,
            context: context.to_vec(),
        },
    }
    .message()
    .encode()
}

/// An MSNObject of Alice's whose data Bob does not serve.
fn foreign_object(location: &str) -> String {
    MsnObject::new(ALICE, 3, location, "", b"not bob's picture").to_xml() + "\0"
}

/// An INVITE as text, headers as given, with `body` and a `Content-Length` of `length`.
fn raw_invite(headers: &str, body: &str, length: usize) -> Vec<u8> {
    format!(
        "INVITE MSNMSGR:{BOB} MSNSLP/1.0\r\nTo: <msnmsgr:{BOB}>\r\nFrom: <msnmsgr:{ALICE}>\r\nVia: MSNSLP/1.0/TLP ;branch={{{}}}\r\nCSeq: 0 \r\n{headers}Max-Forwards: 0\r\nContent-Type: application/x-msnmsgr-sessionreqbody\r\nContent-Length: {length}\r\n\r\n{body}",
        guid(7_777)
    )
    .into_bytes()
}

/// An INVITE body asking for an object, `Context` as given.
fn invite_body(session_id: u32, context: &str) -> String {
    format!("EUF-GUID: {EUF_GUID_OBJECT}\r\nSessionID: {session_id}\r\nAppID: 1\r\nContext: {context}\r\n\r\n\0")
}

/// Every P2P packet Bob's plugin sent to Alice so far.
fn sent_by_bob(server: &TestServer) -> Vec<Packet> {
    server
        .transcript()
        .into_iter()
        .filter(|e| {
            e.service == Service::Sb && e.event == Event::Received && e.line.starts_with("MSG ")
        })
        .filter_map(|e| SbP2p::parse(e.payload.as_deref()?))
        .filter(|p| {
            p.dest
                .as_deref()
                .is_some_and(|d| msnp::p2p::slp::bare_address(d) == ALICE)
        })
        .filter_map(|p| Packet::parse(&p.packet).ok())
        .collect()
}

/// The MSNSLP messages among `packets` (single-chunk, as Bob's answers are).
fn slp_of(packets: &[Packet]) -> Vec<SlpMessage> {
    packets
        .iter()
        .filter(|p| p.header.session_id == 0 && !p.header.is_ack())
        .filter_map(|p| SlpMessage::parse(&p.payload).ok())
        .collect()
}

/// Answers (status code) Bob sent for the call `call_id`.
fn answers(server: &TestServer, call_id: &str) -> Vec<u16> {
    slp_of(&sent_by_bob(server))
        .into_iter()
        .filter(|m| m.call_id.eq_ignore_ascii_case(call_id))
        .filter_map(|m| match m.start {
            StartLine::Response { code, .. } => Some(code),
            _ => None,
        })
        .collect()
}

/// Acknowledgements Bob sent for Alice's message `id`.
fn acks_of(server: &TestServer, id: u32) -> usize {
    sent_by_bob(server)
        .iter()
        .filter(|p| p.header.is_ack() && p.header.ack_id == id)
        .count()
}

/// Waits until `pred` holds for the server's record (polling the plugin meanwhile).
fn wait_server(stub: &mut Stub, what: &str, pred: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + STEP * stub.time_factor();
    while !pred() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        stub.sync();
    }
}

/// The barrier: a well-formed probe INVITE (call `n`) sent after the hostile input is answered
/// `603` (Bob does not serve Alice's object), so everything before it was read.
fn probe(server: &TestServer, stub: &mut Stub, n: u32) {
    let message_id = 900_000 + n;
    inject(
        server,
        &msg(&packet(
            0,
            message_id,
            &invite(n, foreign_object("probe.dat").as_bytes()),
        )),
    );
    let call = guid(n);
    wait_server(stub, "the probe is declined", || {
        answers(server, &call) == [603]
    });
    assert_eq!(
        acks_of(server, message_id),
        1,
        "the probe is acknowledged once"
    );
}

/// The plugin survived: it still answers P2P, the conversation works, no connection error.
fn survived(server: &TestServer, stub: &mut Stub, n: u32) {
    probe(server, stub, n);
    send(stub, ALICE, BOB, "still talking");
    let im = next_im(stub, BOB, ALICE);
    assert_eq!(text_of(im["message"].as_str().unwrap()), "still talking");
    assert_healthy(stub);
}

#[test]
fn a_chunk_beyond_the_total_size_is_dropped() {
    let (server, mut stub, _plugins) = conversation();
    let body = invite(1, foreign_object("a.dat").as_bytes());
    let mut beyond = Packet {
        header: Header {
            id: 10,
            offset: 5,
            total_size: body.len() as u64,
            length: body.len() as u32,
            ..Header::default()
        },
        payload: body.clone(),
        app_id: app_id::SLP,
    };
    inject(&server, &msg(&beyond.encode()));
    // An offset so large offset + length overflows.
    beyond.header.id = 11;
    beyond.header.offset = u64::MAX - 2;
    inject(&server, &msg(&beyond.encode()));
    // A chunk whose declared length exceeds the bytes sent.
    beyond.header.id = 12;
    beyond.header.offset = 0;
    beyond.header.length = body.len() as u32 + 100;
    inject(&server, &msg(&beyond.encode()));
    survived(&server, &mut stub, 2);
    for id in [10, 11, 12] {
        assert_eq!(acks_of(&server, id), 0, "message {id} was not acknowledged");
    }
    assert!(answers(&server, &guid(1)).is_empty(), "no answer to call 1");
    assert!(stub.quit().success());
}

#[test]
fn msnp18_short_headers_and_bad_invites_are_survived() {
    let (server, mut stub, _plugins) = conversation_at(18);
    let whole = packet(0, 35, &invite(32, foreign_object("e.dat").as_bytes()));
    for cut in [0, 47, 51] {
        inject(&server, &msg(&whole[..cut]));
    }
    let call = format!("Call-ID: {{{}}}\r\n", guid(33));
    let body = invite_body(1033, "%%%");
    inject(
        &server,
        &msg(&packet(0, 36, &raw_invite(&call, &body, body.len()))),
    );
    survived(&server, &mut stub, 34);
    assert_eq!(acks_of(&server, 35), 0);
    assert_eq!(answers(&server, &guid(33)), [500]);
    assert!(stub.quit().success());
}

#[test]
fn a_total_size_over_the_cap_is_refused() {
    let (server, mut stub, _plugins) = conversation();
    // Signalling is capped at 64 KiB; this claims 4 GiB and sends the first chunk.
    let first = Packet {
        header: Header {
            id: 20,
            total_size: 4 << 30,
            length: 1000,
            ..Header::default()
        },
        payload: vec![b'A'; 1000],
        app_id: app_id::SLP,
    };
    inject(&server, &msg(&first.encode()));
    survived(&server, &mut stub, 3);
    assert_eq!(acks_of(&server, 20), 0);
    assert!(stub.quit().success());
}

#[test]
fn zero_length_and_short_binary_headers_are_dropped() {
    let (server, mut stub, _plugins) = conversation();
    let whole = packet(0, 30, &invite(4, foreign_object("b.dat").as_bytes()));
    for cut in [0, 1, 10, 47, 48, 51] {
        inject(&server, &msg(&whole[..cut]));
    }
    survived(&server, &mut stub, 5);
    assert_eq!(acks_of(&server, 30), 0);
    assert!(answers(&server, &guid(4)).is_empty());
    assert!(stub.quit().success());
}

#[test]
fn a_reused_message_id_is_not_processed_twice() {
    let (server, mut stub, _plugins) = conversation();
    inject(
        &server,
        &msg(&packet(
            0,
            40,
            &invite(6, foreign_object("c.dat").as_bytes()),
        )),
    );
    // A different INVITE under the same message id.
    inject(
        &server,
        &msg(&packet(
            0,
            40,
            &invite(7, foreign_object("d.dat").as_bytes()),
        )),
    );
    survived(&server, &mut stub, 8);
    assert_eq!(answers(&server, &guid(6)), [603]);
    assert!(
        answers(&server, &guid(7)).is_empty(),
        "the reused id was dropped"
    );
    assert_eq!(acks_of(&server, 40), 1);
    assert!(stub.quit().success());
}

#[test]
fn data_for_an_unknown_session_is_dropped() {
    let (server, mut stub, _plugins) = conversation();
    let mut data = Packet::parse(&packet(0xdead, 50, b"picture bytes")).unwrap();
    data.header.flags = flags::MSN_OBJECT_DATA;
    data.app_id = app_id::DISPLAY_PICTURE;
    inject(&server, &msg(&data.encode()));
    survived(&server, &mut stub, 9);
    assert_eq!(
        acks_of(&server, 50),
        0,
        "nothing acknowledged for session 0xdead"
    );
    assert!(stub.quit().success());
}

#[test]
fn a_missing_or_duplicated_call_id_gets_no_answer() {
    let (server, mut stub, _plugins) = conversation();
    let context = "bm90IGFuIG9iamVjdA==";
    let body = invite_body(1100, context);
    let missing = raw_invite("", &body, body.len());
    let call = format!("Call-ID: {{{}}}\r\n", guid(11));
    let twice = raw_invite(&format!("{call}{call}"), &body, body.len());
    inject(&server, &msg(&packet(0, 60, &missing)));
    inject(&server, &msg(&packet(0, 61, &twice)));
    survived(&server, &mut stub, 12);
    // Acknowledged as P2P messages, but with no call to answer.
    assert_eq!(acks_of(&server, 60), 1);
    assert_eq!(acks_of(&server, 61), 1);
    assert!(answers(&server, &guid(11)).is_empty());
    let answered = slp_of(&sent_by_bob(&server)).len();
    assert_eq!(answered, 1, "only the probe was answered");
    assert!(stub.quit().success());
}

#[test]
fn an_invite_with_no_body_is_refused_and_an_unterminated_one_ignored() {
    let (server, mut stub, _plugins) = conversation();
    let call = format!("Call-ID: {{{}}}\r\n", guid(13));
    inject(&server, &msg(&packet(0, 70, &raw_invite(&call, "", 0))));
    let call = format!("Call-ID: {{{}}}\r\n", guid(14));
    let body = invite_body(1014, "eA==");
    // Content-Length beyond the body, and no blank line after the headers at all.
    inject(
        &server,
        &msg(&packet(0, 71, &raw_invite(&call, &body, body.len() + 50))),
    );
    let headless = raw_invite(&call, "", 0);
    inject(
        &server,
        &msg(&packet(0, 72, &headless[..headless.len() - 4])),
    );
    survived(&server, &mut stub, 15);
    assert_eq!(answers(&server, &guid(13)), [500], "no body: 500");
    assert!(
        answers(&server, &guid(14)).is_empty(),
        "unterminated: ignored"
    );
    assert!(stub.quit().success());
}

#[test]
fn invalid_base64_in_context_is_refused() {
    let (server, mut stub, _plugins) = conversation();
    let call = format!("Call-ID: {{{}}}\r\n", guid(16));
    let body = invite_body(1016, "%%%not*base64!!");
    inject(
        &server,
        &msg(&packet(0, 80, &raw_invite(&call, &body, body.len()))),
    );
    survived(&server, &mut stub, 17);
    assert_eq!(answers(&server, &guid(16)), [500]);
    assert!(stub.quit().success());
}

#[test]
fn an_msnobject_location_with_path_components_is_refused() {
    let (server, mut stub, _plugins) = conversation();
    // Bob has a picture: a request naming its SHA1D but a path as Location is still refused.
    let data = include_bytes!("../icons/msn-48.png").to_vec();
    let file = stub.user_dir().join("bob.png");
    std::fs::write(&file, &data).unwrap();
    stub.send(&format!(
        "set-icon {} {}",
        pct(BOB),
        pct(file.to_str().unwrap())
    ));
    stub.wait_event(STEP, "icon-set");
    let locations = ["../../.purple/accounts.xml", "a/b.png", "..", "c:\\x.png"];
    for (i, location) in locations.iter().enumerate() {
        let object = MsnObject::new(BOB, 3, location, "", &data).to_xml() + "\0";
        let n = 20 + i as u32;
        inject(
            &server,
            &msg(&packet(0, 90 + n, &invite(n, object.as_bytes()))),
        );
    }
    survived(&server, &mut stub, 30);
    for i in 0..locations.len() as u32 {
        assert_eq!(
            answers(&server, &guid(20 + i)),
            [500],
            "{}",
            locations[i as usize]
        );
    }
    // Alice's own plugin may fetch Bob's picture meanwhile; the hostile sessions get nothing.
    let data_sent = sent_by_bob(&server)
        .iter()
        .any(|p| (1020..1020 + locations.len() as u32).contains(&p.header.session_id));
    assert!(!data_sent, "no session started, no data sent");
    assert!(stub.quit().success());
}

/// Answers Bob's next object INVITE for Alice with `data` (which does not match what the
/// object promised) in Alice's place, and waits for Bob to acknowledge the data and end the
/// session with a BYE. Bob's INVITE must have been held at the server (so that Alice's own
/// plugin never answers it).
fn serve_wrong_data(server: &TestServer, stub: &mut Stub, data: Vec<u8>) {
    let find_invite = || {
        slp_of(&sent_by_bob(server))
            .into_iter()
            .find(|m| m.content_type.contains("sessionreqbody") && m.session_id().is_some())
    };
    wait_server(stub, "Bob asks for Alice's object", || {
        find_invite().is_some()
    });
    let asked = find_invite().unwrap();
    let session = asked.session_id().unwrap();
    let ok = msnp::p2p::slp::response(&asked, 200, session);
    // The answer goes from Alice to Bob: the response swaps To and From already.
    inject(server, &msg(&packet(0, 100, &ok.encode())));
    let prep = Packet {
        header: Header {
            session_id: session,
            id: 101,
            total_size: 4,
            length: 4,
            ack_id: 1,
            ..Header::default()
        },
        payload: vec![0; 4],
        app_id: app_id::DISPLAY_PICTURE,
    };
    inject(server, &msg(&prep.encode()));
    let data = Packet {
        header: Header {
            session_id: session,
            id: 102,
            total_size: data.len() as u64,
            length: data.len() as u32,
            flags: flags::MSN_OBJECT_DATA,
            ack_id: 2,
            ..Header::default()
        },
        payload: data,
        app_id: app_id::DISPLAY_PICTURE,
    };
    inject(server, &msg(&data.encode()));
    // Bob acknowledges the data and ends the session with a BYE: the barrier.
    let call = asked.call_id.clone();
    wait_server(stub, "Bob ends the session", || {
        slp_of(&sent_by_bob(server)).iter().any(|m| {
            m.call_id == call
                && matches!(
                    m.start,
                    StartLine::Request {
                        method: Method::Bye,
                        ..
                    }
                )
        })
    });
    assert_eq!(acks_of(server, 102), 1);
}

#[test]
fn data_that_does_not_match_the_sha1d_sets_no_icon() {
    let (server, mut stub, _plugins) = conversation();
    let promised = b"the picture Alice advertises".to_vec();
    let object = MsnObject::new(ALICE, 3, "alice.png", "", &promised);
    // Bob's INVITE is held at the server so Alice's plugin never sees it: we answer for her.
    server.sb_hold_next_message(BOB);
    let nln = format!(
        "NLN NLN {ALICE} Alice 1342177280 {}\r\n",
        pct(&object.to_xml())
    );
    assert_eq!(server.ns_inject(BOB, nln.as_bytes()), 1);
    let wrong: Vec<u8> = promised.iter().map(|b| b ^ 0x55).collect();
    serve_wrong_data(&server, &mut stub, wrong);
    survived(&server, &mut stub, 31);
    let set = stub
        .events_seen()
        .iter()
        .any(|e| e["event"] == "buddy-icon-changed" && e["who"] == ALICE && !e["hex"].is_null());
    assert!(!set, "no icon from data that does not match SHA1D");
    stub.send(&format!("buddy-icon {} {}", pct(BOB), pct(ALICE)));
    let icon = stub.wait_event(STEP, "buddy-icon");
    assert!(icon["checksum"].is_null(), "{icon}");
    assert!(stub.quit().success());
}

/// A switchboard message from Alice to Bob with this content type and body.
fn alice_says(content_type: &str, body: &str) -> Vec<u8> {
    let payload = format!("MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n{body}");
    let mut raw = format!("MSG {ALICE} Alice {}\r\n", payload.len()).into_bytes();
    raw.extend_from_slice(payload.as_bytes());
    raw
}

/// Alice declares `body` as her custom emoticons, then writes `text` (the barrier: Bob's
/// libpurple shows it).
fn declare_then_write(server: &TestServer, stub: &mut Stub, body: &str, text: &str) {
    inject(server, &alice_says("text/x-mms-emoticon", body));
    inject(server, &alice_says("text/plain; charset=UTF-8", text));
    let im = next_im(stub, BOB, ALICE);
    assert_eq!(text_of(im["message"].as_str().unwrap()), text);
}

/// The custom smiley events `name` of Bob's account so far.
fn bobs_smileys(stub: &mut Stub, name: &str) -> Vec<serde_json::Value> {
    stub.events_seen()
        .iter()
        .filter(|e| e["event"] == name && e["account"] == BOB)
        .cloned()
        .collect()
}

/// The object INVITEs Bob sent.
fn bobs_invites(server: &TestServer) -> usize {
    slp_of(&sent_by_bob(server))
        .into_iter()
        .filter(|m| {
            matches!(
                m.start,
                StartLine::Request {
                    method: Method::Invite,
                    ..
                }
            )
        })
        .count()
}

/// An emoticon object of Alice's (type 2).
fn emoticon(location: &str, data: &[u8]) -> MsnObject {
    MsnObject::new(ALICE, 2, location, "", data)
}

#[test]
fn a_malformed_emoticon_list_is_ignored_and_the_text_shown() {
    let (server, mut stub, _plugins) = conversation();
    let good = emoticon("TFR2C2.tmp", b"a good one");
    let malformed = [
        "\t\t\t\t".to_owned(),
        "(a)\t<msnobj Creator=\"alice@example.com\" Size=\"x\"/>\t(dangling)".to_owned(),
        format!("(b)\t{}", good.xml.replace("SHA1D=\"", "SHA1D=\"!!")),
        format!("\t{}\t(c)\t<msnobj\t", good.xml),
        format!(
            "(d)\t{}\t",
            MsnObject::new(CAROL, 2, "x", "", b"not alice's").xml
        ),
        format!(
            "(e)\t{}\t",
            MsnObject::new(ALICE, 3, "0", "", b"a picture").xml
        ),
        "\u{0}\u{1}\u{ff}\t\u{202e}".repeat(100),
        // Over the declaration's size bound (but within a switchboard payload): refused whole.
        format!("(f)\t{}\t", good.xml).repeat(100),
    ];
    for (i, body) in malformed.iter().enumerate() {
        declare_then_write(&server, &mut stub, body, &format!("text {i}"));
    }
    assert!(bobs_smileys(&mut stub, "custom-smiley-added").is_empty());
    survived(&server, &mut stub, 40);
    assert_eq!(bobs_invites(&server), 0, "nothing asked for");
    assert!(stub.quit().success());
}

#[test]
fn too_many_emoticons_in_a_list_are_bounded() {
    let (server, mut stub, _plugins) = conversation();
    let body: String = (0..40)
        .map(|i| format!("({i})\t{}\t", emoticon("0", format!("e{i}").as_bytes()).xml))
        .collect();
    declare_then_write(&server, &mut stub, &body, "many");
    let added = bobs_smileys(&mut stub, "custom-smiley-added");
    assert_eq!(added.len(), msnp::message::emoticons::MAX_EMOTICONS);
    // Alice's plugin has none of them: each is declined, each smiley closed without an image.
    let closed = |stub: &mut Stub| bobs_smileys(stub, "custom-smiley");
    while closed(&mut stub).len() < added.len() {
        stub.wait_for(STEP, |e| {
            e["event"] == "custom-smiley" && e["account"] == BOB
        });
    }
    assert!(closed(&mut stub)
        .iter()
        .all(|e| e["size"] == 0 && e["sha1"].is_null()));
    survived(&server, &mut stub, 41);
    assert!(stub.quit().success());
}

#[test]
fn an_emoticon_location_or_name_with_path_components_is_refused() {
    let (server, mut stub, _plugins) = conversation();
    let locations = [
        "../../.purple/accounts.xml",
        "a/b.gif",
        "..",
        "c:\\x.gif",
        "x\\..\\y",
    ];
    let body: String = locations
        .iter()
        .enumerate()
        .map(|(i, l)| format!("(p{i})\t{}\t", emoticon(l, b"x").xml))
        .collect();
    let named = MsnObject::new(ALICE, 2, "ok.gif", "../../evil", b"x");
    let body = format!("{body}(n)\t{}\t", named.xml);
    declare_then_write(&server, &mut stub, &body, "paths");
    assert!(bobs_smileys(&mut stub, "custom-smiley-added").is_empty());
    survived(&server, &mut stub, 42);
    assert_eq!(bobs_invites(&server), 0, "nothing asked for");
    assert!(stub.quit().success());
}

#[test]
fn an_emoticon_whose_data_does_not_match_its_sha1d_is_not_shown() {
    let (server, mut stub, _plugins) = conversation();
    let promised = b"the emoticon Alice declares".to_vec();
    let object = emoticon("TFR2C2.tmp", &promised);
    server.sb_hold_next_message(BOB);
    declare_then_write(
        &server,
        &mut stub,
        &format!("(x)\t{}\t", object.xml),
        "look (x)",
    );
    let wrong: Vec<u8> = promised.iter().map(|b| b ^ 0x55).collect();
    serve_wrong_data(&server, &mut stub, wrong);
    let closed = stub.wait_for(STEP, |e| {
        e["event"] == "custom-smiley" && e["account"] == BOB
    });
    assert_eq!(closed["shortcut"], "(x)");
    assert_eq!(closed["size"], 0, "closed without an image: {closed}");
    survived(&server, &mut stub, 43);
    assert!(stub.quit().success());
}

/// The stub's resident set size.
fn rss_kb(stub: &mut Stub) -> u64 {
    stub.send("stats");
    stub.wait_event(STEP, "stats")["rss_kb"]
        .as_u64()
        .expect("rss_kb")
}

#[test]
fn an_ack_storm_is_ignored() {
    let (server, mut stub, _plugins) = conversation();
    let before = rss_kb(&mut stub);
    let mut storm = Vec::new();
    for i in 0..5000u32 {
        let ack = Header {
            id: 200_000 + i,
            flags: flags::ACK,
            ack_id: i.wrapping_mul(2_654_435_761),
            ack_uid: i,
            ack_size: u64::from(i),
            ..Header::default()
        };
        let p = Packet {
            header: ack,
            payload: Vec::new(),
            app_id: app_id::SLP,
        };
        storm.extend_from_slice(&msg(&p.encode()));
    }
    let sent_before = sent_by_bob(&server).len();
    inject(&server, &storm);
    survived(&server, &mut stub, 40);
    // Only the probe's acknowledgement and its 603 went out: acks are never answered.
    assert_eq!(sent_by_bob(&server).len() - sent_before, 2);
    let after = rss_kb(&mut stub);
    assert!(after < before + 32 * 1024, "rss {before} kB -> {after} kB");
    assert!(stub.quit().success());
}

#[test]
fn thousands_of_invites_get_bounded_answers_and_memory() {
    let (server, mut stub, _plugins) = conversation();
    let before = rss_kb(&mut stub);
    const INVITES: u32 = 3000;
    let object = foreign_object("flood.dat");
    let mut flood = Vec::new();
    for n in 0..INVITES {
        flood.extend_from_slice(&msg(&packet(
            0,
            300_000 + n,
            &invite(100_000 + n, object.as_bytes()),
        )));
    }
    inject(&server, &flood);
    survived(&server, &mut stub, 50);
    let sent = sent_by_bob(&server);
    // At most an acknowledgement and one answer per INVITE (plus the probe's two).
    assert!(
        sent.len() <= 2 * (INVITES as usize + 1),
        "{} packets for {INVITES} INVITEs",
        sent.len()
    );
    let accepted = slp_of(&sent)
        .iter()
        .filter(|m| matches!(m.start, StartLine::Response { code: 200, .. }))
        .count();
    assert_eq!(accepted, 0, "no session accepted for objects Bob lacks");
    let after = rss_kb(&mut stub);
    assert!(after < before + 64 * 1024, "rss {before} kB -> {after} kB");
    assert!(stub.quit().success());
}

#[test]
fn a_p2p_message_with_the_wrong_ack_mode_is_refused_by_the_switchboard() {
    let (server, mut stub, _plugins) = conversation();
    // Carol, a raw client, opens a switchboard with Bob and sends him an INVITE with ack
    // mode `A`: the switchboard closes her connection and relays nothing, as Escargot does.
    let mut carol = Online::sign_in(&server, CAROL, "carolpass").unwrap();
    let mut sb = carol.switchboard(CAROL, BOB).unwrap();
    assert_eq!(
        server.sb_connections(BOB),
        2,
        "Bob joined Carol's switchboard"
    );
    let mut payload = format!(
        "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: {BOB}\r\n\r\n"
    )
    .into_bytes();
    payload.extend(packet(
        0,
        77,
        &invite(77, foreign_object("a.dat").as_bytes()),
    ));
    sb.send("A", &payload).unwrap();
    assert!(sb.closed_by_server());
    // What reaches Bob's plugin is Carol leaving: it leaves that switchboard too.
    wait_server(&mut stub, "Bob leaves Carol's switchboard", || {
        server.sb_connections(BOB) == 1
    });
    let relayed = server.transcript().into_iter().any(|e| {
        e.service == Service::Sb && e.event == Event::Sent && e.line.starts_with("MSG carol")
    });
    assert!(!relayed, "nothing of Carol's message reached Bob");
    let to_carol = server
        .transcript()
        .into_iter()
        .filter_map(|e| SbP2p::parse(e.payload.as_deref()?))
        .any(|p| p.dest.is_some_and(|d| d.starts_with(CAROL)));
    assert!(!to_carol, "Bob answered nothing");
    survived(&server, &mut stub, 60);
    assert!(stub.quit().success());
}

// File transfers: a raw Alice offers Bob files with hostile contexts or data.

/// A file-transfer INVITE from Alice, call `n`, session `1000 + n`, with `context`.
fn file_invite(n: u32, context: &[u8]) -> Vec<u8> {
    InviteRequest {
        to: BOB,
        from: ALICE,
        branch: guid(n + 1_000_000),
        call_id: guid(n),
        invite: Invite {
            euf_guid: EUF_GUID_FILE.into(),
            session_id: 1000 + n,
            app_id: app_id::FILE,
            context: context.to_vec(),
        },
    }
    .message()
    .encode()
}

/// Injects Alice's offer of `name` (`size` bytes) as call `n` (message id `100 + n`).
fn offer_file(server: &TestServer, n: u32, name: &str, size: u64) {
    let context = FileContext {
        size,
        name: name.into(),
        preview: false,
    }
    .encode();
    inject(server, &msg(&packet(0, 100 + n, &file_invite(n, &context))));
}

/// A chunk of file data in session `1000 + n` (message id `500 + n`).
fn file_data(n: u32, offset: u64, total: u64, payload: &[u8]) -> Vec<u8> {
    Packet {
        header: Header {
            session_id: 1000 + n,
            id: 500 + n,
            offset,
            total_size: total,
            length: payload.len() as u32,
            flags: flags::FILE_DATA,
            ack_id: 0x4242,
            ..Header::default()
        },
        payload: payload.to_vec(),
        app_id: app_id::FILE,
    }
    .encode()
}

/// Bob's libpurple asks about the offer; returns the request event.
fn file_request(stub: &mut Stub) -> serde_json::Value {
    stub.wait_for(STEP, |e| {
        e["event"] == "xfer-request" && e["account"] == BOB
    })
}

/// Bob accepts transfer `id`, saving into his user directory as `name`; waits for the
/// `200 OK` of call `n`.
fn accept_file(server: &TestServer, stub: &mut Stub, id: i64, n: u32, name: &str) -> PathBuf {
    let target = stub.user_dir().join(name);
    stub.send(&format!(
        "xfer-accept {id} {}",
        pct(target.to_str().unwrap())
    ));
    let call = guid(n);
    wait_server(stub, "the offer is accepted", || {
        answers(server, &call) == [200]
    });
    target
}

/// Whether Bob sent a `BYE` in call `n`.
fn bye_sent(server: &TestServer, n: u32) -> bool {
    let call = guid(n);
    slp_of(&sent_by_bob(server)).iter().any(|m| {
        m.call_id.eq_ignore_ascii_case(&call)
            && matches!(
                m.start,
                StartLine::Request {
                    method: Method::Bye,
                    ..
                }
            )
    })
}

/// Transfer events of Bob's account named `name`.
fn bob_xfer_events(stub: &mut Stub, name: &str) -> Vec<serde_json::Value> {
    stub.events_seen()
        .iter()
        .filter(|e| e["event"] == name && e["account"] == BOB)
        .cloned()
        .collect()
}

#[test]
fn unreadable_or_oversized_file_offers_are_declined_unasked() {
    let (server, mut stub, _plugins) = conversation();
    // A context shorter than the length it declares.
    let mut short = FileContext {
        size: 10,
        name: "short.txt".into(),
        preview: false,
    }
    .encode();
    short[0..4].copy_from_slice(&700u32.to_le_bytes());
    inject(&server, &msg(&packet(0, 101, &file_invite(1, &short))));
    // Fewer bytes than any context.
    inject(
        &server,
        &msg(&packet(0, 102, &file_invite(2, &short[..100]))),
    );
    // A name that is not UTF-16 (a lone surrogate).
    let mut bad_name = FileContext {
        size: 10,
        name: "xx".into(),
        preview: false,
    }
    .encode();
    bad_name[20..22].copy_from_slice(&0xDC00u16.to_le_bytes());
    inject(&server, &msg(&packet(0, 103, &file_invite(3, &bad_name))));
    // Larger than the limit (2 GiB by default).
    offer_file(&server, 4, "huge.iso", 3 << 30);
    survived(&server, &mut stub, 5);
    for n in 1..=4 {
        assert_eq!(answers(&server, &guid(n)), [603], "call {n} declined");
    }
    assert!(bob_xfer_events(&mut stub, "xfer-request").is_empty());
    // Each refusal is a line in Bob's conversation, not a dialog.
    let refused = stub
        .events_seen()
        .iter()
        .filter(|e| {
            e["event"] == "write"
                && e["account"] == BOB
                && e["message"].as_str().unwrap_or("").contains("was refused")
        })
        .count();
    assert_eq!(refused, 4);
    assert!(!stub.events_seen().iter().any(|e| e["event"] == "notify"));
    assert!(stub.quit().success());
}

#[test]
fn offered_names_are_reduced_to_safe_base_names() {
    let (server, mut stub, _plugins) = conversation();
    for (n, raw, safe) in [
        (10, "../../.bashrc", "bashrc"),
        (11, "C:\\Windows\\system32\\evil.dll", "evil.dll"),
        (12, "a\u{1b}[31mb\u{7}.txt", "a[31mb.txt"),
        (13, "..", "file"),
    ] {
        offer_file(&server, n, raw, 5);
        let request = file_request(&mut stub);
        assert_eq!(request["filename"], safe, "{raw:?}");
        let id = request["id"].as_i64().unwrap();
        stub.send(&format!("xfer-deny {id}"));
        wait_server(&mut stub, "the offer is declined", || {
            answers(&server, &guid(n)) == [603]
        });
    }
    survived(&server, &mut stub, 14);
    assert!(stub.quit().success());
}

#[test]
fn an_empty_file_completes_at_once_and_later_data_is_ignored() {
    let (server, mut stub, _plugins) = conversation();
    offer_file(&server, 20, "empty.txt", 0);
    let request = file_request(&mut stub);
    assert_eq!(request["size"], 0);
    let id = request["id"].as_i64().unwrap();
    let target = accept_file(&server, &mut stub, id, 20, "empty.txt");
    stub.wait_for(STEP, |e| e["event"] == "xfer-destroyed" && e["id"] == id);
    inject(&server, &msg(&file_data(20, 0, 5, b"extra")));
    survived(&server, &mut stub, 21);
    assert_eq!(std::fs::read(&target).unwrap(), b"");
    assert_eq!(bob_xfer_events(&mut stub, "xfer-completed").len(), 1);
    assert_eq!(
        acks_of(&server, 520),
        0,
        "no data after completion is taken"
    );
    assert!(stub.quit().success());
}

#[test]
fn more_data_than_announced_fails_the_transfer() {
    let (server, mut stub, _plugins) = conversation();
    offer_file(&server, 30, "ten.bin", 10);
    let id = file_request(&mut stub)["id"].as_i64().unwrap();
    let target = accept_file(&server, &mut stub, id, 30, "ten.bin");
    inject(&server, &msg(&file_data(30, 0, 10, b"01234")));
    // A second chunk claiming a larger total than the offer announced.
    inject(&server, &msg(&file_data(30, 5, 20, b"56789abcdefghij")));
    let cancelled = stub.wait_for(STEP, |e| e["event"] == "xfer-cancelled" && e["id"] == id);
    assert_eq!(cancelled["status"], "cancel-remote");
    survived(&server, &mut stub, 31);
    assert!(bye_sent(&server, 30), "Bob closed the session");
    assert!(bob_xfer_events(&mut stub, "xfer-completed").is_empty());
    assert_eq!(acks_of(&server, 530), 0, "the data was never acknowledged");
    assert_eq!(std::fs::read(&target).unwrap(), b"01234");
    assert!(stub.quit().success());
}

#[test]
fn data_after_bye_is_ignored_and_nothing_completes() {
    let (server, mut stub, _plugins) = conversation();
    offer_file(&server, 40, "half.bin", 10);
    let id = file_request(&mut stub)["id"].as_i64().unwrap();
    let target = accept_file(&server, &mut stub, id, 40, "half.bin");
    inject(&server, &msg(&file_data(40, 0, 10, b"01234")));
    let bye = msnp::p2p::slp::bye(BOB, ALICE, guid(4_040), &guid(40)).encode();
    inject(&server, &msg(&packet(0, 240, &bye)));
    let cancelled = stub.wait_for(STEP, |e| e["event"] == "xfer-cancelled" && e["id"] == id);
    assert_eq!(cancelled["status"], "cancel-remote");
    inject(&server, &msg(&file_data(40, 5, 10, b"56789")));
    survived(&server, &mut stub, 41);
    assert!(bob_xfer_events(&mut stub, "xfer-completed").is_empty());
    assert_eq!(acks_of(&server, 540), 0);
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"01234",
        "the partial file stays"
    );
    assert!(stub.quit().success());
}

// Direct connections: a raw Alice asks Bob's plugin for a transport upgrade and plays the
// connecting side badly; a raw Carol receives a file from Bob and gives him addresses that
// refuse or never answer.

/// Alice's transport-upgrade INVITE in call `n` (message id `300 + n + k`) with `body`.
fn transreq(server: &TestServer, n: u32, k: u32, body: &[(&str, &str)]) {
    let message = SlpMessage {
        start: StartLine::Request {
            method: Method::Invite,
            uri: BOB.into(),
        },
        to: BOB.into(),
        from: ALICE.into(),
        branch: guid(n + 2_000_000 + k),
        cseq: 0,
        call_id: guid(n),
        max_forwards: 0,
        content_type: TRANS_REQ.into(),
        body: body
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect(),
    };
    inject(server, &msg(&packet(0, 300 + n + k, &message.encode())));
}

/// Bob's transport-upgrade answers in call `n`: (status, body).
fn transresps(server: &TestServer, n: u32) -> Vec<(u16, Vec<(String, String)>)> {
    slp_of(&sent_by_bob(server))
        .into_iter()
        .filter(|m| m.call_id.eq_ignore_ascii_case(&guid(n)) && m.content_type == TRANS_RESP)
        .filter_map(|m| match m.start {
            StartLine::Response { code, .. } => Some((code, m.body)),
            _ => None,
        })
        .collect()
}

/// Waits for Bob's `count`-th transport-upgrade answer in call `n`; returns the loopback
/// address he listens on.
fn bob_listens(server: &TestServer, stub: &mut Stub, n: u32, count: usize) -> SocketAddrV4 {
    wait_server(stub, "Bob answers the upgrade", || {
        transresps(server, n).len() >= count
    });
    let (code, body) = transresps(server, n).swap_remove(count - 1);
    assert_eq!(code, 200);
    *listening_addresses(&body)
        .unwrap()
        .iter()
        .find(|a| a.ip().is_loopback())
        .expect("the stub's public IP, 127.0.0.1, is among Bob's addresses")
}

/// Reads `stream` until Bob closes it; false if he does not within the step.
fn closed_by_bob(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(STEP)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

/// `foo`, then a handshake with `nonce`, as the connecting side frames them.
fn foo_and_handshake(nonce: Nonce) -> Vec<u8> {
    let mut out = Vec::from(&b"\x04\0\0\0foo\0"[..]);
    out.extend_from_slice(&48u32.to_le_bytes());
    let mut header = Header {
        id: 1,
        flags: 0x100,
        ..Header::default()
    }
    .encode();
    header[32..48].copy_from_slice(&nonce.0);
    out.extend_from_slice(&header);
    out
}

/// Bob accepted file `n` of `len` bytes; the data then comes by switchboard and completes.
fn data_by_switchboard(server: &TestServer, stub: &mut Stub, n: u32, id: i64, target: &PathBuf) {
    let data: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
    inject(server, &msg(&file_data(n, 0, 2000, &data[..1000])));
    inject(server, &msg(&file_data(n, 1000, 2000, &data[1000..])));
    stub.wait_for(STEP, |e| e["event"] == "xfer-completed" && e["id"] == id);
    // The file is closed when the transfer is freed.
    stub.wait_for(STEP, |e| e["event"] == "xfer-destroyed" && e["id"] == id);
    assert!(std::fs::read(target).unwrap() == data, "the saved bytes");
}

#[test]
fn garbage_transport_upgrades_are_declined_and_the_switchboard_carries_the_data() {
    let (server, mut stub, _plugins) = conversation();
    offer_file(&server, 50, "up.bin", 2000);
    let id = file_request(&mut stub)["id"].as_i64().unwrap();
    let target = accept_file(&server, &mut stub, id, 50, "up.bin");
    // Valid, with garbage addresses of its own (a request needs none): Bob listens anyway.
    let nonce = Nonce([7; 16]).to_guid();
    transreq(
        &server,
        50,
        1,
        &[
            ("Bridges", "TCPv1"),
            ("Nonce", &nonce),
            ("IPv4Internal-Addrs", "999.1.2.3 ::: \u{7}"),
            ("IPv4Internal-Port", "-5"),
        ],
    );
    bob_listens(&server, &mut stub, 50, 1);
    // No TCP bridge, a nonce that is no GUID, a zero nonce: declined.
    transreq(
        &server,
        50,
        2,
        &[("Bridges", "TRUDPv1 SBBridge"), ("Nonce", &nonce)],
    );
    transreq(
        &server,
        50,
        3,
        &[("Bridges", "TCPv1"), ("Nonce", "{not-a-guid}")],
    );
    transreq(
        &server,
        50,
        4,
        &[("Bridges", "TCPv1 TCPv1"), ("Hashed-Nonce", "x")],
    );
    wait_server(&mut stub, "the garbage upgrades are declined", || {
        transresps(&server, 50).len() == 4
    });
    let codes: Vec<u16> = transresps(&server, 50).iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [200, 603, 603, 603]);
    data_by_switchboard(&server, &mut stub, 50, id, &target);
    survived(&server, &mut stub, 51);
    assert!(stub.quit().success());
}

#[test]
fn a_direct_peer_with_a_wrong_nonce_random_bytes_or_silence_is_dropped() {
    let (server, mut stub, _plugins) = conversation();
    offer_file(&server, 70, "guarded.bin", 2000);
    let id = file_request(&mut stub)["id"].as_i64().unwrap();
    let target = accept_file(&server, &mut stub, id, 70, "guarded.bin");
    let nonce = Nonce([0x42; 16]);
    // The wrong nonce: Bob closes the connection without answering.
    transreq(
        &server,
        70,
        1,
        &[("Bridges", "TCPv1"), ("Nonce", &nonce.to_guid())],
    );
    let mut peer = TcpStream::connect(bob_listens(&server, &mut stub, 70, 1)).unwrap();
    peer.write_all(&foo_and_handshake(Nonce([0x43; 16])))
        .unwrap();
    assert!(closed_by_bob(&mut peer), "Bob closed on the wrong nonce");
    // Random bytes instead of foo.
    transreq(
        &server,
        70,
        2,
        &[("Bridges", "TCPv1"), ("Nonce", &nonce.to_guid())],
    );
    let mut peer = TcpStream::connect(bob_listens(&server, &mut stub, 70, 2)).unwrap();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    peer.write_all(&noise).unwrap();
    assert!(closed_by_bob(&mut peer), "Bob closed on random bytes");
    // A peer that connects and says nothing does not hold the transfer: the data comes by
    // switchboard, and once the transfer is over Bob closes the silent connection too.
    transreq(
        &server,
        70,
        3,
        &[("Bridges", "TCPv1"), ("Nonce", &nonce.to_guid())],
    );
    let mut silent = TcpStream::connect(bob_listens(&server, &mut stub, 70, 3)).unwrap();
    data_by_switchboard(&server, &mut stub, 70, id, &target);
    assert!(
        closed_by_bob(&mut silent),
        "Bob closed the silent connection"
    );
    survived(&server, &mut stub, 71);
    assert!(stub.quit().success());
}

/// Carol (a raw client in a switchboard with Bob) is offered a file by Bob, accepts, and
/// answers his transport upgrade with `addr`; returns once the switchboard relays file data.
fn offered_to_carol(
    server: &TestServer,
    stub: &mut Stub,
    sb: &mut Switchboard,
    addr: SocketAddrV4,
) {
    let path = stub.user_dir().join("to-carol.bin");
    std::fs::write(&path, vec![9u8; 20_000]).unwrap();
    let before = server.p2p_file_data();
    // Bob's MSNSLP messages to Carol of this type, oldest first.
    let to_carol = |content_type: &str| -> Vec<SlpMessage> {
        server
            .transcript()
            .into_iter()
            .filter(|e| e.service == Service::Sb && e.event == Event::Received)
            .filter_map(|e| SbP2p::parse(e.payload.as_deref()?))
            .filter(|p| p.dest.as_deref() == Some(CAROL))
            .filter_map(|p| Packet::parse(&p.packet).ok())
            .filter_map(|p| SlpMessage::parse(&p.payload).ok())
            .filter(|m| m.content_type == content_type)
            .collect()
    };
    let (invites, requests) = (
        to_carol(msnp::p2p::slp::SESSION_REQ).len(),
        to_carol(TRANS_REQ).len(),
    );
    stub.send(&format!(
        "send-file {} {} {}",
        pct(BOB),
        pct(CAROL),
        pct(path.to_str().unwrap())
    ));
    wait_server(stub, "Bob offers Carol the file", || {
        to_carol(msnp::p2p::slp::SESSION_REQ).len() > invites
    });
    let invite = to_carol(msnp::p2p::slp::SESSION_REQ).pop().unwrap();
    let session = invite.invite().unwrap().session_id;
    let carol_says = |sb: &mut Switchboard, id: u32, message: &SlpMessage| {
        let mut payload = format!(
            "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: {BOB}\r\n\r\n"
        )
        .into_bytes();
        payload.extend(packet(0, id, &message.encode()));
        sb.send("D", &payload).unwrap();
    };
    // Message ids Carol has not used yet.
    let id = 100 + 2 * invites as u32;
    carol_says(sb, id, &msnp::p2p::slp::response(&invite, 200, session));
    wait_server(stub, "Bob asks for a transport upgrade", || {
        to_carol(TRANS_REQ).len() > requests
    });
    let request = to_carol(TRANS_REQ).pop().unwrap();
    assert!(request.call_id.eq_ignore_ascii_case(&invite.call_id));
    assert!(request.field("Nonce").is_some());
    let mut answer = msnp::p2p::slp::response(&request, 200, session);
    answer.content_type = TRANS_RESP.into();
    let (ip, port) = (addr.ip().to_string(), addr.port().to_string());
    answer.body = [
        ("Bridge", "TCPv1"),
        ("Listening", "true"),
        ("IPv4Internal-Addrs", ip.as_str()),
        ("IPv4Internal-Port", port.as_str()),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    carol_says(sb, id + 1, &answer);
    // File data of this session relayed by the switchboard (after the set-up deadline, 10 s,
    // for a silent address: within twice the step).
    let relayed = || {
        server
            .transcript()
            .into_iter()
            .filter(|e| e.service == Service::Sb && e.event == Event::Received)
            .filter_map(|e| SbP2p::parse(e.payload.as_deref()?))
            .filter(|p| p.dest.as_deref() == Some(CAROL))
            .filter_map(|p| Packet::parse(&p.packet).ok())
            .any(|p| p.header.session_id == session && p.header.length > 0)
    };
    let deadline = std::time::Instant::now() + 2 * STEP * stub.time_factor();
    while !relayed() {
        assert!(
            std::time::Instant::now() < deadline,
            "no data by switchboard"
        );
        stub.sync();
    }
    wait_server(stub, "the switchboard counts the file data", || {
        server.p2p_file_data() > before
    });
}

#[test]
fn a_refusing_or_silent_direct_address_falls_back_to_the_switchboard() {
    let (server, mut stub, _plugins) = conversation();
    let mut carol = Online::sign_in(&server, CAROL, "carolpass").unwrap();
    let mut sb = carol.switchboard(CAROL, BOB).unwrap();
    // A port nobody listens on any more: the connection is refused.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let refusing = match closed.local_addr().unwrap() {
        std::net::SocketAddr::V4(a) => a,
        other => panic!("{other}"),
    };
    drop(closed);
    offered_to_carol(&server, &mut stub, &mut sb, refusing);
    // A listener that takes the connection and never answers the handshake.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let quiet = match silent.local_addr().unwrap() {
        std::net::SocketAddr::V4(a) => a,
        other => panic!("{other}"),
    };
    offered_to_carol(&server, &mut stub, &mut sb, quiet);
    assert_healthy(&mut stub);
    drop(silent);
    assert!(stub.quit().success());
}

#[test]
fn a_peer_with_a_hashed_nonce_sends_the_data_over_the_direct_connection() {
    // As Windows Live Messenger 2009 asks: `Hashed-Nonce`, the SHA-1 of the nonce it then
    // sends in its handshake; the data comes over the socket as headers and payloads without
    // footer.
    let (server, mut stub, _plugins) = conversation();
    offer_file(&server, 80, "direct.bin", 2000);
    let id = file_request(&mut stub)["id"].as_i64().unwrap();
    let target = accept_file(&server, &mut stub, id, 80, "direct.bin");
    let nonce = Nonce([0x33; 16]);
    let hashed = nonce.hashed().to_guid();
    transreq(
        &server,
        80,
        1,
        &[
            ("Bridges", "TRUDPv1 TCPv1 SBBridge"),
            ("Hashed-Nonce", &hashed),
        ],
    );
    let mut peer = TcpStream::connect(bob_listens(&server, &mut stub, 80, 1)).unwrap();
    peer.set_read_timeout(Some(STEP)).unwrap();
    peer.write_all(&foo_and_handshake(nonce)).unwrap();
    let mut reply = [0u8; 52];
    peer.read_exact(&mut reply).unwrap();
    assert_eq!(reply[..4], 48u32.to_le_bytes(), "a 48-byte handshake");
    let header = Header::parse(&reply[4..]).unwrap();
    assert_eq!((header.flags, header.session_id), (0x100, 0));
    assert_eq!(reply[36..], nonce.0, "Bob echoes the nonce");
    let data: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 253) as u8).collect();
    for (offset, part) in [(0usize, &data[..1352]), (1352, &data[1352..])] {
        let header = Header {
            session_id: 1080,
            id: 580,
            offset: offset as u64,
            total_size: 2000,
            length: part.len() as u32,
            flags: flags::FILE_DATA,
            ack_id: 0x4242,
            ..Header::default()
        };
        peer.write_all(&((48 + part.len()) as u32).to_le_bytes())
            .unwrap();
        peer.write_all(&header.encode()).unwrap();
        peer.write_all(part).unwrap();
    }
    stub.wait_for(STEP, |e| e["event"] == "xfer-completed" && e["id"] == id);
    stub.wait_for(STEP, |e| e["event"] == "xfer-destroyed" && e["id"] == id);
    assert!(std::fs::read(&target).unwrap() == data, "the saved bytes");
    wait_server(&mut stub, "Bob acknowledges the data", || {
        acks_of(&server, 580) == 1
    });
    assert!(
        closed_by_bob(&mut peer),
        "Bob closes the connection once done"
    );
    survived(&server, &mut stub, 81);
    assert!(stub.quit().success());
}
