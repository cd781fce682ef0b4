//! What the user interface asks of conversations: open one, send text, typing and nudges,
//! start, grow, use and leave group chats.

use std::time::{Duration, Instant};

use crate::message::{from_html, typing_payload};
use crate::session::Session;
use crate::wire::sb::{AckMode, SbClientCommand};

use super::board::Kind;
use super::outgoing::Outgoing;
use super::{ChatEvent, TYPING_RESEND};

/// Longest e-mail address accepted as a contact.
const MAX_ADDRESS: usize = 320;

/// Why a conversation command was refused at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The account is not signed in (or the session ended).
    #[error("not signed in")]
    NotSignedIn,
    /// The recipient is not a usable address (or is ourselves).
    #[error("not a valid contact address")]
    InvalidAddress,
    /// No open group chat has this id.
    #[error("no such chat")]
    NoSuchChat,
    /// Too many conversations are open or too many messages wait.
    #[error("too many conversations or messages are waiting")]
    Busy,
}

impl Session {
    /// The user opened a conversation with `who`: invite them into a switchboard at once (as
    /// the official client did), so the other side can greet before the user types.
    pub fn open_conversation(&mut self, who: &str, now: Instant) -> Result<(), SendError> {
        let who = self.contact_address(who)?;
        self.board_for_im(&who, now)
            .map(|_| ())
            .ok_or(SendError::Busy)
    }

    /// Sends Pidgin HTML to `who`: queued until the contact joins, split to fit, acknowledged
    /// or reported back as [`ChatEvent::Undelivered`](super::ChatEvent::Undelivered); stored as
    /// an offline message if the contact is offline (MSNP11+). Typed while the session signs
    /// in, it is held until signed in.
    pub fn send_im(&mut self, who: &str, html: &str, now: Instant) -> Result<(), SendError> {
        let signing_in = !self.ended && !self.login.is_done();
        let who = match signing_in {
            true => self.valid_address(who)?,
            false => self.contact_address(who)?,
        };
        let (text, format) = from_html(html.as_bytes());
        if text.trim().is_empty() {
            return Ok(());
        }
        if signing_in {
            return self.hold(&who, Outgoing::texts(&text, &format), now);
        }
        let at = self.board_for_im(&who, now).ok_or(SendError::Busy)?;
        self.sb_enqueue(at, Outgoing::texts(&text, &format), now);
        Ok(())
    }

    /// The user is typing to `who`: tells the contact if a conversation is open. Returns how
    /// soon the user interface should call again while the user keeps typing.
    pub fn send_typing(&mut self, who: &str, now: Instant) -> Duration {
        let Ok(who) = self.contact_address(who) else {
            return TYPING_RESEND;
        };
        let account = self.config.account.clone();
        let kind = Kind::Im(who);
        let board = self
            .switchboards
            .boards
            .iter_mut()
            .rev()
            .find(|b| b.kind == kind && b.can_deliver());
        if let Some(board) = board {
            board.send(
                &mut self.out,
                &SbClientCommand::Msg {
                    ack: AckMode::Unacknowledged,
                    payload: typing_payload(&account),
                },
            );
            board.active = now;
        }
        TYPING_RESEND
    }

    /// Nudges `who` (the datacast with ID 1).
    pub fn send_nudge(&mut self, who: &str, now: Instant) -> Result<(), SendError> {
        let who = self.contact_address(who)?;
        let at = self.board_for_im(&who, now).ok_or(SendError::Busy)?;
        self.sb_enqueue(at, vec![Outgoing::nudge()], now);
        Ok(())
    }

    /// The user closed the conversation with `who`: leave its switchboards unless something
    /// is still waiting to be delivered (those close when idle).
    pub fn close_conversation(&mut self, who: &str) {
        let kind = Kind::Im(who.trim().to_ascii_lowercase());
        while let Some(at) = self
            .switchboards
            .boards
            .iter()
            .position(|b| b.kind == kind && !b.has_pending())
        {
            self.close_board(at);
        }
    }

    /// Starts a group chat, inviting `invite` if given; returns its id. The chat shows at once
    /// ([`ChatEvent::ChatStarted`](super::ChatEvent::ChatStarted)); people appear as they join.
    pub fn start_chat(&mut self, invite: Option<&str>, now: Instant) -> Result<u32, SendError> {
        let invite = invite.map(|who| self.contact_address(who)).transpose()?;
        if !self.login.is_done() {
            return Err(SendError::NotSignedIn);
        }
        let chat = self.switchboards.next_chat.wrapping_add(1).max(1);
        self.request_board(Kind::Chat(chat), invite, now)
            .ok_or(SendError::Busy)?;
        self.switchboards.next_chat = chat;
        self.chat_event(ChatEvent::ChatStarted {
            chat,
            members: Vec::new(),
            from_im: None,
        });
        Ok(chat)
    }

    /// Invites `who` into group chat `chat`.
    pub fn chat_invite(&mut self, chat: u32, who: &str) -> Result<(), SendError> {
        let who = self.contact_address(who)?;
        let at = self.board_of_chat(chat).ok_or(SendError::NoSuchChat)?;
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return Err(SendError::NoSuchChat);
        };
        if board.has_member(&who) {
            return Ok(());
        }
        if matches!(board.stage, super::board::Stage::Ready) {
            self.sb_call(at, &who);
        } else if !board.to_call.contains(&who) && board.to_call.len() < super::MAX_MEMBERS {
            board.to_call.push(who);
        }
        Ok(())
    }

    /// Sends Pidgin HTML to everyone in group chat `chat`.
    pub fn chat_send(&mut self, chat: u32, html: &str, now: Instant) -> Result<(), SendError> {
        let at = self.board_of_chat(chat).ok_or(SendError::NoSuchChat)?;
        let (text, format) = from_html(html.as_bytes());
        if !text.trim().is_empty() {
            self.sb_enqueue(at, Outgoing::texts(&text, &format), now);
        }
        Ok(())
    }

    /// Leaves group chat `chat`.
    pub fn chat_leave(&mut self, chat: u32) {
        if let Some(at) = self.board_of_chat(chat) {
            self.close_board(at);
        }
    }

    /// `who` as a contact address (lower-case), if it can be one and we are signed in.
    fn contact_address(&self, who: &str) -> Result<String, SendError> {
        if self.ended || !self.login.is_done() {
            return Err(SendError::NotSignedIn);
        }
        self.valid_address(who)
    }

    /// `who` as a contact's address (lower-case), if it can be one.
    fn valid_address(&self, who: &str) -> Result<String, SendError> {
        let who = who.trim();
        let usable = !who.is_empty()
            && who.len() <= MAX_ADDRESS
            && who.contains('@')
            && !who.chars().any(|c| c.is_whitespace() || c.is_control())
            && !self.is_own_address(who);
        usable
            .then(|| who.to_ascii_lowercase())
            .ok_or(SendError::InvalidAddress)
    }
}
