//! File transfers through libpurple's `PurpleXfer`: "Send File..." (`send_file`, `new_xfer`)
//! offers the file the user chose; an offer from a contact becomes `purple_xfer_request`
//! (libpurple asks the user and for where to save). The protocol-driven form of the API is
//! used (`purple_xfer_start` with no socket): sent bytes are read with
//! `purple_xfer_read_file` as the session asks for them, received bytes written with
//! `purple_xfer_write_file` as they arrive, so the front end's own read and write hooks
//! (BitlBee's) apply and no file is held in memory. libpurple writes the conversation lines
//! (offer, completion, cancellation) itself.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr};

use msnp::p2p::{FailReason, TransferId};
use msnp::session::switchboard::Conversation;
use msnp::session::{ChatEvent, TransferEvent};

use super::connection::Connection;
use super::guard::entry;
use super::{cstr, ffi};

/// Progress is reported to libpurple after at least this many more bytes.
const PROGRESS_STEP: usize = 64 * 1024;

/// How far ahead of what is read a file we send is asked into the page cache.
const READ_AHEAD: usize = 1024 * 1024;

/// The transfers of a connection, by id; each holds a reference on its `PurpleXfer`.
#[derive(Default)]
pub(crate) struct Xfers {
    map: RefCell<HashMap<u32, Entry>>,
}

struct Entry {
    xfer: *mut ffi::PurpleXfer,
    /// Bytes at the last progress report.
    reported: usize,
}

impl Xfers {
    fn insert(&self, id: TransferId, xfer: *mut ffi::PurpleXfer) {
        // SAFETY: xfer is live; the reference is released in `forget`.
        unsafe {
            ffi::purple_xfer_ref(xfer);
            (*xfer).data = id_ptr(id);
        }
        self.map
            .borrow_mut()
            .insert(id.0, Entry { xfer, reported: 0 });
    }

    fn get(&self, id: TransferId) -> Option<*mut ffi::PurpleXfer> {
        self.map.borrow().get(&id.0).map(|e| e.xfer)
    }

    /// Drops our hold on a transfer: its callbacks no longer reach the session.
    fn forget(&self, id: TransferId) -> Option<*mut ffi::PurpleXfer> {
        let entry = self.map.borrow_mut().remove(&id.0)?;
        // SAFETY: our reference keeps the xfer live until the unref below, which libpurple
        // may follow with its own (its callers hold theirs while calling us).
        unsafe {
            (*entry.xfer).data = std::ptr::null_mut();
            ffi::purple_xfer_unref(entry.xfer);
        }
        Some(entry.xfer)
    }

    /// Cancels every transfer (the account is going offline).
    pub(crate) fn cancel_all(&self) {
        let ids: Vec<u32> = self.map.borrow().keys().copied().collect();
        for id in ids {
            let Some(xfer) = self.get(TransferId(id)) else {
                continue;
            };
            // SAFETY: held by our reference until `forget`; the id is cleared first so the
            // cancel callback does not reach the session.
            unsafe {
                ffi::purple_xfer_ref(xfer);
                (*xfer).data = std::ptr::null_mut();
                if !ended(xfer) {
                    ffi::purple_xfer_cancel_local(xfer);
                }
            }
            self.forget(TransferId(id));
            // SAFETY: the reference taken above.
            unsafe { ffi::purple_xfer_unref(xfer) };
        }
    }

    /// Reports progress when enough bytes went by since the last report, or at the end.
    fn progress(&self, id: TransferId, xfer: *mut ffi::PurpleXfer) {
        // SAFETY: xfer is live (held by us).
        let (sent, size) = unsafe {
            (
                ffi::purple_xfer_get_bytes_sent(xfer),
                ffi::purple_xfer_get_size(xfer),
            )
        };
        let due = match self.map.borrow_mut().get_mut(&id.0) {
            Some(e)
                if sent >= e.reported + PROGRESS_STEP || (sent == size && sent != e.reported) =>
            {
                e.reported = sent;
                true
            }
            _ => false,
        };
        if due {
            // SAFETY: as above.
            unsafe { ffi::purple_xfer_update_progress(xfer) };
        }
    }
}

fn id_ptr(id: TransferId) -> *mut c_void {
    id.0 as usize as *mut c_void
}

/// The transfer id stored in `xfer`, if it is ours and live.
///
/// # Safety
/// `xfer` must be a live PurpleXfer.
unsafe fn id_of(xfer: *mut ffi::PurpleXfer) -> Option<TransferId> {
    // SAFETY: per the contract.
    let data = unsafe { (*xfer).data } as usize;
    u32::try_from(data)
        .ok()
        .filter(|&id| id != 0)
        .map(TransferId)
}

/// Whether libpurple considers the transfer over.
///
/// # Safety
/// `xfer` must be a live PurpleXfer.
unsafe fn ended(xfer: *mut ffi::PurpleXfer) -> bool {
    // SAFETY: per the contract.
    unsafe { ffi::purple_xfer_is_canceled(xfer) != 0 || ffi::purple_xfer_is_completed(xfer) != 0 }
}

/// The connection a transfer belongs to, while it is signed in.
///
/// # Safety
/// `xfer` must be a live PurpleXfer.
unsafe fn connection_of<'a>(xfer: *mut ffi::PurpleXfer) -> Option<&'a Connection> {
    // SAFETY: per the contract; the account outlives its transfers' callbacks.
    unsafe {
        let account = ffi::purple_xfer_get_account(xfer);
        let gc = ffi::purple_account_get_connection(account);
        Connection::from_gc(gc)
    }
}

fn text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: a NUL-terminated string owned by libpurple, copied here.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// A transfer with our callbacks.
fn new_xfer_of(conn: &Connection, kind: ffi::PurpleXferType, who: &str) -> *mut ffi::PurpleXfer {
    let who = cstr::to_cstring(who);
    // SAFETY: the account is live; the name is copied; the callbacks are ours.
    unsafe {
        let xfer = ffi::purple_xfer_new(conn.account(), kind, who.as_ptr());
        if xfer.is_null() {
            return xfer;
        }
        ffi::purple_xfer_set_init_fnc(xfer, Some(init));
        ffi::purple_xfer_set_request_denied_fnc(xfer, Some(denied));
        ffi::purple_xfer_set_cancel_send_fnc(xfer, Some(cancelled));
        ffi::purple_xfer_set_cancel_recv_fnc(xfer, Some(cancelled));
        ffi::purple_xfer_set_end_fnc(xfer, Some(ended_fnc));
        xfer
    }
}

/// `new_xfer`: a transfer to `who` for the front end to fill in and request.
pub(crate) unsafe extern "C" fn new_xfer(
    gc: *mut ffi::PurpleConnection,
    who: *const c_char,
) -> *mut ffi::PurpleXfer {
    entry(std::ptr::null_mut(), || {
        // SAFETY: libpurple passes its live connection.
        let Some(conn) = (unsafe { Connection::from_gc(gc) }) else {
            return std::ptr::null_mut();
        };
        new_xfer_of(conn, ffi::PURPLE_XFER_SEND, &text(who))
    })
}

/// `send_file`: "Send File..." (`file` NULL: libpurple asks which).
pub(crate) unsafe extern "C" fn send_file(
    gc: *mut ffi::PurpleConnection,
    who: *const c_char,
    file: *const c_char,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection.
        let Some(conn) = (unsafe { Connection::from_gc(gc) }) else {
            return;
        };
        let xfer = new_xfer_of(conn, ffi::PURPLE_XFER_SEND, &text(who));
        if xfer.is_null() {
            return;
        }
        // SAFETY: xfer is new and ours; the file name is libpurple's string.
        unsafe {
            match file.is_null() || *file == 0 {
                true => ffi::purple_xfer_request(xfer),
                false => ffi::purple_xfer_request_accepted(xfer, file),
            }
        }
    })
}

/// `can_receive_file`: any contact can be offered a file.
pub(crate) unsafe extern "C" fn can_receive_file(
    _gc: *mut ffi::PurpleConnection,
    who: *const c_char,
) -> ffi::gboolean {
    entry(0, || ffi::gboolean::from(!who.is_null()))
}

/// The init callback: sending, the user chose the file (offer it); receiving, the user
/// accepted and chose where to save (open the file, then accept).
unsafe extern "C" fn init(xfer: *mut ffi::PurpleXfer) {
    entry((), || {
        // SAFETY: libpurple passes a live transfer.
        let Some(conn) = (unsafe { connection_of(xfer) }) else {
            return;
        };
        // SAFETY: as above.
        let kind = unsafe { ffi::purple_xfer_get_type(xfer) };
        if kind == ffi::PURPLE_XFER_RECEIVE {
            // SAFETY: as above.
            let Some(id) = (unsafe { id_of(xfer) }) else {
                return;
            };
            // Opens the file for writing (or cancels through libpurple if it cannot).
            // SAFETY: as above; -1: the protocol moves the data.
            unsafe { ffi::purple_xfer_start(xfer, -1, std::ptr::null(), 0) };
            // SAFETY: as above.
            if unsafe { ffi::purple_xfer_get_status(xfer) } == ffi::PURPLE_XFER_STATUS_STARTED {
                conn.command(|session, now| session.accept_transfer(id, now));
            }
            return;
        }
        // SAFETY: as above; the strings are copied at once.
        let (who, name, size) = unsafe {
            (
                text(ffi::purple_xfer_get_remote_user(xfer)),
                text(ffi::purple_xfer_get_filename(xfer)),
                ffi::purple_xfer_get_size(xfer),
            )
        };
        let mut offered = None;
        conn.command(|session, now| {
            offered = Some(session.send_file(&who, &name, size as u64, now));
        });
        match offered {
            Some(Ok(id)) => conn.xfers().insert(id, xfer),
            Some(Err(e)) => {
                let message = cstr::to_cstring(&format!("Cannot send {name}: {e}"));
                let who = cstr::to_cstring(&who);
                // SAFETY: the strings are copied; cancelling ends libpurple's hold.
                unsafe {
                    ffi::purple_xfer_error(
                        ffi::PURPLE_XFER_SEND,
                        conn.account(),
                        who.as_ptr(),
                        message.as_ptr(),
                    );
                    ffi::purple_xfer_cancel_local(xfer);
                }
            }
            None => {}
        }
    })
}

/// The user declined an offered file.
unsafe extern "C" fn denied(xfer: *mut ffi::PurpleXfer) {
    entry((), || {
        // SAFETY: libpurple passes a live transfer.
        let (Some(conn), Some(id)) = (unsafe { connection_of(xfer) }, unsafe { id_of(xfer) })
        else {
            return;
        };
        conn.xfers().forget(id);
        conn.command(|session, now| session.decline_transfer(id, now));
    })
}

/// The user (or libpurple, on a file error) cancelled a transfer.
unsafe extern "C" fn cancelled(xfer: *mut ffi::PurpleXfer) {
    entry((), || {
        // SAFETY: libpurple passes a live transfer.
        let (Some(conn), Some(id)) = (unsafe { connection_of(xfer) }, unsafe { id_of(xfer) })
        else {
            return;
        };
        conn.xfers().forget(id);
        conn.command(|session, now| session.cancel_transfer(id, now));
    })
}

/// The transfer completed and libpurple is closing it.
unsafe extern "C" fn ended_fnc(xfer: *mut ffi::PurpleXfer) {
    entry((), || {
        // SAFETY: libpurple passes a live transfer.
        let (Some(conn), Some(id)) = (unsafe { connection_of(xfer) }, unsafe { id_of(xfer) })
        else {
            return;
        };
        conn.xfers().forget(id);
    })
}

/// Applies a transfer event of the session.
pub(crate) fn apply(conn: &Connection, event: TransferEvent) {
    match event {
        TransferEvent::Offered {
            id,
            peer,
            name,
            size,
        } => {
            let xfer = new_xfer_of(conn, ffi::PURPLE_XFER_RECEIVE, &peer);
            if xfer.is_null() {
                return conn.command(|session, now| session.decline_transfer(id, now));
            }
            conn.xfers().insert(id, xfer);
            let name = cstr::to_cstring(&name);
            // SAFETY: xfer is live; the name is copied; libpurple asks the user.
            unsafe {
                ffi::purple_xfer_set_filename(xfer, name.as_ptr());
                ffi::purple_xfer_set_size(xfer, usize::try_from(size).unwrap_or(usize::MAX));
                // The reference `purple_xfer_new` gave is the transfer's: libpurple drops it
                // when the transfer ends.
                ffi::purple_xfer_request(xfer);
            }
        }
        TransferEvent::Refused { peer, name, size } => {
            let what = match (name, size) {
                (Some(name), Some(size)) => format!("{name} ({size} bytes)"),
                _ => "a file".to_owned(),
            };
            // A line in the conversation, not a dialog: a peer can offer many.
            let text =
                format!("{peer} offered {what}, which was refused (too large, or not readable)");
            super::conversation::show(
                conn,
                ChatEvent::Notice {
                    conversation: Conversation::Im(peer),
                    text,
                },
            );
        }
        TransferEvent::Accepted { id } => {
            if let Some(xfer) = conn.xfers().get(id) {
                // SAFETY: held by us; opens the file for reading (or cancels).
                unsafe { ffi::purple_xfer_start(xfer, -1, std::ptr::null(), 0) };
            }
        }
        TransferEvent::WantData { id, max } => want_data(conn, id, max),
        TransferEvent::Data { id, data } => {
            let Some(xfer) = conn.xfers().get(id) else {
                return;
            };
            // SAFETY: held by us; the buffer is valid for its length. On a write error
            // libpurple cancels (our callback tells the session).
            let ok = unsafe { ffi::purple_xfer_write_file(xfer, data.as_ptr(), data.len()) };
            if ok != 0 {
                conn.xfers().progress(id, xfer);
            }
        }
        TransferEvent::Completed { id } => {
            let Some(xfer) = conn.xfers().get(id) else {
                return;
            };
            conn.xfers().progress(id, xfer);
            // SAFETY: held by us until `forget` in the end callback; libpurple writes the
            // completion line and closes the file.
            unsafe {
                ffi::purple_xfer_ref(xfer);
                ffi::purple_xfer_set_completed(xfer, 1);
                ffi::purple_xfer_end(xfer);
            }
            conn.xfers().forget(id);
            // SAFETY: the reference taken above.
            unsafe { ffi::purple_xfer_unref(xfer) };
        }
        TransferEvent::Declined { id } | TransferEvent::Cancelled { id } => {
            end_remote(conn, id, None)
        }
        TransferEvent::Failed { id, reason } => {
            let why = match reason {
                FailReason::Timeout => "the contact stopped responding",
                FailReason::PeerGone => "the contact went offline or the conversation was lost",
                FailReason::Refused(_) => "the contact's program refused it",
                _ => "the contact sent invalid data",
            };
            end_remote(conn, id, Some(why))
        }
    }
}

/// Reads the next block of a file we send and hands it to the session.
fn want_data(conn: &Connection, id: TransferId, max: usize) {
    let Some(xfer) = conn.xfers().get(id) else {
        return;
    };
    prefetch(xfer, max);
    let mut buffer = vec![0u8; max];
    // SAFETY: held by us; the buffer has `max` writable bytes. On a read error libpurple
    // cancels (our callback tells the session).
    let read = unsafe { ffi::purple_xfer_read_file(xfer, buffer.as_mut_ptr(), max) };
    match usize::try_from(read) {
        Ok(read) if read > 0 => {
            buffer.truncate(read);
            conn.command(|session, now| session.transfer_data(id, &buffer, now));
            // What the session did may have ended (and freed) the transfer.
            if let Some(xfer) = conn.xfers().get(id) {
                conn.xfers().progress(id, xfer);
            }
        }
        // SAFETY: held by us; a file shorter than announced cannot be sent.
        Ok(_) if conn.xfers().get(id).is_some() => unsafe { ffi::purple_xfer_cancel_local(xfer) },
        _ => {}
    }
}

/// Asks the kernel to read the file we send ahead of us, one block at a time, [`READ_AHEAD`]
/// ahead of the next read (`posix_fadvise`, `WILLNEED`). Left to itself, the kernel grows its
/// read-ahead window up to the device's (8 MiB on the bench machine) and fills each window in
/// the reading thread's time: one read in ~7,000 took 20-27 ms of CPU. Pages asked for here are
/// read in the background and carry no read-ahead mark, so the reads find them cached and each
/// callback starts at most one block of read-ahead. Nothing to do when the front end reads the
/// file itself (no `dest_fp`).
fn prefetch(xfer: *mut ffi::PurpleXfer, max: usize) {
    // SAFETY: xfer is live (held by us); dest_fp is libpurple's open file or NULL.
    let (file, at) = unsafe { ((*xfer).dest_fp, ffi::purple_xfer_get_bytes_sent(xfer)) };
    if file.is_null() {
        return;
    }
    let (start, len) = match at {
        0 => (0, READ_AHEAD + max),
        _ => (at.saturating_add(READ_AHEAD), max),
    };
    let (Ok(start), Ok(len)) = (libc::off_t::try_from(start), libc::off_t::try_from(len)) else {
        return;
    };
    // SAFETY: file is the open FILE libpurple reads; fadvise only advises (an error is harmless).
    unsafe {
        libc::posix_fadvise(libc::fileno(file), start, len, libc::POSIX_FADV_WILLNEED);
    }
}

/// Ends a transfer the other side (or the network) ended, with the reason of a failure.
fn end_remote(conn: &Connection, id: TransferId, failure: Option<&str>) {
    let Some(xfer) = conn.xfers().get(id) else {
        return;
    };
    // SAFETY: held by us (plus the reference taken here) until the unref below.
    unsafe {
        ffi::purple_xfer_ref(xfer);
        (*xfer).data = std::ptr::null_mut();
    }
    conn.xfers().forget(id);
    // SAFETY: as above; the message is copied.
    unsafe {
        if let Some(why) = failure {
            let name = text(ffi::purple_xfer_get_filename(xfer));
            let message = cstr::to_cstring(&format!("Transfer of {name} failed: {why}"));
            ffi::purple_xfer_conversation_write(xfer, message.as_ptr().cast_mut(), 1);
        }
        if !ended(xfer) {
            ffi::purple_xfer_cancel_remote(xfer);
        }
        ffi::purple_xfer_unref(xfer);
    }
}
