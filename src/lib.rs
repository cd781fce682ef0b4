//! purple-msnp: an MSN Messenger (MSNP8-18) protocol plugin for libpurple.
//!
//! The crate has two halves:
//! - [`msnp`]: the protocol core, sans-IO and free of `unsafe`. Bytes, HTTP responses and time go
//!   in; bytes to send, HTTP requests, timers and events come out.
//! - `purple`: the libpurple glue, the only place with `unsafe`. It exports exactly one symbol,
//!   `purple_init_plugin`.

pub mod msnp;
mod purple;

/// The start of the simulated clock in the core's tests. The core itself never reads a clock;
/// this lives outside it so the one real clock read of the tests is here, not in `src/msnp`.
#[cfg(test)]
pub(crate) fn test_clock_start() -> std::time::Instant {
    std::time::Instant::now()
}
