//! File transfer over P2P (Pidgin's `libpurple/protocols/msn/slp.c` and `xfer.c`): the sender
//! INVITEs with the file EUF-GUID, AppID 2 and a [`FileContext`]; the receiver answers `200 OK`
//! or `603 Decline`; the sender then streams the file as one data message (flags
//! `0x1000030`, footer 2) in chunks of at most [`MAX_CHUNK`] bytes, which the receiver
//! acknowledges once complete and closes with `BYE`. Either side cancels with `BYE`.
//!
//! Nothing holds a whole file: the sender asks the user interface for the next block
//! ([`FileEvent::WantData`]) when its buffer runs low and cuts chunks only while the
//! switchboard has room; the receiver hands every chunk on as it arrives, in order.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::filectx::{safe_name, FileContext};
use super::header::{app_id, flags, Header, Packet};
use super::slp::{self, Method, SlpMessage, StartLine};
use super::{FailReason, P2p, P2pError, RequestError, Transmit, MAX_CHUNK};

/// Most transfers at once (both directions).
pub const MAX_TRANSFERS: usize = 16;
/// How long an offer waits for an answer, either way.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);
/// Most bytes asked of the user interface at once.
const BLOCK: usize = 16 * MAX_CHUNK;

/// Identifies a transfer for the life of the account's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransferId(pub u32);

/// What the user interface hears about file transfers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEvent {
    /// A peer offers a file; answer with [`P2p::accept_file`] or [`P2p::decline_file`].
    Offered {
        /// The transfer.
        id: TransferId,
        /// Who offers it.
        peer: String,
        /// A safe base name for it.
        name: String,
        /// Its size in bytes.
        size: u64,
    },
    /// An offer was declined without asking: over the size limit, too many transfers, or a
    /// context that cannot be read.
    Refused {
        /// Who offered it.
        peer: String,
        /// The safe name, when readable.
        name: Option<String>,
        /// The announced size, when readable.
        size: Option<u64>,
    },
    /// The peer accepted our offer; data will be asked for.
    Accepted {
        /// The transfer.
        id: TransferId,
    },
    /// The next bytes of the file we send are wanted: hand over up to `max` with
    /// [`P2p::supply_file_data`].
    WantData {
        /// The transfer.
        id: TransferId,
        /// Most bytes wanted.
        max: usize,
    },
    /// Bytes of a file we receive, in order.
    Data {
        /// The transfer.
        id: TransferId,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Every byte arrived (receiving) or was acknowledged (sending).
    Completed {
        /// The transfer.
        id: TransferId,
    },
    /// The peer declined our offer.
    Declined {
        /// The transfer.
        id: TransferId,
    },
    /// The peer cancelled.
    Cancelled {
        /// The transfer.
        id: TransferId,
    },
    /// The transfer failed.
    Failed {
        /// The transfer.
        id: TransferId,
        /// Why.
        reason: FailReason,
    },
}

/// Where a transfer stands.
#[derive(Debug)]
pub(super) enum FileStage {
    /// Sending: INVITE out, waiting for the answer.
    Offered,
    /// Receiving: waiting for the user; the INVITE, to answer it.
    Asking(Box<SlpMessage>),
    /// Sending the data.
    Sending(Sender),
    /// Sending: every chunk out; waiting for the acknowledgement of this message id.
    Sent(u32),
    /// Receiving: this many bytes arrived.
    Receiving(u64),
}

/// The sending side of the data message.
#[derive(Debug)]
pub(super) struct Sender {
    pub(super) header: Header,
    /// Bytes handed over by the user interface so far.
    pub(super) read: u64,
    /// Bytes handed over and not yet cut into chunks.
    pub(super) buffer: VecDeque<u8>,
    /// Whether [`FileEvent::WantData`] waits for its answer.
    pub(super) asked: bool,
}

/// One transfer.
#[derive(Debug)]
pub(super) struct FileSession {
    pub(super) id: TransferId,
    pub(super) peer: String,
    pub(super) call_id: String,
    pub(super) size: u64,
    pub(super) stage: FileStage,
    pub(super) deadline: Instant,
}

impl P2p {
    /// Transfers open now.
    pub fn transfers(&self) -> usize {
        self.files.len()
    }

    /// Offers `peer` the file `name` of `size` bytes; the outcome is a [`FileEvent`].
    pub fn offer_file(
        &mut self,
        peer: &str,
        name: &str,
        size: u64,
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) -> Result<TransferId, RequestError> {
        if size > self.config.max_file {
            return Err(RequestError::TooLarge);
        }
        if self.files.len() >= MAX_TRANSFERS {
            return Err(RequestError::Busy);
        }
        let session_id = self.fresh_session_id(rng);
        let context = FileContext {
            size,
            name: name.to_owned(),
            preview: false,
        };
        let invite = slp::InviteRequest {
            to: peer,
            from: &self.config.me,
            branch: slp::guid(rng),
            call_id: slp::guid(rng),
            invite: slp::Invite {
                euf_guid: slp::EUF_GUID_FILE.to_owned(),
                session_id,
                app_id: app_id::FILE,
                context: context.encode(),
            },
        };
        let message = invite.message();
        self.send_slp(peer, &message, rng);
        let id = self.next_transfer_id();
        self.files.insert(
            session_id,
            FileSession {
                id,
                peer: peer.to_owned(),
                call_id: message.call_id,
                size,
                stage: FileStage::Offered,
                deadline: now + ANSWER_TIMEOUT,
            },
        );
        Ok(id)
    }

    /// Accepts an offered file: `200 OK`, then its data arrives as [`FileEvent::Data`]. False
    /// when there is no such offer.
    pub fn accept_file(
        &mut self,
        id: TransferId,
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) -> bool {
        let Some((sid, f)) = self.files.iter_mut().find(|(_, f)| f.id == id) else {
            return false;
        };
        let FileStage::Asking(invite) = &f.stage else {
            return false;
        };
        let (sid, peer, size) = (*sid, f.peer.clone(), f.size);
        let ok = slp::response(invite, 200, sid);
        f.stage = FileStage::Receiving(0);
        f.deadline = now + self.config.timeout;
        self.send_slp(&peer, &ok, rng);
        if size == 0 {
            self.finish_file(sid, FileEvent::Completed { id }, true, rng);
        }
        true
    }

    /// Declines an offered file (`603 Decline`).
    pub fn decline_file(&mut self, id: TransferId, rng: &mut dyn FnMut() -> u32) {
        let Some(sid) = self.file_session(id) else {
            return;
        };
        if let Some(f) = self.files.remove(&sid) {
            if let FileStage::Asking(invite) = &f.stage {
                let decline = slp::response(invite, 603, sid);
                self.send_slp(&f.peer, &decline, rng);
            }
        }
    }

    /// Cancels a transfer at any stage (`BYE`; an unanswered offer is declined).
    pub fn cancel_file(&mut self, id: TransferId, rng: &mut dyn FnMut() -> u32) {
        let Some(sid) = self.file_session(id) else {
            return;
        };
        if matches!(
            self.files.get(&sid).map(|f| &f.stage),
            Some(FileStage::Asking(_))
        ) {
            return self.decline_file(id, rng);
        }
        if let Some(f) = self.files.remove(&sid) {
            let bye = slp::bye(&f.peer, &self.config.me, slp::guid(rng), &f.call_id);
            self.send_slp(&f.peer, &bye, rng);
        }
    }

    /// The next bytes of a file we send, answering [`FileEvent::WantData`].
    pub fn supply_file_data(&mut self, id: TransferId, data: &[u8]) {
        let Some(f) = self.files.values_mut().find(|f| f.id == id) else {
            return;
        };
        let FileStage::Sending(s) = &mut f.stage else {
            return;
        };
        let room = usize::try_from(f.size - s.read).unwrap_or(usize::MAX);
        let data = &data[..data.len().min(room)];
        s.buffer.extend(data);
        s.read += data.len() as u64;
        s.asked = false;
    }

    /// The next data chunk to send to a peer for whom `room` says the switchboard has room;
    /// asks for file data as buffers run low.
    pub fn poll_file_transmit(
        &mut self,
        now: Instant,
        room: &dyn Fn(&str) -> bool,
    ) -> Option<Transmit> {
        let deadline = now + self.config.timeout;
        let P2p {
            files,
            file_events,
            direct,
            ..
        } = self;
        for (sid, f) in files.iter_mut() {
            let FileStage::Sending(s) = &mut f.stage else {
                continue;
            };
            if direct.holds(*sid) {
                continue; // on (or waiting for) a direct connection
            }
            if !s.asked && s.read < f.size && s.buffer.len() < MAX_CHUNK {
                s.asked = true;
                let max = usize::try_from(f.size - s.read).map_or(BLOCK, |left| left.min(BLOCK));
                file_events.push_back(FileEvent::WantData { id: f.id, max });
            }
            let left = f.size - s.header.offset;
            let len = usize::try_from(left).map_or(MAX_CHUNK, |left| left.min(MAX_CHUNK));
            if s.buffer.len() < len || !room(&f.peer) {
                continue;
            }
            let payload: Vec<u8> = s.buffer.drain(..len).collect();
            let mut header = s.header;
            header.length = len as u32;
            s.header.offset += len as u64;
            f.deadline = deadline;
            if s.header.offset >= f.size {
                f.stage = FileStage::Sent(header.id);
            }
            let packet = Packet {
                header,
                payload,
                app_id: app_id::FILE,
            };
            return Some(Transmit {
                peer: f.peer.clone(),
                packet: packet.encode(),
            });
        }
        None
    }

    /// The next file-transfer event for the user interface.
    pub fn poll_file_event(&mut self) -> Option<FileEvent> {
        self.file_events.pop_front()
    }

    /// A file-transfer INVITE from `peer`: offered to the user, or refused.
    pub(super) fn file_invite(
        &mut self,
        peer: &str,
        message: &SlpMessage,
        invite: &slp::Invite,
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) {
        let decline = slp::response(message, 603, invite.session_id);
        let context = FileContext::parse(&invite.context);
        let refuse = match &context {
            Err(e) => {
                log::info!("file offer from {peer} refused: {e}");
                true
            }
            Ok(ctx) if ctx.size > self.config.max_file => {
                log::info!("file offer from {peer} refused: {} bytes", ctx.size);
                true
            }
            Ok(_) => {
                invite.session_id == 0
                    || self.sessions.contains_key(&invite.session_id)
                    || self.files.contains_key(&invite.session_id)
                    || self.files.len() >= MAX_TRANSFERS
            }
        };
        if refuse {
            self.send_slp(peer, &decline, rng);
            let ctx = context.ok();
            self.file_events.push_back(FileEvent::Refused {
                peer: peer.to_owned(),
                name: ctx.as_ref().map(|c| safe_name(&c.name)),
                size: ctx.map(|c| c.size),
            });
            return;
        }
        let Ok(ctx) = context else {
            return;
        };
        let id = self.next_transfer_id();
        self.files.insert(
            invite.session_id,
            FileSession {
                id,
                peer: peer.to_owned(),
                call_id: message.call_id.clone(),
                size: ctx.size,
                stage: FileStage::Asking(Box::new(message.clone())),
                deadline: now + ANSWER_TIMEOUT,
            },
        );
        self.file_events.push_back(FileEvent::Offered {
            id,
            peer: peer.to_owned(),
            name: safe_name(&ctx.name),
            size: ctx.size,
        });
    }

    /// An MSNSLP message in a file transfer's call (an answer, `BYE`, a transport upgrade);
    /// false when it belongs to no transfer.
    pub(super) fn file_slp(
        &mut self,
        peer: &str,
        message: &SlpMessage,
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) -> bool {
        let Some((&sid, f)) = self.files.iter_mut().find(|(_, f)| {
            f.peer.eq_ignore_ascii_case(peer) && f.call_id.eq_ignore_ascii_case(&message.call_id)
        }) else {
            return false;
        };
        let id = f.id;
        match (&message.start, &f.stage) {
            (StartLine::Response { code, .. }, _)
                if message.content_type.eq_ignore_ascii_case(slp::TRANS_RESP) =>
            {
                let code = *code;
                self.transresp(sid, code, message);
            }
            (StartLine::Response { code: 200, .. }, FileStage::Offered) => {
                if f.size == 0 {
                    self.finish_file(sid, FileEvent::Completed { id }, true, rng);
                    return true;
                }
                let header = Header {
                    session_id: sid,
                    id: self.next_id.wrapping_add(1),
                    total_size: f.size,
                    flags: flags::FILE_DATA,
                    ack_id: rng(),
                    ..Header::default()
                };
                self.next_id = header.id;
                let Some(f) = self.files.get_mut(&sid) else {
                    return true;
                };
                f.stage = FileStage::Sending(Sender {
                    header,
                    read: 0,
                    buffer: VecDeque::new(),
                    asked: false,
                });
                f.deadline = now + self.config.timeout;
                self.file_events.push_back(FileEvent::Accepted { id });
                self.request_direct(sid, now, rng);
            }
            (StartLine::Response { code: 603, .. }, FileStage::Offered) => {
                self.files.remove(&sid);
                self.file_events.push_back(FileEvent::Declined { id });
            }
            (StartLine::Response { code, .. }, FileStage::Offered) => {
                let reason = FailReason::Refused(*code);
                self.finish_file(sid, FileEvent::Failed { id, reason }, false, rng);
            }
            (
                StartLine::Request {
                    method: Method::Bye,
                    ..
                },
                _,
            ) => {
                self.files.remove(&sid);
                self.file_events.push_back(FileEvent::Cancelled { id });
            }
            (
                StartLine::Request {
                    method: Method::Invite,
                    ..
                },
                _,
            ) if message.content_type.eq_ignore_ascii_case(slp::TRANS_REQ) => {
                self.answer_transreq(sid, message, now, rng);
            }
            _ => log::debug!("MSNSLP message out of turn in transfer {}", id.0),
        }
        true
    }

    /// A packet in a file transfer's session: data we receive, or a close.
    pub(super) fn file_packet(
        &mut self,
        peer: &str,
        packet: Packet,
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) -> Result<(), P2pError> {
        let h = packet.header;
        let sid = h.session_id;
        let Some(f) = self
            .files
            .get_mut(&sid)
            .filter(|f| f.peer.eq_ignore_ascii_case(peer))
        else {
            return Err(P2pError::UnknownSession(sid));
        };
        let id = f.id;
        if h.flags & (flags::ERROR | flags::CLOSE | flags::TLP_ERROR) != 0 {
            self.files.remove(&sid);
            self.file_events.push_back(FileEvent::Cancelled { id });
            return Ok(());
        }
        let FileStage::Receiving(received) = f.stage else {
            let reason = FailReason::Malformed;
            self.finish_file(sid, FileEvent::Failed { id, reason }, true, rng);
            return Err(P2pError::Unexpected(sid));
        };
        if h.total_size != f.size || h.offset != received {
            let reason = FailReason::Mismatch;
            self.finish_file(sid, FileEvent::Failed { id, reason }, true, rng);
            return Err(P2pError::Unexpected(sid));
        }
        let received = received + u64::from(h.length);
        f.stage = FileStage::Receiving(received);
        f.deadline = now + self.config.timeout;
        if !packet.payload.is_empty() {
            self.file_events.push_back(FileEvent::Data {
                id,
                data: packet.payload,
            });
        }
        if received == f.size {
            let peer = f.peer.clone();
            let ack = h.ack(self.message_id());
            self.queue(
                &peer,
                Packet {
                    header: ack,
                    payload: Vec::new(),
                    app_id: app_id::SLP,
                },
            );
            self.finish_file(sid, FileEvent::Completed { id }, true, rng);
        }
        Ok(())
    }

    /// An acknowledgement from `peer`; true when it completed a file we sent.
    pub(super) fn file_ack(&mut self, peer: &str, h: &Header) -> bool {
        let Some((&sid, f)) = self.files.iter().find(|(_, f)| {
            f.peer.eq_ignore_ascii_case(peer)
                && matches!(f.stage, FileStage::Sent(m) if m == h.ack_id)
        }) else {
            return false;
        };
        let id = f.id;
        self.files.remove(&sid);
        self.file_events.push_back(FileEvent::Completed { id });
        true
    }

    /// The earliest transfer deadline.
    pub(super) fn files_deadline(&self) -> Option<Instant> {
        self.files.values().map(|f| f.deadline).min()
    }

    /// Ends the transfers whose deadline passed.
    pub(super) fn files_timeout(&mut self, now: Instant, rng: &mut dyn FnMut() -> u32) {
        let lapsed: Vec<(u32, TransferId)> = self
            .files
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(&sid, f)| (sid, f.id))
            .collect();
        for (sid, id) in lapsed {
            let reason = FailReason::Timeout;
            self.finish_file(sid, FileEvent::Failed { id, reason }, true, rng);
        }
    }

    /// Sets the largest file offered or accepted.
    pub fn set_max_file(&mut self, bytes: u64) {
        self.config.max_file = bytes;
    }

    /// Fails every transfer with `peer` (offline, or its switchboard lost).
    pub fn end_transfers_with(&mut self, peer: &str) {
        let gone: Vec<u32> = self
            .files
            .iter()
            .filter(|(_, f)| f.peer.eq_ignore_ascii_case(peer))
            .map(|(&sid, _)| sid)
            .collect();
        for sid in gone {
            if let Some(f) = self.files.remove(&sid) {
                let reason = FailReason::PeerGone;
                self.file_events
                    .push_back(FileEvent::Failed { id: f.id, reason });
            }
        }
    }

    /// Ends a transfer with `event`, telling the peer (`BYE`, or `603` to an unanswered offer)
    /// when `tell`.
    pub(super) fn finish_file(
        &mut self,
        sid: u32,
        event: FileEvent,
        tell: bool,
        rng: &mut dyn FnMut() -> u32,
    ) {
        let Some(f) = self.files.remove(&sid) else {
            return;
        };
        if tell {
            let message = match &f.stage {
                FileStage::Asking(invite) => slp::response(invite, 603, sid),
                _ => slp::bye(&f.peer, &self.config.me, slp::guid(rng), &f.call_id),
            };
            self.send_slp(&f.peer, &message, rng);
        }
        self.file_events.push_back(event);
    }

    fn file_session(&self, id: TransferId) -> Option<u32> {
        self.files
            .iter()
            .find(|(_, f)| f.id == id)
            .map(|(&sid, _)| sid)
    }

    fn next_transfer_id(&mut self) -> TransferId {
        self.next_transfer = self.next_transfer.wrapping_add(1).max(1);
        TransferId(self.next_transfer)
    }
}
