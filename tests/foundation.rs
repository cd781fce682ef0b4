//! Foundation: the real plugin in real libpurple (through purple-stub) registers as `prpl-msnp`,
//! fails cleanly on a closed port, and survives a panic inside the plugin.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::plugin::PluginDir;
use common::stub::Stub;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

fn closed_port() -> u16 {
    // Bind then drop: nothing listens there afterwards.
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn registers_as_prpl_msnp_with_options_and_status_types() {
    let plugins = PluginDir::new();
    let mut stub = Stub::start(plugins.path());
    let loaded = stub.wait_for(WAIT, |e| {
        e["event"] == "plugin-loaded" && e["id"] == "prpl-msnp"
    });
    assert_eq!(loaded["name"], "MSN (MSNP)");
    assert_eq!(loaded["version"], env!("CARGO_PKG_VERSION"));

    stub.send("protocol-info prpl-msnp");
    let info = stub.wait_event(WAIT, "protocol-info");
    assert_eq!(
        ids(&info["options"], "key"),
        [
            "server",
            "port",
            "nexus_url",
            "sso_url",
            "services_url",
            "max_protocol",
            "connection_method",
            "gateway",
            "open_on_invite",
            "max_file_mb",
            "direct_transfers"
        ]
    );
    let option = |key: &str| {
        info["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == key)
            .unwrap()
            .clone()
    };
    assert_eq!(option("server")["default"], "msnmsgr.escargot.chat");
    assert_eq!(option("port")["default"], 1863);
    assert_eq!(
        option("nexus_url")["default"],
        "https://m1.escargot.chat/nexus-mock"
    );
    assert_eq!(
        option("sso_url")["default"],
        "https://m1.escargot.chat/RST.srf"
    );
    assert_eq!(
        ids(&option("max_protocol")["choices"], "value"),
        ["auto", "18", "15", "12", "8"]
    );
    assert_eq!(
        ids(&option("connection_method")["choices"], "value"),
        ["auto", "tcp", "http"]
    );
    assert_eq!(
        option("gateway")["default"],
        "gateway.messenger.hotmail.com:80"
    );
    assert_eq!(option("open_on_invite")["type"], "bool");
    assert_eq!(option("open_on_invite")["default"], false);
    assert_eq!(option("max_file_mb")["type"], "int");
    assert_eq!(option("max_file_mb")["default"], 2048);
    assert_eq!(option("direct_transfers")["type"], "bool");
    assert_eq!(option("direct_transfers")["default"], true);

    let types = info["status_types"].as_array().unwrap();
    assert_eq!(
        ids(&info["status_types"], "id"),
        [
            "available",
            "busy",
            "brb",
            "away",
            "phone",
            "lunch",
            "invisible",
            "tune",
            "offline"
        ]
    );
    for t in types.iter().filter(|t| t["id"] != "tune") {
        let online = t["id"] != "offline";
        assert_eq!(
            t["message"], online,
            "{t}: online statuses carry a message attribute"
        );
        assert_eq!(t["user_settable"], true);
    }
    let tune = types.iter().find(|t| t["id"] == "tune").unwrap();
    assert_eq!(
        tune["independent"], true,
        "now playing is shown beside the status"
    );
    assert_eq!(tune["user_settable"], false);
    assert_eq!(
        tune["attrs"],
        serde_json::json!(["tune_title", "tune_artist", "tune_album"])
    );
    let primitive = |id: &str| types.iter().find(|t| t["id"] == id).unwrap()["primitive"].clone();
    assert_eq!(primitive("available"), "available");
    assert_eq!(primitive("away"), "away");
    assert_eq!(primitive("invisible"), "invisible");
    assert_eq!(primitive("offline"), "offline");
    assert!(stub.quit().success());
}

#[test]
fn signing_in_to_a_closed_port_is_a_network_error() {
    let plugins = PluginDir::new();
    let mut stub = Stub::start(plugins.path());
    let port = closed_port();
    stub.send(&format!(
        "add-account prpl-msnp alice@example.com password=secret server=127.0.0.1 port={port} connection_method=tcp"
    ));
    stub.send("enable alice@example.com");
    let error = stub.wait_event(WAIT, "connection-error");
    assert_eq!(error["reason_name"], "NETWORK_ERROR", "{error}");
    assert!(
        error["text"].as_str().unwrap().contains("refused"),
        "{error}"
    );
    assert!(stub.is_running());
    assert!(stub.quit().success());
}

#[test]
fn a_username_that_is_not_an_email_address_is_invalid_settings() {
    let plugins = PluginDir::new();
    let mut stub = Stub::start(plugins.path());
    stub.send("add-account prpl-msnp alice password=secret server=127.0.0.1 port=1");
    stub.send("enable alice");
    let error = stub.wait_event(WAIT, "connection-error");
    assert_eq!(error["reason_name"], "INVALID_SETTINGS", "{error}");
    assert!(stub.quit().success());
}

#[cfg(feature = "test-hooks")]
#[test]
fn a_panic_in_login_becomes_a_connection_error_and_the_host_survives() {
    let plugins = PluginDir::new();
    let mut stub = Stub::start(plugins.path());
    stub.send(&format!(
        "add-account prpl-msnp panic-login@example.com password=x server=127.0.0.1 port={}",
        closed_port()
    ));
    stub.send("enable panic-login@example.com");
    let error = stub.wait_event(WAIT, "connection-error");
    assert_eq!(error["reason_name"], "OTHER_ERROR", "{error}");
    assert!(
        error["text"]
            .as_str()
            .unwrap()
            .starts_with("Internal error"),
        "{error}"
    );
    // The host goes on working: another command is still answered.
    stub.send("protocol-info prpl-msnp");
    stub.wait_event(WAIT, "protocol-info");
    assert!(stub.quit().success());
}

#[cfg(feature = "test-hooks")]
#[test]
fn a_panic_while_reading_becomes_a_connection_error_and_the_host_survives() {
    use common::stub::pct;
    use std::io::{Read, Write};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        socket.write_all(b"VER 1 MSNP18\r\n").unwrap();
        // Held open until the plugin hangs up after its error.
        socket.set_read_timeout(Some(WAIT * 20)).unwrap();
        let _ = socket.read_to_end(&mut Vec::new());
    });
    let plugins = PluginDir::new();
    let mut stub = Stub::start(plugins.path());
    stub.send(&format!(
        "add-account prpl-msnp panic-read@example.com password=x server=127.0.0.1 port={port}"
    ));
    stub.send("enable panic-read@example.com");
    let error = stub.wait_event(WAIT, "connection-error");
    assert_eq!(error["reason_name"], "OTHER_ERROR", "{error}");
    assert!(
        error["text"]
            .as_str()
            .unwrap()
            .contains("test hook: panic while reading"),
        "{error}"
    );
    stub.send(&format!(
        "add-account prpl-msnp bob@example.com password=x server=127.0.0.1 port={} connection_method=tcp",
        closed_port()
    ));
    stub.send(&format!("enable {}", pct("bob@example.com")));
    let second = stub.wait_for(WAIT, |e| {
        e["event"] == "connection-error" && e["account"] == "bob@example.com"
    });
    assert_eq!(second["reason_name"], "NETWORK_ERROR");
    assert!(stub.quit().success());
    server.join().unwrap();
}
