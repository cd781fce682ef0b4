//! The status types offered to the user, and their MSN codes.

use glib_sys::{g_list_append, GList};

use super::{cstr, ffi, guard::entry};

/// A user-selectable status: libpurple id, label and primitive.
pub(crate) struct StatusKind {
    /// libpurple status id (stable; saved in accounts.xml).
    pub id: &'static str,
    /// Label shown in the status menu.
    pub name: &'static str,
    /// libpurple primitive.
    pub primitive: ffi::PurpleStatusPrimitive,
}

/// Online statuses, in menu order. Each has a `message` attribute (the personal message).
pub(crate) const ONLINE: [StatusKind; 7] = [
    StatusKind {
        id: "available",
        name: "Available",
        primitive: ffi::PURPLE_STATUS_AVAILABLE,
    },
    StatusKind {
        id: "busy",
        name: "Busy",
        primitive: ffi::PURPLE_STATUS_UNAVAILABLE,
    },
    StatusKind {
        id: "brb",
        name: "Be Right Back",
        primitive: ffi::PURPLE_STATUS_AWAY,
    },
    StatusKind {
        id: "away",
        name: "Away",
        primitive: ffi::PURPLE_STATUS_AWAY,
    },
    StatusKind {
        id: "phone",
        name: "On the Phone",
        primitive: ffi::PURPLE_STATUS_UNAVAILABLE,
    },
    StatusKind {
        id: "lunch",
        name: "Out to Lunch",
        primitive: ffi::PURPLE_STATUS_AWAY,
    },
    StatusKind {
        id: "invisible",
        name: "Invisible",
        primitive: ffi::PURPLE_STATUS_INVISIBLE,
    },
];

/// `status_types`: builds a fresh list each call; libpurple takes ownership.
pub(crate) unsafe extern "C" fn status_types(_account: *mut ffi::PurpleAccount) -> *mut GList {
    entry(std::ptr::null_mut(), || {
        let mut list: *mut GList = std::ptr::null_mut();
        for kind in &ONLINE {
            let id = cstr::to_cstring(kind.id);
            let name = cstr::to_cstring(kind.name);
            // SAFETY: libpurple copies the id/name strings; the PurpleValue is owned by the
            // status type; the list is handed to libpurple.
            unsafe {
                let value = ffi::purple_value_new(ffi::PURPLE_TYPE_STRING);
                let ty = ffi::purple_status_type_new_with_attrs(
                    kind.primitive,
                    id.as_ptr(),
                    name.as_ptr(),
                    1,
                    1,
                    0,
                    c"message".as_ptr(),
                    c"Message".as_ptr(),
                    value,
                    std::ptr::null_mut::<std::ffi::c_void>(),
                );
                list = g_list_append(list, ty.cast());
            }
        }
        // SAFETY: as above, for the contacts' "now playing" (independent, never set by the
        // user: it shows what a contact's UBX CurrentMedia says).
        unsafe {
            let tune = ffi::purple_status_type_new_full(
                ffi::PURPLE_STATUS_TUNE,
                c"tune".as_ptr(),
                c"Now Playing".as_ptr(),
                0,
                0,
                1,
            );
            for (id, name) in [
                (c"tune_title", c"Title"),
                (c"tune_artist", c"Artist"),
                (c"tune_album", c"Album"),
            ] {
                let value = ffi::purple_value_new(ffi::PURPLE_TYPE_STRING);
                ffi::purple_status_type_add_attr(tune, id.as_ptr(), name.as_ptr(), value);
            }
            list = g_list_append(list, tune.cast());
        }
        // SAFETY: as above, for the attribute-less offline type.
        unsafe {
            let offline = ffi::purple_status_type_new_full(
                ffi::PURPLE_STATUS_OFFLINE,
                c"offline".as_ptr(),
                c"Offline".as_ptr(),
                1,
                1,
                0,
            );
            list = g_list_append(list, offline.cast());
        }
        list
    })
}
