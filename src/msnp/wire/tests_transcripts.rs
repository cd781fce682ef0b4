//! Framing and parsing every recorded Escargot session in `tests/transcripts`.

use super::transcript::{load, load_all};
use super::*;
use crate::dialect::Dialect;
use std::collections::BTreeSet;

/// Frames `bytes` fed as `pieces`, checking that no byte is lost or added.
fn frame_pieces<'a>(
    direction: Direction,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Frame>, usize) {
    let mut framer = Framer::new(direction, Limits::default());
    let mut frames = Vec::new();
    for piece in pieces {
        framer.push(piece);
        while let Some(frame) = framer.next_frame().expect("recorded stream frames cleanly") {
            frames.push(frame);
        }
    }
    (frames, framer.buffered())
}

fn rejoin(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        frame.write_to(&mut out);
    }
    out
}

/// Both directions of a session: (framer direction, whether the bytes come from the server).
const STREAMS: [(Direction, bool); 2] = [
    (Direction::FromServer, true),
    (Direction::FromClient, false),
];

#[test]
fn recorded_reads_byte_at_a_time_and_whole_give_the_same_frames() {
    let all = load_all();
    assert!(
        all.len() >= 40,
        "expected the full transcript set, found {}",
        all.len()
    );
    for t in &all {
        for (direction, from_server) in STREAMS {
            let bytes = if from_server {
                t.server_bytes()
            } else {
                t.client_bytes()
            };
            let recorded = t
                .chunks
                .iter()
                .filter(|(s, _)| *s == from_server)
                .map(|(_, b)| b.as_slice());
            let (as_read, rest) = frame_pieces(direction, recorded);
            assert_eq!(rest, 0, "{}: bytes left over", t.name);
            assert_eq!(rejoin(&as_read), bytes, "{}: bytes not conserved", t.name);
            let (whole, _) = frame_pieces(direction, [bytes.as_slice()]);
            let (bytewise, _) = frame_pieces(direction, bytes.chunks(1));
            assert_eq!(as_read, whole, "{}", t.name);
            assert_eq!(bytewise, whole, "{}", t.name);
        }
    }
}

#[test]
fn split_at_every_byte_boundary_of_a_whole_session() {
    for name in ["msnp18/alice-ns.raw.txt", "msnp12/alice-ns.raw.txt"] {
        let bytes = load(name).server_bytes();
        let (expected, _) = frame_pieces(Direction::FromServer, [bytes.as_slice()]);
        assert!(expected.len() > 20);
        for cut in 0..=bytes.len() {
            let (head, tail) = bytes.split_at(cut);
            let (frames, rest) = frame_pieces(Direction::FromServer, [head, tail]);
            assert_eq!(rest, 0, "{name} cut at {cut}");
            assert_eq!(frames, expected, "{name} cut at {cut}");
        }
    }
}

#[test]
fn framed_lines_match_the_readable_logs() {
    for t in load_all() {
        let log = std::fs::read_to_string(t.log_path()).expect("log next to raw");
        let logged: Vec<String> = log
            .lines()
            .filter_map(|l| l.trim_start().split_once(' ')?.1.strip_prefix("S>C "))
            .filter(|rest| !rest.starts_with('|'))
            .map(|rest| {
                rest.strip_suffix("\\r\\n")
                    .expect("line shown with its CRLF")
                    .to_owned()
            })
            .collect();
        let (frames, _) = frame_pieces(Direction::FromServer, [t.server_bytes().as_slice()]);
        let framed: Vec<String> = frames
            .iter()
            .map(|f| String::from_utf8_lossy(&f.line).into_owned())
            .collect();
        assert_eq!(framed, logged, "{}", t.name);
    }
}

/// The protocol version a session negotiated, from the server's `VER`.
fn negotiated(frames: &[Frame]) -> Option<u32> {
    frames
        .iter()
        .find_map(|f| match parse(f.clone(), Dialect::new(0)) {
            Ok(NsCommand::Ver(v)) => v.chosen(),
            _ => None,
        })
}

#[test]
fn every_server_frame_of_every_ns_session_parses() {
    let mut verbs = BTreeSet::new();
    let mut parsed = 0;
    for t in load_all().iter().filter(|t| t.is_ns()) {
        let (frames, _) = frame_pieces(Direction::FromServer, [t.server_bytes().as_slice()]);
        let Some(version) = negotiated(&frames) else {
            // Sessions closed before a version was agreed (`VER 1 0`) have nothing else.
            assert!(frames.len() <= 1, "{}", t.name);
            continue;
        };
        for frame in frames {
            let line = String::from_utf8_lossy(&frame.line).into_owned();
            let verb = line.get(..3).unwrap_or_default().to_owned();
            match parse(frame, Dialect::new(version)) {
                Ok(NsCommand::Raw(raw)) => {
                    // MSNP21's NFY is the only verb in the recordings this codec leaves raw.
                    assert_eq!(raw.verb, "NFY", "{}: unexpected raw {line}", t.name);
                }
                Ok(_) => {
                    verbs.insert(verb);
                    parsed += 1;
                }
                Err(ParseError::UnsupportedDialect) if !Dialect::new(version).is_supported() => {
                    assert!(verb == "LSG" || verb == "LST", "{}: {line}", t.name);
                }
                Err(e) => panic!("{} (MSNP{version}): {line}: {e}", t.name),
            }
        }
    }
    let expected = [
        "911", "502", "ADC", "ADL", "BLP", "CHG", "CHL", "CVR", "FLN", "FQY", "GCF", "GTC", "ILN",
        "INF", "LSG", "LST", "MSG", "NLN", "NOT", "OUT", "PRP", "QNG", "REM", "RML", "RNG", "SBS",
        "SYN", "UBN", "UBX", "USR", "UUN", "UUX", "VER", "XFR",
    ];
    for verb in expected {
        assert!(verbs.contains(verb), "no {verb} parsed from the recordings");
    }
    assert!(parsed > 300, "only {parsed} frames parsed");
}

#[test]
fn every_client_frame_of_every_ns_session_decodes_and_re_encodes_exactly() {
    let mut decoded = 0;
    for t in load_all().iter().filter(|t| t.is_ns()) {
        let (frames, _) = frame_pieces(Direction::FromClient, [t.client_bytes().as_slice()]);
        for frame in frames {
            let mut original = Vec::new();
            frame.write_to(&mut original);
            let shown = String::from_utf8_lossy(&frame.line).into_owned();
            match ClientCommand::decode(frame) {
                Ok((trid, command)) => {
                    let mut again = Vec::new();
                    command.encode(trid.unwrap_or(0), &mut again);
                    if shown.starts_with("VER") {
                        // `VER 1 msnp12` is re-encoded in the canonical upper case.
                        assert!(again.eq_ignore_ascii_case(&original), "{}: {shown}", t.name);
                    } else {
                        assert_eq!(
                            String::from_utf8_lossy(&again),
                            String::from_utf8_lossy(&original),
                            "{}",
                            t.name
                        );
                    }
                    decoded += 1;
                }
                Err(ParseError::UnknownCommand) => {
                    assert!(
                        shown.starts_with("INF") || shown.starts_with("UUN"),
                        "{}: {shown}",
                        t.name
                    );
                }
                Err(ParseError::InvalidArgument)
                    if shown.starts_with("USR") && shown.contains(" MD5 ") => {}
                Err(e) => panic!("{}: {shown}: {e}", t.name),
            }
        }
    }
    assert!(decoded > 200, "only {decoded} client frames decoded");
}
