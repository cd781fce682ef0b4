//! Messages carried across a reconnection. What a session ended before writing to any
//! switchboard, when it ended for a reason libpurple reconnects after, waits here per account
//! for the account's next connection, which sends it once signed in (docs/protocol.md §7.9).
//! If no connection takes it by its deadline, each message is shown as not delivered, with its
//! text, in its conversation.

use std::cell::RefCell;
use std::ffi::c_void;

use msnp::session::Unsent;

use super::guard::entry;
use super::{clock, conversation, ffi};

/// One account's carried messages and the timeout that gives up on them.
struct Carried {
    account: *mut ffi::PurpleAccount,
    unsent: Unsent,
    timeout: u32,
}

thread_local! {
    /// Every account's carried messages (libpurple runs on one thread).
    static CARRIED: RefCell<Vec<Carried>> = const { RefCell::new(Vec::new()) };
}

/// Keeps `unsent` for `account`'s next connection and tells the user in each conversation.
pub(crate) fn keep(account: *mut ffi::PurpleAccount, unsent: Unsent) {
    if unsent.is_empty() {
        return;
    }
    for peer in unsent.peers() {
        conversation::write_im(
            account,
            &peer,
            "Not sent yet: the connection to the server was lost. It will be sent once you are \
             signed in again, or reported here if that does not happen soon.",
            ffi::PURPLE_MESSAGE_SYSTEM,
        );
    }
    let unsent = match take_entry(account) {
        Some(mut earlier) => {
            earlier.append(unsent);
            earlier
        }
        None => unsent,
    };
    let ms = unsent.deadline().map_or(0, |d| {
        u32::try_from(clock::until(d).as_millis()).unwrap_or(u32::MAX)
    });
    // SAFETY: the data is the account pointer, only compared and checked against libpurple's
    // account list when the timeout fires; `take` and `release_all` remove the timeout.
    let timeout = unsafe { ffi::purple_timeout_add(ms, Some(expired_cb), account.cast()) };
    CARRIED.with(|c| {
        c.borrow_mut().push(Carried {
            account,
            unsent,
            timeout,
        })
    });
}

/// What is carried for `account`, for its new connection (empty if nothing).
pub(crate) fn take(account: *mut ffi::PurpleAccount) -> Unsent {
    take_entry(account).unwrap_or_default()
}

/// Removes `account`'s entry and its timeout.
fn take_entry(account: *mut ffi::PurpleAccount) -> Option<Unsent> {
    let entry = remove(account)?;
    // SAFETY: the handle came from purple_timeout_add and has not fired (its callback removes
    // the entry first).
    unsafe { ffi::purple_timeout_remove(entry.timeout) };
    Some(entry.unsent)
}

/// The plugin is going away (libpurple is shutting down): the timeouts are removed and what
/// was still carried is logged, there being no conversation left to show it in.
pub(crate) fn release_all() {
    for entry in CARRIED.with(|c| std::mem::take(&mut *c.borrow_mut())) {
        // SAFETY: as in `take_entry`.
        unsafe { ffi::purple_timeout_remove(entry.timeout) };
        for event in entry.unsent.give_up() {
            log::warn!("not delivered at shutdown: {event:?}");
        }
    }
}

/// `GSourceFunc`: the deadline passed without a new connection taking the messages. Returns
/// FALSE, so libpurple removes the timeout.
unsafe extern "C" fn expired_cb(data: *mut c_void) -> ffi::gboolean {
    entry(0, || {
        let account = data as *mut ffi::PurpleAccount;
        let Some(found) = remove(account) else {
            return 0;
        };
        let live = is_live(account);
        for event in found.unsent.give_up() {
            match live {
                true => conversation::show_undelivered(account, event),
                false => log::warn!("not delivered, account removed: {event:?}"),
            }
        }
        0
    })
}

/// Removes `account`'s entry, leaving its timeout to the caller.
fn remove(account: *mut ffi::PurpleAccount) -> Option<Carried> {
    CARRIED.with(|c| {
        let mut carried = c.borrow_mut();
        let at = carried.iter().position(|e| e.account == account)?;
        Some(carried.remove(at))
    })
}

/// Whether `account` is still one of libpurple's accounts (the user may have deleted it).
fn is_live(account: *mut ffi::PurpleAccount) -> bool {
    // SAFETY: libpurple owns the list; it is only read here.
    unsafe {
        let mut node = ffi::purple_accounts_get_all();
        while !node.is_null() {
            if (*node).data == account.cast() {
                return true;
            }
            node = (*node).next;
        }
    }
    false
}
