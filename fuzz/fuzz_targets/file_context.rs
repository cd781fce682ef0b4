//! Parses arbitrary bytes as the file context of a file-transfer INVITE, and makes the offered
//! name safe.
//!
//! Invariants: nothing panics; a parsed context came from at least 574 bytes holding its
//! declared length; its name has at most 259 UTF-16 units and no NUL; encoding it and parsing
//! back gives the same size and name (without preview); the safe name of any text is 1 to
//! `MAX_SAFE_NAME` characters without `/`, `\`, control characters or a leading dot, and is
//! its own safe name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::p2p::filectx::{safe_name, FileContext, MAX_SAFE_NAME, V2_LEN};

fn check_safe(raw: &str) {
    let safe = safe_name(raw);
    let count = safe.chars().count();
    assert!((1..=MAX_SAFE_NAME).contains(&count), "{safe:?}");
    assert!(!safe.contains(['/', '\\']), "{safe:?}");
    assert!(!safe.chars().any(char::is_control), "{safe:?}");
    assert!(!safe.starts_with('.') && safe != "..", "{safe:?}");
    assert_eq!(safe_name(&safe), safe);
}

fuzz_target!(|data: &[u8]| {
    check_safe(&String::from_utf8_lossy(data));
    let Ok(ctx) = FileContext::parse(data) else {
        return;
    };
    assert!(data.len() >= V2_LEN);
    let declared = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    assert!((V2_LEN..=data.len()).contains(&declared));
    assert!(ctx.name.encode_utf16().count() <= 259);
    assert!(!ctx.name.contains('\0'));
    let again = FileContext::parse(&ctx.encode()).expect("an encoded context parses");
    assert_eq!((again.size, &again.name, again.preview), (ctx.size, &ctx.name, false));
    check_safe(&ctx.name);
});
