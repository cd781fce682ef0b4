//! `VER` and `CVR` (docs/protocol.md §2.1; transcripts `extra-negotiation/*`).

use super::{Flow, Session};
use crate::wire::Command;

/// Escargot's preference: the highest dialect <= 18 offered, then 19-21.
fn preference() -> impl Iterator<Item = u32> {
    (2..=18).rev().chain(19..=21)
}

/// The dialect a server accepting `accepted` picks from `offered` tokens (`MSNP12`, `msnp12`, `CVR0`).
pub(crate) fn choose_dialect(accepted: &[u32], offered: &[String]) -> Option<u32> {
    let offered: Vec<u32> = offered
        .iter()
        .filter_map(|t| {
            let t = t.to_ascii_uppercase();
            t.strip_prefix("MSNP")?.parse().ok()
        })
        .collect();
    preference().find(|v| accepted.contains(v) && offered.contains(v))
}

impl Session {
    /// `VER <trid> MSNPx ... CVR0` -> `VER <trid> MSNPn`, or `VER <trid> 0` and close;
    /// a second `VER` gets `715` and a close.
    pub(super) fn handle_ver(&mut self, cmd: &Command) -> Flow {
        let Some(trid) = cmd.trid().filter(|t| t.parse::<u32>().is_ok()) else {
            return Flow::Close;
        };
        if self.dialect.is_some() {
            self.conn.send(&format!("715 {trid}"));
            return Flow::Close;
        }
        match choose_dialect(&self.shared.config.versions, &cmd.args[1..]) {
            Some(v) => {
                self.dialect = Some(v);
                self.conn.send(&format!("VER {trid} MSNP{v}"));
                Flow::Continue
            }
            None => {
                self.conn.send(&format!("VER {trid} 0"));
                Flow::Close
            }
        }
    }

    /// `CVR <trid> <lcid> <os> <osver> <arch> <lib> <version> ...` -> the client version echoed
    /// three times and two URLs; fewer than six arguments close the connection (Escargot raises).
    pub(super) fn handle_cvr(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(version)) = (cmd.trid(), cmd.arg(6)) else {
            return Flow::Close;
        };
        self.conn.send(&format!(
            "CVR {trid} {version} {version} {version} https://escargot.log1p.xyz https://escargot.log1p.xyz"
        ));
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn picks_like_escargot() {
        let esc: Vec<u32> = (2..=21).collect();
        assert_eq!(
            choose_dialect(&esc, &offer("MSNP12 MSNP18 MSNP15 CVR0")),
            Some(18)
        );
        assert_eq!(choose_dialect(&esc, &offer("MSNP21 MSNP15")), Some(15));
        assert_eq!(choose_dialect(&esc, &offer("MSNP21 CVR0")), Some(21));
        assert_eq!(choose_dialect(&esc, &offer("msnp12 CVR0")), Some(12));
        assert_eq!(choose_dialect(&esc, &offer("MSNP99 CVR0")), None);
        let default: Vec<u32> = (8..=18).collect();
        assert_eq!(choose_dialect(&default, &offer("MSNP21 MSNP7")), None);
    }
}
