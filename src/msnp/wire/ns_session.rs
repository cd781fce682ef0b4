//! Server → client NS commands of the connection and login phase: `VER CVR INF USR XFR CHL QNG
//! OUT SBS MSG GCF` and the bare acknowledgements of `UUX`, `QRY` and `UUN` (docs/protocol.md
//! §1–§4).

use super::args::{Args, ParseError};
use super::ns::take_payload;
use super::types::HostPort;
use crate::dialect::Dialect;
use crate::secret::Secret;

/// `VER <trid> <dialect>…` (`VER 1 MSNP15`, or `VER 1 0` when no version is shared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ver {
    /// TrID of the client's `VER`.
    pub trid: u32,
    /// The tokens after the TrID as sent (`MSNP15`, possibly `CVR0`, or `0`).
    pub dialects: Vec<String>,
}

impl Ver {
    /// The protocol version chosen by the server: the first `MSNPn` token (case-insensitive);
    /// `None` when the server answered `0`.
    pub fn chosen(&self) -> Option<u32> {
        self.dialects.iter().find_map(|d| {
            let prefix = d.get(..4)?;
            let digits = d.get(4..)?;
            if !prefix.eq_ignore_ascii_case("MSNP") {
                return None;
            }
            super::args::number(digits.as_bytes()).ok()
        })
    }

    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let mut dialects = Vec::with_capacity(args.remaining());
        while let Some(d) = args.opt_text() {
            dialects.push(d);
        }
        if dialects.is_empty() {
            return Err(ParseError::MissingArgument);
        }
        Ok(Ver { trid, dialects })
    }
}

/// `CVR <trid> <recommended> <recommended> <minimum> <download-url> <info-url>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cvr {
    /// TrID of the client's `CVR`.
    pub trid: u32,
    /// Recommended client version (Escargot echoes the client's own version).
    pub recommended: String,
    /// Minimum client version.
    pub minimum: Option<String>,
    /// Where to download the recommended version.
    pub download_url: Option<String>,
    /// Where to read about it.
    pub info_url: Option<String>,
}

impl Cvr {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let recommended = args.text()?;
        let _recommended_again = args.opt_text();
        Ok(Cvr {
            trid,
            recommended,
            minimum: args.opt_text(),
            download_url: args.opt_text(),
            info_url: args.opt_text(),
        })
    }
}

/// `INF <trid> <method>…`: the authentication methods of MSNP2–7 (`INF 2 MD5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inf {
    /// TrID of the client's `INF`.
    pub trid: u32,
    /// Offered methods (`MD5`).
    pub methods: Vec<String>,
}

impl Inf {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let mut methods = Vec::with_capacity(args.remaining());
        while let Some(m) = args.opt_text() {
            methods.push(m);
        }
        Ok(Inf { trid, methods })
    }
}

/// `USR <trid> …`: a login step from the server (docs/protocol.md §2.2, §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usr {
    /// TrID of the client's `USR`.
    pub trid: u32,
    /// What the server said.
    pub step: UsrStep,
}

/// The shapes of the server's `USR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsrStep {
    /// `USR <trid> TWN S <challenge>` (MSNP8–14): the Passport 1.4 challenge string.
    TwnChallenge {
        /// Passed verbatim (not percent-decoded) to the login server.
        challenge: String,
    },
    /// `USR <trid> MD5 S <salt>` (MSNP2–7).
    Md5Challenge {
        /// Salt to prepend to the password before hashing.
        salt: String,
    },
    /// `USR <trid> SSO S <policy> <nonce>` (MSNP15+).
    SsoChallenge {
        /// Policy reference (`MBI_KEY_OLD`).
        policy: String,
        /// Base64 nonce to encrypt in the response blob, verbatim.
        nonce: String,
    },
    /// `USR <trid> OK <email> [<friendly>] [<verified> [<kid>]]`: logged in. MSNP2–9 send the
    /// friendly name (MSNP6+ then `1`, MSNP8/9 then `0`); MSNP10+ send `<email> 1 0`.
    Ok {
        /// The account's login name.
        email: String,
        /// Own friendly name (before MSNP10).
        friendly: Option<String>,
        /// Whether the account is verified.
        verified: Option<bool>,
        /// The kid (parental control) flag.
        kid: Option<bool>,
    },
}

impl Usr {
    pub(crate) fn parse(args: &mut Args, dialect: Dialect) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let step = if args.keyword("OK") {
            let email = args.text()?;
            let friendly = if dialect.list_serials() {
                args.opt_text()
            } else {
                None
            };
            let verified = args.opt_number().map(|n| n != 0);
            let kid = args.opt_number().map(|n| n != 0);
            UsrStep::Ok {
                email,
                friendly,
                verified,
                kid,
            }
        } else {
            let method = args.raw()?;
            if !args.keyword("S") {
                return Err(ParseError::InvalidArgument);
            }
            match method {
                b"TWN" => UsrStep::TwnChallenge {
                    challenge: args.verbatim()?,
                },
                b"MD5" => UsrStep::Md5Challenge {
                    salt: args.verbatim()?,
                },
                b"SSO" => UsrStep::SsoChallenge {
                    policy: args.verbatim()?,
                    nonce: args.verbatim()?,
                },
                _ => return Err(ParseError::InvalidArgument),
            }
        };
        Ok(Usr { trid, step })
    }
}

/// `XFR <trid> NS|SB <host:port> …`: a referral to another server (docs/protocol.md §1.2, §1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xfr {
    /// TrID of the request (`USR … I` for NS, `XFR … SB` for SB).
    pub trid: u32,
    /// Where to go.
    pub target: XfrTarget,
}

/// The two kinds of `XFR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XfrTarget {
    /// `XFR <trid> NS <host:port> 0 <current>` (MSNP8–12) or `… U D` (MSNP13+): reconnect there
    /// and start again from `VER`.
    Ns {
        /// The notification server to use.
        address: HostPort,
    },
    /// `XFR <trid> SB <host:port> CKI <cookie>[ U messenger.msn.com[ 1]]`: a new switchboard.
    Sb {
        /// The switchboard.
        address: HostPort,
        /// The authentication cookie for the switchboard `USR`.
        cookie: Secret<String>,
    },
}

impl Xfr {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let trid = args.number()?;
        let kind = args.raw()?;
        let address = HostPort::parse(args.raw()?)?;
        let target = match kind {
            b"NS" => XfrTarget::Ns { address },
            b"SB" => {
                if !args.keyword("CKI") {
                    return Err(ParseError::InvalidArgument);
                }
                XfrTarget::Sb {
                    address,
                    cookie: Secret::new(args.verbatim()?),
                }
            }
            _ => return Err(ParseError::InvalidArgument),
        };
        Ok(Xfr { trid, target })
    }
}

/// `CHL <trid> <challenge>`: answer with `QRY` (docs/protocol.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chl {
    /// Always 0 in practice.
    pub trid: u32,
    /// The challenge string to hash.
    pub challenge: String,
}

impl Chl {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        Ok(Chl {
            trid: args.number()?,
            challenge: args.verbatim()?,
        })
    }
}

/// `QNG [<seconds>]`: answer to `PNG`; MSNP9+ say when to ping next, MSNP8 sends a bare `QNG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qng {
    /// Seconds until the server wants the next `PNG`.
    pub next_ping_secs: Option<u32>,
}

impl Qng {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let next_ping_secs = match args.peek() {
            Some(_) => Some(args.number()?),
            None => None,
        };
        Ok(Qng { next_ping_secs })
    }
}

/// `OUT [<reason>]`: the server is closing the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Out {
    /// Why, when the server said.
    pub reason: Option<OutReason>,
}

/// Reasons given in `OUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutReason {
    /// `OTH`: signed in elsewhere; do not reconnect automatically.
    OtherLogin,
    /// `SSD`: server shutting down.
    ServerShutdown,
    /// Any other token.
    Other(String),
}

impl Out {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        let reason = args.raw().ok().map(|r| match r {
            b"OTH" => OutReason::OtherLogin,
            b"SSD" => OutReason::ServerShutdown,
            other => OutReason::Other(super::percent::decode(other)),
        });
        Ok(Out { reason })
    }
}

/// `SBS <trid> <value>` (`SBS 0 null`, sent by Escargot after login from MSNP11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sbs {
    /// Always 0 in practice.
    pub trid: u32,
    /// The argument (`null`).
    pub value: String,
}

impl Sbs {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        Ok(Sbs {
            trid: args.number()?,
            value: args.text()?,
        })
    }
}

/// `MSG <from> <friendly> <len>` + payload: a MIME message (`MSG Hotmail Hotmail …` on the NS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Sender (`Hotmail` for NS notifications).
    pub from: String,
    /// Sender's friendly name.
    pub friendly: String,
    /// The MIME message.
    pub payload: Vec<u8>,
}

impl Msg {
    pub(crate) fn parse(
        args: &mut Args,
        payload: &mut Option<Vec<u8>>,
    ) -> Result<Self, ParseError> {
        let payload = take_payload(args, payload)?;
        Ok(Msg {
            from: args.text()?,
            friendly: args.text()?,
            payload,
        })
    }
}

/// `GCF <trid> <file> <len>` (MSNP11/12 reply) or `GCF 0 <len>` (MSNP13+ push) + XML payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gcf {
    /// TrID of the request, or 0 for the policy push.
    pub trid: u32,
    /// Requested file name (`Shields.xml`), in the reply form.
    pub file: Option<String>,
    /// The XML document.
    pub payload: Vec<u8>,
}

impl Gcf {
    pub(crate) fn parse(
        args: &mut Args,
        payload: &mut Option<Vec<u8>>,
    ) -> Result<Self, ParseError> {
        let payload = take_payload(args, payload)?;
        Ok(Gcf {
            trid: args.number()?,
            file: args.opt_text(),
            payload,
        })
    }
}

/// A bare acknowledgement: `UUX <trid> 0`, `QRY <trid>`, `UUN <trid> OK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// TrID of the acknowledged command.
    pub trid: u32,
}

impl Ack {
    pub(crate) fn parse(args: &mut Args) -> Result<Self, ParseError> {
        Ok(Ack {
            trid: args.number()?,
        })
    }
}
