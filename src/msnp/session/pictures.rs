//! Display pictures over P2P. Ours is advertised in `CHG` (MSNP9+) and served to whoever asks
//! for exactly that object; contacts' are announced in their presence and fetched when the user
//! interface asks, a bounded number at once, on the contact's switchboard (or one opened for
//! the purpose, which shows no conversation). Custom emoticons are fetched the same way, ahead
//! of pictures (see `emoticons`); this part owns them too.
//!
//! The part sends its packets through the switchboards part, which the session lends it for a
//! call as a `P2pSend`. File transfers run in this part too (see `transfers`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use rand_chacha::rand_core::RngCore;

use crate::p2p::msnobj::kind::DISPLAY_PICTURE;
use crate::p2p::{self, MsnObject, P2p, P2pEvent, Transmit};
use crate::session::cx::Cx;
use crate::session::emoticons::Emoticons;
use crate::session::switchboard::{ink_event, Conversation, P2pPacket};
use crate::session::Event;

/// Most picture fetches at once.
const MAX_FETCHES: usize = 2;
/// Most fetches waiting for their turn.
const MAX_WAITING: usize = 1024;
/// Most contacts whose announced picture is remembered.
const MAX_ANNOUNCED: usize = 100_000;
/// Largest display picture served or fetched.
pub const MAX_PICTURE: usize = 256 * 1024;
/// The `Location` of our object, as Pidgin's `libpurple/protocols/msn/user.c` writes it.
const LOCATION: &str = "TFR2C2.tmp";

/// What the user interface hears about display pictures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PictureEvent {
    /// A contact's presence names their picture (its `SHA1D`), or none. The user interface
    /// asks for it with [`Session::fetch_display_picture`](crate::session::Session::fetch_display_picture) unless it has that one already.
    Announced {
        /// The contact, lower-case.
        email: String,
        /// The picture's `SHA1D`; `None` when the contact has no picture.
        sha1d: Option<String>,
    },
    /// A fetched picture arrived; its data matches its `SHA1D`.
    Received {
        /// The contact, lower-case.
        email: String,
        /// The picture's `SHA1D`.
        sha1d: String,
        /// The image.
        data: Vec<u8>,
    },
    /// A fetch ended without the picture (declined, timed out, contact gone, bad data).
    Failed {
        /// The contact, lower-case.
        email: String,
        /// The picture's `SHA1D`.
        sha1d: String,
    },
}

/// Why [`Session::set_display_picture`](crate::session::Session::set_display_picture) refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    /// The image is larger than [`MAX_PICTURE`].
    #[error("the picture is too large")]
    TooLarge,
}

/// An object waiting to be fetched.
#[derive(Debug, PartialEq)]
enum Fetch {
    /// The picture this contact announced last.
    Picture(String),
    /// A custom emoticon of this contact.
    Emoticon(String, MsnObject),
}

/// The switchboards as the P2P layer sees them: where its packets go.
pub(super) trait P2pLink {
    /// Hands a P2P packet for `peer` to the switchboards (they write its `MSG` header).
    fn send(&mut self, cx: &mut Cx, peer: &str, packet: Vec<u8>);
    /// Whether the switchboard a packet for `peer` would go to has room for file data.
    fn room(&self, peer: &str) -> bool;
    /// No P2P session with `peer` is left: switchboards opened only for P2P with it go.
    fn done(&mut self, cx: &mut Cx, peer: &str);
}

/// The switchboards, lent to the P2P layer for a call.
pub(super) type P2pSend<'s> = &'s mut dyn P2pLink;

/// The display-picture and custom-emoticon state of a session: the P2P layer.
#[derive(Debug)]
pub(super) struct Pictures {
    pub(super) p2p: P2p,
    /// Custom emoticons: declared by contacts, fetched, ours.
    pub(super) emoticons: Emoticons,
    /// Our picture: its object and data.
    own: Option<(MsnObject, Arc<[u8]>)>,
    /// The picture each contact announced last (`None`: none).
    announced: HashMap<String, Option<MsnObject>>,
    /// Fetches waiting for their turn, emoticons first.
    waiting: VecDeque<Fetch>,
    /// Contacts whose picture fetch was asked for again after its switchboard was lost (once
    /// per announcement).
    retried: HashSet<String>,
    /// Objects being fetched: the contact, the `SHA1D`, and whether it is an emoticon.
    fetching: Vec<(String, String, bool)>,
    /// The sockets of file transfers' direct connections.
    pub(super) links: super::links::Links,
}

impl Pictures {
    /// No pictures; P2P message ids drawn from `rng`.
    pub(super) fn new(account: &str, rng: &mut dyn FnMut() -> u32) -> Pictures {
        let mut config = p2p::Config::new(account);
        config.max_object = MAX_PICTURE.max(super::emoticons::MAX_EMOTICON) as u64;
        Pictures {
            p2p: P2p::new(config, rng),
            emoticons: Emoticons::default(),
            own: None,
            announced: HashMap::new(),
            waiting: VecDeque::new(),
            retried: HashSet::new(),
            fetching: Vec::new(),
            links: Default::default(),
        }
    }

    /// When the P2P part wants [`Pictures::handle_timeout`].
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.p2p.poll_timeout()
    }

    /// Our object as `CHG` carries it: its XML (`None`: no picture).
    pub(super) fn own_object(&self) -> Option<String> {
        self.own.as_ref().map(|(object, _)| object.xml.clone())
    }
}

impl Pictures {
    /// Sets our display picture (`None` removes it): advertised in `CHG` from MSNP9 and served
    /// to any contact who asks for exactly this object.
    pub(super) fn set_display_picture(
        &mut self,
        cx: &mut Cx,
        data: Option<&[u8]>,
    ) -> Result<(), PictureError> {
        let own = match data.filter(|d| !d.is_empty()) {
            Some(data) if data.len() > MAX_PICTURE => return Err(PictureError::TooLarge),
            Some(data) => {
                let object =
                    MsnObject::new(&cx.config.account, DISPLAY_PICTURE, LOCATION, "", data);
                Some((object, Arc::from(data)))
            }
            None => None,
        };
        self.own = own;
        Ok(())
    }

    /// Fetches the picture `who` announced last; false when they announced none. The outcome
    /// is [`PictureEvent::Received`] or [`PictureEvent::Failed`].
    pub(super) fn fetch_display_picture(
        &mut self,
        cx: &mut Cx,
        who: &str,
        now: Instant,
        send: P2pSend,
    ) -> bool {
        let email = who.trim().to_ascii_lowercase();
        let Some(Some(object)) = self.announced.get(&email) else {
            return false;
        };
        let pics = &*self;
        let in_flight = pics
            .fetching
            .iter()
            .any(|(e, sha1d, _)| *e == email && *sha1d == object.sha1d);
        let pics = &mut *self;
        let fetch = Fetch::Picture(email.clone());
        if !in_flight && !pics.waiting.contains(&fetch) {
            if pics.waiting.len() >= MAX_WAITING {
                log::warn!("too many display pictures waiting; {email}'s not fetched");
                return false;
            }
            pics.waiting.push_back(fetch);
        }
        self.run(cx, now, send);
        true
    }

    /// The `MSNObject` argument of a contact's `ILN`/`NLN` (MSNP9+).
    pub(super) fn announced(&mut self, cx: &mut Cx, email: &str, object: Option<&str>) {
        if !cx.dialect.chg_msn_object() {
            return;
        }
        let email = email.to_ascii_lowercase();
        let object = object
            .filter(|o| *o != "0")
            .and_then(|o| match MsnObject::parse(o) {
                Ok(object) if object.kind == DISPLAY_PICTURE => Some(object),
                Ok(_) => None,
                Err(e) => {
                    log::debug!("ignored {email}'s display picture object: {e}");
                    None
                }
            });
        let announced = &mut self.announced;
        if let Some(before) = announced.get(&email) {
            if before.as_ref().map(|o| &o.sha1d) == object.as_ref().map(|o| &o.sha1d) {
                return;
            }
        } else if announced.len() >= MAX_ANNOUNCED {
            return log::warn!("too many contacts: display picture of {email} ignored");
        }
        let sha1d = object.as_ref().map(|o| o.sha1d.clone());
        announced.insert(email.clone(), object);
        self.retried.remove(&email);
        // A fetch of the previous picture would now set the wrong one.
        self.waiting
            .retain(|w| !matches!(w, Fetch::Picture(e) if *e == email));
        cx.event(Event::Picture(PictureEvent::Announced { email, sha1d }));
    }

    /// A contact went offline: their fetches end, nothing is set, and the picture they
    /// announce when back is announced anew (a fetch cut short is then tried again).
    pub(super) fn peer_gone(&mut self, cx: &mut Cx, email: &str, now: Instant, send: P2pSend) {
        let email = email.to_ascii_lowercase();
        self.announced.remove(&email);
        let (gone, waiting) =
            std::mem::take(&mut self.waiting)
                .into_iter()
                .partition(|w| match w {
                    Fetch::Picture(e) | Fetch::Emoticon(e, _) => *e == email,
                });
        self.waiting = waiting;
        for fetch in gone {
            if let Fetch::Emoticon(peer, object) = fetch {
                self.emoticon_fetched(cx, &peer, &object.sha1d, None);
            }
        }
        self.p2p.peer_gone(&email);
        self.run(cx, now, send);
    }

    /// A P2P packet a contact sent on a switchboard.
    pub(super) fn handle_packet(
        &mut self,
        cx: &mut Cx,
        packet: &P2pPacket,
        now: Instant,
        send: P2pSend,
    ) {
        let (from, body) = (packet.from.as_str(), packet.body.as_slice());
        let (src, dest) = (packet.source.as_deref(), packet.destination.as_deref());
        let account = &cx.config.account;
        let mine = cx
            .config
            .machine_guid
            .trim_matches(|c| c == '{' || c == '}');
        let ours = |guid: &str| {
            let guid = guid.trim_matches(|c| c == '{' || c == '}');
            guid.eq_ignore_ascii_case(mine)
        };
        // `address;{guid}` names one endpoint (MSNP16+): another place of ours ignores it.
        let to_us = dest.is_some_and(|d| match d.split_once(';') {
            Some((email, guid)) => email.eq_ignore_ascii_case(account) && ours(guid),
            None => d.eq_ignore_ascii_case(account),
        });
        // MSNP16+: our MSNSLP messages go to the endpoint that talks P2P with us.
        if let Some(src) = src.filter(|_| cx.dialect.endpoints()) {
            if src
                .split_once(';')
                .is_some_and(|(e, _)| e.eq_ignore_ascii_case(from))
            {
                self.p2p.set_address(from, src);
            }
        }
        if !to_us {
            return log::debug!("P2P packet from {from} for someone else ignored");
        }
        let Pictures {
            p2p,
            own,
            emoticons,
            ..
        } = self;
        let store = |sha1d: &str| {
            own.as_ref()
                .filter(|(object, _)| object.sha1d == sha1d)
                .map(|(_, data)| Arc::clone(data))
                .or_else(|| emoticons.own(sha1d))
        };
        let rng = &mut *cx.rng;
        if let Err(e) = p2p.handle_packet(from, body, now, &store, &mut || rng.next_u32()) {
            log::debug!("P2P packet from {from} not used: {e}");
        }
        self.run(cx, now, send);
    }

    /// Fetches whose switchboard was lost (the contact left it, or it failed) end; a picture's
    /// is asked for once more, on a new switchboard (once per announcement).
    pub(super) fn fetches_lost(
        &mut self,
        cx: &mut Cx,
        lost: &[String],
        now: Instant,
        send: P2pSend,
    ) {
        let mut again = false;
        for peer in lost {
            if !self.fetching.iter().any(|(e, ..)| e == peer) {
                continue;
            }
            let picture = self
                .fetching
                .iter()
                .any(|(e, _, emoticon)| e == peer && !emoticon);
            self.p2p.peer_gone(peer);
            while let Some(event) = self.p2p.poll_event() {
                self.p2p_event(cx, event, send);
            }
            if picture && self.retried.insert(peer.clone()) {
                self.waiting.push_front(Fetch::Picture(peer.clone()));
                again = true;
            }
        }
        if again {
            self.run(cx, now, send);
        }
    }

    /// P2P deadlines due at `now`.
    pub(super) fn handle_timeout(&mut self, cx: &mut Cx, now: Instant, send: P2pSend) {
        if self.deadline().is_some_and(|d| d <= now) {
            let rng = &mut *cx.rng;
            self.p2p.handle_timeout(now, &mut || rng.next_u32());
        }
        self.run(cx, now, send);
    }

    /// Starts waiting fetches while there is room, sends what the P2P part has to send and
    /// reports what it has to say, until nothing changes.
    pub(super) fn run(&mut self, cx: &mut Cx, now: Instant, send: P2pSend) {
        self.p2p.set_me(&own_address(cx));
        loop {
            self.start_fetches(cx, now);
            let mut busy = false;
            while let Some(transmit) = self.p2p.poll_transmit(now) {
                p2p_send(cx, transmit, send);
                busy = true;
            }
            while let Some(event) = self.p2p.poll_event() {
                self.p2p_event(cx, event, send);
                busy = true;
            }
            busy |= self.transfers_pump(cx, now, send);
            if !busy {
                return;
            }
        }
    }

    /// Queues a fetch of `peer`'s custom emoticon ahead of the pictures; false when the queue
    /// is full.
    pub(super) fn queue_emoticon_fetch(
        &mut self,
        cx: &mut Cx,
        peer: &str,
        object: MsnObject,
        now: Instant,
        send: P2pSend,
    ) -> bool {
        let waiting = &mut self.waiting;
        if waiting.len() >= MAX_WAITING {
            log::warn!("too many objects waiting to be fetched; an emoticon of {peer} not fetched");
            return false;
        }
        let at = waiting
            .iter()
            .position(|w| matches!(w, Fetch::Picture(_)))
            .unwrap_or(waiting.len());
        waiting.insert(at, Fetch::Emoticon(peer.to_owned(), object));
        self.run(cx, now, send);
        true
    }

    fn start_fetches(&mut self, cx: &mut Cx, now: Instant) {
        while self.fetching.len() < MAX_FETCHES {
            let Some(fetch) = self.waiting.pop_front() else {
                return;
            };
            let (email, object, emoticon) = match &fetch {
                Fetch::Picture(email) => match self.announced.get(email) {
                    Some(Some(object)) => (email.clone(), object.clone(), false),
                    _ => continue,
                },
                Fetch::Emoticon(peer, object) => (peer.clone(), object.clone(), true),
            };
            let rng = &mut *cx.rng;
            let mut draw = || rng.next_u32();
            match self.p2p.request_object(&email, &object, now, &mut draw) {
                Ok(_) => self.fetching.push((email, object.sha1d, emoticon)),
                Err(p2p::RequestError::Busy) => {
                    self.waiting.push_front(fetch);
                    return;
                }
                Err(e) if emoticon => {
                    log::info!("custom emoticon of {email} not fetched: {e}");
                    self.emoticon_fetched(cx, &email, &object.sha1d, None);
                }
                Err(e) => {
                    log::info!("display picture of {email} not fetched: {e}");
                    cx.event(Event::Picture(PictureEvent::Failed {
                        email,
                        sha1d: object.sha1d,
                    }));
                }
            }
        }
    }

    fn p2p_event(&mut self, cx: &mut Cx, event: P2pEvent, send: P2pSend) {
        let (email, sha1d, data) = match event {
            P2pEvent::ObjectReceived {
                peer, sha1d, data, ..
            } => (peer, sha1d, Some(data)),
            P2pEvent::Declined { peer, sha1d } => (peer, sha1d, None),
            P2pEvent::Ink { peer, ink } => {
                let peer = peer.to_ascii_lowercase();
                let conversation = Conversation::Im(peer.clone());
                return cx.event(Event::Chat(ink_event(conversation, &peer, &peer, ink)));
            }
            P2pEvent::Failed {
                peer,
                sha1d,
                reason,
            } => {
                log::info!("object of {peer} not fetched: {reason:?}");
                (peer, sha1d, None)
            }
        };
        let email = email.to_ascii_lowercase();
        if self.p2p.sessions_with(&email) == 0 {
            send.done(cx, &email);
        }
        let fetching = &mut self.fetching;
        let Some(at) = fetching
            .iter()
            .position(|(e, s, _)| *e == email && *s == sha1d)
        else {
            return log::debug!("an object of {email} arrived that nobody waits for");
        };
        if fetching.remove(at).2 {
            return self.emoticon_fetched(cx, &email, &sha1d, data);
        }
        let current = matches!(
            self.announced.get(&email),
            Some(Some(object)) if object.sha1d == sha1d
        );
        let event = match data {
            Some(data) if current => PictureEvent::Received { email, sha1d, data },
            Some(_) => return log::debug!("a replaced display picture of {email} arrived"),
            None => PictureEvent::Failed { email, sha1d },
        };
        cx.event(Event::Picture(event));
    }
}

/// Sends a P2P packet as `MSG … D` on a switchboard with the peer (opened if needed); the
/// switchboards write its `P2P-Src`/`P2P-Dest` header as it goes out.
pub(super) fn p2p_send(cx: &mut Cx, transmit: Transmit, send: P2pSend) {
    send.send(cx, &transmit.peer, transmit.packet);
}

/// Our address in MSNSLP: MSNP16+ `address;{guid}` with our machine GUID.
fn own_address(cx: &Cx) -> String {
    let account = &cx.config.account;
    match cx.dialect.endpoints() {
        true => {
            let guid = cx
                .config
                .machine_guid
                .trim_matches(|c| c == '{' || c == '}');
            format!("{account};{{{guid}}}")
        }
        false => account.clone(),
    }
}
