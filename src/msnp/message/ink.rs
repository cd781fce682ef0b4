//! Handwritten messages (ink), as Pidgin's `libpurple/protocols/msn` reads them. In a
//! switchboard `MSG` (group chats): `Content-Type: image/gif` with the body `base64:<GIF>`, or
//! `application/x-ms-ink` for ink in Microsoft's ISF format. Over P2P (one-to-one
//! conversations, session id 64, `msn_slp_process_msg` in `slp.c`): a UTF-16LE MIME header that
//! names `image/gif`, a UTF-16 NUL, then the UTF-16LE `base64:<GIF>` text.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// Largest ink image accepted (decoded bytes).
pub const MAX_INK: usize = 128 * 1024;

/// The P2P session id of ink sent over P2P (not negotiated).
pub const P2P_SESSION: u32 = 64;

/// Received ink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ink {
    /// A GIF image, shown inline.
    Gif(Vec<u8>),
    /// Ink in ISF, which cannot be shown.
    Isf,
    /// Ink that could not be read: not base64, not a GIF, or too large.
    Unreadable,
}

impl Ink {
    /// The body of an `image/gif` switchboard message: `base64:` and the image.
    pub fn from_gif_body(body: &[u8]) -> Ink {
        let text = String::from_utf8_lossy(body);
        from_base64_text(&text)
    }

    /// The body of a P2P ink message (session id 64).
    pub fn from_p2p(body: &[u8]) -> Ink {
        let (header, rest) = utf16_until_nul(body);
        let header = header.to_ascii_lowercase();
        if header.contains("application/x-ms-ink") {
            return Ink::Isf;
        }
        if !header.contains("image/gif") {
            return Ink::Unreadable;
        }
        let (text, _) = utf16_until_nul(rest);
        from_base64_text(&text)
    }
}

/// `base64:<GIF>` (surrounding whitespace and line breaks allowed) as an image.
fn from_base64_text(text: &str) -> Ink {
    let Some(encoded) = text.trim_start().strip_prefix("base64:") else {
        return Ink::Unreadable;
    };
    let encoded: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    if encoded.len() / 4 * 3 > MAX_INK + 3 {
        return Ink::Unreadable;
    }
    match BASE64.decode(encoded.as_bytes()) {
        Ok(gif) if gif.len() <= MAX_INK && gif.starts_with(b"GIF8") => Ink::Gif(gif),
        _ => Ink::Unreadable,
    }
}

/// Decodes UTF-16LE up to the first NUL unit (lossily); returns the text and the bytes after
/// the NUL (empty when there is none).
fn utf16_until_nul(bytes: &[u8]) -> (String, &[u8]) {
    let units = bytes
        .chunks_exact(2)
        .map(|u| u16::from_le_bytes([u[0], u[1]]));
    let end = units.clone().position(|u| u == 0);
    let text = char::decode_utf16(units.take(end.unwrap_or(usize::MAX)))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    let rest = match end {
        Some(n) => &bytes[(n + 1) * 2..],
        None => &[],
    };
    (text, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";

    fn utf16(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn switchboard_ink_is_base64_gif() {
        let body = format!("base64:{}", BASE64.encode(GIF));
        assert_eq!(Ink::from_gif_body(body.as_bytes()), Ink::Gif(GIF.to_vec()));
        let wrapped = format!("base64:{}\r\n", BASE64.encode(GIF).replace('A', "A\r\n"));
        assert_eq!(
            Ink::from_gif_body(wrapped.as_bytes()),
            Ink::Gif(GIF.to_vec())
        );
        for bad in [
            b"R0lGODlh".as_slice(),
            b"base64:!!!!",
            b"base64:aGVsbG8=",
            b"",
        ] {
            assert_eq!(Ink::from_gif_body(bad), Ink::Unreadable, "{bad:?}");
        }
        let huge = format!("base64:{}", "A".repeat(MAX_INK * 2));
        assert_eq!(Ink::from_gif_body(huge.as_bytes()), Ink::Unreadable);
    }

    #[test]
    fn p2p_ink_is_utf16_header_nul_and_base64_text() {
        let mut body = utf16("MIME-Version: 1.0\r\nContent-Type: image/gif\r\n\r\n");
        body.extend([0, 0]);
        body.extend(utf16(&format!("base64:{}", BASE64.encode(GIF))));
        body.extend([0, 0]);
        assert_eq!(Ink::from_p2p(&body), Ink::Gif(GIF.to_vec()));

        let mut isf = utf16("Content-Type: application/x-ms-ink\r\n\r\n");
        isf.extend([0, 0, 1, 2, 3]);
        assert_eq!(Ink::from_p2p(&isf), Ink::Isf);
        for bad in [
            Vec::new(),
            vec![0xFF],
            utf16("Content-Type: image/gif"),
            utf16("Content-Type: text/plain\r\n\r\n\0base64:R0lG"),
        ] {
            assert_eq!(Ink::from_p2p(&bad), Ink::Unreadable, "{bad:?}");
        }
    }
}
