//! Conversations: switchboard sessions, messages, typing, nudges, group chats, offline messages.

use std::time::Instant;

use crate::msnp::session::Session;
use crate::msnp::wire::NsCommand;

use super::{ConnId, HttpId};

/// The switchboards of a session.
#[derive(Debug, Default)]
pub struct Switchboards {}

/// Conversation events for the user interface.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {}

impl Session {
    /// A notification-server command after sign-in; returns it when it is not about
    /// conversations (`XFR SB`, `RNG`, offline-message notifications).
    pub(super) fn switchboard_ns_command(
        &mut self,
        command: NsCommand,
        _now: Instant,
    ) -> Option<NsCommand> {
        Some(command)
    }

    /// Whether `conn` is one of our switchboard connections.
    pub(super) fn is_switchboard(&self, _conn: ConnId) -> bool {
        false
    }

    /// A switchboard connection is established.
    pub(super) fn switchboard_connected(&mut self, _conn: ConnId, _now: Instant) {}

    /// Bytes on a switchboard connection.
    pub(super) fn switchboard_bytes(&mut self, _conn: ConnId, _bytes: &[u8], _now: Instant) {}

    /// A switchboard connection failed or closed.
    pub(super) fn switchboard_lost(&mut self, _conn: ConnId, _text: &str, _now: Instant) {}

    /// An HTTP response; false when it is not for an offline-message request.
    pub(super) fn switchboard_http(&mut self, _id: HttpId, _raw: &[u8], _now: Instant) -> bool {
        false
    }

    /// An HTTP failure; false when it is not for an offline-message request.
    pub(super) fn switchboard_http_failed(
        &mut self,
        _id: HttpId,
        _text: &str,
        _now: Instant,
    ) -> bool {
        false
    }

    /// The earliest conversation deadline.
    pub(super) fn switchboard_deadline(&self) -> Option<Instant> {
        None
    }

    /// Conversation deadlines due at `now`.
    pub(super) fn switchboard_timeout(&mut self, _now: Instant) {}
}
