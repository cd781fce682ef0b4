//! Signed-in behaviour and fault switches: keep-alive, `CHG`, `BLP`, `ADL`, dual logins,
//! kicks, `CHL`/`QRY`, `drop_after`, `garbage_after`, `delay`, and shutdown on drop.

mod common;

use common::{login_sso, login_twn, Client};
use msnp_testserver::crypto::challenge;
use msnp_testserver::{ServerConfig, TestServer};
use std::time::{Duration, Instant};

const GUID_A: &str = "{0961ffc4-f6e6-41a0-9845-2214a26f069d}";
const GUID_B: &str = "{c79c9fc7-e116-49ae-b054-65c5df303239}";

fn config() -> ServerConfig {
    ServerConfig::default().with_user("alice@example.com", "alicepass", "Alice")
}

fn start(cfg: ServerConfig) -> TestServer {
    TestServer::start(cfg).unwrap()
}

#[test]
fn png_gets_qng_per_dialect_and_config() {
    let mut cfg = config();
    cfg.qng_seconds = 45;
    let s = start(cfg);
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    c.send("PNG");
    assert_eq!(c.line(), "QNG 45");
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 8);
    c.send("PNG");
    assert_eq!(c.line(), "QNG");
}

#[test]
fn ignore_png_never_answers() {
    let mut cfg = config();
    cfg.ignore_png = true;
    let s = start(cfg);
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    c.send("PNG");
    // Nothing comes before the close `OUT` asks for.
    c.send("OUT");
    c.expect_closed();
}

#[test]
fn chg_needs_capabilities_and_a_valid_status() {
    let s = start(config());
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    c.send("CHG 5 NLN");
    // No answer: the next line is the next command's.
    c.send("CHG 6 FLN 0");
    assert_eq!(c.line(), "201 6");
    c.send("CHG 7 NLN 1342177280 0");
    assert_eq!(c.line(), "CHG 7 NLN 1342177280 0");
    let mail = c.recv().unwrap();
    assert_eq!(mail.line, "MSG Hotmail Hotmail 195");
    c.send("CHG 8 AWY 1342177280 0");
    assert_eq!(c.line(), "CHG 8 AWY 1342177280 0");
    c.expect_nothing_before_qng();
}

#[test]
fn blp_unchanged_is_218_before_msnp13_only() {
    let s = start(config());
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    c.send("BLP 5 AL");
    assert_eq!(c.line(), "218 5");
    c.send("BLP 6 BL");
    assert_eq!(c.line(), "BLP 6 BL");
    c.send("OUT");
    let mut c = login_sso(&s, "alice@example.com", "alicepass", 15, None);
    c.send("BLP 5 BL");
    assert_eq!(c.line(), "BLP 5 BL");
}

#[test]
fn prp_renames_and_syn_reports_it() {
    let s = start(config());
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    c.send("PRP 5 MFN Alice%20(probe)");
    assert_eq!(c.line(), "PRP 5 MFN Alice%20(probe)");
    c.send("SYN 6 0 0");
    let syn: Vec<String> = (0..4).map(|_| c.line()).collect();
    assert_eq!(
        syn,
        [
            "SYN 6 2000-01-01T00:00:00.0-00:00 2000-01-01T00:00:00.0-00:00 0 0",
            "GTC A",
            "BLP AL",
            "PRP MFN Alice%20(probe)"
        ]
    );
    c.expect_nothing_before_qng();
}

#[test]
fn gcf_before_syn_is_715_and_syn_is_502_from_msnp13() {
    let s = start(config());
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    c.send("GCF 5 Shields.xml");
    assert_eq!(c.line(), "715 5");
    let mut c = login_sso(&s, "alice@example.com", "alicepass", 15, None);
    c.send("SYN 5 0 0");
    assert_eq!(c.line(), "502 5");
    c.send("GCF 6 Shields.xml");
    let r = c.recv().unwrap();
    assert_eq!(r.line, "GCF 6 Shields.xml 151");
}

#[test]
fn adl_with_reverse_list_bits_is_241_and_close() {
    let s = start(config());
    let mut c = login_sso(&s, "alice@example.com", "alicepass", 15, None);
    let ok = br#"<ml l="1"><d n="example.com"><c n="bob" l="3" t="1" /></d></ml>"#;
    c.send_payload(&format!("ADL 5 {}", ok.len()), ok);
    assert_eq!(c.line(), "ADL 5 OK");
    let bad = br#"<ml><d n="example.com"><c n="bob" l="8" t="1" /></d></ml>"#;
    c.send_payload(&format!("ADL 6 {}", bad.len()), bad);
    assert_eq!(c.line(), "241 6");
    c.expect_closed();
}

#[test]
fn second_login_before_msnp16_boots_the_first() {
    let s = start(config());
    let mut first = login_twn(&s, "alice@example.com", "alicepass", 12);
    let mut second = login_twn(&s, "alice@example.com", "alicepass", 12);
    assert_eq!(first.line(), "OUT OTH");
    first.expect_closed();
    second.send("PNG");
    assert_eq!(second.line(), "QNG 60");
}

#[test]
fn msnp18_boots_only_the_same_machine() {
    let s = start(config());
    let mut ep1 = login_sso(&s, "alice@example.com", "alicepass", 18, Some(GUID_A));
    let mut ep2 = login_sso(&s, "alice@example.com", "alicepass", 18, Some(GUID_B));
    ep1.send("PNG");
    assert_eq!(ep1.line(), "QNG 60");
    let mut ep3 = login_sso(&s, "alice@example.com", "alicepass", 18, Some(GUID_A));
    assert_eq!(ep1.line(), "OUT OTH");
    ep1.expect_closed();
    ep2.send("PNG");
    assert_eq!(ep2.line(), "QNG 60");
    ep3.send("PNG");
    assert_eq!(ep3.line(), "QNG 60");
}

/// The next reply whose verb is `verb` (others skipped).
fn next_of(c: &mut Client, verb: &str) -> common::Reply {
    loop {
        let r = c.recv().unwrap_or_else(|| panic!("no {verb}"));
        if r.verb() == verb {
            return r;
        }
    }
}

#[test]
fn uun_to_one_place_is_relayed_to_it_alone_as_ubn() {
    let s = start(config());
    let mut ep1 = login_sso(&s, "alice@example.com", "alicepass", 18, Some(GUID_A));
    let mut ep2 = login_sso(&s, "alice@example.com", "alicepass", 18, Some(GUID_B));
    let body = b"goawyplzthxbye";
    let to_ep2 = format!("UUN 5 alice@example.com;{GUID_B} 4 14");
    // Offline (no status yet): refused.
    ep1.send_payload(&to_ep2, body);
    assert_eq!(ep1.line(), "217 5");
    ep1.send("CHG 6 NLN 2788999228:48 0");
    next_of(&mut ep1, "CHG");
    ep2.send("CHG 6 NLN 2788999228:48 0");
    // Both places are signed in once the account's place list names both.
    let places = |r: &common::Reply| {
        let payload = r.payload.as_deref().unwrap_or_default();
        String::from_utf8_lossy(payload)
            .matches("<EndpointData")
            .count()
    };
    while places(&next_of(&mut ep1, "UBX")) != 2 {}
    ep1.send_payload(&to_ep2.replace("UUN 5", "UUN 7"), body);
    assert_eq!(next_of(&mut ep1, "UUN").line, "UUN 7 OK");
    let ubn = next_of(&mut ep2, "UBN");
    assert_eq!(ubn.line, format!("UBN alice@example.com;{GUID_A} 4 14"));
    assert_eq!(ubn.payload.as_deref(), Some(&body[..]));
    // The sender got none (its own place list, yes) before the answer to a later PNG.
    ep1.send("PNG");
    loop {
        let r = ep1.recv().expect("QNG");
        assert_ne!(r.verb(), "UBN", "{r:?}");
        if r.verb() == "QNG" {
            break;
        }
    }
    // Before MSNP13 there is no UUN: the connection is closed.
    let mut old = login_twn(&s, "alice@example.com", "alicepass", 12);
    old.send_payload("UUN 5 alice@example.com 4 14", body);
    old.expect_closed();
}

#[test]
fn kick_sends_out_with_the_reason_and_closes() {
    let s = start(config());
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    assert_eq!(s.kick("alice@example.com", "SSD"), 1);
    assert_eq!(c.line(), "OUT SSD");
    c.expect_closed();
    assert_eq!(s.kick("alice@example.com", "SSD"), 0);
}

fn chl_server(timeout: Duration) -> TestServer {
    let mut cfg = config();
    cfg.send_chl = true;
    cfg.chl_timeout = timeout;
    start(cfg)
}

fn read_challenge(c: &mut Client) -> String {
    let line = c.line();
    let chl = line.strip_prefix("CHL 0 ").expect("CHL").to_owned();
    assert_eq!(chl.len(), 20);
    assert!(chl.chars().all(|d| d.is_ascii_digit()));
    chl
}

#[test]
fn correct_qry_is_acknowledged() {
    let s = chl_server(Duration::from_secs(5));
    for (dialect, product) in [(12, "PROD0090YUAUV{2B"), (8, "msmsgs@msnmsgr.com")] {
        let mut c = login_twn(&s, "alice@example.com", "alicepass", dialect);
        let chl = read_challenge(&mut c);
        let answer = challenge::expected_answer(&chl, product).unwrap();
        c.send_payload(&format!("QRY 9 {product} 32"), answer.as_bytes());
        assert_eq!(c.line(), "QRY 9");
        c.send("PNG");
        assert!(c.line().starts_with("QNG"));
    }
}

#[test]
fn wrong_qry_or_unknown_product_is_540_and_close() {
    let s = chl_server(Duration::from_secs(5));
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    read_challenge(&mut c);
    c.send_payload(
        "QRY 9 PROD0090YUAUV{2B 32",
        b"0123456789abcdef0123456789abcdef",
    );
    assert_eq!(c.line(), "540 9");
    c.expect_closed();
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    let chl = read_challenge(&mut c);
    let answer = challenge::msnp11_answer(&chl, "PROD9999XXXXXXXX", "KEYKEYKEYKEYKEY0");
    c.send_payload("QRY 9 PROD9999XXXXXXXX 32", answer.as_bytes());
    assert_eq!(c.line(), "540 9");
    c.expect_closed();
}

#[test]
fn missing_qry_times_out_with_540() {
    let s = chl_server(Duration::from_millis(300));
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    read_challenge(&mut c);
    assert_eq!(c.line(), "540 0");
    c.expect_closed();
}

#[test]
fn drop_after_closes_on_the_named_command() {
    let mut cfg = config();
    cfg.drop_after = Some("USR".to_owned());
    let s = start(cfg);
    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP12 CVR0");
    assert_eq!(c.line(), "VER 1 MSNP12");
    c.send("USR 2 TWN I alice@example.com");
    c.expect_closed();
}

#[test]
fn garbage_after_sends_raw_bytes_after_the_reply() {
    let mut cfg = config();
    cfg.garbage_after = Some(("VER".to_owned(), b"XYZ 1 \xff\r\n".to_vec()));
    let s = start(cfg);
    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP12 CVR0");
    assert_eq!(c.line(), "VER 1 MSNP12");
    assert_eq!(c.raw(9), b"XYZ 1 \xff\r\n");
}

#[test]
fn delay_holds_back_the_named_command() {
    let mut cfg = config();
    cfg.delay = Some(("CVR".to_owned(), Duration::from_millis(400)));
    let s = start(cfg);
    let mut c = Client::connect(s.ns_addr());
    c.send("VER 1 MSNP12 CVR0");
    c.line();
    let t = Instant::now();
    c.send("CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 7.5.0324 msmsgs alice@example.com");
    c.line();
    assert!(t.elapsed() >= Duration::from_millis(400));
}

#[test]
fn dropping_the_server_closes_connections_and_joins_threads() {
    for _ in 0..10 {
        let s = start(config());
        let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
        let mut idle = Client::connect(s.ns_addr());
        drop(s);
        c.expect_closed();
        idle.expect_closed();
    }
}

#[test]
#[should_panic(expected = "the client did what the real server refuses")]
fn strict_mode_records_unknown_verbs_and_trids_out_of_sequence_and_fails_the_test() {
    let s = start(config());
    let mut c = login_twn(&s, "alice@example.com", "alicepass", 12);
    c.send("ZZZ 5 x");
    c.send("BLP 5 AL");
    c.send("PNG");
    while c.recv().expect("the connection stays open").verb() != "QNG" {}
    let violations = s.violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(
        violations[0].contains("unknown command ZZZ 5 x"),
        "{violations:?}"
    );
    assert!(
        violations[1].contains("TrID 5 does not increase"),
        "{violations:?}"
    );
    drop(s);
}
