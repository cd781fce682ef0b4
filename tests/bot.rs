//! The example bot (`examples/greeter_bot.py`, driving its own purple-stub) against a user in
//! purple-stub on the test server: it greets as soon as the user opens a window, before they
//! type; it answers, accepts add requests and signs in again after the server drops it.

mod common;

use std::process::{Child, Command};

use common::accounts::{stub, users};
use common::contacts::{online, wait_status};
use common::conversations::{next_im, send, text_of, STEP};
use common::plugin::PluginDir;
use common::stub::{pct, stub_binary};
use msnp_testserver::TestServer;

const ALICE: &str = "alice@example.com";
const BOT: &str = "greeter@example.com";
const CAROL: &str = "carol@example.com";
const GREETING: &str = "Hi! I am a greeter bot. Say something and I will answer.";

/// The bot process, killed on drop (its purple-stub then sees its input end and exits).
struct Bot(Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_bot(server: &TestServer, plugins: &PluginDir) -> Bot {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/greeter_bot.py");
    let child = Command::new("python3")
        .arg(script)
        .arg("--stub")
        .arg(stub_binary())
        .arg("--plugins")
        .arg(plugins.path())
        .args(["--account", BOT, "--password", "greeterpass"])
        .args(["--set", "server=127.0.0.1"])
        .arg("--set")
        .arg(format!("port={}", server.ns_addr().port()))
        .arg("--set")
        .arg(format!("nexus_url={}", server.nexus_url_plain()))
        .arg("--set")
        .arg(format!("sso_url={}", server.sso_url_plain()))
        .spawn()
        .expect("running python3 examples/greeter_bot.py");
    Bot(child)
}

#[test]
fn the_greeter_bot_greets_before_the_user_types_and_survives_a_reconnect() {
    let mut config = users().with_user(BOT, "greeterpass", "Greeter");
    config = config
        .with_contact(ALICE, BOT, 11)
        .with_contact(BOT, ALICE, 11);
    let server = TestServer::start(config).expect("test server");
    let plugins = PluginDir::new();
    let _bot = start_bot(&server, &plugins);
    let mut user = stub(&plugins, false);
    online(&mut user, &server, ALICE, 18);
    wait_status(&mut user, ALICE, BOT, "available", None);

    // Opening a window is all Alice does; the greeting arrives.
    user.send(&format!("open-im {} {}", pct(ALICE), pct(BOT)));
    let greeting = next_im(&mut user, ALICE, BOT);
    assert_eq!(text_of(greeting["message"].as_str().unwrap()), GREETING);
    assert!(
        !user.events_seen().iter().any(|e| e["event"] == "im-sent"),
        "the greeting came only after Alice typed"
    );

    send(&mut user, ALICE, BOT, "hello bot ☃");
    let answer = next_im(&mut user, ALICE, BOT);
    assert_eq!(
        text_of(answer["message"].as_str().unwrap()),
        "You said: hello bot ☃"
    );

    // Carol, a stranger, adds the bot: it accepts, and she sees it online.
    let mut carol = stub(&plugins, false);
    online(&mut carol, &server, CAROL, 18);
    carol.send(&format!("add-buddy {} {}", pct(CAROL), pct(BOT)));
    wait_status(&mut carol, CAROL, BOT, "available", None);

    // The server drops the bot; it signs in again and answers as before.
    assert_eq!(server.kick(BOT, "SSD"), 1);
    wait_status(&mut user, ALICE, BOT, "offline", None);
    wait_status(&mut user, ALICE, BOT, "available", None);
    send(&mut user, ALICE, BOT, "still there?");
    let answer = user.wait_for(STEP, |e| {
        e["event"] == "im"
            && e["from"] == BOT
            && text_of(e["message"].as_str().unwrap_or_default()) == "You said: still there?"
    });
    assert_eq!(answer["account"], ALICE);

    assert!(user.quit().success());
    assert!(carol.quit().success());
}
