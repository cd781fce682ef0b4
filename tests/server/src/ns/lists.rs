//! Minimal contact-list commands for sign-in: `SYN` (MSNP8-12), `GCF`, `ADL` (MSNP13+)
//! (reference §5.1, §5.2; transcripts `msnp8`, `msnp12`, `extra-contact-add`).

use super::{Flow, Session};
use crate::wire::{percent_encode, Command};

/// Answer to `GCF <trid> Shields.xml`.
const SHIELDS: &[u8] = include_bytes!("../templates/shields.xml");
/// The list timestamps Escargot sends in MSNP10+ `SYN`.
const SYN_STAMP: &str = "2000-01-01T00:00:00.0-00:00";
/// List version number of MSNP8/9 `SYN`.
const SERIAL: u32 = 1;
/// The RL and PL bits: lists a client may not put in `ADL`.
const SERVER_ONLY_LISTS: u8 = 0x08 | 0x10;

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
        let (me, contacts) = {
            let dir = self.shared.directory();
            let Some(me) = dir.user(&email).cloned() else {
                return Flow::Close;
            };
            let contacts: Vec<_> = me
                .contacts
                .iter()
                .map(|c| (c.clone(), dir.user(&c.email).cloned()))
                .collect();
            (me, contacts)
        };
        self.syn_done = true;
        let mut out = Vec::new();
        if dialect < 10 {
            if cmd.arg(1) == Some(SERIAL.to_string().as_str()) {
                self.conn.send(&format!("SYN {trid} {SERIAL}"));
                return Flow::Continue;
            }
            out.push(format!("SYN {trid} {SERIAL} {} 1", contacts.len()));
            out.push("GTC A".to_owned());
            out.push(format!("BLP {}", me.blp));
            out.push("LSG 0 Other%20Contacts 0".to_owned());
            for (c, user) in &contacts {
                let name = user
                    .as_ref()
                    .map_or(c.email.as_str(), |u| u.friendly.as_str());
                let groups = if c.lists & 1 != 0 { " 0" } else { "" };
                out.push(format!(
                    "LST {} {} {}{groups}",
                    c.email,
                    percent_encode(name),
                    c.lists
                ));
            }
        } else {
            out.push(format!(
                "SYN {trid} {SYN_STAMP} {SYN_STAMP} {} 0",
                contacts.len()
            ));
            out.push("GTC A".to_owned());
            out.push(format!("BLP {}", me.blp));
            out.push(format!("PRP MFN {}", percent_encode(&me.friendly)));
            for (c, user) in &contacts {
                let name = user
                    .as_ref()
                    .map_or(c.email.as_str(), |u| u.friendly.as_str());
                let guid = user.as_ref().map_or("", |u| u.uuid.as_str());
                let extra = if dialect >= 12 { " 1" } else { "" };
                out.push(format!(
                    "LST N={} F={} C={guid} {}{extra} ",
                    c.email,
                    percent_encode(name),
                    c.lists
                ));
            }
        }
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

    /// `ADL <trid> <len>` + `<ml>`: `ADL <trid> OK`; reverse/pending bits or XML that is not a
    /// member list get `241` and a close, as Escargot does.
    pub(super) fn handle_adl(&mut self, cmd: &Command) -> Flow {
        let Some(trid) = cmd.trid() else {
            return Flow::Close;
        };
        let payload = cmd.payload.as_deref().unwrap_or_default();
        match list_bits(payload) {
            Some(bits) if bits.iter().all(|b| b & SERVER_ONLY_LISTS == 0) => {
                self.conn.send(&format!("ADL {trid} OK"));
                Flow::Continue
            }
            _ => {
                self.error(241, cmd);
                Flow::Close
            }
        }
    }
}

/// The `l` attribute of every `<c>` in an `<ml>` document, or `None` if it is not one.
fn list_bits(xml: &[u8]) -> Option<Vec<u8>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut bits = Vec::new();
    let mut root_seen = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name();
                if !root_seen {
                    if name.as_ref() != b"ml" {
                        return None;
                    }
                    root_seen = true;
                }
                if name.as_ref() == b"c" {
                    let l = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == b"l")
                        .and_then(|a| std::str::from_utf8(&a.value).ok()?.parse().ok())
                        .unwrap_or(0);
                    bits.push(l);
                }
            }
            Event::Eof => return root_seen.then_some(bits),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::list_bits;

    #[test]
    fn reads_member_list_bits() {
        let ml = br#"<ml l="1"><d n="example.com"><c n="bob" l="3" t="1" /></d></ml>"#;
        assert_eq!(list_bits(ml), Some(vec![3]));
        assert_eq!(list_bits(b"<x/>"), None);
        assert_eq!(list_bits(b"<ml><d"), None);
    }
}
