//! Incremental framer: cuts a received byte stream into command lines and payloads
//! (docs/protocol.md §0).
//!
//! A frame is one CRLF-terminated line, followed for payload commands by exactly `N` bytes, where
//! `N` is the last token of the line. The framer keeps everything it has not yet returned, resumes
//! its CRLF search where the previous call stopped, and enforces hard limits so a peer cannot make
//! it buffer without bound.

use thiserror::Error;

/// Which side sent the bytes being framed; the two sides have different payload commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Server → client: `MSG NOT GCF UBX UBN UBM IPG ADL RML FQY NFY SDG PUT DEL`.
    FromServer,
    /// Client → server: `MSG UUX QRY NOT ADL FQY RML UUN UUM PUT DEL SDG VAS SDC`.
    FromClient,
}

impl Direction {
    /// The verbs that may carry a payload in this direction.
    pub fn payload_verbs(self) -> &'static [&'static [u8]] {
        match self {
            Direction::FromServer => &[
                b"MSG", b"NOT", b"GCF", b"UBX", b"UBN", b"UBM", b"IPG", b"ADL", b"RML", b"FQY",
                b"NFY", b"SDG", b"PUT", b"DEL",
            ],
            Direction::FromClient => &[
                b"MSG", b"UUX", b"QRY", b"NOT", b"ADL", b"FQY", b"RML", b"UUN", b"UUM", b"PUT",
                b"DEL", b"SDG", b"VAS", b"SDC",
            ],
        }
    }
}

/// Hard limits on what one frame may occupy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted command line, CRLF not counted.
    pub max_line: usize,
    /// Largest accepted payload.
    pub max_payload: usize,
}

impl Default for Limits {
    /// 8 KiB lines, 1 MiB payloads.
    fn default() -> Self {
        Limits {
            max_line: 8 * 1024,
            max_payload: 1024 * 1024,
        }
    }
}

/// One command as received: its line and, for payload commands, the payload bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The command line without its CRLF.
    pub line: Vec<u8>,
    /// The `N` bytes that followed the line, for payload commands.
    pub payload: Option<Vec<u8>>,
}

impl Frame {
    /// Number of bytes the frame occupied on the wire (line, CRLF and payload).
    pub fn wire_len(&self) -> usize {
        self.line.len() + 2 + self.payload.as_ref().map_or(0, Vec::len)
    }

    /// Appends the frame's exact wire bytes to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.line);
        out.extend_from_slice(b"\r\n");
        if let Some(payload) = &self.payload {
            out.extend_from_slice(payload);
        }
    }
}

/// A framing failure. Each is fatal for the connection: the stream can no longer be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FrameError {
    /// A line grew past [`Limits::max_line`] (with or without its CRLF).
    #[error("command line exceeds the length limit")]
    LineTooLong,
    /// A payload command announced more than [`Limits::max_payload`] bytes.
    #[error("payload of {len} bytes exceeds the size limit")]
    PayloadTooLarge {
        /// The announced length (saturated at `usize::MAX`).
        len: usize,
    },
}

/// A line already found whose payload is still arriving.
#[derive(Debug, Clone, Copy)]
struct Pending {
    line_len: usize,
    payload_len: usize,
}

/// Buffered capacity above which an empty buffer gives its memory back.
const SHRINK_ABOVE: usize = 64 * 1024;

/// Splits received bytes into [`Frame`]s.
///
/// Call [`Framer::push`] with whatever arrived, then [`Framer::next_frame`] until it returns
/// `Ok(None)`. Done that way, the framer never holds more than `max_line + 2 + max_payload` bytes
/// plus the last push.
#[derive(Debug)]
pub struct Framer {
    direction: Direction,
    limits: Limits,
    buf: Vec<u8>,
    /// First byte of `buf` not yet returned in a frame.
    start: usize,
    /// Bytes after `start` already searched for CRLF, so no byte is scanned twice.
    scanned: usize,
    pending: Option<Pending>,
    failed: Option<FrameError>,
}

impl Framer {
    /// A framer for bytes sent in `direction`.
    pub fn new(direction: Direction, limits: Limits) -> Self {
        Framer {
            direction,
            limits,
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            pending: None,
            failed: None,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
            if self.buf.is_empty() && self.buf.capacity() > SHRINK_ABOVE {
                self.buf.shrink_to(SHRINK_ABOVE);
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Returns the next complete frame, `Ok(None)` if more bytes are needed, or the error that
    /// made the stream unusable (returned again on every later call).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        let result = self.advance();
        if let Err(err) = result {
            self.failed = Some(err);
        }
        result
    }

    /// Number of received bytes not yet returned in a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn advance(&mut self) -> Result<Option<Frame>, FrameError> {
        let pending = match self.pending {
            Some(pending) => pending,
            None => {
                let Some(line_len) = self.find_line_end()? else {
                    return Ok(None);
                };
                let line = self
                    .buf
                    .get(self.start..self.start + line_len)
                    .unwrap_or_default();
                match payload_length(self.direction, self.limits, line)? {
                    None => {
                        let frame = Frame {
                            line: line.to_vec(),
                            payload: None,
                        };
                        self.start += line_len + 2;
                        return Ok(Some(frame));
                    }
                    Some(payload_len) => {
                        let pending = Pending {
                            line_len,
                            payload_len,
                        };
                        self.pending = Some(pending);
                        pending
                    }
                }
            }
        };
        let payload_start = self.start + pending.line_len + 2;
        let end = payload_start + pending.payload_len;
        let (Some(line), Some(payload)) = (
            self.buf.get(self.start..self.start + pending.line_len),
            self.buf.get(payload_start..end),
        ) else {
            return Ok(None);
        };
        let frame = Frame {
            line: line.to_vec(),
            payload: Some(payload.to_vec()),
        };
        self.start = end;
        self.pending = None;
        Ok(Some(frame))
    }

    /// Length of the next line if its CRLF has arrived; `LineTooLong` once it can no longer fit.
    fn find_line_end(&mut self) -> Result<Option<usize>, FrameError> {
        let avail = self.buf.get(self.start..).unwrap_or_default();
        // Every LF before `scanned` was already checked, together with the byte before it.
        let from = self.scanned;
        let found = avail
            .get(from..)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| from + i)
            .find(|&lf| lf > 0 && avail.get(lf - 1) == Some(&b'\r'));
        match found {
            Some(lf) => {
                self.scanned = 0;
                let line_len = lf - 1;
                if line_len > self.limits.max_line {
                    return Err(FrameError::LineTooLong);
                }
                Ok(Some(line_len))
            }
            None => {
                self.scanned = avail.len();
                // `max_line` bytes plus a CR still waiting for its LF can be a valid line.
                if avail.len() > self.limits.max_line + 1 {
                    return Err(FrameError::LineTooLong);
                }
                Ok(None)
            }
        }
    }
}

/// The payload length announced by `line`, if it is a payload command in `direction`.
///
/// A line is a payload command when its verb is in the direction's payload set and its last token
/// is a pure decimal number (so `ADL 10 OK` and `MSG Hotmail Hotmail` are plain lines).
fn payload_length(
    direction: Direction,
    limits: Limits,
    line: &[u8],
) -> Result<Option<usize>, FrameError> {
    let mut tokens = line.split(|&b| b == b' ').filter(|t| !t.is_empty());
    let Some(verb) = tokens.next() else {
        return Ok(None);
    };
    if !direction.payload_verbs().contains(&verb) {
        return Ok(None);
    }
    let Some(last) = tokens.next_back() else {
        return Ok(None);
    };
    if !last.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    let len = last.iter().fold(0usize, |acc, &d| {
        acc.saturating_mul(10).saturating_add(usize::from(d - b'0'))
    });
    if len > limits.max_payload {
        return Err(FrameError::PayloadTooLarge { len });
    }
    Ok(Some(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_of(direction: Direction, bytes: &[u8]) -> Vec<Frame> {
        let mut framer = Framer::new(direction, Limits::default());
        framer.push(bytes);
        let mut out = Vec::new();
        while let Some(frame) = framer.next_frame().expect("valid stream") {
            out.push(frame);
        }
        assert_eq!(framer.buffered(), 0);
        out
    }

    fn plain(line: &str) -> Frame {
        Frame {
            line: line.as_bytes().to_vec(),
            payload: None,
        }
    }

    fn with_payload(line: &str, payload: &[u8]) -> Frame {
        Frame {
            line: line.as_bytes().to_vec(),
            payload: Some(payload.to_vec()),
        }
    }

    #[test]
    fn splits_lines_and_payloads_from_the_server() {
        let bytes = b"USR 4 OK alice@example.com 1 0\r\nSBS 0 null\r\nUBX bob@example.com 5\r\n<a/>\nADL 6 OK\r\nUUX 9 0\r\n";
        assert_eq!(
            frames_of(Direction::FromServer, bytes),
            vec![
                plain("USR 4 OK alice@example.com 1 0"),
                plain("SBS 0 null"),
                with_payload("UBX bob@example.com 5", b"<a/>\n"),
                plain("ADL 6 OK"),
                plain("UUX 9 0"),
            ]
        );
    }

    #[test]
    fn payload_sets_depend_on_direction() {
        // A client UUX carries its XML; the server's `UUX 9 0` reply is a plain line.
        assert_eq!(
            frames_of(Direction::FromClient, b"UUX 9 3\r\n<a>"),
            vec![with_payload("UUX 9 3", b"<a>")]
        );
        assert_eq!(
            frames_of(Direction::FromServer, b"UUX 9 3\r\nQRY 10\r\n"),
            vec![plain("UUX 9 3"), plain("QRY 10")]
        );
        assert_eq!(
            frames_of(Direction::FromClient, b"GCF 6 Shields.xml\r\n"),
            vec![plain("GCF 6 Shields.xml")]
        );
        assert_eq!(
            frames_of(Direction::FromServer, b"GCF 6 Shields.xml 2\r\nab"),
            vec![with_payload("GCF 6 Shields.xml 2", b"ab")]
        );
    }

    #[test]
    fn payload_may_contain_crlf_and_be_empty() {
        assert_eq!(
            frames_of(
                Direction::FromServer,
                b"MSG a b 4\r\n\r\n\r\nNOT 0\r\nFLN x\r\n"
            ),
            vec![
                with_payload("MSG a b 4", b"\r\n\r\n"),
                with_payload("NOT 0", b""),
                plain("FLN x")
            ]
        );
    }

    #[test]
    fn lines_without_a_valid_length_are_plain() {
        assert_eq!(
            frames_of(
                Direction::FromServer,
                b"MSG Hotmail Hotmail\r\nMSG a b -5\r\nMSG a b 1x\r\nMSG\r\nMSG a b +5\r\n"
            ),
            vec![
                plain("MSG Hotmail Hotmail"),
                plain("MSG a b -5"),
                plain("MSG a b 1x"),
                plain("MSG"),
                plain("MSG a b +5"),
            ]
        );
    }

    #[test]
    fn trailing_space_is_kept_in_the_line_and_ignored_for_the_length() {
        assert_eq!(
            frames_of(
                Direction::FromServer,
                b"LST N=bob@example.com F=Bob C=x 11 1 \r\nUBX bob 2 \r\nhi"
            ),
            vec![
                plain("LST N=bob@example.com F=Bob C=x 11 1 "),
                with_payload("UBX bob 2 ", b"hi")
            ]
        );
    }

    #[test]
    fn partial_input_is_not_an_error_and_stays_buffered() {
        let mut framer = Framer::new(Direction::FromServer, Limits::default());
        framer.push(b"NOT 5\r");
        assert_eq!(framer.next_frame(), Ok(None));
        framer.push(b"\nabc");
        assert_eq!(framer.next_frame(), Ok(None));
        assert_eq!(framer.buffered(), 10);
        framer.push(b"deCHL 0 1");
        assert_eq!(
            framer.next_frame(),
            Ok(Some(with_payload("NOT 5", b"abcde")))
        );
        assert_eq!(framer.next_frame(), Ok(None));
        assert_eq!(framer.buffered(), 7);
        framer.push(b"2\r\n");
        assert_eq!(framer.next_frame(), Ok(Some(plain("CHL 0 12"))));
        assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn bare_lf_and_cr_do_not_end_a_line() {
        assert_eq!(
            frames_of(Direction::FromServer, b"A\nB\rC\r\n"),
            vec![plain("A\nB\rC")]
        );
    }

    #[test]
    fn endless_line_is_rejected_once_past_the_limit() {
        let limits = Limits {
            max_line: 16,
            max_payload: 64,
        };
        let mut framer = Framer::new(Direction::FromServer, limits);
        framer.push(&[b'x'; 16]);
        assert_eq!(framer.next_frame(), Ok(None));
        framer.push(b"\r");
        assert_eq!(
            framer.next_frame(),
            Ok(None),
            "16 bytes + CR may still be a valid line"
        );
        framer.push(b"\n");
        assert_eq!(
            framer.next_frame(),
            Ok(Some(Frame {
                line: vec![b'x'; 16],
                payload: None
            }))
        );

        framer.push(&[b'y'; 17]);
        assert_eq!(framer.next_frame(), Ok(None));
        framer.push(b"y");
        assert_eq!(framer.next_frame(), Err(FrameError::LineTooLong));
        framer.push(b"\r\n");
        assert_eq!(
            framer.next_frame(),
            Err(FrameError::LineTooLong),
            "errors are sticky"
        );
    }

    #[test]
    fn complete_line_over_the_limit_is_rejected() {
        let limits = Limits {
            max_line: 4,
            max_payload: 64,
        };
        let mut framer = Framer::new(Direction::FromServer, limits);
        framer.push(b"QNG 60\r\n");
        assert_eq!(framer.next_frame(), Err(FrameError::LineTooLong));
    }

    #[test]
    fn oversized_payload_is_rejected_before_it_arrives() {
        let limits = Limits {
            max_line: 64,
            max_payload: 10,
        };
        let mut framer = Framer::new(Direction::FromServer, limits);
        framer.push(b"MSG a b 10\r\n0123456789MSG a b 11\r\n");
        assert_eq!(
            framer.next_frame(),
            Ok(Some(with_payload("MSG a b 10", b"0123456789")))
        );
        assert_eq!(
            framer.next_frame(),
            Err(FrameError::PayloadTooLarge { len: 11 })
        );

        let mut framer = Framer::new(Direction::FromServer, limits);
        framer.push(b"NOT 99999999999999999999999999\r\n");
        assert_eq!(
            framer.next_frame(),
            Err(FrameError::PayloadTooLarge { len: usize::MAX })
        );
    }

    #[test]
    fn byte_at_a_time_equals_all_at_once() {
        let bytes = b"VER 1 MSNP18\r\nGCF 0 3\r\n<x>USR 3 SSO S MBI_KEY_OLD abc\r\nUBX 1:a@b 4\r\n\r\n\r\nOUT\r\n";
        let expected = frames_of(Direction::FromServer, bytes);
        assert_eq!(expected.len(), 5);
        let mut framer = Framer::new(Direction::FromServer, Limits::default());
        let mut got = Vec::new();
        for b in bytes {
            framer.push(std::slice::from_ref(b));
            while let Some(frame) = framer.next_frame().unwrap() {
                got.push(frame);
            }
        }
        assert_eq!(got, expected);
    }

    #[test]
    fn megabyte_payload_and_many_lines_byte_at_a_time() {
        // Quadratic rescanning or copying would make this test take minutes.
        let payload = vec![b'x'; 1024 * 1024];
        let mut bytes = format!("MSG a b {}\r\n", payload.len()).into_bytes();
        bytes.extend_from_slice(&payload);
        for i in 0..20_000 {
            bytes.extend_from_slice(format!("QNG {i}\r\n").as_bytes());
        }
        let mut framer = Framer::new(Direction::FromServer, Limits::default());
        let mut count = 0;
        for b in &bytes {
            framer.push(std::slice::from_ref(b));
            while let Some(frame) = framer.next_frame().unwrap() {
                if count == 0 {
                    assert_eq!(frame.payload.as_deref(), Some(&payload[..]));
                }
                count += 1;
            }
        }
        assert_eq!(count, 20_001);
        assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn frame_wire_bytes_round_trip() {
        let frame = with_payload("UUX 9 3", b"<a>");
        let mut out = Vec::new();
        frame.write_to(&mut out);
        assert_eq!(out, b"UUX 9 3\r\n<a>");
        assert_eq!(frame.wire_len(), out.len());
    }

    #[test]
    fn known_answer_wire_samples() {
        use base64::Engine as _;
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/msg_payloads.json"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("vector file"))
                .expect("json");
        let vectors = json["vectors"].as_array().expect("vectors array");
        assert!(vectors.len() >= 9);
        for v in vectors {
            let wire = base64::engine::general_purpose::STANDARD
                .decode(v["wire_b64"].as_str().expect("wire_b64"))
                .expect("base64");
            let direction = if v["direction"]
                .as_str()
                .expect("direction")
                .contains("client->server")
            {
                Direction::FromClient
            } else {
                Direction::FromServer
            };
            let frames = frames_of(direction, &wire);
            let name = v["name"].as_str().unwrap_or_default();
            assert_eq!(frames.len(), 1, "{name}");
            let frame = &frames[0];
            assert_eq!(
                frame.line,
                v["command_line"].as_str().expect("command_line").as_bytes(),
                "{name}"
            );
            let payload_len = frame.payload.as_ref().map_or(0, Vec::len);
            assert_eq!(
                payload_len as u64,
                v["payload_byte_length"].as_u64().expect("length"),
                "{name}"
            );
            assert_eq!(
                frame.wire_len() as u64,
                v["total_byte_length"].as_u64().expect("total"),
                "{name}"
            );
            assert_eq!(frame.payload.is_some(), frame.line != b"PNG", "{name}");
        }
    }
}
