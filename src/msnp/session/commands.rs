//! What the user interface asks of the session, each handed to the part that does it.

use std::time::{Duration, Instant};

use super::contacts::{Place, PlaceError, Presence};
use super::emoticons::Request;
use super::switchboard::{contact_address, Conversation, SendError, Unsent, TYPING_RESEND};
use super::{p2p_send, PictureError, Session};
use crate::message::emoticons::payloads;
use crate::p2p::{MsnObject, RequestError, TransferId};
use crate::wire::{PrivacyMode, Status};

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
    /// an offline message if the contact is offline (MSNP11+). Typed while the session signs
    /// in, it is held until signed in.
    pub fn send_im(&mut self, who: &str, html: &str, now: Instant) -> Result<(), SendError> {
        if !self.ended && !self.login.is_done() {
            let who = contact_address(who, &self.config.account)?;
            return self.switchboards.hold(&who, html, now);
        }
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
        let objects = self.pictures.own_emoticons(&cx!(self), emoticons);
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

    /// Takes the one-to-one messages this session never wrote to a switchboard and set aside
    /// when it ended for a reason worth reconnecting for ([`EndReason::is_transient`]); empty
    /// otherwise (those were reported). The account's next session sends them
    /// ([`Session::resend`]).
    ///
    /// [`EndReason::is_transient`]: super::EndReason::is_transient
    pub fn take_unsent(&mut self, now: Instant) -> Unsent {
        self.switchboards.take_unsent(now)
    }

    /// Messages the account's previous session set aside: sent once this session is signed in,
    /// reported if it ends first for good or their deadline passes.
    pub fn resend(&mut self, unsent: Unsent, now: Instant) {
        let (ended, signed_in) = (self.ended, self.login.is_done());
        self.switchboards
            .resend(&mut cx!(self), unsent, ended, signed_in, now);
    }

    /// `who` as a contact address (lower-case), if it can be one while signed in.
    fn contact_address(&self, who: &str) -> Result<String, SendError> {
        if self.ended || !self.login.is_done() {
            return Err(SendError::NotSignedIn);
        }
        contact_address(who, &self.config.account)
    }
}

/// The contact list, presence and profile.
impl Session {
    /// Whether the server's list has been received (before, changes wait).
    pub fn is_list_synced(&self) -> bool {
        self.contacts.is_list_synced()
    }

    /// The network of a contact (1 Passport, 4 telephone, 32 Yahoo!), if known.
    pub fn contact_network(&self, email: &str) -> Option<u32> {
        self.contacts.contact_network(email)
    }

    /// The presence last reported for a contact.
    pub fn contact_presence(&self, email: &str) -> Option<&Presence> {
        self.contacts.contact_presence(email)
    }

    /// Whether a contact is on our forward list, and whether we are on theirs.
    pub fn contact_lists(&self, email: &str) -> (bool, bool) {
        self.contacts.contact_lists(email)
    }

    /// Adds `email` to the forward list, in `group` (`None` or [`DEFAULT_GROUP`](super::contacts::DEFAULT_GROUP): no group).
    pub fn add_buddy(&mut self, email: &str, group: Option<&str>, now: Instant) {
        self.contacts.add_buddy(&mut cx!(self), email, group, now)
    }

    /// Removes `email` from `group`; from the forward list when it is in no other group.
    pub fn remove_buddy(&mut self, email: &str, group: Option<&str>, now: Instant) {
        self.contacts
            .remove_buddy(&mut cx!(self), email, group, now)
    }

    /// Moves `email` from group `from` to group `to` (creating `to` on the server if needed).
    pub fn move_buddy(&mut self, email: &str, from: Option<&str>, to: Option<&str>, now: Instant) {
        self.contacts
            .move_buddy(&mut cx!(self), email, from, to, now)
    }

    /// Renames a group; when `new` already exists on the server, the buddies in `moved` join
    /// it instead and the old group is deleted.
    pub fn rename_group(&mut self, old: &str, new: &str, moved: &[String], now: Instant) {
        self.contacts
            .rename_group(&mut cx!(self), old, new, moved, now)
    }

    /// Deletes an (empty) group.
    pub fn remove_group(&mut self, name: &str, now: Instant) {
        self.contacts.remove_group(&mut cx!(self), name, now)
    }

    /// Stores a name for a contact on the server (MSNP10+; MSNP8/9 keep it locally).
    pub fn alias_buddy(&mut self, email: &str, alias: &str, now: Instant) {
        self.contacts.alias_buddy(&mut cx!(self), email, alias, now)
    }

    /// Changes our friendly name.
    pub fn set_friendly_name(&mut self, name: &str, now: Instant) {
        self.contacts.set_friendly_name(&mut cx!(self), name, now)
    }

    /// Puts `email` on the allow list (off the block list).
    pub fn allow(&mut self, email: &str, now: Instant) {
        self.contacts.allow(&mut cx!(self), email, now)
    }

    /// Puts `email` on the block list (off the allow list).
    pub fn block(&mut self, email: &str, now: Instant) {
        self.contacts.block(&mut cx!(self), email, now)
    }

    /// Takes `email` off the allow list.
    pub fn unallow(&mut self, email: &str, now: Instant) {
        self.contacts.unallow(&mut cx!(self), email, now)
    }

    /// Takes `email` off the block list and puts them on the allow list, as the official
    /// clients did: on neither list, the next sign-in would ask about them again.
    pub fn unblock(&mut self, email: &str, now: Instant) {
        self.contacts.unblock(&mut cx!(self), email, now)
    }

    /// Answers an authorisation request: allow (`accept`) or block `email`, and stop it
    /// from being pending.
    pub fn answer_authorization(&mut self, email: &str, accept: bool, now: Instant) {
        self.contacts
            .answer_authorization(&mut cx!(self), email, accept, now)
    }

    /// Sets how people on neither list are treated (`BLP`); sent when it differs from the
    /// server's, once the list is known.
    pub fn set_privacy_mode(&mut self, mode: PrivacyMode) {
        self.contacts.set_privacy_mode(&mut cx!(self), mode)
    }

    /// Whether `email` is allowed (`Some(true)`), blocked (`Some(false)`) or neither.
    pub fn contact_privacy(&self, email: &str) -> Option<bool> {
        self.contacts.contact_privacy(email)
    }

    /// Sets our status and personal message (libpurple's `set_status`).
    pub fn set_status(&mut self, status: Status, personal_message: &str) {
        self.contacts
            .set_status(&mut cx!(self), status, personal_message)
    }

    /// Marks us idle or back (libpurple's `set_idle`): `IDL` while otherwise online.
    pub fn set_idle(&mut self, idle: bool) {
        self.contacts.set_idle(&mut cx!(self), idle)
    }

    /// The other places where our account is signed in, as the server last listed them
    /// (MSNP16+; empty before).
    pub fn other_places(&self) -> &[Place] {
        self.contacts.other_places()
    }

    /// Signs out the other place `id` (as [`Session::other_places`] lists it): the server
    /// relays the request to that place, which ends its connection; the next `UBX` no longer
    /// lists it.
    pub fn sign_out_place(&mut self, id: &str) -> Result<(), PlaceError> {
        self.contacts.sign_out_place(&mut cx!(self), id)
    }

    /// Signs out every other place (one request each, so this place stays signed in); how
    /// many were asked.
    pub fn sign_out_other_places(&mut self) -> Result<usize, PlaceError> {
        self.contacts.sign_out_other_places(&mut cx!(self))
    }
}

/// Display pictures and custom emoticons.
impl Session {
    /// Sets our display picture (`None` removes it): advertised in `CHG` from MSNP9 and served
    /// to any contact who asks for exactly this object.
    pub fn set_display_picture(&mut self, data: Option<&[u8]>) -> Result<(), PictureError> {
        self.pictures.set_display_picture(&mut cx!(self), data)?;
        let object = self.pictures.own_object();
        self.contacts.own_picture_changed(&mut cx!(self), object);
        Ok(())
    }

    /// Fetches the picture `who` announced last; false when they announced none. The outcome
    /// is [`PictureEvent::Received`](super::PictureEvent::Received) or
    /// [`PictureEvent::Failed`](super::PictureEvent::Failed).
    pub fn fetch_display_picture(&mut self, who: &str, now: Instant) -> bool {
        let mut send = p2p_send(&mut self.switchboards, now);
        self.pictures
            .fetch_display_picture(&mut cx!(self), who, now, &mut send)
    }

    /// Asks for the image of the emoticon `from` declared with this `SHA1D`, to be shown as
    /// `shortcut` in `conversation`. Exactly one
    /// [`EmoticonEvent::Received`](super::EmoticonEvent::Received) or
    /// [`EmoticonEvent::Failed`](super::EmoticonEvent::Failed) answers; an image fetched before
    /// comes at once.
    pub fn fetch_emoticon(
        &mut self,
        conversation: &Conversation,
        from: &str,
        shortcut: &str,
        sha1d: &str,
        now: Instant,
    ) {
        let mut send = p2p_send(&mut self.switchboards, now);
        let request = Request {
            peer: from.to_ascii_lowercase(),
            sha1d: sha1d.to_owned(),
            conversation: conversation.clone(),
            shortcut: shortcut.to_owned(),
        };
        self.pictures
            .fetch_emoticon(&mut cx!(self), request, now, &mut send);
    }
}

/// File transfers.
impl Session {
    /// Sets the largest file offered or accepted (larger offers are refused).
    pub fn set_file_size_limit(&mut self, bytes: u64) {
        self.pictures.set_file_size_limit(bytes);
    }

    /// Offers `who` the file `name` of `size` bytes. The outcome comes as
    /// [`Event::Transfer`](super::Event::Transfer): `Accepted` (then `WantData` until
    /// `Completed`), `Declined`, `Cancelled` or `Failed`.
    pub fn send_file(
        &mut self,
        who: &str,
        name: &str,
        size: u64,
        now: Instant,
    ) -> Result<TransferId, RequestError> {
        let peer = who.trim().to_ascii_lowercase();
        let mut send = p2p_send(&mut self.switchboards, now);
        self.pictures
            .send_file(&mut cx!(self), &peer, name, size, now, &mut send)
    }

    /// Accepts a file offered with `Offered`; its bytes come as `Data`, then `Completed`.
    pub fn accept_transfer(&mut self, id: TransferId, now: Instant) {
        let mut send = p2p_send(&mut self.switchboards, now);
        self.pictures
            .accept_transfer(&mut cx!(self), id, now, &mut send);
    }

    /// Declines a file offered with `Offered`.
    pub fn decline_transfer(&mut self, id: TransferId, now: Instant) {
        let mut send = p2p_send(&mut self.switchboards, now);
        self.pictures
            .decline_transfer(&mut cx!(self), id, now, &mut send);
    }

    /// Cancels a transfer in either direction; the contact is told.
    pub fn cancel_transfer(&mut self, id: TransferId, now: Instant) {
        let mut send = p2p_send(&mut self.switchboards, now);
        self.pictures
            .cancel_transfer(&mut cx!(self), id, now, &mut send);
    }

    /// The next bytes of a file we send, answering `WantData` (at most what it asked for).
    pub fn transfer_data(&mut self, id: TransferId, data: &[u8], now: Instant) {
        let mut send = p2p_send(&mut self.switchboards, now);
        self.pictures
            .transfer_data(&mut cx!(self), id, data, now, &mut send);
    }
}
