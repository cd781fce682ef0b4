//! Reading the transcripts under `tests/transcripts/`.

use std::path::PathBuf;

/// `tests/transcripts/<rel>` as text.
pub fn read_transcript(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../transcripts")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unescape_py_bytes(lit: &str) -> Vec<u8> {
    let b = lit.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'x' => {
                    out.push(u8::from_str_radix(&lit[i + 2..i + 4], 16).unwrap());
                    i += 2;
                }
                other => out.push(other),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The chunks of a `.raw.txt` transcript: (client to server?, bytes).
pub fn raw_chunks(rel: &str) -> Vec<(bool, Vec<u8>)> {
    read_transcript(rel)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (_, rest) = l.split_once(' ')?;
            let (dir, lit) = rest.split_once(' ')?;
            let lit = lit.strip_prefix('b')?;
            let inner = &lit[1..lit.len() - 1];
            Some((dir == "C>S", unescape_py_bytes(inner)))
        })
        .collect()
}
