//! A listening socket for a file transfer's direct connection: opened with libpurple's
//! `purple_network_listen_range` (any port, or the range of the network preferences; port
//! mapping as libpurple is configured), watched with `purple_input_add`; the first connection
//! accepted becomes a [`Transport`](super::transport::Transport) of the owning connection and
//! the listening socket is closed (as Pidgin's `directconn.c` does).

use std::ffi::c_void;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use msnp::session::ConnId;

use super::connection::Connection;
use super::guard::entry;
use super::{cstr, ffi};

/// A listening socket and its libpurple handles. Boxed: its address is the callbacks' user
/// data, and dropping it cancels every callback before the memory goes.
pub(crate) struct Listener {
    owner: *const Connection,
    conn: ConnId,
    /// libpurple's pending listen (NULL once it called back).
    pending: *mut ffi::PurpleNetworkListenData,
    socket: Option<TcpListener>,
    watch: u32,
}

impl Listener {
    /// Asks libpurple for a listening TCP socket; the outcome reaches the owner's
    /// `on_listening`.
    pub(crate) fn start(owner: &Connection, conn: ConnId) -> Result<Box<Listener>, String> {
        let mut listener = Box::new(Listener {
            owner,
            conn,
            pending: std::ptr::null_mut(),
            socket: None,
            watch: 0,
        });
        let data: *mut Listener = &mut *listener;
        // SAFETY: the callback data is the boxed Listener, which stays at this address until
        // dropped, and dropping cancels the pending listen first.
        listener.pending = unsafe {
            ffi::purple_network_listen_range(
                0,
                0,
                libc::SOCK_STREAM,
                Some(listening_cb),
                data.cast(),
            )
        };
        match listener.pending.is_null() {
            true => Err("Unable to open a listening socket".to_owned()),
            false => Ok(listener),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // SAFETY: each handle is live (non-null/non-zero) until released here exactly once;
        // the socket closes when dropped with the struct.
        unsafe {
            if !self.pending.is_null() {
                ffi::purple_network_listen_cancel(self.pending);
            }
            if self.watch != 0 {
                ffi::purple_input_remove(self.watch);
            }
        }
    }
}

/// Our IPv4 addresses as the contact may reach them: the local system's, then the one
/// libpurple takes for ours (the network preferences' public IP, or what it discovered).
fn own_addresses() -> Vec<Ipv4Addr> {
    let mut out: Vec<Ipv4Addr> = Vec::new();
    // SAFETY: both return NULL or a static NUL-terminated string, copied at once.
    let found = unsafe {
        [
            cstr::to_string(ffi::purple_network_get_local_system_ip(-1)),
            cstr::to_string(ffi::purple_network_get_my_ip(-1)),
        ]
    };
    for ip in found.into_iter().flatten() {
        if let Ok(ip) = ip.trim().parse::<Ipv4Addr>() {
            if !ip.is_unspecified() && !out.contains(&ip) {
                out.push(ip);
            }
        }
    }
    out
}

/// `PurpleNetworkListenCallback`: the socket is listening (or `listenfd` is -1). libpurple
/// frees its pending data after this returns.
unsafe extern "C" fn listening_cb(listenfd: i32, data: *mut c_void) {
    entry((), || {
        let listener = data as *mut Listener;
        // SAFETY: data is a live boxed Listener: dropping it cancels this callback.
        let (owner, conn) = unsafe {
            (*listener).pending = std::ptr::null_mut();
            ((*listener).owner, (*listener).conn)
        };
        // SAFETY: the connection outlives its listeners.
        let owner = unsafe { &*owner };
        if listenfd < 0 {
            return owner.guarded(|c| c.on_listening(conn, Err("Unable to listen".into())));
        }
        // SAFETY: libpurple hands the listening descriptor over; the listener owns (and
        // closes) it from now on.
        let socket = TcpListener::from(unsafe { OwnedFd::from_raw_fd(listenfd) });
        let bound = socket
            .set_nonblocking(true)
            .and_then(|()| socket.local_addr())
            .map(|addr| (own_addresses(), addr.port()))
            .map_err(|e| format!("Listening socket: {e}"));
        // SAFETY: the descriptor is open; data is this boxed Listener, whose Drop removes the
        // watch.
        unsafe {
            (*listener).watch = ffi::purple_input_add(
                socket.as_raw_fd(),
                ffi::PURPLE_INPUT_READ,
                Some(incoming_cb),
                data,
            );
            (*listener).socket = Some(socket);
        }
        owner.guarded(|c| c.on_listening(conn, bound));
    })
}

/// `PurpleInputFunction`: a connection waits to be accepted.
unsafe extern "C" fn incoming_cb(data: *mut c_void, _fd: i32, _cond: ffi::PurpleInputCondition) {
    entry((), || {
        let listener = data as *mut Listener;
        // SAFETY: data is a live boxed Listener: dropping it removes this watch.
        let (owner, conn) = unsafe { ((*listener).owner, (*listener).conn) };
        // SAFETY: as above.
        let accepted: std::io::Result<TcpStream> = match unsafe { &(*listener).socket } {
            Some(socket) => socket.accept().map(|(stream, _)| stream),
            None => return,
        };
        // SAFETY: the connection outlives its listeners; the listener may be freed from here.
        let owner = unsafe { &*owner };
        match accepted {
            Ok(stream) => owner.guarded(|c| c.on_accepted(conn, stream)),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => owner.guarded(|c| c.on_accept_failed(conn, format!("Accept: {e}"))),
        }
    })
}
