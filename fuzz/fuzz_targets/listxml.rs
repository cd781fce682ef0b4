//! Reads arbitrary bytes as an `<ml>` list document, and builds documents from what it read.
//!
//! Invariants: nothing panics; entries have usable addresses and friendly names without control
//! characters of at most 1024 bytes; at most `MAX_ENTRIES`; the entries a client may send back
//! (no RL/PL bits, some list bit, a network id) built with `build_list_payloads` give payloads
//! of at most `MAX_PAYLOAD_LEN` bytes and `MAX_CONTACTS_PER_PAYLOAD` contacts which parse back
//! to the same contacts (merged per address, domain in lower case); so do `FQY` queries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::listxml::{
    build_list_payloads, build_query_payloads, parse_list, ListEntry, MAX_CONTACTS_PER_PAYLOAD,
    MAX_ENTRIES, MAX_PAYLOAD_LEN,
};
use msnp::wire::ListSet;
use std::collections::BTreeMap;

/// `local@domain` with the domain lower-cased, as the builders write it.
fn normalized(email: &str) -> String {
    let (local, domain) = email.rsplit_once('@').expect("address has an @");
    format!("{local}@{}", domain.to_ascii_lowercase())
}

/// Parses every payload, checking its size and contact count; returns all entries.
fn reparse(payloads: &[Vec<u8>]) -> Vec<ListEntry> {
    let mut all = Vec::new();
    for payload in payloads {
        assert!(
            payload.len() <= MAX_PAYLOAD_LEN,
            "payload of {} bytes",
            payload.len()
        );
        let entries = parse_list(payload).unwrap_or_else(|e| {
            panic!(
                "built payload {:?} does not parse: {e:?}",
                String::from_utf8_lossy(payload)
            )
        });
        assert!(entries.len() <= MAX_CONTACTS_PER_PAYLOAD);
        all.extend(entries);
    }
    all
}

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = parse_list(data) else {
        return;
    };
    assert!(entries.len() <= MAX_ENTRIES);
    for entry in &entries {
        let (local, domain) = entry.email.split_once('@').expect("address has an @");
        assert!(!local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        assert!(entry.email.len() <= 256);
        assert!(entry
            .email
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"'<>&".contains(&b)));
        if let Some(friendly) = &entry.friendly {
            assert!(friendly.len() <= 1024 && !friendly.chars().any(char::is_control));
        }
    }

    let sendable: Vec<ListEntry> = entries
        .iter()
        .filter(|e| ListSet::CLIENT.contains(e.lists) && !e.lists.is_empty() && e.network != 0)
        .cloned()
        .collect();
    // What the server should read back: per address (any case), the lists merged and the first
    // network id.
    let mut expected: BTreeMap<String, (u8, u32)> = BTreeMap::new();
    for entry in &sendable {
        let slot = expected
            .entry(normalized(&entry.email).to_ascii_lowercase())
            .or_insert((0, entry.network));
        slot.0 |= entry.lists.bits();
    }
    for initial in [false, true] {
        let payloads =
            build_list_payloads(&sendable, initial).expect("parsed entries are sendable");
        let mut got: BTreeMap<String, (u8, u32)> = BTreeMap::new();
        for entry in reparse(&payloads) {
            assert_eq!(entry.friendly, None);
            let key = entry.email.to_ascii_lowercase();
            assert!(
                got.insert(key, (entry.lists.bits(), entry.network))
                    .is_none(),
                "{} sent twice",
                entry.email
            );
        }
        assert_eq!(
            got, expected,
            "built payloads do not read back as the entries"
        );
        if initial && sendable.is_empty() {
            assert_eq!(payloads, [b"<ml l=\"1\"></ml>".to_vec()]);
        }
    }

    let emails: Vec<&str> = entries.iter().map(|e| e.email.as_str()).collect();
    let payloads = build_query_payloads(&emails).expect("parsed addresses are usable");
    let asked: Vec<String> = reparse(&payloads)
        .iter()
        .map(|e| e.email.to_ascii_lowercase())
        .collect();
    let mut wanted: Vec<String> = emails
        .iter()
        .map(|e| normalized(e).to_ascii_lowercase())
        .collect();
    let mut asked_sorted = asked.clone();
    asked_sorted.sort();
    wanted.sort();
    assert_eq!(
        asked_sorted, wanted,
        "FQY payloads do not read back as the addresses"
    );
});
