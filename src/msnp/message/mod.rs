//! placeholder
pub const MAX_PAYLOAD: usize = 1664;
