//! The account action "Signed-in Places...": the other places where the account is signed in
//! at the same time (MSNP16+), as the server last listed them, and signing them out
//! (docs/protocol.md §6.4).

use std::ffi::c_void;

use msnp::dialect::Dialect;

use super::connection::Connection;
use super::guard::entry;
use super::{cstr, ffi};

/// The action's label.
pub(crate) const LABEL: &std::ffi::CStr = c"Signed-in Places...";

/// What the action shows: a headline and one line per other place.
fn describe(dialect: Option<Dialect>, places: &[String]) -> (String, String) {
    match dialect {
        Some(d) if !d.endpoints() => (
            "Signed in here only".to_owned(),
            format!(
                "MSNP{} allows one place at a time: signing in elsewhere signs this place out.",
                d.version()
            ),
        ),
        _ if places.is_empty() => (
            "Signed in here only".to_owned(),
            "No other place is signed in to this account.".to_owned(),
        ),
        _ => (
            format!("Also signed in at {} other place(s)", places.len()),
            places.join("\n"),
        ),
    }
}

/// Id of the field that signs every other place out.
const ALL: &std::ffi::CStr = c"all";

/// "Signed-in Places...": lists the account's other places; where there are some, as a form
/// with a checkbox per place (and one for all of them) whose OK signs the ticked ones out.
pub(crate) unsafe extern "C" fn show(action: *mut ffi::PurplePluginAction) {
    entry((), || {
        // SAFETY: libpurple passes a live action whose context is the account's connection.
        let Some((gc, conn)) = (unsafe { super::actions::action_connection(action) }) else {
            return;
        };
        let mut listing = None;
        conn.command(|session, _| {
            let places: Vec<(String, String)> = session
                .other_places()
                .iter()
                .map(|p| (p.id.clone(), p.label()))
                .collect();
            listing = Some((session.dialect(), places));
        });
        let Some((dialect, places)) = listing else {
            return;
        };
        let labels: Vec<String> = places.iter().map(|(_, label)| label.clone()).collect();
        let (primary, secondary) = describe(dialect, &labels);
        if places.is_empty() || dialect.is_some_and(|d| !d.endpoints()) {
            return notify(gc, &primary, &secondary);
        }
        // SAFETY: gc is live; `conn` belongs to it.
        unsafe { ask(gc, conn, &primary, &places) };
    })
}

/// Shows the listing as a notice.
fn notify(gc: *mut ffi::PurpleConnection, primary: &str, secondary: &str) {
    let (primary, secondary) = (cstr::to_cstring(primary), cstr::to_cstring(secondary));
    // SAFETY: gc is live (the caller's contract); libpurple copies the texts.
    unsafe {
        ffi::purple_notify_message(
            gc.cast(),
            ffi::PURPLE_NOTIFY_MSG_INFO,
            c"Signed-in Places".as_ptr(),
            primary.as_ptr(),
            secondary.as_ptr(),
            None,
            std::ptr::null_mut(),
        )
    };
}

/// The form: one checkbox per place (its id, its label), and "All other places" when there
/// are several. Pidgin shows the checkboxes in a dialog, Finch in a window (the group title in
/// bold, a `GntCheckBox` per field), both with "Sign Out" and "Close" buttons; the labels have
/// no mnemonic underscore, which Finch would show as it is.
///
/// # Safety
/// `gc` is live and `conn` is its connection.
unsafe fn ask(
    gc: *mut ffi::PurpleConnection,
    conn: &super::connection::Connection,
    primary: &str,
    places: &[(String, String)],
) {
    let primary = cstr::to_cstring(primary);
    let ok: unsafe extern "C" fn(*mut c_void, *mut ffi::PurpleRequestFields) = sign_out_ticked;
    // SAFETY: the fields and group are handed to libpurple, which owns and frees them with
    // the request; it copies the texts. GCallback is how libpurple stores every request
    // callback (it calls it back with the fields callback's signature). The request is
    // registered under `gc`, so `close` closes it before `gc` goes.
    unsafe {
        let fields = ffi::purple_request_fields_new();
        let group = ffi::purple_request_field_group_new(c"Sign out".as_ptr());
        ffi::purple_request_fields_add_group(fields, group);
        for (id, label) in places {
            let (id, label) = (cstr::to_cstring(id), cstr::to_cstring(label));
            let field = ffi::purple_request_field_bool_new(id.as_ptr(), label.as_ptr(), 0);
            ffi::purple_request_field_group_add_field(group, field);
        }
        if places.len() > 1 {
            let field =
                ffi::purple_request_field_bool_new(ALL.as_ptr(), c"All other places".as_ptr(), 0);
            ffi::purple_request_field_group_add_field(group, field);
        }
        ffi::purple_request_fields(
            gc.cast(),
            c"Signed-in Places".as_ptr(),
            primary.as_ptr(),
            c"Tick the places to sign out.".as_ptr(),
            fields,
            c"Sign Out".as_ptr(),
            Some(std::mem::transmute::<
                unsafe extern "C" fn(*mut c_void, *mut ffi::PurpleRequestFields),
                unsafe extern "C" fn(),
            >(ok)),
            c"Close".as_ptr(),
            None,
            conn.account(),
            std::ptr::null(),
            std::ptr::null_mut(),
            gc.cast(),
        );
    }
}

/// The ids of the ticked checkboxes of `fields`.
///
/// # Safety
/// `fields` is a live request form.
unsafe fn ticked(fields: *mut ffi::PurpleRequestFields) -> Vec<String> {
    let mut ids = Vec::new();
    // SAFETY: libpurple's lists of groups and fields stay valid while the form lives; ids
    // are NUL-terminated.
    unsafe {
        let mut groups = ffi::purple_request_fields_get_groups(fields);
        while !groups.is_null() {
            let mut field_list = ffi::purple_request_field_group_get_fields((*groups).data.cast());
            while !field_list.is_null() {
                let field: *mut ffi::PurpleRequestField = (*field_list).data.cast();
                if ffi::purple_request_field_get_type(field) == ffi::PURPLE_REQUEST_FIELD_BOOLEAN
                    && ffi::purple_request_field_bool_get_value(field) != 0
                {
                    ids.extend(cstr::to_string(ffi::purple_request_field_get_id(field)));
                }
                field_list = (*field_list).next;
            }
            groups = (*groups).next;
        }
    }
    ids
}

/// "Sign Out": signs the ticked places out (all of them if "All other places" is ticked); a
/// refusal is shown.
unsafe extern "C" fn sign_out_ticked(data: *mut c_void, fields: *mut ffi::PurpleRequestFields) {
    entry((), || {
        let gc: *mut ffi::PurpleConnection = data.cast();
        // SAFETY: data is the connection the request was opened for, which is live: `close`
        // closes its requests; fields is the live form.
        let (Some(conn), ids) = (unsafe { Connection::from_gc(gc) }, unsafe {
            ticked(fields)
        }) else {
            return;
        };
        let all = ALL.to_str().unwrap_or_default();
        let mut refused = None;
        conn.command(|session, _| {
            if ids.iter().any(|id| id == all) {
                refused = session.sign_out_other_places().err();
                return;
            }
            for id in &ids {
                if let Err(e) = session.sign_out_place(id) {
                    refused.get_or_insert(e);
                }
            }
        });
        if let Some(e) = refused {
            log::warn!("signing a place out: {e}");
            let text = cstr::to_cstring(&format!("The place was not signed out: {e}."));
            // SAFETY: gc is live (above); libpurple copies the texts.
            unsafe {
                ffi::purple_notify_message(
                    gc.cast(),
                    ffi::PURPLE_NOTIFY_MSG_ERROR,
                    c"Signed-in Places".as_ptr(),
                    text.as_ptr(),
                    std::ptr::null(),
                    None,
                    std::ptr::null_mut(),
                )
            };
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{describe, Dialect};

    #[test]
    fn listing_texts() {
        assert_eq!(
            describe(Some(Dialect::new(12)), &[]).0,
            "Signed in here only"
        );
        assert_eq!(
            describe(Some(Dialect::new(18)), &[]).1,
            "No other place is signed in to this account."
        );
        let places = ["purple-msnp {a}".to_owned(), "{b}".to_owned()];
        assert_eq!(
            describe(Some(Dialect::new(18)), &places),
            (
                "Also signed in at 2 other place(s)".to_owned(),
                "purple-msnp {a}\n{b}".to_owned()
            )
        );
    }
}
