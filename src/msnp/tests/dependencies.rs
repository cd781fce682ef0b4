//! The core stays sans-IO because its dependency tree cannot reach glib, libc or the operating
//! system's random source: this test fails the moment one of them appears, directly or through
//! another crate.

use std::process::Command;

/// Crates that would let the core do I/O, read OS randomness or touch libpurple.
const FORBIDDEN: [&str; 6] = [
    "glib-sys",
    "gobject-sys",
    "libc",
    "getrandom",
    "purple-msnp",
    "socket2",
];

#[test]
fn the_core_depends_on_no_io_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "msnp",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .args([
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"msnp"),
        "unexpected cargo tree output:\n{tree}"
    );
    assert!(
        crates.contains(&"sha1"),
        "the tree lists dependencies:\n{tree}"
    );
    let found: Vec<&&str> = FORBIDDEN.iter().filter(|c| crates.contains(c)).collect();
    assert!(found.is_empty(), "the core depends on {found:?}:\n{tree}");
}
