//! Switchboard strictness: P2P (`application/x-msnmsgrp2p`) must be sent with ack mode `D`.
//! Escargot closes the connection of a client sending it with any other mode, and relays
//! nothing of it; the others see the sender leave.

mod common;

use common::{login_twn, Client};
use msnp_testserver::{ServerConfig, TestServer};

const P2P: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: bob@example.com\r\n\r\n\x00\x00\x00\x00";

fn server() -> TestServer {
    let config = ServerConfig::default()
        .with_user("alice@example.com", "alicepass", "Alice")
        .with_user("bob@example.com", "bobpass", "Bob")
        .with_contact("alice@example.com", "bob@example.com", 11)
        .with_contact("bob@example.com", "alice@example.com", 11);
    TestServer::start(config).unwrap()
}

/// Reads until a line starting with `prefix`.
fn until(c: &mut Client, prefix: &str) -> String {
    loop {
        let line = c.line();
        if line.starts_with(prefix) {
            return line;
        }
    }
}

/// Alice and Bob signed in at MSNP12 and in one switchboard: (Alice's, Bob's) connections.
fn conversation(server: &TestServer) -> (Client, Client) {
    let mut alice = login_twn(server, "alice@example.com", "alicepass", 12);
    let mut bob = login_twn(server, "bob@example.com", "bobpass", 12);
    alice.send("CHG 5 NLN 0 0");
    until(&mut alice, "CHG 5");
    bob.send("CHG 5 NLN 0 0");
    until(&mut bob, "CHG 5");
    alice.send("XFR 6 SB");
    let xfr = until(&mut alice, "XFR 6 SB");
    let words: Vec<&str> = xfr.split(' ').collect();
    let mut sb = Client::connect(words[3].parse().unwrap());
    sb.send(&format!("USR 1 alice@example.com {}", words[5]));
    until(&mut sb, "USR 1 OK");
    sb.send("CAL 2 bob@example.com");
    let rng = until(&mut bob, "RNG ");
    let words: Vec<&str> = rng.split(' ').collect();
    let mut bob_sb = Client::connect(words[2].parse().unwrap());
    bob_sb.send(&format!("ANS 1 bob@example.com {} {}", words[4], words[1]));
    until(&mut bob_sb, "ANS 1 OK");
    until(&mut sb, "JOI bob@example.com");
    (sb, bob_sb)
}

#[test]
fn p2p_with_ack_mode_d_is_relayed_and_acknowledged() {
    let server = server();
    let (mut alice, mut bob) = conversation(&server);
    alice.send_payload(&format!("MSG 3 D {}", P2P.len()), P2P);
    assert_eq!(alice.line(), "ACK 3");
    let relayed = bob.recv().unwrap();
    assert_eq!(
        relayed.line,
        format!("MSG alice@example.com Alice {}", P2P.len())
    );
    assert_eq!(relayed.payload.as_deref(), Some(P2P));
}

#[test]
fn p2p_with_another_ack_mode_closes_the_sender_and_is_not_relayed() {
    for mode in ["A", "N", "U"] {
        let server = server();
        let (mut alice, mut bob) = conversation(&server);
        alice.send_payload(&format!("MSG 3 {mode} {}", P2P.len()), P2P);
        alice.expect_closed();
        assert_eq!(bob.line(), "BYE alice@example.com", "mode {mode}");
        // The same payload with `D` from Bob still goes through (nobody is left to get it).
        bob.send_payload(&format!("MSG 2 D {}", P2P.len()), P2P);
        assert_eq!(bob.line(), "ACK 2", "mode {mode}");
    }
}
