//! One byte stream to a server, for both the MSNP connections and HTTP(S): a plain TCP socket
//! connected through libpurple's proxy layer (`purple_proxy_connect`, then `purple_input_add`
//! watches on the non-blocking descriptor, read and written through [`TcpStream`]), or
//! libpurple's TLS (`purple_ssl_connect`, with its certificate checks).
//!
//! What happens on a stream is reported to the owning connection as a [`Happened`] for the
//! [`Peer`] the stream serves (`Connection::on_transport`).

use std::ffi::{c_char, c_void};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use msnp::session::{ConnId, HttpId};

use super::guard::entry;
use super::{connection::Connection, cstr, ffi};

/// What a stream serves, as the connection routes its events.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Peer {
    /// An MSNP connection of the session.
    Msnp(ConnId),
    /// An HTTP request of the session.
    Http(HttpId),
}

/// Something that happened on a stream.
pub(crate) enum Happened {
    /// Connected (and, for TLS, the handshake and certificate check passed).
    Connected,
    /// Bytes arrived.
    Data(Vec<u8>),
    /// The peer closed the stream.
    Closed,
    /// Everything queued was written (plain streams).
    Drained,
    /// Connecting, reading or writing failed; the text says why.
    Failed(String),
}

/// How much one read callback may take: `reads` reads of up to `chunk` bytes, so a busy stream
/// cannot hold the main loop for long. A `shared` budget is shared by the owner's MSNP
/// connections: GLib dispatches every ready stream in one main-loop iteration, so with `n`
/// switchboards each callback takes a `1/n` share (at least [`MIN_SHARED_READ`]).
#[derive(Clone, Copy)]
pub(crate) struct ReadBudget {
    pub(crate) chunk: usize,
    pub(crate) reads: usize,
    pub(crate) shared: bool,
}

/// The least a callback reads from a stream with a shared budget (a few messages).
const MIN_SHARED_READ: usize = 2 * 1024;

/// The libpurple side of a stream.
enum Link {
    /// Plain TCP: the pending connect, then the connected stream (owned: dropping closes it).
    Plain {
        connecting: *mut ffi::PurpleProxyConnectData,
        stream: Option<TcpStream>,
    },
    /// TLS: libpurple's connection (NULL once libpurple closed it after an error).
    Tls { gsc: *mut ffi::PurpleSslConnection },
}

/// Who hears what happens on a stream.
#[derive(Clone, Copy)]
enum Owner {
    /// An account's connection, for the peer the stream serves.
    Connection(*const Connection, Peer),
    /// No account any more: the last request of a closed gateway connection (`farewell`).
    Farewell,
}

/// A stream and its libpurple handles. Boxed: its address is the callbacks' user data, and
/// dropping it cancels every callback before the memory goes.
pub(crate) struct Transport {
    owner: Owner,
    link: Link,
    connected: bool,
    budget: ReadBudget,
    /// The plain stream's read watch (libpurple owns the TLS one), and the write watch.
    read_watch: u32,
    write_watch: u32,
    outgoing: Vec<u8>,
}

impl Transport {
    /// Starts connecting to `host:port` through the account's proxy settings, with TLS when
    /// `tls`. Bytes given to [`Transport::send`] meanwhile are written once connected.
    pub(crate) fn connect(
        owner: &Connection,
        peer: Peer,
        host: &str,
        port: u16,
        tls: bool,
        budget: ReadBudget,
    ) -> Result<Box<Transport>, String> {
        let via = (owner.proxy_handle(), owner.account());
        let owner = Owner::Connection(owner, peer);
        Transport::open(owner, via, host, port, tls, budget)
    }

    /// As [`Transport::connect`], for a stream that belongs to no account (reported to
    /// `farewell`): through the global proxy settings, since the account may be deleted
    /// while the stream is connecting.
    pub(crate) fn connect_detached(
        host: &str,
        port: u16,
        tls: bool,
        budget: ReadBudget,
    ) -> Result<Box<Transport>, String> {
        let via = (super::farewell::proxy_handle(), std::ptr::null_mut());
        Transport::open(Owner::Farewell, via, host, port, tls, budget)
    }

    /// Starts connecting for `owner`, the connect registered under `via` (proxy handle and
    /// account, NULL for the global proxy settings).
    fn open(
        owner: Owner,
        via: (*mut c_void, *mut ffi::PurpleAccount),
        host: &str,
        port: u16,
        tls: bool,
        budget: ReadBudget,
    ) -> Result<Box<Transport>, String> {
        let (handle, account) = via;
        let link = match tls {
            true => Link::Tls {
                gsc: std::ptr::null_mut(),
            },
            false => Link::Plain {
                connecting: std::ptr::null_mut(),
                stream: None,
            },
        };
        let mut transport = Box::new(Transport {
            owner,
            link,
            connected: false,
            budget,
            read_watch: 0,
            write_watch: 0,
            outgoing: Vec::new(),
        });
        let data: *mut Transport = &mut *transport;
        let host_c = cstr::to_cstring(host);
        let port_c = i32::from(port);
        // SAFETY: account (NULL or the connection's) and the proxy handle are live for the
        // connection's lifetime, and libpurple reads the account only while connecting; the callback data is the boxed Transport, which stays at this address until dropped,
        // and dropping cancels the pending connect (or closes the TLS connection) first.
        let started = unsafe {
            match &mut transport.link {
                Link::Tls { gsc } => {
                    *gsc = ffi::purple_ssl_connect(
                        account,
                        host_c.as_ptr(),
                        port_c,
                        Some(tls_connected_cb),
                        Some(tls_error_cb),
                        data.cast(),
                    );
                    !gsc.is_null()
                }
                Link::Plain { connecting, .. } => {
                    *connecting = ffi::purple_proxy_connect(
                        handle,
                        account,
                        host_c.as_ptr(),
                        port_c,
                        Some(plain_connected_cb),
                        data.cast(),
                    );
                    !connecting.is_null()
                }
            }
        };
        match started {
            true => Ok(transport),
            false => Err(format!("Unable to connect to {host}:{port}")),
        }
    }

    /// A stream accepted on a listening socket, connected already.
    pub(crate) fn accepted(
        owner: &Connection,
        peer: Peer,
        stream: TcpStream,
        budget: ReadBudget,
    ) -> Result<Box<Transport>, String> {
        stream
            .set_nonblocking(true)
            .map_err(|e| format!("Accepted socket: {e}"))?;
        let mut transport = Box::new(Transport {
            owner: Owner::Connection(owner, peer),
            link: Link::Plain {
                connecting: std::ptr::null_mut(),
                stream: Some(stream),
            },
            connected: false,
            budget,
            read_watch: 0,
            write_watch: 0,
            outgoing: Vec::new(),
        });
        match transport.on_connected() {
            Happened::Failed(e) => Err(e),
            _ => Ok(transport),
        }
    }

    /// Whether the stream is connected (the request or bytes given may have gone out).
    pub(crate) fn is_connected(&self) -> bool {
        self.connected
    }

    /// From now on, what happens on the stream goes to `farewell`, not to its connection,
    /// which is being freed.
    pub(crate) fn detach(&mut self) {
        self.owner = Owner::Farewell;
    }

    /// Reports [`Happened::Drained`] from the main loop once everything queued is written
    /// (at once if it is: the next time the stream is writable).
    pub(crate) fn watch_drain(&mut self) {
        if self.connected {
            self.set_write_watch(true);
        }
    }

    /// Queues bytes and writes as much as the stream takes now.
    pub(crate) fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.outgoing.extend_from_slice(bytes);
        self.flush()
    }

    /// Writes what the stream takes of the queue; watches for writability while some is left.
    fn flush(&mut self) -> Result<(), String> {
        if !self.connected {
            return Ok(()); // written once connected
        }
        while !self.outgoing.is_empty() {
            match self.write_some() {
                Ok(n) => drop(self.outgoing.drain(..n)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("Write error: {e}")),
            }
        }
        self.set_write_watch(!self.outgoing.is_empty());
        Ok(())
    }

    fn write_some(&mut self) -> std::io::Result<usize> {
        match &mut self.link {
            Link::Plain { stream, .. } => match stream {
                Some(stream) => stream.write(&self.outgoing),
                None => Err(ErrorKind::NotConnected.into()),
            },
            Link::Tls { gsc } if gsc.is_null() => Err(ErrorKind::NotConnected.into()),
            Link::Tls { gsc } => {
                // SAFETY: gsc is a live, connected TLS connection; the pointer/length
                // describe `outgoing`. The size_t result is -1 on error.
                let n = unsafe {
                    ffi::purple_ssl_write(*gsc, self.outgoing.as_ptr().cast(), self.outgoing.len())
                } as isize;
                usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
            }
        }
    }

    fn read_some(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.link {
            Link::Plain { stream, .. } => match stream {
                Some(stream) => stream.read(buf),
                None => Err(ErrorKind::NotConnected.into()),
            },
            Link::Tls { gsc } if gsc.is_null() => Err(ErrorKind::NotConnected.into()),
            Link::Tls { gsc } => {
                // SAFETY: gsc is a live, connected TLS connection; buf is writable for its
                // length. The size_t result is -1 on error.
                let n = unsafe { ffi::purple_ssl_read(*gsc, buf.as_mut_ptr().cast(), buf.len()) }
                    as isize;
                usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
            }
        }
    }

    /// The descriptor under the stream, once connected.
    fn fd(&self) -> i32 {
        match &self.link {
            Link::Plain { stream, .. } => stream.as_ref().map_or(-1, |s| s.as_raw_fd()),
            // SAFETY: a non-null gsc is live; fd is a plain field.
            Link::Tls { gsc } if !gsc.is_null() => unsafe { (**gsc).fd },
            Link::Tls { .. } => -1,
        }
    }

    fn set_write_watch(&mut self, wanted: bool) {
        if wanted && self.write_watch == 0 {
            let data: *mut Transport = self;
            // SAFETY: the descriptor is open; data is this boxed Transport, and Drop removes
            // the watch.
            self.write_watch = unsafe {
                ffi::purple_input_add(
                    self.fd(),
                    ffi::PURPLE_INPUT_WRITE,
                    Some(writable_cb),
                    data.cast(),
                )
            };
        } else if !wanted && self.write_watch != 0 {
            // SAFETY: the handle came from purple_input_add and was not removed yet.
            unsafe { ffi::purple_input_remove(self.write_watch) };
            self.write_watch = 0;
        }
    }

    /// The stream is up: watch for reads and write what was queued meanwhile.
    fn on_connected(&mut self) -> Happened {
        self.connected = true;
        let data: *mut Transport = self;
        // SAFETY: the stream is connected; data is this boxed Transport: Drop removes the
        // plain watch, and purple_ssl_close (in Drop) removes the TLS one.
        unsafe {
            match &self.link {
                Link::Plain { stream, .. } => {
                    let fd = stream.as_ref().map_or(-1, |s| s.as_raw_fd());
                    self.read_watch = ffi::purple_input_add(
                        fd,
                        ffi::PURPLE_INPUT_READ,
                        Some(readable_cb),
                        data.cast(),
                    );
                }
                Link::Tls { gsc } => {
                    ffi::purple_ssl_input_add(*gsc, Some(tls_readable_cb), data.cast())
                }
            }
        }
        match self.flush() {
            Ok(()) => Happened::Connected,
            Err(e) => Happened::Failed(e),
        }
    }

    /// Reads what is available now, within the budget.
    fn read(&mut self) -> Happened {
        let limit = self.read_limit();
        let mut data = Vec::new();
        while data.len() < limit {
            let start = data.len();
            let want = self.budget.chunk.min(limit - start);
            data.resize(start + want, 0);
            let result = self.read_some(&mut data[start..]);
            let n = match result {
                Ok(n) => n,
                Err(e) => {
                    data.truncate(start);
                    match e.kind() {
                        ErrorKind::WouldBlock => break,
                        ErrorKind::Interrupted => continue,
                        _ if data.is_empty() => {
                            return Happened::Failed(format!("Read error: {e}"))
                        }
                        _ => break, // deliver what we have; the next callback sees the error again
                    }
                }
            };
            data.truncate(start + n);
            if n == 0 {
                if data.is_empty() {
                    return Happened::Closed;
                }
                break; // the next callback sees the end again
            }
            if n < want {
                break;
            }
        }
        Happened::Data(data)
    }

    /// What the peer sent and was not read yet (within the read budget): after a failed write,
    /// its last words before it closed, such as `OUT OTH`.
    pub(crate) fn unread(&mut self) -> Vec<u8> {
        match self.read() {
            Happened::Data(data) => data,
            _ => Vec::new(),
        }
    }

    /// The most this callback reads.
    fn read_limit(&self) -> usize {
        let total = self.budget.chunk * self.budget.reads;
        let Owner::Connection(owner, _) = self.owner else {
            return total;
        };
        if !self.budget.shared {
            return total;
        }
        // SAFETY: the owning connection outlives its transports.
        let streams = unsafe { &*owner }.msnp_streams();
        // The notification server is mostly quiet while switchboards are busy: one switchboard
        // alone keeps the whole budget.
        let busy = streams.saturating_sub(1).max(1);
        (total / busy).max(MIN_SHARED_READ)
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        // SAFETY: each handle is live (non-null/non-zero) until released here exactly once;
        // the plain stream closes its descriptor when dropped with the struct.
        unsafe {
            if self.read_watch != 0 {
                ffi::purple_input_remove(self.read_watch);
            }
            if self.write_watch != 0 {
                ffi::purple_input_remove(self.write_watch);
            }
            match &self.link {
                Link::Plain { connecting, .. } if !connecting.is_null() => {
                    ffi::purple_proxy_connect_cancel(*connecting)
                }
                Link::Tls { gsc } if !gsc.is_null() => ffi::purple_ssl_close(*gsc),
                _ => {}
            }
        }
    }
}

/// Runs `f` on the transport behind `data` under its connection's guard, and reports what
/// happened (which may free the transport: `f`'s borrow has ended by then).
fn with_transport(data: *mut c_void, f: impl FnOnce(&mut Transport) -> Option<Happened>) {
    let transport = data as *mut Transport;
    // SAFETY: data is a live boxed Transport: every callback is cancelled before it is freed.
    let owner = unsafe { (*transport).owner };
    let Owner::Connection(owner, peer) = owner else {
        // SAFETY: as above.
        if let Some(happened) = f(unsafe { &mut *transport }) {
            super::farewell::on_transport(transport, happened);
        }
        return;
    };
    // SAFETY: the connection outlives its transports.
    let owner = unsafe { &*owner };
    owner.guarded(|conn| {
        // SAFETY: as above.
        if let Some(happened) = f(unsafe { &mut *transport }) {
            conn.on_transport(peer, happened);
        }
    });
}

/// `PurpleProxyConnectFunction`: the plain connect attempt finished.
unsafe extern "C" fn plain_connected_cb(data: *mut c_void, fd: i32, error: *const c_char) {
    entry((), || {
        with_transport(data, |transport| {
            let Link::Plain { connecting, stream } = &mut transport.link else {
                return None;
            };
            *connecting = std::ptr::null_mut(); // libpurple frees it after this callback
            if fd < 0 {
                // SAFETY: error is NULL or a NUL-terminated string for the duration of the call.
                let text = unsafe { cstr::to_string(error) };
                return Some(Happened::Failed(
                    text.unwrap_or_else(|| "Unable to connect".into()),
                ));
            }
            // SAFETY: libpurple hands the connected descriptor over to us; the stream owns
            // (and closes) it from now on.
            *stream = Some(TcpStream::from(unsafe { OwnedFd::from_raw_fd(fd) }));
            Some(transport.on_connected())
        })
    })
}

/// `PurpleSslInputFunction`: the TLS handshake (and certificate check) succeeded.
unsafe extern "C" fn tls_connected_cb(
    data: *mut c_void,
    _gsc: *mut ffi::PurpleSslConnection,
    _cond: ffi::PurpleInputCondition,
) {
    entry((), || {
        with_transport(data, |transport| Some(transport.on_connected()))
    })
}

/// `PurpleSslErrorFunction`: libpurple closes `gsc` itself after this returns.
unsafe extern "C" fn tls_error_cb(
    _gsc: *mut ffi::PurpleSslConnection,
    error: ffi::PurpleSslErrorType,
    data: *mut c_void,
) {
    entry((), || {
        with_transport(data, |transport| {
            transport.link = Link::Tls {
                gsc: std::ptr::null_mut(),
            };
            // SAFETY: purple_ssl_strerror returns a static string.
            let text = unsafe { cstr::to_string(ffi::purple_ssl_strerror(error)) };
            Some(Happened::Failed(text.unwrap_or_default()))
        })
    })
}

/// `PurpleInputFunction`: the plain stream is readable.
unsafe extern "C" fn readable_cb(data: *mut c_void, _fd: i32, _cond: ffi::PurpleInputCondition) {
    entry((), || {
        with_transport(data, |transport| Some(transport.read()))
    })
}

/// `PurpleSslInputFunction`: TLS data is readable.
unsafe extern "C" fn tls_readable_cb(
    data: *mut c_void,
    _gsc: *mut ffi::PurpleSslConnection,
    _cond: ffi::PurpleInputCondition,
) {
    entry((), || {
        with_transport(data, |transport| Some(transport.read()))
    })
}

/// `PurpleInputFunction`: the stream can take more of the queue.
unsafe extern "C" fn writable_cb(data: *mut c_void, _fd: i32, _cond: ffi::PurpleInputCondition) {
    entry((), || {
        with_transport(data, |transport| match transport.flush() {
            Err(e) => Some(Happened::Failed(e)),
            Ok(()) if transport.outgoing.is_empty() => Some(Happened::Drained),
            Ok(()) => None,
        })
    })
}
