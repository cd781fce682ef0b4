//! The contact list against recorded Escargot sessions (MSNP12 `SYN`/`LST`, MSNP18 SOAP and
//! `ADL`) and scripted server answers: what the session sends and what it reports.

use std::time::Duration;

use super::events::{Buddy, ContactEvent, Media, Presence};
use crate::auth::testlog::{self, Exchange};
use crate::session::sim::Sim;
use crate::wire::{transcript, PrivacyMode, Status};

/// A recorded NS session replayed chunk by chunk, HTTP answered from the recording.
pub(super) struct Replay {
    pub h: Sim,
    chunks: Vec<Vec<u8>>,
    next: usize,
    exchanges: Vec<Exchange>,
    /// Whether requests other than the login's are answered from the recording.
    pub answer_soap: bool,
}

impl Replay {
    pub fn new(name: &str, dir: &str, version: u32, account: &str, password: &str) -> Replay {
        let chunks = transcript::load(name)
            .chunks
            .into_iter()
            .filter(|(from_server, _)| *from_server)
            .map(|(_, bytes)| bytes)
            .collect();
        Replay {
            h: Sim::new_connected(version, account, password),
            chunks,
            next: 0,
            exchanges: testlog::load(dir),
            answer_soap: true,
        }
    }

    /// Feeds server chunks until `stop` holds after one (or all are fed).
    pub fn run_until(&mut self, stop: impl Fn(&Sim) -> bool) {
        while let Some(chunk) = self.chunks.get(self.next).cloned() {
            self.next += 1;
            self.h.feed(&chunk);
            self.answer_http();
            if stop(&self.h) {
                return;
            }
        }
    }

    /// Answers every pending request with the first unused recorded exchange for its path
    /// (and, for logins, its account).
    fn answer_http(&mut self) {
        while let Some((_, request)) = self.h.http.first() {
            if !self.answer_soap && request.url.contains("/abservice/") {
                return;
            }
            let account = self.h.session.config.account.clone();
            let pos = self
                .exchanges
                .iter()
                .position(|x| {
                    request.url.ends_with(x.url_path())
                        && x.request_header("Authorization")
                            .is_none_or(|a| a.contains(&account.replace('@', "%40")))
                        && (x.label != "SSO RST"
                            || String::from_utf8_lossy(&x.request_body).contains(&account))
                })
                .expect("a recorded answer for the request");
            let exchange = self.exchanges.remove(pos);
            self.h.answer(&exchange.raw_response());
        }
    }
}

/// Alice signed in at MSNP18 from the recording, her list (Bob) received, output taken.
pub(super) fn synced_v18() -> Sim {
    let mut r = Replay::new(
        "msnp18/alice-ns.raw.txt",
        "msnp18",
        18,
        "alice@example.com",
        "alicepass",
    );
    r.run_until(|h| h.session.is_list_synced());
    let mut h = r.h;
    h.take_contact_events();
    h.take_sent();
    h
}

pub(super) fn bob(groups: &[&str]) -> Buddy {
    Buddy {
        email: "bob@example.com".into(),
        server_alias: Some("Bob".into()),
        nickname: None,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        network: 1,
    }
}

fn presence(status: Option<Status>, psm: &str) -> ContactEvent {
    ContactEvent::Presence(Presence {
        email: "bob@example.com".into(),
        status,
        friendly: Some("Bob".into()),
        psm: psm.into(),
        media: None,
        capabilities: 1_342_177_280,
        network: 1,
    })
}

#[test]
fn msnp12_list_and_presence_follow_the_recording() {
    let mut r = Replay::new(
        "msnp12/alice-ns.raw.txt",
        "msnp12",
        12,
        "alice@example.com",
        "alicepass",
    );
    r.run_until(Sim::signed_in);
    let lines = r.h.take_lines_but_png();
    let login = lines.iter().position(|l| l.starts_with("USR 4 ")).unwrap() + 1;
    assert_eq!(lines[login..], ["SYN 5 0 0", "CHG 6 NLN 1342177312 0"]);
    r.run_until(|h| h.session.is_list_synced());
    assert_eq!(
        r.h.take_contact_events(),
        vec![
            ContactEvent::PrivacyMode(PrivacyMode::AllowOthers),
            ContactEvent::OwnName("Alice".into()),
            ContactEvent::ListSynced {
                groups: vec![],
                buddies: vec![bob(&[])],
                allowed: vec!["bob@example.com".into()],
                blocked: vec![],
            },
        ]
    );
    r.run_until(|_| false);
    let mut away = presence(Some(Status::Away), "bob probe psm");
    assert_eq!(
        r.h.take_contact_events(),
        vec![
            presence(Some(Status::Online), ""),
            presence(Some(Status::Online), "bob probe psm"),
            away.clone(),
            {
                if let ContactEvent::Presence(p) = &mut away {
                    p.status = None;
                }
                away
            },
        ]
    );
    assert!(r.h.ended().is_none());
}

#[test]
fn msnp18_fetches_the_address_book_then_sends_the_recorded_adl() {
    let mut r = Replay::new(
        "msnp18/alice-ns.raw.txt",
        "msnp18",
        18,
        "alice@example.com",
        "alicepass",
    );
    r.run_until(|h| h.session.is_list_synced());
    let sent = r.h.take_sent();
    let after_login = &sent[sent.find("USR 4 SSO S").unwrap()..];
    let after_login = &after_login[after_login.find("\r\n").unwrap() + 2..];
    assert_eq!(
        after_login,
        "BLP 5 AL\r\n\
         ADL 6 63\r\n<ml l=\"1\"><d n=\"example.com\"><c n=\"bob\" l=\"3\" t=\"1\" /></d></ml>\
         PRP 7 MFN Alice\r\n\
         CHG 8 NLN 2415919136:0 0\r\n\
         UUX 9 133\r\n<PrivateEndpointData><EpName>purple-msnp</EpName><Idle>false</Idle><ClientType>1</ClientType><State>NLN</State></PrivateEndpointData>"
    );
    let events = r.h.take_contact_events();
    assert!(events.contains(&ContactEvent::ListSynced {
        groups: vec![],
        buddies: vec![bob(&[])],
        allowed: vec!["bob@example.com".into()],
        blocked: vec![],
    }));
    assert!(events.contains(&ContactEvent::OwnName("Alice".into())));
    r.run_until(|_| false);
    let events = r.h.take_contact_events();
    let bob_presence: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ContactEvent::Presence(p) => Some((p.status, p.psm.as_str())),
            _ => None,
        })
        .collect();
    // Our own (repeated) presence is ignored; Bob's repeated UBX is reported once.
    assert_eq!(
        bob_presence,
        [
            (Some(Status::Online), ""),
            (Some(Status::Online), "bob sso psm"),
            (Some(Status::Busy), "bob sso psm"),
            (None, "bob sso psm"),
        ]
    );
    assert!(events.contains(&ContactEvent::OwnName("Alice (probe)".into())));
}

#[test]
fn an_msnp12_dump_with_groups_and_pending_contacts() {
    let mut h = Sim::signed_in_ns(12, "alice@example.com");
    h.feed_lines(&[
        "SYN 5 2000-01-01T00:00:00.0-00:00 2000-01-01T00:00:00.0-00:00 3 2",
        "GTC A",
        "BLP BL",
        "PRP MFN Alice%20A.",
        "LSG Friends 11111111-1111-1111-1111-111111111111",
        "LSG Work 22222222-2222-2222-2222-222222222222",
        "LST N=bob@example.com F=Bob C=aaaaaaaa-0000-0000-0000-000000000001 11 1 11111111-1111-1111-1111-111111111111,22222222-2222-2222-2222-222222222222",
        "BPR PHH 555",
        "LST N=carol@example.com F=Carol%20C 24",
        "LST N=dave@example.com F=dave@example.com C=aaaaaaaa-0000-0000-0000-000000000002 5 1 ",
    ]);
    let events = h.take_contact_events();
    assert_eq!(
        events,
        vec![
            ContactEvent::PrivacyMode(PrivacyMode::BlockOthers),
            ContactEvent::OwnName("Alice A.".into()),
            ContactEvent::ListSynced {
                groups: vec!["Friends".into(), "Work".into()],
                buddies: vec![
                    bob(&["Friends", "Work"]),
                    Buddy {
                        email: "dave@example.com".into(),
                        server_alias: None,
                        nickname: None,
                        groups: vec![],
                        network: 1,
                    },
                ],
                allowed: vec!["bob@example.com".into()],
                blocked: vec!["dave@example.com".into()],
            },
            ContactEvent::AuthRequest {
                email: "carol@example.com".into(),
                friendly: Some("Carol C".into()),
                message: None,
                on_list: false,
            },
        ]
    );
}

#[test]
fn a_short_dump_is_taken_after_a_pause() {
    let mut h = Sim::signed_in_ns(12, "alice@example.com");
    h.feed_lines(&[
        "SYN 5 2000-01-01T00:00:00.0-00:00 2000-01-01T00:00:00.0-00:00 2 0",
        "LST N=bob@example.com F=Bob C=aaaaaaaa-0000-0000-0000-000000000001 11 1 ",
    ]);
    assert!(!h.session.is_list_synced());
    h.advance(Duration::from_secs(61));
    assert!(h.session.is_list_synced());
    assert!(matches!(
        h.take_contact_events().last(),
        Some(ContactEvent::ListSynced { buddies, .. }) if buddies.len() == 1
    ));
}

#[test]
fn five_thousand_contacts_arrive_complete() {
    let mut h = Sim::signed_in_ns(12, "alice@example.com");
    let mut dump = String::from(
        "SYN 5 2000-01-01T00:00:00.0-00:00 2000-01-01T00:00:00.0-00:00 5000 1\r\n\
         LSG Many 11111111-1111-1111-1111-111111111111\r\n",
    );
    for i in 0..5000 {
        dump.push_str(&format!(
            "LST N=user{i}@example.com F=User%20{i} C=aaaaaaaa-0000-0000-0000-{i:012} 3 1 11111111-1111-1111-1111-111111111111\r\n"
        ));
    }
    h.feed(dump.as_bytes());
    let events = h.take_contact_events();
    let Some(ContactEvent::ListSynced { buddies, .. }) = events.last() else {
        panic!("no list: {events:?}");
    };
    assert_eq!(buddies.len(), 5000);
    assert!(buddies.iter().all(|b| b.groups == ["Many"]));
    assert!(buddies.iter().any(
        |b| b.email == "user4999@example.com" && b.server_alias.as_deref() == Some("User 4999")
    ));
}

/// A synced MSNP12 session whose list has Bob in group Friends.
fn v12_with_bob() -> Sim {
    let mut h = Sim::signed_in_ns(12, "alice@example.com");
    h.feed_lines(&[
        "SYN 5 2000-01-01T00:00:00.0-00:00 2000-01-01T00:00:00.0-00:00 1 1",
        "LSG Friends 11111111-1111-1111-1111-111111111111",
        "LST N=bob@example.com F=Bob C=aaaaaaaa-0000-0000-0000-000000000001 11 1 11111111-1111-1111-1111-111111111111",
    ]);
    h.take_contact_events();
    h.take_sent();
    h
}

#[test]
fn msnp12_add_into_a_new_group_creates_it_first() {
    let mut h = v12_with_bob();
    h.session
        .add_buddy("carol@example.com", Some("Work"), h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["ADG 7 Work"]);
    h.feed_lines(&["ADG 7 Work 22222222-2222-2222-2222-222222222222 0"]);
    assert_eq!(
        h.take_lines_but_png(),
        ["ADC 8 FL N=carol@example.com F=carol@example.com"]
    );
    h.feed_lines(&["ADC 8 FL N=carol@example.com F=Carol C=cccccccc-0000-0000-0000-000000000003"]);
    assert_eq!(
        h.take_lines_but_png(),
        ["ADC 9 FL C=cccccccc-0000-0000-0000-000000000003 22222222-2222-2222-2222-222222222222"]
    );
    assert!(h.take_contact_events().is_empty());
    h.feed_lines(&[
        "ADC 9 FL C=cccccccc-0000-0000-0000-000000000003 22222222-2222-2222-2222-222222222222",
    ]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::BuddyChanged(Buddy {
            email: "carol@example.com".into(),
            server_alias: Some("Carol".into()),
            nickname: None,
            groups: vec!["Work".into()],
            network: 1,
        })]
    );
}

#[test]
fn msnp12_move_rename_remove() {
    let mut h = v12_with_bob();
    h.session
        .move_buddy("bob@example.com", Some("Friends"), None, h.now);
    h.drain();
    assert_eq!(
        h.take_lines_but_png(),
        ["REM 7 FL aaaaaaaa-0000-0000-0000-000000000001 11111111-1111-1111-1111-111111111111"]
    );
    h.feed_lines(&[
        "REM 7 FL aaaaaaaa-0000-0000-0000-000000000001 11111111-1111-1111-1111-111111111111",
    ]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::BuddyChanged(bob(&[]))]
    );

    h.session.rename_group("Friends", "Pals", &[], h.now);
    h.drain();
    assert_eq!(
        h.take_lines_but_png(),
        ["REG 8 11111111-1111-1111-1111-111111111111 Pals"]
    );
    // Escargot's reply order: REG <trid> 1 <name> <guid> 0.
    h.feed_lines(&["REG 8 1 Pals 11111111-1111-1111-1111-111111111111 0"]);
    h.session.remove_group("Pals", h.now);
    h.drain();
    assert_eq!(
        h.take_lines_but_png(),
        ["RMG 9 11111111-1111-1111-1111-111111111111"]
    );
    h.feed_lines(&["RMG 9 1 11111111-1111-1111-1111-111111111111"]);
    h.session.remove_buddy("bob@example.com", None, h.now);
    h.drain();
    assert_eq!(
        h.take_lines_but_png(),
        ["REM 10 FL aaaaaaaa-0000-0000-0000-000000000001"]
    );
    h.feed_lines(&["REM 10 FL aaaaaaaa-0000-0000-0000-000000000001"]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::BuddyRemoved {
            email: "bob@example.com".into()
        }]
    );
    // Removing from the last group of several only leaves that group.
    assert!(h.session.contact_lists("bob@example.com") == (false, true));
}

#[test]
fn a_refused_add_is_reported_and_undone() {
    let mut h = v12_with_bob();
    h.session.add_buddy("nobody@example.com", None, h.now);
    h.drain();
    assert_eq!(
        h.take_lines_but_png(),
        ["ADC 7 FL N=nobody@example.com F=nobody@example.com"]
    );
    h.feed_lines(&["208 7"]);
    let events = h.take_contact_events();
    assert!(
        matches!(&events[0], ContactEvent::Failed(t) if t.starts_with("Could not add nobody@example.com: server error 208")),
        "{events:?}"
    );
    assert_eq!(
        events[1],
        ContactEvent::BuddyRemoved {
            email: "nobody@example.com".into()
        }
    );
    h.session.add_buddy("not an address", None, h.now);
    h.drain();
    assert!(h.take_lines_but_png().is_empty());
    assert!(matches!(
        &h.take_contact_events()[0],
        ContactEvent::Failed(_)
    ));
}

#[test]
fn a_step_without_answer_times_out_and_the_next_runs() {
    let mut h = v12_with_bob();
    h.session.block("eve@example.com", h.now);
    h.session.alias_buddy("bob@example.com", "Bobby", h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["ADC 7 BL N=eve@example.com"]);
    h.advance(Duration::from_secs(61));
    assert_eq!(
        h.take_lines_but_png(),
        ["SBP 8 aaaaaaaa-0000-0000-0000-000000000001 MFN Bobby"]
    );
    let events = h.take_contact_events();
    assert!(matches!(&events[0], ContactEvent::Failed(t) if t.contains("did not answer")));
}

/// The connection drops with one list change sent and one queued (the soak's NS drops): both
/// are reported, none silently forgotten.
#[test]
fn list_changes_pending_when_the_connection_drops_are_reported() {
    let mut h = v12_with_bob();
    h.session.block("eve@example.com", h.now);
    h.session.alias_buddy("bob@example.com", "Bobby", h.now);
    h.drain();
    assert_eq!(h.take_lines(), ["ADC 7 BL N=eve@example.com"]);
    let conn = h.ns.expect("connected");
    h.session
        .handle_connection_lost(conn, "reset".into(), h.now);
    h.drain();
    let failed: Vec<String> = h
        .take_contact_events()
        .into_iter()
        .filter_map(|e| match e {
            ContactEvent::Failed(text) => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed[0].contains("eve@example.com") && failed[0].contains("connection"));
    assert!(failed[1].contains("bob@example.com"), "{failed:?}");
}

#[test]
fn someone_adding_us_is_an_authorization_request_answered_on_the_lists() {
    let mut h = v12_with_bob();
    h.feed_lines(&["ADC 0 RL N=carol@example.com F=Carol"]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::AuthRequest {
            email: "carol@example.com".into(),
            friendly: Some("Carol".into()),
            message: None,
            on_list: false,
        }]
    );
    // A repeated push does not ask twice.
    h.feed_lines(&["ADC 0 RL N=carol@example.com F=Carol"]);
    assert!(h.take_contact_events().is_empty());
    h.session
        .answer_authorization("carol@example.com", true, h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["ADC 7 AL N=carol@example.com"]);
    h.feed_lines(&["ADC 7 AL N=carol@example.com"]);
    assert_eq!(
        h.take_contact_events(),
        vec![
            ContactEvent::Allowed {
                email: "carol@example.com".into(),
                on: true
            },
            ContactEvent::Allowed {
                email: "carol@example.com".into(),
                on: true
            },
            ContactEvent::Blocked {
                email: "carol@example.com".into(),
                on: false
            },
        ]
    );
    h.feed_lines(&["REM 0 RL carol@example.com"]);
    assert_eq!(h.session.contact_privacy("carol@example.com"), Some(true));
}

#[test]
fn a_pending_contact_is_answered_with_adc_rl_on_msnp12() {
    let mut h = Sim::signed_in_ns(12, "alice@example.com");
    h.feed_lines(&[
        "SYN 5 2000-01-01T00:00:00.0-00:00 2000-01-01T00:00:00.0-00:00 1 0",
        "LST N=carol@example.com F=Carol 24",
    ]);
    assert!(matches!(
        h.take_contact_events().last(),
        Some(ContactEvent::AuthRequest { .. })
    ));
    h.take_sent();
    h.session
        .answer_authorization("carol@example.com", false, h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["ADC 7 BL N=carol@example.com"]);
    h.feed_lines(&["ADC 7 BL N=carol@example.com"]);
    assert_eq!(h.take_lines_but_png(), ["ADC 8 RL N=carol@example.com"]);
    h.feed_lines(&["ADC 8 RL N=carol@example.com"]);
    assert_eq!(h.session.contact_privacy("carol@example.com"), Some(false));
}

#[test]
fn allow_and_block_exclude_each_other() {
    let mut h = v12_with_bob();
    h.session.block("bob@example.com", h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["REM 7 AL bob@example.com"]);
    h.feed_lines(&["REM 7 AL bob@example.com"]);
    assert_eq!(h.take_lines_but_png(), ["ADC 8 BL N=bob@example.com"]);
    h.feed_lines(&["ADC 8 BL N=bob@example.com"]);
    assert_eq!(h.session.contact_privacy("bob@example.com"), Some(false));
    h.session.unblock("bob@example.com", h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["REM 9 BL bob@example.com"]);
    h.feed_lines(&["REM 9 BL bob@example.com"]);
    assert_eq!(h.take_lines_but_png(), ["ADC 10 AL N=bob@example.com"]);
    h.feed_lines(&["ADC 10 AL N=bob@example.com"]);
    assert_eq!(h.session.contact_privacy("bob@example.com"), Some(true));
}

#[test]
fn own_status_idle_invisible_and_personal_message() {
    let mut h = v12_with_bob();
    h.session.set_status(Status::Away, "at lunch & more");
    h.drain();
    assert_eq!(
        h.take_lines_but_png(),
        [
            "CHG 7 AWY 1342177312 0",
            "UUX 8 72",
            "<Data><PSM>at lunch &amp; more</PSM><CurrentMedia></CurrentMedia></Data>"
        ]
    );
    h.session.set_status(Status::Online, "at lunch & more");
    h.session.set_idle(true);
    h.drain();
    assert_eq!(
        h.take_lines_but_png(),
        ["CHG 9 NLN 1342177312 0", "CHG 10 IDL 1342177312 0"]
    );
    h.session.set_idle(false);
    h.session.set_status(Status::Hidden, "");
    h.drain();
    assert_eq!(
        h.take_lines_but_png(),
        [
            "CHG 11 NLN 1342177312 0",
            "CHG 12 HDN 1342177312 0",
            "UUX 13 53",
            "<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>"
        ]
    );
    h.session.set_friendly_name("Alice Again", h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["PRP 14 MFN Alice%20Again"]);
    h.feed_lines(&["PRP 14 MFN Alice%20Again"]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::OwnName("Alice Again".into())]
    );
}

#[test]
fn presence_in_every_version_shape_is_applied_once() {
    for (version, online, ubx, offline) in [
        (
            12,
            "NLN BSY bob@example.com Bob 1342177280 %3Cmsnobj%2F%3E",
            "UBX bob@example.com",
            "FLN bob@example.com",
        ),
        (
            9,
            "NLN BSY bob@example.com Bob 1342177280 %3Cmsnobj%2F%3E",
            "",
            "FLN bob@example.com",
        ),
    ] {
        let mut h = Sim::signed_in_ns(version, "alice@example.com");
        h.take_contact_events();
        h.feed_lines(&[online, online]);
        if !ubx.is_empty() {
            let payload = "<Data><PSM>hi</PSM><CurrentMedia>WMP\\0Music\\01\\0{0} - {1}\\0Song\\0Band\\0</CurrentMedia></Data>";
            h.feed(format!("{ubx} {}\r\n{payload}", payload.len()).as_bytes());
        }
        h.feed_lines(&[offline, offline]);
        let events = h.take_contact_events();
        let statuses: Vec<_> = events
            .iter()
            .map(|e| match e {
                ContactEvent::Presence(p) => (p.status, p.media.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        let media = Some(Media {
            title: "Song".into(),
            artist: "Band".into(),
            album: String::new(),
        });
        let mut want = vec![(Some(Status::Busy), None)];
        if !ubx.is_empty() {
            want.push((Some(Status::Busy), media.clone()));
            want.push((None, media));
        } else {
            want.push((None, None));
        }
        assert_eq!(statuses, want, "MSNP{version}");
    }
}

#[test]
fn msnp8_lists_use_add_and_group_zero() {
    let mut h = Sim::signed_in_ns(8, "alice@example.com");
    assert_eq!(h.take_lines_but_png(), Vec::<String>::new());
    h.feed_lines(&[
        "SYN 5 1 1 2",
        "GTC A",
        "BLP AL",
        "LSG 0 Other%20Contacts 0",
        "LSG 1 Friends 0",
        "LST bob@example.com Bob 11 0",
    ]);
    assert!(matches!(
        h.take_contact_events().last(),
        Some(ContactEvent::ListSynced { groups, buddies, .. })
            if groups == &["Friends"] && buddies[0].groups.is_empty()
    ));
    h.session
        .move_buddy("bob@example.com", None, Some("Friends"), h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["ADD 7 FL bob@example.com Bob 1"]);
    h.feed_lines(&["ADD 7 FL 2 bob@example.com Bob 1"]);
    assert_eq!(h.take_lines_but_png(), ["REM 8 FL bob@example.com 0"]);
    h.feed_lines(&["REM 8 FL 3 bob@example.com 0"]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::BuddyChanged(bob(&["Friends"]))]
    );
    h.session.set_friendly_name("Ally", h.now);
    h.drain();
    assert_eq!(h.take_lines_but_png(), ["REA 9 alice@example.com Ally"]);
}

#[test]
fn msnp18_own_status_from_another_place_is_adopted_without_a_chg() {
    let mut h = synced_v18();
    // Our own CHG unanswered yet: what the server says of the account is older.
    h.session.set_status(Status::Busy, "");
    h.drain();
    h.take_lines_but_png();
    h.feed_lines(&["NLN AWY 1:alice@example.com Alice 2788999228:48 0"]);
    assert_eq!(h.take_contact_events(), vec![]);
    h.feed_lines(&["CHG 10 BSY 2415919136:0 0"]);
    h.session.set_status(Status::Online, "");
    h.drain();
    let chg = h
        .take_lines_but_png()
        .into_iter()
        .find(|l| l.starts_with("CHG "))
        .unwrap();
    h.feed_lines(&[&chg]);
    // The server repeating what we sent changes nothing.
    h.feed_lines(&["NLN NLN 1:alice@example.com Alice 2788999228:48 0"]);
    assert_eq!(h.take_contact_events(), vec![]);
    h.feed_lines(&["NLN AWY 1:alice@example.com Alice 2788999228:48 0"]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::OwnStatus(Status::Away)]
    );
    // libpurple showing it calls set_status, which finds it already sent.
    h.session.set_status(Status::Away, "");
    h.drain();
    assert_eq!(h.take_lines_but_png(), Vec::<String>::new());
    // Another place's idleness is its own.
    h.feed_lines(&["NLN IDL 1:alice@example.com Alice 2788999228:48 0"]);
    assert_eq!(h.take_contact_events(), vec![]);

    let ours = h
        .session
        .config
        .machine_guid
        .trim_matches(['{', '}'])
        .to_owned();
    let payload = format!(
        "<Data><PSM></PSM><EndpointData id=\"{{{ours}}}\"><Capabilities>1:0</Capabilities></EndpointData>\
         <EndpointData id=\"{{5b2c1e0a-7d3f-4c8e-9a61-2f4b8d0c3e17}}\"><Capabilities>1:0</Capabilities></EndpointData>\
         <PrivateEndpointData id=\"{{5b2c1e0a-7d3f-4c8e-9a61-2f4b8d0c3e17}}\"><EpName>Work PC</EpName></PrivateEndpointData></Data>"
    );
    h.feed(format!("UBX 1:alice@example.com {}\r\n{payload}", payload.len()).as_bytes());
    let places: Vec<String> = h.session.other_places().iter().map(|p| p.label()).collect();
    assert_eq!(places, ["Work PC {5b2c1e0a-7d3f-4c8e-9a61-2f4b8d0c3e17}"]);
}
