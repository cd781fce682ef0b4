//! `VER`/`CVR` and commands before login, as in `tests/transcripts/extra-negotiation`.

mod common;

use common::Client;
use msnp_testserver::{ServerConfig, TestServer};

fn server(cfg: ServerConfig) -> TestServer {
    TestServer::start(cfg.with_user("alice@example.com", "alicepass", "Alice")).unwrap()
}

fn ver(server: &TestServer, offer: &str) -> Client {
    let mut c = Client::connect(server.ns_addr());
    c.send(&format!("VER 1 {offer}"));
    c
}

#[test]
fn picks_the_highest_dialect_up_to_18() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP12 MSNP18 MSNP15 CVR0");
    assert_eq!(c.line(), "VER 1 MSNP18");
    c.send("OUT");
    c.expect_closed();
}

#[test]
fn version_tokens_are_case_insensitive() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "msnp12 CVR0");
    assert_eq!(c.line(), "VER 1 MSNP12");
}

#[test]
fn no_common_version_answers_zero_and_closes() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP99 CVR0");
    assert_eq!(c.line(), "VER 1 0");
    c.expect_closed();
    let mut c = ver(&s, "MSNP21 CVR0");
    assert_eq!(c.line(), "VER 1 0");
    c.expect_closed();
}

#[test]
fn msnp21_only_when_configured_like_escargot() {
    let s = server(ServerConfig::default().with_versions(2..=21));
    let mut c = ver(&s, "MSNP21 CVR0");
    assert_eq!(c.line(), "VER 1 MSNP21");
    let mut c = ver(&s, "MSNP21 MSNP8 CVR0");
    assert_eq!(c.line(), "VER 1 MSNP8");
}

#[test]
fn second_ver_is_715_and_close() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP12 CVR0");
    c.line();
    c.send("VER 2 MSNP12 CVR0");
    assert_eq!(c.line(), "715 2");
    c.expect_closed();
}

#[test]
fn non_numeric_ver_trid_closes() {
    // What is tested is the close; strict mode would also record the TrID.
    let s = server(ServerConfig {
        strict: false,
        ..ServerConfig::default()
    });
    let mut c = Client::connect(s.ns_addr());
    c.send("VER x MSNP12");
    c.expect_closed();
}

#[test]
fn commands_before_ver_close() {
    let s = server(ServerConfig::default());
    let mut c = Client::connect(s.ns_addr());
    c.send("CVR 1 0x0409 winnt 6.1.0 i386 MSNMSGR 7.5.0324 msmsgs alice@example.com");
    c.expect_closed();
}

#[test]
fn cvr_echoes_the_client_version() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP8 CVR0");
    c.line();
    c.send("CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 6.0.0602 msmsgs alice@example.com");
    assert_eq!(
        c.line(),
        "CVR 2 6.0.0602 6.0.0602 6.0.0602 https://escargot.log1p.xyz https://escargot.log1p.xyz"
    );
}

#[test]
fn cvr_with_fewer_than_six_arguments_closes() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP12 CVR0");
    c.line();
    c.send("CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR");
    c.expect_closed();
}

#[test]
fn inf_before_login_closes_silently() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP12 CVR0");
    c.line();
    c.send("INF 2");
    c.expect_closed();
}

#[test]
fn syn_before_login_is_ignored_then_png_closes() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP12 CVR0");
    c.line();
    c.send("SYN 2 0 0");
    // Nothing in answer: the close `PNG` causes is the next thing the client sees.
    c.send("PNG");
    c.expect_closed();
}

#[test]
fn overlong_line_closes() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP12 CVR0");
    c.line();
    c.send_raw(&vec![b'A'; 20_000]);
    c.expect_closed();
}

#[test]
fn transcript_records_both_directions() {
    let s = server(ServerConfig::default());
    let mut c = ver(&s, "MSNP12 CVR0");
    c.line();
    c.send("OUT");
    c.expect_closed();
    let conn = s.transcript()[0].conn;
    assert_eq!(
        s.ns_lines(conn),
        ["C>S VER 1 MSNP12 CVR0", "S>C VER 1 MSNP12", "C>S OUT"]
    );
    assert_eq!(s.ns_connections(), 1);
}
