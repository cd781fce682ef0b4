//! The result tables (median [min-max] of the runs), with the machine they ran on.

use crate::plugin::Plugin;
use crate::workloads::{Column, Results, Row};
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
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{} ({cores} cores), {mem_gib:.0} GiB RAM, Linux {}; load average at the end {}",
        model.unwrap_or("unknown CPU"),
        kernel.trim(),
        load.split(' ').take(3).collect::<Vec<_>>().join(" ")
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
         {mib_s:.0} MiB/s ({:.1} µs per pass; criterion, `cargo bench -p msnp --bench core`).\n",
        mean_ns / 1000.0
    ))
}

fn fmt(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// Column `i` of every run: median [min-max] (just the value for one run).
fn cell(row: &Row, i: usize, column: &Column) -> String {
    let mut values: Vec<f64> = row.runs.iter().map(|r| r[i]).collect();
    values.sort_by(f64::total_cmp);
    let d = column.decimals;
    let unit = match column.unit {
        "" => String::new(),
        u => format!(" {u}"),
    };
    match values.as_slice() {
        [] => "-".into(),
        [one] => format!("{}{unit}", fmt(*one, d)),
        all => format!(
            "{}{unit} [{}-{}]",
            fmt(all[all.len() / 2], d),
            fmt(all[0], d),
            fmt(all[all.len() - 1], d)
        ),
    }
}

/// One line for the progress log.
pub fn summary(columns: &[Column], row: &Row) -> String {
    if let Some(e) = &row.error {
        return format!("failed: {e}");
    }
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} {}", c.name, cell(row, i, c)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(args: &Args, plugins: &[Plugin], results: &Results) -> String {
    let mut out = String::new();
    out.push_str("# purple-msnp benchmark\n\n");
    out.push_str(&format!(
        "purple-stub on libpurple {}, against the project's test server on loopback.\n",
        results.libpurple
    ));
    for p in plugins {
        let (_, dropped) = p.applicable(&args.options);
        out.push_str(&format!(
            "Plugin `{}` (`{}`){}.\n",
            p.label,
            p.protocol_id,
            match dropped.is_empty() {
                true => String::new(),
                false => format!(", without the options it lacks: {}", dropped.join(", ")),
            }
        ));
    }
    out.push_str(&format!(
        "Machine: {}. Figures are the median [min-max] of {} interleaved runs; \
         \"longest stall\" is the longest single main-loop dispatch in the client (wall time), \
         \"longest stall, CPU\" the most CPU time one dispatch used (what other processes on a \
         loaded machine do not inflate).\n",
        machine(),
        args.runs
    ));
    let many = plugins.len() > 1;
    for table in &results.tables {
        out.push_str(&format!("\n## {}\n\n{}\n\n", table.title, table.about));
        out.push_str(&format!(
            "| protocol | {} |{}",
            table.size_name,
            if many { " plugin |" } else { "" }
        ));
        for c in table.columns {
            out.push_str(&format!(" {} |", c.name));
        }
        out.push_str("\n|---|---:|");
        if many {
            out.push_str("---|");
        }
        out.push_str(&"---:|".repeat(table.columns.len()));
        out.push('\n');
        for row in &table.rows {
            out.push_str(&format!("| MSNP{} | {} |", row.version, row.size));
            if many {
                out.push_str(&format!(" {} |", row.plugin));
            }
            match &row.error {
                Some(e) => {
                    let e = e.replace('|', "/");
                    out.push_str(&format!(
                        " failed: {} |",
                        e.chars().take(120).collect::<String>()
                    ));
                    out.push_str(&" |".repeat(table.columns.len() - 1));
                }
                None => {
                    for (i, c) in table.columns.iter().enumerate() {
                        out.push_str(&format!(" {} |", cell(row, i, c)));
                    }
                }
            }
            out.push('\n');
        }
    }
    if let Some(core) = core_throughput() {
        out.push('\n');
        out.push_str(&core);
    }
    // The profile of the 5,000-contact sign-in, written by hand from `--wrapper` runs.
    let profile = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profile.md");
    if let Ok(text) = std::fs::read_to_string(profile) {
        out.push('\n');
        out.push_str(&text);
    }
    out
}
