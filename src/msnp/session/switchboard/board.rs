//! One switchboard connection: how far it got, who is in it, what waits to be sent on it and
//! what waits for an `ACK`. Pure bookkeeping; the switchboards part in `protocol.rs` drives it.

use std::collections::VecDeque;
use std::time::Instant;

use crate::secret::Secret;
use crate::session::{ConnId, Output};
use crate::wire::sb::SbClientCommand;
use crate::wire::{Direction, Framer, Limits};

use super::outgoing::Outgoing;
use super::places::{bare, PlacesWait};
use super::{Conversation, Member, MAX_MEMBERS};

/// Largest command line accepted from a switchboard.
const MAX_LINE: usize = 8 * 1024;
/// Largest `MSG` payload accepted from a switchboard (clients send at most 1,664 bytes; the
/// margin is for lenient servers).
const MAX_PAYLOAD: usize = 64 * 1024;

/// Most P2P messages remembered as waiting for the switchboard's `ACK`.
const MAX_P2P_UNACKED: usize = 1024;

/// Identifies a board for the life of the session (connection ids change on retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct BoardId(pub(super) u64);

/// How far a board got.
#[derive(Debug)]
pub(super) enum Stage {
    /// `XFR SB` sent on the NS with this TrID; waiting for the switchboard's address.
    Requested { xfr: u32 },
    /// The NS refused the `XFR` for now (913 before our status was confirmed): ask again
    /// then.
    Waiting { until: Instant },
    /// Connecting; on connect send `USR` (no session id) or `ANS` (the `RNG`'s session id).
    Connecting {
        cookie: Secret<String>,
        session_id: Option<String>,
    },
    /// `USR` or `ANS` sent with this TrID.
    SigningIn { trid: u32, answering: bool },
    /// Signed in: `CAL`s and `MSG`s may go out.
    Ready,
}

/// What the board is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// A one-to-one conversation with this contact (lower-case e-mail).
    Im(String),
    /// A group chat.
    Chat(u32),
}

/// One switchboard session.
#[derive(Debug)]
pub(super) struct Board {
    pub(super) id: BoardId,
    pub(super) conn: Option<ConnId>,
    pub(super) stage: Stage,
    pub(super) kind: Kind,
    pub(super) framer: Framer,
    next_trid: u32,
    /// Contacts in the switchboard (not us), one entry per e-mail.
    pub(super) members: Vec<Member>,
    /// Contacts to `CAL` once signed in.
    pub(super) to_call: Vec<String>,
    /// `CAL`s in flight: TrID and whom.
    pub(super) calls: Vec<(u32, String)>,
    /// Messages waiting for someone to deliver them to, in order.
    pub(super) queue: VecDeque<Outgoing>,
    /// Messages sent with ack mode `A`, waiting for `ACK`: TrID, message, deadline.
    pub(super) unacked: Vec<(u32, Outgoing, Instant)>,
    /// P2P packets waiting for someone to deliver them to (sent with ack mode `D`), with the
    /// peer each is for.
    pub(super) p2p: VecDeque<(String, Vec<u8>)>,
    /// Opened by us only for P2P (a picture fetch) and not used for a conversation since: left
    /// once the peer has no P2P session left.
    pub(super) p2p_only: bool,
    /// Members' endpoints (MSNP16+): lower-case address and GUID without braces.
    endpoints: Vec<(String, String)>,
    /// Accounts we called (lower-case), whose places the first message waits for (MSNP16+).
    pub(super) rung: Vec<String>,
    /// Places that joined (MSNP16+): lower-case address and GUID without braces.
    pub(super) arrived: Vec<(String, String)>,
    /// Whether the messages still wait for places to join.
    pub(super) places_wait: PlacesWait,
    /// TrIDs of P2P messages sent and not yet acknowledged by the switchboard, oldest first
    /// (at most [`MAX_P2P_UNACKED`]).
    pub(super) p2p_unacked: VecDeque<u32>,
    /// Last time anything was sent or received.
    pub(super) active: Instant,
    /// Set-up must be done (signed in, and someone joined when messages wait) by then.
    pub(super) setup_deadline: Option<Instant>,
    /// Why set-up has not succeeded yet, for the user if it never does.
    pub(super) trouble: Option<String>,
    /// How often the NS refused this board's `XFR` with 913 (for the backoff).
    pub(super) refusals: u8,
}

impl Board {
    /// A board in its first stage.
    pub(super) fn new(id: BoardId, stage: Stage, kind: Kind, now: Instant) -> Board {
        Board {
            id,
            conn: None,
            stage,
            kind,
            framer: Framer::new(
                Direction::FromServer,
                Limits {
                    max_line: MAX_LINE,
                    max_payload: MAX_PAYLOAD,
                },
            ),
            next_trid: 1,
            members: Vec::new(),
            to_call: Vec::new(),
            calls: Vec::new(),
            queue: VecDeque::new(),
            unacked: Vec::new(),
            p2p: VecDeque::new(),
            p2p_only: false,
            endpoints: Vec::new(),
            rung: Vec::new(),
            arrived: Vec::new(),
            places_wait: PlacesWait::NotYet,
            p2p_unacked: VecDeque::new(),
            active: now,
            setup_deadline: Some(now + super::SETUP_TIMEOUT),
            trouble: None,
            refusals: 0,
        }
    }

    /// Encodes `command` with the next TrID and queues it on the board's connection (nothing is
    /// written before the connection exists); returns the TrID used.
    pub(super) fn send(&mut self, out: &mut VecDeque<Output>, command: &SbClientCommand) -> u32 {
        let trid = self.next_trid;
        if command.takes_trid() {
            self.next_trid = self.next_trid.wrapping_add(1).max(1);
        }
        if let Some(conn) = self.conn {
            let mut bytes = Vec::new();
            command.encode(trid, &mut bytes);
            out.push_back(Output::Send { conn, bytes });
        }
        trid
    }

    /// Records a P2P message sent with this TrID.
    pub(super) fn p2p_sent(&mut self, trid: u32) {
        if self.p2p_unacked.len() >= MAX_P2P_UNACKED {
            self.p2p_unacked.pop_front();
        }
        self.p2p_unacked.push_back(trid);
    }

    /// P2P messages queued or sent and not yet acknowledged.
    pub(super) fn p2p_in_flight(&self) -> usize {
        self.p2p.len() + self.p2p_unacked.len()
    }

    /// Whether messages can go out now: signed in and someone is there to receive them.
    pub(super) fn can_deliver(&self) -> bool {
        matches!(self.stage, Stage::Ready) && !self.members.is_empty()
    }

    /// The conversation the board's messages belong to.
    pub(super) fn conversation(&self) -> Conversation {
        match &self.kind {
            Kind::Im(peer) => Conversation::Im(peer.clone()),
            Kind::Chat(chat) => Conversation::Chat(*chat),
        }
    }

    /// Adds a member; false when already present (or the roster is full).
    pub(super) fn add_member(&mut self, email: &str, friendly: &str) -> bool {
        if self.has_member(email) {
            return false;
        }
        if self.members.len() >= MAX_MEMBERS {
            log::warn!("switchboard roster full; {email} not tracked");
            return false;
        }
        self.members.push(Member {
            email: email.to_ascii_lowercase(),
            friendly: friendly.to_owned(),
        });
        true
    }

    /// Notes the endpoint `guid` of `email` (MSNP16+): from the roster (`JOI`/`IRO`) only
    /// while none is known; from the member's `P2P-Src` always (it names the endpoint that
    /// talks P2P). Anything but a GUID is ignored.
    pub(super) fn note_endpoint(&mut self, email: &str, guid: &str, from_p2p: bool) {
        let guid = guid.trim_matches(|c| c == '{' || c == '}');
        let valid = guid.len() == 36 && guid.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        let email = email.to_ascii_lowercase();
        if !valid {
            return;
        }
        let full = self.endpoints.len() >= MAX_MEMBERS;
        match self.endpoints.iter_mut().find(|(e, _)| *e == email) {
            Some(entry) if from_p2p => entry.1 = guid.to_owned(),
            Some(_) => {}
            None if !full => self.endpoints.push((email, guid.to_owned())),
            None => {}
        }
    }

    /// Notes that the place `guid` of `email` joined (MSNP16+; our own places too).
    pub(super) fn place_joined(&mut self, email: &str, guid: &str) {
        let place = (email.to_ascii_lowercase(), bare(guid));
        if !self.arrived.contains(&place) && self.arrived.len() < MAX_MEMBERS {
            self.arrived.push(place);
        }
    }

    /// Whether a place of an account we called, among `places_of` it, has not joined yet.
    pub(super) fn place_missing<'a>(&self, places_of: impl Fn(&str) -> &'a [String]) -> bool {
        self.rung.iter().any(|email| {
            places_of(email)
                .iter()
                .any(|guid| !self.arrived.iter().any(|(e, g)| e == email && g == guid))
        })
    }

    /// `email;{guid}` for a member whose endpoint is known, else `email`.
    pub(super) fn p2p_address(&self, email: &str) -> String {
        match self
            .endpoints
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(email))
        {
            Some((e, guid)) => format!("{e};{{{guid}}}"),
            None => email.to_owned(),
        }
    }

    /// Removes a member; false when absent.
    pub(super) fn remove_member(&mut self, email: &str) -> bool {
        let before = self.members.len();
        self.members
            .retain(|m| !m.email.eq_ignore_ascii_case(email));
        self.members.len() != before
    }

    /// Whether `email` is in the switchboard.
    pub(super) fn has_member(&self, email: &str) -> bool {
        self.members
            .iter()
            .any(|m| m.email.eq_ignore_ascii_case(email))
    }

    /// Whether anything still waits to go out or to be acknowledged.
    pub(super) fn has_pending(&self) -> bool {
        !self.queue.is_empty() || !self.unacked.is_empty() || !self.p2p.is_empty()
    }

    /// The earliest deadline of this board: set-up, acknowledgements, idle close.
    pub(super) fn deadline(&self) -> Option<Instant> {
        let acks = self.unacked.iter().map(|(_, _, at)| *at).min();
        let idle = matches!(self.kind, Kind::Im(_)).then(|| self.active + super::IDLE_TIMEOUT);
        let retry = match self.stage {
            Stage::Waiting { until } => Some(until),
            _ => None,
        };
        let places = match self.places_wait {
            PlacesWait::Until(until) => Some(until),
            _ => None,
        };
        [self.setup_deadline, acks, idle, retry, places]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_unique_by_address_in_any_case() {
        let now = crate::test_time_origin();
        let mut b = Board::new(
            BoardId(1),
            Stage::Ready,
            Kind::Im("bob@example.com".into()),
            now,
        );
        assert!(b.add_member("Bob@Example.com", "Bob"));
        assert!(!b.add_member("bob@example.com", "Bob again"));
        assert!(b.has_member("BOB@EXAMPLE.COM"));
        assert!(b.can_deliver());
        assert!(b.remove_member("bob@example.com"));
        assert!(!b.remove_member("bob@example.com"));
        assert!(!b.can_deliver());
    }

    #[test]
    fn roster_is_bounded() {
        let now = crate::test_time_origin();
        let mut b = Board::new(BoardId(1), Stage::Ready, Kind::Chat(1), now);
        for i in 0..MAX_MEMBERS + 10 {
            b.add_member(&format!("user{i}@example.com"), "x");
        }
        assert_eq!(b.members.len(), MAX_MEMBERS);
    }

    #[test]
    fn trids_count_up_and_out_takes_none() {
        let now = crate::test_time_origin();
        let mut b = Board::new(BoardId(1), Stage::Ready, Kind::Chat(1), now);
        b.conn = Some(ConnId(7));
        let mut out = VecDeque::new();
        let cal = SbClientCommand::Cal {
            email: "bob@example.com".into(),
        };
        assert_eq!(b.send(&mut out, &cal), 1);
        assert_eq!(b.send(&mut out, &cal), 2);
        b.send(&mut out, &SbClientCommand::Out);
        assert_eq!(b.send(&mut out, &cal), 3);
        let lines: Vec<String> = out
            .iter()
            .map(|o| match o {
                Output::Send { conn, bytes } => {
                    assert_eq!(*conn, ConnId(7));
                    String::from_utf8_lossy(bytes).into_owned()
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            lines,
            [
                "CAL 1 bob@example.com\r\n",
                "CAL 2 bob@example.com\r\n",
                "OUT\r\n",
                "CAL 3 bob@example.com\r\n"
            ]
        );
    }
}
