//! Custom emoticons: libpurple's custom smileys. A contact's are added to the conversation when
//! declared, before the text that uses them is written (as Pidgin's own MSN plugin does in
//! `msn_emoticon_msg`, opening the conversation if needed), with their `SHA1D` as checksum;
//! the image is asked for only when the conversation wants one (`purple_conv_custom_smiley_add`
//! returns TRUE), then written and closed, or closed without one if it cannot be had. Ours: the
//! user's custom smileys whose shortcuts a sent text uses are declared before it.

use std::ffi::c_int;

use msnp::message::emoticons::used_in;
use msnp::message::from_html;
use msnp::session::emoticons::{Declared, EmoticonEvent};
use msnp::session::switchboard::Conversation;

use super::connection::Connection;
use super::conversation::{im_conversation, open_im};
use super::{cstr, ffi};

/// Applies a custom-emoticon event to the conversation it names.
pub(crate) fn show(conn: &Connection, event: EmoticonEvent) {
    match event {
        EmoticonEvent::Declared {
            conversation,
            from,
            emoticons,
        } => {
            let conv = match &conversation {
                Conversation::Im(who) => im_conversation(conn, who),
                Conversation::Chat(_) => find(conn, &conversation),
            };
            if conv.is_null() {
                return;
            }
            let wanted: Vec<Declared> = emoticons
                .into_iter()
                .filter(|d| {
                    let (smile, sum) = (cstr::to_cstring(&d.shortcut), cstr::to_cstring(&d.sha1d));
                    // SAFETY: conv is live (just found or opened); libpurple copies the strings.
                    let wants = unsafe {
                        ffi::purple_conv_custom_smiley_add(
                            conv,
                            smile.as_ptr(),
                            c"sha1".as_ptr(),
                            sum.as_ptr(),
                            1,
                        )
                    };
                    wants != 0
                })
                .collect();
            // After every smiley is added: an image known already is written at once.
            if !wanted.is_empty() {
                conn.command(|session, now| {
                    for d in &wanted {
                        session.fetch_emoticon(&conversation, &from, &d.shortcut, &d.sha1d, now);
                    }
                });
            }
        }
        EmoticonEvent::Received {
            conversation,
            shortcut,
            data,
        } => close(conn, &conversation, &shortcut, &data),
        EmoticonEvent::Failed {
            conversation,
            shortcut,
        } => close(conn, &conversation, &shortcut, &[]),
    }
}

/// Writes `data` (if any) into the smiley `shortcut` of a still open conversation and closes it.
fn close(conn: &Connection, conversation: &Conversation, shortcut: &str, data: &[u8]) {
    let conv = find(conn, conversation);
    if conv.is_null() {
        return;
    }
    let smile = cstr::to_cstring(shortcut);
    // SAFETY: conv is live; the smiley was added (and left open) for this conversation; the
    // data is read during the call.
    unsafe {
        if !data.is_empty() {
            ffi::purple_conv_custom_smiley_write(conv, smile.as_ptr(), data.as_ptr(), data.len());
        }
        ffi::purple_conv_custom_smiley_close(conv, smile.as_ptr());
    }
}

/// The open conversation, or NULL.
fn find(conn: &Connection, conversation: &Conversation) -> *mut ffi::PurpleConversation {
    match conversation {
        Conversation::Im(who) => open_im(conn, who),
        // SAFETY: gc is live; a chat that is not open gives NULL.
        Conversation::Chat(id) => unsafe { ffi::purple_find_chat(conn.gc(), *id as c_int) },
    }
}

/// Declares the user's custom smileys that `html` uses in `conversation` (before its text is
/// sent). Sending goes on without them when the declaration cannot be queued.
pub(crate) fn declare_used(
    session: &mut msnp::session::Session,
    conversation: &Conversation,
    html: &str,
    now: std::time::Instant,
) {
    let smileys = used_smileys(html);
    if smileys.is_empty() {
        return;
    }
    let refs: Vec<(&str, &[u8])> = smileys
        .iter()
        .map(|(s, d)| (s.as_str(), d.as_slice()))
        .collect();
    if let Err(e) = session.send_emoticons(conversation, &refs, now) {
        log::info!("custom smileys not declared: {e}");
    }
}

/// The user's custom smileys (shortcut and image) whose shortcuts the text of `html` contains.
fn used_smileys(html: &str) -> Vec<(String, Vec<u8>)> {
    let (text, _) = from_html(html.as_bytes());
    let mut smileys = Vec::new();
    // SAFETY: libpurple returns a new list of its live smileys, which nothing here changes and
    // which stay alive during this call; their shortcuts and data are copied at once, and the
    // list (not the smileys) is freed.
    unsafe {
        let all = ffi::purple_smileys_get_all();
        let mut node = all;
        while !node.is_null() {
            let smiley = (*node).data as *mut ffi::PurpleSmiley;
            if let Some(shortcut) = cstr::to_string(ffi::purple_smiley_get_shortcut(smiley)) {
                smileys.push((smiley, shortcut));
            }
            node = (*node).next;
        }
        let shortcuts: Vec<&str> = smileys.iter().map(|(_, s)| s.as_str()).collect();
        let used: Vec<String> = used_in(&text, &shortcuts)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let out = smileys
            .iter()
            .filter(|(_, s)| used.contains(s))
            .filter_map(|(smiley, shortcut)| {
                let mut len = 0;
                let data = ffi::purple_smiley_get_data(*smiley, &mut len).cast::<u8>();
                (!data.is_null() && len > 0).then(|| {
                    (
                        shortcut.clone(),
                        std::slice::from_raw_parts(data, len).to_vec(),
                    )
                })
            })
            .collect();
        glib_sys::g_list_free(all);
        out
    }
}
