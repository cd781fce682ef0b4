//! File transfers through purple-stub on real libpurple against the project's test server, at
//! MSNP12 and MSNP18: Alice sends with "Send File..." (`send-file`), Bob's libpurple asks and
//! saves where told (`xfer-accept`), and the saved file equals the sent one byte for byte;
//! declines, cancels from either side and a switchboard lost mid-way end both sides' transfers
//! with libpurple's cancelled state and conversation lines, and the conversation goes on. The
//! same over a direct connection between the two stubs (the test server's counters show that
//! it relayed no file data), and with the account option for direct connections off.

mod common;

use std::path::{Path, PathBuf};

use common::accounts::{self, Login};
use common::conversations::{assert_healthy, next_im, send, server, text_of, ALICE, BOB, STEP};
use common::plugin::PluginDir;
use common::stub::{pct, Stub, WRAPPER_ENV};
use msnp_testserver::TestServer;
use serde_json::Value;

/// Two stubs: Alice's and Bob's, both signed in, each seeing the other online, with a
/// conversation with the other open (where libpurple writes the transfer lines).
struct Pair {
    server: TestServer,
    _plugins: PluginDir,
    alice: Stub,
    bob: Stub,
}

fn pair(version: u32) -> Pair {
    pair_with(version, true, true)
}

/// [`pair`] with the account option "Use direct connections for file transfers" as given
/// for Alice and Bob.
fn pair_with(version: u32, alice_direct: bool, bob_direct: bool) -> Pair {
    let server = server();
    let plugins = PluginDir::new();
    let mut alice = accounts::stub(&plugins, false);
    let mut bob = accounts::stub(&plugins, false);
    for (stub, email, direct) in [
        (&mut bob, BOB, bob_direct),
        (&mut alice, ALICE, alice_direct),
    ] {
        let password = format!("{}pass", email.split('@').next().unwrap_or_default());
        let line = accounts::add_account_line(&server, email, &password, version, Login::Https);
        stub.send(&format!("{line} direct_transfers={direct}"));
        stub.send(&format!("enable {}", pct(email)));
        let event = accounts::outcome(stub, email);
        assert_eq!(event["event"], "signed-on", "{email}: {event}");
    }
    alice.wait_for(STEP, |e| {
        e["event"] == "buddy-status" && e["who"] == BOB && e["online"] == true
    });
    // The conversation windows libpurple writes the transfer lines to.
    alice.send(&format!("open-im {} {}", pct(ALICE), pct(BOB)));
    bob.send(&format!("open-im {} {}", pct(BOB), pct(ALICE)));
    Pair {
        server,
        _plugins: plugins,
        alice,
        bob,
    }
}

/// Quits both stubs; each must exit cleanly (under valgrind: no invalid access or leak).
fn finish(p: Pair) {
    assert!(p.alice.quit().success(), "Alice's purple-stub");
    assert!(p.bob.quit().success(), "Bob's purple-stub");
}

/// Whether the stubs run under a wrapper (valgrind, `make memcheck`), where big files take
/// minutes.
fn wrapped() -> bool {
    std::env::var_os(WRAPPER_ENV).is_some()
}

/// A file long enough to be cancelled mid-way.
fn long_file() -> usize {
    let mb = if wrapped() { 8 } else { 64 };
    mb * 1024 * 1024
}

/// Deterministic bytes that differ from one position to the next.
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32 % 31) as u8
                ^ seed
        })
        .collect()
}

fn write(stub: &Stub, name: &str, data: &[u8]) -> PathBuf {
    let dir = stub.user_dir().join("outbox");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn save_path(stub: &Stub, name: &str) -> PathBuf {
    let dir = stub.user_dir().join("inbox");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// An `xfer-*` event of `account`'s transfer `id` (any transfer when `id` is `None`).
fn xfer_event(stub: &mut Stub, name: &str, account: &str, id: Option<i64>) -> Value {
    let (name, account) = (name.to_owned(), account.to_owned());
    stub.wait_for(STEP, move |e| {
        e["event"] == name.as_str()
            && e["account"] == account.as_str()
            && id.is_none_or(|id| e["id"] == id)
    })
}

/// Alice offers `path` to Bob; returns Alice's transfer id and Bob's offer event.
fn offer(p: &mut Pair, path: &Path) -> (i64, Value) {
    p.alice.send(&format!(
        "send-file {} {} {}",
        pct(ALICE),
        pct(BOB),
        pct(path.to_str().unwrap())
    ));
    let added = xfer_event(&mut p.alice, "xfer-added", ALICE, None);
    let request = xfer_event(&mut p.bob, "xfer-request", BOB, None);
    (added["id"].as_i64().unwrap(), request)
}

/// Sends `data` as `name` from Alice to Bob, accepted; checks both ends and the saved bytes.
fn transfer(p: &mut Pair, name: &str, data: &[u8]) {
    let path = write(&p.alice, name, data);
    let (sent, request) = offer(p, &path);
    assert_eq!(request["filename"], name);
    assert_eq!(request["size"], data.len());
    assert_eq!(request["who"], ALICE);
    let id = request["id"].as_i64().unwrap();
    let target = save_path(&p.bob, &format!("got-{name}"));
    p.bob.send(&format!(
        "xfer-accept {id} {}",
        pct(target.to_str().unwrap())
    ));
    let done = xfer_event(&mut p.bob, "xfer-completed", BOB, Some(id));
    assert_eq!(done["status"], "done");
    assert_eq!(done["bytes"], data.len());
    let done = xfer_event(&mut p.alice, "xfer-completed", ALICE, Some(sent));
    assert_eq!(done["bytes"], data.len());
    // The file is closed when the transfer is freed.
    xfer_event(&mut p.bob, "xfer-destroyed", BOB, Some(id));
    xfer_event(&mut p.alice, "xfer-destroyed", ALICE, Some(sent));
    let got = std::fs::read(&target).unwrap();
    assert!(
        got == data,
        "{name}: {} bytes saved of {}",
        got.len(),
        data.len()
    );
}

/// Over the switchboard (direct connections off; `direct` below does the same over one).
fn files_arrive_byte_exact(version: u32) {
    let mut p = pair_with(version, false, false);
    for (name, len) in [
        ("empty.bin", 0),
        ("one.bin", 1),
        ("chunk.bin", 1202),
        ("chunk-plus-one.bin", 1203),
        ("three-chunks.bin", 3 * 1202),
        ("résumé 日本語.txt", 5000),
        ("big.bin", if wrapped() { 1 } else { 3 } * 1024 * 1024 + 17),
    ] {
        transfer(&mut p, name, &content(len, len as u8));
    }
    // The conversation goes on.
    send(&mut p.alice, ALICE, BOB, "still here");
    assert_eq!(
        text_of(next_im(&mut p.bob, BOB, ALICE)["message"].as_str().unwrap()),
        "still here"
    );
    assert_healthy(&mut p.alice);
    assert_healthy(&mut p.bob);
    assert!(
        p.server.violations().is_empty(),
        "{:?}",
        p.server.violations()
    );
    finish(p);
}

#[test]
fn msnp12_files_arrive_byte_exact() {
    files_arrive_byte_exact(12);
}

#[test]
fn msnp18_files_arrive_byte_exact() {
    files_arrive_byte_exact(18);
}

/// Waits until Bob's libpurple has written at least `bytes` of transfer `id`.
fn bob_has(p: &mut Pair, id: i64, bytes: i64) {
    p.bob.wait_for(STEP, move |e| {
        e["event"] == "xfer-progress" && e["id"] == id && e["bytes"].as_i64() >= Some(bytes)
    });
}

/// Alice offers a file of `len` bytes and Bob accepts; returns (Alice's id, Bob's id, the
/// path Bob saves to).
fn started(p: &mut Pair, name: &str, len: usize) -> (i64, i64, PathBuf) {
    let path = write(&p.alice, name, &content(len, 7));
    let (sent, request) = offer(p, &path);
    let id = request["id"].as_i64().unwrap();
    let target = save_path(&p.bob, name);
    p.bob.send(&format!(
        "xfer-accept {id} {}",
        pct(target.to_str().unwrap())
    ));
    (sent, id, target)
}

/// Both sides' transfers ended cancelled, with the given statuses; the conversation works.
fn both_cancelled(p: &mut Pair, sent: i64, got: i64, alice_status: &str, bob_status: &str) {
    let a = xfer_event(&mut p.alice, "xfer-cancelled", ALICE, Some(sent));
    assert_eq!(a["status"], alice_status, "{a}");
    let b = xfer_event(&mut p.bob, "xfer-cancelled", BOB, Some(got));
    assert_eq!(b["status"], bob_status, "{b}");
    xfer_event(&mut p.alice, "xfer-destroyed", ALICE, Some(sent));
    xfer_event(&mut p.bob, "xfer-destroyed", BOB, Some(got));
    for (stub, account) in [(&mut p.alice, ALICE), (&mut p.bob, BOB)] {
        stub.sync();
        let completed = stub
            .events_seen()
            .iter()
            .any(|e| e["event"] == "xfer-completed" && e["account"] == account);
        assert!(
            !completed,
            "{account}: a cancelled transfer reported complete"
        );
    }
}

fn conversation_goes_on(p: &mut Pair) {
    send(&mut p.bob, BOB, ALICE, "after the transfer");
    let im = next_im(&mut p.alice, ALICE, BOB);
    assert_eq!(
        text_of(im["message"].as_str().unwrap()),
        "after the transfer"
    );
    assert_healthy(&mut p.alice);
    assert_healthy(&mut p.bob);
}

fn declined(version: u32) {
    let mut p = pair(version);
    let path = write(&p.alice, "unwanted.txt", b"no thanks");
    let (sent, request) = offer(&mut p, &path);
    let id = request["id"].as_i64().unwrap();
    p.bob.send(&format!("xfer-deny {id}"));
    let a = xfer_event(&mut p.alice, "xfer-cancelled", ALICE, Some(sent));
    assert_eq!(a["status"], "cancel-remote");
    let line = p.alice.wait_for(STEP, |e| {
        e["event"] == "write" && e["message"].as_str().unwrap_or("").contains("cancelled")
    });
    assert!(
        line["message"].as_str().unwrap().contains("unwanted.txt"),
        "{line}"
    );
    xfer_event(&mut p.bob, "xfer-destroyed", BOB, Some(id));
    conversation_goes_on(&mut p);
    finish(p);
}

#[test]
fn msnp12_a_declined_offer_ends_as_cancelled_by_the_contact() {
    declined(12);
}

#[test]
fn msnp18_a_declined_offer_ends_as_cancelled_by_the_contact() {
    declined(18);
}

fn cancelled_midway(version: u32, by_sender: bool) {
    // A direct connection on loopback may carry the whole file before the sender's cancel is
    // read, and the receiver then completes before the sender's `BYE` arrives: the sender
    // cancels on the switchboard, where mid-way stays mid-way.
    let mut p = match by_sender {
        true => pair_with(version, false, false),
        false => pair(version),
    };
    let len = long_file();
    let (sent, got, target) = started(&mut p, "long.bin", len);
    bob_has(&mut p, got, 64 * 1024);
    match by_sender {
        true => p.alice.send(&format!("xfer-cancel {sent}")),
        false => p.bob.send(&format!("xfer-cancel {got}")),
    }
    let (a, b) = match by_sender {
        true => ("cancel-local", "cancel-remote"),
        false => ("cancel-remote", "cancel-local"),
    };
    both_cancelled(&mut p, sent, got, a, b);
    let kept = std::fs::metadata(&target).map_or(0, |m| m.len());
    assert!(kept < len as u64, "the partial file stays partial: {kept}");
    conversation_goes_on(&mut p);
    // A new transfer works after the cancelled one.
    transfer(&mut p, "again.bin", &content(10_000, 3));
    finish(p);
}

#[test]
fn msnp12_the_sender_cancels_midway() {
    cancelled_midway(12, true);
}

#[test]
fn msnp18_the_receiver_cancels_midway() {
    cancelled_midway(18, false);
}

#[test]
fn msnp12_the_receiver_cancels_midway() {
    cancelled_midway(12, false);
}

#[test]
fn msnp18_the_sender_cancels_midway() {
    cancelled_midway(18, true);
}

fn switchboard_lost_midway(version: u32) {
    let mut p = pair_with(version, false, false);
    let (sent, got, _) = started(&mut p, "dropped.bin", long_file());
    bob_has(&mut p, got, 64 * 1024);
    p.server.sb_drop_next_message(ALICE);
    both_cancelled(&mut p, sent, got, "cancel-remote", "cancel-remote");
    for (stub, account) in [(&mut p.alice, ALICE), (&mut p.bob, BOB)] {
        let line = stub.wait_for(STEP, |e| {
            e["event"] == "write"
                && e["account"] == account
                && e["message"].as_str().unwrap_or("").contains("failed")
        });
        assert!(
            line["message"].as_str().unwrap().contains("dropped.bin"),
            "{line}"
        );
    }
    conversation_goes_on(&mut p);
    finish(p);
}

#[test]
fn msnp12_a_lost_switchboard_fails_the_transfer_on_both_sides() {
    switchboard_lost_midway(12);
}

#[test]
fn msnp18_a_lost_switchboard_fails_the_transfer_on_both_sides() {
    switchboard_lost_midway(18);
}

fn two_at_once(version: u32) {
    let mut p = pair(version);
    let ours = content(2 * 1024 * 1024 + 5, 1);
    let theirs = content(1024 * 1024 + 9, 2);
    let path = write(&p.alice, "to-bob.bin", &ours);
    let (sent, request) = offer(&mut p, &path);
    let to_bob = request["id"].as_i64().unwrap();
    let back = write(&p.bob, "to-alice.bin", &theirs);
    p.bob.send(&format!(
        "send-file {} {} {}",
        pct(BOB),
        pct(ALICE),
        pct(back.to_str().unwrap())
    ));
    let from_bob = xfer_event(&mut p.alice, "xfer-request", ALICE, None)["id"]
        .as_i64()
        .unwrap();
    let (at_bob, at_alice) = (save_path(&p.bob, "a.bin"), save_path(&p.alice, "b.bin"));
    p.bob.send(&format!(
        "xfer-accept {to_bob} {}",
        pct(at_bob.to_str().unwrap())
    ));
    p.alice.send(&format!(
        "xfer-accept {from_bob} {}",
        pct(at_alice.to_str().unwrap())
    ));
    send(&mut p.alice, ALICE, BOB, "meanwhile");
    let im = next_im(&mut p.bob, BOB, ALICE);
    assert_eq!(text_of(im["message"].as_str().unwrap()), "meanwhile");
    xfer_event(&mut p.bob, "xfer-destroyed", BOB, Some(to_bob));
    xfer_event(&mut p.alice, "xfer-destroyed", ALICE, Some(from_bob));
    xfer_event(&mut p.alice, "xfer-destroyed", ALICE, Some(sent));
    assert!(std::fs::read(&at_bob).unwrap() == ours);
    assert!(std::fs::read(&at_alice).unwrap() == theirs);
    conversation_goes_on(&mut p);
    finish(p);
}

#[test]
fn msnp12_two_transfers_cross_at_once() {
    two_at_once(12);
}

#[test]
fn msnp18_two_transfers_cross_at_once() {
    two_at_once(18);
}

/// Resident memory of a stub, from its `stats`.
fn rss_kb(stub: &mut Stub) -> i64 {
    stub.send("stats");
    stub.wait_event(STEP, "stats")["rss_kb"].as_i64().unwrap()
}

#[test]
fn memory_stays_flat_during_a_large_transfer() {
    let len = if wrapped() { 4 } else { 48 } * 1024 * 1024;
    let mut p = pair(18);
    // Warm up both sides (a first transfer), then measure the base.
    transfer(&mut p, "warm.bin", &content(256 * 1024, 5));
    let base = (rss_kb(&mut p.alice), rss_kb(&mut p.bob));
    let (sent, got, target) = started(&mut p, "large.bin", len);
    let mut peak = base;
    for step in 1..=4 {
        bob_has(&mut p, got, (len / 5 * step) as i64);
        peak.0 = peak.0.max(rss_kb(&mut p.alice));
        peak.1 = peak.1.max(rss_kb(&mut p.bob));
    }
    xfer_event(&mut p.bob, "xfer-destroyed", BOB, Some(got));
    xfer_event(&mut p.alice, "xfer-destroyed", ALICE, Some(sent));
    assert_eq!(std::fs::metadata(&target).unwrap().len(), len as u64);
    assert!(std::fs::read(&target).unwrap() == content(len, 7));
    // A file held in memory would add its 48 MB on one side or the other (under valgrind
    // the file is small and resident memory is valgrind's: only the bytes are checked).
    if !wrapped() {
        let bound = 12 * 1024;
        assert!(
            peak.0 - base.0 < bound,
            "sender grew {} KB",
            peak.0 - base.0
        );
        assert!(
            peak.1 - base.1 < bound,
            "receiver grew {} KB",
            peak.1 - base.1
        );
    }
    finish(p);
}

#[test]
fn msnp18_the_contact_going_offline_fails_the_transfer() {
    let mut p = pair(18);
    let (sent, got, _) = started(&mut p, "offline.bin", long_file());
    bob_has(&mut p, got, 64 * 1024);
    p.bob.send(&format!("disable {}", pct(BOB)));
    p.bob.wait_for(STEP, |e| e["event"] == "signed-off");
    // Bob's own transfer ended when his account went offline.
    let b = xfer_event(&mut p.bob, "xfer-cancelled", BOB, Some(got));
    assert_eq!(b["status"], "cancel-local");
    let a = xfer_event(&mut p.alice, "xfer-cancelled", ALICE, Some(sent));
    assert_eq!(a["status"], "cancel-remote");
    let line = p.alice.wait_for(STEP, |e| {
        e["event"] == "write" && e["message"].as_str().unwrap_or("").contains("failed")
    });
    assert!(
        line["message"].as_str().unwrap().contains("offline.bin"),
        "{line}"
    );
    xfer_event(&mut p.alice, "xfer-destroyed", ALICE, Some(sent));
    assert_healthy(&mut p.alice);
    finish(p);
}

fn direct(version: u32) {
    let mut p = pair(version);
    for (name, len) in [
        ("direct-one.bin", 1),
        ("direct-chunk.bin", 1352),
        ("direct-chunk-plus-one.bin", 1353),
        (
            "direct-big.bin",
            if wrapped() { 1 } else { 10 } * 1024 * 1024 + 5,
        ),
    ] {
        transfer(&mut p, name, &content(len, 11));
    }
    // Both sides saw the transfers complete: the switchboard relayed every message of theirs.
    assert_eq!(
        p.server.p2p_file_data(),
        0,
        "no file data went through the switchboard"
    );
    conversation_goes_on(&mut p);
    assert!(
        p.server.violations().is_empty(),
        "{:?}",
        p.server.violations()
    );
    finish(p);
}

#[test]
fn msnp12_files_go_over_a_direct_connection() {
    direct(12);
}

#[test]
fn msnp18_files_go_over_a_direct_connection() {
    direct(18);
}

/// With the option off on either side, the data goes through the switchboard.
fn no_direct(version: u32, alice_direct: bool, bob_direct: bool) {
    let mut p = pair_with(version, alice_direct, bob_direct);
    transfer(&mut p, "relayed.bin", &content(100_000, 4));
    assert!(p.server.p2p_file_data() >= 100_000 / 1202);
    conversation_goes_on(&mut p);
    finish(p);
}

#[test]
fn msnp12_without_direct_connections_the_switchboard_carries_the_data() {
    no_direct(12, false, true);
}

#[test]
fn msnp18_a_receiver_without_direct_connections_gets_the_data_by_switchboard() {
    no_direct(18, true, false);
}
