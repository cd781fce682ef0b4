//! The switchboard protocol (docs/protocol.md §7): getting a switchboard, signing in, the
//! roster (`IRO`/`JOI`/`BYE`), messages and acknowledgements, and what happens to queued and
//! unacknowledged messages when a switchboard fails. Boards are addressed by their
//! [`BoardId`]; a board that went away in the meantime is simply not found.

use std::time::Instant;

use crate::message::{MsgPayload, TextMessage};
use crate::secret::Secret;
use crate::session::cx::Cx;
use crate::session::{ConnId, Output};
use crate::wire::sb::{self, Participant, SbClientCommand, SbCommand, SbMsg};
use crate::wire::{ClientCommand, HostPort, Rng, ServerError};

use super::board::{Board, BoardId, Kind, Stage};
use super::outgoing::{Outgoing, What};
use super::places::{Places, PlacesWait, PLACES_GRACE};
use super::{
    chat_event, ink_event, ChatEvent, Conversation, Handoff, P2pPacket, Switchboards, ACK_TIMEOUT,
    HIDDEN_REASON, IDLE_TIMEOUT, MAX_ATTEMPTS, MAX_BOARDS, MAX_P2P_QUEUE, MAX_QUEUE, MAX_UNACKED,
    MAX_XFR_REFUSALS, P2P_WINDOW, SETUP_TIMEOUT, XFR_RETRY,
};

impl Switchboards {
    /// Asks the NS for a new switchboard for `kind`, inviting `call` once signed in. `None`
    /// when the NS is not connected or too many switchboards are open.
    pub(super) fn request(
        &mut self,
        cx: &mut Cx,
        kind: Kind,
        call: Option<String>,
        now: Instant,
    ) -> Option<BoardId> {
        if !cx.has_ns() || !self.make_room(cx) {
            return None;
        }
        let xfr = cx.send_ns(ClientCommand::XfrSb)?;
        let id = self.next_board_id();
        let mut board = Board::new(id, Stage::Requested { xfr }, kind, now);
        board.to_call.extend(call);
        self.boards.insert(id, board);
        Some(id)
    }

    /// The switchboard for the one-to-one conversation with `peer`: an open one (preferring
    /// one where the contact is present), else a new one that invites them.
    pub(super) fn for_im(&mut self, cx: &mut Cx, peer: &str, now: Instant) -> Option<BoardId> {
        let kind = Kind::Im(peer.to_ascii_lowercase());
        let newest = |ready: bool| {
            self.boards
                .values()
                .rev()
                .find(|b| b.kind == kind && (!ready || b.can_deliver()))
                .map(|b| b.id)
        };
        if let Some(open) = newest(true).or_else(|| newest(false)) {
            return Some(open);
        }
        let id = self.request(cx, kind, Some(peer.to_ascii_lowercase()), now)?;
        // MSNP16+: calling our own address rings our other places, which then show the
        // conversation (as Windows Live Messenger 2009 does; docs/protocol.md §7.1).
        let own = cx.config.account.to_ascii_lowercase();
        if cx.dialect.endpoints() && !self.places.of(&own).is_empty() {
            if let Some(board) = self.boards.get_mut(&id) {
                board.to_call.push(own);
            }
        }
        Some(id)
    }

    /// Adds messages to a board's queue and sends what can be sent. Messages beyond the
    /// queue's bound are reported as not delivered.
    pub(super) fn enqueue(
        &mut self,
        cx: &mut Cx,
        id: BoardId,
        messages: Vec<Outgoing>,
        now: Instant,
    ) {
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        board.p2p_only = false;
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
            undelivered(
                cx,
                conversation.clone(),
                &message,
                "too many messages are waiting to be sent",
            );
        }
        self.flush(cx, id, now);
    }

    /// Sends queued messages while someone is there to receive them and the unacknowledged
    /// window has room.
    pub(super) fn flush(&mut self, cx: &mut Cx, id: BoardId, now: Instant) {
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        if !board.can_deliver() {
            return;
        }
        if cx.dialect.endpoints() && waits_for_places(board, &self.places, now) {
            return;
        }
        board.setup_deadline = None;
        // MSNP16+: `P2P-Src` and `P2P-Dest` name endpoints, `address;{guid}`, as Windows Live
        // Messenger 2009 sends them.
        let endpoints = cx.dialect.endpoints();
        let src = endpoints.then(|| {
            let guid = cx
                .config
                .machine_guid
                .trim_matches(|c| c == '{' || c == '}');
            format!("{};{{{guid}}}", cx.config.account)
        });
        while let Some((peer, packet)) = board.p2p.pop_front() {
            let dest = match endpoints {
                true => board.p2p_address(&peer),
                false => peer.clone(),
            };
            let Some(payload) = crate::p2p::sb_payload(&dest, src.as_deref(), &packet) else {
                log::warn!("P2P packet for {peer} too large to send");
                continue;
            };
            let ack = sb::AckMode::Data;
            let trid = board.send(cx.out, &SbClientCommand::Msg { ack, payload });
            board.p2p_sent(trid);
            board.active = now;
        }
        while board.unacked.len() < MAX_UNACKED {
            let Some(message) = board.queue.pop_front() else {
                break;
            };
            let ack = message.ack();
            let trid = board.send(
                cx.out,
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

    /// Whether the switchboard a P2P payload for `peer` would go to has fewer than
    /// [`P2P_WINDOW`] P2P messages queued or unacknowledged (file data waits for that).
    pub(in crate::session) fn p2p_room(&self, peer: &str) -> bool {
        let kind = Kind::Im(peer.to_ascii_lowercase());
        let boards = || self.boards.values().rev();
        let board = boards()
            .find(|b| b.can_deliver() && b.has_member(peer))
            .or_else(|| boards().find(|b| b.kind == kind && b.can_deliver()))
            .or_else(|| boards().find(|b| b.kind == kind));
        board.is_none_or(|b| b.p2p_in_flight() < P2P_WINDOW)
    }

    /// The contacts whose P2P traffic lost its switchboard since the last call (the
    /// switchboard failed, or the contact left it): their transfers fail.
    pub(in crate::session) fn take_p2p_lost(&mut self) -> Vec<String> {
        std::mem::take(&mut self.p2p_lost)
    }

    /// Queues a P2P packet for `peer` on a switchboard they are in, else on their one-to-one
    /// switchboard (opened if none, which shows no conversation, and is left once the peer has
    /// no P2P session left, see [`Switchboards::release_p2p`]), and sends what can be sent.
    pub(in crate::session) fn send_p2p(
        &mut self,
        cx: &mut Cx,
        peer: &str,
        packet: Vec<u8>,
        now: Instant,
    ) {
        let next_id = self.next_board;
        let joined = self
            .boards
            .values()
            .rev()
            .find(|b| b.can_deliver() && b.has_member(peer))
            .map(|b| b.id);
        let Some(id) = joined.or_else(|| self.for_im(cx, peer, now)) else {
            return log::warn!("no switchboard for a P2P packet to {peer}; dropped");
        };
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        if board.id.0 > next_id {
            board.p2p_only = true;
            board.to_call.retain(|email| !cx.is_own_address(email));
        }
        if board.p2p.len() >= MAX_P2P_QUEUE {
            return log::warn!("too many P2P packets waiting for {peer}; dropped");
        }
        board.p2p.push_back((peer.to_ascii_lowercase(), packet));
        if !board.can_deliver() && board.setup_deadline.is_none() {
            board.setup_deadline = Some(now + SETUP_TIMEOUT);
        }
        self.flush(cx, id, now);
    }

    /// Leaves the switchboards opened only for P2P with `peer` that have nothing left to
    /// send; the P2P part has no session with `peer` any more.
    pub(in crate::session) fn release_p2p(&mut self, cx: &mut Cx, peer: &str) {
        let kind = Kind::Im(peer.to_ascii_lowercase());
        let done: Vec<BoardId> = self
            .boards
            .values()
            .filter(|b| b.p2p_only && b.kind == kind && b.can_deliver() && !b.has_pending())
            .map(|b| b.id)
            .collect();
        for id in done {
            self.close(cx, id);
        }
    }

    /// `XFR <trid> SB <address> CKI <cookie>`: connect to the switchboard we asked for.
    pub(super) fn referral(
        &mut self,
        cx: &mut Cx,
        xfr: u32,
        address: HostPort,
        cookie: Secret<String>,
        now: Instant,
    ) {
        let Some(board) = self.by_xfr(xfr).and_then(|id| self.boards.get_mut(&id)) else {
            log::debug!("switchboard referral for a forgotten request {xfr}");
            return;
        };
        let conn = cx.conn_id();
        board.conn = Some(conn);
        board.stage = Stage::Connecting {
            cookie,
            session_id: None,
        };
        board.active = now;
        cx.output(Output::Connect {
            conn,
            host: address.host,
            port: address.port,
        });
    }

    /// A numeric error for our `XFR SB`. 913 (not while offline or invisible) is final while
    /// the server has us appearing offline (`hidden`): texts become offline messages where the
    /// server takes them, the rest is reported at once. Before our status is confirmed it is
    /// what the server says until our first `CHG`, so the request is repeated a few times,
    /// waiting twice as long each time, within the set-up deadline.
    pub(super) fn refused(&mut self, cx: &mut Cx, xfr: u32, code: u16, hidden: bool, now: Instant) {
        let Some(id) = self.by_xfr(xfr) else {
            return;
        };
        if let (ServerError::NOT_ALLOWED_OFFLINE, Some(board)) = (code, self.boards.get_mut(&id)) {
            if hidden {
                let (kind, conversation) = (board.kind.clone(), board.conversation());
                let owed = Owed::take(board);
                self.close(cx, id);
                report_written(cx, &conversation, &owed.written, HIDDEN_REASON);
                return match kind {
                    Kind::Im(peer) => {
                        self.store_or_report(cx, &peer, owed.waiting, HIDDEN_REASON, now)
                    }
                    Kind::Chat(chat) => {
                        end_chat(cx, chat, &owed.waiting, HIDDEN_REASON, HIDDEN_REASON.into())
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
        self.give_up(cx, id, &reason, now);
    }

    /// Fails a board whose messages another switchboard would not help: all are reported.
    fn give_up(&mut self, cx: &mut Cx, id: BoardId, reason: &str, now: Instant) {
        if let Some(board) = self.boards.get_mut(&id) {
            for message in board.queue.iter_mut() {
                message.attempts = MAX_ATTEMPTS;
            }
        }
        self.failed(cx, id, reason, true, now);
    }

    /// `RNG`: someone invites us; answer at once (as the official client did).
    pub(super) fn answer_invitation(&mut self, cx: &mut Cx, rng: Rng, now: Instant) {
        if !self.make_room(cx) {
            log::warn!(
                "too many conversations open; invitation from {} ignored",
                rng.inviter
            );
            return;
        }
        let id = self.next_board_id();
        let conn = cx.conn_id();
        let stage = Stage::Connecting {
            cookie: rng.cookie,
            session_id: Some(rng.session_id),
        };
        let mut board = Board::new(id, stage, Kind::Im(rng.inviter.to_ascii_lowercase()), now);
        board.conn = Some(conn);
        self.boards.insert(id, board);
        cx.output(Output::Connect {
            conn,
            host: rng.address.host,
            port: rng.address.port,
        });
    }

    /// The switchboard connection is up: sign in with `USR`, or `ANS` an invitation.
    pub(in crate::session) fn handle_connected(&mut self, cx: &mut Cx, conn: ConnId, now: Instant) {
        let user = own_participant(cx);
        let Some(board) = self.by_conn(conn).and_then(|id| self.boards.get_mut(&id)) else {
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
        let trid = board.send(cx.out, &command);
        board.stage = Stage::SigningIn { trid, answering };
        board.active = now;
    }

    /// Bytes from a switchboard: frame, parse and handle each command. Stops at a P2P packet
    /// and returns it; the caller hands it on and calls again with no new bytes to go on.
    pub(in crate::session) fn handle_bytes(
        &mut self,
        cx: &mut Cx,
        conn: ConnId,
        bytes: &[u8],
        now: Instant,
    ) -> Option<Handoff> {
        let id = self.by_conn(conn)?;
        if let Some(board) = self.boards.get_mut(&id) {
            board.framer.push(bytes);
        }
        loop {
            let board = self.boards.get_mut(&id)?;
            let frame = match board.framer.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return None,
                Err(e) => {
                    log::warn!("unframeable data from a switchboard: {e}");
                    self.failed(cx, id, "the switchboard sent invalid data", true, now);
                    return None;
                }
            };
            board.active = now;
            let line = String::from_utf8_lossy(&frame.line).into_owned();
            match sb::parse(frame, cx.dialect) {
                Ok(command) => {
                    if let Some(packet) = self.command(cx, id, command, now) {
                        return Some(packet);
                    }
                }
                Err(e) => log::warn!(
                    "ignored malformed switchboard command ({e}): {}",
                    super::super::printable(&line)
                ),
            }
        }
    }

    /// One command from switchboard `id`; a P2P packet is returned for the P2P part.
    fn command(
        &mut self,
        cx: &mut Cx,
        id: BoardId,
        command: SbCommand,
        now: Instant,
    ) -> Option<Handoff> {
        match command {
            SbCommand::Msg(msg) => return self.message(cx, id, msg, now),
            SbCommand::Usr(_) => self.signed_in(cx, id, false, now),
            SbCommand::Ans(_) => self.signed_in(cx, id, true, now),
            SbCommand::Iro(iro) => {
                if !cx.is_own_address(&iro.participant.email) {
                    if let Some(board) = self.boards.get_mut(&id) {
                        if let Some(guid) = &iro.participant.endpoint {
                            board.note_endpoint(&iro.participant.email, guid, false);
                        }
                        board.add_member(&iro.participant.email, &iro.friendly);
                    }
                }
            }
            SbCommand::Cal(cal) => {
                if let Some(board) = self.boards.get_mut(&id) {
                    board.calls.retain(|(trid, _)| *trid != cal.trid);
                }
            }
            SbCommand::Joi(joi) => self.joined(cx, id, &joi.participant, &joi.friendly, now),
            SbCommand::Bye(bye) => self.left(cx, id, &bye.participant, now),
            SbCommand::Ack(ack) => {
                if let Some(board) = self.boards.get_mut(&id) {
                    board.unacked.retain(|(trid, _, _)| *trid != ack.trid);
                    board.p2p_unacked.retain(|trid| *trid != ack.trid);
                }
                self.flush(cx, id, now);
            }
            SbCommand::Nak(nak) => {
                if let Some(board) = self.boards.get_mut(&id) {
                    board.p2p_unacked.retain(|trid| *trid != nak.trid);
                }
                self.not_delivered(cx, id, nak.trid, now)
            }
            SbCommand::Out => self.failed(
                cx,
                id,
                "the switchboard closed the conversation",
                false,
                now,
            ),
            SbCommand::Error(e) => self.error(cx, id, e, now),
            SbCommand::Raw(raw) => log::debug!("unhandled switchboard command {}", raw.verb),
        }
        None
    }

    /// `USR … OK` or `ANS … OK`: signed in.
    fn signed_in(&mut self, cx: &mut Cx, id: BoardId, answered: bool, now: Instant) {
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        if !matches!(board.stage, Stage::SigningIn { answering, .. } if answering == answered) {
            log::debug!("unexpected switchboard sign-in answer");
            return;
        }
        board.stage = Stage::Ready;
        if answered {
            board.setup_deadline = None;
            let from_other_place =
                matches!(&board.kind, Kind::Im(inviter) if cx.is_own_address(inviter));
            match board.members.len() {
                // Our other place called us before its contact joined (MSNP16+): the contact
                // joins next.
                0 if from_other_place => log::debug!("joined our other place's conversation"),
                0 => {
                    log::info!("invited into an empty switchboard; leaving it");
                    return self.close(cx, id);
                }
                1 => {
                    let peer = board.members.first().map(|m| m.email.clone());
                    let peer = peer.unwrap_or_default();
                    board.kind = Kind::Im(peer.clone());
                    chat_event(cx, ChatEvent::Opened { with: peer });
                }
                _ => self.make_chat(cx, id, None),
            }
        } else {
            let calls: Vec<String> = std::mem::take(&mut board.to_call);
            for email in calls {
                self.call(cx, id, &email);
            }
            if let Some(board) = self.boards.get_mut(&id) {
                if board.to_call.is_empty() && board.calls.is_empty() && board.queue.is_empty() {
                    board.setup_deadline = None;
                }
            }
        }
        self.flush(cx, id, now);
    }

    /// Sends `CAL` for `email` on a signed-in board.
    pub(super) fn call(&mut self, cx: &mut Cx, id: BoardId, email: &str) {
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        let trid = board.send(
            cx.out,
            &SbClientCommand::Cal {
                email: email.to_owned(),
            },
        );
        if board.calls.len() < super::MAX_MEMBERS {
            board.calls.push((trid, email.to_ascii_lowercase()));
        }
        if board.rung.len() < super::MAX_MEMBERS {
            board.rung.push(email.to_ascii_lowercase());
        }
    }

    /// `JOI`: someone joined. A second contact turns a one-to-one conversation into a chat.
    fn joined(
        &mut self,
        cx: &mut Cx,
        id: BoardId,
        who: &Participant,
        friendly: &str,
        now: Instant,
    ) {
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        if let Some(guid) = &who.endpoint {
            board.place_joined(&who.email, guid);
        }
        if cx.is_own_address(&who.email) {
            return self.flush(cx, id, now);
        }
        if let Some(guid) = &who.endpoint {
            board.note_endpoint(&who.email, guid, false);
        }
        if !board.add_member(&who.email, friendly) {
            return self.flush(cx, id, now);
        }
        let email = who.email.to_ascii_lowercase();
        match board.kind.clone() {
            // The contact of a conversation our other place started.
            Kind::Im(peer) if cx.is_own_address(&peer) => {
                board.kind = Kind::Im(email.clone());
                chat_event(cx, ChatEvent::Opened { with: email });
            }
            Kind::Im(peer) if peer != email => self.make_chat(cx, id, Some(peer)),
            Kind::Im(_) => {}
            Kind::Chat(chat) => chat_event(
                cx,
                ChatEvent::Joined {
                    chat,
                    member: super::Member {
                        email,
                        friendly: friendly.to_owned(),
                    },
                },
            ),
        }
        self.flush(cx, id, now);
    }

    /// `BYE`: someone left. From MSNP16 a user's endpoints leave one by one and the bare
    /// address last; only the bare one counts. When the contact of a one-to-one conversation
    /// leaves, the switchboard is closed: what was never written goes out on a new one, what
    /// was written and not acknowledged is reported (see [`Owed`]). When the last other member
    /// of a group chat leaves, the chat ends (the server would relay its messages to nobody,
    /// docs/protocol.md §7.3) and what it still owes is reported.
    fn left(&mut self, cx: &mut Cx, id: BoardId, who: &Participant, now: Instant) {
        if who.endpoint.is_some() || cx.is_own_address(&who.email) {
            return;
        }
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        if !board.remove_member(&who.email) {
            return;
        }
        let kind = board.kind.clone();
        if let Kind::Chat(chat) = kind {
            chat_event(
                cx,
                ChatEvent::Left {
                    chat,
                    email: who.email.to_ascii_lowercase(),
                },
            );
        }
        if !board.members.is_empty() {
            return;
        }
        // The last other member left: leave, and settle what the board still owes.
        let owed = Owed::take(board);
        self.close(cx, id);
        match kind {
            Kind::Im(peer) => {
                self.p2p_lost.push(peer.clone());
                let reason = "the contact left the conversation";
                report_written(cx, &Conversation::Im(peer.clone()), &owed.written, reason);
                self.resend_or_report(cx, &peer, owed.waiting, reason, now);
            }
            Kind::Chat(chat) => {
                let reason = "everyone else left the chat";
                report_written(cx, &Conversation::Chat(chat), &owed.written, reason);
                let ended = format!("{reason} (start a new one to talk again)");
                end_chat(cx, chat, &owed.waiting, reason, ended);
            }
        }
    }

    /// `MSG` from a participant; a P2P packet is returned for the P2P part.
    fn message(&mut self, cx: &mut Cx, id: BoardId, msg: SbMsg, now: Instant) -> Option<Handoff> {
        let conversation = self.boards.get(&id)?.conversation();
        let from = msg.sender.email.to_ascii_lowercase();
        let payload = match MsgPayload::parse(&msg.payload) {
            MsgPayload::Chunk(part) => match self.chunks.push(&from, part, now) {
                Ok(Some(whole)) => whole,
                Ok(None) => return None,
                Err(e) => {
                    log::warn!("chunked message from {from} dropped: {e}");
                    return None;
                }
            },
            other => other,
        };
        if let Some(board) = self.boards.get_mut(&id) {
            match &payload {
                MsgPayload::P2p {
                    source: Some(source),
                    ..
                } => {
                    if let Some((email, guid)) = source.split_once(';') {
                        if email.eq_ignore_ascii_case(&from) && !cx.is_own_address(&from) {
                            board.note_endpoint(&from, guid, true);
                        }
                    }
                }
                MsgPayload::P2p { .. } => {}
                _ => board.p2p_only = false,
            }
        }
        match (payload, &conversation) {
            (MsgPayload::Text(_), Conversation::Im(to))
                if cx.is_own_address(&from) && cx.is_own_address(to) =>
            {
                log::debug!("ignored a copy from our other place before its contact joined");
            }
            (MsgPayload::Text(text), Conversation::Im(to)) if cx.is_own_address(&from) => {
                chat_event(
                    cx,
                    ChatEvent::SentElsewhere {
                        to: to.clone(),
                        html: message_html(&text),
                    },
                );
            }
            (_, _) if cx.is_own_address(&from) => {
                log::debug!("ignored a non-text message from our other place");
            }
            (MsgPayload::Text(text), _) => {
                self.typing_stopped(cx, &from);
                chat_event(
                    cx,
                    ChatEvent::Message {
                        conversation,
                        from,
                        friendly: msg.friendly,
                        html: message_html(&text),
                        timestamp: None,
                    },
                );
            }
            (MsgPayload::Typing { .. }, Conversation::Im(_)) => self.typing_started(cx, &from, now),
            (MsgPayload::Nudge, Conversation::Im(_)) => chat_event(cx, ChatEvent::Nudge { from }),
            (MsgPayload::Nudge, Conversation::Chat(_)) => chat_event(
                cx,
                ChatEvent::Notice {
                    conversation,
                    text: format!("{} sent a nudge", msg.friendly),
                },
            ),
            (
                MsgPayload::Datacast {
                    id: Some(id @ (2 | 3)),
                    ..
                },
                _,
            ) => {
                let what = if id == 2 { "a wink" } else { "a voice clip" };
                chat_event(
                    cx,
                    ChatEvent::Notice {
                        conversation,
                        text: format!("{} sent {what}, which cannot be shown", msg.friendly),
                    },
                );
            }
            (MsgPayload::Emoticons { list, .. }, _) => {
                return Some(Handoff::Emoticons {
                    conversation,
                    from,
                    list,
                })
            }
            (MsgPayload::Ink(ink), _) => {
                self.typing_stopped(cx, &from);
                chat_event(cx, ink_event(conversation, &from, &msg.friendly, ink));
            }
            (
                MsgPayload::P2p {
                    source,
                    destination,
                    body,
                },
                _,
            ) => {
                return Some(Handoff::P2p(P2pPacket {
                    from,
                    source,
                    destination,
                    body,
                }))
            }
            (MsgPayload::Unknown { content_type }, _) => {
                log::debug!("ignored a message of type {content_type:?} from {from}")
            }
            (other, _) => log::debug!("ignored {} from {from}", kind_name(&other)),
        }
        None
    }

    /// `NAK`: the message with that TrID was not delivered.
    fn not_delivered(&mut self, cx: &mut Cx, id: BoardId, trid: u32, now: Instant) {
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        let Some(found) = board.unacked.iter().position(|(t, _, _)| *t == trid) else {
            return;
        };
        let (_, message, _) = board.unacked.remove(found);
        let conversation = board.conversation();
        undelivered(
            cx,
            conversation,
            &message,
            "the switchboard could not deliver it",
        );
        self.flush(cx, id, now);
    }

    /// A numeric error on a switchboard.
    fn error(&mut self, cx: &mut Cx, id: BoardId, error: ServerError, now: Instant) {
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        let trid = error.trid;
        if let Some(found) = board.calls.iter().position(|(t, _)| Some(*t) == trid) {
            let (_, email) = board.calls.remove(found);
            return self.call_failed(cx, id, &email, error.code, now);
        }
        if matches!(board.stage, Stage::SigningIn { trid: t, .. } if Some(t) == trid) {
            let reason = format!("the switchboard refused us (error {})", error.code);
            return self.failed(cx, id, &reason, true, now);
        }
        if let Some(trid) = trid.filter(|t| board.unacked.iter().any(|(u, _, _)| u == t)) {
            return self.not_delivered(cx, id, trid, now);
        }
        log::warn!(
            "switchboard error {} ({}) for transaction {trid:?}",
            error.code,
            error.description()
        );
    }

    /// A `CAL` failed: 215 already there, 217 offline or not allowed, 208 not an address.
    fn call_failed(&mut self, cx: &mut Cx, id: BoardId, email: &str, code: u16, now: Instant) {
        if code == ServerError::ALREADY_ON_LIST {
            return;
        }
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        match board.kind.clone() {
            Kind::Im(peer) if peer == email && board.members.is_empty() => {
                let owed = Owed::take(board);
                self.close(cx, id);
                let reason = match code {
                    ServerError::INVALID_PRINCIPAL => "the address is not valid",
                    _ => "the contact is offline or not accepting messages",
                };
                report_written(cx, &Conversation::Im(peer.clone()), &owed.written, reason);
                self.store_or_report(cx, &peer, owed.waiting, reason, now);
            }
            Kind::Chat(chat) => chat_event(
                cx,
                ChatEvent::Notice {
                    conversation: Conversation::Chat(chat),
                    text: format!(
                        "{email} could not be invited (offline or unknown; error {code})"
                    ),
                },
            ),
            Kind::Im(_) => log::info!("could not invite {email}: error {code}"),
        }
    }

    /// No switchboard can reach the contact of a one-to-one conversation: texts become
    /// offline messages where the server takes them, everything else is reported with
    /// `reason`.
    fn store_or_report(
        &mut self,
        cx: &mut Cx,
        peer: &str,
        pending: Vec<Outgoing>,
        reason: &str,
        now: Instant,
    ) {
        let conversation = Conversation::Im(peer.to_owned());
        for message in pending {
            match message.what {
                What::Text(text) if self.offline.can_store(cx) => {
                    self.offline.store(cx, peer, text, now)
                }
                _ => undelivered(cx, conversation.clone(), &message, reason),
            }
        }
    }

    /// A switchboard failed (lost, closed, refused, timed out): forget it and settle what it
    /// owed (see [`Owed`]): messages written and not acknowledged are reported; one-to-one
    /// messages never written go out once more on a new switchboard or are reported; a group
    /// chat ends and its waiting messages are reported.
    pub(super) fn failed(
        &mut self,
        cx: &mut Cx,
        id: BoardId,
        reason: &str,
        close: bool,
        now: Instant,
    ) {
        let Some(mut board) = self.boards.remove(&id) else {
            return;
        };
        if let (true, Some(conn)) = (close, board.conn) {
            cx.output(Output::Close { conn });
        }
        self.p2p_lost.extend(board_peers(&board));
        let owed = Owed::take(&mut board);
        report_written(cx, &board.conversation(), &owed.written, reason);
        match board.kind {
            Kind::Im(peer) => self.resend_or_report(cx, &peer, owed.waiting, reason, now),
            Kind::Chat(chat) => end_chat(cx, chat, &owed.waiting, reason, reason.into()),
        }
    }

    /// Messages never written to a lost one-to-one switchboard: those not yet on two lost
    /// switchboards go to another switchboard for the same contact, the rest are reported.
    fn resend_or_report(
        &mut self,
        cx: &mut Cx,
        peer: &str,
        pending: Vec<Outgoing>,
        reason: &str,
        now: Instant,
    ) {
        let conversation = Conversation::Im(peer.to_owned());
        let (retry, give_up): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .map(|mut m| {
                m.attempts = m.attempts.saturating_add(1);
                m
            })
            .partition(|m| m.attempts < MAX_ATTEMPTS);
        for message in &give_up {
            undelivered(cx, conversation.clone(), message, reason);
        }
        if retry.is_empty() {
            return;
        }
        match self.for_im(cx, peer, now) {
            Some(id) => self.enqueue(cx, id, retry, now),
            None => {
                for message in &retry {
                    undelivered(cx, conversation.clone(), message, reason);
                }
            }
        }
    }

    /// Leaves a switchboard politely (`OUT` once signed in) and forgets it; nothing pending is
    /// reported (the caller took care of it).
    pub(super) fn close(&mut self, cx: &mut Cx, id: BoardId) {
        let Some(mut board) = self.boards.remove(&id) else {
            return;
        };
        if let Some(conn) = board.conn {
            if matches!(board.stage, Stage::Ready | Stage::SigningIn { .. }) {
                board.send(cx.out, &SbClientCommand::Out);
            }
            cx.output(Output::Close { conn });
        }
    }

    /// The session ends: every switchboard is closed. Messages written and not acknowledged,
    /// group-chat messages and offline messages not yet confirmed stored are reported with
    /// their text, and every open group chat ends. One-to-one messages never written are set
    /// aside for the next session when `reconnecting` (see [`Session::take_unsent`]), else
    /// reported.
    ///
    /// [`Session::take_unsent`]: crate::session::Session::take_unsent
    pub(in crate::session) fn abandon_all(&mut self, cx: &mut Cx, reconnecting: bool) {
        const REASON: &str = "the connection to the server was lost";
        for mut board in std::mem::take(&mut self.boards).into_values() {
            if let Some(conn) = board.conn {
                cx.output(Output::Close { conn });
            }
            let conversation = board.conversation();
            let owed = Owed::take(&mut board);
            report_written(cx, &conversation, &owed.written, REASON);
            match board.kind {
                Kind::Im(peer) => {
                    self.held
                        .set_aside(cx, &peer, owed.waiting, reconnecting, REASON)
                }
                Kind::Chat(chat) => {
                    let ended = format!("{REASON} (a chat cannot be rejoined; start a new one)");
                    end_chat(cx, chat, &owed.waiting, REASON, ended)
                }
            }
        }
        self.held.abandon(cx, reconnecting, REASON);
        self.offline
            .abandon(cx, &format!("{REASON} before it was confirmed"));
    }

    /// Set-up and acknowledgement deadlines, and idle one-to-one switchboards.
    pub(super) fn boards_timeout(&mut self, cx: &mut Cx, now: Instant) {
        let ids: Vec<BoardId> = self.boards.keys().copied().collect();
        for id in ids {
            let Some(board) = self.boards.get_mut(&id) else {
                continue;
            };
            if board.setup_deadline.is_some_and(|d| d <= now) {
                match board.trouble.take() {
                    Some(reason) => self.give_up(cx, id, &reason, now),
                    None => {
                        let reason = "the contact could not be reached in time";
                        self.failed(cx, id, reason, true, now)
                    }
                }
                continue;
            }
            if matches!(board.stage, Stage::Waiting { until } if until <= now) {
                match cx.send_ns(ClientCommand::XfrSb) {
                    Some(xfr) => board.stage = Stage::Requested { xfr },
                    None => self.failed(cx, id, "not connected", true, now),
                }
                continue;
            }
            let (late, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut board.unacked)
                .into_iter()
                .partition(|(_, _, deadline)| *deadline <= now);
            board.unacked = waiting;
            let places_due = matches!(board.places_wait, PlacesWait::Until(t) if t <= now);
            let conversation = board.conversation();
            let idle = matches!(board.kind, Kind::Im(_))
                && !board.has_pending()
                && board.active + IDLE_TIMEOUT <= now;
            for (_, message, _) in &late {
                undelivered(
                    cx,
                    conversation.clone(),
                    message,
                    "the switchboard did not confirm delivery",
                );
            }
            if idle {
                log::debug!("leaving an idle conversation");
                self.close(cx, id);
            } else if !late.is_empty() || places_due {
                self.flush(cx, id, now);
            }
        }
    }

    /// Turns board `id` into a group chat and tells the user interface.
    fn make_chat(&mut self, cx: &mut Cx, id: BoardId, from_im: Option<String>) {
        let chat = self.next_chat.wrapping_add(1).max(1);
        self.next_chat = chat;
        let Some(board) = self.boards.get_mut(&id) else {
            return;
        };
        board.kind = Kind::Chat(chat);
        let members = board.members.clone();
        chat_event(
            cx,
            ChatEvent::ChatStarted {
                chat,
                members,
                from_im,
            },
        );
    }

    /// Makes room for one more switchboard: true when there is room (possibly after leaving
    /// the longest-idle one-to-one conversation with nothing pending).
    fn make_room(&mut self, cx: &mut Cx) -> bool {
        if self.boards.len() < MAX_BOARDS {
            return true;
        }
        let idlest = self
            .boards
            .values()
            .filter(|b| matches!(b.kind, Kind::Im(_)) && !b.has_pending())
            .min_by_key(|b| b.active)
            .map(|b| b.id);
        match idlest {
            Some(id) => {
                self.close(cx, id);
                true
            }
            None => false,
        }
    }

    /// The board waiting for the answer to `XFR` TrID `xfr`.
    pub(super) fn by_xfr(&self, xfr: u32) -> Option<BoardId> {
        self.boards
            .values()
            .find(|b| matches!(b.stage, Stage::Requested { xfr: t } if t == xfr))
            .map(|b| b.id)
    }

    /// The board on connection `conn`.
    pub(super) fn by_conn(&self, conn: ConnId) -> Option<BoardId> {
        self.boards
            .values()
            .find(|b| b.conn == Some(conn))
            .map(|b| b.id)
    }

    /// The board of group chat `chat`.
    pub(super) fn of_chat(&self, chat: u32) -> Option<BoardId> {
        self.boards
            .values()
            .find(|b| b.kind == Kind::Chat(chat))
            .map(|b| b.id)
    }

    fn next_board_id(&mut self) -> BoardId {
        self.next_board += 1;
        BoardId(self.next_board)
    }
}

/// Reports a message as not delivered.
pub(super) fn undelivered(
    cx: &mut Cx,
    conversation: Conversation,
    message: &Outgoing,
    reason: &str,
) {
    if message.what == What::Emoticons {
        // Only the pictures are lost: the text that uses them is reported on its own.
        return log::info!("custom emoticon declaration not delivered: {reason}");
    }
    chat_event(
        cx,
        ChatEvent::Undelivered {
            conversation,
            text: message.description(),
            reason: reason.to_owned(),
        },
    );
}

/// Own address for `USR`/`ANS`: from MSNP16 with this installation's machine GUID.
fn own_participant(cx: &Cx) -> Participant {
    let guid = cx
        .config
        .machine_guid
        .trim_matches(|c| c == '{' || c == '}');
    Participant {
        email: cx.config.account.clone(),
        endpoint: (cx.dialect.endpoints() && !guid.is_empty()).then(|| guid.to_owned()),
    }
}

/// Reports messages that were written to a switchboard that failed before acknowledging
/// them: they may have arrived, so they are never sent again (see [`Owed`]).
/// Ends a chat whose board failed: each message still waiting reported with `reason`, then the
/// chat closed with `ended`.
fn end_chat(cx: &mut Cx, chat: u32, waiting: &[Outgoing], reason: &str, ended: String) {
    for message in waiting {
        undelivered(cx, Conversation::Chat(chat), message, reason);
    }
    chat_event(
        cx,
        ChatEvent::ChatEnded {
            chat,
            reason: ended,
        },
    );
}

fn report_written(cx: &mut Cx, conversation: &Conversation, written: &[Outgoing], reason: &str) {
    let reason = format!("{reason} before delivery was confirmed; it may not have arrived");
    for message in written {
        undelivered(cx, conversation.clone(), message, &reason);
    }
}

/// What a failed board still owes, split by the delivery rule of docs/protocol.md §7.9:
/// a message written to a switchboard that never acknowledged it may have been delivered (the
/// protocol has no message id a receiver could drop a second copy by), so it is reported and
/// never sent again; a message never written cannot have arrived, so it is sent again (once).
struct Owed {
    /// Written and not acknowledged, in the order sent.
    written: Vec<Outgoing>,
    /// Never written, in order.
    waiting: Vec<Outgoing>,
}

impl Owed {
    /// Takes everything `board` still owes.
    fn take(board: &mut Board) -> Owed {
        let mut unacked = std::mem::take(&mut board.unacked);
        unacked.sort_by_key(|(trid, _, _)| *trid);
        Owed {
            written: unacked.into_iter().map(|(_, m, _)| m).collect(),
            waiting: std::mem::take(&mut board.queue).into(),
        }
    }
}

/// Whom a board carried P2P traffic for: its one-to-one contact, or its members.
fn board_peers(board: &Board) -> Vec<String> {
    match &board.kind {
        Kind::Im(peer) => vec![peer.clone()],
        Kind::Chat(_) => board.members.iter().map(|m| m.email.clone()).collect(),
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
        MsgPayload::Ink(_) => "ink",
        MsgPayload::Emoticons { .. } => "custom emoticons",
        MsgPayload::P2p { .. } => "a P2P packet",
        MsgPayload::ClientCaps { .. } => "client capabilities",
        MsgPayload::KeepAlive => "a keep-alive",
        MsgPayload::Chunk(_) => "a message chunk",
        MsgPayload::Unknown { .. } => "an unknown message",
    }
}

/// Whether `board`'s messages still wait for places of the accounts it called to join (see
/// [`super::places`]); the wait starts the first time something could be sent.
fn waits_for_places(board: &mut Board, places: &Places, now: Instant) -> bool {
    match board.places_wait {
        PlacesWait::Over => return false,
        PlacesWait::Until(until) if until <= now => {
            log::info!("a place of the contact did not join in time; sending anyway");
            board.places_wait = PlacesWait::Over;
            return false;
        }
        _ => {}
    }
    if !board.place_missing(|email| places.of(email)) {
        board.places_wait = PlacesWait::Over;
        return false;
    }
    if board.places_wait == PlacesWait::NotYet {
        log::debug!("waiting for the contact's other places to join");
        board.places_wait = PlacesWait::Until(now + PLACES_GRACE);
    }
    true
}
