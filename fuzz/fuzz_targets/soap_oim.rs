//! Reads arbitrary bytes with every offline-message parser: the `Mail-Data` header and its
//! `<MD>` document, `GetMetadata`, `GetMessage` (and the stored message alone), and `Store2`.
//!
//! Invariants: nothing panics; announced messages have well-formed ids, usable senders and
//! clean friendly names, at most `MAX_MESSAGES`; a retrieved message has a usable or empty
//! sender, a trimmed friendly name without control characters, no CRLF in its text and header
//! values within the name limit; a lock-key challenge is a non-empty alphanumeric token of at
//! most 64 bytes that `challenge::answer` accepts; a fault's texts are short and clean.
#![no_main]

mod soap_checks;

use libfuzzer_sys::fuzz_target;
use msnp::auth::challenge;
use msnp::dialect::Dialect;
use msnp::soap::oim::{
    mail_data, parse_get_message, parse_get_metadata, parse_mail_data, parse_message, MailData,
    OfflineMessage, OimMeta, MAX_MESSAGES,
};
use msnp::soap::oim_store::{parse_store, StoreOutcome};
use msnp::soap::SoapError;
use soap_checks::{check_email, check_error, check_id, MAX_NAME_LEN};

fn check_meta(list: &[OimMeta]) {
    assert!(list.len() <= MAX_MESSAGES);
    for meta in list {
        check_id(&meta.id);
        check_email(&meta.sender);
        assert!(
            !meta.friendly.chars().any(char::is_control),
            "control character in {:?}",
            meta.friendly
        );
    }
}

fn check_message(message: &OfflineMessage) {
    if !message.sender.is_empty() {
        check_email(&message.sender);
    }
    assert_eq!(message.friendly.trim(), message.friendly);
    assert!(
        !message.friendly.chars().any(char::is_control),
        "control character in {:?}",
        message.friendly
    );
    assert!(!message.text.contains("\r\n"));
    for value in message.message_type.iter().chain(&message.run_id) {
        assert!(
            value.len() <= MAX_NAME_LEN,
            "header value of {} bytes",
            value.len()
        );
    }
}

fn check<T>(result: &Result<T, SoapError>, check_ok: impl FnOnce(&T)) {
    match result {
        Ok(value) => check_ok(value),
        Err(error) => check_error(error),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some(value) = mail_data(data) {
        assert!(!value.contains(&b'\n') && value.trim_ascii() == value);
        check(&parse_mail_data(value), |m| {
            if let MailData::Messages(list) = m {
                check_meta(list)
            }
        });
    }
    check(&parse_mail_data(data), |m| {
        if let MailData::Messages(list) = m {
            check_meta(list)
        }
    });
    check(&parse_get_metadata(data), |list| check_meta(list));
    check(&parse_get_message(data), check_message);
    check(&parse_message(data), check_message);
    check(&parse_store(data), |outcome| {
        if let StoreOutcome::LockKeyRequired { challenge } = outcome {
            assert!(!challenge.is_empty() && challenge.len() <= 64);
            assert!(challenge.bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(
                challenge::answer(challenge, Dialect::new(15)).is_ok(),
                "challenge {challenge:?} cannot be answered"
            );
        }
    });
});
