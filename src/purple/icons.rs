//! Buddy icons: display pictures of contacts set as libpurple buddy icons, ours from the
//! account's icon.

use msnp::session::PictureEvent;

use super::connection::Connection;

/// Applies a display-picture event.
pub(crate) fn show(_conn: &Connection, event: PictureEvent) {
    log::debug!("display picture event not applied yet: {event:?}");
}
