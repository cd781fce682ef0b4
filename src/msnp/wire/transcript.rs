//! Test support: reads the recorded Escargot sessions in `tests/transcripts/*/*.raw.txt`.
//!
//! Each line of a `.raw.txt` is `<time> C>S|S>C b'<python bytes literal>'`, one line per TCP read
//! or write, so concatenating one direction's literals gives the exact byte stream.

use std::path::{Path, PathBuf};

/// One recorded session.
pub(crate) struct Transcript {
    /// Path relative to `tests/transcripts` (`msnp18/alice-ns.raw.txt`).
    pub name: String,
    /// The reads and writes, in order: (sent by the server?, bytes).
    pub chunks: Vec<(bool, Vec<u8>)>,
}

impl Transcript {
    /// The server → client byte stream.
    pub fn server_bytes(&self) -> Vec<u8> {
        self.chunks
            .iter()
            .filter(|(s, _)| *s)
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }

    /// The client → server byte stream.
    pub fn client_bytes(&self) -> Vec<u8> {
        self.chunks
            .iter()
            .filter(|(s, _)| !*s)
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }

    /// Whether this is a notification-server session (all but the `*-sb` ones).
    pub fn is_ns(&self) -> bool {
        !self.name.contains("-sb")
    }

    /// The matching `.log` file's path.
    pub fn log_path(&self) -> PathBuf {
        root().join(self.name.replace(".raw.txt", ".log"))
    }
}

/// `tests/transcripts` of the repository.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts")
}

/// Loads one transcript, e.g. `load("msnp12/alice-ns.raw.txt")`.
pub(crate) fn load(name: &str) -> Transcript {
    let text = std::fs::read_to_string(root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let chunks = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.trim_start().splitn(3, ' ');
            let (_time, dir, lit) = (parts.next(), parts.next(), parts.next().expect("literal"));
            let from_server = match dir {
                Some("S>C") => true,
                Some("C>S") => false,
                other => panic!("{name}: bad direction {other:?}"),
            };
            (from_server, py_bytes(lit))
        })
        .collect();
    Transcript {
        name: name.to_owned(),
        chunks,
    }
}

/// Loads every `*.raw.txt`, sorted by name.
pub(crate) fn load_all() -> Vec<Transcript> {
    let mut names = Vec::new();
    for dir in std::fs::read_dir(root()).expect("transcripts dir") {
        let dir = dir.expect("entry").path();
        for file in std::fs::read_dir(&dir).expect("transcript dir") {
            let file = file.expect("entry").path();
            let fname = file
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default()
                .to_owned();
            if fname.ends_with(".raw.txt") {
                let dname = dir.file_name().and_then(|f| f.to_str()).unwrap_or_default();
                names.push(format!("{dname}/{fname}"));
            }
        }
    }
    names.sort();
    names.iter().map(|n| load(n)).collect()
}

/// Decodes a Python `bytes` repr (`b'…'` or `b"…"`).
fn py_bytes(lit: &str) -> Vec<u8> {
    let body = lit
        .strip_prefix("b'")
        .and_then(|b| b.strip_suffix('\''))
        .or_else(|| lit.strip_prefix("b\"").and_then(|b| b.strip_suffix('"')))
        .unwrap_or_else(|| panic!("not a bytes literal: {lit}"));
    let mut out = Vec::with_capacity(body.len());
    let mut it = body.bytes();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(c @ (b'\\' | b'\'' | b'"')) => out.push(c),
            Some(b'x') => {
                let hex: Vec<u8> = it.by_ref().take(2).collect();
                let hex = std::str::from_utf8(&hex).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            }
            other => panic!("unsupported escape {other:?} in {lit}"),
        }
    }
    out
}

#[test]
fn python_literals_decode() {
    assert_eq!(py_bytes(r"b'UUX 9 0\r\n'"), b"UUX 9 0\r\n");
    assert_eq!(
        py_bytes(r#"b"it's \xe2\x98\x83\t\\""#),
        "it's \u{2603}\t\\".as_bytes()
    );
}
