//! Authentication: `CHL`/`QRY` answers, Passport 1.4 (`USR TWN`), the RST SOAP exchange and the
//! `MBI_KEY_OLD` blob for `USR SSO` (docs/protocol.md §3, §4). Pure functions: HTTP goes out as
//! [`HttpRequest`](crate::http::HttpRequest) values and comes back as parsed responses.

pub mod challenge;
mod error;
pub mod passport;
pub mod rst;
pub mod sso;

pub use error::AuthError;

#[cfg(test)]
pub(crate) mod testlog;
