//! The measured workloads.

use std::time::{Duration, Instant};

use msnp_testserver::{ServerConfig, TestServer};
use serde_json::Value;

use crate::sender::Sender;
use crate::stub::{pct, Stub};
use crate::Args;

/// One measured sign-in.
#[derive(Clone, Debug)]
pub struct SignIn {
    pub version: u32,
    pub contacts: usize,
    /// From `enable` to the last contact in the buddy list.
    pub list_ms: f64,
    /// Client CPU (user + system) during that time.
    pub cpu_ms: f64,
    /// Longest single main-loop dispatch in the client.
    pub max_dispatch_ms: f64,
    /// Resident memory added per contact.
    pub rss_per_contact_kb: f64,
}

/// Incoming messages on one switchboard.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub version: u32,
    pub messages: usize,
    /// From the first message sent to the last one shown.
    pub elapsed_ms: f64,
    /// Client CPU (user + system) per message.
    pub cpu_us_per_message: f64,
    /// Longest single main-loop dispatch in the client.
    pub max_dispatch_ms: f64,
}

/// Everything measured.
pub struct Results {
    pub libpurple: String,
    pub sign_ins: Vec<SignIn>,
    pub incoming: Vec<Incoming>,
}

const TIMEOUT: Duration = Duration::from_secs(180);

pub fn run_all(args: &Args) -> Results {
    let sizes: &[usize] = if args.quick {
        &[100, 1000]
    } else {
        &[100, 1000, 5000]
    };
    let mut sign_ins = Vec::new();
    let mut libpurple = String::new();
    for &version in &[12, 18] {
        for &contacts in sizes {
            let mut runs: Vec<SignIn> = (0..args.runs)
                .map(|_| sign_in(args, version, contacts, &mut libpurple))
                .collect();
            runs.sort_by(|a, b| a.list_ms.total_cmp(&b.list_ms));
            let median = runs[runs.len() / 2].clone();
            eprintln!(
                "MSNP{version} {contacts} contacts: {:.0} ms, CPU {:.0} ms, stall {:.1} ms",
                median.list_ms, median.cpu_ms, median.max_dispatch_ms
            );
            sign_ins.push(median);
        }
    }
    let messages = if args.quick { 2_000 } else { 20_000 };
    let mut incoming = Vec::new();
    for &version in &[12, 18] {
        let mut runs: Vec<Incoming> = (0..args.runs)
            .map(|_| incoming_ims(args, version, messages))
            .collect();
        runs.sort_by(|a, b| a.elapsed_ms.total_cmp(&b.elapsed_ms));
        let median = runs[runs.len() / 2].clone();
        eprintln!(
            "MSNP{version} {messages} incoming IMs: {:.0} ms, {:.1} µs CPU each, stall {:.1} ms",
            median.elapsed_ms, median.cpu_us_per_message, median.max_dispatch_ms
        );
        incoming.push(median);
    }
    Results {
        libpurple,
        sign_ins,
        incoming,
    }
}

fn cpu_us(stats: &Value) -> f64 {
    micros(stats, "cpu_user_us") + micros(stats, "cpu_sys_us")
}

/// Bob (a raw client) floods one switchboard; alice's plugin shows every message.
fn incoming_ims(args: &Args, version: u32, messages: usize) -> Incoming {
    let mut config = ServerConfig::default()
        .with_user("alice@example.com", "alicepass", "Alice")
        .with_user("bob@example.com", "bobpass", "Bob")
        .with_contact("alice@example.com", "bob@example.com", 0x0B)
        .with_contact("bob@example.com", "alice@example.com", 0x0B);
    // The bench measures; the integration tests hold the plugin to strict mode.
    config.strict = false;
    let server = TestServer::start(config).expect("test server");
    let mut stub = Stub::start(&args.stub, &args.plugin);
    stub.send("accept-cert 127.0.0.1");
    stub.send(&account_line(args, &server, version));
    stub.send("enable alice@example.com");
    stub.wait(TIMEOUT, |e| {
        e["event"] == "signed-on"
            || e["event"] == "connection-error" && panic!("sign-in failed: {e}")
    });
    let mut sender = Sender::connect(&server, "bob@example.com", "bobpass", "alice@example.com");
    stub.send("stats-reset");
    let before = stub.stats();
    let start = Instant::now();
    sender.flood(messages);
    stub.count(TIMEOUT, messages, |e| e["event"] == "im");
    let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
    let after = stub.stats();
    Incoming {
        version,
        messages,
        elapsed_ms,
        cpu_us_per_message: (cpu_us(&after) - cpu_us(&before)) / messages as f64,
        max_dispatch_ms: micros(&after, "max_dispatch_us") / 1000.0,
    }
}

/// A server where alice has `contacts` contacts (all offline), each on her forward and allow
/// lists and with alice on theirs.
fn server_with(contacts: usize) -> TestServer {
    let mut config = ServerConfig::default().with_user("alice@example.com", "alicepass", "Alice");
    for i in 0..contacts {
        let email = format!("contact{i}@example.com");
        config = config
            .with_user(&email, "x", &format!("Contact {i}"))
            .with_contact("alice@example.com", &email, 0x0B);
    }
    config.strict = false;
    TestServer::start(config).expect("test server")
}

fn account_line(args: &Args, server: &TestServer, version: u32) -> String {
    let options = args
        .options
        .replace("{ns_port}", &server.ns_addr().port().to_string())
        .replace("{nexus_url}", &pct(&server.nexus_url()))
        .replace("{sso_url}", &pct(&server.sso_url()))
        .replace("{version}", &version.to_string());
    format!(
        "add-account {} alice@example.com password=alicepass {options}",
        args.protocol_id
    )
}

fn micros(stats: &Value, key: &str) -> f64 {
    stats[key].as_f64().unwrap_or(0.0)
}

fn sign_in(args: &Args, version: u32, contacts: usize, libpurple: &mut String) -> SignIn {
    let server = server_with(contacts);
    let mut stub = Stub::start(&args.stub, &args.plugin);
    stub.send("accept-cert 127.0.0.1");
    stub.send(&account_line(args, &server, version));
    stub.wait(TIMEOUT, |e| e["event"] == "account-added");
    stub.send("stats-reset");
    let before = stub.stats();
    let start = Instant::now();
    stub.send("enable alice@example.com");
    stub.wait(TIMEOUT, |e| {
        e["event"] == "signed-on"
            || e["event"] == "connection-error" && panic!("sign-in failed: {e}")
    });
    stub.count(TIMEOUT, contacts, |e| {
        e["event"] == "buddy-added" && e["account"] == "alice@example.com"
    });
    let list_ms = start.elapsed().as_secs_f64() * 1000.0;
    let after = stub.stats();
    libpurple.clone_from(&stub.libpurple);
    let cpu = cpu_us;
    SignIn {
        version,
        contacts,
        list_ms,
        cpu_ms: (cpu(&after) - cpu(&before)) / 1000.0,
        max_dispatch_ms: micros(&after, "max_dispatch_us") / 1000.0,
        rss_per_contact_kb: (micros(&after, "rss_kb") - micros(&before, "rss_kb"))
            / contacts as f64,
    }
}
