//! The contact list over the NS: `SYN` (MSNP8-12), `GCF`, `ADL`/`RML`/`FQY` (MSNP13+), and the
//! list changes every front end shares with what follows them: the other user's reverse list
//! (`ADC 0 RL`, `ADD 0 RL`, `REM 0 RL`, `ADL 0`/`RML 0` and `NOT`) and presence (docs/protocol.md
//! §5; transcripts `msnp8`, `msnp12`, `extra-contact-add`).

use super::presence::{show_to, Outbox};
use super::{Flow, Session};
use crate::directory::{Directory, AL, BL, FL, PL, RL};
use crate::wire::{percent_encode, Command};

/// Answer to `GCF <trid> Shields.xml`.
const SHIELDS: &[u8] = include_bytes!("../templates/shields.xml");
/// The list timestamps Escargot sends in MSNP10+ `SYN`.
const SYN_STAMP: &str = "2000-01-01T00:00:00.0-00:00";
/// The RL and PL bits: lists a client may not put in `ADL`.
const SERVER_ONLY_LISTS: u8 = RL | PL;
/// Longest `<ml>` document read.
const MAX_ML_LEN: usize = 64 * 1024;

/// Why a list change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListError {
    /// The contact is no account here (`208`, `205` before MSNP10).
    NoSuchUser,
    /// Allow and block exclude each other (`219`).
    Exclusive,
    /// `RL` may only be added for a pending contact (Escargot closes the connection).
    NotPending,
}

/// Puts `contact` on `owner`'s lists `bits`, with what follows: adding to FL puts `owner` on
/// the contact's reverse (and, unanswered, pending) list and shows the contact's presence;
/// allow/block changes what the contact sees of `owner`.
pub(crate) fn list_add(
    dir: &mut Directory,
    owner: &str,
    contact: &str,
    bits: u8,
    out: &mut Outbox,
) -> Result<(), ListError> {
    if dir.user(contact).is_none() {
        return Err(ListError::NoSuchUser);
    }
    let entry = dir
        .contact_mut(owner, contact)
        .ok_or(ListError::NoSuchUser)?;
    let before = entry.lists;
    if (bits & AL != 0 && before & BL != 0) || (bits & BL != 0 && before & AL != 0) {
        return Err(ListError::Exclusive);
    }
    if bits & RL != 0 && before & PL == 0 {
        return Err(ListError::NotPending);
    }
    entry.lists |= bits;
    if bits & (AL | BL | RL) != 0 {
        entry.lists &= !PL;
    }
    if bits & FL != 0 && before & FL == 0 {
        let theirs = dir
            .contact_mut(contact, owner)
            .ok_or(ListError::NoSuchUser)?;
        let first = theirs.lists & RL == 0;
        theirs.lists |= RL;
        if theirs.lists & (AL | BL) == 0 {
            theirs.lists |= PL;
        }
        if first {
            push_reverse(dir, contact, owner, true, out);
        }
        show_to(dir, owner, contact, out);
    }
    if bits & (AL | BL) != 0 {
        show_to_if_watching(dir, contact, owner, out);
    }
    Ok(())
}

/// Takes `contact` off `owner`'s lists `bits`; leaving FL takes `owner` off the contact's
/// reverse list (pushed to the contact).
pub(crate) fn list_remove(
    dir: &mut Directory,
    owner: &str,
    contact: &str,
    bits: u8,
    out: &mut Outbox,
) {
    let Some(entry) = dir.contact_mut(owner, contact) else {
        return;
    };
    let before = entry.lists;
    entry.lists &= !bits;
    if bits & FL != 0 {
        entry.groups.clear();
    }
    if bits & FL != 0 && before & FL != 0 {
        if let Some(theirs) = dir.contact_mut(contact, owner) {
            let had = theirs.lists & RL != 0;
            theirs.lists &= !(RL | PL);
            if had {
                push_reverse(dir, contact, owner, false, out);
            }
        }
    }
    if bits & (AL | BL) != 0 {
        show_to_if_watching(dir, contact, owner, out);
    }
    for (a, b) in [(owner, contact), (contact, owner)] {
        if let Some(user) = dir.user_mut(a) {
            user.contacts
                .retain(|c| !(c.email.eq_ignore_ascii_case(b) && c.lists == 0 && c.name.is_none()));
        }
    }
}

/// Shows `target` (as it now is) to `watcher` if the watcher has it on its forward list.
fn show_to_if_watching(dir: &Directory, watcher: &str, target: &str, out: &mut Outbox) {
    if dir
        .contact(watcher, target)
        .is_some_and(|c| c.lists & FL != 0)
        && dir.status_of(target).is_some()
    {
        show_to(dir, watcher, target, out);
    }
}

/// Tells `target`'s connections that `owner` added (or removed) them: the reverse-list push
/// of their dialect and an address-book `NOT`.
fn push_reverse(dir: &Directory, target: &str, owner: &str, added: bool, out: &mut Outbox) {
    let friendly = dir
        .user(owner)
        .map_or(owner.to_owned(), |u| u.friendly.clone());
    let serial = dir.user(target).map_or(1, |u| u.serial);
    let not = notification(dir, target);
    for online in dir.online_of(target) {
        let (line, payload) = match (online.dialect, added) {
            (..=9, true) => (
                format!("ADD 0 RL {serial} {owner} {}", percent_encode(&friendly)),
                None,
            ),
            (..=9, false) => (format!("REM 0 RL {serial} {owner}"), None),
            (10..=12, true) => (
                format!("ADC 0 RL N={owner} F={}", percent_encode(&friendly)),
                None,
            ),
            (10..=12, false) => (format!("REM 0 RL {owner}"), None),
            (_, add) => {
                let (local, domain) = owner.split_once('@').unwrap_or((owner, ""));
                let name = match add {
                    true => format!(" f=\"{}\"", percent_encode(&friendly)),
                    false => String::new(),
                };
                let xml = format!(
                    "<ml><d n=\"{domain}\"><c n=\"{local}\" t=\"1\" l=\"8\"{name} /></d></ml>"
                );
                let verb = if add { "ADL" } else { "RML" };
                (format!("{verb} 0 {}", xml.len()), Some(xml.into_bytes()))
            }
        };
        out.push(&online.conn, line, payload);
        out.push(
            &online.conn,
            format!("NOT {}", not.len()),
            Some(not.clone().into_bytes()),
        );
    }
}

/// Escargot's "address book changed" `NOT` for `target`.
fn notification(dir: &Directory, target: &str) -> String {
    let (pid, cid) = dir.user(target).map_or((String::new(), 0), |u| {
        let cid = u64::from_str_radix(&u.cid(), 16).unwrap_or(0) as i64;
        (
            format!("0x{:08x}:0x{:08x}", u.member_id_low(), u.member_id_high()),
            cid,
        )
    });
    let date = crate::clock::iso8601(crate::clock::unix_now());
    format!(
        "<NOTIFICATION id=\"0\" siteid=\"45705\" siteurl=\"http://contacts.msn.com\">\r\n\
         \t<TO pid=\"{pid}\" name=\"{target}\">\r\n\t\t<VIA agent=\"messenger\" />\r\n\t</TO>\r\n\
         \t<MSG id=\"0\">\r\n\t\t<SUBSCR url=\"s.htm\" />\r\n\t\t<ACTION url=\"a.htm\" />\r\n\t\t<BODY>\r\n\
         \t\t\t&lt;NotificationData xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"&gt;\r\n\
         \t\t\t\t&lt;Service&gt;ABCHInternal&lt;/Service&gt;\r\n\t\t\t\t&lt;CID&gt;{cid}&lt;/CID&gt;\r\n\
         \t\t\t\t&lt;LastModifiedDate&gt;{date}&lt;/LastModifiedDate&gt;\r\n\
         \t\t\t\t&lt;HasNewItem&gt;false&lt;/HasNewItem&gt;\r\n\t\t\t&lt;/NotificationData&gt;\r\n\
         \t\t</BODY>\r\n\t</MSG>\r\n</NOTIFICATION>"
    )
}

impl Session {
    /// `SYN <trid> <ser>` / `SYN <trid> <ts1> <ts2>`: the whole list (MSNP8-12), `502` from MSNP13.
    pub(super) fn handle_syn(&mut self, cmd: &Command) -> Flow {
        let Some(trid) = cmd.trid().map(str::to_owned) else {
            return Flow::Close;
        };
        let dialect = self.dialect();
        if dialect >= 13 {
            self.error(502, cmd);
            return Flow::Continue;
        }
        let Some(email) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let out = {
            let mut dir = self.shared.directory();
            self.online_record(&mut dir);
            let Some(me) = dir.user(&email).cloned() else {
                return Flow::Close;
            };
            let contacts: Vec<_> = me
                .contacts
                .iter()
                .filter(|c| c.lists != 0)
                .map(|c| {
                    let name = c.name.clone().unwrap_or_else(|| {
                        dir.user(&c.email)
                            .map_or(c.email.clone(), |u| u.friendly.clone())
                    });
                    let uuid = dir.user(&c.email).map_or(String::new(), |u| u.uuid.clone());
                    (c.clone(), name, uuid)
                })
                .collect();
            self.syn_done = true;
            let mut out = Vec::new();
            if dialect < 10 {
                if cmd.arg(1) == Some(me.serial.to_string().as_str()) {
                    out.push(format!("SYN {trid} {}", me.serial));
                    out
                } else {
                    out.push(format!(
                        "SYN {trid} {} {} {}",
                        me.serial,
                        contacts.len(),
                        me.groups.len() + 1
                    ));
                    out.push("GTC A".to_owned());
                    out.push(format!("BLP {}", me.blp));
                    out.push("LSG 0 Other%20Contacts 0".to_owned());
                    for g in &me.groups {
                        out.push(format!("LSG {} {} 0", g.numeric, percent_encode(&g.name)));
                    }
                    for (c, name, _) in &contacts {
                        let groups = if c.lists & FL != 0 {
                            let ids: Vec<String> = me
                                .groups
                                .iter()
                                .filter(|g| c.groups.contains(&g.id))
                                .map(|g| g.numeric.to_string())
                                .collect();
                            match ids.is_empty() {
                                true => " 0".to_owned(),
                                false => format!(" {}", ids.join(",")),
                            }
                        } else {
                            String::new()
                        };
                        out.push(format!(
                            "LST {} {} {}{groups}",
                            c.email,
                            percent_encode(name),
                            c.lists
                        ));
                    }
                    out
                }
            } else {
                out.push(format!(
                    "SYN {trid} {SYN_STAMP} {SYN_STAMP} {} {}",
                    contacts.len(),
                    me.groups.len()
                ));
                out.push("GTC A".to_owned());
                out.push(format!("BLP {}", me.blp));
                out.push(format!("PRP MFN {}", percent_encode(&me.friendly)));
                for g in &me.groups {
                    out.push(format!("LSG {} {}", percent_encode(&g.name), g.id));
                }
                for (c, name, guid) in &contacts {
                    let extra = if dialect >= 12 { " 1" } else { "" };
                    out.push(format!(
                        "LST N={} F={} C={guid} {}{extra} {}",
                        c.email,
                        percent_encode(name),
                        c.lists,
                        c.groups.join(",")
                    ));
                }
                out
            }
        };
        for line in out {
            self.conn.send(&line);
        }
        Flow::Continue
    }

    /// `GCF <trid> Shields.xml` -> `GCF <trid> Shields.xml <len>` + the shields XML
    /// (before MSNP13 only after `SYN`, else `715`).
    pub(super) fn handle_gcf(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(file)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        if self.dialect() < 13 && !self.syn_done {
            self.error(715, cmd);
            return Flow::Continue;
        }
        self.conn
            .send_with_payload(&format!("GCF {trid} {file} {}", SHIELDS.len()), SHIELDS);
        Flow::Continue
    }

    /// `ADL <trid> <len>` + `<ml>`: the initial one (`l="1"`) is only checked, later ones
    /// change the lists as `ADC` would; `ADL <trid> OK`. Reverse/pending bits, an empty domain
    /// or XML that is not a member list get `241`/`240` and a close, as Escargot does.
    pub(super) fn handle_adl(&mut self, cmd: &Command) -> Flow {
        self.handle_ml(cmd, true)
    }

    /// `RML <trid> <len>` + `<ml>`: takes contacts off lists; `RML <trid> OK` (also for
    /// unknown contacts).
    pub(super) fn handle_rml(&mut self, cmd: &Command) -> Flow {
        self.handle_ml(cmd, false)
    }

    fn handle_ml(&mut self, cmd: &Command, add: bool) -> Flow {
        let Some(trid) = cmd.trid() else {
            return Flow::Close;
        };
        let payload = cmd.payload.as_deref().unwrap_or_default();
        let doc = match parse_ml(payload) {
            Ok(doc) => doc,
            Err(code) => {
                self.error(code, cmd);
                return Flow::Close;
            }
        };
        if doc.entries.iter().any(|e| e.lists & SERVER_ONLY_LISTS != 0) {
            self.error(241, cmd);
            return Flow::Close;
        }
        let Some(me) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let mut out = Outbox::default();
        {
            let mut dir = self.shared.directory();
            self.online_record(&mut dir);
            if !(add && doc.initial) {
                for entry in &doc.entries {
                    if add {
                        // Escargot answers OK even when a change is refused.
                        let _ = list_add(&mut dir, &me, &entry.email, entry.lists, &mut out);
                    } else {
                        list_remove(&mut dir, &me, &entry.email, entry.lists, &mut out);
                    }
                }
            }
        }
        let verb = if add { "ADL" } else { "RML" };
        out.send();
        self.conn.send(&format!("{verb} {trid} OK"));
        Flow::Continue
    }

    /// `FQY <trid> <len>` + `<ml>`: the network of each queried contact (1 for our accounts).
    pub(super) fn handle_fqy(&mut self, cmd: &Command) -> Flow {
        let Some(trid) = cmd.trid() else {
            return Flow::Close;
        };
        let doc = match parse_ml(cmd.payload.as_deref().unwrap_or_default()) {
            Ok(doc) => doc,
            Err(code) => {
                self.error(code, cmd);
                return Flow::Close;
            }
        };
        let mut xml = String::from("<ml>");
        {
            let dir = self.shared.directory();
            for entry in doc.entries.iter().filter(|e| dir.user(&e.email).is_some()) {
                let (local, domain) = entry.email.split_once('@').unwrap_or_default();
                xml.push_str(&format!(
                    "<d n=\"{domain}\"><c n=\"{local}\" t=\"1\" /></d>"
                ));
            }
        }
        xml.push_str("</ml>");
        self.conn
            .send_with_payload(&format!("FQY {trid} {}", xml.len()), xml.as_bytes());
        Flow::Continue
    }
}

/// One `<c>` of an `<ml>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MlEntry {
    email: String,
    lists: u8,
}

/// An `<ml>` document.
#[derive(Debug, Default, PartialEq, Eq)]
struct Ml {
    initial: bool,
    entries: Vec<MlEntry>,
}

/// Reads an `<ml>` document; `Err(code)` as Escargot answers: `240` for an empty domain,
/// `241` for anything else malformed.
fn parse_ml(xml: &[u8]) -> Result<Ml, u16> {
    use quick_xml::events::Event;
    if xml.len() > MAX_ML_LEN {
        return Err(241);
    }
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut doc = Ml::default();
    let mut root_seen = false;
    let mut domain: Option<(String, usize)> = None;
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &[u8]| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
    };
    loop {
        let event = reader.read_event().map_err(|_| 241u16)?;
        let (e, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) if e.name().as_ref() == b"d" => {
                if domain.take().is_some_and(|(_, n)| n == 0) {
                    return Err(240);
                }
                continue;
            }
            Event::Eof => return root_seen.then_some(doc).ok_or(241),
            _ => continue,
        };
        match e.name().as_ref() {
            b"ml" if !root_seen => {
                root_seen = true;
                doc.initial = attr(&e, b"l").as_deref() == Some("1");
            }
            b"d" if root_seen => {
                let name = attr(&e, b"n").filter(|n| !n.is_empty()).ok_or(241u16)?;
                if empty {
                    return Err(240);
                }
                domain = Some((name, 0));
            }
            b"c" => {
                let Some((name, count)) = domain.as_mut() else {
                    return Err(241);
                };
                *count += 1;
                let local = attr(&e, b"n").ok_or(241u16)?;
                let lists = match attr(&e, b"l") {
                    Some(l) => l.trim().parse().map_err(|_| 241u16)?,
                    None => 0,
                };
                doc.entries.push(MlEntry {
                    email: format!("{local}@{name}"),
                    lists,
                });
            }
            _ => return Err(241),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_member_lists() {
        let ml = br#"<ml l="1"><d n="example.com"><c n="bob" l="3" t="1" /></d></ml>"#;
        assert_eq!(
            parse_ml(ml),
            Ok(Ml {
                initial: true,
                entries: vec![MlEntry {
                    email: "bob@example.com".into(),
                    lists: 3
                }]
            })
        );
        assert_eq!(
            parse_ml(b"<ml l=\"1\"></ml>").map(|d| d.entries.len()),
            Ok(0)
        );
        assert_eq!(parse_ml(b"<x/>"), Err(241));
        assert_eq!(parse_ml(b"<ml><d"), Err(241));
        assert_eq!(parse_ml(b"<ml><d n=\"x.com\"></d></ml>"), Err(240));
        assert_eq!(parse_ml(b"<ml><d n=\"x.com\"/></ml>"), Err(240));
        assert_eq!(
            parse_ml(b"<ml><d n=\"x.com\"><c n=\"a\" l=\"x\"/></d></ml>"),
            Err(241)
        );
    }
}
