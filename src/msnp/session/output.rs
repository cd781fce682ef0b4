//! What the session asks its driver to do, and what it tells the user interface.

use crate::http::HttpRequest;

/// Identifies one TCP connection the session asked for (the NS, a redirected NS, later
/// switchboards). Never reused within a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u32);

/// Identifies one HTTP request the session asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HttpId(pub u32);

/// One thing for the driver to do or report, in the order the session produced them.
#[derive(Debug)]
#[must_use]
pub enum Output {
    /// Open a TCP connection (through the account's proxy) and report
    /// `handle_connected` or `handle_connection_lost`.
    Connect {
        conn: ConnId,
        host: String,
        port: u16,
    },
    /// Open a listening TCP socket (a direct connection with a contact) and report
    /// `handle_listening`; the first connection accepted on it becomes `conn` (reported with
    /// `handle_connected`, then as any connection) and the listening socket is closed.
    Listen { conn: ConnId },
    /// Write these bytes, in order, to the connection; for a direct connection
    /// (`Session::is_direct`) the driver reports `handle_drained` once everything written so
    /// far has gone out.
    Send { conn: ConnId, bytes: Vec<u8> },
    /// Close the connection; the session forgets it (no further report is wanted).
    Close { conn: ConnId },
    /// Perform this HTTP(S) request and report `handle_http_response` or `handle_http_failed`.
    Http { id: HttpId, request: HttpRequest },
    /// Perform this HTTP(S) request once the request `after` (if any) is over, and forget it:
    /// no report is wanted, and the driver may give it up after a short while. The last words
    /// (`OUT`) of a connection through the HTTP gateway that is being closed.
    Farewell {
        after: Option<HttpId>,
        request: HttpRequest,
    },
    /// Something the user interface shows.
    Event(Event),
}

/// Sign-in progress steps, in order; `Progress` reports the index into this list.
pub const PROGRESS_STEPS: [&str; 5] = [
    "Connecting",
    "Negotiating protocol version",
    "Authenticating",
    "Logging in",
    "Retrieving contact list",
];

/// What the user interface shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Sign-in advanced to step `step` of [`PROGRESS_STEPS`].
    Progress { step: usize },
    /// The server accepted the login; the account is online.
    SignedIn { version: u32 },
    /// The session is over; nothing more will be produced. The driver closes everything.
    Ended(EndReason),
    /// A contact-list, presence or profile change.
    Contact(crate::session::ContactEvent),
    /// A conversation event.
    Chat(crate::session::ChatEvent),
    /// A display-picture event.
    Picture(crate::session::PictureEvent),
    /// A file-transfer event.
    Transfer(crate::session::TransferEvent),
    /// A custom-emoticon event.
    Emoticon(crate::session::EmoticonEvent),
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndReason {
    /// The server or login service rejected the password (or the account).
    #[error("The password was not accepted (wrong password or unknown account)")]
    BadCredentials,
    /// The server refused the login with this numeric error.
    #[error("The server refused the sign-in (error {code}: {text})")]
    Refused { code: u16, text: &'static str },
    /// The server is temporarily unable to take the sign-in.
    #[error("The server is unavailable (error {code}: {text}); try again later")]
    Unavailable { code: u16, text: &'static str },
    /// `OUT OTH`: the account signed in from another place.
    #[error("You have signed in from another location")]
    SignedInElsewhere,
    /// Another place of the account (MSNP16+) signed this one out.
    #[error("Signed out from another place where this account is signed in")]
    SignedOutElsewhere,
    /// `OUT SSD`: the server is going down for maintenance.
    #[error("The server is shutting down for maintenance")]
    ServerShutdown,
    /// `OUT` with no or an unknown reason, or the server closed the connection.
    #[error("The server closed the connection")]
    ServerClosed,
    /// The server supports none of the protocol versions offered.
    #[error("The server supports none of the protocol versions offered ({offered})")]
    UnsupportedVersion { offered: String },
    /// The server sent something that cannot be understood at this point.
    #[error("The server sent an invalid reply: {0}")]
    BadServerReply(String),
    /// TCP or HTTP trouble (connect failure, reset, TLS error).
    #[error("Network error: {0}")]
    Network(String),
    /// The server stopped answering (sign-in or keepalive deadline passed).
    #[error("The server stopped responding")]
    Timeout,
    /// The user signed out.
    #[error("Signed out")]
    SignedOut,
}

impl EndReason {
    /// True when signing in again automatically is sensible (libpurple's non-fatal errors).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            EndReason::Unavailable { .. }
                | EndReason::ServerShutdown
                | EndReason::ServerClosed
                | EndReason::BadServerReply(_)
                | EndReason::Network(_)
                | EndReason::Timeout
        )
    }
}
