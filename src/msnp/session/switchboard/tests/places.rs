//! MSNP16+ several places: a switchboard we start waits for every place of the contact (and,
//! calling ourselves, our other places) to join before its first message goes out, at most
//! [`PLACES_GRACE`](super::places::PLACES_GRACE); a copy of what our other place sent there is
//! shown as sent.

use super::*;

const WORK_GUID: &str = "{5b2c1e0a-7d3f-4c8e-9a61-2f4b8d0c3e17}";
const BOB_LAPTOP: &str = "{0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}";

/// Feeds a `UBX` for `who` listing the places `guids`.
fn ubx(h: &mut Sim, who: &str, guids: &[&str]) {
    let endpoints: String = guids
        .iter()
        .map(|g| {
            format!("<EndpointData id=\"{g}\"><Capabilities>0:0</Capabilities></EndpointData>")
        })
        .collect();
    let doc = format!("<Data><PSM></PSM><CurrentMedia></CurrentMedia>{endpoints}</Data>");
    h.feed(format!("UBX 1:{who} {}\r\n{doc}", doc.len()).as_bytes());
}

/// Alice at MSNP18 says "hello" to Bob, signed in at two places; the switchboard is signed in
/// and Bob was called.
fn hello_to_bob_at_two_places() -> (Sim, ConnId) {
    let mut h = Sim::sign_in("msnp18", "alice", 18, ALICE_GUID);
    ubx(&mut h, "bob@example.com", &[BOB_GUID, BOB_LAPTOP]);
    h.session
        .send_im("bob@example.com", "hello", h.now)
        .unwrap();
    let sb = h.open_board("cookie");
    h.feed_on(
        sb,
        b"USR 1 OK alice@example.com Alice\r\nCAL 2 RINGING 123\r\n",
    );
    let lines = h.lines(sb);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("CAL 2 bob@example.com")
    );
    (h, sb)
}

#[test]
fn the_first_message_waits_for_every_place_of_the_contact() {
    let (mut h, sb) = hello_to_bob_at_two_places();
    h.feed_on(
        sb,
        format!("JOI bob@example.com;{BOB_GUID} Bob 0:0\r\nJOI bob@example.com Bob 0:0\r\n")
            .as_bytes(),
    );
    assert_eq!(
        h.lines(sb),
        Vec::<String>::new(),
        "the laptop has not joined"
    );
    h.feed_on(
        sb,
        format!("JOI bob@example.com;{BOB_LAPTOP} Bob 0:0\r\n").as_bytes(),
    );
    let sent = h.frames(sb);
    assert_eq!(
        sent.len(),
        1,
        "{:?}",
        sent.iter().map(line).collect::<Vec<_>>()
    );
    assert_eq!(body(sent[0].payload.as_ref().unwrap()), "hello");
    // Once everyone is there, messages go out at once.
    h.session
        .send_im("bob@example.com", "again", h.now)
        .unwrap();
    assert_eq!(h.frames(sb).len(), 1);
}

#[test]
fn a_place_that_does_not_join_delays_the_message_a_little_only() {
    let (mut h, sb) = hello_to_bob_at_two_places();
    h.feed_on(
        sb,
        format!("JOI bob@example.com;{BOB_GUID} Bob 0:0\r\n").as_bytes(),
    );
    h.advance(super::super::places::PLACES_GRACE - Duration::from_millis(1));
    assert_eq!(h.lines(sb), Vec::<String>::new());
    h.advance(Duration::from_millis(1));
    let sent = h.frames(sb);
    assert_eq!(
        sent.len(),
        1,
        "{:?}",
        sent.iter().map(line).collect::<Vec<_>>()
    );
    assert_eq!(body(sent[0].payload.as_ref().unwrap()), "hello");
    assert!(h.take_chat_events().is_empty());
}

#[test]
fn our_other_places_are_called_and_waited_for_and_their_copies_shown_as_sent() {
    let mut h = Sim::sign_in("msnp18", "alice", 18, ALICE_GUID);
    ubx(&mut h, "alice@example.com", &[ALICE_GUID, WORK_GUID]);
    h.session
        .send_im("bob@example.com", "hello", h.now)
        .unwrap();
    let sb = h.open_board("cookie");
    h.feed_on(sb, b"USR 1 OK alice@example.com Alice\r\n");
    let lines = h.lines(sb);
    assert_eq!(
        lines[1..],
        ["CAL 2 bob@example.com", "CAL 3 alice@example.com"]
    );
    // As Escargot answers a call to ourselves at MSNP18: it also shows us joining.
    h.feed_on(
        sb,
        format!(
            "CAL 2 RINGING 123\r\nCAL 3 RINGING 123\r\nJOI alice@example.com;{ALICE_GUID} Alice 0:0\r\n\
             JOI alice@example.com Alice 0:0\r\nJOI bob@example.com;{BOB_GUID} Bob 0:0\r\n\
             JOI bob@example.com Bob 0:0\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(h.lines(sb), Vec::<String>::new(), "work has not joined");
    h.feed_on(
        sb,
        format!("JOI alice@example.com;{WORK_GUID} Alice 0:0\r\n").as_bytes(),
    );
    assert_eq!(h.frames(sb).len(), 1);
    // Work's reply, copied here: shown as sent to Bob, in the one-to-one conversation.
    let text = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nfrom work";
    let mut msg = format!("MSG alice@example.com Alice {}\r\n", text.len()).into_bytes();
    msg.extend_from_slice(text);
    h.feed_on(sb, &msg);
    assert_eq!(
        h.take_chat_events(),
        [ChatEvent::SentElsewhere {
            to: "bob@example.com".into(),
            html: "from work".into()
        }]
    );
    assert_eq!(h.lines(sb), Vec::<String>::new(), "nothing echoed");
}

#[test]
fn without_other_places_we_do_not_call_ourselves() {
    let mut h = Sim::sign_in("msnp18", "alice", 18, ALICE_GUID);
    ubx(&mut h, "alice@example.com", &[ALICE_GUID]);
    h.session
        .send_im("bob@example.com", "hello", h.now)
        .unwrap();
    let sb = h.open_board("cookie");
    h.feed_on(sb, b"USR 1 OK alice@example.com Alice\r\n");
    assert_eq!(h.lines(sb)[1..], ["CAL 2 bob@example.com"]);
}

#[test]
fn a_conversation_our_other_place_started_waits_for_its_contact() {
    let mut h = Sim::sign_in("msnp18", "alice", 18, ALICE_GUID);
    h.feed(
        b"RNG 123 127.0.0.1:1864 CKI cookie alice@example.com Alice U messenger.hotmail.com 1\r\n",
    );
    let sb = h.connect_last();
    let ans = h.lines(sb);
    assert!(ans[0].starts_with("ANS 1 alice@example.com;"), "{ans:?}");
    // Only our other place is there yet: we stay.
    h.feed_on(
        sb,
        format!(
            "IRO 1 1 2 alice@example.com;{WORK_GUID} Alice 0:0\r\nIRO 1 2 2 alice@example.com Alice 0:0\r\nANS 1 OK\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(h.lines(sb), Vec::<String>::new());
    let text = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nfrom work";
    let mut msg = format!("MSG alice@example.com Alice {}\r\n", text.len()).into_bytes();
    msg.extend_from_slice(text);
    // A copy before the contact is known has no conversation to go to.
    h.feed_on(sb, &msg);
    assert_eq!(h.take_chat_events(), []);
    h.feed_on(
        sb,
        format!("JOI bob@example.com;{BOB_GUID} Bob 0:0\r\nJOI bob@example.com Bob 0:0\r\n")
            .as_bytes(),
    );
    h.feed_on(sb, &msg);
    assert_eq!(
        h.take_chat_events(),
        [
            ChatEvent::Opened {
                with: "bob@example.com".into()
            },
            ChatEvent::SentElsewhere {
                to: "bob@example.com".into(),
                html: "from work".into()
            }
        ]
    );
    // What we type there goes to Bob on that switchboard.
    h.session
        .send_im("bob@example.com", "from here", h.now)
        .unwrap();
    let sent = h.frames(sb);
    assert_eq!(sent.len(), 1);
    assert_eq!(body(sent[0].payload.as_ref().unwrap()), "from here");
    assert_eq!(h.connects.len(), 2, "no other switchboard");
}
