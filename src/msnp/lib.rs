//! The MSNP protocol core: pure, deterministic, no I/O.
//!
//! Sans-IO: time comes in as a `now: Instant` argument, bytes come in through `handle_*` methods
//! and everything to do goes out via `poll_*`; random numbers come from a generator seeded
//! through the session's `Config`.
//!
//! Kept that way by the compiler, not by convention: the attribute below, the dependency test
//! (`tests/dependencies.rs`) and `clippy.toml` beside this file.
#![forbid(unsafe_code)]

pub mod auth;
pub mod dialect;
pub mod gateway;
pub mod http;
pub mod listxml;
pub mod message;
pub mod mime;
pub mod p2p;
pub mod secret;
pub mod session;
pub mod soap;
pub mod wire;

/// The instant the core's tests start their simulated time from (read outside the core, in
/// the `msnp-test-time` dev-dependency).
#[cfg(test)]
pub(crate) fn test_time_origin() -> std::time::Instant {
    msnp_test_time::start()
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
