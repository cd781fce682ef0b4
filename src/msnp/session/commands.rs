//! What the user interface asks of the session, each handed to the part that does it.

use std::time::{Duration, Instant};

use super::switchboard::{contact_address, Conversation, SendError, TYPING_RESEND};
use super::Session;
use crate::message::emoticons::payloads;
use crate::p2p::MsnObject;

/// Conversations.
impl Session {
    /// The user opened a conversation with `who`: invite them into a switchboard at once (as
    /// the official client did), so the other side can greet before the user types.
    pub fn open_conversation(&mut self, who: &str, now: Instant) -> Result<(), SendError> {
        let who = self.contact_address(who)?;
        self.switchboards
            .open_conversation(&mut cx!(self), &who, now)
    }

    /// Sends Pidgin HTML to `who`: queued until the contact joins, split to fit, acknowledged
    /// or reported back as [`ChatEvent::Undelivered`](super::ChatEvent::Undelivered); stored as
    /// an offline message if the contact is offline (MSNP13+).
    pub fn send_im(&mut self, who: &str, html: &str, now: Instant) -> Result<(), SendError> {
        let who = self.contact_address(who)?;
        self.switchboards.send_im(&mut cx!(self), &who, html, now)
    }

    /// Declares our custom emoticons (shortcut and image) in `conversation` before the text
    /// that uses them, and serves them from now on to whoever asks for exactly those objects.
    /// Send the text next: it goes out after the declaration, on the same switchboard.
    pub fn send_emoticons(
        &mut self,
        conversation: &Conversation,
        emoticons: &[(&str, &[u8])],
        now: Instant,
    ) -> Result<(), SendError> {
        let conversation = match conversation {
            Conversation::Im(who) => Conversation::Im(self.contact_address(who)?),
            chat => chat.clone(),
        };
        let objects = self.own_emoticons(emoticons);
        let refs: Vec<(&str, &MsnObject)> = objects.iter().map(|(s, o)| (s.as_str(), o)).collect();
        let declarations = payloads(&refs);
        self.switchboards
            .send_emoticons(&mut cx!(self), &conversation, declarations, now)
    }

    /// The user is typing to `who`: tells the contact if a conversation is open. Returns how
    /// soon the user interface should call again while the user keeps typing.
    pub fn send_typing(&mut self, who: &str, now: Instant) -> Duration {
        if let Ok(who) = self.contact_address(who) {
            self.switchboards.send_typing(&mut cx!(self), who, now);
        }
        TYPING_RESEND
    }

    /// Nudges `who` (the datacast with ID 1).
    pub fn send_nudge(&mut self, who: &str, now: Instant) -> Result<(), SendError> {
        let who = self.contact_address(who)?;
        self.switchboards.send_nudge(&mut cx!(self), &who, now)
    }

    /// The user closed the conversation with `who`: leave its switchboards unless something
    /// is still waiting to be delivered (those close when idle).
    pub fn close_conversation(&mut self, who: &str) {
        self.switchboards.close_conversation(&mut cx!(self), who);
    }

    /// Starts a group chat, inviting `invite` if given; returns its id. The chat shows at once
    /// ([`ChatEvent::ChatStarted`](super::ChatEvent::ChatStarted)); people appear as they join.
    pub fn start_chat(&mut self, invite: Option<&str>, now: Instant) -> Result<u32, SendError> {
        let invite = invite.map(|who| self.contact_address(who)).transpose()?;
        if !self.login.is_done() {
            return Err(SendError::NotSignedIn);
        }
        self.switchboards.start_chat(&mut cx!(self), invite, now)
    }

    /// Invites `who` into group chat `chat`.
    pub fn chat_invite(&mut self, chat: u32, who: &str) -> Result<(), SendError> {
        let who = self.contact_address(who)?;
        self.switchboards.chat_invite(&mut cx!(self), chat, who)
    }

    /// Sends Pidgin HTML to everyone in group chat `chat`.
    pub fn chat_send(&mut self, chat: u32, html: &str, now: Instant) -> Result<(), SendError> {
        self.switchboards.chat_send(&mut cx!(self), chat, html, now)
    }

    /// Leaves group chat `chat`.
    pub fn chat_leave(&mut self, chat: u32) {
        self.switchboards.chat_leave(&mut cx!(self), chat);
    }

    /// `who` as a contact address (lower-case), if it can be one while signed in.
    fn contact_address(&self, who: &str) -> Result<String, SendError> {
        if self.ended || !self.login.is_done() {
            return Err(SendError::NotSignedIn);
        }
        contact_address(who, &self.config.account)
    }
}
