//! MSNP13+: the list in the sharing and address-book SOAP services. The sign-in fetch
//! (`FindMembership`, then `ABFindAll` or `ABFindContactsPaged`) parsed a slice at a time, the
//! initial `ADL`, `FQY` for contacts of unknown network, refreshes on `NOT`, and the server's
//! `ADL 0`/`RML 0` pushes (docs/protocol.md §5.2, §5.3).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::events::ContactEvent;
use super::roster::{clean_name, Contact, Roster};
use super::soap_merge::{Merge, Summary};
use super::Sync;
use super::{contact_event, Contacts};
use crate::http::HttpResponse;
use crate::listxml;
use crate::session::cx::Cx;
use crate::session::{HttpId, Output};
use crate::soap::abook::{self, AbParser};
use crate::soap::membership::{self, MembershipParser, Memberships};
use crate::soap::{with_status, Scenario, SoapError, STEP_BUDGET};
use crate::wire::{ClientCommand, Fqy, ListSet, ListUpdate};

/// What one step may do is [`STEP_BUDGET`] units, one unit being one XML event of the answers'
/// parse; the other work of a fetch is counted in the same units, from per-item costs measured
/// in a release build on the bench machine (BENCH.md, 5,000 contacts): an XML event ~50 ns
/// (`cargo bench -p msnp --bench core`: 0.8 M events of a 5,000-contact list in ~42 ms), so a
/// step is ~0.5 ms (~1 ms on a machine half as fast); taking an answer out of the HTTP
/// response ~0.05 ns per byte (moved in place; a chunked one is copied, ~0.5 ns); merging one contact or member into the roster ~0.4 µs; showing
/// one buddy (the list event and the glue's queue built from it) ~0.5 µs, done in one piece;
/// announcing one contact in the initial `ADL` (its part of a payload, built and sent) ~0.5 µs.
const BYTES_PER_EVENT: usize = 1_000;
const MERGE_COST: usize = 8;
const SHOW_COST: usize = 9;
const ANNOUNCE_COST: usize = 9;

/// How long after a `NOT` or `ADL 0` push the lists are fetched again (pushes come in bursts).
const REFRESH_DELAY: Duration = Duration::from_secs(1);

/// A fetch of both lists in progress.
pub(super) struct Fetch {
    /// A refresh after sign-in (changes are reported one by one) rather than the sign-in fetch.
    refresh: bool,
    stage: Stage,
    /// When to go on parsing: the time the answer arrived, so at once.
    pub(super) resume_at: Option<Instant>,
}

enum Stage {
    Membership(HttpId),
    ParsingMembership(u16, Box<MembershipParser>),
    AddressBook(HttpId, Memberships),
    ParsingBook(u16, Box<AbParser>, Memberships),
    /// Both answers read: merging them.
    Merging(Merge),
    /// Merged: to be shown (and, at sign-in, announced).
    Merged(Box<(Roster, Summary)>),
    /// Sign-in: the list is shown; the initial `ADL` goes out a slice at a time.
    Announcing(Announce),
}

/// The initial `ADL` being sent.
#[derive(Default)]
struct Announce {
    /// The roster key of the last contact announced.
    after: Option<String>,
    /// Contacts of unknown network, asked about with `FQY` at the end.
    unknown: Vec<String>,
    /// Whether an `ADL` went out (else an empty one is sent).
    sent_any: bool,
}

impl Contacts {
    /// Starts fetching the lists: at sign-in, or later to refresh them.
    pub(super) fn start_soap_fetch(&mut self, cx: &mut Cx, refresh: bool, now: Instant) {
        if self.fetch.is_some() {
            return;
        }
        let Some((endpoints, ticket)) = self.soap_access(cx) else {
            return self.fetch_failed(cx, refresh, "no address-book ticket or service URL", now);
        };
        let scenario = match refresh {
            true => Scenario::Timer,
            false => Scenario::Initial,
        };
        let request = membership::find_membership_request(&endpoints, &ticket, scenario);
        let id = cx.http_id();
        cx.output(Output::Http { id, request });
        self.fetch = Some(Fetch {
            refresh,
            stage: Stage::Membership(id),
            resume_at: None,
        });
    }

    /// Whether HTTP request `id` belongs to the fetch.
    pub(super) fn fetch_waits_for(&self, id: HttpId) -> bool {
        matches!(&self.fetch, Some(Fetch { stage: Stage::Membership(h) | Stage::AddressBook(h, _), .. }) if *h == id)
    }

    /// An answer of the fetch arrived: start parsing it.
    pub(super) fn fetch_http(&mut self, cx: &mut Cx, raw: Vec<u8>, now: Instant) {
        let Some(mut fetch) = self.fetch.take() else {
            return;
        };
        // What is left of this step after taking the answer out of `raw`.
        let taking = raw.len() / BYTES_PER_EVENT;
        let response = match HttpResponse::parse_owned(raw) {
            Ok(response) => response,
            Err(e) => return self.fetch_failed(cx, fetch.refresh, &e.to_string(), now),
        };
        let status = response.status;
        let stage = match fetch.stage {
            Stage::Membership(_) => MembershipParser::new(response.body)
                .map(|parser| Stage::ParsingMembership(status, Box::new(parser))),
            Stage::AddressBook(_, members) => AbParser::new(response.body)
                .map(|parser| Stage::ParsingBook(status, Box::new(parser), members)),
            other => Ok(other),
        };
        match with_status(status, stage) {
            Ok(stage) => {
                fetch.stage = stage;
                fetch.resume_at = Some(now);
                self.fetch = Some(fetch);
                self.fetch_run(cx, STEP_BUDGET.saturating_sub(taking), now);
            }
            Err(e) => self.fetch_failed(cx, fetch.refresh, &describe(&e), now),
        }
    }

    /// An HTTP request of the fetch failed.
    pub(super) fn fetch_http_failed(&mut self, cx: &mut Cx, text: &str, now: Instant) {
        if let Some(fetch) = self.fetch.take() {
            self.fetch_failed(cx, fetch.refresh, text, now);
        }
    }

    /// Goes on with the fetch for one step's budget: parsing the answer being read, merging
    /// the two answers, showing the list and (at sign-in) sending the initial `ADL`. A small
    /// list is done in one step; a big one continues at once in the next (`resume_at`).
    pub(super) fn fetch_resume(&mut self, cx: &mut Cx, now: Instant) {
        self.fetch_run(cx, STEP_BUDGET, now);
    }

    /// [`Contacts::fetch_resume`] with `budget` units of [`STEP_BUDGET`].
    fn fetch_run(&mut self, cx: &mut Cx, mut budget: usize, now: Instant) {
        while let Some(mut fetch) = self.fetch.take() {
            fetch.resume_at = Some(now);
            if budget == 0 {
                self.fetch = Some(fetch);
                return;
            }
            match fetch.stage {
                Stage::ParsingMembership(status, mut parser) => {
                    let before = parser.events_read();
                    let parsed = with_status(status, parser.step(budget));
                    budget = budget.saturating_sub(parser.events_read() - before);
                    match parsed {
                        Ok(None) => {
                            fetch.stage = Stage::ParsingMembership(status, parser);
                            self.fetch = Some(fetch);
                        }
                        Ok(Some(members)) => self.fetch_book(cx, fetch.refresh, members, now),
                        Err(e) => self.fetch_failed(cx, fetch.refresh, &describe(&e), now),
                    }
                }
                Stage::ParsingBook(status, mut parser, members) => {
                    let before = parser.events_read();
                    let parsed = with_status(status, parser.step(budget));
                    budget = budget.saturating_sub(parser.events_read() - before);
                    match parsed {
                        Ok(None) => fetch.stage = Stage::ParsingBook(status, parser, members),
                        Ok(Some(book)) => fetch.stage = Stage::Merging(Merge::new(members, book)),
                        Err(e) => return self.fetch_failed(cx, fetch.refresh, &describe(&e), now),
                    }
                    self.fetch = Some(fetch);
                }
                Stage::Merging(mut merge) => {
                    let slice = (budget / MERGE_COST).max(1);
                    let merged = merge.step(slice);
                    budget = budget.saturating_sub(merged * MERGE_COST);
                    fetch.stage = match merged < slice {
                        true => Stage::Merged(Box::new(merge.finish())),
                        false => Stage::Merging(merge),
                    };
                    self.fetch = Some(fetch);
                }
                Stage::Merged(merged) => {
                    // Shown in one piece: in a step of its own when it does not fit in this one.
                    let cost = merged.0.len().saturating_mul(SHOW_COST);
                    if cost > budget && budget < STEP_BUDGET {
                        fetch.stage = Stage::Merged(merged);
                        self.fetch = Some(fetch);
                        return;
                    }
                    budget = budget.saturating_sub(cost);
                    let (roster, summary) = *merged;
                    self.fetch_done(cx, fetch.refresh, roster, summary, now);
                }
                Stage::Announcing(mut announce) => {
                    let slice = (budget / ANNOUNCE_COST).max(1);
                    let sent = self.announce(cx, &mut announce, slice);
                    budget = budget.saturating_sub(sent * ANNOUNCE_COST);
                    if sent < slice {
                        self.signed_in_synced(cx, announce, now);
                    } else {
                        fetch.stage = Stage::Announcing(announce);
                        self.fetch = Some(fetch);
                    }
                }
                waiting => {
                    fetch.stage = waiting;
                    fetch.resume_at = None;
                    self.fetch = Some(fetch);
                    return;
                }
            }
        }
    }

    /// Memberships are read: ask for the address book.
    fn fetch_book(&mut self, cx: &mut Cx, refresh: bool, members: Memberships, now: Instant) {
        let Some((endpoints, ticket)) = self.soap_access(cx) else {
            return self.fetch_failed(cx, refresh, "no address-book ticket", now);
        };
        let scenario = match refresh {
            true => Scenario::Timer,
            false => Scenario::Initial,
        };
        let request = if cx.dialect.paged_address_book() {
            abook::find_contacts_paged_request(&endpoints, &ticket, scenario)
        } else {
            abook::find_all_request(&endpoints, &ticket, scenario)
        };
        let id = cx.http_id();
        cx.output(Output::Http { id, request });
        self.fetch = Some(Fetch {
            refresh,
            stage: Stage::AddressBook(id, members),
            resume_at: None,
        });
    }

    /// Both lists are read and merged: a refresh reports what changed; the sign-in fetch shows
    /// the list and goes on announcing it to the NS.
    fn fetch_done(
        &mut self,
        cx: &mut Cx,
        refresh: bool,
        roster: Roster,
        summary: Summary,
        now: Instant,
    ) {
        log::info!(
            "address book received: {} contacts, {} groups",
            summary.contacts,
            summary.groups
        );
        if let Some(name) = summary.own_display_name.as_deref().and_then(clean_name) {
            if self.own_name.as_deref() != Some(name.as_str()) {
                self.own_name = Some(name.clone());
                contact_event(cx, ContactEvent::OwnName(name));
            }
        }
        if refresh {
            self.apply_refresh(cx, roster);
            self.run_ops(cx, now);
        } else {
            self.install_roster(cx, roster);
            self.fetch = Some(Fetch {
                refresh,
                stage: Stage::Announcing(self.start_announce(cx)),
                resume_at: Some(now),
            });
        }
    }

    fn fetch_failed(&mut self, cx: &mut Cx, refresh: bool, text: &str, now: Instant) {
        log::warn!("contact list fetch failed: {text}");
        contact_event(
            cx,
            ContactEvent::Failed(format!("Could not retrieve the contact list: {text}")),
        );
        if refresh {
            // Still answer the requests the pushes announced, without their messages.
            self.ask_every_pending(cx);
            return;
        }
        let mut announce = self.start_announce(cx);
        self.announce(cx, &mut announce, usize::MAX);
        self.signed_in_synced(cx, announce, now);
    }

    /// After the sign-in fetch: the privacy mode, then the initial `ADL` in slices.
    fn start_announce(&mut self, cx: &mut Cx) -> Announce {
        cx.send_ns(ClientCommand::Blp {
            mode: cx.config.privacy,
        });
        Announce::default()
    }

    /// Sends the initial `ADL` for up to `budget` more contacts of the roster (those of
    /// unknown network are kept for `FQY`); returns how many it took, fewer than `budget` only
    /// when every contact has been announced.
    fn announce(&mut self, cx: &mut Cx, announce: &mut Announce, budget: usize) -> usize {
        let mut entries = Vec::new();
        let mut taken = 0;
        let mut last = None;
        for (key, contact) in self
            .roster
            .contacts_after(announce.after.as_deref())
            .take(budget)
        {
            taken += 1;
            last = Some(key);
            let lists = contact.lists & ListSet::CLIENT;
            if lists.is_empty() || !super::usable_address(&contact.email) {
                continue;
            }
            match contact.network {
                0 => announce.unknown.push(contact.email.clone()),
                network => entries.push(listxml::ListEntry {
                    email: contact.email.clone(),
                    lists,
                    network,
                    friendly: None,
                }),
            }
        }
        if let Some(key) = last {
            announce.after = Some(key.to_owned());
        }
        if !entries.is_empty() {
            self.send_initial_adl(cx, &entries);
            announce.sent_any = true;
        }
        taken
    }

    fn send_initial_adl(&mut self, cx: &mut Cx, entries: &[listxml::ListEntry]) {
        match listxml::build_list_payloads(entries, true) {
            Ok(payloads) => {
                for payload in payloads {
                    cx.send_ns(ClientCommand::Adl { payload });
                }
            }
            Err(e) => log::warn!("cannot build the initial ADL: {e}"),
        }
    }

    /// The initial `ADL` is out: `FQY`, own name, then online; the list is known.
    fn signed_in_synced(&mut self, cx: &mut Cx, announce: Announce, now: Instant) {
        if !announce.sent_any {
            self.send_initial_adl(cx, &[]);
        }
        let unknown: Vec<&str> = announce.unknown.iter().map(String::as_str).collect();
        match listxml::build_query_payloads(&unknown) {
            Ok(payloads) => {
                for payload in payloads {
                    cx.send_ns(ClientCommand::Fqy { payload });
                }
            }
            Err(e) => log::warn!("cannot build FQY: {e}"),
        }
        if let Some(name) = self.own_name.clone() {
            cx.send_ns(ClientCommand::Prp {
                property: "MFN".to_owned(),
                value: Some(name),
            });
        }
        self.sync = Sync::Done;
        self.go_online(cx);
        self.run_ops(cx, now);
    }

    /// A refresh: report what changed since the last fetch.
    fn apply_refresh(&mut self, cx: &mut Cx, new: Roster) {
        let old = std::mem::replace(&mut self.roster, new);
        let old_groups: HashMap<String, String> = old
            .groups()
            .iter()
            .map(|g| (g.id.to_ascii_lowercase(), g.name.clone()))
            .collect();
        let mut events = Vec::new();
        for group in self.roster.groups() {
            match old_groups.get(&group.id.to_ascii_lowercase()) {
                None => events.push(ContactEvent::GroupAdded {
                    name: group.name.clone(),
                }),
                Some(name) if *name != group.name => events.push(ContactEvent::GroupRenamed {
                    old: name.clone(),
                    new: group.name.clone(),
                }),
                Some(_) => {}
            }
        }
        let empty = Contact::default();
        for contact in self.roster.contacts() {
            let before = old.get(&contact.email).unwrap_or(&empty);
            diff_contact(&old, before, &self.roster, contact, &mut events);
        }
        for before in old.contacts() {
            if self.roster.get(&before.email).is_none() {
                let gone = Contact {
                    email: before.email.clone(),
                    ..Contact::default()
                };
                diff_contact(&old, before, &self.roster, &gone, &mut events);
            }
        }
        for group in old.groups() {
            let still = self
                .roster
                .groups()
                .iter()
                .any(|g| g.id.eq_ignore_ascii_case(&group.id));
            if !still {
                events.push(ContactEvent::GroupRemoved {
                    name: group.name.clone(),
                });
            }
        }
        for event in events {
            contact_event(cx, event);
        }
        self.ask_every_pending(cx);
    }

    /// `ADL 0` (someone added us, or another of our sessions changed a list) and `RML 0`.
    pub(super) fn on_ml_push(
        &mut self,
        cx: &mut Cx,
        update: ListUpdate,
        added: bool,
        now: Instant,
    ) {
        let Some(payload) = update.payload else {
            return;
        };
        let entries = match listxml::parse_list(&payload) {
            Ok(entries) => entries,
            Err(e) => return log::warn!("ignored list push: {e}"),
        };
        let mut refresh = false;
        for entry in entries {
            let Some(contact) = self.roster.entry(&entry.email) else {
                continue;
            };
            let before = contact.clone();
            if added {
                contact.lists |= entry.lists;
            } else {
                contact.lists &= !entry.lists;
            }
            if contact.network == 0 && entry.network != 0 {
                contact.network = entry.network;
            }
            if let Some(name) = entry.friendly.as_deref().and_then(clean_name) {
                contact.name = Some(name);
            }
            let after = contact.clone();
            refresh |= added && entry.lists.intersects(ListSet::REVERSE | ListSet::PENDING);
            let mut events = Vec::new();
            let roster = &self.roster;
            diff_contact(roster, &before, roster, &after, &mut events);
            for event in events {
                contact_event(cx, event);
            }
            self.roster.forget_if_unlisted(&entry.email);
        }
        if refresh {
            log::info!("someone added us: fetching the lists again");
            self.refresh_at = Some(now + REFRESH_DELAY);
        }
    }

    /// `NOT`: the address book changed; fetch it again (MSNP13+).
    pub(super) fn on_not(&mut self, cx: &mut Cx, now: Instant) {
        if cx.dialect.soap_contacts() && self.list_known() {
            self.refresh_at = Some(now + REFRESH_DELAY);
        }
    }

    /// `FQY`: networks of contacts that had none; tell the NS about them now.
    pub(super) fn on_fqy(&mut self, cx: &mut Cx, fqy: Fqy) {
        let entries = match listxml::parse_list(&fqy.payload) {
            Ok(entries) => entries,
            Err(e) => return log::warn!("ignored FQY answer: {e}"),
        };
        let mut known = Vec::new();
        for entry in entries.into_iter().filter(|e| e.network != 0) {
            if let Some(contact) = self.roster.get_mut(&entry.email) {
                contact.network = entry.network;
                let lists = contact.lists & ListSet::CLIENT;
                if !lists.is_empty() {
                    known.push(listxml::ListEntry {
                        email: contact.email.clone(),
                        lists,
                        network: entry.network,
                        friendly: None,
                    });
                }
            }
        }
        match listxml::build_list_payloads(&known, false) {
            Ok(payloads) => {
                for payload in payloads {
                    cx.send_ns(ClientCommand::Adl { payload });
                }
            }
            Err(e) => log::warn!("cannot build ADL after FQY: {e}"),
        }
    }
}

/// Events turning `before` into `after` (the same address).
fn diff_contact(
    old: &Roster,
    before: &Contact,
    new: &Roster,
    after: &Contact,
    events: &mut Vec<ContactEvent>,
) {
    match (before.on(ListSet::FORWARD), after.on(ListSet::FORWARD)) {
        (_, true) if !before.on(ListSet::FORWARD) || old.buddy(before) != new.buddy(after) => {
            events.push(ContactEvent::BuddyChanged(new.buddy(after)))
        }
        (true, false) => events.push(ContactEvent::BuddyRemoved {
            email: after.email.clone(),
        }),
        _ => {}
    }
    if before.on(ListSet::ALLOW) != after.on(ListSet::ALLOW) {
        events.push(ContactEvent::Allowed {
            email: after.email.clone(),
            on: after.on(ListSet::ALLOW),
        });
    }
    if before.on(ListSet::BLOCK) != after.on(ListSet::BLOCK) {
        events.push(ContactEvent::Blocked {
            email: after.email.clone(),
            on: after.on(ListSet::BLOCK),
        });
    }
}

/// A SOAP error for the user: faults by their code and text.
pub(super) fn describe(error: &SoapError) -> String {
    match error {
        SoapError::Fault { code, text } if text.is_empty() => format!("the server said {code}"),
        SoapError::Fault { code, text } => format!("the server said {code} ({text})"),
        other => other.to_string(),
    }
}
