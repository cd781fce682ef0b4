//! Replays the sign-in part of real Escargot sessions against [`Session`]: server bytes and HTTP
//! answers go in as recorded, and the client lines the session writes must be the recorded ones
//! byte for byte. Only the VER offer differs by design (we offer more versions); the SSO blob,
//! whose IV the recording's client drew at random, is checked by recomputing the recorded blob
//! from its own IV and ours from the IV the test seed gives.

use std::time::Duration;

use base64::Engine;
use rand_chacha::rand_core::RngCore;

use super::*;
use crate::auth::testlog;
use crate::session::switchboard::SendError;
use crate::wire::transcript;
use sim::Sim;

/// The client lines of a recorded NS session up to and including the `USR … S` line.
fn recorded_login_lines(name: &str) -> Vec<String> {
    let t = transcript::load(name);
    let text = String::from_utf8_lossy(&t.client_bytes()).into_owned();
    let mut lines = Vec::new();
    for line in text.split("\r\n") {
        lines.push(line.to_owned());
        if line.starts_with("USR 4 ") {
            break;
        }
    }
    lines
}

/// Replays `name` (an NS `.raw.txt`) up to `USR OK`, answering HTTP from `dir/http.log` in order.
fn replay_login(
    name: &str,
    dir: &str,
    max_version: u32,
    account: &str,
    password: &str,
    guid: &str,
) -> Sim {
    let t = transcript::load(name);
    let mut exchanges = testlog::load(dir).into_iter();
    let mut h = Sim::new(max_version, account, password, guid);
    h.connected();
    for (from_server, bytes) in &t.chunks {
        if !*from_server {
            continue;
        }
        h.feed(bytes);
        answer_recorded_http(&mut h, &mut exchanges, account);
        if h.signed_in() || h.ended().is_some() {
            break;
        }
    }
    h
}

/// Answers the session's pending HTTP requests with the next matching recorded exchanges.
fn answer_recorded_http(
    h: &mut Sim,
    exchanges: &mut impl Iterator<Item = testlog::Exchange>,
    account: &str,
) {
    while !h.http.is_empty() {
        let (_, request) = &h.http[0];
        let exchange = exchanges
            .find(|x| {
                request.url.ends_with(x.url_path())
                    && x.request_header("Authorization")
                        .is_none_or(|a| a.contains(&account.replace('@', "%40")))
                    && (x.label != "SSO RST"
                        || String::from_utf8_lossy(&x.request_body).contains(account))
            })
            .expect("a recorded answer for the request");
        let raw = exchange.raw_response();
        h.answer(&raw);
    }
}

/// The recorded `USR … SSO S` line as our session must send it: the recorded blob is first
/// recomputed from its own IV (so it is known to be what the real client computed), then
/// recomputed with the IV the session's seeded RNG draws first.
fn expected_sso_line(recorded: &str, secret: &[u8], nonce: &str) -> String {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let mut parts: Vec<String> = recorded.split(' ').map(str::to_owned).collect();
    let recorded_blob = b64.decode(&parts[5]).expect("recorded base64 blob");
    let recorded_iv: [u8; 8] = recorded_blob[28..36].try_into().expect("8-byte IV");
    assert_eq!(
        crate::auth::sso::mbi_response(secret, nonce, recorded_iv).as_deref(),
        Ok(parts[5].as_str()),
        "the recorded blob is not what the real client computed"
    );
    let mut iv = [0u8; 8];
    ChaCha8Rng::from_seed(TEST_SEED).fill_bytes(&mut iv);
    parts[5] = crate::auth::sso::mbi_response(secret, nonce, iv).expect("blob");
    parts.join(" ")
}

/// The seed `test_config` gives every test session.
const TEST_SEED: [u8; 32] = [7; 32];

fn assert_same_login_lines(
    ours: &[String],
    recorded: &[String],
    max_version: u32,
    sso: Option<(&[u8], &str)>,
) {
    assert_eq!(
        ours.len(),
        recorded.len(),
        "ours: {ours:#?}\nrecorded: {recorded:#?}"
    );
    for (o, r) in ours.iter().zip(recorded) {
        if r.starts_with("VER ") {
            assert!(o.starts_with(&format!("VER 1 MSNP{max_version} ")), "{o}");
            assert!(o.ends_with(" CVR0"), "{o}");
        } else if r.starts_with("USR 4 SSO S ") {
            let (secret, nonce) = sso.expect("an SSO sign-in has tokens and a nonce");
            assert_eq!(*o, expected_sso_line(r, secret, nonce));
        } else {
            assert_eq!(o, r);
        }
    }
}

/// The nonce of the server's `USR … SSO S MBI_KEY_OLD <nonce>` in a recorded NS session.
fn recorded_sso_nonce(name: &str) -> Option<String> {
    let t = transcript::load(name);
    let text = String::from_utf8_lossy(&t.server_bytes()).into_owned();
    text.split("\r\n")
        .find(|l| l.contains(" SSO S MBI_KEY_OLD "))
        .and_then(|l| l.rsplit(' ').next())
        .map(str::to_owned)
}

/// Replays Alice's recorded sign-in at `version` (directory `msnp<version>`), checks our lines up
/// to `USR … S` against the recording, and returns the lines sent after it.
fn lines_after_recorded_login(version: u32, guid: &str) -> Vec<String> {
    let name = format!("msnp{version}/alice-ns.raw.txt");
    let mut h = replay_login(
        &name,
        &format!("msnp{version}"),
        version,
        "alice@example.com",
        "alicepass",
        guid,
    );
    assert!(h.signed_in(), "events: {:?}", h.events);
    let lines = h.take_lines();
    let login = lines
        .iter()
        .position(|l| l.starts_with("USR 4 "))
        .expect("USR S sent")
        + 1;
    let nonce = recorded_sso_nonce(&name);
    let secret = h
        .session
        .login
        .tokens
        .as_ref()
        .map(|t| t.binary_secret.expose().clone());
    let sso = secret.as_deref().zip(nonce.as_deref());
    assert_same_login_lines(&lines[..login], &recorded_login_lines(&name), version, sso);
    lines[login..].to_vec()
}

const NO_GUID: &str = "{00000000-0000-0000-0000-000000000000}";

#[test]
fn msnp12_passport_login_matches_the_recording() {
    assert_eq!(
        lines_after_recorded_login(12, NO_GUID),
        ["SYN 5 0 0", "CHG 6 NLN 1342177312 0"]
    );
}

#[test]
fn msnp8_passport_login_matches_the_recording() {
    assert_eq!(
        lines_after_recorded_login(8, NO_GUID),
        ["SYN 5 0", "CHG 6 NLN 268435488"]
    );
}

// At MSNP15+ the contact list is fetched (answered from the recording), then BLP, the initial
// ADL, PRP and the first CHG go out (contacts::tests checks the whole sequence).

#[test]
fn msnp15_sso_login_matches_the_recording() {
    let after = lines_after_recorded_login(15, NO_GUID);
    assert_eq!(after[0], "BLP 5 AL");
    assert!(
        after.iter().any(|l| l == "CHG 8 NLN 2147483680 0"),
        "{after:?}"
    );
}

#[test]
fn msnp18_sso_login_sends_the_machine_guid() {
    let after = lines_after_recorded_login(18, "{0961ffc4-f6e6-41a0-9845-2214a26f069d}");
    assert_eq!(after[0], "BLP 5 AL");
    assert!(
        after.iter().any(|l| l == "CHG 8 NLN 2415919136:0 0"),
        "{after:?}"
    );
}

#[test]
fn version_zero_is_unsupported() {
    let mut h = Sim::new(18, "alice@example.com", "x", NO_GUID);
    h.connected();
    h.feed(b"VER 1 0\r\n");
    assert!(
        matches!(h.ended(), Some(EndReason::UnsupportedVersion { .. })),
        "{:?}",
        h.events
    );
}

#[test]
fn a_version_not_offered_is_unsupported() {
    let mut h = Sim::new(12, "alice@example.com", "x", NO_GUID);
    h.connected();
    h.feed(b"VER 1 MSNP18\r\n");
    assert!(matches!(
        h.ended(),
        Some(EndReason::UnsupportedVersion { .. })
    ));
}

#[test]
fn xfr_ns_redirect_reconnects_and_restarts_at_ver() {
    let mut h = Sim::new(12, "alice@example.com", "x", NO_GUID);
    h.connected();
    h.feed(b"VER 1 MSNP12\r\nCVR 2 7.5.0324 7.5.0324 7.5.0324 https://a https://b\r\n");
    h.take_lines();
    h.feed(b"XFR 3 NS 127.0.0.2:1999 0 127.0.0.1:1863\r\n");
    assert_eq!(
        h.connects
            .last()
            .map(|(_, host, port)| (host.as_str(), *port)),
        Some(("127.0.0.2", 1999))
    );
    h.connected();
    assert!(
        h.take_lines()[0].starts_with("VER 1 MSNP12"),
        "TrIDs restart at 1"
    );
}

#[test]
fn out_reasons_end_the_session_distinctly() {
    for (line, reason) in [
        (&b"OUT OTH\r\n"[..], EndReason::SignedInElsewhere),
        (b"OUT SSD\r\n", EndReason::ServerShutdown),
        (b"OUT\r\n", EndReason::ServerClosed),
    ] {
        let mut h = Sim::new(12, "alice@example.com", "x", NO_GUID);
        h.connected();
        h.feed(line);
        assert_eq!(h.ended(), Some(&reason));
    }
}

#[test]
fn numeric_auth_error_is_bad_credentials() {
    let mut h = Sim::new(15, "alice@example.com", "x", NO_GUID);
    h.connected();
    h.feed(b"VER 1 MSNP15\r\nCVR 2 8.5.1302 8.5.1302 8.5.1302 https://a https://b\r\n911 3\r\n");
    assert_eq!(h.ended(), Some(&EndReason::BadCredentials));
}

#[test]
fn challenge_is_answered_with_the_versions_product() {
    let mut h = Sim::new(12, "alice@example.com", "x", NO_GUID);
    h.connected();
    h.feed(b"VER 1 MSNP12\r\n");
    h.take_lines();
    h.feed(b"CHL 0 22210219642164014968\r\n");
    let sent = String::from_utf8(std::mem::take(&mut h.sent)).unwrap();
    assert_eq!(
        sent,
        "QRY 3 PROD0090YUAUV{2B 32\r\n85ecb0db8f32113df79ce0892b9a102c"
    );
}

#[test]
fn login_that_never_finishes_times_out() {
    let mut h = Sim::new(12, "alice@example.com", "x", NO_GUID);
    h.connected();
    h.advance(Duration::from_secs(59));
    assert_eq!(h.ended(), None);
    h.advance(Duration::from_secs(2));
    assert_eq!(h.ended(), Some(&EndReason::Timeout));
}

#[test]
fn keepalive_pings_and_a_missed_pong_ends_the_session() {
    let mut h = replay_login(
        "msnp12/alice-ns.raw.txt",
        "msnp12",
        12,
        "alice@example.com",
        "alicepass",
        NO_GUID,
    );
    assert!(h.signed_in());
    h.take_lines();
    h.advance(Duration::from_secs(50));
    assert_eq!(h.take_lines(), ["PNG"]);
    h.feed(b"QNG 20\r\n");
    h.advance(Duration::from_secs(19));
    assert!(h.take_lines().is_empty());
    h.advance(Duration::from_secs(1));
    assert_eq!(h.take_lines(), ["PNG"]);
    h.advance(Duration::from_secs(19));
    assert_eq!(h.ended(), None, "the pong deadline is the ping interval");
    h.advance(Duration::from_secs(1));
    assert_eq!(h.ended(), Some(&EndReason::Timeout));
}

#[test]
fn wrong_password_from_passport_is_bad_credentials() {
    let mut h = Sim::new(12, "alice@example.com", "wrong", NO_GUID);
    h.connected();
    h.feed(b"VER 1 MSNP12\r\nCVR 2 7.5.0324 7.5.0324 7.5.0324 https://a https://b\r\nUSR 3 TWN S ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1\r\n");
    h.answer(b"HTTP/1.1 200 OK\r\nPassporturls: DALogin=https://127.0.0.1:8443/login\r\n\r\n");
    h.answer(
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Passport1.4 da-status=failed\r\n\r\n",
    );
    assert_eq!(h.ended(), Some(&EndReason::BadCredentials));
}

#[test]
fn garbage_and_unknown_commands_are_ignored_while_signing_in() {
    let mut h = Sim::new(12, "alice@example.com", "x", NO_GUID);
    h.connected();
    h.feed(b"MSG Hotmail Hotmail\r\nZZZ 1 2 3\r\nVER x\r\n\x00\x01\r\n");
    assert_eq!(h.ended(), None, "{:?}", h.events);
    h.feed(b"VER 1 MSNP12\r\n");
    assert!(h.take_lines().iter().any(|l| l.starts_with("CVR 2 ")));
}

#[test]
fn an_unsolicited_qng_sets_the_ping_interval() {
    let mut h = replay_login(
        "msnp12/alice-ns.raw.txt",
        "msnp12",
        12,
        "alice@example.com",
        "alicepass",
        NO_GUID,
    );
    h.take_lines();
    h.feed(b"QNG 5\r\n");
    h.advance(Duration::from_secs(5));
    assert_eq!(h.take_lines(), ["PNG"]);
    h.advance(Duration::from_secs(5));
    assert_eq!(h.ended(), Some(&EndReason::Timeout));
}

/// Greet-on-open at MSNP18 against a real sign-in: opening a conversation is refused while
/// signing in (the glue opens those once signed in), and after the recorded sign-in, address
/// book and the contact's presence lines (`1:` network prefix, endpoint data, the server's copy
/// of our own presence) it asks for a switchboard at once, whatever the case of the name.
#[test]
fn msnp18_opening_a_conversation_asks_for_a_switchboard_after_a_real_sign_in() {
    let account = "alice@example.com";
    let t = transcript::load("msnp18/alice-ns.raw.txt");
    let mut exchanges = testlog::load("msnp18").into_iter();
    let mut h = Sim::new(
        18,
        account,
        "alicepass",
        "{0961ffc4-f6e6-41a0-9845-2214a26f069d}",
    );
    h.connected();
    let mut presence = false;
    for (_, bytes) in t.chunks.iter().filter(|(from_server, _)| *from_server) {
        if !h.signed_in() {
            assert_eq!(
                h.session.open_conversation("bob@example.com", h.now),
                Err(SendError::NotSignedIn)
            );
        }
        h.feed(bytes);
        answer_recorded_http(&mut h, &mut exchanges, account);
        if bytes.starts_with(b"UBX 1:bob@example.com ") {
            presence = true;
            break;
        }
    }
    assert!(presence, "the recording has Bob's presence");
    assert!(h.events.iter().any(|e| matches!(e,
        Event::Contact(ContactEvent::Presence(p)) if p.email == "bob@example.com" && p.status.is_some())));
    h.take_lines();
    assert_eq!(
        h.session.open_conversation("Bob@Example.com", h.now),
        Ok(())
    );
    h.drain();
    let lines = h.take_lines();
    assert!(
        matches!(lines.as_slice(), [xfr] if xfr.starts_with("XFR ") && xfr.ends_with(" SB")),
        "{lines:?}"
    );
}
