//! Server → client contact-list commands in every version's shape: `SYN GTC BLP PRP BPR LSG LST
//! ADC ADD REM ADG RMG REG ADL RML FQY` (docs/protocol.md §5).

use super::args::{Args, ParseError};
use super::ns::take_payload;
use super::percent;
use super::types::{AddPrompt, List, ListSet, ListVersion, PrivacyMode};
use crate::dialect::Dialect;
use crate::guid::is_guid;

/// `SYN <trid> <version> [<contacts> <groups>]`: start of the list dump (MSNP8–12).
///
/// MSNP8/9: `SYN 5 1 3 2` (serial); MSNP10–12: `SYN 5 <ts> <ts> 3 2` (two timestamps). The counts
/// are missing when the cached list is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syn {
    /// TrID of the client's `SYN`.
    pub trid: u32,
    /// The server's list version.
    pub list_version: ListVersion,
    /// How many `LST` and `LSG` lines follow.
    pub counts: Option<ListCounts>,
}

/// Number of `LST` and `LSG` lines announced by `SYN`; there is no terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCounts {
    /// Number of `LST` lines.
    pub contacts: u32,
    /// Number of `LSG` lines.
    pub groups: u32,
}

impl Syn {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let list_version = if dialect.list_serials() {
            ListVersion::Serial(args.number()?)
        } else {
            ListVersion::Timestamps {
                contacts: args.text()?,
                groups: args.text()?,
            }
        };
        let counts = match args.remaining() {
            0 => None,
            _ => Some(ListCounts {
                contacts: args.number()?,
                groups: args.number()?,
            }),
        };
        Ok(Syn {
            trid,
            list_version,
            counts,
        })
    }
}

/// `GTC [<trid> [<serial>]] A|N`: ask when someone adds me. Untagged in the MSNP8+ list dump,
/// `GTC <trid> <serial> N` as a reply before MSNP10, `GTC <trid> N` from MSNP10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gtc {
    /// TrID of the client's `GTC`, for a reply.
    pub trid: Option<u32>,
    /// List serial (before MSNP10).
    pub serial: Option<u32>,
    /// The setting.
    pub prompt: AddPrompt,
}

impl Gtc {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let prompt = AddPrompt::from_code(args.pop_last()?)?;
        Ok(Gtc {
            trid: args.opt_number(),
            serial: args.opt_number(),
            prompt,
        })
    }
}

/// `BLP [<trid> [<serial>]] AL|BL`: privacy mode, in the same shapes as [`Gtc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blp {
    /// TrID of the client's `BLP`, for a reply.
    pub trid: Option<u32>,
    /// List serial (before MSNP10).
    pub serial: Option<u32>,
    /// The setting.
    pub mode: PrivacyMode,
}

impl Blp {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let mode = PrivacyMode::from_code(args.pop_last()?)?;
        Ok(Blp {
            trid: args.opt_number(),
            serial: args.opt_number(),
            mode,
        })
    }
}

/// `PRP [<trid> [<serial>]] <property> [<value>]`: own property. Untagged in the list dump
/// (`PRP MFN Alice`, `PRP PHH 555%201234`); `PRP 7 MFN Alice` as the reply to a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prp {
    /// TrID of the client's `PRP`, for a reply.
    pub trid: Option<u32>,
    /// List serial (replies before MSNP10).
    pub serial: Option<u32>,
    /// Property name (`MFN`, `PHH`, `PHW`, `PHM`, `MOB`, `MBE`, …).
    pub property: String,
    /// The value; `None` when the property was cleared.
    pub value: Option<String>,
}

impl Prp {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        let trid = args.opt_number();
        let serial = if trid.is_some() && dialect.list_serials() {
            args.opt_number()
        } else {
            None
        };
        Ok(Prp {
            trid,
            serial,
            property: args.text()?,
            value: args.opt_text(),
        })
    }
}

/// `BPR <property> <value>`: a phone property of the preceding `LST` contact (MSNP8/9 dump).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bpr {
    /// Property name (`PHH`, `PHW`, `PHM`, `MOB`, …).
    pub property: String,
    /// The value, when set.
    pub value: Option<String>,
}

impl Bpr {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        Ok(Bpr {
            property: args.text()?,
            value: args.opt_text(),
        })
    }
}

/// A group in the list dump: `LSG <id> <name> 0` (MSNP8/9) or `LSG <name> <guid>` (MSNP10+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lsg {
    /// Numeric id (MSNP8/9) or GUID (MSNP10+).
    pub group_id: String,
    /// Group name.
    pub name: String,
}

impl Lsg {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        if !dialect.is_supported() {
            return Err(ParseError::UnsupportedDialect);
        }
        if dialect.list_serials() {
            Ok(Lsg {
                group_id: args.text()?,
                name: args.text()?,
            })
        } else {
            let name = args.text()?;
            Ok(Lsg {
                name,
                group_id: args.text()?,
            })
        }
    }
}

/// A contact in the list dump (docs/protocol.md §5.1).
///
/// MSNP8/9: `LST <email> <friendly> <lists> [<group>,…]`;
/// MSNP10/11: `LST N=<email> [F=<friendly>] [C=<guid>] <lists> [<guid>,…]`;
/// MSNP12: as 10/11 with an extra number before the groups (`… 11 1 <guid>,…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lst {
    /// The contact's address.
    pub email: String,
    /// Friendly name as stored on the server.
    pub friendly: Option<String>,
    /// Contact GUID (MSNP10+, only for FL members).
    pub contact_id: Option<String>,
    /// The lists the contact is on.
    pub lists: ListSet,
    /// The extra numeric token MSNP12 sends before the groups (Escargot always sends `1`).
    pub extra: Option<u32>,
    /// Group ids (numbers before MSNP10, GUIDs after).
    pub groups: Vec<String>,
}

impl Lst {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        if !dialect.is_supported() {
            return Err(ParseError::UnsupportedDialect);
        }
        let (email, friendly, contact_id) = if dialect.list_serials() {
            (args.text()?, Some(args.text()?), None)
        } else {
            let fields = Prefixed::parse(args);
            (
                fields.email.ok_or(ParseError::MissingArgument)?,
                fields.friendly,
                fields.contact_id,
            )
        };
        let lists = ListSet::parse(args.raw()?)?;
        let extra = if dialect.contact_guids() {
            args.opt_number()
        } else {
            None
        };
        let groups = args.raw().map(split_groups).unwrap_or_default();
        Ok(Lst {
            email,
            friendly,
            contact_id,
            lists,
            extra,
            groups,
        })
    }
}

fn split_groups(token: &[u8]) -> Vec<String> {
    token
        .split(|&b| b == b',')
        .filter(|g| !g.is_empty())
        .map(percent::decode)
        .collect()
}

/// The `N=`, `F=`, `C=` tokens of MSNP10+ list commands, in any order.
#[derive(Debug, Default)]
struct Prefixed {
    email: Option<String>,
    friendly: Option<String>,
    contact_id: Option<String>,
}

impl Prefixed {
    fn parse(args: &mut Args) -> Prefixed {
        let mut fields = Prefixed::default();
        while let Some(token) = args.peek() {
            let (slot, value) = match token {
                [b'N', b'=', value @ ..] => (&mut fields.email, value),
                [b'F', b'=', value @ ..] => (&mut fields.friendly, value),
                [b'C', b'=', value @ ..] => (&mut fields.contact_id, value),
                _ => break,
            };
            *slot = Some(percent::decode(value));
            let _consumed = args.raw();
        }
        fields
    }
}

/// The arguments of `ADC` after the TrID, shared by the server reply and the client request:
/// `<list> [N=<email>] [F=<friendly>] [C=<contact-guid>] [<group-guid>]` (MSNP10–12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The list added to.
    pub list: List,
    /// `N=`: the contact's address.
    pub email: Option<String>,
    /// `F=`: friendly name.
    pub friendly: Option<String>,
    /// `C=`: contact GUID.
    pub contact_id: Option<String>,
    /// Group GUID, when adding a contact to a group.
    pub group_id: Option<String>,
}

impl ListEntry {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let list = List::from_code(args.raw()?)?;
        let Prefixed {
            email,
            friendly,
            contact_id,
        } = Prefixed::parse(args);
        if email.is_none() && contact_id.is_none() {
            return Err(ParseError::MissingArgument);
        }
        Ok(ListEntry {
            list,
            email,
            friendly,
            contact_id,
            group_id: args.opt_text(),
        })
    }

    /// Appends ` <list> [N=…] [F=…] [C=…] [<group>]`, percent-encoded.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(b' ');
        out.extend_from_slice(self.list.code().as_bytes());
        for (prefix, value) in [
            ("N=", &self.email),
            ("F=", &self.friendly),
            ("C=", &self.contact_id),
        ] {
            if let Some(value) = value {
                out.push(b' ');
                out.extend_from_slice(prefix.as_bytes());
                percent::encode_into(value, out);
            }
        }
        if let Some(group) = &self.group_id {
            out.push(b' ');
            // A group id that reads like `N=…` must not turn into a prefixed token.
            match group.as_bytes() {
                [first @ (b'N' | b'F' | b'C'), b'=', ..] => {
                    out.extend_from_slice(format!("%{first:02X}").as_bytes());
                    percent::encode_into(group.get(1..).unwrap_or_default(), out);
                }
                _ => percent::encode_into(group, out),
            }
        }
    }
}

/// `ADC <trid> <list> N=… [F=…] [C=…] [<group>]`: added to a list (MSNP10–12); TrID 0 with
/// list `RL` when someone else added me.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adc {
    /// TrID of the client's `ADC`, or 0 for a push.
    pub trid: u32,
    /// What was added.
    pub entry: ListEntry,
}

impl Adc {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        Ok(Adc {
            trid: args.number()?,
            entry: ListEntry::parse(args)?,
        })
    }
}

/// `ADD <trid> <list> <serial> <email> <friendly> [<group>]`: added to a list (before MSNP10);
/// `ADD 0 RL <serial> <email> <friendly>` when someone else added me.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Add {
    /// TrID of the client's `ADD`, or 0 for a push.
    pub trid: u32,
    /// The list added to.
    pub list: List,
    /// New list serial.
    pub serial: u32,
    /// The contact's address.
    pub email: String,
    /// Friendly name.
    pub friendly: String,
    /// Numeric group id, for FL.
    pub group_id: Option<String>,
}

impl Add {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        Ok(Add {
            trid: args.number()?,
            list: List::from_code(args.raw()?)?,
            serial: args.number()?,
            email: args.text()?,
            friendly: args.text()?,
            group_id: args.opt_text(),
        })
    }
}

/// `REM <trid> <list> [<serial>] <contact> [<group>]`: removed from a list. Before MSNP10 the
/// serial is present and the contact is an address; from MSNP10 FL removals use the contact GUID.
/// TrID 0 with list `RL` when someone else removed me.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rem {
    /// TrID of the client's `REM`, or 0 for a push.
    pub trid: u32,
    /// The list removed from.
    pub list: List,
    /// New list serial (before MSNP10).
    pub serial: Option<u32>,
    /// Address or contact GUID.
    pub contact: String,
    /// Group, when only removed from that group.
    pub group_id: Option<String>,
}

impl Rem {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let list = List::from_code(args.raw()?)?;
        let serial = if dialect.list_serials() {
            Some(args.number()?)
        } else {
            None
        };
        Ok(Rem {
            trid,
            list,
            serial,
            contact: args.text()?,
            group_id: args.opt_text(),
        })
    }
}

/// `ADG`: group created. `ADG <trid> <serial> <name> <id> 0` (MSNP8/9) or
/// `ADG <trid> <name> <guid> [0]` (MSNP10+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adg {
    /// TrID of the client's `ADG`.
    pub trid: u32,
    /// New list serial (before MSNP10).
    pub serial: Option<u32>,
    /// Group name.
    pub name: String,
    /// New group id.
    pub group_id: String,
}

impl Adg {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let serial = if dialect.list_serials() {
            Some(args.number()?)
        } else {
            None
        };
        Ok(Adg {
            trid,
            serial,
            name: args.text()?,
            group_id: args.text()?,
        })
    }
}

/// `RMG <trid> [<serial>] <group>`: group removed (`RMG 15 7 2`; Escargot MSNP10+: `RMG 17 1 <guid>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rmg {
    /// TrID of the client's `RMG`.
    pub trid: u32,
    /// The number before the group (list serial before MSNP10, `1` from Escargot after).
    pub serial: Option<u32>,
    /// Removed group id.
    pub group_id: String,
}

impl Rmg {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let serial = if args.remaining() >= 2 {
            Some(args.number()?)
        } else {
            None
        };
        Ok(Rmg {
            trid,
            serial,
            group_id: args.text()?,
        })
    }
}

/// `REG`: group renamed. `REG <trid> <serial> <id> <name> 0` (MSNP8/9); MSNP10+ historically
/// `REG <trid> <guid> <name>`, Escargot `REG <trid> 1 <name> <guid> 0` (the GUID is found by shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reg {
    /// TrID of the client's `REG`.
    pub trid: u32,
    /// The number before the group (list serial before MSNP10, `1` from Escargot after).
    pub serial: Option<u32>,
    /// Renamed group id.
    pub group_id: String,
    /// New name.
    pub name: String,
}

impl Reg {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        let trid = args.number()?;
        if dialect.list_serials() {
            let serial = Some(args.number()?);
            let group_id = args.text()?;
            return Ok(Reg {
                trid,
                serial,
                group_id,
                name: args.text()?,
            });
        }
        let serial = if args.remaining() >= 3 {
            args.opt_number()
        } else {
            None
        };
        let first = args.raw()?;
        let second = args.raw()?;
        let (group_id, name) = if is_guid(first) {
            (first, second)
        } else {
            (second, first)
        };
        Ok(Reg {
            trid,
            serial,
            group_id: percent::decode(group_id),
            name: percent::decode(name),
        })
    }
}

/// `ADL`/`RML <trid> OK` (acknowledgement) or `ADL`/`RML 0 <len>` + `<ml>` XML (server push),
/// MSNP13+.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUpdate {
    /// TrID of the client's command, or 0 for a push.
    pub trid: u32,
    /// The `<ml>` document of a push; `None` for `OK`.
    pub payload: Option<Vec<u8>>,
}

impl ListUpdate {
    pub(crate) fn parse(
        args: &mut Args,
        payload: &mut Option<Vec<u8>>,
    ) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let payload = if args.keyword("OK") {
            None
        } else {
            Some(take_payload(args, payload)?)
        };
        Ok(ListUpdate { trid, payload })
    }
}

/// `FQY <trid> <len>` + `<ml>` XML: network ids of the queried contacts (MSNP13+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fqy {
    /// TrID of the client's `FQY`.
    pub trid: u32,
    /// The `<ml>` document.
    pub payload: Vec<u8>,
}

impl Fqy {
    pub(crate) fn parse(
        args: &mut Args,
        payload: &mut Option<Vec<u8>>,
    ) -> Result<Self, ParseError> {
        let payload = take_payload(args, payload)?;
        Ok(Fqy {
            trid: args.number()?,
            payload,
        })
    }
}
