//! Moving a file transfer's data to a direct TCP connection (`docs/protocol.md` §8.2). Once
//! the receiver accepted, the sender asks for a transport upgrade; a receiver that may listen
//! asks the driver for a listening socket ([`DirectOutput::Listen`]) and answers with its
//! address; the sender asks the driver to connect ([`DirectOutput::Connect`]) and both run the
//! handshake of [`DirectLink`]. The driver reports back through `P2p::direct_*` and writes
//! what [`P2p::poll_direct`] returns. Until the link is up the sender holds the data; when the
//! attempt fails, is declined or takes longer than [`SETUP`], the data goes by switchboard.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::direct::{DirectLink, MAX_DIRECT_CHUNK};
use super::file::{FileEvent, FileStage};
use super::header::app_id;
use super::slp::{self, Method, SlpMessage, StartLine};
use super::transreq::{self, Accepts, Nonce};
use super::{FailReason, P2p};

/// How long the sender waits, from its request, for the direct connection to be up.
pub(super) const SETUP: Duration = Duration::from_secs(10);
/// How long the receiver keeps listening for the sender.
const LISTEN: Duration = Duration::from_secs(30);
/// Most bytes handed to the driver and not yet reported written ([`P2p::direct_drained`]).
const WINDOW: usize = 64 * 1024;
/// Most bytes asked of the user interface at once for a direct connection.
const BLOCK: usize = 64 * 1024;
/// Most direct-connection attempts at once.
const MAX_LINKS: usize = 16;

/// Identifies one direct connection (its listening socket, then its stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u32);

/// What the P2P part asks of the driver for direct connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectOutput {
    /// Open a listening TCP socket; report [`P2p::direct_listening`], then
    /// [`P2p::direct_connected`] for the first connection accepted on it (and close it).
    Listen {
        /// The link.
        link: LinkId,
    },
    /// Connect to `addr`; report [`P2p::direct_connected`] or [`P2p::direct_lost`].
    Connect {
        /// The link.
        link: LinkId,
        /// Where to.
        addr: SocketAddrV4,
    },
    /// Write these bytes to the link's stream; report [`P2p::direct_drained`] once all
    /// handed bytes are written.
    Send {
        /// The link.
        link: LinkId,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Close the link's socket; no further report is wanted.
    Close {
        /// The link.
        link: LinkId,
    },
}

#[derive(Debug)]
enum Stage {
    /// Sender: the request is out.
    Requested,
    /// Sender: connecting; the addresses left to try.
    Connecting(Vec<SocketAddrV4>),
    /// Receiver: waiting for the listening socket; the request, to answer it.
    Listening(Box<SlpMessage>),
    /// Receiver: answered, waiting for the sender to connect.
    Waiting,
    /// Connected: handshake, then packets.
    Linked(DirectLink),
}

#[derive(Debug)]
struct Attempt {
    /// The transfer's session id.
    sid: u32,
    peer: String,
    /// Whether we send the file (else we receive it).
    sending: bool,
    /// Our nonce (sender) and what the handshake must carry.
    nonce: Nonce,
    accepts: Accepts,
    stage: Stage,
    /// Until when the link may take to come up.
    deadline: Option<Instant>,
    /// Bytes handed to the driver and not reported written.
    in_flight: usize,
}

/// The direct connections of the P2P part.
#[derive(Debug, Default)]
pub(super) struct Directs {
    enabled: bool,
    links: BTreeMap<LinkId, Attempt>,
    out: VecDeque<DirectOutput>,
    next: u32,
}

impl Directs {
    /// Whether the transfer `sid` sends (or waits to send) over a direct connection.
    pub(super) fn holds(&self, sid: u32) -> bool {
        self.links.values().any(|a| a.sid == sid && a.sending)
    }

    /// The earliest set-up deadline.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.links.values().filter_map(|a| a.deadline).min()
    }

    fn add(&mut self, attempt: Attempt) -> Option<LinkId> {
        if self.links.len() >= MAX_LINKS {
            return None;
        }
        self.next = self.next.wrapping_add(1);
        let link = LinkId(self.next);
        self.links.insert(link, attempt);
        Some(link)
    }
}

impl P2p {
    /// Whether file transfers try direct connections (off by default).
    pub fn set_direct(&mut self, on: bool) {
        self.direct.enabled = on;
    }

    /// Sender, after the receiver accepted: asks for a transport upgrade.
    pub(super) fn request_direct(&mut self, sid: u32, now: Instant, rng: &mut dyn FnMut() -> u32) {
        let Some(f) = self.files.get(&sid).filter(|_| self.direct.enabled) else {
            return;
        };
        let (peer, call_id) = (f.peer.clone(), f.call_id.clone());
        let nonce = Nonce::random(rng);
        let attempt = Attempt {
            sid,
            peer: peer.clone(),
            sending: true,
            nonce,
            accepts: Accepts::plain(nonce),
            stage: Stage::Requested,
            deadline: Some(now + SETUP),
            in_flight: 0,
        };
        if self.direct.add(attempt).is_none() {
            return;
        }
        let to = self.address(&peer).to_owned();
        let invite = SlpMessage {
            start: StartLine::Request {
                method: Method::Invite,
                uri: to.clone(),
            },
            to,
            from: self.config.me.clone(),
            branch: slp::guid(rng),
            cseq: 0,
            call_id,
            max_forwards: 0,
            content_type: slp::TRANS_REQ.to_owned(),
            body: transreq::request_body(&nonce, sid),
        };
        self.send_slp(&peer, &invite, rng);
    }

    /// Receiver: a transport-upgrade request in the call of transfer `sid`: a listening socket
    /// is asked for, or the request declined.
    pub(super) fn answer_transreq(
        &mut self,
        sid: u32,
        message: &SlpMessage,
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) {
        let Some(f) = self.files.get(&sid) else {
            return;
        };
        let peer = f.peer.clone();
        let receiving = matches!(f.stage, FileStage::Receiving(_));
        let fresh = !self.direct.links.values().any(|a| a.sid == sid);
        let checked = transreq::check_request(&message.body);
        let link = match (&checked, self.direct.enabled && receiving && fresh) {
            (Ok(accepts), true) => self.direct.add(Attempt {
                sid,
                peer: peer.clone(),
                sending: false,
                nonce: Nonce([0; 16]),
                accepts: accepts.clone(),
                stage: Stage::Listening(Box::new(message.clone())),
                deadline: Some(now + LISTEN),
                in_flight: 0,
            }),
            _ => None,
        };
        match link {
            Some(link) => self.direct.out.push_back(DirectOutput::Listen { link }),
            None => {
                if let Err(e) = checked {
                    log::info!("transport upgrade from {peer} declined: {e}");
                }
                let mut decline = slp::response(message, 603, sid);
                decline.content_type = slp::TRANS_RESP.to_owned();
                self.send_slp(&peer, &decline, rng);
            }
        }
    }

    /// Sender: the answer to our transport-upgrade request.
    pub(super) fn transresp(&mut self, sid: u32, code: u16, message: &SlpMessage) {
        let Some((&link, attempt)) = self
            .direct
            .links
            .iter_mut()
            .find(|(_, a)| a.sid == sid && a.sending && matches!(a.stage, Stage::Requested))
        else {
            return;
        };
        let addresses = match code {
            200 => transreq::listening_addresses(&message.body),
            _ => Err(transreq::TransError::NotListening),
        };
        match addresses {
            Ok(mut addresses) => {
                attempt.accepts = std::mem::take(&mut attempt.accepts).with_body(&message.body);
                let addr = addresses.remove(0);
                attempt.stage = Stage::Connecting(addresses);
                self.direct
                    .out
                    .push_back(DirectOutput::Connect { link, addr });
            }
            Err(e) => {
                log::info!("no direct connection for transfer session {sid} ({code}): {e}");
                self.fall_back(link);
            }
        }
    }

    /// The listening socket of `link` is ready at `addresses` and `port` (or failed).
    pub fn direct_listening(
        &mut self,
        link: LinkId,
        bound: Result<(Vec<Ipv4Addr>, u16), String>,
        rng: &mut dyn FnMut() -> u32,
    ) {
        let Some(attempt) = self.direct.links.get_mut(&link) else {
            return;
        };
        let Stage::Listening(request) = &attempt.stage else {
            return;
        };
        let request = request.clone();
        let (sid, peer) = (attempt.sid, attempt.peer.clone());
        let answer = match bound {
            Ok((addresses, port)) if !addresses.is_empty() => {
                attempt.stage = Stage::Waiting;
                let mut ok = slp::response(&request, 200, sid);
                ok.content_type = slp::TRANS_RESP.to_owned();
                ok.body = transreq::response_body(&request.body, &addresses, port, sid);
                ok
            }
            failed => {
                log::info!("no listening socket for a direct connection: {failed:?}");
                self.direct.links.remove(&link);
                self.direct.out.push_back(DirectOutput::Close { link });
                let mut decline = slp::response(&request, 603, sid);
                decline.content_type = slp::TRANS_RESP.to_owned();
                decline
            }
        };
        self.send_slp(&peer, &answer, rng);
    }

    /// `link` is connected (we connected, or the peer connected to our listening socket).
    pub fn direct_connected(&mut self, link: LinkId) {
        let id = self.message_id();
        let Some(attempt) = self.direct.links.get_mut(&link) else {
            return;
        };
        let accepts = attempt.accepts.clone();
        let linked = match &attempt.stage {
            Stage::Connecting(_) => DirectLink::connecting(attempt.nonce, id, accepts),
            Stage::Waiting => DirectLink::accepted(accepts),
            _ => return,
        };
        attempt.stage = Stage::Linked(linked);
        self.flush_link(link);
    }

    /// Bytes arrived on `link`.
    pub fn direct_bytes(
        &mut self,
        link: LinkId,
        bytes: &[u8],
        now: Instant,
        rng: &mut dyn FnMut() -> u32,
    ) {
        let Some(attempt) = self.direct.links.get_mut(&link) else {
            return;
        };
        let Stage::Linked(l) = &mut attempt.stage else {
            return;
        };
        let was_up = l.is_up();
        let pushed = l.push(bytes, rng);
        if l.is_up() && !was_up {
            log::info!("direct connection up for transfer session {}", attempt.sid);
            attempt.deadline = None;
        }
        let (sid, peer) = (attempt.sid, attempt.peer.clone());
        let packets = match pushed {
            Ok(packets) => packets,
            Err(e) => {
                log::info!("direct connection for transfer session {sid} dropped: {e}");
                return self.link_lost(link, rng);
            }
        };
        self.flush_link(link);
        let store = |_: &str| None;
        for mut packet in packets {
            let h = packet.header;
            if h.session_id != sid && h.session_id != 0 {
                log::debug!("direct packet for session {} ignored", h.session_id);
                continue;
            }
            packet.app_id = match h.session_id {
                0 => app_id::SLP,
                _ => app_id::FILE,
            };
            if let Err(e) = self.handle_packet(&peer, &packet.encode(), now, &store, rng) {
                log::debug!("direct packet from {peer} not used: {e}");
            }
        }
    }

    /// Everything handed to `link` was written.
    pub fn direct_drained(&mut self, link: LinkId) {
        if let Some(attempt) = self.direct.links.get_mut(&link) {
            attempt.in_flight = 0;
        }
    }

    /// Connecting `link` failed, or its stream closed or broke.
    pub fn direct_lost(&mut self, link: LinkId, rng: &mut dyn FnMut() -> u32) {
        let Some(attempt) = self.direct.links.get_mut(&link) else {
            return;
        };
        if let Stage::Connecting(rest) = &mut attempt.stage {
            if !rest.is_empty() {
                let addr = rest.remove(0);
                self.direct
                    .out
                    .push_back(DirectOutput::Connect { link, addr });
                return;
            }
        }
        self.link_lost(link, rng);
    }

    /// The next thing the driver does for direct connections; file data goes out here while
    /// links take it.
    pub fn poll_direct(&mut self, now: Instant) -> Option<DirectOutput> {
        if self.direct.out.is_empty() {
            let gone: Vec<LinkId> = self
                .direct
                .links
                .iter()
                .filter(|(_, a)| !self.files.contains_key(&a.sid))
                .map(|(&l, _)| l)
                .collect();
            for link in gone {
                self.direct.links.remove(&link);
                self.direct.out.push_back(DirectOutput::Close { link });
            }
            self.pump_direct(now);
        }
        self.direct.out.pop_front()
    }

    /// Set-up deadlines due at `now`: the data goes by switchboard.
    pub(super) fn direct_timeout(&mut self, now: Instant) {
        let lapsed: Vec<LinkId> = self
            .direct
            .links
            .iter()
            .filter(|(_, a)| a.deadline.is_some_and(|d| d <= now))
            .map(|(&l, _)| l)
            .collect();
        for link in lapsed {
            log::info!("direct connection not up in time");
            self.fall_back(link);
        }
    }

    /// Gives up a link that is not carrying data yet: the transfer goes on by switchboard.
    fn fall_back(&mut self, link: LinkId) {
        if let Some(attempt) = self.direct.links.remove(&link) {
            if !matches!(attempt.stage, Stage::Requested) {
                self.direct.out.push_back(DirectOutput::Close { link });
            }
        }
    }

    /// A link broke: before any data went over it, the transfer goes on by switchboard; a
    /// sender with data still to send fails the transfer (the peer hears `BYE`).
    fn link_lost(&mut self, link: LinkId, rng: &mut dyn FnMut() -> u32) {
        let Some(attempt) = self.direct.links.get(&link) else {
            return;
        };
        let sid = attempt.sid;
        let started = self.files.get(&sid).is_some_and(|f| match &f.stage {
            FileStage::Sending(s) => attempt.sending && s.header.offset > 0,
            _ => false,
        });
        self.fall_back(link);
        if started {
            if let Some(f) = self.files.get(&sid) {
                let (id, reason) = (f.id, FailReason::PeerGone);
                self.finish_file(sid, FileEvent::Failed { id, reason }, true, rng);
            }
        }
    }

    /// Hands what `link` has to write to the driver.
    fn flush_link(&mut self, link: LinkId) {
        let Some(attempt) = self.direct.links.get_mut(&link) else {
            return;
        };
        let Stage::Linked(l) = &mut attempt.stage else {
            return;
        };
        let bytes = l.take_output();
        if !bytes.is_empty() {
            attempt.in_flight += bytes.len();
            self.direct
                .out
                .push_back(DirectOutput::Send { link, bytes });
        }
    }

    /// Cuts file data into the links that are up and have room; asks for file data as their
    /// buffers run low.
    fn pump_direct(&mut self, now: Instant) {
        let deadline = now + self.config.timeout;
        let P2p {
            files,
            file_events,
            direct,
            ..
        } = self;
        for (&link, attempt) in direct.links.iter_mut() {
            let Stage::Linked(l) = &mut attempt.stage else {
                continue;
            };
            if !attempt.sending || !l.is_up() {
                continue;
            }
            let Some(f) = files.get_mut(&attempt.sid) else {
                continue;
            };
            while attempt.in_flight + l.queued() < WINDOW {
                let Some(packet) =
                    f.next_chunk(MAX_DIRECT_CHUNK, BLOCK, &|_| true, deadline, file_events)
                else {
                    break;
                };
                l.send(&packet);
            }
            let bytes = l.take_output();
            if !bytes.is_empty() {
                attempt.in_flight += bytes.len();
                direct.out.push_back(DirectOutput::Send { link, bytes });
            }
        }
    }
}
