//! MSNP16+ several places per account (docs/protocol.md §6.4, §7.1): a `CAL` rings every place
//! of the contact called (and, calling our own address, our other places), and each place joins
//! when it answers. The server relays a message only to those already in the switchboard, so on
//! a switchboard we start, the messages wait until every place the called accounts' last `UBX`
//! listed has joined, for at most [`PLACES_GRACE`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Longest wait for a listed place that does not join.
pub(super) const PLACES_GRACE: Duration = Duration::from_secs(5);
/// Most accounts whose places are remembered.
const MAX_ACCOUNTS: usize = 4096;
/// Most places remembered per account.
const MAX_PER_ACCOUNT: usize = 16;

/// Each account's places (lower-case address; GUIDs lower-case, without braces) as its last
/// `UBX` listed them; our own account's without this place.
#[derive(Debug, Default)]
pub(super) struct Places(HashMap<String, Vec<String>>);

impl Places {
    /// `email` is signed in at `guids` now (none: offline, or a single place not listed).
    pub(super) fn set(&mut self, email: &str, guids: &[String]) {
        let email = email.to_ascii_lowercase();
        let guids: Vec<String> = guids
            .iter()
            .map(|g| bare(g))
            .take(MAX_PER_ACCOUNT)
            .collect();
        if guids.is_empty() {
            self.0.remove(&email);
        } else if self.0.len() < MAX_ACCOUNTS || self.0.contains_key(&email) {
            self.0.insert(email, guids);
        }
    }

    /// The places of `email`, as last listed.
    pub(super) fn of(&self, email: &str) -> &[String] {
        self.0
            .get(&email.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// A GUID lower-case, without braces.
pub(super) fn bare(guid: &str) -> String {
    guid.trim_matches(|c| c == '{' || c == '}')
        .to_ascii_lowercase()
}

/// Whether a switchboard's messages still wait for places to join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PlacesWait {
    /// Nothing could be sent yet.
    NotYet,
    /// Waiting for a listed place until then.
    Until(Instant),
    /// Every listed place joined, or the wait ran out: messages go out as they come.
    Over,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_and_normalised() {
        let mut p = Places::default();
        p.set("Bob@Example.com", &["{AB-CD}".to_owned(), "ef".to_owned()]);
        assert_eq!(p.of("bob@example.com"), ["ab-cd", "ef"]);
        p.set("bob@example.com", &[]);
        assert!(p.of("bob@example.com").is_empty());
        let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        p.set("carol@example.com", &many);
        assert_eq!(p.of("carol@example.com").len(), MAX_PER_ACCOUNT);
        for i in 0..MAX_ACCOUNTS + 10 {
            p.set(&format!("u{i}@example.com"), &many[..1]);
        }
        assert_eq!(p.0.len(), MAX_ACCOUNTS);
    }
}
