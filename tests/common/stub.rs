//! Test harness for `purple-stub`, the headless libpurple front end.
//!
//! [`Stub`] runs the C binary (built with `make -C purple-stub` on first use)
//! with a fresh user directory, writes commands to its stdin and reads its
//! JSON events from stdout on a reader thread. Set `PURPLE_STUB_WRAPPER` (for
//! example `valgrind --leak-check=full --error-exitcode=99`) to run the stub
//! under a wrapper; timeouts are then stretched by [`WRAPPER_TIME_FACTOR`].

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Environment variable holding a wrapper command line for the stub.
pub const WRAPPER_ENV: &str = "PURPLE_STUB_WRAPPER";
/// Environment variable the plugin (with `test-hooks`) reads its clock speed-up from.
pub const TIME_SCALE_ENV: &str = "PURPLE_MSNP_TEST_TIME_SCALE";
/// How much longer every timeout is when a wrapper (valgrind) is in use.
pub const WRAPPER_TIME_FACTOR: u32 = 20;
/// How long `quit` waits for the stub to exit (before stretching).
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long [`Stub::sync`] waits for its answer (before stretching).
const SYNC_TIMEOUT: Duration = Duration::from_secs(20);
/// Events shown in a timeout panic.
const PANIC_EVENTS: usize = 30;
/// Bytes of stderr shown in a timeout panic.
const PANIC_STDERR_BYTES: usize = 4000;

/// One line read from the stub's stdout.
type Line = Result<Value, String>;

/// Options for starting a [`Stub`].
#[derive(Debug, Clone)]
pub struct StubOptions {
    plugin_dir: PathBuf,
    debug: bool,
    time_scale: u32,
}

impl StubOptions {
    /// Options loading plugins from `plugin_dir` (libpurple also searches its own plugin dir).
    pub fn new(plugin_dir: impl Into<PathBuf>) -> Self {
        StubOptions {
            plugin_dir: plugin_dir.into(),
            debug: false,
            time_scale: 1,
        }
    }

    /// Runs the plugin's session clock `scale` times faster (`PURPLE_MSNP_TEST_TIME_SCALE`, read
    /// by a plugin built with `test-hooks`), so its timeouts pass in a fraction of the time.
    /// Not applied under a wrapper, where everything is slow already (see
    /// [`Stub::time_scale`]).
    pub fn time_scale(mut self, scale: u32) -> Self {
        self.time_scale = scale;
        self
    }

    /// Turns libpurple's debug output (to stderr, see [`Stub::debug_log`]) on or off.
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }
}

/// A running `purple-stub` process with its own temporary user directory.
pub struct Stub {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    /// Every event received so far, in order.
    seen: Vec<Value>,
    /// How much faster the plugin's session clock runs.
    time_scale: u32,
    /// Indexes into `seen` of events no `wait_for` has returned yet.
    unclaimed: VecDeque<usize>,
    stderr: Arc<Mutex<Vec<u8>>>,
    threads: Vec<JoinHandle<()>>,
    user_dir: PathBuf,
    time_factor: u32,
    /// Ids of `sync` commands sent so far.
    syncs: u64,
}

/// Percent-encodes one command argument (everything but `A-Z a-z 0-9 - . _ ~ @ : /`).
pub fn pct(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len());
    for &b in arg.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@:/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Path of the stub binary, built by `make -C purple-stub` once per test process.
pub fn stub_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let out = root.join("target").join("purple-stub");
            let status = Command::new("make")
                .arg("-s")
                .arg("-C")
                .arg(root.join("purple-stub"))
                .arg(format!("OUT={}", out.display()))
                .status()
                .expect("running make for purple-stub");
            assert!(status.success(), "make -C purple-stub failed: {status}");
            out.join("purple-stub")
        })
        .clone()
}

/// A fresh, empty directory under the system temp dir.
fn fresh_temp_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "purple-stub-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    ));
    std::fs::create_dir_all(&dir).expect("creating the stub's user dir");
    dir
}

impl Stub {
    /// Starts the stub with plugins from `plugin_dir`, without debug output.
    pub fn start(plugin_dir: impl Into<PathBuf>) -> Stub {
        Stub::spawn(&StubOptions::new(plugin_dir))
    }

    /// Starts the stub with the given options.
    pub fn spawn(options: &StubOptions) -> Stub {
        let binary = stub_binary();
        let user_dir = fresh_temp_dir();
        let wrapper = std::env::var(WRAPPER_ENV).unwrap_or_default();
        let mut words = wrapper.split_whitespace();
        let mut cmd = match words.next() {
            Some(program) => {
                let mut c = Command::new(program);
                c.args(words).arg(&binary);
                c
            }
            None => Command::new(&binary),
        };
        cmd.arg("--plugins")
            .arg(&options.plugin_dir)
            .arg("--user-dir")
            .arg(&user_dir);
        if options.debug {
            cmd.arg("--debug");
        }
        let time_scale = if wrapper.trim().is_empty() {
            options.time_scale
        } else {
            1
        };
        cmd.env(TIME_SCALE_ENV, time_scale.to_string());
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));

        let stdout = child.stdout.take().expect("piped stdout");
        let stderr_pipe = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_sink = Arc::clone(&stderr);
        let threads = vec![
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else {
                        let _ = tx.send(Err("stdout is not UTF-8".to_string()));
                        break;
                    };
                    let parsed = serde_json::from_str::<Value>(&line)
                        .map_err(|e| format!("invalid JSON ({e}): {line}"));
                    if tx.send(parsed).is_err() {
                        break;
                    }
                }
            }),
            thread::spawn(move || {
                let mut pipe = stderr_pipe;
                let mut buf = [0u8; 8192];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut sink) = stderr_sink.lock() {
                        sink.extend_from_slice(&buf[..n]);
                    }
                }
            }),
        ];
        Stub {
            stdin: child.stdin.take(),
            child: Some(child),
            lines,
            seen: Vec::new(),
            unclaimed: VecDeque::new(),
            stderr,
            threads,
            user_dir,
            syncs: 0,
            time_scale,
            time_factor: if wrapper.trim().is_empty() {
                1
            } else {
                WRAPPER_TIME_FACTOR
            },
        }
    }

    /// How many times faster than real time the plugin's session clock runs (1 unless set
    /// with [`StubOptions::time_scale`] and no wrapper is in use).
    pub fn time_scale(&self) -> u32 {
        self.time_scale
    }

    /// How much every timeout is stretched (1, or [`WRAPPER_TIME_FACTOR`] under a wrapper).
    pub fn time_factor(&self) -> u32 {
        self.time_factor
    }

    /// The stub's process id (of its wrapper, if any), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The stub's libpurple user directory (removed when the stub is dropped).
    pub fn user_dir(&self) -> &Path {
        &self.user_dir
    }

    /// Sends one command line (a trailing newline is added).
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        if let Err(e) = stdin.write_all(&bytes).and_then(|_| stdin.flush()) {
            panic!("writing to purple-stub: {e}\n{}", self.context());
        }
    }

    /// Waits up to `timeout` for an event no earlier `wait_for` returned that matches `pred`.
    ///
    /// Events are matched in arrival order, including ones that arrived before this call.
    /// Panics with the latest events and the stderr tail on timeout, on an exit of the
    /// stub, or if the stub wrote a line that is not JSON.
    pub fn wait_for(&mut self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        match self.wait_for_within(timeout, pred) {
            Some(v) => v,
            None => panic!("timed out waiting for an event\n{}", self.context()),
        }
    }

    /// [`Stub::wait_for`], but `None` on timeout (for retrying an action that the plugin may
    /// drop until it is ready, such as a typing notice on a switchboard still joining).
    pub fn wait_for_within(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = Instant::now() + timeout * self.time_factor;
        if let Some(v) = self.claim(&pred) {
            return Some(v);
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(Ok(event)) => {
                    self.seen.push(event);
                    self.unclaimed.push_back(self.seen.len() - 1);
                    if let Some(v) = self.claim(&pred) {
                        return Some(v);
                    }
                }
                Ok(Err(bad)) => panic!("purple-stub wrote a bad line: {bad}\n{}", self.context()),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "purple-stub closed stdout while waiting\n{}",
                        self.context()
                    )
                }
            }
        }
    }

    /// A barrier: sends `sync` and waits for its answer, which the stub gives once its main
    /// loop has nothing else ready. Every event caused by a command sent earlier, or by input
    /// the plugin had already received, is in [`Stub::events_seen`] afterwards.
    pub fn sync(&mut self) {
        self.syncs += 1;
        let id = self.syncs.to_string();
        self.send(&format!("sync {id}"));
        self.wait_for(SYNC_TIMEOUT, |e| {
            e["event"] == "sync" && e["id"] == id.as_str()
        });
    }

    /// Waits for the next unclaimed event named `name` (see [`Stub::wait_for`]).
    pub fn wait_event(&mut self, timeout: Duration, name: &str) -> Value {
        self.wait_for(timeout, |e| e["event"] == name)
    }

    /// Returns (and claims) the first unclaimed event matching `pred`.
    fn claim(&mut self, pred: &impl Fn(&Value) -> bool) -> Option<Value> {
        let pos = self
            .unclaimed
            .iter()
            .position(|&i| self.seen.get(i).is_some_and(pred))?;
        let index = self.unclaimed.remove(pos)?;
        self.seen.get(index).cloned()
    }

    /// Moves every event already read into `seen` without waiting.
    fn drain(&mut self) {
        while let Ok(Ok(event)) = self.lines.try_recv() {
            self.seen.push(event);
            self.unclaimed.push_back(self.seen.len() - 1);
        }
    }

    /// Every event received so far, in order (claimed or not).
    pub fn events_seen(&mut self) -> &[Value] {
        self.drain();
        &self.seen
    }

    /// Everything the stub wrote to stderr so far (libpurple debug lines with `--debug`).
    pub fn debug_log(&self) -> String {
        let bytes = self.stderr.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// True while the stub process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Sends `quit` and waits for the stub to exit; panics if it does not.
    pub fn quit(mut self) -> ExitStatus {
        self.send("quit");
        self.finish()
    }

    /// Closes stdin (end of file means quit) and waits for the stub to exit; panics if it does not.
    pub fn finish(mut self) -> ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + EXIT_TIMEOUT * self.time_factor;
        let mut child = self.child.take().expect("stub already finished");
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.join_threads();
                    if !status.success() {
                        // Under valgrind this holds its report.
                        eprintln!("purple-stub exited with {status}\n{}", self.context());
                    }
                    return status;
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("purple-stub did not exit in time\n{}", self.context());
                }
            }
        }
    }

    fn join_threads(&mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.drain();
    }

    /// The latest events and the stderr tail, for panic messages.
    fn context(&mut self) -> String {
        self.drain();
        let start = self.seen.len().saturating_sub(PANIC_EVENTS);
        let events: Vec<String> = self.seen[start..].iter().map(Value::to_string).collect();
        let log = self.debug_log();
        let mut tail_start = log.len().saturating_sub(PANIC_STDERR_BYTES);
        while !log.is_char_boundary(tail_start) {
            tail_start += 1;
        }
        format!(
            "--- last {} events ---\n{}\n--- stderr tail ---\n{}",
            events.len(),
            events.join("\n"),
            &log[tail_start..]
        )
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.user_dir);
    }
}
