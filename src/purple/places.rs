//! The account action "Signed-in Places...": the other places where the account is signed in
//! at the same time (MSNP16+), as the server last listed them.

use msnp::dialect::Dialect;

use super::guard::entry;
use super::{cstr, ffi};

/// The action's label.
pub(crate) const LABEL: &std::ffi::CStr = c"Signed-in Places...";

/// What the action shows: a headline and one line per other place.
fn describe(dialect: Option<Dialect>, places: &[String]) -> (String, String) {
    match dialect {
        Some(d) if !d.endpoints() => (
            "Signed in here only".to_owned(),
            format!(
                "MSNP{} allows one place at a time: signing in elsewhere signs this place out.",
                d.version()
            ),
        ),
        _ if places.is_empty() => (
            "Signed in here only".to_owned(),
            "No other place is signed in to this account.".to_owned(),
        ),
        _ => (
            format!("Also signed in at {} other place(s)", places.len()),
            places.join("\n"),
        ),
    }
}

/// "Signed-in Places...": lists the account's other places.
pub(crate) unsafe extern "C" fn show(action: *mut ffi::PurplePluginAction) {
    entry((), || {
        // SAFETY: libpurple passes a live action whose context is the account's connection.
        let Some((gc, conn)) = (unsafe { super::actions::action_connection(action) }) else {
            return;
        };
        let mut listing = None;
        conn.command(|session, _| {
            let places: Vec<String> = session.other_places().iter().map(|p| p.label()).collect();
            listing = Some(describe(session.dialect(), &places));
        });
        let Some((primary, secondary)) = listing else {
            return;
        };
        let (primary, secondary) = (cstr::to_cstring(&primary), cstr::to_cstring(&secondary));
        // SAFETY: gc is live; libpurple copies the texts.
        unsafe {
            ffi::purple_notify_message(
                gc.cast(),
                ffi::PURPLE_NOTIFY_MSG_INFO,
                c"Signed-in Places".as_ptr(),
                primary.as_ptr(),
                secondary.as_ptr(),
                None,
                std::ptr::null_mut(),
            )
        };
    })
}

#[cfg(test)]
mod tests {
    use super::{describe, Dialect};

    #[test]
    fn listing_texts() {
        assert_eq!(
            describe(Some(Dialect::new(12)), &[]).0,
            "Signed in here only"
        );
        assert_eq!(
            describe(Some(Dialect::new(18)), &[]).1,
            "No other place is signed in to this account."
        );
        let places = ["purple-msnp {a}".to_owned(), "{b}".to_owned()];
        assert_eq!(
            describe(Some(Dialect::new(18)), &places),
            (
                "Also signed in at 2 other place(s)".to_owned(),
                "purple-msnp {a}\n{b}".to_owned()
            )
        );
    }
}
