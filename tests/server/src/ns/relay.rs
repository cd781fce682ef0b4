//! `UUN`: a notification the NS relays to an account's places as `UBN`, the way Escargot's
//! `_m_uun` and `msn_on_uun_sent` do (docs/protocol.md §6.4). Signing another place of one's own
//! account out is one: the server only relays it; the place that gets it ends its connection.

use super::{Flow, Session};
use crate::wire::Command;

/// The bare GUID of `{guid}` or `guid`, lowercase.
fn bare_guid(guid: &str) -> String {
    guid.trim_matches(['{', '}']).to_ascii_lowercase()
}

impl Session {
    /// `UUN <trid> <email>[;{guid}] <type> <len>`: relayed to every place of `email` (only the
    /// one with that machine GUID when one is given) as `UBN`, then `UUN <trid> OK`. Before
    /// MSNP13 the connection is closed; an addressee who is offline or appears offline gets
    /// `217`; an unknown addressee or a non-numeric type is dropped without an answer.
    pub(super) fn handle_uun(&mut self, cmd: &Command) -> Flow {
        if self.dialect() < 13 {
            return Flow::Close;
        }
        let (Some(trid), Some(to), Some(kind), Some(sender)) =
            (cmd.trid(), cmd.arg(1), cmd.arg(2), self.email())
        else {
            return Flow::Close;
        };
        let (email, place) = match to.split_once(';') {
            Some((email, guid)) => (email, Some(bare_guid(guid))),
            None => (to, None),
        };
        let Ok(kind) = kind.parse::<u32>() else {
            return Flow::Continue;
        };
        let payload = cmd.payload.clone().unwrap_or_default();
        let dir = self.shared.directory();
        if dir.user(email).is_none() {
            return Flow::Continue;
        }
        if dir.status_of(email).is_none() {
            drop(dir);
            self.error(217, cmd);
            return Flow::Continue;
        }
        let from_place = self.machine_guid.as_deref().map(bare_guid);
        for target in dir.online_of(email) {
            if target.dialect < 13 {
                continue;
            }
            let target_guid = target.machine_guid.as_deref().map(bare_guid);
            if place.is_some() && target_guid.is_some() && target_guid != place {
                continue;
            }
            let from = match (&from_place, &place) {
                (Some(guid), Some(_)) if target.dialect >= 16 => format!("{sender};{{{guid}}}"),
                _ => sender.to_owned(),
            };
            target
                .conn
                .send_with_payload(&format!("UBN {from} {kind} {}", payload.len()), &payload);
        }
        drop(dir);
        self.conn.send(&format!("UUN {trid} OK"));
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::bare_guid;

    #[test]
    fn guids_compare_bare_and_lowercase() {
        assert_eq!(bare_guid("{AB-cd}"), "ab-cd");
        assert_eq!(bare_guid("ab-cd"), "ab-cd");
    }
}
