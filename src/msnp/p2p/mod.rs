//! P2P (MSNSLP over switchboards, version 1): display pictures and custom emoticons both ways.
//!
//! [`P2p`] owns every P2P session of an account, keyed by session id. The switchboard part
//! hands it each packet a peer sent ([`P2p::handle_packet`]) and sends what
//! [`P2p::poll_transmit`] returns as `MSG … D` ([`sb_payload`]); deadlines come in as `now`,
//! ids and GUIDs from the random source passed in. The exchange follows Pidgin's
//! `libpurple/protocols/msn/slp*.c`: INVITE, `200 OK`, a 4-byte data-preparation message, the
//! data in chunks, `BYE`, each message acknowledged once complete. File transfers (`file`)
//! share the signalling and stream their data instead of reassembling it.

pub mod chunk;
pub mod direct;
pub mod file;
#[cfg(test)]
mod file_tests;
pub mod filectx;
pub mod header;
pub mod msnobj;
pub mod reassembly;
pub mod sbmsg;
pub mod slp;
#[cfg(test)]
mod tests;
pub mod transreq;
mod upgrade;
#[cfg(test)]
mod upgrade_tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::message::ink::{self, Ink};

pub use chunk::{Outgoing, MAX_CHUNK};
pub use file::{FileEvent, TransferId};
pub use filectx::{safe_name, FileContext};
pub use header::{app_id, flags, Header, Packet, PacketError};
pub use msnobj::{MsnObject, MsnObjectError};
pub use reassembly::{Limits, Reassembler, ReassemblyError};
pub use sbmsg::{sb_payload, SbP2p};
pub use slp::{SlpError, SlpMessage};
pub use upgrade::{DirectOutput, LinkId};

use slp::{Method, StartLine};

/// Largest P2P ink message: a [`ink::MAX_INK`] GIF as UTF-16 base64 text, with its header.
const MAX_P2P_INK: u64 = 3 * ink::MAX_INK as u64;

/// Most peers whose MSNSLP address (`address;{guid}`) is remembered.
const MAX_ADDRESSES: usize = 10_000;

/// Settings of the P2P part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Our address as MSNSLP writes it (MSNP16+: `address;{guid}`).
    pub me: String,
    /// Largest object fetched.
    pub max_object: u64,
    /// Largest file accepted or offered.
    pub max_file: u64,
    /// Most sessions at once.
    pub max_sessions: usize,
    /// Most sessions at once with one peer.
    pub max_sessions_per_peer: usize,
    /// A session with no progress for this long ends.
    pub timeout: Duration,
    /// Most signalling packets (MSNSLP, acks) waiting to be sent; more are dropped.
    pub max_queued: usize,
    /// Bounds of reassembly.
    pub reassembly: Limits,
}

impl Config {
    /// Defaults for the account `me`.
    pub fn new(me: &str) -> Config {
        Config {
            me: me.to_owned(),
            max_object: 1024 * 1024,
            max_file: DEFAULT_MAX_FILE,
            max_sessions: 32,
            max_sessions_per_peer: 4,
            timeout: Duration::from_secs(60),
            max_queued: 512,
            reassembly: Limits::default(),
        }
    }
}

/// The default of [`Config::max_file`]: 2 GiB.
pub const DEFAULT_MAX_FILE: u64 = 2 * 1024 * 1024 * 1024;

/// Our own objects, by `SHA1D`.
pub trait ObjectStore {
    /// The data of the object with this `SHA1D`, if we serve it.
    fn object(&self, sha1d: &str) -> Option<Arc<[u8]>>;
}

impl<F: Fn(&str) -> Option<Arc<[u8]>>> ObjectStore for F {
    fn object(&self, sha1d: &str) -> Option<Arc<[u8]>> {
        self(sha1d)
    }
}

/// A packet to send to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Transmit {
    /// The peer (`P2P-Dest`).
    pub peer: String,
    /// The binary packet (header, payload, footer).
    pub packet: Vec<u8>,
}

/// Why a fetch failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// No progress within the timeout.
    Timeout,
    /// The peer closed or aborted the session.
    Closed,
    /// The peer went offline or its switchboard closed.
    PeerGone,
    /// The data does not match the object's size or `SHA1D`.
    Mismatch,
    /// The peer answered with this status instead of `200 OK`.
    Refused(u16),
    /// The peer sent data we could not reassemble.
    Malformed,
}

/// What the user interface hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum P2pEvent {
    /// A fetched object arrived and matches its `SHA1D`.
    ObjectReceived {
        /// The peer it came from.
        peer: String,
        /// The object's creator.
        creator: String,
        /// Its `SHA1D`.
        sha1d: String,
        /// The data.
        data: Vec<u8>,
    },
    /// The peer declined to send the object.
    Declined {
        /// The peer.
        peer: String,
        /// The object's `SHA1D`.
        sha1d: String,
    },
    /// The peer sent a handwritten message (ink) over P2P (session id 64, no invitation).
    Ink {
        /// The peer.
        peer: String,
        /// The ink.
        ink: Ink,
    },
    /// The fetch failed.
    Failed {
        /// The peer.
        peer: String,
        /// The object's `SHA1D`.
        sha1d: String,
        /// Why.
        reason: FailReason,
    },
}

/// Why [`P2p::request_object`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RequestError {
    /// Too many sessions open.
    #[error("too many P2P sessions")]
    Busy,
    /// The object is bigger than the configured cap.
    #[error("object over the size cap")]
    TooLarge,
    /// The same object is being fetched from that peer already.
    #[error("object already being fetched")]
    Duplicate,
}

/// Why a received packet was not used (for the debug log).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum P2pError {
    /// Not a P2P packet.
    #[error(transparent)]
    Packet(#[from] PacketError),
    /// Refused by reassembly.
    #[error(transparent)]
    Reassembly(#[from] ReassemblyError),
    /// A malformed MSNSLP message.
    #[error(transparent)]
    Slp(#[from] SlpError),
    /// A malformed MSNObject in an INVITE.
    #[error(transparent)]
    Object(#[from] MsnObjectError),
    /// Data for a session we do not have with this peer.
    #[error("P2P data for unknown session {0}")]
    UnknownSession(u32),
    /// An MSNSLP message addressed to someone else, or claiming another sender.
    #[error("MSNSLP message not between this peer and us")]
    Misaddressed,
    /// An answer or BYE for a call we do not know.
    #[error("MSNSLP message for an unknown call")]
    UnknownCall,
    /// A message the session does not expect.
    #[error("unexpected P2P message in session {0}")]
    Unexpected(u32),
}

/// What a session does.
#[derive(Debug)]
enum Role {
    /// We fetch this object.
    Fetch(MsnObject),
    /// We serve this data.
    Serve(Arc<[u8]>),
}

/// Where a session stands.
#[derive(Debug)]
enum Stage {
    /// Fetch: INVITE sent, waiting for the answer.
    Invited,
    /// Fetch: accepted, waiting for the data.
    Receiving,
    /// Serve: `200 OK` (this message id) sent, waiting for its ack.
    Answered(u32),
    /// Serve: data preparation (this message id) sent, waiting for its ack.
    Preparing(u32),
    /// Serve: data going out.
    Sending(Outgoing),
    /// Serve: data (this message id) sent, waiting for its ack.
    Sent(u32),
    /// Serve: data acknowledged, waiting for `BYE`.
    Done,
}

#[derive(Debug)]
struct Session {
    peer: String,
    call_id: String,
    app_id: u32,
    role: Role,
    stage: Stage,
    deadline: Instant,
}

/// The P2P sessions of an account.
#[derive(Debug)]
pub struct P2p {
    config: Config,
    sessions: BTreeMap<u32, Session>,
    reassembler: Reassembler,
    control: VecDeque<Transmit>,
    events: VecDeque<P2pEvent>,
    /// Peers' addresses for messages we start (MSNP16+: `address;{guid}`), by lower-case address.
    addresses: HashMap<String, String>,
    next_id: u32,
    dropped: u64,
    files: BTreeMap<u32, file::FileSession>,
    file_events: VecDeque<FileEvent>,
    next_transfer: u32,
    direct: upgrade::Directs,
}

impl P2p {
    /// No sessions; message ids start at a random base.
    pub fn new(config: Config, rng: &mut dyn FnMut() -> u32) -> P2p {
        P2p {
            reassembler: Reassembler::new(config.reassembly),
            config,
            sessions: BTreeMap::new(),
            control: VecDeque::new(),
            events: VecDeque::new(),
            addresses: HashMap::new(),
            next_id: rng() & 0x7FFF_FFFF,
            dropped: 0,
            files: BTreeMap::new(),
            file_events: VecDeque::new(),
            next_transfer: 0,
            direct: upgrade::Directs::default(),
        }
    }

    /// Sessions open now.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Sessions (object fetches and file transfers) open now with `peer`.
    pub fn sessions_with(&self, peer: &str) -> usize {
        let with = |s: &&Session| s.peer.eq_ignore_ascii_case(peer);
        let files = self.files.values();
        self.sessions.values().filter(with).count()
            + files.filter(|f| f.peer.eq_ignore_ascii_case(peer)).count()
    }

    /// Messages in reassembly now.
    pub fn reassembling(&self) -> usize {
        self.reassembler.pending()
    }

    /// Signalling packets dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Our MSNSLP address from now on (MSNP16+: `address;{guid}`).
    pub fn set_me(&mut self, me: &str) {
        if self.config.me != me {
            self.config.me = me.to_owned();
        }
    }

    /// The address of `peer` in what we send from now on (MSNP16+: `address;{guid}` of the
    /// endpoint we talk to); forgotten when the peer goes.
    pub fn set_address(&mut self, peer: &str, address: &str) {
        let key = peer.to_ascii_lowercase();
        if self.addresses.len() < MAX_ADDRESSES || self.addresses.contains_key(&key) {
            self.addresses.insert(key, address.to_owned());
        }
    }

    /// The address of `peer` in what we send: as set by [`P2p::set_address`], else `peer`.
    pub fn address<'a>(&'a self, peer: &'a str) -> &'a str {
        self.addresses
            .get(&peer.to_ascii_lowercase())
            .map_or(peer, String::as_str)
    }

    /// Asks `peer` for `object`; returns the session id. The outcome is a [`P2pEvent`].
    pub fn request_object(
        &mut self,
        peer: &str,
        object: &MsnObject,
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) -> Result<u32, RequestError> {
        if object.size > self.config.max_object {
            return Err(RequestError::TooLarge);
        }
        let duplicate = self.sessions.values().any(|s| {
            s.peer.eq_ignore_ascii_case(peer)
                && matches!(&s.role, Role::Fetch(o) if o.sha1d == object.sha1d)
        });
        if duplicate {
            return Err(RequestError::Duplicate);
        }
        if !self.has_room(peer) {
            return Err(RequestError::Busy);
        }
        let session_id = self.fresh_session_id(rng);
        let mut context = object.xml.clone().into_bytes();
        context.push(0);
        let to = self.address(peer).to_owned();
        let invite = slp::InviteRequest {
            to: &to,
            from: &self.config.me,
            branch: slp::guid(rng),
            call_id: slp::guid(rng),
            invite: slp::Invite {
                euf_guid: slp::EUF_GUID_OBJECT.to_owned(),
                session_id,
                app_id: app_id::OBJECT,
                context,
            },
        };
        let message = invite.message();
        self.send_slp(peer, &message, rng);
        self.sessions.insert(
            session_id,
            Session {
                peer: peer.to_owned(),
                call_id: message.call_id,
                app_id: app_id::OBJECT,
                role: Role::Fetch(object.clone()),
                stage: Stage::Invited,
                deadline: now + self.config.timeout,
            },
        );
        Ok(session_id)
    }

    /// Handles a packet `peer` sent us (the body of its `application/x-msnmsgrp2p` message).
    pub fn handle_packet(
        &mut self,
        peer: &str,
        bytes: &[u8],
        now: Instant,
        store: &dyn ObjectStore,
        rng: &mut dyn FnMut() -> u32,
    ) -> Result<(), P2pError> {
        let packet = Packet::parse(bytes)?;
        let h = packet.header;
        if h.is_ack() {
            if !self.file_ack(peer, &h) {
                self.handle_ack(peer, &h, now, rng);
            }
            return Ok(());
        }
        if h.session_id != 0 && self.files.contains_key(&h.session_id) {
            return self.file_packet(peer, packet, now, rng);
        }
        let cap = match h.session_id {
            0 => slp::MAX_SLP as u64,
            id => match self.sessions.get(&id) {
                Some(s) if s.peer.eq_ignore_ascii_case(peer) => match &s.role {
                    Role::Fetch(object) => object.size.max(4),
                    Role::Serve(_) => 4,
                },
                _ if id == ink::P2P_SESSION => MAX_P2P_INK,
                _ => return Err(P2pError::UnknownSession(id)),
            },
        };
        if h.flags & (flags::ERROR | flags::CLOSE | flags::TLP_ERROR) != 0 {
            if h.session_id != 0 {
                self.end(h.session_id, Some(FailReason::Closed));
            }
            return Ok(());
        }
        let complete = match self.reassembler.push(peer, packet, cap, now) {
            Ok(Some(complete)) => complete,
            Ok(None) => {
                if let Some(s) = self.sessions.get_mut(&h.session_id) {
                    s.deadline = now + self.config.timeout;
                }
                return Ok(());
            }
            Err(e) => {
                if h.session_id != 0 {
                    self.end(h.session_id, Some(FailReason::Malformed));
                }
                return Err(e.into());
            }
        };
        let ack = complete.header.ack(self.message_id());
        self.queue(
            peer,
            Packet {
                header: ack,
                payload: Vec::new(),
                app_id: app_id::SLP,
            },
        );
        let in_session = |s: &Session| s.peer.eq_ignore_ascii_case(peer);
        match h.session_id {
            0 => self.handle_slp(peer, &complete.data, now, store, rng),
            id if id == ink::P2P_SESSION && !self.sessions.get(&id).is_some_and(in_session) => {
                let ink = Ink::from_p2p(&complete.data);
                self.events.push_back(P2pEvent::Ink {
                    peer: peer.to_owned(),
                    ink,
                });
                Ok(())
            }
            id => self.handle_data(id, complete.header.flags, complete.data, now, rng),
        }
    }

    /// Ends every session with `peer` (offline, or its switchboard closed); fetches fail.
    pub fn peer_gone(&mut self, peer: &str) {
        let ids: Vec<u32> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.peer.eq_ignore_ascii_case(peer))
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.end(id, Some(FailReason::PeerGone));
        }
        self.end_transfers_with(peer);
        self.control.retain(|t| !t.peer.eq_ignore_ascii_case(peer));
        self.reassembler.drop_peer(peer, None);
        self.addresses.remove(&peer.to_ascii_lowercase());
    }

    /// The next packet to send: signalling first, then data chunks.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some(t) = self.control.pop_front() {
            return Some(t);
        }
        let deadline = now + self.config.timeout;
        for session in self.sessions.values_mut() {
            let Stage::Sending(out) = &mut session.stage else {
                continue;
            };
            let Some(packet) = out.next_chunk() else {
                continue;
            };
            session.deadline = deadline;
            if out.is_done() {
                session.stage = Stage::Sent(out.id());
            }
            return Some(Transmit {
                peer: session.peer.clone(),
                packet: packet.encode(),
            });
        }
        None
    }

    /// The next event for the user interface.
    pub fn poll_event(&mut self) -> Option<P2pEvent> {
        self.events.pop_front()
    }

    /// When [`P2p::handle_timeout`] should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let sessions = self.sessions.values().map(|s| s.deadline).min();
        let sessions = [sessions, self.files_deadline(), self.direct.deadline()]
            .into_iter()
            .flatten()
            .min();
        match (sessions, self.reassembler.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Ends the sessions and drops the partial messages whose deadline passed.
    pub fn handle_timeout(&mut self, now: Instant, rng: &mut dyn FnMut() -> u32) {
        self.reassembler.expire(now);
        self.files_timeout(now, rng);
        self.direct_timeout(now);
        let lapsed: Vec<u32> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.deadline <= now)
            .map(|(&id, _)| id)
            .collect();
        for id in lapsed {
            if let Some(s) = self.sessions.get(&id) {
                if matches!(s.role, Role::Fetch(_)) {
                    let (peer, call) = (s.peer.clone(), s.call_id.clone());
                    let to = self.address(&peer);
                    let bye = slp::bye(to, &self.config.me, slp::guid(rng), &call);
                    self.send_slp(&peer, &bye, rng);
                }
            }
            self.end(id, Some(FailReason::Timeout));
        }
    }

    fn handle_ack(&mut self, peer: &str, h: &Header, now: Instant, rng: &mut dyn FnMut() -> u32) {
        let acked = h.ack_id;
        let Some((&id, session)) = self.sessions.iter_mut().find(|(_, s)| {
            s.peer.eq_ignore_ascii_case(peer)
                && matches!(s.stage, Stage::Answered(m) | Stage::Preparing(m) | Stage::Sent(m) if m == acked)
        }) else {
            return;
        };
        session.deadline = now + self.config.timeout;
        let Role::Serve(data) = &session.role else {
            return;
        };
        let data = Arc::clone(data);
        let app = session.app_id;
        match session.stage {
            Stage::Answered(_) => {
                let message = self.message_id();
                let zeros: Arc<[u8]> = Arc::new([0; 4]);
                let mut prep = Outgoing::new(id, message, rng(), flags::NONE, zeros, app);
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.stage = Stage::Preparing(message);
                }
                while let Some(packet) = prep.next_chunk() {
                    self.queue(peer, packet);
                }
            }
            Stage::Preparing(_) => {
                // Windows Live Messenger's application ids go with its data flag.
                let data_flags = match app {
                    app_id::EMOTICON | app_id::DISPLAY_PICTURE => {
                        flags::MSN_OBJECT_DATA | flags::WLM2009
                    }
                    _ => flags::MSN_OBJECT_DATA,
                };
                let message = self.message_id();
                let out = Outgoing::new(id, message, rng(), data_flags, data, app);
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.stage = Stage::Sending(out);
                }
            }
            _ => session.stage = Stage::Done,
        }
    }

    fn handle_slp(
        &mut self,
        peer: &str,
        data: &[u8],
        now: Instant,
        store: &dyn ObjectStore,
        rng: &mut dyn FnMut() -> u32,
    ) -> Result<(), P2pError> {
        let message = SlpMessage::parse(data)?;
        let to_us =
            slp::bare_address(&message.to).eq_ignore_ascii_case(slp::bare_address(&self.config.me));
        let from_peer =
            slp::bare_address(&message.from).eq_ignore_ascii_case(slp::bare_address(peer));
        if !to_us || !from_peer {
            return Err(P2pError::Misaddressed);
        }
        if self.file_slp(peer, &message, now, rng) {
            return Ok(());
        }
        let call = self
            .sessions
            .iter()
            .find(|(_, s)| {
                s.peer.eq_ignore_ascii_case(peer)
                    && s.call_id.eq_ignore_ascii_case(&message.call_id)
            })
            .map(|(&id, s)| (id, matches!(s.stage, Stage::Invited)));
        match (&message.start, call) {
            (
                StartLine::Request {
                    method: Method::Invite,
                    ..
                },
                None,
            ) => self.handle_invite(peer, &message, now, store, rng),
            // A repeated INVITE, or an ACK: nothing to do.
            (
                StartLine::Request {
                    method: Method::Invite | Method::Ack,
                    ..
                },
                _,
            ) => Ok(()),
            (
                StartLine::Request {
                    method: Method::Bye,
                    ..
                },
                Some((id, _)),
            ) => {
                self.end(id, Some(FailReason::Closed));
                Ok(())
            }
            (StartLine::Response { code, .. }, Some((id, true))) => {
                match code {
                    200 => {
                        if let Some(s) = self.sessions.get_mut(&id) {
                            s.stage = Stage::Receiving;
                            s.deadline = now + self.config.timeout;
                        }
                    }
                    603 => {
                        if let Some(s) = self.sessions.remove(&id) {
                            self.events.push_back(P2pEvent::Declined {
                                peer: s.peer,
                                sha1d: sha1d_of(&s.role),
                            });
                        }
                    }
                    &code => self.end(id, Some(FailReason::Refused(code))),
                }
                Ok(())
            }
            _ => Err(P2pError::UnknownCall),
        }
    }

    fn handle_invite(
        &mut self,
        peer: &str,
        message: &SlpMessage,
        now: Instant,
        store: &dyn ObjectStore,
        rng: &mut dyn FnMut() -> u32,
    ) -> Result<(), P2pError> {
        let invite = match message.invite() {
            Ok(invite) => invite,
            Err(e) => {
                let answer = slp::response(message, 500, message.session_id().unwrap_or(0));
                self.send_slp(peer, &answer, rng);
                return Err(e.into());
            }
        };
        if message.content_type.eq_ignore_ascii_case(slp::SESSION_REQ)
            && invite.euf_guid.eq_ignore_ascii_case(slp::EUF_GUID_FILE)
        {
            self.file_invite(peer, message, &invite, now, rng);
            return Ok(());
        }
        let decline = slp::response(message, 603, invite.session_id);
        let is_object = message.content_type.eq_ignore_ascii_case(slp::SESSION_REQ)
            && invite.euf_guid.eq_ignore_ascii_case(slp::EUF_GUID_OBJECT);
        if !is_object
            || invite.session_id == 0
            || self.sessions.contains_key(&invite.session_id)
            || self.files.contains_key(&invite.session_id)
            || !self.has_room(peer)
        {
            self.send_slp(peer, &decline, rng);
            return Ok(());
        }
        let text = String::from_utf8_lossy(&invite.context);
        let object = match MsnObject::parse(&text) {
            Ok(object) => object,
            Err(e) => {
                self.send_slp(peer, &slp::response(message, 500, invite.session_id), rng);
                return Err(e.into());
            }
        };
        let Some(data) = store.object(&object.sha1d) else {
            self.send_slp(peer, &decline, rng);
            return Ok(());
        };
        let ok = slp::response(message, 200, invite.session_id);
        let ok_id = self.send_slp(peer, &ok, rng);
        let app_id = match invite.app_id {
            0 => app_id::OBJECT,
            app => app,
        };
        self.sessions.insert(
            invite.session_id,
            Session {
                peer: peer.to_owned(),
                call_id: message.call_id.clone(),
                app_id,
                role: Role::Serve(data),
                stage: Stage::Answered(ok_id),
                deadline: now + self.config.timeout,
            },
        );
        Ok(())
    }

    fn handle_data(
        &mut self,
        id: u32,
        packet_flags: u32,
        data: Vec<u8>,
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) -> Result<(), P2pError> {
        let Some(session) = self.sessions.get_mut(&id) else {
            return Err(P2pError::UnknownSession(id));
        };
        let Role::Fetch(object) = &session.role else {
            return Err(P2pError::Unexpected(id));
        };
        session.deadline = now + self.config.timeout;
        if packet_flags & flags::MSN_OBJECT_DATA == 0 {
            // The data-preparation message.
            return match data.len() {
                4 => Ok(()),
                _ => Err(P2pError::Unexpected(id)),
            };
        }
        let event = if object.matches(&data) {
            P2pEvent::ObjectReceived {
                peer: session.peer.clone(),
                creator: object.creator.clone(),
                sha1d: object.sha1d.clone(),
                data,
            }
        } else {
            P2pEvent::Failed {
                peer: session.peer.clone(),
                sha1d: object.sha1d.clone(),
                reason: FailReason::Mismatch,
            }
        };
        let (peer, call) = (session.peer.clone(), session.call_id.clone());
        let bye = slp::bye(self.address(&peer), &self.config.me, slp::guid(rng), &call);
        self.send_slp(&peer, &bye, rng);
        self.sessions.remove(&id);
        self.reassembler.drop_peer(&peer, Some(id));
        self.events.push_back(event);
        Ok(())
    }

    /// Removes a session; a fetch reports `reason` when given.
    fn end(&mut self, id: u32, reason: Option<FailReason>) {
        let Some(s) = self.sessions.remove(&id) else {
            return;
        };
        self.reassembler.drop_peer(&s.peer, Some(id));
        if let (Role::Fetch(object), Some(reason)) = (&s.role, reason) {
            self.events.push_back(P2pEvent::Failed {
                peer: s.peer,
                sha1d: object.sha1d.clone(),
                reason,
            });
        }
    }

    fn has_room(&self, peer: &str) -> bool {
        let with_peer = self
            .sessions
            .values()
            .filter(|s| s.peer.eq_ignore_ascii_case(peer))
            .count();
        self.sessions.len() < self.config.max_sessions
            && with_peer < self.config.max_sessions_per_peer
    }

    fn fresh_session_id(&self, rng: &mut dyn FnMut() -> u32) -> u32 {
        loop {
            let id = rng();
            if id != 0
                && id != ink::P2P_SESSION
                && !self.sessions.contains_key(&id)
                && !self.files.contains_key(&id)
            {
                return id;
            }
        }
    }

    fn message_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// Queues an MSNSLP message (chunked); returns its message id.
    fn send_slp(&mut self, peer: &str, message: &SlpMessage, rng: &mut dyn FnMut() -> u32) -> u32 {
        let id = self.message_id();
        let mut out = Outgoing::new(
            0,
            id,
            rng(),
            flags::NONE,
            message.encode().into(),
            app_id::SLP,
        );
        while let Some(packet) = out.next_chunk() {
            self.queue(peer, packet);
        }
        id
    }

    fn queue(&mut self, peer: &str, packet: Packet) {
        if self.control.len() >= self.config.max_queued {
            self.dropped += 1;
            return;
        }
        self.control.push_back(Transmit {
            peer: peer.to_owned(),
            packet: packet.encode(),
        });
    }
}

fn sha1d_of(role: &Role) -> String {
    match role {
        Role::Fetch(object) => object.sha1d.clone(),
        Role::Serve(_) => String::new(),
    }
}
