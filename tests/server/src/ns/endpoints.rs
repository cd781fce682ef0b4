//! MSNP16+ several places at once (MPOP): every place of an account hears of the others. When
//! one signs in, changes its status or data, or leaves, each place gets the account's `NLN` and
//! a `UBX` with one `EndpointData` and one `PrivateEndpointData` per place (Escargot's
//! `extend_ubx_payload`; tests/transcripts/extra-dual-login).

use super::presence::{presence_args, Outbox, EMPTY_DATA};
use crate::directory::{Directory, Online};

/// `guid` in braces, as `EndpointData id` shows it.
fn braced(guid: &str) -> String {
    let bare = guid.trim_start_matches('{').trim_end_matches('}');
    format!("{{{bare}}}")
}

/// The own-account `UBX` document of `places`: the personal message of the first place that
/// set one, then every place's capabilities and private data.
pub(crate) fn own_ubx(places: &[Online]) -> Vec<u8> {
    let psm = places
        .iter()
        .find(|p| !p.psm.is_empty())
        .map_or(EMPTY_DATA, |p| p.psm.as_slice());
    let mut doc = psm.strip_suffix(b"</Data>").unwrap_or(psm).to_vec();
    doc.extend_from_slice(&endpoint_data(places));
    for (place, guid) in with_guids(places) {
        doc.extend_from_slice(format!("<PrivateEndpointData id=\"{}\">", braced(guid)).as_bytes());
        doc.extend_from_slice(&place.endpoint);
        doc.extend_from_slice(b"</PrivateEndpointData>");
    }
    doc.extend_from_slice(b"</Data>");
    doc
}

/// `places` that have a machine GUID, with it.
fn with_guids(places: &[Online]) -> impl Iterator<Item = (&Online, &str)> {
    places
        .iter()
        .filter_map(|p| Some((p, p.machine_guid.as_deref()?)))
}

/// One `EndpointData` per place.
fn endpoint_data(places: &[Online]) -> Vec<u8> {
    let mut data = Vec::new();
    for (place, guid) in with_guids(places) {
        data.extend_from_slice(
            format!(
                "<EndpointData id=\"{}\"><Capabilities>{}</Capabilities></EndpointData>",
                braced(guid),
                place.caps
            )
            .as_bytes(),
        );
    }
    data
}

/// A contact's `UBX` document `doc` as an MSNP16+ watcher gets it: one `EndpointData` per place
/// of the contact before its end (Escargot's `extend_ubx_payload`).
pub(crate) fn with_endpoints(doc: &[u8], places: &[Online]) -> Vec<u8> {
    let data = endpoint_data(places);
    match doc.strip_suffix(b"</Data>") {
        Some(head) if !data.is_empty() => [head, &data, b"</Data>"].concat(),
        _ => doc.to_vec(),
    }
}

/// The signed-in places of `email` (status set) at MSNP16+.
pub(crate) fn places_of(dir: &Directory, email: &str) -> Vec<Online> {
    dir.online_of(email)
        .into_iter()
        .filter(|p| p.status.is_some() && p.dialect >= 16)
        .collect()
}

/// Queues the account's `NLN` and `UBX` for every place of `email`.
pub(crate) fn notify_places(dir: &Directory, email: &str, out: &mut Outbox) {
    let places = places_of(dir, email);
    let friendly = dir
        .user(email)
        .map_or(email.to_owned(), |u| u.friendly.clone());
    let ubx = own_ubx(&places);
    for place in &places {
        let status = place.status.as_deref().unwrap_or("NLN");
        let args = presence_args(place, &friendly, status, place.dialect);
        out.push(&place.conn, format!("NLN {args}"), None);
        let line = match place.dialect {
            ..=17 => format!("UBX {} 1 {}", place.email, ubx.len()),
            _ => format!("UBX 1:{} {}", place.email, ubx.len()),
        };
        out.push(&place.conn, line, Some(ubx.clone()));
    }
}

/// The inside of a `UUX` `<PrivateEndpointData>` document, if `payload` is one.
pub(crate) fn private_endpoint_data(payload: &[u8]) -> Option<Vec<u8>> {
    let inner = payload
        .strip_prefix(b"<PrivateEndpointData>")?
        .strip_suffix(b"</PrivateEndpointData>")?;
    Some(inner.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_endpoint_data_inside() {
        assert_eq!(
            private_endpoint_data(
                b"<PrivateEndpointData><EpName>pc</EpName></PrivateEndpointData>"
            ),
            Some(b"<EpName>pc</EpName>".to_vec())
        );
        assert_eq!(private_endpoint_data(b"<Data></Data>"), None);
        assert_eq!(braced("{ab}"), "{ab}");
        assert_eq!(braced("ab"), "{ab}");
    }
}
