//! MSNP13+ list changes through the SOAP services and `ADL`/`RML`, against recorded and
//! scripted answers.

use std::time::Duration;

use super::events::{Buddy, ContactEvent};
use super::tests::{bob, synced_v18, Replay};
use crate::auth::testlog;
use crate::http::HttpRequest;
use crate::session::sim::Sim;

/// A SOAP answer with HTTP status `status` and this `<soap:Body>` content.
fn soap(status: u16, body: &str) -> Vec<u8> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope \
         xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soap:Body>{body}</soap:Body></soap:Envelope>"
    );
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n{xml}",
        xml.len()
    )
    .into_bytes()
}

fn ok(method: &str) -> Vec<u8> {
    soap(
        200,
        &format!("<{method}Response xmlns=\"http://www.msn.com/webservices/AddressBook\"/>"),
    )
}

fn guid_answer(method: &str, guid: &str) -> Vec<u8> {
    soap(
        200,
        &format!(
            "<{method}Response xmlns=\"http://www.msn.com/webservices/AddressBook\">\
             <{method}Result><guid>{guid}</guid></{method}Result></{method}Response>"
        ),
    )
}

fn fault(code: &str, text: &str) -> Vec<u8> {
    soap(
        500,
        &format!(
            "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>{text}</faultstring>\
             <detail><errorcode xmlns=\"http://www.msn.com/webservices/AddressBook\">{code}</errorcode>\
             </detail></soap:Fault>"
        ),
    )
}

fn body(request: &HttpRequest) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

fn action(request: &HttpRequest) -> &str {
    request
        .headers
        .iter()
        .find(|(n, _)| n == "SOAPAction")
        .map_or("", |(_, v)| v.as_str())
}

fn recorded_contact_add() -> Vec<u8> {
    testlog::load("extra-contact-add")
        .into_iter()
        .find(|x| x.label == "ABContactAdd")
        .expect("recorded ABContactAdd")
        .raw_response()
}

fn carol(groups: &[&str]) -> Buddy {
    Buddy {
        email: "carol@example.com".into(),
        server_alias: None,
        nickname: None,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        network: 1,
    }
}

#[test]
fn adding_a_contact_uses_abcontactadd_then_the_recorded_adl() {
    let mut h = synced_v18();
    h.session.add_buddy("carol@example.com", None, h.now);
    h.drain();
    let (_, request) = &h.http[0];
    assert!(request.url.ends_with("/abservice/abservice.asmx"));
    assert_eq!(
        action(request),
        "http://www.msn.com/webservices/AddressBook/ABContactAdd"
    );
    assert!(body(request).contains("<passportName>carol@example.com</passportName>"));
    assert!(body(request).contains("<TicketToken>t="));
    h.answer(&recorded_contact_add());
    assert_eq!(
        h.take_sent(),
        "ADL 10 59\r\n<ml><d n=\"example.com\"><c n=\"carol\" l=\"3\" t=\"1\" /></d></ml>"
    );
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::Allowed {
            email: "carol@example.com".into(),
            on: true
        }]
    );
    h.feed_lines(&["ADL 10 OK"]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::BuddyChanged(carol(&[]))]
    );

    h.session.remove_buddy("carol@example.com", None, h.now);
    h.drain();
    let request = h.answer(&ok("ABContactDelete"));
    assert!(body(&request).contains("<contactId>dde97797-f39f-4120-9636-2c5301b98c57</contactId>"));
    assert_eq!(
        h.take_sent(),
        "RML 11 59\r\n<ml><d n=\"example.com\"><c n=\"carol\" l=\"1\" t=\"1\" /></d></ml>"
    );
    h.feed_lines(&["RML 11 OK"]);
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::BuddyRemoved {
            email: "carol@example.com".into()
        }]
    );
}

#[test]
fn groups_are_created_joined_renamed_and_deleted_through_the_address_book() {
    let mut h = synced_v18();
    h.session
        .move_buddy("bob@example.com", None, Some("Work"), h.now);
    h.drain();
    let request = h.answer(&guid_answer(
        "ABGroupAdd",
        "22222222-2222-2222-2222-222222222222",
    ));
    assert!(body(&request).contains("<name>Work</name>"));
    let request = h.answer(&ok("ABGroupContactAdd"));
    assert!(action(&request).ends_with("/ABGroupContactAdd"));
    assert!(body(&request).contains("<guid>22222222-2222-2222-2222-222222222222</guid>"));
    assert!(body(&request).contains("<contactId>dbd254aa-c066-4dc0-80db-f87fd43c2af2</contactId>"));
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::BuddyChanged(bob(&["Work"]))]
    );
    h.session.rename_group("Work", "Office", &[], h.now);
    h.drain();
    let request = h.answer(&ok("ABGroupUpdate"));
    assert!(body(&request).contains("<name>Office</name>"));
    h.session
        .move_buddy("bob@example.com", Some("Office"), None, h.now);
    h.drain();
    let request = h.answer(&ok("ABGroupContactDelete"));
    assert!(action(&request).ends_with("/ABGroupContactDelete"));
    h.session.remove_group("Office", h.now);
    h.drain();
    let request = h.answer(&ok("ABGroupDelete"));
    assert!(body(&request).contains("<guid>22222222-2222-2222-2222-222222222222</guid>"));
    assert!(h.http.is_empty());
    assert!(h.take_sent().is_empty(), "no NS command for group changes");
}

#[test]
fn soap_faults_become_clear_errors_and_undo_the_change() {
    let mut h = synced_v18();
    h.session.add_buddy("dave@example.com", Some("Work"), h.now);
    h.drain();
    h.answer(&fault("GroupAlreadyExists", "Group already exists"));
    let events = h.take_contact_events();
    assert_eq!(
        events[0],
        ContactEvent::Failed(
            "Could not add dave@example.com: the server said GroupAlreadyExists (Group already exists)"
                .into()
        )
    );
    assert_eq!(
        events[1],
        ContactEvent::BuddyRemoved {
            email: "dave@example.com".into()
        }
    );
    for answer in [
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec(),
        soap(500, "<soap:Fault/>"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot a xml".to_vec(),
        b"garbage".to_vec(),
    ] {
        h.session.block("eve@example.com", h.now);
        h.drain();
        h.answer(&answer);
        let events = h.take_contact_events();
        assert!(
            matches!(&events[0], ContactEvent::Failed(t) if t.starts_with("Could not block eve@example.com: ")),
            "{events:?}"
        );
        assert!(h.ended().is_none());
    }
}

/// A `FindMembership` answer with Bob allowed and on the reverse list, and `pending`.
fn memberships(pending: &str) -> Vec<u8> {
    let member = |email: &str, extra: &str| {
        format!(
            "<Member xsi:type=\"PassportMember\"><Type>Passport</Type><State>Accepted</State>\
             <PassportName>{email}</PassportName>{extra}</Member>"
        )
    };
    let role = |name: &str, members: String| {
        format!(
            "<Membership><MemberRole>{name}</MemberRole><Members>{members}</Members></Membership>"
        )
    };
    let pending = match pending {
        "" => String::new(),
        email => member(
            email,
            "<DisplayName>Carol</DisplayName><Annotations><Annotation><Name>MSN.IM.InviteMessage</Name>\
             <Value>hi, add me</Value></Annotation></Annotations>",
        ),
    };
    soap(
        200,
        &format!(
            "<FindMembershipResponse xmlns=\"http://www.msn.com/webservices/AddressBook\"><FindMembershipResult>\
             <Services><Service><Memberships>{}{}{}</Memberships><Info><Handle><Id>1</Id><Type>Messenger</Type>\
             </Handle></Info></Service></Services></FindMembershipResult></FindMembershipResponse>",
            role("Allow", member("bob@example.com", "")),
            role("Reverse", member("bob@example.com", "") + &pending),
            role("Pending", pending.clone()),
        ),
    )
}

/// An `ABFindContactsPaged` answer with Bob (and the owner).
fn address_book() -> Vec<u8> {
    soap(
        200,
        "<ABFindContactsPagedResponse xmlns=\"http://www.msn.com/webservices/AddressBook\">\
         <ABFindContactsPagedResult><Groups/><Contacts><Contact><contactId>dbd254aa-c066-4dc0-80db-f87fd43c2af2</contactId>\
         <contactInfo><contactType>Regular</contactType><passportName>bob@example.com</passportName>\
         <displayName>Bob</displayName><isMessengerUser>true</isMessengerUser></contactInfo></Contact>\
         <Contact><contactId>8221ece1-629a-4b44-b2e1-52c63b701275</contactId><contactInfo><contactType>Me</contactType>\
         <passportName>alice@example.com</passportName><displayName>Alice</displayName></contactInfo></Contact>\
         </Contacts></ABFindContactsPagedResult></ABFindContactsPagedResponse>",
    )
}

#[test]
fn being_added_fetches_the_lists_and_asks_with_the_invitation() {
    let mut h = synced_v18();
    let push = "<ml><d n=\"example.com\"><c n=\"carol\" t=\"1\" l=\"8\" f=\"Carol\" /></d></ml>";
    h.feed(format!("ADL 0 {}\r\n{push}", push.len()).as_bytes());
    assert!(h.http.is_empty());
    h.take_contact_events();
    h.advance(Duration::from_secs(2));
    let request = h.answer(&memberships("carol@example.com"));
    assert!(body(&request).contains("<PartnerScenario>Timer</PartnerScenario>"));
    h.answer(&address_book());
    assert_eq!(
        h.take_contact_events(),
        vec![ContactEvent::AuthRequest {
            email: "carol@example.com".into(),
            friendly: Some("Carol".into()),
            message: Some("hi, add me".into()),
            on_list: false,
        }]
    );
    h.session
        .answer_authorization("carol@example.com", true, h.now);
    h.drain();
    let request = h.answer(&ok("AddMember"));
    assert!(body(&request).contains("<MemberRole>Allow</MemberRole>"));
    assert!(body(&request).contains("<PassportName>carol@example.com</PassportName>"));
    assert_eq!(
        h.take_sent(),
        "ADL 10 59\r\n<ml><d n=\"example.com\"><c n=\"carol\" l=\"2\" t=\"1\" /></d></ml>"
    );
    h.feed_lines(&["ADL 10 OK"]);
    let request = h.answer(&ok("DeleteMember"));
    assert!(body(&request).contains("<MemberRole>Pending</MemberRole>"));
    assert_eq!(h.session.contact_privacy("carol@example.com"), Some(true));
    // A NOT refreshes again; nothing changed, so nothing is reported.
    h.take_contact_events();
    let not = "<NOTIFICATION id=\"0\"/>";
    h.feed(format!("NOT {}\r\n{not}", not.len()).as_bytes());
    h.advance(Duration::from_secs(2));
    h.answer(&memberships(""));
    h.answer(&address_book());
    let events = h.take_contact_events();
    assert_eq!(
        events,
        vec![ContactEvent::Allowed {
            email: "carol@example.com".into(),
            on: false
        }],
        "the server's lists win"
    );
}

#[test]
fn a_failed_fetch_is_reported_and_the_session_still_goes_online() {
    let mut r = Replay::new(
        "msnp18/alice-ns.raw.txt",
        "msnp18",
        18,
        "alice@example.com",
        "alicepass",
    );
    r.answer_soap = false;
    r.run_until(Sim::signed_in);
    let mut h: Sim = r.h;
    h.take_sent();
    h.answer(&fault("", ""));
    let events = h.take_contact_events();
    assert!(
        events.contains(&ContactEvent::Failed(
            "Could not retrieve the contact list: the server said soap:Client".into()
        )),
        "{events:?}"
    );
    let sent = h.take_sent();
    assert!(
        sent.starts_with("BLP 5 AL\r\nADL 6 15\r\n<ml l=\"1\"></ml>CHG 7 NLN"),
        "{sent}"
    );
    assert!(h.session.is_list_synced());
    assert!(h.ended().is_none());
}

#[test]
fn a_membership_already_as_asked_is_not_an_error() {
    let mut h = synced_v18();
    let push = "<ml><d n=\"example.com\"><c n=\"carol\" t=\"1\" l=\"8\" /></d></ml>";
    h.feed(format!("ADL 0 {}\r\n{push}", push.len()).as_bytes());
    h.take_contact_events();
    h.session
        .answer_authorization("carol@example.com", false, h.now);
    h.drain();
    h.answer(&fault("MemberAlreadyExists", "Member already exists"));
    assert_eq!(
        h.take_sent(),
        "ADL 10 59\r\n<ml><d n=\"example.com\"><c n=\"carol\" l=\"4\" t=\"1\" /></d></ml>"
    );
    h.feed_lines(&["ADL 10 OK"]);
    let events = h.take_contact_events();
    assert!(
        !events.iter().any(|e| matches!(e, ContactEvent::Failed(_))),
        "{events:?}"
    );
    assert_eq!(h.session.contact_privacy("carol@example.com"), Some(false));
}

#[test]
fn a_big_list_is_merged_shown_and_announced_a_slice_per_step() {
    const N: usize = 3_000;
    let mut r = Replay::new(
        "msnp18/alice-ns.raw.txt",
        "msnp18",
        18,
        "alice@example.com",
        "alicepass",
    );
    r.answer_soap = false;
    r.run_until(Sim::signed_in);
    let mut h: Sim = r.h;
    h.take_sent();
    h.take_contact_events();
    let members: String = (0..N)
        .map(|i| {
            format!(
                "<Member xsi:type=\"PassportMember\"><Type>Passport</Type><State>Accepted</State>\
                 <PassportName>user{i}@example.com</PassportName></Member>"
            )
        })
        .collect();
    let membership = |role: &str| {
        format!(
            "<Membership><MemberRole>{role}</MemberRole><Members>{members}</Members></Membership>"
        )
    };
    h.answer(&soap(
        200,
        &format!(
            "<FindMembershipResponse xmlns=\"http://www.msn.com/webservices/AddressBook\">\
             <FindMembershipResult><Services><Service><Memberships>{}{}</Memberships><Info><Handle>\
             <Id>1</Id><Type>Messenger</Type></Handle></Info></Service></Services>\
             </FindMembershipResult></FindMembershipResponse>",
            membership("Allow"),
            membership("Reverse")
        ),
    ));
    let mut steps = 0;
    while h.http.is_empty() {
        steps += 1;
        assert!(steps < 1_000, "the membership parse never ends");
        h.advance(Duration::ZERO);
    }
    let contacts: String = (0..N)
        .map(|i| {
            format!(
                "<Contact><contactId>{i:08x}-0000-0000-0000-000000000000</contactId><contactInfo>\
                 <contactType>Regular</contactType><passportName>user{i}@example.com</passportName>\
                 <displayName>User {i}</displayName><isMessengerUser>true</isMessengerUser>\
                 </contactInfo><fDeleted>false</fDeleted></Contact>"
            )
        })
        .collect();
    h.answer(&soap(
        200,
        &format!(
            "<ABFindAllResponse xmlns=\"http://www.msn.com/webservices/AddressBook\"><ABFindAllResult>\
             <groups></groups><contacts>{contacts}</contacts></ABFindAllResult></ABFindAllResponse>"
        ),
    ));
    let mut steps = 0;
    let mut sent = String::new();
    let mut announcing_steps = 0;
    loop {
        let step = h.take_sent();
        announcing_steps += usize::from(step.contains("ADL "));
        sent.push_str(&step);
        if h.session.is_list_synced() {
            break;
        }
        assert!(
            !sent.contains("CHG"),
            "online before the whole list was announced"
        );
        steps += 1;
        assert!(steps < 1_000, "the list never becomes known");
        h.advance(Duration::ZERO);
    }
    assert!(steps > 10, "{steps} steps");
    assert!(announcing_steps > 1, "the initial ADL went out in one step");
    let events = h.take_contact_events();
    let lists: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ContactEvent::ListSynced {
                buddies, allowed, ..
            } => Some((buddies.len(), allowed.len())),
            _ => None,
        })
        .collect();
    assert_eq!(lists, [(N, N)]);
    assert!(sent.starts_with("BLP "), "{}", &sent[..40]);
    let adl_end = sent.rfind("</ml>").unwrap();
    assert!(sent.find("CHG ").unwrap() > adl_end);
    let announced: std::collections::HashSet<&str> = sent[..adl_end]
        .split("<c n=\"")
        .skip(1)
        .map(|c| &c[..c.find('"').unwrap()])
        .collect();
    assert_eq!(announced.len(), N);
    assert_eq!(
        sent.matches("<c n=\"").count(),
        N,
        "each contact announced once"
    );
    assert!(sent.matches("ADL ").count() >= N / 150);
}
