//! One account signed in from several places, each a purple-stub of its own (own user
//! directory, so own machine GUID) on real libpurple against the project's test server:
//! MSNP18 keeps both places, delivers to both, shares one presence, copies a reply sent from
//! one place to the other and lets one place sign the other out for good; MSNP8-15 end the
//! first sign-in with NAME_IN_USE for good.

mod common;

use std::time::{Duration, Instant};

use common::accounts::{self, ns_barrier};
use common::conversations::{next_im, online, send, server, text_of, ALICE, BOB, STEP};
use common::plugin::PluginDir;
use common::stub::{pct, Stub};
use msnp_testserver::TestServer;
use serde_json::Value;

/// The "Signed-in Places" form the account action shows when there are other places.
fn places_prompt(stub: &mut Stub) -> Value {
    stub.wait_for(accounts::SIGN_IN, |e| {
        e["event"] == "request" && e["kind"] == "fields" && e["title"] == "Signed-in Places"
    })
}

/// Connection errors `stub` reported so far.
fn errors(stub: &mut Stub) -> Vec<Value> {
    stub.events_seen()
        .iter()
        .filter(|e| e["event"] == "connection-error")
        .cloned()
        .collect()
}

#[test]
fn msnp18_two_places_stay_signed_in_and_both_receive() {
    let (server, mut home, mut work, mut bob, _plugins) = two_places();

    send(&mut bob, BOB, ALICE, "to every place");
    for place in [&mut home, &mut work] {
        let im = next_im(place, ALICE, BOB);
        assert_eq!(text_of(im["message"].as_str().unwrap()), "to every place");
    }

    // Both NS connections still answer, and neither place was signed out.
    assert_eq!(server.ns_sync(ALICE, accounts::SIGN_IN), 2);
    for place in [&mut home, &mut work] {
        place.sync();
        assert!(errors(place).is_empty(), "{:?}", errors(place));
    }
}

/// The `CHG`s the server received so far on connection `conn`.
fn chg_count(server: &TestServer, conn: u64) -> usize {
    server
        .transcript()
        .iter()
        .filter(|e| e.conn == conn && e.event == msnp_testserver::Event::Received)
        .filter(|e| e.line.starts_with("CHG "))
        .count()
}

/// The NS connections that sent `USR ... SSO S`, in sign-in order, and the machine GUIDs.
fn sso_logins(server: &TestServer) -> Vec<(u64, String)> {
    server
        .transcript()
        .iter()
        .filter(|e| e.event == msnp_testserver::Event::Received)
        .filter(|e| e.line.starts_with("USR ") && e.line.contains(" SSO S "))
        .filter_map(|e| Some((e.conn, e.line.split(' ').next_back()?.to_owned())))
        .collect()
}

/// Both places have handled everything the server sent them before, and the server everything
/// they sent.
fn barrier(server: &TestServer, places: [&mut Stub; 2]) {
    assert_eq!(server.ns_sync(ALICE, accounts::SIGN_IN), 2);
    for place in places {
        place.sync();
    }
}

/// Alice at home and at work (MSNP18), Bob watching; both places have set their status and
/// the server has listed both to both.
fn two_places() -> (TestServer, Stub, Stub, Stub, PluginDir) {
    let server = server();
    let plugins = PluginDir::new();
    let mut home = accounts::stub(&plugins, false);
    let mut work = accounts::stub(&plugins, false);
    let mut bob = accounts::stub(&plugins, false);
    online(&mut home, &server, &[ALICE], 18);
    online(&mut work, &server, &[ALICE], 18);
    online(&mut bob, &server, &[BOB], 18);
    for (conn, _) in sso_logins(&server).into_iter().take(2) {
        wait_for_place_list(&server, conn, 0, 2);
    }
    (server, home, work, bob, plugins)
}

#[test]
fn msnp18_status_set_at_one_place_is_the_other_places_status() {
    let (server, mut home, mut work, mut bob, _plugins) = two_places();
    barrier(&server, [&mut home, &mut work]);
    let logins = sso_logins(&server);
    let (home_conn, work_conn) = (logins[0].0, logins[1].0);
    let before = (chg_count(&server, home_conn), chg_count(&server, work_conn));

    home.send(&format!("status {} away", pct(ALICE)));
    let shown = work.wait_for(accounts::SIGN_IN, |e| {
        e["event"] == "account-status" && e["account"] == ALICE && e["status"] == "away"
    });
    assert_eq!(shown["status"], "away", "{shown}");
    bob.wait_for(accounts::SIGN_IN, |e| {
        e["event"] == "buddy-status" && e["who"] == ALICE && e["status"] == "away"
    });

    // Only home told the server; work showed it without sending it back.
    barrier(&server, [&mut home, &mut work]);
    let after = (chg_count(&server, home_conn), chg_count(&server, work_conn));
    assert_eq!(after, (before.0 + 1, before.1));
    assert!(errors(&mut work).is_empty(), "{:?}", errors(&mut work));
}

#[test]
fn msnp18_signed_in_places_lists_the_other_place() {
    let (server, mut home, mut work, _bob, _plugins) = two_places();
    // Home and work signed in before Bob.
    let logins = sso_logins(&server);
    assert_eq!(logins.len(), 3, "{logins:?}");
    barrier(&server, [&mut home, &mut work]);
    let (home_conn, guids) = (logins[0].0, [&logins[0].1, &logins[1].1]);
    let bare = |g: &str| g.trim_matches(['{', '}']).to_ascii_lowercase();
    let (home_guid, work_guid) = (bare(guids[0]), bare(guids[1]));
    assert_ne!(home_guid, work_guid);

    home.send(&format!(
        "account-action {} Signed-in Places...",
        pct(ALICE)
    ));
    let shown = places_prompt(&mut home);
    assert_eq!(
        shown["primary"], "Also signed in at 1 other place(s)",
        "{shown}"
    );
    let fields = shown["fields"].as_array().cloned().unwrap_or_default();
    let [field] = fields.as_slice() else {
        panic!("one checkbox for work: {shown}")
    };
    assert_eq!(field["type"], "boolean", "{shown}");
    let label = field["label"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert_eq!(label, format!("purple-msnp {{{work_guid}}}"), "{shown}");
    assert!(
        !shown.to_string().to_ascii_lowercase().contains(&home_guid),
        "{shown}"
    );
    // Not answered: nothing was signed out.
    assert_eq!(shown["answer"], "cancel", "{shown}");

    // Once work signs out, home is the only place.
    let from = server.transcript().len();
    work.send(&format!("disable {}", pct(ALICE)));
    work.wait_event(accounts::SIGN_IN, "signed-off");
    // The server lists home alone once work is gone; then home has read that list.
    wait_for_place_list(&server, home_conn, from, 1);
    ns_barrier(&server, &mut home, ALICE);
    home.send(&format!(
        "account-action {} Signed-in Places...",
        pct(ALICE)
    ));
    let shown = home.wait_event(accounts::SIGN_IN, "notify");
    assert_eq!(shown["primary"], "Signed in here only", "{shown}");
}

fn second_sign_in_ends_the_first_for_good(version: u32) {
    let server = server();
    let plugins = PluginDir::new();
    let mut first = accounts::stub(&plugins, false);
    let mut second = accounts::stub(&plugins, false);
    online(&mut first, &server, &[ALICE], version);
    online(&mut second, &server, &[ALICE], version);

    let error = first.wait_event(accounts::SIGN_IN, "connection-error");
    assert_eq!(
        error["reason_name"], "NAME_IN_USE",
        "MSNP{version}: {error}"
    );
    // Front ends reconnect by themselves only after a non-fatal error.
    assert_eq!(error["fatal"], true, "{error}");

    // Barrier: the second place's NS connection answers and the first has handled the end.
    ns_barrier(&server, &mut second, ALICE);
    first.sync();
    let after_error: Vec<&Value> = first
        .events_seen()
        .iter()
        .skip_while(|e| e["event"] != "connection-error")
        .filter(|e| e["event"] == "connecting" || e["event"] == "signed-on")
        .collect();
    assert!(after_error.is_empty(), "{after_error:?}");
    assert_eq!(server.logins(), 2);
    assert!(errors(&mut second).is_empty(), "{:?}", errors(&mut second));
}

#[test]
fn msnp18_reply_from_another_place_shows_in_the_conversation_here() {
    let (server, mut home, mut work, mut bob, _plugins) = two_places();
    // Bob's switchboard rings both places; both join it.
    send(&mut bob, BOB, ALICE, "to every place");
    next_im(&mut home, ALICE, BOB);
    next_im(&mut work, ALICE, BOB);

    send(&mut work, ALICE, BOB, "reply from work");
    assert_eq!(
        text_of(next_im(&mut bob, BOB, ALICE)["message"].as_str().unwrap()),
        "reply from work"
    );
    // Home shows it as sent, in the conversation with Bob; not as a message from Alice.
    let copy = home.wait_for(STEP, |e| {
        e["event"] == "im-sent" && e["conversation"] == BOB
    });
    assert_eq!(
        text_of(copy["message"].as_str().unwrap()),
        "reply from work",
        "{copy}"
    );
    let flags = copy["flags"].as_array().cloned().unwrap_or_default();
    assert!(flags.iter().any(|f| f == "remote-send"), "{copy}");
    barrier(&server, [&mut home, &mut work]);
    let from_self: Vec<&Value> = home
        .events_seen()
        .iter()
        .filter(|e| e["event"] == "im" && e["from"] == ALICE)
        .collect();
    assert!(from_self.is_empty(), "{from_self:?}");
}

/// Waits for `place` to show `text` as sent by us to Bob from another place.
fn copy_shown(place: &mut Stub, text: &str) -> Value {
    let copy = place.wait_for(STEP, |e| {
        e["event"] == "im-sent"
            && e["conversation"] == BOB
            && e["flags"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f == "remote-send"))
    });
    assert_eq!(text_of(copy["message"].as_str().unwrap()), text, "{copy}");
    copy
}

/// The `im` events `place` showed from `from`.
fn ims_from(place: &mut Stub, from: &str) -> usize {
    place
        .events_seen()
        .iter()
        .filter(|e| e["event"] == "im" && e["from"] == from)
        .count()
}

#[test]
fn msnp18_a_conversation_started_at_another_place_shows_here() {
    let (server, mut home, mut work, mut bob, _plugins) = two_places();
    barrier(&server, [&mut home, &mut work]);
    let from = server.transcript().len();

    // Home starts the conversation: it calls Bob and itself, so the server rings work too,
    // and the first message waits until work is in.
    send(&mut home, ALICE, BOB, "from home");
    assert_eq!(
        text_of(next_im(&mut bob, BOB, ALICE)["message"].as_str().unwrap()),
        "from home"
    );
    copy_shown(&mut work, "from home");
    let logins = sso_logins(&server);
    let rung: Vec<u64> = server.transcript()[from..]
        .iter()
        .filter(|e| e.event == msnp_testserver::Event::Sent && e.line.starts_with("RNG "))
        .filter(|e| e.line.contains(&format!(" {ALICE} ")))
        .map(|e| e.conn)
        .collect();
    let mut rung = rung;
    rung.sort();
    assert_eq!(rung, [logins[1].0, logins[2].0], "work and Bob were rung");

    // Bob's answer reaches both places; what work says shows at home as sent.
    send(&mut bob, BOB, ALICE, "to both");
    for place in [&mut home, &mut work] {
        let im = next_im(place, ALICE, BOB);
        assert_eq!(text_of(im["message"].as_str().unwrap()), "to both");
    }
    send(&mut work, ALICE, BOB, "from work");
    assert_eq!(
        text_of(next_im(&mut bob, BOB, ALICE)["message"].as_str().unwrap()),
        "from work"
    );
    copy_shown(&mut home, "from work");

    // Nothing echoed, shown twice or as from ourselves; one window with Bob at work.
    bob.sync();
    barrier(&server, [&mut home, &mut work]);
    assert_eq!(ims_from(&mut bob, ALICE), 2);
    assert_eq!(ims_from(&mut home, ALICE) + ims_from(&mut work, ALICE), 0);
    let windows = work
        .events_seen()
        .iter()
        .filter(|e| e["event"] == "conversation-created" && e["conversation"] == BOB)
        .count();
    assert_eq!(windows, 1);
    let sent: usize = server.transcript()[from..]
        .iter()
        .filter(|e| e.event == msnp_testserver::Event::Received && e.line.starts_with("MSG "))
        .filter(|e| {
            e.payload
                .as_deref()
                .is_some_and(|p| String::from_utf8_lossy(p).contains("text/plain"))
        })
        .count();
    assert_eq!(sent, 3, "each text written once");
}

/// A place frozen while the server ends it (`OUT OTH`, then closes) writes twice on waking (a
/// status with a message: `CHG` and `UUX`) before it reads: the second write fails, and the
/// unread `OUT OTH` still decides how the session ends (no reconnect).
#[test]
fn msnp15_a_write_crossing_the_end_still_ends_with_name_in_use() {
    let server = server();
    let plugins = PluginDir::new();
    let mut first = accounts::stub(&plugins, false);
    let mut second = accounts::stub(&plugins, false);
    online(&mut first, &server, &[ALICE], 15);
    ns_barrier(&server, &mut first, ALICE);
    let pid = first.pid().expect("running").to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig}");
    };
    signal("-STOP");
    let from = server.transcript().len();
    online(&mut second, &server, &[ALICE], 15);
    // The server told the first place and closed its connection.
    let deadline = Instant::now() + accounts::SIGN_IN;
    while !server.transcript()[from..]
        .iter()
        .any(|e| e.line == "OUT OTH" && e.event == msnp_testserver::Event::Sent)
    {
        assert!(Instant::now() < deadline, "no OUT OTH");
        std::thread::sleep(Duration::from_millis(20));
    }
    first.send(&format!("status {} away message=back%20soon", pct(ALICE)));
    signal("-CONT");
    let error = first.wait_event(accounts::SIGN_IN, "connection-error");
    assert_eq!(error["reason_name"], "NAME_IN_USE", "{error}");
    assert_eq!(error["fatal"], true, "{error}");
}

#[test]
fn msnp8_second_sign_in_ends_the_first_for_good() {
    second_sign_in_ends_the_first_for_good(8);
}

#[test]
fn msnp12_second_sign_in_ends_the_first_for_good() {
    second_sign_in_ends_the_first_for_good(12);
}

#[test]
fn msnp15_second_sign_in_ends_the_first_for_good() {
    second_sign_in_ends_the_first_for_good(15);
}

/// Waits until the server has sent `conn`, after transcript entry `after`, an own-account `UBX`
/// listing exactly `places` places.
fn wait_for_place_list(server: &TestServer, conn: u64, after: usize, places: usize) {
    let deadline = Instant::now() + accounts::SIGN_IN;
    while !server.transcript().iter().skip(after).any(|e| {
        e.conn == conn
            && e.event == msnp_testserver::Event::Sent
            && e.line.starts_with(&format!("UBX 1:{ALICE} "))
            && e.payload.as_deref().is_some_and(|p| {
                String::from_utf8_lossy(p).matches("<EndpointData").count() == places
            })
    }) {
        assert!(
            Instant::now() < deadline,
            "conn {conn} never got {places} place(s)"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn msnp18_one_place_signs_the_other_out_for_good() {
    let (server, mut home, mut work, _bob, _plugins) = two_places();
    let logins = sso_logins(&server);
    let (home_conn, work_conn) = (logins[0].0, logins[1].0);
    barrier(&server, [&mut home, &mut work]);
    // As home sent it and the server lists it.
    let field_id = format!("{{{}}}", logins[0].1.trim_matches(['{', '}']));
    let logins_before = server.logins();

    // At work, the user ticks home in the form and presses "Sign Out".
    work.send(&format!("answer-fields {field_id}"));
    work.wait_event(accounts::SIGN_IN, "answer-fields");
    let uun_from = server.transcript().len();
    work.send(&format!(
        "account-action {} Signed-in Places...",
        pct(ALICE)
    ));
    let shown = places_prompt(&mut work);
    assert_eq!(shown["answer"], "ok", "{shown}");
    let ids: Vec<String> = shown["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str())
        .map(str::to_owned)
        .collect();
    assert_eq!(ids, std::slice::from_ref(&field_id), "{shown}");

    // Home is told and ends, for good, with a clear text.
    let error = home.wait_event(accounts::SIGN_IN, "connection-error");
    assert_eq!(error["reason_name"], "NAME_IN_USE", "{error}");
    assert_eq!(error["fatal"], true, "{error}");
    assert_eq!(
        error["text"], "Signed out from another place where this account is signed in",
        "{error}"
    );

    // The server relayed it to home alone and answered work; home said OUT.
    let transcript = server.transcript();
    let uun = transcript[uun_from..]
        .iter()
        .find(|e| e.conn == work_conn && e.event == msnp_testserver::Event::Received)
        .filter(|e| e.line.starts_with("UUN "))
        .expect("work sent UUN first");
    assert!(
        uun.line
            .to_ascii_lowercase()
            .ends_with(&format!(" {ALICE};{field_id} 4 14").to_ascii_lowercase()),
        "{}",
        uun.line
    );
    assert_eq!(uun.payload.as_deref(), Some(&b"goawyplzthxbye"[..]));
    let ubn: Vec<u64> = transcript[uun_from..]
        .iter()
        .filter(|e| e.event == msnp_testserver::Event::Sent && e.line.starts_with("UBN "))
        .map(|e| e.conn)
        .collect();
    assert_eq!(ubn, [home_conn]);

    // Work's list no longer has home once the server says so.
    wait_for_place_list(&server, work_conn, uun_from, 1);
    ns_barrier(&server, &mut work, ALICE);
    assert!(server.transcript()[uun_from..]
        .iter()
        .any(|e| e.conn == home_conn
            && e.event == msnp_testserver::Event::Received
            && e.line == "OUT"));
    work.send(&format!(
        "account-action {} Signed-in Places...",
        pct(ALICE)
    ));
    let shown = work.wait_event(accounts::SIGN_IN, "notify");
    assert_eq!(shown["primary"], "Signed in here only", "{shown}");

    // Home did not come back.
    home.sync();
    let after_error: Vec<&Value> = home
        .events_seen()
        .iter()
        .skip_while(|e| e["event"] != "connection-error")
        .filter(|e| e["event"] == "connecting" || e["event"] == "signed-on")
        .collect();
    assert!(after_error.is_empty(), "{after_error:?}");
    assert_eq!(server.logins(), logins_before);
    assert!(errors(&mut work).is_empty(), "{:?}", errors(&mut work));
}

#[test]
fn msnp18_all_other_places_are_signed_out_and_this_one_stays() {
    let server = server();
    let plugins = PluginDir::new();
    let mut places: Vec<Stub> = (0..3).map(|_| accounts::stub(&plugins, false)).collect();
    for place in &mut places {
        online(place, &server, &[ALICE], 18);
    }
    // Every place has heard of all three (each set its status after signing on).
    let logins = sso_logins(&server);
    for (conn, _) in &logins {
        wait_for_place_list(&server, *conn, 0, 3);
    }
    assert_eq!(server.ns_sync(ALICE, accounts::SIGN_IN), 3);
    for place in &mut places {
        place.sync();
    }
    let here_conn = logins[2].0;
    let [home, laptop, here] = places.as_mut_slice() else {
        unreachable!()
    };

    here.send("answer-fields all");
    here.wait_event(accounts::SIGN_IN, "answer-fields");
    let from = server.transcript().len();
    here.send(&format!(
        "account-action {} Signed-in Places...",
        pct(ALICE)
    ));
    let shown = places_prompt(here);
    assert_eq!(shown["answer"], "ok", "{shown}");
    assert_eq!(
        shown["primary"], "Also signed in at 2 other place(s)",
        "{shown}"
    );
    for other in [home, laptop] {
        let error = other.wait_event(accounts::SIGN_IN, "connection-error");
        assert_eq!(error["reason_name"], "NAME_IN_USE", "{error}");
    }
    wait_for_place_list(&server, here_conn, from, 1);
    ns_barrier(&server, here, ALICE);
    here.send(&format!(
        "account-action {} Signed-in Places...",
        pct(ALICE)
    ));
    let shown = here.wait_event(accounts::SIGN_IN, "notify");
    assert_eq!(shown["primary"], "Signed in here only", "{shown}");
    assert!(errors(here).is_empty(), "{:?}", errors(here));
}

#[test]
fn msnp18_appearing_offline_a_place_is_not_signed_out_and_the_user_is_told() {
    let (server, mut home, mut work, _bob, _plugins) = two_places();
    let logins = sso_logins(&server);
    let work_conn = logins[1].0;
    work.send(&format!("status {} invisible", pct(ALICE)));
    // The server confirmed it to work, and work has read that.
    let deadline = Instant::now() + accounts::SIGN_IN;
    while !server.transcript().iter().any(|e| {
        e.conn == work_conn
            && e.event == msnp_testserver::Event::Sent
            && e.line.starts_with("CHG ")
            && e.line.contains(" HDN ")
    }) {
        assert!(Instant::now() < deadline, "work never appeared offline");
        std::thread::sleep(Duration::from_millis(20));
    }
    barrier(&server, [&mut home, &mut work]);

    let field_id = format!("{{{}}}", logins[0].1.trim_matches(['{', '}']));
    work.send(&format!("answer-fields {field_id}"));
    work.wait_event(accounts::SIGN_IN, "answer-fields");
    let from = server.transcript().len();
    work.send(&format!(
        "account-action {} Signed-in Places...",
        pct(ALICE)
    ));
    assert_eq!(places_prompt(&mut work)["answer"], "ok");
    let shown = work.wait_event(accounts::SIGN_IN, "notify");
    assert_eq!(shown["type"], "error", "{shown}");
    assert!(
        shown["primary"]
            .as_str()
            .is_some_and(|p| p.contains("appear offline")),
        "{shown}"
    );
    barrier(&server, [&mut home, &mut work]);
    assert!(!server.transcript()[from..]
        .iter()
        .any(|e| e.line.starts_with("UUN ")));
    assert!(errors(&mut home).is_empty(), "{:?}", errors(&mut home));
}
