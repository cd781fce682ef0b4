//! Test helpers: recorded exchanges by label, and the tickets the recorded client sent.

use crate::auth::rst::Token;
use crate::auth::testlog::{self, Exchange};
use crate::secret::Secret;

/// Every recorded exchange labelled `label` in the transcript directories `dirs`.
pub fn recorded(dirs: &[&str], label: &str) -> Vec<Exchange> {
    dirs.iter()
        .flat_map(|dir| testlog::load(dir))
        .filter(|e| e.label == label)
        .collect()
}

/// The text between `open` and `close` in a recorded body, XML-unescaped.
pub fn between(body: &[u8], open: &str, close: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let start = text.find(open).expect("opening marker") + open.len();
    let len = text[start..].find(close).expect("closing marker");
    quick_xml::escape::unescape(&text[start..start + len])
        .expect("escaped text")
        .into_owned()
}

/// A token whose whole ticket is `ticket`.
pub fn token(ticket: &str) -> Token {
    Token {
        ticket: Secret::new(ticket.to_owned()),
    }
}

/// The request body as text, for comparisons.
pub fn text(body: &[u8]) -> String {
    String::from_utf8(body.to_vec()).expect("UTF-8 body")
}
