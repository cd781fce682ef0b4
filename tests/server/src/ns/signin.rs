//! What follows a successful `USR ... S`: booting older logins, `USR <trid> OK`, `SBS`, the
//! profile message, the MSNP16+ empty `UBX` and an optional `CHL` (docs/protocol.md §2.2, §1.4).

use super::{Auth, Session};
use crate::directory::{LiveSession, User};
use crate::wire::percent_encode;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The fixed tail Escargot appends to a token to form `MSPAuth` and the RST tickets.
pub(crate) const TICKET_SUFFIX: &str = include_str!("../templates/ticket_suffix.txt");

/// The `text/x-msmsgsprofile` body of `MSG Hotmail Hotmail` sent after login.
fn profile(
    user: &User,
    token: &str,
    login_time: u64,
    client: std::net::SocketAddr,
    mpop: bool,
) -> String {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n\
         LoginTime: {login_time}\r\nEmailEnabled: 0\r\nMemberIdHigh: {}\r\nMemberIdLow: {}\r\n\
         lang_preference: 1033\r\npreferredEmail:\r\ncountry:\r\nPostalCode:\r\nGender:\r\nKid: 0\r\n\
         Age:\r\nBDayPre:\r\nBirthday:\r\nWallet:\r\nFlags: 536872513\r\nsid: 507\r\n\
         MSPAuth: {token}{TICKET_SUFFIX}\r\nClientIP: {}\r\nClientPort: {}\r\nABCHMigrated: 1\r\n\
         MPOPEnabled: {}\r\n\r\n",
        user.member_id_high(),
        user.member_id_low(),
        client.ip(),
        client.port(),
        u8::from(mpop),
    )
}

impl Session {
    /// Completes a login of `email` with `ticket` answering `USR <trid> ... S`.
    pub(super) fn signed_in_as(&mut self, trid: &str, email: &str, ticket: &str) {
        let dialect = self.dialect();
        let bare = ticket.strip_prefix("t=").unwrap_or(ticket);
        let token = bare.get(..20).unwrap_or(bare).to_owned();
        let Some(user) = self.shared.directory().user(email).cloned() else {
            self.conn.send(&format!("911 {trid}"));
            self.conn.close();
            return;
        };

        // Escargot boots older logins: always before MSNP16, from MSNP16 only the same machine.
        let older = self.shared.directory().sessions_of(&user.email);
        for old in older {
            if dialect < 16 || old.machine_guid.is_some() && old.machine_guid == self.machine_guid {
                old.conn.send("OUT OTH");
                old.conn.close();
            }
        }

        let email = user.email.clone();
        self.auth = Auth::Done {
            email: email.clone(),
        };
        self.shared.counters.logins.fetch_add(1, Ordering::SeqCst);
        self.shared.directory().add_session(LiveSession {
            email: email.clone(),
            machine_guid: self.machine_guid.clone(),
            conn: self.conn.clone(),
        });
        if dialect < 10 {
            self.conn.send(&format!(
                "USR {trid} OK {email} {} 1 0",
                percent_encode(&user.friendly)
            ));
        } else {
            self.conn.send(&format!("USR {trid} OK {email} 1 0"));
        }
        if dialect >= 11 {
            self.conn.send("SBS 0 null");
        }
        let body = profile(
            &user,
            &token,
            crate::clock::unix_now(),
            self.peer,
            dialect >= 16,
        );
        self.conn.send_with_payload(
            &format!("MSG Hotmail Hotmail {}", body.len()),
            body.as_bytes(),
        );
        match dialect {
            16 | 17 => self.conn.send(&format!("UBX {email} 1 0")),
            18..=20 => self.conn.send(&format!("UBX 1:{email} 0")),
            _ => {}
        }

        if self.shared.config.send_chl {
            self.send_challenge(Instant::now());
        }
    }
}
