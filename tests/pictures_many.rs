//! 500 online contacts (test-server clients serving their display pictures) through
//! purple-stub on real libpurple, at MSNP12 and MSNP18: every picture arrives, with the right
//! bytes, one fetch each, over a bounded number of switchboards at once, and each picture's
//! switchboard is left once it arrived. Its own test binary, so that it does not run beside
//! the other picture tests.

mod common;

use std::collections::HashMap;

use common::accounts;
use common::conversations::{assert_healthy, online, ALICE, STEP};
use common::plugin::PluginDir;
use msnp_testserver::peer::PictureHost;
use msnp_testserver::{ServerConfig, TestServer};

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Contacts in the many-contacts test.
const HOSTS: usize = 500;
/// Most switchboards Alice may be in at once: two fetches at a time, and the switchboards of
/// finished fetches being left while the next ones open.
const MAX_SWITCHBOARDS: usize = 4;

fn host(i: usize) -> String {
    format!("host{i}@example.com")
}

fn many_pictures(version: u32) {
    let mut config = ServerConfig::default().with_user(ALICE, "alicepass", "Alice");
    for i in 0..HOSTS {
        config = config
            .with_user(&host(i), "x", &format!("Host {i}"))
            .with_contact(ALICE, &host(i), 0x0B)
            .with_contact(&host(i), ALICE, 0x0B);
    }
    let server = TestServer::start(config).unwrap();
    let pictures: HashMap<String, Vec<u8>> = (0..HOSTS)
        .map(|i| {
            let mut data = include_bytes!("../icons/msn-48.png").to_vec();
            data.extend(format!("host {i}").bytes());
            (host(i), data)
        })
        .collect();
    let hosts =
        PictureHost::start_many(&server, HOSTS, host, "x", |i| pictures[&host(i)].clone()).unwrap();
    let plugins = PluginDir::new();
    let mut alice = accounts::stub(&plugins, false);
    online(&mut alice, &server, &[ALICE], version);
    let mut icons = HashMap::new();
    while icons.len() < HOSTS {
        let icon = alice.wait_for(STEP, |e| {
            e["event"] == "buddy-icon-changed" && e["account"] == ALICE && !e["hex"].is_null()
        });
        let who = icon["who"].as_str().unwrap().to_owned();
        icons.insert(who, icon["hex"].as_str().unwrap().to_owned());
    }
    for (who, data) in &pictures {
        assert_eq!(icons[who], hex(data), "{who}");
    }
    let peak = server.sb_peak(ALICE);
    assert!(
        peak <= MAX_SWITCHBOARDS,
        "{peak} switchboards at once for {HOSTS} pictures"
    );
    // Every picture's switchboard is left once its fetch is done.
    let deadline = std::time::Instant::now() + STEP * alice.time_factor();
    while server.sb_connections(ALICE) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "switchboards left open"
        );
        alice.sync();
    }
    assert_eq!(server.p2p_invites(), HOSTS as u64, "one fetch per picture");
    for h in &hosts {
        assert_eq!(h.error(), None);
    }
    PictureHost::stop_all(hosts);
    assert_healthy(&mut alice);
}

#[test]
fn msnp12_500_contacts_pictures_arrive_over_a_few_switchboards_at_once() {
    many_pictures(12);
}

#[test]
fn msnp18_500_contacts_pictures_arrive_over_a_few_switchboards_at_once() {
    many_pictures(18);
}
