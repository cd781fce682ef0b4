//! Switchboard commands (docs/protocol.md §7): typed server → client [`SbCommand`]s read by
//! [`parse`], and client → server [`SbClientCommand`]s written by [`SbClientCommand::encode`].
//!
//! Shapes that differ between protocol versions: from MSNP12 `IRO` and `JOI` end with the
//! participant's capabilities; from MSNP16 an address may name one endpoint as `email;{guid}`.

use super::args::{split_line, Args, ParseError};
use super::framer::Frame;
use super::ns::{take_payload, RawCommand};
use super::ns_session::Ack;
use super::percent;
use super::server_error::ServerError;
use super::types::Capabilities;
use crate::dialect::Dialect;
use crate::guid::is_guid;
use crate::secret::Secret;
use std::fmt;

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
        Participant {
            email: email.into(),
            endpoint: None,
        }
    }

    /// Reads `email` or, from MSNP16, `email;{guid}`; the decoded e-mail must be non-empty and
    /// free of spaces and control characters.
    fn parse(token: &[u8], dialect: Dialect) -> Result<Self, ParseError> {
        let split = token
            .iter()
            .position(|&b| b == b';')
            .filter(|_| dialect.endpoints());
        let (email, endpoint) = match split {
            None => (token, None),
            Some(at) => {
                let suffix = token.get(at + 1..).unwrap_or_default();
                let guid = suffix
                    .strip_prefix(b"{")
                    .and_then(|s| s.strip_suffix(b"}"))
                    .filter(|g| is_guid(g))
                    .ok_or(ParseError::InvalidArgument)?;
                (
                    token.get(..at).unwrap_or_default(),
                    Some(String::from_utf8_lossy(guid).into_owned()),
                )
            }
        };
        let email = percent::decode(email);
        if email.is_empty() || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ParseError::InvalidArgument);
        }
        Ok(Participant { email, endpoint })
    }

    /// Appends the wire form (the e-mail percent-encoded, `;` included: unescaped, it would
    /// start an endpoint suffix).
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(b' ');
        let mut email = Vec::with_capacity(self.email.len());
        percent::encode_into(&self.email, &mut email);
        for b in email {
            match b {
                b';' => out.extend_from_slice(b"%3B"),
                b => out.push(b),
            }
        }
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
    /// The MIME message (see [`crate::message`]).
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

/// Parses a frame received from a switchboard in `dialect`.
///
/// Never panics. Trailing arguments beyond those a command defines are ignored; anything
/// malformed is a [`ParseError`].
pub fn parse(frame: Frame, dialect: Dialect) -> Result<SbCommand, ParseError> {
    let Frame { line, mut payload } = frame;
    let (verb, mut args) = split_line(&line)?;
    let args = &mut args;
    let command = match verb {
        "USR" => {
            let trid = args.number()?;
            ok_keyword(args)?;
            SbCommand::Usr(SbUsr {
                trid,
                user: Participant::parse(args.raw()?, dialect)?,
                friendly: args.text()?,
            })
        }
        "IRO" => SbCommand::Iro(parse_iro(args, dialect)?),
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
            SbCommand::Cal(Cal {
                trid,
                session_id: args.verbatim()?,
            })
        }
        "JOI" => {
            let participant = Participant::parse(args.raw()?, dialect)?;
            let friendly = args.text()?;
            SbCommand::Joi(Joi {
                participant,
                friendly,
                capabilities: capabilities(args, dialect)?,
            })
        }
        "BYE" => {
            let participant = Participant::parse(args.raw()?, dialect)?;
            SbCommand::Bye(Bye {
                participant,
                idle: args.keyword("1"),
            })
        }
        "MSG" => {
            let payload = take_payload(args, &mut payload)?;
            let sender = Participant::parse(args.raw()?, dialect)?;
            SbCommand::Msg(SbMsg {
                sender,
                friendly: args.text()?,
                payload,
            })
        }
        "ACK" => SbCommand::Ack(Ack {
            trid: args.number()?,
        }),
        "NAK" => SbCommand::Nak(Ack {
            trid: args.number()?,
        }),
        "OUT" => SbCommand::Out,
        _ if verb.bytes().all(|b| b.is_ascii_digit()) => {
            let code = verb.parse().map_err(|_| ParseError::InvalidVerb)?;
            SbCommand::Error(ServerError {
                code,
                trid: args.opt_number(),
            })
        }
        _ => {
            let mut decoded = Vec::with_capacity(args.remaining());
            while let Some(arg) = args.opt_text() {
                decoded.push(arg);
            }
            // The framer read the last argument as the payload's length (`064` is 64): keep it
            // in canonical form, which is what `encode` writes.
            if let (Some(payload), Some(last)) = (&payload, decoded.last_mut()) {
                *last = payload.len().to_string();
            }
            return Ok(SbCommand::Raw(RawCommand {
                verb: verb.to_owned(),
                args: decoded,
                payload,
            }));
        }
    };
    if payload.is_some() {
        return Err(ParseError::UnexpectedPayload);
    }
    Ok(command)
}

fn parse_iro(args: &mut Args, dialect: Dialect) -> Result<Iro, ParseError> {
    let trid = args.number()?;
    let index = args.number()?;
    let total = args.number()?;
    if index == 0 || index > total {
        return Err(ParseError::InvalidArgument);
    }
    let participant = Participant::parse(args.raw()?, dialect)?;
    let friendly = args.text()?;
    Ok(Iro {
        trid,
        index,
        total,
        participant,
        friendly,
        capabilities: capabilities(args, dialect)?,
    })
}

fn ok_keyword(args: &mut Args) -> Result<(), ParseError> {
    if args.keyword("OK") {
        Ok(())
    } else {
        Err(ParseError::InvalidArgument)
    }
}

/// The optional capabilities token of `IRO`/`JOI` (MSNP12+; earlier versions have none).
fn capabilities(args: &mut Args, dialect: Dialect) -> Result<Option<Capabilities>, ParseError> {
    if !dialect.sb_capabilities() {
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
                // With a payload the last argument is its length, which `finish` writes.
                let args = match r.payload {
                    Some(_) => r.args.split_last().map_or(&[][..], |(_, before)| before),
                    None => &r.args[..],
                };
                for a in args {
                    arg(out, a);
                }
                payload = r.payload.as_deref();
            }
        }
        finish(out, payload);
    }
}

/// How the switchboard should acknowledge a client `MSG` (docs/protocol.md §7.4).
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
    /// [`crate::message::MAX_PAYLOAD`] bytes).
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
            SbClientCommand::Ans {
                user,
                cookie,
                session_id,
            } => {
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
    /// (`None` for `OUT`) and command: the inverse of [`SbClientCommand::encode`]. `dialect`
    /// tells whether `email;{guid}` addresses are allowed (MSNP16+).
    ///
    /// [`Direction::FromClient`]: super::framer::Direction::FromClient
    pub fn decode(
        frame: Frame,
        dialect: Dialect,
    ) -> Result<(Option<u32>, SbClientCommand), ParseError> {
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
                user: Participant::parse(args.raw()?, dialect)?,
                cookie: Secret::new(args.verbatim()?),
            },
            "ANS" => SbClientCommand::Ans {
                user: Participant::parse(args.raw()?, dialect)?,
                cookie: Secret::new(args.verbatim()?),
                session_id: args.verbatim()?,
            },
            "CAL" => SbClientCommand::Cal {
                email: args.text()?,
            },
            "MSG" => {
                let body = take_payload(args, &mut payload)?;
                SbClientCommand::Msg {
                    ack: AckMode::from_code(args.raw()?)?,
                    payload: body,
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;
    use crate::wire::framer::{Direction, Framer, Limits};
    use crate::wire::transcript::load;

    fn frame(bytes: &[u8], direction: Direction) -> Frame {
        let mut framer = Framer::new(direction, Limits::default());
        framer.push(bytes);
        let frame = framer.next_frame().expect("frames").expect("one frame");
        assert_eq!(framer.buffered(), 0, "one frame exactly");
        frame
    }

    fn server(line: &str, version: u32) -> Result<SbCommand, ParseError> {
        parse(
            frame(format!("{line}\r\n").as_bytes(), Direction::FromServer),
            Dialect::new(version),
        )
    }

    fn encoded(command: &SbCommand) -> Vec<u8> {
        let mut out = Vec::new();
        command.encode(&mut out);
        out
    }

    fn bob_endpoint() -> Participant {
        Participant {
            email: "bob@example.com".into(),
            endpoint: Some("67276431-56b0-47ec-92cd-61d5bfc49e43".into()),
        }
    }

    /// Every SB session recorded from Escargot, with the protocol version it spoke.
    const SESSIONS: [(&str, u32); 10] = [
        ("msnp8/alice-sb.raw.txt", 8),
        ("msnp8/bob-sb.raw.txt", 8),
        ("msnp12/alice-sb.raw.txt", 12),
        ("msnp12/bob-sb.raw.txt", 12),
        ("msnp15/alice-sb.raw.txt", 15),
        ("msnp15/bob-sb.raw.txt", 15),
        ("msnp18/alice-sb.raw.txt", 18),
        ("msnp18/bob-sb.raw.txt", 18),
        ("extra-multiparty/alice-sb.raw.txt", 12),
        ("extra-multiparty/carol-sb.raw.txt", 12),
    ];

    fn frames(bytes: &[u8], direction: Direction) -> Vec<Frame> {
        let mut framer = Framer::new(direction, Limits::default());
        framer.push(bytes);
        let mut out = Vec::new();
        while let Some(frame) = framer.next_frame().expect("recorded stream frames") {
            out.push(frame);
        }
        assert_eq!(framer.buffered(), 0);
        out
    }

    #[test]
    fn every_recorded_server_command_parses_and_re_encodes_byte_for_byte() {
        for (name, version) in SESSIONS {
            let bytes = load(name).server_bytes();
            let mut again = Vec::new();
            for frame in frames(&bytes, Direction::FromServer) {
                let line = String::from_utf8_lossy(&frame.line).into_owned();
                let command = parse(frame, Dialect::new(version))
                    .unwrap_or_else(|e| panic!("{name}: {line}: {e}"));
                assert!(
                    !matches!(command, SbCommand::Raw(_)),
                    "{name}: {line} not recognised"
                );
                command.encode(&mut again);
            }
            assert_eq!(
                String::from_utf8_lossy(&again),
                String::from_utf8_lossy(&bytes),
                "{name}"
            );
        }
    }

    #[test]
    fn every_recorded_client_command_decodes_and_re_encodes_byte_for_byte() {
        for (name, version) in SESSIONS {
            let bytes = load(name).client_bytes();
            let mut again = Vec::new();
            for frame in frames(&bytes, Direction::FromClient) {
                let line = String::from_utf8_lossy(&frame.line).into_owned();
                let (trid, command) = SbClientCommand::decode(frame, Dialect::new(version))
                    .unwrap_or_else(|e| panic!("{name}: {line}: {e}"));
                assert_eq!(trid.is_some(), command.takes_trid());
                command.encode(trid.unwrap_or(0), &mut again);
            }
            assert_eq!(again, bytes, "{name}");
        }
    }

    #[test]
    fn msnp18_roster_lists_endpoints_with_extended_capabilities() {
        let bytes = load("msnp18/bob-sb.raw.txt").server_bytes();
        let commands: Vec<SbCommand> = frames(&bytes, Direction::FromServer)
            .into_iter()
            .map(|f| parse(f, Dialect::new(18)).expect("parses"))
            .collect();
        let caps = Some(Capabilities {
            client: 2_788_999_228,
            extended: Some(48),
        });
        let alice = Participant::new("alice@example.com");
        let alice_ep = Participant {
            endpoint: Some("0961ffc4-f6e6-41a0-9845-2214a26f069d".into()),
            ..alice.clone()
        };
        assert_eq!(
            commands[..4],
            [
                SbCommand::Iro(Iro {
                    trid: 1,
                    index: 1,
                    total: 2,
                    participant: alice_ep,
                    friendly: "Alice (probe)".into(),
                    capabilities: caps
                }),
                SbCommand::Iro(Iro {
                    trid: 1,
                    index: 2,
                    total: 2,
                    participant: alice.clone(),
                    friendly: "Alice (probe)".into(),
                    capabilities: caps
                }),
                SbCommand::Ans(Ack { trid: 1 }),
                SbCommand::Joi(Joi {
                    participant: Participant::new("bob@example.com"),
                    friendly: "Bob".into(),
                    capabilities: caps
                }),
            ]
        );
        let SbCommand::Msg(msg) = &commands[4] else {
            panic!("expected MSG, got {:?}", commands[4])
        };
        assert_eq!(
            (&msg.sender, msg.friendly.as_str(), msg.payload.len()),
            (&alice, "Alice (probe)", 90)
        );
    }

    #[test]
    fn multiparty_errors_and_bye_from_escargot() {
        let bytes = load("extra-multiparty/alice-sb.raw.txt").server_bytes();
        let commands: Vec<SbCommand> = frames(&bytes, Direction::FromServer)
            .into_iter()
            .map(|f| parse(f, Dialect::new(12)).expect("parses"))
            .collect();
        assert!(commands.contains(&SbCommand::Error(ServerError {
            code: 215,
            trid: Some(4)
        })));
        assert!(commands.contains(&SbCommand::Error(ServerError {
            code: 217,
            trid: Some(5)
        })));
        assert!(commands.contains(&SbCommand::Cal(Cal {
            trid: 3,
            session_id: "cb61cf9be4457903fa1e0cc53217388".into()
        })));
        let bytes = load("extra-multiparty/carol-sb.raw.txt").server_bytes();
        let byes: Vec<SbCommand> = frames(&bytes, Direction::FromServer)
            .into_iter()
            .map(|f| parse(f, Dialect::new(12)).expect("parses"))
            .filter(|c| matches!(c, SbCommand::Bye(_)))
            .collect();
        assert_eq!(
            byes,
            [
                SbCommand::Bye(Bye {
                    participant: Participant::new("alice@example.com"),
                    idle: false
                }),
                SbCommand::Bye(Bye {
                    participant: Participant::new("bob@example.com"),
                    idle: false
                }),
            ]
        );
    }

    #[test]
    fn shapes_follow_the_protocol_version() {
        // Before MSNP12 a trailing token on JOI is not capabilities; before MSNP16 `;` is part of the address.
        let joi = server("JOI bob@example.com Bob 1342177280", 8).unwrap();
        assert_eq!(
            joi,
            SbCommand::Joi(Joi {
                participant: Participant::new("bob@example.com"),
                friendly: "Bob".into(),
                capabilities: None
            })
        );
        let guid = "bob@example.com;{67276431-56b0-47ec-92cd-61d5bfc49e43}";
        let SbCommand::Bye(bye) = server(&format!("BYE {guid}"), 15).unwrap() else {
            panic!()
        };
        assert_eq!(bye.participant, Participant::new(guid));
        let SbCommand::Bye(bye) = server(&format!("BYE {guid} 1"), 16).unwrap() else {
            panic!()
        };
        assert_eq!(
            bye,
            Bye {
                participant: bob_endpoint(),
                idle: true
            }
        );
        assert_eq!(bye.participant.to_string(), guid);
        assert_eq!(
            server(
                "USR 1 OK bob@example.com;{67276431-56b0-47ec-92cd-61d5bfc49e43} Bob%20B",
                18
            )
            .unwrap(),
            SbCommand::Usr(SbUsr {
                trid: 1,
                user: bob_endpoint(),
                friendly: "Bob B".into()
            })
        );
        // MSNP12+ capabilities are optional but must be well formed when present.
        assert!(matches!(
            server("JOI bob@example.com Bob", 15).unwrap(),
            SbCommand::Joi(Joi {
                capabilities: None,
                ..
            })
        ));
        assert_eq!(
            server("JOI bob@example.com Bob x1", 15),
            Err(ParseError::InvalidCapabilities)
        );
    }

    #[test]
    fn malformed_server_commands_are_errors_not_panics() {
        let cases: &[(&str, ParseError)] = &[
            ("USR 1 bob@example.com Bob", ParseError::InvalidArgument),
            ("USR x OK bob@example.com Bob", ParseError::InvalidNumber),
            ("USR 1 OK bob@example.com", ParseError::MissingArgument),
            ("IRO 1 0 1 a@b A", ParseError::InvalidArgument),
            ("IRO 1 3 2 a@b A", ParseError::InvalidArgument),
            ("IRO 1 1", ParseError::MissingArgument),
            ("ANS 1", ParseError::InvalidArgument),
            ("CAL 2 BUSY 123", ParseError::InvalidArgument),
            ("CAL 2 RINGING", ParseError::MissingArgument),
            ("JOI", ParseError::MissingArgument),
            ("JOI %20 x", ParseError::InvalidArgument),
            (
                "JOI ;{67276431-56b0-47ec-92cd-61d5bfc49e43} x",
                ParseError::InvalidArgument,
            ),
            ("BYE a@b;{nope}", ParseError::InvalidArgument),
            (
                "BYE a@b;67276431-56b0-47ec-92cd-61d5bfc49e43",
                ParseError::InvalidArgument,
            ),
            ("MSG a@b A", ParseError::InvalidNumber),
            ("MSG", ParseError::MissingArgument),
            ("ACK", ParseError::MissingArgument),
            ("NAK -1", ParseError::InvalidNumber),
            ("ack 1", ParseError::InvalidVerb),
        ];
        for (line, err) in cases {
            assert_eq!(server(line, 18).as_ref().err(), Some(err), "{line}");
        }
        // `MSG a b` without a numeric last token is framed as a plain line: no payload.
        assert_eq!(
            parse(
                Frame {
                    line: b"MSG a@b A 3".to_vec(),
                    payload: None
                },
                Dialect::new(18)
            ),
            Err(ParseError::MissingPayload)
        );
        assert_eq!(
            parse(
                Frame {
                    line: b"MSG a@b A 3".to_vec(),
                    payload: Some(b"ab".to_vec())
                },
                Dialect::new(18)
            ),
            Err(ParseError::PayloadLengthMismatch)
        );
        assert_eq!(
            parse(
                Frame {
                    line: b"ACK 3".to_vec(),
                    payload: Some(Vec::new())
                },
                Dialect::new(18)
            ),
            Err(ParseError::UnexpectedPayload)
        );
    }

    #[test]
    fn unknown_verbs_and_numeric_errors() {
        assert_eq!(
            server("XYZ 1 a%20b", 15).unwrap(),
            SbCommand::Raw(RawCommand {
                verb: "XYZ".into(),
                args: vec!["1".into(), "a b".into()],
                payload: None
            })
        );
        assert_eq!(
            server("282", 15).unwrap(),
            SbCommand::Error(ServerError {
                code: 282,
                trid: None
            })
        );
        assert_eq!(server("OUT", 15).unwrap(), SbCommand::Out);
        assert_eq!(
            server("NAK 9", 15).unwrap(),
            SbCommand::Nak(Ack { trid: 9 })
        );
    }

    #[test]
    fn server_commands_round_trip_through_encode() {
        let caps = Some(Capabilities {
            client: 1,
            extended: Some(2),
        });
        let commands = [
            SbCommand::Usr(SbUsr {
                trid: 7,
                user: bob_endpoint(),
                friendly: "Bob 100% ☃".into(),
            }),
            SbCommand::Iro(Iro {
                trid: 2,
                index: 1,
                total: 1,
                participant: Participant::new("a@b"),
                friendly: "A".into(),
                capabilities: caps,
            }),
            SbCommand::Joi(Joi {
                participant: bob_endpoint(),
                friendly: "B".into(),
                capabilities: None,
            }),
            SbCommand::Bye(Bye {
                participant: bob_endpoint(),
                idle: true,
            }),
            SbCommand::Msg(SbMsg {
                sender: bob_endpoint(),
                friendly: "B".into(),
                payload: b"x\r\n\r\ny".to_vec(),
            }),
            SbCommand::Msg(SbMsg {
                sender: Participant::new("a@b"),
                friendly: "A".into(),
                payload: Vec::new(),
            }),
            SbCommand::Error(ServerError {
                code: 217,
                trid: Some(5),
            }),
            SbCommand::Ack(Ack { trid: 4 }),
            SbCommand::Out,
        ];
        for command in commands {
            let bytes = encoded(&command);
            assert_eq!(
                parse(frame(&bytes, Direction::FromServer), Dialect::new(18)).as_ref(),
                Ok(&command),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn client_commands_known_answers_and_round_trips() {
        let usr = SbClientCommand::Usr {
            user: Participant {
                email: "alice@example.com".into(),
                endpoint: Some("0961ffc4-f6e6-41a0-9845-2214a26f069d".into()),
            },
            cookie: Secret::new("9564d3e6575bebc47876".into()),
        };
        let ans = SbClientCommand::Ans {
            user: Participant::new("bob@example.com"),
            cookie: Secret::new("8a87d08d161de687ce85".into()),
            session_id: "9a999bb14fd92b41c8623b8e140ce44".into(),
        };
        let known: [(&SbClientCommand, u32, &[u8]); 4] = [
            (&usr, 1, b"USR 1 alice@example.com;{0961ffc4-f6e6-41a0-9845-2214a26f069d} 9564d3e6575bebc47876\r\n"),
            (&ans, 1, b"ANS 1 bob@example.com 8a87d08d161de687ce85 9a999bb14fd92b41c8623b8e140ce44\r\n"),
            (&SbClientCommand::Cal { email: "bob@example.com".into() }, 2, b"CAL 2 bob@example.com\r\n"),
            (&SbClientCommand::Out, 9, b"OUT\r\n"),
        ];
        for (command, trid, wire) in known {
            let mut out = Vec::new();
            command.encode(trid, &mut out);
            assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(wire));
            let decoded =
                SbClientCommand::decode(frame(wire, Direction::FromClient), Dialect::new(18))
                    .unwrap();
            assert_eq!(
                decoded,
                (command.takes_trid().then_some(trid), command.clone())
            );
        }
        assert!(
            !format!("{usr:?}").contains("9564d3e6575bebc47876"),
            "cookies never reach a log"
        );
        for ack in [
            AckMode::Unacknowledged,
            AckMode::NakOnly,
            AckMode::Always,
            AckMode::Data,
        ] {
            assert_eq!(AckMode::from_code(ack.code().as_bytes()), Ok(ack));
        }
        assert_eq!(AckMode::from_code(b"X"), Err(ParseError::InvalidArgument));
    }

    #[test]
    fn client_msg_vectors_decode_and_re_encode() {
        use base64::Engine as _;
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/msg_payloads.json"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("vector file"))
                .expect("json");
        let mut seen = 0;
        for v in json["vectors"].as_array().expect("vectors") {
            if v["direction"] != "SB client->server" {
                continue;
            }
            let wire = base64::engine::general_purpose::STANDARD
                .decode(v["wire_b64"].as_str().expect("wire_b64"))
                .expect("base64");
            let (trid, command) =
                SbClientCommand::decode(frame(&wire, Direction::FromClient), Dialect::new(15))
                    .expect("decodes");
            let SbClientCommand::Msg { payload, .. } = &command else {
                panic!("not MSG: {command:?}")
            };
            assert_eq!(
                payload.len() as u64,
                v["payload_byte_length"].as_u64().expect("length")
            );
            let mut out = Vec::new();
            command.encode(trid.expect("MSG has a TrID"), &mut out);
            assert_eq!(out, wire);
            seen += 1;
        }
        assert_eq!(seen, 4);
    }

    #[test]
    fn malformed_client_commands_are_errors() {
        let cases: &[(&[u8], ParseError)] = &[
            (b"MSG 1 X 0\r\n", ParseError::InvalidArgument),
            (b"MSG x A 0\r\n", ParseError::InvalidNumber),
            (b"CAL 1\r\n", ParseError::MissingArgument),
            (b"XFR 1 SB\r\n", ParseError::UnknownCommand),
            (b"USR 1 a@b;{x} c\r\n", ParseError::InvalidArgument),
        ];
        for (wire, err) in cases {
            assert_eq!(
                SbClientCommand::decode(frame(wire, Direction::FromClient), Dialect::new(18)).err(),
                Some(*err),
                "{wire:?}"
            );
        }
    }

    /// Fuzzing findings (`sb_command`): an unknown payload command wrote its length twice, and
    /// a zero-padded length (`005`) did not survive a round trip.
    #[test]
    fn unknown_payload_commands_round_trip() {
        let wire = b"NOT 5\r\nhello";
        let padded = parse(
            frame(b"NOT 005\r\nhello", Direction::FromServer),
            Dialect::new(15),
        );
        let command = parse(frame(wire, Direction::FromServer), Dialect::new(15)).expect("parses");
        assert_eq!(padded.as_ref(), Ok(&command), "the length is canonical");
        assert_eq!(
            command,
            SbCommand::Raw(RawCommand {
                verb: "NOT".into(),
                args: vec!["5".into()],
                payload: Some(b"hello".to_vec()),
            })
        );
        assert_eq!(encoded(&command), wire);
    }

    /// Fuzzing finding (`sb_command`): an address with an escaped `;` was written with a bare
    /// one, which MSNP16+ reads as the start of an endpoint.
    #[test]
    fn a_semicolon_in_an_address_stays_escaped() {
        let command = server("JOI car%3Bexample.com Carol 0", 18).expect("parses");
        let SbCommand::Joi(joi) = &command else {
            panic!("not JOI: {command:?}")
        };
        assert_eq!(joi.participant, Participant::new("car;example.com"));
        assert_eq!(encoded(&command), b"JOI car%3Bexample.com Carol 0\r\n");
        let usr = SbClientCommand::Usr {
            user: Participant::new("a;b@example.com"),
            cookie: Secret::new("c".into()),
        };
        let mut out = Vec::new();
        usr.encode(1, &mut out);
        assert_eq!(out, b"USR 1 a%3Bb@example.com c\r\n");
    }
}
