//! Feeds arbitrary bytes to the framer in arbitrary chunks.
//!
//! Invariants: every frame respects the limits and has no CRLF in its line; the bytes of all
//! frames plus what is still buffered are exactly the bytes pushed; the buffer stays bounded;
//! errors are sticky; chunking does not change the frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::wire::{Direction, Frame, FrameError, Framer, Limits};

/// Frames `input` pushed in the pieces given by `sizes`, checking the invariants on the way.
fn run(
    direction: Direction,
    limits: Limits,
    input: &[u8],
    sizes: &[u8],
) -> (Vec<Frame>, Option<FrameError>) {
    let mut framer = Framer::new(direction, limits);
    let mut frames = Vec::new();
    let mut rejoined = Vec::new();
    let mut fed = 0;
    let mut sizes = sizes.iter().cycle();
    while fed < input.len() {
        let size = sizes.next().map_or(input.len(), |&s| usize::from(s).max(1));
        let end = (fed + size).min(input.len());
        framer.push(&input[fed..end]);
        fed = end;
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => {
                    assert!(frame.line.len() <= limits.max_line);
                    assert!(frame.payload.as_ref().map_or(0, Vec::len) <= limits.max_payload);
                    assert!(!frame.line.windows(2).any(|w| w == b"\r\n"));
                    frame.write_to(&mut rejoined);
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(err) => {
                    assert_eq!(framer.next_frame(), Err(err), "errors are sticky");
                    assert_eq!(&rejoined[..], &input[..rejoined.len()]);
                    return (frames, Some(err));
                }
            }
        }
        assert_eq!(
            rejoined.len() + framer.buffered(),
            fed,
            "bytes lost or added"
        );
        assert!(
            framer.buffered() <= limits.max_line + 2 + limits.max_payload,
            "unbounded buffer"
        );
    }
    assert_eq!(&rejoined[..], &input[..rejoined.len()]);
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let direction = if control & 1 == 0 {
        Direction::FromServer
    } else {
        Direction::FromClient
    };
    // Small limits so the error paths are reached; the control byte varies them.
    let limits = Limits {
        max_line: 16 + usize::from(control >> 1) * 4,
        max_payload: 64 + usize::from(control) * 8,
    };
    // The chunk sizes come from the input itself: the first few bytes, reused cyclically.
    let sizes: Vec<u8> = rest.iter().take(8).map(|b| b % 17).collect();
    let chunked = run(direction, limits, rest, &sizes);
    let whole = run(direction, limits, rest, &[]);
    assert_eq!(chunked, whole, "chunking changed the result");
});
