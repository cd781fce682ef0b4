//! Test-only ways to panic inside the plugin (feature `test-hooks`), proving that a panic ends
//! the connection with an error and leaves the host running. Never built into releases.

use super::{cstr, ffi};

fn username(account: *mut ffi::PurpleAccount) -> String {
    // SAFETY: callers pass the live account of a connection being served.
    unsafe { cstr::to_string(ffi::purple_account_get_username(account)) }.unwrap_or_default()
}

/// Panics in `login` for accounts named `panic-login@...`.
pub(crate) fn maybe_panic_on_login(account: *mut ffi::PurpleAccount) {
    if username(account).starts_with("panic-login@") {
        panic!("test hook: panic in login");
    }
}

/// Panics on the first bytes received for accounts named `panic-read@...`.
pub(crate) fn maybe_panic_on_read(account: *mut ffi::PurpleAccount) {
    if username(account).starts_with("panic-read@") {
        panic!("test hook: panic while reading");
    }
}
