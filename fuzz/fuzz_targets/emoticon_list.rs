//! Reads arbitrary custom emoticon declarations (`text/x-mms-emoticon` bodies).
//!
//! The input is a little program (first byte odd) that writes a body out of raw bytes, TABs,
//! shortcuts and well-formed MSNObjects of any type with chosen names (so valid and
//! path-bearing objects are reached), or (first byte even) the body itself.
//!
//! Invariants: nothing panics and the result is deterministic; a body is refused whole exactly
//! when it exceeds `MAX_BODY`; at most `MAX_EMOTICONS` entries, shortcuts valid and distinct,
//! every object a type-2 MSNObject whose Location and friendly name are plain names (no `/`,
//! `\`, `:`, `..` or control characters); kept plus refused entries never exceed the pairs
//! written; our own declarations of the entries kept fit a switchboard message and read back
//! to the same entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msnp::message::emoticons::{self, is_valid_shortcut, EmoticonListError, MAX_BODY};
use msnp::message::MAX_PAYLOAD;
use msnp::mime::Mime;
use msnp::p2p::msnobj::{kind, MsnObject};

mod program;
use program::Program;

fn plain(name: &str) -> bool {
    !name.contains(['/', '\\', ':']) && !name.contains("..") && !name.chars().any(char::is_control)
}

/// The body a program writes.
fn body(mut p: Program) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(op) = p.byte() {
        match op % 4 {
            0 => {
                let n = usize::from(p.take() % 64);
                out.extend_from_slice(p.bytes(n));
            }
            1 => out.push(b'\t'),
            2 => {
                let n = usize::from(p.take() % 40);
                out.extend_from_slice(p.bytes(n));
                out.push(b'\t');
            }
            _ => {
                let kind = match p.take() % 4 {
                    0 => 3,
                    n => u32::from(n) - 1 + kind::EMOTICON,
                };
                let n = usize::from(p.take() % 24);
                let location = String::from_utf8_lossy(p.bytes(n)).into_owned();
                let n = usize::from(p.take() % 24);
                let name = String::from_utf8_lossy(p.bytes(n)).into_owned();
                let n = usize::from(p.take() % 32) + 1;
                let data = p.bytes(n).to_vec();
                let object = MsnObject::new("bob@example.com", kind, &location, &name, &data);
                out.extend_from_slice(object.xml.as_bytes());
                out.push(b'\t');
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let body = match data.split_first() {
        Some((mode, rest)) if mode % 2 == 1 => body(Program(rest)),
        _ => data.to_vec(),
    };
    let result = emoticons::parse(&body);
    assert_eq!(result, emoticons::parse(&body), "deterministic");
    let list = match result {
        Err(EmoticonListError::TooLong(n)) => {
            assert!(n == body.len() && n > MAX_BODY);
            return;
        }
        Ok(list) => list,
    };
    assert!(body.len() <= MAX_BODY);
    assert!(list.emoticons.len() <= emoticons::MAX_EMOTICONS);
    let pairs = body.split(|&b| b == b'\t').count().div_ceil(2);
    assert!(list.emoticons.len() + list.refused <= pairs);
    for (i, e) in list.emoticons.iter().enumerate() {
        assert!(is_valid_shortcut(&e.shortcut), "{:?}", e.shortcut);
        assert!(list.emoticons[..i].iter().all(|o| o.shortcut != e.shortcut));
        assert_eq!(e.object.kind, kind::EMOTICON);
        assert!(plain(&e.object.location), "{:?}", e.object.location);
        assert!(plain(&e.object.friendly_name()));
        assert!(e.object.size > 0 && e.object.sha1d.len() == 28);
    }
    let refs: Vec<(&str, &MsnObject)> = list
        .emoticons
        .iter()
        .map(|e| (e.shortcut.as_str(), &e.object))
        .collect();
    let mut back = Vec::new();
    for payload in emoticons::payloads(&refs) {
        assert!(payload.len() <= MAX_PAYLOAD);
        back.extend(emoticons::parse(&Mime::parse(&payload).body).unwrap().emoticons);
    }
    let fitting: Vec<_> = list
        .emoticons
        .iter()
        .filter(|e| emoticons::fits(&e.shortcut, &e.object))
        .cloned()
        .collect();
    assert_eq!(back, fitting);
});
