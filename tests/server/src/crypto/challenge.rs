//! `CHL`/`QRY` challenge answers (docs/protocol.md §4): the MD5 form (MSNP6-10) and the MSNP11+
//! hash.

use md5::{Digest, Md5};

/// Which answer algorithm a product id uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `hex(MD5(challenge || key))`, MSNP6-10 clients.
    Md5,
    /// The MSNP11+ keyed hash.
    Msnp11,
}

/// Known product ids, their keys and algorithms (docs/protocol.md §4.3).
pub const PRODUCTS: &[(&str, &str, Algorithm)] = &[
    ("msmsgs@msnmsgr.com", "Q1P7W2E4J9R8U3S5", Algorithm::Md5),
    ("PROD0038W!61ZTF9", "VT6PX?UQTM4WM%YR", Algorithm::Md5),
    ("PROD0058#7IL2{QD", "QHDCY@7R1TB6W?5B", Algorithm::Md5),
    ("PROD0061VRRZH@4F", "JXQ6J@TUOGYV@N0M", Algorithm::Md5),
    ("PROD00504RLUG%WL", "I2EBK%PYNLZL5_J4", Algorithm::Md5),
    ("PROD0076ENE8*@AW", "CEQJ8}OE0!WTSWII", Algorithm::Md5),
    ("PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL", Algorithm::Msnp11),
    ("PROD0101{0RM?UBW", "CFHUR$52U_{VIX5T", Algorithm::Msnp11),
    ("PROD01065C%ZFN6F", "O4BG@C7BWLYQX?5G", Algorithm::Msnp11),
    ("PROD0112J1LW7%NB", "RH96F{PHI8PPX_TJ", Algorithm::Msnp11),
    ("PROD0113H11T8$X_", "RG@XY*28Q5QHS%Q5", Algorithm::Msnp11),
    ("PROD0114ES4Z%Q5W", "PK}_A_0N_K%O?A9S", Algorithm::Msnp11),
    ("PROD0118R6%2WYOS", "YIXPX@5I2P0UT*LK", Algorithm::Msnp11),
    ("PROD0119GSJUC$18", "ILTXC!4IXB5FB*PX", Algorithm::Msnp11),
    ("PROD0120PW!CCV9@", "C1BX{V4W}Q3*10SM", Algorithm::Msnp11),
];

const MODULUS: u64 = 0x7FFF_FFFF;

/// The expected answer for `challenge` from the client identified by `product_id`, or `None`
/// when the product id is unknown.
pub fn expected_answer(challenge: &str, product_id: &str) -> Option<String> {
    let (_, key, alg) = PRODUCTS.iter().find(|(id, _, _)| *id == product_id)?;
    Some(match alg {
        Algorithm::Md5 => md5_answer(challenge, key),
        Algorithm::Msnp11 => msnp11_answer(challenge, product_id, key),
    })
}

/// `hex(MD5(challenge || key))`.
pub fn md5_answer(challenge: &str, key: &str) -> String {
    hex(&Md5::digest(format!("{challenge}{key}").as_bytes()))
}

/// The MSNP11+ answer (docs/protocol.md §4.2).
pub fn msnp11_answer(challenge: &str, product_id: &str, key: &str) -> String {
    let md5 = Md5::digest(format!("{challenge}{key}").as_bytes());
    let words: Vec<u32> = md5
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let k: Vec<u64> = words.iter().map(|w| u64::from(w & 0x7FFF_FFFF)).collect();

    let mut s = format!("{challenge}{product_id}").into_bytes();
    while s.len() % 8 != 0 {
        s.push(b'0');
    }
    let c: Vec<u64> = s
        .chunks_exact(4)
        .map(|w| u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]])))
        .collect();

    let (mut high, mut low) = (0u64, 0u64);
    for pair in c.chunks_exact(2) {
        let mut t = (pair[0] * 0x0E79_A9C1) % MODULUS;
        t = (k[0] * (t + high) + k[1]) % MODULUS;
        high = (k[2] * ((pair[1] + t) % MODULUS) + k[3]) % MODULUS;
        low += t + high;
    }
    high = (high + k[1]) % MODULUS;
    low = (low + k[3]) % MODULUS;

    // The results are < 2^31, so the casts are lossless.
    let (high, low) = (high as u32, low as u32);
    let out = [
        words[0] ^ high,
        words[1] ^ low,
        words[2] ^ high,
        words[3] ^ low,
    ];
    let bytes: Vec<u8> = out.iter().flat_map(|w| w.to_le_bytes()).collect();
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_public_vector() {
        assert_eq!(
            md5_answer("20881396011366812350", "Q1P7W2E4J9R8U3S5"),
            "0212eaad0876afb8505859ca75d21a78"
        );
    }

    #[test]
    fn msnp11_public_vector() {
        assert_eq!(
            expected_answer("22210219642164014968", "PROD0090YUAUV{2B").as_deref(),
            Some("85ecb0db8f32113df79ce0892b9a102c")
        );
        assert_eq!(expected_answer("1", "PROD9999UNKNOWN0"), None);
    }
}
