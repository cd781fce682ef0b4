//! purple-msnp: an MSN Messenger (MSNP8-18) protocol plugin for libpurple.
//!
//! This crate is the libpurple glue, the only place with `unsafe`; it exports exactly one symbol,
//! `purple_init_plugin`. The protocol itself is the sans-IO crate [`msnp`] (`src/msnp/`): bytes,
//! HTTP responses and time go in; bytes to send, HTTP requests, timers and events come out.

mod purple;
