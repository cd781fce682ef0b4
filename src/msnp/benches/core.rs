//! Core-only throughput: how fast the sans-IO core frames and parses what a real server sends.
//! Inputs: every server-to-client byte of the recorded notification-server sessions, and a
//! 5,000-contact MSNP18 contact list (`ABFindAll` + `FindMembership`) shaped like the test
//! server's answers.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use msnp::dialect::Dialect;
use msnp::soap::abook::AbParser;
use msnp::soap::membership::MembershipParser;
use msnp::soap::STEP_BUDGET;
use msnp::wire::{parse, Direction, Framer, Limits};

/// Server bytes of every `*-ns.raw.txt` transcript (lines `<time> S>C b'<python literal>'`).
fn server_bytes() -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts");
    let mut all = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|d| d.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|f| f.path())
            .collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| f.to_string_lossy().ends_with("-ns.raw.txt"))
        {
            for line in std::fs::read_to_string(file).unwrap().lines() {
                let mut parts = line.trim_start().splitn(3, ' ');
                let (_, dir, literal) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
                if dir == Some("S>C") {
                    all.extend(python_bytes(literal));
                }
            }
        }
    }
    all
}

/// Decodes a Python `b'...'` literal.
fn python_bytes(literal: &str) -> Vec<u8> {
    let inner = literal.trim_start_matches('b');
    let inner = &inner[1..inner.len() - 1];
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            i += 1;
            match bytes[i] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'x' => {
                    out.push(u8::from_str_radix(&inner[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                other => out.push(other),
            }
        } else {
            out.push(bytes[i]);
        }
        i += 1;
    }
    out
}

fn frame_and_parse(c: &mut Criterion) {
    let input = server_bytes();
    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("frame+parse NS transcripts", |b| {
        b.iter(|| {
            let mut framer = Framer::new(Direction::FromServer, Limits::default());
            framer.push(black_box(&input));
            let mut commands = 0usize;
            while let Ok(Some(frame)) = framer.next_frame() {
                if parse(frame, Dialect::new(18)).is_ok() {
                    commands += 1;
                }
            }
            commands
        })
    });
    group.finish();
}

/// Contacts in the generated contact list.
const CONTACTS: usize = 5_000;

/// `body` in the test server's SOAP envelope (`tests/server/src/http/soap.rs`).
fn envelope(body: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope \
         xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\t<soap:Header>\n\t\t\
         <ServiceHeader xmlns=\"http://www.msn.com/webservices/AddressBook\">\n\t\t\t\
         <Version>15.01.1408.0000</Version>\n\t\t</ServiceHeader>\n\t</soap:Header>\n\t\
         <soap:Body>\n{body}\n\t</soap:Body>\n</soap:Envelope>"
    )
    .into_bytes()
}

/// An `ABFindAll` answer with [`CONTACTS`] contacts in two groups, as the test server builds
/// it (`tests/server/src/http/abook.rs`); every tenth contact has a nickname with an escape.
fn address_book() -> Vec<u8> {
    let group = |n: u32| {
        format!(
            "<Group><groupId>00000000-0000-0000-0000-00000000000{n}</groupId><groupInfo>\
             <annotations><Annotation><Name>MSN.IM.Display</Name><Value>1</Value></Annotation>\
             </annotations><groupType>c8529ce2-6ead-434d-881f-341e17db3ff8</groupType>\
             <name>Group {n}</name><IsNotMobileVisible>false</IsNotMobileVisible>\
             <IsPrivate>false</IsPrivate><IsFavorite>false</IsFavorite></groupInfo>\
             <propertiesChanged /><fDeleted>false</fDeleted></Group>"
        )
    };
    let contacts: String = (0..CONTACTS)
        .map(|i| {
            let nick = match i % 10 {
                0 => format!(
                    "<annotations><Annotation><Name>AB.NickName</Name><Value>Pal {i} &amp; co\
                     </Value></Annotation></annotations>"
                ),
                _ => String::new(),
            };
            format!(
                "<Contact><contactId>00000000-0000-0000-0000-{i:012}</contactId><contactInfo>\
                 {nick}<contactType>Regular</contactType><quickName>User {i}</quickName>\
                 <passportName>user{i}@example.com</passportName>\
                 <IsPassportNameHidden>false</IsPassportNameHidden>\
                 <displayName>User {i}</displayName><puid>0</puid><groupIds>\
                 <guid>00000000-0000-0000-0000-00000000000{}</guid></groupIds><CID>{}</CID>\
                 <IsNotMobileVisible>false</IsNotMobileVisible>\
                 <isMobileIMEnabled>false</isMobileIMEnabled><isMessengerUser>true</isMessengerUser>\
                 <isFavorite>false</isFavorite><isSmtp>false</isSmtp><hasSpace>false</hasSpace>\
                 <spotWatchState>NoDevice</spotWatchState><birthdate>0001-01-01T00:00:00</birthdate>\
                 <primaryEmailType>ContactEmailPersonal</primaryEmailType>\
                 <PrimaryLocation>ContactLocationPersonal</PrimaryLocation>\
                 <PrimaryPhone>ContactPhonePersonal</PrimaryPhone><IsPrivate>false</IsPrivate>\
                 <Gender>Unspecified</Gender><TimeZone>None</TimeZone></contactInfo>\
                 <propertiesChanged /><fDeleted>false</fDeleted></Contact>",
                1 + i % 2,
                1_000_000 + i
            )
        })
        .collect();
    envelope(&format!(
        "<ABFindAllResponse xmlns=\"http://www.msn.com/webservices/AddressBook\"><ABFindAllResult>\
         <groups>{}{}</groups><contacts>{contacts}</contacts><ab>\
         <abId>00000000-0000-0000-0000-000000000000</abId><abInfo><ownerEmail>me@example.com\
         </ownerEmail></abInfo></ab></ABFindAllResult></ABFindAllResponse>",
        group(1),
        group(2)
    ))
}

/// A `FindMembership` answer with every contact in the Allow and Reverse roles, as the test
/// server builds it (`tests/server/src/http/sharing.rs`).
fn memberships() -> Vec<u8> {
    let now = "2026-01-01T00:00:00Z";
    let role = |role: &str| {
        let members: String = (0..CONTACTS)
            .map(|i| {
                format!(
                    "<Member xsi:type=\"PassportMember\"><MembershipId>{role}/00000000-0000-0000-\
                     0000-{i:012}</MembershipId><Type>Passport</Type><State>Accepted</State>\
                     <Deleted>false</Deleted><LastChanged>{now}</LastChanged>\
                     <JoinedDate>{now}</JoinedDate><ExpirationDate>0001-01-01T00:00:00\
                     </ExpirationDate><Changes /><PassportName>user{i}@example.com</PassportName>\
                     <IsPassportNameHidden>false</IsPassportNameHidden><PassportId>0</PassportId>\
                     <CID>{}</CID><PassportChanges /><LookedupByCID>false</LookedupByCID></Member>",
                    1_000_000 + i
                )
            })
            .collect();
        format!(
            "<Membership><MemberRole>{role}</MemberRole><Members>{members}</Members>\
             <MembershipIsComplete>true</MembershipIsComplete></Membership>"
        )
    };
    envelope(&format!(
        "<FindMembershipResponse xmlns=\"http://www.msn.com/webservices/AddressBook\">\
         <FindMembershipResult><Services><Service><Memberships>{}{}</Memberships><Info><Handle>\
         <Id>1</Id><Type>Messenger</Type><ForeignId /></Handle></Info><LastChange>{now}\
         </LastChange><Deleted>false</Deleted></Service></Services></FindMembershipResult>\
         </FindMembershipResponse>",
        role("Allow"),
        role("Reverse")
    ))
}

/// Parses both answers in [`STEP_BUDGET`] steps, as a sign-in does; returns the events read.
fn parse_contact_list(book: &[u8], members: &[u8]) -> usize {
    let mut parser = MembershipParser::new(members.to_vec()).expect("size");
    while parser.step(STEP_BUDGET).expect("memberships").is_none() {}
    let mut events = parser.events_read();
    let mut parser = AbParser::new(book.to_vec()).expect("size");
    while parser.step(STEP_BUDGET).expect("address book").is_none() {}
    events += parser.events_read();
    events
}

fn soap_contact_list(c: &mut Criterion) {
    let (book, members) = (address_book(), memberships());
    let events = parse_contact_list(&book, &members);
    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Elements(events as u64));
    group.bench_function("SOAP contact list, 5000 contacts (events)", |b| {
        b.iter(|| parse_contact_list(black_box(&book), black_box(&members)))
    });
    group.finish();
}

criterion_group!(benches, frame_and_parse, soap_contact_list);
criterion_main!(benches);
