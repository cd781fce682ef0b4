//! Contact list, presence and profile: the server's list kept in the session, both ways.
//!
//! MSNP8-12 keep the list on the notification server ([`ns_list`]: `SYN`, `ADC`, `REM`, ...);
//! MSNP13+ keep it in the sharing and address-book SOAP services and tell the NS with
//! `ADL`/`RML` ([`soap_list`]). Either way the session keeps a [`roster`] of the server's
//! lists, runs the user's changes as [`ops`], follows [`presence`] and reports
//! [`ContactEvent`]s.

mod commands;
mod events;
mod ns_list;
mod ops;
mod places;
mod presence;
mod psm;
mod roster;
mod soap_list;
mod soap_merge;

use std::collections::HashSet;
use std::time::Instant;

pub use commands::MAX_GROUP_NAME_CHARS;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_soap;

pub use events::{Buddy, ContactEvent, Media, Place, Presence};
pub use places::{parse_places, PlaceError, MAX_NAME_CHARS, MAX_PLACES};

use super::cx::Cx;
use super::{Event, HttpId};
use crate::auth::rst::Token;
use crate::soap::envelope::{is_email, Endpoints};
use crate::wire::{ListSet, NsCommand, PrivacyMode};
use roster::Roster;

/// The group shown for contacts in no server group (MSNP8/9's group 0 has this name).
pub const DEFAULT_GROUP: &str = "Other Contacts";
/// Network id of a Passport (MSN) contact.
pub const NETWORK_PASSPORT: u32 = 1;
/// Network id of a telephone (mobile) contact.
pub const NETWORK_PHONE: u32 = 4;
/// Network id of a Yahoo! contact.
pub const NETWORK_YAHOO: u32 = 32;
/// Capability bit of a client on a mobile device.
pub const CAPS_MOBILE: u32 = 0x1;

/// Where receiving the server's list stands.
#[derive(Default)]
enum Sync {
    /// Not signed in yet.
    #[default]
    NotStarted,
    /// MSNP8-12: `SYN` sent, the dump arriving.
    Ns(ns_list::Dump),
    /// MSNP13+: the SOAP fetch running.
    Soap,
    /// The list is known (or could not be fetched): changes may run.
    Done,
}

/// The contact-list state of a session.
#[derive(Default)]
pub struct Contacts {
    roster: Roster,
    sync: Sync,
    /// MSNP13+ fetch of the lists (at sign-in or a refresh).
    fetch: Option<soap_list::Fetch>,
    /// When to fetch the lists again (after `NOT` or `ADL 0`).
    refresh_at: Option<Instant>,
    ops: ops::Ops,
    watch: presence::Watch,
    own: presence::Own,
    /// MSNP16+: the account's other signed-in places, as the server last listed them.
    places: Vec<Place>,
    own_name: Option<String>,
    /// The server's `BLP`, as last heard or sent.
    privacy: Option<PrivacyMode>,
    /// Lower-cased addresses whose authorisation request was shown this session.
    asked: HashSet<String>,
    /// MSNP13+ service URLs.
    endpoints: Option<Endpoints>,
}

impl Contacts {
    /// Whether the server's list is known, so changes can run.
    fn list_known(&self) -> bool {
        matches!(self.sync, Sync::Done)
    }

    /// The service URLs and the address-book ticket (MSNP13+).
    fn soap_access(&self, cx: &Cx) -> Option<(Endpoints, Token)> {
        let ticket = cx.tickets.contacts?.clone();
        Some((self.endpoints.clone()?, ticket))
    }
}

/// Queues a contact-list event for the user interface.
fn contact_event(cx: &mut Cx, event: ContactEvent) {
    cx.event(Event::Contact(event));
}

/// Whether `email` is an address the list can hold.
fn usable_address(email: &str) -> bool {
    is_email(email)
}

impl Contacts {
    /// `USR OK` arrived: fetch the list and go online.
    pub(in crate::session) fn signed_in(&mut self, cx: &mut Cx, now: Instant) {
        self.init_own_presence(cx);
        if !cx.dialect.soap_contacts() {
            self.start_ns_sync(cx, now);
            self.go_online(cx);
            return;
        }
        let services = cx.config.services_url.as_deref();
        match Endpoints::new(&cx.config.sso_url, services) {
            Ok(endpoints) => self.endpoints = Some(endpoints),
            Err(e) => log::warn!("no address-book service URL: {e}"),
        }
        self.sync = Sync::Soap;
        self.start_soap_fetch(cx, false, now);
    }

    /// Shows a freshly received list and the requests waiting in it.
    fn install_roster(&mut self, cx: &mut Cx, roster: Roster) {
        self.roster = roster;
        let roster = &self.roster;
        let event = ContactEvent::ListSynced {
            groups: roster.group_names(),
            buddies: roster.buddies(),
            allowed: roster.with_list(ListSet::ALLOW),
            blocked: roster.with_list(ListSet::BLOCK),
        };
        contact_event(cx, event);
        self.ask_every_pending(cx);
    }

    /// Shows an authorisation request for every contact awaiting one not asked yet.
    fn ask_every_pending(&mut self, cx: &mut Cx) {
        let pending: Vec<String> = self
            .roster
            .contacts()
            .filter(|c| c.awaits_answer())
            .map(|c| c.email.clone())
            .collect();
        for email in pending {
            self.ask_if_pending(cx, &email);
        }
    }

    /// Shows an authorisation request for `email` if it awaits one and was not asked yet.
    fn ask_if_pending(&mut self, cx: &mut Cx, email: &str) {
        let Some(contact) = self.roster.get(email) else {
            return;
        };
        if !contact.awaits_answer() || !self.asked.insert(email.to_ascii_lowercase()) {
            return;
        }
        let event = ContactEvent::AuthRequest {
            email: contact.email.clone(),
            friendly: contact.name.clone(),
            message: contact.invite.clone(),
            on_list: contact.on(ListSet::FORWARD),
        };
        contact_event(cx, event);
    }

    /// A notification-server command after sign-in; returns it when it is not a list or
    /// presence command.
    pub(in crate::session) fn handle_ns_command(
        &mut self,
        cx: &mut Cx,
        command: NsCommand,
        now: Instant,
    ) -> Option<NsCommand> {
        if reply_trid(&command).is_some_and(|t| Some(t) == self.ops.waiting_trid()) {
            self.op_answer(cx, ops::Answer::Ns(&command), now);
            return None;
        }
        match command {
            NsCommand::Syn(syn) => self.on_syn(cx, syn, now),
            NsCommand::Lsg(lsg) => self.on_lsg(cx, lsg, now),
            NsCommand::Lst(lst) => self.on_lst(cx, lst, now),
            NsCommand::Bpr(_) | NsCommand::Gtc(_) => {}
            NsCommand::Blp(blp) => self.on_blp(cx, blp),
            NsCommand::Prp(prp) => self.on_prp(cx, prp),
            NsCommand::Adc(adc) if adc.trid == 0 => self.on_adc_push(cx, adc),
            NsCommand::Add(add) if add.trid == 0 => self.on_add_push(cx, add),
            NsCommand::Rem(rem) if rem.trid == 0 => self.on_rem_push(cx, rem),
            NsCommand::Adl(update) if update.trid == 0 => self.on_ml_push(cx, update, true, now),
            NsCommand::Rml(update) if update.trid == 0 => self.on_ml_push(cx, update, false, now),
            NsCommand::Adl(_) | NsCommand::Rml(_) => {}
            NsCommand::Fqy(fqy) => self.on_fqy(cx, fqy),
            NsCommand::Not(_) => self.on_not(cx, now),
            NsCommand::Chg(chg) => self.own_status_confirmed(chg.status),
            NsCommand::Uux(_) => {}
            NsCommand::Iln(iln) => self.on_presence(cx, iln.presence),
            NsCommand::Nln(presence) => self.on_presence(cx, presence),
            NsCommand::Fln(fln) => self.on_offline(cx, fln),
            NsCommand::Ubx(ubx) => self.on_ubx(cx, ubx),
            other => return Some(other),
        }
        None
    }

    /// An HTTP response; given back when it is not for a contact-list request.
    pub(in crate::session) fn handle_http(
        &mut self,
        cx: &mut Cx,
        id: HttpId,
        raw: Vec<u8>,
        now: Instant,
    ) -> Option<Vec<u8>> {
        if self.ops.waits_for_http(id) {
            self.op_http(cx, &raw, now);
        } else if self.fetch_waits_for(id) {
            self.fetch_http(cx, raw, now);
        } else {
            return Some(raw);
        }
        None
    }

    /// An HTTP failure; false when it is not for a contact-list request.
    pub(in crate::session) fn handle_http_failed(
        &mut self,
        cx: &mut Cx,
        id: HttpId,
        text: &str,
        now: Instant,
    ) -> bool {
        if self.ops.waits_for_http(id) {
            self.op_answer(
                cx,
                ops::Answer::Http(Err(ops::StepError::Http(text.to_owned()))),
                now,
            );
        } else if self.fetch_waits_for(id) {
            self.fetch_http_failed(cx, text, now);
        } else {
            return false;
        }
        true
    }

    /// The earliest contact-list deadline.
    pub(in crate::session) fn deadline(&self) -> Option<Instant> {
        let dump = match &self.sync {
            Sync::Ns(dump) => Some(dump.deadline()),
            _ => None,
        };
        let resume = self.fetch.as_ref().and_then(|f| f.resume_at);
        [dump, resume, self.ops.deadline(), self.refresh_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Contact-list deadlines due at `now`.
    pub(in crate::session) fn handle_timeout(&mut self, cx: &mut Cx, now: Instant) {
        self.ns_sync_timeout(cx, now);
        if self
            .fetch
            .as_ref()
            .and_then(|f| f.resume_at)
            .is_some_and(|at| now >= at)
        {
            self.fetch_resume(cx, now);
        }
        self.ops_timeout(cx, now);
        if self.refresh_at.is_some_and(|at| now >= at) && self.fetch.is_none() {
            self.refresh_at = None;
            self.start_soap_fetch(cx, true, now);
        }
    }
}

/// The TrID a command answers, if it is a reply to one of ours (pushes carry 0).
fn reply_trid(command: &NsCommand) -> Option<u32> {
    let trid = match command {
        NsCommand::Adc(c) => c.trid,
        NsCommand::Add(c) => c.trid,
        NsCommand::Rem(c) => c.trid,
        NsCommand::Adg(c) => c.trid,
        NsCommand::Rmg(c) => c.trid,
        NsCommand::Reg(c) => c.trid,
        NsCommand::Adl(c) | NsCommand::Rml(c) => c.trid,
        NsCommand::Prp(c) => c.trid?,
        NsCommand::Error(e) => e.trid?,
        NsCommand::Raw(raw) if raw.verb == "SBP" || raw.verb == "REA" => {
            raw.args.first()?.parse().ok()?
        }
        _ => return None,
    };
    (trid != 0).then_some(trid)
}
