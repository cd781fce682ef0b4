//! Contacts that serve a display picture, for tests and the bench: raw MSNP12 clients
//! ([`Online`]), each on its own thread, signed in with the picture's MSNObject in `CHG`,
//! answering every switchboard invitation (`RNG`) and serving the picture over P2P there with
//! the project's P2P core (`msnp::p2p`), as another client would.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use msnp::p2p::{self, flags, msnobj, MsnObject, P2p, Packet, SbP2p};

use crate::client::{Fallible, Online};
use crate::TestServer;

/// How long a read waits before the host looks at its controls again.
const TICK: Duration = Duration::from_millis(100);
/// A switchboard with no traffic for this long is left.
const SB_IDLE: Duration = Duration::from_secs(60);
/// Largest frame buffered from the server.
const MAX_BUFFER: usize = 1024 * 1024;
/// Server commands that carry a payload when their last word is a byte count.
const PAYLOAD_VERBS: &[&str] = &[
    "MSG", "GCF", "UBX", "NOT", "FQY", "IPG", "UBN", "UBM", "NFY", "SDG",
];

/// Distinguishes the hosts' random sources (message and session ids).
static SEEDS: AtomicU32 = AtomicU32::new(0x9E37_79B9);

/// What a host does when asked for its picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Serves it whole.
    Serve,
    /// Sends the first chunk of the picture's data, then signs out (switchboard and
    /// notification server) without a word.
    SignOutMidFetch,
}

#[derive(Default)]
struct Controls {
    stop: AtomicBool,
    signed_out: AtomicBool,
    invites: AtomicUsize,
    /// A picture change asked for and not yet announced.
    picture: Mutex<Option<Option<Vec<u8>>>>,
    error: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A contact online on its own thread, serving its display picture.
pub struct PictureHost {
    controls: Arc<Controls>,
    thread: Option<JoinHandle<()>>,
}

/// The MSNObject of `email`'s display picture `data` (file name as Pidgin writes it).
pub fn picture_object(email: &str, data: &[u8]) -> MsnObject {
    MsnObject::new(email, msnobj::kind::DISPLAY_PICTURE, "TFR2C2.tmp", "", data)
}

impl PictureHost {
    /// Signs `email` in with `picture` (none: no picture) and serves it until dropped.
    pub fn start(
        server: &TestServer,
        email: &str,
        password: &str,
        picture: Option<Vec<u8>>,
        behaviour: Behaviour,
    ) -> Fallible<PictureHost> {
        let object = picture.as_deref().map(|d| picture_object(email, d));
        let xml = object.as_ref().map(|o| o.xml.as_str());
        let online = Online::sign_in_with(server, email, password, xml)?;
        online.set_read_timeout(TICK)?;
        let controls = Arc::new(Controls::default());
        let host = Host {
            email: email.to_owned(),
            picture: picture.zip(object),
            behaviour,
            controls: Arc::clone(&controls),
            seed: email
                .bytes()
                .fold(SEEDS.fetch_add(1, Ordering::SeqCst) | 1, |h, b| {
                    h.rotate_left(5) ^ u32::from(b)
                }),
        };
        let thread = std::thread::Builder::new()
            .name(format!("host {email}"))
            .stack_size(256 * 1024)
            .spawn(move || host.run(online))
            .map_err(|e| format!("picture host thread: {e}"))?;
        Ok(PictureHost {
            controls,
            thread: Some(thread),
        })
    }

    /// Starts `count` hosts at once (a few threads signing them in): host `i` is
    /// `email(i)`, password `password`, with picture `picture(i)`.
    pub fn start_many(
        server: &TestServer,
        count: usize,
        email: impl Fn(usize) -> String + Sync,
        password: &str,
        picture: impl Fn(usize) -> Vec<u8> + Sync,
    ) -> Fallible<Vec<PictureHost>> {
        const THREADS: usize = 8;
        let per = count.div_ceil(THREADS).max(1);
        let started: Vec<Fallible<Vec<PictureHost>>> = std::thread::scope(|s| {
            let (email, picture) = (&email, &picture);
            let threads: Vec<_> = (0..count)
                .step_by(per)
                .map(|first| {
                    s.spawn(move || {
                        (first..(first + per).min(count))
                            .map(|i| {
                                let data = Some(picture(i));
                                PictureHost::start(
                                    server,
                                    &email(i),
                                    password,
                                    data,
                                    Behaviour::Serve,
                                )
                            })
                            .collect()
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap_or(Err("host start thread panicked".into())))
                .collect()
        });
        let mut hosts = Vec::with_capacity(count);
        for group in started {
            hosts.extend(group?);
        }
        Ok(hosts)
    }

    /// Stops every host of `hosts` (all at once, then waits for them).
    pub fn stop_all(hosts: Vec<PictureHost>) {
        for host in &hosts {
            host.controls.stop.store(true, Ordering::SeqCst);
        }
        drop(hosts);
    }

    /// Announces `picture` (none: removes it) from now on.
    pub fn set_picture(&self, picture: Option<Vec<u8>>) {
        *lock(&self.controls.picture) = Some(picture);
    }

    /// `INVITE`s received so far.
    pub fn invites(&self) -> usize {
        self.controls.invites.load(Ordering::SeqCst)
    }

    /// Whether the host signed out ([`Behaviour::SignOutMidFetch`]).
    pub fn signed_out(&self) -> bool {
        self.controls.signed_out.load(Ordering::SeqCst)
    }

    /// The first thing that went wrong on the host's side, if any.
    pub fn error(&self) -> Option<String> {
        lock(&self.controls.error).clone()
    }
}

impl Drop for PictureHost {
    fn drop(&mut self) {
        self.controls.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Commands read from a connection.
#[derive(Default)]
struct Frames {
    buf: Vec<u8>,
}

impl Frames {
    /// Reads what is there (waiting up to the socket's timeout); false when closed.
    fn fill(&mut self, from: &mut impl Read) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match from.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                self.buf.len() <= MAX_BUFFER
            }
            Err(e) => matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    }

    /// The next whole command: its line and payload.
    fn next(&mut self) -> Option<(String, Vec<u8>)> {
        let end = self.buf.windows(2).position(|w| w == b"\r\n")?;
        let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        let verb = line.split(' ').next().unwrap_or_default();
        let len = PAYLOAD_VERBS
            .contains(&verb)
            .then(|| line.rsplit(' ').next()?.parse::<usize>().ok())
            .flatten()
            .unwrap_or(0);
        if self.buf.len() < end + 2 + len {
            return None;
        }
        let payload = self.buf[end + 2..end + 2 + len].to_vec();
        self.buf.drain(..end + 2 + len);
        Some((line, payload))
    }
}

/// What ended a switchboard.
enum Left {
    /// The host goes on.
    Done,
    /// The host signed out or was stopped.
    Gone,
}

struct Host {
    email: String,
    picture: Option<(Vec<u8>, MsnObject)>,
    behaviour: Behaviour,
    controls: Arc<Controls>,
    seed: u32,
}

impl Host {
    fn fail(&self, error: String) {
        lock(&self.controls.error).get_or_insert(error);
    }

    fn next_random(&mut self) -> u32 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 17;
        self.seed ^= self.seed << 5;
        self.seed
    }

    fn run(mut self, mut online: Online) {
        let mut frames = Frames::default();
        while !self.controls.stop.load(Ordering::SeqCst) {
            if let Some(picture) = lock(&self.controls.picture).take() {
                self.picture = picture.map(|d| {
                    let object = picture_object(&self.email, &d);
                    (d, object)
                });
                let xml = self.picture.as_ref().map(|(_, o)| o.xml.clone());
                if let Err(e) = online.set_picture(xml.as_deref()) {
                    return self.fail(e);
                }
            }
            if !frames.fill(&mut online.reader) {
                return self.fail(format!("{}: the server closed the connection", self.email));
            }
            while let Some((line, _)) = frames.next() {
                let words: Vec<&str> = line.split(' ').collect();
                if let ["RNG", session, address, _, cookie, ..] = words[..] {
                    match self.switchboard(session, address, cookie) {
                        Ok(Left::Done) => {}
                        Ok(Left::Gone) => {
                            online.sign_out();
                            return;
                        }
                        Err(e) => self.fail(e),
                    }
                }
            }
        }
        online.sign_out();
    }

    /// Joins the switchboard of a `RNG` and serves the picture there until left.
    fn switchboard(&mut self, session: &str, address: &str, cookie: &str) -> Fallible<Left> {
        let io = |e: std::io::Error| format!("picture host switchboard: {e}");
        let mut sb = TcpStream::connect(address).map_err(io)?;
        sb.set_read_timeout(Some(TICK)).map_err(io)?;
        sb.set_nodelay(true).map_err(io)?;
        write!(sb, "ANS 1 {} {cookie} {session}\r\n", self.email).map_err(io)?;
        let mut seed = self.next_random();
        let mut rng = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        let mut engine = P2p::new(p2p::Config::new(&self.email), &mut rng);
        let mut frames = Frames::default();
        let (mut trid, mut active) = (2u32, Instant::now());
        loop {
            if self.controls.stop.load(Ordering::SeqCst) {
                let _ = sb.write_all(b"OUT\r\n");
                return Ok(Left::Gone);
            }
            if active.elapsed() > SB_IDLE || !frames.fill(&mut sb) {
                let _ = sb.write_all(b"OUT\r\n");
                return Ok(Left::Done);
            }
            let now = Instant::now();
            while let Some((line, payload)) = frames.next() {
                active = now;
                let words: Vec<&str> = line.split(' ').collect();
                match words[..] {
                    ["MSG", from, ..] => {
                        let Some(p2p) = SbP2p::parse(&payload) else {
                            continue;
                        };
                        if payload.windows(15).any(|w| w == b"INVITE MSNMSGR:") {
                            self.controls.invites.fetch_add(1, Ordering::SeqCst);
                        }
                        let picture = &self.picture;
                        let store = |sha1d: &str| {
                            picture
                                .as_ref()
                                .filter(|(_, o)| o.sha1d == sha1d)
                                .map(|(d, _)| Arc::from(d.as_slice()))
                        };
                        let _ = engine.handle_packet(from, &p2p.packet, now, &store, &mut rng);
                    }
                    ["BYE", ..] => {
                        let _ = sb.write_all(b"OUT\r\n");
                        return Ok(Left::Done);
                    }
                    _ => {}
                }
            }
            if engine.poll_timeout().is_some_and(|t| t <= now) {
                engine.handle_timeout(now, &mut rng);
            }
            while let Some(t) = engine.poll_transmit(now) {
                let payload = p2p::sb_payload(&t.peer, None, &t.packet)
                    .ok_or("picture host: P2P packet too large")?;
                let mut raw = format!("MSG {trid} D {}\r\n", payload.len()).into_bytes();
                raw.extend_from_slice(&payload);
                trid += 1;
                sb.write_all(&raw).map_err(io)?;
                let data = Packet::parse(&t.packet)
                    .is_ok_and(|p| p.header.flags & flags::MSN_OBJECT_DATA != 0);
                if data && self.behaviour == Behaviour::SignOutMidFetch {
                    let _ = sb.shutdown(std::net::Shutdown::Both);
                    self.controls.signed_out.store(true, Ordering::SeqCst);
                    return Ok(Left::Gone);
                }
            }
        }
    }
}
