//! The buddy list side of the contact list: libpurple buddies, groups, privacy and presence.

use crate::msnp::session::ContactEvent;

use super::{connection::Connection, ffi};

/// Fills the contact-list slots of the protocol vtable.
pub(crate) fn fill_prpl(_prpl: &mut ffi::PurplePluginProtocolInfo) {}

/// Applies a contact-list event to libpurple.
pub(crate) fn show(_conn: &Connection, event: ContactEvent) {
    log::debug!("contact event not shown yet: {event:?}");
}
