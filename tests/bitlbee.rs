//! The plugin in BitlBee (Debian's `bitlbee-libpurple`), driven as an IRC user would: an account
//! added with `account add msnp`, contacts as IRC users with presence, IMs and typing each way,
//! a group chat as a channel, an authorization request answered with `yes`, and a sign-in error
//! reaching the user as text. The contacts are purple-stub accounts on the test server.

mod common;

use common::accounts::{add_account_line, stub, users, Login};
use common::bitlbee::BitlBee;
use common::contacts::wait_status;
use common::conversations::{next_chat_message, send_chat, text_of, STEP};
use common::plugin::PluginDir;
use common::stub::{pct, Stub};
use msnp_testserver::TestServer;
use serde_json::Value;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";
const DAVE: &str = "dave@example.com";

/// Alice, Bob and Carol on each other's lists; Dave knows nobody yet.
fn server() -> TestServer {
    let mut config = users().with_user(DAVE, "davepass", "Dave");
    for (a, b) in [(ALICE, BOB), (ALICE, CAROL), (BOB, CAROL)] {
        config = config.with_contact(a, b, 11).with_contact(b, a, 11);
    }
    TestServer::start(config).expect("test server")
}

/// The endpoint settings of an account on `server`, as `account msnp set` takes them.
fn endpoints(server: &TestServer) -> Vec<(&'static str, String)> {
    vec![
        ("server", "127.0.0.1".to_owned()),
        ("port", server.ns_addr().port().to_string()),
        ("nexus_url", server.nexus_url_plain()),
        ("sso_url", server.sso_url_plain()),
    ]
}

/// Signs `email` in to the stub with status `status` and waits until it is online.
fn contact_online(stub: &mut Stub, server: &TestServer, email: &str, status: &str, message: &str) {
    let password = format!("{}pass", email.split('@').next().unwrap_or_default());
    stub.send(&add_account_line(server, email, &password, 18, Login::Http));
    stub.send(&format!(
        "status {} {status} message={}",
        pct(email),
        pct(message)
    ));
    stub.send(&format!("enable {}", pct(email)));
    let who = email.to_owned();
    let event = stub.wait_for(STEP, move |e| {
        e["account"] == who.as_str()
            && (e["event"] == "signed-on" || e["event"] == "connection-error")
    });
    assert_eq!(event["event"], "signed-on", "{email}: {event}");
}

/// The next event `name` of `account` in the stub.
fn event(stub: &mut Stub, account: &str, name: &str) -> Value {
    let (account, name) = (account.to_owned(), name.to_owned());
    stub.wait_for(STEP, move |e| {
        e["event"] == name.as_str() && e["account"] == account.as_str()
    })
}

/// The flags field (`H`/`G` for here/gone, then modes) of `nick`'s reply line to `WHO &bitlbee`.
fn who_flags(bee: &mut BitlBee, nick: &str) -> String {
    bee.send("WHO &bitlbee");
    let prefix = format!(":localhost 352 {} &bitlbee {nick} ", bee.nick());
    let line = bee.wait_for(|l| l.starts_with(&prefix));
    bee.wait_for(|l| l.contains(" 315 "));
    // :localhost 352 <me> <channel> <user> <host> <server> <nick> <flags> :<hops> <real name>
    line.split(' ').nth(8).unwrap_or_default().to_owned()
}

#[test]
fn an_irc_user_chats_through_bitlbee() {
    let server = server();
    let plugins = PluginDir::new();
    let mut stub = stub(&plugins, false);
    contact_online(&mut stub, &server, BOB, "away", "at lunch");
    contact_online(&mut stub, &server, CAROL, "available", "");
    contact_online(&mut stub, &server, DAVE, "available", "");

    let mut bee = BitlBee::start("alice");
    bee.command("set typing_notice true");
    bee.wait_root("typing_notice = `true'");
    bee.add_account(ALICE, "alicepass", &endpoints(&server));
    bee.wait_root("msnp - Logging in: Logged in");

    // The contact list: online contacts join the control channel, away ones marked gone with
    // their status message, available ones voiced.
    bee.wait_all(&[
        ":bob!bob@example.com JOIN :&bitlbee",
        ":carol!carol@example.com JOIN :&bitlbee",
    ]);
    assert_eq!(who_flags(&mut bee, "bob"), "G");
    assert_eq!(who_flags(&mut bee, "carol"), "H+");
    bee.send("WHOIS bob");
    let away = bee.wait_for(|l| l.contains(" 301 alice bob :"));
    assert!(away.ends_with(":Away (at lunch)"), "{away}");
    // A presence change reaches IRC: Carol goes away, loses her voice.
    stub.send(&format!("status {} away", pct(CAROL)));
    bee.wait(":localhost MODE &bitlbee -v carol");

    // An IM from Bob: non-ASCII text kept; MSN carries one font style per message (bold and
    // italic here), which BitlBee turns into IRC's bold (^B) and underline (^_) codes.
    stub.send(&format!(
        "send-im {} {} {}",
        pct(BOB),
        pct(ALICE),
        pct("<b>Grüße</b>, <i>wörld</i> ☃ &amp; <font color=\"#ff0000\">red</font>")
    ));
    bee.wait(":bob!bob@example.com PRIVMSG alice :\u{2}\u{1f}Grüße, wörld ☃ & red\u{1f}\u{2}");
    // Bob types: a CTCP TYPING (BitlBee's typing_notice).
    stub.send(&format!("typing {} {} typing", pct(BOB), pct(ALICE)));
    bee.wait(":bob!bob@example.com PRIVMSG alice :\u{1}TYPING 1\u{1}");

    // Alice types and answers; the text arrives as typed (BitlBee escapes it to HTML for
    // libpurple, the plugin sends plain text).
    bee.send("PRIVMSG bob :\u{1}TYPING 1\u{1}");
    let typing = stub.wait_for(STEP, |e| {
        e["event"] == "typing" && e["account"] == BOB && e["who"] == ALICE
    });
    assert_eq!(typing["state"], "typing", "{typing}");
    bee.send("PRIVMSG bob :ça va? 1 < 2 & ☃");
    let im = stub.wait_for(STEP, |e| {
        e["event"] == "im" && e["account"] == BOB && e["from"] == ALICE
    });
    assert_eq!(text_of(im["message"].as_str().unwrap()), "ça va? 1 < 2 & ☃");

    // A group chat: `chat with bob` opens a channel with Bob in it; Carol invited with /INVITE.
    bee.command("chat with bob");
    let joined = bee.wait_for(|l| l.starts_with(":alice!alice@localhost JOIN :#"));
    let channel = joined.rsplit(':').next().unwrap().to_owned();
    bee.wait(&format!(":bob!bob@example.com JOIN :{channel}"));
    bee.send(&format!("INVITE carol {channel}"));
    bee.wait(&format!(":carol!carol@example.com JOIN :{channel}"));
    let carol_chat = event(&mut stub, CAROL, "chat-joined")["chat_id"]
        .as_i64()
        .unwrap();
    bee.send(&format!("PRIVMSG {channel} :hello both ☃"));
    for who in [BOB, CAROL] {
        let message = next_chat_message(&mut stub, who, ALICE);
        assert_eq!(
            text_of(message["message"].as_str().unwrap()),
            "hello both ☃"
        );
    }
    send_chat(&mut stub, CAROL, carol_chat, "<b>hi from carol</b>");
    bee.wait(&format!(
        ":carol!carol@example.com PRIVMSG {channel} :\u{2}hi from carol\u{2}"
    ));

    // Dave adds Alice: BitlBee asks, `yes` accepts, and Dave sees Alice online.
    stub.send(&format!("add-buddy {} {}", pct(DAVE), pct(ALICE)));
    bee.wait_root("(dave@example.com) wants to add you");
    bee.wait_root("commands to accept/reject this request");
    bee.command("yes");
    bee.wait_root("msnp - Accepted:");
    wait_status(&mut stub, DAVE, ALICE, "available", None);

    assert!(bee.quit(), "bitlbee exited with an error");
    assert!(stub.quit().success());
}

#[test]
fn a_wrong_password_reaches_the_irc_user_as_text() {
    let server = server();
    let mut bee = BitlBee::start("alice");
    bee.add_account(ALICE, "not-the-password", &endpoints(&server));
    let error = bee.wait_root("msnp - Login error:");
    assert!(
        error.to_lowercase().contains("password"),
        "the error does not say what is wrong: {error}"
    );
    // Not retried: a wrong password needs the user. BitlBee answers in order, so after the
    // PONG any reconnect notice would have been written.
    bee.wait_root("Signing off..");
    bee.send("PING :barrier");
    bee.wait_for(|l| l.ends_with(" :barrier"));
    assert!(
        !bee.seen().iter().any(|l| l.contains("Reconnecting")),
        "a wrong password is retried"
    );
    assert!(bee.quit(), "bitlbee exited with an error");
}
