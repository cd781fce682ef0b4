//! The measured workloads, each run for every plugin, protocol version and size, interleaved.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use msnp_testserver::{ServerConfig, TestServer};
use serde_json::Value;

use crate::plugin::Plugin;
use crate::stub::{pct, Fallible, Stats, Stub};
use crate::Args;
use msnp_testserver::client::Online;
use msnp_testserver::peer::PictureHost;

/// One figure of a table.
pub struct Column {
    pub name: &'static str,
    pub unit: &'static str,
    pub decimals: usize,
}

const fn col(name: &'static str, unit: &'static str, decimals: usize) -> Column {
    Column {
        name,
        unit,
        decimals,
    }
}

/// One plugin at one protocol version and size: the figures of every run, or why it failed.
pub struct Row {
    pub version: u32,
    pub size: usize,
    pub plugin: String,
    pub runs: Vec<Vec<f64>>,
    pub error: Option<String>,
}

/// A workload's results.
pub struct Table {
    pub title: &'static str,
    pub about: &'static str,
    pub size_name: &'static str,
    pub columns: &'static [Column],
    pub rows: Vec<Row>,
}

/// Everything measured.
pub struct Results {
    pub libpurple: String,
    pub tables: Vec<Table>,
}

type Measure = fn(&Args, &Plugin, u32, usize) -> Fallible<Vec<f64>>;

struct Workload {
    name: &'static str,
    title: &'static str,
    about: &'static str,
    size_name: &'static str,
    columns: &'static [Column],
    sizes: fn(bool) -> Vec<usize>,
    measure: Measure,
}

const STALL: Column = col("longest stall", "ms", 1);
const STALL_CPU: Column = col("longest stall, CPU", "ms", 1);

/// A sign-in's figures, the first named `done` (what completes it).
const fn sign_in_columns(done: &'static str) -> [Column; 5] {
    [
        col(done, "ms", 0),
        col("client CPU", "ms", 0),
        STALL,
        STALL_CPU,
        col("memory per contact", "KB", 1),
    ]
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "signin",
        title: "Sign-in to complete buddy list (all contacts offline)",
        about: "From `enable` until the connection is signed on and every contact is in the buddy \
                list (list events are counted from `enable`, so a plugin that adds buddies \
                before signing on is measured the same way).",
        size_name: "contacts",
        columns: &sign_in_columns("list complete"),
        sizes: |quick| match quick {
            true => vec![100, 1000],
            false => vec![100, 1000, 5000],
        },
        measure: |a, p, v, c| measure_sign_in(a, p, v, c, 0, false),
    },
    Workload {
        name: "plain",
        title: "The same sign-in over plain HTTP",
        about: "Passport/SSO and SOAP over plain HTTP instead of HTTPS: the difference from the \
                table above is what TLS (handshakes, certificate checks, encryption, all inside \
                libpurple's TLS plugin, outside the plugin's control) costs.",
        size_name: "contacts",
        columns: &sign_in_columns("list complete"),
        sizes: |quick| match quick {
            true => vec![100],
            false => vec![100, 5000],
        },
        measure: |a, p, v, c| measure_sign_in(a, p, v, c, 0, true),
    },
    Workload {
        name: "online",
        title: "Sign-in with 10% of the contacts online",
        about: "As above, until the list is complete and every online contact shows online.",
        size_name: "contacts",
        columns: &sign_in_columns("presence complete"),
        sizes: |quick| match quick {
            true => vec![1000],
            false => vec![5000],
        },
        measure: |a, p, v, c| measure_sign_in(a, p, v, c, c / 10, false),
    },
    Workload {
        name: "online-plain",
        title: "The same over plain HTTP",
        about: "As above with Passport/SSO and SOAP over plain HTTP: without libpurple's TLS \
                handshakes the longest stall is the plugin's own callbacks (with the libpurple \
                buddy-list and status calls they make).",
        size_name: "contacts",
        columns: &sign_in_columns("presence complete"),
        sizes: |quick| match quick {
            true => vec![1000],
            false => vec![5000],
        },
        measure: |a, p, v, c| measure_sign_in(a, p, v, c, c / 10, true),
    },
    Workload {
        name: "storm",
        title: "Presence storm",
        about: "Signed in with 10% of the contacts online, those contacts change status 1,000 \
                times per second in all (away and back, round-robin) for 10 s (2 s with \
                `--quick`), through the test server, from 6 s after sign-in (after libpurple's \
                buddy-list save); measured until the last change is shown.",
        size_name: "contacts",
        columns: &[
            col("status changes", "", 0),
            col("client CPU", "ms", 0),
            col("CPU per change", "µs", 1),
            STALL,
            STALL_CPU,
            col("memory growth", "KB", 0),
        ],
        sizes: |quick| match quick {
            true => vec![1000],
            false => vec![5000],
        },
        measure: storm,
    },
    Workload {
        name: "switchboards",
        title: "Incoming messages on switchboards at once",
        about: "Contacts (raw clients) each open a switchboard with the account and flood it; \
                20,000 messages in all (2,000 with `--quick`), until the last is shown.",
        size_name: "switchboards",
        columns: &[
            col("messages/s", "", 0),
            col("client CPU per message", "µs", 1),
            STALL,
            STALL_CPU,
            col("memory growth", "KB", 0),
        ],
        sizes: |_| vec![1, 20],
        measure: switchboards,
    },
    Workload {
        name: "pictures",
        title: "Display pictures of online contacts",
        about: "Every contact is online (a test-server client, MSNP12) with its own display \
                picture (a 48×48 PNG, 477 bytes plus a few) and serves it over P2P when asked; \
                from `enable` until every picture is set as a buddy icon, signing in over plain \
                HTTP (so that libpurple's ~10 ms TLS handshake is not the longest stall). Peak \
                switchboards: the most switchboards the account was in at once (counted by the \
                test server).",
        size_name: "contacts",
        columns: &[
            col("all pictures set", "ms", 0),
            col("client CPU", "ms", 0),
            STALL,
            STALL_CPU,
            col("peak switchboards", "", 0),
        ],
        sizes: |quick| match quick {
            true => vec![100],
            false => vec![500],
        },
        measure: pictures,
    },
    Workload {
        name: "transfer",
        title: "File transfer over the switchboard",
        about: "A file (sparse, generated in a temporary folder, removed after; `--sizes` in MB, \
                10 with `--quick`) sent with `send-file` from the account to a contact signed \
                in with a second purple-stub on the same plugin, who accepts with \
                `xfer-accept`; from `send-file` until the receiver's transfer completes, the \
                saved size checked. \"sender\"/\"receiver\": each side's client. Peak RSS is \
                the process's `VmHWM` (most of it libpurple, its plugins and the shared \
                libraries, there before the transfer); RSS growth is that peak less the RSS \
                before `send-file`: what the transfer added at most. Direct connections off on \
                both sides (see `transfer-direct`).",
        size_name: "MB",
        columns: TRANSFER_COLUMNS,
        sizes: transfer_sizes,
        measure: crate::transfer::switchboard,
    },
    Workload {
        name: "transfer-direct",
        title: "File transfer over a direct connection",
        about: "As `transfer`, with direct connections on for both accounts: the data goes over \
                a TCP connection between the two purple-stubs on loopback, the switchboard \
                carrying only the signalling.",
        size_name: "MB",
        columns: TRANSFER_COLUMNS,
        sizes: transfer_sizes,
        measure: crate::transfer::direct,
    },
];

/// The columns of both transfer workloads (`transfer.rs` fills them in this order).
const TRANSFER_COLUMNS: &[Column] = &[
    col("MB/s", "", 1),
    col("sender CPU per MB", "ms", 1),
    col("receiver CPU per MB", "ms", 1),
    col("sender longest stall", "ms", 1),
    col("receiver longest stall", "ms", 1),
    col("sender longest stall, CPU", "ms", 1),
    col("receiver longest stall, CPU", "ms", 1),
    col("sender peak RSS", "MiB", 1),
    col("receiver peak RSS", "MiB", 1),
    col("sender RSS growth", "KiB", 0),
    col("receiver RSS growth", "KiB", 0),
];

/// File sizes of both transfer workloads, in MB.
fn transfer_sizes(quick: bool) -> Vec<usize> {
    match quick {
        true => vec![10],
        false => vec![100],
    }
}

pub(crate) const TIMEOUT: Duration = Duration::from_secs(600);
pub(crate) const ME: &str = "alice@example.com";
/// The measured account and its password.
const ALICE: (&str, &str) = (ME, "alicepass");

pub fn run_all(args: &Args, plugins: &[Plugin]) -> Results {
    let mut tables = Vec::new();
    for w in WORKLOADS {
        if !args.workloads.is_empty() && !args.workloads.iter().any(|n| n == w.name) {
            continue;
        }
        let mut rows = Vec::new();
        for &version in &args.versions {
            let sizes = match args.sizes.is_empty() {
                true => (w.sizes)(args.quick),
                false => args.sizes.clone(),
            };
            for size in sizes {
                let mut group: Vec<Row> = plugins
                    .iter()
                    .map(|p| Row {
                        version,
                        size,
                        plugin: p.label.clone(),
                        runs: Vec::new(),
                        error: None,
                    })
                    .collect();
                for _ in 0..args.runs {
                    for (plugin, row) in plugins.iter().zip(&mut group) {
                        if row.error.is_some() {
                            continue;
                        }
                        match (w.measure)(args, plugin, version, size) {
                            Ok(figures) => row.runs.push(figures),
                            Err(e) => row.error = Some(e),
                        }
                    }
                }
                for row in &group {
                    eprintln!(
                        "{} MSNP{version} {size} {}: {}",
                        w.name,
                        row.plugin,
                        crate::report::summary(w.columns, row)
                    );
                }
                rows.extend(group);
            }
        }
        tables.push(Table {
            title: w.title,
            about: w.about,
            size_name: w.size_name,
            columns: w.columns,
            rows,
        });
    }
    Results {
        libpurple: plugins
            .first()
            .map(|p| p.libpurple.clone())
            .unwrap_or_default(),
        tables,
    }
}

/// The test server for one run: the account with `contacts` contacts (on its forward, allow and
/// reverse lists) and `senders` more, speaking only MSNP`version` (and MSNP12, which the raw
/// contact clients speak), on the fixed ports if given.
pub(crate) fn server(
    args: &Args,
    version: u32,
    contacts: usize,
    senders: usize,
    plain: bool,
) -> Fallible<TestServer> {
    let mut config = ServerConfig::default()
        .with_user(ME, "alicepass", "Alice")
        .with_versions([12, version]);
    config.nexus_plain_http = plain;
    config.ns_port = args.ns_port;
    config.http_port = args.http_port;
    config.https_port = args.https_port;
    // The bench measures; the integration tests hold the plugin to strict mode.
    config.strict = false;
    for i in 0..contacts {
        let email = contact(i);
        config = config
            .with_user(&email, "x", &format!("Contact {i}"))
            .with_contact(ME, &email, 0x0B);
    }
    for i in 0..senders {
        let email = sender(i);
        config = config
            .with_user(&email, "x", &format!("Sender {i}"))
            .with_contact(ME, &email, 0x0B)
            .with_contact(&email, ME, 0x0B);
    }
    TestServer::start(config).map_err(|e| format!("test server: {e}"))
}

fn contact(i: usize) -> String {
    format!("contact{i}@example.com")
}

pub(crate) fn sender(i: usize) -> String {
    format!("sender{i}@example.com")
}

/// A stub with the plugin and the (disabled) account `who` (password `password`), given the
/// server's plain-HTTP URLs if `plain`.
pub(crate) fn stub_with_account(
    args: &Args,
    plugin: &Plugin,
    server: &TestServer,
    version: u32,
    plain: bool,
    (who, password): (&str, &str),
) -> Fallible<Stub> {
    let mut stub = Stub::start(&args.stub, &args.wrapper, &plugin.path)?;
    stub.send("accept-cert 127.0.0.1");
    let (nexus, sso, login) = match plain {
        true => (
            server.nexus_url_plain(),
            server.sso_url_plain(),
            server.login_url_plain(),
        ),
        false => (server.nexus_url(), server.sso_url(), server.login_url()),
    };
    let template = args
        .options
        .replace("{ns_port}", &server.ns_addr().port().to_string())
        .replace("{nexus_url}", &pct(&nexus))
        .replace("{sso_url}", &pct(&sso))
        .replace("{login_url}", &pct(&login))
        .replace("{version}", &version.to_string());
    let (options, _) = plugin.applicable(&template);
    stub.send(&format!(
        "add-account {} {who} password={} {options}",
        plugin.protocol_id,
        pct(password)
    ));
    stub.wait(TIMEOUT, |e| e["event"] == "account-added")?;
    Ok(stub)
}

fn is_mine(e: &Value, event: &str) -> bool {
    e["event"] == event && e["account"] == ME
}

/// Enables the account and waits until it is signed on, `contacts` buddies were added and
/// `online` distinct buddies showed online, counting from `enable`.
pub(crate) fn sign_in(stub: &mut Stub, contacts: usize, online: usize) -> Fallible<()> {
    stub.send(&format!("enable {ME}"));
    let (mut listed, mut signed_on) = (0, false);
    let mut shown = HashSet::new();
    stub.wait(TIMEOUT, |e| {
        if is_mine(e, "buddy-added") {
            listed += 1;
        } else if is_mine(e, "signed-on") {
            signed_on = true;
        } else if is_mine(e, "buddy-status") && e["online"] == true {
            shown.insert(e["who"].as_str().unwrap_or_default().to_owned());
        }
        signed_on && listed >= contacts && shown.len() >= online
    })?;
    Ok(())
}

/// Signs the first `count` contacts in (status `NLN`).
fn bring_online(server: &TestServer, count: usize) -> Fallible<Vec<Online>> {
    (0..count)
        .map(|i| Online::sign_in(server, &contact(i), "x"))
        .collect()
}

/// A sign-in with `online` of the contacts online: time, CPU, stall and memory per contact.
fn measure_sign_in(
    args: &Args,
    plugin: &Plugin,
    version: u32,
    contacts: usize,
    online: usize,
    plain: bool,
) -> Fallible<Vec<f64>> {
    let server = server(args, version, contacts, 0, plain)?;
    let _online = bring_online(&server, online)?;
    let mut stub = stub_with_account(args, plugin, &server, version, plain, ALICE)?;
    stub.send("stats-reset");
    let before = stub.stats()?;
    let start = Instant::now();
    sign_in(&mut stub, contacts, online)?;
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    let after = stub.stats()?;
    Ok(vec![
        elapsed,
        after.cpu_ms - before.cpu_ms,
        after.max_dispatch_ms,
        after.max_dispatch_cpu_ms,
        (after.rss_kb - before.rss_kb) / contacts as f64,
    ])
}

/// Longer than libpurple waits before saving a changed buddy list.
const BLIST_SAVE_DELAY: Duration = Duration::from_secs(6);

/// Status changes per second in the storm.
const STORM_RATE: usize = 1000;

fn storm(args: &Args, plugin: &Plugin, version: u32, contacts: usize) -> Fallible<Vec<f64>> {
    let seconds = if args.quick { 2 } else { 10 };
    let online_count = contacts / 10;
    let server = server(args, version, contacts, 0, false)?;
    let mut online = bring_online(&server, online_count)?;
    let mut stub = stub_with_account(args, plugin, &server, version, false, ALICE)?;
    sign_in(&mut stub, contacts, online_count)?;
    // libpurple saves blist.xml 5 s after the list changed: one long callback of its own
    // (see the profile), let it pass before the storm is measured.
    std::thread::sleep(BLIST_SAVE_DELAY);
    stub.send("stats-reset");
    let before = stub.stats()?;
    let changes = STORM_RATE * seconds;
    let marker = contact(0);
    let (mut shown, result) = std::thread::scope(|s| {
        let storm = s.spawn(|| -> Fallible<()> {
            let start = Instant::now();
            for i in 0..changes {
                // Paced: change i is due at i ms.
                let due = Duration::from_micros((i * 1_000_000 / STORM_RATE) as u64);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
                let away = (i / online_count).is_multiple_of(2);
                online[i % online_count].set_status(if away { "AWY" } else { "NLN" })?;
            }
            // The last change, which the wait below looks for.
            online[0].set_status("BSY")
        });
        let mut shown = 0usize;
        let result = stub.wait(TIMEOUT, |e| {
            if !is_mine(e, "buddy-status") {
                return false;
            }
            shown += 1;
            e["who"] == marker.as_str() && e["primitive"] == "unavailable"
        });
        (
            shown,
            storm
                .join()
                .unwrap_or(Err("storm thread panicked".into()))
                .and(result),
        )
    });
    result?;
    shown = shown.saturating_sub(1);
    let after = stub.stats()?;
    let cpu = after.cpu_ms - before.cpu_ms;
    Ok(vec![
        shown as f64,
        cpu,
        cpu * 1000.0 / changes as f64,
        after.max_dispatch_ms,
        after.max_dispatch_cpu_ms,
        after.rss_kb - before.rss_kb,
    ])
}

fn switchboards(args: &Args, plugin: &Plugin, version: u32, count: usize) -> Fallible<Vec<f64>> {
    let total = if args.quick { 2_000 } else { 20_000 };
    let each = total / count;
    let server = server(args, version, 0, count, false)?;
    let mut stub = stub_with_account(args, plugin, &server, version, false, ALICE)?;
    sign_in(&mut stub, count, 0)?;
    let mut boards = Vec::new();
    for i in 0..count {
        let mut client = Online::sign_in(&server, &sender(i), "x")?;
        boards.push((client.switchboard(&sender(i), ME)?, client));
    }
    stub.send("stats-reset");
    let before: Stats = stub.stats()?;
    let start = Instant::now();
    let (received, sent) = std::thread::scope(|s| {
        let floods: Vec<_> = boards
            .iter_mut()
            .map(|(sb, _)| s.spawn(move || sb.flood(each)))
            .collect();
        let received = stub.count(TIMEOUT, each * count, |e| is_mine(e, "im"));
        let sent = floods
            .into_iter()
            .try_for_each(|f| f.join().unwrap_or(Err("flood thread panicked".into())));
        (received, sent)
    });
    sent.and(received)?;
    let elapsed = start.elapsed().as_secs_f64();
    let after = stub.stats()?;
    let messages = (each * count) as f64;
    Ok(vec![
        messages / elapsed,
        (after.cpu_ms - before.cpu_ms) * 1000.0 / messages,
        after.max_dispatch_ms,
        after.max_dispatch_cpu_ms,
        after.rss_kb - before.rss_kb,
    ])
}

/// A contact's picture in the pictures workload: a real PNG with bytes after its end (decoders
/// ignore them) to make each one different.
fn picture(i: usize) -> Vec<u8> {
    let mut data = include_bytes!("../../../icons/msn-48.png").to_vec();
    data.extend(format!("contact {i}").bytes());
    data
}

fn pictures(args: &Args, plugin: &Plugin, version: u32, count: usize) -> Fallible<Vec<f64>> {
    let server = server(args, version, 0, count, true)?;
    let hosts = PictureHost::start_many(&server, count, sender, "x", picture)?;
    let mut stub = stub_with_account(args, plugin, &server, version, true, ALICE)?;
    stub.send("stats-reset");
    let before = stub.stats()?;
    let start = Instant::now();
    stub.send(&format!("enable {ME}"));
    let mut set = HashSet::new();
    stub.wait(TIMEOUT, |e| {
        if is_mine(e, "buddy-icon-changed") && !e["hex"].is_null() {
            set.insert(e["who"].as_str().unwrap_or_default().to_owned());
        }
        set.len() >= count
    })?;
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    let after = stub.stats()?;
    let failed: Vec<String> = hosts.iter().filter_map(PictureHost::error).collect();
    PictureHost::stop_all(hosts);
    if let Some(e) = failed.first() {
        return Err(format!("picture host: {e}"));
    }
    Ok(vec![
        elapsed,
        after.cpu_ms - before.cpu_ms,
        after.max_dispatch_ms,
        after.max_dispatch_cpu_ms,
        server.sb_peak(ME) as f64,
    ])
}
