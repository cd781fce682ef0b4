//! The `<ml>` list documents of `ADL`, `RML` and `FQY` (MSNP13+, docs/protocol.md §5.2, §10):
//! building them, split to fit the NS payload limit, and reading the server's `ADL 0`/`RML 0`
//! pushes and `FQY` answers.
//!
//! ```text
//! <ml l="1"><d n="example.com"><c n="bob" l="3" t="1" /></d></ml>
//! ```

use std::collections::HashMap;

use quick_xml::escape::escape;

use crate::soap::envelope::is_email;
use crate::soap::xml::{attribute, Node, XmlError, XmlStream};
use crate::wire::ListSet;

/// Largest payload built: the official client kept list commands under 7,500 bytes.
pub const MAX_PAYLOAD_LEN: usize = 7_500;
/// Most contacts put in one payload (what Pidgin's MSN plugin sent at most).
pub const MAX_CONTACTS_PER_PAYLOAD: usize = 150;
/// Largest document parsed.
pub const MAX_PARSE_LEN: usize = 256 * 1024;
/// Most entries read from one document.
pub const MAX_ENTRIES: usize = 10_000;
/// Longest friendly name kept from a push.
const MAX_FRIENDLY_LEN: usize = 1024;

/// Why a list document could not be built or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ListXmlError {
    /// An entry given to a builder is unusable (address, network id).
    #[error("unusable list entry: {0}")]
    InvalidEntry(&'static str),
    /// The document is not well-formed or not an `<ml>` document.
    #[error("malformed list XML: {0}")]
    Malformed(&'static str),
    /// The document exceeds a size, depth or count limit.
    #[error("list XML too large: {0}")]
    TooLarge(&'static str),
}

impl From<XmlError> for ListXmlError {
    fn from(e: XmlError) -> ListXmlError {
        match e {
            XmlError::Malformed(what) => ListXmlError::Malformed(what),
            XmlError::TooLarge(what) => ListXmlError::TooLarge(what),
        }
    }
}

/// One contact of a list document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// Account name (`local@domain`).
    pub email: String,
    /// The lists; empty when the document has none (`FQY`).
    pub lists: ListSet,
    /// Network id (1 Passport, 32 Yahoo!, ...); 0 when the document has none.
    pub network: u32,
    /// Friendly name of a push (`f=`, percent-decoded); never sent by the builders.
    pub friendly: Option<String>,
}

/// Builds `ADL`/`RML` payloads for `entries`, grouped by domain and split so that each is at
/// most [`MAX_PAYLOAD_LEN`] bytes with at most [`MAX_CONTACTS_PER_PAYLOAD`] contacts. RL/PL bits
/// are dropped (an entry left with no bits is skipped); entries for the same address are
/// merged. `initial` marks the sign-in dump (`l="1"`), which is sent even when empty.
pub fn build_list_payloads(
    entries: &[ListEntry],
    initial: bool,
) -> Result<Vec<Vec<u8>>, ListXmlError> {
    let mut merged: Vec<(&str, &str, ListSet, u32)> = Vec::with_capacity(entries.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(entries.len());
    for entry in entries {
        if entry.network == 0 {
            return Err(ListXmlError::InvalidEntry("network id 0"));
        }
        let (local, domain) = split_email(&entry.email)?;
        let lists = entry.lists & ListSet::CLIENT;
        if lists != entry.lists {
            log::warn!("list XML: dropping RL/PL bits, which clients may not send");
        }
        if lists.is_empty() {
            continue;
        }
        match seen.get(&entry.email.to_ascii_lowercase()) {
            Some(&i) => {
                if let Some(known) = merged.get_mut(i) {
                    known.2 |= lists;
                }
            }
            None => {
                seen.insert(entry.email.to_ascii_lowercase(), merged.len());
                merged.push((local, domain, lists, entry.network));
            }
        }
    }
    let header = if initial { "<ml l=\"1\">" } else { "<ml>" };
    let contacts = merged.iter().map(|&(local, domain, lists, network)| {
        let contact = format!(
            "<c n=\"{}\" l=\"{}\" t=\"{network}\" />",
            escape(local),
            lists.bits()
        );
        (domain, contact)
    });
    let mut payloads = split(header, contacts);
    if payloads.is_empty() && initial {
        payloads.push(b"<ml l=\"1\"></ml>".to_vec());
    }
    Ok(payloads)
}

/// Builds `FQY` payloads asking for the network of each address, split like
/// [`build_list_payloads`].
pub fn build_query_payloads(emails: &[&str]) -> Result<Vec<Vec<u8>>, ListXmlError> {
    let mut contacts = Vec::with_capacity(emails.len());
    for email in emails {
        let (local, domain) = split_email(email)?;
        contacts.push((domain, format!("<c n=\"{}\" />", escape(local))));
    }
    Ok(split("<ml>", contacts.into_iter()))
}

/// `local@domain` of a usable address.
fn split_email(email: &str) -> Result<(&str, &str), ListXmlError> {
    if !is_email(email) {
        return Err(ListXmlError::InvalidEntry("unusable account name"));
    }
    email
        .rsplit_once('@')
        .filter(|(local, domain)| !local.is_empty() && !domain.is_empty())
        .ok_or(ListXmlError::InvalidEntry("unusable account name"))
}

/// Packs `(domain, <c/>)` pairs into `<ml>` payloads: one `<d>` per domain in each payload,
/// domains in first-seen order, within the byte and contact limits.
fn split<'a>(header: &str, contacts: impl Iterator<Item = (&'a str, String)>) -> Vec<Vec<u8>> {
    let mut by_domain: Vec<(String, Vec<String>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (domain, contact) in contacts {
        let key = domain.to_ascii_lowercase();
        let i = *index.entry(key.clone()).or_insert_with(|| {
            by_domain.push((key, Vec::new()));
            by_domain.len() - 1
        });
        if let Some((_, list)) = by_domain.get_mut(i) {
            list.push(contact);
        }
    }
    const CLOSE: &str = "</d></ml>";
    let mut payloads = Vec::new();
    let mut current = String::new();
    let mut count = 0;
    for (domain, list) in &by_domain {
        let open_domain = format!("<d n=\"{}\">", escape(domain.as_str()));
        let mut in_domain = false;
        for contact in list {
            let has_domain = current.len() > header.len();
            let extra = match (in_domain, has_domain) {
                (true, _) => contact.len(),
                (false, true) => "</d>".len() + open_domain.len() + contact.len(),
                (false, false) => open_domain.len() + contact.len(),
            };
            let fits = !current.is_empty()
                && current.len() + extra + CLOSE.len() <= MAX_PAYLOAD_LEN
                && count < MAX_CONTACTS_PER_PAYLOAD;
            if !fits {
                if !current.is_empty() {
                    current.push_str(CLOSE);
                    payloads.push(std::mem::take(&mut current).into_bytes());
                }
                current.push_str(header);
                count = 0;
                in_domain = false;
            }
            if !in_domain {
                if current.len() > header.len() {
                    current.push_str("</d>");
                }
                current.push_str(&open_domain);
                in_domain = true;
            }
            current.push_str(contact);
            count += 1;
        }
    }
    if !current.is_empty() {
        current.push_str(CLOSE);
        payloads.push(current.into_bytes());
    }
    payloads
}

/// Reads an `<ml>` document from the server (`ADL 0`/`RML 0` push or `FQY` answer). Entries
/// with an unusable address are skipped; missing `l`/`t` read as 0 (fuzzing entry point).
pub fn parse_list(payload: &[u8]) -> Result<Vec<ListEntry>, ListXmlError> {
    let mut stream = XmlStream::new(payload.to_vec(), b"ml", MAX_PARSE_LEN)?;
    let mut entries = Vec::new();
    let mut domain: Option<String> = None;
    let mut seen = 0usize;
    stream.run(|path, node| {
        let Node::Open(e) = node else {
            if let (Node::Close, b"d") = (node, path.last()) {
                domain = None;
            }
            return Ok(());
        };
        match (path.depth(), path.last()) {
            (2, b"d") => domain = attribute(e, b"n")?,
            (3, b"c") => {
                seen += 1;
                if seen > MAX_ENTRIES {
                    return Err(XmlError::TooLarge("too many list entries"));
                }
                let local = attribute(e, b"n")?.unwrap_or_default();
                let email = format!("{local}@{}", domain.as_deref().unwrap_or_default());
                if !is_email(&email) {
                    log::warn!("list XML: ignoring an entry with an unusable address");
                    return Ok(());
                }
                let lists = attribute(e, b"l")?.and_then(|l| l.trim().parse().ok());
                let network = attribute(e, b"t")?.and_then(|t| t.trim().parse().ok());
                entries.push(ListEntry {
                    email,
                    lists: ListSet::from_bits_retain(lists.unwrap_or(0)),
                    network: network.unwrap_or(0),
                    friendly: attribute(e, b"f")?.map(|f| percent_decode(&f)),
                });
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(entries)
}

/// Decodes `%XX` escapes; a `%` without two hex digits stays; invalid UTF-8 becomes U+FFFD;
/// control characters are dropped; the result is cut to [`MAX_FRIENDLY_LEN`] bytes.
fn percent_decode(text: &str) -> String {
    let raw = text.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        // Two hex digits exactly: `from_str_radix` alone would also take a sign (`%+4`).
        let hex = raw
            .get(i + 1..i + 3)
            .filter(|h| b == b'%' && h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                bytes.push(byte);
                i += 3;
            }
            None => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    let mut out: String = String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let mut cut = out.len().min(MAX_FRIENDLY_LEN);
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(email: &str, lists: ListSet, network: u32) -> ListEntry {
        ListEntry {
            email: email.to_owned(),
            lists,
            network,
            friendly: None,
        }
    }

    /// `C>S`/`S>C` payload lines of the NS transcripts whose previous line is `<verb> ...`.
    fn recorded_payloads(direction: &str, verb: &str) -> Vec<String> {
        let mut found = Vec::new();
        for dir in ["msnp15", "msnp18", "extra-contact-add"] {
            let path = format!(
                "{}/../../tests/transcripts/{dir}",
                env!("CARGO_MANIFEST_DIR")
            );
            for file in std::fs::read_dir(path).unwrap() {
                let path = file.unwrap().path();
                if !path.to_string_lossy().ends_with("-ns.log")
                    && !path.to_string_lossy().contains("-ns-")
                {
                    continue;
                }
                let log = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = log.lines().collect();
                for pair in lines.windows(3) {
                    let command = format!("{direction} {verb} ");
                    if pair[0].contains(&command) && pair[2].contains(&format!("{direction} |<ml"))
                    {
                        found.push(pair[2].split_once(" |").unwrap().1.to_owned());
                    }
                }
            }
        }
        found
    }

    #[test]
    fn built_payloads_match_the_recorded_client() {
        let adl = recorded_payloads("C>S", "ADL");
        assert!(adl.len() >= 4, "{adl:?}");
        for recorded in adl {
            let parsed = parse_list(recorded.as_bytes()).unwrap();
            let initial = recorded.starts_with("<ml l=\"1\">");
            let built = build_list_payloads(&parsed, initial).unwrap();
            assert_eq!(built, [recorded.into_bytes()]);
        }
        let rml = recorded_payloads("C>S", "RML");
        assert!(!rml.is_empty());
        for recorded in rml {
            let built =
                build_list_payloads(&parse_list(recorded.as_bytes()).unwrap(), false).unwrap();
            assert_eq!(built, [recorded.into_bytes()]);
        }
        let fqy = recorded_payloads("C>S", "FQY");
        assert!(!fqy.is_empty());
        for recorded in fqy {
            let emails: Vec<String> = parse_list(recorded.as_bytes())
                .unwrap()
                .into_iter()
                .map(|e| e.email)
                .collect();
            let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
            assert_eq!(
                build_query_payloads(&emails).unwrap(),
                [recorded.into_bytes()]
            );
        }
    }

    #[test]
    fn recorded_fqy_answers_parse() {
        let answers = recorded_payloads("S>C", "FQY");
        assert!(!answers.is_empty());
        for answer in answers {
            assert_eq!(
                parse_list(answer.as_bytes()).unwrap(),
                [entry("bob@example.com", ListSet::empty(), 1)]
            );
        }
    }

    #[test]
    fn pushes_carry_friendly_names() {
        let push = b"<ml><d n=\"example.com\"><c n=\"bob\" t=\"1\" l=\"8\" f=\"Bob%20%26%20Co%E2%9C%89%0D%0A\" />\
                     <c n=\"eve\" l=\"x\" f=\"%zz%\" /><c n=\"bad name\" l=\"8\" t=\"1\" /></d>\
                     <d n=\"yahoo.com\"><c n=\"y\" l=\"8\" t=\"32\"/></d><c n=\"orphan\" l=\"8\"/></ml>";
        assert_eq!(
            parse_list(push).unwrap(),
            [
                ListEntry {
                    friendly: Some("Bob & Co\u{2709}".into()),
                    ..entry("bob@example.com", ListSet::REVERSE, 1)
                },
                ListEntry {
                    friendly: Some("%zz%".into()),
                    ..entry("eve@example.com", ListSet::empty(), 0)
                },
                entry("y@yahoo.com", ListSet::REVERSE, 32),
            ]
        );
    }

    /// Fuzzing finding (`listxml`): a domain ending in `@` made an address the builders refuse;
    /// such an entry is skipped like any other unusable address.
    #[test]
    fn a_second_at_sign_makes_an_unusable_address() {
        let push = b"<ml><d n=\"example.com@\"><c n=\"carol\" l=\"3\" t=\"1\" /></d>\
                     <d n=\"example.com\"><c n=\"a@b\" l=\"3\" t=\"1\" /><c n=\"bob\" l=\"3\" t=\"1\" /></d></ml>";
        let entries = parse_list(push).unwrap();
        assert_eq!(
            entries,
            [entry(
                "bob@example.com",
                ListSet::FORWARD | ListSet::ALLOW,
                1
            )]
        );
        assert!(build_list_payloads(&entries, false).is_ok());
    }

    /// Found while writing the `listxml` fuzz target: `%+4` decoded as byte 4 (then dropped as
    /// a control character) instead of staying as text.
    #[test]
    fn a_signed_escape_is_text() {
        let push =
            b"<ml><d n=\"example.com\"><c n=\"bob\" l=\"8\" t=\"1\" f=\"a%+4%-1%2B\" /></d></ml>";
        let entries = parse_list(push).unwrap();
        assert_eq!(entries[0].friendly.as_deref(), Some("a%+4%-1+"));
    }

    #[test]
    fn hostile_documents_are_refused() {
        for bad in [
            &b""[..],
            b"<ml>",
            b"<ml><d n=\"a\"><c n=\"b\"></d></ml>",
            b"<xml/>",
            b"<!DOCTYPE ml [<!ENTITY x \"y\">]><ml/>",
            b"<ml><d n=\"&x;\"/></ml>",
            b"<ml><d n=\"a\" n=\"b\"/></ml>",
        ] {
            assert!(
                matches!(parse_list(bad), Err(ListXmlError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let many = format!(
            "<ml><d n=\"x.com\">{}</d></ml>",
            "<c n=\"a\" />".repeat(MAX_ENTRIES + 1)
        );
        assert!(matches!(
            parse_list(many.as_bytes()),
            Err(ListXmlError::TooLarge(_))
        ));
        let huge = vec![b' '; MAX_PARSE_LEN + 1];
        assert!(matches!(parse_list(&huge), Err(ListXmlError::TooLarge(_))));
        let deep = format!("<ml>{}</ml>", "<d>".repeat(100));
        assert!(parse_list(deep.as_bytes()).is_err());
        let long_name = format!(
            "<ml><d n=\"x.com\"><c n=\"a\" f=\"{}\"/></d></ml>",
            "%41".repeat(5000)
        );
        assert_eq!(
            parse_list(long_name.as_bytes()).unwrap()[0]
                .friendly
                .as_ref()
                .unwrap()
                .len(),
            MAX_FRIENDLY_LEN
        );
    }

    #[test]
    fn reverse_and_pending_bits_are_never_sent() {
        let built = build_list_payloads(
            &[
                entry(
                    "bob@example.com",
                    ListSet::FORWARD | ListSet::ALLOW | ListSet::REVERSE | ListSet::PENDING,
                    1,
                ),
                entry("rl-only@example.com", ListSet::REVERSE, 1),
                entry("pl-only@example.com", ListSet::PENDING, 1),
            ],
            false,
        )
        .unwrap();
        assert_eq!(
            built,
            [b"<ml><d n=\"example.com\"><c n=\"bob\" l=\"3\" t=\"1\" /></d></ml>".to_vec()]
        );
        assert_eq!(
            build_list_payloads(&[entry("a@b.c", ListSet::REVERSE, 1)], false).unwrap(),
            Vec::<Vec<u8>>::new()
        );
        assert_eq!(
            build_list_payloads(&[], true).unwrap(),
            [b"<ml l=\"1\"></ml>".to_vec()]
        );
    }

    #[test]
    fn duplicates_merge_and_domains_group() {
        let built = build_list_payloads(
            &[
                entry("a@one.com", ListSet::FORWARD, 1),
                entry("b@two.com", ListSet::BLOCK, 32),
                entry("c@ONE.com", ListSet::ALLOW, 1),
                entry("A@one.com", ListSet::ALLOW, 1),
            ],
            true,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(built.concat()).unwrap(),
            "<ml l=\"1\"><d n=\"one.com\"><c n=\"a\" l=\"3\" t=\"1\" /><c n=\"c\" l=\"2\" t=\"1\" /></d>\
             <d n=\"two.com\"><c n=\"b\" l=\"4\" t=\"32\" /></d></ml>"
        );
    }

    #[test]
    fn big_lists_split_within_the_limits_without_losing_anyone() {
        let mut entries = Vec::new();
        for i in 0..5000 {
            let local = format!("user{i}-{}", "x".repeat(i % 120));
            entries.push(entry(
                &format!("{local}@domain{}.example.com", i % 7),
                ListSet::FORWARD | ListSet::ALLOW,
                1,
            ));
        }
        let built = build_list_payloads(&entries, true).unwrap();
        assert!(built.len() > 5000 / MAX_CONTACTS_PER_PAYLOAD);
        let mut back = Vec::new();
        for payload in &built {
            assert!(payload.len() <= MAX_PAYLOAD_LEN, "{}", payload.len());
            assert!(payload.starts_with(b"<ml l=\"1\"><d n=\""));
            let parsed = parse_list(payload).unwrap();
            assert!(parsed.len() <= MAX_CONTACTS_PER_PAYLOAD);
            // No domain appears twice within one payload.
            let text = String::from_utf8(payload.clone()).unwrap();
            let domains: Vec<&str> = text
                .split("<d n=\"")
                .skip(1)
                .map(|d| d.split('"').next().unwrap())
                .collect();
            let mut unique = domains.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), domains.len(), "{text}");
            back.extend(parsed);
        }
        let mut want: Vec<String> = entries.iter().map(|e| e.email.clone()).collect();
        let mut got: Vec<String> = back.iter().map(|e| e.email.clone()).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        assert!(back
            .iter()
            .all(|e| e.lists == ListSet::FORWARD | ListSet::ALLOW && e.network == 1));

        let queries: Vec<&str> = entries.iter().map(|e| e.email.as_str()).collect();
        let fqy = build_query_payloads(&queries).unwrap();
        assert!(fqy
            .iter()
            .all(|p| p.len() <= MAX_PAYLOAD_LEN && p.starts_with(b"<ml><d")));
        assert_eq!(
            fqy.iter()
                .map(|p| parse_list(p).unwrap().len())
                .sum::<usize>(),
            5000
        );
    }

    #[test]
    fn unusable_entries_are_refused() {
        for bad in [
            entry("nobody", ListSet::FORWARD, 1),
            entry("a\"b@c.d", ListSet::FORWARD, 1),
            entry("a@b.c", ListSet::FORWARD, 0),
        ] {
            assert!(
                build_list_payloads(std::slice::from_ref(&bad), false).is_err(),
                "{bad:?}"
            );
        }
        assert!(build_query_payloads(&["a b@c.d"]).is_err());
    }
}
