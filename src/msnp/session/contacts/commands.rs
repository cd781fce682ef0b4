//! What the user can change: buddies, groups, names, privacy and authorisation answers. Each
//! becomes an [`Op`] (see [`ops`](super::ops)); invalid input is refused with a
//! [`ContactEvent::Failed`].

use std::collections::VecDeque;
use std::time::Instant;

use super::events::{ContactEvent, Presence};
use super::ops::{Op, Step, Subject};
use super::roster::same_name;
use super::DEFAULT_GROUP;
use super::{contact_event, Contacts};
use crate::session::cx::Cx;
use crate::wire::{List, ListSet, PrivacyMode};

/// Longest group name the server takes (Escargot answers 229 beyond).
pub const MAX_GROUP_NAME_CHARS: usize = 61;

/// A group as the server knows it: `None` for the default group.
fn server_group(name: Option<&str>) -> Option<String> {
    name.map(str::trim)
        .filter(|n| !n.is_empty() && !same_name(n, DEFAULT_GROUP))
        .map(str::to_owned)
}

fn op(what: String, subject: Subject, steps: Vec<Step>) -> Op {
    Op {
        what,
        subject,
        steps: VecDeque::from(steps),
    }
}

impl Contacts {
    /// Whether the server's list has been received (before, changes wait).
    pub(in crate::session) fn is_list_synced(&self) -> bool {
        self.list_known()
    }

    /// The network of a contact (1 Passport, 4 telephone, 32 Yahoo!), if known.
    pub(in crate::session) fn contact_network(&self, email: &str) -> Option<u32> {
        self.roster
            .get(email)
            .map(|c| c.network)
            .or_else(|| self.watch.get(email).map(|p| p.network))
    }

    /// The presence last reported for a contact.
    pub(in crate::session) fn contact_presence(&self, email: &str) -> Option<&Presence> {
        self.watch.get(email)
    }

    /// Whether a contact is on our forward list, and whether we are on theirs.
    pub(in crate::session) fn contact_lists(&self, email: &str) -> (bool, bool) {
        let lists = self.roster.get(email).map_or(ListSet::empty(), |c| c.lists);
        (
            lists.intersects(ListSet::FORWARD),
            lists.intersects(ListSet::REVERSE),
        )
    }

    /// Checks an address from the user; a bad one is reported and `false` returned.
    fn check_address(&mut self, cx: &mut Cx, email: &str, what: &str) -> bool {
        if super::usable_address(email) {
            return true;
        }
        contact_event(
            cx,
            ContactEvent::Failed(format!(
                "Could not {what}: \"{email}\" is not a valid address"
            )),
        );
        false
    }

    /// Checks a group name from the user.
    fn check_group(&mut self, cx: &mut Cx, group: Option<&str>, what: &str) -> bool {
        match group {
            Some(name) if name.chars().count() > MAX_GROUP_NAME_CHARS => {
                contact_event(
                    cx,
                    ContactEvent::Failed(format!(
                    "Could not {what}: group names are at most {MAX_GROUP_NAME_CHARS} characters"
                )),
                );
                false
            }
            Some(name) if name.chars().any(char::is_control) => {
                contact_event(
                    cx,
                    ContactEvent::Failed(format!(
                        "Could not {what}: the group name has control characters"
                    )),
                );
                false
            }
            _ => true,
        }
    }

    /// Adds `email` to the forward list, in `group` (`None` or [`DEFAULT_GROUP`]: no group).
    pub(in crate::session) fn add_buddy(
        &mut self,
        cx: &mut Cx,
        email: &str,
        group: Option<&str>,
        now: Instant,
    ) {
        let what = format!("add {email}");
        let group = server_group(group);
        if !self.check_address(cx, email, &what) {
            contact_event(
                cx,
                ContactEvent::BuddyRemoved {
                    email: email.to_owned(),
                },
            );
            return;
        }
        if !self.check_group(cx, group.as_deref(), &what) {
            return self.queue_op(
                cx,
                op(what, Subject::Buddy(email.to_owned()), Vec::new()),
                now,
            );
        }
        let email = email.to_owned();
        let mut steps = Vec::new();
        if let Some(name) = &group {
            steps.push(Step::AddGroup { name: name.clone() });
        }
        steps.push(Step::AddContact {
            email: email.clone(),
        });
        steps.push(Step::JoinGroup {
            email: email.clone(),
            group: group.clone(),
        });
        if cx.dialect.list_serials() && group.is_some() {
            // MSNP8/9 add new contacts to group 0: take them out again.
            steps.push(Step::LeaveGroup {
                email: email.clone(),
                group: None,
            });
        }
        self.queue_op(cx, op(what, Subject::Buddy(email), steps), now);
    }

    /// Removes `email` from `group`; from the forward list when it is in no other group.
    pub(in crate::session) fn remove_buddy(
        &mut self,
        cx: &mut Cx,
        email: &str,
        group: Option<&str>,
        now: Instant,
    ) {
        let group = server_group(group);
        let other_groups = self.roster.get(email).map_or(0, |c| {
            let in_it = |id: &String| {
                group.as_deref().is_some_and(|name| {
                    self.roster
                        .group_name(id)
                        .is_some_and(|n| same_name(n, name))
                })
            };
            c.groups
                .iter()
                .filter(|id| !in_it(id) && self.roster.group_name(id).is_some())
                .count()
        });
        let step = if other_groups > 0 && group.is_some() {
            Step::LeaveGroup {
                email: email.to_owned(),
                group,
            }
        } else {
            Step::RemoveContact {
                email: email.to_owned(),
            }
        };
        let what = format!("remove {email}");
        self.queue_op(
            cx,
            op(what, Subject::Buddy(email.to_owned()), vec![step]),
            now,
        );
    }

    /// Moves `email` from group `from` to group `to` (creating `to` on the server if needed).
    pub(in crate::session) fn move_buddy(
        &mut self,
        cx: &mut Cx,
        email: &str,
        from: Option<&str>,
        to: Option<&str>,
        now: Instant,
    ) {
        let (from, to) = (server_group(from), server_group(to));
        let what = format!("move {email}");
        let subject = Subject::Buddy(email.to_owned());
        if !self.check_group(cx, to.as_deref(), &what) {
            return self.queue_op(cx, op(what, subject, Vec::new()), now);
        }
        let mut steps = Vec::new();
        if let Some(name) = &to {
            steps.push(Step::AddGroup { name: name.clone() });
        }
        steps.push(Step::JoinGroup {
            email: email.to_owned(),
            group: to,
        });
        steps.push(Step::LeaveGroup {
            email: email.to_owned(),
            group: from,
        });
        self.queue_op(cx, op(what, subject, steps), now);
    }

    /// Renames a group; when `new` already exists on the server, the buddies in `moved` join
    /// it instead and the old group is deleted.
    pub(in crate::session) fn rename_group(
        &mut self,
        cx: &mut Cx,
        old: &str,
        new: &str,
        moved: &[String],
        now: Instant,
    ) {
        let what = format!("rename group \"{old}\"");
        let (Some(old_name), new_name) = (server_group(Some(old)), server_group(Some(new))) else {
            return;
        };
        if !self.check_group(cx, new_name.as_deref(), &what) {
            return;
        }
        let target_exists = new_name
            .as_deref()
            .is_none_or(|n| self.roster.group_by_name(n).is_some());
        if !target_exists {
            let steps = vec![Step::RenameGroup {
                old: old_name,
                new: new.to_owned(),
            }];
            return self.queue_op(cx, op(what, Subject::None, steps), now);
        }
        for email in moved {
            self.move_buddy(cx, email, Some(&old_name), new_name.as_deref(), now);
        }
        let steps = vec![Step::RemoveGroup { name: old_name }];
        self.queue_op(cx, op(what, Subject::None, steps), now);
    }

    /// Deletes an (empty) group.
    pub(in crate::session) fn remove_group(&mut self, cx: &mut Cx, name: &str, now: Instant) {
        let Some(name) = server_group(Some(name)) else {
            return;
        };
        let what = format!("remove group \"{name}\"");
        self.queue_op(
            cx,
            op(what, Subject::None, vec![Step::RemoveGroup { name }]),
            now,
        );
    }

    /// Stores a name for a contact on the server (MSNP10+; MSNP8/9 keep it locally).
    pub(in crate::session) fn alias_buddy(
        &mut self,
        cx: &mut Cx,
        email: &str,
        alias: &str,
        now: Instant,
    ) {
        let name = match alias.trim() {
            "" => email,
            alias => alias,
        };
        let step = Step::Nickname {
            email: email.to_owned(),
            name: name.to_owned(),
        };
        self.queue_op(
            cx,
            op(format!("rename {email}"), Subject::None, vec![step]),
            now,
        );
    }

    /// Changes our friendly name.
    pub(in crate::session) fn set_friendly_name(&mut self, cx: &mut Cx, name: &str, now: Instant) {
        let name: String = name.chars().filter(|c| !c.is_control()).collect();
        let name = match name.trim() {
            "" => cx.config.account.clone(),
            name => name.chars().take(super::roster::MAX_NAME_CHARS).collect(),
        };
        let steps = vec![Step::OwnName { name }];
        self.queue_op(
            cx,
            op("change your name".to_owned(), Subject::None, steps),
            now,
        );
    }

    /// Puts `email` on the allow list (off the block list).
    pub(in crate::session) fn allow(&mut self, cx: &mut Cx, email: &str, now: Instant) {
        self.privacy_op(cx, email, List::Allow, true, now);
    }

    /// Puts `email` on the block list (off the allow list).
    pub(in crate::session) fn block(&mut self, cx: &mut Cx, email: &str, now: Instant) {
        self.privacy_op(cx, email, List::Block, true, now);
    }

    /// Takes `email` off the allow list.
    pub(in crate::session) fn unallow(&mut self, cx: &mut Cx, email: &str, now: Instant) {
        self.privacy_op(cx, email, List::Allow, false, now);
    }

    /// Takes `email` off the block list and puts them on the allow list, as the official
    /// clients did: on neither list, the next sign-in would ask about them again.
    pub(in crate::session) fn unblock(&mut self, cx: &mut Cx, email: &str, now: Instant) {
        self.privacy_op(cx, email, List::Block, false, now);
    }

    fn privacy_op(&mut self, cx: &mut Cx, email: &str, list: List, on: bool, now: Instant) {
        let verb = match (list, on) {
            (List::Allow, true) => "allow",
            (List::Block, true) => "block",
            (List::Allow, false) => "stop allowing",
            _ => "unblock",
        };
        let what = format!("{verb} {email}");
        if !self.check_address(cx, email, &what) {
            return;
        }
        let email = email.to_owned();
        let mut steps = Vec::new();
        if on {
            // The allow and block lists exclude each other.
            let other = match list {
                List::Allow => List::Block,
                _ => List::Allow,
            };
            steps.push(Step::RemoveFromList {
                email: email.clone(),
                list: other,
            });
            steps.push(Step::AddToList {
                email: email.clone(),
                list,
            });
        } else {
            steps.push(Step::RemoveFromList {
                email: email.clone(),
                list,
            });
            if list == List::Block {
                steps.push(Step::AddToList {
                    email: email.clone(),
                    list: List::Allow,
                });
            }
        }
        self.queue_op(cx, op(what, Subject::Privacy(email), steps), now);
    }

    /// Answers an authorisation request: allow (`accept`) or block `email`, and stop it
    /// from being pending.
    pub(in crate::session) fn answer_authorization(
        &mut self,
        cx: &mut Cx,
        email: &str,
        accept: bool,
        now: Instant,
    ) {
        let pending = self
            .roster
            .get(email)
            .is_some_and(|c| c.lists.intersects(ListSet::PENDING));
        let (list, other) = match accept {
            true => (List::Allow, List::Block),
            false => (List::Block, List::Allow),
        };
        let mut steps = vec![
            Step::RemoveFromList {
                email: email.to_owned(),
                list: other,
            },
            Step::AddToList {
                email: email.to_owned(),
                list,
            },
        ];
        let dialect = cx.dialect;
        if pending && dialect.accept_adds_reverse() {
            steps.push(Step::AddToList {
                email: email.to_owned(),
                list: List::Reverse,
            });
        } else if pending && dialect.soap_contacts() {
            steps.push(Step::RemoveFromList {
                email: email.to_owned(),
                list: List::Pending,
            });
        }
        let what = match accept {
            true => format!("authorize {email}"),
            false => format!("deny {email}"),
        };
        self.queue_op(cx, op(what, Subject::Privacy(email.to_owned()), steps), now);
    }

    /// Sets how people on neither list are treated (`BLP`); sent when it differs from the
    /// server's, once the list is known.
    pub(in crate::session) fn set_privacy_mode(&mut self, cx: &mut Cx, mode: PrivacyMode) {
        if !self.list_known() || self.privacy == Some(mode) {
            return;
        }
        self.privacy = Some(mode);
        cx.send_ns(crate::wire::ClientCommand::Blp { mode });
    }

    /// Whether `email` is allowed (`Some(true)`), blocked (`Some(false)`) or neither.
    pub(in crate::session) fn contact_privacy(&self, email: &str) -> Option<bool> {
        let lists = self.roster.get(email).map_or(ListSet::empty(), |c| c.lists);
        match (
            lists.intersects(ListSet::ALLOW),
            lists.intersects(ListSet::BLOCK),
        ) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}
