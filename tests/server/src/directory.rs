//! Accounts, their contact lists, issued login tokens and live NS sessions, shared by every
//! listener behind one `Mutex`.

use crate::config::ServerConfig;
use crate::conn::Conn;
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tokens kept at most (expired ones are purged first).
const MAX_TOKENS: usize = 10_000;

/// Forward list bit.
pub const FL: u8 = 0x01;
/// Allow list bit.
pub const AL: u8 = 0x02;
/// Block list bit.
pub const BL: u8 = 0x04;
/// Reverse list bit.
pub const RL: u8 = 0x08;
/// Pending list bit.
pub const PL: u8 = 0x10;

/// One contact-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The contact's sign-in name.
    pub email: String,
    /// List bitmask (1 FL, 2 AL, 4 BL, 8 RL, 16 PL).
    pub lists: u8,
    /// Ids of the owner's groups the contact is in.
    pub groups: Vec<String>,
    /// The name the owner gave the contact (`SBP MFN`, `AB.NickName`), if any.
    pub name: Option<String>,
    /// The invitation message of a pending contact.
    pub invite: Option<String>,
}

impl Contact {
    /// An entry on no list yet.
    pub fn new(email: &str) -> Contact {
        Contact {
            email: email.to_owned(),
            lists: 0,
            groups: Vec::new(),
            name: None,
            invite: None,
        }
    }
}

/// A contact group of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// GUID (MSNP10+) or the number MSNP8/9 show (`numeric`).
    pub id: String,
    /// The MSNP8/9 number.
    pub numeric: u32,
    /// Name.
    pub name: String,
}

/// A signed-in NS connection's presence, for notifying the others.
#[derive(Debug, Clone)]
pub struct Online {
    /// Signed-in user.
    pub email: String,
    /// The connection's dialect.
    pub dialect: u32,
    /// Status code (`NLN`, `AWY`, `HDN`, ...); `None` before the first `CHG`.
    pub status: Option<String>,
    /// Capability token as sent in `CHG` (`caps` or `caps:capsex`).
    pub caps: String,
    /// The MSNObject token as sent in `CHG`, if any.
    pub msnobj: Option<String>,
    /// The last `UUX` `<Data>` document.
    pub psm: Vec<u8>,
    /// MSNP16+: the machine GUID the connection signed in with.
    pub machine_guid: Option<String>,
    /// MSNP16+: the inside of the last `UUX` `<PrivateEndpointData>` (`EpName`, `Idle`, ...).
    pub endpoint: Vec<u8>,
    /// The connection.
    pub conn: Arc<Conn>,
}

/// One account.
#[derive(Debug, Clone)]
pub struct User {
    /// Sign-in name as configured.
    pub email: String,
    /// Password.
    pub password: String,
    /// Current display name (decoded).
    pub friendly: String,
    /// Account GUID, lowercase `8-4-4-4-12`.
    pub uuid: String,
    /// Contact list.
    pub contacts: Vec<Contact>,
    /// Privacy mode sent in `BLP` (`AL` or `BL`).
    pub blp: String,
    /// Contact groups.
    pub groups: Vec<Group>,
    /// List version number shown to MSNP8/9 clients.
    pub serial: u32,
}

impl User {
    /// `MemberIdHigh`: the first 32 bits of the GUID.
    pub fn member_id_high(&self) -> u32 {
        u32::from_str_radix(self.uuid.get(..8).unwrap_or("0"), 16).unwrap_or(0)
    }

    /// `MemberIdLow`: the last 32 bits of the GUID.
    pub fn member_id_low(&self) -> u32 {
        let tail = self.uuid.len().saturating_sub(8);
        u32::from_str_radix(self.uuid.get(tail..).unwrap_or("0"), 16).unwrap_or(0)
    }

    /// Passport PUID (uppercase hex of high and low member ids).
    pub fn puid(&self) -> String {
        format!("{:08X}{:08X}", self.member_id_high(), self.member_id_low())
    }

    /// Passport CID: the last 16 hex digits of the GUID.
    pub fn cid(&self) -> String {
        let hex: String = self.uuid.chars().filter(char::is_ascii_hexdigit).collect();
        hex.get(hex.len().saturating_sub(16)..)
            .unwrap_or("")
            .to_owned()
    }
}

/// An issued login token (Passport 1.4 or RST).
#[derive(Debug, Clone)]
pub struct Token {
    /// Whose it is.
    pub email: String,
    /// When it stops being accepted.
    pub expires: Instant,
    /// The messengerclear proof key, for RST tokens that requested it.
    pub secret: Option<Vec<u8>>,
}

/// A signed-in NS connection.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// Signed-in user.
    pub email: String,
    /// MSNP16+ machine GUID from `USR SSO S`.
    pub machine_guid: Option<String>,
    /// The connection.
    pub conn: Arc<Conn>,
}

/// The server's shared state.
#[derive(Debug, Default)]
pub struct Directory {
    users: Vec<User>,
    tokens: HashMap<String, Token>,
    sessions: Vec<LiveSession>,
    /// Presence of the signed-in connections, by connection id.
    online: HashMap<u64, Online>,
    /// Counter for group and other GUIDs.
    next_guid: u64,
}

/// A GUID derived from the email (stable across runs).
fn derived_uuid(email: &str) -> String {
    let h = Md5::digest(email.to_ascii_lowercase().as_bytes());
    let x: String = h.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

impl Directory {
    /// Builds the accounts and lists of `config`.
    pub fn from_config(config: &ServerConfig) -> Self {
        let mut users: Vec<User> = config
            .users
            .iter()
            .map(|u| User {
                email: u.email.clone(),
                password: u.password.clone(),
                friendly: u.friendly.clone(),
                uuid: u
                    .uuid
                    .clone()
                    .unwrap_or_else(|| derived_uuid(&u.email))
                    .to_ascii_lowercase(),
                contacts: Vec::new(),
                blp: "AL".to_owned(),
                groups: Vec::new(),
                serial: 1,
            })
            .collect();
        for c in &config.contacts {
            if let Some(owner) = users
                .iter_mut()
                .find(|u| u.email.eq_ignore_ascii_case(&c.owner))
            {
                owner.contacts.push(Contact {
                    lists: c.lists,
                    ..Contact::new(&c.contact)
                });
            }
        }
        Self {
            users,
            ..Self::default()
        }
    }

    /// The account named `email`.
    pub fn user(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// The account named `email`, mutably.
    pub fn user_mut(&mut self, email: &str) -> Option<&mut User> {
        self.users
            .iter_mut()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// The account if `password` is right.
    pub fn check_password(&self, email: &str, password: &str) -> Option<&User> {
        self.user(email).filter(|u| u.password == password)
    }

    /// Issues a fresh 20-character token for `email`.
    pub fn issue_token(
        &mut self,
        email: &str,
        lifetime: Duration,
        secret: Option<Vec<u8>>,
        now: Instant,
    ) -> String {
        self.tokens.retain(|_, t| t.expires > now);
        if self.tokens.len() >= MAX_TOKENS {
            self.tokens.clear();
        }
        let token = crate::crypto::random_hex(20);
        self.tokens.insert(
            token.clone(),
            Token {
                email: email.to_owned(),
                expires: now + lifetime,
                secret,
            },
        );
        token
    }

    /// The unexpired token `token` (its first 20 characters after an optional `t=`).
    pub fn token(&self, ticket: &str, now: Instant) -> Option<&Token> {
        let bare = ticket.strip_prefix("t=").unwrap_or(ticket);
        let key = bare.get(..20)?;
        self.tokens.get(key).filter(|t| t.expires > now)
    }

    /// Registers a signed-in connection.
    pub fn add_session(&mut self, session: LiveSession) {
        self.sessions.retain(|s| !s.conn.is_closed());
        self.sessions.push(session);
    }

    /// Removes connection `conn_id` from the live sessions (and its presence).
    pub fn remove_session(&mut self, conn_id: u64) {
        self.sessions.retain(|s| s.conn.id != conn_id);
        self.online.remove(&conn_id);
    }

    /// The presence of connection `conn_id`, if it is signed in.
    pub fn online(&self, conn_id: u64) -> Option<&Online> {
        self.online.get(&conn_id)
    }

    /// Records (or replaces) the presence of a connection.
    pub fn set_online(&mut self, conn_id: u64, online: Online) {
        self.online.insert(conn_id, online);
    }

    /// The presence of connection `conn_id`, mutably.
    pub fn online_mut(&mut self, conn_id: u64) -> Option<&mut Online> {
        self.online.get_mut(&conn_id)
    }

    /// Every live presence of `email` (several with MSNP16+ multiple points of presence).
    pub fn online_of(&self, email: &str) -> Vec<Online> {
        self.online
            .values()
            .filter(|o| o.email.eq_ignore_ascii_case(email) && !o.conn.is_closed())
            .cloned()
            .collect()
    }

    /// The status `email` shows: the first visible one of its connections (`None` offline).
    pub fn status_of(&self, email: &str) -> Option<Online> {
        self.online
            .values()
            .filter(|o| o.email.eq_ignore_ascii_case(email) && !o.conn.is_closed())
            .find(|o| o.status.as_deref().is_some_and(|s| s != "HDN"))
            .cloned()
    }

    /// Every signed-in presence.
    pub fn all_online(&self) -> Vec<Online> {
        self.online
            .values()
            .filter(|o| !o.conn.is_closed())
            .cloned()
            .collect()
    }

    /// A fresh GUID (lowercase `8-4-4-4-12`), different on every call.
    pub fn new_guid(&mut self) -> String {
        self.next_guid += 1;
        let n = self.next_guid;
        format!("{:08x}-0000-4000-8000-{n:012x}", 0x6772_6f75u32)
    }

    /// `owner`'s entry for `contact`, if any.
    pub fn contact(&self, owner: &str, contact: &str) -> Option<&Contact> {
        self.user(owner)?
            .contacts
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(contact))
    }

    /// `owner`'s entry for `contact`, created on no list if missing (`None` for an unknown
    /// owner).
    pub fn contact_mut(&mut self, owner: &str, contact: &str) -> Option<&mut Contact> {
        let user = self.user_mut(owner)?;
        let pos = match user
            .contacts
            .iter()
            .position(|c| c.email.eq_ignore_ascii_case(contact))
        {
            Some(pos) => pos,
            None => {
                user.contacts.push(Contact::new(contact));
                user.contacts.len() - 1
            }
        };
        user.contacts.get_mut(pos)
    }

    /// The GUID of `email`: its account's, or one derived from the address for a contact that
    /// is no account here.
    pub fn uuid_of(&self, email: &str) -> String {
        self.user(email)
            .map_or_else(|| derived_uuid(email), |u| u.uuid.clone())
    }

    /// `owner`'s contact whose GUID (see [`Directory::uuid_of`]) is `uuid`.
    pub fn contact_by_uuid(&self, owner: &str, uuid: &str) -> Option<String> {
        self.user(owner)?
            .contacts
            .iter()
            .find(|c| self.uuid_of(&c.email).eq_ignore_ascii_case(uuid))
            .map(|c| c.email.clone())
    }

    /// The account whose GUID is `uuid`.
    pub fn user_by_uuid(&self, uuid: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.uuid.eq_ignore_ascii_case(uuid))
    }

    /// Whether `watcher` may see `target`'s presence: not blocked, and allowed when the
    /// target only lets its allow list in.
    pub fn may_see(&self, watcher: &str, target: &str) -> bool {
        let Some(user) = self.user(target) else {
            return false;
        };
        let lists = self.contact(target, watcher).map_or(0, |c| c.lists);
        lists & BL == 0 && (user.blp == "AL" || lists & AL != 0)
    }

    /// Live sessions of `email`.
    pub fn sessions_of(&self, email: &str) -> Vec<LiveSession> {
        self.sessions
            .iter()
            .filter(|s| s.email.eq_ignore_ascii_case(email) && !s.conn.is_closed())
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_transcript_guid() {
        let cfg = ServerConfig::default()
            .with_user("alice@example.com", "pw", "Alice")
            .with_uuid("alice@example.com", "8221ece1-629a-4b44-b2e1-52c63b701275");
        let d = Directory::from_config(&cfg);
        let u = d.user("ALICE@example.com").unwrap();
        assert_eq!(u.member_id_high(), 2_183_261_409);
        assert_eq!(u.member_id_low(), 997_200_501);
        assert_eq!(u.puid(), "8221ECE13B701275");
        assert_eq!(u.cid(), "b2e152c63b701275");
    }

    #[test]
    fn tokens_expire_and_match_by_prefix() {
        let mut d = Directory::default();
        let now = Instant::now();
        let t = d.issue_token("a@b.c", Duration::from_secs(30), None, now);
        assert_eq!(t.len(), 20);
        assert!(d.token(&format!("t={t}SUFFIX&p="), now).is_some());
        assert!(d.token(&t, now + Duration::from_secs(31)).is_none());
        assert!(d.token("t=short", now).is_none());
    }
}
