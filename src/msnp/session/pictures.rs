//! Display pictures over P2P. Ours is advertised in `CHG` (MSNP9+) and served to whoever asks
//! for exactly that object; contacts' are announced in their presence and fetched when the user
//! interface asks, a bounded number at once, on the contact's switchboard (or one opened for
//! the purpose, which shows no conversation). Custom emoticons are fetched the same way, ahead
//! of pictures (see `emoticons`).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use rand_chacha::rand_core::RngCore;

use crate::p2p::msnobj::kind::DISPLAY_PICTURE;
use crate::p2p::{self, MsnObject, P2p, P2pEvent, Transmit};
use crate::session::{Event, Session};

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
    /// asks for it with [`Session::fetch_display_picture`] unless it has that one already.
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

/// Why [`Session::set_display_picture`] refused.
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

/// The display-picture state of a session.
#[derive(Debug)]
pub(super) struct Pictures {
    pub(super) p2p: P2p,
    /// Our picture: its object and data.
    own: Option<(MsnObject, Arc<[u8]>)>,
    /// The picture each contact announced last (`None`: none).
    announced: HashMap<String, Option<MsnObject>>,
    /// Fetches waiting for their turn, emoticons first.
    waiting: VecDeque<Fetch>,
    /// Objects being fetched: the contact, the `SHA1D`, and whether it is an emoticon.
    fetching: Vec<(String, String, bool)>,
}

impl Pictures {
    /// No pictures; P2P message ids drawn from `rng`.
    pub(super) fn new(account: &str, rng: &mut dyn FnMut() -> u32) -> Pictures {
        let mut config = p2p::Config::new(account);
        config.max_object = MAX_PICTURE.max(super::emoticons::MAX_EMOTICON) as u64;
        Pictures {
            p2p: P2p::new(config, rng),
            own: None,
            announced: HashMap::new(),
            waiting: VecDeque::new(),
            fetching: Vec::new(),
        }
    }

    /// When the P2P part wants [`Session::pictures_timeout`].
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.p2p.poll_timeout()
    }

    /// Our object as `CHG` carries it: its XML, or `0` for none.
    pub(super) fn own_object(&self) -> String {
        self.own
            .as_ref()
            .map_or_else(|| "0".to_owned(), |(object, _)| object.xml.clone())
    }
}

impl Session {
    /// Sets our display picture (`None` removes it): advertised in `CHG` from MSNP9 and served
    /// to any contact who asks for exactly this object.
    pub fn set_display_picture(&mut self, data: Option<&[u8]>) -> Result<(), PictureError> {
        let own = match data.filter(|d| !d.is_empty()) {
            Some(data) if data.len() > MAX_PICTURE => return Err(PictureError::TooLarge),
            Some(data) => {
                let object =
                    MsnObject::new(&self.config.account, DISPLAY_PICTURE, LOCATION, "", data);
                Some((object, Arc::from(data)))
            }
            None => None,
        };
        self.pictures.own = own;
        self.own_picture_changed();
        Ok(())
    }

    /// Fetches the picture `who` announced last; false when they announced none. The outcome
    /// is [`PictureEvent::Received`] or [`PictureEvent::Failed`].
    pub fn fetch_display_picture(&mut self, who: &str, now: Instant) -> bool {
        let email = who.trim().to_ascii_lowercase();
        let Some(Some(object)) = self.pictures.announced.get(&email) else {
            return false;
        };
        let pics = &self.pictures;
        let in_flight = pics
            .fetching
            .iter()
            .any(|(e, sha1d, _)| *e == email && *sha1d == object.sha1d);
        let pics = &mut self.pictures;
        let fetch = Fetch::Picture(email.clone());
        if !in_flight && !pics.waiting.contains(&fetch) {
            if pics.waiting.len() >= MAX_WAITING {
                log::warn!("too many display pictures waiting; {email}'s not fetched");
                return false;
            }
            pics.waiting.push_back(fetch);
        }
        self.pictures_run(now);
        true
    }

    /// The `MSNObject` argument of a contact's `ILN`/`NLN` (MSNP9+).
    pub(super) fn picture_announced(&mut self, email: &str, object: Option<&str>) {
        if !self.speaks().chg_msn_object() {
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
        let announced = &mut self.pictures.announced;
        if let Some(before) = announced.get(&email) {
            if before.as_ref().map(|o| &o.sha1d) == object.as_ref().map(|o| &o.sha1d) {
                return;
            }
        } else if announced.len() >= MAX_ANNOUNCED {
            return log::warn!("too many contacts: display picture of {email} ignored");
        }
        let sha1d = object.as_ref().map(|o| o.sha1d.clone());
        announced.insert(email.clone(), object);
        // A fetch of the previous picture would now set the wrong one.
        self.pictures
            .waiting
            .retain(|w| !matches!(w, Fetch::Picture(e) if *e == email));
        self.event(Event::Picture(PictureEvent::Announced { email, sha1d }));
    }

    /// A contact went offline: their fetches end, nothing is set.
    pub(super) fn picture_peer_gone(&mut self, email: &str, now: Instant) {
        let email = email.to_ascii_lowercase();
        let (gone, waiting) = std::mem::take(&mut self.pictures.waiting)
            .into_iter()
            .partition(|w| match w {
                Fetch::Picture(e) | Fetch::Emoticon(e, _) => *e == email,
            });
        self.pictures.waiting = waiting;
        for fetch in gone {
            if let Fetch::Emoticon(peer, object) = fetch {
                self.emoticon_fetched(&peer, &object.sha1d, None);
            }
        }
        self.pictures.p2p.peer_gone(&email);
        self.pictures_run(now);
    }

    /// A P2P packet `from` sent on a switchboard, addressed to `dest`.
    pub(super) fn p2p_received(
        &mut self,
        from: &str,
        dest: Option<&str>,
        body: &[u8],
        now: Instant,
    ) {
        let to_us = dest
            .is_some_and(|d| p2p::slp::bare_address(d).eq_ignore_ascii_case(&self.config.account));
        if !to_us {
            return log::debug!("P2P packet from {from} for someone else ignored");
        }
        let Pictures { p2p, own, .. } = &mut self.pictures;
        let emoticons = &self.emoticons;
        let store = |sha1d: &str| {
            own.as_ref()
                .filter(|(object, _)| object.sha1d == sha1d)
                .map(|(_, data)| Arc::clone(data))
                .or_else(|| emoticons.own(sha1d))
        };
        let rng = &mut self.rng;
        if let Err(e) = p2p.handle_packet(from, body, now, &store, &mut || rng.next_u32()) {
            log::debug!("P2P packet from {from} not used: {e}");
        }
        self.pictures_run(now);
    }

    /// P2P deadlines due at `now`.
    pub(super) fn pictures_timeout(&mut self, now: Instant) {
        if self.pictures.deadline().is_some_and(|d| d <= now) {
            let rng = &mut self.rng;
            self.pictures
                .p2p
                .handle_timeout(now, &mut || rng.next_u32());
        }
        self.pictures_run(now);
    }

    /// Starts waiting fetches while there is room, sends what the P2P part has to send and
    /// reports what it has to say, until nothing changes.
    fn pictures_run(&mut self, now: Instant) {
        loop {
            self.start_fetches(now);
            let mut busy = false;
            while let Some(transmit) = self.pictures.p2p.poll_transmit(now) {
                self.p2p_send(transmit, now);
                busy = true;
            }
            while let Some(event) = self.pictures.p2p.poll_event() {
                self.p2p_event(event);
                busy = true;
            }
            if !busy {
                return;
            }
        }
    }

    /// Queues a fetch of `peer`'s custom emoticon ahead of the pictures; false when the queue
    /// is full.
    pub(super) fn queue_emoticon_fetch(
        &mut self,
        peer: &str,
        object: MsnObject,
        now: Instant,
    ) -> bool {
        let waiting = &mut self.pictures.waiting;
        if waiting.len() >= MAX_WAITING {
            log::warn!("too many objects waiting to be fetched; an emoticon of {peer} not fetched");
            return false;
        }
        let at = waiting
            .iter()
            .position(|w| matches!(w, Fetch::Picture(_)))
            .unwrap_or(waiting.len());
        waiting.insert(at, Fetch::Emoticon(peer.to_owned(), object));
        self.pictures_run(now);
        true
    }

    fn start_fetches(&mut self, now: Instant) {
        while self.pictures.fetching.len() < MAX_FETCHES {
            let Some(fetch) = self.pictures.waiting.pop_front() else {
                return;
            };
            let (email, object, emoticon) = match &fetch {
                Fetch::Picture(email) => match self.pictures.announced.get(email) {
                    Some(Some(object)) => (email.clone(), object.clone(), false),
                    _ => continue,
                },
                Fetch::Emoticon(peer, object) => (peer.clone(), object.clone(), true),
            };
            let rng = &mut self.rng;
            let mut draw = || rng.next_u32();
            match self
                .pictures
                .p2p
                .request_object(&email, &object, now, &mut draw)
            {
                Ok(_) => self.pictures.fetching.push((email, object.sha1d, emoticon)),
                Err(p2p::RequestError::Busy) => {
                    self.pictures.waiting.push_front(fetch);
                    return;
                }
                Err(e) if emoticon => {
                    log::info!("custom emoticon of {email} not fetched: {e}");
                    self.emoticon_fetched(&email, &object.sha1d, None);
                }
                Err(e) => {
                    log::info!("display picture of {email} not fetched: {e}");
                    self.event(Event::Picture(PictureEvent::Failed {
                        email,
                        sha1d: object.sha1d,
                    }));
                }
            }
        }
    }

    fn p2p_event(&mut self, event: P2pEvent) {
        let (email, sha1d, data) = match event {
            P2pEvent::ObjectReceived {
                peer, sha1d, data, ..
            } => (peer, sha1d, Some(data)),
            P2pEvent::Declined { peer, sha1d } => (peer, sha1d, None),
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
        let fetching = &mut self.pictures.fetching;
        let Some(at) = fetching
            .iter()
            .position(|(e, s, _)| *e == email && *s == sha1d)
        else {
            return log::debug!("an object of {email} arrived that nobody waits for");
        };
        if fetching.remove(at).2 {
            return self.emoticon_fetched(&email, &sha1d, data);
        }
        let current = matches!(
            self.pictures.announced.get(&email),
            Some(Some(object)) if object.sha1d == sha1d
        );
        let event = match data {
            Some(data) if current => PictureEvent::Received { email, sha1d, data },
            Some(_) => return log::debug!("a replaced display picture of {email} arrived"),
            None => PictureEvent::Failed { email, sha1d },
        };
        self.event(Event::Picture(event));
    }

    /// Sends a P2P packet as `MSG … D` on a switchboard with the peer (opened if needed).
    fn p2p_send(&mut self, transmit: Transmit, now: Instant) {
        let src = self.speaks().endpoints().then(|| {
            let guid = self
                .config
                .machine_guid
                .trim_matches(|c| c == '{' || c == '}');
            format!("{};{{{guid}}}", self.config.account)
        });
        let Some(payload) = p2p::sb_payload(&transmit.peer, src.as_deref(), &transmit.packet)
        else {
            return log::warn!("P2P packet for {} too large to send", transmit.peer);
        };
        self.switchboards
            .send_p2p(&mut cx!(self), &transmit.peer, payload, now);
    }
}
