//! MIME-style message payloads (`MSG` bodies): a header block, a blank line, then the body.

/// Most headers accepted in one payload; the rest are ignored.
const MAX_HEADERS: usize = 64;

/// A parsed payload: headers in order (names as sent) and the body bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mime {
    /// `(name, value)` pairs, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Everything after the blank line.
    pub body: Vec<u8>,
}

impl Mime {
    /// Parses a payload. Lines may end in CRLF or LF; a line without `:` is ignored; header text
    /// that is not UTF-8 is decoded lossily; a CR inside a header line (not at its end) becomes
    /// U+FFFD, so no name or value holds a line break. Never fails: a payload with no blank line
    /// is all headers and an empty body.
    pub fn parse(payload: &[u8]) -> Mime {
        let (head, body) = match find_blank_line(payload) {
            Some((end, body_start)) => (&payload[..end], payload[body_start..].to_vec()),
            None => (payload, Vec::new()),
        };
        let headers = head
            .split(|&b| b == b'\n')
            .filter_map(|line| {
                let line = String::from_utf8_lossy(line);
                let line = line.trim_end_matches('\r').replace('\r', "\u{FFFD}");
                let (name, value) = line.split_once(':')?;
                let name = name.trim();
                (!name.is_empty()).then(|| (name.to_owned(), value.trim().to_owned()))
            })
            .take(MAX_HEADERS)
            .collect();
        Mime { headers, body }
    }

    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type of `Content-Type` without parameters, lower-cased (`text/plain`).
    pub fn content_type(&self) -> Option<String> {
        let value = self.header("Content-Type")?;
        let media = value.split(';').next().unwrap_or("").trim();
        (!media.is_empty()).then(|| media.to_ascii_lowercase())
    }
}

/// Finds the first empty line: returns where the headers end and where the body starts.
fn find_blank_line(payload: &[u8]) -> Option<(usize, usize)> {
    let mut line_start = 0;
    for (i, &b) in payload.iter().enumerate() {
        if b == b'\n' {
            let line = &payload[line_start..i];
            if line.is_empty() || line == b"\r" {
                return Some((line_start, i + 1));
            }
            line_start = i + 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::Mime;

    #[test]
    fn parses_profile_headers_and_body() {
        let m = Mime::parse(b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nsid: 507\r\n\r\nbody");
        assert_eq!(m.content_type().as_deref(), Some("text/x-msmsgsprofile"));
        assert_eq!(m.header("SID"), Some("507"));
        assert_eq!(m.body, b"body");
    }

    #[test]
    fn tolerates_missing_blank_line_values_and_colons() {
        let m = Mime::parse(b"Content-Type\r\nX-Empty:\nTypingUser: bob@example.com");
        assert_eq!(m.header("Content-Type"), None);
        assert_eq!(m.header("X-Empty"), Some(""));
        assert_eq!(m.header("typinguser"), Some("bob@example.com"));
        assert!(m.body.is_empty());
        assert_eq!(m.content_type(), None);
    }

    /// Fuzzing finding (`msg_payload`): a bare CR inside a header line reached the value
    /// (`TypingUser: a\rb`), and from there the conversation window and the log.
    #[test]
    fn a_bare_cr_in_a_header_line_is_replaced() {
        let m = Mime::parse(b"TypingUser: bob@example.com\r\rX: y\r\nA\rB: c \r\r\n\r\nbody\r");
        let typing = m.header("TypingUser");
        assert_eq!(typing, Some("bob@example.com\u{FFFD}\u{FFFD}X: y"));
        assert_eq!(m.header("A\u{FFFD}B"), Some("c"));
        assert_eq!(m.body, b"body\r");
    }

    #[test]
    fn empty_payload_is_empty() {
        assert_eq!(Mime::parse(b""), Mime::default());
        assert_eq!(Mime::parse(b"\r\n").headers.len(), 0);
    }
}
