//! One switchboard connection: sign-in with a cookie, then `CAL`, `MSG` and `OUT`.

use super::chat::{bye_lines, iro_lines, joi_lines};
use super::{Member, MAX_MSG_PAYLOAD};
use crate::conn::Conn;
use crate::faults::SbFault;
use crate::listener::POLL;
use crate::shared::Shared;
use crate::strict::TrIds;
use crate::transcript::Service;
use crate::wire::{percent_decode, percent_encode, Command, Framer};
use std::io::Read;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A client must sign in (`USR` or `ANS`) this soon after connecting.
const AUTH_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether the connection stays open after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

/// Who is signed in on this connection, and where.
#[derive(Debug, Clone)]
struct Seat {
    session_id: String,
    me: Member,
}

struct SbSession {
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    opened: Instant,
    seat: Option<Seat>,
    trids: TrIds,
}

/// Serves one switchboard connection until either side closes or the server stops.
pub(crate) fn serve(shared: Arc<Shared>, stream: TcpStream) {
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let _ = writer.set_write_timeout(Some(Duration::from_secs(5)));
    let conn = Arc::new(
        Conn::new(
            shared.next_conn_id(),
            Service::Sb,
            writer,
            shared.transcript.clone(),
        )
        .with_faults(shared.faults.clone()),
    );
    shared.track(conn.clone());
    let mut session = SbSession {
        shared,
        conn,
        opened: Instant::now(),
        seat: None,
        trids: TrIds::default(),
    };
    session.run(stream);
    session.leave();
}

impl SbSession {
    fn run(&mut self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(POLL));
        let mut framer = Framer::default();
        let mut buf = [0u8; 4096];
        while !self.shared.stopping() && !self.conn.is_closed() {
            match stream.read(&mut buf) {
                Ok(0) => return self.conn.log_client_closed(),
                Ok(n) => framer.push(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return self.conn.log_client_closed(),
            }
            loop {
                match framer.next_command() {
                    Ok(Some(cmd)) => {
                        self.conn.log_received(&cmd.line, cmd.payload.as_deref());
                        if let Err(e) = self.trids.check(&cmd) {
                            self.shared
                                .violation(format!("SB conn {}: {e}", self.conn.id));
                        }
                        if self.step(&cmd) == Flow::Close {
                            return self.conn.close();
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        log::info!("sb conn {}: framing error {e:?}, closing", self.conn.id);
                        return self.conn.close();
                    }
                }
            }
            if self.seat.is_none() && self.opened.elapsed() >= AUTH_TIMEOUT {
                return self.conn.close();
            }
        }
    }

    fn step(&mut self, cmd: &Command) -> Flow {
        match (cmd.verb.as_str(), self.seat.is_some()) {
            ("USR", false) => self.usr(cmd),
            ("ANS", false) => self.ans(cmd),
            ("CAL", true) => self.cal(cmd),
            ("MSG", true) => self.msg(cmd),
            ("OUT", _) => Flow::Close,
            (_, false) => Flow::Close,
            _ => {
                log::info!("sb conn {}: ignoring {}", self.conn.id, cmd.line);
                self.shared.violation(format!(
                    "SB conn {}: unknown command {}",
                    self.conn.id, cmd.line
                ));
                Flow::Continue
            }
        }
    }

    /// `USR <trid> <email>[;{guid}] <cookie>`: a new session for the holder of an `XFR` cookie.
    fn usr(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(user), Some(cookie)) = (cmd.trid(), cmd.arg(1), cmd.arg(2)) else {
            return Flow::Close;
        };
        let (email, endpoint) = split_user(user);
        let Some(ticket) = self.shared.sb.redeem(cookie, &email, None) else {
            self.conn.send(&format!("911 {trid}"));
            return Flow::Close;
        };
        let Some(me) = self.member(&email, endpoint, ticket.dialect, &ticket.caps) else {
            return Flow::Close;
        };
        let session_id = crate::crypto::random_hex(31);
        self.shared.sb.join(&session_id, me.clone());
        self.conn.send(&format!(
            "USR {trid} OK {user} {}",
            percent_encode(&me.friendly)
        ));
        self.seat = Some(Seat { session_id, me });
        Flow::Continue
    }

    /// `ANS <trid> <email>[;{guid}] <cookie> <session>`: joins the session of a `RNG`.
    fn ans(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(user), Some(cookie), Some(sid)) =
            (cmd.trid(), cmd.arg(1), cmd.arg(2), cmd.arg(3))
        else {
            return Flow::Close;
        };
        let (email, endpoint) = split_user(user);
        let Some(ticket) = self.shared.sb.redeem(cookie, &email, Some(sid)) else {
            self.conn.send(&format!("911 {trid}"));
            return Flow::Close;
        };
        let Some(me) = self.member(&email, endpoint, ticket.dialect, &ticket.caps) else {
            return Flow::Close;
        };
        // As on Escargot, which handles one command at a time, no message relayed in the session
        // reaches the joiner before its roster and `ANS OK`.
        let before = self.shared.sb.join_with(sid, me.clone(), |before| {
            for line in iro_lines(trid, before, me.dialect) {
                self.conn.send(&line);
            }
            self.conn.send(&format!("ANS {trid} OK"));
        });
        let first = !before.iter().any(|m| m.email.eq_ignore_ascii_case(&email));
        for other in &before {
            for line in joi_lines(&me, other.dialect, first) {
                other.conn.send(&line);
            }
        }
        if me.dialect >= 16 {
            // Escargot also announces the joiner to itself, by its bare address.
            for line in joi_lines(&me, me.dialect, true).into_iter().skip(1) {
                self.conn.send(&line);
            }
        }
        self.seat = Some(Seat {
            session_id: sid.to_owned(),
            me,
        });
        Flow::Continue
    }

    /// `CAL <trid> <email>`: rings the contact's NS sessions; 215 when already there, 217 when
    /// offline, unknown, or on the caller's list without the forward-list bit.
    fn cal(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(target), Some(seat)) = (cmd.trid(), cmd.arg(1), &self.seat) else {
            return Flow::Close;
        };
        let target = percent_decode(target).to_ascii_lowercase();
        let session_id = seat.session_id.clone();
        let me = seat.me.clone();
        let members = self.shared.sb.members(&session_id);
        if target.eq_ignore_ascii_case(&me.email) {
            // MSNP16+ clients call themselves to pull in their other endpoints.
            self.conn.send(&format!("CAL {trid} RINGING {session_id}"));
            return Flow::Continue;
        }
        if members
            .iter()
            .any(|m| m.email.eq_ignore_ascii_case(&target))
        {
            self.conn.send(&format!("215 {trid}"));
            return Flow::Continue;
        }
        let (allowed, sessions) = {
            let directory = self.shared.directory();
            let not_forward = directory.user(&me.email).is_some_and(|u| {
                u.contacts
                    .iter()
                    .any(|c| c.email.eq_ignore_ascii_case(&target) && c.lists & 1 == 0)
            });
            // Invisible sessions cannot be called; one without a presence record yet can.
            let sessions: Vec<_> = directory
                .sessions_of(&target)
                .into_iter()
                .filter(|s| {
                    directory
                        .online(s.conn.id)
                        .is_none_or(|o| o.status.as_deref().is_none_or(|status| status != "HDN"))
                })
                .collect();
            (directory.user(&target).is_some() && !not_forward, sessions)
        };
        if !allowed || sessions.is_empty() {
            self.conn.send(&format!("217 {trid}"));
            return Flow::Continue;
        }
        if self.shared.sb.take_silent_call(&me.email) {
            self.conn.send(&format!("CAL {trid} RINGING {session_id}"));
            return Flow::Continue;
        }
        for session in sessions {
            crate::ns::ring(&self.shared, &session, &session_id, &me.email, &me.friendly);
        }
        self.conn.send(&format!("CAL {trid} RINGING {session_id}"));
        Flow::Continue
    }

    /// `MSG <trid> <U|N|A|D> <len>`: relayed byte for byte to everyone else.
    fn msg(&mut self, cmd: &Command) -> Flow {
        let (Some(trid), Some(ack), Some(payload), Some(seat)) =
            (cmd.trid(), cmd.arg(1), cmd.payload.as_deref(), &self.seat)
        else {
            return Flow::Close;
        };
        if payload.len() > MAX_MSG_PAYLOAD || !matches!(ack, "U" | "N" | "A" | "D") {
            return Flow::Close;
        }
        let head = payload.get(..payload.len().min(512)).unwrap_or_default();
        let p2p = String::from_utf8_lossy(head)
            .to_ascii_lowercase()
            .contains("content-type: application/x-msnmsgrp2p");
        if p2p && ack != "D" {
            return Flow::Close;
        }
        if p2p && payload.windows(15).any(|w| w == b"INVITE MSNMSGR:") {
            self.shared
                .counters
                .p2p_invites
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        if p2p && is_file_data(payload) {
            self.shared
                .counters
                .p2p_file_data
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        if self.shared.sb.take_drop(&seat.me.email) {
            log::info!(
                "sb conn {}: dropping a message and the connection",
                self.conn.id
            );
            return Flow::Close;
        }
        if self.shared.sb.take_hold(&seat.me.email) {
            log::info!("sb conn {}: holding a message unacknowledged", self.conn.id);
            return Flow::Continue;
        }
        let fault = match p2p {
            true => None,
            false => self.shared.faults.sb_message(),
        };
        if fault == Some(SbFault::DropBefore) {
            log::info!("sb conn {}: fault injected, message dropped", self.conn.id);
            return Flow::Close;
        }
        let line = format!(
            "MSG {} {} {}",
            seat.me.email,
            percent_encode(&seat.me.friendly),
            payload.len()
        );
        for other in self.shared.sb.members(&seat.session_id) {
            if other.conn.id != self.conn.id {
                other.conn.send_with_payload(&line, payload);
            }
        }
        if fault == Some(SbFault::DropAfter) {
            log::info!(
                "sb conn {}: fault injected, closed before ACK",
                self.conn.id
            );
            return Flow::Close;
        }
        if matches!(ack, "A" | "D") {
            self.conn.send(&format!("ACK {trid}"));
        }
        Flow::Continue
    }

    /// Leaves the session: the others get `BYE`.
    fn leave(&mut self) {
        let Some(seat) = self.seat.take() else {
            return;
        };
        let left = self.shared.sb.leave(&seat.session_id, self.conn.id);
        let last = !left
            .iter()
            .any(|m| m.email.eq_ignore_ascii_case(&seat.me.email));
        for other in &left {
            for line in bye_lines(&seat.me, other.dialect, last) {
                other.conn.send(&line);
            }
        }
    }

    /// A member record for `email` on this connection.
    fn member(
        &self,
        email: &str,
        endpoint: Option<String>,
        dialect: u32,
        caps: &str,
    ) -> Option<Member> {
        let user = self.shared.directory().user(email).cloned()?;
        Some(Member {
            email: user.email,
            endpoint: endpoint.filter(|_| dialect >= 16),
            friendly: user.friendly,
            caps: caps.to_owned(),
            dialect,
            conn: self.conn.clone(),
        })
    }
}

/// `email` or `email;{guid}` as (e-mail, GUID without braces).
fn split_user(user: &str) -> (String, Option<String>) {
    let user = percent_decode(user);
    match user.split_once(';') {
        Some((email, guid)) => (
            email.to_owned(),
            Some(guid.trim_matches(|c| c == '{' || c == '}').to_owned()),
        ),
        None => (user, None),
    }
}

/// Whether a P2P payload's packet carries file data: a session id, a payload and footer 2
/// (the application id of file transfers).
fn is_file_data(payload: &[u8]) -> bool {
    let Some(at) = payload.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let packet = &payload[at + 4..];
    if packet.len() < 52 {
        return false;
    }
    let word =
        |i: usize| u32::from_le_bytes([packet[i], packet[i + 1], packet[i + 2], packet[i + 3]]);
    let footer = &packet[packet.len() - 4..];
    word(0) != 0 && word(24) != 0 && footer == [0, 0, 0, 2]
}
