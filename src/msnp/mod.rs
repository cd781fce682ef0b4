//! The MSNP protocol core: pure, deterministic, no I/O.
//!
//! Nothing in here touches sockets, clocks, libpurple or glib. Time comes in as a `now: Instant`
//! argument, bytes come in through `handle_*` methods and everything to do goes out via `poll_*`.
#![forbid(unsafe_code)]

pub mod auth;
pub mod http;
pub mod listxml;
pub mod message;
pub mod mime;
pub mod p2p;
pub mod secret;
pub mod session;
pub mod soap;
pub mod wire;
