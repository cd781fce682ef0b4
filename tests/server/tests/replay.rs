//! Replays the client side of real Escargot sessions (`tests/transcripts/*/alice-ns.raw.txt`)
//! against the test server and checks every server line matches the transcript's, modulo
//! tokens, nonces, times and the client's port. Lines caused by other users (presence) and by
//! commands of later issues (switchboard, `FQY`, `UUN`) are left out.

mod common;

use common::{raw_chunks, rst_ticket, take_reply, twn_token, Client, Reply};
use msnp_testserver::{ServerConfig, TestServer};

const ALICE_UUID: &str = "8221ece1-629a-4b44-b2e1-52c63b701275";
const BOB_UUID: &str = "dbd254aa-c066-4dc0-80db-f87fd43c2af2";
/// Client commands of later issues.
const SKIP_CLIENT: &[&str] = &["XFR", "FQY", "UUN"];

fn server() -> TestServer {
    let cfg = ServerConfig::default()
        .with_user("alice@example.com", "alicepass", "Alice")
        .with_user("bob@example.com", "bobpass", "Bob")
        .with_uuid("alice@example.com", ALICE_UUID)
        .with_uuid("bob@example.com", BOB_UUID)
        .with_contact("alice@example.com", "bob@example.com", 11);
    TestServer::start(cfg).unwrap()
}

/// Server lines the replay does not expect: other users' presence and later issues' replies.
fn skipped(r: &Reply) -> bool {
    matches!(
        r.verb(),
        "NLN" | "FLN" | "ILN" | "XFR" | "FQY" | "UUN" | "RNG"
    ) || (r.verb() == "UBX" && r.payload.as_ref().is_some_and(|p| !p.is_empty()))
}

/// The reply with its variable parts masked; checks their shape on the way.
fn normalise(r: &Reply) -> (String, Option<String>) {
    let mut line = r.line.clone();
    if let Some(nonce) = line
        .split(' ')
        .nth(5)
        .filter(|_| line.contains(" SSO S MBI_KEY_OLD "))
    {
        assert_eq!(nonce.len(), 64, "{line}");
        line = line.replace(nonce, "<nonce>");
    }
    if let Some(p) = &r.payload {
        let last = line.rsplit(' ').next().unwrap();
        assert_eq!(
            last.parse::<usize>().unwrap(),
            p.len(),
            "length token of {line}"
        );
    }
    if line.starts_with("MSG Hotmail Hotmail ") {
        line = "MSG Hotmail Hotmail <len>".to_owned();
    }
    let payload = r.payload.as_ref().map(|p| {
        let text = String::from_utf8(p.clone()).unwrap();
        text.split("\r\n")
            .map(|l| match l.split_once(": ") {
                Some((k @ ("LoginTime" | "ClientPort"), v)) => {
                    assert!(v.parse::<u64>().is_ok(), "{l}");
                    format!("{k}: <n>")
                }
                Some(("MSPAuth", v)) => {
                    assert!(v[..20].chars().all(|c| c.is_ascii_hexdigit()), "{l}");
                    format!("MSPAuth: <token>{}", &v[20..])
                }
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\r\n")
    });
    (line, payload)
}

/// Rewrites a client `USR ... S` with credentials valid on this server.
fn fresh_credentials(server: &TestServer, line: &str, nonce: &str) -> String {
    let t: Vec<&str> = line.split(' ').collect();
    match (t.get(2), t.get(3)) {
        (Some(&"TWN"), Some(&"S")) => {
            format!(
                "USR {} TWN S {}",
                t[1],
                twn_token(server, "alice@example.com", "alicepass")
            )
        }
        (Some(&"SSO"), Some(&"S")) => {
            let (ticket, secret) = rst_ticket(server, "alice@example.com", "alicepass");
            let mut out = format!("USR {} SSO S {ticket}", t[1]);
            if t.len() > 5 {
                let blob = msnp_testserver::crypto::mbi::build(&secret, nonce, [9; 8]);
                out.push_str(&format!(" {blob}"));
            }
            for extra in t.iter().skip(6) {
                out.push_str(&format!(" {extra}"));
            }
            out
        }
        _ => line.to_owned(),
    }
}

fn replay(transcript: &str) {
    let server = server();
    let mut client = Client::connect(server.ns_addr());
    let mut expected_buf = Vec::new();
    let mut nonce = String::new();
    let mut compared = 0;
    for (from_client, bytes) in raw_chunks(transcript) {
        if from_client {
            let text = String::from_utf8(bytes.clone()).unwrap();
            let verb = text.split(' ').next().unwrap();
            if SKIP_CLIENT.contains(&verb) {
                continue;
            }
            if text.starts_with("USR ") && text.contains(" S ") {
                let line = text.trim_end_matches("\r\n");
                client.send(&fresh_credentials(&server, line, &nonce));
            } else {
                client.send_raw(&bytes);
            }
            continue;
        }
        expected_buf.extend_from_slice(&bytes);
        while let Some(expected) = take_reply(&mut expected_buf) {
            if skipped(&expected) {
                continue;
            }
            let actual = client
                .recv()
                .unwrap_or_else(|| panic!("closed; expected {expected:?}"));
            if let Some(n) = actual.line.strip_prefix("USR 3 SSO S MBI_KEY_OLD ") {
                nonce = n.to_owned();
            }
            assert_eq!(normalise(&actual), normalise(&expected), "{transcript}");
            compared += 1;
        }
    }
    assert!(expected_buf.is_empty());
    client.expect_closed();
    assert!(compared >= 7, "only {compared} lines compared");
    assert_eq!(server.logins(), 1);
}

#[test]
fn msnp8_twn_login_and_syn() {
    replay("msnp8/alice-ns.raw.txt");
}

#[test]
fn msnp12_twn_login_syn_gcf_chg_uux_png() {
    replay("msnp12/alice-ns.raw.txt");
}

#[test]
fn msnp15_sso_login_with_blob() {
    replay("msnp15/alice-ns.raw.txt");
}

#[test]
fn msnp15_sso_login_without_blob() {
    replay("msnp15-norps/alice-ns.raw.txt");
}

#[test]
fn msnp18_sso_login_with_machine_guid() {
    replay("msnp18/alice-ns.raw.txt");
}
