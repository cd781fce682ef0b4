//! What a test server is started with: accounts, accepted dialects and fault switches.

use crate::faults::FaultPlan;
use std::time::Duration;

/// One account the server knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    /// Sign-in name (compared case-insensitively).
    pub email: String,
    /// Password for Passport 1.4 and RST.
    pub password: String,
    /// Display name (sent percent-encoded).
    pub friendly: String,
    /// Account GUID (`C=` in `LST`, `MemberIdHigh/Low`, PUID); derived from the email when `None`.
    pub uuid: Option<String>,
}

/// A contact-list entry seeded before start-up: `owner` has `contact` on the lists in `lists`
/// (bitmask, docs/protocol.md §2.5: 1 FL, 2 AL, 4 BL, 8 RL, 16 PL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactSpec {
    /// Whose list it is.
    pub owner: String,
    /// The contact's sign-in name (must be a configured user).
    pub contact: String,
    /// List bitmask.
    pub lists: u8,
}

/// A canned HTTP answer for requests whose path or `SOAPAction` contains `matches`.
#[derive(Debug, Clone)]
pub struct HttpOverride {
    /// Substring of the request path or of its `SOAPAction` header.
    pub matches: String,
    /// Status code.
    pub status: u16,
    /// Extra headers (e.g. `Location`).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Server configuration; build it with [`ServerConfig::default`] and the `with_*` helpers.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Accounts.
    pub users: Vec<UserSpec>,
    /// Contact-list entries.
    pub contacts: Vec<ContactSpec>,
    /// Dialects accepted in `VER` (Escargot: 8..=18; it prefers the highest <= 18 offered,
    /// then 19-21 if those are listed here).
    pub versions: Vec<u32>,
    /// The first NS redirects `USR ... I` to a second NS with `XFR ... NS`.
    pub redirect_first: bool,
    /// Send `CHL 0 <challenge>` after login and require a correct `QRY`.
    pub send_chl: bool,
    /// How long the client has to answer a `CHL`.
    pub chl_timeout: Duration,
    /// The number in `QNG <n>`.
    pub qng_seconds: u32,
    /// Lifetime of a Passport 1.4 `/login` token (Escargot: 30 s).
    pub twn_token_lifetime: Duration,
    /// Lifetime of an RST token (Escargot: 24 h).
    pub rst_token_lifetime: Duration,
    /// The nexus points `DALogin` at the plain-HTTP `/login` instead of HTTPS.
    pub nexus_plain_http: bool,
    /// Close the NS connection right after receiving this verb.
    pub drop_after: Option<String>,
    /// Send these raw bytes after handling this verb.
    pub garbage_after: Option<(String, Vec<u8>)>,
    /// Wait this long before handling this verb.
    pub delay: Option<(String, Duration)>,
    /// Never answer `PNG`.
    pub ignore_png: bool,
    /// Answer matching HTTP requests with this canned response instead (hostile-server tests).
    pub http_override: Option<HttpOverride>,
    /// Also start an HTTP `CONNECT` proxy.
    pub proxy: bool,
    /// Strict mode (on by default): a client command with an unknown verb or a TrID out of
    /// sequence, or a SOAP request Escargot refuses, is a violation, and dropping the server
    /// with violations recorded panics (fails the test).
    pub strict: bool,
    /// Fault injection (soak runs): random drops, delayed and split writes, SOAP faults.
    pub faults: Option<FaultPlan>,
    /// Fixed NS port (0 = ephemeral).
    pub ns_port: u16,
    /// Fixed HTTP port (0 = ephemeral).
    pub http_port: u16,
    /// Fixed HTTPS port (0 = ephemeral).
    pub https_port: u16,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            contacts: Vec::new(),
            versions: (8..=18).collect(),
            redirect_first: false,
            send_chl: false,
            chl_timeout: Duration::from_secs(50),
            qng_seconds: 60,
            twn_token_lifetime: Duration::from_secs(30),
            rst_token_lifetime: Duration::from_secs(86_400),
            nexus_plain_http: false,
            drop_after: None,
            garbage_after: None,
            delay: None,
            ignore_png: false,
            http_override: None,
            proxy: false,
            strict: true,
            faults: None,
            ns_port: 0,
            http_port: 0,
            https_port: 0,
        }
    }
}

impl ServerConfig {
    /// Adds an account.
    pub fn with_user(mut self, email: &str, password: &str, friendly: &str) -> Self {
        self.users.push(UserSpec {
            email: email.to_owned(),
            password: password.to_owned(),
            friendly: friendly.to_owned(),
            uuid: None,
        });
        self
    }

    /// Sets the account GUID of an already added user.
    pub fn with_uuid(mut self, email: &str, uuid: &str) -> Self {
        for u in self
            .users
            .iter_mut()
            .filter(|u| u.email.eq_ignore_ascii_case(email))
        {
            u.uuid = Some(uuid.to_owned());
        }
        self
    }

    /// Puts `contact` on `owner`'s lists (`lists` bitmask).
    pub fn with_contact(mut self, owner: &str, contact: &str, lists: u8) -> Self {
        self.contacts.push(ContactSpec {
            owner: owner.to_owned(),
            contact: contact.to_owned(),
            lists,
        });
        self
    }

    /// Replaces the accepted dialects.
    pub fn with_versions(mut self, versions: impl IntoIterator<Item = u32>) -> Self {
        self.versions = versions.into_iter().collect();
        self
    }
}
