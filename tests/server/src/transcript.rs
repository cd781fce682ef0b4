//! The record of everything the server received and sent, per connection, for test assertions.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Entries kept at most; older ones are dropped first.
const MAX_ENTRIES: usize = 100_000;

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Notification server (including the redirecting first NS).
    Ns,
    /// HTTP or HTTPS endpoint.
    Http,
    /// The `CONNECT` proxy.
    Proxy,
    /// The switchboard.
    Sb,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A line (and payload) arrived from the client.
    Received,
    /// A line (and payload) or raw bytes went to the client.
    Sent,
    /// The server closed the connection.
    ClosedByServer,
    /// The client closed the connection.
    ClosedByClient,
}

/// One transcript entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Connection number (unique per server, counting from 1).
    pub conn: u64,
    /// The listener.
    pub service: Service,
    /// What happened.
    pub event: Event,
    /// The command line without `\r\n` (for HTTP: the request line or status line).
    pub line: String,
    /// The payload after the line, if any (for a received HTTP request: the headers, the blank
    /// line and the body; for an HTTP response: the body).
    pub payload: Option<Vec<u8>>,
}

/// Thread-safe, bounded list of [`Entry`]: a ring, so dropping the oldest entry once full costs
/// nothing (a `Vec`'s `remove(0)` moved all 100,000 entries on every push, which paced a long
/// file transfer through the switchboard at ~2 MB/s).
#[derive(Debug, Default)]
pub struct Transcript {
    entries: Mutex<VecDeque<Entry>>,
}

impl Transcript {
    /// Appends an entry.
    pub fn push(&self, entry: Entry) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.len() >= MAX_ENTRIES {
            e.pop_front();
        }
        e.push_back(entry);
    }

    /// A copy of all entries so far.
    pub fn snapshot(&self) -> Vec<Entry> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}
