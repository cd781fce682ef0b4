//! Keep-alive and own presence: `PNG`, `CHG`, `UUX`, `PRP`, `BLP` (reference §1.4, §6).

use super::{Flow, Session};
use crate::wire::{percent_decode, Command};

/// Statuses a client may set.
const STATUSES: &[&str] = &["NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN"];

/// The mail/OIM summary Escargot sends after the first `CHG` (MSNP11+).
const INITIAL_MAIL_DATA: &str = "MIME-Version: 1.0\r\n\
Content-Type: text/x-msmsgsinitialmdatanotification; charset=UTF-8\r\n\r\n\
Mail-Data: <MD><E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E><Q><QTM>409600</QTM><QNM>204800</QNM></Q></MD>\r\n";

impl Session {
    /// `PNG` -> `QNG <seconds>` (bare `QNG` for MSNP8), unless `ignore_png`.
    pub(super) fn handle_png(&mut self) -> Flow {
        if !self.shared.config.ignore_png {
            if self.dialect() < 9 {
                self.conn.send("QNG");
            } else {
                self.conn
                    .send(&format!("QNG {}", self.shared.config.qng_seconds));
            }
        }
        Flow::Continue
    }

    /// `CHG <trid> <status> <caps> [<msnobj>]`: echoed; without the capability token no reply
    /// (MSNP8+); `FLN` or an unknown status gets `201`. The first one triggers the mail summary.
    pub(super) fn handle_chg(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(status)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        if !STATUSES.contains(&status) {
            self.error(201, cmd);
            return Flow::Continue;
        }
        let Some(caps) = cmd.arg(2) else {
            return Flow::Continue;
        };
        let mut line = format!("CHG {trid} {status} {caps}");
        if let Some(obj) = cmd.arg(3) {
            line.push(' ');
            line.push_str(obj);
        }
        self.conn.send(&line);
        if !self.chg_seen {
            self.chg_seen = true;
            if self.dialect() >= 11 {
                self.conn.send_with_payload(
                    &format!("MSG Hotmail Hotmail {}", INITIAL_MAIL_DATA.len()),
                    INITIAL_MAIL_DATA.as_bytes(),
                );
            }
        }
        Flow::Continue
    }

    /// `UUX <trid> <len>` + XML -> `UUX <trid> 0`.
    pub(super) fn handle_uux(&mut self, cmd: &Command) -> Flow {
        let Some(trid) = cmd.trid() else {
            return Flow::Close;
        };
        self.conn.send(&format!("UUX {trid} 0"));
        Flow::Continue
    }

    /// `PRP <trid> <type> <value>` -> echoed; `MFN` renames the user (MSNP10+, `715` before).
    pub(super) fn handle_prp(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(kind)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        if self.dialect() < 10 {
            self.error(715, cmd);
            return Flow::Continue;
        }
        let value = cmd.arg(2).unwrap_or("");
        if kind == "MFN" {
            let name = percent_decode(value);
            if let Some(email) = self.email().map(str::to_owned) {
                if let Some(user) = self.shared.directory().user_mut(&email) {
                    user.friendly = name;
                }
            }
        }
        self.conn.send(&format!("PRP {trid} {kind} {value}"));
        Flow::Continue
    }

    /// `BLP <trid> AL|BL` -> echoed; before MSNP13 an unchanged mode is `218`.
    pub(super) fn handle_blp(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(mode)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        if mode != "AL" && mode != "BL" {
            self.error(201, cmd);
            return Flow::Continue;
        }
        let Some(email) = self.email().map(str::to_owned) else {
            return Flow::Close;
        };
        let unchanged = {
            let mut dir = self.shared.directory();
            let Some(user) = dir.user_mut(&email) else {
                return Flow::Close;
            };
            let unchanged = user.blp == mode;
            user.blp = mode.to_owned();
            unchanged
        };
        if unchanged && self.dialect() < 13 {
            self.error(218, cmd);
        } else if self.dialect() < 10 {
            self.conn.send(&format!("BLP {trid} 1 {mode}"));
        } else {
            self.conn.send(&format!("BLP {trid} {mode}"));
        }
        Flow::Continue
    }
}
