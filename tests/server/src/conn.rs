//! A client connection's write side, shared between its reader thread and other sessions
//! (which push `OUT OTH`, kicks and, later, presence), with transcript logging.

use crate::faults::Faults;
use crate::transcript::{Entry, Event, Service, Transcript};
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// Write side of one connection.
#[derive(Debug)]
pub struct Conn {
    /// Connection number in the transcript.
    pub id: u64,
    service: Service,
    stream: Mutex<TcpStream>,
    closed: AtomicBool,
    transcript: Arc<Transcript>,
    /// Barriers ([`crate::TestServer::ns_sync`]) waiting for the next `CHL`/`QRY` round trip.
    syncs: Mutex<Vec<Sender<()>>>,
    /// Delays and splits the writes (soak runs).
    faults: Option<Arc<Faults>>,
}

impl Conn {
    /// Wraps a clone of the accepted socket.
    pub fn new(id: u64, service: Service, stream: TcpStream, transcript: Arc<Transcript>) -> Self {
        Self {
            id,
            service,
            stream: Mutex::new(stream),
            closed: AtomicBool::new(false),
            transcript,
            syncs: Mutex::new(Vec::new()),
            faults: None,
        }
    }

    /// Lets `faults` delay and split this connection's writes.
    pub fn with_faults(mut self, faults: Arc<Faults>) -> Self {
        self.faults = Some(faults);
        self
    }

    fn log(&self, event: Event, line: &str, payload: Option<&[u8]>) {
        self.transcript.push(Entry {
            conn: self.id,
            service: self.service,
            event,
            line: line.to_owned(),
            payload: payload.map(<[u8]>::to_vec),
        });
    }

    /// Records a command received from the client.
    pub fn log_received(&self, line: &str, payload: Option<&[u8]>) {
        self.log(Event::Received, line, payload);
    }

    /// Records that the client hung up.
    pub fn log_client_closed(&self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.log(Event::ClosedByClient, "", None);
        }
    }

    fn write(&self, bytes: &[u8]) {
        if self.is_closed() {
            return;
        }
        let mut s = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        let pieces = match &self.faults {
            Some(faults) => faults.write_plan(bytes.len()),
            None => vec![(bytes.len(), std::time::Duration::ZERO)],
        };
        let mut rest = bytes;
        for (len, pause) in pieces {
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
            let (piece, after) = rest.split_at(len.min(rest.len()));
            rest = after;
            if let Err(e) = s.write_all(piece).and_then(|()| s.flush()) {
                return log::debug!("conn {}: write failed: {e}", self.id);
            }
        }
    }

    /// Sends `line\r\n` (nothing once closed).
    pub fn send(&self, line: &str) {
        if self.is_closed() {
            return;
        }
        self.log(Event::Sent, line, None);
        self.write(format!("{line}\r\n").as_bytes());
    }

    /// Sends `line\r\n` followed by `payload` in one write.
    pub fn send_with_payload(&self, line: &str, payload: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.log(Event::Sent, line, Some(payload));
        let mut bytes = format!("{line}\r\n").into_bytes();
        bytes.extend_from_slice(payload);
        self.write(&bytes);
    }

    /// Sends bytes as they are (fault injection).
    pub fn send_raw(&self, bytes: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.log(Event::Sent, &String::from_utf8_lossy(bytes), None);
        self.write(bytes);
    }

    /// Closes the connection from the server side (idempotent).
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.log(Event::ClosedByServer, "", None);
        }
        let s = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        let _ = s.shutdown(Shutdown::Both);
    }

    /// Asks the session for a `CHL`/`QRY` round trip; the receiver hears once the client has
    /// answered it (and is dropped unanswered if the connection closes first).
    pub fn request_sync(&self) -> Receiver<()> {
        let (tx, rx) = mpsc::channel();
        self.syncs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tx);
        rx
    }

    /// Takes the barriers waiting for a round trip.
    pub fn take_syncs(&self) -> Vec<Sender<()>> {
        std::mem::take(&mut *self.syncs.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Which service the connection belongs to.
    pub fn service(&self) -> Service {
        self.service
    }

    /// Whether either side has closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}
