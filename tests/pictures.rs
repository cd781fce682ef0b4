//! Display pictures through purple-stub on real libpurple against the project's test server, at
//! MSNP12 and MSNP18: Bob sets a buddy icon, Alice's libpurple gets the same bytes with the
//! picture's `SHA1D` as checksum, Alice's reaches Bob the same way, and when Alice signs in
//! again neither picture is fetched again.

mod common;

use common::accounts;
use common::conversations::{assert_healthy, online, server, ALICE, BOB, STEP};
use common::plugin::PluginDir;
use common::stub::{pct, Stub};
use msnp_testserver::{Event, Service, TestServer};
use serde_json::Value;

/// A picture of several P2P chunks: a real PNG with bytes after its end (decoders ignore them).
fn picture() -> Vec<u8> {
    let mut data = include_bytes!("../icons/msn-48.png").to_vec();
    data.extend((0..6000u32).map(|i| (i * 31 % 253) as u8));
    data
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// `XFR … SB` requests the server has received.
fn switchboard_requests(server: &TestServer) -> usize {
    server
        .transcript()
        .iter()
        .filter(|e| {
            e.service == Service::Ns
                && matches!(e.event, Event::Received)
                && e.line.starts_with("XFR ")
                && e.line.ends_with(" SB")
        })
        .count()
}

/// Every P2P `MSG` the clients sent carries `P2P-Dest`, and from MSNP16 also `P2P-Src`, as
/// `address;{guid}` naming the endpoints as the clients signed in to switchboards (`USR`/`ANS`).
fn assert_p2p_addressing(server: &TestServer, version: u32) {
    let sb = server
        .transcript()
        .into_iter()
        .filter(|e| e.service == Service::Sb && matches!(e.event, Event::Received));
    let mut endpoints = std::collections::HashSet::new();
    let mut p2p = Vec::new();
    for e in sb {
        let words: Vec<&str> = e.line.split(' ').collect();
        if matches!(words[0], "USR" | "ANS") {
            endpoints.insert(words[2].replace("%7B", "{").replace("%7D", "}"));
        }
        if let Some(p) = e.payload.as_deref().and_then(msnp::p2p::SbP2p::parse) {
            p2p.push(p);
        }
    }
    assert!(p2p.len() > 10, "P2P packets went both ways");
    for p in p2p {
        let dest = p.dest.expect("P2P-Dest");
        if version < 16 {
            assert!(!dest.contains(';') && p.src.is_none(), "{dest}");
            continue;
        }
        let src = p.src.expect("P2P-Src from MSNP16");
        for address in [&src, &dest] {
            assert!(address.contains(";{"), "{address}");
            assert!(
                endpoints.contains(address.as_str()),
                "{address} not in {endpoints:?}"
            );
        }
        assert_ne!(src.split(';').next(), dest.split(';').next());
    }
}

/// Waits until `account` has an icon for `who`; returns the event.
fn icon_of(stub: &mut Stub, account: &str, who: &str) -> Value {
    let (account, who) = (account.to_owned(), who.to_owned());
    stub.wait_for(STEP, move |e| {
        e["event"] == "buddy-icon-changed"
            && e["account"] == account.as_str()
            && e["who"] == who.as_str()
            && !e["hex"].is_null()
    })
}

/// Waits for Alice's libpurple to show Bob signing on.
fn bob_online(alice: &mut Stub) {
    alice.wait_for(STEP, |e| {
        e["event"] == "buddy-status"
            && e["account"] == ALICE
            && e["who"] == BOB
            && e["why"] == "signed-on"
    });
}

fn pictures_fetched_once(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut alice = accounts::stub(&plugins, false);
    let mut bob = accounts::stub(&plugins, false);
    online(&mut bob, &server, &[BOB], version);
    let data = picture();
    let file = bob.user_dir().join("bob.png");
    std::fs::write(&file, &data).unwrap();
    bob.send(&format!(
        "set-icon {} {}",
        pct(BOB),
        pct(file.to_str().unwrap())
    ));
    bob.wait_event(STEP, "icon-set");
    online(&mut alice, &server, &[ALICE], version);

    let icon = icon_of(&mut alice, ALICE, BOB);
    assert_eq!(icon["hex"], hex(&data), "the bytes Bob set");
    assert_eq!(icon["size"], data.len());
    // libpurple stores the checksum after telling about the icon: ask for it.
    alice.send(&format!("buddy-icon {} {}", pct(ALICE), pct(BOB)));
    let icon = alice.wait_event(STEP, "buddy-icon");
    let checksum = icon["checksum"].as_str().expect("a checksum").to_owned();
    assert_eq!(checksum.len(), 28, "base64 SHA-1 (SHA1D): {checksum}");
    assert_eq!(server.p2p_invites(), 1);
    assert_eq!(switchboard_requests(&server), 1);

    // The other way: Alice sets hers while online (a new CHG), Bob fetches it.
    let mine: Vec<u8> = picture().into_iter().rev().collect();
    let file = alice.user_dir().join("alice.png");
    std::fs::write(&file, &mine).unwrap();
    alice.send(&format!(
        "set-icon {} {}",
        pct(ALICE),
        pct(file.to_str().unwrap())
    ));
    let icon = icon_of(&mut bob, BOB, ALICE);
    assert_eq!(icon["hex"], hex(&mine), "the bytes Alice set");
    assert_eq!(server.p2p_invites(), 2);
    assert_eq!(
        switchboard_requests(&server),
        1,
        "Bob asks on the switchboard Alice opened"
    );
    for stub in [&mut alice, &mut bob] {
        assert!(
            !stub
                .events_seen()
                .iter()
                .any(|e| e["event"] == "conversation-created"),
            "a picture's switchboard opened no conversation"
        );
    }

    // Signed in again (her icon advertised from the start), Alice has Bob's picture already
    // and Bob hers: nothing is fetched.
    bob_online(&mut alice);
    alice.send(&format!("disable {}", pct(ALICE)));
    alice.wait_for(STEP, |e| e["event"] == "signed-off");
    alice.send(&format!("enable {}", pct(ALICE)));
    alice.wait_for(STEP, |e| e["event"] == "signed-on");
    bob_online(&mut alice);
    accounts::ns_barrier(&server, &mut alice, ALICE);
    accounts::ns_barrier(&server, &mut bob, BOB);
    let chg = server
        .transcript()
        .into_iter()
        .rev()
        .find(|e| e.service == Service::Ns && e.line.starts_with("CHG "))
        .map(|e| e.line)
        .unwrap();
    assert!(chg.contains("%3Cmsnobj%20Creator%3D%22alice"), "{chg}");
    assert_eq!(switchboard_requests(&server), 1, "no second fetch");
    alice.send(&format!("buddy-icon {} {}", pct(ALICE), pct(BOB)));
    let icon = alice.wait_event(STEP, "buddy-icon");
    assert_eq!(icon["checksum"], checksum.as_str());
    assert_eq!(icon["hex"], hex(&data));
    assert_eq!(server.p2p_invites(), 2);
    assert_p2p_addressing(&server, version);
    assert_healthy(&mut alice);
    assert_healthy(&mut bob);
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

#[test]
fn msnp12_pictures_go_both_ways_and_are_kept_across_sign_ins() {
    pictures_fetched_once(12);
}

#[test]
fn msnp18_pictures_go_both_ways_and_are_kept_across_sign_ins() {
    pictures_fetched_once(18);
}
