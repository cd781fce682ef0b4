//! List changes asked for by the user, run one server round trip at a time: an [`Op`] is a
//! queue of [`Step`]s; each step becomes one NS command (MSNP8-12) or one SOAP request
//! (MSNP13+, followed by `ADL`/`RML`), and the next starts when the server has answered.
//! Ids (contact and group GUIDs) are looked up when a step starts, so a group created by an
//! earlier step is known to the later ones.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::events::ContactEvent;
use super::roster::clean_name;
use super::soap_list::describe;
use super::{NETWORK_PASSPORT, NETWORK_YAHOO};
use crate::http::HttpResponse;
use crate::listxml;
use crate::session::{HttpId, Output, Session};
use crate::soap::abook_edit::{self, ContactChange};
use crate::soap::envelope::parse_empty_response;
use crate::soap::membership::{self, Role};
use crate::soap::{with_status, SoapError};
use crate::wire::{ClientCommand, List, ListEntry, ListSet, NsCommand};

/// How long one step may wait for the server.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// Most operations queued; further user changes are refused (logged) until some finish.
const MAX_QUEUED: usize = 10_000;

/// The group id MSNP8/9 use for "no group".
pub(super) const NO_GROUP_V8: &str = "0";

/// One server change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Put `email` on the forward list.
    AddContact { email: String },
    /// Take `email` off the forward list.
    RemoveContact { email: String },
    /// Put `email` in group `group` (a name; `None` is the default group).
    JoinGroup {
        email: String,
        group: Option<String>,
    },
    /// Take `email` out of group `group`.
    LeaveGroup {
        email: String,
        group: Option<String>,
    },
    /// Create group `name`.
    AddGroup { name: String },
    /// Rename group `old` to `new`.
    RenameGroup { old: String, new: String },
    /// Delete group `name`.
    RemoveGroup { name: String },
    /// Put `email` on `list` (AL, BL; RL accepts a pending contact on MSNP11/12).
    AddToList { email: String, list: List },
    /// Take `email` off `list` (AL, BL; PL dismisses a pending contact on MSNP13+).
    RemoveFromList { email: String, list: List },
    /// Store a name for `email` (MSNP10+).
    Nickname { email: String, name: String },
    /// Change our own friendly name.
    OwnName { name: String },
    /// MSNP13+: tell the NS with `ADL`/`RML` (`add`) about `lists` of `email`.
    ListXml {
        add: bool,
        email: String,
        lists: ListSet,
    },
    /// MSNP13+: store our friendly name in the address book too.
    OwnNameProfile { name: String },
}

/// What an operation is about, shown again as the server has it when the operation fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Subject {
    /// Nothing to show again.
    None,
    /// A forward-list contact.
    Buddy(String),
    /// Someone's allow/block state.
    Privacy(String),
}

/// One user change: its steps, a description for error messages and what it is about.
#[derive(Debug, Clone)]
pub(super) struct Op {
    /// "add bob@example.com", for "Could not add bob@example.com: ...".
    pub what: String,
    /// What to show again after the change (and after a failure).
    pub subject: Subject,
    /// Steps not started yet.
    pub steps: VecDeque<Step>,
}

/// What the running step waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Trid(u32),
    Http(HttpId),
}

/// The step waiting for the server, and the operation it belongs to.
#[derive(Debug)]
struct Active {
    op: Op,
    step: Step,
    /// The group or contact id the step resolved when it started.
    target: Option<String>,
    waiting: Waiting,
    deadline: Instant,
}

/// The queue of operations.
#[derive(Debug, Default)]
pub(super) struct Ops {
    queue: VecDeque<Op>,
    active: Option<Active>,
}

/// How starting a step went.
enum Start {
    /// Sent; the step waits for this answer.
    Waiting(Waiting, Option<String>),
    /// Nothing to do (already so on the server).
    Skipped,
    /// Impossible; the operation fails with this text.
    Failed(String),
}

/// The server's answer to the running step.
pub(super) enum Answer<'a> {
    /// An NS reply (or numeric error) with the step's TrID.
    Ns(&'a NsCommand),
    /// The SOAP response (status, body) or the HTTP failure text.
    Http(Result<(u16, Vec<u8>), String>),
}

impl Ops {
    /// The TrID the running step waits for.
    pub(super) fn waiting_trid(&self) -> Option<u32> {
        match self.active.as_ref()?.waiting {
            Waiting::Trid(trid) => Some(trid),
            Waiting::Http(_) => None,
        }
    }

    /// Whether the running step waits for HTTP request `id`.
    pub(super) fn waits_for_http(&self, id: HttpId) -> bool {
        self.active
            .as_ref()
            .is_some_and(|a| a.waiting == Waiting::Http(id))
    }

    /// When the running step gives up.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.active.as_ref().map(|a| a.deadline)
    }
}

impl Session {
    /// Queues a user change and starts it if nothing else runs.
    pub(super) fn queue_op(&mut self, op: Op, now: Instant) {
        if op.steps.is_empty() {
            return;
        }
        if self.contacts.ops.queue.len() >= MAX_QUEUED {
            log::warn!("too many list changes queued: refusing to {}", op.what);
            self.event_contact(ContactEvent::Failed(format!(
                "Could not {}: too many changes are waiting for the server",
                op.what
            )));
            return;
        }
        self.contacts.ops.queue.push_back(op);
        self.run_ops(now);
    }

    /// Starts queued steps until one waits for the server (only once the list is known).
    pub(super) fn run_ops(&mut self, now: Instant) {
        while self.contacts.ops.active.is_none() && self.contacts.list_known() && !self.ended {
            let Some(mut op) = self.contacts.ops.queue.pop_front() else {
                return;
            };
            loop {
                let Some(step) = op.steps.pop_front() else {
                    self.op_done(&op);
                    break;
                };
                match self.start_step(&step) {
                    Start::Waiting(waiting, target) => {
                        self.contacts.ops.active = Some(Active {
                            op,
                            step,
                            target,
                            waiting,
                            deadline: now + STEP_TIMEOUT,
                        });
                        return;
                    }
                    Start::Skipped => continue,
                    Start::Failed(text) => {
                        self.op_failed(&op, &text);
                        break;
                    }
                }
            }
        }
    }

    /// The session ends: every list change the server has not confirmed is reported (it may or
    /// may not have got there; the next sign-in shows the server's list).
    pub(in crate::session) fn contacts_abandon(&mut self) {
        let ops = std::mem::take(&mut self.contacts.ops);
        for op in ops.active.map(|a| a.op).into_iter().chain(ops.queue) {
            self.event_contact(ContactEvent::Failed(format!(
                "Could not {}: the connection to the server was lost",
                op.what
            )));
        }
    }

    /// The server answered the running step.
    pub(super) fn op_answer(&mut self, answer: Answer<'_>, now: Instant) {
        let Some(active) = self.contacts.ops.active.take() else {
            return;
        };
        let Active {
            mut op,
            step,
            target,
            ..
        } = active;
        let result = match answer {
            Answer::Ns(NsCommand::Error(e)) => {
                Err(format!("server error {} ({})", e.code, e.description()))
            }
            Answer::Ns(reply) => self.finish_ns_step(&step, target.as_deref(), reply),
            Answer::Http(Err(text)) => Err(text),
            Answer::Http(Ok((status, body))) => {
                self.finish_soap_step(&step, target.as_deref(), status, &body)
            }
        };
        match result {
            Ok(follow_ups) => {
                for next in follow_ups.into_iter().rev() {
                    op.steps.push_front(next);
                }
                self.contacts.ops.queue.push_front(op);
            }
            Err(text) => {
                log::warn!("list change failed ({}): {text}", op.what);
                self.op_failed(&op, &text);
            }
        }
        self.run_ops(now);
    }

    /// The running step's deadline passed.
    pub(super) fn ops_timeout(&mut self, now: Instant) {
        if self.contacts.ops.deadline().is_some_and(|d| now >= d) {
            if let Some(active) = self.contacts.ops.active.take() {
                self.op_failed(&active.op, "the server did not answer");
            }
            self.run_ops(now);
        }
    }

    /// Parses a SOAP HTTP response for [`Session::op_answer`].
    pub(super) fn op_http(&mut self, raw: &[u8], now: Instant) {
        let answer = match HttpResponse::parse(raw) {
            Ok(response) => Ok((response.status, response.body)),
            Err(e) => Err(format!("invalid HTTP response: {e}")),
        };
        self.op_answer(Answer::Http(answer), now);
    }

    /// A finished change is shown as the server has it, unless a later queued change is about
    /// the same contact (showing the intermediate state would undo the user's later change).
    fn op_done(&mut self, op: &Op) {
        let later = self
            .contacts
            .ops
            .queue
            .iter()
            .any(|queued| queued.subject == op.subject);
        if !later {
            self.show_subject(&op.subject);
        }
    }

    fn op_failed(&mut self, op: &Op, text: &str) {
        self.event_contact(ContactEvent::Failed(format!(
            "Could not {}: {text}",
            op.what
        )));
        self.show_subject(&op.subject);
    }

    /// Shows the subject as the server has it now.
    fn show_subject(&mut self, subject: &Subject) {
        match subject {
            Subject::None => {}
            Subject::Buddy(email) => {
                let event = match self.contacts.roster.get(email) {
                    Some(c) if c.on(ListSet::FORWARD) => {
                        ContactEvent::BuddyChanged(self.contacts.roster.buddy(c))
                    }
                    _ => ContactEvent::BuddyRemoved {
                        email: email.clone(),
                    },
                };
                self.event_contact(event);
            }
            Subject::Privacy(email) => {
                let lists = self
                    .contacts
                    .roster
                    .get(email)
                    .map_or(ListSet::empty(), |c| c.lists);
                self.event_contact(ContactEvent::Allowed {
                    email: email.clone(),
                    on: lists.intersects(ListSet::ALLOW),
                });
                self.event_contact(ContactEvent::Blocked {
                    email: email.clone(),
                    on: lists.intersects(ListSet::BLOCK),
                });
            }
        }
    }

    /// The group id for `group` (`None` = the default group): MSNP8/9 use group `0`, later
    /// versions have no id for it. `Err` when the group is not on the server.
    fn group_id(&self, group: Option<&str>) -> Result<Option<String>, String> {
        match group {
            None if self.speaks().list_serials() => Ok(Some(NO_GROUP_V8.to_owned())),
            None => Ok(None),
            Some(name) => self
                .contacts
                .roster
                .group_by_name(name)
                .map(|g| Some(g.id.clone()))
                .ok_or_else(|| format!("there is no group \"{name}\" on the server")),
        }
    }

    /// The contact id of `email` (MSNP10+), for steps that need one.
    fn contact_id(&self, email: &str) -> Result<String, String> {
        self.contacts
            .roster
            .get(email)
            .and_then(|c| c.id.clone())
            .ok_or_else(|| format!("{email} is not on the server's contact list"))
    }

    /// How `REM FL` names a contact: its GUID from MSNP10 on, its address before.
    fn forward_ref(&self, email: &str, v10: bool) -> Result<String, String> {
        if v10 {
            self.contact_id(email)
        } else {
            Ok(email.to_owned())
        }
    }

    fn lists_of(&self, email: &str) -> ListSet {
        self.contacts
            .roster
            .get(email)
            .map_or(ListSet::empty(), |c| c.lists)
    }

    fn in_group(&self, email: &str, id: &str) -> bool {
        self.contacts
            .roster
            .get(email)
            .is_some_and(|c| c.groups.iter().any(|g| g.eq_ignore_ascii_case(id)))
    }

    fn start_step(&mut self, step: &Step) -> Start {
        let start = if self.speaks().soap_contacts() {
            self.start_soap_step(step)
        } else {
            self.start_ns_step(step)
        };
        start.unwrap_or_else(Start::Failed)
    }

    /// Sends `command` and waits for its reply.
    fn ns_step(&mut self, command: ClientCommand, target: Option<String>) -> Result<Start, String> {
        match self.send(command) {
            Some(trid) => Ok(Start::Waiting(Waiting::Trid(trid), target)),
            None => Err("not connected".to_owned()),
        }
    }

    /// MSNP8-12: the NS command of a step.
    fn start_ns_step(&mut self, step: &Step) -> Result<Start, String> {
        let v10 = self.speaks().contact_guids();
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
                self.ns_step(command, None)
            }
            Step::RemoveContact { email } => {
                if !self.lists_of(email).intersects(ListSet::FORWARD) {
                    return Ok(Start::Skipped);
                }
                let contact = self.forward_ref(email, v10)?;
                self.ns_step(
                    ClientCommand::Rem {
                        list: List::Forward,
                        contact,
                        group_id: None,
                    },
                    None,
                )
            }
            Step::JoinGroup { email, group } => {
                let Some(gid) = self.group_id(group.as_deref())? else {
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
                    let name = self.contacts.roster.get(email).and_then(|c| c.name.clone());
                    ClientCommand::Add {
                        list: List::Forward,
                        email: email.clone(),
                        friendly: name.unwrap_or_else(|| email.clone()),
                        group_id: Some(gid.clone()),
                    }
                };
                self.ns_step(command, Some(gid))
            }
            Step::LeaveGroup { email, group } => {
                let Some(gid) = self.group_id(group.as_deref())? else {
                    return Ok(Start::Skipped);
                };
                if !self.in_group(email, &gid) {
                    return Ok(Start::Skipped);
                }
                let contact = self.forward_ref(email, v10)?;
                self.ns_step(
                    ClientCommand::Rem {
                        list: List::Forward,
                        contact,
                        group_id: Some(gid.clone()),
                    },
                    Some(gid),
                )
            }
            Step::AddGroup { name } => {
                if self.contacts.roster.group_by_name(name).is_some() {
                    return Ok(Start::Skipped);
                }
                self.ns_step(ClientCommand::Adg { name: name.clone() }, None)
            }
            Step::RenameGroup { old, new } => {
                let Some(gid) = self
                    .contacts
                    .roster
                    .group_by_name(old)
                    .map(|g| g.id.clone())
                else {
                    return Ok(Start::Skipped);
                };
                let command = ClientCommand::Reg {
                    group_id: gid.clone(),
                    name: new.clone(),
                };
                self.ns_step(command, Some(gid))
            }
            Step::RemoveGroup { name } => {
                let Some(gid) = self
                    .contacts
                    .roster
                    .group_by_name(name)
                    .map(|g| g.id.clone())
                else {
                    return Ok(Start::Skipped);
                };
                let command = ClientCommand::Rmg {
                    group_id: gid.clone(),
                };
                self.ns_step(command, Some(gid))
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
                self.ns_step(command, None)
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
                self.ns_step(command, None)
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
                self.ns_step(command, None)
            }
            Step::OwnName { name } => {
                let command = if v10 {
                    ClientCommand::Prp {
                        property: "MFN".to_owned(),
                        value: Some(name.clone()),
                    }
                } else {
                    ClientCommand::Rea {
                        email: self.config.account.clone(),
                        name: name.clone(),
                    }
                };
                self.ns_step(command, None)
            }
            Step::ListXml { .. } | Step::OwnNameProfile { .. } => Ok(Start::Skipped),
        }
    }

    /// MSNP8-12 (and the NS half of MSNP13+ steps): applies a successful reply.
    fn finish_ns_step(
        &mut self,
        step: &Step,
        target: Option<&str>,
        reply: &NsCommand,
    ) -> Result<Vec<Step>, String> {
        let roster = &mut self.contacts.roster;
        match step {
            Step::AddContact { email } => {
                let contact = roster.entry(email).ok_or("the contact list is full")?;
                contact.lists |= ListSet::FORWARD;
                if contact.network == 0 {
                    contact.network = NETWORK_PASSPORT;
                }
                match reply {
                    NsCommand::Adc(adc) => {
                        if let Some(id) = &adc.entry.contact_id {
                            contact.id = Some(id.clone());
                        }
                        if let Some(name) = adc.entry.friendly.as_deref().and_then(clean_name) {
                            contact.name = Some(name);
                        }
                    }
                    NsCommand::Add(add) => {
                        contact.name = clean_name(&add.friendly);
                        if let Some(group) = &add.group_id {
                            contact.groups = vec![group.clone()];
                        }
                    }
                    _ => {}
                }
            }
            Step::RemoveContact { email } => {
                if let Some(contact) = roster.get_mut(email) {
                    contact.lists &= !ListSet::FORWARD;
                    contact.groups.clear();
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
                let NsCommand::Adg(adg) = reply else {
                    return Err("unexpected reply to ADG".to_owned());
                };
                roster.add_group(&adg.group_id, name);
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
            Step::AddToList { email, list } => {
                let contact = roster.entry(email).ok_or("the contact list is full")?;
                if *list == List::Reverse {
                    contact.lists = (contact.lists & !ListSet::PENDING) | ListSet::REVERSE;
                } else {
                    contact.lists |= list.flag();
                }
                self.show_privacy_change(email, *list, true);
            }
            Step::RemoveFromList { email, list } => {
                if let Some(contact) = roster.get_mut(email) {
                    contact.lists &= !list.flag();
                }
                roster.forget_if_unlisted(email);
                self.show_privacy_change(email, *list, false);
            }
            Step::Nickname { email, name } => {
                if let Some(contact) = roster.get_mut(email) {
                    contact.name = clean_name(name);
                }
            }
            Step::OwnName { name } => {
                self.contacts.own_name = clean_name(name);
                if let Some(name) = self.contacts.own_name.clone() {
                    self.event_contact(ContactEvent::OwnName(name));
                }
                if self.speaks().soap_contacts() {
                    return Ok(vec![Step::OwnNameProfile { name: name.clone() }]);
                }
            }
            Step::ListXml { .. } | Step::OwnNameProfile { .. } => {}
        }
        Ok(Vec::new())
    }

    /// Reports an allow/block list change.
    fn show_privacy_change(&mut self, email: &str, list: List, on: bool) {
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
        self.event_contact(event);
    }

    /// MSNP13+: the SOAP request (or NS command) of a step.
    fn start_soap_step(&mut self, step: &Step) -> Result<Start, String> {
        let Some((endpoints, ticket)) = self.contacts.soap_access(&self.login) else {
            return Err("the address book service is not available".to_owned());
        };
        let soap = |r: Result<crate::http::HttpRequest, SoapError>| {
            r.map_err(|e| format!("cannot build the request: {e}"))
        };
        let network = |s: &Session, email: &str| match s.contacts.roster.get(email) {
            Some(c) if c.network == NETWORK_YAHOO => NETWORK_YAHOO,
            _ => NETWORK_PASSPORT,
        };
        let (request, target) = match step {
            Step::AddContact { email } => {
                if self.lists_of(email).intersects(ListSet::FORWARD) {
                    return Ok(Start::Skipped);
                }
                let net = network(self, email);
                let r = abook_edit::contact_add_request(&endpoints, &ticket, email, net, email);
                (soap(r)?, None)
            }
            Step::RemoveContact { email } => {
                if !self.lists_of(email).intersects(ListSet::FORWARD) {
                    return Ok(Start::Skipped);
                }
                let id = self.contact_id(email)?;
                let r = abook_edit::contact_delete_request(&endpoints, &ticket, &id);
                (soap(r)?, None)
            }
            Step::JoinGroup { email, group } | Step::LeaveGroup { email, group } => {
                let Some(gid) = self.group_id(group.as_deref())? else {
                    return Ok(Start::Skipped);
                };
                let joining = matches!(step, Step::JoinGroup { .. });
                if self.in_group(email, &gid) == joining {
                    return Ok(Start::Skipped);
                }
                let id = self.contact_id(email)?;
                let r = if joining {
                    abook_edit::group_contact_add_request(&endpoints, &ticket, &gid, &id)
                } else {
                    abook_edit::group_contact_delete_request(&endpoints, &ticket, &gid, &id)
                };
                (soap(r)?, Some(gid))
            }
            Step::AddGroup { name } => {
                if self.contacts.roster.group_by_name(name).is_some() {
                    return Ok(Start::Skipped);
                }
                (
                    soap(abook_edit::group_add_request(&endpoints, &ticket, name))?,
                    None,
                )
            }
            Step::RenameGroup { old, new } => {
                let Some(gid) = self
                    .contacts
                    .roster
                    .group_by_name(old)
                    .map(|g| g.id.clone())
                else {
                    return Ok(Start::Skipped);
                };
                let r = abook_edit::group_update_request(&endpoints, &ticket, &gid, new);
                (soap(r)?, Some(gid))
            }
            Step::RemoveGroup { name } => {
                let Some(gid) = self
                    .contacts
                    .roster
                    .group_by_name(name)
                    .map(|g| g.id.clone())
                else {
                    return Ok(Start::Skipped);
                };
                let r = abook_edit::group_delete_request(&endpoints, &ticket, &gid);
                (soap(r)?, Some(gid))
            }
            Step::AddToList { email, list } | Step::RemoveFromList { email, list } => {
                let adding = matches!(step, Step::AddToList { .. });
                if self.lists_of(email).intersects(list.flag()) == adding {
                    return Ok(Start::Skipped);
                }
                let role = match list {
                    List::Allow => Role::Allow,
                    List::Block => Role::Block,
                    List::Pending => Role::Pending,
                    List::Reverse => Role::Reverse,
                    List::Forward => return Err("the forward list has no membership".to_owned()),
                };
                let net = network(self, email);
                let r = if adding {
                    membership::add_member_request(&endpoints, &ticket, role, email, net)
                } else {
                    membership::delete_member_request(&endpoints, &ticket, role, email, net)
                };
                (soap(r)?, None)
            }
            Step::Nickname { email, name } => {
                let id = self.contact_id(email)?;
                let r = abook_edit::contact_update_request(
                    &endpoints,
                    &ticket,
                    Some(&id),
                    ContactChange::Nickname(name),
                );
                (soap(r)?, None)
            }
            Step::OwnName { name } => {
                let command = ClientCommand::Prp {
                    property: "MFN".to_owned(),
                    value: Some(name.clone()),
                };
                return self.ns_step(command, None);
            }
            Step::OwnNameProfile { name } => {
                let r = abook_edit::contact_update_request(
                    &endpoints,
                    &ticket,
                    None,
                    ContactChange::DisplayName(name),
                );
                (soap(r)?, None)
            }
            Step::ListXml { add, email, lists } => {
                let entry = listxml::ListEntry {
                    email: email.clone(),
                    lists: *lists,
                    network: network(self, email),
                    friendly: None,
                };
                let payloads = listxml::build_list_payloads(&[entry], false)
                    .map_err(|e| format!("cannot build the list update: {e}"))?;
                let mut last = None;
                for payload in payloads {
                    last = self.send(match add {
                        true => ClientCommand::Adl { payload },
                        false => ClientCommand::Rml { payload },
                    });
                }
                return match last {
                    Some(trid) => Ok(Start::Waiting(Waiting::Trid(trid), None)),
                    None => Ok(Start::Skipped),
                };
            }
        };
        let id = self.next_http_id();
        self.out.push_back(Output::Http { id, request });
        Ok(Start::Waiting(Waiting::Http(id), target))
    }

    /// MSNP13+: applies a SOAP answer; returns the NS follow-ups.
    fn finish_soap_step(
        &mut self,
        step: &Step,
        target: Option<&str>,
        status: u16,
        body: &[u8],
    ) -> Result<Vec<Step>, String> {
        fn done<T>(status: u16, parsed: Result<T, SoapError>) -> Result<T, String> {
            with_status(status, parsed).map_err(|e| describe(&e))
        }
        let roster = &mut self.contacts.roster;
        match step {
            Step::AddContact { email } => {
                let id = done(status, abook_edit::parse_contact_add(body))?;
                let contact = roster.entry(email).ok_or("the contact list is full")?;
                contact.id = Some(id);
                contact.lists |= ListSet::FORWARD;
                if contact.network == 0 {
                    contact.network = NETWORK_PASSPORT;
                }
                let lists = if contact.on(ListSet::BLOCK) {
                    ListSet::FORWARD
                } else {
                    ListSet::FORWARD | ListSet::ALLOW
                };
                if lists.intersects(ListSet::ALLOW) && !contact.on(ListSet::ALLOW) {
                    contact.lists |= ListSet::ALLOW;
                    self.show_privacy_change(email, List::Allow, true);
                }
                return Ok(vec![Step::ListXml {
                    add: true,
                    email: email.clone(),
                    lists,
                }]);
            }
            Step::RemoveContact { email } => {
                done(status, parse_empty_response(body))?;
                if let Some(contact) = roster.get_mut(email) {
                    contact.lists &= !ListSet::FORWARD;
                    contact.groups.clear();
                    contact.id = None;
                }
                return Ok(vec![Step::ListXml {
                    add: false,
                    email: email.clone(),
                    lists: ListSet::FORWARD,
                }]);
            }
            Step::AddGroup { name } => {
                let id = done(status, abook_edit::parse_group_add(body))?;
                roster.add_group(&id, name);
                return Ok(Vec::new());
            }
            Step::AddToList { email, list } | Step::RemoveFromList { email, list } => {
                // Already so on the server (another client, or the server's own bookkeeping).
                let settled = |e: &SoapError| {
                    matches!(e, SoapError::Fault { code, .. }
                        if code == "MemberAlreadyExists" || code == "MemberDoesNotExist")
                };
                match with_status(status, parse_empty_response(body)) {
                    Err(e) if settled(&e) => log::info!("membership already as asked: {e}"),
                    other => done(status, other)?,
                }
                let adding = matches!(step, Step::AddToList { .. });
                let contact = roster.entry(email).ok_or("the contact list is full")?;
                if adding {
                    contact.lists |= list.flag();
                } else {
                    contact.lists &= !list.flag();
                }
                if contact.network == 0 {
                    contact.network = NETWORK_PASSPORT;
                }
                self.show_privacy_change(email, *list, adding);
                if matches!(list, List::Allow | List::Block) {
                    return Ok(vec![Step::ListXml {
                        add: adding,
                        email: email.clone(),
                        lists: list.flag(),
                    }]);
                }
                self.contacts.roster.forget_if_unlisted(email);
                return Ok(Vec::new());
            }
            _ => {}
        }
        done(status, parse_empty_response(body))?;
        match step {
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
            Step::Nickname { email, name } => {
                if let Some(contact) = roster.get_mut(email) {
                    contact.nickname = clean_name(name);
                }
            }
            _ => {}
        }
        Ok(Vec::new())
    }
}
