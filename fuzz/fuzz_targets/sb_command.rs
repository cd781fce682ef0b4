//! Parses arbitrary frames as switchboard commands, in both directions.
//!
//! Invariants: nothing panics; a server command that parses encodes to bytes that frame as one
//! frame and parse back to the same command (and the same bytes); a client command that decodes
//! round-trips the same way through `SbClientCommand::encode`; an unknown client verb is
//! `UnknownCommand`, never a guess.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::dialect::Dialect;
use msnp::wire::sb::{parse, SbClientCommand, SbCommand};
use msnp::wire::{Direction, Frame, Framer, Limits};

/// Every whole frame of `bytes`, until the end or the first framing error.
fn frames(direction: Direction, limits: Limits, bytes: &[u8]) -> Vec<Frame> {
    let mut framer = Framer::new(direction, limits);
    framer.push(bytes);
    let mut frames = Vec::new();
    while let Ok(Some(frame)) = framer.next_frame() {
        frames.push(frame);
    }
    frames
}

/// Frames bytes we encoded: exactly one frame, nothing left over. Percent-encoding may make a
/// line longer than the input's, so the limits are generous.
fn reframe(direction: Direction, bytes: &[u8]) -> Frame {
    let mut framer = Framer::new(
        direction,
        Limits {
            max_line: 1 << 20,
            max_payload: 1 << 20,
        },
    );
    framer.push(bytes);
    let frame = framer
        .next_frame()
        .expect("encoded bytes frame")
        .expect("one whole frame");
    assert_eq!(
        framer.buffered(),
        0,
        "encoding produced more than one frame"
    );
    frame
}

fn server_round_trip(command: &SbCommand, dialect: Dialect) {
    let mut bytes = Vec::new();
    command.encode(&mut bytes);
    let again = parse(reframe(Direction::FromServer, &bytes), dialect)
        .unwrap_or_else(|e| panic!("encoded {command:?} does not parse: {e:?}"));
    assert_eq!(&again, command, "decode-encode-decode changed the command");
    let mut bytes2 = Vec::new();
    again.encode(&mut bytes2);
    assert_eq!(bytes2, bytes, "encoding is not stable");
}

fn client_round_trip(trid: Option<u32>, command: &SbClientCommand, dialect: Dialect) {
    assert_eq!(trid.is_some(), command.takes_trid());
    let mut bytes = Vec::new();
    command.encode(trid.unwrap_or(0), &mut bytes);
    let (trid2, again) = SbClientCommand::decode(reframe(Direction::FromClient, &bytes), dialect)
        .unwrap_or_else(|e| panic!("encoded {command:?} does not decode: {e:?}"));
    assert_eq!(
        (trid2, &again),
        (trid, command),
        "decode-encode-decode changed the command"
    );
    let mut bytes2 = Vec::new();
    again.encode(trid2.unwrap_or(0), &mut bytes2);
    assert_eq!(bytes2, bytes, "encoding is not stable");
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let dialect = Dialect::new(u32::from(control % 24));

    for frame in frames(Direction::FromServer, Limits::default(), rest) {
        if let Ok(command) = parse(frame, dialect) {
            server_round_trip(&command, dialect);
        }
    }
    // Hand-built frames reach payload/line combinations the framer never produces.
    let (line, payload) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let _ = parse(
        Frame {
            line: line.to_vec(),
            payload: Some(payload.to_vec()),
        },
        dialect,
    );
    let _ = parse(
        Frame {
            line: line.to_vec(),
            payload: None,
        },
        dialect,
    );
    let _ = SbClientCommand::decode(
        Frame {
            line: line.to_vec(),
            payload: Some(payload.to_vec()),
        },
        dialect,
    );

    for frame in frames(Direction::FromClient, Limits::default(), rest) {
        let verb = frame.line.get(..3).map(<[u8]>::to_vec);
        match SbClientCommand::decode(frame, dialect) {
            Ok((trid, command)) => client_round_trip(trid, &command, dialect),
            Err(msnp::wire::ParseError::UnknownCommand) => {
                let verb = verb.unwrap_or_default();
                assert!(
                    ![&b"USR"[..], b"ANS", b"CAL", b"MSG", b"OUT"].contains(&verb.as_slice()),
                    "known verb {verb:?} reported as unknown"
                );
            }
            Err(_) => {}
        }
    }
});
