//! What a confirmed step changes in the roster, for both transports. Where the two list
//! models differ it says so: on MSNP13+ a new contact is allowed too and the NS is told with
//! `ADL`/`RML` (the follow-up steps returned), and a contact's stored name is the address
//! book's nickname rather than the NS's friendly name.

use super::{Reply, Step, StepError};
use crate::session::contacts::events::ContactEvent;
use crate::session::contacts::roster::clean_name;
use crate::session::contacts::{contact_event, Contacts, NETWORK_PASSPORT};
use crate::session::cx::Cx;
use crate::wire::{List, ListSet};

impl Contacts {
    /// Applies the server's `reply` to `step` (whose group or contact id was `target`);
    /// returns the steps that must follow.
    pub(super) fn apply(
        &mut self,
        cx: &mut Cx,
        step: &Step,
        target: Option<&str>,
        reply: Reply,
    ) -> Result<Vec<Step>, StepError> {
        let soap = cx.dialect.soap_contacts();
        let roster = &mut self.roster;
        match step {
            Step::AddContact { email } => {
                let contact = roster.entry(email).ok_or(StepError::ListFull)?;
                contact.lists |= ListSet::FORWARD;
                if contact.network == 0 {
                    contact.network = NETWORK_PASSPORT;
                }
                if let Reply::ContactAdded { id, name, group } = reply {
                    if id.is_some() {
                        contact.id = id;
                    }
                    if name.is_some() {
                        contact.name = name;
                    }
                    if let Some(group) = group {
                        contact.groups = vec![group];
                    }
                }
                if !soap {
                    return Ok(Vec::new());
                }
                let lists = match contact.on(ListSet::BLOCK) {
                    true => ListSet::FORWARD,
                    false => ListSet::FORWARD | ListSet::ALLOW,
                };
                if lists.intersects(ListSet::ALLOW) && !contact.on(ListSet::ALLOW) {
                    contact.lists |= ListSet::ALLOW;
                    show_privacy_change(cx, email, List::Allow, true);
                }
                return Ok(vec![Step::ListXml {
                    add: true,
                    email: email.clone(),
                    lists,
                }]);
            }
            Step::RemoveContact { email } => {
                if let Some(contact) = roster.get_mut(email) {
                    contact.lists &= !ListSet::FORWARD;
                    contact.groups.clear();
                    if soap {
                        contact.id = None;
                    }
                }
                if soap {
                    return Ok(vec![Step::ListXml {
                        add: false,
                        email: email.clone(),
                        lists: ListSet::FORWARD,
                    }]);
                }
                roster.forget_if_unlisted(email);
            }
            Step::JoinGroup { email, .. } => {
                if let Some(gid) = target {
                    roster.join_group(email, gid);
                }
            }
            Step::LeaveGroup { email, .. } => {
                if let Some(gid) = target {
                    roster.leave_group(email, gid);
                }
            }
            Step::AddGroup { name } => {
                if let Reply::GroupAdded { id } = reply {
                    roster.add_group(&id, name);
                }
            }
            Step::RenameGroup { new, .. } => {
                if let Some(gid) = target {
                    roster.rename_group(gid, new);
                }
            }
            Step::RemoveGroup { .. } => {
                if let Some(gid) = target {
                    roster.remove_group(gid);
                }
            }
            Step::AddToList { email, list } | Step::RemoveFromList { email, list } => {
                let adding = matches!(step, Step::AddToList { .. });
                let contact = match adding || soap {
                    true => Some(roster.entry(email).ok_or(StepError::ListFull)?),
                    false => roster.get_mut(email),
                };
                if let Some(contact) = contact {
                    match (adding, *list) {
                        // Accepting a pending contact (MSNP11/12): no longer pending.
                        (true, List::Reverse) => {
                            contact.lists = (contact.lists & !ListSet::PENDING) | ListSet::REVERSE
                        }
                        (true, _) => contact.lists |= list.flag(),
                        (false, _) => contact.lists &= !list.flag(),
                    }
                    if soap && contact.network == 0 {
                        contact.network = NETWORK_PASSPORT;
                    }
                }
                show_privacy_change(cx, email, *list, adding);
                if soap && matches!(list, List::Allow | List::Block) {
                    return Ok(vec![Step::ListXml {
                        add: adding,
                        email: email.clone(),
                        lists: list.flag(),
                    }]);
                }
                roster.forget_if_unlisted(email);
            }
            Step::Nickname { email, name } => {
                if let Some(contact) = roster.get_mut(email) {
                    match soap {
                        true => contact.nickname = clean_name(name),
                        false => contact.name = clean_name(name),
                    }
                }
            }
            Step::OwnName { name } => {
                self.own_name = clean_name(name);
                if let Some(name) = self.own_name.clone() {
                    contact_event(cx, ContactEvent::OwnName(name));
                }
                if soap {
                    return Ok(vec![Step::OwnNameProfile { name: name.clone() }]);
                }
            }
            Step::ListXml { .. } | Step::OwnNameProfile { .. } => {}
        }
        Ok(Vec::new())
    }
}

/// Reports an allow/block list change.
fn show_privacy_change(cx: &mut Cx, email: &str, list: List, on: bool) {
    let event = match list {
        List::Allow => ContactEvent::Allowed {
            email: email.to_owned(),
            on,
        },
        List::Block => ContactEvent::Blocked {
            email: email.to_owned(),
            on,
        },
        _ => return,
    };
    contact_event(cx, event);
}
