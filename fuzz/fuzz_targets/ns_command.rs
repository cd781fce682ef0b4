//! Parses arbitrary frames as server commands and decodes them as client commands.
//!
//! Invariants: nothing panics; for client commands, decode → encode → decode gives the same
//! command and TrID, and encoding it again gives the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::dialect::Dialect;
use msnp::wire::{parse, ClientCommand, Direction, Frame, Framer, Limits};

fn frames(direction: Direction, bytes: &[u8]) -> Vec<Frame> {
    let mut framer = Framer::new(direction, Limits::default());
    framer.push(bytes);
    let mut frames = Vec::new();
    while let Ok(Some(frame)) = framer.next_frame() {
        frames.push(frame);
    }
    frames
}

fn encode(trid: Option<u32>, command: &ClientCommand) -> Vec<u8> {
    let mut out = Vec::new();
    command.encode(trid.unwrap_or(0), &mut out);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let dialect = Dialect::new(u32::from(control % 24));

    for frame in frames(Direction::FromServer, rest) {
        let _ = parse(frame, dialect);
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

    for frame in frames(Direction::FromClient, rest) {
        let Ok((trid, command)) = ClientCommand::decode(frame) else {
            continue;
        };
        let bytes = encode(trid, &command);
        // Percent-encoding may make the line longer than the input's, so re-frame with room.
        let mut framer = Framer::new(
            Direction::FromClient,
            Limits {
                max_line: 1 << 20,
                max_payload: 1 << 20,
            },
        );
        framer.push(&bytes);
        let again = framer
            .next_frame()
            .expect("encoded bytes frame")
            .expect("one whole frame");
        assert_eq!(
            framer.buffered(),
            0,
            "encoding produced more than one frame"
        );
        let (trid2, command2) = ClientCommand::decode(again).expect("encoded command decodes");
        assert_eq!((trid2, &command2), (trid, &command));
        assert_eq!(encode(trid2, &command2), bytes);
    }
});
