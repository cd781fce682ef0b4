//! One TCP connection of a session: connected through libpurple's proxy layer, read and written
//! with `purple_input_add` watches on a non-blocking descriptor.

use std::ffi::c_void;

use msnp::session::ConnId;

use super::guard::entry;
use super::{connection::Connection, cstr, ffi};

/// Bytes read per `read()` call; a callback reads at most [`READS_PER_CALLBACK`] times, so a
/// busy socket (about a hundred messages per 16 KiB) cannot hold the main loop for long.
const READ_CHUNK: usize = 16 * 1024;
const READS_PER_CALLBACK: usize = 2;

/// A connection's OS and libpurple handles. Boxed: its address is the callbacks' user data.
pub(crate) struct Socket {
    owner: *const Connection,
    id: ConnId,
    connecting: *mut ffi::PurpleProxyConnectData,
    fd: i32,
    read_watch: u32,
    write_watch: u32,
    outgoing: Vec<u8>,
}

/// What a read callback found.
pub(crate) enum ReadResult {
    /// Bytes arrived (possibly none, on a spurious wake-up).
    Data(Vec<u8>),
    /// The peer closed the connection or the read failed.
    Lost(String),
}

impl Socket {
    /// Starts connecting to `host:port` through the account's proxy settings. `None` when
    /// libpurple refused at once (the reason is in its debug log).
    pub(crate) fn connect(
        owner: &Connection,
        id: ConnId,
        host: &str,
        port: u16,
    ) -> Result<Box<Socket>, String> {
        let mut socket = Box::new(Socket {
            owner,
            id,
            connecting: std::ptr::null_mut(),
            fd: -1,
            read_watch: 0,
            write_watch: 0,
            outgoing: Vec::new(),
        });
        let host_c = cstr::to_cstring(host);
        let data: *mut Socket = &mut *socket;
        // SAFETY: gc and account are live for the connection's lifetime; the callback data is the
        // boxed Socket, which stays at this address until it is dropped, and dropping cancels the
        // pending connect first.
        let pending = unsafe {
            ffi::purple_proxy_connect(
                owner.proxy_handle(),
                owner.account(),
                host_c.as_ptr(),
                i32::from(port),
                Some(connected_cb),
                data.cast(),
            )
        };
        if pending.is_null() {
            return Err(format!("Unable to connect to {host}:{port}"));
        }
        socket.connecting = pending;
        Ok(socket)
    }

    /// Queues bytes and writes as much as the socket takes now.
    pub(crate) fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.outgoing.extend_from_slice(bytes);
        self.flush()
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.fd < 0 {
            return Ok(()); // still connecting: sent once connected
        }
        while !self.outgoing.is_empty() {
            // SAFETY: fd is our open descriptor; the pointer/length describe `outgoing`.
            let n =
                unsafe { libc::write(self.fd, self.outgoing.as_ptr().cast(), self.outgoing.len()) };
            if n < 0 {
                let err = std::io::Error::last_os_error();
                match err.kind() {
                    std::io::ErrorKind::WouldBlock => break,
                    std::io::ErrorKind::Interrupted => continue,
                    _ => return Err(format!("Write error: {err}")),
                }
            }
            self.outgoing.drain(..n as usize);
        }
        self.set_write_watch(!self.outgoing.is_empty());
        Ok(())
    }

    fn set_write_watch(&mut self, wanted: bool) {
        if wanted && self.write_watch == 0 {
            let data: *mut Socket = self;
            // SAFETY: fd is open; data is this boxed Socket, and Drop removes the watch.
            self.write_watch = unsafe {
                ffi::purple_input_add(
                    self.fd,
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

    /// Reads what is available now.
    pub(crate) fn read(&mut self) -> ReadResult {
        let mut data = Vec::new();
        for _ in 0..READS_PER_CALLBACK {
            let start = data.len();
            data.resize(start + READ_CHUNK, 0);
            // SAFETY: fd is open and the destination is the READ_CHUNK bytes just reserved.
            let n = unsafe { libc::read(self.fd, data[start..].as_mut_ptr().cast(), READ_CHUNK) };
            if n < 0 {
                data.truncate(start);
                let err = std::io::Error::last_os_error();
                match err.kind() {
                    std::io::ErrorKind::WouldBlock => break,
                    std::io::ErrorKind::Interrupted => continue,
                    _ if data.is_empty() => return ReadResult::Lost(format!("Read error: {err}")),
                    _ => break, // deliver what we have; the next callback sees the error again
                }
            }
            data.truncate(start + n as usize);
            if n == 0 {
                if data.is_empty() {
                    return ReadResult::Lost("The server closed the connection".into());
                }
                break;
            }
            if (n as usize) < READ_CHUNK {
                break;
            }
        }
        ReadResult::Data(data)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: each handle is live (non-null/non-zero) until removed here exactly once.
        unsafe {
            if !self.connecting.is_null() {
                ffi::purple_proxy_connect_cancel(self.connecting);
            }
            if self.read_watch != 0 {
                ffi::purple_input_remove(self.read_watch);
            }
            if self.write_watch != 0 {
                ffi::purple_input_remove(self.write_watch);
            }
            if self.fd >= 0 {
                libc::close(self.fd);
            }
        }
    }
}

/// `PurpleProxyConnectFunction`: the connect attempt finished.
unsafe extern "C" fn connected_cb(data: *mut c_void, fd: i32, error: *const std::ffi::c_char) {
    entry((), || {
        let socket = data as *mut Socket;
        // SAFETY: data is a live boxed Socket: a cancelled connect never calls back.
        let (owner, id) = unsafe { ((*socket).owner, (*socket).id) };
        // SAFETY: the connection outlives its sockets.
        let owner = unsafe { &*owner };
        owner.guarded(|conn| {
            // SAFETY: as above; libpurple frees its connect data after this callback.
            let socket = unsafe { &mut *socket };
            socket.connecting = std::ptr::null_mut();
            if fd < 0 {
                // SAFETY: error is NULL or a NUL-terminated string for the duration of the call.
                let text =
                    unsafe { cstr::to_string(error) }.unwrap_or_else(|| "Unable to connect".into());
                conn.on_connection_lost(id, text);
                return;
            }
            socket.fd = fd;
            // SAFETY: fd is the open descriptor libpurple handed over; Drop removes the watch.
            socket.read_watch = unsafe {
                ffi::purple_input_add(fd, ffi::PURPLE_INPUT_READ, Some(readable_cb), data)
            };
            if let Err(e) = socket.flush() {
                conn.on_connection_lost(id, e);
                return;
            }
            conn.on_connected(id);
        });
    })
}

/// `PurpleInputFunction` for reads.
unsafe extern "C" fn readable_cb(data: *mut c_void, _fd: i32, _cond: ffi::PurpleInputCondition) {
    entry((), || {
        let socket = data as *mut Socket;
        // SAFETY: data is a live boxed Socket (Drop removes this watch before freeing it).
        let (owner, id) = unsafe { ((*socket).owner, (*socket).id) };
        // SAFETY: the connection outlives its sockets.
        let owner = unsafe { &*owner };
        owner.guarded(|conn| {
            // SAFETY: as above; the borrow ends before the session may drop the socket.
            let result = unsafe { (*socket).read() };
            match result {
                ReadResult::Data(bytes) => conn.on_bytes(id, &bytes),
                ReadResult::Lost(text) => conn.on_connection_lost(id, text),
            }
        });
    })
}

/// `PurpleInputFunction` for writes: the socket can take more of the queue.
unsafe extern "C" fn writable_cb(data: *mut c_void, _fd: i32, _cond: ffi::PurpleInputCondition) {
    entry((), || {
        let socket = data as *mut Socket;
        // SAFETY: data is a live boxed Socket (Drop removes this watch before freeing it).
        let (owner, id) = unsafe { ((*socket).owner, (*socket).id) };
        // SAFETY: the connection outlives its sockets.
        let owner = unsafe { &*owner };
        owner.guarded(|conn| {
            // SAFETY: as above.
            if let Err(e) = unsafe { (*socket).flush() } {
                conn.on_connection_lost(id, e);
            }
        });
    })
}
