//! The `MBI_KEY_OLD` response blob for `USR <trid> SSO S <ticket> <blob>` (docs/protocol.md §3.3),
//! and the machine GUID MSNP16+ appends to that command.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Shortest proof key accepted (the live service sends 24 bytes; a public vector uses 23).
pub const MIN_SECRET_LEN: usize = 16;
/// Longest proof key accepted.
pub const MAX_SECRET_LEN: usize = 64;
/// Longest nonce accepted (servers send 64 characters).
pub const MAX_NONCE_LEN: usize = 256;

/// Blob header words: header size, CBC mode, CALG_3DES, CALG_SHA1, IV length, hash length.
const HEADER: [u32; 6] = [28, 1, 0x6603, 0x8004, 8, 20];

type TripleDesCbc = cbc::Encryptor<des::TdesEde3>;
type HmacSha1 = Hmac<Sha1>;

/// Why no blob was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SsoError {
    /// The nonce is empty, longer than [`MAX_NONCE_LEN`] or not a multiple of 8 bytes long.
    #[error("SSO nonce has an unusable length")]
    NonceLength,
    /// The proof key is not between [`MIN_SECRET_LEN`] and [`MAX_SECRET_LEN`] bytes long.
    #[error("SSO proof key has an unusable length")]
    SecretLength,
}

/// Builds the base64 `MBI_KEY_OLD` blob from the `messengerclear.live.com` proof key
/// (`binary_secret`, already base64-decoded), the nonce text exactly as the server sent it, and
/// the 8-byte IV. 128-byte blob (172 base64 characters) for a 64-character nonce.
pub fn mbi_response(binary_secret: &[u8], nonce: &str, iv: [u8; 8]) -> Result<String, SsoError> {
    let blob = mbi_blob(binary_secret, nonce.as_bytes(), iv)?;
    Ok(BASE64.encode(blob.to_bytes()))
}

/// A braced, upper-case version-4 GUID made from 16 random bytes, e.g.
/// `{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0}`: machine GUIDs for MSNP16+ `USR SSO S` (store one
/// per account and reuse it) and offline-message run ids.
pub fn guid_from_bytes(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    crate::guid::braced_upper(&bytes)
}

/// Whether `guid` is a GUID Escargot accepts: 8-4-4-4-12 hex digits, in braces or without
/// (both braces or neither), nothing else.
pub fn is_valid_machine_guid(guid: &str) -> bool {
    let inner = match guid.strip_prefix('{') {
        Some(rest) => match rest.strip_suffix('}') {
            Some(inner) => inner,
            None => return false,
        },
        None => guid,
    };
    crate::guid::is_guid(inner.as_bytes())
}

/// The parts of the blob, kept apart so tests can check the intermediates.
struct MbiBlob {
    iv: [u8; 8],
    hash: [u8; 20],
    cipher: Vec<u8>,
}

impl MbiBlob {
    /// Serialises the 28-byte little-endian header followed by IV, hash and cipher.
    fn to_bytes(&self) -> Vec<u8> {
        let cipher_len = u32::try_from(self.cipher.len()).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(28 + 8 + 20 + self.cipher.len());
        for word in HEADER.into_iter().chain([cipher_len]) {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.iv);
        out.extend_from_slice(&self.hash);
        out.extend_from_slice(&self.cipher);
        out
    }
}

fn mbi_blob(secret: &[u8], nonce: &[u8], iv: [u8; 8]) -> Result<MbiBlob, SsoError> {
    if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&secret.len()) {
        return Err(SsoError::SecretLength);
    }
    if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN || nonce.len() % 8 != 0 {
        return Err(SsoError::NonceLength);
    }
    let key_hash = derive_key(secret, b"SESSION KEY HASH")?;
    let key_enc = derive_key(secret, b"SESSION KEY ENCRYPTION")?;
    let hash = hmac_sha1(&key_hash, &[nonce])?;
    let cipher = encrypt(&key_enc, iv, nonce)?;
    Ok(MbiBlob { iv, hash, cipher })
}

/// The 24-byte 3DES key for `label`: `h2 || h4[..4]` of the WS-SecureConversation derivation.
fn derive_key(secret: &[u8], label: &[u8]) -> Result<[u8; 24], SsoError> {
    let seed = [b"WS-SecureConversation".as_slice(), label].concat();
    let h1 = hmac_sha1(secret, &[&seed])?;
    let h2 = hmac_sha1(secret, &[&h1, &seed])?;
    let h3 = hmac_sha1(secret, &[&h1])?;
    let h4 = hmac_sha1(secret, &[&h3, &seed])?;
    let mut key = [0u8; 24];
    key[..20].copy_from_slice(&h2);
    key[20..].copy_from_slice(&h4[..4]);
    Ok(key)
}

/// HMAC-SHA1 of the concatenation of `parts`.
fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 20], SsoError> {
    let mut mac = HmacSha1::new_from_slice(key).map_err(|_| SsoError::SecretLength)?;
    for part in parts {
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// 3DES-EDE-CBC of `nonce || 8 x 0x08`, with no further padding (every client does this).
fn encrypt(key: &[u8; 24], iv: [u8; 8], nonce: &[u8]) -> Result<Vec<u8>, SsoError> {
    let mut plain = Vec::with_capacity(nonce.len() + 8);
    plain.extend_from_slice(nonce);
    plain.extend_from_slice(&[0x08; 8]);
    let len = plain.len();
    let cipher = TripleDesCbc::new_from_slices(key, &iv).map_err(|_| SsoError::SecretLength)?;
    cipher
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .map_err(|_| SsoError::NonceLength)?;
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        crate::test_vectors("sso_mbi.json")
    }

    fn s<'a>(v: &'a Value, name: &str) -> &'a str {
        v[name]
            .as_str()
            .unwrap_or_else(|| panic!("vector lacks {name}"))
    }

    /// The public vectors' secrets have non-zero trailing bits, which Python's decoder accepts.
    fn decode_secret(v: &Value) -> Vec<u8> {
        use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
        let lenient = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        lenient.decode(s(v, "binary_secret_b64")).unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn iv_of(v: &Value) -> [u8; 8] {
        let text = s(v, "iv_hex");
        let mut iv = [0u8; 8];
        for (i, byte) in iv.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).unwrap();
        }
        iv
    }

    #[test]
    fn every_vector_is_reproduced_with_intermediates() {
        let vectors = vectors();
        assert_eq!(vectors.len(), 4);
        for v in &vectors {
            let secret = decode_secret(v);
            let inter = &v["intermediate"];
            assert_eq!(hex(&secret), s(inter, "secret_hex"));
            assert_eq!(
                hex(&derive_key(&secret, b"SESSION KEY HASH").unwrap()),
                s(inter, "key_hash_hex")
            );
            assert_eq!(
                hex(&derive_key(&secret, b"SESSION KEY ENCRYPTION").unwrap()),
                s(inter, "key_enc_hex")
            );
            let blob = mbi_blob(&secret, s(v, "nonce").as_bytes(), iv_of(v)).unwrap();
            assert_eq!(hex(&blob.hash), s(inter, "hmac_hex"));
            assert_eq!(hex(&blob.cipher), s(inter, "cipher_hex"));
            assert_eq!(Some(blob.cipher.len() as u64), inter["cipher_len"].as_u64());
            let response = mbi_response(&secret, s(v, "nonce"), iv_of(v)).unwrap();
            assert_eq!(response, s(v, "response_b64"), "{}", s(v, "name"));
        }
    }

    #[test]
    fn blob_layout_matches_parsed_fields() {
        for v in vectors().iter().filter(|v| v.get("parsed").is_some()) {
            let p = &v["parsed"];
            let secret = decode_secret(v);
            let raw = BASE64
                .decode(mbi_response(&secret, s(v, "nonce"), iv_of(v)).unwrap())
                .unwrap();
            assert_eq!(Some(raw.len() as u64), p["total_len"].as_u64());
            let word = |i: usize| {
                u64::from(u32::from_le_bytes(
                    raw[i * 4..i * 4 + 4].try_into().unwrap(),
                ))
            };
            let names = [
                "header_size",
                "crypt_mode",
                "cipher_alg",
                "hash_alg",
                "iv_len",
                "hash_len",
                "cipher_len",
            ];
            for (i, name) in names.iter().enumerate() {
                assert_eq!(Some(word(i)), p[name].as_u64(), "{name}");
            }
            assert_eq!(hex(&raw[28..36]), s(p, "iv"));
            assert_eq!(hex(&raw[36..56]), s(p, "hash"));
            assert_eq!(hex(&raw[56..]), s(p, "cipher"));
        }
    }

    #[test]
    fn bad_lengths_are_errors() {
        let nonce64 = "A".repeat(64);
        assert_eq!(
            mbi_response(&[0; 24], "", [0; 8]),
            Err(SsoError::NonceLength)
        );
        assert_eq!(
            mbi_response(&[0; 24], &"A".repeat(63), [0; 8]),
            Err(SsoError::NonceLength)
        );
        assert_eq!(
            mbi_response(&[0; 24], &"A".repeat(MAX_NONCE_LEN + 8), [0; 8]),
            Err(SsoError::NonceLength)
        );
        assert_eq!(
            mbi_response(&[], &nonce64, [0; 8]),
            Err(SsoError::SecretLength)
        );
        assert_eq!(
            mbi_response(&[0; 15], &nonce64, [0; 8]),
            Err(SsoError::SecretLength)
        );
        assert_eq!(
            mbi_response(&[0; 65], &nonce64, [0; 8]),
            Err(SsoError::SecretLength)
        );
        // Other multiples of 8 work and grow the cipher accordingly.
        let raw = BASE64
            .decode(mbi_response(&[1; 24], "12345678", [0; 8]).unwrap())
            .unwrap();
        assert_eq!(raw.len(), 28 + 8 + 20 + 16);
        assert_eq!(raw[24..28], 16u32.to_le_bytes());
    }

    #[test]
    fn machine_guids() {
        let bytes: [u8; 16] = std::array::from_fn(|i| i as u8);
        let guid = guid_from_bytes(bytes);
        assert_eq!(guid, "{00010203-0405-4607-8809-0A0B0C0D0E0F}");
        assert!(is_valid_machine_guid(&guid), "{guid}");
        assert_eq!(&guid_from_bytes([0xff; 16])[15..21], "4FFF-B");
        assert!(is_valid_machine_guid(
            "{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0}"
        ));
        assert!(is_valid_machine_guid(
            "f52973b6-c926-4bad-9ba8-7c1e840e4ab0"
        ));
        for bad in [
            "",
            "{}",
            "{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0",
            "F52973B6-C926-4BAD-9BA8-7C1E840E4AB0}",
            "{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0}x",
            "{F52973B6C9264BAD9BA87C1E840E4AB0}",
            "{G52973B6-C926-4BAD-9BA8-7C1E840E4AB0}",
            "{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0-0000}",
            "{F52973B6-C926-4BAD-9BA8-7C1E840E4AB}",
        ] {
            assert!(!is_valid_machine_guid(bad), "{bad}");
        }
    }
}
