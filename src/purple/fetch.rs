//! HTTP(S) requests on a [`Transport`] (libpurple TLS for HTTPS, a plain socket for HTTP, both
//! through the account's proxy): the request is written, the response collected until complete.
//!
//! libpurple's own URL fetcher is not used because it writes every response header to the debug
//! log, and the Passport login answer carries the ticket in a header.

use msnp::http::{HttpRequest, HttpResponse, Scheme, Url};
use msnp::session::HttpId;

use super::connection::Connection;
use super::transport::{Happened, Peer, ReadBudget, Transport};

/// Largest response accepted (the MSNP18 address book of a 5,000-contact account is ~7 MB).
const MAX_RESPONSE: usize = 16 * 1024 * 1024;
/// Reads per callback: up to 4 of 64 KiB, so that the callback that completes a multi-megabyte
/// answer has time left for handing it to the core.
const BUDGET: ReadBudget = ReadBudget {
    chunk: 64 * 1024,
    reads: 4,
    shared: false,
};

/// One request in flight: its stream and the response so far.
pub(crate) struct Fetch {
    /// Owned so that dropping the fetch (done, failed or cancelled) closes the stream.
    stream: Box<Transport>,
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
                    stream: transport,
                    response: Vec::new(),
                },
            ),
            Err(_) => {
                owner.fetch_failed_at_once(id, format!("Unable to connect to {}", url.authority()))
            }
        }
    }

    /// Starts `request` for no account (see [`Transport::connect_detached`]); what happens on
    /// it goes to `farewell`.
    pub(crate) fn start_detached(request: &HttpRequest) -> Result<Fetch, String> {
        log::debug!("HTTP {}", request.describe());
        let url = Url::parse(&request.url).map_err(|e| e.to_string())?;
        let wire = request.to_wire().map_err(|e| e.to_string())?;
        let tls = matches!(url.scheme, Scheme::Https);
        let mut stream = Transport::connect_detached(&url.host, url.port, tls, BUDGET)?;
        stream.send(&wire)?;
        Ok(Fetch {
            stream,
            response: Vec::new(),
        })
    }

    /// Whether the request may have reached the server (its stream is connected).
    pub(crate) fn is_out(&self) -> bool {
        self.stream.is_connected()
    }

    /// Hands the stream over to `farewell` (its connection is being freed).
    pub(crate) fn detach(&mut self) {
        self.stream.detach();
    }

    /// Whether `stream` is this fetch's.
    pub(crate) fn runs_on(&self, stream: *const Transport) -> bool {
        std::ptr::eq(&*self.stream, stream)
    }

    /// Takes what happened on the stream; the result once the response is over.
    pub(crate) fn on_transport(&mut self, happened: Happened) -> Option<Result<Vec<u8>, String>> {
        match happened {
            Happened::Connected | Happened::Drained => None,
            Happened::Failed(e) => Some(Err(e)),
            Happened::Closed => Some(Ok(std::mem::take(&mut self.response))),
            Happened::Data(bytes) => {
                if self.response.len() + bytes.len() > MAX_RESPONSE {
                    return Some(Err(format!(
                        "HTTP response larger than {MAX_RESPONSE} bytes"
                    )));
                }
                self.response.extend_from_slice(&bytes);
                // The core decides: Content-Length, the last chunk, or (later) the close.
                HttpResponse::is_complete(&self.response)
                    .then(|| Ok(std::mem::take(&mut self.response)))
            }
        }
    }
}
