//! The self-signed certificate (made at start-up for `127.0.0.1` and `localhost`) and the
//! rustls server configuration for the HTTPS port.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io;
use std::sync::Arc;

/// Certificate and TLS configuration of one server.
#[derive(Debug, Clone)]
pub struct Tls {
    /// DER certificate clients must trust.
    pub cert_der: Vec<u8>,
    /// The same certificate in PEM.
    pub cert_pem: String,
    /// rustls configuration (TLS 1.2 and 1.3, ring provider).
    pub config: Arc<rustls::ServerConfig>,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Makes a fresh certificate and the matching configuration.
pub fn make() -> io::Result<Tls> {
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).map_err(other)?;
    let cert_der = certified.cert.der().to_vec();
    let cert_pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key)
        .map_err(other)?;
    Ok(Tls {
        cert_der,
        cert_pem,
        config: Arc::new(config),
    })
}
