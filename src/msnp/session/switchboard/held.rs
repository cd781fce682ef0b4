//! One-to-one messages waiting for the session to be signed in: typed while it signs in, or
//! handed over by the account's previous session after a reconnection (docs/protocol.md §7.9).
//! None was ever written to a switchboard, so sending it once signed in cannot deliver a second
//! copy. Each is handed over across a lost connection at most once ([`MAX_ATTEMPTS`] counts
//! it) and waits at most [`HOLD_LIMIT`] before it is reported with its text.

use std::time::{Duration, Instant};

use crate::session::Session;

use super::commands::SendError;
use super::outgoing::Outgoing;
use super::{ChatEvent, Conversation, MAX_ATTEMPTS, MAX_QUEUE};

/// Longest a message waits for a sign-in, reconnections included, before it is reported.
pub const HOLD_LIMIT: Duration = Duration::from_secs(180);
/// Why a held message is reported when no sign-in came in time.
const LATE_REASON: &str = "you were not signed in again in time";

/// One message waiting for sign-in.
#[derive(Debug)]
struct Held {
    /// The contact (lower-case e-mail).
    peer: String,
    message: Outgoing,
}

impl Held {
    fn undelivered(&self, reason: &str) -> ChatEvent {
        ChatEvent::Undelivered {
            conversation: Conversation::Im(self.peer.clone()),
            text: self.message.description(),
            reason: reason.to_owned(),
        }
    }
}

/// One-to-one messages a session ended before writing to any switchboard, for the account's
/// next session: taken with [`Session::take_unsent`] when the session ended for a reason
/// worth reconnecting for, given to the next one with [`Session::resend`].
#[derive(Debug, Default)]
pub struct Unsent {
    messages: Vec<Held>,
    deadline: Option<Instant>,
}

impl Unsent {
    /// Whether there is nothing to hand over.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Until when the messages may wait for the next sign-in.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| !self.is_empty())
    }

    /// The contacts the messages are for, in order, once each.
    pub fn peers(&self) -> Vec<String> {
        let mut peers: Vec<String> = Vec::new();
        for held in &self.messages {
            if !peers.contains(&held.peer) {
                peers.push(held.peer.clone());
            }
        }
        peers
    }

    /// Adds `later`'s messages after these; the earlier deadline holds.
    pub fn append(&mut self, later: Unsent) {
        self.deadline = match (self.deadline(), later.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.messages.extend(later.messages);
    }

    /// Gives up on them (no sign-in came in time): one report per message, with its text.
    pub fn give_up(self) -> Vec<ChatEvent> {
        self.messages
            .iter()
            .map(|h| h.undelivered(LATE_REASON))
            .collect()
    }
}

/// The messages of a session waiting for sign-in, and those it set aside when it ended.
#[derive(Debug, Default)]
pub(super) struct HeldMessages {
    waiting: Vec<Held>,
    /// When the waiting ones are reported if the session is still not signed in.
    deadline: Option<Instant>,
    /// Set aside at the end of the session for the next one.
    unsent: Vec<Held>,
}

impl Session {
    /// Holds texts typed while the session signs in; they go out once signed in.
    pub(super) fn hold(
        &mut self,
        peer: &str,
        messages: Vec<Outgoing>,
        now: Instant,
    ) -> Result<(), SendError> {
        let held = &mut self.switchboards.held;
        if held.waiting.len() + messages.len() > MAX_QUEUE {
            return Err(SendError::Busy);
        }
        held.deadline.get_or_insert(now + HOLD_LIMIT);
        held.waiting
            .extend(messages.into_iter().map(|message| Held {
                peer: peer.to_owned(),
                message,
            }));
        Ok(())
    }

    /// Takes the one-to-one messages this session never wrote to a switchboard and set aside
    /// when it ended for a reason worth reconnecting for; empty otherwise (those were reported).
    pub fn take_unsent(&mut self, now: Instant) -> Unsent {
        let held = &mut self.switchboards.held;
        Unsent {
            messages: std::mem::take(&mut held.unsent),
            deadline: Some(
                held.deadline
                    .map_or(now + HOLD_LIMIT, |d| d.min(now + HOLD_LIMIT)),
            ),
        }
    }

    /// Messages the account's previous session set aside: sent once this session is signed in,
    /// reported if it ends first for good or their deadline passes.
    pub fn resend(&mut self, unsent: Unsent, now: Instant) {
        if self.ended || unsent.deadline.is_some_and(|d| d <= now) {
            let reason = match self.ended {
                true => "the connection to the server was lost",
                false => LATE_REASON,
            };
            for held in &unsent.messages {
                self.chat_event(held.undelivered(reason));
            }
            return;
        }
        let held = &mut self.switchboards.held;
        held.deadline = match (held.deadline, unsent.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        held.waiting.extend(unsent.messages);
        if self.login.is_done() {
            self.held_signed_in(now);
        }
    }

    /// Signed in: every held message goes to its contact's switchboard, in order.
    pub(in crate::session) fn held_signed_in(&mut self, now: Instant) {
        self.switchboards.held.deadline = None;
        for held in std::mem::take(&mut self.switchboards.held.waiting) {
            match self.board_for_im(&held.peer, now) {
                Some(at) => self.sb_enqueue(at, vec![held.message], now),
                None => {
                    let event = held.undelivered("too many conversations are open");
                    self.chat_event(event);
                }
            }
        }
    }

    /// The session ends before signing in: what waits is set aside or reported.
    pub(super) fn held_abandon(&mut self, reconnecting: bool, reason: &str) {
        for held in std::mem::take(&mut self.switchboards.held.waiting) {
            self.set_aside(&held.peer, vec![held.message], reconnecting, reason);
        }
    }

    /// One-to-one messages never written when the session ends: kept for the next session
    /// when `reconnecting` and not handed over before, else reported with `reason`.
    pub(super) fn set_aside(
        &mut self,
        peer: &str,
        messages: Vec<Outgoing>,
        reconnecting: bool,
        reason: &str,
    ) {
        for mut message in messages {
            message.attempts = message.attempts.saturating_add(1);
            let held = Held {
                peer: peer.to_owned(),
                message,
            };
            if reconnecting && held.message.attempts < MAX_ATTEMPTS {
                self.switchboards.held.unsent.push(held);
            } else {
                self.chat_event(held.undelivered(reason));
            }
        }
    }

    /// When held messages are reported if no sign-in comes first.
    pub(super) fn held_deadline(&self) -> Option<Instant> {
        let held = &self.switchboards.held;
        held.deadline.filter(|_| !held.waiting.is_empty())
    }

    /// Reports held messages whose deadline passed before sign-in.
    pub(super) fn held_timeout(&mut self, now: Instant) {
        if self.held_deadline().is_some_and(|d| d <= now) {
            self.switchboards.held.deadline = None;
            for held in std::mem::take(&mut self.switchboards.held.waiting) {
                self.chat_event(held.undelivered(LATE_REASON));
            }
        }
    }
}
