//! The SOAP services of MSNP13+ (reference §5.2, §5.3, §9): the sharing service (memberships),
//! the address book, and offline messages. Pure: requests go out as
//! [`HttpRequest`](crate::msnp::http::HttpRequest) values, answers come back as bodies; the big
//! sign-in answers parse resumably, a bounded number of XML events per step.
//!
//! Every parser has a `&[u8]` entry point suitable for fuzzing. Answers are read with a
//! hardened XML reader: size and depth caps, no DOCTYPE (hence no entities), UTF-8 only.

pub mod abook;
pub mod abook_edit;
pub mod envelope;
mod datetime;
mod error;
pub mod membership;
pub mod oim;
pub mod oim_store;
mod rfc2047;
pub(crate) mod xml;

pub use envelope::{with_status, Endpoints, Scenario};
pub use error::SoapError;

/// Test helper: the recorded HTTP exchanges, shared with the authentication tests.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../auth/testlog.rs"]
mod testlog;
#[cfg(test)]
mod testutil;
