//! File transfers with contacts over their switchboard (the P2P part's `file` module does the
//! protocol). Data chunks go out only while the switchboard carrying them has fewer than a
//! window of P2P messages waiting for its `ACK`, so a file is read from disk as fast as the
//! switchboard takes it and never piles up in memory. A transfer whose switchboard is lost,
//! or whose contact leaves it or goes offline, fails.

use std::time::Instant;

use rand_chacha::rand_core::RngCore;

use crate::p2p::{FileEvent, RequestError, TransferId};
use crate::session::{Event, Session};

impl Session {
    /// Sets the largest file offered or accepted (larger offers are refused).
    pub fn set_file_size_limit(&mut self, bytes: u64) {
        self.pictures.p2p.set_max_file(bytes);
    }

    /// Offers `who` the file `name` of `size` bytes. The outcome comes as
    /// [`Event::Transfer`]: `Accepted` (then `WantData` until `Completed`), `Declined`,
    /// `Cancelled` or `Failed`.
    pub fn send_file(
        &mut self,
        who: &str,
        name: &str,
        size: u64,
        now: Instant,
    ) -> Result<TransferId, RequestError> {
        let peer = who.trim().to_ascii_lowercase();
        let rng = &mut self.rng;
        let id = self
            .pictures
            .p2p
            .offer_file(&peer, name, size, now, &mut || rng.next_u32())?;
        self.pictures_run(now);
        Ok(id)
    }

    /// Accepts a file offered with `Offered`; its bytes come as `Data`, then `Completed`.
    pub fn accept_transfer(&mut self, id: TransferId, now: Instant) {
        let rng = &mut self.rng;
        if !self
            .pictures
            .p2p
            .accept_file(id, now, &mut || rng.next_u32())
        {
            log::debug!("accepted transfer {} is gone", id.0);
        }
        self.pictures_run(now);
    }

    /// Declines a file offered with `Offered`.
    pub fn decline_transfer(&mut self, id: TransferId, now: Instant) {
        let rng = &mut self.rng;
        self.pictures.p2p.decline_file(id, &mut || rng.next_u32());
        self.pictures_run(now);
    }

    /// Cancels a transfer in either direction; the contact is told.
    pub fn cancel_transfer(&mut self, id: TransferId, now: Instant) {
        let rng = &mut self.rng;
        self.pictures.p2p.cancel_file(id, &mut || rng.next_u32());
        self.pictures_run(now);
    }

    /// The next bytes of a file we send, answering `WantData` (at most what it asked for).
    pub fn transfer_data(&mut self, id: TransferId, data: &[u8], now: Instant) {
        self.pictures.p2p.supply_file_data(id, data);
        self.pictures_run(now);
    }

    /// Sends file data while switchboards have room and reports transfer events; true when
    /// anything happened.
    pub(super) fn transfers_pump(&mut self, now: Instant) -> bool {
        let mut busy = false;
        loop {
            let boards = &self.switchboards;
            let transmit = self
                .pictures
                .p2p
                .poll_file_transmit(now, &|peer: &str| boards.p2p_room(peer));
            let Some(transmit) = transmit else {
                break;
            };
            self.p2p_send(transmit, now);
            busy = true;
        }
        while let Some(event) = self.pictures.p2p.poll_file_event() {
            self.event(Event::Transfer(event));
            busy = true;
        }
        busy
    }

    /// After the switchboards handled an input: transfers whose switchboard was lost (or
    /// whose contact left it) fail, and data goes out where acknowledgements made room.
    pub(super) fn transfers_after_switchboards(&mut self, now: Instant) {
        let lost = self.switchboards.take_p2p_lost();
        if self.pictures.p2p.transfers() == 0 {
            return;
        }
        for peer in &lost {
            self.pictures.p2p.end_transfers_with(peer);
        }
        self.pictures_run(now);
    }
}

/// A transfer event, re-exported for the user interface.
pub type TransferEvent = FileEvent;
