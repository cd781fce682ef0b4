//! The `msnp-testserver` binary prints its ports as JSON, serves, and exits when stdin closes.

mod common;

use common::Client;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn prints_ports_and_stops_on_stdin_close() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_msnp-testserver"))
        .args([
            "--user",
            "alice@example.com:alicepass:Alice",
            "--versions",
            "8-18",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    let port = info["ns_port"].as_u64().unwrap() as u16;
    assert!(info["sso_url"].as_str().unwrap().ends_with("/RST.srf"));
    assert!(info["cert_pem"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE"));

    let mut c = Client::connect(([127, 0, 0, 1], port).into());
    c.send("VER 1 MSNP15 CVR0");
    assert_eq!(c.line(), "VER 1 MSNP15");

    drop(child.stdin.take());
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
    c.expect_closed();
}
