//! HTTP(S) requests on a [`Transport`] (libpurple TLS for HTTPS, a plain socket for HTTP, both
//! through the account's proxy): the request is written, the response collected until complete.
//!
//! libpurple's own URL fetcher is not used because it writes every response header to the debug
//! log, and the Passport login answer carries the ticket in a header.

use msnp::http::{HttpRequest, Scheme, Url};
use msnp::session::HttpId;

use super::connection::Connection;
use super::transport::{Happened, Peer, ReadBudget, Transport};

/// Largest response accepted (the MSNP18 address book of a 5,000-contact account is ~7 MB).
const MAX_RESPONSE: usize = 16 * 1024 * 1024;
/// Reads per callback: up to 16 of 64 KiB.
const BUDGET: ReadBudget = ReadBudget {
    chunk: 64 * 1024,
    reads: 16,
};

/// One request in flight: its stream and the response so far.
pub(crate) struct Fetch {
    /// Owned so that dropping the fetch (done, failed or cancelled) closes the stream.
    _stream: Box<Transport>,
    response: Vec<u8>,
}

impl Fetch {
    /// Starts `request`; the result arrives in `Connection::on_http_done`.
    pub(crate) fn start(owner: &Connection, id: HttpId, request: &HttpRequest) {
        log::debug!("HTTP {}", request.describe());
        let prepared = Url::parse(&request.url).and_then(|url| Ok((url, request.to_wire()?)));
        let (url, wire) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => return owner.fetch_failed_at_once(id, e.to_string()),
        };
        let tls = matches!(url.scheme, Scheme::Https);
        let started = Transport::connect(owner, Peer::Http(id), &url.host, url.port, tls, BUDGET)
            .and_then(|mut transport| {
                transport.send(&wire)?;
                Ok(transport)
            });
        match started {
            Ok(transport) => owner.add_fetch(
                id,
                Fetch {
                    _stream: transport,
                    response: Vec::new(),
                },
            ),
            Err(_) => {
                owner.fetch_failed_at_once(id, format!("Unable to connect to {}", url.authority()))
            }
        }
    }

    /// Takes what happened on the stream; the result once the response is over.
    pub(crate) fn on_transport(&mut self, happened: Happened) -> Option<Result<Vec<u8>, String>> {
        match happened {
            Happened::Connected => None,
            Happened::Failed(e) => Some(Err(e)),
            Happened::Closed => Some(Ok(std::mem::take(&mut self.response))),
            Happened::Data(bytes) => {
                if self.response.len() + bytes.len() > MAX_RESPONSE {
                    return Some(Err(format!(
                        "HTTP response larger than {MAX_RESPONSE} bytes"
                    )));
                }
                self.response.extend_from_slice(&bytes);
                self.complete_by_length()
                    .then(|| Ok(std::mem::take(&mut self.response)))
            }
        }
    }

    /// Whether the response is complete without waiting for the peer to close: the header block
    /// is in and a `Content-Length` body has fully arrived.
    fn complete_by_length(&self) -> bool {
        let Some(end) = self.response.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&self.response[..end]);
        let length = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        });
        length.is_some_and(|len| self.response.len() >= end + 4 + len)
    }
}
