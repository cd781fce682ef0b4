//! Custom emoticons (docs/protocol.md §7.6, §8). A contact declares theirs just before the text
//! that uses them; the user interface adds each to the conversation before the text is shown
//! (the text is never held back) and asks for the images it lacks, which are fetched over P2P
//! by the display-picture machinery (same queue and bounds, data checked against `SHA1D`).
//! Ours are declared before the text that uses them and served to whoever asks for exactly
//! that object.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use crate::message::emoticons::{self as list, EmoticonList, EmoticonListError};
use crate::p2p::msnobj::kind::EMOTICON;
use crate::p2p::MsnObject;
use crate::session::cx::Cx;
use crate::session::pictures::{P2pSend, Pictures};
use crate::session::switchboard::Conversation;
use crate::session::Event;

/// Largest custom emoticon served or fetched.
pub const MAX_EMOTICON: usize = 256 * 1024;
/// Most emoticon objects declared by contacts that are remembered for a fetch.
const MAX_DECLARED: usize = 256;
/// Most conversation smileys waiting for their image.
const MAX_REQUESTS: usize = 256;
/// Most fetched images kept, and their total size, so a repeated emoticon is not fetched again.
const MAX_CACHED: usize = 64;
const MAX_CACHED_BYTES: usize = 4 * 1024 * 1024;
/// Most of our own emoticons served.
const MAX_OWN: usize = 64;
/// Most distinct shortcuts a conversation is given (the front end keeps each one), and the
/// conversations whose shortcuts are counted.
const MAX_SHORTCUTS: usize = 128;
const MAX_COUNTED: usize = 64;
/// The `Location` of our objects, as for display pictures.
const LOCATION: &str = "TFR2C2.tmp";

/// One emoticon a contact declared: its shortcut and its object's `SHA1D`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The shortcut in the text.
    pub shortcut: String,
    /// The object's `SHA1D` (base64), the checksum libpurple is given.
    pub sha1d: String,
}

/// What the user interface hears about custom emoticons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmoticonEvent {
    /// A contact declared custom emoticons for the text that follows (which comes as its own
    /// event, at once). Add each to the conversation before showing that text, and ask for
    /// the image with [`Session::fetch_emoticon`](crate::session::Session::fetch_emoticon) when the conversation wants it.
    Declared {
        /// Where the text will be shown.
        conversation: Conversation,
        /// The contact, lower-case.
        from: String,
        /// The usable emoticons, in order.
        emoticons: Vec<Declared>,
    },
    /// The image of an emoticon asked for; its data matches its `SHA1D`.
    Received {
        /// The conversation it was asked for.
        conversation: Conversation,
        /// Its shortcut there.
        shortcut: String,
        /// The image.
        data: Arc<[u8]>,
    },
    /// No image will come for an emoticon asked for (declined, timed out, bad data, gone).
    Failed {
        /// The conversation it was asked for.
        conversation: Conversation,
        /// Its shortcut there.
        shortcut: String,
    },
}

/// A conversation's smiley waiting for its image.
#[derive(Debug)]
pub(super) struct Request {
    /// Who declared it, lower-case.
    pub(super) peer: String,
    /// Its object's `SHA1D`.
    pub(super) sha1d: String,
    /// Where it is shown.
    pub(super) conversation: Conversation,
    /// Its shortcut there.
    pub(super) shortcut: String,
}

/// The custom-emoticon state of a session.
#[derive(Debug, Default)]
pub(super) struct Emoticons {
    /// Objects contacts declared lately, oldest first: the contact and the object.
    declared: VecDeque<(String, MsnObject)>,
    /// Smileys waiting for their image.
    requests: Vec<Request>,
    /// Images fetched lately, by `SHA1D`, oldest first.
    cache: VecDeque<(String, Arc<[u8]>)>,
    /// Ours, oldest first.
    own: VecDeque<(MsnObject, Arc<[u8]>)>,
    /// The shortcuts given to each conversation lately, oldest conversation first.
    given: VecDeque<(Conversation, Vec<String>)>,
}

impl Emoticons {
    /// The data of our emoticon with this `SHA1D`, if we declared one.
    pub(super) fn own(&self, sha1d: &str) -> Option<Arc<[u8]>> {
        self.own
            .iter()
            .find(|(object, _)| object.sha1d == sha1d)
            .map(|(_, data)| Arc::clone(data))
    }

    fn cached(&self, sha1d: &str) -> Option<Arc<[u8]>> {
        self.cache
            .iter()
            .find(|(s, _)| s == sha1d)
            .map(|(_, data)| Arc::clone(data))
    }

    /// Whether `shortcut` may be given to `conversation`: known there already, or within
    /// [`MAX_SHORTCUTS`] (it is counted then).
    fn give(&mut self, conversation: &Conversation, shortcut: &str) -> bool {
        let at = match self.given.iter().position(|(c, _)| c == conversation) {
            Some(at) => at,
            None => {
                if self.given.len() == MAX_COUNTED {
                    self.given.pop_front();
                }
                self.given.push_back((conversation.clone(), Vec::new()));
                self.given.len() - 1
            }
        };
        let shortcuts = &mut self.given[at].1;
        if shortcuts.iter().any(|s| s == shortcut) {
            return true;
        }
        if shortcuts.len() >= MAX_SHORTCUTS {
            return false;
        }
        shortcuts.push(shortcut.to_owned());
        true
    }

    fn remember(&mut self, sha1d: String, data: Arc<[u8]>) {
        if self.cached(&sha1d).is_some() {
            return;
        }
        self.cache.push_back((sha1d, data));
        while self.cache.len() > MAX_CACHED
            || self.cache.iter().map(|(_, d)| d.len()).sum::<usize>() > MAX_CACHED_BYTES
        {
            self.cache.pop_front();
        }
    }
}

/// The custom emoticons are part of the P2P layer, whose fetch queue they share.
impl Pictures {
    /// A contact's `text/x-mms-emoticon` (or animated) declaration in `conversation`.
    pub(super) fn emoticons_declared(
        &mut self,
        cx: &mut Cx,
        conversation: Conversation,
        from: &str,
        declared: Result<EmoticonList, EmoticonListError>,
    ) {
        let declared = match declared {
            Ok(declared) => declared,
            Err(e) => return log::info!("custom emoticons from {from} ignored: {e}"),
        };
        if declared.refused > 0 {
            log::info!(
                "{} custom emoticon(s) from {from} refused (malformed, duplicate or too many)",
                declared.refused
            );
        }
        let mut emoticons = Vec::new();
        for e in declared.emoticons {
            if !e.object.creator.eq_ignore_ascii_case(from) {
                log::info!(
                    "custom emoticon {:?} of {from} names another creator",
                    e.shortcut
                );
                continue;
            }
            if e.object.size > MAX_EMOTICON as u64 {
                log::info!("custom emoticon {:?} of {from} is too large", e.shortcut);
                continue;
            }
            if !self.emoticons.give(&conversation, &e.shortcut) {
                log::info!(
                    "too many custom emoticons in one conversation; {:?} of {from} ignored",
                    e.shortcut
                );
                continue;
            }
            emoticons.push(Declared {
                shortcut: e.shortcut,
                sha1d: e.object.sha1d.clone(),
            });
            let known = &mut self.emoticons.declared;
            known.retain(|(peer, o)| !(peer == from && o.sha1d == e.object.sha1d));
            known.push_back((from.to_owned(), e.object));
            if known.len() > MAX_DECLARED {
                known.pop_front();
            }
        }
        if !emoticons.is_empty() {
            cx.event(Event::Emoticon(EmoticonEvent::Declared {
                conversation,
                from: from.to_owned(),
                emoticons,
            }));
        }
    }

    /// Asks for the image of a declared emoticon. Exactly one [`EmoticonEvent::Received`] or
    /// [`EmoticonEvent::Failed`] answers; an image fetched before comes at once.
    pub(super) fn fetch_emoticon(
        &mut self,
        cx: &mut Cx,
        request: Request,
        now: Instant,
        send: P2pSend,
    ) {
        let Request {
            peer: from,
            sha1d,
            conversation,
            shortcut,
        } = &request;
        let (from, sha1d) = (from.as_str(), sha1d.as_str());
        let failed = EmoticonEvent::Failed {
            conversation: conversation.clone(),
            shortcut: shortcut.to_owned(),
        };
        if let Some(data) = self.emoticons.cached(sha1d) {
            return cx.event(Event::Emoticon(EmoticonEvent::Received {
                conversation: conversation.clone(),
                shortcut: shortcut.to_owned(),
                data,
            }));
        }
        let object = self
            .emoticons
            .declared
            .iter()
            .find(|(peer, o)| *peer == from && o.sha1d == sha1d)
            .map(|(_, o)| o.clone());
        let Some(object) = object else {
            log::info!("custom emoticon {shortcut:?} of {from} was not declared");
            return cx.event(Event::Emoticon(failed));
        };
        if self.emoticons.requests.len() >= MAX_REQUESTS {
            log::warn!("too many custom emoticons waiting; {shortcut:?} of {from} not fetched");
            return cx.event(Event::Emoticon(failed));
        }
        let asked = self
            .emoticons
            .requests
            .iter()
            .any(|r| r.peer == from && r.sha1d == sha1d);
        let (from, sha1d) = (from.to_owned(), sha1d.to_owned());
        self.emoticons.requests.push(request);
        if !asked && !self.queue_emoticon_fetch(cx, &from, object, now, send) {
            self.emoticon_fetched(cx, &from, &sha1d, None);
        }
    }

    /// A fetch of `peer`'s emoticon ended, with its verified data or without.
    pub(super) fn emoticon_fetched(
        &mut self,
        cx: &mut Cx,
        peer: &str,
        sha1d: &str,
        data: Option<Vec<u8>>,
    ) {
        let data: Option<Arc<[u8]>> = data.map(Arc::from);
        if let Some(data) = &data {
            self.emoticons.remember(sha1d.to_owned(), Arc::clone(data));
        }
        let (done, waiting) = std::mem::take(&mut self.emoticons.requests)
            .into_iter()
            .partition(|r| r.peer.eq_ignore_ascii_case(peer) && r.sha1d == sha1d);
        self.emoticons.requests = waiting;
        for r in done {
            let event = match &data {
                Some(data) => EmoticonEvent::Received {
                    conversation: r.conversation,
                    shortcut: r.shortcut,
                    data: Arc::clone(data),
                },
                None => EmoticonEvent::Failed {
                    conversation: r.conversation,
                    shortcut: r.shortcut,
                },
            };
            cx.event(Event::Emoticon(event));
        }
    }

    /// The session ends: every smiley still waiting gets its answer.
    pub(super) fn emoticons_abandon(&mut self, cx: &mut Cx) {
        for r in std::mem::take(&mut self.emoticons.requests) {
            cx.event(Event::Emoticon(EmoticonEvent::Failed {
                conversation: r.conversation,
                shortcut: r.shortcut,
            }));
        }
    }

    /// Our emoticons (shortcut and image) as objects we serve from now on; those too large or
    /// with an unusable shortcut are left out.
    pub(super) fn own_emoticons(
        &mut self,
        cx: &Cx,
        emoticons: &[(&str, &[u8])],
    ) -> Vec<(String, MsnObject)> {
        let mut out = Vec::new();
        for &(shortcut, data) in emoticons {
            if !list::is_valid_shortcut(shortcut) || data.is_empty() || data.len() > MAX_EMOTICON {
                log::info!(
                    "custom emoticon {shortcut:?} not sent (no shortcut, empty or too large)"
                );
                continue;
            }
            let object = MsnObject::new(&cx.config.account, EMOTICON, LOCATION, "", data);
            let own = &mut self.emoticons.own;
            own.retain(|(o, _)| o.sha1d != object.sha1d);
            own.push_back((object.clone(), Arc::from(data)));
            if own.len() > MAX_OWN {
                own.pop_front();
            }
            out.push((shortcut.to_owned(), object));
        }
        out
    }
}
