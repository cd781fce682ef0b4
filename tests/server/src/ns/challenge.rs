//! `CHL 0 <challenge>` after login and the `QRY` check (docs/protocol.md §4): a wrong product id or
//! answer, or no answer before the deadline, gets `540` and a close.

use super::{Flow, Session};
use crate::crypto::{self, challenge};
use crate::wire::Command;
use std::time::Instant;

impl Session {
    /// Sends a fresh 20-digit challenge and arms the deadline.
    pub(super) fn send_challenge(&mut self, now: Instant) {
        let chl = crypto::random_digits(20);
        self.conn.send(&format!("CHL 0 {chl}"));
        self.challenge = Some((chl, now + self.shared.config.chl_timeout));
    }

    /// `QRY <trid> <product id> 32` + 32 hex digits: `QRY <trid>` when right; ignored when no
    /// challenge is pending (Escargot never sends one).
    pub(super) fn handle_qry(&mut self, cmd: &Command) -> Flow {
        let Some((chl, _)) = self.challenge.take() else {
            return Flow::Continue;
        };
        let (Some(trid), Some(product)) = (cmd.trid(), cmd.arg(1)) else {
            return Flow::Close;
        };
        let expected = challenge::expected_answer(&chl, product);
        let given = cmd.payload.as_deref().map(String::from_utf8_lossy);
        if expected.is_some() && expected.as_deref() == given.as_deref() {
            self.conn.send(&format!("QRY {trid}"));
            for barrier in self.barriers.drain(..) {
                let _ = barrier.send(());
            }
            Flow::Continue
        } else {
            self.error(540, cmd);
            Flow::Close
        }
    }
}
