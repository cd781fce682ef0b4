//! MSNP8-12 list changes on the NS: `ADC`/`ADD`, `REM`, `ADG`, `RMG`, `REG`, `SBP`, answered
//! the way Escargot does (docs/protocol.md §5.1).

use super::lists::{list_add, list_remove, ListError};
use super::presence::Outbox;
use super::{Flow, Session};
use crate::directory::{Group, AL, BL, FL, PL, RL};
use crate::wire::{percent_decode, percent_encode, Command};

/// Longest group name Escargot takes.
const MAX_GROUP_NAME: usize = 61;

/// The bit of a list name.
fn list_bit(name: &str) -> Option<u8> {
    match name {
        "FL" => Some(FL),
        "AL" => Some(AL),
        "BL" => Some(BL),
        "RL" => Some(RL),
        "PL" => Some(PL),
        _ => None,
    }
}

/// What went wrong with a list command.
enum Refusal {
    /// Answer with this error code.
    Code(u16),
    /// Close the connection (Escargot's answer to `RL` misuse).
    Close,
}

impl Session {
    fn refuse(&self, cmd: &Command, refusal: Refusal) -> Flow {
        match refusal {
            Refusal::Code(code) => {
                self.error(code, cmd);
                Flow::Continue
            }
            Refusal::Close => Flow::Close,
        }
    }

    fn list_error(&self, e: ListError) -> Refusal {
        match e {
            ListError::NoSuchUser if self.dialect() >= 10 => Refusal::Code(208),
            ListError::NoSuchUser => Refusal::Code(205),
            ListError::Exclusive => Refusal::Code(219),
            ListError::NotPending => Refusal::Close,
        }
    }

    /// `ADC <trid> <list> N=<email> [F=<name>]` adds to a list; `ADC <trid> FL C=<guid> <group>`
    /// puts a contact in a group (MSNP10-12).
    pub(super) fn handle_adc(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(bit)) = (cmd.trid(), cmd.arg(1).and_then(list_bit)) else {
            return Flow::Close;
        };
        if self.dialect() < 10 {
            return Flow::Close;
        }
        let field = |prefix: &str| {
            cmd.args
                .iter()
                .skip(2)
                .find_map(|a| a.strip_prefix(prefix))
                .map(percent_decode)
        };
        let group = cmd.args.iter().skip(2).find(|a| !a.contains('=')).cloned();
        let Some(me) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let mut out = Outbox::default();
        let reply = {
            let mut dir = self.shared.directory();
            match (field("N="), field("C="), group) {
                (Some(email), None, None) => {
                    if dir.contact(&me, &email).is_some_and(|c| c.lists & bit != 0) {
                        Err(Refusal::Code(215))
                    } else {
                        match list_add(&mut dir, &me, &email, bit, &mut out) {
                            Ok(()) if bit == FL => {
                                let user = dir.user(&email);
                                let name = user.map_or(email.clone(), |u| u.friendly.clone());
                                let uuid = user.map_or(String::new(), |u| u.uuid.clone());
                                Ok(format!(
                                    "ADC {trid} FL N={email} F={} C={uuid}",
                                    percent_encode(&name)
                                ))
                            }
                            Ok(()) => Ok(format!("ADC {trid} {} N={email}", cmd.args[1])),
                            Err(e) => Err(self.list_error(e)),
                        }
                    }
                }
                (None, Some(uuid), Some(group)) if bit == FL => {
                    let email = dir.user_by_uuid(&uuid).map(|u| u.email.clone());
                    let known = dir
                        .user(&me)
                        .is_some_and(|u| u.groups.iter().any(|g| g.id == group));
                    match email {
                        Some(email) if known => match dir.contact_mut(&me, &email) {
                            Some(c) if c.lists & FL != 0 => {
                                if !c.groups.contains(&group) {
                                    c.groups.push(group.clone());
                                }
                                Ok(format!("ADC {trid} FL C={uuid} {group}"))
                            }
                            _ => Err(Refusal::Code(216)),
                        },
                        Some(_) => Err(Refusal::Code(224)),
                        None => Err(Refusal::Code(208)),
                    }
                }
                _ => Err(Refusal::Code(201)),
            }
        };
        out.send();
        match reply {
            Ok(line) => {
                self.conn.send(&line);
                Flow::Continue
            }
            Err(refusal) => self.refuse(cmd, refusal),
        }
    }

    /// `ADD <trid> <list> <email> <name> [<group>]` (MSNP8/9) ->
    /// `ADD <trid> <list> <ser> <email> <name> [<group>]`.
    pub(super) fn handle_add(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(bit), Some(email), Some(name)) = (
            cmd.trid(),
            cmd.arg(1).and_then(list_bit),
            cmd.arg(2),
            cmd.arg(3),
        ) else {
            return Flow::Close;
        };
        if self.dialect() >= 10 {
            return Flow::Close;
        }
        let email = percent_decode(email);
        let Some(me) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let group = cmd.arg(4).filter(|_| bit == FL);
        let mut out = Outbox::default();
        let result = {
            let mut dir = self.shared.directory();
            let on_list = dir.contact(&me, &email).is_some_and(|c| c.lists & bit != 0);
            let group_id = match group {
                None | Some("0") => Ok(None),
                Some(numeric) => dir
                    .user(&me)
                    .and_then(|u| u.groups.iter().find(|g| g.numeric.to_string() == numeric))
                    .map(|g| Some(g.id.clone()))
                    .ok_or(Refusal::Code(224)),
            };
            let result = match group_id {
                Err(e) => Err(e),
                Ok(_) if on_list && (bit != FL || group.is_none()) => Err(Refusal::Code(215)),
                Ok(gid) => {
                    let added = match on_list {
                        true => Ok(()),
                        false => list_add(&mut dir, &me, &email, bit, &mut out)
                            .map_err(|e| self.list_error(e)),
                    };
                    if let (Ok(()), Some(gid)) = (&added, gid) {
                        if let Some(c) = dir.contact_mut(&me, &email) {
                            if !c.groups.contains(&gid) {
                                c.groups.push(gid);
                            }
                        }
                    }
                    added
                }
            };
            result.map(|()| {
                let user = dir.user_mut(&me);
                user.map_or(1, |u| {
                    u.serial += 1;
                    u.serial
                })
            })
        };
        out.send();
        match result {
            Ok(serial) => {
                let tail = group.map(|g| format!(" {g}")).unwrap_or_default();
                self.conn.send(&format!(
                    "ADD {trid} {} {serial} {email} {name}{tail}",
                    cmd.args[1]
                ));
                Flow::Continue
            }
            Err(refusal) => self.refuse(cmd, refusal),
        }
    }

    /// `REM <trid> <list> <contact> [<group>]`: off a list, or out of a group (FL by GUID from
    /// MSNP10, others by address); `RL` closes the connection.
    pub(super) fn handle_rem(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(bit), Some(contact)) = (
            cmd.trid(),
            cmd.arg(1).and_then(list_bit),
            cmd.arg(2).map(percent_decode),
        ) else {
            return Flow::Close;
        };
        if bit == RL {
            return Flow::Close;
        }
        let Some(me) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let v10 = self.dialect() >= 10;
        let group = cmd.arg(3).map(str::to_owned);
        let mut out = Outbox::default();
        let result = {
            let mut dir = self.shared.directory();
            let email = match (bit, v10) {
                (FL, true) => dir.user_by_uuid(&contact).map(|u| u.email.clone()),
                _ => Some(contact.clone()),
            };
            let on_list = email
                .as_deref()
                .and_then(|e| dir.contact(&me, e))
                .is_some_and(|c| c.lists & bit != 0);
            let result = match (email, &group) {
                (Some(email), Some(group)) if on_list && bit == FL => {
                    let gid = match v10 {
                        true => Some(group.clone()),
                        false => dir.user(&me).and_then(|u| {
                            u.groups
                                .iter()
                                .find(|g| g.numeric.to_string() == *group)
                                .map(|g| g.id.clone())
                        }),
                    };
                    if let (Some(gid), Some(c)) = (gid, dir.contact_mut(&me, &email)) {
                        c.groups.retain(|g| *g != gid);
                    }
                    Ok(())
                }
                (Some(email), None) if on_list => {
                    list_remove(&mut dir, &me, &email, bit, &mut out);
                    Ok(())
                }
                _ => Err(Refusal::Code(216)),
            };
            result.map(|()| {
                dir.user_mut(&me).map_or(1, |u| {
                    u.serial += 1;
                    u.serial
                })
            })
        };
        out.send();
        match result {
            Ok(serial) => {
                let ser = if v10 {
                    String::new()
                } else {
                    format!(" {serial}")
                };
                let tail = group.map(|g| format!(" {g}")).unwrap_or_default();
                self.conn.send(&format!(
                    "REM {trid} {}{ser} {}{tail}",
                    cmd.args[1], cmd.args[2]
                ));
                Flow::Continue
            }
            Err(refusal) => self.refuse(cmd, refusal),
        }
    }

    /// `ADG <trid> <name> [0]` -> `ADG <trid> <name> <guid> 0` (MSNP10+) or
    /// `ADG <trid> <ser> <name> <id> 0`.
    pub(super) fn handle_adg(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(raw)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        let name = percent_decode(raw);
        let Some(me) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        if name.chars().count() > MAX_GROUP_NAME {
            self.error(229, cmd);
            return Flow::Continue;
        }
        let created = {
            let mut dir = self.shared.directory();
            let id = dir.new_guid();
            dir.user_mut(&me).and_then(|u| {
                if u.groups.iter().any(|g| g.name == name) || name == "(No Group)" {
                    return None;
                }
                let numeric = u.groups.iter().map(|g| g.numeric).max().unwrap_or(0) + 1;
                u.groups.push(Group {
                    id: id.clone(),
                    numeric,
                    name: name.clone(),
                });
                u.serial += 1;
                Some((id, numeric, u.serial))
            })
        };
        match created {
            Some((id, _, _)) if self.dialect() >= 10 => {
                self.conn.send(&format!("ADG {trid} {raw} {id} 0"))
            }
            Some((_, numeric, serial)) => self
                .conn
                .send(&format!("ADG {trid} {serial} {raw} {numeric} 0")),
            None => self.error(228, cmd),
        }
        Flow::Continue
    }

    /// The group `token` names (a GUID, or the MSNP8/9 number) of `me`, as (id, number).
    fn find_group(&self, me: &str, token: &str) -> Option<(String, u32)> {
        let dir = self.shared.directory();
        let user = dir.user(me)?;
        user.groups
            .iter()
            .find(|g| g.id == token || g.numeric.to_string() == token)
            .map(|g| (g.id.clone(), g.numeric))
    }

    /// `RMG <trid> <group>` -> `RMG <trid> 1 <guid>` (MSNP10+) or `RMG <trid> <ser> <id>`.
    pub(super) fn handle_rmg(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(token)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        let Some(me) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let Some((id, _)) = self.find_group(&me, token) else {
            self.error(224, cmd);
            return Flow::Continue;
        };
        let serial = {
            let mut dir = self.shared.directory();
            dir.user_mut(&me).map_or(1, |u| {
                u.groups.retain(|g| g.id != id);
                for c in &mut u.contacts {
                    c.groups.retain(|g| *g != id);
                }
                u.serial += 1;
                u.serial
            })
        };
        match self.dialect() {
            10.. => self.conn.send(&format!("RMG {trid} 1 {token}")),
            _ => self.conn.send(&format!("RMG {trid} {serial} {token}")),
        }
        Flow::Continue
    }

    /// `REG <trid> <group> <name>` -> Escargot's `REG <trid> 1 <name> <guid> 0` (MSNP10+) or
    /// `REG <trid> <ser> <id> <name> 0`.
    pub(super) fn handle_reg(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(token), Some(raw)) = (cmd.trid(), cmd.arg(1), cmd.arg(2)) else {
            return Flow::Close;
        };
        let name = percent_decode(raw);
        let Some(me) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        if name.chars().count() > MAX_GROUP_NAME {
            self.error(229, cmd);
            return Flow::Continue;
        }
        let Some((id, _)) = self.find_group(&me, token) else {
            self.error(224, cmd);
            return Flow::Continue;
        };
        let serial = {
            let mut dir = self.shared.directory();
            dir.user_mut(&me).map_or(1, |u| {
                for g in u.groups.iter_mut().filter(|g| g.id == id) {
                    g.name = name.clone();
                }
                u.serial += 1;
                u.serial
            })
        };
        match self.dialect() {
            10.. => self.conn.send(&format!("REG {trid} 1 {raw} {token} 0")),
            _ => self
                .conn
                .send(&format!("REG {trid} {serial} {token} {raw} 0")),
        }
        Flow::Continue
    }

    /// `SBP <trid> <guid> MFN <name>`: the name shown for a contact (MSNP10-12), echoed.
    pub(super) fn handle_sbp(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(uuid), Some(kind), Some(raw)) =
            (cmd.trid(), cmd.arg(1), cmd.arg(2), cmd.arg(3))
        else {
            return Flow::Close;
        };
        let Some(me) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let stored = {
            let mut dir = self.shared.directory();
            let email = dir.user_by_uuid(uuid).map(|u| u.email.clone());
            match (email, kind) {
                (Some(email), "MFN") => dir
                    .contact_mut(&me, &email)
                    .map(|c| c.name = Some(percent_decode(raw)))
                    .is_some(),
                (Some(_), _) => true,
                (None, _) => false,
            }
        };
        if stored {
            self.conn.send(&format!("SBP {trid} {uuid} {kind} {raw}"));
        } else {
            self.error(208, cmd);
        }
        Flow::Continue
    }
}
