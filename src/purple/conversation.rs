//! Conversations: IMs, typing, nudges and chats between libpurple and the session.

use crate::msnp::session::ChatEvent;

use super::{connection::Connection, ffi};

/// Fills the conversation slots of the protocol vtable.
pub(crate) fn fill_prpl(_prpl: &mut ffi::PurplePluginProtocolInfo) {}

/// Applies a conversation event to libpurple.
pub(crate) fn show(_conn: &Connection, event: ChatEvent) {
    log::debug!("conversation event not shown yet: {event:?}");
}
