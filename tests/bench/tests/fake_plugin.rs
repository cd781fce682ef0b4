//! `--plugin` measures a plugin that behaves like the older MSN plugins: fixed endpoints, no
//! account options of ours, and every buddy added before the connection is signed on
//! (`fake-plugin/fake_oldmsn.c`). Two copies of it give one row each.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

fn make(dir: &Path, vars: &[String]) {
    let status = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(dir)
        .args(vars)
        .status()
        .expect("running make");
    assert!(status.success(), "make -C {} failed", dir.display());
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binding a probe port");
    l.local_addr().expect("probe port").port()
}

#[test]
fn measures_a_plugin_with_fixed_endpoints_that_lists_buddies_before_signing_on() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = bench.join("../..");
    let work = std::env::temp_dir().join(format!("msnp-bench-fake-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let stub_dir = root.join("target/purple-stub");
    make(
        &root.join("purple-stub"),
        &[format!("OUT={}", stub_dir.display())],
    );
    let (ns_port, https_port) = (free_port(), free_port());
    make(
        &bench.join("fake-plugin"),
        &[
            format!("OUT={}", work.display()),
            format!("NS_PORT={ns_port}"),
            format!("HTTPS_PORT={https_port}"),
        ],
    );
    let first = work.join("libfake_oldmsn.so");
    let second: PathBuf = work.join("libfake_oldmsn_copy.so");
    std::fs::copy(&first, &second).expect("copying the fake plugin");
    let report = work.join("BENCH.md");

    let status = Command::new(env!("CARGO_BIN_EXE_msnp-bench"))
        .arg("--stub")
        .arg(stub_dir.join("purple-stub"))
        .arg("--plugin")
        .arg(&first)
        .arg("--plugin")
        .arg(&second)
        .args(["--ns-port", &ns_port.to_string()])
        .args(["--https-port", &https_port.to_string()])
        .args([
            "--versions",
            "12",
            "--workloads",
            "signin",
            "--quick",
            "--runs",
            "2",
        ])
        .arg("--out")
        .arg(&report)
        .status()
        .expect("running msnp-bench");
    assert!(status.success(), "msnp-bench failed");

    let report = std::fs::read_to_string(&report).expect("the report");
    assert!(
        report.contains(
            "without the options it lacks: server, port, nexus_url, sso_url, max_protocol"
        ),
        "{report}"
    );
    for size in [100, 1000] {
        for label in ["fake_oldmsn", "fake_oldmsn_copy"] {
            let row = report
                .lines()
                .find(|l| l.starts_with(&format!("| MSNP12 | {size} | {label} |")))
                .unwrap_or_else(|| panic!("no row for {label} at {size}:\n{report}"));
            assert!(!row.contains("failed"), "{row}");
            // Five figures, each a median with its range over the two runs.
            assert_eq!(row.matches(" [").count(), 5, "{row}");
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}
