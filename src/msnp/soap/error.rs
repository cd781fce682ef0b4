//! [`SoapError`]: why a SOAP request could not be built or its answer not used.

use crate::http::HttpError;

/// Why a SOAP request could not be built or its answer not used. Never carries a ticket: only
/// fixed texts, HTTP statuses and the server's own (shortened, cleaned) fault texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    /// The service answered with a SOAP fault. `code` is the most specific code given: the
    /// `errorcode` of the fault's detail when present (e.g. `ContactAlreadyExists`), else the
    /// `faultcode`; either part may be empty.
    #[error("SOAP fault {code:?}: {text}")]
    Fault {
        /// Fault code, e.g. `FullSyncRequired` or `q0:AuthenticationFailed`.
        code: String,
        /// The `faultstring`.
        text: String,
    },
    /// The service answered with a non-200 HTTP status and no SOAP fault.
    #[error("SOAP service answered HTTP {0}")]
    Status(u16),
    /// The HTTP exchange itself failed (bad URL, malformed response).
    #[error("HTTP error: {0}")]
    Http(#[from] HttpError),
    /// The answer is not well-formed XML, or not the SOAP answer expected.
    #[error("malformed SOAP answer: {0}")]
    Malformed(&'static str),
    /// The answer exceeds a size, depth or count limit.
    #[error("SOAP answer too large: {0}")]
    TooLarge(&'static str),
    /// A value given to a request builder is unusable (empty, too long, control characters).
    #[error("invalid SOAP request input: {0}")]
    InvalidInput(&'static str),
}
