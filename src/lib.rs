//! purple-msnp: an MSN Messenger (MSNP8-18) protocol plugin for libpurple.
//!
//! The crate has two halves:
//! - [`msnp`]: the protocol core, sans-IO and free of `unsafe`. Bytes, HTTP responses and time go
//!   in; bytes to send, HTTP requests, timers and events come out.
//! - `purple`: the libpurple glue, the only place with `unsafe`. It exports exactly one symbol,
//!   `purple_init_plugin`.

pub mod msnp;
mod purple;
