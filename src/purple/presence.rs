//! Presence between libpurple and the session: our status, personal message and idleness
//! out; contacts' status, personal message, "now playing" and network in (status text,
//! tooltip, emblem).

use std::ffi::{c_char, c_int, CStr};

use glib_sys::{g_free, g_markup_escape_text};

use msnp::session::contacts::Presence;
use msnp::session::contacts::{CAPS_MOBILE, NETWORK_PHONE, NETWORK_YAHOO};
use msnp::session::Session;
use msnp::wire::{PrivacyMode, Status};

use super::connection::Connection;
use super::guard::entry;
use super::{cstr, ffi};

/// The status attribute carrying the personal message.
const MESSAGE: &CStr = c"message";
/// libpurple's independent "now playing" status and its attributes.
const TUNE: &CStr = c"tune";
const TUNE_TITLE: &CStr = c"tune_title";
const TUNE_ARTIST: &CStr = c"tune_artist";
const TUNE_ALBUM: &CStr = c"tune_album";

/// The MSN status of one of our libpurple status ids (see `status.rs`).
pub(crate) fn status_of_id(id: &str) -> Status {
    match id {
        "busy" => Status::Busy,
        "brb" => Status::BeRightBack,
        "away" => Status::Away,
        "phone" => Status::OnThePhone,
        "lunch" => Status::OutToLunch,
        "invisible" => Status::Hidden,
        "offline" => Status::Offline,
        _ => Status::Online,
    }
}

/// The libpurple status id showing a contact's MSN status (`IDL` is available and idle).
fn id_of_status(status: Option<Status>) -> &'static CStr {
    match status {
        Some(Status::Online | Status::Idle) => c"available",
        Some(Status::Busy) => c"busy",
        Some(Status::BeRightBack) => c"brb",
        Some(Status::Away) => c"away",
        Some(Status::OnThePhone) => c"phone",
        Some(Status::OutToLunch) => c"lunch",
        Some(Status::Hidden | Status::Offline) | None => c"offline",
    }
}

/// The MSN privacy mode of a libpurple privacy setting: only "allow all" and "deny listed
/// users" let people on neither list in.
pub(crate) fn privacy_mode(kind: ffi::PurplePrivacyType) -> PrivacyMode {
    match kind {
        ffi::PURPLE_PRIVACY_ALLOW_ALL | ffi::PURPLE_PRIVACY_DENY_USERS => PrivacyMode::AllowOthers,
        _ => PrivacyMode::BlockOthers,
    }
}

/// The status and personal message (HTML stripped) of a libpurple status; `None` for one
/// that is not ours to send (an independent status such as "tune").
///
/// # Safety
/// `status` must be NULL or a live PurpleStatus.
pub(crate) unsafe fn own_status(status: *mut ffi::PurpleStatus) -> Option<(Status, String)> {
    if status.is_null() {
        return None;
    }
    // SAFETY: status is live per the contract; the strings are copied at once.
    let id = unsafe { cstr::to_string(ffi::purple_status_get_id(status)) }?;
    if id == "tune" {
        return None;
    }
    // SAFETY: as above; the attribute may be NULL.
    let html = unsafe { ffi::purple_status_get_attr_string(status, MESSAGE.as_ptr()) };
    let message = if html.is_null() {
        String::new()
    } else {
        // SAFETY: html is a live NUL-terminated string; the stripped copy is ours to free.
        unsafe {
            let plain = ffi::purple_markup_strip_html(html);
            let text = cstr::to_string(plain).unwrap_or_default();
            g_free(plain.cast());
            text
        }
    };
    Some((status_of_id(&id), message.trim().to_owned()))
}

/// `set_status`: our status or personal message changed.
pub(crate) unsafe extern "C" fn set_status(
    account: *mut ffi::PurpleAccount,
    status: *mut ffi::PurpleStatus,
) {
    entry((), || {
        // SAFETY: libpurple passes a live account and status.
        let Some((status, message)) = (unsafe { own_status(status) }) else {
            return;
        };
        // SAFETY: as above.
        let gc = unsafe { ffi::purple_account_get_connection(account) };
        // SAFETY: gc is NULL or this account's live connection.
        if let Some(conn) = unsafe { Connection::from_gc(gc) } {
            conn.command(|session, _| session.set_status(status, &message));
        }
    })
}

/// `set_idle`: the user went idle (`idle_time` > 0) or came back.
pub(crate) unsafe extern "C" fn set_idle(gc: *mut ffi::PurpleConnection, idle_time: c_int) {
    entry((), || {
        // SAFETY: libpurple passes its live connection.
        if let Some(conn) = unsafe { Connection::from_gc(gc) } {
            conn.command(|session, _| session.set_idle(idle_time > 0));
        }
    })
}

/// Shows the status another place of our account set (MSNP16+), keeping our personal message.
/// libpurple hands it to `set_status`, which finds it already sent and sends nothing.
pub(crate) fn show_own(conn: &Connection, status: Status) {
    let id = match status {
        Status::Hidden => c"invisible",
        other => id_of_status(Some(other)),
    };
    let account = conn.account();
    // SAFETY: the account is live while its connection is; the message is copied before the
    // status changes; libpurple copies every string; the variadic list ends with NULL.
    unsafe {
        let active = ffi::purple_account_get_active_status(account);
        let message = match active.is_null() {
            true => None,
            false => cstr::to_string(ffi::purple_status_get_attr_string(active, MESSAGE.as_ptr())),
        };
        let message = cstr::to_cstring(message.as_deref().unwrap_or_default());
        ffi::purple_account_set_status(
            account,
            id.as_ptr(),
            1,
            MESSAGE.as_ptr(),
            message.as_ptr(),
            std::ptr::null::<c_char>(),
        );
    }
}

/// Shows a contact's presence: status with the personal message, idleness and "now playing".
pub(crate) fn show(conn: &Connection, presence: &Presence) {
    let account = conn.account();
    let who = cstr::to_cstring(&presence.email);
    let id = id_of_status(presence.status);
    // SAFETY: the account is live while its connection is; libpurple copies every string; the
    // variadic lists end with NULL as libpurple requires.
    unsafe {
        if presence.status.is_none() {
            ffi::purple_prpl_got_user_status(
                account,
                who.as_ptr(),
                id.as_ptr(),
                std::ptr::null::<c_char>(),
            );
        } else {
            let message = cstr::to_cstring(&presence.psm);
            let message = match presence.psm.is_empty() {
                true => std::ptr::null(),
                false => message.as_ptr(),
            };
            ffi::purple_prpl_got_user_status(
                account,
                who.as_ptr(),
                id.as_ptr(),
                MESSAGE.as_ptr(),
                message,
                std::ptr::null::<c_char>(),
            );
        }
        let idle = presence.status == Some(Status::Idle);
        ffi::purple_prpl_got_user_idle(account, who.as_ptr(), idle.into(), 0);
    }
    match (&presence.media, presence.status) {
        (Some(media), Some(_)) => {
            let (title, artist, album) = (
                cstr::to_cstring(&media.title),
                cstr::to_cstring(&media.artist),
                cstr::to_cstring(&media.album),
            );
            // SAFETY: as above.
            unsafe {
                ffi::purple_prpl_got_user_status(
                    account,
                    who.as_ptr(),
                    TUNE.as_ptr(),
                    TUNE_TITLE.as_ptr(),
                    title.as_ptr(),
                    TUNE_ARTIST.as_ptr(),
                    artist.as_ptr(),
                    TUNE_ALBUM.as_ptr(),
                    album.as_ptr(),
                    std::ptr::null::<c_char>(),
                )
            };
        }
        // SAFETY: as above.
        _ => unsafe {
            ffi::purple_prpl_got_user_status_deactive(account, who.as_ptr(), TUNE.as_ptr())
        },
    }
}

/// What the session knows of the contact behind `buddy`: presence, network, lists.
type Known = (Option<Presence>, Option<u32>, (bool, bool));

/// Looks a buddy's contact up in its account's session.
///
/// # Safety
/// `buddy` must be NULL or a live PurpleBuddy.
unsafe fn known(buddy: *mut ffi::PurpleBuddy) -> Option<Known> {
    if buddy.is_null() {
        return None;
    }
    // SAFETY: buddy is live per the contract; its account and name live as long as it.
    let (account, name) = unsafe {
        (
            ffi::purple_buddy_get_account(buddy),
            cstr::to_string(ffi::purple_buddy_get_name(buddy))?,
        )
    };
    // SAFETY: the account is live; its connection is NULL or live.
    let conn = unsafe { Connection::from_gc(ffi::purple_account_get_connection(account)) }?;
    let mut found = None;
    conn.command(|session: &mut Session, _| {
        found = Some((
            session.contact_presence(&name).cloned(),
            session.contact_network(&name),
            session.contact_lists(&name),
        ));
    });
    found
}

/// A g_malloc'd copy of `text` with markup escaped, for libpurple to free.
fn escaped(text: &str) -> *mut c_char {
    let text = cstr::to_cstring(text);
    // SAFETY: text is NUL-terminated; -1 means "up to the NUL"; the copy is owned by the caller.
    unsafe { g_markup_escape_text(text.as_ptr(), -1) }
}

/// What the buddy list shows under a buddy: the personal message, else the song.
fn status_line(presence: &Presence) -> Option<String> {
    match (&presence.media, presence.psm.as_str()) {
        (_, psm) if !psm.is_empty() => Some(psm.to_owned()),
        (Some(media), _) if !media.artist.is_empty() => {
            Some(format!("\u{266b} {} - {}", media.artist, media.title))
        }
        (Some(media), _) => Some(format!("\u{266b} {}", media.title)),
        _ => None,
    }
}

/// `status_text`: the personal message (or song) under the buddy's name.
pub(crate) unsafe extern "C" fn status_text(buddy: *mut ffi::PurpleBuddy) -> *mut c_char {
    entry(std::ptr::null_mut(), || {
        // SAFETY: libpurple passes a live buddy.
        let Some((Some(presence), _, _)) = (unsafe { known(buddy) }) else {
            return std::ptr::null_mut();
        };
        match presence.status.and(status_line(&presence)) {
            Some(line) => escaped(&line),
            None => std::ptr::null_mut(),
        }
    })
}

/// The network name shown for a contact that is not a plain MSN one.
fn network_name(network: Option<u32>, caps: u32) -> Option<&'static str> {
    match network {
        Some(NETWORK_YAHOO) => Some("Yahoo!"),
        Some(NETWORK_PHONE) => Some("Mobile phone"),
        _ if caps & CAPS_MOBILE != 0 => Some("Mobile device"),
        _ => None,
    }
}

/// `tooltip_text`: personal message, song, network and whether they list us.
pub(crate) unsafe extern "C" fn tooltip_text(
    buddy: *mut ffi::PurpleBuddy,
    info: *mut ffi::PurpleNotifyUserInfo,
    full: ffi::gboolean,
) {
    entry((), || {
        // SAFETY: libpurple passes a live buddy.
        let Some((presence, network, (_, listed))) = (unsafe { known(buddy) }) else {
            return;
        };
        let mut pairs: Vec<(&CStr, String)> = Vec::new();
        // SAFETY: the buddy is live; its presence and active status belong to it, and the name
        // is copied at once.
        let status = unsafe {
            let own = ffi::purple_buddy_get_presence(buddy);
            if ffi::purple_presence_is_online(own) != 0 {
                cstr::to_string(ffi::purple_status_get_name(
                    ffi::purple_presence_get_active_status(own),
                ))
            } else {
                None
            }
        };
        if let Some(status) = status {
            pairs.push((c"Status", status));
        }
        if let Some(p) = presence.as_ref().filter(|p| p.status.is_some()) {
            if !p.psm.is_empty() {
                pairs.push((c"Message", p.psm.clone()));
            }
            if let Some(media) = &p.media {
                let song = [media.artist.as_str(), media.title.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" - ");
                pairs.push((c"Now playing", song));
            }
        }
        let caps = presence.as_ref().map_or(0, |p| p.capabilities);
        if let Some(name) = network_name(network, caps) {
            pairs.push((c"Network", name.to_owned()));
        }
        if full != 0 {
            let answer = if listed { "Yes" } else { "No" };
            pairs.push((c"Has you on their list", answer.to_owned()));
        }
        for (label, value) in pairs {
            let value = cstr::to_cstring(&value);
            // SAFETY: info is live for this call; libpurple copies label and value.
            unsafe {
                ffi::purple_notify_user_info_add_pair_plaintext(
                    info,
                    label.as_ptr(),
                    value.as_ptr(),
                )
            };
        }
    })
}

/// `list_emblem`: "mobile" for phone contacts and mobile clients, "external" for Yahoo!.
pub(crate) unsafe extern "C" fn list_emblem(buddy: *mut ffi::PurpleBuddy) -> *const c_char {
    entry(std::ptr::null(), || {
        // SAFETY: libpurple passes a live buddy.
        let Some((presence, network, _)) = (unsafe { known(buddy) }) else {
            return std::ptr::null();
        };
        let caps = presence.as_ref().map_or(0, |p| p.capabilities);
        match network_name(network, caps) {
            Some("Yahoo!") => c"external".as_ptr(),
            Some(_) => c"mobile".as_ptr(),
            None => std::ptr::null(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use msnp::session::contacts::Media;

    #[test]
    fn status_ids_round_trip() {
        for status in [
            Status::Online,
            Status::Busy,
            Status::BeRightBack,
            Status::Away,
            Status::OnThePhone,
            Status::OutToLunch,
        ] {
            let id = id_of_status(Some(status)).to_str().unwrap();
            assert_eq!(status_of_id(id), status);
        }
        assert_eq!(id_of_status(Some(Status::Idle)), c"available");
        assert_eq!(id_of_status(None), c"offline");
        assert_eq!(status_of_id("invisible"), Status::Hidden);
        assert_eq!(
            privacy_mode(ffi::PURPLE_PRIVACY_DENY_USERS),
            PrivacyMode::AllowOthers
        );
        assert_eq!(
            privacy_mode(ffi::PURPLE_PRIVACY_ALLOW_BUDDYLIST),
            PrivacyMode::BlockOthers
        );
    }

    #[test]
    fn status_lines_and_networks() {
        let mut p = Presence {
            psm: "hi".into(),
            ..Presence::default()
        };
        assert_eq!(status_line(&p).as_deref(), Some("hi"));
        p.psm.clear();
        p.media = Some(Media {
            title: "Song".into(),
            artist: "Band".into(),
            album: String::new(),
        });
        assert_eq!(status_line(&p).as_deref(), Some("\u{266b} Band - Song"));
        assert_eq!(network_name(Some(32), 0), Some("Yahoo!"));
        assert_eq!(network_name(Some(1), 1), Some("Mobile device"));
        assert_eq!(network_name(Some(1), 0), None);
    }
}
