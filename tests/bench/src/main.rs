//! `make bench`: drives purple-stub on real libpurple against the project's test server on
//! loopback and prints (and writes to BENCH.md) a table of what the plugin costs.
//!
//! `msnp-bench [--plugin PATH] [--protocol-id ID] [--stub PATH] [--options TEMPLATE]
//! [--runs N] [--quick] [--out FILE]`. The template gives the account settings for any MSN plugin
//! built for libpurple 2.x; `{ns_port}`, `{nexus_url}`, `{sso_url}` and `{version}` are filled in.

mod report;
mod sender;
mod stub;
mod workloads;

use std::path::PathBuf;

/// Command-line settings.
pub struct Args {
    pub plugin: PathBuf,
    pub protocol_id: String,
    pub stub: PathBuf,
    pub options: String,
    pub runs: usize,
    pub quick: bool,
    pub out: Option<PathBuf>,
}

const OUR_OPTIONS: &str =
    "server=127.0.0.1 port={ns_port} nexus_url={nexus_url} sso_url={sso_url} max_protocol={version}";

fn parse_args() -> Args {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = Args {
        plugin: root.join("target/release/libpurple_msnp.so"),
        protocol_id: "prpl-msnp".into(),
        stub: root.join("target/purple-stub/purple-stub"),
        options: OUR_OPTIONS.into(),
        runs: 3,
        quick: false,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--plugin" => args.plugin = value().into(),
            "--protocol-id" => args.protocol_id = value(),
            "--stub" => args.stub = value().into(),
            "--options" => args.options = value(),
            "--runs" => args.runs = value().parse().expect("--runs N"),
            "--quick" => args.quick = true,
            "--out" => args.out = Some(value().into()),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

fn main() {
    let args = parse_args();
    assert!(
        args.plugin.exists(),
        "plugin {} not found (make build)",
        args.plugin.display()
    );
    assert!(
        args.stub.exists(),
        "purple-stub {} not found (make stub)",
        args.stub.display()
    );
    let results = workloads::run_all(&args);
    let table = report::render(&args, &results);
    println!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table).expect("writing the report");
        eprintln!("written to {}", out.display());
    }
}
