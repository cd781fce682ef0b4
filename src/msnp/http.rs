//! Just enough HTTP/1.1 for the login and SOAP exchanges: URLs, requests as values (and as
//! wire bytes), and responses parsed by `httparse`. No I/O: the glue sends the request, asks
//! [`HttpResponse::is_complete`] as bytes arrive, and gives back the whole raw response.

use std::fmt;
use std::ops::Range;

/// `User-Agent` sent with every request unless the caller supplies one.
pub const USER_AGENT: &str = concat!("purple-msnp/", env!("CARGO_PKG_VERSION"));
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Largest response header block accepted, status line included.
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;
/// Most response headers accepted.
pub const MAX_HEADERS: usize = 100;
/// Largest response body accepted.
pub const MAX_BODY_LEN: usize = 16 * 1024 * 1024;

/// Longest chunk-size line accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 1024;

/// Why a URL, request or response was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL is malformed, too long or not `http`/`https`.
    #[error("invalid URL: {0}")]
    BadUrl(&'static str),
    /// A request header is unusable (bad name, control characters, or a name we set ourselves).
    #[error("invalid request header: {0}")]
    BadHeader(&'static str),
    /// The response ends before the empty line that closes its header block.
    #[error("response has no complete header block")]
    NoHeaderBlock,
    /// The response does not start with `HTTP/x.y NNN`.
    #[error("malformed HTTP status line")]
    BadStatusLine,
    /// A response header line is malformed.
    #[error("malformed HTTP response header")]
    BadResponseHeader,
    /// The response exceeds a limit (header block size, header count or body size).
    #[error("HTTP response too large: {0}")]
    TooLarge(&'static str),
    /// The body is shorter than its `Content-Length`, or its chunked encoding is broken.
    #[error("truncated or malformed HTTP response body")]
    BadBody,
}

/// URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain `http`.
    Http,
    /// `https` (TLS).
    Https,
}

impl Scheme {
    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// An absolute `http`/`https` URL, validated by [`Url::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host name, IPv4 address or bracketed IPv6 address.
    pub host: String,
    /// Port, the scheme's default when the URL names none.
    pub port: u16,
    /// Path and query, always starting with `/`; the fragment is dropped.
    pub path: String,
}

impl Url {
    /// Parses `scheme://host[:port][/path][?query][#fragment]` with the `url` crate, refusing
    /// anything unusual: other schemes, user info, spaces, control or non-ASCII characters, a
    /// host name with other than letters, digits, `-` and `.`, an empty or zero port.
    pub fn parse(text: &str) -> Result<Url, HttpError> {
        if text.len() > MAX_URL_LEN {
            return Err(HttpError::BadUrl("too long"));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(HttpError::BadUrl("space, control or non-ASCII character"));
        }
        // `url` reads `https:host` and `https:///host` as `https://host`, and `host:/` as the
        // default port, as browsers do; a server sending those is broken.
        let (_, rest) = text
            .split_once("://")
            .ok_or(HttpError::BadUrl("not absolute"))?;
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if authority.is_empty() || authority.ends_with(':') {
            return Err(HttpError::BadUrl("no host or empty port"));
        }
        let url = url::Url::parse(text).map_err(|_| HttpError::BadUrl("malformed"))?;
        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            _ => return Err(HttpError::BadUrl("scheme is not http or https")),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(HttpError::BadUrl("user info in URL"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) => {
                let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
                if name.len() > 253 || !name.bytes().all(valid) {
                    return Err(HttpError::BadUrl("bad host name"));
                }
                name.to_owned()
            }
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            None => return Err(HttpError::BadUrl("no host")),
        };
        let port = url
            .port_or_known_default()
            .filter(|&port| port != 0)
            .ok_or(HttpError::BadUrl("bad port"))?;
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        Ok(Url {
            scheme,
            host,
            port,
            path,
        })
    }

    /// `host` or `host:port` when the port is not the scheme's default (the `Host` header).
    pub fn authority(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.path
        )
    }
}

/// HTTP request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl Method {
    /// `"GET"` or `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request for the glue to perform. `Debug` shows header names and the body length only.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: Method,
    /// Absolute `http`/`https` URL.
    pub url: String,
    /// Extra headers, sent in order after `Host` and `User-Agent`.
    pub headers: Vec<(String, String)>,
    /// Request body (empty for `GET`).
    pub body: Vec<u8>,
    /// The headers or body carry a password: never log them, not even at debug level.
    pub sensitive: bool,
}

impl HttpRequest {
    /// The complete HTTP/1.1 request: request line with path and query, `Host` (with the port
    /// when not the default), `User-Agent`, the given headers, `Content-Length` when there is a
    /// body or the method is `POST`, `Connection: close`, the empty line and the body.
    pub fn to_wire(&self) -> Result<Vec<u8>, HttpError> {
        let url = Url::parse(&self.url)?;
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            self.method.as_str(),
            url.path,
            url.authority()
        );
        if !self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
        {
            head.push_str(&format!("User-Agent: {USER_AGENT}\r\n"));
        }
        for (name, value) in &self.headers {
            check_header(name, value)?;
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || self.method == Method::Post {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("Connection: close\r\n\r\n");
        let mut wire = head.into_bytes();
        wire.extend_from_slice(&self.body);
        Ok(wire)
    }

    /// One line for logs: method and URL, never headers or body.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method.as_str(), self.url)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .field("sensitive", &self.sensitive)
            .finish()
    }
}

/// RFC 9110 `tchar`: the characters allowed in a header name.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn check_header(name: &str, value: &str) -> Result<(), HttpError> {
    if name.is_empty() || !name.bytes().all(is_token_char) {
        return Err(HttpError::BadHeader("bad header name"));
    }
    if ["host", "content-length", "connection", "transfer-encoding"]
        .iter()
        .any(|reserved| name.eq_ignore_ascii_case(reserved))
    {
        return Err(HttpError::BadHeader("header is set by the request builder"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(HttpError::BadHeader("control character in header value"));
    }
    Ok(())
}

/// A complete HTTP response. `Debug` shows header names and the body length only: login
/// answers carry tickets in both.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code (100-599).
    pub status: u16,
    /// Headers in order, names as received, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Body, de-chunked and cut to `Content-Length` when the response says so.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Parses a whole raw response (the peer has closed): status line, headers, empty line,
    /// body. Lines may end in CRLF or bare LF. Enforces [`MAX_HEADER_BLOCK`], [`MAX_HEADERS`]
    /// and [`MAX_BODY_LEN`].
    pub fn parse(raw: &[u8]) -> Result<HttpResponse, HttpError> {
        let (response, _) = parse_response(raw, true, true)?.ok_or(HttpError::NoHeaderBlock)?;
        Ok(response)
    }

    /// [`HttpResponse::parse`] of a response given away: a body that is not chunked stays in
    /// `raw`'s buffer (the header block is cut off its front) instead of being copied, which
    /// for a multi-megabyte answer saves most of the work.
    pub fn parse_owned(mut raw: Vec<u8>) -> Result<HttpResponse, HttpError> {
        let (mut response, span) =
            parse_response(&raw, true, false)?.ok_or(HttpError::NoHeaderBlock)?;
        if let Some(span) = span {
            raw.truncate(span.end);
            raw.drain(..span.start);
            response.body = raw;
        }
        Ok(response)
    }

    /// Whether `raw`, a response still arriving, is complete without waiting for the peer to
    /// close: its `Content-Length` body or last chunk is in, or it is already malformed or too
    /// large. A response framed by neither ends when the peer closes.
    pub fn is_complete(raw: &[u8]) -> bool {
        !matches!(parse_response(raw, false, false), Ok(None))
    }

    /// The first header called `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A parsed response, and where its body is in the raw bytes when it was left there.
type Parsed = (HttpResponse, Option<Range<usize>>);

/// Parses the response in `raw`. `Ok(None)`: more bytes are needed (never when `closed`).
/// The body is only collected when `closed`, a body that is not chunked only when `copy` too
/// (else where it is in `raw` comes back with the response); otherwise its framing is only
/// checked.
fn parse_response(raw: &[u8], closed: bool, copy: bool) -> Result<Option<Parsed>, HttpError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Response::new(&mut slots);
    let window = &raw[..raw.len().min(MAX_HEADER_BLOCK)];
    let body_start = match head.parse(window) {
        Ok(httparse::Status::Complete(len)) => len,
        _ if raw.len() > MAX_HEADER_BLOCK && !has_blank_line(window) => {
            return Err(HttpError::TooLarge("header block"))
        }
        Ok(httparse::Status::Partial) if !closed => return Ok(None),
        // What is not a header block yet is judged once it is (or the peer has closed).
        _ if !has_blank_line(window) => {
            return if closed {
                Err(HttpError::NoHeaderBlock)
            } else {
                Ok(None)
            }
        }
        Ok(httparse::Status::Partial) => return Err(HttpError::BadStatusLine),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HttpError::TooLarge("too many headers"))
        }
        Err(httparse::Error::Version | httparse::Error::Status | httparse::Error::Token) => {
            return Err(HttpError::BadStatusLine)
        }
        Err(_) if head.code.is_none() => return Err(HttpError::BadStatusLine),
        Err(_) => return Err(HttpError::BadResponseHeader),
    };
    let status = head
        .code
        .filter(|c| (100..=599).contains(c))
        .ok_or(HttpError::BadStatusLine)?;
    let headers: Vec<(String, String)> = head
        .headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value);
            (
                h.name.to_owned(),
                value.trim_matches([' ', '\t']).to_owned(),
            )
        })
        .collect();
    let rest = &raw[body_start..];
    let mut body = Vec::new();
    let chunked = find_header(&headers, "transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let sink = (closed && (copy || chunked)).then_some(&mut body);
    let mut span = None;
    let done = if chunked {
        decode_chunked(rest, sink, closed)?
    } else {
        match find_header(&headers, "content-length") {
            Some(len) => {
                let len: usize =
                    (!len.is_empty() && len.len() <= 12 && len.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| len.parse().ok())
                        .flatten()
                        .ok_or(HttpError::BadResponseHeader)?;
                if len > MAX_BODY_LEN {
                    return Err(HttpError::TooLarge("body"));
                }
                span = Some(body_start..body_start + len);
                take_body(rest.get(..len), sink, closed)?
            }
            None if rest.len() > MAX_BODY_LEN => return Err(HttpError::TooLarge("body")),
            None => {
                span = Some(body_start..raw.len());
                take_body(closed.then_some(rest), sink, closed)?
            }
        }
    };
    let response = HttpResponse {
        status,
        headers,
        body,
    };
    Ok(done.then_some((response, span.filter(|_| !copy))))
}

/// Whether `head` holds an empty line (CRLF or LF), the end of a header block.
fn has_blank_line(head: &[u8]) -> bool {
    head.starts_with(b"\n")
        || head.starts_with(b"\r\n")
        || head.windows(2).any(|w| w == b"\n\n")
        || head.windows(3).any(|w| w == b"\n\r\n")
}

/// Copies `body` (`None`: not all in yet) into `sink`; whether it is complete.
fn take_body(
    body: Option<&[u8]>,
    sink: Option<&mut Vec<u8>>,
    closed: bool,
) -> Result<bool, HttpError> {
    match (body, sink) {
        (None, _) if closed => Err(HttpError::BadBody),
        (None, _) => Ok(false),
        (Some(body), Some(sink)) => {
            sink.extend_from_slice(body);
            Ok(true)
        }
        (Some(_), None) => Ok(true),
    }
}
impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Walks a `Transfer-Encoding: chunked` body (sizes by `httparse`), copying the data into
/// `sink` when given. `Ok(false)`: more bytes are needed (never when `closed`). Trailers after
/// the last chunk are ignored; when the peer has not closed yet they must be complete.
fn decode_chunked(
    mut rest: &[u8],
    mut sink: Option<&mut Vec<u8>>,
    closed: bool,
) -> Result<bool, HttpError> {
    let need_more = |closed| {
        if closed {
            Err(HttpError::BadBody)
        } else {
            Ok(false)
        }
    };
    let mut total: usize = 0;
    loop {
        let window = &rest[..rest.len().min(MAX_CHUNK_LINE)];
        let (line_len, size) = match httparse::parse_chunk_size(window) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) if rest.len() < MAX_CHUNK_LINE => {
                return need_more(closed)
            }
            _ => return Err(HttpError::BadBody),
        };
        rest = &rest[line_len..];
        if size == 0 {
            if closed {
                return Ok(true);
            }
            let mut trailers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            return match httparse::parse_headers(rest, &mut trailers) {
                Ok(httparse::Status::Partial) if rest.len() <= MAX_HEADER_BLOCK => Ok(false),
                _ => Ok(true),
            };
        }
        let size = usize::try_from(size)
            .ok()
            .filter(|&size| size <= MAX_BODY_LEN - total)
            .ok_or(HttpError::TooLarge("body"))?;
        total += size;
        let Some(chunk) = rest.get(..size) else {
            return need_more(closed);
        };
        if let Some(sink) = sink.as_deref_mut() {
            sink.extend_from_slice(chunk);
        }
        rest = &rest[size..];
        rest = match rest {
            [b'\r', b'\n', after @ ..] | [b'\n', after @ ..] => after,
            [] | [b'\r'] => return need_more(closed),
            _ => return Err(HttpError::BadBody),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_display() {
        let url = Url::parse("https://127.0.0.1:8443/RST.srf").unwrap();
        assert_eq!(url.scheme, Scheme::Https);
        assert_eq!(
            (url.host.as_str(), url.port, url.path.as_str()),
            ("127.0.0.1", 8443, "/RST.srf")
        );
        assert_eq!(url.to_string(), "https://127.0.0.1:8443/RST.srf");

        let url = Url::parse("HTTP://nexus.passport.com/rdr/pprdr.asp?x=1&y=2#frag").unwrap();
        assert_eq!(
            (url.scheme, url.port, url.path.as_str()),
            (Scheme::Http, 80, "/rdr/pprdr.asp?x=1&y=2")
        );
        assert_eq!(
            url.to_string(),
            "http://nexus.passport.com/rdr/pprdr.asp?x=1&y=2"
        );

        assert_eq!(
            Url::parse("https://login.live.com").unwrap().to_string(),
            "https://login.live.com/"
        );
        assert_eq!(
            Url::parse("https://login.live.com:443?a")
                .unwrap()
                .to_string(),
            "https://login.live.com/?a"
        );
        assert_eq!(
            Url::parse("http://[::1]:8081/x").unwrap().authority(),
            "[::1]:8081"
        );
    }

    #[test]
    fn odd_urls_are_rejected() {
        let long = format!("https://a/{}", "x".repeat(MAX_URL_LEN));
        for bad in [
            "",
            "login.live.com/RST.srf",
            "ftp://host/",
            "https://",
            "https:///path",
            "https://user:pw@host/",
            "https://host:/",
            "https://host:0/",
            "https://host:65536/",
            "https://host:80a/",
            "https://host:1:2/",
            "https://ho st/",
            "https://host/pa th",
            "https://host/\r\nX: y",
            "https://hôst/",
            "https://host_name/",
            "https://[::1/",
            "https://[]/",
            "https://[::1]x/",
            long.as_str(),
        ] {
            assert!(Url::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    fn post() -> HttpRequest {
        HttpRequest {
            method: Method::Post,
            url: "https://127.0.0.1:8443/RST.srf?a=b".into(),
            headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
            body: b"<x/>".to_vec(),
            sensitive: true,
        }
    }

    #[test]
    fn requests_serialise_completely() {
        let wire = String::from_utf8(post().to_wire().unwrap()).unwrap();
        assert_eq!(
            wire,
            format!(
                "POST /RST.srf?a=b HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nUser-Agent: {USER_AGENT}\r\n\
                 Content-Type: text/xml; charset=utf-8\r\nContent-Length: 4\r\nConnection: close\r\n\r\n<x/>"
            )
        );
        let get = HttpRequest {
            method: Method::Get,
            url: "https://login.live.com/login2.srf".into(),
            headers: vec![("User-Agent".into(), "MSMSGS".into())],
            body: Vec::new(),
            sensitive: false,
        };
        assert_eq!(
            String::from_utf8(get.to_wire().unwrap()).unwrap(),
            "GET /login2.srf HTTP/1.1\r\nHost: login.live.com\r\nUser-Agent: MSMSGS\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn header_injection_and_reserved_names_are_refused() {
        for (name, value) in [
            ("X-A", "a\r\nInjected: 1"),
            ("X-A", "a\nb"),
            ("X A", "v"),
            ("", "v"),
            ("X:A", "v"),
            ("Host", "evil"),
            ("content-length", "0"),
            ("Connection", "keep-alive"),
        ] {
            let mut req = post();
            req.headers.push((name.into(), value.into()));
            assert!(
                matches!(req.to_wire(), Err(HttpError::BadHeader(_))),
                "{name:?}: {value:?}"
            );
        }
        let mut req = post();
        req.url = "https://host/a b".into();
        assert!(matches!(req.to_wire(), Err(HttpError::BadUrl(_))));
    }

    #[test]
    fn describe_and_debug_hide_headers_and_body() {
        let mut req = post();
        req.headers
            .push(("Authorization".into(), "Passport1.4 pwd=hunter2".into()));
        req.body = b"<Password>hunter2</Password>".to_vec();
        assert_eq!(req.describe(), "POST https://127.0.0.1:8443/RST.srf?a=b");
        let debug = format!("{req:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("Authorization"));
    }

    #[test]
    fn responses_parse_with_crlf_or_lf() {
        let raw = b"HTTP/1.1 200 OK\r\nPassporturls: DALogin=https://127.0.0.1:8443/login\r\n\
                    Content-Length: 7\r\nX-Empty:\r\n\r\n200: OKtrailing junk";
        let resp = HttpResponse::parse(raw).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("PassportURLs"),
            Some("DALogin=https://127.0.0.1:8443/login")
        );
        assert_eq!(resp.header("content-LENGTH"), Some("7"));
        assert_eq!(resp.header("x-empty"), Some(""));
        assert_eq!(resp.header("missing"), None);
        assert_eq!(resp.body, b"200: OK");
        let debug = format!("{resp:?}");
        assert!(
            debug.contains("Passporturls")
                && !debug.contains("DALogin")
                && !debug.contains("200: OK")
        );

        let resp =
            HttpResponse::parse(b"HTTP/1.0 302 Found\nLocation:  https://a/b \n\nbody").unwrap();
        assert_eq!(
            (resp.status, resp.header("location")),
            (302, Some("https://a/b"))
        );
        assert_eq!(resp.body, b"body");

        let resp = HttpResponse::parse(b"HTTP/1.1 401\r\n\r\n").unwrap();
        assert_eq!(
            (resp.status, resp.headers.len(), resp.body.len()),
            (401, 0, 0)
        );
    }

    #[test]
    fn a_response_given_away_parses_as_a_borrowed_one() {
        for raw in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n200: OKtrailing junk"[..],
            b"HTTP/1.0 302 Found\nLocation: https://a/b\n\nbody until close",
            b"HTTP/1.1 401\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWik",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
            b"SIP/2.0 200 OK\r\n\r\n",
        ] {
            assert_eq!(
                HttpResponse::parse_owned(raw.to_vec()),
                HttpResponse::parse(raw),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        let owned = HttpResponse::parse_owned(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef".to_vec(),
        );
        assert_eq!(owned.unwrap().body, b"abc");
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX: y\r\n\r\n";
        assert_eq!(HttpResponse::parse(raw).unwrap().body, b"Wikipedia");
        for bad in [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWik"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWikiX\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n",
        ] {
            assert!(
                HttpResponse::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn completeness_is_decided_by_the_framing() {
        let cases: [(&[u8], bool); 14] = [
            (b"", false),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n", false),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabc", false),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", true),
            (b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", true),
            (
                b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\nuntil close",
                false,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWi",
                false,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n",
                false,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\nX: y\r\n",
                false,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n\r\n",
                true,
            ),
            (b"<html>no header block yet", false),
            // Malformed or too large: nothing more is worth reading.
            (b"<html>\r\n\r\n", true),
            (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", true),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
                true,
            ),
        ];
        for (raw, complete) in cases {
            assert_eq!(
                HttpResponse::is_complete(raw),
                complete,
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        let mut huge = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        huge.resize(MAX_HEADER_BLOCK + 1, b'a');
        assert!(HttpResponse::is_complete(&huge));
    }

    #[test]
    fn malformed_responses_are_errors() {
        let cases: [(&[u8], HttpError); 11] = [
            (b"", HttpError::NoHeaderBlock),
            (b"<html>no headers at all</html>", HttpError::NoHeaderBlock),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
                HttpError::NoHeaderBlock,
            ),
            (b"\r\n\r\n", HttpError::BadStatusLine),
            (b"HTTP/1.1 2000 OK\r\n\r\n", HttpError::BadStatusLine),
            (b"HTTP/1.1 099 Low\r\n\r\n", HttpError::BadStatusLine),
            (b"SIP/2.0 200 OK\r\n\r\n", HttpError::BadStatusLine),
            (
                b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                HttpError::BadResponseHeader,
            ),
            (
                b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
                HttpError::BadResponseHeader,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                HttpError::BadBody,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                HttpError::BadResponseHeader,
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                HttpResponse::parse(raw),
                Err(expected),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn limits_are_enforced() {
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(
            HttpResponse::parse(&many),
            Err(HttpError::TooLarge("too many headers"))
        );

        let mut huge = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        huge.resize(MAX_HEADER_BLOCK * 2, b'a');
        assert_eq!(
            HttpResponse::parse(&huge),
            Err(HttpError::TooLarge("header block"))
        );

        let mut big_body = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        big_body.resize(big_body.len() + MAX_BODY_LEN + 1, b'x');
        assert_eq!(
            HttpResponse::parse(&big_body),
            Err(HttpError::TooLarge("body"))
        );
    }
}
