//! SOAP web services (address book, sharing, OIM) reached under `/abservice/`, `/soap/`, ...:
//! the hook where the contact-list issue plugs in. Nothing is served yet.

use super::message::{Request, Response};
use crate::shared::Shared;

/// Whether `path` belongs to the SOAP services.
pub fn is_soap_path(path: &str) -> bool {
    [
        "/abservice/",
        "/soap/",
        "/storageservice/",
        "/OimWS/",
        "/rsi/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// Answers a SOAP request (every operation is still unknown: `404`).
pub fn handle(_shared: &Shared, req: &Request) -> Response {
    log::info!("SOAP request not implemented yet: {}", req.path);
    Response::plain(404, Vec::new())
}
