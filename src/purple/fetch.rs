//! HTTP(S) requests through `purple_util_fetch_url_request_len_with_account`, so the account's
//! proxy and libpurple's TLS certificate checks apply.

use std::ffi::{c_char, c_void};

use crate::msnp::http::HttpRequest;
use crate::msnp::session::HttpId;

use super::{connection::Connection, cstr, ffi};

/// Largest response accepted (the MSNP18 address book of a 5,000-contact account is ~7 MB).
const MAX_RESPONSE: isize = 16 * 1024 * 1024;

/// One request in flight. Boxed: its address is the callback's user data.
pub(crate) struct Fetch {
    owner: *const Connection,
    id: HttpId,
    handle: *mut ffi::PurpleUtilFetchUrlData,
}

impl Fetch {
    /// Starts `request`; the result arrives in `Connection::on_http_done`.
    pub(crate) fn start(owner: &Connection, id: HttpId, request: &HttpRequest) {
        log::debug!("HTTP {}", request.describe());
        let wire = match request.to_wire() {
            Ok(wire) => wire,
            Err(e) => return owner.fetch_failed_at_once(id, e.to_string()),
        };
        // The request text goes to libpurple as a C string: it must not contain NUL.
        let wire = match std::ffi::CString::new(wire) {
            Ok(wire) => wire,
            Err(_) => return owner.fetch_failed_at_once(id, "request contains a NUL byte".into()),
        };
        let url = cstr::to_cstring(&request.url);
        let mut fetch = Box::new(Fetch {
            owner,
            id,
            handle: std::ptr::null_mut(),
        });
        let data: *mut Fetch = &mut *fetch;
        owner.add_fetch(id, fetch);
        // SAFETY: account is live; url and wire are valid C strings copied by libpurple; data is
        // the boxed Fetch now owned by the connection's table, which cancels it before freeing.
        let handle = unsafe {
            ffi::purple_util_fetch_url_request_len_with_account(
                owner.account(),
                url.as_ptr(),
                1,
                std::ptr::null(),
                1,
                wire.as_ptr(),
                1,
                MAX_RESPONSE,
                Some(fetched_cb),
                data.cast(),
            )
        };
        if !handle.is_null() {
            // SAFETY: a non-NULL handle means the callback has not run yet, so the box is alive.
            unsafe { (*data).handle = handle };
        }
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            // SAFETY: the handle is live until its callback runs; the callback clears it first.
            unsafe { ffi::purple_util_fetch_url_cancel(self.handle) };
        }
    }
}

/// `PurpleUtilFetchUrlCallback`: libpurple frees its url data after this returns.
unsafe extern "C" fn fetched_cb(
    _url_data: *mut ffi::PurpleUtilFetchUrlData,
    data: *mut c_void,
    text: *const c_char,
    len: usize,
    error: *const c_char,
) {
    let fetch = data as *mut Fetch;
    // SAFETY: data is a live boxed Fetch: cancelled fetches never call back.
    let (owner, id) = unsafe {
        (*fetch).handle = std::ptr::null_mut();
        ((*fetch).owner, (*fetch).id)
    };
    // SAFETY: the connection outlives its fetches.
    let owner = unsafe { &*owner };
    // SAFETY: error is NULL or a C string valid during the callback.
    let result = match unsafe { cstr::to_string(error) } {
        Some(message) => Err(message),
        None if text.is_null() => Err("empty HTTP response".to_owned()),
        // SAFETY: libpurple passes `len` readable bytes at `text`.
        None => Ok(unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) }.to_vec()),
    };
    owner.guarded(|conn| conn.on_http_done(id, result));
}
