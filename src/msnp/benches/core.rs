//! Core-only throughput: how fast the sans-IO core frames and parses what a real server sends.
//! Input: every server-to-client byte of the recorded notification-server sessions.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use msnp::dialect::Dialect;
use msnp::wire::{parse, Direction, Framer, Limits};

/// Server bytes of every `*-ns.raw.txt` transcript (lines `<time> S>C b'<python literal>'`).
fn server_bytes() -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts");
    let mut all = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|d| d.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|f| f.path())
            .collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| f.to_string_lossy().ends_with("-ns.raw.txt"))
        {
            for line in std::fs::read_to_string(file).unwrap().lines() {
                let mut parts = line.trim_start().splitn(3, ' ');
                let (_, dir, literal) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
                if dir == Some("S>C") {
                    all.extend(python_bytes(literal));
                }
            }
        }
    }
    all
}

/// Decodes a Python `b'...'` literal.
fn python_bytes(literal: &str) -> Vec<u8> {
    let inner = literal.trim_start_matches('b');
    let inner = &inner[1..inner.len() - 1];
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            i += 1;
            match bytes[i] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'x' => {
                    out.push(u8::from_str_radix(&inner[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                other => out.push(other),
            }
        } else {
            out.push(bytes[i]);
        }
        i += 1;
    }
    out
}

fn frame_and_parse(c: &mut Criterion) {
    let input = server_bytes();
    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("frame+parse NS transcripts", |b| {
        b.iter(|| {
            let mut framer = Framer::new(Direction::FromServer, Limits::default());
            framer.push(black_box(&input));
            let mut commands = 0usize;
            while let Ok(Some(frame)) = framer.next_frame() {
                if parse(frame, Dialect::new(18)).is_ok() {
                    commands += 1;
                }
            }
            commands
        })
    });
    group.finish();
}

criterion_group!(benches, frame_and_parse);
criterion_main!(benches);
