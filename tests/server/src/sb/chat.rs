//! The roster lines of a switchboard session in each receiver's dialect (docs/protocol.md
//! §7.1-7.3): capabilities from MSNP12, and from MSNP16 one entry per endpoint (`email;{guid}`)
//! plus the bare address once per user.

use super::Member;
use crate::wire::percent_encode;

/// First dialect whose `IRO`/`JOI` carry capabilities.
const CAPS_FROM: u32 = 12;
/// First dialect with endpoint addresses.
const ENDPOINTS_FROM: u32 = 16;

/// `member`'s capabilities token as a client of `dialect` reads it (none before MSNP12; the
/// `caps:extended` form from MSNP16).
fn caps(member: &Member, dialect: u32) -> Option<String> {
    if dialect < CAPS_FROM {
        return None;
    }
    let (base, extended) = member
        .caps
        .split_once(':')
        .unwrap_or((member.caps.as_str(), "0"));
    Some(match dialect >= ENDPOINTS_FROM {
        true => format!("{base}:{extended}"),
        false => base.to_owned(),
    })
}

/// `who friendly[ caps]` for one roster entry.
fn entry(member: &Member, with_endpoint: bool, dialect: u32) -> String {
    let mut who = member.email.clone();
    if let (true, Some(guid)) = (with_endpoint, &member.endpoint) {
        who = format!("{who};{{{guid}}}");
    }
    let mut text = format!("{who} {}", percent_encode(&member.friendly));
    if let Some(caps) = caps(member, dialect) {
        text.push(' ');
        text.push_str(&caps);
    }
    text
}

/// The `IRO` lines answering an `ANS` with TrID `trid`, for a joiner of `dialect`.
pub(super) fn iro_lines(trid: &str, members: &[Member], dialect: u32) -> Vec<String> {
    let mut entries = Vec::new();
    let mut bare_done: Vec<&str> = Vec::new();
    for member in members {
        if dialect >= ENDPOINTS_FROM && member.endpoint.is_some() {
            entries.push(entry(member, true, dialect));
        }
        if !bare_done
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&member.email))
        {
            bare_done.push(&member.email);
            entries.push(entry(member, false, dialect));
        }
    }
    let total = entries.len();
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| format!("IRO {trid} {} {total} {e}", i + 1))
        .collect()
}

/// The `JOI` lines announcing `member` to a client of `dialect`; `first` when no other
/// endpoint of the same user is in the session (only then is the bare address announced).
pub(super) fn joi_lines(member: &Member, dialect: u32, first: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if dialect >= ENDPOINTS_FROM && member.endpoint.is_some() {
        lines.push(format!("JOI {}", entry(member, true, dialect)));
    }
    if first {
        lines.push(format!("JOI {}", entry(member, false, dialect)));
    }
    lines
}

/// The `BYE` lines telling a client of `dialect` that `member` left; `last` when it was the
/// user's last endpoint in the session.
pub(super) fn bye_lines(member: &Member, dialect: u32, last: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if let (true, Some(guid)) = (dialect >= ENDPOINTS_FROM, &member.endpoint) {
        lines.push(format!("BYE {};{{{guid}}}", member.email));
    }
    if last {
        lines.push(format!("BYE {}", member.email));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Conn;
    use crate::transcript::{Service, Transcript};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;

    fn member(email: &str, friendly: &str, endpoint: Option<&str>, caps: &str) -> Member {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        Member {
            email: email.into(),
            endpoint: endpoint.map(str::to_owned),
            friendly: friendly.into(),
            caps: caps.into(),
            dialect: 18,
            conn: Arc::new(Conn::new(
                1,
                Service::Sb,
                stream,
                Arc::new(Transcript::default()),
            )),
        }
    }

    /// The lines of `msnp18/bob-sb.log` and `msnp12/bob-sb.log`.
    #[test]
    fn roster_lines_match_the_recordings() {
        let alice = member(
            "alice@example.com",
            "Alice (probe)",
            Some("0961ffc4-f6e6-41a0-9845-2214a26f069d"),
            "2788999228:48",
        );
        assert_eq!(
            iro_lines("1", std::slice::from_ref(&alice), 18),
            [
                "IRO 1 1 2 alice@example.com;{0961ffc4-f6e6-41a0-9845-2214a26f069d} Alice%20(probe) 2788999228:48",
                "IRO 1 2 2 alice@example.com Alice%20(probe) 2788999228:48",
            ]
        );
        let alice12 = member("alice@example.com", "Alice", None, "1342177280");
        assert_eq!(
            iro_lines("1", std::slice::from_ref(&alice12), 12),
            ["IRO 1 1 1 alice@example.com Alice 1342177280"]
        );
        assert_eq!(
            iro_lines("1", std::slice::from_ref(&alice12), 8),
            ["IRO 1 1 1 alice@example.com Alice"]
        );
        let bob = member(
            "bob@example.com",
            "Bob",
            Some("67276431-56b0-47ec-92cd-61d5bfc49e43"),
            "2788999228:48",
        );
        assert_eq!(
            joi_lines(&bob, 18, true),
            [
                "JOI bob@example.com;{67276431-56b0-47ec-92cd-61d5bfc49e43} Bob 2788999228:48",
                "JOI bob@example.com Bob 2788999228:48",
            ]
        );
        assert_eq!(
            joi_lines(&bob, 12, true),
            ["JOI bob@example.com Bob 2788999228"]
        );
        assert_eq!(
            bye_lines(&bob, 18, true),
            [
                "BYE bob@example.com;{67276431-56b0-47ec-92cd-61d5bfc49e43}",
                "BYE bob@example.com",
            ]
        );
        assert_eq!(bye_lines(&bob, 12, true), ["BYE bob@example.com"]);
        assert!(bye_lines(&alice12, 12, false).is_empty());
    }
}
