//! Ink (handwritten messages) shown inline: the GIF goes into libpurple's image store and the
//! received message refers to it as `<IMG ID="n">`, as Pidgin's MSN plugin shows ink.

use std::ffi::{c_int, c_void};
use std::ptr;

use msnp::session::switchboard::Conversation;

use super::connection::Connection;
use super::conversation::now;
use super::{cstr, ffi};

/// Shows `gif` from `from` in `conversation` as a received message.
pub(crate) fn show(conn: &Connection, conversation: &Conversation, from: &str, gif: &[u8]) {
    // SAFETY: the data is copied into GLib memory of its size, which the image store takes over
    // (and frees with the image); no file name.
    let id = unsafe {
        let copy: *mut c_void = glib_sys::g_malloc(gif.len().max(1));
        ptr::copy_nonoverlapping(gif.as_ptr(), copy.cast::<u8>(), gif.len());
        ffi::purple_imgstore_add_with_id(copy, gif.len(), ptr::null())
    };
    if id == 0 {
        return log::warn!("ink from {from} could not be stored");
    }
    let html = cstr::to_cstring(&format!("<IMG ID=\"{id}\">"));
    let who = cstr::to_cstring(from);
    let flags = ffi::PURPLE_MESSAGE_RECV | ffi::PURPLE_MESSAGE_IMAGES;
    let gc = conn.gc();
    // SAFETY: gc is live while its Connection exists; libpurple copies the strings and ignores
    // unknown chat ids. The front end takes its own reference to the image while writing the
    // message; ours is released after.
    unsafe {
        match conversation {
            Conversation::Im(_) => ffi::serv_got_im(gc, who.as_ptr(), html.as_ptr(), flags, now()),
            Conversation::Chat(chat) => ffi::serv_got_chat_in(
                gc,
                *chat as c_int,
                who.as_ptr(),
                flags,
                html.as_ptr(),
                now(),
            ),
        }
        ffi::purple_imgstore_unref_by_id(id);
    }
}
