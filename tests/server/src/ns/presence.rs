//! Keep-alive and presence: `PNG`, `CHG`, `UUX`, `PRP`, `BLP`, `GTC`, and the `ILN`/`NLN`/
//! `FLN`/`UBX` the others get, in each receiver's dialect (docs/protocol.md §1.4, §6; Escargot's
//! `build_presence_notif`).

use std::sync::Arc;

use super::{Flow, Session};
use crate::conn::Conn;
use crate::directory::{Directory, Online, FL};
use crate::wire::{percent_decode, percent_encode, Command};

/// Statuses a client may set.
const STATUSES: &[&str] = &["NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN"];
/// The `UBX` document of someone who never sent `UUX`.
pub(crate) const EMPTY_DATA: &[u8] = b"<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>";
/// The MSNObject Escargot reports for someone who never set one.
const NO_MSNOBJ: &str = "%3Cmsnobj%2F%3E";

/// Lines for other connections, sent once the directory is unlocked.
#[derive(Default)]
pub(crate) struct Outbox(Vec<(Arc<Conn>, String, Option<Vec<u8>>)>);

impl Outbox {
    /// Queues `line` (and a payload) for `conn`.
    pub(crate) fn push(&mut self, conn: &Arc<Conn>, line: String, payload: Option<Vec<u8>>) {
        self.0.push((conn.clone(), line, payload));
    }

    /// Sends everything queued.
    pub(crate) fn send(self) {
        for (conn, line, payload) in self.0 {
            match payload {
                Some(payload) => conn.send_with_payload(&line, &payload),
                None => conn.send(&line),
            }
        }
    }
}

/// The address of `email` in a presence command of `dialect`: bare, `email 1`, or `1:email`.
fn address(email: &str, dialect: u32) -> String {
    match dialect {
        ..=13 => email.to_owned(),
        14..=17 => format!("{email} 1"),
        _ => format!("1:{email}"),
    }
}

/// `<status> <address> <friendly> [<caps>] [<msnobj>]` of `target` for `dialect`.
pub(crate) fn presence_args(target: &Online, friendly: &str, status: &str, dialect: u32) -> String {
    let mut args = format!(
        "{status} {} {}",
        address(&target.email, dialect),
        percent_encode(friendly)
    );
    if dialect >= 8 {
        let base = target.caps.split(':').next().unwrap_or("0");
        match dialect {
            ..=15 => args.push_str(&format!(" {base}")),
            _ if target.caps.contains(':') => args.push_str(&format!(" {}", target.caps)),
            _ => args.push_str(&format!(" {base}:0")),
        }
    }
    if dialect >= 9 {
        args.push(' ');
        args.push_str(target.msnobj.as_deref().unwrap_or(NO_MSNOBJ));
    }
    args
}

/// `FLN` of `email` for `dialect`.
fn fln_line(email: &str, dialect: u32) -> String {
    match dialect {
        ..=13 => format!("FLN {email}"),
        14..=15 => format!("FLN {email} 1 0"),
        16..=17 => format!("FLN {email} 1 0:0"),
        _ => format!("FLN 1:{email} 0:0"),
    }
}

/// Queues `target`'s presence for the `watcher` connection: `ILN` (with `iln_trid`, before
/// MSNP18) or `NLN`, then `UBX` (MSNP11+); `FLN` when it is offline, hidden or not allowed.
fn queue_presence(
    dir: &Directory,
    watcher: &Online,
    target: &str,
    iln_trid: Option<&str>,
    out: &mut Outbox,
) {
    let visible = dir
        .status_of(target)
        .filter(|_| dir.may_see(&watcher.email, target));
    let d = watcher.dialect;
    let Some(online) = visible else {
        if iln_trid.is_none() {
            out.push(&watcher.conn, fln_line(target, d), None);
        }
        return;
    };
    let friendly = dir
        .user(target)
        .map_or(target.to_owned(), |u| u.friendly.clone());
    let status = online.status.clone().unwrap_or_else(|| "NLN".to_owned());
    let args = presence_args(&online, &friendly, &status, d);
    let line = match iln_trid {
        Some(trid) if d < 18 => format!("ILN {trid} {args}"),
        _ => format!("NLN {args}"),
    };
    out.push(&watcher.conn, line, None);
    if d >= 11 {
        let mut psm = match online.psm.is_empty() {
            true => EMPTY_DATA.to_vec(),
            false => online.psm.clone(),
        };
        if d >= 16 {
            psm = super::endpoints::with_endpoints(&psm, &super::endpoints::places_of(dir, target));
        }
        let ubx = match d {
            ..=13 => format!("UBX {} {}", online.email, psm.len()),
            14..=17 => format!("UBX {} 1 {}", online.email, psm.len()),
            _ => format!("UBX 1:{} {}", online.email, psm.len()),
        };
        out.push(&watcher.conn, ubx, Some(psm));
    }
}

/// Queues `target`'s current presence for every connection that has it on its forward list.
pub(crate) fn notify_watchers(dir: &Directory, target: &str, out: &mut Outbox) {
    for watcher in dir.all_online() {
        let watches = dir
            .contact(&watcher.email, target)
            .is_some_and(|c| c.lists & FL != 0);
        if watcher.status.is_some() && watches && !watcher.email.eq_ignore_ascii_case(target) {
            queue_presence(dir, &watcher, target, None, out);
        }
    }
}

/// Queues `target`'s presence for every signed-in connection of `watcher` (after the watcher
/// added it, or its privacy changed).
pub(crate) fn show_to(dir: &Directory, watcher: &str, target: &str, out: &mut Outbox) {
    for online in dir.online_of(watcher) {
        if online.status.is_some() {
            queue_presence(dir, &online, target, None, out);
        }
    }
}

impl Session {
    /// `PNG` -> `QNG <seconds>` (bare `QNG` for MSNP8), unless `ignore_png`.
    pub(super) fn handle_png(&mut self) -> Flow {
        if !self.shared.config.ignore_png {
            if self.dialect() < 9 {
                self.conn.send("QNG");
            } else {
                self.conn
                    .send(&format!("QNG {}", self.shared.config.qng_seconds));
            }
        }
        Flow::Continue
    }

    /// This connection's presence record, created at the first use after sign-in.
    pub(super) fn online_record(&self, dir: &mut Directory) -> Option<Online> {
        let email = self.email()?.to_owned();
        if dir.online(self.conn.id).is_none() {
            dir.set_online(
                self.conn.id,
                Online {
                    email,
                    dialect: self.dialect(),
                    status: None,
                    caps: "0".to_owned(),
                    msnobj: None,
                    psm: Vec::new(),
                    machine_guid: self.machine_guid.clone(),
                    endpoint: Vec::new(),
                    conn: self.conn.clone(),
                },
            );
        }
        dir.online(self.conn.id).cloned()
    }

    /// `CHG <trid> <status> <caps> [<msnobj>]`: echoed; without the capability token no reply
    /// (MSNP8+); `FLN` or an unknown status gets `201`. The first one sends the contacts'
    /// presence and the mail summary; every one tells the watchers.
    pub(super) fn handle_chg(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(status)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        if !STATUSES.contains(&status) {
            self.error(201, cmd);
            return Flow::Continue;
        }
        let Some(caps) = cmd.arg(2) else {
            return Flow::Continue;
        };
        let mut line = format!("CHG {trid} {status} {caps}");
        if let Some(obj) = cmd.arg(3) {
            line.push(' ');
            line.push_str(obj);
        }
        self.conn.send(&line);
        let first = !self.chg_seen;
        let mut out = Outbox::default();
        let me = {
            let mut dir = self.shared.directory();
            let Some(me) = self.online_record(&mut dir) else {
                return Flow::Close;
            };
            if let Some(record) = dir.online_mut(self.conn.id) {
                record.status = Some(status.to_owned());
                record.caps = caps.to_owned();
                record.msnobj = cmd.arg(3).map(str::to_owned);
            }
            // The account has one status, whichever place set it last.
            for place in super::endpoints::places_of(&dir, &me.email) {
                if let Some(record) = dir.online_mut(place.conn.id) {
                    record.status = Some(status.to_owned());
                }
            }
            let me = dir.online(self.conn.id).cloned().unwrap_or(me);
            if first {
                let contacts: Vec<String> = dir
                    .user(&me.email)
                    .map(|u| {
                        u.contacts
                            .iter()
                            .filter(|c| c.lists & FL != 0)
                            .map(|c| c.email.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                for contact in contacts {
                    if dir.status_of(&contact).is_some() {
                        queue_presence(&dir, &me, &contact, Some(trid), &mut out);
                    }
                }
            }
            me
        };
        out.send();
        if first {
            self.chg_seen = true;
            if self.dialect() >= 11 {
                let mail_data = self.initial_mail_data();
                self.conn.send_with_payload(
                    &format!("MSG Hotmail Hotmail {}", mail_data.len()),
                    mail_data.as_bytes(),
                );
            }
        }
        // Watchers hear of the change last, the account's places after them.
        let _order = self.shared.presence_order();
        let mut out = Outbox::default();
        {
            let dir = self.shared.directory();
            notify_watchers(&dir, &me.email, &mut out);
            if super::endpoints::places_of(&dir, &me.email).len() > 1 {
                super::endpoints::notify_places(&dir, &me.email, &mut out);
            }
        }
        out.send();
        Flow::Continue
    }

    /// `UUX <trid> <len>` + XML -> `UUX <trid> 0`; a `<Data>` document is the personal
    /// message the watchers get in `UBX`.
    pub(super) fn handle_uux(&mut self, cmd: &Command) -> Flow {
        let Some(trid) = cmd.trid() else {
            return Flow::Close;
        };
        let payload = cmd.payload.clone().unwrap_or_default();
        let _order = self.shared.presence_order();
        let mut out = Outbox::default();
        if payload.starts_with(b"<Data>") {
            let mut dir = self.shared.directory();
            if let Some(me) = self.online_record(&mut dir) {
                if let Some(record) = dir.online_mut(self.conn.id) {
                    record.psm = payload;
                }
                if me.status.is_some() {
                    notify_watchers(&dir, &me.email, &mut out);
                }
            }
        } else if let Some(inner) = super::endpoints::private_endpoint_data(&payload) {
            let mut dir = self.shared.directory();
            if let Some(me) = self.online_record(&mut dir) {
                if let Some(record) = dir.online_mut(self.conn.id) {
                    record.endpoint = inner;
                }
                if super::endpoints::places_of(&dir, &me.email).len() > 1 {
                    super::endpoints::notify_places(&dir, &me.email, &mut out);
                }
            }
        }
        self.conn.send(&format!("UUX {trid} 0"));
        out.send();
        Flow::Continue
    }

    /// The connection is going away: its watchers see it offline (if no other connection of
    /// the same user is visible); the account's other MSNP16+ places hear of it.
    pub(super) fn signed_out(&mut self) {
        let _order = self.shared.presence_order();
        let mut out = Outbox::default();
        {
            let mut dir = self.shared.directory();
            let Some(me) = dir.online(self.conn.id).cloned() else {
                return;
            };
            dir.remove_session(self.conn.id);
            if me.status.is_some() {
                notify_watchers(&dir, &me.email, &mut out);
                super::endpoints::notify_places(&dir, &me.email, &mut out);
            }
        }
        out.send();
    }

    /// `PRP <trid> <type> <value>` -> echoed; `MFN` renames the user (MSNP10+, `715` before).
    pub(super) fn handle_prp(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(kind)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        if self.dialect() < 10 {
            self.error(715, cmd);
            return Flow::Continue;
        }
        let value = cmd.arg(2).unwrap_or("");
        if kind == "MFN" {
            self.rename_me(&percent_decode(value));
        }
        self.conn.send(&format!("PRP {trid} {kind} {value}"));
        Flow::Continue
    }

    /// `REA <trid> <email> <name>` (MSNP8/9): own name -> `REA <trid> <ser> <email> <name>`.
    pub(super) fn handle_rea(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(email), Some(name)) = (cmd.trid(), cmd.arg(1), cmd.arg(2)) else {
            return Flow::Close;
        };
        if self.dialect() >= 10 {
            self.error(502, cmd);
            return Flow::Continue;
        }
        if !self
            .email()
            .is_some_and(|me| me.eq_ignore_ascii_case(email))
        {
            self.error(201, cmd);
            return Flow::Continue;
        }
        let serial = self.rename_me(&percent_decode(name));
        self.conn
            .send(&format!("REA {trid} {serial} {email} {name}"));
        Flow::Continue
    }

    /// Stores our new friendly name and tells the watchers; returns the list serial.
    fn rename_me(&mut self, name: &str) -> u32 {
        let Some(email) = self.email().map(str::to_owned) else {
            return 0;
        };
        let mut out = Outbox::default();
        let serial = {
            let mut dir = self.shared.directory();
            let serial = match dir.user_mut(&email) {
                Some(user) => {
                    user.friendly = name.to_owned();
                    user.serial += 1;
                    user.serial
                }
                None => 0,
            };
            if dir.status_of(&email).is_some() {
                notify_watchers(&dir, &email, &mut out);
            }
            serial
        };
        out.send();
        serial
    }

    /// `BLP <trid> AL|BL` -> echoed; before MSNP13 an unchanged mode is `218`. Watchers'
    /// view of us follows.
    pub(super) fn handle_blp(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(mode)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        if mode != "AL" && mode != "BL" {
            self.error(201, cmd);
            return Flow::Continue;
        }
        let Some(email) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let mut out = Outbox::default();
        let (unchanged, serial) = {
            let mut dir = self.shared.directory();
            let Some(user) = dir.user_mut(&email) else {
                return Flow::Close;
            };
            let unchanged = user.blp == mode;
            user.blp = mode.to_owned();
            user.serial += u32::from(!unchanged);
            let serial = user.serial;
            if !unchanged && dir.status_of(&email).is_some() {
                notify_watchers(&dir, &email, &mut out);
            }
            (unchanged, serial)
        };
        if unchanged && self.dialect() < 13 {
            self.error(218, cmd);
        } else if self.dialect() < 10 {
            self.conn.send(&format!("BLP {trid} {serial} {mode}"));
        } else {
            self.conn.send(&format!("BLP {trid} {mode}"));
        }
        out.send();
        Flow::Continue
    }

    /// `GTC <trid> A|N` (before MSNP13) -> echoed; unchanged gets `218` (Escargot).
    pub(super) fn handle_gtc(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(value)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        if self.dialect() >= 13 || (value != "A" && value != "N") {
            return Flow::Close;
        }
        match self.dialect() {
            ..=9 => self.conn.send(&format!("GTC {trid} 1 {value}")),
            _ => self.conn.send(&format!("GTC {trid} {value}")),
        }
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn online(caps: &str, msnobj: Option<&str>) -> Online {
        let stream = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| std::net::TcpStream::connect(l.local_addr()?))
            .unwrap();
        Online {
            email: "bob@example.com".into(),
            dialect: 12,
            status: Some("AWY".into()),
            caps: caps.into(),
            msnobj: msnobj.map(str::to_owned),
            psm: Vec::new(),
            machine_guid: None,
            endpoint: Vec::new(),
            conn: Arc::new(Conn::new(
                1,
                crate::transcript::Service::Ns,
                stream,
                Arc::default(),
            )),
        }
    }

    #[test]
    fn presence_in_every_dialect_shape() {
        let bob = online("1342177280", None);
        let shapes = [
            (8, "AWY bob@example.com Bob 1342177280"),
            (12, "AWY bob@example.com Bob 1342177280 %3Cmsnobj%2F%3E"),
            (15, "AWY bob@example.com 1 Bob 1342177280 %3Cmsnobj%2F%3E"),
            (16, "AWY bob@example.com 1 Bob 1342177280:0 %3Cmsnobj%2F%3E"),
            (18, "AWY 1:bob@example.com Bob 1342177280:0 %3Cmsnobj%2F%3E"),
        ];
        for (dialect, want) in shapes {
            assert_eq!(presence_args(&bob, "Bob", "AWY", dialect), want);
        }
        let alice = online("2788999228:48", Some("0"));
        assert_eq!(
            presence_args(&alice, "Alice (probe)", "NLN", 18),
            "NLN 1:bob@example.com Alice%20(probe) 2788999228:48 0"
        );
        assert_eq!(
            presence_args(&alice, "A", "NLN", 12),
            "NLN bob@example.com A 2788999228 0"
        );
        assert_eq!(fln_line("bob@example.com", 12), "FLN bob@example.com");
        assert_eq!(fln_line("bob@example.com", 15), "FLN bob@example.com 1 0");
        assert_eq!(fln_line("bob@example.com", 18), "FLN 1:bob@example.com 0:0");
    }
}
