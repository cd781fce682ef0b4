//! The one mapping from the core's end reasons to libpurple's connection errors.

use msnp::session::EndReason;

use super::ffi;

/// libpurple reconnects automatically after NETWORK_ERROR and never after the others, so only
/// transient reasons map to it.
pub(crate) fn connection_error(reason: &EndReason) -> ffi::PurpleConnectionError {
    match reason {
        EndReason::BadCredentials | EndReason::Refused { .. } => {
            ffi::PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED
        }
        EndReason::SignedInElsewhere | EndReason::SignedOutElsewhere => {
            ffi::PURPLE_CONNECTION_ERROR_NAME_IN_USE
        }
        EndReason::UnsupportedVersion { .. } => ffi::PURPLE_CONNECTION_ERROR_OTHER_ERROR,
        r if r.is_transient() => ffi::PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
        _ => ffi::PURPLE_CONNECTION_ERROR_OTHER_ERROR,
    }
}
