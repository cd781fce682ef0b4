//! The transport-upgrade bodies of MSNSLP (Pidgin's `libpurple/protocols/msn/slp.c`
//! `got_invite`, `got_ok` and `msn_slp_process_transresp`; `docs/protocol.md` §8.2): the
//! `INVITE` of type `application/x-msnmsgr-transreqbody` offering a direct TCP connection
//! (`Bridges: TCPv1`, a nonce), and the `200 OK` of type `application/x-msnmsgr-transrespbody`
//! answering it (`Listening: true` with the addresses and port to connect to).

use core::net::{Ipv4Addr, SocketAddrV4};

use sha1::{Digest, Sha1};
use thiserror::Error;

/// Most addresses taken from one answer (internal and external together).
pub const MAX_ADDRESSES: usize = 8;

/// A 16-byte nonce, written in MSNSLP as a GUID whose first three groups are little-endian
/// (the layout of Pidgin's `msn_dc_generate_nonce`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonce(pub [u8; 16]);

impl Nonce {
    /// A fresh nonce from four random words.
    pub fn random(rng: &mut dyn FnMut() -> u32) -> Nonce {
        let mut bytes = [0u8; 16];
        for chunk in bytes.chunks_mut(4) {
            chunk.copy_from_slice(&rng().to_le_bytes());
        }
        Nonce(bytes)
    }

    /// Reads `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` (braces optional).
    pub fn from_guid(text: &str) -> Option<Nonce> {
        let inner = text.trim().trim_start_matches('{').trim_end_matches('}');
        if !crate::guid::is_guid(inner.as_bytes()) {
            return None;
        }
        let hex = inner.replace('-', "");
        let mut be = [0u8; 16];
        for (i, byte) in be.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        let mut bytes = be;
        bytes[0..4].reverse();
        bytes[4..6].reverse();
        bytes[6..8].reverse();
        Some(Nonce(bytes))
    }

    /// The GUID text, with braces, upper-case.
    pub fn to_guid(&self) -> String {
        let mut be = self.0;
        be[0..4].reverse();
        be[4..6].reverse();
        be[6..8].reverse();
        crate::guid::braced_upper(&be)
    }

    /// The first 16 bytes of its SHA-1: what `Hashed-Nonce` carries.
    pub fn hashed(&self) -> Nonce {
        let digest = Sha1::digest(self.0);
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Nonce(bytes)
    }
}

/// What proves a direct connection's peer took part in the negotiation: the nonce of the
/// handshake packet must equal a `Nonce`, or hash to a `Hashed-Nonce`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Accepts {
    plain: Vec<Nonce>,
    hashed: Vec<Nonce>,
}

impl Accepts {
    /// Accepts exactly `nonce`.
    pub fn plain(nonce: Nonce) -> Accepts {
        Accepts {
            plain: vec![nonce],
            hashed: Vec::new(),
        }
    }

    /// Also accepts what the body's `Nonce` or `Hashed-Nonce` names.
    pub fn with_body(mut self, fields: &[(String, String)]) -> Accepts {
        if let Some(n) = field(fields, "Nonce").and_then(Nonce::from_guid) {
            self.plain.push(n);
        }
        if let Some(n) = field(fields, "Hashed-Nonce").and_then(Nonce::from_guid) {
            self.hashed.push(n);
        }
        self
    }

    /// Whether a handshake may carry `nonce` (the all-zero nonce never).
    pub fn accepts(&self, nonce: &Nonce) -> bool {
        nonce.0 != [0; 16] && (self.plain.contains(nonce) || self.hashed.contains(&nonce.hashed()))
    }

    /// Whether nothing can be accepted.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.hashed.is_empty()
    }
}

/// Why a transport-upgrade body is not used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransError {
    /// The request offers no TCP bridge, or the answer picks another.
    #[error("no TCPv1 bridge")]
    NoTcp,
    /// The answer says the peer is not listening.
    #[error("the peer does not listen")]
    NotListening,
    /// No usable address and port.
    #[error("no usable address")]
    NoAddress,
    /// No nonce to check the handshake with.
    #[error("no nonce")]
    NoNonce,
}

/// The body of our transport-upgrade `INVITE` (as Pidgin's `got_ok` writes it, with the
/// plain `Nonce` of MSN Messenger 7).
pub fn request_body(nonce: &Nonce, session_id: u32) -> Vec<(String, String)> {
    [
        ("Bridges", "TCPv1".to_owned()),
        ("NetID", "0".to_owned()),
        ("Conn-Type", "Direct-Connect".to_owned()),
        ("UPnPNat", "false".to_owned()),
        ("ICF", "false".to_owned()),
        ("Nonce", nonce.to_guid()),
        ("SessionID", session_id.to_string()),
        ("SChannelState", "0".to_owned()),
        ("Capabilities-Flags", "1".to_owned()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v))
    .collect()
}

/// The body of our `200 OK` to a transport upgrade: we listen on `port` at `addresses`; the
/// request's nonce is echoed.
pub fn response_body(
    request: &[(String, String)],
    addresses: &[Ipv4Addr],
    port: u16,
    session_id: u32,
) -> Vec<(String, String)> {
    let list: Vec<String> = addresses.iter().map(Ipv4Addr::to_string).collect();
    let mut body = vec![
        ("Bridge".to_owned(), "TCPv1".to_owned()),
        ("Listening".to_owned(), "true".to_owned()),
        ("Conn-Type".to_owned(), "Direct-Connect".to_owned()),
        ("TCP-Conn-Type".to_owned(), "Direct-Connect".to_owned()),
    ];
    for name in ["Nonce", "Hashed-Nonce"] {
        if let Some(n) = field(request, name).and_then(Nonce::from_guid) {
            body.push((name.to_owned(), n.to_guid()));
        }
    }
    body.extend([
        ("IPv4Internal-Addrs".to_owned(), list.join(" ")),
        ("IPv4Internal-Port".to_owned(), port.to_string()),
        ("SessionID".to_owned(), session_id.to_string()),
        ("SChannelState".to_owned(), "0".to_owned()),
        ("Capabilities-Flags".to_owned(), "1".to_owned()),
    ]);
    body
}

/// Checks a transport-upgrade request: it must offer `TCPv1` and carry a nonce.
pub fn check_request(fields: &[(String, String)]) -> Result<Accepts, TransError> {
    let tcp = field(fields, "Bridges")
        .is_some_and(|b| b.split([' ', ',']).any(|b| b.eq_ignore_ascii_case("TCPv1")));
    if !tcp {
        return Err(TransError::NoTcp);
    }
    let accepts = Accepts::default().with_body(fields);
    match accepts.is_empty() {
        true => Err(TransError::NoNonce),
        false => Ok(accepts),
    }
}

/// The addresses to connect to from a `200 OK` transport-upgrade answer, internal ones first
/// (Windows Live Messenger 2009 may write the names and values reversed, as
/// `srddA-lanretnI4vPI`).
pub fn listening_addresses(fields: &[(String, String)]) -> Result<Vec<SocketAddrV4>, TransError> {
    let bridge = field(fields, "Bridge").ok_or(TransError::NoTcp)?;
    if !bridge.eq_ignore_ascii_case("TCPv1") {
        return Err(TransError::NoTcp);
    }
    if !field(fields, "Listening").is_some_and(|l| l.eq_ignore_ascii_case("true")) {
        return Err(TransError::NotListening);
    }
    let mut out = Vec::new();
    for kind in ["Internal", "External"] {
        let Some((addrs, port)) = addresses(fields, kind) else {
            continue;
        };
        for ip in addrs {
            let addr = SocketAddrV4::new(ip, port);
            if out.len() < MAX_ADDRESSES && !out.contains(&addr) {
                out.push(addr);
            }
        }
    }
    match out.is_empty() {
        true => Err(TransError::NoAddress),
        false => Ok(out),
    }
}

/// The usable `IPv4<kind>-Addrs` and the `IPv4<kind>-Port`, plain or reversed.
fn addresses(fields: &[(String, String)], kind: &str) -> Option<(Vec<Ipv4Addr>, u16)> {
    let (addrs, port) = (format!("IPv4{kind}-Addrs"), format!("IPv4{kind}-Port"));
    let plain = field(fields, &addrs).map(str::to_owned);
    let reversed = field(fields, &reverse(&addrs)).map(reverse);
    let list = plain.or(reversed)?;
    let port = field(fields, &port)
        .map(str::to_owned)
        .or_else(|| field(fields, &reverse(&port)).map(reverse))?;
    let port: u16 = port.trim().parse().ok().filter(|&p| p != 0)?;
    let ips = list
        .split([' ', ','])
        .filter_map(|a| a.trim().parse::<Ipv4Addr>().ok())
        .filter(|ip| !ip.is_unspecified() && !ip.is_broadcast() && !ip.is_multicast())
        .take(MAX_ADDRESSES)
        .collect();
    Some((ips, port))
}

fn reverse(text: &str) -> String {
    text.chars().rev().collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(lines: &[(&str, &str)]) -> Vec<(String, String)> {
        lines
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn nonces_read_and_write_as_guids_with_little_endian_groups() {
        let n = Nonce::from_guid("{01020304-0506-0708-090A-0B0C0D0E0F10}").unwrap();
        assert_eq!(n.0, [4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16]);
        assert_eq!(n.to_guid(), "{01020304-0506-0708-090A-0B0C0D0E0F10}");
        for bad in [
            "",
            "{}",
            "{0102030-0506-0708-090A-0B0C0D0E0F10}",
            "{zz020304-0506-0708-090A-0B0C0D0E0F10}",
        ] {
            assert_eq!(Nonce::from_guid(bad), None, "{bad}");
        }
        let mut n = 7u32;
        let mut rng = || {
            n += 1;
            n
        };
        let fresh = Nonce::random(&mut rng);
        assert_eq!(Nonce::from_guid(&fresh.to_guid()), Some(fresh));
    }

    #[test]
    fn a_request_needs_tcp_and_a_nonce() {
        let n = Nonce([9; 16]);
        let ours = request_body(&n, 77);
        let accepts = check_request(&ours).unwrap();
        assert!(accepts.accepts(&n));
        assert!(!accepts.accepts(&Nonce([8; 16])));
        let hashed = body(&[
            ("Bridges", "TRUDPv1 TCPv1 SBBridge"),
            ("Hashed-Nonce", &n.hashed().to_guid()),
        ]);
        let accepts = check_request(&hashed).unwrap();
        assert!(
            accepts.accepts(&n),
            "Hashed-Nonce holds the SHA-1 of the nonce"
        );
        assert!(!accepts.accepts(&n.hashed()));
        assert_eq!(
            check_request(&body(&[("Bridges", "TRUDPv1"), ("Nonce", &n.to_guid())])),
            Err(TransError::NoTcp)
        );
        assert_eq!(
            check_request(&body(&[("Bridges", "TCPv1"), ("Nonce", "junk")])),
            Err(TransError::NoNonce)
        );
        let zero = body(&[("Bridges", "TCPv1"), ("Nonce", &Nonce([0; 16]).to_guid())]);
        assert!(!check_request(&zero).unwrap().accepts(&Nonce([0; 16])));
    }

    #[test]
    fn an_answer_lists_where_to_connect() {
        let request = request_body(&Nonce([3; 16]), 5);
        let ours = response_body(
            &request,
            &[Ipv4Addr::LOCALHOST, Ipv4Addr::new(10, 0, 0, 2)],
            4000,
            5,
        );
        assert_eq!(
            listening_addresses(&ours).unwrap(),
            vec![
                SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4000),
                SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 4000)
            ]
        );
        assert!(Accepts::default().with_body(&ours).accepts(&Nonce([3; 16])));
        let reversed = body(&[
            ("Bridge", "TCPv1"),
            ("Listening", "true"),
            ("srddA-lanretxE4vPI", "4.3.2.1"),
            ("troP-lanretxE4vPI", "0008"),
        ]);
        assert_eq!(
            listening_addresses(&reversed).unwrap(),
            vec![SocketAddrV4::new(Ipv4Addr::new(1, 2, 3, 4), 8000)]
        );
    }

    #[test]
    fn garbage_answers_give_no_address() {
        let cases = [
            (
                vec![("Bridge", "TCPv1"), ("Listening", "false")],
                TransError::NotListening,
            ),
            (
                vec![("Bridge", "UDP"), ("Listening", "true")],
                TransError::NoTcp,
            ),
            (vec![("Listening", "true")], TransError::NoTcp),
            (
                vec![
                    ("Bridge", "TCPv1"),
                    ("Listening", "true"),
                    (
                        "IPv4Internal-Addrs",
                        "999.1.1.1 0.0.0.0 255.255.255.255 224.0.0.1 x",
                    ),
                    ("IPv4Internal-Port", "80"),
                ],
                TransError::NoAddress,
            ),
            (
                vec![
                    ("Bridge", "TCPv1"),
                    ("Listening", "true"),
                    ("IPv4Internal-Addrs", "127.0.0.1"),
                    ("IPv4Internal-Port", "0"),
                ],
                TransError::NoAddress,
            ),
            (
                vec![
                    ("Bridge", "TCPv1"),
                    ("Listening", "true"),
                    ("IPv4Internal-Addrs", "127.0.0.1"),
                    ("IPv4Internal-Port", "70000"),
                ],
                TransError::NoAddress,
            ),
        ];
        for (lines, error) in cases {
            assert_eq!(listening_addresses(&body(&lines)), Err(error), "{lines:?}");
        }
        let many: Vec<String> = (1..=40).map(|i| format!("10.0.0.{i}")).collect();
        let lines = body(&[
            ("Bridge", "TCPv1"),
            ("Listening", "true"),
            ("IPv4Internal-Addrs", &many.join(" ")),
            ("IPv4Internal-Port", "99"),
        ]);
        assert_eq!(listening_addresses(&lines).unwrap().len(), MAX_ADDRESSES);
    }
}
