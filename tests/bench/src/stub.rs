//! A purple-stub process driven line by line (commands in, JSON events out).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What went wrong in one measured run (the run is reported as failed, the bench goes on).
pub type Fallible<T> = Result<T, String>;

/// A running stub with a private user dir and a plugin dir holding only the plugin under test.
pub struct Stub {
    /// libpurple's version, from the `ready` event.
    pub libpurple: String,
    /// The `plugin-loaded` events seen before `ready`.
    pub plugins: Vec<Value>,
    /// How long `quit` may take (a profiler writes its output at exit).
    quit_time: Duration,
    child: Child,
    stdin: ChildStdin,
    events: Receiver<Value>,
    dirs: Vec<PathBuf>,
}

impl Stub {
    /// Starts `stub` (under `wrapper`, e.g. a profiler, if not empty) with `plugin` copied into
    /// a fresh plugin folder.
    pub fn start(stub: &Path, wrapper: &[String], plugin: &Path) -> Fallible<Stub> {
        let base =
            std::env::temp_dir().join(format!("msnp-bench-{}-{}", std::process::id(), unique()));
        let (plugins, user) = (base.join("plugins"), base.join("user"));
        std::fs::create_dir_all(&plugins).expect("plugin dir");
        std::fs::create_dir_all(&user).expect("user dir");
        let name = plugin.file_name().expect("plugin file name");
        std::fs::copy(plugin, plugins.join(name)).expect("copying the plugin");
        let mut command = match wrapper {
            [] => Command::new(stub),
            [program, rest @ ..] => {
                let mut c = Command::new(program);
                c.args(rest).arg(stub);
                c
            }
        };
        let mut child = command
            .arg("--plugins")
            .arg(&plugins)
            .arg("--user-dir")
            .arg(&user)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting purple-stub: {e}"))?;
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let mut stub = Stub {
            libpurple: String::new(),
            plugins: Vec::new(),
            quit_time: Duration::from_secs(if wrapper.is_empty() { 10 } else { 300 }),
            child,
            stdin,
            events,
            dirs: vec![base],
        };
        let mut plugins = Vec::new();
        let ready = stub.wait(Duration::from_secs(30), |e| {
            if e["event"] == "plugin-loaded" {
                plugins.push(e.clone());
            }
            e["event"] == "ready"
        })?;
        stub.plugins = plugins;
        stub.libpurple = ready["version"].as_str().unwrap_or("2.x").to_owned();
        Ok(stub)
    }

    /// Sends one command line (if the stub has exited, the next wait says so).
    pub fn send(&mut self, line: &str) {
        let _ = writeln!(self.stdin, "{line}").and_then(|()| self.stdin.flush());
    }

    /// Waits for an event matching `pred`, returning it; a `connection-error` or an `error`
    /// (a refused command) fails the wait.
    pub fn wait(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> Fallible<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if pred(&event) => return Ok(event),
                Ok(event) if event["event"] == "connection-error" || event["event"] == "error" => {
                    return Err(format!("{}: {}", event["event"], event))
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("timed out after {} s", timeout.as_secs()))
                }
                Err(RecvTimeoutError::Disconnected) => return Err("purple-stub exited".into()),
            }
        }
    }

    /// Counts events matching `pred` until `count` have arrived.
    pub fn count(
        &mut self,
        timeout: Duration,
        count: usize,
        pred: impl Fn(&Value) -> bool,
    ) -> Fallible<()> {
        for _ in 0..count {
            self.wait(timeout, &pred)?;
        }
        Ok(())
    }

    /// The stub's `stats` (dispatch, CPU and memory counters).
    pub fn stats(&mut self) -> Fallible<Stats> {
        self.send("stats");
        let v = self.wait(Duration::from_secs(30), |e| e["event"] == "stats")?;
        let n = |key: &str| v[key].as_f64().unwrap_or(0.0);
        Ok(Stats {
            cpu_ms: (n("cpu_user_us") + n("cpu_sys_us")) / 1000.0,
            max_dispatch_ms: n("max_dispatch_us") / 1000.0,
            max_dispatch_cpu_ms: n("max_dispatch_cpu_us") / 1000.0,
            rss_kb: n("rss_kb"),
        })
    }

    /// The most resident memory the stub's process has had (`VmHWM`), from `/proc`.
    pub fn peak_rss_kb(&self) -> Fallible<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|e| format!("reading the stub's status: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .ok_or_else(|| "no VmHWM in the stub's status".into())
    }
}

/// The stub's counters at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// Client CPU (user + system) since start.
    pub cpu_ms: f64,
    /// Longest main-loop dispatch since the last `stats-reset`.
    pub max_dispatch_ms: f64,
    /// Most thread CPU one main-loop dispatch used (not inflated by a loaded machine).
    pub max_dispatch_cpu_ms: f64,
    /// Resident memory.
    pub rss_kb: f64,
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let deadline = Instant::now() + self.quit_time;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Percent-encodes a command argument.
pub fn pct(arg: &str) -> String {
    let mut out = String::new();
    for b in arg.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
