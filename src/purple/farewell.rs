//! The last request of a connection through the HTTP gateway that is being closed (its `OUT`,
//! see `Output::Farewell`). `close` frees the account's state at once, so the request lives
//! here instead: it goes after the gateway session's request in flight (whose answer is
//! awaited and dropped: the gateway takes one request at a time per session), is given up
//! after [`DEADLINE_MS`], and is cancelled when libpurple quits (its proxy layer, which the
//! request's connect belongs to, is gone before the plugin is unloaded; a sign-out by quitting
//! is not sent). Its answer is not read.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use msnp::http::HttpRequest;

use super::fetch::Fetch;
use super::ffi;
use super::guard::entry;
use super::transport::{Happened, Transport};

/// How long a last request may take, the request in flight before it included.
const DEADLINE_MS: u32 = 5_000;

/// One closed connection's last words.
struct Pending {
    key: usize,
    /// The `purple_timeout_add` handle of its deadline.
    timer: u32,
    /// The stream now out: the request that was in flight, then the last one.
    fetch: Option<Fetch>,
    /// The last request, while it waits for the one in flight.
    last: Option<HttpRequest>,
}

thread_local! {
    static PENDING: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
    /// The address the detached connects are registered under.
    static HANDLE: Cell<u8> = const { Cell::new(0) };
    /// The last key handed out.
    static KEYS: Cell<usize> = const { Cell::new(0) };
    /// libpurple is quitting: no new last request starts.
    static QUITTING: Cell<bool> = const { Cell::new(false) };
}

/// The proxy handle of the detached streams (only ever compared by libpurple).
pub(crate) fn proxy_handle() -> *mut c_void {
    HANDLE.with(|h| h.as_ptr().cast())
}

/// Sends `last` after `in_flight` (the same gateway session's request in flight, taken from
/// the connection of `account` being freed). A request in flight that is still connecting
/// never reached the gateway: it is cancelled, and `last` goes at once. Nothing goes for an
/// account with a proxy of its own: the last request goes through the global settings (the
/// account may be deleted while it connects), and must not bypass that proxy.
pub(crate) fn start(account: *mut ffi::PurpleAccount, in_flight: Option<Fetch>, last: HttpRequest) {
    // SAFETY: account is live during the connection's `close`; the proxy info it returns is
    // NULL or the account's own, live as long as the account.
    let own_type = unsafe {
        let own = ffi::purple_account_get_proxy_info(account);
        match own.is_null() {
            true => ffi::PURPLE_PROXY_USE_GLOBAL,
            false => ffi::purple_proxy_info_get_type(own),
        }
    };
    if QUITTING.get() {
        log::info!("HTTP gateway: quitting; the last request of a closed connection is not sent");
        return;
    }
    if own_type != ffi::PURPLE_PROXY_USE_GLOBAL {
        log::info!(
            "HTTP gateway: the account has a proxy of its own; its last request is not sent"
        );
        return;
    }
    let in_flight = match in_flight {
        Some(mut fetch) if fetch.is_out() => {
            fetch.detach();
            Some(fetch)
        }
        _ => None,
    };
    let waiting = in_flight.is_some();
    let key = KEYS.with(|k| k.replace(k.get().wrapping_add(1)));
    // SAFETY: the callback's data is a plain key, not a pointer; `release_all` removes every
    // timeout before the plugin is unloaded.
    let timer =
        unsafe { ffi::purple_timeout_add(DEADLINE_MS, Some(deadline_cb), key as *mut c_void) };
    PENDING.with_borrow_mut(|pending| {
        pending.push(Pending {
            key,
            timer,
            fetch: in_flight,
            last: Some(last),
        })
    });
    if !waiting {
        next(key);
    }
}

/// Something happened on a detached stream.
pub(crate) fn on_transport(stream: *const Transport, happened: Happened) {
    let over = PENDING.with_borrow_mut(|pending| {
        let entry = pending
            .iter_mut()
            .find(|p| p.fetch.as_ref().is_some_and(|f| f.runs_on(stream)))?;
        let result = entry.fetch.as_mut()?.on_transport(happened)?;
        if let Err(e) = result {
            log::debug!("HTTP gateway: a last request failed: {e}");
        }
        Some(entry.key)
    });
    if let Some(key) = over {
        next(key);
    }
}

/// The stream of `key` is over (or there is none): the last request goes, or `key` is done.
fn next(key: usize) {
    let (over, last) =
        PENDING.with_borrow_mut(|pending| match pending.iter_mut().find(|p| p.key == key) {
            Some(p) => (p.fetch.take(), p.last.take()),
            None => (None, None),
        });
    // Dropped outside the borrow: closing a stream calls into libpurple.
    drop(over);
    let started = last.map(|request| {
        log::info!("HTTP gateway: sending the last words of a closed connection");
        Fetch::start_detached(&request)
    });
    match started {
        Some(Ok(fetch)) => PENDING.with_borrow_mut(|pending| {
            if let Some(p) = pending.iter_mut().find(|p| p.key == key) {
                p.fetch = Some(fetch);
            }
        }),
        Some(Err(e)) => {
            log::debug!("HTTP gateway: the last request could not start: {e}");
            finish(key, true);
        }
        None => finish(key, true),
    }
}

/// Forgets `key`, removing its deadline unless that is what fired.
fn finish(key: usize, remove_timer: bool) {
    let done = PENDING.with_borrow_mut(|pending| {
        let at = pending.iter().position(|p| p.key == key)?;
        Some(pending.remove(at))
    });
    if let Some(done) = done {
        if remove_timer {
            // SAFETY: the timeout has not fired (its callback forgets the key first).
            unsafe { ffi::purple_timeout_remove(done.timer) };
        }
        drop(done);
    }
}

/// Hears of libpurple quitting (the core's "quitting" signal), before it closes the accounts.
pub(crate) fn watch_quitting() {
    // SAFETY: the callback has the signature of "quitting" (user data only), which libpurple
    // calls through the generic PurpleCallback type; the handle is a static address, and
    // `unwatch_quitting` disconnects it before the plugin is unloaded.
    unsafe {
        ffi::purple_signal_connect(
            ffi::purple_get_core().cast(),
            c"quitting".as_ptr(),
            proxy_handle(),
            Some(std::mem::transmute::<
                unsafe extern "C" fn(*mut c_void),
                unsafe extern "C" fn(),
            >(quitting_cb)),
            std::ptr::null_mut(),
        )
    };
}

/// Disconnects [`watch_quitting`]'s signal.
pub(crate) fn unwatch_quitting() {
    // SAFETY: disconnecting a handle with no connections does nothing.
    unsafe { ffi::purple_signals_disconnect_by_handle(proxy_handle()) };
}

/// "quitting": libpurple is about to close every account, then its proxy layer.
unsafe extern "C" fn quitting_cb(_data: *mut c_void) {
    entry((), || {
        QUITTING.set(true);
        release_all();
    })
}

/// Cancels every last request (libpurple quits, or the plugin is unloaded).
pub(crate) fn release_all() {
    let all = PENDING.with_borrow_mut(std::mem::take);
    for p in all {
        // SAFETY: the timeout of an entry still listed has not fired.
        unsafe { ffi::purple_timeout_remove(p.timer) };
    }
}

/// `GSourceFunc`: a last request's deadline passed: it is given up. Returns FALSE (libpurple
/// removes the timeout).
unsafe extern "C" fn deadline_cb(data: *mut c_void) -> ffi::gboolean {
    entry(0, || {
        log::info!("HTTP gateway: the last request of a closed connection was given up");
        finish(data as usize, false);
        0
    })
}
