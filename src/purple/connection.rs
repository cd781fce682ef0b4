//! Per-account glue: owns the core session and every libpurple handle it uses, applies the
//! session's outputs, and is freed exactly once in `close`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Instant;

use msnp::session::{ConnId, EndReason, Event, HttpId, Output, Session, PROGRESS_STEPS};

use super::fetch::Fetch;
use super::guard::panic_message;
use super::socket::Socket;
use super::timer::Timer;
use super::{clock, config, cstr, errors, ffi};

/// Everything one signed-in (or signing-in) account owns. Lives in the connection's
/// `protocol_data` as a raw `Box`, created in `login` and dropped in `close`.
pub(crate) struct Connection {
    gc: *mut ffi::PurpleConnection,
    account: *mut ffi::PurpleAccount,
    session: RefCell<Session>,
    sockets: RefCell<HashMap<ConnId, Box<Socket>>>,
    fetches: RefCell<HashMap<HttpId, Box<Fetch>>>,
    timer: Timer,
    /// Set once the session ended (or panicked): later callbacks do nothing.
    ended: Cell<bool>,
}

impl Connection {
    pub(crate) fn gc(&self) -> *mut ffi::PurpleConnection {
        self.gc
    }

    pub(crate) fn account(&self) -> *mut ffi::PurpleAccount {
        self.account
    }

    /// The handle our `purple_proxy_connect` calls are registered under. Not the
    /// PurpleConnection: libpurple cancels (and frees) every connect registered under the
    /// connection just before it calls `close`, where ours are cancelled once, by their owners.
    pub(crate) fn proxy_handle(&self) -> *mut std::ffi::c_void {
        (self as *const Connection).cast_mut().cast()
    }

    /// The connection state of `gc`, if it is one of ours and still open.
    ///
    /// # Safety
    /// `gc` must be NULL or a live PurpleConnection of this plugin.
    pub(crate) unsafe fn from_gc<'a>(gc: *mut ffi::PurpleConnection) -> Option<&'a Connection> {
        if gc.is_null() {
            return None;
        }
        // SAFETY: gc is live per the contract; protocol_data is NULL or our boxed Connection,
        // which lives until `close` clears it.
        let data = unsafe { ffi::purple_connection_get_protocol_data(gc) } as *const Connection;
        // SAFETY: as above.
        (!data.is_null()).then(|| unsafe { &*data })
    }

    /// Runs a user command (a vtable slot) against the session under the panic guard, then
    /// applies what it produced.
    pub(crate) fn command(&self, f: impl FnOnce(&mut Session, Instant)) {
        self.guarded(|conn| {
            f(&mut conn.session.borrow_mut(), clock::now());
            conn.pump();
        });
    }

    /// Runs a callback body for this connection: skipped after the session ended, and a panic
    /// inside it ends the connection with an "internal error" instead of unwinding into C.
    pub(crate) fn guarded(&self, f: impl FnOnce(&Connection)) {
        if self.ended.get() {
            return;
        }
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self))) {
            let text = format!(
                "Internal error in the MSN plugin: {}",
                panic_message(&*payload)
            );
            self.fail(ffi::PURPLE_CONNECTION_ERROR_OTHER_ERROR, &text);
        }
    }

    pub(crate) fn on_connected(&self, id: ConnId) {
        self.session.borrow_mut().handle_connected(id, clock::now());
        self.pump();
    }

    pub(crate) fn on_connection_lost(&self, id: ConnId, text: String) {
        self.sockets.borrow_mut().remove(&id);
        self.session
            .borrow_mut()
            .handle_connection_lost(id, text, clock::now());
        self.pump();
    }

    pub(crate) fn on_bytes(&self, id: ConnId, bytes: &[u8]) {
        #[cfg(feature = "test-hooks")]
        super::test_hooks::maybe_panic_on_read(self.account);
        self.session
            .borrow_mut()
            .handle_bytes(id, bytes, clock::now());
        self.pump();
    }

    pub(crate) fn on_http_done(&self, id: HttpId, result: Result<Vec<u8>, String>) {
        self.fetches.borrow_mut().remove(&id);
        {
            let mut session = self.session.borrow_mut();
            match result {
                Ok(raw) => session.handle_http_response(id, &raw, clock::now()),
                Err(text) => session.handle_http_failed(id, text, clock::now()),
            }
        }
        self.pump();
    }

    /// The timer fired: forget its (now removed) handle and let the session act.
    pub(crate) fn timer_fired(&self) {
        self.timer.forget();
        self.guarded(|conn| {
            conn.session.borrow_mut().handle_timeout(clock::now());
            conn.pump();
        });
    }

    /// Says goodbye to the server (best effort) before the connection is freed.
    fn sign_out(&self) {
        self.session.borrow_mut().sign_out();
        self.pump();
    }

    /// Applies every pending output of the session, then re-arms the timer. No borrow of the
    /// session is held while libpurple is called, so re-entrant calls are safe.
    fn pump(&self) {
        loop {
            if self.ended.get() {
                return;
            }
            let next = self.session.borrow_mut().poll();
            match next {
                Some(output) => self.apply(output),
                None => break,
            }
        }
        let deadline = self.session.borrow().poll_timeout();
        self.timer.set(self, deadline);
    }

    fn apply(&self, output: Output) {
        match output {
            Output::Connect { conn, host, port } => {
                match Socket::connect(self, conn, &host, port) {
                    Ok(socket) => {
                        self.sockets.borrow_mut().insert(conn, socket);
                    }
                    Err(text) => {
                        self.session
                            .borrow_mut()
                            .handle_connection_lost(conn, text, clock::now())
                    }
                }
            }
            Output::Send { conn, bytes } => {
                let result = match self.sockets.borrow_mut().get_mut(&conn) {
                    Some(socket) => socket.send(&bytes),
                    None => Ok(()), // already closed: the session learns from handle_connection_lost
                };
                if let Err(text) = result {
                    self.sockets.borrow_mut().remove(&conn);
                    self.session
                        .borrow_mut()
                        .handle_connection_lost(conn, text, clock::now());
                }
            }
            Output::Close { conn } => {
                self.sockets.borrow_mut().remove(&conn);
            }
            Output::Http { id, request } => Fetch::start(self, id, &request),
            Output::Event(event) => self.show(event),
        }
    }

    /// Records a started fetch so `close` can cancel it.
    pub(crate) fn add_fetch(&self, id: HttpId, fetch: Box<Fetch>) {
        self.fetches.borrow_mut().insert(id, fetch);
    }

    /// Reports a fetch that failed before it started.
    pub(crate) fn fetch_failed_at_once(&self, id: HttpId, text: String) {
        self.session
            .borrow_mut()
            .handle_http_failed(id, text, clock::now());
    }

    fn show(&self, event: Event) {
        match event {
            Event::Progress { step } => {
                let text =
                    cstr::to_cstring(PROGRESS_STEPS.get(step).copied().unwrap_or("Connecting"));
                // SAFETY: gc is live while this connection exists; libpurple copies the text.
                unsafe {
                    ffi::purple_connection_update_progress(
                        self.gc,
                        text.as_ptr(),
                        step,
                        PROGRESS_STEPS.len(),
                    )
                };
            }
            Event::SignedIn { version } => {
                log::info!("signed in with MSNP{version}");
                // SAFETY: gc is live while this connection exists.
                unsafe { ffi::purple_connection_set_state(self.gc, ffi::PURPLE_CONNECTED) };
            }
            Event::Ended(reason) => self.end(reason),
            Event::Contact(event) => super::blist::show(self, event),
            Event::Chat(event) => super::conversation::show(self, event),
            Event::Picture(event) => super::blist::show_picture(self, event),
        }
    }

    fn end(&self, reason: EndReason) {
        log::info!("session ended: {reason}");
        if reason == EndReason::SignedOut {
            self.release();
            return;
        }
        self.fail(errors::connection_error(&reason), &reason.to_string());
    }

    /// Ends the connection with an error shown to the user; libpurple then calls `close`.
    fn fail(&self, reason: ffi::PurpleConnectionError, text: &str) {
        if self.ended.replace(true) {
            return;
        }
        self.release();
        let text = cstr::to_cstring(text);
        // SAFETY: gc is live; libpurple copies the text and schedules the disconnect.
        unsafe { ffi::purple_connection_error_reason(self.gc, reason, text.as_ptr()) };
    }

    /// Cancels every socket, fetch and timer. Safe to call more than once.
    fn release(&self) {
        self.ended.set(true);
        let sockets = std::mem::take(&mut *self.sockets.borrow_mut());
        drop(sockets);
        let fetches = std::mem::take(&mut *self.fetches.borrow_mut());
        drop(fetches);
        self.timer.cancel();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.release();
    }
}

/// `login`: builds the session from the account settings and starts connecting. A panic here
/// ends the sign-in with an "internal error" connection error.
pub(crate) unsafe extern "C" fn login(account: *mut ffi::PurpleAccount) {
    super::guard::ffi_guard((), || {
        // SAFETY: libpurple calls login with a live account that has a connection.
        let gc = unsafe { ffi::purple_account_get_connection(account) };
        if gc.is_null() {
            return;
        }
        let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| start(gc, account)));
        let error = match started {
            Ok(Ok(())) => return,
            Ok(Err(text)) => (ffi::PURPLE_CONNECTION_ERROR_INVALID_SETTINGS, text),
            Err(payload) => (
                ffi::PURPLE_CONNECTION_ERROR_OTHER_ERROR,
                format!(
                    "Internal error in the MSN plugin: {}",
                    panic_message(&*payload)
                ),
            ),
        };
        let text = cstr::to_cstring(&error.1);
        // SAFETY: gc is live; libpurple copies the text.
        unsafe { ffi::purple_connection_error_reason(gc, error.0, text.as_ptr()) };
    })
}

/// Creates the connection state, stores it in `protocol_data` and starts the session.
fn start(gc: *mut ffi::PurpleConnection, account: *mut ffi::PurpleAccount) -> Result<(), String> {
    #[cfg(feature = "test-hooks")]
    super::test_hooks::maybe_panic_on_login(account);
    // SAFETY: account is live for the duration of login.
    let settings = unsafe { config::from_account(account) }?;
    super::conversation::prepare(gc);
    let conn = Box::new(Connection {
        gc,
        account,
        session: RefCell::new(Session::new(settings, clock::now())),
        sockets: RefCell::new(HashMap::new()),
        fetches: RefCell::new(HashMap::new()),
        timer: Timer::default(),
        ended: Cell::new(false),
    });
    let conn = Box::into_raw(conn);
    // SAFETY: gc is live; ownership of the box moves into protocol_data until `close`.
    unsafe { ffi::purple_connection_set_protocol_data(gc, conn.cast()) };
    // SAFETY: just created and owned by protocol_data; nothing frees it before `close`.
    super::icons::load_account_icon(unsafe { &*conn });
    Ok(())
}

/// `close`: frees the connection state exactly once, cancelling every pending callback.
pub(crate) unsafe extern "C" fn close(gc: *mut ffi::PurpleConnection) {
    super::guard::ffi_guard((), || {
        if gc.is_null() {
            return;
        }
        // SAFETY: gc is the live connection being closed.
        let data = unsafe { ffi::purple_connection_get_protocol_data(gc) } as *mut Connection;
        if data.is_null() {
            return;
        }
        // SAFETY: the pointer came from Box::into_raw in `login` and is still owned there.
        unsafe { &*data }.guarded(|c| c.sign_out());
        super::blist::forget(gc);
        // SAFETY: clear first so nothing can reach the state while it is dropped; the pointer
        // came from Box::into_raw in `login` and is reclaimed only here.
        unsafe {
            ffi::purple_connection_set_protocol_data(gc, std::ptr::null_mut());
            drop(Box::from_raw(data));
        }
    })
}
