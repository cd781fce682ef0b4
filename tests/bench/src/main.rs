//! `make bench`: drives purple-stub on real libpurple against the project's test server on
//! loopback and prints (and writes to BENCH.md) what an MSN plugin costs.
//!
//! `msnp-bench [--plugin PATH]... [--stub PATH] [--options TEMPLATE] [--runs N] [--quick]
//! [--versions 12,18] [--workloads LIST] [--sizes LIST] [--ns-port P] [--http-port P]
//! [--https-port P] [--wrapper CMD] [--out FILE]`.
//!
//! Any MSN plugin built for libpurple 2.x can be measured: its protocol id and account options
//! are asked of libpurple, and only the options of the template it has are set (`{ns_port}`,
//! `{nexus_url}`, `{sso_url}`, `{login_url}` and `{version}` are filled in). A plugin with fixed
//! endpoints is served by fixing the test server's ports. Runs are interleaved (run 1 of every
//! plugin, then run 2, ...), and each figure is the median [min-max] of the runs. `--wrapper`
//! runs the measured stubs under a profiler (e.g. `valgrind --tool=callgrind`).

mod plugin;
mod report;
mod stub;
mod transfer;
mod workloads;

use std::path::PathBuf;

use plugin::Plugin;

/// Command-line settings.
#[derive(Clone)]
pub struct Args {
    pub plugins: Vec<PathBuf>,
    pub stub: PathBuf,
    pub options: String,
    pub runs: usize,
    pub quick: bool,
    pub versions: Vec<u32>,
    /// Workload names to run (all if empty).
    pub workloads: Vec<String>,
    /// Sizes to run instead of each workload's own (contacts, switchboards or MB).
    pub sizes: Vec<usize>,
    pub ns_port: u16,
    pub http_port: u16,
    pub https_port: u16,
    /// Command (split at spaces) the measured stubs run under.
    pub wrapper: Vec<String>,
    pub out: Option<PathBuf>,
}

const OUR_OPTIONS: &str =
    "server=127.0.0.1 port={ns_port} nexus_url={nexus_url} sso_url={sso_url} max_protocol={version}";

fn list<T: std::str::FromStr>(value: &str, flag: &str) -> Vec<T> {
    value
        .split(',')
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{flag}: bad value {v}"))
        })
        .collect()
}

fn parse_args() -> Args {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut args = Args {
        plugins: Vec::new(),
        stub: root.join("target/purple-stub/purple-stub"),
        options: OUR_OPTIONS.into(),
        runs: 3,
        quick: false,
        versions: vec![12, 18],
        workloads: Vec::new(),
        sizes: Vec::new(),
        ns_port: 0,
        http_port: 0,
        https_port: 0,
        wrapper: Vec::new(),
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--plugin" => args.plugins.push(value().into()),
            "--stub" => args.stub = value().into(),
            "--options" => args.options = value(),
            "--runs" => args.runs = value().parse().expect("--runs N"),
            "--quick" => args.quick = true,
            "--versions" => args.versions = list(&value(), "--versions"),
            "--workloads" => args.workloads = list(&value(), "--workloads"),
            "--sizes" => args.sizes = list(&value(), "--sizes"),
            "--ns-port" => args.ns_port = value().parse().expect("--ns-port P"),
            "--http-port" => args.http_port = value().parse().expect("--http-port P"),
            "--https-port" => args.https_port = value().parse().expect("--https-port P"),
            "--wrapper" => args.wrapper = value().split_whitespace().map(str::to_owned).collect(),
            "--out" => args.out = Some(value().into()),
            other => panic!("unknown flag {other}"),
        }
    }
    if args.plugins.is_empty() {
        args.plugins
            .push(root.join("target/release/libpurple_msnp.so"));
    }
    assert!(args.runs > 0, "--runs must be at least 1");
    args
}

fn main() {
    let args = parse_args();
    assert!(
        args.stub.exists(),
        "purple-stub {} not found (make stub)",
        args.stub.display()
    );
    let plugins: Vec<Plugin> = args
        .plugins
        .iter()
        .map(|p| {
            assert!(p.exists(), "plugin {} not found (make build)", p.display());
            Plugin::probe(&args.stub, p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect();
    let results = workloads::run_all(&args, &plugins);
    let table = report::render(&args, &plugins, &results);
    println!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table).expect("writing the report");
        eprintln!("written to {}", out.display());
    }
}
