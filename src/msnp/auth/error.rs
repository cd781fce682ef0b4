//! [`AuthError`]: why a login step failed. Never carries a password, ticket or token.

use crate::http::HttpError;

/// Why a Passport 1.4 or RST login step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The server refused the account name or password.
    #[error("wrong account name or password")]
    BadCredentials,
    /// The login server moved: repeat the same request at this URL.
    #[error("login server redirected to {0}")]
    Redirect(String),
    /// The server answered with a SOAP fault (its fault code and string).
    #[error("login server fault: {0}")]
    ServerFault(String),
    /// The server's answer could not be understood.
    #[error("unexpected answer from login server: {0}")]
    BadResponse(String),
    /// A caller-supplied value cannot be sent (empty, too long or with control characters).
    #[error("cannot build login request: {0}")]
    InvalidInput(&'static str),
    /// A URL, request or raw response was unusable at the HTTP level.
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl AuthError {
    /// Shorthand for [`AuthError::BadResponse`].
    pub(crate) fn bad(what: impl Into<String>) -> Self {
        AuthError::BadResponse(what.into())
    }
}
