//! The result table, with the machine it ran on.

use crate::workloads::Results;
use crate::Args;

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']));
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = mem
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse::<f64>().ok())
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{} ({cores} cores), {mem_gib:.0} GiB RAM, Linux {}",
        model.unwrap_or("unknown CPU"),
        kernel.trim()
    )
}

/// The core-only figure from `cargo bench --bench core` (criterion's saved estimate), if run.
fn core_throughput() -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/criterion/core/frame+parse NS transcripts/new");
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
    };
    let bytes = read("benchmark.json")?["throughput"]["Bytes"].as_f64()?;
    let mean_ns = read("estimates.json")?["mean"]["point_estimate"].as_f64()?;
    let mib_s = bytes / (mean_ns / 1e9) / (1024.0 * 1024.0);
    Some(format!(
        "## Core only\n\nFraming and parsing every server line of the recorded NS sessions ({bytes:.0} bytes): \
         {mib_s:.0} MiB/s ({:.1} µs per pass; criterion, `cargo bench --bench core`).\n",
        mean_ns / 1000.0
    ))
}

pub fn render(args: &Args, results: &Results) -> String {
    let mut out = String::new();
    out.push_str("# purple-msnp benchmark\n\n");
    out.push_str(&format!(
        "Plugin `{}` (`{}`) in purple-stub on libpurple {}, against the project's test server on loopback.\n",
        args.plugin.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        args.protocol_id,
        results.libpurple
    ));
    out.push_str(&format!(
        "Machine: {}. Median of {} runs.\n\n",
        machine(),
        args.runs
    ));
    out.push_str("## Sign-in to complete buddy list (all contacts offline)\n\n");
    out.push_str("| protocol | contacts | list complete | client CPU | longest stall | memory per contact |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for s in &results.sign_ins {
        out.push_str(&format!(
            "| MSNP{} | {} | {:.0} ms | {:.0} ms | {:.1} ms | {:.1} KB |\n",
            s.version, s.contacts, s.list_ms, s.cpu_ms, s.max_dispatch_ms, s.rss_per_contact_kb
        ));
    }
    out.push_str("\n## Incoming messages on one switchboard\n\n");
    out.push_str("| protocol | messages | messages/s | client CPU per message | longest stall |\n");
    out.push_str("|---|---:|---:|---:|---:|\n");
    for m in &results.incoming {
        out.push_str(&format!(
            "| MSNP{} | {} | {:.0} | {:.1} µs | {:.1} ms |\n",
            m.version,
            m.messages,
            m.messages as f64 / (m.elapsed_ms / 1000.0),
            m.cpu_us_per_message,
            m.max_dispatch_ms
        ));
    }
    if let Some(core) = core_throughput() {
        out.push('\n');
        out.push_str(&core);
    }
    out
}
