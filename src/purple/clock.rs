//! The time the session is given. With the `test-hooks` feature, the environment variable
//! `PURPLE_MSNP_TEST_TIME_SCALE=N` (1-1000) makes it run `N` times faster than the monotonic
//! clock, so every timeout the session keeps (login, keepalive, switchboard set-up, idle and
//! acknowledgement, typing, retries) is `N` times shorter and tests need not sit in real-time
//! waits. Without the feature, or without the variable, it is the monotonic clock.

use std::time::{Duration, Instant};

/// Now, on the session's clock.
pub(crate) fn now() -> Instant {
    scaled::now()
}

/// How long, in real time, until `when` on the session's clock.
pub(crate) fn until(when: Instant) -> Duration {
    scaled::until(when)
}

#[cfg(not(feature = "test-hooks"))]
mod scaled {
    use std::time::{Duration, Instant};

    pub(super) fn now() -> Instant {
        Instant::now()
    }

    pub(super) fn until(when: Instant) -> Duration {
        when.saturating_duration_since(Instant::now())
    }
}

#[cfg(feature = "test-hooks")]
mod scaled {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// Environment variable holding the speed-up.
    const SCALE_ENV: &str = "PURPLE_MSNP_TEST_TIME_SCALE";

    /// The real instant the scaled clock starts from, and the speed-up.
    fn base() -> (Instant, u32) {
        static BASE: OnceLock<(Instant, u32)> = OnceLock::new();
        *BASE.get_or_init(|| {
            let scale = std::env::var(SCALE_ENV)
                .ok()
                .and_then(|v| v.parse::<u32>().ok())
                .map_or(1, |n| n.clamp(1, 1000));
            (Instant::now(), scale)
        })
    }

    pub(super) fn now() -> Instant {
        let (start, scale) = base();
        start + start.elapsed() * scale
    }

    /// Rounded up, so a timer never fires before its deadline.
    pub(super) fn until(when: Instant) -> Duration {
        let (_, scale) = base();
        let nanos = when
            .saturating_duration_since(now())
            .as_nanos()
            .div_ceil(u128::from(scale));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}
