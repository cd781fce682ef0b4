//! Reading the address book (docs/protocol.md §5.2): `ABFindAll` (MSNP13-17) and
//! `ABFindContactsPaged` (MSNP18) requests, and a resumable reader for either answer.

use std::collections::HashSet;

use super::envelope::{self, is_email, is_id, Endpoints, Scenario, APP_ID, FIND_ALL_APP_ID};
use super::xml::{self, Node, Path, XmlError, XmlStream};
use super::SoapError;
use crate::auth::rst::Token;
use crate::http::HttpRequest;

/// Most contacts accepted in one address book.
pub const MAX_CONTACTS: usize = 50_000;
/// Most groups accepted in one address book.
pub const MAX_GROUPS: usize = 1_000;
/// Most group memberships accepted per contact.
pub const MAX_GROUPS_PER_CONTACT: usize = 100;
/// Longest circle ticket accepted.
const MAX_TICKET_LEN: usize = 64 * 1024;
/// Longest phone number accepted for a mobile contact.
const MAX_PHONE_LEN: usize = 32;

/// Network ids (docs/protocol.md §2.4) the address book can assign.
const NETWORK_UNKNOWN: u32 = 0;
const NETWORK_PASSPORT: u32 = 1;
const NETWORK_OCS: u32 = 2;
const NETWORK_TELEPHONE: u32 = 4;
const NETWORK_YAHOO: u32 = 32;

/// A contact group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's GUID.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A contact of the address book (the forward list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The contact's GUID.
    pub id: String,
    /// The account name: the Passport, the e-mail of a Yahoo!/federated contact, or
    /// `tel:<number>` for a mobile contact.
    pub passport: String,
    /// The stored display name (may be empty).
    pub display_name: String,
    /// The private nickname given to the contact (`AB.NickName` annotation).
    pub nickname: Option<String>,
    /// Whether the contact is a Messenger contact (rather than an e-mail-only entry).
    pub is_messenger_user: bool,
    /// GUIDs of the groups the contact is in.
    pub group_ids: Vec<String>,
    /// Network id: 1 Passport, 2 federated (OCS), 4 telephone, 32 Yahoo!, 0 unknown (ask with
    /// `FQY`).
    pub network: u32,
}

/// The address book as `ABFindAll`/`ABFindContactsPaged` return it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressBook {
    /// Groups, in answer order.
    pub groups: Vec<Group>,
    /// Contacts in answer order, each once, without the owner's own entry.
    pub contacts: Vec<Contact>,
    /// The owner's stored friendly name (the `Me` contact's display name).
    pub own_display_name: Option<String>,
    /// The circle ticket of an `ABFindContactsPaged` answer (for `USR SHA A`, MSNP18).
    pub circle_ticket: Option<String>,
}

/// `ABFindAll` for a full (never delta) copy of the address book, as MSNP13-17 clients asked.
pub fn find_all_request(endpoints: &Endpoints, ticket: &Token, scenario: Scenario) -> HttpRequest {
    envelope::ab_request(
        &endpoints.abook,
        "ABFindAll",
        FIND_ALL_APP_ID,
        scenario,
        ticket,
        "<ABFindAll xmlns=\"http://www.msn.com/webservices/AddressBook\">\n      \
         <abId>00000000-0000-0000-0000-000000000000</abId>\n      \
         <abView>Full</abView>\n      \
         <deltasOnly>false</deltasOnly>\n      \
         <lastChange>0001-01-01T00:00:00.0000000-08:00</lastChange>\n    \
         </ABFindAll>",
    )
}

/// `ABFindContactsPaged` with groups and the circle ticket, as MSNP18 clients asked.
pub fn find_contacts_paged_request(
    endpoints: &Endpoints,
    ticket: &Token,
    scenario: Scenario,
) -> HttpRequest {
    envelope::ab_request(
        &endpoints.abook,
        "ABFindContactsPaged",
        APP_ID,
        scenario,
        ticket,
        "<ABFindContactsPaged xmlns=\"http://www.msn.com/webservices/AddressBook\">\n      \
         <filterOptions>\n        \
         <DeltasOnly>false</DeltasOnly>\n        \
         <LastChanged>0001-01-01T00:00:00.0000000-08:00</LastChanged>\n        \
         <ContactFilter><IncludeHiddenContacts>true</IncludeHiddenContacts></ContactFilter>\n      \
         </filterOptions>\n      \
         <abView>MessengerClient8</abView>\n      \
         <extendedContent>AB AllGroups CircleResult</extendedContent>\n    \
         </ABFindContactsPaged>",
    )
}

/// Reads a whole `ABFindAll` or `ABFindContactsPaged` answer (fuzzing entry point; see
/// [`AbParser`]).
pub fn parse_address_book(body: &[u8]) -> Result<AddressBook, SoapError> {
    let mut parser = AbParser::new(body.to_vec())?;
    loop {
        if let Some(book) = parser.step(usize::MAX)? {
            return Ok(book);
        }
    }
}

/// A resumable address-book reader: each [`step`](AbParser::step) handles at most `budget`
/// XML events, so a multi-megabyte answer never stalls the caller's main loop for long.
/// Contacts are stored once; duplicates are found through a hash set.
pub struct AbParser {
    stream: XmlStream,
    state: State,
}

impl AbParser {
    /// Starts reading `body`; fails at once if it exceeds the size limit.
    pub fn new(body: Vec<u8>) -> Result<AbParser, SoapError> {
        Ok(AbParser {
            stream: envelope::soap_stream(body)?,
            state: State::default(),
        })
    }

    /// How many XML events the steps have read so far.
    pub fn events_read(&self) -> usize {
        self.stream.events()
    }

    /// Handles up to `budget` events: `Ok(None)` while unfinished, then the address book, or
    /// the service's fault / a parse error. Do not call again after a result or an error.
    pub fn step(&mut self, budget: usize) -> Result<Option<AddressBook>, SoapError> {
        envelope::step_stream(
            &mut self.stream,
            &mut self.state,
            budget,
            State::handle,
            |state| state.saw_result.then(|| std::mem::take(&mut state.book)),
            "no ABFindAll or ABFindContactsPaged result",
        )
    }
}

/// What the reader has collected so far.
#[derive(Default)]
struct State {
    book: AddressBook,
    saw_result: bool,
    contact_ids: HashSet<String>,
    group: Option<GroupFields>,
    contact: Option<ContactFields>,
    circle_ticket: String,
}

#[derive(Default)]
struct GroupFields {
    id: String,
    name: String,
    deleted: String,
}

/// Texts of one `Contact` element; the `email_*`/`phone_*`/`annotation_*` fields hold the
/// entry being read.
#[derive(Default)]
struct ContactFields {
    id: String,
    contact_type: String,
    passport: String,
    display_name: String,
    messenger_user: String,
    deleted: String,
    group_ids: Vec<String>,
    guid: String,
    nickname: Option<String>,
    annotation_name: String,
    annotation_value: String,
    email_type: String,
    email: String,
    email_enabled: String,
    /// The first messenger-enabled e-mail: `(address, type)`.
    messenger_email: Option<(String, String)>,
    phone: String,
    phone_enabled: String,
    /// The first messenger-enabled phone number.
    messenger_phone: Option<String>,
}

/// Whether `path` ends in a group or contact list entry called `item`.
fn is_entry(path: &Path, list: &[u8], list_paged: &[u8], item: &[u8]) -> bool {
    path.ends_with(&[list, item]) || path.ends_with(&[list_paged, item])
}

impl State {
    fn handle(&mut self, path: &Path, node: Node<'_>) -> Result<(), XmlError> {
        match node {
            Node::Open(_) => match path.last() {
                b"ABFindAllResult" | b"ABFindContactsPagedResult" => self.saw_result = true,
                b"Group" if is_entry(path, b"groups", b"Groups", b"Group") => {
                    if self.book.groups.len() >= MAX_GROUPS {
                        return Err(XmlError::TooLarge("too many groups"));
                    }
                    self.group = Some(GroupFields::default());
                }
                b"Contact" if is_entry(path, b"contacts", b"Contacts", b"Contact") => {
                    if self.book.contacts.len() >= MAX_CONTACTS {
                        return Err(XmlError::TooLarge("too many contacts"));
                    }
                    self.contact = Some(ContactFields::default());
                }
                _ => {
                    if let Some(c) = self.contact.as_mut() {
                        c.open(path.last());
                    }
                }
            },
            Node::Text(text) => self.text(path, text)?,
            Node::Close => match path.last() {
                b"Group" if self.group.is_some() => self.finish_group(),
                b"Contact" if self.contact.is_some() => self.finish_contact(),
                b"CircleTicket" => {
                    let ticket = self.circle_ticket.trim();
                    self.book.circle_ticket = Some(ticket.to_owned()).filter(|t| !t.is_empty());
                }
                _ => {
                    if let Some(c) = self.contact.as_mut() {
                        c.close(path.last())?;
                    }
                }
            },
        }
        Ok(())
    }

    fn text(&mut self, path: &Path, text: &str) -> Result<(), XmlError> {
        const NAME: usize = envelope::MAX_NAME_LEN;
        const ID: usize = envelope::MAX_ID_LEN;
        if let Some(g) = self.group.as_mut() {
            let (target, cap) = match path.last() {
                b"groupId" => (&mut g.id, ID),
                b"name" if path.contains(b"groupInfo") => (&mut g.name, NAME),
                b"fDeleted" => (&mut g.deleted, NAME),
                _ => return Ok(()),
            };
            return xml::append(target, text, cap);
        }
        if let Some(c) = self.contact.as_mut() {
            return c.text(path, text);
        }
        if path.last() == b"CircleTicket" {
            return xml::append(&mut self.circle_ticket, text, MAX_TICKET_LEN);
        }
        Ok(())
    }

    fn finish_group(&mut self) {
        let Some(g) = self.group.take() else { return };
        let id = g.id.trim();
        if g.deleted.trim() == "true" {
            return;
        }
        if !is_id(id) || self.book.groups.iter().any(|known| known.id == id) {
            log::warn!("address book: ignoring a group with a bad or repeated id");
            return;
        }
        self.book.groups.push(Group {
            id: id.to_owned(),
            name: g.name.trim().to_owned(),
        });
    }

    fn finish_contact(&mut self) {
        let Some(c) = self.contact.take() else { return };
        if c.deleted.trim() == "true" {
            return;
        }
        if c.contact_type.trim() == "Me" {
            let name = c.display_name.trim();
            self.book.own_display_name = Some(name.to_owned()).filter(|n| !n.is_empty());
            return;
        }
        let id = c.id.trim().to_owned();
        if !is_id(&id) || self.contact_ids.contains(&id) {
            log::warn!("address book: ignoring a contact with a bad or repeated id");
            return;
        }
        let Some(contact) = c.finish(id.clone()) else {
            log::warn!("address book: ignoring a contact without a usable address");
            return;
        };
        self.contact_ids.insert(id);
        self.book.contacts.push(contact);
    }
}

impl ContactFields {
    fn open(&mut self, name: &[u8]) {
        match name {
            b"ContactEmail" => {
                self.email_type.clear();
                self.email.clear();
                self.email_enabled.clear();
            }
            b"ContactPhone" => {
                self.phone.clear();
                self.phone_enabled.clear();
            }
            b"Annotation" => {
                self.annotation_name.clear();
                self.annotation_value.clear();
            }
            b"guid" => self.guid.clear(),
            _ => {}
        }
    }

    fn close(&mut self, name: &[u8]) -> Result<(), XmlError> {
        match name {
            b"ContactEmail"
                if self.messenger_email.is_none() && self.email_enabled.trim() == "true" =>
            {
                self.messenger_email = Some((
                    self.email.trim().to_owned(),
                    self.email_type.trim().to_owned(),
                ));
            }
            b"ContactPhone"
                if self.messenger_phone.is_none() && self.phone_enabled.trim() == "true" =>
            {
                self.messenger_phone = Some(self.phone.trim().to_owned());
            }
            b"Annotation" if self.annotation_name.trim() == "AB.NickName" => {
                let nick = self.annotation_value.trim();
                self.nickname = Some(nick.to_owned()).filter(|n| !n.is_empty());
            }
            b"guid" => {
                let guid = self.guid.trim();
                if is_id(guid) && !self.group_ids.iter().any(|g| g == guid) {
                    if self.group_ids.len() >= MAX_GROUPS_PER_CONTACT {
                        return Err(XmlError::TooLarge("contact is in too many groups"));
                    }
                    self.group_ids.push(guid.to_owned());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn text(&mut self, path: &Path, text: &str) -> Result<(), XmlError> {
        const NAME: usize = envelope::MAX_NAME_LEN;
        const EMAIL: usize = envelope::MAX_EMAIL_LEN;
        const ID: usize = envelope::MAX_ID_LEN;
        let (target, cap) = match path.last() {
            b"contactId" => (&mut self.id, ID),
            b"contactType" => (&mut self.contact_type, NAME),
            b"passportName" => (&mut self.passport, EMAIL),
            b"displayName" => (&mut self.display_name, NAME),
            b"isMessengerUser" => (&mut self.messenger_user, NAME),
            b"fDeleted" => (&mut self.deleted, NAME),
            b"guid" if path.contains(b"groupIds") => (&mut self.guid, ID),
            b"Name" if path.contains(b"Annotation") => (&mut self.annotation_name, NAME),
            b"Value" if path.contains(b"Annotation") => (&mut self.annotation_value, NAME),
            b"contactEmailType" => (&mut self.email_type, NAME),
            b"email" if path.contains(b"ContactEmail") => (&mut self.email, EMAIL),
            b"isMessengerEnabled" if path.contains(b"ContactEmail") => {
                (&mut self.email_enabled, NAME)
            }
            b"number" if path.contains(b"ContactPhone") => (&mut self.phone, NAME),
            b"isMessengerEnabled" if path.contains(b"ContactPhone") => {
                (&mut self.phone_enabled, NAME)
            }
            _ => return Ok(()),
        };
        xml::append(target, text, cap)
    }

    /// The contact, addressed by Passport, else by a messenger-enabled e-mail, else by a
    /// messenger-enabled mobile number; `None` if it has no usable address.
    fn finish(self, id: String) -> Option<Contact> {
        let passport = self.passport.trim();
        let messenger_user = self.messenger_user.trim() == "true";
        let (address, network, is_messenger_user) = if !passport.is_empty() {
            (passport.to_owned(), NETWORK_PASSPORT, messenger_user)
        } else if let Some((email, kind)) = self.messenger_email {
            let network = match kind.as_str() {
                "Messenger2" => NETWORK_YAHOO,
                "Messenger3" => NETWORK_OCS,
                _ => NETWORK_UNKNOWN,
            };
            (email, network, true)
        } else {
            let phone = self.messenger_phone?;
            let usable = !phone.is_empty()
                && phone.len() <= MAX_PHONE_LEN
                && phone.bytes().all(|b| b.is_ascii_digit() || b == b'+');
            if !usable {
                return None;
            }
            (format!("tel:{phone}"), NETWORK_TELEPHONE, true)
        };
        if network != NETWORK_TELEPHONE && !is_email(&address) {
            return None;
        }
        Some(Contact {
            id,
            passport: address,
            display_name: self.display_name.trim().to_owned(),
            nickname: self.nickname,
            is_messenger_user,
            group_ids: self.group_ids,
            network,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::testutil::{between, recorded, text, token};

    fn endpoints() -> Endpoints {
        Endpoints::new("https://127.0.0.1:8443/RST.srf", None).unwrap()
    }

    #[test]
    fn requests_match_the_recorded_client() {
        type Build = fn(&Endpoints, &Token, Scenario) -> HttpRequest;
        let cases: [(&str, Build); 2] = [
            ("ABFindAll", find_all_request),
            ("ABFindContactsPaged", find_contacts_paged_request),
        ];
        for (label, build) in cases {
            let exchanges = recorded(&["msnp15", "msnp18"], label);
            assert_eq!(exchanges.len(), 1, "{label}");
            for exchange in exchanges {
                let ticket = between(&exchange.request_body, "<TicketToken>", "</TicketToken>");
                let request = build(&endpoints(), &token(&ticket), Scenario::Initial);
                assert_eq!(text(&request.body), text(&exchange.request_body), "{label}");
                assert_eq!(
                    request.url,
                    "https://127.0.0.1:8443/abservice/abservice.asmx"
                );
                assert_eq!(
                    exchange.request_header("SOAPAction"),
                    Some(request.headers[0].1.as_str())
                );
            }
        }
    }

    #[test]
    fn recorded_answers_parse() {
        for (label, ticket) in [("ABFindAll", false), ("ABFindContactsPaged", true)] {
            for exchange in recorded(&["msnp15", "msnp18"], label) {
                let book = envelope::with_status(
                    exchange.status,
                    parse_address_book(&exchange.response_body),
                )
                .unwrap();
                assert_eq!(
                    book.contacts,
                    [Contact {
                        id: "dbd254aa-c066-4dc0-80db-f87fd43c2af2".into(),
                        passport: "bob@example.com".into(),
                        display_name: "Bob".into(),
                        nickname: None,
                        is_messenger_user: true,
                        group_ids: Vec::new(),
                        network: 1,
                    }],
                    "{label}"
                );
                assert!(book.groups.is_empty());
                let own = book.own_display_name.as_deref().unwrap();
                assert!(own.starts_with("Alice"), "{own}");
                assert_eq!(book.circle_ticket.is_some(), ticket, "{label}");
                if let Some(t) = book.circle_ticket {
                    assert!(
                        t.starts_with("<?xml version=\"1.0\" encoding=\"utf-16\"?><SignedTicket")
                    );
                }
            }
        }
    }

    /// One contact shaped like Escargot's, in `groups`.
    fn contact_xml(i: usize, groups: &[String]) -> String {
        let guids: String = groups.iter().map(|g| format!("<guid>{g}</guid>")).collect();
        format!(
            "<Contact>\n\t<contactId>{i:08x}-c066-4dc0-80db-f87fd43c2af2</contactId>\n\t<contactInfo>\
             <annotations><Annotation><Name>AB.NickName</Name><Value>nick {i}</Value></Annotation></annotations>\
             <contactType>Regular</contactType>\n\t\t<quickName>User {i}</quickName><passportName>user{i}@example.com</passportName>\n\
             \t\t<IsPassportNameHidden>false</IsPassportNameHidden>\n\t\t<displayName>User &amp; {i}</displayName>\n\
             \t\t<puid>0</puid><CID>-996917484131394688</CID>\n\t\t<IsNotMobileVisible>false</IsNotMobileVisible>\n\
             \t\t<isMobileIMEnabled>false</isMobileIMEnabled>\n\t\t<isMessengerUser>true</isMessengerUser>\n\
             \t\t<isFavorite>false</isFavorite>\n\t\t<isSmtp>false</isSmtp>\n\t\t<hasSpace>false</hasSpace>\n\
             \t\t<spotWatchState>NoDevice</spotWatchState>\n\t\t<birthdate>0001-01-01T00:00:00</birthdate>\
             <primaryEmailType>ContactEmailPersonal</primaryEmailType>\n\t\t<PrimaryLocation>ContactLocationPersonal</PrimaryLocation>\n\
             \t\t<PrimaryPhone>ContactPhonePersonal</PrimaryPhone>\n\t\t<IsPrivate>false</IsPrivate>\n\
             \t\t<Gender>Unspecified</Gender>\n\t\t<TimeZone>None</TimeZone>\n\t<groupIds>{guids}</groupIds></contactInfo>\n\
             \t<propertiesChanged />\n\t<fDeleted>false</fDeleted>\n\t<lastChange>2026-11-24T22:27:51Z</lastChange>\n</Contact>"
        )
    }

    fn book_xml(groups: &str, contacts: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soap:Body><ABFindAllResponse xmlns=\"http://www.msn.com/webservices/AddressBook\"><ABFindAllResult>\
             <groups>{groups}</groups><contacts>{contacts}</contacts><ab><abId>00000000-0000-0000-0000-000000000000</abId>\
             </ab></ABFindAllResult></ABFindAllResponse></soap:Body></soap:Envelope>"
        )
    }

    fn group_xml(id: &str, name: &str) -> String {
        format!(
            "<Group><groupId>{id}</groupId><groupInfo><annotations><Annotation><Name>MSN.IM.Display</Name>\
             <Value>1</Value></Annotation></annotations><groupType>c8529ce2-6ead-434d-881f-341e17db3ff8</groupType>\
             <name>{name}</name><IsNotMobileVisible>false</IsNotMobileVisible></groupInfo><propertiesChanged />\
             <fDeleted>false</fDeleted></Group>"
        )
    }

    #[test]
    fn five_thousand_contacts_parse_in_bounded_steps() {
        let group_ids: Vec<String> = (0..20)
            .map(|g| format!("{g:08x}-aaaa-bbbb-cccc-dddddddddddd"))
            .collect();
        let groups: String = group_ids
            .iter()
            .enumerate()
            .map(|(i, id)| group_xml(id, &format!("Group {i}")))
            .collect();
        let contacts: String = (0..5000)
            .map(|i| contact_xml(i, &group_ids[i % 20..i % 20 + 1]))
            .collect();
        let body = book_xml(&groups, &contacts);
        assert!(body.len() > 5_000_000, "{}", body.len());

        let mut parser = AbParser::new(body.into_bytes()).unwrap();
        let mut steps = 0;
        let book = loop {
            steps += 1;
            if let Some(book) = parser.step(20_000).unwrap() {
                break book;
            }
        };
        assert!(steps > 20, "{steps} steps");
        assert_eq!(book.groups.len(), 20);
        assert_eq!(book.groups[7].name, "Group 7");
        assert_eq!(book.contacts.len(), 5000);
        for (i, c) in book.contacts.iter().enumerate() {
            assert_eq!(c.passport, format!("user{i}@example.com"));
            assert_eq!(c.display_name, format!("User & {i}"));
            assert_eq!(c.nickname.as_deref(), Some(format!("nick {i}").as_str()));
            assert_eq!(c.group_ids, [group_ids[i % 20].clone()]);
            assert_eq!((c.network, c.is_messenger_user), (1, true));
        }
    }

    #[test]
    fn federated_mobile_deleted_and_duplicate_contacts() {
        let email_contact = |id: &str, kind: &str, email: &str| {
            format!(
                "<Contact><contactId>{id}</contactId><contactInfo><contactType>Regular</contactType>\
                 <emails><ContactEmail><contactEmailType>ContactEmailPersonal</contactEmailType><email>home@x.com</email>\
                 <isMessengerEnabled>false</isMessengerEnabled></ContactEmail><ContactEmail><contactEmailType>{kind}\
                 </contactEmailType><email>{email}</email><isMessengerEnabled>true</isMessengerEnabled></ContactEmail>\
                 </emails><isMessengerUser>false</isMessengerUser></contactInfo></Contact>"
            )
        };
        let phone = "<Contact><contactId>00000004-0000-0000-0000-000000000000</contactId><contactInfo>\
                     <phones><ContactPhone><contactPhoneType>ContactPhoneMobile</contactPhoneType><number>+15551234</number>\
                     <isMessengerEnabled>true</isMessengerEnabled></ContactPhone></phones></contactInfo></Contact>";
        let contacts = [
            contact_xml(1, &[]),
            contact_xml(1, &[]),
            email_contact("00000002-0000-0000-0000-000000000000", "Messenger2", "y@yahoo.com"),
            email_contact("00000003-0000-0000-0000-000000000000", "Messenger3", "o@corp.com"),
            phone.to_owned(),
            contact_xml(5, &[]).replace("<fDeleted>false", "<fDeleted>true"),
            contact_xml(6, &[]).replace("user6@example.com", "no-at-sign"),
            contact_xml(7, &[]).replace("00000007-c066", "not a guid"),
            "<Contact><contactId>00000008-0000-0000-0000-000000000000</contactId></Contact>".to_owned(),
            "<Contact><contactId>00000009-0000-0000-0000-000000000000</contactId><contactInfo><contactType>Me\
             </contactType><displayName>Me &lt;3</displayName></contactInfo></Contact>"
                .to_owned(),
        ]
        .concat();
        let groups = [
            group_xml("g1", "bad id"),
            group_xml("0000000a-0000-0000-0000-000000000000", "Friends"),
            group_xml("0000000a-0000-0000-0000-000000000000", "Again"),
        ]
        .concat();
        let book = parse_address_book(book_xml(&groups, &contacts).as_bytes()).unwrap();
        let summary: Vec<(&str, u32, bool)> = book
            .contacts
            .iter()
            .map(|c| (c.passport.as_str(), c.network, c.is_messenger_user))
            .collect();
        assert_eq!(
            summary,
            [
                ("user1@example.com", 1, true),
                ("y@yahoo.com", 32, true),
                ("o@corp.com", 2, true),
                ("tel:+15551234", 4, true),
            ]
        );
        assert_eq!(
            book.groups,
            [Group {
                id: "0000000a-0000-0000-0000-000000000000".into(),
                name: "Friends".into()
            }]
        );
        assert_eq!(book.own_display_name.as_deref(), Some("Me <3"));
        assert_eq!(book.circle_ticket, None);
    }

    #[test]
    fn hostile_answers_are_errors() {
        let fault = "<soap:Envelope xmlns:soap=\"s\"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>\
                     <faultstring>Full sync required.  Details: Delta syncs disabled.</faultstring><detail>\
                     <errorcode>FullSyncRequired</errorcode></detail></soap:Fault></soap:Body></soap:Envelope>";
        assert_eq!(
            envelope::with_status(500, parse_address_book(fault.as_bytes())),
            Err(SoapError::Fault {
                code: "FullSyncRequired".into(),
                text: "Full sync required.  Details: Delta syncs disabled.".into()
            })
        );
        let body = book_xml("", &contact_xml(1, &[]));
        assert!(parse_address_book(&body.as_bytes()[..body.len() - 20]).is_err());
        let huge_name = book_xml(
            "",
            &contact_xml(1, &[]).replace("User &amp; 1", &"n".repeat(5000)),
        );
        assert!(matches!(
            parse_address_book(huge_name.as_bytes()),
            Err(SoapError::TooLarge(_))
        ));
        let many_groups: Vec<String> = (0..=MAX_GROUPS_PER_CONTACT)
            .map(|g| format!("{g:08x}-0000-0000-0000-000000000000"))
            .collect();
        assert!(matches!(
            parse_address_book(book_xml("", &contact_xml(1, &many_groups)).as_bytes()),
            Err(SoapError::TooLarge(_))
        ));
        for bad in [
            "<soap:Envelope xmlns:soap=\"s\"><soap:Body></soap:Body></soap:Envelope>",
            "<!DOCTYPE d><soap:Envelope xmlns:soap=\"s\"/>",
            "<ABFindAllResult/>",
            "",
        ] {
            assert!(
                matches!(
                    parse_address_book(bad.as_bytes()),
                    Err(SoapError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }
}
