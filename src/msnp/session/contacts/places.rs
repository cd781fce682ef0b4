//! MSNP16+ several places at once: the server sends every place of an account a `UBX` for the
//! account itself, with one `EndpointData` per signed-in place and, for the account's own eyes,
//! a `PrivateEndpointData` with the name each place gave itself (docs/protocol.md §6.4).

use super::events::Place;
use super::psm::MAX_UBX_LEN;
use super::Contacts;
use crate::session::cx::Cx;
use crate::soap::xml::{append, attribute, Node, XmlStream};

/// Most places kept from one `UBX`.
pub const MAX_PLACES: usize = 64;
/// Longest place name or id kept (ids in characters, names in bytes).
pub const MAX_NAME_CHARS: usize = 256;

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
