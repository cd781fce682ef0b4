//! Strict mode ([`crate::ServerConfig::strict`]): what a client must never send, checked the
//! way Escargot's code checks it, and recorded as a violation that fails the test when the
//! [`crate::TestServer`] is dropped (see [`crate::TestServer::violations`]).

use crate::wire::Command;
use std::sync::Mutex;

/// Client commands without a TrID (`PNG`; `OUT` ends the connection).
const NO_TRID: &[&str] = &["PNG", "OUT"];

/// The `propertiesChanged` names Escargot's address book knows in `ABContactUpdate`
/// (`front/msn/http.py`, `_CONTACT_PROPERTIES`; Escargot has refused other names, and the
/// plugin must not rely on a server that does not).
pub(crate) const CONTACT_PROPERTIES: &[&str] = &[
    "Comment",
    "DisplayName",
    "ContactType",
    "ContactFirstName",
    "ContactLastName",
    "MiddleName",
    "Anniversary",
    "ContactBirthDate",
    "ContactEmail",
    "ContactLocation",
    "ContactWebSite",
    "ContactPrimaryEmailType",
    "ContactPhone",
    "GroupName",
    "IsMessengerEnabled",
    "IsMessengerUser",
    "IsFavorite",
    "HasSpace",
    "Annotation",
    "Capability",
    "MessengerMemberInfo",
];

/// The annotation names Escargot knows (`front/msn/http.py`, `_ANNOTATION_NAMES`; refused
/// otherwise, as for the property names).
pub(crate) const ANNOTATION_NAMES: &[&str] = &[
    "MSN.IM.InviteMessage",
    "MSN.IM.MPOP",
    "MSN.IM.BLP",
    "MSN.IM.GTC",
    "MSN.IM.RoamLiveProperties",
    "MSN.IM.MBEA",
    "MSN.IM.BuddyType",
    "MSN.IM.HasSharedFolder",
    "AB.NickName",
    "AB.Profession",
    "AB.Spouse",
    "AB.JobTitle",
    "Live.Locale",
    "Live.Profile.Expression.LastChanged",
    "Live.Passport.Birthdate",
    "Live.Favorite.Order",
];

/// Violations recorded so far.
#[derive(Debug, Default)]
pub struct Violations(Mutex<Vec<String>>);

impl Violations {
    /// Records one (and logs it).
    pub fn record(&self, what: String) {
        log::warn!("strict mode violation: {what}");
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(what);
    }

    /// Everything recorded so far.
    pub fn snapshot(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The TrIDs of one connection: each command's must be a number above the one before.
#[derive(Debug, Default)]
pub struct TrIds {
    last: Option<u64>,
}

impl TrIds {
    /// Checks `cmd`'s TrID against the connection's sequence so far.
    pub fn check(&mut self, cmd: &Command) -> Result<(), String> {
        if NO_TRID.contains(&cmd.verb.as_str()) {
            return Ok(());
        }
        let Some(trid) = cmd.trid().and_then(|t| t.parse::<u64>().ok()) else {
            return Err(format!("no numeric TrID: {}", cmd.line));
        };
        match self.last.replace(trid) {
            Some(last) if trid <= last => Err(format!(
                "TrID {trid} does not increase (last was {last}): {}",
                cmd.line
            )),
            _ => Ok(()),
        }
    }
}

/// Why Escargot refuses an `ABContactUpdate` with these `propertiesChanged` words and
/// annotation names: a missing or empty `propertiesChanged`, or a name it does not know.
pub fn contact_update_refusal<'a>(
    properties: impl IntoIterator<Item = &'a str>,
    annotations: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let words: Vec<&str> = properties
        .into_iter()
        .flat_map(str::split_whitespace)
        .collect();
    if words.is_empty() {
        return Some("ABContactUpdate without propertiesChanged".to_owned());
    }
    if let Some(w) = words.iter().find(|w| !CONTACT_PROPERTIES.contains(w)) {
        return Some(format!(
            "ABContactUpdate with unknown propertiesChanged {w}"
        ));
    }
    annotations
        .into_iter()
        .find(|n| !ANNOTATION_NAMES.contains(n))
        .map(|n| format!("ABContactUpdate with unknown annotation {n}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Framer;

    fn command(line: &str) -> Command {
        let mut framer = Framer::default();
        framer.push(format!("{line}\r\n").as_bytes());
        framer.next_command().unwrap().unwrap()
    }

    #[test]
    fn trids_must_increase_per_connection() {
        let mut ids = TrIds::default();
        assert!(ids.check(&command("VER 1 MSNP18 CVR0")).is_ok());
        assert!(ids.check(&command("PNG")).is_ok());
        assert!(ids.check(&command("CVR 2 0x0409")).is_ok());
        assert!(ids.check(&command("USR 2 SSO I a@b.c")).is_err());
        assert!(ids.check(&command("CHG x NLN")).is_err());
        assert!(ids.check(&command("CHG 5 NLN")).is_ok());
    }

    #[test]
    fn contact_updates_escargot_refuses() {
        assert_eq!(
            contact_update_refusal(["Annotation"], ["AB.NickName"]),
            None
        );
        assert_eq!(contact_update_refusal(["DisplayName"], []), None);
        assert!(contact_update_refusal([], []).is_some());
        assert!(contact_update_refusal([" "], []).is_some());
        assert!(contact_update_refusal(["Nickname"], []).is_some());
        assert!(contact_update_refusal(["Annotation"], ["AB.Nick"]).is_some());
    }
}
