//! Privacy between libpurple and the session: the permit/deny lists are the allow/block
//! lists, the privacy setting is `BLP`, and someone adding us is an authorization request.

use std::collections::HashSet;
use std::ffi::{c_char, c_void};

use msnp::session::Session;
use msnp::wire::PrivacyMode;

use super::connection::Connection;
use super::guard::entry;
use super::presence::privacy_mode;
use super::{cstr, ffi};

/// An authorization request shown to the user: whose, and for which account.
pub(crate) struct Pending {
    account: *mut ffi::PurpleAccount,
    email: String,
}

/// Runs `f` on the session of `gc` with the name libpurple passed.
///
/// # Safety
/// `gc` must be NULL or a live connection, `name` NULL or NUL-terminated.
unsafe fn with_name(
    gc: *mut ffi::PurpleConnection,
    name: *const c_char,
    f: impl FnOnce(&mut Session, &str, std::time::Instant),
) {
    // SAFETY: per the contract.
    let (Some(conn), Some(name)) = (unsafe { Connection::from_gc(gc) }, unsafe {
        cstr::to_string(name)
    }) else {
        return;
    };
    conn.command(|session, now| f(session, &name, now));
}

/// `add_permit`: the user allowed someone.
pub(crate) unsafe extern "C" fn add_permit(gc: *mut ffi::PurpleConnection, name: *const c_char) {
    // SAFETY: libpurple passes its live connection and a NUL-terminated name.
    entry((), || unsafe {
        with_name(gc, name, |s, n, now| s.allow(n, now))
    })
}

/// `add_deny`: the user blocked someone.
pub(crate) unsafe extern "C" fn add_deny(gc: *mut ffi::PurpleConnection, name: *const c_char) {
    // SAFETY: as for `add_permit`.
    entry((), || unsafe {
        with_name(gc, name, |s, n, now| s.block(n, now))
    })
}

/// `rem_permit`: the user took someone off the allow list.
pub(crate) unsafe extern "C" fn rem_permit(gc: *mut ffi::PurpleConnection, name: *const c_char) {
    // SAFETY: as for `add_permit`.
    entry((), || unsafe {
        with_name(gc, name, |s, n, now| s.unallow(n, now))
    })
}

/// `rem_deny`: the user unblocked someone.
pub(crate) unsafe extern "C" fn rem_deny(gc: *mut ffi::PurpleConnection, name: *const c_char) {
    // SAFETY: as for `add_permit`.
    entry((), || unsafe {
        with_name(gc, name, |s, n, now| s.unblock(n, now))
    })
}

/// `set_permit_deny`: the privacy setting changed (libpurple also calls it at sign-in).
pub(crate) unsafe extern "C" fn set_permit_deny(gc: *mut ffi::PurpleConnection) {
    entry((), || {
        // SAFETY: libpurple passes its live connection.
        let Some(conn) = (unsafe { Connection::from_gc(gc) }) else {
            return;
        };
        // SAFETY: the account is live while its connection is.
        let mode = privacy_mode(unsafe { ffi::purple_account_get_privacy_type(conn.account()) });
        conn.command(|session, _| session.set_privacy_mode(mode));
    })
}

/// The account's privacy setting as an MSN mode (for the sign-in configuration).
///
/// # Safety
/// `account` must be a live PurpleAccount.
pub(crate) unsafe fn account_mode(account: *mut ffi::PurpleAccount) -> PrivacyMode {
    // SAFETY: per the contract.
    privacy_mode(unsafe { ffi::purple_account_get_privacy_type(account) })
}

/// Shows the server's privacy mode, keeping the user's setting when it means the same.
pub(crate) fn show_mode(conn: &Connection, mode: PrivacyMode) {
    let account = conn.account();
    // SAFETY: the account is live while its connection is.
    let current = unsafe { ffi::purple_account_get_privacy_type(account) };
    if privacy_mode(current) == mode {
        return;
    }
    let kind = match mode {
        PrivacyMode::AllowOthers => ffi::PURPLE_PRIVACY_DENY_USERS,
        PrivacyMode::BlockOthers => ffi::PURPLE_PRIVACY_ALLOW_USERS,
    };
    // SAFETY: as above; this does not call back into the plugin.
    unsafe { ffi::purple_account_set_privacy_type(account, kind) };
}

/// Shows someone joining or leaving the allow (`permit`) or block list, locally only.
pub(crate) fn show_list(conn: &Connection, email: &str, permit: bool, on: bool) {
    let (account, name) = (conn.account(), cstr::to_cstring(email));
    // SAFETY: the account is live; local_only keeps libpurple from calling the plugin back;
    // the name is copied. A FALSE result just means it was already so.
    unsafe {
        match (permit, on) {
            (true, true) => ffi::purple_privacy_permit_add(account, name.as_ptr(), 1),
            (true, false) => ffi::purple_privacy_permit_remove(account, name.as_ptr(), 1),
            (false, true) => ffi::purple_privacy_deny_add(account, name.as_ptr(), 1),
            (false, false) => ffi::purple_privacy_deny_remove(account, name.as_ptr(), 1),
        }
    };
}

/// The changes making the local permit and deny lists exactly `allowed` and `blocked`:
/// `(name, permit list?, add?)`, found through sets so a long list costs one pass.
pub(crate) fn list_changes(
    conn: &Connection,
    allowed: &[String],
    blocked: &[String],
) -> Vec<(String, bool, bool)> {
    let account = conn.account();
    // SAFETY: the account is live; its permit/deny lists hold NUL-terminated names, copied
    // here.
    let (permit, deny) = unsafe { (names((*account).permit), names((*account).deny)) };
    let mut changes = Vec::new();
    for (local, server, permit_list) in [(permit, allowed, true), (deny, blocked, false)] {
        let local_set: HashSet<String> = local.iter().map(|n| n.to_ascii_lowercase()).collect();
        let server_set: HashSet<String> = server.iter().map(|n| n.to_ascii_lowercase()).collect();
        for name in local {
            if !server_set.contains(&name.to_ascii_lowercase()) {
                changes.push((name, permit_list, false));
            }
        }
        for name in server {
            if !local_set.contains(&name.to_ascii_lowercase()) {
                changes.push((name.clone(), permit_list, true));
            }
        }
    }
    changes
}

/// The strings of a GSList of names.
///
/// # Safety
/// `list` must be NULL or a live GSList of NUL-terminated strings.
unsafe fn names(mut list: *mut glib_sys::GSList) -> Vec<String> {
    let mut out = Vec::new();
    while !list.is_null() {
        // SAFETY: list is a live node per the contract.
        unsafe {
            if let Some(name) = cstr::to_string((*list).data as *const c_char) {
                out.push(name);
            }
            list = (*list).next;
        }
    }
    out
}

/// Asks the user whether `email`, who added us, may see us.
pub(crate) fn request_authorization(
    conn: &Connection,
    email: &str,
    friendly: Option<&str>,
    message: Option<&str>,
    on_list: bool,
) {
    let account = conn.account();
    let data = conn.requests().hold(Pending {
        account,
        email: email.to_owned(),
    });
    let who = cstr::to_cstring(email);
    let alias = friendly.map(cstr::to_cstring);
    let message = message.map(cstr::to_cstring);
    let ptr = |s: &Option<std::ffi::CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: the account is live; libpurple copies the strings; `data` stays valid in the
    // connection's requests until a callback takes it out or `close` closes the request.
    unsafe {
        ffi::purple_account_request_authorization(
            account,
            who.as_ptr(),
            std::ptr::null(),
            ptr(&alias),
            ptr(&message),
            on_list.into(),
            Some(authorize_cb),
            Some(deny_cb),
            data,
        )
    };
}

/// The user accepted a request.
unsafe extern "C" fn authorize_cb(data: *mut c_void) {
    entry((), || answer(data, true))
}

/// The user denied a request.
unsafe extern "C" fn deny_cb(data: *mut c_void) {
    entry((), || answer(data, false))
}

fn answer(data: *mut c_void, accept: bool) {
    // SAFETY: an open request's data is live: `close` closes the requests before freeing it;
    // the account outlives its connection.
    let gc = unsafe { ffi::purple_account_get_connection((*(data as *const Pending)).account) };
    // SAFETY: gc is NULL or the account's live connection.
    let Some(conn) = (unsafe { Connection::from_gc(gc) }) else {
        return log::info!("authorization answered while offline: not sent");
    };
    let Some(pending) = conn.requests().take(data) else {
        return;
    };
    conn.command(|session, now| session.answer_authorization(&pending.email, accept, now));
}
