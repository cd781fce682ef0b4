//! Raw MSNP12 clients signed in as contacts of the client under test: they make contacts
//! online (with a display picture, if any), change status, open switchboards and send on them,
//! for the bench and for tests that need a peer outside purple-stub.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::wire::percent_encode;
use crate::TestServer;

/// A raw client's result; the error says what failed.
pub type Fallible<T> = Result<T, String>;

/// The capabilities a raw client announces (MSN 7.5 with chunking).
const CAPS: &str = "1342177312";

/// A contact signed in on the notification server.
pub struct Online {
    ns: TcpStream,
    pub(crate) reader: BufReader<TcpStream>,
    trid: u32,
}

fn io(e: std::io::Error) -> String {
    format!("raw client: {e}")
}

pub(crate) fn read_line(reader: &mut BufReader<TcpStream>) -> Fallible<String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(io)?;
    if line.is_empty() {
        return Err("raw client: the test server closed the connection".into());
    }
    Ok(line.trim_end().to_owned())
}

/// Reads lines until one starts with `prefix` (skipping payloads of payload commands).
pub fn expect(reader: &mut BufReader<TcpStream>, prefix: &str) -> Fallible<String> {
    loop {
        let line = read_line(reader)?;
        if line.starts_with(prefix) {
            return Ok(line);
        }
        let mut words = line.split(' ');
        if matches!(words.next(), Some("MSG" | "GCF" | "UBX" | "NOT")) {
            if let Some(len) = line
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
            {
                let mut skip = vec![0u8; len];
                reader.read_exact(&mut skip).map_err(io)?;
            }
        }
    }
}

/// The Passport ticket for `email`, from the test server's plain-HTTP login endpoint.
fn passport_ticket(server: &TestServer, email: &str, password: &str) -> Fallible<String> {
    let url = server.login_url_plain();
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut http = TcpStream::connect(&authority).map_err(io)?;
    let auth = format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={password},ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1",
        email.replace('@', "%40")
    );
    write!(http, "GET /login HTTP/1.1\r\nHost: {authority}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n").map_err(io)?;
    let mut response = String::new();
    http.read_to_string(&mut response).map_err(io)?;
    let start = response.find("from-PP='").ok_or("raw client: no ticket")? + "from-PP='".len();
    Ok(response[start..]
        .split('\'')
        .next()
        .unwrap_or_default()
        .to_owned())
}

impl Online {
    /// Signs `email` in at MSNP12 with status `NLN`.
    pub fn sign_in(server: &TestServer, email: &str, password: &str) -> Fallible<Online> {
        Online::sign_in_with(server, email, password, None)
    }

    /// Signs `email` in at MSNP12 with status `NLN` and `msnobj` (XML) as display picture.
    pub fn sign_in_with(
        server: &TestServer,
        email: &str,
        password: &str,
        msnobj: Option<&str>,
    ) -> Fallible<Online> {
        let mut ns = TcpStream::connect(server.ns_addr()).map_err(io)?;
        ns.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(io)?;
        let mut reader = BufReader::new(ns.try_clone().map_err(io)?);
        write!(ns, "VER 1 MSNP12 CVR0\r\nCVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 7.5.0324 msmsgs {email}\r\nUSR 3 TWN I {email}\r\n").map_err(io)?;
        expect(&mut reader, "USR 3 TWN S")?;
        let ticket = passport_ticket(server, email, password)?;
        let object = msnobj.map_or_else(|| "0".to_owned(), percent_encode);
        write!(ns, "USR 4 TWN S {ticket}\r\nCHG 5 NLN {CAPS} {object}\r\n").map_err(io)?;
        expect(&mut reader, "CHG 5")?;
        Ok(Online {
            ns,
            reader,
            trid: 6,
        })
    }

    /// Sets how long a read on the notification server connection waits.
    pub fn set_read_timeout(&self, timeout: Duration) -> Fallible<()> {
        self.ns.set_read_timeout(Some(timeout)).map_err(io)
    }

    /// Changes status (`NLN`, `AWY`, `BSY`, ...) without waiting for the answer.
    pub fn set_status(&mut self, status: &str) -> Fallible<()> {
        write!(self.ns, "CHG {} {status} {CAPS} 0\r\n", self.trid).map_err(io)?;
        self.trid += 1;
        Ok(())
    }

    /// Announces `msnobj` (XML; `None`: no picture) with status `NLN`, without waiting.
    pub fn set_picture(&mut self, msnobj: Option<&str>) -> Fallible<()> {
        let object = msnobj.map_or_else(|| "0".to_owned(), percent_encode);
        write!(self.ns, "CHG {} NLN {CAPS} {object}\r\n", self.trid).map_err(io)?;
        self.trid += 1;
        Ok(())
    }

    /// Signs out (`OUT`) and closes the connection.
    pub fn sign_out(mut self) {
        let _ = self.ns.write_all(b"OUT\r\n");
        let _ = self.ns.shutdown(std::net::Shutdown::Both);
    }

    /// Opens a switchboard and invites `to`, waiting until `to` joined.
    pub fn switchboard(&mut self, email: &str, to: &str) -> Fallible<Switchboard> {
        let trid = self.trid;
        self.trid += 1;
        write!(self.ns, "XFR {trid} SB\r\n").map_err(io)?;
        let xfr = expect(&mut self.reader, &format!("XFR {trid} SB"))?;
        let words: Vec<&str> = xfr.split(' ').collect();
        let (address, cookie) = match words.as_slice() {
            [_, _, _, address, _, cookie, ..] => (*address, *cookie),
            _ => return Err(format!("raw client: odd XFR {xfr}")),
        };
        let sb = TcpStream::connect(address).map_err(io)?;
        sb.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(io)?;
        let mut sb_reader = BufReader::new(sb.try_clone().map_err(io)?);
        let mut sb_writer = sb.try_clone().map_err(io)?;
        write!(sb_writer, "USR 1 {email} {cookie}\r\n").map_err(io)?;
        expect(&mut sb_reader, "USR 1 OK")?;
        write!(sb_writer, "CAL 2 {to}\r\n").map_err(io)?;
        expect(&mut sb_reader, "JOI ")?;
        Ok(Switchboard {
            sb,
            reader: sb_reader,
            trid: 3,
        })
    }
}

/// A switchboard the receiver has joined.
pub struct Switchboard {
    sb: TcpStream,
    reader: BufReader<TcpStream>,
    trid: u32,
}

impl Switchboard {
    /// Sends one `MSG` with ack mode `ack` (`U`, `N`, `A` or `D`).
    pub fn send(&mut self, ack: &str, payload: &[u8]) -> Fallible<()> {
        let mut raw = format!("MSG {} {ack} {}\r\n", self.trid, payload.len()).into_bytes();
        raw.extend_from_slice(payload);
        self.trid += 1;
        self.sb.write_all(&raw).map_err(io)
    }

    /// Whether the server closed the switchboard connection (reading up to the close).
    pub fn closed_by_server(&mut self) -> bool {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).is_ok()
    }

    /// Sends `count` text messages without asking for acknowledgements.
    pub fn flood(&mut self, count: usize) -> Fallible<()> {
        let mut batch = Vec::with_capacity(64 * 1024);
        for i in 0..count {
            let payload = format!(
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Segoe%20UI; EF=; CO=0; CS=0; PF=22\r\n\r\nbenchmark message {i}"
            );
            batch
                .extend_from_slice(format!("MSG {} N {}\r\n", self.trid, payload.len()).as_bytes());
            batch.extend_from_slice(payload.as_bytes());
            self.trid += 1;
            if batch.len() > 60 * 1024 {
                self.sb.write_all(&batch).map_err(io)?;
                batch.clear();
            }
        }
        self.sb.write_all(&batch).map_err(io)
    }
}
