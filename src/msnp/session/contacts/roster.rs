//! The server's list as the session knows it: contacts with their list bits and groups.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::ops::Bound;

use super::events::Buddy;
use crate::wire::ListSet;

/// Most contacts kept; entries beyond are ignored (and logged).
pub(super) const MAX_CONTACTS: usize = 100_000;
/// Most groups kept.
pub(super) const MAX_GROUPS: usize = 1_000;
/// Most groups one contact is kept in.
const MAX_GROUPS_PER_CONTACT: usize = 100;
/// Longest name kept, in characters (the official client's limit).
pub(super) const MAX_NAME_CHARS: usize = 387;

/// One contact of the server's lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Contact {
    /// The address as the server spells it.
    pub email: String,
    /// Contact GUID (MSNP10+ forward list, MSNP13+ address book).
    pub id: Option<String>,
    /// The name the server stores for the contact.
    pub name: Option<String>,
    /// The private nickname (MSNP13+ `AB.NickName`).
    pub nickname: Option<String>,
    /// The lists the contact is on.
    pub lists: ListSet,
    /// Group ids.
    pub groups: Vec<String>,
    /// Network id (0 unknown).
    pub network: u32,
    /// The invitation message of a pending contact (MSNP13+).
    pub invite: Option<String>,
}

impl Contact {
    /// Whether the contact is on one of `lists`.
    pub fn on(&self, lists: ListSet) -> bool {
        self.lists.intersects(lists)
    }

    /// Whether the contact added us and we have neither allowed nor blocked them yet.
    pub fn awaits_answer(&self) -> bool {
        self.on(ListSet::PENDING | ListSet::REVERSE) && !self.on(ListSet::ALLOW | ListSet::BLOCK)
    }
}

/// A server group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Group {
    /// Numeric id (MSNP8/9) or GUID.
    pub id: String,
    /// Name.
    pub name: String,
}

/// The server's lists: contacts by lower-cased address, groups in server order.
#[derive(Debug, Default, Clone)]
pub(super) struct Roster {
    contacts: BTreeMap<String, Contact>,
    groups: Vec<Group>,
}

/// A name from the server made safe to keep: control characters dropped, length capped;
/// `None` when nothing is left.
pub(super) fn clean_name(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

impl Roster {
    /// The contact with address `email`.
    pub fn get(&self, email: &str) -> Option<&Contact> {
        self.contacts.get(&email.to_ascii_lowercase())
    }

    /// The contact with address `email`, mutably.
    pub fn get_mut(&mut self, email: &str) -> Option<&mut Contact> {
        self.contacts.get_mut(&email.to_ascii_lowercase())
    }

    /// The contact with address `email`, created with no lists if unknown; `None` (logged) when
    /// the roster is full.
    pub fn entry(&mut self, email: &str) -> Option<&mut Contact> {
        let full = self.contacts.len() >= MAX_CONTACTS;
        match self.contacts.entry(email.to_ascii_lowercase()) {
            Entry::Occupied(found) => Some(found.into_mut()),
            Entry::Vacant(_) if full => {
                log::warn!("contact list full: ignoring another contact");
                None
            }
            Entry::Vacant(slot) => Some(slot.insert(Contact {
                email: email.to_owned(),
                ..Contact::default()
            })),
        }
    }

    /// Forgets a contact that is on no list any more.
    pub fn forget_if_unlisted(&mut self, email: &str) {
        let key = email.to_ascii_lowercase();
        if self.contacts.get(&key).is_some_and(|c| c.lists.is_empty()) {
            self.contacts.remove(&key);
        }
    }

    /// The address of the contact with GUID `id`.
    pub fn email_of_id(&self, id: &str) -> Option<String> {
        self.contacts
            .values()
            .find(|c| c.id.as_deref().is_some_and(|i| i.eq_ignore_ascii_case(id)))
            .map(|c| c.email.clone())
    }

    /// Every contact, ordered by address.
    pub fn contacts(&self) -> impl Iterator<Item = &Contact> {
        self.contacts.values()
    }

    /// The contacts after roster key `after` (a lower-cased address; all when `None`), in
    /// order, each with its key.
    pub fn contacts_after<'a>(
        &'a self,
        after: Option<&str>,
    ) -> impl Iterator<Item = (&'a str, &'a Contact)> + 'a {
        let from = match after {
            Some(key) => Bound::Excluded(key),
            None => Bound::Unbounded,
        };
        self.contacts
            .range::<str, _>((from, Bound::Unbounded))
            .map(|(key, contact)| (key.as_str(), contact))
    }

    /// Number of contacts known.
    pub fn len(&self) -> usize {
        self.contacts.len()
    }

    /// The group called `name` (names compare case-insensitively, as libpurple's do).
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| same_name(&g.name, name))
    }

    /// The name of group `id`.
    pub fn group_name(&self, id: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|g| g.id.eq_ignore_ascii_case(id))
            .map(|g| g.name.as_str())
    }

    /// Adds a group; false (logged) when the id exists or the roster has too many groups.
    pub fn add_group(&mut self, id: &str, name: &str) -> bool {
        if self.group_name(id).is_some() {
            return false;
        }
        if self.groups.len() >= MAX_GROUPS {
            log::warn!("too many groups: ignoring another group");
            return false;
        }
        self.groups.push(Group {
            id: id.to_owned(),
            name: name.to_owned(),
        });
        true
    }

    /// Renames group `id`; returns the old name.
    pub fn rename_group(&mut self, id: &str, name: &str) -> Option<String> {
        let group = self
            .groups
            .iter_mut()
            .find(|g| g.id.eq_ignore_ascii_case(id))?;
        Some(std::mem::replace(&mut group.name, name.to_owned()))
    }

    /// Deletes group `id` and takes every contact out of it; returns its name.
    pub fn remove_group(&mut self, id: &str) -> Option<String> {
        let pos = self
            .groups
            .iter()
            .position(|g| g.id.eq_ignore_ascii_case(id))?;
        let group = self.groups.remove(pos);
        for contact in self.contacts.values_mut() {
            contact.groups.retain(|g| !g.eq_ignore_ascii_case(id));
        }
        Some(group.name)
    }

    /// Puts contact `email` in group `id` (no-op if already there).
    pub fn join_group(&mut self, email: &str, id: &str) {
        if let Some(contact) = self.get_mut(email) {
            if !contact.groups.iter().any(|g| g.eq_ignore_ascii_case(id))
                && contact.groups.len() < MAX_GROUPS_PER_CONTACT
            {
                contact.groups.push(id.to_owned());
            }
        }
    }

    /// Takes contact `email` out of group `id`.
    pub fn leave_group(&mut self, email: &str, id: &str) {
        if let Some(contact) = self.get_mut(email) {
            contact.groups.retain(|g| !g.eq_ignore_ascii_case(id));
        }
    }

    /// Every group, in server order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Every group name, in server order.
    pub fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.name.clone()).collect()
    }

    /// How `contact` is shown: its group ids become names (unknown ids are dropped).
    pub fn buddy(&self, contact: &Contact) -> Buddy {
        let mut groups: Vec<String> = Vec::new();
        for id in &contact.groups {
            if let Some(name) = self.group_name(id) {
                if !groups.iter().any(|g| same_name(g, name)) {
                    groups.push(name.to_owned());
                }
            }
        }
        Buddy {
            email: contact.email.clone(),
            server_alias: contact.name.clone(),
            nickname: contact.nickname.clone(),
            groups,
            network: contact.network,
        }
    }

    /// The forward list as buddies.
    pub fn buddies(&self) -> Vec<Buddy> {
        self.contacts()
            .filter(|c| c.on(ListSet::FORWARD))
            .map(|c| self.buddy(c))
            .collect()
    }

    /// Addresses of the contacts on `list`.
    pub fn with_list(&self, list: ListSet) -> Vec<String> {
        self.contacts()
            .filter(|c| c.on(list))
            .map(|c| c.email.clone())
            .collect()
    }
}

/// Whether two group names are the same for libpurple (case-insensitive).
pub(super) fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_groups_and_buddies() {
        let mut roster = Roster::default();
        assert!(roster.add_group("g1", "Friends"));
        assert!(!roster.add_group("G1", "Again"));
        let bob = roster.entry("Bob@Example.com").unwrap();
        bob.lists = ListSet::FORWARD | ListSet::ALLOW;
        bob.name = Some("Bob".into());
        roster.join_group("bob@example.com", "g1");
        roster.join_group("bob@example.com", "g1");
        roster.join_group("bob@example.com", "unknown");
        let buddy = roster.buddy(roster.get("BOB@example.com").unwrap());
        assert_eq!(buddy.email, "Bob@Example.com");
        assert_eq!(buddy.groups, vec!["Friends".to_owned()]);
        assert_eq!(roster.group_by_name("friends").unwrap().id, "g1");
        assert_eq!(
            roster.rename_group("g1", "Pals").as_deref(),
            Some("Friends")
        );
        assert_eq!(roster.remove_group("g1").as_deref(), Some("Pals"));
        assert_eq!(
            roster.get("bob@example.com").unwrap().groups,
            vec!["unknown"]
        );
        assert_eq!(
            roster.with_list(ListSet::ALLOW),
            vec!["Bob@Example.com".to_owned()]
        );
        roster.get_mut("bob@example.com").unwrap().lists = ListSet::empty();
        roster.forget_if_unlisted("bob@example.com");
        assert_eq!(roster.len(), 0);
    }

    #[test]
    fn pending_and_names() {
        let pending = |lists| Contact {
            lists,
            ..Contact::default()
        };
        assert!(pending(ListSet::REVERSE).awaits_answer());
        assert!(pending(ListSet::REVERSE | ListSet::PENDING).awaits_answer());
        assert!(!pending(ListSet::REVERSE | ListSet::ALLOW).awaits_answer());
        assert!(!pending(ListSet::PENDING | ListSet::BLOCK).awaits_answer());
        assert!(!pending(ListSet::FORWARD).awaits_answer());
        assert_eq!(clean_name(" a\u{7}b "), Some("ab".to_owned()));
        assert_eq!(clean_name("\n"), None);
        assert_eq!(
            clean_name(&"x".repeat(1000)).unwrap().chars().count(),
            MAX_NAME_CHARS
        );
    }
}
