//! The account actions, and our own friendly name: the action "Set Friendly Name..." and
//! libpurple's public alias slots.

use std::ffi::{c_char, c_void};

use glib_sys::{g_list_append, GList};

use super::connection::Connection;
use super::guard::entry;
use super::{cstr, ffi};

/// The plugin's account actions (`PurplePluginInfo::actions`; `context` is the connection).
pub(crate) unsafe extern "C" fn actions(
    _plugin: *mut ffi::PurplePlugin,
    _context: glib_sys::gpointer,
) -> *mut GList {
    entry(std::ptr::null_mut(), || {
        // SAFETY: libpurple copies the labels and owns the returned actions and list.
        unsafe {
            let name = ffi::purple_plugin_action_new(
                c"Set Friendly Name...".as_ptr(),
                Some(friendly_name),
            );
            let places = ffi::purple_plugin_action_new(
                super::places::LABEL.as_ptr(),
                Some(super::places::show),
            );
            let list = g_list_append(std::ptr::null_mut(), name.cast());
            g_list_append(list, places.cast())
        }
    })
}

/// The connection an account action was invoked on: libpurple's and ours, if both are live.
///
/// # Safety
/// `action` is NULL or a live action whose context is NULL or a live connection.
pub(super) unsafe fn action_connection<'a>(
    action: *mut ffi::PurplePluginAction,
) -> Option<(*mut ffi::PurpleConnection, &'a Connection)> {
    if action.is_null() {
        return None;
    }
    // SAFETY: action is live per the contract.
    let gc = unsafe { (*action).context } as *mut ffi::PurpleConnection;
    // SAFETY: gc is NULL or a live connection per the contract.
    let conn = unsafe { Connection::from_gc(gc) }?;
    Some((gc, conn))
}

/// "Set Friendly Name...": asks for the new name.
unsafe extern "C" fn friendly_name(action: *mut ffi::PurplePluginAction) {
    entry((), || {
        // SAFETY: libpurple passes a live action whose context is the account's connection.
        let Some((gc, conn)) = (unsafe { action_connection(action) }) else {
            return;
        };
        let ok: unsafe extern "C" fn(*mut c_void, *const c_char) = friendly_name_entered;
        // SAFETY: the request reads the strings at once; GCallback is how libpurple stores
        // every request callback (it calls it back with the input callback's signature);
        // the request is registered under `gc`, so `close` closes it before `gc` goes.
        unsafe {
            let current = ffi::purple_connection_get_display_name(gc);
            ffi::purple_request_input(
                gc.cast(),
                c"Set Friendly Name".as_ptr(),
                c"This is the name other MSN buddies see you as.".as_ptr(),
                std::ptr::null(),
                current,
                0,
                0,
                std::ptr::null_mut(),
                c"_OK".as_ptr(),
                Some(std::mem::transmute::<
                    unsafe extern "C" fn(*mut c_void, *const c_char),
                    unsafe extern "C" fn(),
                >(ok)),
                c"_Cancel".as_ptr(),
                None,
                conn.account(),
                std::ptr::null(),
                std::ptr::null_mut(),
                gc.cast(),
            )
        };
    })
}

/// The user entered a friendly name.
unsafe extern "C" fn friendly_name_entered(data: *mut c_void, name: *const c_char) {
    entry((), || {
        // SAFETY: data is the connection the request was opened for, which is live: `close`
        // closes its requests; name is NUL-terminated.
        let (Some(conn), Some(name)) = (unsafe { Connection::from_gc(data.cast()) }, unsafe {
            cstr::to_string(name)
        }) else {
            return;
        };
        conn.command(|session, now| session.set_friendly_name(&name, now));
    })
}

/// `set_public_alias`: changes our friendly name (reported as done once queued; a refusal
/// by the server is shown as an error).
pub(crate) unsafe extern "C" fn set_public_alias(
    gc: *mut ffi::PurpleConnection,
    alias: *const c_char,
    success: ffi::PurpleSetPublicAliasSuccessCallback,
    failure: ffi::PurpleSetPublicAliasFailureCallback,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection and a NUL-terminated alias (or NULL).
        let (conn, name) = unsafe { (Connection::from_gc(gc), cstr::to_string(alias)) };
        let Some(conn) = conn else {
            if let Some(failure) = failure {
                // SAFETY: gc is live; libpurple copies the text.
                unsafe {
                    failure(
                        ffi::purple_connection_get_account(gc),
                        c"Not signed in".as_ptr(),
                    )
                };
            }
            return;
        };
        let name = name.unwrap_or_default();
        conn.command(|session, now| session.set_friendly_name(&name, now));
        if let Some(success) = success {
            // SAFETY: the account is live; alias is the string libpurple passed in.
            unsafe { success(conn.account(), alias) };
        }
    })
}

/// `get_public_alias`: our friendly name as the connection shows it.
pub(crate) unsafe extern "C" fn get_public_alias(
    gc: *mut ffi::PurpleConnection,
    success: ffi::PurpleGetPublicAliasSuccessCallback,
    _failure: ffi::PurpleGetPublicAliasFailureCallback,
) {
    entry((), || {
        if let Some(success) = success {
            // SAFETY: libpurple passes its live connection; the name belongs to it.
            unsafe {
                success(
                    ffi::purple_connection_get_account(gc),
                    ffi::purple_connection_get_display_name(gc),
                )
            };
        }
    })
}
