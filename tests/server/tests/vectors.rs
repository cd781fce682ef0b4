//! The crypto the server checks clients with reproduces the known-answer vectors in
//! `tests/vectors/` (CHL/QRY and MBI_KEY_OLD).

use base64::Engine as _;
use msnp_testserver::crypto::{challenge, mbi};
use serde_json::Value;

fn vectors(name: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors")
        .join(name);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["vectors"].as_array().unwrap().clone()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

#[test]
fn chl_qry_vectors() {
    let all = vectors("chl_qry.json");
    assert!(all.len() >= 10);
    for v in &all {
        let (chl, id, key) = (s(v, "challenge"), s(v, "product_id"), s(v, "product_key"));
        let got = match s(v, "algorithm") {
            "md5" => challenge::md5_answer(chl, key),
            _ => challenge::msnp11_answer(chl, id, key),
        };
        assert_eq!(got, s(v, "answer"), "{v}");
        if challenge::PRODUCTS
            .iter()
            .any(|(p, k, _)| *p == id && *k == key)
        {
            assert_eq!(
                challenge::expected_answer(chl, id).as_deref(),
                Some(s(v, "answer"))
            );
        }
    }
}

#[test]
fn mbi_vectors_build_and_verify() {
    // Python's decoder (which made the vectors) ignores non-zero trailing bits ("BBB...B=").
    let b64 = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    for v in vectors("sso_mbi.json") {
        let secret = b64.decode(s(&v, "binary_secret_b64")).unwrap();
        let nonce = s(&v, "nonce");
        let iv_hex = s(&v, "iv_hex");
        let iv: Vec<u8> = (0..8)
            .map(|i| u8::from_str_radix(&iv_hex[i * 2..i * 2 + 2], 16).unwrap())
            .collect();
        let response = s(&v, "response_b64");
        assert_eq!(
            mbi::build(&secret, nonce, iv.try_into().unwrap()),
            response,
            "{}",
            v["name"]
        );
        assert_eq!(mbi::verify(response, &secret, nonce), Ok(()));
        assert_eq!(
            mbi::verify(response, &[0x55u8; 24], nonce),
            Err(mbi::BlobError::Hash)
        );
    }
}
