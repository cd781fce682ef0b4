//! The file-transfer workloads: a file sent from the measured account to a contact signed in
//! with a second purple-stub on the same plugin, through the test server's switchboard or over
//! a direct connection between the two (the account option `direct_transfers`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::plugin::Plugin;
use crate::stub::{pct, Fallible, Stub};
use crate::workloads::{sender, server, sign_in, stub_with_account, ME, TIMEOUT};
use crate::Args;

/// One MB, as the table counts.
const MB: u64 = 1_000_000;

/// A private temporary folder, removed with what it holds.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Fallible<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("msnp-bench-xfer-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| format!("temp dir: {e}"))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits for `account`'s transfer `id` to end; fails unless it completed.
fn completed(stub: &mut Stub, account: &str, id: &serde_json::Value) -> Fallible<()> {
    let end = stub.wait(TIMEOUT, |e| {
        (is(e, "xfer-completed", account) || is(e, "xfer-cancelled", account)) && e["id"] == *id
    })?;
    match end["event"] == "xfer-completed" {
        true => Ok(()),
        false => Err(format!("{account}'s transfer ended: {end}")),
    }
}

/// Whether `e` is `account`'s event `event`.
fn is(e: &serde_json::Value, event: &str, account: &str) -> bool {
    e["event"] == event && e["account"] == account
}

/// [`measure`] over the switchboard.
pub fn switchboard(args: &Args, plugin: &Plugin, version: u32, mb: usize) -> Fallible<Vec<f64>> {
    measure(args, plugin, version, mb, false)
}

/// [`measure`] over a direct connection.
pub fn direct(args: &Args, plugin: &Plugin, version: u32, mb: usize) -> Fallible<Vec<f64>> {
    measure(args, plugin, version, mb, true)
}

/// Sends a sparse file of `mb` MB from the measured account to a contact and saves it: MB/s,
/// each side's CPU per MB, longest stall (wall and CPU), peak RSS and what the transfer added to
/// it. With `direct`, both
/// accounts may use a direct connection; without, neither does.
fn measure(
    args: &Args,
    plugin: &Plugin,
    version: u32,
    mb: usize,
    direct: bool,
) -> Fallible<Vec<f64>> {
    let mut args = args.clone();
    args.options
        .push_str(&format!(" direct_transfers={direct}"));
    let args = &args;
    let size = mb as u64 * MB;
    let bob = sender(0);
    let server = server(args, version, 0, 1, false)?;
    let mut alice = stub_with_account(args, plugin, &server, version, false, (ME, "alicepass"))?;
    sign_in(&mut alice, 1, 0)?;
    let mut receiver = stub_with_account(args, plugin, &server, version, false, (&bob, "x"))?;
    receiver.send(&format!("enable {bob}"));
    receiver.wait(TIMEOUT, |e| is(e, "signed-on", &bob))?;
    alice.wait(TIMEOUT, |e| {
        is(e, "buddy-status", ME) && e["who"] == bob.as_str() && e["online"] == true
    })?;

    let dir = TempDir::new()?;
    let (file, target) = (dir.0.join("sent.bin"), dir.0.join("received.bin"));
    sparse(&file, size)?;
    for stub in [&mut alice, &mut receiver] {
        stub.send("stats-reset");
    }
    let (before_a, before_b) = (alice.stats()?, receiver.stats()?);
    let start = Instant::now();
    alice.send(&format!(
        "send-file {} {} {}",
        pct(ME),
        pct(&bob),
        pct(&file.to_string_lossy())
    ));
    let sent = alice.wait(TIMEOUT, |e| is(e, "xfer-added", ME))?["id"].clone();
    let offer = receiver.wait(TIMEOUT, |e| is(e, "xfer-request", &bob))?;
    receiver.send(&format!(
        "xfer-accept {} {}",
        offer["id"],
        pct(&target.to_string_lossy())
    ));
    completed(&mut receiver, &bob, &offer["id"])?;
    let elapsed = start.elapsed().as_secs_f64();
    completed(&mut alice, ME, &sent)?;
    let (after_a, after_b) = (alice.stats()?, receiver.stats()?);
    let (peak_a, peak_b) = (alice.peak_rss_kb()?, receiver.peak_rss_kb()?);
    let got = std::fs::metadata(&target)
        .map_err(|e| format!("received file: {e}"))?
        .len();
    if got != size {
        return Err(format!("{got} bytes saved of {size}"));
    }
    let mbs = size as f64 / MB as f64;
    Ok(vec![
        mbs / elapsed,
        (after_a.cpu_ms - before_a.cpu_ms) / mbs,
        (after_b.cpu_ms - before_b.cpu_ms) / mbs,
        after_a.max_dispatch_ms,
        after_b.max_dispatch_ms,
        after_a.max_dispatch_cpu_ms,
        after_b.max_dispatch_cpu_ms,
        peak_a / 1024.0,
        peak_b / 1024.0,
        (peak_a - before_a.rss_kb).max(0.0),
        (peak_b - before_b.rss_kb).max(0.0),
    ])
}

/// A file of `size` zero bytes that takes no disk space.
fn sparse(path: &Path, size: u64) -> Fallible<()> {
    std::fs::File::create(path)
        .and_then(|f| f.set_len(size))
        .map_err(|e| format!("creating {}: {e}", path.display()))
}
