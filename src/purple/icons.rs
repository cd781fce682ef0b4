//! Buddy icons. Ours: the account's icon (at login and from `set_buddy_icon`) becomes our
//! display picture. Contacts': a picture announced in presence is fetched unless libpurple
//! already stores that one (the icon's checksum is the picture's `SHA1D`, so nothing is fetched
//! twice across sign-ins), and set as the buddy icon once it arrived and was verified.

use std::ffi::{c_void, CStr};
use std::ptr;

use msnp::session::PictureEvent;

use super::connection::Connection;
use super::guard::entry;
use super::{cstr, ffi};

/// The formats and size the official clients use for display pictures.
pub(crate) fn icon_spec() -> ffi::PurpleBuddyIconSpec {
    ffi::PurpleBuddyIconSpec {
        // libpurple only reads the format list; it is never freed.
        format: c"png,gif,jpeg".as_ptr().cast_mut(),
        min_width: 96,
        min_height: 96,
        max_width: 96,
        max_height: 96,
        max_filesize: msnp::session::pictures::MAX_PICTURE,
        scale_rules: ffi::PURPLE_ICON_SCALE_SEND,
    }
}

/// Gives the session the account's current icon (at login).
pub(crate) fn load_account_icon(conn: &Connection) {
    // SAFETY: the account is live; the returned image is referenced for us (or NULL).
    let img = unsafe { ffi::purple_buddy_icons_find_account_icon(conn.account()) };
    set_picture(conn, img);
    if !img.is_null() {
        // SAFETY: releases the reference find_account_icon took.
        unsafe { ffi::purple_imgstore_unref(img) };
    }
}

/// `set_buddy_icon`: the user chose a new icon, or none (`img` NULL).
pub(crate) unsafe extern "C" fn set_buddy_icon(
    gc: *mut ffi::PurpleConnection,
    img: *mut ffi::PurpleStoredImage,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection.
        if let Some(conn) = unsafe { Connection::from_gc(gc) } {
            set_picture(conn, img);
        }
    })
}

fn set_picture(conn: &Connection, img: *mut ffi::PurpleStoredImage) {
    let data = match img.is_null() {
        true => Vec::new(),
        // SAFETY: img is a live stored image; its data is `size` bytes, copied at once.
        false => unsafe {
            let (data, size) = (
                ffi::purple_imgstore_get_data(img),
                ffi::purple_imgstore_get_size(img),
            );
            match data.is_null() {
                true => Vec::new(),
                false => std::slice::from_raw_parts(data.cast::<u8>(), size).to_vec(),
            }
        },
    };
    conn.command(|session, _| {
        if let Err(e) = session.set_display_picture(Some(&data)) {
            log::warn!("buddy icon not used as display picture: {e}");
        }
    });
}

/// Applies a display-picture event (in order with the buddy list, see `blist`).
pub(crate) fn apply(conn: &Connection, event: PictureEvent) {
    match event {
        PictureEvent::Announced { email, sha1d } => {
            // Only buddies show icons: a picture for no buddy is not fetched.
            let Some(stored) = stored_checksum(conn, &email) else {
                return;
            };
            match sha1d {
                Some(sha1d) if stored.as_deref() == Some(sha1d.as_str()) => {}
                Some(_) => conn.command(|session, now| {
                    session.fetch_display_picture(&email, now);
                }),
                None if stored.is_some() => set_icon(conn, &email, None),
                None => {}
            }
        }
        PictureEvent::Received { email, sha1d, data } => {
            set_icon(conn, &email, Some((&data, &sha1d)))
        }
        PictureEvent::Failed { email, .. } => {
            log::info!("display picture of {email} could not be fetched")
        }
    }
}

/// The checksum of the icon libpurple stores for buddy `email` (`None` inside when it has no
/// icon); `None` when `email` is no buddy.
fn stored_checksum(conn: &Connection, email: &str) -> Option<Option<String>> {
    let who = cstr::to_cstring(email);
    // SAFETY: the account is live; the name is a C string; the buddy is only read.
    let buddy = unsafe { ffi::purple_find_buddy(conn.account(), who.as_ptr()) };
    if buddy.is_null() {
        return None;
    }
    // SAFETY: buddy is live; the checksum is owned by the buddy and copied at once.
    let checksum = unsafe { ffi::purple_buddy_icons_get_checksum_for_user(buddy) };
    if checksum.is_null() {
        return Some(None);
    }
    // SAFETY: a NUL-terminated string owned by the buddy, copied here.
    let checksum = unsafe { CStr::from_ptr(checksum) };
    Some(Some(checksum.to_string_lossy().into_owned()))
}

/// Sets (or removes) the buddy icon of `email`, with the picture's `SHA1D` as checksum.
fn set_icon(conn: &Connection, email: &str, icon: Option<(&[u8], &str)>) {
    let who = cstr::to_cstring(email);
    match icon {
        Some((data, sha1d)) => {
            let checksum = cstr::to_cstring(sha1d);
            // SAFETY: the data is copied into GLib memory of its size, which libpurple takes
            // over (and frees); the strings are copied.
            unsafe {
                let copy: *mut c_void = glib_sys::g_malloc(data.len().max(1));
                ptr::copy_nonoverlapping(data.as_ptr(), copy.cast::<u8>(), data.len());
                ffi::purple_buddy_icons_set_for_user(
                    conn.account(),
                    who.as_ptr(),
                    copy,
                    data.len(),
                    checksum.as_ptr(),
                );
            }
        }
        // SAFETY: NULL data removes the icon; the name is copied.
        None => unsafe {
            ffi::purple_buddy_icons_set_for_user(
                conn.account(),
                who.as_ptr(),
                ptr::null_mut(),
                0,
                ptr::null(),
            )
        },
    }
}
