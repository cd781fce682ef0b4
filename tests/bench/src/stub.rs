//! A purple-stub process driven line by line (commands in, JSON events out).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running stub with a private user dir and a plugin dir holding only the plugin under test.
pub struct Stub {
    /// libpurple's version, from the `ready` event.
    pub libpurple: String,
    child: Child,
    stdin: ChildStdin,
    events: Receiver<Value>,
    dirs: Vec<PathBuf>,
}

impl Stub {
    /// Starts `stub` with `plugin` copied into a fresh plugin folder.
    pub fn start(stub: &Path, plugin: &Path) -> Stub {
        let base =
            std::env::temp_dir().join(format!("msnp-bench-{}-{}", std::process::id(), unique()));
        let (plugins, user) = (base.join("plugins"), base.join("user"));
        std::fs::create_dir_all(&plugins).expect("plugin dir");
        std::fs::create_dir_all(&user).expect("user dir");
        let name = plugin.file_name().expect("plugin file name");
        std::fs::copy(plugin, plugins.join(name)).expect("copying the plugin");
        let mut child = Command::new(stub)
            .arg("--plugins")
            .arg(&plugins)
            .arg("--user-dir")
            .arg(&user)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting purple-stub");
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
            child,
            stdin,
            events,
            dirs: vec![base],
        };
        let ready = stub.wait(Duration::from_secs(30), |e| e["event"] == "ready");
        stub.libpurple = ready["version"].as_str().unwrap_or("2.x").to_owned();
        stub
    }

    /// Sends one command line.
    pub fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("writing to purple-stub");
        self.stdin.flush().expect("flushing purple-stub's stdin");
    }

    /// Waits for an event matching `pred`, returning it.
    pub fn wait(&mut self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if pred(&event) => return event,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("purple-stub: timed out"),
                Err(RecvTimeoutError::Disconnected) => panic!("purple-stub exited"),
            }
        }
    }

    /// Counts events matching `pred` until `count` have arrived; panics on timeout.
    pub fn count(&mut self, timeout: Duration, count: usize, pred: impl Fn(&Value) -> bool) {
        let mut seen = 0;
        while seen < count {
            self.wait(timeout, &pred);
            seen += 1;
        }
    }

    /// The stub's `stats` (dispatch, CPU and memory counters).
    pub fn stats(&mut self) -> Value {
        self.send("stats");
        self.wait(Duration::from_secs(30), |e| e["event"] == "stats")
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let deadline = Instant::now() + Duration::from_secs(10);
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
