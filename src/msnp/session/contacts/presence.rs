//! Presence: ours (`CHG` with capabilities, `UUX`, idle, invisible) and our contacts'
//! (`ILN`, `NLN`, `FLN`, `UBX` in every version's shape), docs/protocol.md §6.

use std::collections::HashMap;

use super::events::{ContactEvent, Presence};
use super::psm;
use super::roster::clean_name;
use super::{contact_event, Contacts};
use crate::session::cx::Cx;
use crate::session::login::client_caps;
use crate::wire::{self, ClientCommand, Fln, Status, Ubx};

/// Most contacts whose presence is kept.
const MAX_WATCHED: usize = 100_000;
/// The endpoint name MSNP16+ servers show our other sessions.
const ENDPOINT_NAME: &str = "purple-msnp";

/// Our own presence: what the user chose and what the server was told.
#[derive(Debug, Default)]
pub(super) struct Own {
    /// The chosen status (`Online` while idle: idleness is separate).
    status: Option<Status>,
    /// The personal message.
    psm: String,
    /// Whether the user is idle.
    idle: bool,
    /// Whether the first `CHG` went out (before it, changes are only remembered).
    online: bool,
    /// The status last sent.
    sent_status: Option<Status>,
    /// Our display-picture object as `CHG` carries it (`None`: none, sent as `0`).
    object: Option<String>,
    /// The display-picture object last sent with it (MSNP9+).
    sent_object: Option<String>,
    /// The personal message last sent.
    sent_psm: Option<String>,
    /// The status the server last confirmed (its `CHG` echo).
    confirmed: Option<Status>,
}

/// The presence of every contact heard of, by lower-cased address.
#[derive(Debug, Default)]
pub(super) struct Watch {
    contacts: HashMap<String, Presence>,
}

impl Watch {
    /// The presence last reported for `email`.
    pub(super) fn get(&self, email: &str) -> Option<&Presence> {
        self.contacts.get(&email.to_ascii_lowercase())
    }
}

impl Contacts {
    /// Takes the status and personal message to sign in with from the configuration.
    pub(super) fn init_own_presence(&mut self, cx: &mut Cx) {
        let status = match cx.config.initial_status {
            Status::Offline => Status::Online,
            other => other,
        };
        self.own.status = Some(status);
        self.own.psm = cx.config.personal_message.clone();
    }

    /// Sends the first `CHG` (which makes the server send the contacts' presence) and, on
    /// MSNP11+, the personal message.
    pub(super) fn go_online(&mut self, cx: &mut Cx) {
        self.own.online = true;
        self.send_status(cx);
        self.send_psm(cx);
    }

    /// The server confirmed our status (its `CHG` echo).
    pub(super) fn own_status_confirmed(&mut self, status: Status) {
        log::debug!("own status is now {}", status.code());
        self.own.confirmed = Some(status);
    }

    /// Whether the server has us appearing offline (`HDN` confirmed).
    pub(in crate::session) fn appears_offline(&self) -> bool {
        self.own.confirmed == Some(Status::Hidden)
    }

    /// Sets our status and personal message (libpurple's `set_status`).
    pub(in crate::session) fn set_status(
        &mut self,
        cx: &mut Cx,
        status: Status,
        personal_message: &str,
    ) {
        if status != Status::Offline {
            self.own.status = Some(status);
        }
        self.own.psm = personal_message.to_owned();
        if self.own.online {
            self.send_status(cx);
            self.send_psm(cx);
        }
    }

    /// Marks us idle or back (libpurple's `set_idle`): `IDL` while otherwise online.
    pub(in crate::session) fn set_idle(&mut self, cx: &mut Cx, idle: bool) {
        self.own.idle = idle;
        if self.own.online {
            self.send_status(cx);
        }
    }

    /// Our display picture changed to `object` (its XML, `0` for none): `CHG` advertises the
    /// new one once online.
    pub(in crate::session) fn own_picture_changed(&mut self, cx: &mut Cx, object: Option<String>) {
        self.own.object = object;
        if self.own.online {
            self.send_status(cx);
        }
    }

    /// The status the server should show: `IDL` replaces `NLN` while idle.
    fn effective_status(&self) -> Status {
        match self.own.status.unwrap_or(Status::Online) {
            Status::Online if self.own.idle => Status::Idle,
            Status::Idle if !self.own.idle => Status::Online,
            other => other,
        }
    }

    fn send_status(&mut self, cx: &mut Cx) {
        let status = self.effective_status();
        let dialect = cx.dialect;
        let msn_object = dialect
            .chg_msn_object()
            .then(|| self.own.object.clone().unwrap_or_else(|| "0".to_owned()));
        let own = &self.own;
        if own.sent_status == Some(status) && own.sent_object == msn_object {
            return;
        }
        cx.send_ns(ClientCommand::Chg {
            status,
            capabilities: Some(client_caps(dialect)),
            msn_object: msn_object.clone(),
        });
        self.own.sent_status = Some(status);
        self.own.sent_object = msn_object;
        if dialect.endpoints() {
            let payload = psm::build_endpoint_uux(ENDPOINT_NAME, self.own.idle, status.code());
            cx.send_ns(ClientCommand::Uux { payload });
        }
    }

    fn send_psm(&mut self, cx: &mut Cx) {
        let sent = self.own.sent_psm.as_deref().unwrap_or_default();
        if !cx.dialect.personal_messages() || sent == self.own.psm {
            return;
        }
        let guid = (cx.dialect.machine_guid_in_psm()).then_some(cx.config.machine_guid.as_str());
        let payload = psm::build_uux(&self.own.psm, guid);
        cx.send_ns(ClientCommand::Uux { payload });
        self.own.sent_psm = Some(self.own.psm.clone());
    }

    /// `NLN` for our own address (MSNP16+): the account's status, which the last place to set
    /// one chose. A status other than what we sent (once the server answered our last `CHG`)
    /// was set elsewhere: it becomes ours without a `CHG` back. Idleness stays each place's own.
    fn on_own_presence(&mut self, cx: &mut Cx, status: Status) {
        let own = &mut self.own;
        // While a `CHG` of ours is unanswered, this reports an older state of the account.
        let settled = own.confirmed == own.sent_status;
        if !settled
            || matches!(status, Status::Idle | Status::Offline)
            || own.sent_status == Some(status)
        {
            return;
        }
        log::debug!("status {} set from another place", status.code());
        own.status = Some(status);
        own.sent_status = Some(status);
        own.confirmed = Some(status);
        contact_event(cx, ContactEvent::OwnStatus(status));
    }

    /// Whether `email` is our own account (MSNP16+ servers report our other endpoints).
    fn is_own_account(&self, cx: &Cx, email: &str) -> bool {
        email.eq_ignore_ascii_case(&cx.config.account)
    }

    /// `ILN`/`NLN`: a contact is online (or changed status or name).
    pub(super) fn on_presence(&mut self, cx: &mut Cx, presence: wire::Presence) {
        if self.is_own_account(cx, &presence.contact) {
            if cx.dialect.endpoints() {
                self.on_own_presence(cx, presence.status);
            }
            return;
        }
        let status = match presence.status {
            Status::Offline | Status::Hidden => None,
            other => Some(other),
        };
        let friendly = clean_name(&presence.friendly);
        let caps = presence.capabilities.map_or(0, |c| c.client);
        let network = presence.network_id;
        self.update_presence(cx, &presence.contact, |p| {
            p.status = status;
            p.friendly = friendly;
            p.capabilities = caps;
            if let Some(network) = network {
                p.network = network;
            }
        });
    }

    /// `FLN`: a contact went offline.
    pub(super) fn on_offline(&mut self, cx: &mut Cx, fln: Fln) {
        if self.is_own_account(cx, &fln.contact) {
            return;
        }
        self.update_presence(cx, &fln.contact, |p| {
            p.status = None;
        });
    }

    /// `UBX`: a contact's personal message and media.
    pub(super) fn on_ubx(&mut self, cx: &mut Cx, ubx: Ubx) {
        if self.is_own_account(cx, &ubx.contact) {
            if cx.dialect.endpoints() {
                self.on_own_ubx(cx, &ubx.payload);
            }
            return;
        }
        let profile = match psm::parse_ubx(&ubx.payload) {
            Ok(profile) => profile,
            Err(e) => return log::warn!("ignored UBX: {e}"),
        };
        self.update_presence(cx, &ubx.contact, |p| {
            p.psm = profile.psm;
            p.media = profile.media;
        });
    }

    /// Changes a contact's presence and reports it if anything changed (servers repeat
    /// themselves, MSNP18 especially).
    fn update_presence(&mut self, cx: &mut Cx, email: &str, change: impl FnOnce(&mut Presence)) {
        if !super::usable_address(email) {
            return log::debug!("presence for an unusable address ignored");
        }
        let key = email.to_ascii_lowercase();
        let watched = &mut self.watch.contacts;
        if !watched.contains_key(&key) && watched.len() >= MAX_WATCHED {
            return log::warn!("too many contacts: presence ignored");
        }
        let network = self
            .roster
            .get(email)
            .map_or(super::NETWORK_PASSPORT, |c| c.network);
        let entry = watched.entry(key).or_insert_with(|| Presence {
            email: email.to_owned(),
            network,
            ..Presence::default()
        });
        let before = entry.clone();
        change(entry);
        if *entry != before {
            let event = ContactEvent::Presence(entry.clone());
            contact_event(cx, event);
        }
    }
}
