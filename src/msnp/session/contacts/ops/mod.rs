//! List changes asked for by the user, run one server round trip at a time: an [`Op`] is a
//! queue of [`Step`]s, and the next step starts when the server has answered the last (the
//! queue, here). A step goes to the server through one of two transports: one NS command
//! (MSNP8-12, [`ns`]) or one SOAP request (MSNP13+, [`soap`], followed by `ADL`/`RML` on the
//! NS). The transport reads the server's answer into a [`Reply`]; what a confirmed step changes
//! in the roster is written once, in [`apply`](mod@apply). A step that cannot run or that the
//! server refuses fails its operation with a [`StepError`]. Ids (contact and group GUIDs) are
//! looked up when a step starts, so a group created by an earlier step is known to the later
//! ones.

mod apply;
mod error;
mod ns;
mod soap;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::events::ContactEvent;
use super::{contact_event, Contacts};
use crate::http::HttpResponse;
use crate::session::cx::Cx;
use crate::session::HttpId;
use crate::wire::{List, ListSet, NsCommand};

pub(super) use error::StepError;

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
}

/// The server's answer to the running step.
pub(super) enum Answer<'a> {
    /// An NS reply (or numeric error) with the step's TrID.
    Ns(&'a NsCommand),
    /// The SOAP response (status, body) or the HTTP failure.
    Http(Result<(u16, Vec<u8>), StepError>),
}

/// What the server's answer to a step says, read by the step's transport.
#[derive(Debug)]
enum Reply {
    /// Done as asked.
    Done,
    /// A contact is on the forward list now: the id it got (MSNP10+), and the name and
    /// group the answer carries.
    ContactAdded {
        id: Option<String>,
        name: Option<String>,
        group: Option<String>,
    },
    /// A group was created with this id.
    GroupAdded { id: String },
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

impl Contacts {
    /// The session ends: every list change the server has not confirmed is reported (it may or
    /// may not have got there; the next sign-in shows the server's list).
    pub(in crate::session) fn abandon(&mut self, cx: &mut Cx) {
        let ops = std::mem::take(&mut self.ops);
        for op in ops.active.map(|a| a.op).into_iter().chain(ops.queue) {
            contact_event(
                cx,
                ContactEvent::Failed(format!(
                    "Could not {}: the connection to the server was lost",
                    op.what
                )),
            );
        }
    }

    /// Queues a user change and starts it if nothing else runs.
    pub(super) fn queue_op(&mut self, cx: &mut Cx, op: Op, now: Instant) {
        if op.steps.is_empty() {
            return;
        }
        if self.ops.queue.len() >= MAX_QUEUED {
            log::warn!("too many list changes queued: refusing to {}", op.what);
            contact_event(
                cx,
                ContactEvent::Failed(format!(
                    "Could not {}: too many changes are waiting for the server",
                    op.what
                )),
            );
            return;
        }
        self.ops.queue.push_back(op);
        self.run_ops(cx, now);
    }

    /// Starts queued steps until one waits for the server (only once the list is known).
    pub(super) fn run_ops(&mut self, cx: &mut Cx, now: Instant) {
        while self.ops.active.is_none() && self.list_known() && cx.has_ns() {
            let Some(mut op) = self.ops.queue.pop_front() else {
                return;
            };
            loop {
                let Some(step) = op.steps.pop_front() else {
                    self.op_done(cx, &op);
                    break;
                };
                match self.start_step(cx, &step) {
                    Ok(Start::Waiting(waiting, target)) => {
                        self.ops.active = Some(Active {
                            op,
                            step,
                            target,
                            waiting,
                            deadline: now + STEP_TIMEOUT,
                        });
                        return;
                    }
                    Ok(Start::Skipped) => continue,
                    Err(error) => {
                        self.op_failed(cx, &op, &error);
                        break;
                    }
                }
            }
        }
    }

    /// The server answered the running step.
    pub(super) fn op_answer(&mut self, cx: &mut Cx, answer: Answer<'_>, now: Instant) {
        let Some(active) = self.ops.active.take() else {
            return;
        };
        let Active {
            mut op,
            step,
            target,
            ..
        } = active;
        let reply = match answer {
            Answer::Ns(reply) => ns::reply(&step, reply),
            Answer::Http(Err(error)) => Err(error),
            Answer::Http(Ok((status, body))) => soap::reply(&step, status, &body),
        };
        let result = reply.and_then(|reply| self.apply(cx, &step, target.as_deref(), reply));
        match result {
            Ok(follow_ups) => {
                for next in follow_ups.into_iter().rev() {
                    op.steps.push_front(next);
                }
                self.ops.queue.push_front(op);
            }
            Err(error) => {
                log::warn!("list change failed ({}): {error}", op.what);
                self.op_failed(cx, &op, &error);
            }
        }
        self.run_ops(cx, now);
    }

    /// The running step's deadline passed.
    pub(super) fn ops_timeout(&mut self, cx: &mut Cx, now: Instant) {
        if self.ops.deadline().is_some_and(|d| now >= d) {
            if let Some(active) = self.ops.active.take() {
                self.op_failed(cx, &active.op, &StepError::NoAnswer);
            }
            self.run_ops(cx, now);
        }
    }

    /// Parses a SOAP HTTP response for [`Contacts::op_answer`].
    pub(super) fn op_http(&mut self, cx: &mut Cx, raw: &[u8], now: Instant) {
        let answer = match HttpResponse::parse(raw) {
            Ok(response) => Ok((response.status, response.body)),
            Err(e) => Err(StepError::InvalidHttp(e)),
        };
        self.op_answer(cx, Answer::Http(answer), now);
    }

    /// A finished change is shown as the server has it, unless a later queued change is about
    /// the same contact (showing the intermediate state would undo the user's later change).
    fn op_done(&mut self, cx: &mut Cx, op: &Op) {
        let later = self
            .ops
            .queue
            .iter()
            .any(|queued| queued.subject == op.subject);
        if !later {
            self.show_subject(cx, &op.subject);
        }
    }

    fn op_failed(&mut self, cx: &mut Cx, op: &Op, error: &StepError) {
        contact_event(
            cx,
            ContactEvent::Failed(format!("Could not {}: {error}", op.what)),
        );
        self.show_subject(cx, &op.subject);
    }

    /// Shows the subject as the server has it now.
    fn show_subject(&mut self, cx: &mut Cx, subject: &Subject) {
        match subject {
            Subject::None => {}
            Subject::Buddy(email) => {
                let event = match self.roster.get(email) {
                    Some(c) if c.on(ListSet::FORWARD) => {
                        ContactEvent::BuddyChanged(self.roster.buddy(c))
                    }
                    _ => ContactEvent::BuddyRemoved {
                        email: email.clone(),
                    },
                };
                contact_event(cx, event);
            }
            Subject::Privacy(email) => {
                let lists = self.roster.get(email).map_or(ListSet::empty(), |c| c.lists);
                contact_event(
                    cx,
                    ContactEvent::Allowed {
                        email: email.clone(),
                        on: lists.intersects(ListSet::ALLOW),
                    },
                );
                contact_event(
                    cx,
                    ContactEvent::Blocked {
                        email: email.clone(),
                        on: lists.intersects(ListSet::BLOCK),
                    },
                );
            }
        }
    }

    /// The group id for `group` (`None` = the default group): MSNP8/9 use group `0`, later
    /// versions have no id for it. `Err` when the group is not on the server.
    fn group_id(&self, cx: &Cx, group: Option<&str>) -> Result<Option<String>, StepError> {
        match group {
            None if cx.dialect.list_serials() => Ok(Some(NO_GROUP_V8.to_owned())),
            None => Ok(None),
            Some(name) => self
                .roster
                .group_by_name(name)
                .map(|g| Some(g.id.clone()))
                .ok_or_else(|| StepError::NoGroup(name.to_owned())),
        }
    }

    /// The contact id of `email` (MSNP10+), for steps that need one.
    fn contact_id(&self, email: &str) -> Result<String, StepError> {
        self.roster
            .get(email)
            .and_then(|c| c.id.clone())
            .ok_or_else(|| StepError::NotOnServer(email.to_owned()))
    }

    fn lists_of(&self, email: &str) -> ListSet {
        self.roster.get(email).map_or(ListSet::empty(), |c| c.lists)
    }

    fn in_group(&self, email: &str, id: &str) -> bool {
        self.roster
            .get(email)
            .is_some_and(|c| c.groups.iter().any(|g| g.eq_ignore_ascii_case(id)))
    }

    /// Sends a step through the dialect's transport.
    fn start_step(&mut self, cx: &mut Cx, step: &Step) -> Result<Start, StepError> {
        if cx.dialect.soap_contacts() {
            self.start_soap_step(cx, step)
        } else {
            self.start_ns_step(cx, step)
        }
    }
}
