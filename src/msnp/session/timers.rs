//! The session's deadlines as data (quinn-proto style): a fixed table, the earliest one is what
//! the driver arms.

use std::time::{Duration, Instant};

/// Every deadline a session may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Sign-in must finish by then.
    Login = 0,
    /// Time to send the next `PNG`.
    Ping = 1,
    /// The `QNG` for the last `PNG` must have arrived by then.
    Pong = 2,
}

const COUNT: usize = 3;
const ALL: [Timer; COUNT] = [Timer::Login, Timer::Ping, Timer::Pong];

/// How long sign-in may take, from the first connect to `USR OK`.
pub(crate) const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Keepalive interval until the server says otherwise with `QNG <seconds>`.
pub(crate) const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(50);
/// How long to wait for `QNG` before declaring the connection dead: the ping interval, within
/// these bounds.
pub(crate) const PONG_TIMEOUT_MIN: Duration = Duration::from_secs(5);
pub(crate) const PONG_TIMEOUT_MAX: Duration = Duration::from_secs(30);

/// Deadlines by timer.
#[derive(Debug, Default)]
pub(crate) struct TimerTable([Option<Instant>; COUNT]);

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer as usize] = Some(at);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.0[timer as usize] = None;
    }

    pub(crate) fn stop_all(&mut self) {
        self.0 = [None; COUNT];
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Removes and returns the timers due at `now`.
    pub(crate) fn expired(&mut self, now: Instant) -> Vec<Timer> {
        let due: Vec<Timer> = ALL
            .into_iter()
            .filter(|t| self.0[*t as usize].is_some_and(|at| at <= now))
            .collect();
        for t in &due {
            self.stop(*t);
        }
        due
    }
}
