//! What the contact list tells the user interface.

use crate::wire::{PrivacyMode, Status};

/// A contact of the forward list as the buddy list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buddy {
    /// The contact's address.
    pub email: String,
    /// The name the server stores for the contact (their friendly name), if any.
    pub server_alias: Option<String>,
    /// The private nickname stored in the address book (MSNP13+), if any.
    pub nickname: Option<String>,
    /// Names of the server groups the contact is in; empty for none (the default group).
    pub groups: Vec<String>,
    /// Network id (1 Passport, 4 telephone, 32 Yahoo!, 0 unknown).
    pub network: u32,
}

/// A song a contact is listening to (`CurrentMedia` of type `Music`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Media {
    /// Title (`{0}`).
    pub title: String,
    /// Artist (`{1}`).
    pub artist: String,
    /// Album (`{2}`).
    pub album: String,
}

/// A contact's presence and profile as last reported; every report carries the whole state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Presence {
    /// The contact's address.
    pub email: String,
    /// The status, `None` when offline.
    pub status: Option<Status>,
    /// Their current friendly name, when online.
    pub friendly: Option<String>,
    /// Their personal message (empty for none).
    pub psm: String,
    /// What they are listening to.
    pub media: Option<Media>,
    /// Client capability bits (`0x1` mobile, ...).
    pub capabilities: u32,
    /// Network id (1 Passport, 4 telephone, 32 Yahoo!, 0 unknown).
    pub network: u32,
}

/// Another place where our account is signed in (MSNP16+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Its machine GUID, braced as the server shows it.
    pub id: String,
    /// The name it gave itself (`EpName`), if any.
    pub name: Option<String>,
}

impl Place {
    /// How the user sees it: its name and GUID, or the GUID alone.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} {}", self.id),
            None => self.id.clone(),
        }
    }
}

/// Contact-list and presence changes for the user interface.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactEvent {
    /// The server's whole list after sign-in: show exactly these groups and buddies.
    ListSynced {
        /// Server group names.
        groups: Vec<String>,
        /// Forward-list contacts.
        buddies: Vec<Buddy>,
        /// Addresses on the allow list.
        allowed: Vec<String>,
        /// Addresses on the block list.
        blocked: Vec<String>,
    },
    /// A forward-list contact was added or changed: show it exactly so.
    BuddyChanged(Buddy),
    /// A contact left the forward list.
    BuddyRemoved {
        /// The contact's address.
        email: String,
    },
    /// A server group was created.
    GroupAdded {
        /// Its name.
        name: String,
    },
    /// A server group was renamed.
    GroupRenamed {
        /// Old name.
        old: String,
        /// New name.
        new: String,
    },
    /// A server group was deleted.
    GroupRemoved {
        /// Its name.
        name: String,
    },
    /// Someone joined (`on`) or left the allow list.
    Allowed {
        /// The address.
        email: String,
        /// On the list now.
        on: bool,
    },
    /// Someone joined (`on`) or left the block list.
    Blocked {
        /// The address.
        email: String,
        /// On the list now.
        on: bool,
    },
    /// The server's treatment of people on neither list (`BLP`).
    PrivacyMode(PrivacyMode),
    /// Someone added us and awaits a decision (answer with `Session::answer_authorization`).
    AuthRequest {
        /// Who.
        email: String,
        /// Their friendly name, when known.
        friendly: Option<String>,
        /// Their invitation message (MSNP13+), when they sent one.
        message: Option<String>,
        /// Whether they are on our forward list already.
        on_list: bool,
    },
    /// A contact's presence or profile changed.
    Presence(Presence),
    /// Our own friendly name as the server stores it.
    OwnName(String),
    /// Another place of our account set the account's status (MSNP16+); the server already
    /// has it, so showing it must not send it back.
    OwnStatus(Status),
    /// A list change or fetch failed; the text says what and why.
    Failed(String),
}
