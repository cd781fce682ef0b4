//! Switchboard commands (reference §7): typed server → client [`SbCommand`]s read by [`parse`],
//! and client → server [`SbClientCommand`]s written by [`SbClientCommand::encode`].
//!
//! Shapes that differ between protocol versions: from MSNP12 `IRO` and `JOI` end with the
//! participant's capabilities; from MSNP16 an address may name one endpoint as `email;{guid}`.

use super::args::{is_guid, split_line, Args, ParseError};
use super::framer::Frame;
use super::ns::{take_payload, RawCommand};
use super::ns_session::Ack;
use super::percent;
use super::server_error::ServerError;
use super::types::Capabilities;
use crate::msnp::secret::Secret;
use std::fmt;

/// First protocol version whose `IRO`/`JOI` carry capabilities.
const CAPS_FROM: u32 = 12;
/// First protocol version with `email;{guid}` endpoint addresses.
const ENDPOINTS_FROM: u32 = 16;

/// A switchboard address: a user, or from MSNP16 one endpoint of a user (`email;{guid}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Participant {
    /// The e-mail address, percent-decoded.
    pub email: String,
    /// The endpoint's GUID, without braces, as sent (MSNP16+).
    pub endpoint: Option<String>,
}

impl Participant {
    /// A user address without an endpoint.
    pub fn new(email: impl Into<String>) -> Self {
        Participant { email: email.into(), endpoint: None }
    }

    /// Reads `email` or, from MSNP16, `email;{guid}`.
    fn parse(token: &[u8], version: u32) -> Result<Self, ParseError> {
        let split = token.iter().position(|&b| b == b';').filter(|_| version >= ENDPOINTS_FROM);
        let (email, endpoint) = match split {
            None => (token, None),
            Some(at) => {
                let suffix = token.get(at + 1..).unwrap_or_default();
                let guid = suffix
                    .strip_prefix(b"{")
                    .and_then(|s| s.strip_suffix(b"}"))
                    .filter(|g| is_guid(g))
                    .ok_or(ParseError::InvalidArgument)?;
                (token.get(..at).unwrap_or_default(), Some(String::from_utf8_lossy(guid).into_owned()))
            }
        };
        let email = percent::decode(email);
        if email.is_empty() {
            return Err(ParseError::InvalidArgument);
        }
        Ok(Participant { email, endpoint })
    }

    /// Appends the wire form (the e-mail percent-encoded).
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b' ');
        percent::encode_into(&self.email, out);
        if let Some(guid) = &self.endpoint {
            out.extend_from_slice(b";{");
            percent::encode_into(guid, out);
            out.push(b'}');
        }
    }
}

impl fmt::Display for Participant {
    /// `email` or `email;{guid}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.endpoint {
            Some(guid) => write!(f, "{};{{{guid}}}", self.email),
            None => f.write_str(&self.email),
        }
    }
}

/// `USR <trid> OK <email>[;{guid}] <friendly>`: signed in to the switchboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbUsr {
    /// TrID of the client's `USR`.
    pub trid: u32,
    /// Own address, echoed.
    pub user: Participant,
    /// Own friendly name, decoded.
    pub friendly: String,
}

/// `IRO <trid> <n> <total> <email>[;{guid}] <friendly> [<caps>]`: one participant already in
/// the switchboard, listed after `ANS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iro {
    /// TrID of the client's `ANS`.
    pub trid: u32,
    /// Position in the roster, from 1.
    pub index: u32,
    /// Roster length (MSNP16+: endpoints and bare entries counted separately).
    pub total: u32,
    /// The participant.
    pub participant: Participant,
    /// Friendly name, decoded.
    pub friendly: String,
    /// Client capabilities (MSNP12+).
    pub capabilities: Option<Capabilities>,
}

/// `CAL <trid> RINGING <session>`: an invitation is on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cal {
    /// TrID of the client's `CAL`.
    pub trid: u32,
    /// Switchboard session id, as sent.
    pub session_id: String,
}

/// `JOI <email>[;{guid}] <friendly> [<caps>]`: someone joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joi {
    /// Who joined.
    pub participant: Participant,
    /// Friendly name, decoded.
    pub friendly: String,
    /// Client capabilities (MSNP12+).
    pub capabilities: Option<Capabilities>,
}

/// `BYE <email>[;{guid}] [1]`: someone left; the trailing `1` means the server dropped them
/// (idle or disconnected) rather than a voluntary `OUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bye {
    /// Who left.
    pub participant: Participant,
    /// Whether the server closed the participant's connection.
    pub idle: bool,
}

/// `MSG <email>[;{guid}] <friendly> <len>` + MIME payload: a message relayed by the switchboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbMsg {
    /// The sender.
    pub sender: Participant,
    /// Sender's friendly name, decoded.
    pub friendly: String,
    /// The MIME message (see [`crate::msnp::message`]).
    pub payload: Vec<u8>,
}

/// A command received from a switchboard. Each variant's documentation gives its wire syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SbCommand {
    /// `USR <trid> OK <email>[;{guid}] <friendly>`.
    Usr(SbUsr),
    /// `IRO <trid> <n> <total> <email>[;{guid}] <friendly> [<caps>]`.
    Iro(Iro),
    /// `ANS <trid> OK`: joined; the roster (`IRO`) is complete.
    Ans(Ack),
    /// `CAL <trid> RINGING <session>`.
    Cal(Cal),
    /// `JOI <email>[;{guid}] <friendly> [<caps>]`.
    Joi(Joi),
    /// `BYE <email>[;{guid}] [1]`.
    Bye(Bye),
    /// `MSG <email>[;{guid}] <friendly> <len>` + payload.
    Msg(SbMsg),
    /// `ACK <trid>`: the message with that TrID was delivered.
    Ack(Ack),
    /// `NAK <trid>`: the message with that TrID was not delivered.
    Nak(Ack),
    /// `OUT`: the switchboard closes the connection.
    Out,
    /// `NNN [<trid>]`: a numeric error replacing the reply to the command with that TrID.
    Error(ServerError),
    /// Any other verb.
    Raw(RawCommand),
}

/// Parses a frame received from a switchboard, for protocol version `version` (the `n` of
/// `MSNPn`).
///
/// Never panics. Trailing arguments beyond those a command defines are ignored; anything
/// malformed is a [`ParseError`].
pub fn parse(frame: Frame, version: u32) -> Result<SbCommand, ParseError> {
    let Frame { line, mut payload } = frame;
    let (verb, mut args) = split_line(&line)?;
    let args = &mut args;
    let command = match verb {
        "USR" => {
            let trid = args.number()?;
            ok_keyword(args)?;
            SbCommand::Usr(SbUsr { trid, user: Participant::parse(args.raw()?, version)?, friendly: args.text()? })
        }
        "IRO" => SbCommand::Iro(parse_iro(args, version)?),
        "ANS" => {
            let trid = args.number()?;
            ok_keyword(args)?;
            SbCommand::Ans(Ack { trid })
        }
        "CAL" => {
            let trid = args.number()?;
            if !args.keyword("RINGING") {
                return Err(ParseError::InvalidArgument);
            }
            SbCommand::Cal(Cal { trid, session_id: args.verbatim()? })
        }
        "JOI" => {
            let participant = Participant::parse(args.raw()?, version)?;
            let friendly = args.text()?;
            SbCommand::Joi(Joi { participant, friendly, capabilities: capabilities(args, version)? })
        }
        "BYE" => {
            let participant = Participant::parse(args.raw()?, version)?;
            SbCommand::Bye(Bye { participant, idle: args.keyword("1") })
        }
        "MSG" => {
            let payload = take_payload(args, &mut payload)?;
            let sender = Participant::parse(args.raw()?, version)?;
            SbCommand::Msg(SbMsg { sender, friendly: args.text()?, payload })
        }
        "ACK" => SbCommand::Ack(Ack { trid: args.number()? }),
        "NAK" => SbCommand::Nak(Ack { trid: args.number()? }),
        "OUT" => SbCommand::Out,
        _ if verb.bytes().all(|b| b.is_ascii_digit()) => {
            let code = verb.parse().map_err(|_| ParseError::InvalidVerb)?;
            SbCommand::Error(ServerError { code, trid: args.opt_number() })
        }
        _ => {
            let mut decoded = Vec::with_capacity(args.remaining());
            while let Some(arg) = args.opt_text() {
                decoded.push(arg);
            }
            return Ok(SbCommand::Raw(RawCommand { verb: verb.to_owned(), args: decoded, payload }));
        }
    };
    if payload.is_some() {
        return Err(ParseError::UnexpectedPayload);
    }
    Ok(command)
}

fn parse_iro(args: &mut Args, version: u32) -> Result<Iro, ParseError> {
    let trid = args.number()?;
    let index = args.number()?;
    let total = args.number()?;
    if index == 0 || index > total {
        return Err(ParseError::InvalidArgument);
    }
    let participant = Participant::parse(args.raw()?, version)?;
    let friendly = args.text()?;
    Ok(Iro { trid, index, total, participant, friendly, capabilities: capabilities(args, version)? })
}

fn ok_keyword(args: &mut Args) -> Result<(), ParseError> {
    if args.keyword("OK") {
        Ok(())
    } else {
        Err(ParseError::InvalidArgument)
    }
}

/// The optional capabilities token of `IRO`/`JOI` (MSNP12+; earlier versions have none).
fn capabilities(args: &mut Args, version: u32) -> Result<Option<Capabilities>, ParseError> {
    if version < CAPS_FROM {
        return Ok(None);
    }
    args.raw().ok().map(Capabilities::parse).transpose()
}

impl SbCommand {
    /// Appends the command's wire bytes, as a switchboard sends them (for test servers and
    /// round trips): arguments percent-encoded, payload length counted in bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut payload: Option<&[u8]> = None;
        match self {
            SbCommand::Usr(u) => {
                line_start(out, "USR", Some(u.trid));
                word(out, "OK");
                u.user.encode(out);
                arg(out, &u.friendly);
            }
            SbCommand::Iro(i) => {
                line_start(out, "IRO", Some(i.trid));
                word(out, &i.index.to_string());
                word(out, &i.total.to_string());
                i.participant.encode(out);
                arg(out, &i.friendly);
                if let Some(caps) = i.capabilities {
                    word(out, &caps.to_string());
                }
            }
            SbCommand::Ans(a) => {
                line_start(out, "ANS", Some(a.trid));
                word(out, "OK");
            }
            SbCommand::Cal(c) => {
                line_start(out, "CAL", Some(c.trid));
                word(out, "RINGING");
                word(out, &c.session_id);
            }
            SbCommand::Joi(j) => {
                line_start(out, "JOI", None);
                j.participant.encode(out);
                arg(out, &j.friendly);
                if let Some(caps) = j.capabilities {
                    word(out, &caps.to_string());
                }
            }
            SbCommand::Bye(b) => {
                line_start(out, "BYE", None);
                b.participant.encode(out);
                if b.idle {
                    word(out, "1");
                }
            }
            SbCommand::Msg(m) => {
                line_start(out, "MSG", None);
                m.sender.encode(out);
                arg(out, &m.friendly);
                payload = Some(&m.payload);
            }
            SbCommand::Ack(a) => line_start(out, "ACK", Some(a.trid)),
            SbCommand::Nak(a) => line_start(out, "NAK", Some(a.trid)),
            SbCommand::Out => line_start(out, "OUT", None),
            SbCommand::Error(e) => line_start(out, &format!("{:03}", e.code), e.trid),
            SbCommand::Raw(r) => {
                line_start(out, &r.verb, None);
                for a in &r.args {
                    arg(out, a);
                }
                payload = r.payload.as_deref();
            }
        }
        finish(out, payload);
    }
}

/// How the switchboard should acknowledge a client `MSG` (reference §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckMode {
    /// `U`: no reply (typing, control messages).
    Unacknowledged,
    /// `N`: `NAK` on failure only.
    NakOnly,
    /// `A`: `ACK` or `NAK`.
    Always,
    /// `D`: data, required for P2P; `ACK` or `NAK`.
    Data,
}

impl AckMode {
    /// The one-letter wire code.
    pub fn code(self) -> &'static str {
        match self {
            AckMode::Unacknowledged => "U",
            AckMode::NakOnly => "N",
            AckMode::Always => "A",
            AckMode::Data => "D",
        }
    }

    /// Parses the wire code.
    pub fn from_code(code: &[u8]) -> Result<AckMode, ParseError> {
        match code {
            b"U" => Ok(AckMode::Unacknowledged),
            b"N" => Ok(AckMode::NakOnly),
            b"A" => Ok(AckMode::Always),
            b"D" => Ok(AckMode::Data),
            _ => Err(ParseError::InvalidArgument),
        }
    }
}

/// A command the client sends to a switchboard. Arguments are percent-encoded; payload lengths
/// count bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SbClientCommand {
    /// `USR <trid> <email>[;{guid}] <cookie>`: sign in to a switchboard got from `XFR SB`.
    Usr {
        /// Own address; from MSNP16 with this installation's machine GUID.
        user: Participant,
        /// The `CKI` cookie from `XFR`, sent verbatim.
        cookie: Secret<String>,
    },
    /// `ANS <trid> <email>[;{guid}] <cookie> <session>`: accept a `RNG` invitation.
    Ans {
        /// Own address; from MSNP16 with this installation's machine GUID.
        user: Participant,
        /// The `CKI` cookie from `RNG`, sent verbatim.
        cookie: Secret<String>,
        /// The session id from `RNG`, sent verbatim.
        session_id: String,
    },
    /// `CAL <trid> <email>`: invite someone.
    Cal {
        /// Who to invite.
        email: String,
    },
    /// `MSG <trid> <U|N|A|D> <len>` + payload: send a message (at most
    /// [`crate::msnp::message::MAX_PAYLOAD`] bytes).
    Msg {
        /// Acknowledgement wanted.
        ack: AckMode,
        /// The MIME message.
        payload: Vec<u8>,
    },
    /// `OUT` (no TrID): leave the switchboard.
    Out,
}

impl SbClientCommand {
    /// Whether the command carries a TrID (all but `OUT`).
    pub fn takes_trid(&self) -> bool {
        !matches!(self, SbClientCommand::Out)
    }

    /// Appends the command's exact wire bytes to `out`, with TrID `trid` (ignored for `OUT`).
    pub fn encode(&self, trid: u32, out: &mut Vec<u8>) {
        let mut payload: Option<&[u8]> = None;
        match self {
            SbClientCommand::Usr { user, cookie } => {
                line_start(out, "USR", Some(trid));
                user.encode(out);
                word(out, cookie.expose());
            }
            SbClientCommand::Ans { user, cookie, session_id } => {
                line_start(out, "ANS", Some(trid));
                user.encode(out);
                word(out, cookie.expose());
                word(out, session_id);
            }
            SbClientCommand::Cal { email } => {
                line_start(out, "CAL", Some(trid));
                arg(out, email);
            }
            SbClientCommand::Msg { ack, payload: p } => {
                line_start(out, "MSG", Some(trid));
                word(out, ack.code());
                payload = Some(p);
            }
            SbClientCommand::Out => line_start(out, "OUT", None),
        }
        finish(out, payload);
    }

    /// Decodes a frame sent by a client (framed with [`Direction::FromClient`]) into its TrID
    /// (`None` for `OUT`) and command: the inverse of [`SbClientCommand::encode`]. `version`
    /// tells whether `email;{guid}` addresses are allowed (MSNP16+).
    ///
    /// [`Direction::FromClient`]: super::framer::Direction::FromClient
    pub fn decode(frame: Frame, version: u32) -> Result<(Option<u32>, SbClientCommand), ParseError> {
        let Frame { line, mut payload } = frame;
        let (verb, mut args) = split_line(&line)?;
        let args = &mut args;
        if verb == "OUT" {
            return match payload {
                Some(_) => Err(ParseError::UnexpectedPayload),
                None => Ok((None, SbClientCommand::Out)),
            };
        }
        let trid = args.number()?;
        let command = match verb {
            "USR" => SbClientCommand::Usr {
                user: Participant::parse(args.raw()?, version)?,
                cookie: Secret::new(args.verbatim()?),
            },
            "ANS" => SbClientCommand::Ans {
                user: Participant::parse(args.raw()?, version)?,
                cookie: Secret::new(args.verbatim()?),
                session_id: args.verbatim()?,
            },
            "CAL" => SbClientCommand::Cal { email: args.text()? },
            "MSG" => {
                let body = take_payload(args, &mut payload)?;
                SbClientCommand::Msg { ack: AckMode::from_code(args.raw()?)?, payload: body }
            }
            _ => return Err(ParseError::UnknownCommand),
        };
        if payload.is_some() {
            return Err(ParseError::UnexpectedPayload);
        }
        Ok((Some(trid), command))
    }
}

/// Starts a line: the verb and, if given, the TrID.
fn line_start(out: &mut Vec<u8>, verb: &str, trid: Option<u32>) {
    out.extend_from_slice(verb.as_bytes());
    if let Some(trid) = trid {
        word(out, &trid.to_string());
    }
}

/// Appends a space and a fixed word (keyword, number or opaque token), unencoded.
fn word(out: &mut Vec<u8>, word: &str) {
    out.push(b' ');
    out.extend_from_slice(word.as_bytes());
}

/// Appends a space and a percent-encoded argument.
fn arg(out: &mut Vec<u8>, value: &str) {
    out.push(b' ');
    percent::encode_into(value, out);
}

/// Ends the line, with the payload's length and bytes if there is one.
fn finish(out: &mut Vec<u8>, payload: Option<&[u8]>) {
    if let Some(payload) = payload {
        word(out, &payload.len().to_string());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(payload);
    } else {
        out.extend_from_slice(b"\r\n");
    }
}

