//! Client → server notification-server commands: exact wire encoding, the matching decoder, and
//! TrID allocation.

use super::args::{split_line, Args, ParseError};
use super::framer::Frame;
use super::ns::take_payload;
use super::ns_list::ListEntry;
use super::percent;
use super::types::{AddPrompt, Capabilities, List, ListVersion, PrivacyMode, Status};
use crate::secret::Secret;

/// A command the client sends to the notification server.
///
/// [`ClientCommand::encode`] writes the exact bytes; every argument is percent-encoded (which
/// leaves e-mail addresses, tickets, GUIDs and base64 untouched) and payload lengths count bytes.
/// Empty strings cannot be represented as arguments: callers must not send them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCommand {
    /// `VER <trid> MSNP18 MSNP15 … CVR0`: offered versions, newest first.
    Ver {
        /// Version numbers (the `n` of `MSNPn`).
        dialects: Vec<u32>,
    },
    /// `CVR <trid> <locale> <os-type> <os-version> <cpu> <client-name> <client-version> <brand> <login>`
    /// (`CVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 8.5.1302 msmsgs alice@example.com`).
    Cvr {
        /// Hex LCID (`0x0409`).
        locale: String,
        /// OS type (`winnt`).
        os_type: String,
        /// OS version (`6.1.0`).
        os_version: String,
        /// CPU architecture (`i386`).
        cpu: String,
        /// Client library name (`MSNMSGR`).
        client_name: String,
        /// Client version (`8.5.1302`); Escargot echoes it.
        client_version: String,
        /// Client brand (`msmsgs`).
        brand: String,
        /// Login name.
        login: String,
    },
    /// `USR <trid> TWN I <login>`: start a Passport 1.4 login (MSNP8–14).
    UsrTwnInit {
        /// Login name.
        login: String,
    },
    /// `USR <trid> TWN S <ticket>`: the Passport ticket.
    UsrTwnAuth {
        /// The ticket (`t=…&p=…` or a bare token).
        ticket: Secret<String>,
    },
    /// `USR <trid> SSO I <login>`: start an SSO login (MSNP15+).
    UsrSsoInit {
        /// Login name.
        login: String,
    },
    /// `USR <trid> SSO S <ticket> [<response> [<machine-guid>]]`: the SSO ticket and MBI response
    /// blob; MSNP16+ add the braced machine GUID. (Escargot accepts MSNP15 without the blob.)
    UsrSsoAuth {
        /// The `messengerclear` ticket (`t=…&p=`).
        ticket: Secret<String>,
        /// Base64 MBI_KEY_OLD response blob.
        response: Option<Secret<String>>,
        /// `{GUID}` of this installation (MSNP16+); sent only after the response.
        machine_guid: Option<String>,
    },
    /// `QRY <trid> <product-id> 32` + 32 hex digits: answer to `CHL`.
    Qry {
        /// Product id whose key computed the answer.
        product_id: String,
        /// The 32-character answer.
        response: String,
    },
    /// `PNG` (no TrID): keep-alive.
    Png,
    /// `OUT` (no TrID): sign out.
    Out,
    /// `SYN <trid> <serial>` (MSNP8/9) or `SYN <trid> <ts> <ts>` (MSNP10–12): request the list.
    Syn {
        /// The cached list version (`Serial(0)` / `0 0` for none).
        cached: ListVersion,
    },
    /// `GCF <trid> <file>` (MSNP11/12): fetch a configuration file.
    Gcf {
        /// File name (`Shields.xml`).
        file: String,
    },
    /// `CHG <trid> <status> [<caps>] [<msnobj>]`: set own status. MSNP8+ servers require the
    /// capabilities (Escargot ignores a `CHG` without them).
    Chg {
        /// New status.
        status: Status,
        /// Client capabilities (`caps:capsex` from MSNP16).
        capabilities: Option<Capabilities>,
        /// MSNObject XML of the display picture, or `0` for none (MSNP9+); sent URL-encoded,
        /// only after capabilities.
        msn_object: Option<String>,
    },
    /// `UUX <trid> <len>` + `<Data>` XML: personal message, media, endpoint data (MSNP11+).
    Uux {
        /// The XML document.
        payload: Vec<u8>,
    },
    /// `BLP <trid> AL|BL`: privacy mode.
    Blp {
        /// The new mode.
        mode: PrivacyMode,
    },
    /// `GTC <trid> A|N`: whether to be asked when added (before MSNP13).
    Gtc {
        /// The new setting.
        prompt: AddPrompt,
    },
    /// `PRP <trid> <property> [<value>]`: own property (`PRP 7 MFN Alice%20S.`).
    Prp {
        /// Property name (`MFN`).
        property: String,
        /// New value; `None` clears it.
        value: Option<String>,
    },
    /// `ADC <trid> <list> [N=…] [F=…] [C=…] [<group>]`: add to a list or group (MSNP10–12).
    Adc {
        /// What to add.
        entry: ListEntry,
    },
    /// `REM <trid> <list> <contact> [<group>]`: remove from a list (FL by contact GUID from
    /// MSNP10, others by address) or only from a group.
    Rem {
        /// The list.
        list: List,
        /// Address or contact GUID.
        contact: String,
        /// Group to remove from, leaving the contact on the list.
        group_id: Option<String>,
    },
    /// `ADG <trid> <name>`: create a group (MSNP10+ form).
    Adg {
        /// Group name (Escargot: at most 61 characters).
        name: String,
    },
    /// `RMG <trid> <group>`: delete a group.
    Rmg {
        /// Group id.
        group_id: String,
    },
    /// `REG <trid> <group> <name>`: rename a group (MSNP10+ form).
    Reg {
        /// Group id.
        group_id: String,
        /// New name.
        name: String,
    },
    /// `ADL <trid> <len>` + `<ml>` XML: add contacts to the session lists (MSNP13+).
    Adl {
        /// The `<ml>` document.
        payload: Vec<u8>,
    },
    /// `RML <trid> <len>` + `<ml>` XML: remove contacts from the session lists (MSNP13+).
    Rml {
        /// The `<ml>` document.
        payload: Vec<u8>,
    },
    /// `FQY <trid> <len>` + `<ml>` XML: ask for contacts' network ids (MSNP13+).
    Fqy {
        /// The `<ml>` document.
        payload: Vec<u8>,
    },
    /// `UUN <trid> <to> <kind> <len>` + payload: a notification the NS relays to `to` (MSNP13+);
    /// `to` may name one place (`email;{guid}`, MSNP16+).
    Uun {
        /// The addressee (`email` or `email;{guid}`).
        to: String,
        /// Notification type (4 = sign that place out, docs/protocol.md §6.4).
        kind: u32,
        /// The notification body.
        payload: Vec<u8>,
    },
    /// `XFR <trid> SB`: ask for a new switchboard.
    XfrSb,
    /// `ADD <trid> <list> <email> <friendly> [<group>]`: add to a list (MSNP8/9; `ADC` later).
    Add {
        /// The list.
        list: List,
        /// The contact's address.
        email: String,
        /// Friendly name to store (the address when unknown).
        friendly: String,
        /// Numeric group id, for FL.
        group_id: Option<String>,
    },
    /// `REA <trid> <email> <name>`: change the own friendly name (MSNP8/9; `PRP MFN` later).
    Rea {
        /// The own address.
        email: String,
        /// The new name.
        name: String,
    },
    /// `SBP <trid> <contact-guid> <property> <value>`: a contact's stored property, e.g. the
    /// name shown for them (`MFN`, MSNP10-12).
    Sbp {
        /// Contact GUID.
        contact_id: String,
        /// Property name (`MFN`).
        property: String,
        /// New value.
        value: String,
    },
}

impl ClientCommand {
    /// The three-letter verb.
    pub fn verb(&self) -> &'static str {
        use ClientCommand as C;
        match self {
            C::Ver { .. } => "VER",
            C::Cvr { .. } => "CVR",
            C::UsrTwnInit { .. }
            | C::UsrTwnAuth { .. }
            | C::UsrSsoInit { .. }
            | C::UsrSsoAuth { .. } => "USR",
            C::Qry { .. } => "QRY",
            C::Png => "PNG",
            C::Out => "OUT",
            C::Syn { .. } => "SYN",
            C::Gcf { .. } => "GCF",
            C::Chg { .. } => "CHG",
            C::Uux { .. } => "UUX",
            C::Blp { .. } => "BLP",
            C::Gtc { .. } => "GTC",
            C::Prp { .. } => "PRP",
            C::Adc { .. } => "ADC",
            C::Rem { .. } => "REM",
            C::Adg { .. } => "ADG",
            C::Rmg { .. } => "RMG",
            C::Reg { .. } => "REG",
            C::Adl { .. } => "ADL",
            C::Rml { .. } => "RML",
            C::Fqy { .. } => "FQY",
            C::Uun { .. } => "UUN",
            C::XfrSb => "XFR",
            C::Add { .. } => "ADD",
            C::Rea { .. } => "REA",
            C::Sbp { .. } => "SBP",
        }
    }

    /// Whether the command carries a TrID (all but `PNG` and `OUT`).
    pub fn takes_trid(&self) -> bool {
        !matches!(self, ClientCommand::Png | ClientCommand::Out)
    }

    /// Appends the command's exact wire bytes to `out`, with TrID `trid` (ignored for `PNG` and
    /// `OUT`).
    pub fn encode(&self, trid: u32, out: &mut Vec<u8>) {
        use ClientCommand as C;
        out.extend_from_slice(self.verb().as_bytes());
        if self.takes_trid() {
            out.push(b' ');
            out.extend_from_slice(trid.to_string().as_bytes());
        }
        let mut payload: Option<&[u8]> = None;
        match self {
            C::Ver { dialects } => {
                for d in dialects {
                    word(out, &format!("MSNP{d}"));
                }
                word(out, "CVR0");
            }
            C::Cvr {
                locale,
                os_type,
                os_version,
                cpu,
                client_name,
                client_version,
                brand,
                login,
            } => {
                for field in [
                    locale,
                    os_type,
                    os_version,
                    cpu,
                    client_name,
                    client_version,
                    brand,
                    login,
                ] {
                    arg(out, field);
                }
            }
            C::UsrTwnInit { login } => words_then(out, &["TWN", "I"], &[login]),
            C::UsrTwnAuth { ticket } => words_then(out, &["TWN", "S"], &[ticket.expose()]),
            C::UsrSsoInit { login } => words_then(out, &["SSO", "I"], &[login]),
            C::UsrSsoAuth {
                ticket,
                response,
                machine_guid,
            } => {
                words_then(out, &["SSO", "S"], &[ticket.expose()]);
                if let Some(response) = response {
                    arg(out, response.expose());
                    if let Some(guid) = machine_guid {
                        arg(out, guid);
                    }
                }
            }
            C::Qry {
                product_id,
                response,
            } => {
                arg(out, product_id);
                payload = Some(response.as_bytes());
            }
            C::Png | C::Out => {}
            C::XfrSb => word(out, "SB"),
            C::Syn { cached } => match cached {
                ListVersion::Serial(serial) => word(out, &serial.to_string()),
                ListVersion::Timestamps { contacts, groups } => {
                    arg(out, contacts);
                    arg(out, groups);
                }
            },
            C::Gcf { file } => arg(out, file),
            C::Chg {
                status,
                capabilities,
                msn_object,
            } => {
                word(out, status.code());
                if let Some(caps) = capabilities {
                    word(out, &caps.to_string());
                    if let Some(obj) = msn_object {
                        out.push(b' ');
                        percent::encode_url_into(obj, out);
                    }
                }
            }
            C::Blp { mode } => word(out, mode.code()),
            C::Gtc { prompt } => word(out, prompt.code()),
            C::Prp { property, value } => {
                arg(out, property);
                if let Some(value) = value {
                    arg(out, value);
                }
            }
            C::Adc { entry } => entry.encode(out),
            C::Rem {
                list,
                contact,
                group_id,
            } => {
                word(out, list.code());
                arg(out, contact);
                if let Some(group) = group_id {
                    arg(out, group);
                }
            }
            C::Adg { name } => arg(out, name),
            C::Rmg { group_id } => arg(out, group_id),
            C::Reg { group_id, name } => {
                arg(out, group_id);
                arg(out, name);
            }
            C::Add {
                list,
                email,
                friendly,
                group_id,
            } => {
                word(out, list.code());
                arg(out, email);
                arg(out, friendly);
                if let Some(group) = group_id {
                    arg(out, group);
                }
            }
            C::Rea { email, name } => {
                arg(out, email);
                arg(out, name);
            }
            C::Sbp {
                contact_id,
                property,
                value,
            } => {
                arg(out, contact_id);
                arg(out, property);
                arg(out, value);
            }
            C::Uun {
                to,
                kind,
                payload: p,
            } => {
                arg(out, to);
                word(out, &kind.to_string());
                payload = Some(p);
            }
            C::Uux { payload: p }
            | C::Adl { payload: p }
            | C::Rml { payload: p }
            | C::Fqy { payload: p } => {
                payload = Some(p);
            }
        }
        if let Some(payload) = payload {
            word(out, &payload.len().to_string());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(payload);
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Decodes a frame sent by a client (framed with [`Direction::FromClient`]) into its TrID
    /// (`None` for `PNG`/`OUT`) and command: the inverse of [`ClientCommand::encode`].
    ///
    /// [`Direction::FromClient`]: super::framer::Direction::FromClient
    pub fn decode(frame: Frame) -> Result<(Option<u32>, ClientCommand), ParseError> {
        use ClientCommand as C;
        let Frame { line, mut payload } = frame;
        let (verb, mut args) = split_line(&line)?;
        let args = &mut args;
        let p = &mut payload;
        let trid = match verb {
            "PNG" | "OUT" => None,
            _ => Some(args.number()?),
        };
        let command = match verb {
            "VER" => decode_ver(args)?,
            "CVR" => C::Cvr {
                locale: args.text()?,
                os_type: args.text()?,
                os_version: args.text()?,
                cpu: args.text()?,
                client_name: args.text()?,
                client_version: args.text()?,
                brand: args.text()?,
                login: args.text()?,
            },
            "USR" => decode_usr(args)?,
            "QRY" => {
                let payload = take_payload(args, p)?;
                let response =
                    String::from_utf8(payload).map_err(|_| ParseError::InvalidArgument)?;
                C::Qry {
                    product_id: args.text()?,
                    response,
                }
            }
            "PNG" => C::Png,
            "OUT" => C::Out,
            "SYN" => C::Syn {
                cached: match args.remaining() {
                    1 => ListVersion::Serial(args.number()?),
                    _ => ListVersion::Timestamps {
                        contacts: args.text()?,
                        groups: args.text()?,
                    },
                },
            },
            "GCF" => C::Gcf { file: args.text()? },
            "CHG" => {
                let status = Status::from_code(args.raw()?)?;
                let capabilities = args.raw().ok().map(Capabilities::parse).transpose()?;
                C::Chg {
                    status,
                    capabilities,
                    msn_object: args.opt_text(),
                }
            }
            "UUX" => C::Uux {
                payload: take_payload(args, p)?,
            },
            "BLP" => C::Blp {
                mode: PrivacyMode::from_code(args.raw()?)?,
            },
            "GTC" => C::Gtc {
                prompt: AddPrompt::from_code(args.raw()?)?,
            },
            "PRP" => C::Prp {
                property: args.text()?,
                value: args.opt_text(),
            },
            "ADC" => C::Adc {
                entry: ListEntry::parse(args)?,
            },
            "REM" => C::Rem {
                list: List::from_code(args.raw()?)?,
                contact: args.text()?,
                group_id: args.opt_text(),
            },
            "ADG" => C::Adg { name: args.text()? },
            "RMG" => C::Rmg {
                group_id: args.text()?,
            },
            "REG" => C::Reg {
                group_id: args.text()?,
                name: args.text()?,
            },
            "ADL" => C::Adl {
                payload: take_payload(args, p)?,
            },
            "RML" => C::Rml {
                payload: take_payload(args, p)?,
            },
            "FQY" => C::Fqy {
                payload: take_payload(args, p)?,
            },
            "UUN" => {
                let payload = take_payload(args, p)?;
                C::Uun {
                    to: args.text()?,
                    kind: args.number()?,
                    payload,
                }
            }
            "ADD" => C::Add {
                list: List::from_code(args.raw()?)?,
                email: args.text()?,
                friendly: args.text()?,
                group_id: args.opt_text(),
            },
            "REA" => C::Rea {
                email: args.text()?,
                name: args.text()?,
            },
            "SBP" => C::Sbp {
                contact_id: args.text()?,
                property: args.text()?,
                value: args.text()?,
            },
            "XFR" if args.keyword("SB") => C::XfrSb,
            "XFR" => return Err(ParseError::InvalidArgument),
            _ => return Err(ParseError::UnknownCommand),
        };
        if payload.is_some() {
            return Err(ParseError::UnexpectedPayload);
        }
        Ok((trid, command))
    }
}

fn decode_ver(args: &mut Args) -> Result<ClientCommand, ParseError> {
    let mut dialects = Vec::new();
    while let Ok(token) = args.raw() {
        match token {
            [m, s, n, p, digits @ ..] if [*m, *s, *n, *p].eq_ignore_ascii_case(b"MSNP") => {
                dialects.push(super::args::number(digits)?);
            }
            [c, v, r, _, ..] if [*c, *v, *r].eq_ignore_ascii_case(b"CVR") => {}
            _ => return Err(ParseError::InvalidArgument),
        }
    }
    if dialects.is_empty() {
        return Err(ParseError::MissingArgument);
    }
    Ok(ClientCommand::Ver { dialects })
}

fn decode_usr(args: &mut Args) -> Result<ClientCommand, ParseError> {
    let method = args.raw()?;
    let stage = args.raw()?;
    Ok(match (method, stage) {
        (b"TWN", b"I") => ClientCommand::UsrTwnInit {
            login: args.text()?,
        },
        (b"TWN", b"S") => ClientCommand::UsrTwnAuth {
            ticket: Secret::new(args.text()?),
        },
        (b"SSO", b"I") => ClientCommand::UsrSsoInit {
            login: args.text()?,
        },
        (b"SSO", b"S") => ClientCommand::UsrSsoAuth {
            ticket: Secret::new(args.text()?),
            response: args.opt_text().map(Secret::new),
            machine_guid: args.opt_text(),
        },
        _ => return Err(ParseError::InvalidArgument),
    })
}

/// Appends a space and a fixed word (verb-level keyword or number), unencoded.
fn word(out: &mut Vec<u8>, word: &str) {
    out.push(b' ');
    out.extend_from_slice(word.as_bytes());
}

/// Appends a space and a percent-encoded argument.
fn arg(out: &mut Vec<u8>, value: &str) {
    out.push(b' ');
    percent::encode_into(value, out);
}

fn words_then(out: &mut Vec<u8>, words: &[&str], args: &[&String]) {
    for w in words {
        word(out, w);
    }
    for a in args {
        arg(out, a);
    }
}

/// Hands out transaction ids: 1, 2, 3, … (wrapping back to 1), one per command that carries one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrIdAllocator {
    next: u32,
}

impl Default for TrIdAllocator {
    fn default() -> Self {
        TrIdAllocator { next: 1 }
    }
}

impl TrIdAllocator {
    /// An allocator whose first TrID is 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the next TrID.
    pub fn allocate(&mut self) -> u32 {
        let trid = self.next;
        self.next = trid.checked_add(1).unwrap_or(1);
        trid
    }

    /// Encodes `command` into `out` with the next TrID and returns it; `PNG` and `OUT` use none
    /// (`None`).
    pub fn encode(&mut self, command: &ClientCommand, out: &mut Vec<u8>) -> Option<u32> {
        let trid = command.takes_trid().then(|| self.allocate());
        command.encode(trid.unwrap_or(0), out);
        trid
    }
}

#[cfg(test)]
mod tests {
    use super::TrIdAllocator;

    #[test]
    fn trids_wrap_back_to_one() {
        let mut trids = TrIdAllocator { next: u32::MAX };
        assert_eq!(trids.allocate(), u32::MAX);
        assert_eq!(trids.allocate(), 1);
    }
}
