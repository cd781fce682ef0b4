//! Runs a test server from command-line flags, prints one JSON line with its ports and URLs,
//! and serves until standard input closes or the process is terminated.
//!
//! `msnp-testserver [--user email:password[:friendly]]... [--contact owner:contact[:lists]]...
//! [--versions 8-18] [--ns-port N] [--http-port N] [--https-port N] [--chl] [--proxy]`

use msnp_testserver::{ServerConfig, TestServer};
use std::io::Read;
use std::process::ExitCode;

fn parse_versions(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => out.extend(a.trim().parse::<u32>().ok()?..=b.trim().parse().ok()?),
            None => out.push(part.trim().parse().ok()?),
        }
    }
    Some(out)
}

fn parse_args(args: &[String]) -> Result<ServerConfig, String> {
    let mut cfg = ServerConfig::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let port = |v: &str| v.parse::<u16>().map_err(|_| format!("bad port {v}"));
        match flag.as_str() {
            "--user" => {
                let v = value()?;
                let mut f = v.splitn(3, ':');
                let (Some(email), Some(pwd)) = (f.next(), f.next()) else {
                    return Err(format!("bad --user {v}"));
                };
                let name = f
                    .next()
                    .unwrap_or_else(|| email.split('@').next().unwrap_or(email));
                cfg = cfg.with_user(email, pwd, name);
            }
            "--contact" => {
                let v = value()?;
                let mut f = v.splitn(3, ':');
                let (Some(owner), Some(contact)) = (f.next(), f.next()) else {
                    return Err(format!("bad --contact {v}"));
                };
                let lists = match f.next() {
                    Some(l) => l.parse().map_err(|_| format!("bad --contact {v}"))?,
                    None => 11,
                };
                cfg = cfg.with_contact(owner, contact, lists);
            }
            "--versions" => {
                let v = value()?;
                cfg.versions = parse_versions(v).ok_or(format!("bad --versions {v}"))?;
            }
            "--ns-port" => cfg.ns_port = port(value()?)?,
            "--http-port" => cfg.http_port = port(value()?)?,
            "--https-port" => cfg.https_port = port(value()?)?,
            "--chl" => cfg.send_chl = true,
            "--proxy" => cfg.proxy = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(cfg)
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("msnp-testserver: {e}");
            return ExitCode::from(2);
        }
    };
    let server = match TestServer::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("msnp-testserver: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let proxy = server
        .proxy_addr()
        .map_or("null".to_owned(), |a| a.port().to_string());
    println!(
        "{{\"ns\":{},\"ns_port\":{},\"http_port\":{},\"https_port\":{},\"proxy_port\":{proxy},\"nexus_url\":{},\"nexus_url_plain\":{},\"login_url\":{},\"sso_url\":{},\"sso_url_plain\":{},\"cert_pem\":{}}}",
        json_str(&server.ns_addr().to_string()),
        server.ns_addr().port(),
        server.http_port,
        server.https_port,
        json_str(&server.nexus_url()),
        json_str(&server.nexus_url_plain()),
        json_str(&server.login_url()),
        json_str(&server.sso_url()),
        json_str(&server.sso_url_plain()),
        json_str(server.cert_pem()),
    );
    // SIGTERM's default action ends the process; a closed stdin ends it politely.
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    drop(server);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        let args: Vec<String> =
            "--user a@b.c:pw --user d@e.f:pw2:Dee%20F --contact a@b.c:d@e.f --versions 8-10,18 --chl"
            .split(' ')
            .map(str::to_owned)
            .collect();
        let cfg = parse_args(&args).unwrap();
        assert_eq!(cfg.users.len(), 2);
        assert_eq!(cfg.users[0].friendly, "a");
        assert_eq!(cfg.users[1].friendly, "Dee%20F");
        assert_eq!(cfg.contacts.len(), 1);
        assert_eq!(cfg.contacts[0].lists, 11);
        assert_eq!(cfg.versions, [8, 9, 10, 18]);
        assert!(cfg.send_chl);
        assert!(parse_args(&["--bogus".to_owned()]).is_err());
        assert!(parse_args(&["--ns-port".to_owned(), "x".to_owned()]).is_err());
    }
}
