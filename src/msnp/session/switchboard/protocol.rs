//! The switchboard protocol as the session drives it (docs/protocol.md §7): getting a switchboard,
//! signing in, the roster (`IRO`/`JOI`/`BYE`), messages and acknowledgements, and what happens
//! to queued and unacknowledged messages when a switchboard fails.

use std::time::Instant;

use crate::message::{MsgPayload, TextMessage};
use crate::secret::Secret;
use crate::session::{ConnId, Output, Session};
use crate::wire::sb::{self, Participant, SbClientCommand, SbCommand, SbMsg};
use crate::wire::{ClientCommand, HostPort, Rng, ServerError};

use super::board::{Board, BoardId, Kind, Stage};
use super::outgoing::{Outgoing, What};
use super::{
    ChatEvent, Conversation, ACK_TIMEOUT, HIDDEN_REASON, IDLE_TIMEOUT, MAX_ATTEMPTS, MAX_BOARDS,
    MAX_P2P_QUEUE, MAX_QUEUE, MAX_UNACKED, MAX_XFR_REFUSALS, SETUP_TIMEOUT, XFR_RETRY,
};

impl Session {
    /// Asks the NS for a new switchboard for `kind`, inviting `call` once signed in. `None`
    /// when the NS is not connected or too many switchboards are open.
    pub(super) fn request_board(
        &mut self,
        kind: Kind,
        call: Option<String>,
        now: Instant,
    ) -> Option<usize> {
        if self.ns.is_none() || self.ended || !self.sb_make_room() {
            return None;
        }
        let xfr = self.send(ClientCommand::XfrSb)?;
        let id = self.next_board_id();
        let mut board = Board::new(id, Stage::Requested { xfr }, kind, now);
        board.to_call.extend(call);
        self.switchboards.boards.push(board);
        Some(self.switchboards.boards.len() - 1)
    }

    /// The switchboard for the one-to-one conversation with `peer`: an open one (preferring
    /// one where the contact is present), else a new one that invites them.
    pub(super) fn board_for_im(&mut self, peer: &str, now: Instant) -> Option<usize> {
        let kind = Kind::Im(peer.to_ascii_lowercase());
        let boards = &self.switchboards.boards;
        let open = boards
            .iter()
            .rposition(|b| b.kind == kind && b.can_deliver())
            .or_else(|| boards.iter().rposition(|b| b.kind == kind));
        open.or_else(|| self.request_board(kind, Some(peer.to_ascii_lowercase()), now))
    }

    /// Adds messages to a board's queue and sends what can be sent. Messages beyond the
    /// queue's bound are reported as not delivered.
    pub(super) fn sb_enqueue(&mut self, at: usize, messages: Vec<Outgoing>, now: Instant) {
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        let conversation = board.conversation();
        let mut refused = Vec::new();
        for message in messages {
            if board.queue.len() >= MAX_QUEUE {
                refused.push(message);
            } else {
                board.queue.push_back(message);
            }
        }
        if !board.can_deliver() && board.setup_deadline.is_none() && !board.queue.is_empty() {
            board.setup_deadline = Some(now + SETUP_TIMEOUT);
        }
        for message in refused {
            self.sb_undelivered(
                conversation.clone(),
                &message,
                "too many messages are waiting to be sent",
            );
        }
        self.sb_flush(at, now);
    }

    /// Sends queued messages while someone is there to receive them and the unacknowledged
    /// window has room.
    pub(super) fn sb_flush(&mut self, at: usize, now: Instant) {
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        if !board.can_deliver() {
            return;
        }
        board.setup_deadline = None;
        while let Some(payload) = board.p2p.pop_front() {
            let ack = sb::AckMode::Data;
            board.send(&mut self.out, &SbClientCommand::Msg { ack, payload });
            board.active = now;
        }
        while board.unacked.len() < MAX_UNACKED {
            let Some(message) = board.queue.pop_front() else {
                break;
            };
            let ack = message.ack();
            let trid = board.send(
                &mut self.out,
                &SbClientCommand::Msg {
                    ack,
                    payload: message.payload.clone(),
                },
            );
            board.active = now;
            if ack == sb::AckMode::Always {
                board.unacked.push((trid, message, now + ACK_TIMEOUT));
            }
        }
    }

    /// Queues a P2P payload for `peer` on a switchboard they are in, else on their one-to-one
    /// switchboard (opened if none, which shows no conversation), and sends what can be sent.
    pub(in crate::session) fn sb_send_p2p(&mut self, peer: &str, payload: Vec<u8>, now: Instant) {
        let boards = &self.switchboards.boards;
        let joined = boards
            .iter()
            .rposition(|b| b.can_deliver() && b.has_member(peer));
        let Some(at) = joined.or_else(|| self.board_for_im(peer, now)) else {
            return log::warn!("no switchboard for a P2P packet to {peer}; dropped");
        };
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        if board.p2p.len() >= MAX_P2P_QUEUE {
            return log::warn!("too many P2P packets waiting for {peer}; dropped");
        }
        board.p2p.push_back(payload);
        if !board.can_deliver() && board.setup_deadline.is_none() {
            board.setup_deadline = Some(now + SETUP_TIMEOUT);
        }
        self.sb_flush(at, now);
    }

    /// `XFR <trid> SB <address> CKI <cookie>`: connect to the switchboard we asked for.
    pub(super) fn switchboard_referral(
        &mut self,
        xfr: u32,
        address: HostPort,
        cookie: Secret<String>,
        now: Instant,
    ) {
        let Some(at) = self.board_by_xfr(xfr) else {
            log::debug!("switchboard referral for a forgotten request {xfr}");
            return;
        };
        let conn = self.next_sb_conn();
        if let Some(board) = self.switchboards.boards.get_mut(at) {
            board.conn = Some(conn);
            board.stage = Stage::Connecting {
                cookie,
                session_id: None,
            };
            board.active = now;
        }
        self.out.push_back(Output::Connect {
            conn,
            host: address.host,
            port: address.port,
        });
    }

    /// A numeric error for our `XFR SB`. 913 (not while offline or invisible) is final while
    /// the server has us appearing offline: texts become offline messages where the server
    /// takes them, the rest is reported at once. Before our status is confirmed it is what the
    /// server says until our first `CHG`, so the request is repeated a few times, waiting
    /// twice as long each time, within the set-up deadline.
    pub(super) fn switchboard_refused(&mut self, xfr: u32, code: u16, now: Instant) {
        let Some(at) = self.board_by_xfr(xfr) else {
            return;
        };
        let hidden = self.appears_offline();
        if let (ServerError::NOT_ALLOWED_OFFLINE, Some(board)) =
            (code, self.switchboards.boards.get_mut(at))
        {
            if hidden {
                let (kind, conversation) = (board.kind.clone(), board.conversation());
                let owed = Owed::take(board);
                self.close_board(at);
                self.report_written(&conversation, &owed.written, HIDDEN_REASON);
                return match kind {
                    Kind::Im(peer) => self.store_or_report(&peer, owed.waiting, HIDDEN_REASON, now),
                    Kind::Chat(chat) => {
                        for message in &owed.waiting {
                            self.sb_undelivered(Conversation::Chat(chat), message, HIDDEN_REASON);
                        }
                        self.chat_event(ChatEvent::ChatEnded {
                            chat,
                            reason: HIDDEN_REASON.to_owned(),
                        });
                    }
                };
            }
            let wait = XFR_RETRY * 2u32.pow(u32::from(board.refusals));
            if board.refusals < MAX_XFR_REFUSALS
                && board.setup_deadline.is_some_and(|d| d > now + wait)
            {
                board.refusals += 1;
                board.stage = Stage::Waiting { until: now + wait };
                board.trouble = Some(HIDDEN_REASON.to_owned());
                return;
            }
        }
        let reason = match code {
            ServerError::NOT_ALLOWED_OFFLINE => HIDDEN_REASON.to_owned(),
            _ => format!("the server refused a conversation (error {code})"),
        };
        self.give_up(at, &reason, now);
    }

    /// Fails a board whose messages another switchboard would not help: all are reported.
    fn give_up(&mut self, at: usize, reason: &str, now: Instant) {
        if let Some(board) = self.switchboards.boards.get_mut(at) {
            for message in board.queue.iter_mut() {
                message.attempts = MAX_ATTEMPTS;
            }
        }
        self.board_failed(at, reason, true, now);
    }

    /// Whether an `XFR SB` with this TrID is waiting for its answer.
    pub(super) fn xfr_pending(&self, xfr: u32) -> bool {
        self.board_by_xfr(xfr).is_some()
    }

    /// `RNG`: someone invites us; answer at once (as the official client did).
    pub(super) fn answer_invitation(&mut self, rng: Rng, now: Instant) {
        if !self.sb_make_room() {
            log::warn!(
                "too many conversations open; invitation from {} ignored",
                rng.inviter
            );
            return;
        }
        let id = self.next_board_id();
        let conn = self.next_sb_conn();
        let stage = Stage::Connecting {
            cookie: rng.cookie,
            session_id: Some(rng.session_id),
        };
        let mut board = Board::new(id, stage, Kind::Im(rng.inviter.to_ascii_lowercase()), now);
        board.conn = Some(conn);
        self.switchboards.boards.push(board);
        self.out.push_back(Output::Connect {
            conn,
            host: rng.address.host,
            port: rng.address.port,
        });
    }

    /// The switchboard connection is up: sign in with `USR`, or `ANS` an invitation.
    pub(super) fn board_connected(&mut self, conn: ConnId, now: Instant) {
        let user = self.sb_own_participant();
        let Some(at) = self.board_at_conn(conn) else {
            return;
        };
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        let stage = std::mem::replace(&mut board.stage, Stage::Ready);
        let Stage::Connecting { cookie, session_id } = stage else {
            board.stage = stage;
            return;
        };
        let answering = session_id.is_some();
        let command = match session_id {
            Some(session_id) => SbClientCommand::Ans {
                user,
                cookie,
                session_id,
            },
            None => SbClientCommand::Usr { user, cookie },
        };
        let trid = board.send(&mut self.out, &command);
        board.stage = Stage::SigningIn { trid, answering };
        board.active = now;
    }

    /// Bytes from a switchboard: frame, parse and handle each command.
    pub(super) fn board_bytes(&mut self, conn: ConnId, bytes: &[u8], now: Instant) {
        let Some(at) = self.board_at_conn(conn) else {
            return;
        };
        if let Some(board) = self.switchboards.boards.get_mut(at) {
            board.framer.push(bytes);
        }
        loop {
            let Some(at) = self.board_at_conn(conn) else {
                return;
            };
            let Some(board) = self.switchboards.boards.get_mut(at) else {
                return;
            };
            let frame = match board.framer.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(e) => {
                    log::warn!("unframeable data from a switchboard: {e}");
                    return self.board_failed(at, "the switchboard sent invalid data", true, now);
                }
            };
            board.active = now;
            let line = String::from_utf8_lossy(&frame.line).into_owned();
            match sb::parse(frame, self.speaks()) {
                Ok(command) => self.board_command(at, command, now),
                Err(e) => log::warn!(
                    "ignored malformed switchboard command ({e}): {}",
                    super::super::printable(&line)
                ),
            }
        }
    }

    /// One command from the switchboard at `at`.
    fn board_command(&mut self, at: usize, command: SbCommand, now: Instant) {
        match command {
            SbCommand::Usr(_) => self.signed_in_board(at, false, now),
            SbCommand::Ans(_) => self.signed_in_board(at, true, now),
            SbCommand::Iro(iro) => {
                if !self.is_own_address(&iro.participant.email) {
                    if let Some(board) = self.switchboards.boards.get_mut(at) {
                        board.add_member(&iro.participant.email, &iro.friendly);
                    }
                }
            }
            SbCommand::Cal(cal) => {
                if let Some(board) = self.switchboards.boards.get_mut(at) {
                    board.calls.retain(|(trid, _)| *trid != cal.trid);
                }
            }
            SbCommand::Joi(joi) => self.sb_joined(at, &joi.participant, &joi.friendly, now),
            SbCommand::Bye(bye) => self.sb_left(at, &bye.participant, now),
            SbCommand::Msg(msg) => self.board_message(at, msg, now),
            SbCommand::Ack(ack) => {
                if let Some(board) = self.switchboards.boards.get_mut(at) {
                    board.unacked.retain(|(trid, _, _)| *trid != ack.trid);
                }
                self.sb_flush(at, now);
            }
            SbCommand::Nak(nak) => self.not_delivered(at, nak.trid, now),
            SbCommand::Out => {
                self.board_failed(at, "the switchboard closed the conversation", false, now)
            }
            SbCommand::Error(e) => self.board_error(at, e, now),
            SbCommand::Raw(raw) => log::debug!("unhandled switchboard command {}", raw.verb),
        }
    }

    /// `USR … OK` or `ANS … OK`: signed in.
    fn signed_in_board(&mut self, at: usize, answered: bool, now: Instant) {
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        if !matches!(board.stage, Stage::SigningIn { answering, .. } if answering == answered) {
            log::debug!("unexpected switchboard sign-in answer");
            return;
        }
        board.stage = Stage::Ready;
        if answered {
            board.setup_deadline = None;
            match board.members.len() {
                0 => {
                    log::info!("invited into an empty switchboard; leaving it");
                    return self.close_board(at);
                }
                1 => {
                    let peer = board.members.first().map(|m| m.email.clone());
                    let peer = peer.unwrap_or_default();
                    board.kind = Kind::Im(peer.clone());
                    self.chat_event(ChatEvent::Opened { with: peer });
                }
                _ => self.make_chat(at, None),
            }
        } else {
            let calls: Vec<String> = std::mem::take(&mut board.to_call);
            for email in calls {
                self.sb_call(at, &email);
            }
            if let Some(board) = self.switchboards.boards.get_mut(at) {
                if board.to_call.is_empty() && board.calls.is_empty() && board.queue.is_empty() {
                    board.setup_deadline = None;
                }
            }
        }
        self.sb_flush(at, now);
    }

    /// Sends `CAL` for `email` on a signed-in board.
    pub(super) fn sb_call(&mut self, at: usize, email: &str) {
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        let trid = board.send(
            &mut self.out,
            &SbClientCommand::Cal {
                email: email.to_owned(),
            },
        );
        if board.calls.len() < super::MAX_MEMBERS {
            board.calls.push((trid, email.to_ascii_lowercase()));
        }
    }

    /// `JOI`: someone joined. A second contact turns a one-to-one conversation into a chat.
    fn sb_joined(&mut self, at: usize, who: &Participant, friendly: &str, now: Instant) {
        if self.is_own_address(&who.email) {
            return;
        }
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        if !board.add_member(&who.email, friendly) {
            return;
        }
        let email = who.email.to_ascii_lowercase();
        match board.kind.clone() {
            Kind::Im(peer) if peer != email => self.make_chat(at, Some(peer)),
            Kind::Im(_) => {}
            Kind::Chat(chat) => self.chat_event(ChatEvent::Joined {
                chat,
                member: super::Member {
                    email,
                    friendly: friendly.to_owned(),
                },
            }),
        }
        self.sb_flush(at, now);
    }

    /// `BYE`: someone left. From MSNP16 a user's endpoints leave one by one and the bare
    /// address last; only the bare one counts. When the contact of a one-to-one conversation
    /// leaves, the switchboard is closed: what was never written goes out on a new one, what
    /// was written and not acknowledged is reported (see [`Owed`]).
    fn sb_left(&mut self, at: usize, who: &Participant, now: Instant) {
        if who.endpoint.is_some() || self.is_own_address(&who.email) {
            return;
        }
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        if !board.remove_member(&who.email) {
            return;
        }
        match board.kind.clone() {
            Kind::Chat(chat) => self.chat_event(ChatEvent::Left {
                chat,
                email: who.email.to_ascii_lowercase(),
            }),
            Kind::Im(peer) if board.members.is_empty() => {
                let owed = Owed::take(board);
                self.close_board(at);
                let reason = "the contact left the conversation";
                self.report_written(&Conversation::Im(peer.clone()), &owed.written, reason);
                self.resend_or_report(&peer, owed.waiting, reason, now);
            }
            Kind::Im(_) => {}
        }
    }

    /// `MSG` from a participant.
    fn board_message(&mut self, at: usize, msg: SbMsg, now: Instant) {
        let Some(board) = self.switchboards.boards.get(at) else {
            return;
        };
        let conversation = board.conversation();
        let from = msg.sender.email.to_ascii_lowercase();
        let payload = match MsgPayload::parse(&msg.payload) {
            MsgPayload::Chunk(part) => match self.switchboards.chunks.push(&from, part, now) {
                Ok(Some(whole)) => whole,
                Ok(None) => return,
                Err(e) => return log::warn!("chunked message from {from} dropped: {e}"),
            },
            other => other,
        };
        match (payload, &conversation) {
            (MsgPayload::Text(text), Conversation::Im(to)) if self.is_own_address(&from) => {
                self.chat_event(ChatEvent::SentElsewhere {
                    to: to.clone(),
                    html: message_html(&text),
                });
            }
            (_, _) if self.is_own_address(&from) => {
                log::debug!("ignored a non-text message from our other place");
            }
            (MsgPayload::Text(text), _) => {
                self.typing_stopped(&from);
                self.chat_event(ChatEvent::Message {
                    conversation,
                    from,
                    friendly: msg.friendly,
                    html: message_html(&text),
                    timestamp: None,
                });
            }
            (MsgPayload::Typing { .. }, Conversation::Im(_)) => self.typing_started(&from, now),
            (MsgPayload::Nudge, Conversation::Im(_)) => self.chat_event(ChatEvent::Nudge { from }),
            (MsgPayload::Nudge, Conversation::Chat(_)) => self.chat_event(ChatEvent::Notice {
                conversation,
                text: format!("{} sent a nudge", msg.friendly),
            }),
            (
                MsgPayload::Datacast {
                    id: Some(id @ (2 | 3)),
                    ..
                },
                _,
            ) => {
                let what = if id == 2 { "a wink" } else { "a voice clip" };
                self.chat_event(ChatEvent::Notice {
                    conversation,
                    text: format!("{} sent {what}, which cannot be shown", msg.friendly),
                });
            }
            (MsgPayload::P2p { destination, body }, _) => {
                self.p2p_received(&from, destination.as_deref(), &body, now)
            }
            (MsgPayload::Unknown { content_type }, _) => {
                log::debug!("ignored a message of type {content_type:?} from {from}")
            }
            (other, _) => log::debug!("ignored {} from {from}", kind_name(&other)),
        }
    }

    /// `NAK`: the message with that TrID was not delivered.
    fn not_delivered(&mut self, at: usize, trid: u32, now: Instant) {
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        let Some(found) = board.unacked.iter().position(|(t, _, _)| *t == trid) else {
            return;
        };
        let (_, message, _) = board.unacked.remove(found);
        let conversation = board.conversation();
        self.sb_undelivered(
            conversation,
            &message,
            "the switchboard could not deliver it",
        );
        self.sb_flush(at, now);
    }

    /// A numeric error on a switchboard.
    fn board_error(&mut self, at: usize, error: ServerError, now: Instant) {
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        let trid = error.trid;
        if let Some(found) = board.calls.iter().position(|(t, _)| Some(*t) == trid) {
            let (_, email) = board.calls.remove(found);
            return self.call_failed(at, &email, error.code, now);
        }
        if matches!(board.stage, Stage::SigningIn { trid: t, .. } if Some(t) == trid) {
            let reason = format!("the switchboard refused us (error {})", error.code);
            return self.board_failed(at, &reason, true, now);
        }
        if let Some(trid) = trid.filter(|t| board.unacked.iter().any(|(u, _, _)| u == t)) {
            return self.not_delivered(at, trid, now);
        }
        log::warn!(
            "switchboard error {} ({}) for transaction {trid:?}",
            error.code,
            error.description()
        );
    }

    /// A `CAL` failed: 215 already there, 217 offline or not allowed, 208 not an address.
    fn call_failed(&mut self, at: usize, email: &str, code: u16, now: Instant) {
        if code == ServerError::ALREADY_ON_LIST {
            return;
        }
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        match board.kind.clone() {
            Kind::Im(peer) if peer == email && board.members.is_empty() => {
                let owed = Owed::take(board);
                self.close_board(at);
                let reason = match code {
                    ServerError::INVALID_PRINCIPAL => "the address is not valid",
                    _ => "the contact is offline or not accepting messages",
                };
                self.report_written(&Conversation::Im(peer.clone()), &owed.written, reason);
                self.store_or_report(&peer, owed.waiting, reason, now);
            }
            Kind::Chat(chat) => self.chat_event(ChatEvent::Notice {
                conversation: Conversation::Chat(chat),
                text: format!("{email} could not be invited (offline or unknown; error {code})"),
            }),
            Kind::Im(_) => log::info!("could not invite {email}: error {code}"),
        }
    }

    /// No switchboard can reach the contact of a one-to-one conversation: texts become
    /// offline messages where the server takes them, everything else is reported with
    /// `reason`.
    fn store_or_report(&mut self, peer: &str, pending: Vec<Outgoing>, reason: &str, now: Instant) {
        let conversation = Conversation::Im(peer.to_owned());
        for message in pending {
            match message.what {
                What::Text(text) if self.can_store_offline() => self.store_offline(peer, text, now),
                _ => self.sb_undelivered(conversation.clone(), &message, reason),
            }
        }
    }

    /// A switchboard failed (lost, closed, refused, timed out): forget it and settle what it
    /// owed (see [`Owed`]): messages written and not acknowledged are reported; one-to-one
    /// messages never written go out once more on a new switchboard or are reported; a group
    /// chat ends and its waiting messages are reported.
    pub(super) fn board_failed(&mut self, at: usize, reason: &str, close: bool, now: Instant) {
        if at >= self.switchboards.boards.len() {
            return;
        }
        let mut board = self.switchboards.boards.remove(at);
        if let (true, Some(conn)) = (close, board.conn) {
            self.out.push_back(Output::Close { conn });
        }
        let owed = Owed::take(&mut board);
        self.report_written(&board.conversation(), &owed.written, reason);
        match board.kind {
            Kind::Im(peer) => self.resend_or_report(&peer, owed.waiting, reason, now),
            Kind::Chat(chat) => {
                for message in &owed.waiting {
                    self.sb_undelivered(Conversation::Chat(chat), message, reason);
                }
                self.chat_event(ChatEvent::ChatEnded {
                    chat,
                    reason: reason.to_owned(),
                });
            }
        }
    }

    /// Reports messages that were written to a switchboard that failed before acknowledging
    /// them: they may have arrived, so they are never sent again (see [`Owed`]).
    pub(super) fn report_written(
        &mut self,
        conversation: &Conversation,
        written: &[Outgoing],
        reason: &str,
    ) {
        let reason = format!("{reason} before delivery was confirmed; it may not have arrived");
        for message in written {
            self.sb_undelivered(conversation.clone(), message, &reason);
        }
    }

    /// Messages never written to a lost one-to-one switchboard: those not yet on two lost
    /// switchboards go to another switchboard for the same contact, the rest are reported.
    fn resend_or_report(&mut self, peer: &str, pending: Vec<Outgoing>, reason: &str, now: Instant) {
        let conversation = Conversation::Im(peer.to_owned());
        let (retry, give_up): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .map(|mut m| {
                m.attempts = m.attempts.saturating_add(1);
                m
            })
            .partition(|m| m.attempts < MAX_ATTEMPTS);
        for message in &give_up {
            self.sb_undelivered(conversation.clone(), message, reason);
        }
        if retry.is_empty() {
            return;
        }
        match self.board_for_im(peer, now) {
            Some(at) => self.sb_enqueue(at, retry, now),
            None => {
                for message in &retry {
                    self.sb_undelivered(conversation.clone(), message, reason);
                }
            }
        }
    }

    /// Leaves a switchboard politely (`OUT` once signed in) and forgets it; nothing pending is
    /// reported (the caller took care of it).
    pub(super) fn close_board(&mut self, at: usize) {
        if at >= self.switchboards.boards.len() {
            return;
        }
        let mut board = self.switchboards.boards.remove(at);
        if let Some(conn) = board.conn {
            if matches!(board.stage, Stage::Ready | Stage::SigningIn { .. }) {
                board.send(&mut self.out, &SbClientCommand::Out);
            }
            self.out.push_back(Output::Close { conn });
        }
    }

    /// The session ends: every switchboard is closed. Messages written and not acknowledged,
    /// group-chat messages and offline messages not yet confirmed stored are reported with
    /// their text, and every open group chat ends. One-to-one messages never written are set
    /// aside for the next session when `reconnecting` (see [`Session::take_unsent`]), else
    /// reported.
    pub(in crate::session) fn sb_abandon_all(&mut self, reconnecting: bool) {
        const REASON: &str = "the connection to the server was lost";
        for mut board in std::mem::take(&mut self.switchboards.boards) {
            if let Some(conn) = board.conn {
                self.out.push_back(Output::Close { conn });
            }
            let conversation = board.conversation();
            let owed = Owed::take(&mut board);
            self.report_written(&conversation, &owed.written, REASON);
            match board.kind {
                Kind::Im(peer) => self.set_aside(&peer, owed.waiting, reconnecting, REASON),
                Kind::Chat(chat) => {
                    for message in &owed.waiting {
                        self.sb_undelivered(conversation.clone(), message, REASON);
                    }
                    self.chat_event(ChatEvent::ChatEnded {
                        chat,
                        reason: format!("{REASON} (a chat cannot be rejoined; start a new one)"),
                    });
                }
            }
        }
        self.held_abandon(reconnecting, REASON);
        self.offline_abandon(&format!("{REASON} before it was confirmed"));
    }

    /// Set-up and acknowledgement deadlines, and idle one-to-one switchboards.
    pub(super) fn boards_timeout(&mut self, now: Instant) {
        let ids: Vec<BoardId> = self.switchboards.boards.iter().map(|b| b.id).collect();
        for id in ids {
            let Some(at) = self.board_index(id) else {
                continue;
            };
            let Some(board) = self.switchboards.boards.get_mut(at) else {
                continue;
            };
            if board.setup_deadline.is_some_and(|d| d <= now) {
                match board.trouble.take() {
                    Some(reason) => self.give_up(at, &reason, now),
                    None => {
                        self.board_failed(at, "the contact could not be reached in time", true, now)
                    }
                }
                continue;
            }
            if matches!(board.stage, Stage::Waiting { until } if until <= now) {
                match self.send(ClientCommand::XfrSb) {
                    Some(xfr) => {
                        if let Some(board) = self.switchboards.boards.get_mut(at) {
                            board.stage = Stage::Requested { xfr };
                        }
                    }
                    None => self.board_failed(at, "not connected", true, now),
                }
                continue;
            }
            let (late, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut board.unacked)
                .into_iter()
                .partition(|(_, _, deadline)| *deadline <= now);
            board.unacked = waiting;
            let conversation = board.conversation();
            let idle = matches!(board.kind, Kind::Im(_))
                && !board.has_pending()
                && board.active + IDLE_TIMEOUT <= now;
            for (_, message, _) in &late {
                self.sb_undelivered(
                    conversation.clone(),
                    message,
                    "the switchboard did not confirm delivery",
                );
            }
            if idle {
                log::debug!("leaving an idle conversation");
                self.close_board(at);
            } else if !late.is_empty() {
                self.sb_flush(at, now);
            }
        }
    }

    /// Turns the board at `at` into a group chat and tells the user interface.
    fn make_chat(&mut self, at: usize, from_im: Option<String>) {
        let chat = self.switchboards.next_chat.wrapping_add(1).max(1);
        self.switchboards.next_chat = chat;
        let Some(board) = self.switchboards.boards.get_mut(at) else {
            return;
        };
        board.kind = Kind::Chat(chat);
        let members = board.members.clone();
        self.chat_event(ChatEvent::ChatStarted {
            chat,
            members,
            from_im,
        });
    }

    /// Reports a message as not delivered.
    pub(super) fn sb_undelivered(
        &mut self,
        conversation: Conversation,
        message: &Outgoing,
        reason: &str,
    ) {
        self.chat_event(ChatEvent::Undelivered {
            conversation,
            text: message.description(),
            reason: reason.to_owned(),
        });
    }

    /// Makes room for one more switchboard: true when there is room (possibly after leaving
    /// the longest-idle one-to-one conversation with nothing pending).
    fn sb_make_room(&mut self) -> bool {
        let boards = &self.switchboards.boards;
        if boards.len() < MAX_BOARDS {
            return true;
        }
        let idlest = boards
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b.kind, Kind::Im(_)) && !b.has_pending())
            .min_by_key(|(_, b)| b.active)
            .map(|(at, _)| at);
        match idlest {
            Some(at) => {
                self.close_board(at);
                true
            }
            None => false,
        }
    }

    /// Own address for `USR`/`ANS`: from MSNP16 with this installation's machine GUID.
    fn sb_own_participant(&self) -> Participant {
        let guid = self
            .config
            .machine_guid
            .trim_matches(|c| c == '{' || c == '}');
        Participant {
            email: self.config.account.clone(),
            endpoint: (self.speaks().endpoints() && !guid.is_empty()).then(|| guid.to_owned()),
        }
    }

    /// Whether `email` is the signed-in account.
    pub(super) fn is_own_address(&self, email: &str) -> bool {
        email.eq_ignore_ascii_case(&self.config.account)
    }

    /// The board waiting for the answer to `XFR` TrID `xfr`.
    fn board_by_xfr(&self, xfr: u32) -> Option<usize> {
        self.switchboards
            .boards
            .iter()
            .position(|b| matches!(b.stage, Stage::Requested { xfr: t } if t == xfr))
    }

    /// The board on connection `conn`.
    pub(super) fn board_at_conn(&self, conn: ConnId) -> Option<usize> {
        self.switchboards
            .boards
            .iter()
            .position(|b| b.conn == Some(conn))
    }

    /// The board with id `id`.
    fn board_index(&self, id: BoardId) -> Option<usize> {
        self.switchboards.boards.iter().position(|b| b.id == id)
    }

    /// The board of group chat `chat`.
    pub(super) fn board_of_chat(&self, chat: u32) -> Option<usize> {
        self.switchboards
            .boards
            .iter()
            .position(|b| b.kind == Kind::Chat(chat))
    }

    fn next_board_id(&mut self) -> BoardId {
        self.switchboards.next_board += 1;
        BoardId(self.switchboards.next_board)
    }

    fn next_sb_conn(&mut self) -> ConnId {
        self.next_conn += 1;
        ConnId(self.next_conn)
    }
}

/// What a failed board still owes, split by the delivery rule of docs/protocol.md §7.9:
/// a message written to a switchboard that never acknowledged it may have been delivered (the
/// protocol has no message id a receiver could drop a second copy by), so it is reported and
/// never sent again; a message never written cannot have arrived, so it is sent again (once).
pub(super) struct Owed {
    /// Written and not acknowledged, in the order sent.
    pub(super) written: Vec<Outgoing>,
    /// Never written, in order.
    pub(super) waiting: Vec<Outgoing>,
}

impl Owed {
    /// Takes everything `board` still owes.
    pub(super) fn take(board: &mut Board) -> Owed {
        let mut unacked = std::mem::take(&mut board.unacked);
        unacked.sort_by_key(|(trid, _, _)| *trid);
        Owed {
            written: unacked.into_iter().map(|(_, m, _)| m).collect(),
            waiting: std::mem::take(&mut board.queue).into(),
        }
    }
}

/// A received text as HTML, with a note when its characters could not all be decoded.
fn message_html(text: &TextMessage) -> String {
    let mut html = text.to_html();
    if text.charset_issue.is_some() {
        html.push_str(" <i>(some characters of this message could not be decoded)</i>");
    }
    html
}

/// A payload kind's name for the log.
fn kind_name(payload: &MsgPayload) -> &'static str {
    match payload {
        MsgPayload::Text(_) => "text",
        MsgPayload::Typing { .. } => "a typing notice",
        MsgPayload::Nudge => "a nudge",
        MsgPayload::Datacast { .. } => "a datacast",
        MsgPayload::Emoticons { .. } => "custom emoticons",
        MsgPayload::P2p { .. } => "a P2P packet",
        MsgPayload::ClientCaps { .. } => "client capabilities",
        MsgPayload::KeepAlive => "a keep-alive",
        MsgPayload::Chunk(_) => "a message chunk",
        MsgPayload::Unknown { .. } => "an unknown message",
    }
}
