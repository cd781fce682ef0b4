//! File transfers with contacts over their switchboard, run by the P2P layer (the P2P part's
//! `file` module does the protocol). Data chunks go out only while the switchboard carrying
//! them has fewer than a window of P2P messages waiting for its `ACK`, so a file is read from
//! disk as fast as the switchboard takes it and never piles up in memory. A transfer whose
//! switchboard is lost, or whose contact leaves it or goes offline, fails. Where both sides
//! allow it the data goes over a direct connection instead (`links`).

use std::time::Instant;

use rand_chacha::rand_core::RngCore;

use crate::p2p::{FileEvent, P2p, RequestError, TransferId};
use crate::session::cx::Cx;
use crate::session::pictures::{p2p_send, P2pSend, Pictures};
use crate::session::Event;

impl Pictures {
    /// Sets the largest file offered or accepted (larger offers are refused).
    pub(super) fn set_file_size_limit(&mut self, bytes: u64) {
        self.p2p.set_max_file(bytes);
    }

    /// Offers `peer` (lower-case) the file `name` of `size` bytes.
    pub(super) fn send_file(
        &mut self,
        cx: &mut Cx,
        peer: &str,
        name: &str,
        size: u64,
        now: Instant,
        send: P2pSend,
    ) -> Result<TransferId, RequestError> {
        self.act(cx, now, send, |p2p, rng| {
            p2p.offer_file(peer, name, size, now, rng)
        })
    }

    /// Accepts a file offered with `Offered`.
    pub(super) fn accept_transfer(
        &mut self,
        cx: &mut Cx,
        id: TransferId,
        now: Instant,
        send: P2pSend,
    ) {
        if !self.act(cx, now, send, |p2p, rng| p2p.accept_file(id, now, rng)) {
            log::debug!("accepted transfer {} is gone", id.0);
        }
    }

    /// Declines a file offered with `Offered`.
    pub(super) fn decline_transfer(
        &mut self,
        cx: &mut Cx,
        id: TransferId,
        now: Instant,
        send: P2pSend,
    ) {
        self.act(cx, now, send, |p2p, rng| p2p.decline_file(id, rng));
    }

    /// Cancels a transfer in either direction; the contact is told.
    pub(super) fn cancel_transfer(
        &mut self,
        cx: &mut Cx,
        id: TransferId,
        now: Instant,
        send: P2pSend,
    ) {
        self.act(cx, now, send, |p2p, rng| p2p.cancel_file(id, rng));
    }

    /// The next bytes of a file we send, answering `WantData`.
    pub(super) fn transfer_data(
        &mut self,
        cx: &mut Cx,
        id: TransferId,
        data: &[u8],
        now: Instant,
        send: P2pSend,
    ) {
        self.act(cx, now, send, |p2p, _| p2p.supply_file_data(id, data));
    }

    /// Does `op` on the P2P part with the session's random numbers, then sends and reports what
    /// it produced.
    fn act<T>(
        &mut self,
        cx: &mut Cx,
        now: Instant,
        send: P2pSend,
        op: impl FnOnce(&mut P2p, &mut dyn FnMut() -> u32) -> T,
    ) -> T {
        let rng = &mut *cx.rng;
        let result = op(&mut self.p2p, &mut || rng.next_u32());
        self.run(cx, now, send);
        result
    }

    /// Sends file data while switchboards have room and reports transfer events; true when
    /// anything happened.
    pub(super) fn transfers_pump(&mut self, cx: &mut Cx, now: Instant, send: P2pSend) -> bool {
        let mut busy = false;
        loop {
            let link = &*send;
            let transmit = self
                .p2p
                .poll_file_transmit(now, &|peer: &str| link.room(peer));
            let Some(transmit) = transmit else {
                break;
            };
            p2p_send(cx, transmit, send);
            busy = true;
        }
        busy |= self.links_pump(cx, now);
        while let Some(event) = self.p2p.poll_file_event() {
            cx.event(Event::Transfer(event));
            busy = true;
        }
        busy
    }

    /// After the switchboards handled an input: transfers with the contacts in `lost` (whose
    /// switchboard failed or who left it) fail, and data goes out where acknowledgements made
    /// room.
    pub(super) fn switchboards_changed(
        &mut self,
        cx: &mut Cx,
        lost: &[String],
        now: Instant,
        send: P2pSend,
    ) {
        self.fetches_lost(cx, lost, now, send);
        if self.p2p.transfers() == 0 {
            return;
        }
        for peer in lost {
            self.p2p.end_transfers_with(peer);
        }
        self.run(cx, now, send);
    }
}

/// A transfer event, re-exported for the user interface.
pub type TransferEvent = FileEvent;
