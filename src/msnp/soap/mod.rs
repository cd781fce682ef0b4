//! The SOAP services of MSNP13+ (docs/protocol.md §5.2, §5.3, §9): the sharing service
//! (memberships), the address book, and offline messages. Pure: requests go out as
//! [`HttpRequest`](crate::http::HttpRequest) values, answers come back as bodies; the big
//! sign-in answers parse resumably, a bounded number of XML events per step.
//!
//! Every parser has a `&[u8]` entry point suitable for fuzzing. Answers are read with a
//! hardened XML reader: size and depth caps, no DOCTYPE (hence no entities), UTF-8 only.

pub mod abook;
pub mod abook_edit;
mod datetime;
pub mod envelope;
mod error;
pub mod membership;
pub mod oim;
pub mod oim_store;
mod rfc2047;
pub(crate) mod xml;

pub use envelope::{with_status, Endpoints, Scenario};
pub use error::SoapError;

/// A step budget for the resumable parsers: 10,000 XML events take about half a millisecond
/// in a release build (~50 ns an event in `cargo bench -p msnp --bench core`), so a
/// 5,000-contact address book parses in about 50 short steps.
pub const STEP_BUDGET: usize = 10_000;

#[cfg(test)]
mod mutation_tests;
/// Test helper: the recorded HTTP exchanges, shared with the authentication tests.
#[cfg(test)]
mod testutil;
