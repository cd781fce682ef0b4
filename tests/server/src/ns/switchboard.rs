//! The NS side of conversations: `XFR SB` hands out a switchboard cookie, `RNG` invites a
//! contact, and the offline-message notifications (`Mail-Data`), each in the receiver's dialect
//! (docs/protocol.md §1.3, §7.2, §9.1; transcripts `*/alice-ns.log`, `*/bob-ns.log`, `extra-oim/`).

use super::{Flow, Session};
use crate::directory::LiveSession;
use crate::sb::{self, mailbox};
use crate::shared::Shared;
use crate::wire::{percent_encode, Command};

/// First dialect whose `XFR`/`RNG` name the authentication domain.
const DOMAIN_FROM: u32 = 13;
/// First dialect that also appends `1` to them.
const FLAG_FROM: u32 = 14;
/// First dialect with offline-message notifications.
const OIM_FROM: u32 = 11;
/// First dialect allowed a switchboard while appearing offline (`HDN`).
const HIDDEN_XFR_FROM: u32 = 13;

impl Session {
    /// `XFR <trid> SB` -> `XFR <trid> SB <host:port> CKI <cookie>[ U messenger.msn.com[ 1]]`;
    /// `913` before the first `CHG`, and while `HDN` before MSNP13 (Escargot refuses while
    /// not visible).
    pub(super) fn handle_xfr(&mut self, cmd: &Command) -> Flow {
        let Some(trid) = cmd.trid() else {
            return Flow::Close;
        };
        if cmd.arg(1) != Some("SB") {
            self.error(200, cmd);
            return Flow::Continue;
        }
        if !self.chg_seen || (self.dialect() < HIDDEN_XFR_FROM && self.appears_offline()) {
            self.error(913, cmd);
            return Flow::Continue;
        }
        let Some(email) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        if self.shared.sb.take_ignored_xfr(&email) {
            return Flow::Continue;
        }
        let dialect = self.dialect();
        let (_, caps) = sb::ns_profile(&self.shared, self.conn.id);
        let cookie = self.shared.sb.issue(&email, None, dialect, &caps);
        let mut line = format!("XFR {trid} SB {} CKI {cookie}", sb::address(&self.shared));
        if dialect >= DOMAIN_FROM {
            line.push_str(" U messenger.msn.com");
        }
        if dialect >= FLAG_FROM {
            line.push_str(" 1");
        }
        self.conn.send(&line);
        Flow::Continue
    }

    /// Whether this connection's status is `HDN`.
    fn appears_offline(&self) -> bool {
        self.shared
            .directory()
            .online(self.conn.id)
            .is_some_and(|o| o.status.as_deref() == Some("HDN"))
    }

    /// The payload of the mail summary sent after the first `CHG`, announcing the offline
    /// messages waiting for this user.
    pub(super) fn initial_mail_data(&self) -> String {
        let stored = match self.email() {
            Some(email) => self.shared.sb.mailbox(|m| m.for_user(email)),
            None => Vec::new(),
        };
        mailbox::notification(
            "text/x-msmsgsinitialmdatanotification",
            &mailbox::mail_data(&stored, true),
        )
    }
}

/// `RNG <session> <host:port> CKI <cookie> <inviter> <friendly>[ U messenger.hotmail.com[ 1]]`
/// on one NS session of the invitee, with a cookie of its own.
pub(crate) fn ring(
    shared: &Shared,
    invitee: &LiveSession,
    session_id: &str,
    inviter: &str,
    inviter_friendly: &str,
) {
    let (dialect, caps) = sb::ns_profile(shared, invitee.conn.id);
    let cookie = shared
        .sb
        .issue(&invitee.email, Some(session_id), dialect, &caps);
    let mut line = format!(
        "RNG {session_id} {} CKI {cookie} {inviter} {}",
        sb::address(shared),
        percent_encode(inviter_friendly)
    );
    if dialect >= DOMAIN_FROM {
        line.push_str(" U messenger.hotmail.com");
    }
    if dialect >= FLAG_FROM {
        line.push_str(" 1");
    }
    invitee.conn.send(&line);
}

/// Sends `payload` as `MSG Hotmail Hotmail` to every NS session of `email` that gets
/// offline-message notifications.
pub(crate) fn notify(shared: &Shared, email: &str, payload: &str) {
    let sessions = shared.directory().sessions_of(email);
    for session in sessions {
        if sb::ns_profile(shared, session.conn.id).0 >= OIM_FROM {
            session.conn.send_with_payload(
                &format!("MSG Hotmail Hotmail {}", payload.len()),
                payload.as_bytes(),
            );
        }
    }
}
