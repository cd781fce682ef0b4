//! BitlBee (Debian's `bitlbee-libpurple`) with our plugin, and a small IRC client talking to it.
//!
//! BitlBee runs in inetd mode (`-I`): the test listens on a loopback port, connects to it and
//! hands the accepted socket to BitlBee as its standard input and output, as inetd would. Its
//! configuration and user folders are fresh; the plugin sits in `<PluginDir>/purple`, the folder
//! BitlBee's libpurple module adds to libpurple's plugin search path.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::plugin::plugin_path;

/// How long one IRC step may take.
pub const STEP: Duration = Duration::from_secs(30);

/// A running BitlBee with one IRC client connected and registered as `nick`.
pub struct BitlBee {
    child: Child,
    irc: TcpStream,
    lines: Receiver<String>,
    /// Every line received so far.
    seen: Vec<String>,
    /// Index into `seen` of the first line no wait has passed yet.
    next: usize,
    dir: PathBuf,
    nick: String,
}

impl BitlBee {
    /// Starts BitlBee with a fresh configuration and our plugin, connects and registers as
    /// `nick`, and waits until the control channel `&bitlbee` is joined.
    pub fn start(nick: &str) -> BitlBee {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "purple-msnp-bitlbee-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("config")).expect("bitlbee config dir");
        std::fs::create_dir_all(dir.join("plugins/purple")).expect("bitlbee plugin dir");
        std::fs::copy(plugin_path(), dir.join("plugins/purple/libpurple-msnp.so"))
            .expect("copy plugin");
        let conf = dir.join("bitlbee.conf");
        std::fs::write(
            &conf,
            format!(
                "[settings]\nRunMode = Inetd\nAuthMode = Open\nConfigDir = {}\nPluginDir = {}\n",
                dir.join("config").display(),
                dir.join("plugins").display()
            ),
        )
        .expect("bitlbee.conf");

        let listener = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
        let irc = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (server_side, _) = listener.accept().expect("accept");
        let stdin = OwnedFd::from(server_side.try_clone().expect("dup socket"));
        let stdout = OwnedFd::from(server_side);
        let stderr = std::fs::File::create(dir.join("stderr")).expect("stderr file");
        let child = Command::new("bitlbee")
            .arg("-I")
            .arg("-c")
            .arg(&conf)
            .arg("-d")
            .arg(dir.join("config"))
            .stdin(Stdio::from(stdin))
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("running bitlbee (Debian package bitlbee-libpurple; `make test` installs it)");

        let (tx, lines) = mpsc::channel();
        let reader = irc.try_clone().expect("clone IRC socket");
        std::thread::spawn(move || {
            for line in BufReader::new(reader).split(b'\n') {
                let Ok(line) = line else { break };
                let line = String::from_utf8_lossy(&line)
                    .trim_end_matches('\r')
                    .to_owned();
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut bee = BitlBee {
            child,
            irc,
            lines,
            seen: Vec::new(),
            next: 0,
            dir,
            nick: nick.to_owned(),
        };
        bee.send(&format!("NICK {nick}"));
        bee.send(&format!("USER {nick} 0 * :{nick}"));
        bee.wait(&format!(":{nick}!{nick}@localhost JOIN :&bitlbee"));
        bee
    }

    /// Sends one IRC line.
    pub fn send(&mut self, line: &str) {
        assert!(!line.contains(['\r', '\n']), "one line at a time");
        self.irc
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("writing to bitlbee");
    }

    /// Runs a command in the control channel (as typed there).
    pub fn command(&mut self, command: &str) {
        self.send(&format!("PRIVMSG &bitlbee :{command}"));
    }

    /// Waits for the next line (after the last one a wait returned) that `pred` accepts; returns it.
    pub fn wait_for(&mut self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(i) = (self.next..self.seen.len()).find(|&i| pred(&self.seen[i])) {
                self.next = i + 1;
                return self.seen[i].clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) => self.fail("timed out"),
                Err(RecvTimeoutError::Disconnected) => self.fail("bitlbee closed the connection"),
            }
        }
    }

    /// Waits for a line equal to `line`.
    pub fn wait(&mut self, line: &str) -> String {
        self.wait_for(|l| l == line)
    }

    /// Waits until every one of `lines` has come, in any order (after the last line a wait
    /// returned); continues after the last of them.
    pub fn wait_all(&mut self, lines: &[&str]) {
        let start = self.next;
        let mut last = start;
        for line in lines {
            self.next = start;
            self.wait(line);
            last = last.max(self.next);
        }
        self.next = last;
    }

    /// Waits for a message from `root` in the control channel containing `text`.
    pub fn wait_root(&mut self, text: &str) -> String {
        self.wait_for(|l| {
            l.starts_with(":root!root@localhost PRIVMSG &bitlbee :") && l.contains(text)
        })
    }

    /// Adds an account of our protocol with the given password and endpoint settings
    /// (`account <tag> set <key> <value>`), then switches it on.
    pub fn add_account(&mut self, email: &str, password: &str, settings: &[(&str, String)]) {
        self.command(&format!("account add msnp {email} {password}"));
        self.wait_root("Account successfully added with tag msnp");
        for (key, value) in settings {
            self.command(&format!("account msnp set {key} {value}"));
            self.wait_root(&format!("{key} = `{value}'"));
        }
        self.command("account msnp on");
    }

    /// Every line received so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The IRC nick this client registered.
    pub fn nick(&self) -> &str {
        &self.nick
    }

    /// Says goodbye and waits for BitlBee to exit; returns whether it exited cleanly.
    pub fn quit(mut self) -> bool {
        self.send("QUIT :done");
        self.wait_for(|l| l.starts_with("ERROR :Closing link"));
        let deadline = Instant::now() + STEP;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("waiting for bitlbee") {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.fail("bitlbee did not exit after QUIT")
    }

    fn fail(&self, why: &str) -> ! {
        let stderr = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
        let tail = &self.seen[self.seen.len().saturating_sub(40)..];
        panic!(
            "{why}; last IRC lines:\n{}\nbitlbee stderr:\n{stderr}",
            tail.join("\n")
        );
    }
}

impl Drop for BitlBee {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
