//! The panic boundary: no panic may unwind into libpurple (it would abort Pidgin).
//!
//! Every `extern "C"` function of the glue runs its body inside [`entry`], the crate's only
//! `catch_unwind` (`scripts/check-entries.py`, run by `make check`, verifies it). Work done for
//! one connection runs inside [`serving`], so a panic there also ends that connection with an
//! "internal error" instead of leaving it half-updated.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::{connection, ffi};

thread_local! {
    /// The connection whose [`serving`] call a panic unwound through (innermost first).
    static PANICKED_IN: Cell<*mut ffi::PurpleConnection> = const { Cell::new(std::ptr::null_mut()) };
}

/// Runs the body of an `extern "C"` function: returns `fallback` if it panicked, after ending
/// the connection the panic happened for (if any). The panic hook has already logged it.
pub(crate) fn entry<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(payload) => {
            let gc = PANICKED_IN.replace(std::ptr::null_mut());
            if !gc.is_null() {
                // A panic inside `internal_error` would abort here: it only reads the connection
                // and calls libpurple.
                connection::internal_error(gc, &panic_message(&*payload));
            }
            fallback
        }
    }
}

/// Runs `f` on behalf of the live connection `gc`: if it panics, the enclosing [`entry`] ends
/// that connection with an internal error.
pub(crate) fn serving<T>(gc: *mut ffi::PurpleConnection, f: impl FnOnce() -> T) -> T {
    /// Records `gc` when dropped by an unwinding panic.
    struct Mark(*mut ffi::PurpleConnection);
    impl Drop for Mark {
        fn drop(&mut self) {
            if std::thread::panicking() && PANICKED_IN.get().is_null() {
                PANICKED_IN.set(self.0);
            }
        }
    }
    let _mark = Mark(gc);
    f()
}

/// Extracts a readable message from a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}
