//! MSNP8-12: the list on the notification server. `SYN` and its dump (`GTC`, `BLP`, `PRP`,
//! `LSG`, `LST`, `BPR`), and the server's pushes (`ADC 0 RL`, `ADD 0 RL`, `REM 0 RL`, ...),
//! docs/protocol.md §5.1.

use std::time::{Duration, Instant};

use super::events::ContactEvent;
use super::ops::NO_GROUP_V8;
use super::roster::{clean_name, Roster};
use super::Sync;
use super::{contact_event, Contacts};
use crate::session::cx::Cx;
use crate::wire::{
    Adc, Add, Blp, ClientCommand, List, ListSet, ListVersion, Lsg, Lst, Prp, Rem, Syn,
};

/// How long the dump may pause between lines before what arrived is taken as the list.
const DUMP_TIMEOUT: Duration = Duration::from_secs(60);

/// The `LST`/`LSG` lines still expected after `SYN`.
#[derive(Debug)]
pub(super) struct Dump {
    /// TrID of our `SYN` (its reply starts the dump).
    trid: Option<u32>,
    contacts_left: u32,
    groups_left: u32,
    deadline: Instant,
    /// The list being received.
    roster: Roster,
}

impl Dump {
    /// When the dump is given up on.
    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }
}

/// A list change the server pushed (`ADC`/`ADD`/`REM` with TrID 0).
struct Push<'a> {
    email: &'a str,
    list: List,
    /// Added to `list` (else removed).
    added: bool,
    /// The friendly name it carried.
    name: Option<String>,
    /// The contact id it carried (MSNP10+).
    id: Option<String>,
    /// The group it names.
    group: Option<String>,
}

impl Contacts {
    /// Sends `SYN` for the whole list.
    pub(super) fn start_ns_sync(&mut self, cx: &mut Cx, now: Instant) {
        let cached = if cx.dialect.list_serials() {
            ListVersion::Serial(0)
        } else {
            ListVersion::Timestamps {
                contacts: "0".into(),
                groups: "0".into(),
            }
        };
        let trid = cx.send_ns(ClientCommand::Syn { cached });
        self.sync = Sync::Ns(Dump {
            trid,
            contacts_left: 0,
            groups_left: 0,
            deadline: now + DUMP_TIMEOUT,
            roster: Roster::default(),
        });
    }

    /// `SYN`: how many lines follow.
    pub(super) fn on_syn(&mut self, cx: &mut Cx, syn: Syn, now: Instant) {
        let Sync::Ns(dump) = &mut self.sync else {
            return log::debug!("SYN reply outside a list synchronisation ignored");
        };
        if dump.trid.is_some_and(|t| t != syn.trid) {
            return log::debug!("SYN reply for another transaction ignored");
        }
        dump.trid = None;
        dump.deadline = now + DUMP_TIMEOUT;
        match syn.counts {
            Some(counts) => {
                dump.contacts_left = counts.contacts;
                dump.groups_left = counts.groups;
                log::info!(
                    "receiving {} contacts in {} groups",
                    counts.contacts,
                    counts.groups
                );
            }
            None => log::info!("the server reports the cached list is current"),
        }
        self.ns_sync_progress(cx, now);
    }

    /// `LSG`: a group of the dump.
    pub(super) fn on_lsg(&mut self, cx: &mut Cx, lsg: Lsg, now: Instant) {
        let guids = cx.dialect.contact_guids();
        let Sync::Ns(dump) = &mut self.sync else {
            return log::debug!("LSG outside a list synchronisation ignored");
        };
        dump.groups_left = dump.groups_left.saturating_sub(1);
        dump.deadline = now + DUMP_TIMEOUT;
        // MSNP8/9 list the default group as group 0: that is "no group" here.
        if lsg.group_id != NO_GROUP_V8 || guids {
            let name = clean_name(&lsg.name).unwrap_or_else(|| lsg.group_id.clone());
            dump.roster.add_group(&lsg.group_id, &name);
        }
        self.ns_sync_progress(cx, now);
    }

    /// `LST`: a contact of the dump.
    pub(super) fn on_lst(&mut self, cx: &mut Cx, lst: Lst, now: Instant) {
        let Sync::Ns(dump) = &mut self.sync else {
            return log::debug!("LST outside a list synchronisation ignored");
        };
        dump.contacts_left = dump.contacts_left.saturating_sub(1);
        dump.deadline = now + DUMP_TIMEOUT;
        if let Some(contact) = dump.roster.entry(&lst.email) {
            contact.lists = lst.lists;
            contact.name = lst
                .friendly
                .as_deref()
                .filter(|f| !f.eq_ignore_ascii_case(&lst.email))
                .and_then(clean_name);
            contact.id = lst.contact_id.clone();
            contact.network = super::NETWORK_PASSPORT;
            if contact.on(ListSet::FORWARD) {
                contact.groups = lst.groups.clone();
            }
        }
        self.ns_sync_progress(cx, now);
    }

    /// `BLP`: the server's privacy mode (in the dump, or echoing our change).
    pub(super) fn on_blp(&mut self, cx: &mut Cx, blp: Blp) {
        if self.privacy != Some(blp.mode) {
            self.privacy = Some(blp.mode);
            contact_event(cx, ContactEvent::PrivacyMode(blp.mode));
        }
    }

    /// `PRP`: own properties; `MFN` is our friendly name.
    pub(super) fn on_prp(&mut self, cx: &mut Cx, prp: Prp) {
        if prp.property != "MFN" {
            return log::debug!("own property {} ignored", prp.property);
        }
        let name = prp.value.as_deref().and_then(clean_name);
        if name.is_some() && name != self.own_name {
            self.own_name = name.clone();
            if let Some(name) = name {
                contact_event(cx, ContactEvent::OwnName(name));
            }
        }
    }

    /// Ends the dump once every announced line arrived.
    fn ns_sync_progress(&mut self, cx: &mut Cx, now: Instant) {
        let complete = matches!(&self.sync,
            Sync::Ns(d) if d.trid.is_none() && d.contacts_left == 0 && d.groups_left == 0);
        if complete {
            self.finish_ns_sync(cx, now);
        }
    }

    /// The dump stalled: what arrived is taken as the list.
    pub(super) fn ns_sync_timeout(&mut self, cx: &mut Cx, now: Instant) {
        if matches!(&self.sync, Sync::Ns(d) if now >= d.deadline) {
            log::warn!("the contact list did not arrive completely; using what arrived");
            self.finish_ns_sync(cx, now);
        }
    }

    fn finish_ns_sync(&mut self, cx: &mut Cx, now: Instant) {
        let Sync::Ns(dump) = std::mem::replace(&mut self.sync, Sync::Done) else {
            return;
        };
        log::info!("contact list received: {} entries", dump.roster.len());
        self.install_roster(cx, dump.roster);
        self.run_ops(cx, now);
    }

    /// `ADC 0 <list> N=… F=…` (MSNP10-12): someone added us (RL), or another of our sessions
    /// changed a list.
    pub(super) fn on_adc_push(&mut self, cx: &mut Cx, adc: Adc) {
        let entry = adc.entry;
        let email = match (&entry.email, &entry.contact_id) {
            (Some(email), _) => email.clone(),
            (None, Some(id)) => match self.roster.email_of_id(id) {
                Some(email) => email,
                None => return log::debug!("ADC push for an unknown contact id ignored"),
            },
            (None, None) => return,
        };
        let name = entry.friendly.as_deref().and_then(clean_name);
        let push = Push {
            email: &email,
            list: entry.list,
            added: true,
            name,
            id: entry.contact_id,
            group: entry.group_id,
        };
        self.list_push(cx, push);
    }

    /// `ADD 0 <list> <ser> <email> <friendly>` (MSNP8/9).
    pub(super) fn on_add_push(&mut self, cx: &mut Cx, add: Add) {
        let name = clean_name(&add.friendly);
        let push = Push {
            email: &add.email,
            list: add.list,
            added: true,
            name,
            id: None,
            group: add.group_id,
        };
        self.list_push(cx, push);
    }

    /// `REM 0 <list> [<ser>] <contact> [<group>]`.
    pub(super) fn on_rem_push(&mut self, cx: &mut Cx, rem: Rem) {
        let email = if rem.contact.contains('@') {
            rem.contact.clone()
        } else {
            match self.roster.email_of_id(&rem.contact) {
                Some(email) => email,
                None => return log::debug!("REM push for an unknown contact ignored"),
            }
        };
        let push = Push {
            email: &email,
            list: rem.list,
            added: false,
            name: None,
            id: None,
            group: rem.group_id,
        };
        self.list_push(cx, push);
    }

    /// Applies a list push; someone adding us becomes an authorisation request.
    fn list_push(&mut self, cx: &mut Cx, push: Push) {
        let Push {
            email,
            list,
            added,
            name,
            id,
            group,
        } = push;
        if !super::usable_address(email) {
            return log::warn!("list push for an unusable address ignored");
        }
        let Some(contact) = self.roster.entry(email) else {
            return;
        };
        match (list, group, added) {
            (List::Forward, Some(group), true) => {
                if !contact.groups.contains(&group) {
                    contact.groups.push(group);
                }
            }
            (List::Forward, Some(group), false) => contact.groups.retain(|g| *g != group),
            (_, _, true) => contact.lists |= list.flag(),
            (_, _, false) => contact.lists &= !list.flag(),
        }
        if name.is_some() {
            contact.name = name;
        }
        if id.is_some() {
            contact.id = id;
        }
        if list == List::Forward && !added {
            contact.groups.clear();
        }
        let contact = contact.clone();
        match list {
            List::Reverse if added => {
                log::info!("{} added us to their list", contact.email);
                self.ask_if_pending(cx, &contact.email);
            }
            List::Reverse | List::Pending => {}
            List::Allow | List::Block => contact_event(
                cx,
                match list {
                    List::Allow => ContactEvent::Allowed {
                        email: contact.email.clone(),
                        on: added,
                    },
                    _ => ContactEvent::Blocked {
                        email: contact.email.clone(),
                        on: added,
                    },
                },
            ),
            List::Forward => contact_event(
                cx,
                match contact.on(ListSet::FORWARD) {
                    true => ContactEvent::BuddyChanged(self.roster.buddy(&contact)),
                    false => ContactEvent::BuddyRemoved {
                        email: contact.email.clone(),
                    },
                },
            ),
        }
        if !contact.on(ListSet::REVERSE) || list != List::Reverse {
            self.roster.forget_if_unlisted(email);
        }
    }
}
