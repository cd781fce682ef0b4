//! Account set-up against the project's test server, through purple-stub.

use std::time::Duration;

use msnp_testserver::{ServerConfig, TestServer};
use serde_json::Value;

use super::plugin::PluginDir;
use super::stub::{pct, Stub};

/// How long sign-in may take in a test (valgrind runs stretch it further).
pub const SIGN_IN: Duration = Duration::from_secs(30);

/// The default test accounts.
pub fn users() -> ServerConfig {
    ServerConfig::default()
        .with_user("alice@example.com", "alicepass", "Alice")
        .with_user("bob@example.com", "bobpass", "Bob")
        .with_user("carol@example.com", "carolpass", "Carol")
}

/// How an account reaches the login service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Login {
    /// Nexus, Passport login and RST over HTTPS (certificate accepted for 127.0.0.1).
    Https,
    /// Everything over plain HTTP.
    Http,
}

/// The `add-account` line for `email` at protocol `version` against `server`.
pub fn add_account_line(
    server: &TestServer,
    email: &str,
    password: &str,
    version: u32,
    login: Login,
) -> String {
    let (nexus, sso) = match login {
        Login::Https => (server.nexus_url(), server.sso_url()),
        Login::Http => (server.nexus_url_plain(), server.sso_url_plain()),
    };
    format!(
        "add-account prpl-msnp {} password={} server=127.0.0.1 port={} nexus_url={} sso_url={} max_protocol={version} gateway=127.0.0.1:{}",
        pct(email),
        pct(password),
        server.ns_addr().port(),
        pct(&nexus),
        pct(&sso),
        server.http_port,
    )
}

/// A stub with our plugin, certificates of 127.0.0.1 accepted.
pub fn stub(plugins: &PluginDir, debug: bool) -> Stub {
    fast_stub(plugins, debug, 1)
}

/// [`stub`] with the plugin's session clock running `time_scale` times faster (see
/// [`super::stub::StubOptions::time_scale`]).
pub fn fast_stub(plugins: &PluginDir, debug: bool, time_scale: u32) -> Stub {
    let options = super::stub::StubOptions::new(plugins.path())
        .debug(debug)
        .time_scale(time_scale);
    let mut stub = Stub::spawn(&options);
    stub.send("accept-cert 127.0.0.1");
    stub
}

/// Adds and enables an account; returns without waiting.
pub fn sign_in(
    stub: &mut Stub,
    server: &TestServer,
    email: &str,
    password: &str,
    version: u32,
    login: Login,
) {
    stub.send(&add_account_line(server, email, password, version, login));
    stub.send(&format!("enable {}", pct(email)));
}

/// Waits for `email` to be signed on or fail; returns the event.
pub fn outcome(stub: &mut Stub, email: &str) -> Value {
    let email = email.to_owned();
    stub.wait_for(SIGN_IN, move |e| {
        e["account"] == email.as_str()
            && (e["event"] == "signed-on" || e["event"] == "connection-error")
    })
}

/// Starts a test server with `config` and a stub (our plugin; 127.0.0.1's certificate accepted;
/// libpurple's debug log on with `debug`) in which Alice starts signing in at `version`.
/// Keep the returned plugin folder alive as long as the stub.
pub fn alice_signing_in(
    config: ServerConfig,
    version: u32,
    login: Login,
    debug: bool,
) -> (TestServer, Stub, PluginDir) {
    let server = TestServer::start(config).expect("test server");
    let plugins = PluginDir::new();
    let mut stub = self::stub(&plugins, debug);
    sign_in(
        &mut stub,
        &server,
        "alice@example.com",
        "alicepass",
        version,
        login,
    );
    (server, stub, plugins)
}

/// A barrier through the server and the stub: a `CHL`/`QRY` round trip on `email`'s NS
/// connection (the plugin has processed every line the server sent before, the server has
/// handled every line the plugin sent before), then a stub `sync` (every event that caused is
/// in [`Stub::events_seen`]). Absence is asserted after this, never after a sleep.
pub fn ns_barrier(server: &TestServer, stub: &mut Stub, email: &str) {
    assert_eq!(
        server.ns_sync(email, SIGN_IN * stub.time_factor()),
        1,
        "{email}'s NS connection did not answer the barrier challenge"
    );
    stub.sync();
}
