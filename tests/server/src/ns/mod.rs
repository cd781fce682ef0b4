//! The notification server: one [`Session`] per connection, dispatching on the verb to the
//! handlers in the sibling files, the way Escargot answers (docs/protocol.md §1-§4, transcripts).

mod challenge;
mod endpoints;
mod list_edit;
mod lists;
mod login;
mod negotiation;
mod presence;
mod relay;
mod signin;
mod switchboard;

pub(crate) use lists::{list_add, list_remove, ListError};
pub(crate) use presence::Outbox;
pub(crate) use signin::TICKET_SUFFIX;
pub(crate) use switchboard::{notify, ring};

use crate::conn::Conn;
use crate::listener::POLL;
use crate::shared::Shared;
use crate::strict::TrIds;
use crate::transcript::Service;
use crate::wire::{Command, Framer};
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whether the connection stays open after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Keep reading.
    Continue,
    /// Close the connection now.
    Close,
}

/// Progress of `USR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    /// No `USR ... I` yet.
    None,
    /// `USR TWN I` answered.
    Twn { email: String },
    /// `USR SSO I` answered with this nonce.
    Sso { email: String, nonce: String },
    /// Signed in.
    Done { email: String },
}

/// One NS connection's state.
pub(crate) struct Session {
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    peer: SocketAddr,
    /// This is the first NS of a `redirect_first` pair: it answers `USR ... I` with `XFR`.
    redirector: bool,
    dialect: Option<u32>,
    auth: Auth,
    machine_guid: Option<String>,
    syn_done: bool,
    chg_seen: bool,
    /// Pending `CHL` challenge and its deadline.
    challenge: Option<(String, Instant)>,
    /// Barriers the pending challenge's right answer releases.
    barriers: Vec<std::sync::mpsc::Sender<()>>,
    /// The connection's TrIDs so far.
    trids: TrIds,
}

/// Serves one NS connection until either side closes or the server stops.
pub(crate) fn serve(shared: Arc<Shared>, stream: TcpStream, redirector: bool) {
    shared
        .counters
        .ns_connections
        .fetch_add(1, Ordering::SeqCst);
    let Ok(peer) = stream.peer_addr() else { return };
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let _ = writer.set_write_timeout(Some(Duration::from_secs(5)));
    let conn = Arc::new(
        Conn::new(
            shared.next_conn_id(),
            Service::Ns,
            writer,
            shared.transcript.clone(),
        )
        .with_faults(shared.faults.clone()),
    );
    shared.track(conn.clone());
    let mut session = Session {
        shared,
        conn,
        peer,
        redirector,
        dialect: None,
        auth: Auth::None,
        machine_guid: None,
        syn_done: false,
        chg_seen: false,
        challenge: None,
        barriers: Vec::new(),
        trids: TrIds::default(),
    };
    session.run(stream);
    session.signed_out();
    session.shared.directory().remove_session(session.conn.id);
}

impl Session {
    fn run(&mut self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(POLL));
        let mut framer = Framer::default();
        let mut buf = [0u8; 4096];
        while !self.shared.stopping() && !self.conn.is_closed() {
            match stream.read(&mut buf) {
                Ok(0) => {
                    self.conn.log_client_closed();
                    return;
                }
                Ok(n) => framer.push(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    self.conn.log_client_closed();
                    return;
                }
            }
            loop {
                match framer.next_command() {
                    Ok(Some(cmd)) => {
                        if self.step(cmd) == Flow::Close {
                            self.conn.close();
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        log::info!("conn {}: framing error {e:?}, closing", self.conn.id);
                        self.conn.close();
                        return;
                    }
                }
            }
            if self.tick(Instant::now()) == Flow::Close {
                self.conn.close();
                return;
            }
        }
    }

    /// Logs one command, applies the fault switches and dispatches it.
    fn step(&mut self, cmd: Command) -> Flow {
        self.conn.log_received(&cmd.line, cmd.payload.as_deref());
        if let Err(e) = self.trids.check(&cmd) {
            self.shared
                .violation(format!("NS conn {}: {e}", self.conn.id));
        }
        let cfg = &self.shared.config;
        if cfg.drop_after.as_deref() == Some(cmd.verb.as_str()) {
            return Flow::Close;
        }
        if let Some((verb, pause)) = &cfg.delay {
            if *verb == cmd.verb {
                std::thread::sleep(*pause);
            }
        }
        let garbage = cfg
            .garbage_after
            .as_ref()
            .filter(|(verb, _)| *verb == cmd.verb)
            .map(|(_, bytes)| bytes.clone());
        let flow = self.dispatch(&cmd);
        if let Some(bytes) = garbage {
            self.conn.send_raw(&bytes);
        }
        if flow == Flow::Continue && self.signed_in() && self.shared.faults.ns_drop() {
            log::info!("conn {}: fault injected, dropping the NS", self.conn.id);
            return Flow::Close;
        }
        flow
    }

    fn dispatch(&mut self, cmd: &Command) -> Flow {
        let verb = cmd.verb.as_str();
        let Some(dialect) = self.dialect else {
            // Escargot expects VER first and drops anything else.
            return if verb == "VER" {
                self.handle_ver(cmd)
            } else {
                Flow::Close
            };
        };
        match (verb, self.signed_in()) {
            ("VER", _) => self.handle_ver(cmd),
            ("CVR", _) => self.handle_cvr(cmd),
            ("USR", _) => self.handle_usr(cmd),
            ("OUT", _) => Flow::Close,
            ("SYN", false) => Flow::Continue,
            (_, false) => Flow::Close,
            ("PNG", true) => self.handle_png(),
            ("CHG", true) => self.handle_chg(cmd),
            ("UUX", true) if dialect >= 11 => self.handle_uux(cmd),
            ("PRP", true) => self.handle_prp(cmd),
            ("BLP", true) => self.handle_blp(cmd),
            ("SYN", true) => self.handle_syn(cmd),
            ("GCF", true) => self.handle_gcf(cmd),
            ("ADL", true) if dialect >= 13 => self.handle_adl(cmd),
            ("RML", true) if dialect >= 13 => self.handle_rml(cmd),
            ("FQY", true) if dialect >= 13 => self.handle_fqy(cmd),
            ("ADC", true) => self.handle_adc(cmd),
            ("ADD", true) => self.handle_add(cmd),
            ("REM", true) => self.handle_rem(cmd),
            ("ADG", true) => self.handle_adg(cmd),
            ("RMG", true) => self.handle_rmg(cmd),
            ("REG", true) => self.handle_reg(cmd),
            ("SBP", true) => self.handle_sbp(cmd),
            ("REA", true) => self.handle_rea(cmd),
            ("GTC", true) => self.handle_gtc(cmd),
            ("QRY", true) => self.handle_qry(cmd),
            ("XFR", true) => self.handle_xfr(cmd),
            ("UUN", true) => self.handle_uun(cmd),
            _ => {
                log::info!("conn {}: ignoring {}", self.conn.id, cmd.line);
                self.shared.violation(format!(
                    "NS conn {} (MSNP{dialect}): unknown command {}",
                    self.conn.id, cmd.line
                ));
                Flow::Continue
            }
        }
    }

    /// Timers: the `CHL` deadline; a challenge for barriers that asked for one.
    fn tick(&mut self, now: Instant) -> Flow {
        if self.challenge.is_none() && self.signed_in() {
            let waiting = self.conn.take_syncs();
            if !waiting.is_empty() {
                self.barriers = waiting;
                self.send_challenge(now);
            }
        }
        match &self.challenge {
            Some((_, deadline)) if now >= *deadline => {
                self.challenge = None;
                self.conn.send("540 0");
                Flow::Close
            }
            _ => Flow::Continue,
        }
    }

    fn signed_in(&self) -> bool {
        matches!(self.auth, Auth::Done { .. })
    }

    /// The negotiated dialect (0 before `VER`).
    fn dialect(&self) -> u32 {
        self.dialect.unwrap_or(0)
    }

    /// The signed-in user's email.
    fn email(&self) -> Option<&str> {
        match &self.auth {
            Auth::Done { email } => Some(email),
            _ => None,
        }
    }

    /// Sends `<code> <trid>`.
    fn error(&self, code: u16, cmd: &Command) {
        self.conn
            .send(&format!("{code} {}", cmd.trid().unwrap_or("0")));
    }
}
