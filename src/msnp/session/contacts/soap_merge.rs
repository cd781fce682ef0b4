//! MSNP13+: the two answers of a list fetch (memberships, address book) merged into a roster a
//! slice at a time, so that a list of thousands of contacts never holds the caller's main loop
//! for long. Each entry is moved into the roster (no copies) and dropped as it is merged.

use std::vec::IntoIter;

use super::roster::{clean_name, Roster};
use super::usable_address;
use crate::soap::abook::{self, AddressBook};
use crate::soap::membership::{Member, Memberships};
use crate::wire::ListSet;

/// A merge in progress.
pub(super) struct Merge {
    roster: Roster,
    contacts: IntoIter<abook::Contact>,
    /// The member lists not merged yet, each with its list bit, in order.
    members: Vec<(ListSet, IntoIter<Member>)>,
    /// What the finished merge reports besides the roster.
    summary: Summary,
}

/// The address book's totals and the owner's stored name.
pub(super) struct Summary {
    pub contacts: usize,
    pub groups: usize,
    pub own_display_name: Option<String>,
}

impl Merge {
    /// Starts merging; the groups (at most [`abook::MAX_GROUPS`]) are taken at once.
    pub fn new(members: Memberships, book: AddressBook) -> Merge {
        let mut roster = Roster::default();
        for group in &book.groups {
            let name = clean_name(&group.name).unwrap_or_else(|| group.id.clone());
            roster.add_group(&group.id, &name);
        }
        let summary = Summary {
            contacts: book.contacts.len(),
            groups: book.groups.len(),
            own_display_name: book.own_display_name,
        };
        // Popped from the end: the last list first.
        let members = vec![
            (ListSet::PENDING, members.pending.into_iter()),
            (ListSet::REVERSE, members.reverse.into_iter()),
            (ListSet::BLOCK, members.block.into_iter()),
            (ListSet::ALLOW, members.allow.into_iter()),
        ];
        Merge {
            roster,
            contacts: book.contacts.into_iter(),
            members,
            summary,
        }
    }

    /// Merges up to `budget` entries (address-book contacts, then members); returns how many
    /// it merged, fewer than `budget` only when the merge is complete.
    pub fn step(&mut self, budget: usize) -> usize {
        let mut done = 0;
        while done < budget {
            if let Some(entry) = self.contacts.next() {
                done += 1;
                if !self.add_contact(entry) {
                    self.contacts = Vec::new().into_iter();
                }
                continue;
            }
            let Some((bit, list)) = self.members.last_mut() else {
                break;
            };
            let bit = *bit;
            match list.next() {
                Some(member) => {
                    done += 1;
                    if !self.add_member(member, bit) {
                        self.members.pop();
                    }
                }
                None => drop(self.members.pop()),
            }
        }
        done
    }

    /// The merged roster and the summary.
    pub fn finish(self) -> (Roster, Summary) {
        (self.roster, self.summary)
    }

    /// An address-book contact; false when the roster is full (the rest are skipped).
    fn add_contact(&mut self, entry: abook::Contact) -> bool {
        if !usable_address(&entry.passport) {
            return true;
        }
        let Some(contact) = self.roster.entry(&entry.passport) else {
            return false;
        };
        contact.name =
            clean_name(&entry.display_name).filter(|n| !n.eq_ignore_ascii_case(&entry.passport));
        contact.nickname = entry.nickname.as_deref().and_then(clean_name);
        contact.id = Some(entry.id);
        contact.groups = entry.group_ids;
        contact.network = entry.network;
        if entry.is_messenger_user {
            contact.lists |= ListSet::FORWARD;
        }
        true
    }

    /// A member of the list `bit`; false when the roster is full (the rest of the list is
    /// skipped).
    fn add_member(&mut self, member: Member, bit: ListSet) -> bool {
        if !usable_address(&member.email) {
            return true;
        }
        let Some(contact) = self.roster.entry(&member.email) else {
            return false;
        };
        contact.lists |= bit;
        if contact.network == 0 {
            contact.network = member.network;
        }
        if contact.name.is_none() {
            contact.name = member.display_name.as_deref().and_then(clean_name);
        }
        if bit == ListSet::PENDING {
            contact.invite = member.invite_message.as_deref().and_then(clean_name);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::abook::Group;

    fn answers() -> (Memberships, AddressBook) {
        let member = |email: &str, name: Option<&str>, invite: Option<&str>| Member {
            email: email.into(),
            network: 1,
            display_name: name.map(Into::into),
            invite_message: invite.map(Into::into),
        };
        let contact = |i: usize, passport: &str, messenger: bool| abook::Contact {
            id: format!("id{i}"),
            passport: passport.into(),
            display_name: format!("Name {i}"),
            nickname: None,
            is_messenger_user: messenger,
            group_ids: vec!["g1".into()],
            network: 1,
        };
        let members = Memberships {
            allow: vec![
                member("a@example.com", None, None),
                member("bad", None, None),
            ],
            block: vec![member("b@example.com", None, None)],
            reverse: vec![member("c@example.com", Some("Carol"), None)],
            pending: vec![member("c@example.com", None, Some("hi"))],
        };
        let book = AddressBook {
            groups: vec![Group {
                id: "g1".into(),
                name: "Friends".into(),
            }],
            contacts: vec![
                contact(1, "a@example.com", true),
                contact(2, "not an address", true),
                contact(3, "b@example.com", false),
            ],
            own_display_name: Some("Me".into()),
            circle_ticket: None,
        };
        (members, book)
    }

    fn merged(slice: usize) -> (Vec<super::super::roster::Contact>, Summary, usize) {
        let (members, book) = answers();
        let mut merge = Merge::new(members, book);
        let mut steps = 1;
        while merge.step(slice) == slice {
            steps += 1;
        }
        let (roster, summary) = merge.finish();
        (roster.contacts().cloned().collect(), summary, steps)
    }

    #[test]
    fn slices_merge_the_same_roster_as_one_step() {
        let (whole, summary, steps) = merged(usize::MAX);
        assert_eq!(steps, 1);
        let (sliced, _, steps) = merged(1);
        assert_eq!(
            steps, 9,
            "8 entries, one a step, and the step that finds none left"
        );
        assert_eq!(sliced, whole);
        assert_eq!((summary.contacts, summary.groups), (3, 1));
        assert_eq!(summary.own_display_name.as_deref(), Some("Me"));
        let emails: Vec<&str> = whole.iter().map(|c| c.email.as_str()).collect();
        assert_eq!(emails, ["a@example.com", "b@example.com", "c@example.com"]);
        assert_eq!(whole[0].lists, ListSet::FORWARD | ListSet::ALLOW);
        assert_eq!(whole[0].id.as_deref(), Some("id1"));
        assert_eq!(whole[0].groups, ["g1"]);
        assert_eq!(whole[1].lists, ListSet::BLOCK);
        assert_eq!(whole[2].lists, ListSet::REVERSE | ListSet::PENDING);
        assert_eq!(whole[2].name.as_deref(), Some("Carol"));
        assert_eq!(whole[2].invite.as_deref(), Some("hi"));
    }
}
