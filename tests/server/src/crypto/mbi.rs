//! The MBI_KEY_OLD response blob of `USR <trid> SSO S <ticket> <blob>` (docs/protocol.md §3.3),
//! verified the way Escargot does it: exact header words, payload length, HMAC and 3DES.

use base64::Engine as _;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Standard base64 that, like Python's decoder Escargot uses, ignores non-zero trailing bits.
const LENIENT_B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);
type TdesCbc = cbc::Encryptor<des::TdesEde3>;

/// The header words Escargot checks exactly: size, CBC, CALG_3DES, CALG_SHA1, IV length, hash length.
const HEADER: [u32; 6] = [28, 1, 0x6603, 0x8004, 8, 20];
/// Longest blob text accepted (a real one is 172 base64 characters).
pub const MAX_BLOB_TEXT: usize = 1024;

/// Why a blob was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobError {
    /// Not base64, or too long.
    Encoding,
    /// Shorter than the header, a header word differs, or the payload length disagrees.
    Layout,
    /// The HMAC-SHA1 of the nonce does not match.
    Hash,
    /// The 3DES encryption of the nonce does not match.
    Cipher,
}

/// Derives a 24-byte 3DES key from the proof key `secret` for `label`
/// (`"SESSION KEY HASH"` or `"SESSION KEY ENCRYPTION"`).
pub fn derive_key(secret: &[u8], label: &str) -> [u8; 24] {
    let seed = format!("WS-SecureConversation{label}").into_bytes();
    let h1 = hmac(secret, &[&seed]);
    let h2 = hmac(secret, &[&h1, &seed]);
    let h3 = hmac(secret, &[&h1]);
    let h4 = hmac(secret, &[&h3, &seed]);
    let mut key = [0u8; 24];
    key[..20].copy_from_slice(&h2);
    key[20..].copy_from_slice(&h4[..4]);
    key
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha1::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// 3DES-EDE-CBC of `nonce` with PKCS#5 padding (identical to the clients' fixed `8 x 0x08`
/// padding whenever `nonce.len()` is a multiple of 8, as Escargot's 64-character nonces are).
fn encrypt_nonce(key: &[u8; 24], iv: &[u8; 8], nonce: &[u8]) -> Vec<u8> {
    let pad = 8 - nonce.len() % 8;
    let mut buf = nonce.to_vec();
    buf.extend(std::iter::repeat_n(pad as u8, pad));
    let len = buf.len();
    TdesCbc::new(key.into(), iv.into())
        .encrypt_padded_mut::<cbc::cipher::block_padding::NoPadding>(&mut buf, len)
        .expect("buffer is a whole number of blocks");
    buf
}

/// Checks `blob_b64` against the proof key `secret` and the `nonce` text the server sent.
pub fn verify(blob_b64: &str, secret: &[u8], nonce: &str) -> Result<(), BlobError> {
    if blob_b64.len() > MAX_BLOB_TEXT {
        return Err(BlobError::Encoding);
    }
    let blob = LENIENT_B64
        .decode(blob_b64)
        .map_err(|_| BlobError::Encoding)?;
    let word = |i: usize| -> Option<u32> {
        let b = blob.get(i * 4..i * 4 + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    for (i, expected) in HEADER.iter().enumerate() {
        if word(i) != Some(*expected) {
            return Err(BlobError::Layout);
        }
    }
    let cipher_len = word(6).ok_or(BlobError::Layout)? as usize;
    let payload = blob.get(28..).ok_or(BlobError::Layout)?;
    if payload.len() != 8 + 20 + cipher_len {
        return Err(BlobError::Layout);
    }
    let (iv, rest) = payload.split_at(8);
    let (hash, cipher) = rest.split_at(20);

    let key_hash = derive_key(secret, "SESSION KEY HASH");
    if hmac(&key_hash, &[nonce.as_bytes()]) != hash {
        return Err(BlobError::Hash);
    }
    let key_enc = derive_key(secret, "SESSION KEY ENCRYPTION");
    let iv: [u8; 8] = iv.try_into().map_err(|_| BlobError::Layout)?;
    if encrypt_nonce(&key_enc, &iv, nonce.as_bytes()) != cipher {
        return Err(BlobError::Cipher);
    }
    Ok(())
}

/// Builds a blob the way clients do (used by this crate's tests and by test clients).
pub fn build(secret: &[u8], nonce: &str, iv: [u8; 8]) -> String {
    let key_hash = derive_key(secret, "SESSION KEY HASH");
    let key_enc = derive_key(secret, "SESSION KEY ENCRYPTION");
    let hash = hmac(&key_hash, &[nonce.as_bytes()]);
    let cipher = encrypt_nonce(&key_enc, &iv, nonce.as_bytes());
    let mut blob = Vec::with_capacity(28 + 8 + 20 + cipher.len());
    for w in HEADER {
        blob.extend_from_slice(&w.to_le_bytes());
    }
    blob.extend_from_slice(&(cipher.len() as u32).to_le_bytes());
    blob.extend_from_slice(&iv);
    blob.extend_from_slice(&hash);
    blob.extend_from_slice(&cipher);
    base64::engine::general_purpose::STANDARD.encode(blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Sklz3/e9WaJU9lcR7L39RhsU350BAgME";
    const NONCE: &str = "2xKiutH8RD9TZpMMqJCcc/GZew8uzEuVuP5HbkrhbgtaAKP9/MzMxCEs/NhQb7e+";

    fn secret() -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(SECRET)
            .unwrap()
    }

    #[test]
    fn derives_reference_keys() {
        let hex = |k: [u8; 24]| k.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(derive_key(&secret(), "SESSION KEY HASH")),
            "f4424db7b4d6feb1560d8a69ab76bba0a88bd67d65e9d5a5"
        );
        assert_eq!(
            hex(derive_key(&secret(), "SESSION KEY ENCRYPTION")),
            "c1871e781fd7f445fa49b646e5eeab37f5ea9028d482af37"
        );
    }

    #[test]
    fn rejects_tampering() {
        let good = build(&secret(), NONCE, [7; 8]);
        assert_eq!(verify(&good, &secret(), NONCE), Ok(()));
        assert_eq!(verify(&good, &secret(), "x"), Err(BlobError::Hash));
        assert_eq!(verify(&good, &[0; 24], NONCE), Err(BlobError::Hash));
        assert_eq!(verify("!!", &secret(), NONCE), Err(BlobError::Encoding));
        assert_eq!(verify("AAAA", &secret(), NONCE), Err(BlobError::Layout));
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(&good)
            .unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let bad = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert_eq!(verify(&bad, &secret(), NONCE), Err(BlobError::Cipher));
    }
}
