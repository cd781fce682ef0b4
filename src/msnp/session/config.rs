//! What a session needs to know before it starts: account, password and endpoints.

use crate::secret::Secret;
use crate::wire::{PrivacyMode, Status};

/// Protocol versions the plugin speaks, newest first. The offer starts at the account's
/// `max_protocol` and goes down this list.
pub const SUPPORTED_VERSIONS: [u32; 9] = [18, 17, 16, 15, 12, 11, 10, 9, 8];

/// How the session reaches the servers (`docs/protocol.md`, "Connection methods").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionMethod {
    /// Direct TCP; when the notification server cannot be reached that way, the HTTP gateway.
    Auto,
    /// Direct TCP only.
    Tcp,
    /// The HTTP gateway only, for the notification server and the switchboards.
    Http,
}

/// Settings for one session.
#[derive(Debug, Clone)]
pub struct Config {
    /// The account's e-mail address (Passport name).
    pub account: String,
    /// The account's password.
    pub password: Secret<String>,
    /// Notification server host.
    pub server: String,
    /// Notification server port.
    pub port: u16,
    /// Direct TCP, the HTTP gateway, or direct with the gateway as fallback.
    pub connection: ConnectionMethod,
    /// The HTTP gateway: scheme, host and port (its path is not used).
    pub gateway: crate::http::Url,
    /// Passport 1.4 nexus URL (MSNP8-12).
    pub nexus_url: String,
    /// RST endpoint (MSNP15-18).
    pub sso_url: String,
    /// Newest version to offer; `None` offers everything in [`SUPPORTED_VERSIONS`].
    pub max_version: Option<u32>,
    /// This installation's machine GUID (braced), sent on MSNP16+; stable per account.
    pub machine_guid: String,
    /// The status to sign in with (`Hidden` signs in invisible).
    pub initial_status: Status,
    /// The personal message to sign in with (MSNP11+).
    pub personal_message: String,
    /// Base URL of the address-book and sharing services (MSNP13+); `None` uses the scheme,
    /// host and port of `sso_url`.
    pub services_url: Option<String>,
    /// How people on neither the allow nor the block list are treated (sent as `BLP` on
    /// MSNP13+, where the client keeps this setting).
    pub privacy: PrivacyMode,
    /// Ids of offline messages shown in earlier sessions (the glue keeps them with the
    /// account, from [`crate::session::ChatEvent::OfflineShown`]): announced again because the
    /// server failed to delete them, they are deleted, never shown twice.
    pub offline_shown: Vec<String>,
    /// Seed of the session's random numbers (the glue draws it from the operating system;
    /// tests fix it, so every line a session sends is reproducible).
    pub rng_seed: [u8; 32],
}

impl Config {
    /// The versions to offer in `VER`, newest first.
    pub fn offered_versions(&self) -> Vec<u32> {
        let max = self.max_version.unwrap_or(SUPPORTED_VERSIONS[0]);
        SUPPORTED_VERSIONS
            .iter()
            .copied()
            .filter(|v| *v <= max)
            .collect()
    }
}

/// A configuration for core tests: `account` with `password` at the recorded sessions'
/// endpoints (127.0.0.1, nexus on :8081, RST on :8443), offering up to `max_version`.
#[cfg(test)]
pub(crate) fn test_config(
    account: &str,
    password: &str,
    max_version: u32,
    machine_guid: &str,
) -> Config {
    Config {
        account: account.into(),
        password: Secret::new(password.into()),
        server: "127.0.0.1".into(),
        port: 1863,
        connection: ConnectionMethod::Tcp,
        gateway: crate::http::Url::parse("http://127.0.0.1:8080/").expect("a valid URL"),
        nexus_url: "http://127.0.0.1:8081/rdr/pprdr.asp".into(),
        sso_url: "https://127.0.0.1:8443/RST.srf".into(),
        max_version: Some(max_version),
        machine_guid: machine_guid.into(),
        initial_status: Status::Online,
        personal_message: String::new(),
        services_url: None,
        privacy: PrivacyMode::AllowOthers,
        offline_shown: Vec::new(),
        rng_seed: [7; 32],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_version: Option<u32>) -> Config {
        Config {
            max_version,
            ..test_config(
                "alice@example.com",
                "alicepass",
                18,
                "{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0}",
            )
        }
    }

    #[test]
    fn offer_starts_at_max_version() {
        assert_eq!(config(None).offered_versions(), SUPPORTED_VERSIONS.to_vec());
        assert_eq!(
            config(Some(15)).offered_versions(),
            vec![15, 12, 11, 10, 9, 8]
        );
        assert_eq!(config(Some(12)).offered_versions(), vec![12, 11, 10, 9, 8]);
        assert_eq!(config(Some(8)).offered_versions(), vec![8]);
    }
}
