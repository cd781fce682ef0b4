//! Contact list, presence and profile: the server's list kept in the session, both ways.

use std::time::Instant;

use crate::msnp::session::login::client_caps;
use crate::msnp::session::Session;
use crate::msnp::wire::{ClientCommand, ListVersion, NsCommand, Status};

use super::HttpId;

/// The contact-list state of a session.
#[derive(Debug, Default)]
pub struct Contacts {}

/// Contact-list and presence changes for the user interface.
#[derive(Debug, Clone, PartialEq)]
pub enum ContactEvent {}

impl Session {
    /// `USR OK` arrived: fetch the list and go online.
    pub(super) fn contacts_signed_in(&mut self, _now: Instant) {
        if self.version <= 12 {
            let cached = if self.version <= 9 {
                ListVersion::Serial(0)
            } else {
                ListVersion::Timestamps {
                    contacts: "0".into(),
                    groups: "0".into(),
                }
            };
            self.send(ClientCommand::Syn { cached });
        }
        let msn_object = (self.version >= 9).then(|| "0".to_owned());
        self.send(ClientCommand::Chg {
            status: Status::Online,
            capabilities: Some(client_caps(self.version)),
            msn_object,
        });
    }

    /// A notification-server command after sign-in; returns it when it is not a list or
    /// presence command.
    pub(super) fn contacts_command(
        &mut self,
        command: NsCommand,
        _now: Instant,
    ) -> Option<NsCommand> {
        Some(command)
    }

    /// An HTTP response; false when it is not for a contact-list request.
    pub(super) fn contacts_http(&mut self, _id: HttpId, _raw: &[u8], _now: Instant) -> bool {
        false
    }

    /// An HTTP failure; false when it is not for a contact-list request.
    pub(super) fn contacts_http_failed(&mut self, _id: HttpId, _text: &str, _now: Instant) -> bool {
        false
    }

    /// The earliest contact-list deadline.
    pub(super) fn contacts_deadline(&self) -> Option<Instant> {
        None
    }

    /// Contact-list deadlines due at `now`.
    pub(super) fn contacts_timeout(&mut self, _now: Instant) {}
}
