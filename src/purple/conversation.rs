//! Conversations: IMs, typing, nudges and delivery reports between libpurple and the session;
//! group chats are in `chat.rs`.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use glib_sys::{g_list_append, GList};

use msnp::session::switchboard::{Conversation, SendError};
use msnp::session::ChatEvent;

use super::connection::Connection;
use super::guard::entry;
use super::{account, chat, cstr, emoticons, ffi, ink};

/// What libpurple is told the connection understands: HTML without background colours, font
/// sizes or link descriptions (the `X-MMS-IM-Format` has none of them).
const HTML_FLAGS: ffi::PurpleConnectionFlags = ffi::PURPLE_CONNECTION_HTML
    | ffi::PURPLE_CONNECTION_ALLOW_CUSTOM_SMILEY
    | ffi::PURPLE_CONNECTION_NO_BGCOLOR
    | ffi::PURPLE_CONNECTION_NO_FONTSIZE
    | ffi::PURPLE_CONNECTION_NO_URLDESC;

/// The attention types list (built once, kept for the life of the process as libpurple
/// expects), as an address.
static ATTENTION_TYPES: AtomicUsize = AtomicUsize::new(0);

/// Applies a conversation event to libpurple.
pub(crate) fn show(conn: &Connection, event: ChatEvent) {
    let gc = conn.gc();
    match event {
        ChatEvent::Message {
            conversation: Conversation::Im(_),
            from,
            html,
            timestamp,
            ..
        } => {
            let mut flags = ffi::PURPLE_MESSAGE_RECV;
            if timestamp.is_some() {
                flags |= ffi::PURPLE_MESSAGE_DELAYED;
            }
            let (from, html) = (cstr::to_cstring(&from), cstr::to_cstring(&html));
            // SAFETY: gc is live while its Connection exists; libpurple copies the strings.
            unsafe { ffi::serv_got_im(gc, from.as_ptr(), html.as_ptr(), flags, time_t(timestamp)) };
        }
        ChatEvent::SentElsewhere { to, html } => {
            let conv = im_conversation(conn, &to);
            let html = cstr::to_cstring(&html);
            // SAFETY: conv is NULL or a live IM conversation of this account; the account is
            // live while its connection is; libpurple copies the strings.
            unsafe {
                let me = ffi::purple_account_get_username(conn.account());
                let im = match conv.is_null() {
                    true => std::ptr::null_mut(),
                    false => ffi::purple_conversation_get_im_data(conv),
                };
                if !im.is_null() {
                    let flags = ffi::PURPLE_MESSAGE_SEND | ffi::PURPLE_MESSAGE_REMOTE_SEND;
                    ffi::purple_conv_im_write(im, me, html.as_ptr(), flags, time_t(None));
                }
            }
        }
        ChatEvent::Opened { with } => {
            // SAFETY: the account is live while its Connection exists; the key is a C string.
            let open = unsafe {
                ffi::purple_account_get_bool(conn.account(), account::OPEN_ON_INVITE.as_ptr(), 0)
            };
            if open != 0 {
                im_conversation(conn, &with);
            }
        }
        ChatEvent::Typing { from, typing } => {
            let from = cstr::to_cstring(&from);
            // SAFETY: gc is live; libpurple copies the name. Timeout 0: the session says when
            // typing stops.
            unsafe {
                match typing {
                    true => ffi::serv_got_typing(gc, from.as_ptr(), 0, ffi::PURPLE_TYPING),
                    false => ffi::serv_got_typing_stopped(gc, from.as_ptr()),
                }
            }
        }
        ChatEvent::Nudge { from } => {
            let from = cstr::to_cstring(&from);
            // SAFETY: gc is live; attention type 0 is the nudge of get_attention_types.
            unsafe { ffi::purple_prpl_got_attention(gc, from.as_ptr(), 0) };
        }
        ChatEvent::Undelivered {
            conversation,
            text,
            reason,
        } => write(
            conn,
            &conversation,
            &undelivered_line(&text, &reason),
            ffi::PURPLE_MESSAGE_ERROR,
        ),
        ChatEvent::Ink {
            conversation,
            from,
            gif,
        } => ink::show(conn, &conversation, &from, &gif),
        // SAFETY: the account is live while its connection is.
        ChatEvent::OfflineShown { ids } => unsafe {
            super::config::remember_offline_shown(conn.account(), &ids)
        },
        ChatEvent::Notice { conversation, text } => write(
            conn,
            &conversation,
            &escape(&text),
            ffi::PURPLE_MESSAGE_SYSTEM,
        ),
        other => chat::show(conn, other),
    }
}

/// A connection starts: HTML flags on it (libpurple reads them when formatting what the user
/// types).
pub(crate) fn prepare(gc: *mut ffi::PurpleConnection) {
    // SAFETY: gc is the live connection being signed in; flags is a plain field of it.
    unsafe { (*gc).flags |= HTML_FLAGS };
}

/// Connects "conversation-created" for `conn`, under the connection's address as handle (the
/// connection disconnects its handle before it is freed).
pub(crate) fn connect_signals(conn: &Connection) {
    let created: unsafe extern "C" fn(*mut ffi::PurpleConversation, *mut c_void) =
        conversation_created;
    let data: *const Connection = conn;
    // SAFETY: the callback has the signature of "conversation-created" (conversation, user
    // data), which libpurple calls through the generic PurpleCallback type; the handle and data
    // are the connection, which disconnects before it is freed.
    unsafe {
        ffi::purple_signal_connect(
            ffi::purple_conversations_get_handle(),
            c"conversation-created".as_ptr(),
            data as *mut c_void,
            Some(std::mem::transmute::<
                unsafe extern "C" fn(*mut ffi::PurpleConversation, *mut c_void),
                unsafe extern "C" fn(),
            >(created)),
            data as *mut c_void,
        )
    };
}

/// "conversation-created": a new IM window with a contact of this connection's account starts
/// a switchboard at once, so the contact (or a bot) can greet before the user types.
unsafe extern "C" fn conversation_created(conv: *mut ffi::PurpleConversation, data: *mut c_void) {
    entry((), || {
        if conv.is_null() {
            return;
        }
        // SAFETY: data is the live connection that connected this signal (it disconnects
        // before it is freed); libpurple passes the live conversation it just created.
        let (conn, kind, gc, name) = unsafe {
            (
                &*(data as *const Connection),
                ffi::purple_conversation_get_type(conv),
                ffi::purple_conversation_get_gc(conv),
                cstr::to_string(ffi::purple_conversation_get_name(conv)),
            )
        };
        if kind != ffi::PURPLE_CONV_TYPE_IM || gc != conn.gc() {
            return;
        }
        let Some(name) = name else {
            return;
        };
        conn.command(|session, now| {
            if let Err(e) = session.open_conversation(&name, now) {
                log::debug!("no switchboard for the new conversation: {e}");
            }
        });
    })
}

/// The names of this account's open IM conversations. Those opened before the session signed
/// in (a window opened while signing in, or one kept open across a reconnection) got no
/// switchboard from [`conversation_created`]; the connection starts theirs once signed in.
pub(crate) fn open_im_names(conn: &Connection) -> Vec<String> {
    let mut names = Vec::new();
    // SAFETY: libpurple owns the list and its live conversations; nothing here changes them,
    // and the names are copied at once.
    unsafe {
        let mut node = ffi::purple_get_ims();
        while !node.is_null() {
            let conv = (*node).data as *mut ffi::PurpleConversation;
            if ffi::purple_conversation_get_account(conv) == conn.account() {
                names.extend(cstr::to_string(ffi::purple_conversation_get_name(conv)));
            }
            node = (*node).next;
        }
    }
    names
}

/// Whether `gc` is a connection of this plugin.
pub(crate) fn is_ours(gc: *mut ffi::PurpleConnection) -> bool {
    if gc.is_null() {
        return false;
    }
    // SAFETY: gc is a live connection (libpurple handed it over); the account and its protocol
    // id live as long as it.
    let id = unsafe {
        cstr::to_string(ffi::purple_account_get_protocol_id(
            ffi::purple_connection_get_account(gc),
        ))
    };
    id.as_deref() == Some(super::plugin::PROTOCOL_ID)
}

/// Writes a line into a conversation: the IM window (opened if needed) or the open chat.
fn write(
    conn: &Connection,
    conversation: &Conversation,
    html: &str,
    flags: ffi::PurpleMessageFlags,
) {
    let conv = match conversation {
        Conversation::Im(who) => im_conversation(conn, who),
        // SAFETY: gc is live; a chat that is not open gives NULL.
        Conversation::Chat(id) => unsafe { ffi::purple_find_chat(conn.gc(), *id as c_int) },
    };
    if conv.is_null() {
        return log::info!("{html}");
    }
    let html = cstr::to_cstring(html);
    // SAFETY: conv is live (just found or created); libpurple copies the message.
    unsafe { ffi::purple_conversation_write(conv, std::ptr::null(), html.as_ptr(), flags, now()) };
}

/// The IM conversation with `who`, opened if needed.
pub(crate) fn im_conversation(conn: &Connection, who: &str) -> *mut ffi::PurpleConversation {
    im_conversation_of(conn.account(), who)
}

/// `account`'s IM conversation with `who`, opened if needed (also while it is signed out).
fn im_conversation_of(account: *mut ffi::PurpleAccount, who: &str) -> *mut ffi::PurpleConversation {
    let found = find_im(account, who);
    if !found.is_null() {
        return found;
    }
    let name = cstr::to_cstring(who);
    // SAFETY: callers pass a live account; libpurple copies the name.
    unsafe { ffi::purple_conversation_new(ffi::PURPLE_CONV_TYPE_IM, account, name.as_ptr()) }
}

/// The open IM conversation with `who`, or NULL.
pub(crate) fn open_im(conn: &Connection, who: &str) -> *mut ffi::PurpleConversation {
    find_im(conn.account(), who)
}

/// `account`'s open IM conversation with `who`, or NULL.
fn find_im(account: *mut ffi::PurpleAccount, who: &str) -> *mut ffi::PurpleConversation {
    let name = cstr::to_cstring(who);
    // SAFETY: callers pass a live account; libpurple copies the name.
    unsafe {
        ffi::purple_find_conversation_with_account(ffi::PURPLE_CONV_TYPE_IM, name.as_ptr(), account)
    }
}

/// Writes a line into `account`'s IM conversation with `who` (opened if needed), whether or
/// not the account is signed in.
pub(crate) fn write_im(
    account: *mut ffi::PurpleAccount,
    who: &str,
    html: &str,
    flags: ffi::PurpleMessageFlags,
) {
    let conv = im_conversation_of(account, who);
    if conv.is_null() {
        return log::info!("{html}");
    }
    let html = cstr::to_cstring(html);
    // SAFETY: conv is live (just found or created); libpurple copies the message.
    unsafe { ffi::purple_conversation_write(conv, std::ptr::null(), html.as_ptr(), flags, now()) };
}

/// Shows a one-to-one message as not delivered for an account that may be signed out.
pub(crate) fn show_undelivered(account: *mut ffi::PurpleAccount, event: ChatEvent) {
    match event {
        ChatEvent::Undelivered {
            conversation: Conversation::Im(who),
            text,
            reason,
        } => write_im(
            account,
            &who,
            &undelivered_line(&text, &reason),
            ffi::PURPLE_MESSAGE_ERROR,
        ),
        other => log::warn!("not shown without a connection: {other:?}"),
    }
}

/// The error line for a message not delivered: why, then its text.
fn undelivered_line(text: &str, reason: &str) -> String {
    format!(
        "Message could not be delivered ({}):<br>{}",
        escape(reason),
        escape(text).replace('\n', "<br>")
    )
}

/// `send_im`: queues the message; 1 = sent (libpurple shows it), negative = failed.
pub(crate) unsafe extern "C" fn send_im(
    gc: *mut ffi::PurpleConnection,
    who: *const c_char,
    message: *const c_char,
    _flags: ffi::PurpleMessageFlags,
) -> c_int {
    entry(-libc::EIO, || {
        // SAFETY: libpurple passes its live connection and NUL-terminated strings.
        let (conn, who, html) = unsafe {
            (
                Connection::from_gc(gc),
                cstr::to_string(who),
                cstr::to_string(message),
            )
        };
        let (Some(conn), Some(who), Some(html)) = (conn, who, html) else {
            return -libc::ENOTCONN;
        };
        let mut result = Err(SendError::NotSignedIn);
        conn.command(|session, now| {
            let conversation = Conversation::Im(who.to_ascii_lowercase());
            emoticons::declare_used(session, &conversation, &html, now);
            result = session.send_im(&who, &html, now);
        });
        send_result(result)
    })
}

/// A session result as libpurple's send return value.
pub(crate) fn send_result(result: Result<(), SendError>) -> c_int {
    match result {
        Ok(()) => 1,
        Err(SendError::NotSignedIn) => -libc::ENOTCONN,
        Err(SendError::Busy) => -libc::EAGAIN,
        Err(SendError::InvalidAddress | SendError::NoSuchChat) => -libc::EINVAL,
    }
}

/// `send_typing`: tells the contact while the user types; returns when to call again.
pub(crate) unsafe extern "C" fn send_typing(
    gc: *mut ffi::PurpleConnection,
    name: *const c_char,
    state: ffi::PurpleTypingState,
) -> c_uint {
    entry(0, || {
        if state != ffi::PURPLE_TYPING {
            return 0;
        }
        // SAFETY: libpurple passes its live connection and a NUL-terminated name.
        let (Some(conn), Some(name)) = (unsafe { Connection::from_gc(gc) }, unsafe {
            cstr::to_string(name)
        }) else {
            return 0;
        };
        let mut again = 0;
        conn.command(|session, now| {
            again = session.send_typing(&name, now).as_secs() as c_uint;
        });
        again
    })
}

/// `convo_closed`: the user closed the IM window.
pub(crate) unsafe extern "C" fn convo_closed(gc: *mut ffi::PurpleConnection, who: *const c_char) {
    entry((), || {
        // SAFETY: libpurple passes its live connection and a NUL-terminated name.
        let (Some(conn), Some(who)) = (unsafe { Connection::from_gc(gc) }, unsafe {
            cstr::to_string(who)
        }) else {
            return;
        };
        conn.command(|session, _| session.close_conversation(&who));
    })
}

/// `send_attention`: a nudge (`/nudge` in Pidgin and Finch).
pub(crate) unsafe extern "C" fn send_attention(
    gc: *mut ffi::PurpleConnection,
    who: *const c_char,
    _kind: ffi::guint,
) -> ffi::gboolean {
    entry(0, || {
        // SAFETY: libpurple passes its live connection and a NUL-terminated name.
        let (Some(conn), Some(who)) = (unsafe { Connection::from_gc(gc) }, unsafe {
            cstr::to_string(who)
        }) else {
            return 0;
        };
        let mut result = Err(SendError::NotSignedIn);
        conn.command(|session, now| result = session.send_nudge(&who, now));
        ffi::gboolean::from(result.is_ok())
    })
}

/// `get_attention_types`: one type, the nudge. The list lives for the life of the process.
pub(crate) unsafe extern "C" fn get_attention_types(
    _account: *mut ffi::PurpleAccount,
) -> *mut GList {
    entry(std::ptr::null_mut(), || {
        let existing = ATTENTION_TYPES.load(Ordering::SeqCst);
        if existing != 0 {
            return existing as *mut GList;
        }
        // SAFETY: libpurple copies nothing here: the strings are leaked and the type and list
        // are kept for the life of the process (libpurple never frees this list).
        let list = unsafe {
            let nudge = ffi::purple_attention_type_new(
                cstr::leak("Nudge"),
                cstr::leak("Nudge"),
                cstr::leak("%s has nudged you!"),
                cstr::leak("Nudging %s..."),
            );
            g_list_append(std::ptr::null_mut(), nudge.cast())
        };
        match ATTENTION_TYPES.compare_exchange(0, list as usize, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => list,
            Err(other) => other as *mut GList,
        }
    })
}

/// HTML-escapes plain text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    msnp::message::escape_html(text, &mut out);
    out
}

/// A message time: the given Unix time, or now.
pub(crate) fn time_t(timestamp: Option<i64>) -> libc::time_t {
    timestamp.map_or_else(now, |t| t as libc::time_t)
}

/// The current Unix time.
pub(crate) fn now() -> libc::time_t {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as libc::time_t)
}
