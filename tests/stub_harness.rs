//! Proves purple-stub and its harness with Debian's own libpurple plugins
//! (IRC), before the MSNP plugin exists.

mod common;

use std::io::{BufRead, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::stub::{pct, Stub, StubOptions};
use serde_json::Value;

const T: Duration = Duration::from_secs(15);
const IRC_USER: &str = "tester@127.0.0.1";

/// libpurple's system plugin directory (`pkg-config --variable=plugindir purple`).
fn system_plugin_dir() -> PathBuf {
    let out = Command::new("pkg-config")
        .args(["--variable=plugindir", "purple"])
        .output()
        .expect("running pkg-config");
    assert!(out.status.success(), "pkg-config failed");
    PathBuf::from(String::from_utf8(out.stdout).expect("UTF-8 path").trim())
}

fn start() -> Stub {
    let mut stub = Stub::start(system_plugin_dir());
    stub.wait_event(T, "ready");
    stub
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a port");
    listener.local_addr().expect("local addr").port()
}

fn is(event: &Value, name: &str) -> bool {
    event["event"] == name
}

/// No GLib criticals or warnings: libpurple was driven as its API expects.
fn assert_no_glib_complaints(stub: &Stub) {
    let log = stub.debug_log();
    assert!(
        !log.contains("CRITICAL **") && !log.contains("WARNING **"),
        "GLib complained:\n{log}"
    );
}

fn find<'a>(list: &'a Value, key: &str, id: &str) -> &'a Value {
    list.as_array()
        .and_then(|a| a.iter().find(|v| v[key] == id))
        .unwrap_or_else(|| panic!("no entry with {key}={id} in {list}"))
}

#[test]
fn ready_reports_version_ssl_and_plugins() {
    let mut stub = Stub::start(system_plugin_dir());
    let ready = stub.wait_event(T, "ready");
    assert_eq!(ready["protocol"], 1, "line protocol version");
    assert!(
        ready["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("2.")),
        "{ready}"
    );
    assert_eq!(ready["ssl"], true, "the NSS SSL plugin must load: {ready}");
    let plugins: Vec<Value> = stub
        .events_seen()
        .iter()
        .filter(|e| is(e, "plugin-loaded"))
        .cloned()
        .collect();
    let irc = plugins
        .iter()
        .find(|p| p["id"] == "prpl-irc")
        .expect("prpl-irc reported");
    assert_eq!(irc["type"], "protocol");
    assert_eq!(irc["loaded"], true);
    assert_eq!(irc["name"], "IRC");
    let nss = plugins
        .iter()
        .find(|p| p["id"] == "ssl-nss")
        .expect("ssl-nss reported");
    assert_eq!(nss["loaded"], true);
    assert!(stub.is_running());
    assert!(stub.quit().success());
}

#[test]
fn protocol_info_lists_options_and_status_types() {
    let mut stub = start();
    stub.send("protocol-info prpl-irc");
    let info = stub.wait_event(T, "protocol-info");
    assert_eq!(info["id"], "prpl-irc");
    assert_eq!(info["name"], "IRC");
    let port = find(&info["options"], "key", "port");
    assert_eq!(port["type"], "int");
    assert_eq!(port["default"], 6667);
    assert_eq!(find(&info["options"], "key", "ssl")["type"], "bool");
    assert_eq!(find(&info["options"], "key", "encoding")["type"], "string");
    assert_eq!(info["user_splits"][0]["separator"], "@");
    let away = find(&info["status_types"], "id", "away");
    assert_eq!(away["primitive"], "away");
    assert_eq!(away["message"], true);
    assert_eq!(away["user_settable"], true);
    assert_eq!(away["independent"], false);
    assert_eq!(
        find(&info["status_types"], "id", "available")["message"],
        false
    );
    stub.send("protocol-info prpl-nonexistent");
    let err = stub.wait_event(T, "error");
    assert_eq!(err["command"], "protocol-info");
    assert!(stub.quit().success());
}

#[test]
fn irc_to_closed_port_gives_network_error_without_leaking_the_password() {
    let secret = "s3cret pass=word";
    let mut stub = Stub::spawn(&StubOptions::new(system_plugin_dir()).debug(true));
    stub.wait_event(T, "ready");
    stub.send(&format!(
        "add-account prpl-irc {IRC_USER} password={} port={}",
        pct(secret),
        closed_port()
    ));
    let added = stub.wait_event(T, "account-added");
    assert_eq!(added["account"], IRC_USER);
    assert_eq!(added["protocol"], "prpl-irc");
    stub.send(&format!("enable {IRC_USER}"));
    stub.wait_for(T, |e| is(e, "connecting") && e["account"] == IRC_USER);
    let err = stub.wait_event(T, "connection-error");
    assert_eq!(err["account"], IRC_USER);
    assert_eq!(err["reason"], 0);
    assert_eq!(err["reason_name"], "NETWORK_ERROR");
    assert!(err["text"].as_str().is_some_and(|t| !t.is_empty()), "{err}");
    stub.send(&format!("disable {IRC_USER}"));
    stub.wait_event(T, "account-disabled");

    let log = stub.debug_log();
    assert!(
        log.lines().any(|l| l.starts_with("DEBUG ")),
        "no debug lines:\n{log}"
    );
    assert!(!log.contains("s3cret"), "password in the debug log");
    assert!(stub.quit().success());
}

/// Accepts one connection on `listener` and returns what the peer sends up to its NICK line.
fn irc_greeting(listener: TcpListener) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accepting the stub");
        conn.set_read_timeout(Some(T)).expect("read timeout");
        let mut seen = String::new();
        let mut buf = [0u8; 512];
        while !seen.contains("NICK ") {
            match conn.read(&mut buf) {
                Ok(n) if n > 0 => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                _ => break,
            }
        }
        seen
    })
}

#[test]
fn typed_account_settings_reach_the_protocol() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a port");
    let port = listener.local_addr().expect("local addr").port();
    let server = irc_greeting(listener);
    let mut stub = start();
    stub.send(&format!(
        "add-account prpl-irc {IRC_USER} port={port} realname={} ssl=false",
        pct("Test Er")
    ));
    stub.send(&format!("enable {IRC_USER}"));
    let hello = server.join().expect("server thread");
    assert!(hello.contains("NICK tester"), "{hello:?}");
    assert!(hello.contains(":Test Er"), "{hello:?}");
    // The server hung up: the connection is lost.
    stub.wait_event(T, "connection-error");
    assert!(stub.quit().success());
}

/// A one-client IRC server: welcomes the stub, sends it a PRIVMSG from bob and
/// returns every line the stub sent up to its PRIVMSG for bob.
fn irc_server(listener: TcpListener) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (conn, _) = listener.accept().expect("accepting the stub");
        conn.set_read_timeout(Some(T)).expect("read timeout");
        let mut out = conn.try_clone().expect("clone");
        let mut seen = String::new();
        let mut welcomed = false;
        for line in std::io::BufReader::new(conn).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            if line.starts_with("NICK ") && !welcomed {
                welcomed = true;
                out.write_all(
                    b":srv 001 tester :Welcome\r\n:srv 376 tester :End of MOTD\r\n\
                      :bob!b@h PRIVMSG tester :hello <there> & \xc3\xa9\r\n",
                )
                .expect("writing to the stub");
            }
            if line.starts_with("PRIVMSG bob ") {
                break;
            }
        }
        seen
    })
}

#[test]
fn irc_session_carries_ims_both_ways() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a port");
    let port = listener.local_addr().expect("local addr").port();
    let server = irc_server(listener);
    let mut stub = start();
    stub.send(&format!("add-account prpl-irc {IRC_USER} port={port}"));
    stub.send(&format!("enable {IRC_USER}"));
    stub.wait_for(T, |e| is(e, "signed-on") && e["account"] == IRC_USER);
    let im = stub.wait_event(T, "im");
    assert_eq!(im["from"], "bob");
    // libpurple hands over HTML: IRC escapes the text.
    assert_eq!(im["message"], "hello &lt;there&gt; &amp; \u{e9}");
    assert!(im["flags"]
        .as_array()
        .is_some_and(|f| f.contains(&Value::from("recv"))));
    assert!(im["timestamp"].as_i64().is_some_and(|t| t > 1_600_000_000));

    stub.send(&format!("send-im {IRC_USER} bob hi back"));
    let sent = stub.wait_event(T, "im-sent");
    assert_eq!(sent["conversation"], "bob");
    assert_eq!(sent["message"], "hi back");
    assert!(sent["flags"]
        .as_array()
        .is_some_and(|f| f.contains(&Value::from("send"))));
    let lines = server.join().expect("server thread");
    assert!(lines.contains("PRIVMSG bob :hi back"), "{lines}");

    stub.send(&format!("idle {IRC_USER} 60"));
    stub.send(&format!("idle {IRC_USER} 0"));
    stub.send("protocol-info prpl-irc");
    stub.wait_event(T, "protocol-info");
    assert_no_glib_complaints(&stub);
    assert!(stub.quit().success());
}

/// Kills (and reaps) a helper process when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `openssl` with `args`; None if openssl is not installed.
/// (stdin stays open: `s_server` drops its client at end of input.)
fn openssl(args: &[&str]) -> Option<std::process::Child> {
    Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

#[test]
fn certificate_prompts_follow_accept_cert() {
    let mut stub = start();
    let dir = stub.user_dir().to_path_buf();
    let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
    let (cert, key) = (cert.to_str().expect("path"), key.to_str().expect("path"));
    let Some(mut gen) = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
    ]) else {
        eprintln!("openssl not installed: certificate test skipped");
        return;
    };
    assert!(gen.wait().expect("openssl req").success());
    let port = closed_port();
    let accept = format!("127.0.0.1:{port}");
    let mut server = KillOnDrop(
        openssl(&[
            "s_server", "-quiet", "-accept", &accept, "-cert", cert, "-key", key,
        ])
        .expect("openssl s_server"),
    );
    let mut tries = 0;
    while std::net::TcpStream::connect(&accept).is_err() {
        tries += 1;
        assert!(tries < 500, "s_server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }

    // Untrusted self-signed certificate, host not accepted: rejected.
    stub.send(&format!(
        "add-account prpl-irc {IRC_USER} port={port} ssl=true"
    ));
    stub.send(&format!("enable {IRC_USER}"));
    let rejected = stub.wait_event(T, "cert-rejected");
    assert_eq!(rejected["host"], "127.0.0.1");
    let err = stub.wait_event(T, "connection-error");
    assert!(
        err["reason_name"]
            .as_str()
            .is_some_and(|r| r.starts_with("CERT_")),
        "{err}"
    );

    // Accepted host: the TLS session carries IRC's greeting to the server.
    // (libpurple ignores an enable while the failed connection is still being torn down.)
    stub.wait_event(T, "signed-off");
    stub.send("accept-cert 127.0.0.1");
    stub.send(&format!("disable {IRC_USER}"));
    stub.send(&format!("enable {IRC_USER}"));
    assert_eq!(stub.wait_event(T, "cert-accepted")["host"], "127.0.0.1");
    let mut out = server.0.stdout.take().expect("s_server stdout");
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("NICK tester") {
        let n = out.read(&mut buf).expect("reading s_server");
        assert!(n > 0, "s_server ended before IRC spoke: {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(stub.quit().success());
}

#[test]
fn request_prompts_are_reported_and_cancelled() {
    let mut stub = start();
    // Gadu-Gadu needs a password: libpurple asks for it (before any connection)
    // through a fields request.
    stub.send("add-account prpl-gg 12345");
    stub.wait_event(T, "account-added");
    stub.send("enable 12345");
    let request = stub.wait_event(T, "request");
    assert_eq!(request["kind"], "fields");
    assert_eq!(request["account"], "12345");
    assert!(
        request["primary"]
            .as_str()
            .is_some_and(|p| p.contains("password")),
        "{request}"
    );
    find(&request["fields"], "id", "password");
    // Cancelling the password prompt disables the account.
    stub.wait_event(T, "account-disabled");
    assert_no_glib_complaints(&stub);
    assert!(stub.quit().success());
}

#[test]
fn an_armed_fields_prompt_is_answered_ok_with_its_checkboxes_ticked() {
    let mut stub = start();
    stub.send("add-account prpl-gg 12345");
    stub.wait_event(T, "account-added");
    // A field the prompt lacks: reported, and the prompt cancelled as usual.
    stub.send("answer-fields nosuch");
    stub.wait_event(T, "answer-fields");
    stub.send("enable 12345");
    let request = stub.wait_event(T, "request");
    assert_eq!(request["answer"], "cancel", "{request}");
    let error = stub.wait_event(T, "error");
    assert_eq!(error["command"], "answer-fields", "{error}");
    stub.wait_event(T, "account-disabled");
    // libpurple's password prompt has a "remember" checkbox: ticked and OK pressed, libpurple
    // takes the (empty) answer and says a password is needed.
    stub.send("answer-fields remember");
    stub.wait_event(T, "answer-fields");
    stub.send("enable 12345");
    let request = stub.wait_event(T, "request");
    assert_eq!(request["answer"], "ok", "{request}");
    let remember = find(&request["fields"], "id", "remember");
    assert_eq!(remember["type"], "boolean", "{request}");
    let notice = stub.wait_event(T, "notify");
    assert!(
        notice.to_string().contains("Password is required"),
        "{notice}"
    );
    assert_no_glib_complaints(&stub);
    assert!(stub.quit().success());
}

#[test]
fn debug_output_is_off_by_default() {
    let mut stub = start();
    stub.send(&format!(
        "add-account prpl-irc {IRC_USER} port={}",
        closed_port()
    ));
    stub.send(&format!("enable {IRC_USER}"));
    stub.wait_event(T, "connection-error");
    assert!(!stub.debug_log().lines().any(|l| l.starts_with("DEBUG ")));
    assert!(stub.quit().success());
}

/// `reconnect`: after each network error the stub signs the account on again, the delay
/// doubling from the first one given; bad delays are refused.
#[test]
fn reconnect_signs_on_again_after_network_errors_with_a_growing_delay() {
    let mut stub = start();
    stub.send(&format!(
        "add-account prpl-irc {IRC_USER} port={}",
        closed_port()
    ));
    stub.wait_event(T, "account-added");
    stub.send(&format!("reconnect {IRC_USER} 10"));
    stub.send(&format!("enable {IRC_USER}"));
    stub.wait_for(T, |e| is(e, "connecting") && e["account"] == IRC_USER);
    for (attempt, delay) in [(1, 10), (2, 20), (3, 40)] {
        let err = stub.wait_event(T, "connection-error");
        assert_eq!(err["reason_name"], "NETWORK_ERROR");
        let next = stub.wait_event(T, "reconnect-scheduled");
        assert_eq!(next["account"], IRC_USER);
        assert_eq!(
            (next["attempt"].as_i64(), next["delay_ms"].as_i64()),
            (Some(attempt), Some(delay))
        );
        // The attempt: libpurple signs the account on again.
        stub.wait_for(T, |e| is(e, "connecting") && e["account"] == IRC_USER);
    }
    stub.send(&format!("disable {IRC_USER}"));
    stub.wait_event(T, "account-disabled");
    for bad in ["5", "never", "600001"] {
        stub.send(&format!("reconnect {IRC_USER} {bad}"));
        assert_eq!(stub.wait_event(T, "error")["command"], "reconnect");
    }
    assert!(stub.quit().success());
}

#[test]
fn bad_commands_give_error_events_and_the_stub_survives() {
    let mut stub = start();
    let cases: &[(&str, &str)] = &[
        ("frobnicate", "frobnicate"),
        ("enable", "enable"),
        ("enable nobody@nowhere", "enable"),
        ("send-im nobody@nowhere bob hi", "send-im"),
        ("add-account prpl-irc x@y nosuchoption=1", "add-account"),
        ("add-account prpl-irc x@y port=notanumber", "add-account"),
        ("add-account prpl-irc x@y ssl=maybe", "add-account"),
        ("add-account prpl-nothere x@y", "add-account"),
        ("status nobody@nowhere away", "status"),
        ("stats extra", "stats"),
        ("typing nobody@nowhere bob sideways", "typing"),
        ("auth 99 accept", "auth"),
        ("auth 1 maybe", "auth"),
        ("chat-send nobody@nowhere 1 hi", "chat-send"),
    ];
    for (line, command) in cases {
        stub.send(line);
        let err = stub.wait_event(T, "error");
        assert_eq!(err["command"], *command, "for {line:?}: {err}");
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A malformed escape, and bytes that are not UTF-8: still valid JSON out.
    stub.send("enable %zz");
    assert!(stub.wait_event(T, "error")["message"]
        .as_str()
        .is_some_and(|m| m.contains("percent")));
    stub.send("%FFbogus");
    assert_eq!(stub.wait_event(T, "error")["command"], "\u{fffd}bogus");
    stub.send("enable %00");
    stub.wait_event(T, "error");
    // An over-long line is rejected as a whole, then commands work again.
    stub.send(&"x".repeat(2 * 1024 * 1024));
    assert!(stub.wait_event(T, "error")["message"]
        .as_str()
        .is_some_and(|m| m.contains("longer")));
    stub.send("protocol-info prpl-irc");
    stub.wait_event(T, "protocol-info");
    assert!(stub.is_running());
    assert_no_glib_complaints(&stub);
    assert!(stub.quit().success());
}

#[test]
fn account_settings_are_typed_and_status_takes_a_message() {
    let mut stub = start();
    stub.send(&format!(
        "add-account prpl-irc {IRC_USER} port=7000 ssl=true encoding=ISO-8859-1"
    ));
    stub.wait_event(T, "account-added");
    stub.send(&format!("add-account prpl-irc {IRC_USER}"));
    assert_eq!(stub.wait_event(T, "error")["command"], "add-account");
    stub.send(&format!(
        "status {IRC_USER} away message={}",
        pct("gone fishing")
    ));
    let status = stub.wait_for(T, |e| is(e, "account-status") && e["status"] == "away");
    assert_eq!(status["message"], "gone fishing");
    stub.send(&format!("status {IRC_USER} available message=nope"));
    assert_eq!(stub.wait_event(T, "error")["command"], "status");
    stub.send(&format!("status {IRC_USER} no-such-status"));
    assert_eq!(stub.wait_event(T, "error")["command"], "status");
    stub.send(&format!("idle {IRC_USER} -5"));
    assert_eq!(stub.wait_event(T, "error")["command"], "idle");
    assert_no_glib_complaints(&stub);
    assert!(stub.quit().success());
}

#[test]
fn buddy_list_commands_report_blist_events() {
    let mut stub = start();
    stub.send(&format!("add-account prpl-irc {IRC_USER}"));
    stub.wait_event(T, "account-added");

    stub.send(&format!(
        "add-buddy {IRC_USER} bob group=Friends alias={}",
        pct("Bob B.")
    ));
    stub.wait_for(T, |e| is(e, "group-added") && e["group"] == "Friends");
    let added = stub.wait_event(T, "buddy-added");
    assert_eq!(added["who"], "bob");
    assert_eq!(added["group"], "Friends");
    assert_eq!(added["alias"], "Bob B.");

    stub.send(&format!("add-buddy {IRC_USER} bob"));
    assert_eq!(stub.wait_event(T, "error")["command"], "add-buddy");

    stub.send(&format!("move-buddy {IRC_USER} bob Work"));
    let moved = stub.wait_for(T, |e| is(e, "buddy-added") && e["group"] == "Work");
    assert_eq!(moved["who"], "bob");

    // The last argument of alias-buddy is the rest of the line.
    stub.send(&format!("alias-buddy {IRC_USER} bob Robert the%20Great"));
    let alias = stub.wait_event(T, "buddy-alias");
    assert_eq!(alias["alias"], "Robert the Great");
    assert_eq!(alias["old_alias"], "Bob B.");

    stub.send(&format!("rename-group {IRC_USER} Work Office"));
    let renamed = stub.wait_event(T, "group-renamed");
    assert_eq!(renamed["old"], "Work");
    assert_eq!(renamed["group"], "Office");

    stub.send(&format!("remove-group {IRC_USER} Office"));
    assert_eq!(stub.wait_event(T, "error")["command"], "remove-group");

    stub.send(&format!("remove-buddy {IRC_USER} bob"));
    let removed = stub.wait_event(T, "buddy-removed");
    assert_eq!(removed["who"], "bob");
    assert_eq!(removed["group"], "Office");

    stub.send(&format!("remove-group {IRC_USER} Office"));
    stub.wait_for(T, |e| is(e, "group-removed") && e["group"] == "Office");

    stub.send(&format!("permit {IRC_USER} eve"));
    assert_eq!(stub.wait_event(T, "permit-added")["who"], "eve");
    stub.send(&format!("permit {IRC_USER} eve"));
    assert_eq!(stub.wait_event(T, "error")["command"], "permit");
    stub.send(&format!("undeny {IRC_USER} mallory"));
    assert_eq!(stub.wait_event(T, "error")["command"], "undeny");
    stub.send(&format!("deny {IRC_USER} mallory"));
    assert_eq!(stub.wait_event(T, "deny-added")["who"], "mallory");
    stub.send(&format!("privacy {IRC_USER} deny-users"));
    assert_eq!(stub.wait_event(T, "privacy")["mode"], "deny-users");
    stub.send(&format!("privacy {IRC_USER} sometimes"));
    assert_eq!(stub.wait_event(T, "error")["command"], "privacy");
    assert_no_glib_complaints(&stub);
    assert!(stub.quit().success());
}

#[test]
fn stats_measure_dispatches_and_reset() {
    let mut stub = start();
    for _ in 0..3 {
        stub.send("protocol-info prpl-irc");
        stub.wait_event(T, "protocol-info");
    }
    stub.send("stats");
    let stats = stub.wait_event(T, "stats");
    for key in [
        "dispatches",
        "max_dispatch_us",
        "total_dispatch_us",
        "rss_kb",
        "cpu_user_us",
        "cpu_sys_us",
    ] {
        assert!(stats[key].is_u64(), "{key} missing in {stats}");
    }
    // Each command above arrived in its own main-loop dispatch.
    assert!(stats["dispatches"].as_u64() >= Some(3), "{stats}");
    assert!(stats["max_dispatch_us"].as_u64() <= stats["total_dispatch_us"].as_u64());
    assert!(stats["rss_kb"].as_u64() > Some(0));
    // Both lines arrive in one write, so they run in the same dispatch: after
    // the reset no dispatch has finished yet.
    stub.send("stats-reset\nstats");
    stub.wait_event(T, "stats-reset");
    let after = stub.wait_event(T, "stats");
    assert_eq!(after["dispatches"], 0, "{after}");
    assert_eq!(after["max_dispatch_us"], 0, "{after}");
    assert!(stub.quit().success());
}

#[test]
fn end_of_input_quits_cleanly() {
    let mut stub = start();
    stub.send(&format!(
        "add-account prpl-irc {IRC_USER} port={}",
        closed_port()
    ));
    stub.wait_event(T, "account-added");
    let status = stub.finish();
    assert!(status.success(), "{status}");
}

#[test]
fn percent_encoding_round_trips_through_the_stub() {
    assert_eq!(pct("a b=c%d"), "a%20b%3Dc%25d");
    assert_eq!(pct("user@host:1/x"), "user@host:1/x");
    assert_eq!(pct("é"), "%C3%A9");
    let mut stub = start();
    stub.send(&format!("add-account prpl-irc {IRC_USER}"));
    stub.wait_event(T, "account-added");
    let group = "Grüne Freunde = 100% \"ok\"";
    stub.send(&format!("add-buddy {IRC_USER} bob group={}", pct(group)));
    assert_eq!(stub.wait_event(T, "buddy-added")["group"], group);
    assert!(stub.quit().success());
}

#[test]
fn sync_is_answered_after_everything_sent_before_it() {
    let mut stub = start();
    stub.send("protocol-info prpl-irc");
    stub.send("stats");
    stub.send("sync first%20one");
    stub.send("sync");
    stub.send("sync two words");
    stub.wait_for(T, |e| e["event"] == "sync" && e["id"] == "");
    stub.wait_for(T, |e| e["event"] == "error" && e["command"] == "sync");
    let names: Vec<String> = stub
        .events_seen()
        .iter()
        .filter(|e| ["protocol-info", "stats", "sync"].contains(&e["event"].as_str().unwrap_or("")))
        .map(|e| {
            format!(
                "{} {}",
                e["event"].as_str().unwrap(),
                e["id"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "protocol-info prpl-irc",
            "stats -",
            "sync first one",
            "sync "
        ],
        "in order, each sync after what came before it"
    );
    stub.sync();
    assert!(stub.quit().success());
}
