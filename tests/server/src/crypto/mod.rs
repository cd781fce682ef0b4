//! Server-side checks of the client's cryptographic answers (`QRY`, MBI_KEY_OLD blob) and randomness.

pub mod challenge;
pub mod mbi;

/// `len` random bytes from the operating system.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    // A failing OS RNG leaves zeros; the server is a test tool, so that is logged, not fatal.
    if let Err(e) = getrandom::getrandom(&mut buf) {
        log::warn!("getrandom failed: {e}");
    }
    buf
}

/// `len` random lowercase hex digits (tokens, cookies).
pub fn random_hex(len: usize) -> String {
    random_bytes(len.div_ceil(2))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(len)
        .collect()
}

/// `len` random decimal digits (CHL challenges).
pub fn random_digits(len: usize) -> String {
    random_bytes(len)
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect()
}
