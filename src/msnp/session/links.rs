//! Direct connections of file transfers (the P2P part's `upgrade`), as connections of the
//! session: each link's sockets get connection ids, asked for with [`Output::Listen`],
//! [`Output::Connect`], [`Output::Send`] and [`Output::Close`], and reported through the
//! same `handle_*` calls as the server connections (plus [`Session::handle_listening`] and
//! [`Session::handle_drained`]).

use core::net::Ipv4Addr;
use std::time::Instant;

use rand_chacha::rand_core::RngCore;

use crate::p2p::{DirectOutput, LinkId};
use crate::session::cx::Cx;
use crate::session::pictures::Pictures;
use crate::session::{p2p_send, ConnId, Output, Session};

/// The connection id of each link's socket.
#[derive(Debug, Default)]
pub(super) struct Links {
    map: Vec<(ConnId, LinkId)>,
}

impl Links {
    fn link(&self, conn: ConnId) -> Option<LinkId> {
        self.map.iter().find(|(c, _)| *c == conn).map(|&(_, l)| l)
    }

    fn conn(&self, link: LinkId) -> Option<ConnId> {
        self.map.iter().find(|(_, l)| *l == link).map(|&(c, _)| c)
    }

    /// A fresh connection id for `link` (a new socket).
    fn open(&mut self, cx: &mut Cx, link: LinkId) -> ConnId {
        self.map.retain(|(_, l)| *l != link);
        let conn = cx.conn_id();
        self.map.push((conn, link));
        conn
    }
}

impl Pictures {
    /// Whether `conn` is a direct connection's socket.
    pub(super) fn owns_link(&self, conn: ConnId) -> bool {
        self.links.link(conn).is_some()
    }

    /// Turns what the P2P part asks for direct connections into outputs; true when any.
    pub(super) fn links_pump(&mut self, cx: &mut Cx, now: Instant) -> bool {
        let mut busy = false;
        while let Some(out) = self.p2p.poll_direct(now) {
            busy = true;
            let output = match out {
                DirectOutput::Listen { link } => Output::Listen {
                    conn: self.links.open(cx, link),
                },
                DirectOutput::Connect { link, addr } => Output::Connect {
                    conn: self.links.open(cx, link),
                    host: addr.ip().to_string(),
                    port: addr.port(),
                },
                DirectOutput::Send { link, bytes } => match self.links.conn(link) {
                    Some(conn) => Output::Send { conn, bytes },
                    None => continue,
                },
                DirectOutput::Close { link } => match self.links.conn(link) {
                    Some(conn) => {
                        self.links.map.retain(|(c, _)| *c != conn);
                        Output::Close { conn }
                    }
                    None => continue,
                },
            };
            cx.output(output);
        }
        busy
    }
}

/// Direct connections, as the driver reports them.
impl Session {
    /// Whether file transfers try direct connections with the contact.
    pub fn set_direct_transfers(&mut self, on: bool) {
        self.pictures.p2p.set_direct(on);
    }

    /// Whether `conn` is a direct connection's socket (whose driver reports
    /// [`Session::handle_drained`]).
    pub fn is_direct(&self, conn: ConnId) -> bool {
        self.pictures.owns_link(conn)
    }

    /// The listening socket asked for with [`Output::Listen`] is bound to `port` on
    /// `addresses` (or could not be opened).
    pub fn handle_listening(
        &mut self,
        conn: ConnId,
        bound: Result<(Vec<Ipv4Addr>, u16), String>,
        now: Instant,
    ) {
        self.with_link(conn, now, |p2p, link, rng| {
            p2p.direct_listening(link, bound, rng)
        });
    }

    /// Everything written to `conn` so far has gone out.
    pub fn handle_drained(&mut self, conn: ConnId, now: Instant) {
        self.with_link(conn, now, |p2p, link, _| p2p.direct_drained(link));
    }

    /// A direct connection's socket connected (ours, or the peer's on our listening socket).
    pub(super) fn link_connected(&mut self, conn: ConnId, now: Instant) {
        self.with_link(conn, now, |p2p, link, _| p2p.direct_connected(link));
    }

    /// Bytes on a direct connection's socket.
    pub(super) fn link_bytes(&mut self, conn: ConnId, bytes: &[u8], now: Instant) {
        self.with_link(conn, now, |p2p, link, rng| {
            p2p.direct_bytes(link, bytes, now, rng)
        });
    }

    /// A direct connection's socket failed or closed.
    pub(super) fn link_lost(&mut self, conn: ConnId, text: &str, now: Instant) {
        log::info!("direct connection {conn:?} lost: {text}");
        self.with_link(conn, now, |p2p, link, rng| p2p.direct_lost(link, rng));
    }

    /// Runs `op` on the link of `conn` with the session's random numbers, then sends and
    /// reports what the P2P part produced.
    fn with_link(
        &mut self,
        conn: ConnId,
        now: Instant,
        op: impl FnOnce(&mut crate::p2p::P2p, LinkId, &mut dyn FnMut() -> u32),
    ) {
        if self.ended {
            return;
        }
        let Some(link) = self.pictures.links.link(conn) else {
            return;
        };
        let rng = &mut self.rng;
        op(&mut self.pictures.p2p, link, &mut || rng.next_u32());
        let mut send = p2p_send(&mut self.switchboards, now);
        self.pictures.run(&mut cx!(self), now, &mut send);
    }
}
