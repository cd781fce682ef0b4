//! Known-answer and round-trip tests for [`ClientCommand`] and [`TrIdAllocator`].

use super::transcript::load;
use super::*;
use crate::secret::Secret;

fn encoded(command: &ClientCommand, trid: u32) -> Vec<u8> {
    let mut out = Vec::new();
    command.encode(trid, &mut out);
    out
}

/// The client frame of `transcript` whose line starts with `prefix`, as wire bytes.
fn recorded(transcript: &str, prefix: &str) -> Vec<u8> {
    let bytes = load(transcript).client_bytes();
    let mut framer = Framer::new(Direction::FromClient, Limits::default());
    framer.push(&bytes);
    while let Some(frame) = framer.next_frame().expect("frames") {
        if frame.line.starts_with(prefix.as_bytes()) {
            let mut out = Vec::new();
            frame.write_to(&mut out);
            return out;
        }
    }
    panic!("{transcript}: no client line starting with {prefix:?}");
}

/// Encodes, frames as a client stream, decodes, and checks the command and TrID come back.
fn round_trip(command: &ClientCommand, trid: u32) {
    let bytes = encoded(command, trid);
    let mut framer = Framer::new(Direction::FromClient, Limits::default());
    framer.push(&bytes);
    let frame = framer.next_frame().expect("frames").expect("one frame");
    assert_eq!(framer.buffered(), 0, "{}", String::from_utf8_lossy(&bytes));
    let (got_trid, got) =
        ClientCommand::decode(frame).unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert_eq!(&got, command);
    assert_eq!(got_trid, command.takes_trid().then_some(trid));
    assert_eq!(encoded(&got, trid), bytes);
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn matches_recorded_client_lines() {
    let ssoauth = recorded("msnp18/alice-ns.raw.txt", "USR 4 SSO S");
    let text = String::from_utf8_lossy(&ssoauth).into_owned();
    let parts: Vec<&str> = text.trim_end().split(' ').collect();
    let cases: Vec<(&str, ClientCommand, u32, Vec<u8>)> = vec![
        (
            "ver",
            ClientCommand::Ver { dialects: vec![12] },
            1,
            recorded("msnp12/alice-ns.raw.txt", "VER"),
        ),
        (
            "ver-multi",
            ClientCommand::Ver {
                dialects: vec![18, 15, 12],
            },
            1,
            recorded("extra-negotiation/ver-multi.raw.txt", "VER"),
        ),
        (
            "cvr",
            ClientCommand::Cvr {
                locale: s("0x0409"),
                os_type: s("winnt"),
                os_version: s("6.1.0"),
                cpu: s("i386"),
                client_name: s("MSNMSGR"),
                client_version: s("7.5.0324"),
                brand: s("msmsgs"),
                login: s("alice@example.com"),
            },
            2,
            recorded("msnp12/alice-ns.raw.txt", "CVR"),
        ),
        (
            "usr-twn-i",
            ClientCommand::UsrTwnInit {
                login: s("alice@example.com"),
            },
            3,
            recorded("msnp12/alice-ns.raw.txt", "USR 3"),
        ),
        (
            "usr-twn-s",
            ClientCommand::UsrTwnAuth {
                ticket: Secret::new(s("f8119e9af770d29f7053")),
            },
            4,
            recorded("msnp12/alice-ns.raw.txt", "USR 4"),
        ),
        (
            "usr-sso-i",
            ClientCommand::UsrSsoInit {
                login: s("alice@example.com"),
            },
            3,
            recorded("msnp15/alice-ns.raw.txt", "USR 3"),
        ),
        (
            "usr-sso-s",
            ClientCommand::UsrSsoAuth {
                ticket: Secret::new(s(parts[4])),
                response: Some(Secret::new(s(parts[5]))),
                machine_guid: Some(s("{0961ffc4-f6e6-41a0-9845-2214a26f069d}")),
            },
            4,
            ssoauth.clone(),
        ),
        (
            "syn-10",
            ClientCommand::Syn {
                cached: ListVersion::Timestamps {
                    contacts: s("0"),
                    groups: s("0"),
                },
            },
            5,
            recorded("msnp12/alice-ns.raw.txt", "SYN"),
        ),
        (
            "syn-8",
            ClientCommand::Syn {
                cached: ListVersion::Serial(0),
            },
            5,
            recorded("msnp8/alice-ns.raw.txt", "SYN"),
        ),
        (
            "gcf",
            ClientCommand::Gcf {
                file: s("Shields.xml"),
            },
            6,
            recorded("msnp12/alice-ns.raw.txt", "GCF"),
        ),
        (
            "chg-12",
            ClientCommand::Chg {
                status: Status::Online,
                capabilities: Some(Capabilities {
                    client: 1_342_177_280,
                    extended: None,
                }),
                msn_object: None,
            },
            8,
            recorded("msnp12/alice-ns.raw.txt", "CHG 8"),
        ),
        (
            "chg-18",
            ClientCommand::Chg {
                status: Status::Online,
                capabilities: Some(Capabilities {
                    client: 2_788_999_228,
                    extended: Some(48),
                }),
                msn_object: Some(s("0")),
            },
            8,
            recorded("msnp18/alice-ns.raw.txt", "CHG 8"),
        ),
        (
            "uux",
            ClientCommand::Uux {
                payload: b"<Data><PSM>alice probe psm</PSM><CurrentMedia></CurrentMedia></Data>"
                    .to_vec(),
            },
            9,
            recorded("msnp12/alice-ns.raw.txt", "UUX"),
        ),
        (
            "png",
            ClientCommand::Png,
            0,
            recorded("msnp12/alice-ns.raw.txt", "PNG"),
        ),
        (
            "qry",
            ClientCommand::Qry {
                product_id: s("PROD0090YUAUV{2B"),
                response: s("0123456789abcdef0123456789abcdef"),
            },
            10,
            recorded("msnp12/alice-ns.raw.txt", "QRY"),
        ),
        (
            "xfr",
            ClientCommand::XfrSb,
            11,
            recorded("msnp12/alice-ns.raw.txt", "XFR"),
        ),
        (
            "out",
            ClientCommand::Out,
            0,
            recorded("msnp12/alice-ns.raw.txt", "OUT"),
        ),
        (
            "adl",
            ClientCommand::Adl {
                payload: br#"<ml l="1"><d n="example.com"><c n="bob" l="3" t="1" /></d></ml>"#
                    .to_vec(),
            },
            6,
            recorded("msnp18/alice-ns.raw.txt", "ADL"),
        ),
        (
            "prp",
            ClientCommand::Prp {
                property: s("MFN"),
                value: Some(s("Alice (probe)")),
            },
            7,
            recorded("msnp18/alice-ns.raw.txt", "PRP"),
        ),
        (
            "fqy",
            ClientCommand::Fqy {
                payload: br#"<ml><d n="example.com"><c n="bob" /></d></ml>"#.to_vec(),
            },
            11,
            recorded("msnp18/alice-ns.raw.txt", "FQY"),
        ),
    ];
    for (name, command, trid, wire) in cases {
        assert_eq!(
            String::from_utf8_lossy(&encoded(&command, trid)),
            String::from_utf8_lossy(&wire),
            "{name}"
        );
        round_trip(&command, trid);
    }
    assert!(ssoauth.ends_with(b"{0961ffc4-f6e6-41a0-9845-2214a26f069d}\r\n"));
}

#[test]
fn matches_reference_examples() {
    let cases = [
        (
            ClientCommand::Adc {
                entry: ListEntry {
                    list: List::Forward,
                    email: Some(s("bob@example.com")),
                    friendly: Some(s("bob@example.com")),
                    contact_id: None,
                    group_id: None,
                },
            },
            10,
            "ADC 10 FL N=bob@example.com F=bob@example.com\r\n",
        ),
        (
            ClientCommand::Adc {
                entry: ListEntry {
                    list: List::Forward,
                    email: None,
                    friendly: None,
                    contact_id: Some(s("0c3e")),
                    group_id: Some(s("7f5b")),
                },
            },
            11,
            "ADC 11 FL C=0c3e 7f5b\r\n",
        ),
        (
            ClientCommand::Rem {
                list: List::Block,
                contact: s("bob@example.com"),
                group_id: None,
            },
            15,
            "REM 15 BL bob@example.com\r\n",
        ),
        (
            ClientCommand::Rem {
                list: List::Forward,
                contact: s("c"),
                group_id: Some(s("g")),
            },
            14,
            "REM 14 FL c g\r\n",
        ),
        (
            ClientCommand::Adg {
                name: s("New Group"),
            },
            16,
            "ADG 16 New%20Group\r\n",
        ),
        (ClientCommand::Rmg { group_id: s("g") }, 17, "RMG 17 g\r\n"),
        (
            ClientCommand::Reg {
                group_id: s("g"),
                name: s("Renamed"),
            },
            18,
            "REG 18 g Renamed\r\n",
        ),
        (
            ClientCommand::Prp {
                property: s("MFN"),
                value: Some(s("Alice S.")),
            },
            20,
            "PRP 20 MFN Alice%20S.\r\n",
        ),
        (
            ClientCommand::Blp {
                mode: PrivacyMode::BlockOthers,
            },
            21,
            "BLP 21 BL\r\n",
        ),
        (
            ClientCommand::Gtc {
                prompt: AddPrompt::Never,
            },
            22,
            "GTC 22 N\r\n",
        ),
        (
            ClientCommand::Rml {
                payload: b"<ml/>".to_vec(),
            },
            11,
            "RML 11 5\r\n<ml/>",
        ),
        (
            ClientCommand::UsrSsoAuth {
                ticket: Secret::new(s("t=a&p=")),
                response: Some(Secret::new(s("b+/="))),
                machine_guid: None,
            },
            4,
            "USR 4 SSO S t=a&p= b+/=\r\n",
        ),
        (
            ClientCommand::UsrSsoAuth {
                ticket: Secret::new(s("t=a&p=")),
                response: None,
                machine_guid: None,
            },
            4,
            "USR 4 SSO S t=a&p=\r\n",
        ),
        (
            ClientCommand::Uun {
                to: s("alice@example.com;{0961ffc4-f6e6-41a0-9845-2214a26f069d}"),
                kind: 4,
                payload: b"goawyplzthxbye".to_vec(),
            },
            14,
            "UUN 14 alice@example.com;{0961ffc4-f6e6-41a0-9845-2214a26f069d} 4 14\r\ngoawyplzthxbye",
        ),
    ];
    for (command, trid, wire) in cases {
        assert_eq!(String::from_utf8_lossy(&encoded(&command, trid)), wire);
        round_trip(&command, trid);
    }
}

#[test]
fn payload_length_counts_utf8_bytes() {
    let psm = "<Data><PSM>h\u{e9}llo \u{263a}</PSM></Data>";
    let bytes = encoded(
        &ClientCommand::Uux {
            payload: psm.as_bytes().to_vec(),
        },
        9,
    );
    assert_eq!(bytes, format!("UUX 9 {}\r\n{psm}", psm.len()).into_bytes());
    assert_eq!(psm.len(), psm.chars().count() + 3);
}

#[test]
fn arguments_cannot_inject_commands() {
    let evil = ClientCommand::Prp {
        property: s("MFN"),
        value: Some(s("x\r\nOUT 5\r\n bad")),
    };
    let bytes = encoded(&evil, 3);
    assert_eq!(bytes, b"PRP 3 MFN x%0D%0AOUT%205%0D%0A%20bad\r\n");
    assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
    let evil = ClientCommand::Adc {
        entry: ListEntry {
            list: List::Allow,
            email: Some(s("a b@c")),
            friendly: None,
            contact_id: None,
            group_id: None,
        },
    };
    assert_eq!(encoded(&evil, 1), b"ADC 1 AL N=a%20b@c\r\n");
    let evil = ClientCommand::UsrTwnAuth {
        ticket: Secret::new(s("t=1\r\nOUT")),
    };
    assert_eq!(encoded(&evil, 4), b"USR 4 TWN S t=1%0D%0AOUT\r\n");
}

#[test]
fn round_trips_names_with_spaces_percent_and_unicode() {
    let commands = [
        ClientCommand::Prp {
            property: s("MFN"),
            value: Some(s("100% \u{263a} caf\u{e9}")),
        },
        ClientCommand::Chg {
            status: Status::Hidden,
            capabilities: Some(Capabilities {
                client: 0x9004_0024,
                extended: Some(0),
            }),
            msn_object: Some(s(
                "<msnobj Creator=\"alice@example.com\" Size=\"24539\" Type=\"3\"/>",
            )),
        },
        ClientCommand::Adg {
            name: s("Work friends"),
        },
        ClientCommand::Reg {
            group_id: s("7f5b"),
            name: s("A%20B"),
        },
        ClientCommand::Syn {
            cached: ListVersion::Timestamps {
                contacts: s("2000-01-01T00:00:00.0-00:00"),
                groups: s("0"),
            },
        },
        ClientCommand::Ver {
            dialects: vec![18, 15, 12, 8],
        },
        // A group id shaped like a prefixed token is escaped so it stays a group id.
        ClientCommand::Adc {
            entry: ListEntry {
                list: List::Forward,
                email: Some(s("")),
                friendly: None,
                contact_id: Some(s("c")),
                group_id: Some(s("N=x")),
            },
        },
    ];
    for command in &commands {
        round_trip(command, 42);
    }
}

#[test]
fn decode_rejects_what_it_cannot_represent() {
    let decode = |wire: &[u8]| {
        let mut framer = Framer::new(Direction::FromClient, Limits::default());
        framer.push(wire);
        ClientCommand::decode(framer.next_frame().expect("frames").expect("frame"))
    };
    assert_eq!(
        decode(b"CAL 2 bob@example.com\r\n"),
        Err(ParseError::UnknownCommand)
    );
    assert_eq!(decode(b"VER 1 CVR0\r\n"), Err(ParseError::MissingArgument));
    assert_eq!(decode(b"VER 1 MSNPx\r\n"), Err(ParseError::InvalidNumber));
    assert_eq!(decode(b"XFR 5 NS\r\n"), Err(ParseError::InvalidArgument));
    assert_eq!(
        decode(b"USR 3 MD5 I a\r\n"),
        Err(ParseError::InvalidArgument)
    );
    assert_eq!(
        decode(b"QRY 10 PROD 2\r\n\xff\xfe"),
        Err(ParseError::InvalidArgument)
    );
    assert_eq!(decode(b"PNG 5\r\n"), Ok((None, ClientCommand::Png)));
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let command = ClientCommand::UsrSsoAuth {
        ticket: Secret::new(s("t=SECRET-TICKET&p=")),
        response: Some(Secret::new(s("SECRET-BLOB"))),
        machine_guid: None,
    };
    let shown = format!("{command:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
}

#[test]
fn trid_allocator_numbers_commands_from_one_and_skips_png_and_out() {
    let mut trids = TrIdAllocator::new();
    let mut out = Vec::new();
    assert_eq!(
        trids.encode(&ClientCommand::Ver { dialects: vec![15] }, &mut out),
        Some(1)
    );
    assert_eq!(trids.encode(&ClientCommand::Png, &mut out), None);
    assert_eq!(trids.encode(&ClientCommand::XfrSb, &mut out), Some(2));
    assert_eq!(trids.encode(&ClientCommand::Out, &mut out), None);
    assert_eq!(out, b"VER 1 MSNP15 CVR0\r\nPNG\r\nXFR 2 SB\r\nOUT\r\n");
    assert_eq!(trids.allocate(), 3);
}
