//! The hostile-server suite, second part: a hostile peer or switchboard. Malformed `MSG`
//! payloads reach a live conversation through the test server's switchboard, and referrals
//! (`RNG`) point at malformed, refusing or silent switchboards. purple-stub must keep running,
//! the account must stay usable, and nothing may be shown unescaped or silently dropped.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::accounts::{self, users};
use common::conversations::{
    assert_healthy, next_im, online, send, server, text_of, ALICE, BOB, STEP,
};
use common::plugin::PluginDir;
use common::stub::Stub;
use msnp_testserver::TestServer;

/// Alice and Bob in one conversation at `version`, Bob's switchboard open.
fn conversation(version: u32) -> (TestServer, Stub, PluginDir) {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE, BOB], version);
    send(&mut stub, ALICE, BOB, "hello");
    next_im(&mut stub, BOB, ALICE);
    (server, stub, plugins)
}

/// Injects one `MSG` from Alice with `payload` into Bob's switchboard.
fn inject(server: &TestServer, payload: &[u8]) {
    let mut raw = format!("MSG {ALICE} Alice {}\r\n", payload.len()).into_bytes();
    raw.extend_from_slice(payload);
    assert!(server.sb_inject(BOB, &raw) > 0, "Bob has a switchboard");
}

/// The conversation still works afterwards: a new message arrives intact.
fn still_talking(stub: &mut Stub) {
    send(stub, ALICE, BOB, "still talking");
    let deadline = Instant::now() + STEP;
    loop {
        let im = next_im(stub, BOB, ALICE);
        let html = im["message"].as_str().unwrap().to_owned();
        assert!(!html.contains("<script"), "{html}");
        if text_of(&html) == "still talking" {
            break;
        }
        assert!(Instant::now() < deadline);
    }
    assert_healthy(stub);
}

#[test]
fn a_datacast_without_an_id_is_ignored() {
    let (server, mut stub, _plugins) = conversation(18);
    inject(
        &server,
        b"MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nData: 1\r\n",
    );
    still_talking(&mut stub);
    assert!(
        !stub.events_seen().iter().any(|e| e["event"] == "attention"),
        "not a nudge"
    );
    assert!(stub.quit().success());
}

#[test]
fn a_message_with_an_empty_body_is_harmless() {
    let (server, mut stub, _plugins) = conversation(12);
    inject(
        &server,
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n",
    );
    inject(&server, b"");
    still_talking(&mut stub);
    assert!(stub.quit().success());
}

#[test]
fn headers_without_values_and_a_content_type_without_parameters_are_harmless() {
    let (server, mut stub, _plugins) = conversation(18);
    inject(
        &server,
        b"MIME-Version:\r\nContent-Type:\r\nX-MMS-IM-Format:\r\n\r\nx",
    );
    inject(
        &server,
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nno parameters",
    );
    let im = next_im(&mut stub, BOB, ALICE);
    assert_eq!(text_of(im["message"].as_str().unwrap()), "no parameters");
    still_talking(&mut stub);
    assert!(stub.quit().success());
}

#[test]
fn an_unterminated_quoted_boundary_is_harmless() {
    let (server, mut stub, _plugins) = conversation(12);
    inject(&server, b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"unterminated\r\n\r\n--unterminated\r\n");
    still_talking(&mut stub);
    assert!(stub.quit().success());
}

#[test]
fn invalid_utf8_and_unknown_charsets_are_shown_not_dropped() {
    let (server, mut stub, _plugins) = conversation(18);
    inject(
        &server,
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nbroken \xff\xfe text",
    );
    let im = next_im(&mut stub, BOB, ALICE);
    let text = text_of(im["message"].as_str().unwrap());
    // Shown with replacement characters and a note saying so: never dropped.
    assert!(
        text.starts_with("broken \u{fffd}\u{fffd} text") && text.contains("could not be decoded"),
        "{text}"
    );
    inject(
        &server,
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nqapla\xe9",
    );
    let im = next_im(&mut stub, BOB, ALICE);
    assert!(
        text_of(im["message"].as_str().unwrap()).starts_with("qapla"),
        "{im}"
    );
    still_talking(&mut stub);
    assert!(stub.quit().success());
}

/// Signs Alice in; right after her first `CHG` the server sends `bytes` on the NS.
fn pushed_after_sign_in(version: u32, bytes: Vec<u8>) -> (TestServer, Stub, PluginDir) {
    pushed_after_sign_in_at(version, bytes, 1)
}

/// [`pushed_after_sign_in`] with the plugin's clock `time_scale` times faster.
fn pushed_after_sign_in_at(
    version: u32,
    bytes: Vec<u8>,
    time_scale: u32,
) -> (TestServer, Stub, PluginDir) {
    let mut config = users();
    config.garbage_after = Some(("CHG".into(), bytes));
    let server = TestServer::start(config).unwrap();
    let plugins = PluginDir::new();
    let mut stub = accounts::fast_stub(&plugins, false, time_scale);
    online(&mut stub, &server, &[ALICE], version);
    (server, stub, plugins)
}

/// The account still parses the NS: `OUT OTH` now is understood.
fn ns_still_parses(server: &TestServer, stub: &mut Stub) {
    accounts::ns_barrier(server, stub, ALICE);
    assert_healthy(stub);
    assert_eq!(server.kick(ALICE, "OTH"), 1);
    let error = stub.wait_event(STEP, "connection-error");
    assert_eq!(error["reason_name"], "NAME_IN_USE", "{error}");
}

#[test]
fn msnobject_attributes_huge_non_numeric_or_with_line_breaks_are_ignored() {
    let objects = [
        "%3Cmsnobj%20Creator%3D%22bob%40example.com%22%20Size%3D%2299999999999999999999999%22%20Type%3D%223%22%20SHA1D%3D%22x%22%2F%3E",
        "%3Cmsnobj%20Creator%3D%22bob%40example.com%22%20Size%3D%22-1%22%20Type%3D%22abc%22%2F%3E",
        "%3Cmsnobj%20Creator%3D%22%FF%FE%22%20Location%3D%22a%0D%0AOUT%20OTH%22%2F%3E",
        "%3Cmsnobj%20Size%3D%22",
    ];
    let mut lines = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        lines.extend_from_slice(
            format!("NLN NLN user{i}@example.com User 1342177280 {object}\r\n").as_bytes(),
        );
    }
    let (server, mut stub, _plugins) = pushed_after_sign_in(12, lines);
    ns_still_parses(&server, &mut stub);
    assert!(stub.quit().success());
}

#[test]
fn referrals_to_malformed_switchboard_addresses_are_ignored() {
    let rng = |address: &str| {
        format!("RNG 11752013 {address} CKI 17262740.1050826919.32308 bob@example.com Bob\r\n")
    };
    let bytes: String = [
        "127.0.0.1:0",
        "127.0.0.1:99999",
        ":1864",
        "[::1",
        "127.0.0.1:1864:9",
        "%00:1",
        "x",
    ]
    .iter()
    .map(|a| rng(a))
    .collect::<String>()
        + "RNG\r\nRNG 1\r\nXFR 9 SB 127.0.0.1: CKI x\r\n";
    let (server, mut stub, _plugins) = pushed_after_sign_in(12, bytes.into_bytes());
    ns_still_parses(&server, &mut stub);
    assert!(stub.quit().success());
}

#[test]
fn a_referral_with_a_cookie_the_switchboard_refuses_is_survived() {
    // A cookie the server never issued, sent twice: its switchboard refuses `ANS` both times.
    let server = TestServer::start(users()).unwrap();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    online(&mut stub, &server, &[ALICE], 12);
    let sb = server.sb_addr();
    let bogus = format!("RNG 1 {sb} CKI 1234.5678 bob@example.com Bob\r\nRNG 2 {sb} CKI 1234.5678 bob@example.com Bob\r\n");
    assert_eq!(server.ns_inject(ALICE, bogus.as_bytes()), 1);
    ns_still_parses(&server, &mut stub);
    assert!(stub.quit().success());
}

#[test]
fn a_switchboard_that_never_answers_is_given_up() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap();
    let rng = format!("RNG 5 {address} CKI 99.99 bob@example.com Bob\r\n");
    // The plugin's 30 s set-up timeout passes in 3 s.
    let (server, mut stub, _plugins) = pushed_after_sign_in_at(12, rng.into_bytes(), 10);
    let (mut socket, _) = silent.accept().expect("the plugin answers the invitation");
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 512];
    let started = Instant::now();
    loop {
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => panic!("the plugin kept a dead switchboard open: {e}"),
        }
    }
    assert!(String::from_utf8_lossy(&received).starts_with("ANS 1 alice@example.com 99.99 5"));
    assert!(
        started.elapsed() >= Duration::from_secs(20) / stub.time_scale(),
        "gave up after {:?} at {}x",
        started.elapsed(),
        stub.time_scale()
    );
    ns_still_parses(&server, &mut stub);
    assert!(stub.quit().success());
}
