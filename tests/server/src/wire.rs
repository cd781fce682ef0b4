//! MSNP framing of what clients send: `\r\n`-terminated lines, some followed by a byte-counted
//! payload (docs/protocol.md §0), with hard limits; plus Escargot's percent-encoding of arguments.

/// Longest command line accepted (a `USR SSO S` line with ticket and blob is about 1.3 KB).
pub const MAX_LINE: usize = 8 * 1024;
/// Largest payload accepted after a payload command.
pub const MAX_PAYLOAD: usize = 256 * 1024;

/// Client commands that carry a payload when their last token is a byte count
/// (Escargot's `_PAYLOAD_COMMANDS`).
const PAYLOAD_VERBS: &[&str] = &[
    "MSG", "UUX", "QRY", "NOT", "ADL", "FQY", "RML", "UUN", "UUM", "PUT", "DEL", "SDG", "VAS",
    "SDC",
];

/// One command received from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The line without its `\r\n`.
    pub line: String,
    /// The verb (first token) as sent.
    pub verb: String,
    /// The tokens after the verb, still percent-encoded.
    pub args: Vec<String>,
    /// The payload of a payload command.
    pub payload: Option<Vec<u8>>,
}

impl Command {
    /// The argument at `i` (0 = the token after the verb), if present.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }

    /// The transaction id (first argument), if present.
    pub fn trid(&self) -> Option<&str> {
        self.arg(0)
    }
}

/// Why the byte stream cannot be framed any further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// A line longer than [`MAX_LINE`] without a terminator.
    LineTooLong,
    /// A payload length above [`MAX_PAYLOAD`].
    PayloadTooLarge,
    /// A line that is not UTF-8.
    NotUtf8,
}

/// Accumulates received bytes and yields complete commands.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Where the unread bytes start: consumed frames are dropped from the front only when they
    /// are at least half the buffer, so framing a long burst costs linear time, not quadratic.
    start: usize,
}

impl Framer {
    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete command, `Ok(None)` when more bytes are needed.
    pub fn next_command(&mut self) -> Result<Option<Command>, FrameError> {
        let buf = &self.buf[self.start..];
        let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
            return if buf.len() > MAX_LINE {
                Err(FrameError::LineTooLong)
            } else {
                Ok(None)
            };
        };
        if end > MAX_LINE {
            return Err(FrameError::LineTooLong);
        }
        let line = std::str::from_utf8(&buf[..end]).map_err(|_| FrameError::NotUtf8)?;
        let mut tokens = line.split(' ').filter(|t| !t.is_empty()).map(str::to_owned);
        let verb = tokens.next().unwrap_or_default();
        let args: Vec<String> = tokens.collect();
        let payload_len = if PAYLOAD_VERBS.contains(&verb.as_str()) && args.len() >= 2 {
            args.last().and_then(|n| n.parse::<usize>().ok())
        } else {
            None
        };
        let body_start = end + 2;
        let payload = match payload_len {
            Some(n) if n > MAX_PAYLOAD => return Err(FrameError::PayloadTooLarge),
            Some(n) => {
                if buf.len() < body_start + n {
                    return Ok(None);
                }
                Some(buf[body_start..body_start + n].to_vec())
            }
            None => None,
        };
        let cmd = Command {
            line: line.to_owned(),
            verb,
            args,
            payload,
        };
        let consumed = body_start + cmd.payload.as_ref().map_or(0, Vec::len);
        self.start += consumed;
        Ok(Some(cmd))
    }
}

/// Decodes `%XX` escapes (invalid escapes are kept literally; invalid UTF-8 is replaced).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes what cannot stand inside a token: `%`, space and control characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '%' || c == ' ' || c.is_ascii_control() {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_lines_and_payloads_split_anywhere() {
        let wire = b"VER 1 MSNP12 CVR0\r\nUUX 9 5\r\nhelloPNG\r\nQRY 10 PROD 2\r\nab";
        let mut f = Framer::default();
        let mut got = Vec::new();
        for b in wire.iter() {
            f.push(&[*b]);
            while let Some(c) = f.next_command().unwrap() {
                got.push(c);
            }
        }
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].args, ["1", "MSNP12", "CVR0"]);
        assert_eq!(got[1].payload.as_deref(), Some(&b"hello"[..]));
        assert_eq!(got[2].verb, "PNG");
        assert_eq!(got[3].payload.as_deref(), Some(&b"ab"[..]));
    }

    #[test]
    fn limits() {
        let mut f = Framer::default();
        f.push(&vec![b'A'; MAX_LINE + 1]);
        assert_eq!(f.next_command(), Err(FrameError::LineTooLong));
        let mut f = Framer::default();
        f.push(b"MSG 1 N 999999999\r\n");
        assert_eq!(f.next_command(), Err(FrameError::PayloadTooLarge));
    }

    #[test]
    fn percent_round_trip() {
        assert_eq!(percent_decode("Alice%20(probe)%zz%4"), "Alice (probe)%zz%4");
        assert_eq!(
            percent_encode("Other Contacts 100%"),
            "Other%20Contacts%20100%25"
        );
    }
}
