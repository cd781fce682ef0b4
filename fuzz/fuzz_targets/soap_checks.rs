//! Checks shared by the SOAP targets.
#![allow(dead_code)] // Each target uses the checks it needs.

use msnp::soap::SoapError;

/// Longest fault code or string the SOAP reader keeps, in characters.
const MAX_FAULT_TEXT: usize = 200;
/// Longest account name the SOAP readers accept.
pub const MAX_EMAIL_LEN: usize = 256;
/// Longest name the SOAP readers accept.
pub const MAX_NAME_LEN: usize = 1024;

/// A fault's texts are short, trimmed and free of control characters.
pub fn check_error(error: &SoapError) {
    if let SoapError::Fault { code, text } = error {
        for part in [code, text] {
            assert!(
                part.chars().count() <= MAX_FAULT_TEXT,
                "fault text of {} characters",
                part.chars().count()
            );
            assert!(
                !part.chars().any(char::is_control),
                "control character in fault text {part:?}"
            );
            assert_eq!(part.trim(), part);
        }
    }
}

/// What the readers promise of an account name: at most 256 bytes of printable ASCII without
/// quotes, `<`, `>` or `&`, with non-empty parts around its one `@`.
pub fn check_email(email: &str) {
    assert!(
        email.len() <= MAX_EMAIL_LEN,
        "account name of {} bytes",
        email.len()
    );
    assert!(
        email
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"'<>&".contains(&b)),
        "unusable account name {email:?}"
    );
    let (local, domain) = email
        .split_once('@')
        .unwrap_or_else(|| panic!("no @ in {email:?}"));
    assert!(!local.is_empty() && !domain.is_empty() && !domain.contains('@'));
}

/// A GUID-style identifier: hex digits, dashes and braces, 1 to 64 bytes.
pub fn check_id(id: &str) {
    assert!(!id.is_empty() && id.len() <= 64, "id {id:?}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() || b"-{}".contains(&b)),
        "id {id:?}"
    );
}

/// A name kept from an answer: trimmed and within the length limit.
pub fn check_name(name: &str) {
    assert!(name.len() <= MAX_NAME_LEN, "name of {} bytes", name.len());
    assert_eq!(name.trim(), name);
}

/// Runs a resumable reader to its end, one `step(budget)` at a time; fails if it needs more
/// than `max_steps` steps (it must make progress every step).
pub fn run_steps<T>(
    max_steps: usize,
    mut step: impl FnMut() -> Result<Option<T>, SoapError>,
) -> Result<T, SoapError> {
    for _ in 0..max_steps {
        if let Some(done) = step()? {
            return Ok(done);
        }
    }
    panic!("stepping did not finish within {max_steps} steps");
}
