//! The context of a file-transfer INVITE (Pidgin's `libpurple/protocols/msn/slp.c`
//! `gen_context`, docs/protocol.md): a little-endian header — its length (574 for version 2,
//! Windows Live Messenger 2009 sends version 3 with 638), the version, the file size, a
//! preview flag — the file name as UTF-16LE in 520 NUL-padded bytes, then 0xFFFFFFFF at
//! offset 570; a PNG preview may follow the header.

use thiserror::Error;

/// Length of a version 2 context, which we send.
pub const V2_LEN: usize = 574;
/// Where the file name starts.
const NAME_AT: usize = 20;
/// Bytes reserved for the file name (260 UTF-16 units).
const NAME_BYTES: usize = 520;
/// The longest safe name we keep, in characters.
pub const MAX_SAFE_NAME: usize = 200;
/// The most UTF-16 units of a name (MAX_PATH with its NUL).
const MAX_NAME_UNITS: usize = NAME_BYTES / 2 - 1;
/// The preview-flag value meaning "no preview follows".
const NO_PREVIEW: u32 = 1;

/// What a file-transfer INVITE offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileContext {
    /// The file size in bytes.
    pub size: u64,
    /// The name as sent (not yet made safe, see [`safe_name`]).
    pub name: String,
    /// Whether a preview image follows the header.
    pub preview: bool,
}

/// Why a context was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContextError {
    /// Fewer bytes than a version 2 header, or than the header says.
    #[error("file context too short ({actual} bytes, {declared} declared)")]
    Short {
        /// The declared header length.
        declared: u64,
        /// The bytes present.
        actual: usize,
    },
    /// The file name is not valid UTF-16.
    #[error("file name is not valid UTF-16")]
    BadName,
}

impl FileContext {
    /// A version 2 context without preview; a name longer than 259 UTF-16 units is cut (at a
    /// character boundary).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; V2_LEN];
        out[0..4].copy_from_slice(&(V2_LEN as u32).to_le_bytes());
        out[4..8].copy_from_slice(&2u32.to_le_bytes());
        out[8..16].copy_from_slice(&self.size.to_le_bytes());
        out[16..20].copy_from_slice(&NO_PREVIEW.to_le_bytes());
        let mut units: Vec<u16> = Vec::new();
        for c in self.name.chars() {
            if units.len() + c.len_utf16() > MAX_NAME_UNITS {
                break;
            }
            units.extend(c.encode_utf16(&mut [0; 2]).iter());
        }
        for (i, unit) in units.iter().enumerate() {
            out[NAME_AT + 2 * i..NAME_AT + 2 * i + 2].copy_from_slice(&unit.to_le_bytes());
        }
        out[570..574].copy_from_slice(&u32::MAX.to_le_bytes());
        out
    }

    /// Reads a context: any declared length of at least 574 bytes that the data holds; the name
    /// ends at its first NUL unit, or after 259 units.
    pub fn parse(bytes: &[u8]) -> Result<FileContext, ContextError> {
        let u32_at = |at: usize| {
            bytes
                .get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let declared = u32_at(0).map_or(0, u64::from);
        if bytes.len() < V2_LEN || declared < V2_LEN as u64 || declared > bytes.len() as u64 {
            return Err(ContextError::Short {
                declared,
                actual: bytes.len(),
            });
        }
        let mut size = [0u8; 8];
        size.copy_from_slice(&bytes[8..16]);
        let preview = u32_at(16) == Some(0) && (bytes.len() as u64) > declared;
        let units: Vec<u16> = bytes[NAME_AT..NAME_AT + NAME_BYTES]
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .take_while(|&u| u != 0)
            .take(MAX_NAME_UNITS)
            .collect();
        let name = String::from_utf16(&units).map_err(|_| ContextError::BadName)?;
        Ok(FileContext {
            size: u64::from_le_bytes(size),
            name,
            preview,
        })
    }
}

/// `name` as a bare file name safe to suggest for saving: the part after the last `/` or `\`,
/// without control characters, characters Windows forbids, leading dots or trailing dots and
/// spaces, at most [`MAX_SAFE_NAME`] characters (the extension kept); `file` when nothing is
/// left.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        return "file".to_owned();
    }
    let count = trimmed.chars().count();
    if count <= MAX_SAFE_NAME {
        return trimmed.to_owned();
    }
    let ext: String = match trimmed.rsplit_once('.') {
        Some((_, ext)) if ext.chars().count() <= 16 => format!(".{ext}"),
        _ => String::new(),
    };
    let keep = MAX_SAFE_NAME - ext.chars().count();
    let stem: String = trimmed.chars().take(keep).collect();
    stem.trim_end_matches(['.', ' ']).to_owned() + &ext
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_round_trip_with_the_layout_of_version_2() {
        let ctx = FileContext {
            size: 0x1_0000_0005,
            name: "résumé 😀.txt".into(),
            preview: false,
        };
        let bytes = ctx.encode();
        assert_eq!(bytes.len(), 574);
        assert_eq!(&bytes[0..8], &[0x3E, 0x02, 0, 0, 2, 0, 0, 0]);
        assert_eq!(&bytes[8..16], &[5, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&bytes[16..20], &[1, 0, 0, 0]);
        assert_eq!(&bytes[20..22], &[b'r', 0]);
        assert_eq!(&bytes[570..574], &[0xFF; 4]);
        assert_eq!(FileContext::parse(&bytes), Ok(ctx));
    }

    #[test]
    fn version_3_with_a_preview_is_read() {
        let mut bytes = FileContext {
            size: 9,
            name: "a.png".into(),
            preview: false,
        }
        .encode();
        bytes.resize(638, 0);
        bytes[0..4].copy_from_slice(&638u32.to_le_bytes());
        bytes[4..8].copy_from_slice(&3u32.to_le_bytes());
        bytes[16..20].copy_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(b"\x89PNG");
        let ctx = FileContext::parse(&bytes).unwrap();
        assert_eq!(
            (ctx.size, ctx.name.as_str(), ctx.preview),
            (9, "a.png", true)
        );
    }

    #[test]
    fn short_contexts_and_bad_names_are_refused() {
        let good = FileContext {
            size: 1,
            name: "x".into(),
            preview: false,
        }
        .encode();
        assert!(FileContext::parse(&good[..573]).is_err());
        let mut longer = good.clone();
        longer[0..4].copy_from_slice(&600u32.to_le_bytes());
        assert!(matches!(
            FileContext::parse(&longer),
            Err(ContextError::Short { declared: 600, .. })
        ));
        let mut lone = good.clone();
        lone[20..22].copy_from_slice(&0xD800u16.to_le_bytes());
        assert_eq!(FileContext::parse(&lone), Err(ContextError::BadName));
        let full = FileContext {
            size: 1,
            name: "n".repeat(400),
            preview: false,
        }
        .encode();
        assert_eq!(FileContext::parse(&full).unwrap().name.len(), 259);
        // A cut never splits a surrogate pair.
        let emoji = FileContext {
            size: 1,
            name: format!("{}😀", "n".repeat(258)),
            preview: false,
        }
        .encode();
        assert_eq!(FileContext::parse(&emoji).unwrap().name, "n".repeat(258));
    }

    #[test]
    fn names_are_reduced_to_safe_base_names() {
        for (raw, safe) in [
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Windows\\system32\\evil.dll", "evil.dll"),
            ("..", "file"),
            ("", "file"),
            ("a\0b\u{1b}[31m\n.txt", "ab[31m.txt"),
            ("..hidden", "hidden"),
            ("what?<>.txt. ", "what___.txt"),
            ("dir/", "file"),
            ("日本語.txt", "日本語.txt"),
        ] {
            assert_eq!(safe_name(raw), safe, "{raw:?}");
        }
        let long = format!("{}.tar.gz", "x".repeat(500));
        let safe = safe_name(&long);
        assert_eq!(safe.chars().count(), MAX_SAFE_NAME);
        assert!(safe.ends_with("xxx.gz"), "{safe}");
        // Cut where a dot falls: the cut name is its own safe name.
        let dotted = format!("{}.{}", "y".repeat(MAX_SAFE_NAME - 1), "z".repeat(40));
        let safe = safe_name(&dotted);
        assert_eq!(safe, "y".repeat(MAX_SAFE_NAME - 1));
        assert_eq!(safe_name(&safe), safe);
    }
}
