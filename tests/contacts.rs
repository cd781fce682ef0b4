//! The contact list through purple-stub on real libpurple against the project's test server,
//! for an MSNP12 and an MSNP18 account: the initial list with groups and aliases, buddy and
//! group changes reaching the server, privacy, authorization requests, presence with status
//! messages both ways, invisibility, and a 5,000-contact list.

mod common;

use std::time::Duration;

use common::accounts::{self, users};
use common::contacts::{
    buddies, forward_list, listed, lists_of, online, online_as, server_alias, wait_info,
    wait_server_list, wait_status, STEP,
};
use common::plugin::PluginDir;
use common::stub::{pct, Stub};
use msnp_testserver::{ServerConfig, TestServer};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";
const DAVE: &str = "dave@example.com";
/// The allow and block list bits of the server's list bitmask.
const AL: u8 = 2;
const BL: u8 = 4;
/// The group contacts in no server group are shown in.
const DEFAULT: &str = "Other Contacts";

/// Alice, Bob, Carol and Dave; Alice and Bob have each other on their lists.
fn config() -> ServerConfig {
    users()
        .with_user(DAVE, "davepass", "Dave")
        .with_contact(ALICE, BOB, 11)
        .with_contact(BOB, ALICE, 11)
}

fn stub(plugins: &PluginDir) -> Stub {
    accounts::stub(plugins, false)
}

/// Waits until the `account-info` of `email` lists exactly `want` as `(who, group)`.
fn wait_buddies(stub: &mut Stub, email: &str, want: &[(&str, &str)]) -> serde_json::Value {
    let mut want: Vec<(String, String)> = want
        .iter()
        .map(|(w, g)| ((*w).to_owned(), (*g).to_owned()))
        .collect();
    want.sort();
    wait_info(stub, email, STEP, move |i| buddies(i) == want)
}

/// The `(label, value)` entries of `who`'s tooltip in `account` (what Pidgin shows on hovering).
fn tooltip(stub: &mut Stub, account: &str, who: &str) -> Vec<(String, String)> {
    stub.send(&format!("tooltip {} {}", pct(account), pct(who)));
    let event = stub.wait_for(STEP, |e| e["event"] == "tooltip");
    event["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (text("label"), text("value"))
        })
        .collect()
}

fn presence_both_ways(version: u32) {
    let server = TestServer::start(config()).unwrap();
    let plugins = PluginDir::new();
    let (mut a, mut b) = (stub(&plugins), stub(&plugins));
    online(&mut a, &server, ALICE, version);
    let info = wait_buddies(&mut a, ALICE, &[(BOB, DEFAULT)]);
    assert_eq!(server_alias(&info, BOB).as_deref(), Some("Bob"), "{info}");
    assert_eq!(info["display_name"], "Alice");

    online_as(&mut b, &server, BOB, version, "away", "out for lunch");
    wait_status(&mut a, ALICE, BOB, "away", Some("out for lunch"));
    wait_status(&mut b, BOB, ALICE, "available", None);
    let tip = tooltip(&mut a, ALICE, BOB);
    for entry in [("Status", "Away"), ("Message", "out for lunch")] {
        let entry = (entry.0.to_owned(), entry.1.to_owned());
        assert!(tip.contains(&entry), "{entry:?} not in {tip:?}");
    }

    a.send(&format!(
        "status {} busy message=in%20a%20meeting",
        pct(ALICE)
    ));
    wait_status(&mut b, BOB, ALICE, "busy", Some("in a meeting"));
    b.send(&format!("status {} available message=back", pct(BOB)));
    wait_status(&mut a, ALICE, BOB, "available", Some("back"));

    // Invisible looks offline to the others, and back again.
    a.send(&format!("status {} invisible", pct(ALICE)));
    wait_status(&mut b, BOB, ALICE, "offline", None);
    a.send(&format!("status {} available", pct(ALICE)));
    wait_status(&mut b, BOB, ALICE, "available", None);

    // Idle shows as idle, and back.
    a.send(&format!("idle {} 600", pct(ALICE)));
    b.wait_for(STEP, |e| {
        e["event"] == "buddy-status" && e["why"] == "idle" && e["idle"] == true
    });
    a.send(&format!("idle {} 0", pct(ALICE)));
    b.wait_for(STEP, |e| {
        e["event"] == "buddy-status" && e["why"] == "idle" && e["idle"] == false
    });

    // Our friendly name reaches the server and the other side.
    a.send(&format!("public-alias {} Alice%20A.", pct(ALICE)));
    a.wait_for(STEP, |e| e["event"] == "public-alias" && e["ok"] == true);
    wait_info(&mut b, BOB, STEP, |i| {
        server_alias(i, ALICE).as_deref() == Some("Alice A.")
    });
    wait_info(&mut a, ALICE, STEP, |i| i["display_name"] == "Alice A.");

    b.send(&format!("disable {}", pct(BOB)));
    wait_status(&mut a, ALICE, BOB, "offline", None);
    let tip = tooltip(&mut a, ALICE, BOB);
    assert!(tip.iter().all(|(label, _)| label != "Status"), "{tip:?}");
    assert!(a.quit().success());
    assert!(b.quit().success());
}

#[test]
fn msnp12_presence_and_status_messages_both_ways() {
    presence_both_ways(12);
}

#[test]
fn msnp18_presence_and_status_messages_both_ways() {
    presence_both_ways(18);
}

fn list_changes_reach_the_server(version: u32) {
    let server = TestServer::start(config()).unwrap();
    let plugins = PluginDir::new();
    let mut a = stub(&plugins);
    online(&mut a, &server, ALICE, version);
    wait_buddies(&mut a, ALICE, &[(BOB, DEFAULT)]);

    // Add into a new group, move between groups, name a buddy, rename and remove groups.
    a.send(&format!(
        "add-buddy {} {} group=Friends",
        pct(ALICE),
        pct(CAROL)
    ));
    wait_buddies(&mut a, ALICE, &[(BOB, DEFAULT), (CAROL, "Friends")]);
    a.send(&format!("add-buddy {} {}", pct(ALICE), pct(DAVE)));
    a.send(&format!("move-buddy {} {} Work", pct(ALICE), pct(BOB)));
    a.send(&format!("alias-buddy {} {} Bobby", pct(ALICE), pct(BOB)));
    a.send(&format!("rename-group {} Friends Pals", pct(ALICE)));
    a.send(&format!("move-buddy {} {} Work", pct(ALICE), pct(DAVE)));
    a.send(&format!("move-buddy {} {} Work", pct(ALICE), pct(CAROL)));
    a.send(&format!("remove-group {} Pals", pct(ALICE)));
    wait_buddies(
        &mut a,
        ALICE,
        &[(BOB, "Work"), (CAROL, "Work"), (DAVE, "Work")],
    );
    wait_server_list(&server, &a, ALICE, |list, groups| {
        let work = || vec!["Work".to_owned()];
        forward_list(list)
            == [
                (BOB.to_owned(), work()),
                (CAROL.to_owned(), work()),
                (DAVE.to_owned(), work()),
            ]
            && !groups.iter().any(|g| g == "Pals" || g == "Friends")
    });

    // A fresh Pidgin profile signs in and sees exactly the server's list.
    let mut fresh = stub(&plugins);
    a.send(&format!("disable {}", pct(ALICE)));
    a.wait_for(STEP, |e| e["event"] == "signed-off");
    online(&mut fresh, &server, ALICE, version);
    let info = wait_buddies(
        &mut fresh,
        ALICE,
        &[(BOB, "Work"), (CAROL, "Work"), (DAVE, "Work")],
    );
    // The server's names: Carol's own, and the one given to Bob where the server keeps it.
    assert_eq!(
        server_alias(&info, CAROL).as_deref(),
        Some("Carol"),
        "{info}"
    );
    let bob = server_alias(&info, BOB);
    assert!(matches!(bob.as_deref(), Some("Bobby" | "Bob")), "{info}");
    accounts::ns_barrier(&server, &mut fresh, ALICE);
    assert!(
        !fresh
            .events_seen()
            .iter()
            .any(|e| e["event"] == "group-added" && e["group"] == "Pals"),
        "the removed group came back"
    );

    // Removing buddies reaches the server too.
    fresh.send(&format!("remove-buddy {} {}", pct(ALICE), pct(DAVE)));
    fresh.send(&format!("remove-buddy {} {}", pct(ALICE), pct(CAROL)));
    wait_buddies(&mut fresh, ALICE, &[(BOB, "Work")]);
    wait_server_list(&server, &fresh, ALICE, |list, _| {
        forward_list(list) == [(BOB.to_owned(), vec!["Work".to_owned()])]
    });
    fresh.send(&format!("disable {}", pct(ALICE)));
    fresh.wait_for(STEP, |e| e["event"] == "signed-off");
    let mut third = stub(&plugins);
    online(&mut third, &server, ALICE, version);
    wait_buddies(&mut third, ALICE, &[(BOB, "Work")]);
    for s in [a, fresh, third] {
        assert!(s.quit().success());
    }
}

#[test]
fn msnp12_buddy_and_group_changes_reach_the_server() {
    list_changes_reach_the_server(12);
}

#[test]
fn msnp18_buddy_and_group_changes_reach_the_server() {
    list_changes_reach_the_server(18);
}

fn authorization_and_blocking(version: u32) {
    let server = TestServer::start(config()).unwrap();
    let plugins = PluginDir::new();
    let (mut a, mut c) = (stub(&plugins), stub(&plugins));
    online(&mut a, &server, ALICE, version);
    online(&mut c, &server, CAROL, 12);
    let mut d = stub(&plugins);
    online(&mut d, &server, DAVE, 18);

    // Carol and Dave add Alice: Alice is asked, accepts Carol and denies Dave.
    c.send(&format!("add-buddy {} {}", pct(CAROL), pct(ALICE)));
    d.send(&format!("add-buddy {} {}", pct(DAVE), pct(ALICE)));
    for (who, answer) in [(CAROL, "accept"), (DAVE, "deny")] {
        let request = a.wait_for(STEP, |e| {
            e["event"] == "auth-request" && e["who"] == who && e["account"] == ALICE
        });
        assert_eq!(request["on_list"], false, "{request}");
        a.send(&format!("auth {} {answer}", request["id"]));
    }
    let info = wait_info(&mut a, ALICE, STEP, |i| {
        listed(i, "permit", CAROL) && listed(i, "deny", DAVE)
    });
    assert!(!listed(&info, "deny", CAROL) && !listed(&info, "permit", DAVE));
    wait_status(&mut c, CAROL, ALICE, "available", None);

    // Blocking and unblocking Bob (who has Alice on his list): unblocking alone puts him
    // back on the allow list, as the official clients did.
    let mut b = stub(&plugins);
    online(&mut b, &server, BOB, version);
    wait_status(&mut b, BOB, ALICE, "available", None);
    a.send(&format!("deny {} {}", pct(ALICE), pct(BOB)));
    wait_status(&mut b, BOB, ALICE, "offline", None);
    a.send(&format!("undeny {} {}", pct(ALICE), pct(BOB)));
    wait_status(&mut b, BOB, ALICE, "available", None);
    wait_server_list(&server, &a, ALICE, |list, _| {
        let (bob, carol, dave) = (
            lists_of(list, BOB),
            lists_of(list, CAROL),
            lists_of(list, DAVE),
        );
        bob & AL != 0 && bob & BL == 0 && carol & AL != 0 && dave & BL != 0
    });
    // The server's answer puts Bob back on the local allow list.
    wait_info(&mut a, ALICE, STEP, |i| {
        !listed(i, "deny", BOB) && listed(i, "permit", BOB)
    });

    // The answers survive the next sign-in: no request again, same lists.
    a.send(&format!("disable {}", pct(ALICE)));
    a.wait_for(STEP, |e| e["event"] == "signed-off");
    let mut fresh = stub(&plugins);
    online(&mut fresh, &server, ALICE, version);
    let info = wait_info(&mut fresh, ALICE, STEP, |i| {
        listed(i, "permit", CAROL) && listed(i, "deny", DAVE) && listed(i, "permit", BOB)
    });
    assert!(!listed(&info, "deny", BOB), "{info}");
    accounts::ns_barrier(&server, &mut fresh, ALICE);
    assert!(
        !fresh
            .events_seen()
            .iter()
            .any(|e| e["event"] == "auth-request"),
        "asked again after sign-in"
    );
    for s in [a, b, c, d, fresh] {
        assert!(s.quit().success());
    }
}

#[test]
fn msnp12_authorization_requests_and_blocking() {
    authorization_and_blocking(12);
}

#[test]
fn msnp18_authorization_requests_and_blocking() {
    authorization_and_blocking(18);
}

fn local_only_buddies_are_offered_not_deleted(version: u32) {
    let server = TestServer::start(config()).unwrap();
    let plugins = PluginDir::new();
    let mut a = stub(&plugins);
    a.send(&accounts::add_account_line(
        &server,
        ALICE,
        "alicepass",
        version,
        accounts::Login::Https,
    ));
    a.send(&format!(
        "add-buddy {} {} group=Local",
        pct(ALICE),
        pct(CAROL)
    ));
    a.send(&format!("enable {}", pct(ALICE)));
    assert_eq!(accounts::outcome(&mut a, ALICE)["event"], "signed-on");
    let prompt = a.wait_for(STEP, |e| {
        e["event"] == "request" && e["title"] == "Buddy list synchronization"
    });
    assert!(prompt["secondary"]
        .as_str()
        .unwrap_or_default()
        .contains(CAROL));
    // The stub answers "No": Carol stays on this computer and off the server.
    wait_buddies(&mut a, ALICE, &[(BOB, DEFAULT), (CAROL, "Local")]);
    assert!(a.quit().success());
    let mut fresh = stub(&plugins);
    online(&mut fresh, &server, ALICE, version);
    wait_buddies(&mut fresh, ALICE, &[(BOB, DEFAULT)]);
    assert!(fresh.quit().success());
}

#[test]
fn msnp12_local_only_buddies_are_offered_not_deleted() {
    local_only_buddies_are_offered_not_deleted(12);
}

#[test]
fn msnp18_local_only_buddies_are_offered_not_deleted() {
    local_only_buddies_are_offered_not_deleted(18);
}

/// 5,000 contacts, applied over many passes: every one listed once, in the group the user
/// already had a buddy in, after that buddy and in the order the plugin delivers them (by
/// address), as libpurple's own append would leave them.
fn a_large_list_signs_in_complete(version: u32) {
    let mut config = users();
    for i in 0..5000 {
        config = config.with_contact(ALICE, &format!("user{i}@example.com"), 3);
    }
    let server = TestServer::start(config).unwrap();
    let plugins = PluginDir::new();
    let mut a = stub(&plugins);
    a.send(&accounts::add_account_line(
        &server,
        ALICE,
        "alicepass",
        version,
        accounts::Login::Https,
    ));
    let kept = "user999@example.com";
    a.send(&format!(
        "add-buddy {} {kept} group={}",
        pct(ALICE),
        pct(DEFAULT)
    ));
    a.send(&format!("enable {}", pct(ALICE)));
    assert_eq!(accounts::outcome(&mut a, ALICE)["event"], "signed-on");
    let info = wait_info(&mut a, ALICE, Duration::from_secs(120), |i| {
        i["count"] == 5000
    });
    let in_order: Vec<&str> = info["buddies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert_eq!(b["group"], DEFAULT, "{b}");
            b["who"].as_str().unwrap()
        })
        .collect();
    let mut rest: Vec<String> = (0..5000)
        .map(|i| format!("user{i}@example.com"))
        .filter(|w| w != kept)
        .collect();
    rest.sort();
    let mut want = vec![kept];
    want.extend(rest.iter().map(String::as_str));
    assert!(
        in_order == want,
        "buddy-list order: {:?}...",
        &in_order[..10]
    );
    // How long the main loop stalls meanwhile is measured by `make bench`, not asserted here.
    assert!(a.quit().success());
}

#[test]
fn msnp12_five_thousand_contacts_sign_in_complete() {
    a_large_list_signs_in_complete(12);
}

#[test]
fn msnp18_five_thousand_contacts_sign_in_complete() {
    a_large_list_signs_in_complete(18);
}

/// A contact's current media (`UBX` CurrentMedia) appears as libpurple's "now playing" status,
/// beside the personal message.
#[test]
fn msnp12_current_media_is_now_playing() {
    let media = "<Data><PSM>humming</PSM><CurrentMedia>WMP\\0Music\\01\\0{0} - {1}\\0Song Title\\0The Artist\\0The Album\\0</CurrentMedia></Data>";
    let mut config = config();
    let pushed = format!(
        "NLN NLN {BOB} Bob 1342177280 0\r\nUBX {BOB} {}\r\n{media}",
        media.len()
    );
    config.garbage_after = Some(("CHG".into(), pushed.into_bytes()));
    let server = TestServer::start(config).unwrap();
    let plugins = PluginDir::new();
    let mut a = stub(&plugins);
    online(&mut a, &server, ALICE, 12);
    let status = a.wait_for(STEP, |e| {
        e["event"] == "buddy-status" && e["who"] == BOB && !e["tune_title"].is_null()
    });
    assert_eq!(status["tune_title"], "Song Title", "{status}");
    assert_eq!(status["tune_artist"], "The Artist", "{status}");
    assert_eq!(status["tune_album"], "The Album", "{status}");
    assert!(a.quit().success());
}

/// Removing a buddy the server does not know (added while signed off, kept local at sign-in;
/// at MSNP12 the plugin shows the removal at once):
/// libpurple frees the buddy after the plugin's `remove_buddy` returns, as Pidgin and Finch do,
/// so the plugin must not remove it first (found by the soak, `tests/soak/`: a crash).
fn removing_a_local_only_buddy(version: u32) {
    let server = common::conversations::server();
    let plugins = PluginDir::new();
    let mut stub = accounts::stub(&plugins, false);
    stub.send(&accounts::add_account_line(
        &server,
        ALICE,
        "alicepass",
        version,
        accounts::Login::Https,
    ));
    stub.send(&format!(
        "add-buddy {} {} group=Soak",
        pct(ALICE),
        pct(DAVE)
    ));
    stub.send(&format!("enable {}", pct(ALICE)));
    assert_eq!(accounts::outcome(&mut stub, ALICE)["event"], "signed-on");
    stub.sync();
    stub.send(&format!("remove-buddy {} {}", pct(ALICE), pct(DAVE)));
    stub.sync();
    assert!(stub.is_running(), "purple-stub crashed");
    wait_info(&mut stub, ALICE, STEP, |i| {
        !buddies(i).iter().any(|(who, _)| who == DAVE)
    });
    assert!(stub.quit().success());
}

#[test]
fn removing_a_local_only_buddy_at_msnp12() {
    removing_a_local_only_buddy(12);
}

#[test]
fn removing_a_local_only_buddy_at_msnp18() {
    removing_a_local_only_buddy(18);
}
