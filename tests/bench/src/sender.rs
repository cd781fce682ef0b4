//! A minimal raw MSNP12 client that signs in as a contact and floods one switchboard with
//! messages, so the benchmark measures only the receiving plugin.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use msnp_testserver::TestServer;

/// A signed-in sender with a switchboard that the receiver has joined.
pub struct Sender {
    sb: TcpStream,
    trid: u32,
}

fn read_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .expect("reading from the test server");
    assert!(!line.is_empty(), "the test server closed the connection");
    line.trim_end().to_owned()
}

/// Reads lines until one starts with `prefix` (skipping payloads of payload commands).
fn expect(reader: &mut BufReader<TcpStream>, prefix: &str) -> String {
    loop {
        let line = read_line(reader);
        if line.starts_with(prefix) {
            return line;
        }
        let mut words = line.split(' ');
        if matches!(words.next(), Some("MSG" | "GCF" | "UBX" | "NOT")) {
            if let Some(len) = line
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
            {
                let mut skip = vec![0u8; len];
                reader.read_exact(&mut skip).expect("payload");
            }
        }
    }
}

/// The Passport ticket for `email`, from the test server's plain-HTTP login endpoint.
fn passport_ticket(server: &TestServer, email: &str, password: &str) -> String {
    let url = server.login_url_plain();
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut http = TcpStream::connect(&authority).expect("login endpoint");
    let auth = format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={password},ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1",
        email.replace('@', "%40")
    );
    write!(http, "GET /login HTTP/1.1\r\nHost: {authority}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    http.read_to_string(&mut response).expect("login response");
    let start = response.find("from-PP='").expect("a ticket") + "from-PP='".len();
    response[start..].split('\'').next().unwrap().to_owned()
}

impl Sender {
    /// Signs `email` in at MSNP12 and opens a switchboard with `to`, waiting until `to` joined.
    pub fn connect(server: &TestServer, email: &str, password: &str, to: &str) -> Sender {
        let mut ns = TcpStream::connect(server.ns_addr()).expect("notification server");
        ns.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut reader = BufReader::new(ns.try_clone().unwrap());
        write!(ns, "VER 1 MSNP12 CVR0\r\nCVR 2 0x0409 winnt 6.1.0 i386 MSNMSGR 7.5.0324 msmsgs {email}\r\nUSR 3 TWN I {email}\r\n").unwrap();
        expect(&mut reader, "USR 3 TWN S");
        let ticket = passport_ticket(server, email, password);
        write!(ns, "USR 4 TWN S {ticket}\r\n").unwrap();
        expect(&mut reader, "USR 4 OK");
        write!(ns, "CHG 5 NLN 1342177312 0\r\nXFR 6 SB\r\n").unwrap();
        let xfr = expect(&mut reader, "XFR 6 SB");
        let words: Vec<&str> = xfr.split(' ').collect();
        let (address, cookie) = (words[3], words[5]);
        let sb = TcpStream::connect(address).expect("switchboard");
        sb.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut sb_reader = BufReader::new(sb.try_clone().unwrap());
        let mut sb_writer = sb.try_clone().unwrap();
        write!(sb_writer, "USR 1 {email} {cookie}\r\n").unwrap();
        expect(&mut sb_reader, "USR 1 OK");
        write!(sb_writer, "CAL 2 {to}\r\n").unwrap();
        expect(&mut sb_reader, "JOI ");
        // Keep the NS connection open for the sender's lifetime (leaking it is fine here).
        std::mem::forget(ns);
        Sender { sb, trid: 3 }
    }

    /// Sends `count` text messages without asking for acknowledgements.
    pub fn flood(&mut self, count: usize) {
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
                self.sb.write_all(&batch).expect("sending");
                batch.clear();
            }
        }
        self.sb.write_all(&batch).expect("sending");
    }
}
