//! Fault-injection soak: three purple-stub clients on real libpurple (MSNP18, MSNP12, MSNP15)
//! keep up a continuous exchange (IMs both ways, a group chat, presence changes, contact-list
//! edits) against the test server in fault mode (NS and switchboard connections dropped at
//! random, writes delayed and split, SOAP calls answered with faults or `500`s), signing on
//! again after every drop as Pidgin and Finch do. At the end, after the faults stop and every
//! account is back: every message sent was delivered exactly once or reported as not delivered,
//! every list edit is on the server or reported, and each stub's file descriptors and memory
//! are flat.
//!
//! `SOAK_SECONDS` (default 60) sets the length of the exchange and `SOAK_SEED` (default 1) the
//! seed of the server's faults and of the driver's choices; `make soak` runs it for ten
//! minutes. `SOAK_DEBUG=1` writes the stubs' libpurple debug logs and the server's transcript
//! to `target/soak-logs/`. The counts are printed (`--nocapture`), with the longest main-loop stall.

mod client;
#[path = "../common/mod.rs"]
mod common;
mod ledger;

use std::time::{Duration, Instant};

use client::{Client, Footprint};
use common::accounts::{users, SIGN_IN};
use common::contacts::STEP;
use common::conversations::{ALICE, BOB, CAROL};
use common::plugin::PluginDir;
use common::stub::pct;
use ledger::{message_text, Sent, Tally, Target};
use msnp_testserver::{FaultPlan, TestServer};
use serde_json::Value;

/// The contact the list edits add and remove (an account that never signs on).
const DAVE: &str = "dave@example.com";
/// The soak's accounts and their protocol versions.
const ACCOUNTS: [(&str, u32); 3] = [(ALICE, 18), (BOB, 12), (CAROL, 15)];
/// How long, after the faults stop, every message has to be delivered or reported: longer
/// than the plugin's 60 s acknowledgement timeout.
const SETTLE: Duration = Duration::from_secs(120);
/// File descriptors a stub may have open at the end beyond those at the start (switchboards
/// and HTTP connections still open).
const FD_SLACK: usize = 12;
/// Resident memory a stub may have grown by (KiB).
const RSS_SLACK_KB: u64 = 48 * 1024;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// One contact-list edit: `add` (else remove) Dave, issued when `cursor` events had been seen.
#[derive(Debug, Clone, Copy)]
struct Edit {
    add: bool,
    cursor: usize,
}

/// Everything the driver did.
#[derive(Default)]
struct Books {
    sent: Vec<Sent>,
    edits: Vec<Vec<Edit>>,
    presence_changes: usize,
    chats_started: usize,
    next_id: u64,
}

/// One step of the exchange, chosen with `rng`.
fn act(rng: &mut fastrand::Rng, clients: &mut [Client], books: &mut Books) {
    let online: Vec<usize> = (0..clients.len()).filter(|&i| clients[i].online).collect();
    let Some(&i) = online.get(rng.usize(..online.len().max(1))) else {
        return;
    };
    let others: Vec<&'static str> = clients
        .iter()
        .filter(|c| c.email != clients[i].email)
        .map(|c| c.email)
        .collect();
    let me = clients[i].email;
    let roll = rng.u32(..100);
    match roll {
        0..55 => {
            let to = others[rng.usize(..others.len())];
            books.next_id += 1;
            let text = message_text(books.next_id, me);
            clients[i]
                .stub
                .send(&format!("send-im {} {} {}", pct(me), pct(to), pct(&text)));
            books.sent.push(Sent {
                id: books.next_id,
                from: me.to_owned(),
                to: Target::Im(to.to_owned()),
            });
        }
        55..72 => match clients[i].chat {
            Some(chat) => {
                books.next_id += 1;
                let text = message_text(books.next_id, me);
                clients[i]
                    .stub
                    .send(&format!("chat-send {} {chat} {}", pct(me), pct(&text)));
                books.sent.push(Sent {
                    id: books.next_id,
                    from: me.to_owned(),
                    to: Target::Chat,
                });
            }
            None if clients[i].invite_next.is_none() => {
                clients[i].invite_next = Some(others[1]);
                clients[i]
                    .stub
                    .send(&format!("join-chat {} invite={}", pct(me), pct(others[0])));
                books.chats_started += 1;
            }
            None => {}
        },
        72..86 => {
            let status = ["available", "away", "busy"][rng.usize(..3)];
            clients[i]
                .stub
                .send(&format!("status {} {status}", pct(me)));
            books.presence_changes += 1;
        }
        _ => {
            let add = books.edits[i].last().is_none_or(|e| !e.add);
            let cursor = clients[i].stub.events_seen().len();
            let line = match add {
                true => format!("add-buddy {} {} group=Soak", pct(me), pct(DAVE)),
                false => format!("remove-buddy {} {}", pct(me), pct(DAVE)),
            };
            clients[i].stub.send(&line);
            books.edits[i].push(Edit { add, cursor });
        }
    }
}

/// Polls every client until all are signed on (they sign on again by themselves).
fn wait_all_online(clients: &mut [Client], rng: &mut fastrand::Rng) {
    let deadline = Instant::now() + SIGN_IN * 4;
    while clients.iter().any(|c| !c.online) {
        assert!(
            Instant::now() < deadline,
            "an account did not come back: {:?}",
            clients
                .iter()
                .map(|c| (c.email, c.online, c.errors, &c.fatal_errors))
                .collect::<Vec<_>>()
        );
        poll_all(clients, rng);
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn poll_all(clients: &mut [Client], rng: &mut fastrand::Rng) {
    let now = Instant::now();
    for c in clients.iter_mut() {
        let backoff = Duration::from_millis(rng.u64(200..1500));
        c.poll(now, backoff);
    }
}

/// Polls until every message sent is delivered or reported, or `patience` has passed.
fn settle(clients: &mut [Client], rng: &mut fastrand::Rng, books: &Books, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        poll_all(clients, rng);
        let tally = Tally::count(&books.sent, &all_events(clients));
        if tally.lost.is_empty() || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every client's events so far, by account.
fn all_events(clients: &mut [Client]) -> Vec<(String, Vec<Value>)> {
    clients
        .iter_mut()
        .map(|c| (c.email.to_owned(), c.stub.events_seen().to_vec()))
        .collect()
}

/// Whether `e` tells the user that a list edit about Dave did not happen: a contact-list error
/// naming him, the stub refusing the command (he was already there, or not there), or the
/// sign-in prompt about buddies kept on this computer only, naming him.
fn is_list_report(e: &Value) -> bool {
    let names_dave = [&e["primary"], &e["secondary"], &e["text"], &e["title"]]
        .iter()
        .any(|f| f.as_str().is_some_and(|t| t.contains(DAVE)));
    match e["event"].as_str() {
        Some("notify") => e["type"] == "error" && names_dave,
        Some("request") => names_dave,
        Some("error") => matches!(e["command"].as_str(), Some("add-buddy" | "remove-buddy")),
        _ => false,
    }
}

#[test]
fn soak_under_faults_loses_and_duplicates_nothing() {
    let seconds = env_u64("SOAK_SECONDS", 60);
    let seed = env_u64("SOAK_SEED", 1);
    let debug = env_u64("SOAK_DEBUG", 0) != 0;
    eprintln!("soak: {seconds} s, seed {seed} (SOAK_SECONDS, SOAK_SEED)");
    let mut config = users().with_user(DAVE, "davepass", "Dave");
    for (a, b) in [(ALICE, BOB), (ALICE, CAROL), (BOB, CAROL)] {
        config = config.with_contact(a, b, 11).with_contact(b, a, 11);
    }
    // Among the faults: a switchboard dropped after relaying a message, before its `ACK`. The
    // plugin reports such a message ("may not have arrived") and never sends it twice
    // (docs/protocol.md §7.9), so it counts as delivered once, never as a duplicate.
    config.faults = Some(FaultPlan::soak(seed));
    let server = TestServer::start(config).expect("test server");
    let plugins = PluginDir::new();
    let mut rng = fastrand::Rng::with_seed(seed.rotate_left(32) ^ 0x50a4);
    let mut clients: Vec<Client> = ACCOUNTS
        .iter()
        .map(|&(email, version)| Client::start(&plugins, &server, email, version, debug))
        .collect();
    wait_all_online(&mut clients, &mut rng);
    for c in clients.iter_mut() {
        c.stub.sync();
        c.stub.send("stats-reset");
    }
    let start: Vec<Footprint> = clients.iter().map(Client::footprint).collect();

    let mut books = Books {
        edits: vec![Vec::new(); clients.len()],
        ..Books::default()
    };
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        poll_all(&mut clients, &mut rng);
        act(&mut rng, &mut clients, &mut books);
        std::thread::sleep(Duration::from_millis(rng.u64(20..150)));
    }

    // The quiet end: no more faults, every account back, every message settled.
    server.stop_faults();
    wait_all_online(&mut clients, &mut rng);
    settle(&mut clients, &mut rng, &books, SETTLE);
    // Everyone signs out and in once more: offline messages the server failed to give during
    // the faults are waiting there for this.
    for c in clients.iter_mut() {
        c.sign_out_and_in();
    }
    wait_all_online(&mut clients, &mut rng);
    settle(&mut clients, &mut rng, &books, SETTLE);
    // Barrier: each NS has answered a challenge, each stub has dispatched all it had.
    for c in clients.iter_mut() {
        if c.online {
            server.ns_sync(c.email, STEP);
        }
        c.stub.sync();
    }
    poll_all(&mut clients, &mut rng);
    let tally = Tally::count(&books.sent, &all_events(&mut clients));
    let faults = server.fault_counts();

    // List edits: the last one of each account is on the server, or reported.
    let mut edit_failures = Vec::new();
    let mut edits_reported = 0;
    for (i, c) in clients.iter_mut().enumerate() {
        let Some(last) = books.edits[i].last().copied() else {
            continue;
        };
        let on_server = server
            .contact_list(c.email)
            .iter()
            .any(|(who, lists, _)| who.eq_ignore_ascii_case(DAVE) && lists & 1 != 0);
        let reported = c.stub.events_seen()[last.cursor..]
            .iter()
            .any(is_list_report);
        edits_reported += c
            .stub
            .events_seen()
            .iter()
            .filter(|e| is_list_report(e))
            .count();
        if on_server != last.add && !reported {
            edit_failures.push(format!(
                "{}: last edit {} Dave, server has him: {on_server}, no report",
                c.email,
                if last.add { "adds" } else { "removes" }
            ));
        }
    }

    let mut stalls = Vec::new();
    for c in clients.iter_mut() {
        let stats = c.stats();
        stalls.push((
            c.email,
            stats["max_dispatch_us"].as_u64().unwrap_or(0),
            stats["max_dispatch_cpu_us"].as_u64().unwrap_or(0),
        ));
    }
    let finish: Vec<Footprint> = clients.iter().map(Client::footprint).collect();

    eprintln!("soak: {tally}");
    eprintln!(
        "soak: faults injected {} ({faults:?}); reconnects {}; connection errors {}; \
         fatal {:?}",
        faults.total(),
        clients.iter().map(|c| c.reconnects).sum::<usize>(),
        clients.iter().map(|c| c.errors).sum::<usize>(),
        clients
            .iter()
            .flat_map(|c| c.fatal_errors.iter())
            .collect::<Vec<_>>()
    );
    eprintln!(
        "soak: list edits {} ({} reports), presence changes {}, chats started {}",
        books.edits.iter().map(Vec::len).sum::<usize>(),
        edits_reported,
        books.presence_changes,
        books.chats_started
    );
    for ((email, wall, cpu), (s, f)) in stalls.iter().zip(start.iter().zip(&finish)) {
        eprintln!(
            "soak: {email}: longest main-loop stall {} ms (CPU {} ms); fds {} -> {}; RSS {} -> {} KiB",
            wall / 1000,
            cpu / 1000,
            s.fds,
            f.fds,
            s.rss_kb,
            f.rss_kb
        );
    }

    let events = all_events(&mut clients);
    if debug {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/soak-logs");
        std::fs::create_dir_all(&dir).expect("log dir");
        for c in &clients {
            std::fs::write(dir.join(format!("{}.log", c.email)), c.stub.debug_log())
                .expect("writing a debug log");
        }
        for (email, list) in &events {
            let lines: String = list.iter().map(|e| format!("{e}\n")).collect();
            std::fs::write(dir.join(format!("{email}.events")), lines).expect("writing events");
        }
        let transcript: String = server
            .transcript()
            .iter()
            .map(|e| {
                let payload = e.payload.as_deref().map(String::from_utf8_lossy);
                let payload = payload.unwrap_or_default().replace("\r\n", " | ");
                format!(
                    "{} {:?} {:?} {} {payload}\n",
                    e.conn, e.service, e.event, e.line
                )
            })
            .collect();
        std::fs::write(dir.join("server.log"), transcript).expect("writing the transcript");
        eprintln!("soak: debug logs in {}", dir.display());
    }
    assert!(tally.sent > 0 && faults.total() > 0, "nothing happened");
    assert!(
        tally.lost.is_empty(),
        "silently lost (seed {seed}):\n{}",
        ledger::trace(&tally.lost, &books.sent, &events)
    );
    assert!(
        tally.duplicates.is_empty(),
        "duplicated (seed {seed}):\n{}",
        ledger::trace(&tally.duplicates, &books.sent, &events)
    );
    assert_eq!(
        tally.unexplained_refusals, 0,
        "sends refused without a word"
    );
    assert!(edit_failures.is_empty(), "{edit_failures:?}");
    for (c, (s, f)) in clients.iter().zip(start.iter().zip(&finish)) {
        assert!(
            f.fds <= s.fds + FD_SLACK,
            "{}: fds {} -> {}",
            c.email,
            s.fds,
            f.fds
        );
        assert!(
            f.rss_kb <= s.rss_kb + RSS_SLACK_KB,
            "{}: RSS {} -> {} KiB",
            c.email,
            s.rss_kb,
            f.rss_kb
        );
    }
    for c in clients {
        assert!(c.stub.quit().success());
    }
}

#[test]
fn the_ledger_tells_lost_duplicate_and_reported_apart() {
    use serde_json::json;
    let sent: Vec<Sent> = (1..=4)
        .map(|id| Sent {
            id,
            from: "a".into(),
            to: Target::Im("b".into()),
        })
        .collect();
    let im = |id| {
        json!({"event": "im", "account": "b", "from": "a",
               "message": message_text(id, "a"), "flags": ["recv"]})
    };
    let a: Vec<Value> = (1..=4)
        .map(|id| json!({"event": "im-sent", "message": message_text(id, "a")}))
        .chain([json!({"event": "write", "flags": ["error"],
            "message": format!("Message could not be delivered:<br>{}", message_text(3, "a"))})])
        .collect();
    let b = vec![im(1), im(2), im(2)];
    let tally = Tally::count(&sent, &[("a".into(), a), ("b".into(), b)]);
    assert_eq!(tally.delivered, 2);
    assert_eq!(tally.duplicates, vec![2]);
    assert_eq!(tally.reported, 1);
    assert_eq!(tally.lost, vec![4]);
    assert_eq!(ledger::ids_in("x [m1] [m23] [mx] [m4"), vec![1, 23]);
}
