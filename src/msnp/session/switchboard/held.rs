//! One-to-one messages waiting for the session to be signed in: typed while it signs in, or
//! handed over by the account's previous session after a reconnection (docs/protocol.md §7.9).
//! None was ever written to a switchboard, so sending it once signed in cannot deliver a second
//! copy. Each is handed over across a lost connection at most once ([`MAX_ATTEMPTS`] counts
//! it) and waits at most [`HOLD_LIMIT`] before it is reported with its text.

use std::time::{Duration, Instant};

use crate::message::from_html;
use crate::session::cx::Cx;

use super::commands::SendError;
use super::outgoing::Outgoing;
use super::{chat_event, ChatEvent, Conversation, Switchboards, MAX_ATTEMPTS, MAX_QUEUE};

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
///
/// [`Session::take_unsent`]: crate::session::Session::take_unsent
/// [`Session::resend`]: crate::session::Session::resend
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
        self.deadline = earlier(self.deadline(), later.deadline());
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

impl HeldMessages {
    /// One-to-one messages never written when the session ends: kept for the next session
    /// when `reconnecting` and not handed over before, else reported with `reason`.
    pub(super) fn set_aside(
        &mut self,
        cx: &mut Cx,
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
                self.unsent.push(held);
            } else {
                chat_event(cx, held.undelivered(reason));
            }
        }
    }

    /// The session ends before signing in: what waits is set aside or reported.
    pub(super) fn abandon(&mut self, cx: &mut Cx, reconnecting: bool, reason: &str) {
        for held in std::mem::take(&mut self.waiting) {
            self.set_aside(cx, &held.peer, vec![held.message], reconnecting, reason);
        }
    }

    /// When the waiting messages are reported if no sign-in comes first.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| !self.waiting.is_empty())
    }

    /// Reports the waiting messages once their deadline passed.
    pub(super) fn handle_timeout(&mut self, cx: &mut Cx, now: Instant) {
        if self.deadline().is_some_and(|d| d <= now) {
            self.deadline = None;
            for held in std::mem::take(&mut self.waiting) {
                chat_event(cx, held.undelivered(LATE_REASON));
            }
        }
    }
}

impl Switchboards {
    /// Holds Pidgin HTML typed to `who` (a checked address) while the session signs in; it
    /// goes out once signed in.
    pub(in crate::session) fn hold(
        &mut self,
        who: &str,
        html: &str,
        now: Instant,
    ) -> Result<(), SendError> {
        let (text, format) = from_html(html.as_bytes());
        if text.trim().is_empty() {
            return Ok(());
        }
        let messages = Outgoing::texts(&text, &format);
        let held = &mut self.held;
        if held.waiting.len() + messages.len() > MAX_QUEUE {
            return Err(SendError::Busy);
        }
        held.deadline.get_or_insert(now + HOLD_LIMIT);
        held.waiting
            .extend(messages.into_iter().map(|message| Held {
                peer: who.to_owned(),
                message,
            }));
        Ok(())
    }

    /// The messages set aside when the session ended (see [`Session::take_unsent`]).
    ///
    /// [`Session::take_unsent`]: crate::session::Session::take_unsent
    pub(in crate::session) fn take_unsent(&mut self, now: Instant) -> Unsent {
        let held = &mut self.held;
        Unsent {
            messages: std::mem::take(&mut held.unsent),
            deadline: earlier(held.deadline, Some(now + HOLD_LIMIT)),
        }
    }

    /// Messages of the account's previous session: held until signed in (sent at once if
    /// `signed_in`), reported at once if the session `ended` or their deadline passed.
    pub(in crate::session) fn resend(
        &mut self,
        cx: &mut Cx,
        unsent: Unsent,
        ended: bool,
        signed_in: bool,
        now: Instant,
    ) {
        if ended || unsent.deadline.is_some_and(|d| d <= now) {
            let reason = match ended {
                true => "the connection to the server was lost",
                false => LATE_REASON,
            };
            for held in &unsent.messages {
                chat_event(cx, held.undelivered(reason));
            }
            return;
        }
        let held = &mut self.held;
        held.deadline = earlier(held.deadline, unsent.deadline);
        held.waiting.extend(unsent.messages);
        if signed_in {
            self.send_held(cx, now);
        }
    }

    /// Signed in: every held message goes to its contact's switchboard, in order.
    pub(in crate::session) fn send_held(&mut self, cx: &mut Cx, now: Instant) {
        self.held.deadline = None;
        for held in std::mem::take(&mut self.held.waiting) {
            match self.for_im(cx, &held.peer, now) {
                Some(id) => self.enqueue(cx, id, vec![held.message], now),
                None => chat_event(cx, held.undelivered("too many conversations are open")),
            }
        }
    }
}

/// The earlier of two optional deadlines.
fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
