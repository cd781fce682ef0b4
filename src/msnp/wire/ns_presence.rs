//! Server → client presence and notification commands: `CHG ILN NLN FLN UBX UBN NOT RNG`
//! (docs/protocol.md §6, §7.2).

use super::args::{Args, ParseError};
use super::ns::take_payload;
use super::percent;
use super::types::{split_network_prefix, Capabilities, HostPort, Status};
use crate::dialect::{Dialect, PresenceShape};
use crate::secret::Secret;

/// `CHG <trid> <status> [<caps>] [<msnobj>]`: own status change confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chg {
    /// TrID of the client's `CHG`.
    pub trid: u32,
    /// The new status.
    pub status: Status,
    /// Capabilities echoed back (MSNP8+).
    pub capabilities: Option<Capabilities>,
    /// MSNObject echoed back, decoded (`0` means no display picture).
    pub msn_object: Option<String>,
}

impl Chg {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let status = Status::from_code(args.raw()?)?;
        let capabilities = args.raw().ok().map(Capabilities::parse).transpose()?;
        Ok(Chg {
            trid,
            status,
            capabilities,
            msn_object: args.opt_text(),
        })
    }
}

/// A contact's presence, as carried by `NLN` and `ILN` (docs/protocol.md §6.3).
///
/// `<status> <contact> [<nid>] <friendly> [<caps>] [<msnobj>]`: the network id is a separate
/// token in MSNP14–17 and a `1:` prefix of the contact in MSNP18+.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The contact's status.
    pub status: Status,
    /// The contact's address (without the MSNP18 `nid:` prefix).
    pub contact: String,
    /// Network id (MSNP14+).
    pub network_id: Option<u32>,
    /// Friendly name, decoded.
    pub friendly: String,
    /// Client capabilities (MSNP8+).
    pub capabilities: Option<Capabilities>,
    /// MSNObject, decoded (MSNP9+; `0` or `<msnobj/>` when none).
    pub msn_object: Option<String>,
}

impl Presence {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        let status = Status::from_code(args.raw()?)?;
        let (contact, network_id) = contact_and_network(args, dialect)?;
        let friendly = args.text()?;
        let capabilities = args.raw().ok().map(Capabilities::parse).transpose()?;
        Ok(Presence {
            status,
            contact,
            network_id,
            friendly,
            capabilities,
            msn_object: args.opt_text(),
        })
    }
}

/// Reads a contact address and its network id in the version's shape: bare (≤ 13), followed by
/// a `<nid>` token (14–17), or `<nid>:<address>` (18+).
fn contact_and_network(
    args: &mut Args,
    dialect: Dialect,
) -> Result<(String, Option<u32>), ParseError> {
    let token = args.raw()?;
    match dialect.presence_shape() {
        PresenceShape::Bare => Ok((percent::decode(token), None)),
        PresenceShape::NetworkToken => Ok((percent::decode(token), Some(args.number()?))),
        PresenceShape::NetworkPrefix => {
            let (nid, address) = split_network_prefix(token);
            Ok((percent::decode(address), nid))
        }
    }
}

/// `ILN <trid> <presence>`: initial presence of a contact, answering the first `CHG` (MSNP8–17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iln {
    /// TrID of the `CHG` that triggered the dump.
    pub trid: u32,
    /// The contact's presence.
    pub presence: Presence,
}

impl Iln {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        Ok(Iln {
            trid: args.number()?,
            presence: Presence::parse(args, dialect)?,
        })
    }
}

/// `FLN <contact> [<nid> <caps>]`: a contact went offline. `FLN bob@example.com` (≤ 13),
/// `FLN bob@example.com 1 0` (14–15), `… 1 0:0` (16–17), `FLN 1:bob@example.com 0:0` (18+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fln {
    /// The contact's address.
    pub contact: String,
    /// Network id (MSNP14+).
    pub network_id: Option<u32>,
    /// Capabilities token (always zero in practice).
    pub capabilities: Option<Capabilities>,
}

impl Fln {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        let token = args.raw()?;
        let (contact, network_id) = match dialect.presence_shape() {
            PresenceShape::Bare => (percent::decode(token), None),
            PresenceShape::NetworkToken => (percent::decode(token), args.opt_number()),
            PresenceShape::NetworkPrefix => {
                let (nid, address) = split_network_prefix(token);
                (percent::decode(address), nid)
            }
        };
        let capabilities = args.raw().ok().map(Capabilities::parse).transpose()?;
        Ok(Fln {
            contact,
            network_id,
            capabilities,
        })
    }
}

/// `UBX <contact> [<nid>] <len>` + `<Data>` XML: a contact's personal message and media.
/// `UBX bob@example.com 66` (11–13), `UBX bob@example.com 1 64` (14–17), `UBX 1:bob@example.com 0`
/// (18+). An empty payload means nothing is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ubx {
    /// The contact's address.
    pub contact: String,
    /// Network id (MSNP14+).
    pub network_id: Option<u32>,
    /// The `<Data>` document.
    pub payload: Vec<u8>,
}

impl Ubx {
    pub(crate) fn parse(
        args: &mut Args,
        payload: &mut Option<Vec<u8>>,
        dialect: Dialect,
    ) -> Result<Self, ParseError> {
        let payload = take_payload(args, payload)?;
        let (contact, network_id) = contact_and_network(args, dialect)?;
        Ok(Ubx {
            contact,
            network_id,
            payload,
        })
    }
}

/// `UBN <contact> <type> <len>` + payload: a peer-to-peer notification relayed by the NS (MSNP13+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ubn {
    /// The sender (`email` or `email;{guid}`).
    pub contact: String,
    /// Notification type (3 = P2P data, 2 = SIP invite, …).
    pub kind: u32,
    /// The notification body.
    pub payload: Vec<u8>,
}

impl Ubn {
    pub(crate) fn parse(
        args: &mut Args,
        payload: &mut Option<Vec<u8>>,
    ) -> Result<Self, ParseError> {
        let payload = take_payload(args, payload)?;
        Ok(Ubn {
            contact: args.text()?,
            kind: args.number()?,
            payload,
        })
    }
}

/// `NOT <len>` + XML: a notification (Escargot: "address book changed", re-fetch it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Not {
    /// The `<NOTIFICATION>` document.
    pub payload: Vec<u8>,
}

impl Not {
    pub(crate) fn parse(
        args: &mut Args,
        payload: &mut Option<Vec<u8>>,
    ) -> Result<Self, ParseError> {
        Ok(Not {
            payload: take_payload(args, payload)?,
        })
    }
}

/// `RNG <session> <host:port> CKI <cookie> <inviter> <friendly>[ U messenger.hotmail.com[ 1]]`:
/// an invitation to a switchboard (docs/protocol.md §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    /// Session id to repeat in `ANS`.
    pub session_id: String,
    /// The switchboard.
    pub address: HostPort,
    /// Cookie to repeat in `ANS`.
    pub cookie: Secret<String>,
    /// Who invites.
    pub inviter: String,
    /// The inviter's friendly name, decoded.
    pub inviter_friendly: String,
}

impl Rng {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let session_id = args.verbatim()?;
        let address = HostPort::parse(args.raw()?)?;
        if !args.keyword("CKI") {
            return Err(ParseError::InvalidArgument);
        }
        Ok(Rng {
            session_id,
            address,
            cookie: Secret::new(args.verbatim()?),
            inviter: args.text()?,
            inviter_friendly: args.text()?,
        })
    }
}
