//! Conversations: switchboard sessions, messages, typing, nudges, group chats, offline messages.
//!
//! Each conversation runs on its own switchboard connection (docs/protocol.md §7): outgoing ones
//! start with `XFR SB` on the NS, then `USR` and `CAL`; invitations (`RNG`) are answered at once
//! with `ANS`. A one-to-one conversation becomes a group chat when a third person joins. Every
//! text we send asks for an `ACK`. When a switchboard or the whole session is lost, a message
//! never written is sent once more (on a new switchboard, or after the reconnection), and one
//! written but not acknowledged is reported to the user with its text (docs/protocol.md §7.9).
//! A contact who cannot be reached gets the text as an offline message (MSNP11+,
//! docs/protocol.md §9), which is also how offline messages are received at sign-in.

mod board;
mod commands;
mod held;
mod ink;
mod offline;
mod outgoing;
mod places;
mod protocol;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use crate::message::{ChunkLimits, ChunkReassembler, EmoticonList, EmoticonListError};
use crate::wire::{NsCommand, XfrTarget};

use super::cx::Cx;
use super::{ConnId, Event, HttpId};
use board::{Board, BoardId};

pub(super) use commands::contact_address;
pub use commands::SendError;
pub use held::{Unsent, HOLD_LIMIT};
pub(super) use ink::ink_event;

/// Most switchboards open at once; a new one closes the longest-idle one-to-one conversation
/// with nothing pending, or is refused.
const MAX_BOARDS: usize = 32;
/// Most messages waiting in one switchboard for someone to join.
const MAX_QUEUE: usize = 64;
/// Most P2P packets waiting in one switchboard for someone to join (a 256 KiB picture is
/// about 220 chunks).
const MAX_P2P_QUEUE: usize = 512;
/// Most P2P messages queued or awaiting the switchboard's `ACK` before file data waits: about
/// 40 KB in flight per switchboard.
const P2P_WINDOW: usize = 32;
/// Most messages waiting for their `ACK` in one switchboard.
const MAX_UNACKED: usize = 64;
/// Most members tracked in one switchboard.
const MAX_MEMBERS: usize = 64;
/// Most contacts shown as typing at once.
const MAX_TYPING: usize = 64;
/// How long to wait before first asking again for a switchboard the NS refused with 913
/// before our status was confirmed; doubled at each refusal.
const XFR_RETRY: Duration = Duration::from_secs(2);
/// Most 913 refusals of one switchboard request before its messages are reported.
const MAX_XFR_REFUSALS: u8 = 3;
/// Why a message could not go out while the server refuses conversations to the invisible.
const HIDDEN_REASON: &str = "you appear offline, and the server starts no conversations while \
you do; change your status to send";
/// A switchboard must be signed in, and joined when messages wait, this soon.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an `ACK` may take before the message counts as not delivered.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// A one-to-one switchboard with nothing pending is left after this long without traffic.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// A contact's typing notice lapses after this long without a new one (Pidgin uses 6 s).
const TYPING_TIMEOUT: Duration = Duration::from_secs(6);
/// How often the user interface should repeat our typing notice while the user types.
pub const TYPING_RESEND: Duration = Duration::from_secs(5);
/// Switchboards a message is handed to before it is reported as not delivered.
const MAX_ATTEMPTS: u8 = 2;

/// The conversations of a session.
#[derive(Debug)]
pub struct Switchboards {
    /// By id; ids grow, so this is also the order the boards were opened in.
    boards: BTreeMap<BoardId, Board>,
    next_board: u64,
    next_chat: u32,
    chunks: ChunkReassembler,
    /// Contacts shown as typing, and until when.
    typing: Vec<(String, Instant)>,
    offline: offline::Offline,
    /// Contacts whose P2P traffic lost its switchboard, for the session to collect.
    p2p_lost: Vec<String>,
    /// Messages waiting for sign-in, and those set aside for the next session.
    held: held::HeldMessages,
    /// Each account's places (MSNP16+), as the server last listed them.
    places: places::Places,
}

impl Default for Switchboards {
    fn default() -> Self {
        Switchboards {
            boards: BTreeMap::new(),
            next_board: 0,
            next_chat: 0,
            chunks: ChunkReassembler::new(ChunkLimits::default()),
            typing: Vec::new(),
            offline: offline::Offline::default(),
            p2p_lost: Vec::new(),
            held: held::HeldMessages::default(),
            places: places::Places::default(),
        }
    }
}

/// Which conversation an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Conversation {
    /// The one-to-one conversation with this contact (lower-case e-mail).
    Im(String),
    /// The group chat with this id.
    Chat(u32),
}

/// Someone in a group chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The contact's e-mail, lower-case.
    pub email: String,
    /// Their friendly name as the switchboard gave it.
    pub friendly: String,
}

/// Conversation events for the user interface.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// A message from a contact, as Pidgin HTML. Offline messages carry the time they were
    /// sent (Unix seconds).
    Message {
        /// Where it belongs.
        conversation: Conversation,
        /// The sender's e-mail, lower-case.
        from: String,
        /// The sender's friendly name.
        friendly: String,
        /// The text as HTML, escaped and formatted.
        html: String,
        /// When it was sent, for messages that waited on the server.
        timestamp: Option<i64>,
    },
    /// A message our account sent from another place (MSNP16+), which the server copied here
    /// because this place is in the same switchboard.
    SentElsewhere {
        /// The contact it was sent to.
        to: String,
        /// The text as HTML, escaped and formatted.
        html: String,
    },
    /// A contact opened a one-to-one conversation with us (we answered their invitation) before
    /// writing anything.
    Opened {
        /// The contact.
        with: String,
    },
    /// A contact started (`true`) or stopped typing to us.
    Typing {
        /// The contact.
        from: String,
        /// Whether they are typing now.
        typing: bool,
    },
    /// A contact nudged us.
    Nudge {
        /// The contact.
        from: String,
    },
    /// Something we sent was not delivered; `text` is what the user typed.
    Undelivered {
        /// Where it was sent.
        conversation: Conversation,
        /// The text (or "(nudge)").
        text: String,
        /// Why, for the user.
        reason: String,
    },
    /// A contact sent a handwritten message as a GIF: shown inline.
    Ink {
        /// Where it belongs.
        conversation: Conversation,
        /// The contact.
        from: String,
        /// The image.
        gif: Vec<u8>,
    },
    /// An informational line for a conversation.
    Notice {
        /// Where it belongs.
        conversation: Conversation,
        /// The text.
        text: String,
    },
    /// Offline messages just shown, by id: the user interface keeps the ids with the account
    /// and gives them back in [`crate::session::Config::offline_shown`], so that one the server
    /// failed to delete is not shown again at a later sign-in.
    OfflineShown {
        /// The messages' ids.
        ids: Vec<String>,
    },
    /// A group chat opened: one we started, an invitation with several people in it, or a
    /// one-to-one conversation a third person joined (`from_im` names its contact).
    ChatStarted {
        /// The chat's id.
        chat: u32,
        /// Who is there already (not us).
        members: Vec<Member>,
        /// The one-to-one conversation this chat continues.
        from_im: Option<String>,
    },
    /// Someone joined a group chat.
    Joined {
        /// The chat.
        chat: u32,
        /// Who.
        member: Member,
    },
    /// Someone left a group chat.
    Left {
        /// The chat.
        chat: u32,
        /// Their e-mail.
        email: String,
    },
    /// A group chat is over (its switchboard was lost); the user is out of it.
    ChatEnded {
        /// The chat.
        chat: u32,
        /// Why, for the user.
        reason: String,
    },
}

/// A P2P packet that arrived on a switchboard, for the P2P part.
#[derive(Debug)]
pub(in crate::session) struct P2pPacket {
    /// The sender, lower-case.
    pub(in crate::session) from: String,
    /// The `P2P-Src` it came from (MSNP16+: `address;{guid}`).
    pub(in crate::session) source: Option<String>,
    /// The `P2P-Dest` it was addressed to.
    pub(in crate::session) destination: Option<String>,
    /// The binary P2P packet.
    pub(in crate::session) body: Vec<u8>,
}

/// What a switchboard message carries for another part of the session, handed over at once
/// (before anything later on that connection).
#[derive(Debug)]
pub(in crate::session) enum Handoff {
    /// A P2P packet, for the P2P part.
    P2p(P2pPacket),
    /// A custom emoticon declaration, for the emoticons part.
    Emoticons {
        /// Where it was sent.
        conversation: Conversation,
        /// The sender, lower-case.
        from: String,
        /// The declaration.
        list: Result<EmoticonList, EmoticonListError>,
    },
}

impl Switchboards {
    /// A notification-server command after sign-in; returns it when it is not about
    /// conversations (`XFR SB`, `RNG`, offline-message notifications). `hidden`: the server
    /// has us appearing offline.
    pub(in crate::session) fn handle_ns_command(
        &mut self,
        cx: &mut Cx,
        command: NsCommand,
        hidden: bool,
        now: Instant,
    ) -> Option<NsCommand> {
        match command {
            NsCommand::Xfr(xfr) => match xfr.target {
                XfrTarget::Sb { address, cookie } => {
                    self.referral(cx, xfr.trid, address, cookie, now);
                    None
                }
                target => Some(NsCommand::Xfr(crate::wire::Xfr {
                    trid: xfr.trid,
                    target,
                })),
            },
            NsCommand::Rng(rng) => {
                self.answer_invitation(cx, rng, now);
                None
            }
            NsCommand::Error(e) if e.trid.is_some_and(|t| self.by_xfr(t).is_some()) => {
                self.refused(cx, e.trid.unwrap_or_default(), e.code, hidden, now);
                None
            }
            NsCommand::Msg(msg)
                if msg.from == "Hotmail" && offline::is_announcement(&msg.payload) =>
            {
                self.offline.announcement(cx, &msg.payload, now);
                None
            }
            other => Some(other),
        }
    }

    /// Whether `conn` is one of our switchboard connections.
    pub(in crate::session) fn owns(&self, conn: ConnId) -> bool {
        self.by_conn(conn).is_some()
    }

    /// A switchboard connection failed or closed.
    pub(in crate::session) fn handle_connection_lost(
        &mut self,
        cx: &mut Cx,
        conn: ConnId,
        text: &str,
        now: Instant,
    ) {
        if let Some(id) = self.by_conn(conn) {
            log::info!("switchboard connection lost: {text}");
            self.failed(cx, id, "the conversation's connection was lost", false, now);
        }
    }

    /// An HTTP answer or failure; false when it is not for an offline-message request.
    pub(in crate::session) fn handle_http(
        &mut self,
        cx: &mut Cx,
        id: HttpId,
        result: Result<&[u8], &str>,
        now: Instant,
    ) -> bool {
        self.offline.handle_http(cx, id, result, now)
    }

    /// The earliest conversation deadline.
    pub(in crate::session) fn deadline(&self) -> Option<Instant> {
        let boards = self.boards.values().filter_map(Board::deadline).min();
        let typing = self.typing.iter().map(|(_, at)| *at).min();
        [
            boards,
            typing,
            self.chunks.next_deadline(),
            self.held.deadline(),
            self.offline.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// MSNP16+: `email` is signed in at the places `guids` (as its `UBX` lists them; for our
    /// own account, the other places), or at none.
    pub(in crate::session) fn set_places(&mut self, email: &str, guids: &[String]) {
        self.places.set(email, guids);
    }

    /// Conversation deadlines due at `now`.
    pub(in crate::session) fn handle_timeout(&mut self, cx: &mut Cx, now: Instant) {
        self.held.handle_timeout(cx, now);
        self.boards_timeout(cx, now);
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.typing)
            .into_iter()
            .partition(|(_, at)| *at <= now);
        self.typing = keep;
        for (from, _) in due {
            chat_event(
                cx,
                ChatEvent::Typing {
                    from,
                    typing: false,
                },
            );
        }
        self.chunks.expire(now);
        self.offline.handle_timeout(cx, now);
    }

    /// A contact's typing notice: shown now, lapsing after [`TYPING_TIMEOUT`].
    fn typing_started(&mut self, cx: &mut Cx, from: &str, now: Instant) {
        let until = now + TYPING_TIMEOUT;
        let typing = &mut self.typing;
        if let Some(entry) = typing.iter_mut().find(|(who, _)| who == from) {
            entry.1 = until;
            return;
        }
        if typing.len() >= MAX_TYPING {
            log::debug!("too many typing contacts; {from} not shown");
            return;
        }
        typing.push((from.to_owned(), until));
        chat_event(
            cx,
            ChatEvent::Typing {
                from: from.to_owned(),
                typing: true,
            },
        );
    }

    /// A contact's message ends their typing notice.
    fn typing_stopped(&mut self, cx: &mut Cx, from: &str) {
        let typing = &mut self.typing;
        let before = typing.len();
        typing.retain(|(who, _)| who != from);
        if typing.len() != before {
            chat_event(
                cx,
                ChatEvent::Typing {
                    from: from.to_owned(),
                    typing: false,
                },
            );
        }
    }
}

/// Queues a conversation event for the user interface.
fn chat_event(cx: &mut Cx, event: ChatEvent) {
    cx.event(Event::Chat(event));
}
