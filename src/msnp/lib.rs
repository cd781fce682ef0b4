//! The MSNP protocol core: pure, deterministic, no I/O.
//!
//! Nothing in here touches sockets, clocks, libpurple or glib. Time comes in as a `now: Instant`
//! argument, bytes come in through `handle_*` methods and everything to do goes out via `poll_*`;
//! random numbers come from a generator seeded through the session's `Config`.
//!
//! Kept that way by the compiler, not by convention: `unsafe` is forbidden here, the crate's
//! dependencies exclude glib, libc and OS randomness (`tests/dependencies.rs` fails if one
//! appears), and `clippy.toml` beside this file disallows clocks and sockets.
#![forbid(unsafe_code)]

pub mod auth;
pub mod dialect;
pub mod http;
pub mod listxml;
pub mod message;
pub mod mime;
pub mod p2p;
pub mod secret;
pub mod session;
pub mod soap;
pub mod wire;

/// The start of the simulated clock in the core's tests: the one clock read of the crate,
/// allowed here alone.
#[cfg(test)]
#[allow(clippy::disallowed_methods)]
pub(crate) fn test_clock_start() -> std::time::Instant {
    std::time::Instant::now()
}

/// The `vectors` array of the test-vector file `name` in `tests/vectors/`.
#[cfg(test)]
pub(crate) fn test_vectors(name: &str) -> Vec<serde_json::Value> {
    let path = format!("{}/../../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {name}: {e}"));
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {name}: {e}"));
    json["vectors"].as_array().expect("vectors array").clone()
}
