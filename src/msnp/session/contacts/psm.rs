//! The `<Data>` documents of `UBX` (a contact's personal message and media) and `UUX` (ours),
//! docs/protocol.md §6.4.

use quick_xml::escape::escape;

use super::events::Media;
use crate::soap::xml::{append, Node, XmlStream};

/// Largest `UBX` payload read (Escargot's are under 1 KB).
pub(super) const MAX_UBX_LEN: usize = 16 * 1024;
/// Longest personal message sent, in characters (the official client's limit).
pub(super) const MAX_PSM_CHARS: usize = 129;
/// Longest text kept from one element of a `UBX`.
const MAX_TEXT_LEN: usize = 2048;

/// What a `UBX` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Profile {
    /// Personal message, unescaped, control characters dropped.
    pub psm: String,
    /// Current media of type `Music` that is switched on.
    pub media: Option<Media>,
}

/// Reads a `UBX` payload; an empty payload means nothing is set. Malformed documents are
/// errors (the caller keeps the old profile).
pub(super) fn parse_ubx(payload: &[u8]) -> Result<Profile, &'static str> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Profile::default());
    }
    let mut stream =
        XmlStream::new(payload.to_vec(), b"Data", MAX_UBX_LEN).map_err(|_| "UBX too large")?;
    let (mut psm, mut media) = (String::new(), String::new());
    stream
        .run(|path, node| {
            if let Node::Text(text) = node {
                match (path.depth(), path.last()) {
                    (2, b"PSM") => append(&mut psm, text, MAX_TEXT_LEN)?,
                    (2, b"CurrentMedia") => append(&mut media, text, MAX_TEXT_LEN)?,
                    _ => {}
                }
            }
            Ok(())
        })
        .map_err(|_| "malformed UBX payload")?;
    Ok(Profile {
        psm: psm.chars().filter(|c| !c.is_control()).collect(),
        media: parse_media(&media),
    })
}

/// Reads a `CurrentMedia` string: fields separated by the two characters `\0`,
/// `<app>\0<type>\0<enabled>\0<format>\0<arg0>\0<arg1>\0...`. Only enabled music counts.
pub(super) fn parse_media(text: &str) -> Option<Media> {
    let fields: Vec<&str> = text.split("\\0").collect();
    let (kind, enabled) = (fields.get(1)?, fields.get(2)?);
    if *kind != "Music" || *enabled != "1" {
        return None;
    }
    let arg = |i: usize| -> String {
        fields
            .get(4 + i)
            .map(|s| s.chars().filter(|c| !c.is_control()).collect())
            .unwrap_or_default()
    };
    let media = Media {
        title: arg(0),
        artist: arg(1),
        album: arg(2),
    };
    (!media.title.is_empty() || !media.artist.is_empty()).then_some(media)
}

/// The `UUX` document for our personal message (cut to [`MAX_PSM_CHARS`]); MSNP13+ add the
/// machine GUID.
pub(super) fn build_uux(psm: &str, machine_guid: Option<&str>) -> Vec<u8> {
    let psm: String = psm
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_PSM_CHARS)
        .collect();
    let mut xml = format!(
        "<Data><PSM>{}</PSM><CurrentMedia></CurrentMedia>",
        escape(psm.as_str())
    );
    if let Some(guid) = machine_guid {
        xml.push_str(&format!("<MachineGuid>{}</MachineGuid>", escape(guid)));
    }
    xml.push_str("</Data>");
    xml.into_bytes()
}

/// The MSNP16+ `UUX` describing this endpoint: its name, idleness and state.
pub(super) fn build_endpoint_uux(name: &str, idle: bool, state: &str) -> Vec<u8> {
    format!(
        "<PrivateEndpointData><EpName>{}</EpName><Idle>{idle}</Idle><ClientType>1</ClientType>\
         <State>{state}</State></PrivateEndpointData>",
        escape(name)
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_transcripts_ubx_payloads() {
        let p = parse_ubx(b"<Data><PSM>bob probe psm</PSM><CurrentMedia></CurrentMedia></Data>")
            .unwrap();
        assert_eq!(p.psm, "bob probe psm");
        assert_eq!(p.media, None);
        let msnp18 = br#"<Data><PSM>bob sso psm</PSM><CurrentMedia></CurrentMedia><DDP></DDP><SignatureSound></SignatureSound><Scene></Scene><ColorScheme></ColorScheme><EndpointData id="{67276431-56b0-47ec-92cd-61d5bfc49e43}"><Capabilities>2788999228:48</Capabilities></EndpointData></Data>"#;
        assert_eq!(parse_ubx(msnp18).unwrap().psm, "bob sso psm");
        assert_eq!(parse_ubx(b"").unwrap(), Profile::default());
    }

    #[test]
    fn unescapes_both_entity_forms_and_reads_media() {
        let p = parse_ubx(
            b"<Data><PSM>a &#x26; b &lt;3 &amp; c</PSM><CurrentMedia>WMP\\0Music\\01\\0{0} - {1}\\0Song\\0Artist\\0Album\\0</CurrentMedia></Data>",
        )
        .unwrap();
        assert_eq!(p.psm, "a & b <3 & c");
        assert_eq!(
            p.media,
            Some(Media {
                title: "Song".into(),
                artist: "Artist".into(),
                album: "Album".into()
            })
        );
        assert_eq!(parse_media("WMP\\0Music\\00\\0{0}\\0Song\\0"), None);
        assert_eq!(parse_media("WMP\\0Games\\01\\0{0}\\0Solitaire\\0"), None);
        assert_eq!(parse_media(""), None);
    }

    #[test]
    fn refuses_bad_payloads() {
        for bad in [
            &b"<Data><PSM>x</Data>"[..],
            b"<Other/>",
            b"<!DOCTYPE x><Data/>",
            b"not xml",
        ] {
            assert!(parse_ubx(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse_ubx(&vec![b' '; MAX_UBX_LEN + 1]).is_ok());
        let big = format!("<Data><PSM>{}</PSM></Data>", "x".repeat(MAX_UBX_LEN));
        assert!(parse_ubx(big.as_bytes()).is_err());
    }

    #[test]
    fn builds_uux_like_the_transcripts() {
        assert_eq!(
            build_uux("alice probe psm", None),
            b"<Data><PSM>alice probe psm</PSM><CurrentMedia></CurrentMedia></Data>"
        );
        assert_eq!(
            String::from_utf8(build_uux(
                "alice sso psm",
                Some("{0961ffc4-f6e6-41a0-9845-2214a26f069d}")
            ))
            .unwrap(),
            "<Data><PSM>alice sso psm</PSM><CurrentMedia></CurrentMedia><MachineGuid>{0961ffc4-f6e6-41a0-9845-2214a26f069d}</MachineGuid></Data>"
        );
        assert_eq!(
            build_uux("<&>\n", None),
            b"<Data><PSM>&lt;&amp;&gt;</PSM><CurrentMedia></CurrentMedia></Data>"
        );
        let long = build_uux(&"é".repeat(500), None);
        assert_eq!(
            String::from_utf8(long).unwrap().matches('é').count(),
            MAX_PSM_CHARS
        );
        assert_eq!(
            build_endpoint_uux("probe-alice", false, "NLN"),
            b"<PrivateEndpointData><EpName>probe-alice</EpName><Idle>false</Idle><ClientType>1</ClientType><State>NLN</State></PrivateEndpointData>"
        );
    }
}
