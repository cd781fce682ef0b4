//! Typed server → client notification-server commands and [`parse`].

use super::args::{number, split_line, Args, ParseError};
use super::framer::Frame;
use super::ns_list::{
    Adc, Add, Adg, Blp, Bpr, Fqy, Gtc, ListUpdate, Lsg, Lst, Prp, Reg, Rem, Rmg, Syn,
};
use super::ns_presence::{Chg, Fln, Iln, Not, Presence, Rng, Ubn, Ubx};
use super::ns_session::{Ack, Chl, Cvr, Gcf, Inf, Msg, Out, Qng, Sbs, Usr, Ver, Xfr};
use super::server_error::ServerError;
use crate::dialect::Dialect;

/// A command whose verb this codec does not know, with its arguments percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommand {
    /// The three-letter verb.
    pub verb: String,
    /// The arguments (a payload length included), percent-decoded.
    pub args: Vec<String>,
    /// The payload, if the framer found one.
    pub payload: Option<Vec<u8>>,
}

/// A command received from the notification server. Each variant's documentation gives its
/// wire syntax; the shapes that differ between protocol versions are told apart by the version
/// passed to [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NsCommand {
    /// `VER <trid> MSNPn` (or `0`).
    Ver(Ver),
    /// `CVR <trid> <recommended> <recommended> <minimum> <download-url> <info-url>`.
    Cvr(Cvr),
    /// `INF <trid> MD5` (MSNP2–7).
    Inf(Inf),
    /// `USR <trid> TWN S <challenge>` | `MD5 S <salt>` | `SSO S <policy> <nonce>` | `OK <email> …`.
    Usr(Usr),
    /// `XFR <trid> NS <host:port> …` | `XFR <trid> SB <host:port> CKI <cookie> …`.
    Xfr(Xfr),
    /// `CHL <trid> <challenge>`.
    Chl(Chl),
    /// `QNG [<seconds>]`.
    Qng(Qng),
    /// `OUT [OTH|SSD|…]`.
    Out(Out),
    /// `SBS <trid> <value>`.
    Sbs(Sbs),
    /// `MSG <from> <friendly> <len>` + MIME payload.
    Msg(Msg),
    /// `GCF <trid> [<file>] <len>` + XML payload.
    Gcf(Gcf),
    /// `UUX <trid> 0`: personal message stored.
    Uux(Ack),
    /// `QRY <trid>`: challenge answer accepted.
    Qry(Ack),
    /// `UUN <trid> OK`: notification delivered.
    Uun(Ack),
    /// `SYN <trid> <version> [<contacts> <groups>]`.
    Syn(Syn),
    /// `GTC [<trid> [<serial>]] A|N`.
    Gtc(Gtc),
    /// `BLP [<trid> [<serial>]] AL|BL`.
    Blp(Blp),
    /// `PRP [<trid> [<serial>]] <property> [<value>]`.
    Prp(Prp),
    /// `BPR <property> [<value>]`.
    Bpr(Bpr),
    /// `LSG <id> <name> 0` (MSNP8/9) | `LSG <name> <guid>` (MSNP10+).
    Lsg(Lsg),
    /// `LST <email> <friendly> <lists> [<groups>]` (MSNP8/9) |
    /// `LST N=<email> [F=…] [C=…] <lists> [<n>] [<groups>]` (MSNP10+).
    Lst(Lst),
    /// `ADC <trid> <list> [N=…] [F=…] [C=…] [<group>]`.
    Adc(Adc),
    /// `ADD <trid> <list> <serial> <email> <friendly> [<group>]`.
    Add(Add),
    /// `REM <trid> <list> [<serial>] <contact> [<group>]`.
    Rem(Rem),
    /// `ADG <trid> [<serial>] <name> <id> [0]`.
    Adg(Adg),
    /// `RMG <trid> [<serial>] <id>`.
    Rmg(Rmg),
    /// `REG <trid> [<serial>] <id> <name> [0]` (and Escargot's `REG <trid> 1 <name> <guid> 0`).
    Reg(Reg),
    /// `ADL <trid> OK` | `ADL 0 <len>` + `<ml>`.
    Adl(ListUpdate),
    /// `RML <trid> OK` | `RML 0 <len>` + `<ml>`.
    Rml(ListUpdate),
    /// `FQY <trid> <len>` + `<ml>`.
    Fqy(Fqy),
    /// `CHG <trid> <status> [<caps>] [<msnobj>]`.
    Chg(Chg),
    /// `ILN <trid> <status> <contact> [<nid>] <friendly> [<caps>] [<msnobj>]`.
    Iln(Iln),
    /// `NLN <status> <contact> [<nid>] <friendly> [<caps>] [<msnobj>]`.
    Nln(Presence),
    /// `FLN <contact> [<nid>] [<caps>]`.
    Fln(Fln),
    /// `UBX <contact> [<nid>] <len>` + `<Data>`.
    Ubx(Ubx),
    /// `UBN <contact> <type> <len>` + payload.
    Ubn(Ubn),
    /// `NOT <len>` + XML.
    Not(Not),
    /// `RNG <session> <host:port> CKI <cookie> <inviter> <friendly> …`.
    Rng(Rng),
    /// `NNN [<trid>]`: a numeric error replacing the reply to the command with that TrID.
    Error(ServerError),
    /// Any other verb.
    Raw(RawCommand),
}

/// Parses a frame received from the notification server in `dialect` (shapes that differ
/// between versions are read accordingly).
///
/// Never panics. Trailing arguments beyond those a command defines are ignored, since newer
/// servers append tokens; anything malformed is a [`ParseError`].
pub fn parse(frame: Frame, dialect: Dialect) -> Result<NsCommand, ParseError> {
    let Frame { line, mut payload } = frame;
    let (verb, mut args) = split_line(&line)?;
    let args = &mut args;
    let p = &mut payload;
    let command = match verb {
        "VER" => NsCommand::Ver(Ver::parse(args)?),
        "CVR" => NsCommand::Cvr(Cvr::parse(args)?),
        "INF" => NsCommand::Inf(Inf::parse(args)?),
        "USR" => NsCommand::Usr(Usr::parse(args, dialect)?),
        "XFR" => NsCommand::Xfr(Xfr::parse(args)?),
        "CHL" => NsCommand::Chl(Chl::parse(args)?),
        "QNG" => NsCommand::Qng(Qng::parse(args)?),
        "OUT" => NsCommand::Out(Out::parse(args)?),
        "SBS" => NsCommand::Sbs(Sbs::parse(args)?),
        "MSG" => NsCommand::Msg(Msg::parse(args, p)?),
        "GCF" => NsCommand::Gcf(Gcf::parse(args, p)?),
        "UUX" => NsCommand::Uux(Ack::parse(args)?),
        "QRY" => NsCommand::Qry(Ack::parse(args)?),
        "UUN" => NsCommand::Uun(Ack::parse(args)?),
        "SYN" => NsCommand::Syn(Syn::parse(args, dialect)?),
        "GTC" => NsCommand::Gtc(Gtc::parse(args)?),
        "BLP" => NsCommand::Blp(Blp::parse(args)?),
        "PRP" => NsCommand::Prp(Prp::parse(args, dialect)?),
        "BPR" => NsCommand::Bpr(Bpr::parse(args)?),
        "LSG" => NsCommand::Lsg(Lsg::parse(args, dialect)?),
        "LST" => NsCommand::Lst(Lst::parse(args, dialect)?),
        "ADC" => NsCommand::Adc(Adc::parse(args)?),
        "ADD" => NsCommand::Add(Add::parse(args)?),
        "REM" => NsCommand::Rem(Rem::parse(args, dialect)?),
        "ADG" => NsCommand::Adg(Adg::parse(args, dialect)?),
        "RMG" => NsCommand::Rmg(Rmg::parse(args)?),
        "REG" => NsCommand::Reg(Reg::parse(args, dialect)?),
        "ADL" => NsCommand::Adl(ListUpdate::parse(args, p)?),
        "RML" => NsCommand::Rml(ListUpdate::parse(args, p)?),
        "FQY" => NsCommand::Fqy(Fqy::parse(args, p)?),
        "CHG" => NsCommand::Chg(Chg::parse(args)?),
        "ILN" => NsCommand::Iln(Iln::parse(args, dialect)?),
        "NLN" => NsCommand::Nln(Presence::parse(args, dialect)?),
        "FLN" => NsCommand::Fln(Fln::parse(args, dialect)?),
        "UBX" => NsCommand::Ubx(Ubx::parse(args, p, dialect)?),
        "UBN" => NsCommand::Ubn(Ubn::parse(args, p)?),
        "NOT" => NsCommand::Not(Not::parse(args, p)?),
        "RNG" => NsCommand::Rng(Rng::parse(args)?),
        _ if verb.bytes().all(|b| b.is_ascii_digit()) => {
            let code = verb.parse().map_err(|_| ParseError::InvalidVerb)?;
            NsCommand::Error(ServerError {
                code,
                trid: args.opt_number(),
            })
        }
        _ => {
            let mut decoded = Vec::with_capacity(args.remaining());
            while let Some(arg) = args.opt_text() {
                decoded.push(arg);
            }
            return Ok(NsCommand::Raw(RawCommand {
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

/// Takes the payload of a payload command, checking it against the length in the last token
/// (which is consumed).
pub(crate) fn take_payload(
    args: &mut Args,
    payload: &mut Option<Vec<u8>>,
) -> Result<Vec<u8>, ParseError> {
    let announced = number(args.pop_last()?)?;
    let payload = payload.take().ok_or(ParseError::MissingPayload)?;
    if usize::try_from(announced).ok() != Some(payload.len()) {
        return Err(ParseError::PayloadLengthMismatch);
    }
    Ok(payload)
}
