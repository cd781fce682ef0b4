//! Fault injection for soak runs ([`crate::ServerConfig::faults`]): NS and switchboard
//! connections dropped, writes delayed and split, SOAP calls answered with faults or `500`s,
//! each decided by one seeded random generator, so a run's sequence of decisions follows from
//! its seed. Everything else stays as strict as without faults.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How often each fault happens (chances from 0.0 to 1.0) and the seed deciding when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultPlan {
    /// Seed of the generator.
    pub seed: u64,
    /// Chance that a signed-in NS connection is closed after the server handled a command of
    /// its client (a network drop or a server restart: no `OUT`).
    pub ns_drop: f64,
    /// Chance that a switchboard `MSG` is neither relayed nor acknowledged and its connection
    /// closed (lost on its way in).
    pub sb_drop_before: f64,
    /// Chance that a switchboard `MSG` is relayed, then its connection closed before the `ACK`
    /// (delivered, but the sender cannot know).
    pub sb_drop_after: f64,
    /// Chance that one write to a client is cut in two or three pieces with pauses between.
    pub split: f64,
    /// Chance that one write to a client waits before it starts.
    pub delay: f64,
    /// Longest pause of a delayed or split write.
    pub max_pause: Duration,
    /// Chance that an address-book, sharing or offline-message SOAP call is answered with a
    /// SOAP fault (`500`, `soap:Server`) or a bare `500` instead.
    pub soap_fault: f64,
}

impl FaultPlan {
    /// The soak's mix: frequent enough that a minute sees every kind several times, rare
    /// enough that conversations go on between them.
    pub fn soak(seed: u64) -> Self {
        FaultPlan {
            seed,
            ns_drop: 0.015,
            sb_drop_before: 0.03,
            sb_drop_after: 0.03,
            split: 0.2,
            delay: 0.1,
            max_pause: Duration::from_millis(40),
            soap_fault: 0.1,
        }
    }
}

/// How many faults of each kind were injected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// NS connections closed.
    pub ns_drops: u64,
    /// Switchboard connections closed with a message swallowed.
    pub sb_drops_before: u64,
    /// Switchboard connections closed after relaying a message, before its `ACK`.
    pub sb_drops_after: u64,
    /// Writes cut in pieces.
    pub split_writes: u64,
    /// Writes delayed.
    pub delayed_writes: u64,
    /// SOAP calls answered with a fault or a `500`.
    pub soap_faults: u64,
}

impl FaultCounts {
    /// Every fault injected.
    pub fn total(&self) -> u64 {
        self.ns_drops
            + self.sb_drops_before
            + self.sb_drops_after
            + self.split_writes
            + self.delayed_writes
            + self.soap_faults
    }
}

/// What happens to one switchboard `MSG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SbFault {
    /// Swallowed, connection closed.
    DropBefore,
    /// Relayed, connection closed before the `ACK`.
    DropAfter,
}

/// How a SOAP call is spoiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SoapFault {
    /// `500` with a `soap:Server` fault.
    Fault,
    /// `500` with no body.
    Bare,
}

/// The server's fault injector (inactive without a plan).
#[derive(Debug)]
pub(crate) struct Faults {
    plan: Option<FaultPlan>,
    /// Set once the run is over: no more faults.
    stopped: AtomicBool,
    rng: Mutex<fastrand::Rng>,
    ns_drops: AtomicU64,
    sb_drops_before: AtomicU64,
    sb_drops_after: AtomicU64,
    split_writes: AtomicU64,
    delayed_writes: AtomicU64,
    soap_faults: AtomicU64,
}

impl Faults {
    /// An injector following `plan`.
    pub(crate) fn new(plan: Option<FaultPlan>) -> Self {
        Faults {
            rng: Mutex::new(fastrand::Rng::with_seed(plan.map_or(0, |p| p.seed))),
            plan,
            stopped: AtomicBool::new(false),
            ns_drops: AtomicU64::new(0),
            sb_drops_before: AtomicU64::new(0),
            sb_drops_after: AtomicU64::new(0),
            split_writes: AtomicU64::new(0),
            delayed_writes: AtomicU64::new(0),
            soap_faults: AtomicU64::new(0),
        }
    }

    /// Injects nothing from now on.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// The plan, while faults are injected.
    fn active(&self) -> Option<&FaultPlan> {
        self.plan
            .as_ref()
            .filter(|_| !self.stopped.load(Ordering::SeqCst))
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, fastrand::Rng> {
        self.rng.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True with chance `pick(plan)`; always false without a plan.
    fn roll(&self, pick: impl Fn(&FaultPlan) -> f64) -> bool {
        self.active()
            .is_some_and(|plan| self.rng().f64() < pick(plan))
    }

    /// Whether to close a signed-in NS connection now.
    pub(crate) fn ns_drop(&self) -> bool {
        let hit = self.roll(|p| p.ns_drop);
        if hit {
            self.ns_drops.fetch_add(1, Ordering::SeqCst);
        }
        hit
    }

    /// What to do with a switchboard `MSG`, if anything.
    pub(crate) fn sb_message(&self) -> Option<SbFault> {
        let plan = self.active()?;
        let x = self.rng().f64();
        if x < plan.sb_drop_before {
            self.sb_drops_before.fetch_add(1, Ordering::SeqCst);
            Some(SbFault::DropBefore)
        } else if x < plan.sb_drop_before + plan.sb_drop_after {
            self.sb_drops_after.fetch_add(1, Ordering::SeqCst);
            Some(SbFault::DropAfter)
        } else {
            None
        }
    }

    /// How to spoil a SOAP call, if at all.
    pub(crate) fn soap(&self) -> Option<SoapFault> {
        if !self.roll(|p| p.soap_fault) {
            return None;
        }
        self.soap_faults.fetch_add(1, Ordering::SeqCst);
        Some(match self.rng().bool() {
            true => SoapFault::Fault,
            false => SoapFault::Bare,
        })
    }

    /// How to write `len` bytes: the pieces' lengths, each with the pause before it (one
    /// piece, no pause, unless a delay or split is injected).
    pub(crate) fn write_plan(&self, len: usize) -> Vec<(usize, Duration)> {
        let Some(plan) = self.active() else {
            return vec![(len, Duration::ZERO)];
        };
        let max_ms = u64::try_from(plan.max_pause.as_millis()).unwrap_or(u64::MAX);
        let mut rng = self.rng();
        let pause = |rng: &mut fastrand::Rng| Duration::from_millis(rng.u64(0..=max_ms));
        let first_pause = match rng.f64() < plan.delay {
            true => {
                self.delayed_writes.fetch_add(1, Ordering::SeqCst);
                pause(&mut rng)
            }
            false => Duration::ZERO,
        };
        if len < 2 || rng.f64() >= plan.split {
            return vec![(len, first_pause)];
        }
        self.split_writes.fetch_add(1, Ordering::SeqCst);
        let mut pieces = vec![(rng.usize(1..len), first_pause)];
        let mut rest = len - pieces[0].0;
        if rest >= 2 && rng.bool() {
            let cut = rng.usize(1..rest);
            pieces.push((cut, pause(&mut rng)));
            rest -= cut;
        }
        pieces.push((rest, pause(&mut rng)));
        pieces
    }

    /// The counts so far.
    pub(crate) fn counts(&self) -> FaultCounts {
        let get = |c: &AtomicU64| c.load(Ordering::SeqCst);
        FaultCounts {
            ns_drops: get(&self.ns_drops),
            sb_drops_before: get(&self.sb_drops_before),
            sb_drops_after: get(&self.sb_drops_after),
            split_writes: get(&self.split_writes),
            delayed_writes: get(&self.delayed_writes),
            soap_faults: get(&self.soap_faults),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_plan_no_faults() {
        let faults = Faults::new(None);
        assert!(!faults.ns_drop());
        assert_eq!(faults.sb_message(), None);
        assert_eq!(faults.soap(), None);
        assert_eq!(faults.write_plan(100), vec![(100, Duration::ZERO)]);
        assert_eq!(faults.counts(), FaultCounts::default());
    }

    #[test]
    fn a_seed_gives_the_same_decisions() {
        let decisions = |seed| {
            let faults = Faults::new(Some(FaultPlan::soak(seed)));
            (0..500)
                .map(|i| (faults.ns_drop(), faults.sb_message(), faults.write_plan(i)))
                .collect::<Vec<_>>()
        };
        assert_eq!(decisions(7), decisions(7));
        assert_ne!(decisions(7), decisions(8));
    }

    #[test]
    fn stopped_no_faults() {
        let mut plan = FaultPlan::soak(1);
        plan.ns_drop = 1.0;
        let faults = Faults::new(Some(plan));
        assert!(faults.ns_drop());
        faults.stop();
        assert!(!faults.ns_drop());
        assert_eq!(faults.counts().ns_drops, 1);
    }

    #[test]
    fn split_pieces_cover_the_write() {
        let mut plan = FaultPlan::soak(3);
        plan.split = 1.0;
        let faults = Faults::new(Some(plan));
        for len in 2..200 {
            let pieces = faults.write_plan(len);
            assert!(pieces.len() >= 2, "{pieces:?}");
            assert!(pieces.iter().all(|(n, _)| *n > 0), "{pieces:?}");
            assert_eq!(pieces.iter().map(|(n, _)| n).sum::<usize>(), len);
        }
        assert_eq!(faults.counts().split_writes, 198);
    }
}
