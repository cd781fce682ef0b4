//! Classification of received payloads: the recorded Escargot sessions, every content type, and
//! hostile input.

use super::*;
use crate::dialect::Dialect;

fn text_of(payload: &[u8]) -> TextMessage {
    match MsgPayload::parse(payload) {
        MsgPayload::Text(text) => text,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn payloads_recorded_from_escargot() {
    let typing =
        b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: alice@example.com\r\n\r\n\r\n";
    assert_eq!(
        MsgPayload::parse(typing),
        MsgPayload::Typing {
            user: "alice@example.com".into()
        }
    );

    let text = text_of(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Segoe%20UI; EF=; CO=0; CS=1; PF=0\r\n\r\nHello Bob \u{2603} from probe"
            .as_bytes(),
    );
    assert_eq!(text.text, "Hello Bob \u{2603} from probe");
    assert_eq!(
        text.format.as_ref().map(|f| (f.font.as_str(), f.charset)),
        Some(("Segoe UI", 1))
    );
    assert_eq!(text.charset_issue, None);
    assert_eq!(
        text.to_html(),
        "<font face=\"Segoe UI\">Hello Bob \u{2603} from probe</font>"
    );

    let plain = text_of(
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nHi Alice, bob here",
    );
    assert_eq!(
        (plain.text.as_str(), &plain.format),
        ("Hi Alice, bob here", &None)
    );
    assert_eq!(plain.to_html(), "Hi Alice, bob here");

    let nudge = b"MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n";
    assert_eq!(MsgPayload::parse(nudge), MsgPayload::Nudge);
    assert_eq!(MsgPayload::parse(&nudge_payload()), MsgPayload::Nudge);

    let unknown = b"MIME-Version: 1.0\r\nContent-Type: application/x-probe-unknown\r\n\r\nblob";
    assert_eq!(
        MsgPayload::parse(unknown),
        MsgPayload::Unknown {
            content_type: Some("application/x-probe-unknown".into())
        }
    );
}

#[test]
fn every_recorded_switchboard_message_is_classified() {
    use crate::wire::sb::{parse, SbCommand};
    use crate::wire::transcript::load;
    use crate::wire::{Direction, Framer, Limits};
    let mut labels = Vec::new();
    for (name, version) in [
        ("msnp15/bob-sb.raw.txt", 15),
        ("msnp18/alice-sb.raw.txt", 18),
    ] {
        let mut framer = Framer::new(Direction::FromServer, Limits::default());
        framer.push(&load(name).server_bytes());
        while let Some(frame) = framer.next_frame().expect("frames") {
            let Ok(SbCommand::Msg(msg)) = parse(frame, Dialect::new(version)) else {
                continue;
            };
            labels.push(match MsgPayload::parse(&msg.payload) {
                MsgPayload::Typing { user } => format!("typing {user}"),
                MsgPayload::Text(t) => format!("text {}", t.text),
                MsgPayload::Nudge => "nudge".to_owned(),
                MsgPayload::Unknown { content_type } => {
                    format!("unknown {}", content_type.unwrap_or_default())
                }
                other => format!("{other:?}"),
            });
        }
    }
    assert_eq!(
        labels,
        [
            "typing alice@example.com",
            "text Hello Bob \u{2603} from probe",
            "unknown application/x-probe-unknown",
            "text Hi Alice, bob here",
            "nudge",
        ]
    );
}

#[test]
fn datacasts_other_than_nudge() {
    let datacast = |body: &str| {
        MsgPayload::parse(
            format!("MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\n{body}")
                .as_bytes(),
        )
    };
    assert_eq!(
        datacast("ID: 1\r\n"),
        MsgPayload::Nudge,
        "Pidgin's shorter nudge body"
    );
    assert_eq!(
        datacast("ID: 2\r\nData: <msnobj Type=\"8\"/>\r\n\r\n"),
        MsgPayload::Datacast {
            id: Some(2),
            data: Some("<msnobj Type=\"8\"/>".into())
        }
    );
    assert_eq!(
        datacast(""),
        MsgPayload::Datacast {
            id: None,
            data: None
        },
        "missing ID"
    );
    assert_eq!(
        datacast("Data: x\r\n"),
        MsgPayload::Datacast {
            id: None,
            data: Some("x".into())
        }
    );
    assert_eq!(
        datacast("ID: one"),
        MsgPayload::Datacast {
            id: None,
            data: None
        }
    );
    assert_eq!(
        datacast("ID: 99999999999"),
        MsgPayload::Datacast {
            id: None,
            data: None
        }
    );
}

#[test]
fn emoticons_p2p_clientcaps_keepalive() {
    let tux = crate::p2p::MsnObject::new("bob@example.com", 2, "TFR2C2.tmp", "", b"tux");
    let emo = format!(
        "MIME-Version: 1.0\r\nContent-Type: text/x-mms-emoticon\r\n\r\n(tux)\t{}\t(baaha)\t<msnobj/>\t",
        tux.xml
    );
    assert_eq!(
        MsgPayload::parse(emo.as_bytes()),
        MsgPayload::Emoticons {
            animated: false,
            list: Ok(EmoticonList {
                emoticons: vec![Emoticon {
                    shortcut: "(tux)".into(),
                    object: tux.clone(),
                }],
                refused: 1,
            }),
        }
    );
    let many = format!(
        "Content-Type: text/x-mms-animemoticon\r\n\r\n{}",
        "a\tb\t".repeat(10_000)
    );
    assert!(matches!(
        MsgPayload::parse(many.as_bytes()),
        MsgPayload::Emoticons {
            animated: true,
            list: Err(EmoticonListError::TooLong(_)),
        }
    ));

    let mut p2p =
        b"MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: bob@example.com\r\n\r\n".to_vec();
    p2p.extend_from_slice(&[0, 1, 2, 0xff, b'\r', b'\n', 0, 0, 0, 1]);
    assert_eq!(
        MsgPayload::parse(&p2p),
        MsgPayload::P2p {
            source: None,
            destination: Some("bob@example.com".into()),
            body: vec![0, 1, 2, 0xff, b'\r', b'\n', 0, 0, 0, 1]
        }
    );

    let gif = b"MIME-Version: 1.0\r\nContent-Type: image/gif\r\n\r\nbase64:R0lGODlhAQABAAAAADs=";
    assert_eq!(
        MsgPayload::parse(gif),
        MsgPayload::Ink(Ink::Gif(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec()))
    );
    assert_eq!(
        MsgPayload::parse(b"Content-Type: application/x-ms-ink\r\n\r\n\x01\x02"),
        MsgPayload::Ink(Ink::Isf)
    );

    let caps =
        b"MIME-Version: 1.0\r\nContent-Type: text/x-clientcaps\r\n\r\nClient-Name: Purple/2.14\r\nChat-Logging: Y\r\n";
    assert_eq!(
        MsgPayload::parse(caps),
        MsgPayload::ClientCaps {
            fields: vec![
                ("Client-Name".into(), "Purple/2.14".into()),
                ("Chat-Logging".into(), "Y".into())
            ]
        }
    );
    assert_eq!(
        MsgPayload::parse(b"Content-Type: text/x-keepalive\r\n\r\n"),
        MsgPayload::KeepAlive
    );
}

#[test]
fn declared_charsets_are_decoded_and_problems_flagged() {
    let latin1 = text_of(b"Content-Type: text/plain; charset=ISO-8859-1\r\n\r\ncaf\xe9");
    assert_eq!(
        (latin1.text.as_str(), latin1.charset_issue),
        ("caf\u{e9}", None)
    );
    let unknown = text_of(b"Content-Type: text/plain; charset=x-unknown\r\n\r\nok \xff");
    assert_eq!(unknown.text, "ok \u{FFFD}");
    assert_eq!(
        unknown.charset_issue,
        Some(CharsetIssue::Unsupported("x-unknown".into()))
    );
    let bad = text_of(b"Content-Type: text/plain\r\n\r\n\xc3(");
    assert_eq!(
        (bad.text.as_str(), bad.charset_issue),
        ("\u{FFFD}(", Some(CharsetIssue::InvalidBytes))
    );
}

#[test]
fn hostile_payloads_are_classified_never_fatal() {
    let none = MsgPayload::Unknown { content_type: None };
    assert_eq!(MsgPayload::parse(b""), none, "empty");
    assert_eq!(MsgPayload::parse(b"just some text"), none, "no headers");
    assert_eq!(MsgPayload::parse(b"\r\n\r\nbody only"), none);
    assert_eq!(
        MsgPayload::parse(b"Content-Type:\r\n\r\nx"),
        none,
        "header without value"
    );
    assert_eq!(
        MsgPayload::parse(b"Content-Type\r\n\r\nx"),
        none,
        "header without colon"
    );
    assert_eq!(
        text_of(b"Content-Type: text/plain\r\n\r\n").text,
        "",
        "empty body"
    );
    assert_eq!(
        text_of(b"Content-Type: TEXT/PLAIN charset=UTF-8\r\n\r\nx").text,
        "x",
        "no `;`"
    );
    let quoted = text_of(b"Content-Type: text/plain; charset=\"UTF-8\r\n\r\nx");
    assert_eq!(
        (quoted.text.as_str(), quoted.charset_issue),
        ("x", None),
        "unterminated quote"
    );
    let boundary = MsgPayload::parse(b"Content-Type: multipart/mixed; boundary=\"abc\r\n\r\n--abc");
    assert_eq!(
        boundary,
        MsgPayload::Unknown {
            content_type: Some("multipart/mixed".into())
        }
    );
    let nul_type = MsgPayload::parse(b"Content-Type: text/plain\0; charset=UTF-8\r\n\r\nx");
    assert_eq!(
        nul_type,
        MsgPayload::Unknown {
            content_type: Some("text/plain\0".into())
        }
    );
    let nul =
        text_of(b"Content-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=\0\r\n\r\na\0b");
    assert_eq!(nul.text, "a\0b");
    assert_eq!(nul.to_html(), "ab");
    assert_eq!(
        MsgPayload::parse(b"Content-Type: \xff\xfe/\x00\r\n\r\n"),
        MsgPayload::Unknown {
            content_type: Some("\u{FFFD}\u{FFFD}/\0".into())
        }
    );
    let control = MsgPayload::parse(b"Content-Type: text/x-msmsgscontrol\r\n\r\n");
    assert_eq!(
        control,
        MsgPayload::Unknown {
            content_type: Some("text/x-msmsgscontrol".into())
        }
    );
    let long_type = format!("Content-Type: x/{}\r\n\r\n", "y".repeat(10_000));
    let MsgPayload::Unknown {
        content_type: Some(t),
    } = MsgPayload::parse(long_type.as_bytes())
    else {
        panic!()
    };
    assert_eq!(t.len(), MAX_CONTENT_TYPE);
}

/// Fuzzing finding (`msg_payload`): `\r\r\n` left a CRLF in the text after CRLF → LF.
#[test]
fn every_line_break_becomes_a_line_feed() {
    let message = text_of(b"Content-Type: text/plain\r\n\r\na\r\r\nb\rc\r\n");
    assert_eq!(message.text, "a\n\nb\nc\n");
    assert_eq!(message.to_html(), "a<br><br>b<br>c<br>");
}

#[test]
fn chunk_headers_make_a_chunk_part() {
    let first =
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nMessage-ID: {X}\r\nChunks: 2\r\n\r\nab";
    let MsgPayload::Chunk(part) = MsgPayload::parse(first) else {
        panic!()
    };
    assert_eq!(
        (part.message_id.as_str(), part.position),
        ("{X}", ChunkPosition::First { chunks: 2 })
    );
    assert_eq!(part.mime.content_type().as_deref(), Some("text/plain"));
    assert_eq!(part.mime.header("Chunks"), None);
    let next = MsgPayload::parse(b"Message-ID: {X}\r\nChunk: 1\r\n\r\ncd");
    let MsgPayload::Chunk(part) = next else {
        panic!()
    };
    assert_eq!(
        (part.position, part.mime.body.as_slice()),
        (ChunkPosition::Next { index: 1 }, &b"cd"[..])
    );
    // A Message-ID alone, or with a count that is not a number, is not chunking.
    let plain = b"Content-Type: text/plain\r\nMessage-ID: {X}\r\nChunks: many\r\n\r\nab";
    assert_eq!(text_of(plain).text, "ab");
}

/// A small deterministic generator for the property tests below.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
        pool[self.below(pool.len())]
    }

    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

#[test]
fn any_text_and_format_survive_html_both_ways() {
    let pool = [
        "a",
        "Z",
        " ",
        "\n",
        "\t",
        "<",
        ">",
        "&",
        "\"",
        "'",
        ";",
        "&amp;",
        "<b>",
        "\u{e9}",
        "\u{2603}",
        "\u{1d11e}",
        "\u{65e5}",
        "%20",
        "=",
    ];
    let fonts = [
        "Segoe UI",
        "Comic Sans MS",
        "Arial",
        "DejaVu Sans Mono",
        "MS \u{30b4}\u{30b7}\u{30c3}\u{30af}",
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2000 {
        let mut text: String = (0..rng.below(40)).map(|_| rng.pick(&pool)).collect();
        text.push('x');
        let format = ImFormat {
            font: rng.pick(&fonts).to_owned(),
            effects: Effects {
                bold: rng.bool(),
                italic: rng.bool(),
                underline: rng.bool(),
                strikethrough: rng.bool(),
            },
            color: Rgb {
                r: rng.next() as u8,
                g: rng.next() as u8,
                b: rng.next() as u8,
            },
            right_to_left: rng.bool(),
            ..ImFormat::default()
        };
        let html = to_html(&text, &format);
        assert_eq!(
            from_html(html.as_bytes()),
            (text.clone(), format.clone()),
            "{html}"
        );
        assert_eq!(ImFormat::parse(format.to_header().as_bytes()), format);
        let payloads = text_payloads(&text, &format);
        let bodies: Vec<String> = payloads
            .iter()
            .map(|p| match MsgPayload::parse(p) {
                MsgPayload::Text(t) if t.format.as_ref() == Some(&format) => t.text,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(bodies.concat(), text);
    }
}

#[test]
fn byte_soup_never_panics_and_stays_clean() {
    let pool = [
        "Content-Type: ",
        "text/plain",
        "; charset=",
        "\"",
        "UTF-8",
        "iso-8859-15",
        "\r\n",
        "\n",
        ":",
        "\0",
        "\u{ff}",
        "Message-ID: {1}",
        "Chunks: 2",
        "Chunk: 1",
        "X-MMS-IM-Format: ",
        "FN=",
        "%",
        "%0A",
        "EF=BIUS",
        "CO=",
        ";",
        "text/x-msnmsgr-datacast",
        "ID: ",
        "1",
        "\t",
        "<",
        "</",
        ">",
        "b",
        "font",
        " face=",
        "'",
        "&#",
        "x",
        "&",
        "=",
        "style=\"color:",
        "<a href=",
        "<br>",
        "<!--",
        "-->",
    ];
    let mut rng = XorShift(42);
    let mut reassembler = ChunkReassembler::new(ChunkLimits::default());
    let now = crate::test_time_origin();
    for _ in 0..3000 {
        let soup: String = (0..rng.below(60)).map(|_| rng.pick(&pool)).collect();
        let mut bytes = soup.into_bytes();
        if rng.bool() {
            bytes.push(0xff);
        }
        match MsgPayload::parse(&bytes) {
            MsgPayload::Chunk(part) => {
                let _ = reassembler.push("peer", part, now);
                assert!(reassembler.pending() <= ChunkLimits::default().max_pending);
            }
            MsgPayload::Text(t) => {
                let html = t.to_html();
                assert!(!html.contains(['\r', '\n', '\0']), "{html:?}");
            }
            _ => {}
        }
        let (text, format) = from_html(&bytes);
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{text:?}"
        );
        let header = format.to_header();
        assert!(
            header.bytes().all(|b| b.is_ascii_graphic() || b == b' '),
            "{header}"
        );
        let parsed = ImFormat::parse(&bytes);
        assert!(parsed.font.chars().count() <= MAX_FONT);
    }
}
