//! HTTP/1.0 and 1.1 request parsing (with `Content-Length` bodies) and `Connection: close`
//! responses, over any byte stream (plain TCP or TLS).

use std::io::{self, Read, Write};
use std::time::Instant;

/// Largest request head accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Request line as received.
    pub line: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response; `Content-Length`, `Date`, `Server` and `Connection: close` are added on writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers before the generated ones (the transcripts put these first).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// A `text/plain` response whose body is `"<status>: <reason>"` like aiohttp's defaults.
    pub fn plain(status: u16, extra: Vec<(String, String)>) -> Self {
        let mut headers = extra;
        headers.push((
            "Content-Type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        ));
        Self {
            status,
            headers,
            body: format!("{status}: {}", reason(status)).into_bytes(),
        }
    }

    /// A `text/xml` response.
    pub fn xml(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![(
                "Content-Type".to_owned(),
                "text/xml; charset=utf-8".to_owned(),
            )],
            body: body.into_bytes(),
        }
    }

    /// The bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nDate: {}\r\nServer: msnp-testserver\r\nConnection: close\r\n\r\n",
            self.body.len(),
            crate::clock::http_date(crate::clock::unix_now())
        ));
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// Reason phrase of the status codes this server uses.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        502 => "Bad Gateway",
        _ => "Unknown",
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The stream failed or ended early, or the deadline passed.
    Io(io::Error),
    /// The bytes are not an HTTP request, or exceed the limits; answer with this status.
    Bad(u16),
}

/// Reads one request from `stream` by `deadline` (the stream must have a read timeout);
/// `stopping` is polled between reads.
pub fn read_request<S: Read>(
    stream: &mut S,
    deadline: Instant,
    stopping: &dyn Fn() -> bool,
) -> Result<Request, ReadError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut head_end = None;
    let mut need = usize::MAX;
    loop {
        if head_end.is_none() {
            head_end = buf.windows(4).position(|w| w == b"\r\n\r\n");
            if let Some(end) = head_end {
                need = end + 4 + content_length(&buf[..end])?;
            } else if buf.len() > MAX_HEAD {
                return Err(ReadError::Bad(413));
            }
        }
        if buf.len() >= need {
            break;
        }
        if Instant::now() >= deadline || stopping() {
            return Err(ReadError::Io(io::ErrorKind::TimedOut.into()));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
    let end = head_end.unwrap_or(0);
    parse(&buf[..end], buf[end + 4..need].to_vec())
}

fn content_length(head: &[u8]) -> Result<usize, ReadError> {
    let text = String::from_utf8_lossy(head);
    let len = text
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse::<usize>().map_err(|_| ReadError::Bad(400)))
        .transpose()?
        .unwrap_or(0);
    if len > MAX_BODY {
        return Err(ReadError::Bad(413));
    }
    Ok(len)
}

fn parse(head: &[u8], body: Vec<u8>) -> Result<Request, ReadError> {
    let text = std::str::from_utf8(head).map_err(|_| ReadError::Bad(400))?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default().to_owned();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(400));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad(400));
    }
    // Absolute-form targets (through a proxy) keep only their path.
    let target = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .map_or(target, |rest| rest.find('/').map_or("/", |i| &rest[i..]));
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Request {
        method: method.to_owned(),
        path,
        line,
        headers,
        body,
    })
}

/// Writes `response` and flushes.
pub fn write_response<S: Write>(stream: &mut S, response: &Response) -> io::Result<()> {
    stream.write_all(&response.to_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn read(bytes: &[u8]) -> Result<Request, ReadError> {
        read_request(
            &mut io::Cursor::new(bytes.to_vec()),
            Instant::now() + Duration::from_secs(1),
            &|| false,
        )
    }

    #[test]
    fn parses_get_and_post() {
        let r = read(b"GET /rdr/pprdr.asp?x=1 HTTP/1.0\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("GET", "/rdr/pprdr.asp")
        );
        let r = read(b"POST /RST.srf HTTP/1.1\r\ncontent-length: 3\r\n\r\nabcEXTRA").unwrap();
        assert_eq!(r.body, b"abc");
        assert_eq!(r.header("Content-Length"), Some("3"));
    }

    #[test]
    fn rejects_oversized_and_garbage() {
        assert!(matches!(
            read(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"),
            Err(ReadError::Bad(413))
        ));
        assert!(matches!(read(b"HELLO\r\n\r\n"), Err(ReadError::Bad(400))));
        assert!(matches!(read(b"GET / HTTP/1.1\r\n"), Err(ReadError::Io(_))));
    }
}
