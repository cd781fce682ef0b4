//! Reads arbitrary bytes as an `ABFindAll`/`ABFindContactsPaged` answer.
//!
//! Invariants: nothing panics; stepping the resumable reader one XML event at a time, a few at a
//! time, and all at once gives the same result, and it finishes within a number of steps
//! proportional to the input; a result respects the limits (groups, contacts, groups per
//! contact), has unique well-formed ids, usable addresses with matching network ids, trimmed
//! bounded names; a fault's texts are short and clean.
#![no_main]

mod soap_checks;

use libfuzzer_sys::fuzz_target;
use msnp::soap::abook::{
    parse_address_book, AbParser, AddressBook, MAX_CONTACTS, MAX_GROUPS, MAX_GROUPS_PER_CONTACT,
};
use msnp::soap::SoapError;
use soap_checks::{check_email, check_error, check_id, check_name, run_steps};
use std::collections::HashSet;

fn stepped(data: &[u8], budget: usize) -> Result<AddressBook, SoapError> {
    let mut parser = AbParser::new(data.to_vec())?;
    run_steps(data.len() + 16, || parser.step(budget))
}

fn check_book(book: &AddressBook) {
    assert!(book.groups.len() <= MAX_GROUPS && book.contacts.len() <= MAX_CONTACTS);
    let mut group_ids = HashSet::new();
    for group in &book.groups {
        check_id(&group.id);
        check_name(&group.name);
        assert!(group_ids.insert(&group.id), "group {:?} twice", group.id);
    }
    let mut contact_ids = HashSet::new();
    for contact in &book.contacts {
        check_id(&contact.id);
        assert!(
            contact_ids.insert(&contact.id),
            "contact {:?} twice",
            contact.id
        );
        check_name(&contact.display_name);
        if let Some(nickname) = &contact.nickname {
            assert!(!nickname.is_empty());
            check_name(nickname);
        }
        match contact.passport.strip_prefix("tel:") {
            Some(number) if contact.network == 4 => {
                assert!(!number.is_empty() && number.len() <= 32);
                assert!(number.bytes().all(|b| b.is_ascii_digit() || b == b'+'));
            }
            _ => {
                assert!(
                    [0, 1, 2, 32].contains(&contact.network),
                    "network {}",
                    contact.network
                );
                check_email(&contact.passport);
            }
        }
        assert!(contact.group_ids.len() <= MAX_GROUPS_PER_CONTACT);
        let unique: HashSet<_> = contact.group_ids.iter().collect();
        assert_eq!(unique.len(), contact.group_ids.len(), "repeated group id");
        contact.group_ids.iter().for_each(|id| check_id(id));
    }
    if let Some(name) = &book.own_display_name {
        assert!(!name.is_empty());
        check_name(name);
    }
    if let Some(ticket) = &book.circle_ticket {
        assert!(!ticket.is_empty() && ticket.len() <= 64 * 1024 && ticket.trim() == ticket);
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = parse_address_book(data);
    assert_eq!(stepped(data, 1), whole, "one event per step differs");
    assert_eq!(stepped(data, 7), whole, "seven events per step differs");
    match &whole {
        Ok(book) => check_book(book),
        Err(error) => check_error(error),
    }
});
