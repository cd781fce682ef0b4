//! Group chats between libpurple and the session: the chat slots, "Initiate Chat" in a buddy's
//! menu, and the roster and messages of open chats.

use std::ffi::{c_char, c_int, c_void};

use glib_sys::{g_hash_table_lookup, g_list_append, g_malloc0, GHashTable, GList};

use msnp::session::switchboard::{Conversation, Member, SendError};
use msnp::session::ChatEvent;

use super::connection::Connection;
use super::conversation::{is_ours, now, open_im, send_result, time_t};
use super::guard::entry;
use super::{cstr, ffi};

/// The chat component naming whom to invite when a chat is started from libpurple's "Join a
/// Chat" dialog.
const INVITE: &std::ffi::CStr = c"invite";

/// Applies a group-chat event to libpurple.
pub(crate) fn show(conn: &Connection, event: ChatEvent) {
    let gc = conn.gc();
    match event {
        ChatEvent::ChatStarted {
            chat,
            members,
            from_im,
        } => {
            let name = cstr::to_cstring(&format!("MSN chat {chat}"));
            // SAFETY: gc is live; libpurple copies the name and owns the conversation.
            let conv = unsafe { ffi::serv_got_joined_chat(gc, chat as c_int, name.as_ptr()) };
            if let Some(peer) = from_im {
                let text = format!(
                    "{peer} invited more people: the conversation continues in a group chat"
                );
                system_line(open_im(conn, &peer), &text);
                system_line(
                    conv,
                    &format!("Continued from the conversation with {peer}"),
                );
            }
            for member in members {
                add_user(conv, &member, false);
            }
        }
        ChatEvent::Joined { chat, member } => add_user(find(conn, chat), &member, true),
        ChatEvent::Left { chat, email } => {
            let conv = find(conn, chat);
            if !conv.is_null() {
                let email = cstr::to_cstring(&email);
                // SAFETY: conv is an open chat of this connection; libpurple copies the name.
                unsafe {
                    ffi::purple_conv_chat_remove_user(
                        ffi::purple_conversation_get_chat_data(conv),
                        email.as_ptr(),
                        std::ptr::null(),
                    )
                };
            }
        }
        ChatEvent::Message {
            conversation: Conversation::Chat(chat),
            from,
            html,
            timestamp,
            ..
        } => {
            let (from, html) = (cstr::to_cstring(&from), cstr::to_cstring(&html));
            // SAFETY: gc is live; libpurple copies the strings and ignores unknown chat ids.
            unsafe {
                ffi::serv_got_chat_in(
                    gc,
                    chat as c_int,
                    from.as_ptr(),
                    ffi::PURPLE_MESSAGE_RECV,
                    html.as_ptr(),
                    time_t(timestamp),
                )
            };
        }
        ChatEvent::ChatEnded { chat, reason } => {
            let conv = find(conn, chat);
            if !conv.is_null() {
                system_line(conv, &format!("The chat ended: {reason}"));
                // SAFETY: gc is live and the chat is open.
                unsafe { ffi::serv_got_chat_left(gc, chat as c_int) };
            }
        }
        other => log::debug!("conversation event not shown: {other:?}"),
    }
}

/// The open chat `chat` of this connection, or NULL.
fn find(conn: &Connection, chat: u32) -> *mut ffi::PurpleConversation {
    // SAFETY: gc is live; an unknown id gives NULL.
    unsafe { ffi::purple_find_chat(conn.gc(), chat as c_int) }
}

/// Adds someone to a chat's roster.
fn add_user(conv: *mut ffi::PurpleConversation, member: &Member, new_arrival: bool) {
    if conv.is_null() {
        return;
    }
    let email = cstr::to_cstring(&member.email);
    // SAFETY: conv is an open chat; libpurple copies the name.
    unsafe {
        ffi::purple_conv_chat_add_user(
            ffi::purple_conversation_get_chat_data(conv),
            email.as_ptr(),
            std::ptr::null(),
            ffi::PURPLE_CBFLAGS_NONE,
            ffi::gboolean::from(new_arrival),
        )
    };
}

/// Writes an informational line (plain text) into a conversation.
fn system_line(conv: *mut ffi::PurpleConversation, text: &str) {
    if conv.is_null() {
        return;
    }
    let mut html = String::new();
    msnp::message::escape_html(text, &mut html);
    let html = cstr::to_cstring(&html);
    // SAFETY: conv is live; libpurple copies the message.
    unsafe {
        ffi::purple_conversation_write(
            conv,
            std::ptr::null(),
            html.as_ptr(),
            ffi::PURPLE_MESSAGE_SYSTEM,
            now(),
        )
    };
}

/// `chat_info`: the "Join a Chat" dialog asks whom to invite into a new chat.
pub(crate) unsafe extern "C" fn chat_info(_gc: *mut ffi::PurpleConnection) -> *mut GList {
    entry(std::ptr::null_mut(), || {
        // SAFETY: a zeroed proto_chat_entry is valid; libpurple frees each entry with g_free;
        // the label and identifier are static strings.
        unsafe {
            let entry = g_malloc0(std::mem::size_of::<ffi::proto_chat_entry>())
                as *mut ffi::proto_chat_entry;
            (*entry).label = c"_Invite (e-mail):".as_ptr();
            (*entry).identifier = INVITE.as_ptr();
            g_list_append(std::ptr::null_mut(), entry.cast())
        }
    })
}

/// `join_chat`: starts a new chat, inviting the `invite` component if given.
pub(crate) unsafe extern "C" fn join_chat(
    gc: *mut ffi::PurpleConnection,
    components: *mut GHashTable,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection and a string-to-string table (or NULL).
        let (conn, invite) = unsafe {
            let invite = match components.is_null() {
                true => None,
                false => cstr::to_string(
                    g_hash_table_lookup(components, INVITE.as_ptr().cast()) as *const c_char
                ),
            };
            (Connection::from_gc(gc), invite)
        };
        let Some(conn) = conn else {
            return;
        };
        let invite = invite.filter(|who| !who.trim().is_empty());
        conn.command(|session, now| {
            if let Err(e) = session.start_chat(invite.as_deref(), now) {
                log::warn!("cannot start a chat: {e}");
            }
        });
    })
}

/// `chat_invite`: invites someone into an open chat.
pub(crate) unsafe extern "C" fn chat_invite(
    gc: *mut ffi::PurpleConnection,
    id: c_int,
    _message: *const c_char,
    who: *const c_char,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection and a NUL-terminated name.
        let (Some(conn), Some(who)) = (unsafe { Connection::from_gc(gc) }, unsafe {
            cstr::to_string(who)
        }) else {
            return;
        };
        let Ok(chat) = u32::try_from(id) else {
            return;
        };
        conn.command(|session, _| {
            if let Err(e) = session.chat_invite(chat, &who) {
                log::warn!("cannot invite {who}: {e}");
            }
        });
    })
}

/// `chat_leave`: the user left (closed) a chat.
pub(crate) unsafe extern "C" fn chat_leave(gc: *mut ffi::PurpleConnection, id: c_int) {
    entry((), || {
        // SAFETY: libpurple passes its live connection.
        let Some(conn) = (unsafe { Connection::from_gc(gc) }) else {
            return;
        };
        if let Ok(chat) = u32::try_from(id) {
            conn.command(|session, _| session.chat_leave(chat));
        }
    })
}

/// `chat_send`: sends to everyone in the chat and shows it in the chat (libpurple leaves the
/// echo of chat messages to the protocol).
pub(crate) unsafe extern "C" fn chat_send(
    gc: *mut ffi::PurpleConnection,
    id: c_int,
    message: *const c_char,
    _flags: ffi::PurpleMessageFlags,
) -> c_int {
    entry(-libc::EIO, || {
        // SAFETY: libpurple passes its live connection and a NUL-terminated message.
        let (Some(conn), Some(html)) = (unsafe { Connection::from_gc(gc) }, unsafe {
            cstr::to_string(message)
        }) else {
            return -libc::ENOTCONN;
        };
        let Ok(chat) = u32::try_from(id) else {
            return -libc::EINVAL;
        };
        let mut result = Err(SendError::NoSuchChat);
        conn.command(|session, now| {
            let conversation = Conversation::Chat(chat);
            super::emoticons::declare_used(session, &conversation, &html, now);
            result = session.chat_send(chat, &html, now);
        });
        if result.is_err() {
            return send_result(result);
        }
        // SAFETY: gc and its account are live; libpurple copies the strings.
        unsafe {
            let me = ffi::purple_account_get_username(conn.account());
            ffi::serv_got_chat_in(gc, id, me, ffi::PURPLE_MESSAGE_SEND, message, now());
        }
        0
    })
}

/// `blist_node_menu`: "Initiate Chat" for our buddies.
pub(crate) unsafe extern "C" fn blist_node_menu(node: *mut ffi::PurpleBlistNode) -> *mut GList {
    entry(std::ptr::null_mut(), || {
        if node.is_null() || buddy_connection(node).is_none() {
            return std::ptr::null_mut();
        }
        let callback: unsafe extern "C" fn(*mut ffi::PurpleBlistNode, *mut c_void) = initiate_chat;
        // SAFETY: the callback has the signature libpurple calls menu actions of a node with
        // (node, data), through the generic PurpleCallback type; libpurple owns the action.
        unsafe {
            let action = ffi::purple_menu_action_new(
                c"Initiate _Chat".as_ptr(),
                Some(std::mem::transmute::<
                    unsafe extern "C" fn(*mut ffi::PurpleBlistNode, *mut c_void),
                    unsafe extern "C" fn(),
                >(callback)),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            g_list_append(std::ptr::null_mut(), action.cast())
        }
    })
}

/// The connection of a buddy node's account, if it is a buddy of ours signed in; with the
/// buddy's name.
fn buddy_connection(
    node: *mut ffi::PurpleBlistNode,
) -> Option<(*mut ffi::PurpleConnection, String)> {
    // SAFETY: node is a live blist node; a buddy node is a PurpleBuddy.
    unsafe {
        if ffi::purple_blist_node_get_type(node) != ffi::PURPLE_BLIST_BUDDY_NODE {
            return None;
        }
        let buddy = node as *mut ffi::PurpleBuddy;
        let gc = ffi::purple_account_get_connection(ffi::purple_buddy_get_account(buddy));
        let name = cstr::to_string(ffi::purple_buddy_get_name(buddy))?;
        is_ours(gc).then_some((gc, name))
    }
}

/// "Initiate Chat": a new chat with the buddy invited.
unsafe extern "C" fn initiate_chat(node: *mut ffi::PurpleBlistNode, _data: *mut c_void) {
    entry((), || {
        if node.is_null() {
            return;
        }
        let Some((gc, who)) = buddy_connection(node) else {
            return;
        };
        // SAFETY: gc is a live connection of this plugin.
        let Some(conn) = (unsafe { Connection::from_gc(gc) }) else {
            return;
        };
        conn.command(|session, now| {
            if let Err(e) = session.start_chat(Some(&who), now) {
                log::warn!("cannot start a chat with {who}: {e}");
            }
        });
    })
}
