//! `USR`: Passport 1.4 (`TWN`, MSNP8-14) and SSO with the MBI_KEY_OLD blob (MSNP15+), including
//! the `XFR NS` redirect of the first NS (docs/protocol.md §1.2, §3.1, §3.2; `extra-authfail/*`).

use super::{Auth, Flow, Session};
use crate::crypto::{self, mbi};
use crate::wire::Command;
use base64::Engine as _;
use std::time::Instant;

/// The policy blob pushed as `GCF 0 <len>` before `USR ... S` (MSNP13+).
pub(super) const POLICIES: &[u8] = include_bytes!("../templates/policies.xml");
/// Escargot's Passport 1.4 challenge string.
const TWN_CHALLENGE: &str = "ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1";

/// Whether `s` is a machine GUID as Escargot accepts it (`{8-4-4-4-12}`, braces optional).
fn is_machine_guid(s: &str) -> bool {
    let inner = s.strip_prefix('{').unwrap_or(s);
    let inner = inner.strip_suffix('}').unwrap_or(inner);
    let groups: Vec<&str> = inner.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

impl Session {
    /// `USR <trid> TWN|SSO I|S ...`.
    pub(super) fn handle_usr(&mut self, cmd: &Command) -> Flow {
        let Some(trid) = cmd.trid().map(str::to_owned) else {
            return Flow::Close;
        };
        if self.signed_in() {
            self.error(205, cmd);
            return Flow::Continue;
        }
        let dialect = self.dialect();
        match (cmd.arg(1), cmd.arg(2)) {
            (Some("TWN"), Some("I")) if (8..15).contains(&dialect) => {
                let Some(email) = cmd.arg(3) else {
                    return Flow::Close;
                };
                if self.redirector {
                    return self.redirect(&trid);
                }
                if dialect >= 13 {
                    self.conn
                        .send_with_payload(&format!("GCF 0 {}", POLICIES.len()), POLICIES);
                }
                self.auth = Auth::Twn {
                    email: email.to_owned(),
                };
                self.conn.send(&format!("USR {trid} TWN S {TWN_CHALLENGE}"));
                Flow::Continue
            }
            (Some("TWN"), Some("S")) => self.twn_final(cmd, &trid),
            (Some("SSO"), Some("I")) if dialect >= 15 => {
                let Some(email) = cmd.arg(3) else {
                    return Flow::Close;
                };
                if self.redirector {
                    return self.redirect(&trid);
                }
                let nonce =
                    base64::engine::general_purpose::STANDARD.encode(crypto::random_bytes(48));
                self.conn
                    .send_with_payload(&format!("GCF 0 {}", POLICIES.len()), POLICIES);
                self.conn
                    .send(&format!("USR {trid} SSO S MBI_KEY_OLD {nonce}"));
                self.auth = Auth::Sso {
                    email: email.to_owned(),
                    nonce,
                };
                Flow::Continue
            }
            (Some("SSO"), Some("S")) => self.sso_final(cmd, &trid),
            _ => Flow::Close,
        }
    }

    /// The first NS of a redirect pair points the client at the second one and hangs up.
    fn redirect(&mut self, trid: &str) -> Flow {
        let ports = self.shared.ports;
        let line = if self.dialect() >= 13 {
            format!("XFR {trid} NS 127.0.0.1:{} U D", ports.ns_second)
        } else {
            format!(
                "XFR {trid} NS 127.0.0.1:{} 0 127.0.0.1:{}",
                ports.ns_second, ports.ns
            )
        };
        self.conn.send(&line);
        Flow::Close
    }

    /// `USR <trid> TWN S <ticket>`: the token must be unexpired and issued to this user.
    fn twn_final(&mut self, cmd: &Command, trid: &str) -> Flow {
        let Auth::Twn { email } = self.auth.clone() else {
            return Flow::Close;
        };
        let Some(ticket) = cmd.arg(3) else {
            return Flow::Close;
        };
        let valid = self
            .shared
            .directory()
            .token(ticket, Instant::now())
            .is_some_and(|t| t.email.eq_ignore_ascii_case(&email));
        if !valid {
            self.conn.send(&format!("911 {trid}"));
            return Flow::Close;
        }
        self.signed_in_as(trid, &email, ticket);
        Flow::Continue
    }

    /// `USR <trid> SSO S <ticket> [<blob> [<machine guid>]]`: blob optional for MSNP15, blob and
    /// GUID required from MSNP16; a present blob must verify against the token's proof key.
    fn sso_final(&mut self, cmd: &Command, trid: &str) -> Flow {
        let Auth::Sso { email, nonce } = self.auth.clone() else {
            return Flow::Close;
        };
        let Some(ticket) = cmd.arg(3) else {
            return Flow::Close;
        };
        let blob = cmd.arg(4);
        let guid = cmd.arg(5);
        if self.dialect() >= 16 && (blob.is_none() || !guid.is_some_and(is_machine_guid)) {
            self.conn.send(&format!("911 {trid}"));
            return Flow::Close;
        }
        let valid = {
            let dir = self.shared.directory();
            match dir.token(ticket, Instant::now()) {
                Some(t) if t.email.eq_ignore_ascii_case(&email) => match blob {
                    None => true,
                    Some(b) => t
                        .secret
                        .as_deref()
                        .is_some_and(|s| mbi::verify(b, s, &nonce).is_ok()),
                },
                _ => false,
            }
        };
        if !valid {
            self.conn.send(&format!("911 {trid}"));
            return Flow::Close;
        }
        self.machine_guid = guid.map(str::to_owned);
        self.signed_in_as(trid, &email, ticket);
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::is_machine_guid;

    #[test]
    fn machine_guid_shape() {
        assert!(is_machine_guid("{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0}"));
        assert!(is_machine_guid("0961ffc4-f6e6-41a0-9845-2214a26f069d"));
        assert!(!is_machine_guid("{F52973B6-C926-4BAD-9BA8}"));
        assert!(!is_machine_guid("{G52973B6-C926-4BAD-9BA8-7C1E840E4AB0}"));
    }
}
