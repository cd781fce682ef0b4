//! Editing the address book (docs/protocol.md §5.2): adding, removing and updating contacts and
//! groups. Answers without content are read with
//! [`parse_empty_response`](super::envelope::parse_empty_response).

use quick_xml::escape::escape;

use super::envelope::{
    self, check_email, check_id, check_text, is_id, Endpoints, Scenario, AB_ID, APP_ID,
    MAX_NAME_LEN,
};
use super::xml::{self, Node};
use super::SoapError;
use crate::auth::rst::Token;
use crate::http::HttpRequest;

/// Network id of a Passport contact.
const NETWORK_PASSPORT: u32 = 1;
/// Network id of a Yahoo! contact.
const NETWORK_YAHOO: u32 = 32;

/// What [`contact_update_request`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactChange<'a> {
    /// The stored display name (of a contact, or the owner's friendly name).
    DisplayName(&'a str),
    /// The private nickname (`AB.NickName` annotation).
    Nickname(&'a str),
}

/// The method element with one child per line, indented as the official client did.
fn method_xml(method: &str, children: &[&str]) -> String {
    let mut xml = format!("<{method} xmlns=\"{}\">", envelope::AB_NAMESPACE);
    for child in children {
        xml.push_str("\n      ");
        xml.push_str(child);
    }
    xml.push_str(&format!("\n    </{method}>"));
    xml
}

fn request(
    endpoints: &Endpoints,
    ticket: &Token,
    method: &str,
    scenario: Scenario,
    children: &[&str],
) -> HttpRequest {
    envelope::ab_request(
        &endpoints.abook,
        method,
        APP_ID,
        scenario,
        ticket,
        &method_xml(method, children),
    )
}

/// `ABContactAdd`: adds `email` (network 1 = Passport, 32 = Yahoo!) as a Messenger contact
/// with `display_name`, letting the service update the allow list too. The answer's
/// [`parse_contact_add`] gives the new contact id; then send `ADL` for the contact.
pub fn contact_add_request(
    endpoints: &Endpoints,
    ticket: &Token,
    email: &str,
    network: u32,
    display_name: &str,
) -> Result<HttpRequest, SoapError> {
    check_email(email)?;
    check_text(display_name, MAX_NAME_LEN, "unusable display name")?;
    let (email, name) = (escape(email), escape(display_name));
    let info = match network {
        NETWORK_PASSPORT => format!(
            "<contactInfo>\n        <contactType>LivePending</contactType><passportName>{email}</passportName>\n        \
             <isMessengerUser>true</isMessengerUser>\n        \
             <MessengerMemberInfo><DisplayName>{name}</DisplayName></MessengerMemberInfo>\n      </contactInfo>"
        ),
        NETWORK_YAHOO => format!(
            "<contactInfo>\n        <emails><ContactEmail><contactEmailType>Messenger2</contactEmailType>\
             <email>{email}</email><isMessengerEnabled>true</isMessengerEnabled><Capability>32</Capability>\
             <MessengerEnabledExternally>false</MessengerEnabledExternally><propertiesChanged/></ContactEmail></emails>\n        \
             <MessengerMemberInfo><DisplayName>{name}</DisplayName></MessengerMemberInfo>\n      </contactInfo>"
        ),
        _ => return Err(SoapError::InvalidInput("contacts can be added for Passport and Yahoo! only")),
    };
    Ok(request(
        endpoints,
        ticket,
        "ABContactAdd",
        Scenario::ContactSave,
        &[
            &format!("<abId>{AB_ID}</abId>"),
            &format!(
                "<contacts><Contact xmlns=\"{}\">{info}</Contact></contacts>",
                envelope::AB_NAMESPACE
            ),
            "<options><EnableAllowListManagement>true</EnableAllowListManagement></options>",
        ],
    ))
}

/// `ABContactDelete`: removes the contact `contact_id` (then send `RML` with the FL bit).
pub fn contact_delete_request(
    endpoints: &Endpoints,
    ticket: &Token,
    contact_id: &str,
) -> Result<HttpRequest, SoapError> {
    check_id(contact_id)?;
    Ok(request(
        endpoints,
        ticket,
        "ABContactDelete",
        Scenario::Timer,
        &[
            &format!("<abId>{AB_ID}</abId>"),
            &format!("<contacts><Contact><contactId>{contact_id}</contactId></Contact></contacts>"),
        ],
    ))
}

/// `ABContactUpdate`: changes a contact's display name or nickname, or with `contact_id`
/// `None` the owner's own (`Me`) entry.
pub fn contact_update_request(
    endpoints: &Endpoints,
    ticket: &Token,
    contact_id: Option<&str>,
    change: ContactChange<'_>,
) -> Result<HttpRequest, SoapError> {
    let (id, me) = match contact_id {
        Some(id) => {
            check_id(id)?;
            (format!("<contactId>{id}</contactId>"), "")
        }
        None => (String::new(), "<contactType>Me</contactType>"),
    };
    let (info, property) = match change {
        ContactChange::DisplayName(name) => {
            check_text(name, MAX_NAME_LEN, "unusable display name")?;
            (
                format!("{me}<displayName>{}</displayName>", escape(name)),
                "DisplayName",
            )
        }
        ContactChange::Nickname(nick) => {
            if nick.len() > MAX_NAME_LEN || nick.chars().any(char::is_control) {
                return Err(SoapError::InvalidInput("unusable nickname"));
            }
            (
                format!(
                    "{me}<annotations><Annotation><Name>AB.NickName</Name><Value>{}</Value></Annotation></annotations>",
                    escape(nick)
                ),
                "Annotation",
            )
        }
    };
    Ok(request(
        endpoints,
        ticket,
        "ABContactUpdate",
        Scenario::ContactSave,
        &[
            &format!("<abId>{AB_ID}</abId>"),
            &format!(
                "<contacts><Contact xmlns=\"{}\">{id}<contactInfo>{info}</contactInfo>\
                 <propertiesChanged>{property}</propertiesChanged></Contact></contacts>",
                envelope::AB_NAMESPACE
            ),
        ],
    ))
}

/// `ABGroupAdd`: creates a group called `name`; [`parse_group_add`] gives its id.
pub fn group_add_request(
    endpoints: &Endpoints,
    ticket: &Token,
    name: &str,
) -> Result<HttpRequest, SoapError> {
    check_text(name, MAX_NAME_LEN, "unusable group name")?;
    Ok(request(
        endpoints,
        ticket,
        "ABGroupAdd",
        Scenario::GroupSave,
        &[
            &format!("<abId>{AB_ID}</abId>"),
            "<groupAddOptions><fRenameOnMsgrConflict>false</fRenameOnMsgrConflict></groupAddOptions>",
            &format!(
                "<groupInfo><GroupInfo><name>{}</name><groupType>C8529CE2-6EAD-434d-881F-341E17DB3FF8</groupType>\
                 <fMessenger>false</fMessenger><annotations><Annotation><Name>MSN.IM.Display</Name><Value>1</Value>\
                 </Annotation></annotations></GroupInfo></groupInfo>",
                escape(name)
            ),
        ],
    ))
}

/// `ABGroupUpdate`: renames the group `group_id` to `name`.
pub fn group_update_request(
    endpoints: &Endpoints,
    ticket: &Token,
    group_id: &str,
    name: &str,
) -> Result<HttpRequest, SoapError> {
    check_id(group_id)?;
    check_text(name, MAX_NAME_LEN, "unusable group name")?;
    Ok(request(
        endpoints,
        ticket,
        "ABGroupUpdate",
        Scenario::GroupSave,
        &[
            &format!("<abId>{AB_ID}</abId>"),
            &format!(
                "<groups><Group><groupId>{group_id}</groupId><groupInfo><name>{}</name></groupInfo>\
                 <propertiesChanged>GroupName</propertiesChanged></Group></groups>",
                escape(name)
            ),
        ],
    ))
}

/// `ABGroupDelete`: deletes the group `group_id`.
pub fn group_delete_request(
    endpoints: &Endpoints,
    ticket: &Token,
    group_id: &str,
) -> Result<HttpRequest, SoapError> {
    check_id(group_id)?;
    Ok(request(
        endpoints,
        ticket,
        "ABGroupDelete",
        Scenario::GroupSave,
        &[
            &format!("<abId>{AB_ID}</abId>"),
            &format!("<groupFilter><groupIds><guid>{group_id}</guid></groupIds></groupFilter>"),
        ],
    ))
}

/// `ABGroupContactAdd`: puts the contact `contact_id` into the group `group_id`.
pub fn group_contact_add_request(
    endpoints: &Endpoints,
    ticket: &Token,
    group_id: &str,
    contact_id: &str,
) -> Result<HttpRequest, SoapError> {
    group_contact_request(endpoints, ticket, "ABGroupContactAdd", group_id, contact_id)
}

/// `ABGroupContactDelete`: takes the contact `contact_id` out of the group `group_id`.
pub fn group_contact_delete_request(
    endpoints: &Endpoints,
    ticket: &Token,
    group_id: &str,
    contact_id: &str,
) -> Result<HttpRequest, SoapError> {
    group_contact_request(
        endpoints,
        ticket,
        "ABGroupContactDelete",
        group_id,
        contact_id,
    )
}

fn group_contact_request(
    endpoints: &Endpoints,
    ticket: &Token,
    method: &str,
    group_id: &str,
    contact_id: &str,
) -> Result<HttpRequest, SoapError> {
    check_id(group_id)?;
    check_id(contact_id)?;
    Ok(request(
        endpoints,
        ticket,
        method,
        Scenario::GroupSave,
        &[
            &format!("<abId>{AB_ID}</abId>"),
            &format!("<groupFilter><groupIds><guid>{group_id}</guid></groupIds></groupFilter>"),
            &format!("<contacts><Contact><contactId>{contact_id}</contactId></Contact></contacts>"),
        ],
    ))
}

/// Reads an `ABContactAdd` answer: the new contact's id.
pub fn parse_contact_add(body: &[u8]) -> Result<String, SoapError> {
    parse_result_guid(body, b"ABContactAddResult")
}

/// Reads an `ABGroupAdd` answer: the new group's id.
pub fn parse_group_add(body: &[u8]) -> Result<String, SoapError> {
    parse_result_guid(body, b"ABGroupAddResult")
}

/// The `<guid>` inside `result` of a SOAP answer.
fn parse_result_guid(body: &[u8], result: &'static [u8]) -> Result<String, SoapError> {
    let mut stream = envelope::soap_stream(body.to_vec())?;
    let mut guid = String::new();
    stream.run(|path, node| match node {
        Node::Text(text) if path.ends_with(&[result, b"guid"]) => {
            xml::append(&mut guid, text, envelope::MAX_ID_LEN)
        }
        _ => Ok(()),
    })?;
    envelope::check_fault(&stream)?;
    let guid = guid.trim();
    match is_id(guid) {
        true => Ok(guid.to_owned()),
        false => Err(SoapError::Malformed("answer has no usable id")),
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
    fn contact_add_matches_the_recorded_client_and_its_answer_parses() {
        let exchanges = recorded(&["extra-contact-add"], "ABContactAdd");
        assert_eq!(exchanges.len(), 1);
        for exchange in exchanges {
            let ticket = between(&exchange.request_body, "<TicketToken>", "</TicketToken>");
            let request = contact_add_request(
                &endpoints(),
                &token(&ticket),
                "carol@example.com",
                1,
                "carol@example.com",
            )
            .unwrap();
            assert_eq!(text(&request.body), text(&exchange.request_body));
            assert_eq!(
                exchange.request_header("SOAPAction"),
                Some(request.headers[0].1.as_str())
            );
            assert_eq!(
                envelope::with_status(exchange.status, parse_contact_add(&exchange.response_body)),
                Ok("dde97797-f39f-4120-9636-2c5301b98c57".to_owned())
            );
        }
    }

    /// The text of `element` in a built request, or `None`.
    fn field(request: &HttpRequest, element: &str) -> Option<String> {
        let body = text(&request.body);
        let open = format!("<{element}>");
        body.contains(&open)
            .then(|| between(&request.body, &open, &format!("</{element}>")))
    }

    #[test]
    fn edits_carry_escaped_values_and_ids() {
        let e = endpoints();
        let t = token("t=tick&p=");
        let contact = "dbd254aa-c066-4dc0-80db-f87fd43c2af2";
        let group = "0000000a-0000-0000-0000-000000000000";

        let yahoo = contact_add_request(&e, &t, "y@yahoo.com", 32, "Y <&>").unwrap();
        assert_eq!(
            field(&yahoo, "contactEmailType").as_deref(),
            Some("Messenger2")
        );
        assert_eq!(field(&yahoo, "DisplayName").as_deref(), Some("Y <&>"));

        let delete = contact_delete_request(&e, &t, contact).unwrap();
        assert_eq!(field(&delete, "contactId").as_deref(), Some(contact));

        let rename =
            contact_update_request(&e, &t, Some(contact), ContactChange::DisplayName("B & b"))
                .unwrap();
        assert_eq!(field(&rename, "displayName").as_deref(), Some("B & b"));
        assert_eq!(
            field(&rename, "propertiesChanged").as_deref(),
            Some("DisplayName")
        );
        let own = contact_update_request(&e, &t, None, ContactChange::DisplayName("Me")).unwrap();
        assert_eq!(field(&own, "contactType").as_deref(), Some("Me"));
        assert_eq!(field(&own, "contactId"), None);
        let nick =
            contact_update_request(&e, &t, Some(contact), ContactChange::Nickname("<3")).unwrap();
        assert_eq!(field(&nick, "Value").as_deref(), Some("<3"));
        assert_eq!(
            field(&nick, "propertiesChanged").as_deref(),
            Some("Annotation")
        );

        let add = group_add_request(&e, &t, "Friends & Family").unwrap();
        assert_eq!(field(&add, "name").as_deref(), Some("Friends & Family"));
        assert_eq!(field(&add, "PartnerScenario").as_deref(), Some("GroupSave"));
        let update = group_update_request(&e, &t, group, "Work").unwrap();
        assert_eq!(field(&update, "groupId").as_deref(), Some(group));
        assert_eq!(
            field(&update, "propertiesChanged").as_deref(),
            Some("GroupName")
        );
        let delete = group_delete_request(&e, &t, group).unwrap();
        assert_eq!(field(&delete, "guid").as_deref(), Some(group));
        for (req, method) in [
            (
                group_contact_add_request(&e, &t, group, contact).unwrap(),
                "ABGroupContactAdd",
            ),
            (
                group_contact_delete_request(&e, &t, group, contact).unwrap(),
                "ABGroupContactDelete",
            ),
        ] {
            assert_eq!(field(&req, "guid").as_deref(), Some(group));
            assert_eq!(field(&req, "contactId").as_deref(), Some(contact));
            assert_eq!(
                req.headers[0].1,
                format!("{}/{method}", envelope::AB_NAMESPACE)
            );
        }
        for req in [yahoo, rename, own, nick, add, update, delete] {
            assert!(req.sensitive);
            assert_eq!(field(&req, "TicketToken").as_deref(), Some("t=tick&p="));
            // Every built request is a well-formed SOAP document.
            assert_eq!(envelope::parse_empty_response(&req.body), Ok(()));
        }
    }

    #[test]
    fn unusable_inputs_are_refused() {
        let e = endpoints();
        let t = token("t=x&p=");
        let id = "dbd254aa-c066-4dc0-80db-f87fd43c2af2";
        assert!(contact_add_request(&e, &t, "nobody", 1, "n").is_err());
        assert!(contact_add_request(&e, &t, "a@b", 4, "n").is_err());
        assert!(contact_add_request(&e, &t, "a@b", 1, "").is_err());
        assert!(contact_delete_request(&e, &t, "</contactId>").is_err());
        assert!(
            contact_update_request(&e, &t, Some(id), ContactChange::DisplayName("a\r\nb")).is_err()
        );
        assert!(contact_update_request(
            &e,
            &t,
            Some(id),
            ContactChange::Nickname(&"n".repeat(MAX_NAME_LEN + 1))
        )
        .is_err());
        assert!(contact_update_request(&e, &t, Some(id), ContactChange::Nickname("")).is_ok());
        assert!(group_add_request(&e, &t, "").is_err());
        assert!(group_update_request(&e, &t, "x y", "n").is_err());
        assert!(group_contact_add_request(&e, &t, id, "").is_err());
    }

    #[test]
    fn id_answers_and_their_failures() {
        let answer = |inner: &str| {
            format!(
                "<soap:Envelope xmlns:soap=\"s\"><soap:Body><ABGroupAddResponse xmlns=\"a\">{inner}\
                 </ABGroupAddResponse></soap:Body></soap:Envelope>"
            )
        };
        let ok = answer("<ABGroupAddResult><guid> 0000000a-0000-0000-0000-000000000000 </guid></ABGroupAddResult>");
        assert_eq!(
            parse_group_add(ok.as_bytes()),
            Ok("0000000a-0000-0000-0000-000000000000".into())
        );
        assert_eq!(
            parse_contact_add(ok.as_bytes()),
            Err(SoapError::Malformed("answer has no usable id"))
        );
        for bad in [
            answer(""),
            answer("<ABGroupAddResult><guid>not-an-id!</guid></ABGroupAddResult>"),
            answer("<ABGroupAddResult><guid/></ABGroupAddResult>"),
        ] {
            assert!(
                matches!(
                    parse_group_add(bad.as_bytes()),
                    Err(SoapError::Malformed(_))
                ),
                "{bad}"
            );
        }
        let long = answer(&format!(
            "<ABGroupAddResult><guid>{}</guid></ABGroupAddResult>",
            "a".repeat(100)
        ));
        assert!(matches!(
            parse_group_add(long.as_bytes()),
            Err(SoapError::TooLarge(_))
        ));
        let fault = "<soap:Envelope xmlns:soap=\"s\"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode>\
                     <faultstring>Contact Already Exists</faultstring><detail><errorcode>ContactAlreadyExists</errorcode>\
                     </detail></soap:Fault></soap:Body></soap:Envelope>";
        assert_eq!(
            parse_contact_add(fault.as_bytes()),
            Err(SoapError::Fault {
                code: "ContactAlreadyExists".into(),
                text: "Contact Already Exists".into()
            })
        );
    }
}
