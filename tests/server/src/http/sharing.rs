//! The sharing service (`/abservice/SharingService.asmx`): `FindMembership`, `AddMember`,
//! `DeleteMember` over the allow, block, reverse and pending lists (docs/protocol.md §5.2, §5.3;
//! transcript `msnp18/http.log`).

use super::message::Response;
use super::soap::{answer, client_fault, empty, Call, AB_NS};
use crate::directory::{Directory, AL, BL, FL, PL, RL};
use crate::ns::{list_add, list_remove, ListError, Outbox};
use crate::shared::Shared;
use quick_xml::escape::escape;

/// The roles and their list bits.
const ROLES: [(&str, u8); 4] = [
    ("Allow", AL),
    ("Block", BL),
    ("Reverse", RL),
    ("Pending", PL),
];

/// Answers a sharing-service call.
pub(super) fn handle(shared: &Shared, call: &Call) -> Response {
    match call.method.as_str() {
        "FindMembership" => find_membership(&shared.directory(), &call.email),
        "AddMember" | "DeleteMember" => member(shared, call),
        other => client_fault("InvalidMethod", &format!("{other} is not supported")),
    }
}

/// The CID Escargot shows: the last 16 hex digits of the GUID as a signed number.
pub(super) fn cid(dir: &Directory, email: &str) -> i64 {
    let uuid = dir.uuid_of(email);
    let hex: String = uuid.chars().filter(char::is_ascii_hexdigit).collect();
    let tail = hex.get(hex.len().saturating_sub(16)..).unwrap_or("0");
    u64::from_str_radix(tail, 16).unwrap_or(0) as i64
}

/// `FindMembership`: the Messenger service with its four roles.
fn find_membership(dir: &Directory, email: &str) -> Response {
    let Some(user) = dir.user(email) else {
        return client_fault("InvalidPassportUser", "No such user");
    };
    let now = crate::clock::iso8601(crate::clock::unix_now());
    let mut memberships = String::new();
    for (role, bit) in ROLES {
        let mut members = String::new();
        for c in user.contacts.iter().filter(|c| c.lists & bit != 0) {
            // Escargot lists as pending only those not on the forward list.
            if bit == PL && c.lists & FL != 0 {
                continue;
            }
            let mut extra = String::new();
            if bit == PL {
                let name = dir
                    .user(&c.email)
                    .map_or(c.email.clone(), |u| u.friendly.clone());
                extra.push_str(&format!("<DisplayName>{}</DisplayName>", escape(&name)));
                if let Some(invite) = &c.invite {
                    extra.push_str(&format!(
                        "<Annotations><Annotation><Name>MSN.IM.InviteMessage</Name><Value>{}</Value>\
                         </Annotation></Annotations>",
                        escape(invite)
                    ));
                }
            }
            members.push_str(&format!(
                "<Member xsi:type=\"PassportMember\"><MembershipId>{role}/{}</MembershipId>\
                 <Type>Passport</Type>{extra}<State>Accepted</State><Deleted>false</Deleted>\
                 <LastChanged>{now}</LastChanged><JoinedDate>{now}</JoinedDate>\
                 <ExpirationDate>0001-01-01T00:00:00</ExpirationDate><Changes />\
                 <PassportName>{}</PassportName><IsPassportNameHidden>false</IsPassportNameHidden>\
                 <PassportId>0</PassportId><CID>{}</CID><PassportChanges />\
                 <LookedupByCID>false</LookedupByCID></Member>",
                dir.uuid_of(&c.email),
                escape(&c.email),
                cid(dir, &c.email)
            ));
        }
        memberships.push_str(&format!(
            "<Membership><MemberRole>{role}</MemberRole><Members>{members}</Members>\
             <MembershipIsComplete>true</MembershipIsComplete></Membership>"
        ));
    }
    answer(&format!(
        "<FindMembershipResponse xmlns=\"{AB_NS}\"><FindMembershipResult><Services><Service>\
         <Memberships>{memberships}</Memberships><Info><Handle><Id>1</Id><Type>Messenger</Type>\
         <ForeignId /></Handle><InverseRequired>false</InverseRequired>\
         <AuthorizationCriteria>Everyone</AuthorizationCriteria><IsBot>false</IsBot></Info>\
         <Changes /><LastChange>{now}</LastChange><Deleted>false</Deleted></Service></Services>\
         <OwnerNamespace><Info><Handle><Id>00000000-0000-0000-0000-000000000000</Id>\
         <IsPassportNameHidden>false</IsPassportNameHidden><CID>0</CID></Handle>\
         <CreatorPuid>0</CreatorPuid><CreatorCID>{}</CreatorCID>\
         <CreatorPassportName>{}</CreatorPassportName></Info><Changes />\
         <CreateDate>{now}</CreateDate><LastChange>{now}</LastChange></OwnerNamespace>\
         </FindMembershipResult></FindMembershipResponse>",
        cid(dir, &user.email),
        escape(&user.email)
    ))
}

/// `AddMember`/`DeleteMember`: each `PassportName` of the membership joins or leaves the role.
fn member(shared: &Shared, call: &Call) -> Response {
    let Some(role) = call.text(Some("Membership"), "MemberRole") else {
        return client_fault("BadArgument", "no MemberRole");
    };
    let Some(bit) = ROLES.iter().find(|(r, _)| *r == role).map(|(_, b)| *b) else {
        return client_fault("BadArgument", "unknown MemberRole");
    };
    let names: Vec<String> = call
        .texts(Some("Member"), "PassportName")
        .chain(call.texts(Some("Member"), "Email"))
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return client_fault("BadArgument", "no member");
    }
    let adding = call.method == "AddMember";
    let mut out = Outbox::default();
    let result = {
        let mut dir = shared.directory();
        let mut result = Ok(());
        for name in &names {
            if adding {
                let on = dir
                    .contact(&call.email, name)
                    .is_some_and(|c| c.lists & bit != 0);
                if on {
                    result = Err(client_fault("MemberAlreadyExists", "Member already exists"));
                } else if let Err(e) = list_add(&mut dir, &call.email, name, bit, &mut out) {
                    result = Err(match e {
                        ListError::NoSuchUser => {
                            client_fault("InvalidPassportUser", "No such user")
                        }
                        _ => client_fault("BadArgument", "Allow and Block exclude each other"),
                    });
                }
            } else {
                let on = dir
                    .contact(&call.email, name)
                    .is_some_and(|c| c.lists & bit != 0);
                if on {
                    list_remove(&mut dir, &call.email, name, bit, &mut out);
                } else {
                    result = Err(client_fault("MemberDoesNotExist", "Member does not exist"));
                }
            }
        }
        result
    };
    out.send();
    match result {
        Ok(()) => empty(&call.method),
        Err(fault) => fault,
    }
}
