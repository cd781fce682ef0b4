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
pub use places::{parse_places, MAX_NAME_CHARS, MAX_PLACES};

use super::login::Login;
use super::{Event, HttpId, Session};
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
    fn soap_access(&self, login: &Login) -> Option<(Endpoints, Token)> {
        let ticket = login.tokens.as_ref()?.contacts.clone()?;
        Some((self.endpoints.clone()?, ticket))
    }
}

/// Whether `email` is an address the list can hold.
fn usable_address(email: &str) -> bool {
    is_email(email)
}

impl Session {
    fn event_contact(&mut self, event: ContactEvent) {
        self.event(Event::Contact(event));
    }

    /// `USR OK` arrived: fetch the list and go online.
    pub(super) fn contacts_signed_in(&mut self, now: Instant) {
        self.init_own_presence();
        if !self.speaks().soap_contacts() {
            self.start_ns_sync(now);
            self.go_online();
            return;
        }
        let services = self.config.services_url.as_deref();
        match Endpoints::new(&self.config.sso_url, services) {
            Ok(endpoints) => self.contacts.endpoints = Some(endpoints),
            Err(e) => log::warn!("no address-book service URL: {e}"),
        }
        self.contacts.sync = Sync::Soap;
        self.start_soap_fetch(false, now);
    }

    /// Shows a freshly received list and the requests waiting in it.
    fn install_roster(&mut self, roster: Roster) {
        self.contacts.roster = roster;
        let roster = &self.contacts.roster;
        let event = ContactEvent::ListSynced {
            groups: roster.group_names(),
            buddies: roster.buddies(),
            allowed: roster.with_list(ListSet::ALLOW),
            blocked: roster.with_list(ListSet::BLOCK),
        };
        self.event_contact(event);
        self.ask_every_pending();
    }

    /// Shows an authorisation request for every contact awaiting one not asked yet.
    fn ask_every_pending(&mut self) {
        let pending: Vec<String> = self
            .contacts
            .roster
            .contacts()
            .filter(|c| c.awaits_answer())
            .map(|c| c.email.clone())
            .collect();
        for email in pending {
            self.ask_if_pending(&email);
        }
    }

    /// Shows an authorisation request for `email` if it awaits one and was not asked yet.
    fn ask_if_pending(&mut self, email: &str) {
        let Some(contact) = self.contacts.roster.get(email) else {
            return;
        };
        if !contact.awaits_answer() || !self.contacts.asked.insert(email.to_ascii_lowercase()) {
            return;
        }
        let event = ContactEvent::AuthRequest {
            email: contact.email.clone(),
            friendly: contact.name.clone(),
            message: contact.invite.clone(),
            on_list: contact.on(ListSet::FORWARD),
        };
        self.event_contact(event);
    }

    /// A notification-server command after sign-in; returns it when it is not a list or
    /// presence command.
    pub(super) fn contacts_command(
        &mut self,
        command: NsCommand,
        now: Instant,
    ) -> Option<NsCommand> {
        if reply_trid(&command).is_some_and(|t| Some(t) == self.contacts.ops.waiting_trid()) {
            self.op_answer(ops::Answer::Ns(&command), now);
            return None;
        }
        match command {
            NsCommand::Syn(syn) => self.on_syn(syn, now),
            NsCommand::Lsg(lsg) => self.on_lsg(lsg, now),
            NsCommand::Lst(lst) => self.on_lst(lst, now),
            NsCommand::Bpr(_) | NsCommand::Gtc(_) => {}
            NsCommand::Blp(blp) => self.on_blp(blp),
            NsCommand::Prp(prp) => self.on_prp(prp),
            NsCommand::Adc(adc) if adc.trid == 0 => self.on_adc_push(adc),
            NsCommand::Add(add) if add.trid == 0 => self.on_add_push(add),
            NsCommand::Rem(rem) if rem.trid == 0 => self.on_rem_push(rem),
            NsCommand::Adl(update) if update.trid == 0 => self.on_ml_push(update, true, now),
            NsCommand::Rml(update) if update.trid == 0 => self.on_ml_push(update, false, now),
            NsCommand::Adl(_) | NsCommand::Rml(_) => {}
            NsCommand::Fqy(fqy) => self.on_fqy(fqy),
            NsCommand::Not(_) => self.on_not(now),
            NsCommand::Chg(chg) => self.own_status_confirmed(chg.status),
            NsCommand::Uux(_) => {}
            NsCommand::Iln(iln) => self.on_presence(iln.presence),
            NsCommand::Nln(presence) => self.on_presence(presence),
            NsCommand::Fln(fln) => self.on_offline(fln, now),
            NsCommand::Ubx(ubx) => self.on_ubx(ubx),
            other => return Some(other),
        }
        None
    }

    /// An HTTP response; given back when it is not for a contact-list request.
    pub(super) fn contacts_http(
        &mut self,
        id: HttpId,
        raw: Vec<u8>,
        now: Instant,
    ) -> Option<Vec<u8>> {
        if self.contacts.ops.waits_for_http(id) {
            self.op_http(&raw, now);
        } else if self.fetch_waits_for(id) {
            self.fetch_http(raw, now);
        } else {
            return Some(raw);
        }
        None
    }

    /// An HTTP failure; false when it is not for a contact-list request.
    pub(super) fn contacts_http_failed(&mut self, id: HttpId, text: &str, now: Instant) -> bool {
        if self.contacts.ops.waits_for_http(id) {
            self.op_answer(ops::Answer::Http(Err(text.to_owned())), now);
        } else if self.fetch_waits_for(id) {
            self.fetch_http_failed(text, now);
        } else {
            return false;
        }
        true
    }

    /// The earliest contact-list deadline.
    pub(super) fn contacts_deadline(&self) -> Option<Instant> {
        let dump = match &self.contacts.sync {
            Sync::Ns(dump) => Some(dump.deadline()),
            _ => None,
        };
        let resume = self.contacts.fetch.as_ref().and_then(|f| f.resume_at);
        [
            dump,
            resume,
            self.contacts.ops.deadline(),
            self.contacts.refresh_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Contact-list deadlines due at `now`.
    pub(super) fn contacts_timeout(&mut self, now: Instant) {
        self.ns_sync_timeout(now);
        if self
            .contacts
            .fetch
            .as_ref()
            .and_then(|f| f.resume_at)
            .is_some_and(|at| now >= at)
        {
            self.fetch_resume(now);
        }
        self.ops_timeout(now);
        if self.contacts.refresh_at.is_some_and(|at| now >= at) && self.contacts.fetch.is_none() {
            self.contacts.refresh_at = None;
            self.start_soap_fetch(true, now);
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
