//! MSNP16+ several places at once: the server sends every place of an account a `UBX` for the
//! account itself, with one `EndpointData` per signed-in place and, for the account's own eyes,
//! a `PrivateEndpointData` with the name each place gave itself (docs/protocol.md §6.4).
//! One place signs another out with a `UUN` to `account;{guid}`, which the server relays to
//! that place as a `UBN`; the place then ends its own connection (docs/protocol.md §6.4).

use super::events::Place;
use super::psm::MAX_UBX_LEN;
use super::Contacts;
use crate::session::cx::Cx;
use crate::session::EndReason;
use crate::soap::xml::{append, attribute, Node, XmlStream};
use crate::wire::{ClientCommand, Ubn};

/// Most places kept from one `UBX`.
pub const MAX_PLACES: usize = 64;
/// Longest place name or id kept (ids in characters, names in bytes).
pub const MAX_NAME_CHARS: usize = 256;

/// `UUN`/`UBN` type of a sign-out notification.
const SIGN_OUT_KIND: u32 = 4;
/// The body of a `UUN` that signs one place out.
const SIGN_OUT_BODY: &[u8] = b"goawyplzthxbye";
/// The body some clients send to sign every place out (with type 4 or 8).
const SIGN_OUT_ALL_BODY: &[u8] = b"gtfo";
/// The type some clients use for `gtfo` ("forward to the other connections").
const FORWARD_KIND: u32 = 8;

/// Why a place cannot be signed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// Before MSNP16 an account has one place at a time.
    #[error("this protocol version has no places to sign out")]
    Unsupported,
    /// The server does not list that place (it signed out already, or never was).
    #[error("that place is not signed in")]
    Unknown,
    /// While the account appears offline the server refuses to pass the request on (`217`).
    #[error("the server does not pass this on while you appear offline; go online first")]
    AppearingOffline,
}

/// Whether a `UBN` body asks the place that receives it to sign out.
fn is_sign_out(kind: u32, body: &[u8]) -> bool {
    matches!(kind, SIGN_OUT_KIND | FORWARD_KIND)
        && (body.starts_with(SIGN_OUT_BODY) || body == SIGN_OUT_ALL_BODY)
}

/// The places a `UBX` payload lists, in order, with the names their private data give; ids
/// unique (case-insensitively), names trimmed and without control characters.
pub fn parse_places(payload: &[u8]) -> Result<Vec<Place>, &'static str> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let mut stream =
        XmlStream::new(payload.to_vec(), b"Data", MAX_UBX_LEN).map_err(|_| "UBX too large")?;
    let mut places: Vec<Place> = Vec::new();
    let mut private: Option<usize> = None;
    stream
        .run(|path, node| {
            match (node, path.depth(), path.last()) {
                (Node::Open(e), 2, b"EndpointData" | b"PrivateEndpointData") => {
                    let id: String = attribute(e, b"id")?
                        .unwrap_or_default()
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(MAX_NAME_CHARS)
                        .collect();
                    let known = places.iter().position(|p| p.id.eq_ignore_ascii_case(&id));
                    let index = match known {
                        Some(i) => i,
                        None if !id.is_empty() && places.len() < MAX_PLACES => {
                            places.push(Place { id, name: None });
                            places.len() - 1
                        }
                        None => return Ok(()),
                    };
                    private = (path.last() == b"PrivateEndpointData").then_some(index);
                }
                (Node::Text(text), 3, b"EpName") => {
                    if let Some(place) = private.and_then(|i| places.get_mut(i)) {
                        let name = place.name.get_or_insert_with(String::new);
                        append(name, text, MAX_NAME_CHARS)?;
                    }
                }
                (Node::Close, 2, _) => private = None,
                _ => {}
            }
            Ok(())
        })
        .map_err(|_| "malformed UBX payload")?;
    for place in &mut places {
        if let Some(name) = &place.name {
            let clean: String = name.chars().filter(|c| !c.is_control()).collect();
            place.name = (!clean.trim().is_empty()).then(|| clean.trim().to_owned());
        }
    }
    Ok(places)
}

impl Contacts {
    /// `UBX` for our own address: the account's places now; ours is left out.
    pub(super) fn on_own_ubx(&mut self, cx: &mut Cx, payload: &[u8]) {
        let places = match parse_places(payload) {
            Ok(places) => places,
            Err(e) => return log::warn!("ignored our own UBX: {e}"),
        };
        let ours = cx.config.machine_guid.trim_matches(['{', '}']);
        self.places = places
            .into_iter()
            .filter(|p| !p.id.trim_matches(['{', '}']).eq_ignore_ascii_case(ours))
            .collect();
        log::debug!("{} other place(s) signed in", self.places.len());
    }

    /// The other places where our account is signed in, as the server last listed them
    /// (MSNP16+; empty before).
    pub(in crate::session) fn other_places(&self) -> &[Place] {
        &self.places
    }

    /// Signs out the other place `id` (as `other_places` lists it): the server
    /// relays the request to that place, which ends its connection; the next `UBX` no longer
    /// lists it.
    pub(in crate::session) fn sign_out_place(
        &mut self,
        cx: &mut Cx,
        id: &str,
    ) -> Result<(), PlaceError> {
        if !cx.dialect.endpoints() {
            return Err(PlaceError::Unsupported);
        }
        if self.appears_offline() {
            return Err(PlaceError::AppearingOffline);
        }
        let bare = id.trim_matches(['{', '}']);
        let place = self
            .places
            .iter()
            .find(|p| p.id.trim_matches(['{', '}']).eq_ignore_ascii_case(bare))
            .ok_or(PlaceError::Unknown)?;
        let to = format!(
            "{};{{{}}}",
            cx.config.account,
            place.id.trim_matches(['{', '}'])
        );
        log::info!("signing out another place of this account");
        cx.send_ns(ClientCommand::Uun {
            to,
            kind: SIGN_OUT_KIND,
            payload: SIGN_OUT_BODY.to_vec(),
        });
        Ok(())
    }

    /// Signs out every other place (one request each, so this place stays signed in); how
    /// many were asked.
    pub(in crate::session) fn sign_out_other_places(
        &mut self,
        cx: &mut Cx,
    ) -> Result<usize, PlaceError> {
        if !cx.dialect.endpoints() {
            return Err(PlaceError::Unsupported);
        }
        if self.appears_offline() {
            return Err(PlaceError::AppearingOffline);
        }
        let ids: Vec<String> = self.places.iter().map(|p| p.id.clone()).collect();
        for id in &ids {
            self.sign_out_place(cx, id)?;
        }
        Ok(ids.len())
    }

    /// `UBN`: at MSNP16+, another place of our own account signing this one out sends `OUT`
    /// and returns why the session ends (for good); anything else is logged.
    pub(in crate::session) fn on_ubn(&mut self, cx: &mut Cx, ubn: Ubn) -> Option<EndReason> {
        let sender = ubn.contact.split(';').next().unwrap_or_default();
        if !is_sign_out(ubn.kind, &ubn.payload) {
            log::debug!("UBN type {} ignored", ubn.kind);
            return None;
        }
        if !cx.dialect.endpoints() || !cx.is_own_address(sender) {
            log::warn!("ignored a sign-out request not from this account's places");
            return None;
        }
        log::info!("signed out from another place of this account");
        cx.send_ns(ClientCommand::Out);
        Some(EndReason::SignedOutElsewhere)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::synced_v18;
    use super::*;
    use crate::session::sim::Sim;

    const WORK: &str = "5b2c1e0a-7d3f-4c8e-9a61-2f4b8d0c3e17";
    const LAPTOP: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

    /// Alice at MSNP18, told by the server of two other places.
    fn alice_with_two_other_places() -> Sim {
        let mut h = synced_v18();
        let ours = h.session.config.machine_guid.clone();
        let payload = format!(
            "<Data><EndpointData id=\"{ours}\"/><EndpointData id=\"{{{WORK}}}\"/>\
             <EndpointData id=\"{{{LAPTOP}}}\"/></Data>"
        );
        h.feed(format!("UBX 1:alice@example.com {}\r\n{payload}", payload.len()).as_bytes());
        h.take_lines_but_png();
        h
    }

    #[test]
    fn signing_out_a_place_sends_uun_type_4_to_its_guid() {
        let mut h = alice_with_two_other_places();
        h.session
            .sign_out_place(&WORK.to_ascii_uppercase())
            .unwrap();
        h.drain();
        let lines = h.take_lines_but_png();
        let [line, body] = lines.as_slice() else {
            panic!("{lines:?}")
        };
        assert!(
            line.starts_with("UUN ")
                && line.ends_with(&format!(" alice@example.com;{{{WORK}}} 4 14")),
            "{line}"
        );
        assert_eq!(body, "goawyplzthxbye");
        assert_eq!(
            h.session
                .sign_out_place("{ffffffff-0000-0000-0000-000000000000}"),
            Err(PlaceError::Unknown)
        );
        h.drain();
        assert_eq!(h.take_lines_but_png(), Vec::<String>::new());
        assert!(h.ended().is_none());
    }

    #[test]
    fn appearing_offline_the_request_is_refused_here() {
        let mut h = alice_with_two_other_places();
        h.session.set_status(crate::wire::Status::Hidden, "");
        h.drain();
        let chg = h
            .take_lines()
            .into_iter()
            .find(|l| l.starts_with("CHG "))
            .unwrap();
        h.feed_lines(&[&chg]);
        assert_eq!(
            h.session.sign_out_other_places(),
            Err(PlaceError::AppearingOffline)
        );
        h.drain();
        assert_eq!(h.take_lines_but_png(), Vec::<String>::new());
    }

    #[test]
    fn signing_out_every_other_place_keeps_this_one() {
        let mut h = alice_with_two_other_places();
        assert_eq!(h.session.sign_out_other_places(), Ok(2));
        h.drain();
        // Each request's body runs into the next request's line.
        let sent = h.take_sent();
        let targets: Vec<&str> = sent
            .split("goawyplzthxbye")
            .filter(|l| l.starts_with("UUN "))
            .filter_map(|l| l.split(' ').nth(2))
            .collect();
        assert_eq!(
            targets,
            [
                format!("alice@example.com;{{{WORK}}}"),
                format!("alice@example.com;{{{LAPTOP}}}")
            ]
        );
        assert!(h.ended().is_none());
    }

    #[test]
    fn a_sign_out_from_another_place_ends_the_session_for_good() {
        let mut h = synced_v18();
        h.feed(format!("UBN alice@example.com;{{{WORK}}} 4 14\r\ngoawyplzthxbye").as_bytes());
        assert_eq!(h.take_lines_but_png(), ["OUT"]);
        let reason = h.ended().cloned().expect("ended");
        assert_eq!(reason, EndReason::SignedOutElsewhere);
        assert!(!reason.is_transient());
    }

    #[test]
    fn sign_out_requests_not_from_this_account_are_ignored() {
        let mut h = synced_v18();
        h.feed(b"UBN bob@example.com 4 14\r\ngoawyplzthxbye");
        h.feed(b"UBN alice@example.com 1 4\r\ngtfo");
        h.feed(b"UBN alice@example.com 4 5\r\nhello");
        assert!(h.ended().is_none());
        assert_eq!(h.take_lines_but_png(), Vec::<String>::new());
        h.feed(b"UBN alice@example.com 8 4\r\ngtfo");
        assert_eq!(h.ended(), Some(&EndReason::SignedOutElsewhere));
    }

    #[test]
    fn before_msnp16_there_is_no_place_to_sign_out() {
        let mut h = Sim::signed_in_ns(12, "alice@example.com");
        assert_eq!(
            h.session.sign_out_place(&format!("{{{WORK}}}")),
            Err(PlaceError::Unsupported)
        );
        h.feed(b"UBN alice@example.com 4 14\r\ngoawyplzthxbye");
        assert!(h.ended().is_none());
    }

    #[test]
    fn places_with_and_without_names() {
        let doc = b"<Data><PSM>hi</PSM><EndpointData id=\"{a1}\"><Capabilities>1:0</Capabilities>\
            </EndpointData><EndpointData id=\"{b2}\"><Capabilities>1:0</Capabilities></EndpointData>\
            <PrivateEndpointData id=\"{A1}\"><EpName>Laptop &amp; dock</EpName><Idle>false</Idle>\
            </PrivateEndpointData><PrivateEndpointData id=\"{b2}\"></PrivateEndpointData></Data>";
        let places = parse_places(doc).unwrap();
        assert_eq!(
            places,
            vec![
                Place {
                    id: "{a1}".into(),
                    name: Some("Laptop & dock".into())
                },
                Place {
                    id: "{b2}".into(),
                    name: None
                },
            ]
        );
        assert_eq!(places[0].label(), "Laptop & dock {a1}");
        assert_eq!(places[1].label(), "{b2}");
    }

    #[test]
    fn bad_or_empty_documents() {
        assert_eq!(parse_places(b""), Ok(Vec::new()));
        assert!(parse_places(b"<Data><EndpointData id=\"x\">").is_err());
        let many: String = (0..200)
            .map(|i| format!("<EndpointData id=\"{{{i}}}\"/>"))
            .collect();
        let doc = format!("<Data>{many}</Data>");
        assert_eq!(parse_places(doc.as_bytes()).unwrap().len(), MAX_PLACES);
    }
}
