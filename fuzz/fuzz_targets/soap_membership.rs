//! Reads arbitrary bytes as a `FindMembership` answer.
//!
//! Invariants: nothing panics; stepping the resumable reader one XML event at a time, a few at a
//! time, and all at once gives the same result, and it finishes within a number of steps
//! proportional to the input; members have usable account names with the network of their
//! kind (1 Passport, 32 e-mail), trimmed non-empty optional texts; at most `MAX_MEMBERS` in all;
//! a fault's texts are short and clean.
#![no_main]

mod soap_checks;

use libfuzzer_sys::fuzz_target;
use msnp::soap::membership::{
    parse_find_membership, MembershipParser, Memberships, Role, MAX_MEMBERS,
};
use msnp::soap::SoapError;
use soap_checks::{check_email, check_error, check_name, run_steps};

fn stepped(data: &[u8], budget: usize) -> Result<Memberships, SoapError> {
    let mut parser = MembershipParser::new(data.to_vec())?;
    run_steps(data.len() + 16, || parser.step(budget))
}

fn check_memberships(lists: &Memberships) {
    let roles = [Role::Allow, Role::Block, Role::Reverse, Role::Pending];
    let total: usize = roles.iter().map(|&r| lists.role(r).len()).sum();
    assert!(total <= MAX_MEMBERS);
    for member in roles.iter().flat_map(|&r| lists.role(r)) {
        check_email(&member.email);
        assert!(
            member.network == 1 || member.network == 32,
            "network {}",
            member.network
        );
        for text in member.display_name.iter().chain(&member.invite_message) {
            assert!(!text.is_empty());
            check_name(text);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = parse_find_membership(data);
    assert_eq!(stepped(data, 1), whole, "one event per step differs");
    assert_eq!(stepped(data, 7), whole, "seven events per step differs");
    match &whole {
        Ok(lists) => check_memberships(lists),
        Err(error) => check_error(error),
    }
});
