//! HTTP(S) requests on libpurple's connections: `purple_ssl_connect` for HTTPS (libpurple's TLS
//! and certificate checks) and `purple_proxy_connect` for HTTP, both through the account's proxy.
//!
//! libpurple's own URL fetcher is not used because it writes every response header to the debug
//! log, and the Passport login answer carries the ticket in a header.

use std::ffi::{c_char, c_void};

use msnp::http::{HttpRequest, Scheme, Url};
use msnp::session::HttpId;

use super::guard::entry;
use super::{connection::Connection, cstr, ffi};

/// Largest response accepted (the MSNP18 address book of a 5,000-contact account is ~7 MB).
const MAX_RESPONSE: usize = 16 * 1024 * 1024;
/// Bytes read per call; a callback reads at most [`READS_PER_CALLBACK`] times.
const READ_CHUNK: usize = 64 * 1024;
const READS_PER_CALLBACK: usize = 16;

/// One request in flight. Boxed: its address is the callbacks' user data.
pub(crate) struct Fetch {
    owner: *const Connection,
    id: HttpId,
    /// HTTPS: the TLS connection (NULL once closed or failed).
    tls: *mut ffi::PurpleSslConnection,
    /// HTTP: the pending connect, then the descriptor and its watch.
    connecting: *mut ffi::PurpleProxyConnectData,
    fd: i32,
    watch: u32,
    request: Vec<u8>,
    written: usize,
    response: Vec<u8>,
}

/// What a transport read produced.
enum Read {
    /// Some bytes (maybe none); the peer may send more.
    More,
    /// The peer closed the connection.
    Eof,
    /// A read error.
    Failed(String),
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
        let mut fetch = Box::new(Fetch {
            owner,
            id,
            tls: std::ptr::null_mut(),
            connecting: std::ptr::null_mut(),
            fd: -1,
            watch: 0,
            request: wire,
            written: 0,
            response: Vec::new(),
        });
        let data: *mut Fetch = &mut *fetch;
        let host = cstr::to_cstring(&url.host);
        let port = i32::from(url.port);
        let started = match url.scheme {
            // SAFETY: account and gc are live; data is the boxed Fetch, owned by the connection
            // table from below on, whose Drop closes/cancels the handle before freeing it.
            Scheme::Https => unsafe {
                fetch.tls = ffi::purple_ssl_connect(
                    owner.account(),
                    host.as_ptr(),
                    port,
                    Some(tls_connected_cb),
                    Some(tls_error_cb),
                    data.cast(),
                );
                !fetch.tls.is_null()
            },
            // SAFETY: as above.
            Scheme::Http => unsafe {
                fetch.connecting = ffi::purple_proxy_connect(
                    owner.proxy_handle(),
                    owner.account(),
                    host.as_ptr(),
                    port,
                    Some(plain_connected_cb),
                    data.cast(),
                );
                !fetch.connecting.is_null()
            },
        };
        if started {
            owner.add_fetch(id, fetch);
        } else {
            owner.fetch_failed_at_once(id, format!("Unable to connect to {}", url.authority()));
        }
    }

    /// Writes what the transport takes of the request now. `Ok(true)` once all is written.
    fn write_request(&mut self) -> Result<bool, String> {
        while self.written < self.request.len() {
            let rest = &self.request[self.written..];
            let n = if self.tls.is_null() {
                // SAFETY: fd is our connected descriptor; the pointer/length describe `rest`.
                unsafe { libc::write(self.fd, rest.as_ptr().cast(), rest.len()) }
            } else {
                // SAFETY: tls is a live, connected TLS connection.
                unsafe {
                    ffi::purple_ssl_write(self.tls, rest.as_ptr().cast(), rest.len()) as isize
                }
            };
            if n < 0 {
                let err = std::io::Error::last_os_error();
                return match err.kind() {
                    std::io::ErrorKind::WouldBlock => Ok(false),
                    std::io::ErrorKind::Interrupted => continue,
                    _ => Err(format!("Write error: {err}")),
                };
            }
            self.written += n as usize;
        }
        Ok(true)
    }

    /// Reads what is available now into `response`.
    fn read_response(&mut self) -> Read {
        let mut buf = vec![0u8; READ_CHUNK];
        for _ in 0..READS_PER_CALLBACK {
            let n = if self.tls.is_null() {
                // SAFETY: fd is our connected descriptor; buf has READ_CHUNK bytes.
                unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) }
            } else {
                // SAFETY: tls is a live, connected TLS connection; buf has READ_CHUNK bytes.
                unsafe {
                    ffi::purple_ssl_read(self.tls, buf.as_mut_ptr().cast(), buf.len()) as isize
                }
            };
            if n == 0 {
                return Read::Eof;
            }
            if n < 0 {
                let err = std::io::Error::last_os_error();
                match err.kind() {
                    std::io::ErrorKind::WouldBlock => return Read::More,
                    std::io::ErrorKind::Interrupted => continue,
                    _ => return Read::Failed(format!("Read error: {err}")),
                }
            }
            if self.response.len() + n as usize > MAX_RESPONSE {
                return Read::Failed(format!("HTTP response larger than {MAX_RESPONSE} bytes"));
            }
            self.response.extend_from_slice(&buf[..n as usize]);
        }
        Read::More
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

impl Drop for Fetch {
    fn drop(&mut self) {
        // SAFETY: each handle is live (non-null/non-zero) until released here exactly once.
        unsafe {
            if !self.connecting.is_null() {
                ffi::purple_proxy_connect_cancel(self.connecting);
            }
            if self.watch != 0 {
                ffi::purple_input_remove(self.watch);
            }
            if !self.tls.is_null() {
                ffi::purple_ssl_close(self.tls); // also closes its descriptor
            } else if self.fd >= 0 {
                libc::close(self.fd);
            }
        }
    }
}

/// Runs `f` on the fetch behind `data` under its connection's panic guard. `f` returns the
/// result once the fetch is over; it is then reported (which frees the fetch).
fn with_fetch(data: *mut c_void, f: impl FnOnce(&mut Fetch) -> Option<Result<Vec<u8>, String>>) {
    let fetch = data as *mut Fetch;
    // SAFETY: data is a live boxed Fetch: every callback is cancelled before it is freed.
    let (owner, id) = unsafe { ((*fetch).owner, (*fetch).id) };
    // SAFETY: the connection outlives its fetches.
    let owner = unsafe { &*owner };
    owner.guarded(|conn| {
        // SAFETY: as above; the reference ends before the fetch is reported and freed.
        let outcome = f(unsafe { &mut *fetch });
        if let Some(result) = outcome {
            conn.on_http_done(id, result);
        }
    });
}

/// After the request is written: waits for readability and collects the response.
fn on_readable(fetch: &mut Fetch) -> Option<Result<Vec<u8>, String>> {
    match fetch.read_response() {
        Read::Failed(e) => Some(Err(e)),
        Read::Eof => Some(Ok(std::mem::take(&mut fetch.response))),
        Read::More if fetch.complete_by_length() => Some(Ok(std::mem::take(&mut fetch.response))),
        Read::More => None,
    }
}

/// Writes more of the request; once written, switches the watch to reading.
fn on_writable(fetch: &mut Fetch, data: *mut c_void) -> Option<Result<Vec<u8>, String>> {
    match fetch.write_request() {
        Err(e) => Some(Err(e)),
        Ok(false) if fetch.watch == 0 => {
            // SAFETY: fd is the connected descriptor; Drop removes the watch.
            fetch.watch = unsafe {
                ffi::purple_input_add(fetch.fd, ffi::PURPLE_INPUT_WRITE, Some(writable_cb), data)
            };
            None
        }
        Ok(false) => None,
        Ok(true) => {
            if fetch.watch != 0 {
                // SAFETY: the handle came from purple_input_add and is removed once.
                unsafe { ffi::purple_input_remove(fetch.watch) };
                fetch.watch = 0;
            }
            // SAFETY: as above; for TLS, libpurple owns the watch and removes it on close.
            unsafe {
                if fetch.tls.is_null() {
                    fetch.watch = ffi::purple_input_add(
                        fetch.fd,
                        ffi::PURPLE_INPUT_READ,
                        Some(readable_cb),
                        data,
                    );
                } else {
                    ffi::purple_ssl_input_add(fetch.tls, Some(tls_readable_cb), data);
                }
            }
            None
        }
    }
}

/// `PurpleSslInputFunction`: the TLS handshake (and certificate check) succeeded.
unsafe extern "C" fn tls_connected_cb(
    data: *mut c_void,
    gsc: *mut ffi::PurpleSslConnection,
    _cond: ffi::PurpleInputCondition,
) {
    entry((), || {
        with_fetch(data, |fetch| {
            // SAFETY: gsc is our live TLS connection.
            fetch.fd = unsafe { (*gsc).fd };
            on_writable(fetch, data)
        });
    })
}

/// `PurpleSslErrorFunction`: libpurple closes `gsc` itself after this returns.
unsafe extern "C" fn tls_error_cb(
    _gsc: *mut ffi::PurpleSslConnection,
    error: ffi::PurpleSslErrorType,
    data: *mut c_void,
) {
    entry((), || {
        with_fetch(data, |fetch| {
            fetch.tls = std::ptr::null_mut();
            fetch.fd = -1; // owned by the TLS connection
                           // SAFETY: purple_ssl_strerror returns a static string.
            let text =
                unsafe { cstr::to_string(ffi::purple_ssl_strerror(error)) }.unwrap_or_default();
            Some(Err(text))
        });
    })
}

/// `PurpleSslInputFunction`: TLS data is readable.
unsafe extern "C" fn tls_readable_cb(
    data: *mut c_void,
    _gsc: *mut ffi::PurpleSslConnection,
    _cond: ffi::PurpleInputCondition,
) {
    entry((), || {
        with_fetch(data, on_readable);
    })
}

/// `PurpleProxyConnectFunction` for plain HTTP.
unsafe extern "C" fn plain_connected_cb(data: *mut c_void, fd: i32, error: *const c_char) {
    entry((), || {
        with_fetch(data, |fetch| {
            fetch.connecting = std::ptr::null_mut();
            if fd < 0 {
                // SAFETY: error is NULL or a C string valid during the callback.
                return Some(Err(
                    unsafe { cstr::to_string(error) }.unwrap_or_else(|| "Unable to connect".into())
                ));
            }
            fetch.fd = fd;
            on_writable(fetch, data)
        });
    })
}

/// `PurpleInputFunction`: the plain socket can take more of the request.
unsafe extern "C" fn writable_cb(data: *mut c_void, _fd: i32, _cond: ffi::PurpleInputCondition) {
    entry((), || {
        with_fetch(data, |fetch| on_writable(fetch, data));
    })
}

/// `PurpleInputFunction`: the plain socket is readable.
unsafe extern "C" fn readable_cb(data: *mut c_void, _fd: i32, _cond: ffi::PurpleInputCondition) {
    entry((), || {
        with_fetch(data, on_readable);
    })
}
