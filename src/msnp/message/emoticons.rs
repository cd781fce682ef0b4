//! Custom emoticon declarations (`text/x-mms-emoticon`, animated: `text/x-mms-animemoticon`),
//! sent just before the text that uses them (docs/protocol.md §7.6): `shortcut TAB <msnobj …/>
//! TAB`, repeated. The objects (type 2) are fetched over P2P.
//!
//! Reading is bounded (body size, entry count, shortcut length) and each entry is checked on
//! its own: an entry with a bad shortcut or object is refused, the others are kept.

use thiserror::Error;

use super::MAX_PAYLOAD;
use crate::p2p::msnobj::{kind, MsnObject};
use crate::wire::percent;

/// Most emoticons read from one declaration; more are refused.
pub const MAX_EMOTICONS: usize = 16;
/// Longest shortcut, in characters (the official clients allow 7).
pub const MAX_SHORTCUT: usize = 32;
/// Longest declaration body read at all.
pub const MAX_BODY: usize = 16 * 1024;

/// The headers of a declaration we send.
const HEADERS: &str = "MIME-Version: 1.0\r\nContent-Type: text/x-mms-emoticon\r\n\r\n";

/// One custom emoticon: the shortcut typed in the text and the object showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoticon {
    /// The shortcut (`(tux)`): trimmed, non-empty, no control characters.
    pub shortcut: String,
    /// The emoticon's MSNObject (type 2).
    pub object: MsnObject,
}

/// The usable entries of a declaration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmoticonList {
    /// The entries kept, in order, at most [`MAX_EMOTICONS`], shortcuts distinct.
    pub emoticons: Vec<Emoticon>,
    /// Entries refused (malformed, duplicate, or beyond the bound).
    pub refused: usize,
}

/// Why a whole declaration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EmoticonListError {
    /// The body is longer than [`MAX_BODY`].
    #[error("custom emoticon declaration of {0} bytes is too long")]
    TooLong(usize),
}

/// Reads a declaration body.
pub fn parse(body: &[u8]) -> Result<EmoticonList, EmoticonListError> {
    if body.len() > MAX_BODY {
        return Err(EmoticonListError::TooLong(body.len()));
    }
    let body = String::from_utf8_lossy(body);
    let mut fields = body.split('\t');
    let mut list = EmoticonList::default();
    while let Some(shortcut) = fields.next() {
        let object = fields.next();
        let (shortcut, object) = (shortcut.trim(), object.map(str::trim));
        if shortcut.is_empty() && object.is_none_or(str::is_empty) {
            // The trailing TAB, or an empty pair.
            continue;
        }
        match entry(shortcut, object.unwrap_or_default()) {
            Some(e)
                if list.emoticons.len() < MAX_EMOTICONS
                    && !list.emoticons.iter().any(|k| k.shortcut == e.shortcut) =>
            {
                list.emoticons.push(e)
            }
            _ => list.refused += 1,
        }
    }
    Ok(list)
}

/// Whether `shortcut` can be declared: trimmed, non-empty, at most [`MAX_SHORTCUT`]
/// characters, no control characters.
pub fn is_valid_shortcut(shortcut: &str) -> bool {
    !shortcut.is_empty()
        && shortcut.trim() == shortcut
        && shortcut.chars().count() <= MAX_SHORTCUT
        && !shortcut.chars().any(char::is_control)
}

/// One entry, if usable. Pidgin's `msg.c` percent-decodes the object first; a raw one starts
/// with `<`.
fn entry(shortcut: &str, object: &str) -> Option<Emoticon> {
    if !is_valid_shortcut(shortcut) {
        return None;
    }
    let decoded;
    let object = match object.starts_with('<') {
        true => object,
        false => {
            decoded = percent::decode(object.as_bytes());
            decoded.as_str()
        }
    };
    let object = MsnObject::parse(object).ok()?;
    (object.kind == kind::EMOTICON).then(|| Emoticon {
        shortcut: shortcut.to_owned(),
        object,
    })
}

/// Declarations of `emoticons` (our own objects) as `text/x-mms-emoticon` payloads of at most
/// [`MAX_PAYLOAD`] bytes each; an entry that fits no payload is left out.
pub fn payloads(emoticons: &[(&str, &MsnObject)]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut current = HEADERS.as_bytes().to_vec();
    let mut count = 0;
    for (shortcut, object) in emoticons {
        if !fits(shortcut, object) {
            log::warn!("custom emoticon {shortcut:?} does not fit a declaration");
            continue;
        }
        let entry = format!("{shortcut}\t{}\t", object.xml);
        if current.len() + entry.len() > MAX_PAYLOAD || count == MAX_EMOTICONS {
            out.push(std::mem::replace(&mut current, HEADERS.as_bytes().to_vec()));
            count = 0;
        }
        current.extend_from_slice(entry.as_bytes());
        count += 1;
    }
    if count > 0 {
        out.push(current);
    }
    out
}

/// Whether a declaration of this one emoticon fits a switchboard message.
pub fn fits(shortcut: &str, object: &MsnObject) -> bool {
    HEADERS.len() + shortcut.len() + object.xml.len() + 2 <= MAX_PAYLOAD
}

/// The shortcuts among `shortcuts` that occur in `text`, in the order given, each once.
pub fn used_in<'a>(text: &str, shortcuts: &[&'a str]) -> Vec<&'a str> {
    let mut used: Vec<&str> = Vec::new();
    for &s in shortcuts {
        if is_valid_shortcut(s) && text.contains(s) && !used.contains(&s) {
            used.push(s);
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mime::Mime;

    fn object(name: &str) -> MsnObject {
        MsnObject::new(
            "bob@example.com",
            kind::EMOTICON,
            "TFR2C2.tmp",
            "",
            name.as_bytes(),
        )
    }

    #[test]
    fn declarations_read_as_the_official_clients_write_them() {
        let (tux, baaha) = (object("tux"), object("baaha"));
        let body = format!("(tux)\t{}\t(baaha)\t{}\t", tux.xml, baaha.xml);
        let list = parse(body.as_bytes()).unwrap();
        assert_eq!(list.refused, 0);
        assert_eq!(list.emoticons.len(), 2);
        assert_eq!(list.emoticons[0].shortcut, "(tux)");
        assert_eq!(list.emoticons[0].object, tux);
        assert_eq!(list.emoticons[1].object, baaha);
        // Pidgin writes no trailing TAB and may percent-encode the object.
        let mut encoded = Vec::new();
        percent::encode_url_into(&tux.xml, &mut encoded);
        let encoded = String::from_utf8(encoded).unwrap();
        assert!(encoded.starts_with("%3C"));
        let list = parse(format!("(tux)\t{encoded}").as_bytes()).unwrap();
        assert_eq!(list.emoticons[0].object.sha1d, tux.sha1d);
    }

    #[test]
    fn bad_entries_are_refused_one_by_one() {
        let good = object("good");
        let picture = MsnObject::new("bob@example.com", 3, "0", "", b"x");
        let path = object("x").xml.replace("TFR2C2.tmp", "..\\..\\evil.gif");
        let body = format!(
            "(a)\t{}\t\t{}\t(b)\t<msnobj/>\t(c)\t{}\t(d)\t{path}\t(a)\t{}\t{}\t{}\t(dangling)",
            good.xml,
            good.xml,
            picture.xml,
            good.xml,
            "x".repeat(MAX_SHORTCUT + 1),
            good.xml,
        );
        let list = parse(body.as_bytes()).unwrap();
        assert_eq!(list.emoticons.len(), 1);
        assert_eq!(list.emoticons[0].shortcut, "(a)");
        assert_eq!(list.refused, 7);
    }

    #[test]
    fn declarations_are_bounded() {
        let entries: String = (0..100)
            .map(|i| format!("({i})\t{}\t", object(&i.to_string()).xml))
            .collect();
        assert_eq!(
            parse(entries.as_bytes()),
            Err(EmoticonListError::TooLong(entries.len()))
        );
        let entries: String = (0..40)
            .map(|i| format!("({i})\t{}\t", object(&i.to_string()).xml))
            .collect();
        let list = parse(entries.as_bytes()).unwrap();
        assert_eq!(list.emoticons.len(), MAX_EMOTICONS);
        assert_eq!(list.refused, 40 - MAX_EMOTICONS);
    }

    #[test]
    fn our_declarations_fit_a_message_and_read_back() {
        let objects: Vec<(String, MsnObject)> = (0..12)
            .map(|i| (format!("(e{i})"), object(&i.to_string())))
            .collect();
        let refs: Vec<(&str, &MsnObject)> = objects.iter().map(|(s, o)| (s.as_str(), o)).collect();
        let payloads = payloads(&refs);
        assert!(payloads.len() > 1);
        let mut read = Vec::new();
        for payload in &payloads {
            assert!(payload.len() <= MAX_PAYLOAD);
            let mime = Mime::parse(payload);
            assert_eq!(mime.content_type().as_deref(), Some("text/x-mms-emoticon"));
            read.extend(parse(&mime.body).unwrap().emoticons);
        }
        let back: Vec<(String, MsnObject)> =
            read.into_iter().map(|e| (e.shortcut, e.object)).collect();
        assert_eq!(back, objects);
    }

    #[test]
    fn shortcuts_used_in_a_text() {
        let text = "look (tux) and :-) and (tux)";
        assert_eq!(
            used_in(text, &["(tux)", "(cat)", ":-)", "(tux)", " x"]),
            ["(tux)", ":-)"]
        );
    }
}
