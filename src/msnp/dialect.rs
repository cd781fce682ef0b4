//! The negotiated protocol version (`VER`) and what it changes, as named capabilities.
//!
//! Every version-dependent decision of the core asks a [`Dialect`] predicate; no other code
//! compares version numbers. The version each capability starts at is summarised in
//! `docs/protocol.md` §2.2.

use crate::auth::challenge::{Algorithm, Product, MSMSGS, MSN_7_0, WLM_8_5};

/// One MSNP version (`MSNP8` … `MSNP18`), as agreed by `VER`.
///
/// The wire parsers accept any number (the fuzzers and old recordings use some the session
/// never offers); [`Dialect::is_supported`] tells whether list commands exist at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dialect(u32);

/// How a contact's address and network are written in `NLN`, `ILN`, `FLN` and `UBX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceShape {
    /// `bob@example.com` (MSNP8-13).
    Bare,
    /// `bob@example.com 1`: a network id token follows (MSNP14-17).
    NetworkToken,
    /// `1:bob@example.com` (MSNP18+).
    NetworkPrefix,
}

impl Dialect {
    /// The oldest dialect the client speaks.
    pub const OLDEST: Dialect = Dialect(8);

    /// The dialect `MSNP<version>`.
    pub const fn new(version: u32) -> Dialect {
        Dialect(version)
    }

    /// The version number, as written after `MSNP`.
    pub const fn version(self) -> u32 {
        self.0
    }

    /// MSNP8 or later: the list commands (`LST`, `LSG`) have a known shape.
    pub const fn is_supported(self) -> bool {
        self.0 >= 8
    }

    /// MSNP15+: sign-in by `USR SSO` (RST tokens and the MBI blob) instead of `USR TWN`
    /// (Passport 1.4).
    pub const fn sso_login(self) -> bool {
        self.0 >= 15
    }

    /// The algorithm of the `QRY` answer: MD5 before MSNP11, the MSNP11 hash after.
    pub const fn challenge_algorithm(self) -> Algorithm {
        if self.0 >= 11 {
            Algorithm::Msnp11
        } else {
            Algorithm::Md5
        }
    }

    /// The product id and key of `QRY` (and of the OIM lock key), matching the client era.
    pub const fn challenge_product(self) -> Product {
        match self.0 {
            ..=10 => MSMSGS,
            11..=12 => MSN_7_0,
            _ => WLM_8_5,
        }
    }

    /// The client version sent in `CVR`, matching the era of the protocol version.
    pub const fn cvr_client_version(self) -> &'static str {
        match self.0 {
            ..=9 => "6.0.0602",
            10..=12 => "7.5.0324",
            13..=15 => "8.5.1302",
            _ => "14.0.8117.0416",
        }
    }

    /// The client build sent with an offline message (`Store2`).
    pub const fn oim_build_version(self) -> &'static str {
        match self.0 {
            ..=11 => "7.0.0816",
            12 => "7.5.0324",
            13..=15 => "8.5.1302",
            _ => "14.0.8117.0416",
        }
    }

    /// The MSNC generation of the client capabilities (`CHG`), bits 28-31.
    pub const fn msnc_generation(self) -> u32 {
        match self.0 {
            ..=8 => 1,
            9 => 2,
            10 => 3,
            11 => 4,
            12 => 5,
            13..=14 => 6,
            15 => 8,
            _ => 9,
        }
    }

    /// MSNP8/9: list changes carry a list serial (`SYN`, `PRP`, `REM`, `ADG`, `REG`), `USR OK`
    /// carries the friendly name, and the default group is group `0`. From MSNP10 on, list
    /// versions are timestamps, contacts and groups have GUIDs, `LSG` is `<name> <guid>` and
    /// `LST` fields are prefixed (`N=`, `F=`, `C=`).
    pub const fn list_serials(self) -> bool {
        self.0 < 10
    }

    /// MSNP10+: contacts and groups are named by GUID (the opposite of [`Self::list_serials`]).
    pub const fn contact_guids(self) -> bool {
        !self.list_serials()
    }

    /// MSNP9+: `CHG` carries an MSN object (`0` for none).
    pub const fn chg_msn_object(self) -> bool {
        self.0 >= 9
    }

    /// MSNP11+: personal messages (`UUX` with `<PSM>`) and the pending-authorization handling
    /// of the reverse list.
    pub const fn personal_messages(self) -> bool {
        self.0 >= 11
    }

    /// MSNP11/12: accepting a pending contact also adds it to the reverse list (`ADC RL`).
    pub const fn accept_adds_reverse(self) -> bool {
        self.0 == 11 || self.0 == 12
    }

    /// MSNP12+: `IRO` and `JOI` carry the participant's capabilities.
    pub const fn sb_capabilities(self) -> bool {
        self.0 >= 12
    }

    /// MSNP13+: the contact list lives in SOAP services (address book and sharing), the NS
    /// gets `ADL`/`RML`/`FQY` and no `SYN`; accepting a pending contact removes it from the
    /// pending list.
    pub const fn soap_contacts(self) -> bool {
        self.0 >= 13
    }

    /// MSNP13+: the personal-message `UUX` carries the machine GUID.
    pub const fn machine_guid_in_psm(self) -> bool {
        self.0 >= 13
    }

    /// MSNP11+: the server announces offline messages, which are fetched and stored over SOAP
    /// (OIM).
    pub const fn offline_messages(self) -> bool {
        self.0 >= 11
    }

    /// How presence commands write a contact's address and network.
    pub const fn presence_shape(self) -> PresenceShape {
        match self.0 {
            ..=13 => PresenceShape::Bare,
            14..=17 => PresenceShape::NetworkToken,
            _ => PresenceShape::NetworkPrefix,
        }
    }

    /// MSNP16+: endpoints (multiple points of presence): the machine GUID in `USR SSO S`,
    /// `email;{guid}` switchboard addresses, the endpoint `UUX` after each `CHG`, and extended
    /// capabilities.
    pub const fn endpoints(self) -> bool {
        self.0 >= 16
    }

    /// MSNP18+: the address book is read with `ABFindContactsPaged` (before: `ABFindAll`).
    pub const fn paged_address_book(self) -> bool {
        self.0 >= 18
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MSNP{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per supported version: every predicate's answer, so a change to any threshold
    /// shows here.
    #[test]
    fn predicates_at_each_supported_version() {
        // (version, sso, md5, serials, msn object, psm, accept adds RL, sb caps, soap, shape,
        //  endpoints, paged)
        use PresenceShape::*;
        #[rustfmt::skip]
        let rows = [
            (8, false, true, true, false, false, false, false, false, Bare, false, false),
            (9, false, true, true, true, false, false, false, false, Bare, false, false),
            (10, false, true, false, true, false, false, false, false, Bare, false, false),
            (11, false, false, false, true, true, true, false, false, Bare, false, false),
            (12, false, false, false, true, true, true, true, false, Bare, false, false),
            (15, true, false, false, true, true, false, true, true, NetworkToken, false, false),
            (16, true, false, false, true, true, false, true, true, NetworkToken, true, false),
            (17, true, false, false, true, true, false, true, true, NetworkToken, true, false),
            (18, true, false, false, true, true, false, true, true, NetworkPrefix, true, true),
        ];
        for (v, sso, md5, serials, obj, psm, adds_rl, caps, soap, shape, ep, paged) in rows {
            let d = Dialect::new(v);
            assert!(d.is_supported(), "{d}");
            assert_eq!(d.sso_login(), sso, "{d}");
            assert_eq!(d.challenge_algorithm() == Algorithm::Md5, md5, "{d}");
            assert_eq!(d.list_serials(), serials, "{d}");
            assert_eq!(d.contact_guids(), !serials, "{d}");
            assert_eq!(d.chg_msn_object(), obj, "{d}");
            assert_eq!(d.personal_messages(), psm, "{d}");
            assert_eq!(d.accept_adds_reverse(), adds_rl, "{d}");
            assert_eq!(d.sb_capabilities(), caps, "{d}");
            assert_eq!(d.soap_contacts(), soap, "{d}");
            assert_eq!(d.machine_guid_in_psm(), soap, "{d}");
            assert_eq!(d.offline_messages(), psm, "{d}");
            assert_eq!(d.presence_shape(), shape, "{d}");
            assert_eq!(d.endpoints(), ep, "{d}");
            assert_eq!(d.paged_address_book(), paged, "{d}");
        }
    }

    #[test]
    fn client_identity_follows_the_era() {
        let rows = [
            (8, MSMSGS.id, "6.0.0602", "7.0.0816", 1),
            (9, MSMSGS.id, "6.0.0602", "7.0.0816", 2),
            (10, MSMSGS.id, "7.5.0324", "7.0.0816", 3),
            (11, MSN_7_0.id, "7.5.0324", "7.0.0816", 4),
            (12, MSN_7_0.id, "7.5.0324", "7.5.0324", 5),
            (15, WLM_8_5.id, "8.5.1302", "8.5.1302", 8),
            (16, WLM_8_5.id, "14.0.8117.0416", "14.0.8117.0416", 9),
            (17, WLM_8_5.id, "14.0.8117.0416", "14.0.8117.0416", 9),
            (18, WLM_8_5.id, "14.0.8117.0416", "14.0.8117.0416", 9),
        ];
        for (v, product, cvr, build, msnc) in rows {
            let d = Dialect::new(v);
            assert_eq!(d.challenge_product().id, product, "{d}");
            assert_eq!(d.cvr_client_version(), cvr, "{d}");
            assert_eq!(d.oim_build_version(), build, "{d}");
            assert_eq!(d.msnc_generation(), msnc, "{d}");
        }
    }

    #[test]
    fn versions_before_8_have_no_list_shapes() {
        assert!(!Dialect::new(7).is_supported());
        assert!(Dialect::OLDEST.is_supported());
        assert_eq!(Dialect::new(15).to_string(), "MSNP15");
    }
}
