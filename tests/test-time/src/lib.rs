//! The origin of the simulated time in the protocol core's tests. The core takes time only as a
//! `now` argument and reads no time source, so the one instant its tests start from is read here,
//! outside it (a dev-dependency of the core, never a normal one).

/// An instant to start a simulated time source from.
pub fn start() -> std::time::Instant {
    std::time::Instant::now()
}
