//! The session's single timer: one `purple_timeout_add`, re-armed only when the deadline changes.

use std::cell::Cell;
use std::ffi::c_void;
use std::time::Instant;

use super::guard::entry;
use super::{clock, connection::Connection, ffi};

/// The armed libpurple timeout, if any, and the deadline it was armed for.
#[derive(Default)]
pub(crate) struct Timer {
    handle: Cell<u32>,
    deadline: Cell<Option<Instant>>,
}

impl Timer {
    /// Arms the timer for `deadline` (or disarms it for `None`) unless it is already set so.
    pub(crate) fn set(&self, owner: &Connection, deadline: Option<Instant>) {
        if self.deadline.get() == deadline && (deadline.is_none() || self.handle.get() != 0) {
            return;
        }
        self.cancel();
        let Some(when) = deadline else { return };
        let ms = clock::until(when).as_millis();
        let ms = u32::try_from(ms).unwrap_or(u32::MAX);
        let data: *const Connection = owner;
        // SAFETY: data is the connection, which cancels this timeout before it is freed.
        let handle = unsafe { ffi::purple_timeout_add(ms, Some(fired_cb), data as *mut c_void) };
        self.handle.set(handle);
        self.deadline.set(deadline);
    }

    /// Forgets the handle of a timeout that fired (libpurple removes it when the callback
    /// returns FALSE).
    pub(crate) fn forget(&self) {
        self.handle.set(0);
        self.deadline.set(None);
    }

    /// Removes the armed timeout, if any.
    pub(crate) fn cancel(&self) {
        let handle = self.handle.replace(0);
        self.deadline.set(None);
        if handle != 0 {
            // SAFETY: the handle came from purple_timeout_add and has not fired (fired_cb clears it).
            unsafe { ffi::purple_timeout_remove(handle) };
        }
    }
}

/// `GSourceFunc`: returns FALSE, so libpurple removes the timeout; `pump` arms the next one.
unsafe extern "C" fn fired_cb(data: *mut c_void) -> ffi::gboolean {
    entry(0, || {
        // SAFETY: data is a live Connection (its Drop cancels this timeout).
        let owner = unsafe { &*(data as *const Connection) };
        owner.timer_fired();
        0
    })
}
