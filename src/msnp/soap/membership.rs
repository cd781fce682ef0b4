//! The sharing service (docs/protocol.md §5.2, §5.3): `FindMembership` lists who is on the allow,
//! block, reverse and pending lists; `AddMember`/`DeleteMember` change them.

use quick_xml::escape::escape;

use super::envelope::{self, check_email, is_email, Endpoints, Scenario, APP_ID};
use super::xml::{self, attribute, Node, Path, XmlError, XmlStream};
use super::SoapError;
use crate::auth::rst::Token;
use crate::http::HttpRequest;

/// Most members accepted in one answer, all roles together.
pub const MAX_MEMBERS: usize = 100_000;
/// Network id of a Passport (Windows Live ID) member.
const NETWORK_PASSPORT: u32 = 1;
/// Network id of a Yahoo! member (an `EmailMember`).
const NETWORK_YAHOO: u32 = 32;

/// A membership role: which list a member is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// `Allow` (AL): may see my presence and message me.
    Allow,
    /// `Block` (BL).
    Block,
    /// `Reverse` (RL): has me on their contact list.
    Reverse,
    /// `Pending` (PL): added me and awaits my decision.
    Pending,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Allow => "Allow",
            Role::Block => "Block",
            Role::Reverse => "Reverse",
            Role::Pending => "Pending",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        [Role::Allow, Role::Block, Role::Reverse, Role::Pending]
            .into_iter()
            .find(|role| role.as_str() == text)
    }

    /// The scenario the official client used to change this role.
    fn scenario(self) -> Scenario {
        match self {
            Role::Allow | Role::Block => Scenario::BlockUnblock,
            Role::Reverse | Role::Pending => Scenario::ContactMsgrApi,
        }
    }
}

/// One member of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The account name (`PassportName`, or `Email` for e-mail members).
    pub email: String,
    /// Network id: 1 for Passport members, 32 for e-mail (Yahoo!) members.
    pub network: u32,
    /// The member's display name, when the service gives one (pending members).
    pub display_name: Option<String>,
    /// The invitation message a pending member sent (`MSN.IM.InviteMessage` annotation).
    pub invite_message: Option<String>,
}

/// The Messenger service's memberships, per role, in answer order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memberships {
    /// Allow list.
    pub allow: Vec<Member>,
    /// Block list.
    pub block: Vec<Member>,
    /// Reverse list.
    pub reverse: Vec<Member>,
    /// Pending list.
    pub pending: Vec<Member>,
}

impl Memberships {
    /// The members of `role`.
    pub fn role(&self, role: Role) -> &[Member] {
        match role {
            Role::Allow => &self.allow,
            Role::Block => &self.block,
            Role::Reverse => &self.reverse,
            Role::Pending => &self.pending,
        }
    }

    fn role_mut(&mut self, role: Role) -> &mut Vec<Member> {
        match role {
            Role::Allow => &mut self.allow,
            Role::Block => &mut self.block,
            Role::Reverse => &mut self.reverse,
            Role::Pending => &mut self.pending,
        }
    }
}

/// `FindMembership` for the Messenger service and its relatives, as the official client asked.
pub fn find_membership_request(
    endpoints: &Endpoints,
    ticket: &Token,
    scenario: Scenario,
) -> HttpRequest {
    envelope::ab_request(
        &endpoints.sharing,
        "FindMembership",
        APP_ID,
        scenario,
        ticket,
        "<FindMembership xmlns=\"http://www.msn.com/webservices/AddressBook\">\n      \
         <serviceFilter><Types><ServiceType>Messenger</ServiceType><ServiceType>Invitation</ServiceType>\
         <ServiceType>SocialNetwork</ServiceType><ServiceType>Space</ServiceType><ServiceType>Profile</ServiceType>\
         </Types></serviceFilter>\n    </FindMembership>",
    )
}

/// `AddMember`: puts `email` (network 1 = Passport, 32 = Yahoo!) in `role` of the Messenger
/// service. Allow/Block are then applied on the NS with `ADL`; `Reverse` accepts a request.
pub fn add_member_request(
    endpoints: &Endpoints,
    ticket: &Token,
    role: Role,
    email: &str,
    network: u32,
) -> Result<HttpRequest, SoapError> {
    member_request(endpoints, ticket, "AddMember", role, email, network)
}

/// `DeleteMember`: takes `email` out of `role` (`Pending` dismisses an authorisation request).
pub fn delete_member_request(
    endpoints: &Endpoints,
    ticket: &Token,
    role: Role,
    email: &str,
    network: u32,
) -> Result<HttpRequest, SoapError> {
    member_request(endpoints, ticket, "DeleteMember", role, email, network)
}

fn member_request(
    endpoints: &Endpoints,
    ticket: &Token,
    method: &str,
    role: Role,
    email: &str,
    network: u32,
) -> Result<HttpRequest, SoapError> {
    check_email(email)?;
    let email = escape(email);
    let member = match network {
        NETWORK_PASSPORT => format!(
            "<Member xsi:type=\"PassportMember\"><Type>Passport</Type><State>Accepted</State>\
             <PassportName>{email}</PassportName></Member>"
        ),
        NETWORK_YAHOO => format!(
            "<Member xsi:type=\"EmailMember\"><Type>Email</Type><State>Accepted</State><Email>{email}</Email>\
             <Annotations><Annotation><Name>MSN.IM.BuddyType</Name><Value>32:</Value></Annotation></Annotations></Member>"
        ),
        _ => return Err(SoapError::InvalidInput("memberships exist for Passport and Yahoo! only")),
    };
    let xml = format!(
        "<{method} xmlns=\"http://www.msn.com/webservices/AddressBook\">\n      \
         <serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle>\n      \
         <memberships><Membership><MemberRole>{}</MemberRole><Members>{member}</Members></Membership></memberships>\n    \
         </{method}>",
        role.as_str()
    );
    Ok(envelope::ab_request(
        &endpoints.sharing,
        method,
        APP_ID,
        role.scenario(),
        ticket,
        &xml,
    ))
}

/// Reads a whole `FindMembership` answer (fuzzing entry point; see [`MembershipParser`]).
pub fn parse_find_membership(body: &[u8]) -> Result<Memberships, SoapError> {
    let mut parser = MembershipParser::new(body.to_vec())?;
    loop {
        if let Some(done) = parser.step(usize::MAX)? {
            return Ok(done);
        }
    }
}

/// A resumable `FindMembership` reader: each [`step`](MembershipParser::step) handles at most
/// `budget` XML events, so a large answer does not stall the caller's main loop.
pub struct MembershipParser {
    stream: XmlStream,
    state: State,
}

impl MembershipParser {
    /// Starts reading `body`; fails at once if it exceeds the size limit.
    pub fn new(body: Vec<u8>) -> Result<MembershipParser, SoapError> {
        Ok(MembershipParser {
            stream: envelope::soap_stream(body)?,
            state: State::default(),
        })
    }

    /// How many XML events the steps have read so far.
    pub fn events_read(&self) -> usize {
        self.stream.events()
    }

    /// Handles up to `budget` events: `Ok(None)` while unfinished, then the memberships, or the
    /// service's fault / a parse error. Do not call again after a result or an error.
    pub fn step(&mut self, budget: usize) -> Result<Option<Memberships>, SoapError> {
        envelope::step_stream(
            &mut self.stream,
            &mut self.state,
            budget,
            State::handle,
            |state| state.saw_result.then(|| std::mem::take(&mut state.result)),
            "no FindMembershipResult",
        )
    }
}

/// What the reader has collected so far.
#[derive(Default)]
struct State {
    result: Memberships,
    saw_result: bool,
    members_seen: usize,
    /// Members of the open `Service`, kept until its `Info/Handle/Type` is known.
    service: Vec<(Role, Member)>,
    service_type: String,
    /// The open `Membership`: its role text and members so far.
    role_text: String,
    role_members: Vec<Member>,
    /// The open `Member`.
    member: Option<MemberFields>,
}

/// Texts of one `Member` element.
#[derive(Default)]
struct MemberFields {
    xsi_type: String,
    kind: String,
    passport: String,
    email: String,
    display_name: String,
    deleted: String,
    annotation_name: String,
    annotation_value: String,
    invite_message: Option<String>,
}

impl State {
    fn handle(&mut self, path: &Path, node: Node<'_>) -> Result<(), XmlError> {
        match node {
            Node::Open(e) => match path.last() {
                b"FindMembershipResult" => self.saw_result = true,
                b"Service" => {
                    self.service.clear();
                    self.service_type.clear();
                }
                b"Membership" => {
                    self.role_text.clear();
                    self.role_members.clear();
                }
                b"Member" if path.contains(b"Membership") => {
                    self.members_seen += 1;
                    if self.members_seen > MAX_MEMBERS {
                        return Err(XmlError::TooLarge("too many members"));
                    }
                    self.member = Some(MemberFields {
                        xsi_type: attribute(e, b"type")?.unwrap_or_default(),
                        ..MemberFields::default()
                    });
                }
                b"Annotation" => {
                    if let Some(member) = self.member.as_mut() {
                        member.annotation_name.clear();
                        member.annotation_value.clear();
                    }
                }
                _ => {}
            },
            Node::Text(text) => self.text(path, text)?,
            Node::Close => match path.last() {
                b"Member" => {
                    if let Some(member) = self.member.take().and_then(MemberFields::finish) {
                        self.role_members.push(member);
                    }
                }
                b"Annotation" => {
                    if let Some(member) = self.member.as_mut() {
                        if member.annotation_name.trim() == "MSN.IM.InviteMessage" {
                            member.invite_message = Some(member.annotation_value.trim().to_owned());
                        }
                    }
                }
                b"Membership" => match Role::parse(self.role_text.trim()) {
                    Some(role) => self
                        .service
                        .extend(self.role_members.drain(..).map(|m| (role, m))),
                    None => log::debug!("FindMembership: ignoring an unknown member role"),
                },
                b"Service" => {
                    let kind = self.service_type.trim();
                    if kind.is_empty() || kind == "Messenger" {
                        for (role, member) in self.service.drain(..) {
                            self.result.role_mut(role).push(member);
                        }
                    }
                }
                _ => {}
            },
        }
        Ok(())
    }

    fn text(&mut self, path: &Path, text: &str) -> Result<(), XmlError> {
        const NAME: usize = envelope::MAX_NAME_LEN;
        const EMAIL: usize = envelope::MAX_EMAIL_LEN;
        if let Some(m) = self.member.as_mut() {
            let (target, cap) = match path.last() {
                b"Type" if path.ends_with(&[b"Member", b"Type"]) => (&mut m.kind, NAME),
                b"PassportName" => (&mut m.passport, EMAIL),
                b"Email" => (&mut m.email, EMAIL),
                b"DisplayName" => (&mut m.display_name, NAME),
                b"Deleted" => (&mut m.deleted, NAME),
                b"Name" if path.contains(b"Annotation") => (&mut m.annotation_name, NAME),
                b"Value" if path.contains(b"Annotation") => (&mut m.annotation_value, NAME),
                _ => return Ok(()),
            };
            return xml::append(target, text, cap);
        }
        match path.last() {
            b"MemberRole" => xml::append(&mut self.role_text, text, 64),
            b"Type" if path.ends_with(&[b"Service", b"Info", b"Handle", b"Type"]) => {
                xml::append(&mut self.service_type, text, 64)
            }
            _ => Ok(()),
        }
    }
}

impl MemberFields {
    /// The member, or `None` (logged) for deleted, phone or unusable members.
    fn finish(self) -> Option<Member> {
        if self.deleted.trim() == "true" {
            return None;
        }
        let kind = match self.kind.trim() {
            "" => self.xsi_type.trim().trim_end_matches("Member"),
            kind => kind,
        };
        let (email, network) = match kind {
            "Passport" => (self.passport.trim(), NETWORK_PASSPORT),
            "Email" => (self.email.trim(), NETWORK_YAHOO),
            _ => {
                log::debug!("FindMembership: ignoring a member of an unsupported type");
                return None;
            }
        };
        if !is_email(email) {
            log::warn!("FindMembership: ignoring a member with an unusable account name");
            return None;
        }
        let display_name = Some(self.display_name.trim().to_owned()).filter(|n| !n.is_empty());
        Some(Member {
            email: email.to_owned(),
            network,
            display_name,
            invite_message: self.invite_message.filter(|m| !m.is_empty()),
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
    fn request_matches_the_recorded_client() {
        let exchanges = recorded(&["msnp15", "msnp18"], "FindMembership");
        assert_eq!(exchanges.len(), 2);
        for exchange in exchanges {
            let ticket = between(&exchange.request_body, "<TicketToken>", "</TicketToken>");
            let request = find_membership_request(&endpoints(), &token(&ticket), Scenario::Initial);
            assert_eq!(text(&request.body), text(&exchange.request_body));
            assert_eq!(
                request.url,
                "https://127.0.0.1:8443/abservice/SharingService.asmx"
            );
            assert_eq!(
                exchange.request_header("SOAPAction"),
                Some(request.headers[0].1.as_str())
            );
            assert_eq!(
                exchange.request_header("Content-Type"),
                Some(request.headers[1].1.as_str())
            );
        }
    }

    #[test]
    fn recorded_answers_parse() {
        for exchange in recorded(&["msnp15", "msnp18"], "FindMembership") {
            let lists = with_status_ok(exchange.status, &exchange.response_body);
            let bob = Member {
                email: "bob@example.com".into(),
                network: 1,
                display_name: None,
                invite_message: None,
            };
            assert_eq!(lists.allow, std::slice::from_ref(&bob));
            assert_eq!(lists.reverse, [bob]);
            assert!(lists.block.is_empty() && lists.pending.is_empty());
        }
    }

    fn with_status_ok(status: u16, body: &[u8]) -> Memberships {
        envelope::with_status(status, parse_find_membership(body)).unwrap()
    }

    /// A `FindMembership` answer with the given `<Service>` elements.
    fn answer(services: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"s\" xmlns:xsi=\"i\">\
             <soap:Body><FindMembershipResponse xmlns=\"a\"><FindMembershipResult><Services>{services}\
             </Services></FindMembershipResult></FindMembershipResponse></soap:Body></soap:Envelope>"
        )
    }

    fn service(kind: &str, memberships: &str) -> String {
        format!(
            "<Service><Memberships>{memberships}</Memberships><Info><Handle><Id>1</Id><Type>{kind}</Type>\
             </Handle></Info></Service>"
        )
    }

    fn membership(role: &str, members: &str) -> String {
        format!(
            "<Membership><MemberRole>{role}</MemberRole><Members>{members}</Members></Membership>"
        )
    }

    fn passport(email: &str, extra: &str) -> String {
        format!(
            "<Member xsi:type=\"PassportMember\"><Type>Passport</Type><State>Accepted</State>\
             <PassportName>{email}</PassportName>{extra}</Member>"
        )
    }

    #[test]
    fn pending_members_keep_name_and_message_and_other_services_are_ignored() {
        let pending = passport(
            "carol@example.com",
            "<DisplayName>Carol &amp; Co</DisplayName><Annotations><Annotation><Name>MSN.IM.BuddyType</Name>\
             <Value>01:</Value></Annotation><Annotation><Name>MSN.IM.InviteMessage</Name>\
             <Value>hi, add me</Value></Annotation></Annotations>",
        );
        let yahoo = "<Member xsi:type=\"EmailMember\"><Type>Email</Type><Email>y@yahoo.com</Email></Member>";
        let doc = answer(&format!(
            "{}{}",
            service(
                "Invitation",
                &membership("Allow", &passport("other@example.com", ""))
            ),
            service(
                "Messenger",
                &format!(
                    "{}{}{}{}",
                    membership("Pending", &pending),
                    membership("Block", yahoo),
                    membership("Unknown", &passport("u@example.com", "")),
                    membership(
                        "Allow",
                        &format!(
                            "{}{}{}",
                            passport("gone@example.com", "<Deleted>true</Deleted>"),
                            passport("not an email", ""),
                            "<Member xsi:type=\"PhoneMember\"><Type>Phone</Type><PhoneNumber>1</PhoneNumber></Member>"
                        )
                    )
                )
            )
        ));
        let lists = parse_find_membership(doc.as_bytes()).unwrap();
        assert_eq!(
            lists.pending,
            [Member {
                email: "carol@example.com".into(),
                network: 1,
                display_name: Some("Carol & Co".into()),
                invite_message: Some("hi, add me".into()),
            }]
        );
        assert_eq!(lists.role(Role::Block)[0].email, "y@yahoo.com");
        assert_eq!(lists.role(Role::Block)[0].network, 32);
        assert!(lists.allow.is_empty() && lists.reverse.is_empty());
    }

    #[test]
    fn resumable_parsing_gives_the_same_result() {
        let members: String = (0..300)
            .map(|i| passport(&format!("user{i}@example.com"), ""))
            .collect();
        let doc = answer(&service("Messenger", &membership("Allow", &members)));
        let whole = parse_find_membership(doc.as_bytes()).unwrap();
        assert_eq!(whole.allow.len(), 300);
        let mut parser = MembershipParser::new(doc.into_bytes()).unwrap();
        let mut steps = 0;
        let stepped = loop {
            steps += 1;
            if let Some(done) = parser.step(50).unwrap() {
                break done;
            }
        };
        assert!(steps > 10, "{steps}");
        assert_eq!(stepped, whole);
    }

    #[test]
    fn hostile_answers_are_errors() {
        let fault = "<soap:Envelope xmlns:soap=\"s\"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>\
                     <faultstring>Full sync required</faultstring><detail><errorcode xmlns=\"a\">FullSyncRequired\
                     </errorcode></detail></soap:Fault></soap:Body></soap:Envelope>";
        assert_eq!(
            parse_find_membership(fault.as_bytes()),
            Err(SoapError::Fault {
                code: "FullSyncRequired".into(),
                text: "Full sync required".into()
            })
        );
        let long_name = passport(&format!("{}@x.com", "a".repeat(300)), "");
        let doc = answer(&service("Messenger", &membership("Allow", &long_name)));
        assert!(matches!(
            parse_find_membership(doc.as_bytes()),
            Err(SoapError::TooLarge(_))
        ));
        let complete = answer(&service(
            "Messenger",
            &membership("Allow", &passport("a@b.c", "")),
        ));
        for cut in [10, complete.len() / 2, complete.len() - 3] {
            assert!(parse_find_membership(&complete.as_bytes()[..cut]).is_err());
        }
        for bad in [
            "<soap:Envelope xmlns:soap=\"s\"><soap:Body/></soap:Envelope>".to_owned(),
            format!("<!DOCTYPE x [<!ENTITY e \"x\">]>{complete}"),
            "<soap:Envelope xmlns:soap=\"s\">&e;</soap:Envelope>".to_owned(),
        ] {
            assert!(matches!(
                parse_find_membership(bad.as_bytes()),
                Err(SoapError::Malformed(_))
            ));
        }
    }

    #[test]
    fn member_changes_are_built_per_role_and_network() {
        let ticket = token("t=secret-ticket&p=");
        let req =
            add_member_request(&endpoints(), &ticket, Role::Block, "bob@example.com", 1).unwrap();
        let body = text(&req.body);
        assert_eq!(
            req.headers[0].1,
            "http://www.msn.com/webservices/AddressBook/AddMember"
        );
        assert!(body.contains("<PartnerScenario>BlockUnblock</PartnerScenario>"));
        assert!(body.contains(
            "<memberships><Membership><MemberRole>Block</MemberRole><Members><Member xsi:type=\"PassportMember\">\
             <Type>Passport</Type><State>Accepted</State><PassportName>bob@example.com</PassportName></Member>"
        ));
        assert!(body.contains("<TicketToken>t=secret-ticket&amp;p=</TicketToken>"));

        let req =
            delete_member_request(&endpoints(), &ticket, Role::Pending, "y@yahoo.com", 32).unwrap();
        let body = text(&req.body);
        assert!(body.contains("<DeleteMember xmlns="));
        assert!(body.contains("<PartnerScenario>ContactMsgrAPI</PartnerScenario>"));
        assert!(body.contains("<MemberRole>Pending</MemberRole>"));
        assert!(body.contains("<Email>y@yahoo.com</Email>"));
        // The built request is itself a well-formed SOAP document.
        assert_eq!(envelope::parse_empty_response(&req.body), Ok(()));

        assert!(add_member_request(&endpoints(), &ticket, Role::Allow, "x<y@z", 1).is_err());
        assert!(add_member_request(&endpoints(), &ticket, Role::Allow, "a@b", 4).is_err());
    }

    #[test]
    fn change_answers_and_faults() {
        let ok = "<soap:Envelope xmlns:soap=\"s\"><soap:Body><AddMemberResponse xmlns=\"a\"/></soap:Body></soap:Envelope>";
        assert_eq!(envelope::parse_empty_response(ok.as_bytes()), Ok(()));
        let fault = "<soap:Envelope xmlns:soap=\"s\"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>\
                     <faultstring>Member already exists</faultstring><detail><errorcode>MemberAlreadyExists</errorcode>\
                     </detail></soap:Fault></soap:Body></soap:Envelope>";
        let error = envelope::with_status(500, envelope::parse_empty_response(fault.as_bytes()));
        assert_eq!(
            error,
            Err(SoapError::Fault {
                code: "MemberAlreadyExists".into(),
                text: "Member already exists".into()
            })
        );
    }
}
