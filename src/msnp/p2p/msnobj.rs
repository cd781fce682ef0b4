//! MSNObject: the `<msnobj …/>` element that names a display picture, custom emoticon, wink or
//! voice clip, with its checksums (Pidgin's `libpurple/protocols/msn/object.c`):
//! `SHA1D` = base64(SHA-1(data)); `SHA1C` = base64(SHA-1 of
//! `Creator<v>Size<v>Type<v>Location<v>Friendly<v>SHA1D<v>`, concatenated as is).
//!
//! Parsing is bounded and refuses names that could become file paths (CVE-2010-0013 was a
//! custom emoticon `Location` with `..` in another plugin).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use quick_xml::events::Event;
use quick_xml::Reader;
use sha1::{Digest, Sha1};
use thiserror::Error;

/// Longest `<msnobj …/>` element read.
pub const MAX_XML: usize = 4096;
/// Longest `Creator` and `Location`.
const MAX_NAME: usize = 256;
/// Longest `Friendly` (base64 text).
const MAX_FRIENDLY: usize = 1024;
/// Length of a base64 SHA-1 digest.
const DIGEST_B64: usize = 28;

/// Object types (the `Type` attribute) this plugin uses.
pub mod kind {
    /// A custom emoticon.
    pub const EMOTICON: u32 = 2;
    /// A display picture (user tile).
    pub const DISPLAY_PICTURE: u32 = 3;
    /// A wink.
    pub const WINK: u32 = 8;
    /// A voice clip.
    pub const VOICE_CLIP: u32 = 11;
}

/// Why a `<msnobj …/>` element was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MsnObjectError {
    /// Longer than [`MAX_XML`].
    #[error("MSNObject of {0} bytes is too long")]
    TooLong(usize),
    /// Not a single well-formed `<msnobj …/>` element.
    #[error("not an msnobj element")]
    NotAnObject,
    /// A required attribute is missing.
    #[error("MSNObject lacks {0}")]
    Missing(&'static str),
    /// An attribute is malformed, too long, or names a path.
    #[error("MSNObject has a bad {0}")]
    Bad(&'static str),
}

/// A parsed or built MSNObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsnObject {
    /// The owner's address.
    pub creator: String,
    /// Size of the data in bytes (never 0).
    pub size: u64,
    /// The object type (see [`kind`]).
    pub kind: u32,
    /// The creator's file name (`0` for display pictures in presence); a plain name.
    pub location: String,
    /// base64 of the UTF-16LE friendly name plus a UTF-16 NUL (`AAA=` for none).
    pub friendly: String,
    /// base64 SHA-1 of the data.
    pub sha1d: String,
    /// base64 SHA-1 of the other fields, when sent.
    pub sha1c: Option<String>,
    /// The element as received (or as built); a request sends it back unchanged.
    pub xml: String,
}

impl MsnObject {
    /// Builds the object describing `data`, with both checksums.
    pub fn new(creator: &str, kind: u32, location: &str, friendly_name: &str, data: &[u8]) -> Self {
        let sha1d = BASE64.encode(Sha1::digest(data));
        let mut object = MsnObject {
            creator: creator.to_owned(),
            size: data.len() as u64,
            kind,
            location: location.to_owned(),
            friendly: friendly_field(friendly_name),
            sha1d,
            sha1c: None,
            xml: String::new(),
        };
        object.sha1c = Some(object.computed_sha1c());
        object.xml = object.to_xml();
        object
    }

    /// The string `SHA1C` is the hash of.
    pub fn sha1c_input(&self) -> String {
        format!(
            "Creator{}Size{}Type{}Location{}Friendly{}SHA1D{}",
            self.creator, self.size, self.kind, self.location, self.friendly, self.sha1d
        )
    }

    /// `SHA1C` as computed from the fields.
    pub fn computed_sha1c(&self) -> String {
        BASE64.encode(Sha1::digest(self.sha1c_input().as_bytes()))
    }

    /// The canonical element: the seven attributes in the official clients' order.
    pub fn to_xml(&self) -> String {
        let sha1c = self.sha1c.clone().unwrap_or_else(|| self.computed_sha1c());
        format!(
            "<msnobj Creator=\"{}\" Size=\"{}\" Type=\"{}\" Location=\"{}\" Friendly=\"{}\" SHA1D=\"{}\" SHA1C=\"{}\"/>",
            escape(&self.creator),
            self.size,
            self.kind,
            escape(&self.location),
            escape(&self.friendly),
            escape(&self.sha1d),
            escape(&sha1c)
        )
    }

    /// The friendly name, decoded (empty when there is none).
    pub fn friendly_name(&self) -> String {
        decode_friendly(&self.friendly).unwrap_or_default()
    }

    /// Whether `data` is this object: its size and `SHA1D` match.
    pub fn matches(&self, data: &[u8]) -> bool {
        data.len() as u64 == self.size && BASE64.encode(Sha1::digest(data)) == self.sha1d
    }

    /// Reads a `<msnobj …/>` element. Unknown attributes are ignored; `Creator`, `Size`
    /// (non-zero), `Type` and `SHA1D` are required.
    pub fn parse(text: &str) -> Result<MsnObject, MsnObjectError> {
        let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if text.len() > MAX_XML {
            return Err(MsnObjectError::TooLong(text.len()));
        }
        let mut reader = Reader::from_str(text);
        let element = match reader.read_event() {
            Ok(Event::Empty(e)) if e.name().as_ref() == b"msnobj" => e.into_owned(),
            _ => return Err(MsnObjectError::NotAnObject),
        };
        if !matches!(reader.read_event(), Ok(Event::Eof)) {
            return Err(MsnObjectError::NotAnObject);
        }
        let mut fields: [Option<String>; 7] = Default::default();
        const NAMES: [&str; 7] = [
            "Creator", "Size", "Type", "Location", "Friendly", "SHA1D", "SHA1C",
        ];
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|_| MsnObjectError::NotAnObject)?;
            let Some(slot) = NAMES
                .iter()
                .position(|n| n.as_bytes() == attribute.key.as_ref())
            else {
                continue;
            };
            let value = attribute
                .unescape_value()
                .map_err(|_| MsnObjectError::Bad(NAMES[slot]))?;
            fields[slot] = Some(value.into_owned());
        }
        let [creator, size, kind, location, friendly, sha1d, sha1c] = fields;
        let creator = creator.ok_or(MsnObjectError::Missing("Creator"))?;
        if creator.is_empty()
            || creator.len() > MAX_NAME
            || creator.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(MsnObjectError::Bad("Creator"));
        }
        let size = number(size, "Size")?;
        if size == 0 {
            return Err(MsnObjectError::Bad("Size"));
        }
        let kind = u32::try_from(number(kind, "Type")?).map_err(|_| MsnObjectError::Bad("Type"))?;
        let location = location.unwrap_or_default();
        if location.len() > MAX_NAME || !is_plain_name(&location) {
            return Err(MsnObjectError::Bad("Location"));
        }
        let friendly = friendly.unwrap_or_default();
        if friendly.len() > MAX_FRIENDLY
            || !(friendly.is_empty()
                || decode_friendly(&friendly).is_some_and(|name| is_plain_name(&name)))
        {
            return Err(MsnObjectError::Bad("Friendly"));
        }
        let sha1d = sha1d.ok_or(MsnObjectError::Missing("SHA1D"))?;
        if !is_digest(&sha1d) {
            return Err(MsnObjectError::Bad("SHA1D"));
        }
        if sha1c.as_deref().is_some_and(|c| !is_digest(c)) {
            return Err(MsnObjectError::Bad("SHA1C"));
        }
        Ok(MsnObject {
            creator,
            size,
            kind,
            location,
            friendly,
            sha1d,
            sha1c,
            xml: text.to_owned(),
        })
    }
}

/// The `Friendly` attribute for a name: base64 of its UTF-16LE form plus a UTF-16 NUL.
pub fn friendly_field(name: &str) -> String {
    let mut bytes: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.extend_from_slice(&[0, 0]);
    BASE64.encode(bytes)
}

/// The name in a `Friendly` attribute, without its NUL; `None` unless valid base64 of UTF-16LE.
fn decode_friendly(field: &str) -> Option<String> {
    let bytes = BASE64.decode(field).ok()?;
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    let name = String::from_utf16(&units).ok()?;
    Some(name.trim_end_matches('\0').to_owned())
}

/// No directory parts, no `..`, no drive letter, no control characters.
fn is_plain_name(name: &str) -> bool {
    !name.contains(['/', '\\', ':']) && !name.contains("..") && !name.chars().any(char::is_control)
}

/// A base64 SHA-1 digest.
fn is_digest(text: &str) -> bool {
    text.len() == DIGEST_B64 && BASE64.decode(text).is_ok_and(|d| d.len() == 20)
}

fn number(value: Option<String>, name: &'static str) -> Result<u64, MsnObjectError> {
    let value = value.ok_or(MsnObjectError::Missing(name))?;
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MsnObjectError::Bad(name));
    }
    value.parse().map_err(|_| MsnObjectError::Bad(name))
}

/// Escapes an attribute value.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        crate::test_vectors("msnobj.json")
    }

    fn data_of(description: &str) -> Vec<u8> {
        match description {
            "bytes(range(256))*4" => (0..4).flat_map(|_| 0..=255u8).collect(),
            "b'GIF89a'+100 NULs" => [b"GIF89a".as_slice(), &[0; 100]].concat(),
            other => panic!("unknown data {other}"),
        }
    }

    #[test]
    fn built_objects_match_the_vectors() {
        for v in vectors() {
            let s = |name: &str| v[name].as_str().expect(name).to_owned();
            let data = data_of(&s("data_description"));
            let object = MsnObject::new(
                &s("creator"),
                v["type"].as_u64().unwrap() as u32,
                &s("location"),
                "",
                &data,
            );
            assert_eq!(object.size, v["size"].as_u64().unwrap());
            assert_eq!(object.friendly, s("friendly"));
            assert_eq!(object.sha1d, s("sha1d"));
            assert_eq!(object.sha1c_input(), s("sha1c_input"));
            assert_eq!(object.sha1c, Some(s("sha1c")));
            assert_eq!(object.xml, s("msnobj"));
            assert!(object.matches(&data));
            assert!(!object.matches(&data[1..]));
        }
    }

    #[test]
    fn vector_objects_parse_and_write_back_the_same() {
        for v in vectors() {
            let xml = v["msnobj"].as_str().unwrap();
            let object = MsnObject::parse(xml).expect(xml);
            assert_eq!(object.creator, v["creator"].as_str().unwrap());
            assert_eq!(object.location, v["location"].as_str().unwrap());
            assert_eq!(object.sha1c.as_deref(), v["sha1c"].as_str());
            assert_eq!(object.computed_sha1c(), v["sha1c"].as_str().unwrap());
            assert_eq!(object.to_xml(), xml);
            assert_eq!(object.xml, xml);
        }
    }

    #[test]
    fn friendly_names_round_trip() {
        assert_eq!(friendly_field(""), "AAA=");
        let object = MsnObject::new("a@b.c", kind::WINK, "0", "Wink ☺", b"x");
        assert_eq!(object.friendly_name(), "Wink ☺");
        assert_eq!(MsnObject::parse(&object.xml), Ok(object));
    }

    #[test]
    fn names_with_path_components_are_refused() {
        let base = MsnObject::new("a@b.c", kind::EMOTICON, "x", "", b"data");
        for location in [
            "../../.bashrc",
            "a/b",
            "..",
            "C:evil",
            "dir\\file",
            "a\u{1}b",
        ] {
            let object = MsnObject {
                location: location.to_owned(),
                ..base.clone()
            };
            assert_eq!(
                MsnObject::parse(&object.to_xml()),
                Err(MsnObjectError::Bad("Location")),
                "{location}"
            );
        }
        for name in ["../x", "a/b", "a\\b"] {
            let object = MsnObject {
                friendly: friendly_field(name),
                ..base.clone()
            };
            assert_eq!(
                MsnObject::parse(&object.to_xml()),
                Err(MsnObjectError::Bad("Friendly")),
                "{name}"
            );
        }
    }

    #[test]
    fn malformed_objects_are_refused() {
        let good = MsnObject::new("a@b.c", kind::DISPLAY_PICTURE, "0", "", b"data").xml;
        let cases: &[(String, MsnObjectError)] = &[
            (
                "x".repeat(MAX_XML + 1),
                MsnObjectError::TooLong(MAX_XML + 1),
            ),
            ("".into(), MsnObjectError::NotAnObject),
            ("<msnobj Creator=\"a\">".into(), MsnObjectError::NotAnObject),
            (format!("{good}{good}"), MsnObjectError::NotAnObject),
            (good.replace("msnobj", "other"), MsnObjectError::NotAnObject),
            (
                good.replace(" Creator=\"a@b.c\"", ""),
                MsnObjectError::Missing("Creator"),
            ),
            (
                good.replace("Size=\"4\"", "Size=\"0\""),
                MsnObjectError::Bad("Size"),
            ),
            (
                good.replace("Size=\"4\"", "Size=\"-4\""),
                MsnObjectError::Bad("Size"),
            ),
            (
                good.replace("Type=\"3\"", "Type=\"99999999999\""),
                MsnObjectError::Bad("Type"),
            ),
            (
                good.replace("SHA1D=\"", "SHA1D=\"x"),
                MsnObjectError::Bad("SHA1D"),
            ),
            (
                good.replace("Friendly=\"AAA=\"", "Friendly=\"!!\""),
                MsnObjectError::Bad("Friendly"),
            ),
            (
                good.replace("Creator=\"a@b.c\"", "Creator=\"a b\""),
                MsnObjectError::Bad("Creator"),
            ),
        ];
        for (text, error) in cases {
            assert_eq!(MsnObject::parse(text).as_ref(), Err(error), "{text}");
        }
    }

    #[test]
    fn a_context_with_its_nul_and_extra_attributes_parses() {
        let good = MsnObject::new("a@b.c", kind::DISPLAY_PICTURE, "0", "", b"data").xml;
        let wlm = good.replace("/>", " stamp=\"x\" contenttype=\"D\"/>") + "\0";
        let object = MsnObject::parse(&wlm).expect("parses");
        assert_eq!(object.creator, "a@b.c");
        assert!(object.matches(b"data"));
    }
}
