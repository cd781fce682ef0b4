//! What a part of the session works with while it handles an input (quinn-proto's `Streams`
//! and `Paths` take the same kind of narrow view of their connection): the outgoing queue, the
//! NS connection to send on, the id counters, the configuration, the dialect, the random
//! source and the tickets. The session lends it; the part owns nothing of it.

use std::collections::VecDeque;

use rand_chacha::ChaCha8Rng;

use crate::auth::rst::Token;
use crate::dialect::Dialect;
use crate::wire::{ClientCommand, Framer, TrIdAllocator};

use super::{Config, ConnId, Event, HttpId, Output};

/// The NS connection currently in use.
pub(super) struct NsLink {
    pub(super) id: ConnId,
    /// Where it goes (for the HTTP gateway fallback).
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) framer: Framer,
    pub(super) connected: bool,
    pub(super) trids: TrIdAllocator,
}

impl NsLink {
    /// Encodes `command` with the next TrID (if it takes one) and queues it on this connection.
    pub(super) fn send(
        &mut self,
        out: &mut VecDeque<Output>,
        command: ClientCommand,
    ) -> Option<u32> {
        let mut bytes = Vec::new();
        let trid = self.trids.encode(&command, &mut bytes);
        out.push_back(Output::Send {
            conn: self.id,
            bytes,
        });
        trid
    }
}

/// Connection and HTTP request ids: one counter each for the whole session, never reused.
#[derive(Debug, Default)]
pub(super) struct Ids {
    conn: u32,
    http: u32,
}

impl Ids {
    /// A fresh connection id.
    pub(super) fn conn(&mut self) -> ConnId {
        self.conn += 1;
        ConnId(self.conn)
    }

    /// A fresh HTTP request id.
    pub(super) fn http(&mut self) -> HttpId {
        self.http += 1;
        HttpId(self.http)
    }
}

/// The tickets the web services take, once sign-in obtained them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tickets<'a> {
    /// The `messenger.msn.com` ticket (RSI), or the Passport 1.4 ticket before SSO.
    pub(crate) rsi: Option<&'a Token>,
    /// The `messengersecure.live.com` ticket (`Store2`), or the Passport 1.4 ticket before
    /// SSO.
    pub(crate) store: Option<&'a Token>,
    /// The address-book ticket (MSNP13+).
    pub(crate) contacts: Option<&'a Token>,
}

/// A part's view of its session for one call.
pub(crate) struct Cx<'a> {
    /// Everything the driver is to do or show, in order.
    pub(super) out: &'a mut VecDeque<Output>,
    /// The NS connection, while the session lives.
    pub(super) ns: Option<&'a mut NsLink>,
    pub(super) ids: &'a mut Ids,
    pub(crate) config: &'a Config,
    /// The negotiated dialect (the oldest before `VER` is answered).
    pub(crate) dialect: Dialect,
    pub(crate) rng: &'a mut ChaCha8Rng,
    pub(crate) tickets: Tickets<'a>,
}

impl Cx<'_> {
    /// Sends `command` on the NS connection; its TrID, `None` when there is no connection (or
    /// the command takes no TrID).
    pub(crate) fn send_ns(&mut self, command: ClientCommand) -> Option<u32> {
        self.ns.as_mut()?.send(self.out, command)
    }

    /// Whether an NS connection is there to send on.
    pub(crate) fn has_ns(&self) -> bool {
        self.ns.is_some()
    }

    /// Queues something for the driver to do.
    pub(crate) fn output(&mut self, output: Output) {
        self.out.push_back(output);
    }

    /// Queues an event for the user interface.
    pub(crate) fn event(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    /// A fresh connection id.
    pub(crate) fn conn_id(&mut self) -> ConnId {
        self.ids.conn()
    }

    /// A fresh HTTP request id.
    pub(crate) fn http_id(&mut self) -> HttpId {
        self.ids.http()
    }

    /// Whether `email` is the signed-in account.
    pub(crate) fn is_own_address(&self, email: &str) -> bool {
        email.eq_ignore_ascii_case(&self.config.account)
    }
}
