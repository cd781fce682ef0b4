//! Why a list change failed, as the user is told ("Could not add bob@example.com: ...").

use crate::http::HttpError;
use crate::listxml::ListXmlError;
use crate::session::contacts::soap_list::describe;
use crate::soap::SoapError;

/// Why a step of a list change could not run, or the server refused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(in crate::session) enum StepError {
    /// The NS connection is gone.
    #[error("not connected")]
    NotConnected,
    /// MSNP13+ without the address-book service URL or ticket.
    #[error("the address book service is not available")]
    NoService,
    /// The SOAP request could not be built.
    #[error("cannot build the request: {0}")]
    Request(SoapError),
    /// The `ADL`/`RML` payload could not be built.
    #[error("cannot build the list update: {0}")]
    ListUpdate(ListXmlError),
    /// The step names a group the server does not have.
    #[error("there is no group \"{0}\" on the server")]
    NoGroup(String),
    /// The step needs the contact's id, and the server's list has none for them.
    #[error("{0} is not on the server's contact list")]
    NotOnServer(String),
    /// The forward list is not a membership of the sharing service.
    #[error("the forward list has no membership")]
    NoMembership,
    /// The roster holds as many contacts as it may.
    #[error("the contact list is full")]
    ListFull,
    /// The NS answered with a numeric error.
    #[error("server error {code} ({description})")]
    Server {
        code: u16,
        description: &'static str,
    },
    /// The NS answered with something else than this command.
    #[error("unexpected reply to {0}")]
    UnexpectedReply(&'static str),
    /// The SOAP service refused the request or answered something unreadable.
    #[error("{}", describe(.0))]
    Service(SoapError),
    /// The HTTP request failed.
    #[error("{0}")]
    Http(String),
    /// The HTTP response could not be read.
    #[error("invalid HTTP response: {0}")]
    InvalidHttp(HttpError),
    /// The server did not answer in time.
    #[error("the server did not answer")]
    NoAnswer,
}
