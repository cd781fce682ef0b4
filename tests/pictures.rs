//! Display pictures through purple-stub on real libpurple against the project's test server, at
//! MSNP12 and MSNP18: Bob sets a buddy icon, Alice's libpurple gets the same bytes with the
//! picture's `SHA1D` as checksum, Alice's reaches Bob the same way, and when Alice signs in
//! again neither picture is fetched again; a changed picture replaces the old one and a removed
//! one is removed; a contact (a test-server client serving its picture) who signs out in the
//! middle of sending it leaves no icon; 500 contacts' pictures all arrive over a bounded number
//! of switchboards at once.

mod common;

use std::collections::HashMap;

use common::accounts;
use common::conversations::{assert_healthy, online, server, ALICE, BOB, CAROL, STEP};
use common::plugin::PluginDir;
use common::stub::{pct, Stub};
use msnp_testserver::peer::{picture_object, Behaviour, PictureHost};
use msnp_testserver::{Event, ServerConfig, Service, TestServer};
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
        2,
        "Alice left her picture's switchboard once done; Bob opens his own"
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
    assert_eq!(switchboard_requests(&server), 2, "no third fetch");
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

/// Sets `account`'s buddy icon to `data` (`None`: removes it).
fn set_icon(stub: &mut Stub, account: &str, data: Option<&[u8]>) {
    match data {
        Some(data) => {
            let file = stub.user_dir().join(format!("icon-{}.png", data.len()));
            std::fs::write(&file, data).unwrap();
            stub.send(&format!(
                "set-icon {} {}",
                pct(account),
                pct(file.to_str().unwrap())
            ));
        }
        None => stub.send(&format!("set-icon {}", pct(account))),
    }
    stub.wait_event(STEP, "icon-set");
}

/// The icon `account`'s libpurple stores for `who` now: (checksum, hex).
fn stored_icon(stub: &mut Stub, account: &str, who: &str) -> (Value, Value) {
    stub.send(&format!("buddy-icon {} {}", pct(account), pct(who)));
    let who = who.to_owned();
    let icon = stub.wait_for(STEP, move |e| {
        e["event"] == "buddy-icon" && e["who"] == who.as_str()
    });
    (icon["checksum"].clone(), icon["hex"].clone())
}

fn pictures_changed_and_removed(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut alice = accounts::stub(&plugins, false);
    let mut bob = accounts::stub(&plugins, false);
    online(&mut bob, &server, &[BOB], version);
    let first = picture();
    set_icon(&mut bob, BOB, Some(&first));
    online(&mut alice, &server, &[ALICE], version);
    assert_eq!(icon_of(&mut alice, ALICE, BOB)["hex"], hex(&first));

    // Bob picks another picture: Alice's libpurple gets it, with its SHA1D as checksum.
    let second: Vec<u8> = picture().into_iter().take(3000).collect();
    set_icon(&mut bob, BOB, Some(&second));
    assert_eq!(icon_of(&mut alice, ALICE, BOB)["hex"], hex(&second));
    let sha1d = picture_object(BOB, &second).sha1d;
    let (checksum, data) = stored_icon(&mut alice, ALICE, BOB);
    assert_eq!(checksum, sha1d.as_str());
    assert_eq!(data, hex(&second));

    // Bob removes his picture: so does Alice's libpurple.
    set_icon(&mut bob, BOB, None);
    alice.wait_for(STEP, |e| {
        e["event"] == "buddy-icon-changed" && e["who"] == BOB && e["hex"].is_null()
    });
    let (checksum, data) = stored_icon(&mut alice, ALICE, BOB);
    assert!(checksum.is_null() && data.is_null(), "{checksum} {data}");
    assert_eq!(server.p2p_invites(), 2, "one fetch per picture");
    assert_healthy(&mut alice);
    assert_healthy(&mut bob);
}

#[test]
fn msnp12_a_changed_picture_replaces_the_old_and_a_removed_one_is_removed() {
    pictures_changed_and_removed(12);
}

#[test]
fn msnp18_a_changed_picture_replaces_the_old_and_a_removed_one_is_removed() {
    pictures_changed_and_removed(18);
}

fn offline_mid_fetch(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut alice = accounts::stub(&plugins, false);
    let data = picture();
    let carol = PictureHost::start(
        &server,
        CAROL,
        "carolpass",
        Some(data.clone()),
        Behaviour::SignOutMidFetch,
    )
    .unwrap();
    online(&mut alice, &server, &[ALICE], version);
    // The barrier: Carol signed out after the first chunk of her picture, and Alice's
    // libpurple shows her offline; everything before is applied at the sync.
    alice.wait_for(STEP, |e| {
        e["event"] == "buddy-status" && e["who"] == CAROL && e["why"] == "signed-off"
    });
    assert!(carol.signed_out(), "Carol left in the middle of the fetch");
    alice.sync();
    let set = alice
        .events_seen()
        .iter()
        .any(|e| e["event"] == "buddy-icon-changed" && e["who"] == CAROL);
    assert!(!set, "no icon from half a picture");
    let (checksum, icon) = stored_icon(&mut alice, ALICE, CAROL);
    assert!(checksum.is_null() && icon.is_null(), "{checksum} {icon}");
    assert_eq!(carol.invites(), 1);
    drop(carol);

    // Back online, Carol's picture arrives whole.
    let carol = PictureHost::start(
        &server,
        CAROL,
        "carolpass",
        Some(data.clone()),
        Behaviour::Serve,
    )
    .unwrap();
    assert_eq!(icon_of(&mut alice, ALICE, CAROL)["hex"], hex(&data));
    assert_eq!(carol.error(), None);
    assert_healthy(&mut alice);
}

#[test]
fn msnp12_a_contact_going_offline_mid_fetch_leaves_no_icon() {
    offline_mid_fetch(12);
}

#[test]
fn msnp18_a_contact_going_offline_mid_fetch_leaves_no_icon() {
    offline_mid_fetch(18);
}

/// Contacts in the many-contacts test.
const HOSTS: usize = 500;
/// Most switchboards Alice may be in at once: two fetches at a time, and the switchboards of
/// finished fetches being left while the next ones open.
const MAX_SWITCHBOARDS: usize = 4;

fn host(i: usize) -> String {
    format!("host{i}@example.com")
}

fn many_pictures(version: u32) {
    let mut config = ServerConfig::default().with_user(ALICE, "alicepass", "Alice");
    for i in 0..HOSTS {
        config = config
            .with_user(&host(i), "x", &format!("Host {i}"))
            .with_contact(ALICE, &host(i), 0x0B)
            .with_contact(&host(i), ALICE, 0x0B);
    }
    let server = TestServer::start(config).unwrap();
    let pictures: HashMap<String, Vec<u8>> = (0..HOSTS)
        .map(|i| {
            let mut data = include_bytes!("../icons/msn-48.png").to_vec();
            data.extend(format!("host {i}").bytes());
            (host(i), data)
        })
        .collect();
    let hosts =
        PictureHost::start_many(&server, HOSTS, host, "x", |i| pictures[&host(i)].clone()).unwrap();
    let plugins = PluginDir::new();
    let mut alice = accounts::stub(&plugins, false);
    online(&mut alice, &server, &[ALICE], version);
    let mut icons = HashMap::new();
    while icons.len() < HOSTS {
        let icon = alice.wait_for(STEP, |e| {
            e["event"] == "buddy-icon-changed" && e["account"] == ALICE && !e["hex"].is_null()
        });
        let who = icon["who"].as_str().unwrap().to_owned();
        icons.insert(who, icon["hex"].as_str().unwrap().to_owned());
    }
    for (who, data) in &pictures {
        assert_eq!(icons[who], hex(data), "{who}");
    }
    let peak = server.sb_peak(ALICE);
    assert!(
        peak <= MAX_SWITCHBOARDS,
        "{peak} switchboards at once for {HOSTS} pictures"
    );
    // Every picture's switchboard is left once its fetch is done.
    let deadline = std::time::Instant::now() + STEP * alice.time_factor();
    while server.sb_connections(ALICE) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "switchboards left open"
        );
        alice.sync();
    }
    assert_eq!(server.p2p_invites(), HOSTS as u64, "one fetch per picture");
    for h in &hosts {
        assert_eq!(h.error(), None);
    }
    PictureHost::stop_all(hosts);
    assert_healthy(&mut alice);
}

#[test]
fn msnp12_500_contacts_pictures_arrive_over_a_few_switchboards_at_once() {
    many_pictures(12);
}

#[test]
fn msnp18_500_contacts_pictures_arrive_over_a_few_switchboards_at_once() {
    many_pictures(18);
}
