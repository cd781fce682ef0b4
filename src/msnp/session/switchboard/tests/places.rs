//! MSNP16+ several places: a switchboard we start waits for every place of the contact to join
//! before its first message goes out, at most [`PLACES_GRACE`](super::places::PLACES_GRACE).

use super::*;

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
