//! Helpers shared by the integration tests.

// Every test binary compiles all helpers but uses only some of them.
#![allow(dead_code)]

pub mod accounts;
pub mod bitlbee;
pub mod contacts;
pub mod conversations;
pub mod plugin;
pub mod stub;
