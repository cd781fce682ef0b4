//! The SOAP transport of list changes (MSNP13+): a step as one request to the address-book
//! or sharing service, and the service's answer to it.

use super::{Reply, Start, Step, StepError, Waiting};
use crate::http::HttpRequest;
use crate::listxml;
use crate::session::contacts::{Contacts, NETWORK_PASSPORT, NETWORK_YAHOO};
use crate::session::cx::Cx;
use crate::session::Output;
use crate::soap::abook_edit::{self, ContactChange};
use crate::soap::envelope::parse_empty_response;
use crate::soap::membership::{self, Role};
use crate::soap::{with_status, SoapError};
use crate::wire::{ClientCommand, List, ListSet};

impl Contacts {
    /// MSNP13+: the SOAP request (or NS command) of a step.
    pub(super) fn start_soap_step(&mut self, cx: &mut Cx, step: &Step) -> Result<Start, StepError> {
        let Some((endpoints, ticket)) = self.soap_access(cx) else {
            return Err(StepError::NoService);
        };
        let soap = |r: Result<HttpRequest, SoapError>| r.map_err(StepError::Request);
        let network = |s: &Contacts, email: &str| match s.roster.get(email) {
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
                let Some(gid) = self.group_id(cx, group.as_deref())? else {
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
                if self.roster.group_by_name(name).is_some() {
                    return Ok(Start::Skipped);
                }
                (
                    soap(abook_edit::group_add_request(&endpoints, &ticket, name))?,
                    None,
                )
            }
            Step::RenameGroup { old, new } => {
                let Some(gid) = self.roster.group_by_name(old).map(|g| g.id.clone()) else {
                    return Ok(Start::Skipped);
                };
                let r = abook_edit::group_update_request(&endpoints, &ticket, &gid, new);
                (soap(r)?, Some(gid))
            }
            Step::RemoveGroup { name } => {
                let Some(gid) = self.roster.group_by_name(name).map(|g| g.id.clone()) else {
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
                    List::Forward => return Err(StepError::NoMembership),
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
                return self.ns_step(cx, command, None);
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
                let payloads =
                    listxml::build_list_payloads(&[entry], false).map_err(StepError::ListUpdate)?;
                let mut last = None;
                for payload in payloads {
                    last = cx.send_ns(match add {
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
        let id = cx.http_id();
        cx.output(Output::Http { id, request });
        Ok(Start::Waiting(Waiting::Http(id), target))
    }
}

/// What the service's answer (`status`, `body`) to `step` says.
pub(super) fn reply(step: &Step, status: u16, body: &[u8]) -> Result<Reply, StepError> {
    fn done<T>(status: u16, parsed: Result<T, SoapError>) -> Result<T, StepError> {
        with_status(status, parsed).map_err(StepError::Service)
    }
    match step {
        Step::AddContact { .. } => Ok(Reply::ContactAdded {
            id: Some(done(status, abook_edit::parse_contact_add(body))?),
            name: None,
            group: None,
        }),
        Step::AddGroup { .. } => Ok(Reply::GroupAdded {
            id: done(status, abook_edit::parse_group_add(body))?,
        }),
        Step::AddToList { .. } | Step::RemoveFromList { .. } => {
            // Already so on the server (another client, or the server's own bookkeeping).
            let settled = |e: &SoapError| {
                matches!(e, SoapError::Fault { code, .. }
                    if code == "MemberAlreadyExists" || code == "MemberDoesNotExist")
            };
            match with_status(status, parse_empty_response(body)) {
                Err(e) if settled(&e) => log::info!("membership already as asked: {e}"),
                other => other.map_err(StepError::Service)?,
            }
            Ok(Reply::Done)
        }
        _ => {
            done(status, parse_empty_response(body))?;
            Ok(Reply::Done)
        }
    }
}
