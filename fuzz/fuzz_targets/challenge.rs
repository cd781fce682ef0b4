//! Answers arbitrary `CHL` challenges for every protocol version.
//!
//! Invariants: nothing panics; a challenge is refused exactly when it is empty, longer than
//! `MAX_CHALLENGE_LEN` or not printable ASCII, with the matching error; otherwise the answer is
//! 32 lower-case hex digits with the product id `Dialect::challenge_product` gives, the same every
//! time, and for MSNP8-10 it is `hex(MD5(challenge || key))` computed independently here.
#![no_main]

use libfuzzer_sys::fuzz_target;
use md5::{Digest, Md5};
use msnp::auth::challenge::{answer, Algorithm, ChallengeError, MAX_CHALLENGE_LEN};
use msnp::dialect::Dialect;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let dialect = Dialect::new(u32::from(control % 24));
    let challenge = String::from_utf8_lossy(rest);
    let result = answer(&challenge, dialect);
    let expected_error = if challenge.is_empty() {
        Some(ChallengeError::Empty)
    } else if challenge.len() > MAX_CHALLENGE_LEN {
        Some(ChallengeError::TooLong)
    } else if !challenge.bytes().all(|b| b.is_ascii_graphic()) {
        Some(ChallengeError::BadCharacter)
    } else {
        None
    };
    match (result, expected_error) {
        (Err(error), Some(expected)) => assert_eq!(error, expected),
        (Ok((product_id, hex)), None) => {
            let product = dialect.challenge_product();
            assert_eq!(product_id, product.id);
            assert!(
                hex.len() == 32
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "answer {hex:?}"
            );
            assert_eq!(
                answer(&challenge, dialect),
                Ok((product_id, hex.clone())),
                "not deterministic"
            );
            if dialect.challenge_algorithm() == Algorithm::Md5 {
                let digest = Md5::new()
                    .chain_update(challenge.as_bytes())
                    .chain_update(product.key.as_bytes())
                    .finalize();
                let md5_hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(hex, md5_hex);
            }
        }
        (result, expected) => panic!("answer gave {result:?}, expected error {expected:?}"),
    }
});
