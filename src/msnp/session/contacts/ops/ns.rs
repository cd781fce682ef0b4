//! The NS transport of list changes (MSNP8-12, and the NS half of MSNP13+ steps): a step as
//! one NS command, and the server's reply to it.

use super::{Reply, Start, Step, StepError, Waiting, NO_GROUP_V8};
use crate::session::contacts::roster::clean_name;
use crate::session::contacts::Contacts;
use crate::session::cx::Cx;
use crate::wire::{ClientCommand, List, ListEntry, ListSet, NsCommand};

impl Contacts {
    /// `REM FL` for `email`, from the forward list (`group` `None`) or from one group. The
    /// contact is named by its GUID from MSNP10 on, by its address before.
    fn rem_forward(
        &mut self,
        cx: &mut Cx,
        email: &str,
        v10: bool,
        group: Option<String>,
    ) -> Result<Start, StepError> {
        let contact = match v10 {
            true => self.contact_id(email)?,
            false => email.to_owned(),
        };
        let command = ClientCommand::Rem {
            list: List::Forward,
            contact,
            group_id: group.clone(),
        };
        self.ns_step(cx, command, group)
    }

    /// Sends `command` and waits for its reply.
    pub(super) fn ns_step(
        &mut self,
        cx: &mut Cx,
        command: ClientCommand,
        target: Option<String>,
    ) -> Result<Start, StepError> {
        match cx.send_ns(command) {
            Some(trid) => Ok(Start::Waiting(Waiting::Trid(trid), target)),
            None => Err(StepError::NotConnected),
        }
    }

    /// MSNP8-12: the NS command of a step.
    pub(super) fn start_ns_step(&mut self, cx: &mut Cx, step: &Step) -> Result<Start, StepError> {
        let v10 = cx.dialect.contact_guids();
        let entry = |list: List, email: &str| ListEntry {
            list,
            email: Some(email.to_owned()),
            friendly: None,
            contact_id: None,
            group_id: None,
        };
        match step {
            Step::AddContact { email } => {
                if self.lists_of(email).intersects(ListSet::FORWARD) {
                    return Ok(Start::Skipped);
                }
                let command = if v10 {
                    ClientCommand::Adc {
                        entry: ListEntry {
                            friendly: Some(email.clone()),
                            ..entry(List::Forward, email)
                        },
                    }
                } else {
                    ClientCommand::Add {
                        list: List::Forward,
                        email: email.clone(),
                        friendly: email.clone(),
                        group_id: Some(NO_GROUP_V8.to_owned()),
                    }
                };
                self.ns_step(cx, command, None)
            }
            Step::RemoveContact { email } => {
                if !self.lists_of(email).intersects(ListSet::FORWARD) {
                    return Ok(Start::Skipped);
                }
                self.rem_forward(cx, email, v10, None)
            }
            Step::JoinGroup { email, group } => {
                let Some(gid) = self.group_id(cx, group.as_deref())? else {
                    return Ok(Start::Skipped);
                };
                if self.in_group(email, &gid) {
                    return Ok(Start::Skipped);
                }
                let command = if v10 {
                    ClientCommand::Adc {
                        entry: ListEntry {
                            list: List::Forward,
                            email: None,
                            friendly: None,
                            contact_id: Some(self.contact_id(email)?),
                            group_id: Some(gid.clone()),
                        },
                    }
                } else {
                    let name = self.roster.get(email).and_then(|c| c.name.clone());
                    ClientCommand::Add {
                        list: List::Forward,
                        email: email.clone(),
                        friendly: name.unwrap_or_else(|| email.clone()),
                        group_id: Some(gid.clone()),
                    }
                };
                self.ns_step(cx, command, Some(gid))
            }
            Step::LeaveGroup { email, group } => {
                let Some(gid) = self.group_id(cx, group.as_deref())? else {
                    return Ok(Start::Skipped);
                };
                if !self.in_group(email, &gid) {
                    return Ok(Start::Skipped);
                }
                self.rem_forward(cx, email, v10, Some(gid))
            }
            Step::AddGroup { name } => {
                if self.roster.group_by_name(name).is_some() {
                    return Ok(Start::Skipped);
                }
                self.ns_step(cx, ClientCommand::Adg { name: name.clone() }, None)
            }
            Step::RenameGroup { old, new } => {
                let Some(gid) = self.roster.group_by_name(old).map(|g| g.id.clone()) else {
                    return Ok(Start::Skipped);
                };
                let command = ClientCommand::Reg {
                    group_id: gid.clone(),
                    name: new.clone(),
                };
                self.ns_step(cx, command, Some(gid))
            }
            Step::RemoveGroup { name } => {
                let Some(gid) = self.roster.group_by_name(name).map(|g| g.id.clone()) else {
                    return Ok(Start::Skipped);
                };
                let command = ClientCommand::Rmg {
                    group_id: gid.clone(),
                };
                self.ns_step(cx, command, Some(gid))
            }
            Step::AddToList { email, list } => {
                let lists = self.lists_of(email);
                if lists.intersects(list.flag()) && *list != List::Reverse {
                    return Ok(Start::Skipped);
                }
                let command = if v10 {
                    ClientCommand::Adc {
                        entry: entry(*list, email),
                    }
                } else {
                    ClientCommand::Add {
                        list: *list,
                        email: email.clone(),
                        friendly: email.clone(),
                        group_id: None,
                    }
                };
                self.ns_step(cx, command, None)
            }
            Step::RemoveFromList { email, list } => {
                if !self.lists_of(email).intersects(list.flag()) {
                    return Ok(Start::Skipped);
                }
                let command = ClientCommand::Rem {
                    list: *list,
                    contact: email.clone(),
                    group_id: None,
                };
                self.ns_step(cx, command, None)
            }
            Step::Nickname { email, name } => {
                if !v10 {
                    log::info!("MSNP8/9 store no names for contacts: alias kept locally");
                    return Ok(Start::Skipped);
                }
                let command = ClientCommand::Sbp {
                    contact_id: self.contact_id(email)?,
                    property: "MFN".to_owned(),
                    value: name.clone(),
                };
                self.ns_step(cx, command, None)
            }
            Step::OwnName { name } => {
                let command = if v10 {
                    ClientCommand::Prp {
                        property: "MFN".to_owned(),
                        value: Some(name.clone()),
                    }
                } else {
                    ClientCommand::Rea {
                        email: cx.config.account.clone(),
                        name: name.clone(),
                    }
                };
                self.ns_step(cx, command, None)
            }
            Step::ListXml { .. } | Step::OwnNameProfile { .. } => Ok(Start::Skipped),
        }
    }
}

/// What the NS reply to `step` says (a numeric error fails the step).
pub(super) fn reply(step: &Step, reply: &NsCommand) -> Result<Reply, StepError> {
    if let NsCommand::Error(e) = reply {
        return Err(StepError::Server {
            code: e.code,
            description: e.description(),
        });
    }
    Ok(match (step, reply) {
        (Step::AddContact { .. }, NsCommand::Adc(adc)) => Reply::ContactAdded {
            id: adc.entry.contact_id.clone(),
            name: adc.entry.friendly.as_deref().and_then(clean_name),
            group: None,
        },
        (Step::AddContact { .. }, NsCommand::Add(add)) => Reply::ContactAdded {
            id: None,
            name: clean_name(&add.friendly),
            group: add.group_id.clone(),
        },
        (Step::AddGroup { .. }, NsCommand::Adg(adg)) => Reply::GroupAdded {
            id: adg.group_id.clone(),
        },
        (Step::AddGroup { .. }, _) => return Err(StepError::UnexpectedReply("ADG")),
        _ => Reply::Done,
    })
}
