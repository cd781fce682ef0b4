//! `CHL` / `QRY`: answering the server's challenge (docs/protocol.md §4).
//!
//! MSNP6-10 answer with `hex(MD5(challenge || key))`; MSNP11 and later with the MD5 + 64-bit mixing
//! + XOR algorithm of §4.2. The product id sent in `QRY` must be the one whose key was used.

use crate::dialect::Dialect;
use md5::{Digest, Md5};
use std::fmt::Write as _;

/// Longest challenge accepted; real ones are 20-28 digits.
pub const MAX_CHALLENGE_LEN: usize = 256;

/// Modulus of the MSNP11 mixer (`2^31 - 1`, a modulus, not a mask).
const MODULUS: u64 = 0x7FFF_FFFF;
/// Multiplier applied to every even-indexed word of the padded string.
const MAGIC: u64 = 0x0E79_A9C1;

/// A client identity for `QRY`: the product id sent on the wire and the key used in the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// Product id, sent as the first argument of `QRY`.
    pub id: &'static str,
    /// Product key, mixed into the hash, never sent.
    pub key: &'static str,
}

/// MSN 5/6 identity, used with the MD5 algorithm (MSNP8-10).
pub const MSMSGS: Product = Product {
    id: "msmsgs@msnmsgr.com",
    key: "Q1P7W2E4J9R8U3S5",
};
/// MSN 7.0 identity (MSNP11-12).
pub const MSN_7_0: Product = Product {
    id: "PROD0090YUAUV{2B",
    key: "YMM8C_H7KCQ2S_KL",
};
/// WLM 8.5 identity, the pair Pidgin shipped for MSNP15-18.
pub const WLM_8_5: Product = Product {
    id: "PROD0119GSJUC$18",
    key: "ILTXC!4IXB5FB*PX",
};

/// Which answer algorithm a dialect uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `hex(MD5(challenge || key))` (MSNP6-10).
    Md5,
    /// The MSNP11+ mixing algorithm (docs/protocol.md §4.2).
    Msnp11,
}

/// Why a challenge was not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    /// The challenge is empty.
    #[error("empty challenge")]
    Empty,
    /// The challenge is longer than [`MAX_CHALLENGE_LEN`] bytes.
    #[error("challenge longer than {MAX_CHALLENGE_LEN} bytes")]
    TooLong,
    /// The challenge contains a byte that is not printable ASCII.
    #[error("challenge contains a non-printable or non-ASCII byte")]
    BadCharacter,
}

/// Answers `CHL 0 <challenge>` in `dialect`: returns the product id for `QRY` and the
/// 32 lower-case hex characters of its payload.
pub fn answer(challenge: &str, dialect: Dialect) -> Result<(&'static str, String), ChallengeError> {
    if challenge.is_empty() {
        return Err(ChallengeError::Empty);
    }
    if challenge.len() > MAX_CHALLENGE_LEN {
        return Err(ChallengeError::TooLong);
    }
    if !challenge.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ChallengeError::BadCharacter);
    }
    let product = dialect.challenge_product();
    let hex = match dialect.challenge_algorithm() {
        Algorithm::Md5 => md5_answer(challenge, product.key),
        Algorithm::Msnp11 => msnp11(challenge, product.id, product.key).answer(),
    };
    Ok((product.id, hex))
}

/// MSNP6-10: `hex(MD5(challenge || key))`.
fn md5_answer(challenge: &str, key: &str) -> String {
    to_hex(&md5_of(challenge, key))
}

fn md5_of(challenge: &str, key: &str) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(challenge.as_bytes());
    md5.update(key.as_bytes());
    md5.finalize().into()
}

/// Every value of one MSNP11 computation; tests compare them with the vectors' intermediates.
#[derive(Debug)]
struct Msnp11Trace {
    /// The four MD5 words, little-endian, unmasked.
    words: [u32; 4],
    /// Final mixer value XORed into words 0 and 2.
    high: u32,
    /// Final mixer value XORed into words 1 and 3.
    low: u32,
}

impl Msnp11Trace {
    /// The 32-character hex answer: the ORIGINAL words XORed with `high` / `low`.
    fn answer(&self) -> String {
        let [w0, w1, w2, w3] = self.words;
        let out = [w0 ^ self.high, w1 ^ self.low, w2 ^ self.high, w3 ^ self.low];
        let bytes: Vec<u8> = out.iter().flat_map(|w| w.to_le_bytes()).collect();
        to_hex(&bytes)
    }
}

/// The MSNP11+ algorithm (docs/protocol.md §4.2). Works on any bytes; the caller caps the length.
fn msnp11(challenge: &str, product_id: &str, product_key: &str) -> Msnp11Trace {
    let digest = md5_of(challenge, product_key);
    let mut words = [0u32; 4];
    for (word, chunk) in words.iter_mut().zip(digest.chunks_exact(4)) {
        *word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    let k = words.map(|w| u64::from(w & 0x7FFF_FFFF));

    let padded = padded_input(challenge, product_id);

    // Operands stay below 2^32, so every product fits in u64; `low` grows by < 2^33 per pair
    // and the challenge length is capped, so it cannot overflow either.
    let (mut high, mut low) = (0u64, 0u64);
    for pair in padded.chunks_exact(8) {
        let c0 = u64::from(u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]));
        let c1 = u64::from(u32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]]));
        let t = (c0 * MAGIC) % MODULUS;
        let t = (k[0] * (t + high) + k[1]) % MODULUS;
        high = (k[2] * ((c1 + t) % MODULUS) + k[3]) % MODULUS;
        low += t + high;
    }
    high = (high + k[1]) % MODULUS;
    low = (low + k[3]) % MODULUS;

    Msnp11Trace {
        words,
        // Both are reduced modulo 2^31 - 1 just above, so they fit in u32.
        high: u32::try_from(high).unwrap_or_default(),
        low: u32::try_from(low).unwrap_or_default(),
    }
}

/// `challenge || product id`, padded with `'0'` only if its length is not a multiple of 8.
fn padded_input(challenge: &str, product_id: &str) -> Vec<u8> {
    let mut padded = [challenge.as_bytes(), product_id.as_bytes()].concat();
    if padded.len() % 8 != 0 {
        padded.resize(padded.len().next_multiple_of(8), b'0');
    }
    padded
}

fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        crate::test_vectors("chl_qry.json")
    }

    fn field<'a>(v: &'a Value, name: &str) -> &'a str {
        v[name]
            .as_str()
            .unwrap_or_else(|| panic!("vector lacks {name}: {v}"))
    }

    fn hex_u32(s: &str) -> u32 {
        u32::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex word")
    }

    #[test]
    fn every_vector_is_reproduced() {
        let vectors = vectors();
        assert!(vectors.len() >= 17, "too few vectors: {}", vectors.len());
        for v in &vectors {
            let (challenge, id, key) = (
                field(v, "challenge"),
                field(v, "product_id"),
                field(v, "product_key"),
            );
            let got = match field(v, "algorithm") {
                "md5" => md5_answer(challenge, key),
                "msnp11" => msnp11(challenge, id, key).answer(),
                other => panic!("unknown algorithm {other}"),
            };
            assert_eq!(got, field(v, "answer"), "vector {v}");
        }
    }

    #[test]
    fn intermediates_match() {
        let mut checked = 0;
        for v in vectors().iter().filter(|v| v.get("intermediate").is_some()) {
            let inter = &v["intermediate"];
            let trace = msnp11(
                field(v, "challenge"),
                field(v, "product_id"),
                field(v, "product_key"),
            );
            assert_eq!(
                to_hex(&md5_of(field(v, "challenge"), field(v, "product_key"))),
                field(inter, "md5")
            );
            let words: Vec<u32> = inter["md5_words_le"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| hex_u32(w.as_str().unwrap()))
                .collect();
            assert_eq!(trace.words.to_vec(), words);
            let masked: Vec<u32> = inter["masked"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| hex_u32(w.as_str().unwrap()))
                .collect();
            assert_eq!(trace.words.map(|w| w & 0x7FFF_FFFF).to_vec(), masked);
            assert_eq!(
                String::from_utf8(padded_input(field(v, "challenge"), field(v, "product_id")))
                    .unwrap(),
                field(inter, "padded")
            );
            assert_eq!(trace.high, hex_u32(field(inter, "high")));
            assert_eq!(trace.low, hex_u32(field(inter, "low")));
            checked += 1;
        }
        assert!(checked >= 12, "only {checked} vectors had intermediates");
    }

    #[test]
    fn answer_uses_the_recommended_product_per_version() {
        // Vectors whose product is one we answer with must come out of `answer` unchanged.
        for v in vectors() {
            for version in [8, 9, 10, 11, 12, 15, 18] {
                let dialect = Dialect::new(version);
                let product = dialect.challenge_product();
                let algorithm = match field(&v, "algorithm") {
                    "md5" => Algorithm::Md5,
                    _ => Algorithm::Msnp11,
                };
                if product.id == field(&v, "product_id")
                    && dialect.challenge_algorithm() == algorithm
                {
                    assert_eq!(product.key, field(&v, "product_key"));
                    let (id, hex) = answer(field(&v, "challenge"), dialect).unwrap();
                    assert_eq!((id, hex.as_str()), (product.id, field(&v, "answer")));
                }
            }
        }
        assert_eq!(
            answer("29409134351025259292", Dialect::new(15)).unwrap(),
            (
                "PROD0119GSJUC$18",
                "15afbac39c56a0b56001e32af423f912".into()
            )
        );
        assert_eq!(
            answer("29409134351025259292", Dialect::new(9)).unwrap(),
            (
                "msmsgs@msnmsgr.com",
                "d0c1178c689350104350d99f8c36ed9c".into()
            )
        );
        assert_eq!(
            answer("22210219642164014968", Dialect::new(12)).unwrap(),
            (
                "PROD0090YUAUV{2B",
                "85ecb0db8f32113df79ce0892b9a102c".into()
            )
        );
    }

    #[test]
    fn aligned_input_gets_no_padding() {
        // 24 + 16 = 40 bytes, already a multiple of 8 (Pidgin's rule).
        let trace = msnp11("123456789012345678901234", WLM_8_5.id, WLM_8_5.key);
        assert_eq!(
            padded_input("123456789012345678901234", WLM_8_5.id).len(),
            40
        );
        assert_eq!(trace.answer(), "f868aa222021b4aebf000817a677617f");
    }

    #[test]
    fn hostile_challenges_are_rejected_or_answered_without_panic() {
        assert_eq!(answer("", Dialect::new(15)), Err(ChallengeError::Empty));
        assert_eq!(
            answer(&"9".repeat(MAX_CHALLENGE_LEN + 1), Dialect::new(15)),
            Err(ChallengeError::TooLong)
        );
        assert_eq!(
            answer("123 456", Dialect::new(15)),
            Err(ChallengeError::BadCharacter)
        );
        assert_eq!(
            answer("12\r\n", Dialect::new(11)),
            Err(ChallengeError::BadCharacter)
        );
        assert_eq!(
            answer("défi", Dialect::new(18)),
            Err(ChallengeError::BadCharacter)
        );
        // Non-digits, odd lengths and the maximum length still give 32 lower-case hex characters.
        let long_tildes = "~".repeat(MAX_CHALLENGE_LEN);
        let long_nines = "9".repeat(MAX_CHALLENGE_LEN);
        for challenge in ["abc", "~", &long_tildes, &long_nines] {
            for version in [8, 11, 15] {
                let (_, hex) = answer(challenge, Dialect::new(version)).unwrap();
                assert_eq!(hex.len(), 32);
                assert!(hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            }
        }
    }
}
