//! Per-account glue: owns the core session and every libpurple handle it uses, applies the
//! session's outputs, and is freed exactly once in `close`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::net::{Ipv4Addr, TcpStream};
use std::time::Instant;

use msnp::session::{ConnId, EndReason, Event, HttpId, Output, Session, PROGRESS_STEPS};

use super::blist::ListState;
use super::fetch::Fetch;
use super::held::Held;
use super::listen::Listener;
use super::privacy::Pending;
use super::timer::Timer;
use super::transport::{Happened, Peer, ReadBudget, Transport};
use super::xfer::Xfers;
use super::{clock, config, cstr, errors, ffi, guard};

/// Reads per callback on the MSNP connections: up to 2 of 16 KiB (about a hundred messages,
/// ~1.3 ms of CPU on the bench machine), shared by all of them, so that busy switchboards
/// together cannot hold a main-loop iteration for long.
const MSNP_BUDGET: ReadBudget = ReadBudget {
    chunk: 16 * 1024,
    reads: 2,
    shared: true,
};

/// Everything one signed-in (or signing-in) account owns. Lives in the connection's
/// `protocol_data` as a raw `Box`, created in `login` and dropped in `close`.
pub(crate) struct Connection {
    gc: *mut ffi::PurpleConnection,
    account: *mut ffi::PurpleAccount,
    session: RefCell<Session>,
    sockets: RefCell<HashMap<ConnId, Box<Transport>>>,
    /// Listening sockets of file transfers' direct connections.
    listeners: RefCell<HashMap<ConnId, Box<Listener>>>,
    fetches: RefCell<HashMap<HttpId, Fetch>>,
    timer: Timer,
    /// Contact events waiting to be applied to the buddy list, and its prompts.
    list: ListState,
    /// Authorization requests shown to the user.
    requests: Held<Pending>,
    /// File transfers in progress.
    xfers: Xfers,
    /// Set once the session ended (or panicked): later callbacks do nothing.
    ended: Cell<bool>,
    /// Set while [`Connection::pump`] applies outputs: libpurple may call back into the
    /// plugin meanwhile (a conversation opened for an event emits "conversation-created"),
    /// and the outputs that causes are applied by the running pump, after the current one,
    /// never in the middle of it.
    pumping: Cell<bool>,
}

impl Connection {
    pub(crate) fn gc(&self) -> *mut ffi::PurpleConnection {
        self.gc
    }

    pub(crate) fn account(&self) -> *mut ffi::PurpleAccount {
        self.account
    }

    /// How many MSNP connections (notification server, switchboards) are open.
    pub(crate) fn msnp_streams(&self) -> usize {
        self.sockets.try_borrow().map_or(1, |sockets| sockets.len())
    }

    pub(crate) fn list(&self) -> &ListState {
        &self.list
    }

    pub(crate) fn requests(&self) -> &Held<Pending> {
        &self.requests
    }

    pub(crate) fn xfers(&self) -> &Xfers {
        &self.xfers
    }

    /// Closes the requests shown for this connection (libpurple would right after `close`),
    /// before the data their callbacks point to is freed.
    fn close_requests(&self) {
        // SAFETY: account and gc are live during `close`; closing calls no answer callback.
        unsafe {
            ffi::purple_account_request_close_with_account(self.account);
            ffi::purple_request_close_with_handle(self.gc.cast());
        }
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

    /// Runs a callback body for this connection: skipped after the session ended; a panic
    /// inside it ends the connection with an "internal error" (see `guard::serving`).
    pub(crate) fn guarded(&self, f: impl FnOnce(&Connection)) {
        if !self.ended.get() {
            guard::serving(self.gc, || f(self));
        }
    }

    /// Something happened on one of this connection's streams.
    pub(crate) fn on_transport(&self, peer: Peer, happened: Happened) {
        match (peer, happened) {
            (Peer::Msnp(id), Happened::Connected) => self.on_connected(id),
            (Peer::Msnp(id), Happened::Data(bytes)) => self.on_bytes(id, &bytes),
            (Peer::Msnp(id), Happened::Closed) => {
                self.on_connection_lost(id, "The server closed the connection".into())
            }
            (Peer::Msnp(id), Happened::Failed(text)) => self.on_connection_lost(id, text),
            (Peer::Msnp(id), Happened::Drained) => {
                self.session.borrow_mut().handle_drained(id, clock::now());
                self.pump();
            }
            (Peer::Http(id), happened) => {
                let done = match self.fetches.borrow_mut().get_mut(&id) {
                    Some(fetch) => fetch.on_transport(happened),
                    None => None,
                };
                if let Some(result) = done {
                    self.on_http_done(id, result);
                }
            }
        }
    }

    fn on_connected(&self, id: ConnId) {
        self.session.borrow_mut().handle_connected(id, clock::now());
        self.pump();
    }

    fn on_connection_lost(&self, id: ConnId, text: String) {
        self.sockets.borrow_mut().remove(&id);
        self.session
            .borrow_mut()
            .handle_connection_lost(id, text, clock::now());
        self.pump();
    }

    fn on_bytes(&self, id: ConnId, bytes: &[u8]) {
        #[cfg(feature = "test-hooks")]
        super::test_hooks::maybe_panic_on_read(self.account);
        self.session
            .borrow_mut()
            .handle_bytes(id, bytes, clock::now());
        self.pump();
    }

    /// The listening socket of `id` is ready (or failed).
    pub(crate) fn on_listening(&self, id: ConnId, bound: Result<(Vec<Ipv4Addr>, u16), String>) {
        if bound.is_err() {
            self.listeners.borrow_mut().remove(&id);
        }
        self.session
            .borrow_mut()
            .handle_listening(id, bound, clock::now());
        self.pump();
    }

    /// The listening socket of `id` accepted a connection: it becomes connection `id`.
    pub(crate) fn on_accepted(&self, id: ConnId, stream: TcpStream) {
        self.listeners.borrow_mut().remove(&id);
        match Transport::accepted(self, Peer::Msnp(id), stream, MSNP_BUDGET) {
            Ok(socket) => {
                self.sockets.borrow_mut().insert(id, socket);
                self.on_connected(id);
            }
            Err(text) => self.on_connection_lost(id, text),
        }
    }

    /// The listening socket of `id` failed.
    pub(crate) fn on_accept_failed(&self, id: ConnId, text: String) {
        self.listeners.borrow_mut().remove(&id);
        self.on_connection_lost(id, text);
    }

    fn on_http_done(&self, id: HttpId, result: Result<Vec<u8>, String>) {
        self.fetches.borrow_mut().remove(&id);
        {
            let mut session = self.session.borrow_mut();
            match result {
                Ok(raw) => session.handle_http_response(id, raw, clock::now()),
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
        if self.pumping.replace(true) {
            return;
        }
        loop {
            if self.ended.get() {
                self.pumping.set(false);
                return;
            }
            let next = self.session.borrow_mut().poll();
            match next {
                Some(output) => self.apply(output),
                None => break,
            }
        }
        self.pumping.set(false);
        let deadline = self.session.borrow().poll_timeout();
        self.timer.set(self, deadline);
    }

    fn apply(&self, output: Output) {
        match output {
            Output::Connect { conn, host, port } => {
                match Transport::connect(self, Peer::Msnp(conn), &host, port, false, MSNP_BUDGET) {
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
                let direct = self.session.borrow().is_direct(conn);
                let result = match self.sockets.borrow_mut().get_mut(&conn) {
                    // A direct connection hears that its bytes went out from the main loop (a
                    // write watch), so that one callback never writes more than a window.
                    Some(socket) => socket.send(&bytes).map(|()| {
                        if direct {
                            socket.watch_drain();
                        }
                    }),
                    None => Ok(()), // already closed: the session learns from handle_connection_lost
                };
                if let Err(text) = result {
                    // A server that ends the session (`OUT OTH`) closes at once: a write crossing
                    // that fails, with the reason still unread. Read it before the loss.
                    let socket = self.sockets.borrow_mut().remove(&conn);
                    let last = socket.map(|mut s| s.unread()).unwrap_or_default();
                    let mut session = self.session.borrow_mut();
                    if !last.is_empty() {
                        session.handle_bytes(conn, &last, clock::now());
                    }
                    session.handle_connection_lost(conn, text, clock::now());
                }
            }
            Output::Close { conn } => {
                self.sockets.borrow_mut().remove(&conn);
                self.listeners.borrow_mut().remove(&conn);
            }
            Output::Listen { conn } => match Listener::start(self, conn) {
                Ok(listener) => {
                    self.listeners.borrow_mut().insert(conn, listener);
                }
                Err(text) => {
                    self.session
                        .borrow_mut()
                        .handle_listening(conn, Err(text), clock::now())
                }
            },
            Output::Http { id, request } => Fetch::start(self, id, &request),
            Output::Farewell { after, request } => {
                let in_flight = after.and_then(|id| self.fetches.borrow_mut().remove(&id));
                super::farewell::start(self.account, in_flight, request);
            }
            Output::Event(event) => self.show(event),
        }
    }

    /// Records a started fetch so `close` can cancel it.
    pub(crate) fn add_fetch(&self, id: HttpId, fetch: Fetch) {
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
                for name in super::conversation::open_im_names(self) {
                    let opened = self
                        .session
                        .borrow_mut()
                        .open_conversation(&name, clock::now());
                    if let Err(e) = opened {
                        log::debug!("no switchboard for the open conversation: {e}");
                    }
                }
            }
            Event::Ended(reason) => self.end(reason),
            Event::Contact(event) => super::blist::show(self, event),
            Event::Chat(event) => super::conversation::show(self, event),
            Event::Picture(event) => super::blist::show_picture(self, event),
            Event::Transfer(event) => super::xfer::apply(self, event),
            Event::Emoticon(event) => super::emoticons::show(self, event),
        }
    }

    fn end(&self, reason: EndReason) {
        log::info!("session ended: {reason}");
        if reason == EndReason::SignedOut {
            self.release();
            return;
        }
        let unsent = self.session.borrow_mut().take_unsent(clock::now());
        super::carried::keep(self.account, unsent);
        self.fail(errors::connection_error(&reason), &reason.to_string());
    }

    /// Ends the connection with an error shown to the user; libpurple then calls `close`.
    fn fail(&self, reason: ffi::PurpleConnectionError, text: &str) {
        if self.ended.replace(true) {
            return;
        }
        self.release();
        error_reason(self.gc, reason, text);
    }

    /// Cancels every socket, fetch, timer and pending list update. Safe to call more than once.
    fn release(&self) {
        self.ended.set(true);
        let sockets = std::mem::take(&mut *self.sockets.borrow_mut());
        drop(sockets);
        let listeners = std::mem::take(&mut *self.listeners.borrow_mut());
        drop(listeners);
        let fetches = std::mem::take(&mut *self.fetches.borrow_mut());
        drop(fetches);
        self.timer.cancel();
        self.list.cancel();
        self.xfers.cancel_all();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let handle: *const Connection = self;
        // SAFETY: every signal the glue connects for a connection has its address as handle
        // (conversation.rs, blist.rs); disconnecting a handle with none does nothing.
        unsafe { ffi::purple_signals_disconnect_by_handle(handle as *mut c_void) };
        self.release();
    }
}

/// Ends `gc` after a panic while serving it (called by `guard::entry`): through its state when
/// it has one, so every pending callback is cancelled, else directly.
pub(crate) fn internal_error(gc: *mut ffi::PurpleConnection, panic: &str) {
    let text = format!("Internal error in the MSN plugin: {panic}");
    let reason = ffi::PURPLE_CONNECTION_ERROR_OTHER_ERROR;
    // SAFETY: `guard::serving` is only given live connections of this plugin, and nothing
    // frees one while a panic unwinds to the entry.
    match unsafe { Connection::from_gc(gc) } {
        Some(conn) => conn.fail(reason, &text),
        None => error_reason(gc, reason, &text),
    }
}

/// Reports a connection error to libpurple, which then calls `close`.
fn error_reason(gc: *mut ffi::PurpleConnection, reason: ffi::PurpleConnectionError, text: &str) {
    let text = cstr::to_cstring(text);
    // SAFETY: gc is live; libpurple copies the text and schedules the disconnect.
    unsafe { ffi::purple_connection_error_reason(gc, reason, text.as_ptr()) };
}

/// `login`: builds the session from the account settings and starts connecting. A panic here
/// ends the sign-in with an "internal error" connection error.
pub(crate) unsafe extern "C" fn login(account: *mut ffi::PurpleAccount) {
    guard::entry((), || {
        // SAFETY: libpurple calls login with a live account that has a connection.
        let gc = unsafe { ffi::purple_account_get_connection(account) };
        if gc.is_null() {
            return;
        }
        if let Err(text) = guard::serving(gc, || start(gc, account)) {
            error_reason(gc, ffi::PURPLE_CONNECTION_ERROR_INVALID_SETTINGS, &text);
        }
    })
}

/// Creates the connection state, stores it in `protocol_data` and starts the session.
fn start(gc: *mut ffi::PurpleConnection, account: *mut ffi::PurpleAccount) -> Result<(), String> {
    #[cfg(feature = "test-hooks")]
    super::test_hooks::maybe_panic_on_login(account);
    // SAFETY: account is live for the duration of login.
    let settings = unsafe { config::from_account(account) }?;
    // SAFETY: account is live for the duration of login.
    let max_file = unsafe { config::max_file_size(account) };
    super::conversation::prepare(gc);
    let conn = Box::new(Connection {
        gc,
        account,
        session: RefCell::new(Session::new(settings, clock::now())),
        sockets: RefCell::new(HashMap::new()),
        listeners: RefCell::new(HashMap::new()),
        fetches: RefCell::new(HashMap::new()),
        timer: Timer::default(),
        list: ListState::default(),
        requests: Held::default(),
        xfers: Xfers::default(),
        ended: Cell::new(false),
        pumping: Cell::new(false),
    });
    conn.session.borrow_mut().set_file_size_limit(max_file);
    // SAFETY: account is live for the duration of login.
    let direct = unsafe { config::direct_transfers(account) };
    conn.session.borrow_mut().set_direct_transfers(direct);
    let conn = Box::into_raw(conn);
    // SAFETY: gc is live; ownership of the box moves into protocol_data until `close`.
    unsafe { ffi::purple_connection_set_protocol_data(gc, conn.cast()) };
    // SAFETY: just created and owned by protocol_data; nothing frees it before `close`.
    let conn = unsafe { &*conn };
    super::conversation::connect_signals(conn);
    super::blist::connect_signals(conn);
    let unsent = super::carried::take(account);
    if !unsent.is_empty() {
        conn.command(|session, now| session.resend(unsent, now));
    }
    // Gives the session the account's icon, then applies what it produced.
    super::icons::load_account_icon(conn);
    Ok(())
}

/// `close`: frees the connection state exactly once, cancelling every pending callback.
pub(crate) unsafe extern "C" fn close(gc: *mut ffi::PurpleConnection) {
    guard::entry((), || {
        if gc.is_null() {
            return;
        }
        // SAFETY: gc is the live connection being closed.
        let data = unsafe { ffi::purple_connection_get_protocol_data(gc) } as *mut Connection;
        if data.is_null() {
            return;
        }
        /// Frees the state when `close` returns, or unwinds from a panic in `sign_out`.
        struct Free(*mut ffi::PurpleConnection, *mut Connection);
        impl Drop for Free {
            fn drop(&mut self) {
                // SAFETY: clear first so nothing can reach the state while it is dropped; the
                // pointer came from Box::into_raw in `login` and is reclaimed only here.
                unsafe {
                    ffi::purple_connection_set_protocol_data(self.0, std::ptr::null_mut());
                    drop(Box::from_raw(self.1));
                }
            }
        }
        let _free = Free(gc, data);
        // SAFETY: owned by protocol_data until `_free` drops it.
        let conn = unsafe { &*data };
        if !conn.ended.get() {
            conn.sign_out();
        }
        conn.close_requests();
    })
}
