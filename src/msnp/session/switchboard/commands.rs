//! What the user interface asks of conversations: open one, send text, typing and nudges,
//! start, grow, use and leave group chats.

use std::time::Instant;

use crate::message::{from_html, typing_payload};
use crate::session::cx::Cx;
use crate::wire::sb::{AckMode, SbClientCommand};

use super::board::{BoardId, Kind, Stage};
use super::outgoing::Outgoing;
use super::{chat_event, ChatEvent, Conversation, Switchboards};

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

impl Switchboards {
    /// The user opened a conversation with `who` (a checked contact address): invite them
    /// into a switchboard at once (as the official client did), so the other side can greet
    /// before the user types.
    pub(in crate::session) fn open_conversation(
        &mut self,
        cx: &mut Cx,
        who: &str,
        now: Instant,
    ) -> Result<(), SendError> {
        self.for_im(cx, who, now).map(|_| ()).ok_or(SendError::Busy)
    }

    /// Sends Pidgin HTML to `who`: queued until the contact joins, split to fit, acknowledged
    /// or reported back as [`ChatEvent::Undelivered`]; stored as an offline message if the
    /// contact is offline (MSNP13+).
    pub(in crate::session) fn send_im(
        &mut self,
        cx: &mut Cx,
        who: &str,
        html: &str,
        now: Instant,
    ) -> Result<(), SendError> {
        let (text, format) = from_html(html.as_bytes());
        if text.trim().is_empty() {
            return Ok(());
        }
        let id = self.for_im(cx, who, now).ok_or(SendError::Busy)?;
        self.enqueue(cx, id, Outgoing::texts(&text, &format), now);
        Ok(())
    }

    /// Queues declarations of our custom emoticons (see `message::emoticons::payloads`) in
    /// `conversation` (`Im` with a checked contact address), before the text that uses them.
    pub(in crate::session) fn send_emoticons(
        &mut self,
        cx: &mut Cx,
        conversation: &Conversation,
        declarations: Vec<Vec<u8>>,
        now: Instant,
    ) -> Result<(), SendError> {
        let id = match conversation {
            Conversation::Im(who) => self.for_im(cx, who, now).ok_or(SendError::Busy)?,
            Conversation::Chat(chat) => self.of_chat(*chat).ok_or(SendError::NoSuchChat)?,
        };
        let declarations = declarations.into_iter().map(Outgoing::emoticons).collect();
        self.enqueue(cx, id, declarations, now);
        Ok(())
    }

    /// The user is typing to `who`: tells the contact if a conversation is open.
    pub(in crate::session) fn send_typing(&mut self, cx: &mut Cx, who: String, now: Instant) {
        let kind = Kind::Im(who);
        let board = self
            .boards
            .values_mut()
            .rev()
            .find(|b| b.kind == kind && b.can_deliver());
        if let Some(board) = board {
            let payload = typing_payload(&cx.config.account);
            board.send(
                cx.out,
                &SbClientCommand::Msg {
                    ack: AckMode::Unacknowledged,
                    payload,
                },
            );
            board.active = now;
        }
    }

    /// Nudges `who` (the datacast with ID 1).
    pub(in crate::session) fn send_nudge(
        &mut self,
        cx: &mut Cx,
        who: &str,
        now: Instant,
    ) -> Result<(), SendError> {
        let id = self.for_im(cx, who, now).ok_or(SendError::Busy)?;
        self.enqueue(cx, id, vec![Outgoing::nudge()], now);
        Ok(())
    }

    /// The user closed the conversation with `who`: leave its switchboards unless something
    /// is still waiting to be delivered (those close when idle).
    pub(in crate::session) fn close_conversation(&mut self, cx: &mut Cx, who: &str) {
        let kind = Kind::Im(who.trim().to_ascii_lowercase());
        let idle: Vec<BoardId> = self
            .boards
            .values()
            .filter(|b| b.kind == kind && !b.has_pending())
            .map(|b| b.id)
            .collect();
        for id in idle {
            self.close(cx, id);
        }
    }

    /// Starts a group chat, inviting `invite` if given; returns its id. The chat shows at once
    /// ([`ChatEvent::ChatStarted`]); people appear as they join.
    pub(in crate::session) fn start_chat(
        &mut self,
        cx: &mut Cx,
        invite: Option<String>,
        now: Instant,
    ) -> Result<u32, SendError> {
        let chat = self.next_chat.wrapping_add(1).max(1);
        self.request(cx, Kind::Chat(chat), invite, now)
            .ok_or(SendError::Busy)?;
        self.next_chat = chat;
        chat_event(
            cx,
            ChatEvent::ChatStarted {
                chat,
                members: Vec::new(),
                from_im: None,
            },
        );
        Ok(chat)
    }

    /// Invites `who` into group chat `chat`.
    pub(in crate::session) fn chat_invite(
        &mut self,
        cx: &mut Cx,
        chat: u32,
        who: String,
    ) -> Result<(), SendError> {
        let id = self.of_chat(chat).ok_or(SendError::NoSuchChat)?;
        let Some(board) = self.boards.get_mut(&id) else {
            return Err(SendError::NoSuchChat);
        };
        if board.has_member(&who) {
            return Ok(());
        }
        if matches!(board.stage, Stage::Ready) {
            self.call(cx, id, &who);
        } else if !board.to_call.contains(&who) && board.to_call.len() < super::MAX_MEMBERS {
            board.to_call.push(who);
        }
        Ok(())
    }

    /// Sends Pidgin HTML to everyone in group chat `chat`.
    pub(in crate::session) fn chat_send(
        &mut self,
        cx: &mut Cx,
        chat: u32,
        html: &str,
        now: Instant,
    ) -> Result<(), SendError> {
        let id = self.of_chat(chat).ok_or(SendError::NoSuchChat)?;
        let (text, format) = from_html(html.as_bytes());
        if !text.trim().is_empty() {
            self.enqueue(cx, id, Outgoing::texts(&text, &format), now);
        }
        Ok(())
    }

    /// Leaves group chat `chat`.
    pub(in crate::session) fn chat_leave(&mut self, cx: &mut Cx, chat: u32) {
        if let Some(id) = self.of_chat(chat) {
            self.close(cx, id);
        }
    }
}

/// `who` as a contact address (lower-case), if it can be one; `account` is our own.
pub(in crate::session) fn contact_address(who: &str, account: &str) -> Result<String, SendError> {
    let who = who.trim();
    let usable = !who.is_empty()
        && who.len() <= MAX_ADDRESS
        && who.contains('@')
        && !who.chars().any(|c| c.is_whitespace() || c.is_control())
        && !who.eq_ignore_ascii_case(account);
    usable
        .then(|| who.to_ascii_lowercase())
        .ok_or(SendError::InvalidAddress)
}
