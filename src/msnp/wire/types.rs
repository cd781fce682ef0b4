//! Small value types shared by several commands: status codes, capabilities, lists, addresses.

use super::args::{number, ParseError};
use std::fmt;

/// A presence status code (docs/protocol.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `NLN`: online.
    Online,
    /// `BSY`: busy.
    Busy,
    /// `IDL`: idle.
    Idle,
    /// `BRB`: be right back.
    BeRightBack,
    /// `AWY`: away.
    Away,
    /// `PHN`: on the phone.
    OnThePhone,
    /// `LUN`: out to lunch.
    OutToLunch,
    /// `HDN`: invisible (own status only).
    Hidden,
    /// `FLN`: offline (server → client only).
    Offline,
}

impl Status {
    const ALL: [(Status, &'static str); 9] = [
        (Status::Online, "NLN"),
        (Status::Busy, "BSY"),
        (Status::Idle, "IDL"),
        (Status::BeRightBack, "BRB"),
        (Status::Away, "AWY"),
        (Status::OnThePhone, "PHN"),
        (Status::OutToLunch, "LUN"),
        (Status::Hidden, "HDN"),
        (Status::Offline, "FLN"),
    ];

    /// The three-letter wire code.
    pub fn code(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("FLN", |(_, c)| c)
    }

    /// Parses a wire code.
    pub fn from_code(code: &[u8]) -> Result<Status, ParseError> {
        Self::ALL
            .iter()
            .find(|(_, c)| c.as_bytes() == code)
            .map(|(s, _)| *s)
            .ok_or(ParseError::InvalidStatus)
    }
}

/// The capability field of `CHG`/`NLN`/`ILN`/`FLN`: `caps`, or `caps:capsex` from MSNP16
/// (docs/protocol.md §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// Client capability bits (top nibble: MSNC version).
    pub client: u32,
    /// Extended capability bits, present from MSNP16.
    pub extended: Option<u32>,
}

impl Capabilities {
    /// Parses `caps` or `caps:capsex`.
    pub fn parse(token: &[u8]) -> Result<Capabilities, ParseError> {
        let mut parts = token.splitn(2, |&b| b == b':');
        let client = parts.next().map(number).transpose();
        let extended = parts.next().map(number).transpose();
        match (client, extended) {
            (Ok(Some(client)), Ok(extended)) => Ok(Capabilities { client, extended }),
            _ => Err(ParseError::InvalidCapabilities),
        }
    }
}

impl fmt::Display for Capabilities {
    /// The wire form, `caps` or `caps:capsex`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.extended {
            Some(ext) => write!(f, "{}:{}", self.client, ext),
            None => write!(f, "{}", self.client),
        }
    }
}

/// One of the server-stored lists (docs/protocol.md §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    /// `FL`: forward list, my contacts.
    Forward,
    /// `AL`: allow list.
    Allow,
    /// `BL`: block list.
    Block,
    /// `RL`: reverse list, people who have me on their FL.
    Reverse,
    /// `PL`: pending list, people awaiting my decision (MSNP11+).
    Pending,
}

impl List {
    const ALL: [(List, &'static str); 5] = [
        (List::Forward, "FL"),
        (List::Allow, "AL"),
        (List::Block, "BL"),
        (List::Reverse, "RL"),
        (List::Pending, "PL"),
    ];

    /// The two-letter wire name.
    pub fn code(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(l, _)| *l == self)
            .map_or("FL", |(_, c)| c)
    }

    /// Parses a two-letter wire name.
    pub fn from_code(code: &[u8]) -> Result<List, ParseError> {
        Self::ALL
            .iter()
            .find(|(_, c)| c.as_bytes() == code)
            .map(|(l, _)| *l)
            .ok_or(ParseError::InvalidArgument)
    }

    /// The list's flag in a [`ListSet`].
    pub fn flag(self) -> ListSet {
        match self {
            List::Forward => ListSet::FORWARD,
            List::Allow => ListSet::ALLOW,
            List::Block => ListSet::BLOCK,
            List::Reverse => ListSet::REVERSE,
            List::Pending => ListSet::PENDING,
        }
    }
}

bitflags::bitflags! {
    /// Membership in the server-stored lists (docs/protocol.md §2.5): the bitmask of `LST`, the
    /// `l` attribute of `ADL`/`RML` documents and a roster contact's lists. Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ListSet: u8 {
        /// `FL`: forward list, my contacts.
        const FORWARD = 0x01;
        /// `AL`: allow list.
        const ALLOW = 0x02;
        /// `BL`: block list.
        const BLOCK = 0x04;
        /// `RL`: reverse list, people who have me on their FL.
        const REVERSE = 0x08;
        /// `PL`: pending list, people awaiting my decision (MSNP11+).
        const PENDING = 0x10;
        /// The lists a client may change itself (never RL or PL).
        const CLIENT = Self::FORWARD.bits() | Self::ALLOW.bits() | Self::BLOCK.bits();
        const _ = !0;
    }
}

impl ListSet {
    /// Parses the decimal bitmask.
    pub fn parse(token: &[u8]) -> Result<ListSet, ParseError> {
        u8::try_from(number(token)?)
            .map(ListSet::from_bits_retain)
            .map_err(|_| ParseError::InvalidNumber)
    }
}

/// A `host:port` server address from `XFR`/`RNG`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Host name or IP literal, as sent.
    pub host: String,
    /// TCP port, never 0.
    pub port: u16,
}

impl HostPort {
    /// Parses `host:port`; the host must be non-empty printable ASCII.
    pub fn parse(token: &[u8]) -> Result<HostPort, ParseError> {
        let colon = token
            .iter()
            .rposition(|&b| b == b':')
            .ok_or(ParseError::InvalidAddress)?;
        let (host, port) = (
            token.get(..colon).unwrap_or_default(),
            token.get(colon + 1..).unwrap_or_default(),
        );
        if host.is_empty() || !host.iter().all(u8::is_ascii_graphic) {
            return Err(ParseError::InvalidAddress);
        }
        let port = number(port)
            .ok()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|&p| p != 0)
            .ok_or(ParseError::InvalidAddress)?;
        Ok(HostPort {
            host: String::from_utf8_lossy(host).into_owned(),
            port,
        })
    }
}

impl fmt::Display for HostPort {
    /// `host:port`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// The contact-list version a client has cached, or the server reports, in `SYN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListVersion {
    /// MSNP8/9: one serial number (`SYN 5 0`).
    Serial(u32),
    /// MSNP10–12: two timestamps, contacts then groups (`SYN 5 0 0`).
    Timestamps {
        /// Contact list timestamp.
        contacts: String,
        /// Group list timestamp.
        groups: String,
    },
}

/// How to treat people on neither the allow nor the block list (`BLP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrivacyMode {
    /// `AL`: allow them.
    AllowOthers,
    /// `BL`: block them.
    BlockOthers,
}

impl PrivacyMode {
    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            PrivacyMode::AllowOthers => "AL",
            PrivacyMode::BlockOthers => "BL",
        }
    }

    /// Parses the wire code.
    pub fn from_code(code: &[u8]) -> Result<PrivacyMode, ParseError> {
        match code {
            b"AL" => Ok(PrivacyMode::AllowOthers),
            b"BL" => Ok(PrivacyMode::BlockOthers),
            _ => Err(ParseError::InvalidArgument),
        }
    }
}

/// Whether to be asked when someone adds me (`GTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddPrompt {
    /// `A`: ask.
    Ask,
    /// `N`: don't ask.
    Never,
}

impl AddPrompt {
    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            AddPrompt::Ask => "A",
            AddPrompt::Never => "N",
        }
    }

    /// Parses the wire code.
    pub fn from_code(code: &[u8]) -> Result<AddPrompt, ParseError> {
        match code {
            b"A" => Ok(AddPrompt::Ask),
            b"N" => Ok(AddPrompt::Never),
            _ => Err(ParseError::InvalidArgument),
        }
    }
}

/// Splits an MSNP18 `<nid>:<address>` token (e.g. `1:bob@example.com`) into network id and
/// address; a token without a numeric prefix is returned whole with no network id.
pub(crate) fn split_network_prefix(token: &[u8]) -> (Option<u32>, &[u8]) {
    if let Some(colon) = token.iter().position(|&b| b == b':') {
        if let (Some(prefix), Some(rest)) = (token.get(..colon), token.get(colon + 1..)) {
            if let Ok(nid) = number(prefix) {
                return (Some(nid), rest);
            }
        }
    }
    (None, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip() {
        for (status, code) in Status::ALL {
            assert_eq!(status.code(), code);
            assert_eq!(Status::from_code(code.as_bytes()), Ok(status));
        }
        assert_eq!(Status::from_code(b"XYZ"), Err(ParseError::InvalidStatus));
        assert_eq!(Status::from_code(b"nln"), Err(ParseError::InvalidStatus));
    }

    #[test]
    fn capabilities_both_forms() {
        let caps = Capabilities::parse(b"2788999228:48").unwrap();
        assert_eq!(
            caps,
            Capabilities {
                client: 2_788_999_228,
                extended: Some(48)
            }
        );
        assert_eq!(caps.to_string(), "2788999228:48");
        let caps = Capabilities::parse(b"1342177280").unwrap();
        assert_eq!(
            caps,
            Capabilities {
                client: 0x5000_0000,
                extended: None
            }
        );
        assert_eq!(caps.to_string(), "1342177280");
        for bad in [&b""[..], b":1", b"1:", b"1:2:3", b"x", b"4294967296"] {
            assert_eq!(
                Capabilities::parse(bad),
                Err(ParseError::InvalidCapabilities),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn lists_and_list_sets() {
        for (list, code) in List::ALL {
            assert_eq!(List::from_code(code.as_bytes()), Ok(list));
            assert_eq!(list.code(), code);
        }
        let set = ListSet::parse(b"11").unwrap();
        assert_eq!(set, ListSet::FORWARD | ListSet::ALLOW | ListSet::REVERSE);
        for list in [List::Forward, List::Allow, List::Reverse] {
            assert!(set.contains(list.flag()), "{list:?}");
        }
        assert!(!set.intersects(List::Block.flag() | List::Pending.flag()));
        assert_eq!(
            ListSet::parse(b"160").unwrap().bits(),
            160,
            "unknown bits are kept"
        );
        assert_eq!(ListSet::CLIENT.bits(), 7);
        assert_eq!(ListSet::parse(b"256"), Err(ParseError::InvalidNumber));
    }

    #[test]
    fn host_port() {
        let hp = HostPort::parse(b"127.0.0.1:1864").unwrap();
        assert_eq!(
            hp,
            HostPort {
                host: "127.0.0.1".into(),
                port: 1864
            }
        );
        assert_eq!(hp.to_string(), "127.0.0.1:1864");
        assert_eq!(HostPort::parse(b"[::1]:1863").unwrap().host, "[::1]");
        for bad in [
            &b"host"[..],
            b":1863",
            b"host:",
            b"host:0",
            b"host:65536",
            b"host:x",
        ] {
            assert_eq!(
                HostPort::parse(bad),
                Err(ParseError::InvalidAddress),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn network_prefix() {
        assert_eq!(
            split_network_prefix(b"1:bob@example.com"),
            (Some(1), &b"bob@example.com"[..])
        );
        assert_eq!(
            split_network_prefix(b"bob@example.com"),
            (None, &b"bob@example.com"[..])
        );
        assert_eq!(split_network_prefix(b"x:bob"), (None, &b"x:bob"[..]));
    }
}
