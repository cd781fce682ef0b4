//! libpurple glue: the only module with `unsafe`. Every `extern "C"` entry runs under a panic
//! guard; every `unsafe` block says why it is sound (clippy enforces it).
#![deny(clippy::undocumented_unsafe_blocks)]

mod account;
mod actions;
mod blist;
mod carried;
mod chat;
mod clock;
mod config;
mod connection;
mod conversation;
mod cstr;
mod debug;
mod emoticons;
mod errors;
mod farewell;
mod fetch;
mod ffi;
mod guard;
mod held;
mod icons;
mod ink;
mod listen;
mod places;
mod plugin;
mod presence;
mod privacy;
mod status;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod timer;
mod transport;
mod xfer;
