//! Known-answer tests for [`parse`]: real lines from the Escargot recordings (and the examples of
//! docs/protocol.md for shapes the recordings lack), run through the framer first.

use super::*;
use crate::dialect::Dialect;
use crate::secret::Secret;

const GUID: &str = "dbd254aa-c066-4dc0-80db-f87fd43c2af2";
const GROUP: &str = "7f5b8e2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b";

fn try_parse(wire: &[u8], version: u32) -> Result<NsCommand, ParseError> {
    let mut framer = Framer::new(Direction::FromServer, Limits::default());
    framer.push(wire);
    let frame = framer
        .next_frame()
        .expect("frames")
        .expect("one whole frame");
    assert_eq!(framer.buffered(), 0, "{}", String::from_utf8_lossy(wire));
    parse(frame, Dialect::new(version))
}

fn ok(wire: &str, version: u32) -> NsCommand {
    try_parse(wire.as_bytes(), version).unwrap_or_else(|e| panic!("{wire:?}: {e}"))
}

fn err(wire: &str, version: u32) -> ParseError {
    try_parse(wire.as_bytes(), version).expect_err(wire)
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn ver() {
    let NsCommand::Ver(ver) = ok("VER 1 MSNP12\r\n", 0) else {
        panic!()
    };
    assert_eq!(
        ver,
        Ver {
            trid: 1,
            dialects: vec![s("MSNP12")]
        }
    );
    assert_eq!(ver.chosen(), Some(12));
    let NsCommand::Ver(ver) = ok("VER 1 0\r\n", 0) else {
        panic!()
    };
    assert_eq!(ver.chosen(), None);
    let NsCommand::Ver(ver) = ok("VER 1 MSNP8 CVR0\r\n", 0) else {
        panic!()
    };
    assert_eq!(ver.chosen(), Some(8));
    assert_eq!(err("VER 1\r\n", 0), ParseError::MissingArgument);
}

#[test]
fn cvr_and_inf() {
    assert_eq!(
        ok("CVR 2 7.5.0324 7.5.0324 7.5.0324 https://escargot.log1p.xyz https://escargot.log1p.xyz\r\n", 12),
        NsCommand::Cvr(Cvr {
            trid: 2,
            recommended: s("7.5.0324"),
            minimum: Some(s("7.5.0324")),
            download_url: Some(s("https://escargot.log1p.xyz")),
            info_url: Some(s("https://escargot.log1p.xyz")),
        })
    );
    assert_eq!(
        ok("INF 2 MD5\r\n", 7),
        NsCommand::Inf(Inf {
            trid: 2,
            methods: vec![s("MD5")]
        })
    );
}

#[test]
fn usr_challenges_are_kept_verbatim() {
    assert_eq!(
        ok(
            "USR 3 TWN S ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1\r\n",
            12
        ),
        NsCommand::Usr(Usr {
            trid: 3,
            step: UsrStep::TwnChallenge {
                challenge: s("ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1")
            }
        })
    );
    let historic =
        "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1";
    assert_eq!(
        ok(&format!("USR 3 TWN S {historic}\r\n"), 8),
        NsCommand::Usr(Usr {
            trid: 3,
            step: UsrStep::TwnChallenge {
                challenge: s(historic)
            }
        })
    );
    assert_eq!(
        ok("USR 4 MD5 S 8e71be7c00b44ce\r\n", 7),
        NsCommand::Usr(Usr {
            trid: 4,
            step: UsrStep::Md5Challenge {
                salt: s("8e71be7c00b44ce")
            }
        })
    );
    assert_eq!(
        ok("USR 3 SSO S MBI_KEY_OLD OCMZSGxwtELvxEx7RPo5ykteTRmkcUyqX+mJZJV/mqrKcqWhPPJwBfLBx6ZaymSQ\r\n", 15),
        NsCommand::Usr(Usr {
            trid: 3,
            step: UsrStep::SsoChallenge {
                policy: s("MBI_KEY_OLD"),
                nonce: s("OCMZSGxwtELvxEx7RPo5ykteTRmkcUyqX+mJZJV/mqrKcqWhPPJwBfLBx6ZaymSQ"),
            }
        })
    );
    assert_eq!(
        err("USR 3 TWN I alice@example.com\r\n", 12),
        ParseError::InvalidArgument
    );
    assert_eq!(err("USR 3 XYZ S abc\r\n", 12), ParseError::InvalidArgument);
    assert_eq!(err("USR x OK a\r\n", 12), ParseError::InvalidNumber);
}

#[test]
fn usr_ok_in_each_version_shape() {
    let ok_step = |email: &str, friendly: Option<&str>, verified, kid| UsrStep::Ok {
        email: s(email),
        friendly: friendly.map(s),
        verified,
        kid,
    };
    assert_eq!(
        ok("USR 4 OK alice@example.com 1 0\r\n", 12),
        NsCommand::Usr(Usr {
            trid: 4,
            step: ok_step("alice@example.com", None, Some(true), Some(false))
        })
    );
    assert_eq!(
        ok("USR 4 OK alice@example.com Alice 1 0\r\n", 8),
        NsCommand::Usr(Usr {
            trid: 4,
            step: ok_step("alice@example.com", Some("Alice"), Some(true), Some(false))
        })
    );
    assert_eq!(
        ok("USR 5 OK alice@example.com Alice%20(probe) 1\r\n", 7),
        NsCommand::Usr(Usr {
            trid: 5,
            step: ok_step("alice@example.com", Some("Alice (probe)"), Some(true), None)
        })
    );
}

#[test]
fn xfr_all_shapes() {
    let sb = |trid, cookie: &str| {
        NsCommand::Xfr(Xfr {
            trid,
            target: XfrTarget::Sb {
                address: HostPort {
                    host: s("127.0.0.1"),
                    port: 1864,
                },
                cookie: Secret::new(s(cookie)),
            },
        })
    };
    assert_eq!(
        ok("XFR 11 SB 127.0.0.1:1864 CKI a5cc4a0d1333376da7aa\r\n", 12),
        sb(11, "a5cc4a0d1333376da7aa")
    );
    assert_eq!(
        ok(
            "XFR 12 SB 127.0.0.1:1864 CKI 4a8264cc9a3379d00911 U messenger.msn.com 1\r\n",
            15
        ),
        sb(12, "4a8264cc9a3379d00911")
    );
    assert_eq!(
        ok(
            "XFR 13 SB 127.0.0.1:1864 CKI abc U messenger.msn.com\r\n",
            13
        ),
        sb(13, "abc")
    );
    let ns = |host: &str| {
        NsCommand::Xfr(Xfr {
            trid: 3,
            target: XfrTarget::Ns {
                address: HostPort {
                    host: s(host),
                    port: 1863,
                },
            },
        })
    };
    assert_eq!(
        ok("XFR 3 NS 207.46.106.118:1863 0 207.46.104.20:1863\r\n", 8),
        ns("207.46.106.118")
    );
    assert_eq!(
        ok("XFR 3 NS 65.54.239.140:1863 U D\r\n", 13),
        ns("65.54.239.140")
    );
    assert_eq!(
        err("XFR 5 SB 127.0.0.1 CKI x\r\n", 12),
        ParseError::InvalidAddress
    );
    assert_eq!(
        err("XFR 5 SB 127.0.0.1:1864 MD5 x\r\n", 12),
        ParseError::InvalidArgument
    );
    assert_eq!(
        err("XFR 5 XX 127.0.0.1:1864\r\n", 12),
        ParseError::InvalidArgument
    );
}

#[test]
fn cookies_never_reach_debug_output() {
    let shown = format!(
        "{:?}",
        ok("XFR 11 SB 127.0.0.1:1864 CKI a5cc4a0d1333376da7aa\r\n", 12)
    );
    assert!(!shown.contains("a5cc4a0d"), "{shown}");
    let shown = format!(
        "{:?}",
        ok(
            "RNG 1 127.0.0.1:1864 CKI 20f21bac023ceea833b9 a@b A\r\n",
            12
        )
    );
    assert!(!shown.contains("20f21bac"), "{shown}");
}

#[test]
fn chl_qng_out_sbs() {
    assert_eq!(
        ok("CHL 0 1663122458434562624782678054\r\n", 21),
        NsCommand::Chl(Chl {
            trid: 0,
            challenge: s("1663122458434562624782678054")
        })
    );
    assert_eq!(
        ok("QNG 60\r\n", 12),
        NsCommand::Qng(Qng {
            next_ping_secs: Some(60)
        })
    );
    assert_eq!(
        ok("QNG\r\n", 8),
        NsCommand::Qng(Qng {
            next_ping_secs: None
        })
    );
    assert_eq!(err("QNG soon\r\n", 8), ParseError::InvalidNumber);
    assert_eq!(ok("OUT\r\n", 12), NsCommand::Out(Out { reason: None }));
    assert_eq!(
        ok("OUT OTH\r\n", 12),
        NsCommand::Out(Out {
            reason: Some(OutReason::OtherLogin)
        })
    );
    assert_eq!(
        ok("OUT SSD\r\n", 12),
        NsCommand::Out(Out {
            reason: Some(OutReason::ServerShutdown)
        })
    );
    assert_eq!(
        ok("OUT MNT%20X\r\n", 12),
        NsCommand::Out(Out {
            reason: Some(OutReason::Other(s("MNT X")))
        })
    );
    assert_eq!(
        ok("SBS 0 null\r\n", 12),
        NsCommand::Sbs(Sbs {
            trid: 0,
            value: s("null")
        })
    );
}

#[test]
fn msg_and_gcf_payloads() {
    let body = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialmdatanotification; charset=UTF-8\r\n\r\nMail-Data: <MD><E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E><Q><QTM>409600</QTM><QNM>204800</QNM></Q></MD>\r\n";
    assert_eq!(body.len(), 195);
    assert_eq!(
        ok(&format!("MSG Hotmail Hotmail 195\r\n{body}"), 12),
        NsCommand::Msg(Msg {
            from: s("Hotmail"),
            friendly: s("Hotmail"),
            payload: body.as_bytes().to_vec()
        })
    );
    assert_eq!(
        ok("GCF 6 Shields.xml 9\r\n<config/>", 12),
        NsCommand::Gcf(Gcf {
            trid: 6,
            file: Some(s("Shields.xml")),
            payload: b"<config/>".to_vec()
        })
    );
    assert_eq!(
        ok("GCF 0 11\r\n<Policies/>", 15),
        NsCommand::Gcf(Gcf {
            trid: 0,
            file: None,
            payload: b"<Policies/>".to_vec()
        })
    );
    // Without a length the framer returns a plain line and the parser rejects it.
    assert_eq!(
        err("MSG Hotmail Hotmail\r\n", 12),
        ParseError::InvalidNumber
    );
}

#[test]
fn bare_acknowledgements() {
    assert_eq!(ok("UUX 9 0\r\n", 12), NsCommand::Uux(Ack { trid: 9 }));
    assert_eq!(ok("QRY 11\r\n", 12), NsCommand::Qry(Ack { trid: 11 }));
    assert_eq!(ok("UUN 11 OK\r\n", 15), NsCommand::Uun(Ack { trid: 11 }));
}

#[test]
fn syn_gtc_blp_in_each_shape() {
    assert_eq!(
        ok("SYN 5 1 1 1\r\n", 8),
        NsCommand::Syn(Syn {
            trid: 5,
            list_version: ListVersion::Serial(1),
            counts: Some(ListCounts {
                contacts: 1,
                groups: 1
            })
        })
    );
    assert_eq!(
        ok(
            "SYN 5 2000-01-01T00:00:00.0-00:00 2000-01-01T00:00:00.0-00:00 1 0\r\n",
            12
        ),
        NsCommand::Syn(Syn {
            trid: 5,
            list_version: ListVersion::Timestamps {
                contacts: s("2000-01-01T00:00:00.0-00:00"),
                groups: s("2000-01-01T00:00:00.0-00:00"),
            },
            counts: Some(ListCounts {
                contacts: 1,
                groups: 0
            })
        })
    );
    assert_eq!(
        ok("SYN 6 1\r\n", 7),
        NsCommand::Syn(Syn {
            trid: 6,
            list_version: ListVersion::Serial(1),
            counts: None
        })
    );
    assert_eq!(err("SYN 5 1 1\r\n", 8), ParseError::MissingArgument);
    assert_eq!(
        ok("GTC A\r\n", 12),
        NsCommand::Gtc(Gtc {
            trid: None,
            serial: None,
            prompt: AddPrompt::Ask
        })
    );
    assert_eq!(
        ok("GTC 22 N\r\n", 12),
        NsCommand::Gtc(Gtc {
            trid: Some(22),
            serial: None,
            prompt: AddPrompt::Never
        })
    );
    assert_eq!(
        ok("GTC 6 1 A\r\n", 7),
        NsCommand::Gtc(Gtc {
            trid: Some(6),
            serial: Some(1),
            prompt: AddPrompt::Ask
        })
    );
    assert_eq!(err("GTC X\r\n", 12), ParseError::InvalidArgument);
    assert_eq!(
        ok("BLP AL\r\n", 12),
        NsCommand::Blp(Blp {
            trid: None,
            serial: None,
            mode: PrivacyMode::AllowOthers
        })
    );
    assert_eq!(
        ok("BLP 21 3 BL\r\n", 9),
        NsCommand::Blp(Blp {
            trid: Some(21),
            serial: Some(3),
            mode: PrivacyMode::BlockOthers
        })
    );
}

#[test]
fn prp_and_bpr() {
    let prp = |trid, serial, property: &str, value: Option<&str>| {
        NsCommand::Prp(Prp {
            trid,
            serial,
            property: s(property),
            value: value.map(s),
        })
    };
    assert_eq!(
        ok("PRP MFN Alice\r\n", 12),
        prp(None, None, "MFN", Some("Alice"))
    );
    assert_eq!(
        ok("PRP PHH 555%201234\r\n", 8),
        prp(None, None, "PHH", Some("555 1234"))
    );
    assert_eq!(
        ok("PRP 7 MFN Alice%20(probe)\r\n", 15),
        prp(Some(7), None, "MFN", Some("Alice (probe)"))
    );
    assert_eq!(
        ok("PRP 7 12 PHH 555\r\n", 9),
        prp(Some(7), Some(12), "PHH", Some("555"))
    );
    assert_eq!(ok("PRP 8 PHW\r\n", 12), prp(Some(8), None, "PHW", None));
    assert_eq!(
        ok("BPR PHM 555%209876\r\n", 8),
        NsCommand::Bpr(Bpr {
            property: s("PHM"),
            value: Some(s("555 9876"))
        })
    );
}

#[test]
fn lsg_in_each_shape() {
    assert_eq!(
        ok("LSG 0 Other%20Contacts 0\r\n", 8),
        NsCommand::Lsg(Lsg {
            group_id: s("0"),
            name: s("Other Contacts")
        })
    );
    assert_eq!(
        ok(&format!("LSG Friends {GROUP}\r\n"), 12),
        NsCommand::Lsg(Lsg {
            group_id: s(GROUP),
            name: s("Friends")
        })
    );
    assert_eq!(
        err("LSG 6 1 1 1 0 Other%20Contacts 0\r\n", 7),
        ParseError::UnsupportedDialect
    );
}

#[test]
fn lst_in_each_shape() {
    let lst = |email: &str,
               friendly: Option<&str>,
               contact_id: Option<&str>,
               lists,
               extra,
               groups: &[&str]| {
        NsCommand::Lst(Lst {
            email: s(email),
            friendly: friendly.map(s),
            contact_id: contact_id.map(s),
            lists: ListSet::from_bits_retain(lists),
            extra,
            groups: groups.iter().map(|g| s(g)).collect(),
        })
    };
    assert_eq!(
        ok("LST bob@example.com Bob 11 0\r\n", 8),
        lst("bob@example.com", Some("Bob"), None, 11, None, &["0"])
    );
    assert_eq!(
        ok("LST bob@example.com Bob%20B 11 0,2\r\n", 9),
        lst(
            "bob@example.com",
            Some("Bob B"),
            None,
            11,
            None,
            &["0", "2"]
        )
    );
    assert_eq!(
        ok("LST carol@example.com carol@example.com 24\r\n", 8),
        lst(
            "carol@example.com",
            Some("carol@example.com"),
            None,
            24,
            None,
            &[]
        )
    );
    assert_eq!(
        ok(
            &format!("LST N=bob@example.com F=Bob C={GUID} 11 {GROUP}\r\n"),
            11
        ),
        lst(
            "bob@example.com",
            Some("Bob"),
            Some(GUID),
            11,
            None,
            &[GROUP]
        )
    );
    // Escargot MSNP12: the extra `1` and a trailing space instead of groups.
    assert_eq!(
        ok(
            &format!("LST N=bob@example.com F=Bob C={GUID} 11 1 \r\n"),
            12
        ),
        lst("bob@example.com", Some("Bob"), Some(GUID), 11, Some(1), &[])
    );
    assert_eq!(
        ok(
            &format!("LST N=bob@example.com F=Bob C={GUID} 11 1 {GROUP}\r\n"),
            12
        ),
        lst(
            "bob@example.com",
            Some("Bob"),
            Some(GUID),
            11,
            Some(1),
            &[GROUP]
        )
    );
    assert_eq!(
        ok("LST N=carol@example.com F=carol@example.com 24\r\n", 12),
        lst(
            "carol@example.com",
            Some("carol@example.com"),
            None,
            24,
            None,
            &[]
        )
    );
    assert_eq!(err("LST F=Bob 11\r\n", 12), ParseError::MissingArgument);
    assert_eq!(err("LST N=bob 999\r\n", 12), ParseError::InvalidNumber);
    assert_eq!(
        err("LST 6 FL 1 1 1 bob@example.com Bob 0\r\n", 7),
        ParseError::UnsupportedDialect
    );
}

#[test]
fn adc_add_rem() {
    assert_eq!(
        ok("ADC 0 RL N=alice@example.com F=Alice%20(probe)\r\n", 12),
        NsCommand::Adc(Adc {
            trid: 0,
            entry: ListEntry {
                list: List::Reverse,
                email: Some(s("alice@example.com")),
                friendly: Some(s("Alice (probe)")),
                contact_id: None,
                group_id: None,
            }
        })
    );
    assert_eq!(
        ok(&format!("ADC 11 FL C={GUID} {GROUP}\r\n"), 12),
        NsCommand::Adc(Adc {
            trid: 11,
            entry: ListEntry {
                list: List::Forward,
                email: None,
                friendly: None,
                contact_id: Some(s(GUID)),
                group_id: Some(s(GROUP)),
            }
        })
    );
    assert_eq!(err("ADC 5 XL N=a\r\n", 12), ParseError::InvalidArgument);
    assert_eq!(err("ADC 5 FL F=a\r\n", 12), ParseError::MissingArgument);
    assert_eq!(
        ok("ADD 10 FL 2 bob@example.com Bob 1\r\n", 8),
        NsCommand::Add(Add {
            trid: 10,
            list: List::Forward,
            serial: 2,
            email: s("bob@example.com"),
            friendly: s("Bob"),
            group_id: Some(s("1")),
        })
    );
    assert_eq!(
        ok("REM 0 RL alice@example.com\r\n", 12),
        NsCommand::Rem(Rem {
            trid: 0,
            list: List::Reverse,
            serial: None,
            contact: s("alice@example.com"),
            group_id: None
        })
    );
    assert_eq!(
        ok("REM 12 FL 4 bob@example.com 1\r\n", 8),
        NsCommand::Rem(Rem {
            trid: 12,
            list: List::Forward,
            serial: Some(4),
            contact: s("bob@example.com"),
            group_id: Some(s("1")),
        })
    );
    assert_eq!(
        ok(&format!("REM 14 FL {GUID} {GROUP}\r\n"), 11),
        NsCommand::Rem(Rem {
            trid: 14,
            list: List::Forward,
            serial: None,
            contact: s(GUID),
            group_id: Some(s(GROUP))
        })
    );
}

#[test]
fn group_commands_in_each_shape() {
    assert_eq!(
        ok("ADG 14 6 New%20Group 2 0\r\n", 8),
        NsCommand::Adg(Adg {
            trid: 14,
            serial: Some(6),
            name: s("New Group"),
            group_id: s("2")
        })
    );
    assert_eq!(
        ok(&format!("ADG 16 New%20Group {GROUP} 0\r\n"), 12),
        NsCommand::Adg(Adg {
            trid: 16,
            serial: None,
            name: s("New Group"),
            group_id: s(GROUP)
        })
    );
    assert_eq!(
        ok("RMG 15 7 2\r\n", 8),
        NsCommand::Rmg(Rmg {
            trid: 15,
            serial: Some(7),
            group_id: s("2")
        })
    );
    assert_eq!(
        ok(&format!("RMG 17 1 {GROUP}\r\n"), 12),
        NsCommand::Rmg(Rmg {
            trid: 17,
            serial: Some(1),
            group_id: s(GROUP)
        })
    );
    assert_eq!(
        ok(&format!("RMG 17 {GROUP}\r\n"), 12),
        NsCommand::Rmg(Rmg {
            trid: 17,
            serial: None,
            group_id: s(GROUP)
        })
    );
    assert_eq!(
        ok("REG 16 8 2 Renamed 0\r\n", 8),
        NsCommand::Reg(Reg {
            trid: 16,
            serial: Some(8),
            group_id: s("2"),
            name: s("Renamed")
        })
    );
    let renamed = NsCommand::Reg(Reg {
        trid: 18,
        serial: Some(1),
        group_id: s(GROUP),
        name: s("Re named"),
    });
    assert_eq!(
        ok(&format!("REG 18 1 Re%20named {GROUP} 0\r\n"), 12),
        renamed
    );
    assert_eq!(
        ok(&format!("REG 18 {GROUP} Renamed\r\n"), 10),
        NsCommand::Reg(Reg {
            trid: 18,
            serial: None,
            group_id: s(GROUP),
            name: s("Renamed")
        })
    );
}

#[test]
fn adl_rml_fqy() {
    assert_eq!(
        ok("ADL 5 OK\r\n", 18),
        NsCommand::Adl(ListUpdate {
            trid: 5,
            payload: None
        })
    );
    assert_eq!(
        ok("RML 8 OK\r\n", 18),
        NsCommand::Rml(ListUpdate {
            trid: 8,
            payload: None
        })
    );
    let ml = r#"<ml><d n="example.com"><c n="bob" t="1" l="8" f="Bob" /></d></ml>"#;
    assert_eq!(
        ok(&format!("ADL 0 {}\r\n{ml}", ml.len()), 15),
        NsCommand::Adl(ListUpdate {
            trid: 0,
            payload: Some(ml.as_bytes().to_vec())
        })
    );
    let fqy = r#"<ml><d n="example.com"><c n="bob" t="1" /></d></ml>"#;
    assert_eq!(fqy.len(), 51);
    assert_eq!(
        ok(&format!("FQY 10 51\r\n{fqy}"), 15),
        NsCommand::Fqy(Fqy {
            trid: 10,
            payload: fqy.as_bytes().to_vec()
        })
    );
}

#[test]
fn chg() {
    let caps = |client, extended| Some(Capabilities { client, extended });
    assert_eq!(
        ok("CHG 8 NLN 1342177280\r\n", 12),
        NsCommand::Chg(Chg {
            trid: 8,
            status: Status::Online,
            capabilities: caps(1_342_177_280, None),
            msn_object: None
        })
    );
    assert_eq!(
        ok("CHG 8 BSY 2788999228:48 0\r\n", 18),
        NsCommand::Chg(Chg {
            trid: 8,
            status: Status::Busy,
            capabilities: caps(2_788_999_228, Some(48)),
            msn_object: Some(s("0")),
        })
    );
    assert_eq!(
        ok("CHG 7 NLN\r\n", 7),
        NsCommand::Chg(Chg {
            trid: 7,
            status: Status::Online,
            capabilities: None,
            msn_object: None
        })
    );
    assert_eq!(err("CHG 7 XYZ 1\r\n", 12), ParseError::InvalidStatus);
    assert_eq!(
        err("CHG 7 NLN 12:ab\r\n", 16),
        ParseError::InvalidCapabilities
    );
}

#[test]
fn presence_in_each_version_shape() {
    let presence = |status,
                    contact: &str,
                    nid,
                    friendly: &str,
                    caps: Option<(u32, Option<u32>)>,
                    obj: Option<&str>| {
        Presence {
            status,
            contact: s(contact),
            network_id: nid,
            friendly: s(friendly),
            capabilities: caps.map(|(client, extended)| Capabilities { client, extended }),
            msn_object: obj.map(s),
        }
    };
    assert_eq!(
        ok("ILN 6 NLN alice@example.com Alice 268435456\r\n", 8),
        NsCommand::Iln(Iln {
            trid: 6,
            presence: presence(
                Status::Online,
                "alice@example.com",
                None,
                "Alice",
                Some((268_435_456, None)),
                None
            )
        })
    );
    assert_eq!(
        ok(
            "ILN 6 NLN alice@example.com Alice 1342177280 %3Cmsnobj%2F%3E\r\n",
            12
        ),
        NsCommand::Iln(Iln {
            trid: 6,
            presence: presence(
                Status::Online,
                "alice@example.com",
                None,
                "Alice",
                Some((1_342_177_280, None)),
                Some("<msnobj/>")
            )
        })
    );
    assert_eq!(
        ok(
            "ILN 6 NLN alice@example.com 1 Alice%20(probe) 1985855524 0\r\n",
            15
        ),
        NsCommand::Iln(Iln {
            trid: 6,
            presence: presence(
                Status::Online,
                "alice@example.com",
                Some(1),
                "Alice (probe)",
                Some((1_985_855_524, None)),
                Some("0")
            )
        })
    );
    assert_eq!(
        ok("NLN AWY bob@example.com Bob\r\n", 7),
        NsCommand::Nln(presence(
            Status::Away,
            "bob@example.com",
            None,
            "Bob",
            None,
            None
        ))
    );
    assert_eq!(
        ok(
            "NLN BSY bob@example.com 1 Bob 2789003324:48 %3Cmsnobj%2F%3E\r\n",
            16
        ),
        NsCommand::Nln(presence(
            Status::Busy,
            "bob@example.com",
            Some(1),
            "Bob",
            Some((2_789_003_324, Some(48))),
            Some("<msnobj/>")
        ))
    );
    assert_eq!(
        ok(
            "NLN NLN 1:carol@example.com Carol 1342177280:0 %3Cmsnobj%2F%3E\r\n",
            18
        ),
        NsCommand::Nln(presence(
            Status::Online,
            "carol@example.com",
            Some(1),
            "Carol",
            Some((1_342_177_280, Some(0))),
            Some("<msnobj/>")
        ))
    );
    assert_eq!(
        err("NLN XYZ bob@example.com Bob\r\n", 12),
        ParseError::InvalidStatus
    );
    assert_eq!(
        err("NLN NLN bob@example.com Bob 1 0\r\n", 15),
        ParseError::InvalidNumber
    );
}

#[test]
fn decoded_names_cannot_inject_line_breaks() {
    let NsCommand::Nln(p) = ok("NLN NLN bob@example.com Bob%0D%0AOUT%00 1 0\r\n", 12) else {
        panic!()
    };
    assert!(!p.friendly.contains(['\r', '\n', '\0']), "{:?}", p.friendly);
    assert_eq!(p.friendly, "Bob\u{FFFD}\u{FFFD}OUT\u{FFFD}");
    // A raw LF or NUL inside a line is refused outright.
    let frame = Frame {
        line: b"NLN NLN bob Bob\nOUT 1".to_vec(),
        payload: None,
    };
    assert_eq!(
        parse(frame, Dialect::new(12)),
        Err(ParseError::ControlCharacter)
    );
}

#[test]
fn fln_in_each_version_shape() {
    let fln = |contact: &str, network_id, caps: Option<(u32, Option<u32>)>| {
        NsCommand::Fln(Fln {
            contact: s(contact),
            network_id,
            capabilities: caps.map(|(client, extended)| Capabilities { client, extended }),
        })
    };
    assert_eq!(
        ok("FLN bob@example.com\r\n", 12),
        fln("bob@example.com", None, None)
    );
    assert_eq!(
        ok("FLN bob@example.com 1 0\r\n", 15),
        fln("bob@example.com", Some(1), Some((0, None)))
    );
    assert_eq!(
        ok("FLN bob@example.com 1 0:0\r\n", 16),
        fln("bob@example.com", Some(1), Some((0, Some(0))))
    );
    assert_eq!(
        ok("FLN 1:bob@example.com 0:0\r\n", 18),
        fln("bob@example.com", Some(1), Some((0, Some(0))))
    );
}

#[test]
fn ubx_ubn_not_in_each_shape() {
    let data = "<Data><PSM>bob probe psm</PSM><CurrentMedia></CurrentMedia></Data>";
    assert_eq!(
        ok(&format!("UBX bob@example.com 66\r\n{data}"), 12),
        NsCommand::Ubx(Ubx {
            contact: s("bob@example.com"),
            network_id: None,
            payload: data.as_bytes().to_vec()
        })
    );
    assert_eq!(
        ok(&format!("UBX bob@example.com 1 66\r\n{data}"), 15),
        NsCommand::Ubx(Ubx {
            contact: s("bob@example.com"),
            network_id: Some(1),
            payload: data.as_bytes().to_vec()
        })
    );
    assert_eq!(
        ok("UBX 1:alice@example.com 0\r\n", 18),
        NsCommand::Ubx(Ubx {
            contact: s("alice@example.com"),
            network_id: Some(1),
            payload: Vec::new()
        })
    );
    assert_eq!(
        ok("UBN alice@example.com 1 8\r\n<probe/>", 18),
        NsCommand::Ubn(Ubn {
            contact: s("alice@example.com"),
            kind: 1,
            payload: b"<probe/>".to_vec()
        })
    );
    assert_eq!(
        ok("NOT 5\r\nhello", 12),
        NsCommand::Not(Not {
            payload: b"hello".to_vec()
        })
    );
}

#[test]
fn rng_with_and_without_the_msnp13_tail() {
    let rng = |friendly: &str| {
        NsCommand::Rng(Rng {
            session_id: s("99d441db4b16590fb709297fb71f7a3"),
            address: HostPort {
                host: s("127.0.0.1"),
                port: 1864,
            },
            cookie: Secret::new(s("20f21bac023ceea833b9")),
            inviter: s("alice@example.com"),
            inviter_friendly: s(friendly),
        })
    };
    assert_eq!(
        ok("RNG 99d441db4b16590fb709297fb71f7a3 127.0.0.1:1864 CKI 20f21bac023ceea833b9 alice@example.com Alice\r\n", 12),
        rng("Alice")
    );
    assert_eq!(
        ok("RNG 99d441db4b16590fb709297fb71f7a3 127.0.0.1:1864 CKI 20f21bac023ceea833b9 alice@example.com Alice%20(probe) U messenger.hotmail.com 1\r\n", 18),
        rng("Alice (probe)")
    );
    assert_eq!(
        err("RNG 1 127.0.0.1:1864 XYZ c a@b A\r\n", 12),
        ParseError::InvalidArgument
    );
}

#[test]
fn numeric_errors_and_raw_commands() {
    assert_eq!(
        ok("911 4\r\n", 12),
        NsCommand::Error(ServerError {
            code: 911,
            trid: Some(4)
        })
    );
    assert_eq!(
        ok("715\r\n", 12),
        NsCommand::Error(ServerError {
            code: 715,
            trid: None
        })
    );
    assert_eq!(
        ok("NFY PUT 12\r\nRouting: 1\r\n", 21),
        NsCommand::Raw(RawCommand {
            verb: s("NFY"),
            args: vec![s("PUT"), s("12")],
            payload: Some(b"Routing: 1\r\n".to_vec())
        })
    );
    assert_eq!(
        ok("SBP 19 x MFN Bobby%20B\r\n", 12),
        NsCommand::Raw(RawCommand {
            verb: s("SBP"),
            args: vec![s("19"), s("x"), s("MFN"), s("Bobby B")],
            payload: None
        })
    );
}

#[test]
fn payload_consistency_is_checked_on_hand_built_frames() {
    let frame = |line: &str, payload: Option<&[u8]>| Frame {
        line: line.as_bytes().to_vec(),
        payload: payload.map(<[u8]>::to_vec),
    };
    assert_eq!(
        parse(frame("NOT 5", Some(b"hey")), Dialect::new(12)),
        Err(ParseError::PayloadLengthMismatch)
    );
    assert_eq!(
        parse(frame("NOT 5", None), Dialect::new(12)),
        Err(ParseError::MissingPayload)
    );
    assert_eq!(
        parse(frame("CHG 8 NLN 1", Some(b"")), Dialect::new(12)),
        Err(ParseError::UnexpectedPayload)
    );
    assert_eq!(
        parse(frame("ADL 5 OK", Some(b"x")), Dialect::new(12)),
        Err(ParseError::UnexpectedPayload)
    );
    assert_eq!(
        parse(frame("", None), Dialect::new(12)),
        Err(ParseError::Empty)
    );
}
