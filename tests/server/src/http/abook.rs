//! The address-book service (`/abservice/abservice.asmx`): `ABFindAll`,
//! `ABFindContactsPaged`, `ABContactAdd`/`Delete`/`Update`, `ABGroupAdd`/`Update`/`Delete`,
//! `ABGroupContactAdd`/`Delete` (docs/protocol.md §5.2; transcripts `msnp15`/`msnp18` `http.log`,
//! `extra-contact-add`). The forward list is the address book.

use super::message::Response;
use super::sharing::cid;
use super::soap::{answer, client_fault, empty, Call, AB_NS};
use crate::directory::{Directory, Group, FL};
use crate::ns::{list_add, list_remove, ListError, Outbox};
use crate::shared::Shared;
use quick_xml::escape::escape;

/// Longest group name Escargot takes.
const MAX_GROUP_NAME: usize = 61;
/// The `groupType` of a contact group.
const GROUP_TYPE: &str = "c8529ce2-6ead-434d-881f-341e17db3ff8";

/// Answers an address-book call.
pub(super) fn handle(shared: &Shared, call: &Call) -> Response {
    match call.method.as_str() {
        "ABFindAll" => find(&shared.directory(), &call.email, false),
        "ABFindContactsPaged" => find(&shared.directory(), &call.email, true),
        "ABContactAdd" => contact_add(shared, call),
        "ABContactDelete" => contact_delete(shared, call),
        "ABContactUpdate" => contact_update(shared, call),
        "ABGroupAdd" => group_add(shared, call),
        "ABGroupUpdate" => group_update(shared, call),
        "ABGroupDelete" => group_delete(shared, call),
        "ABGroupContactAdd" | "ABGroupContactDelete" => group_contact(shared, call),
        other => client_fault("InvalidMethod", &format!("{other} is not supported")),
    }
}

/// One `<Contact>` of the address book.
fn contact_xml(
    dir: &Directory,
    email: &str,
    name: &str,
    nick: Option<&str>,
    kind: &str,
    groups: &[String],
) -> String {
    let annotations = nick.map_or(String::new(), |n| {
        format!(
            "<annotations><Annotation><Name>AB.NickName</Name><Value>{}</Value></Annotation></annotations>",
            escape(n)
        )
    });
    let group_ids = match groups.is_empty() {
        true => String::new(),
        false => format!(
            "<groupIds>{}</groupIds>",
            groups
                .iter()
                .map(|g| format!("<guid>{g}</guid>"))
                .collect::<String>()
        ),
    };
    let messenger = kind == "Regular";
    format!(
        "<Contact><contactId>{}</contactId><contactInfo>{annotations}<contactType>{kind}</contactType>\
         <quickName>{name}</quickName><passportName>{}</passportName>\
         <IsPassportNameHidden>false</IsPassportNameHidden><displayName>{name}</displayName>\
         <puid>0</puid>{group_ids}<CID>{}</CID><IsNotMobileVisible>false</IsNotMobileVisible>\
         <isMobileIMEnabled>false</isMobileIMEnabled><isMessengerUser>{messenger}</isMessengerUser>\
         <isFavorite>false</isFavorite><isSmtp>false</isSmtp><hasSpace>false</hasSpace>\
         <spotWatchState>NoDevice</spotWatchState><birthdate>0001-01-01T00:00:00</birthdate>\
         <primaryEmailType>ContactEmailPersonal</primaryEmailType>\
         <PrimaryLocation>ContactLocationPersonal</PrimaryLocation>\
         <PrimaryPhone>ContactPhonePersonal</PrimaryPhone><IsPrivate>false</IsPrivate>\
         <Gender>Unspecified</Gender><TimeZone>None</TimeZone></contactInfo><propertiesChanged />\
         <fDeleted>false</fDeleted></Contact>",
        dir.uuid_of(email),
        escape(email),
        cid(dir, email),
        name = escape(name),
    )
}

/// `ABFindAll` (MSNP13-17) or `ABFindContactsPaged` (MSNP18): groups, forward-list contacts
/// and the owner's own "Me" entry.
fn find(dir: &Directory, email: &str, paged: bool) -> Response {
    let Some(user) = dir.user(email) else {
        return client_fault("InvalidPassportUser", "No such user");
    };
    let groups: String = user
        .groups
        .iter()
        .map(|g| {
            format!(
                "<Group><groupId>{}</groupId><groupInfo><annotations><Annotation>\
                 <Name>MSN.IM.Display</Name><Value>1</Value></Annotation></annotations>\
                 <groupType>{GROUP_TYPE}</groupType><name>{}</name>\
                 <IsNotMobileVisible>false</IsNotMobileVisible><IsPrivate>false</IsPrivate>\
                 <IsFavorite>false</IsFavorite></groupInfo><propertiesChanged />\
                 <fDeleted>false</fDeleted></Group>",
                g.id,
                escape(&g.name)
            )
        })
        .collect();
    let mut contacts = String::new();
    for c in user.contacts.iter().filter(|c| c.lists & FL != 0) {
        let name = dir
            .user(&c.email)
            .map_or(c.email.clone(), |u| u.friendly.clone());
        contacts.push_str(&contact_xml(
            dir,
            &c.email,
            &name,
            c.name.as_deref(),
            "Regular",
            &c.groups,
        ));
    }
    contacts.push_str(&contact_xml(
        dir,
        &user.email,
        &user.friendly,
        None,
        "Me",
        &[],
    ));
    let ab = format!(
        "<abId>00000000-0000-0000-0000-000000000000</abId><abInfo><ownerPuid>0</ownerPuid>\
         <OwnerCID>{}</OwnerCID><ownerEmail>{}</ownerEmail><fDefault>true</fDefault>\
         <joinedNamespace>false</joinedNamespace><IsBot>false</IsBot>\
         <IsParentManaged>false</IsParentManaged><AddressBookType>Individual</AddressBookType>\
         </abInfo>",
        cid(dir, &user.email),
        escape(&user.email)
    );
    answer(&if paged {
        format!(
            "<ABFindContactsPagedResponse xmlns=\"{AB_NS}\"><ABFindContactsPagedResult>\
             <Groups>{groups}</Groups><Contacts>{contacts}</Contacts><Ab>{ab}</Ab>\
             </ABFindContactsPagedResult></ABFindContactsPagedResponse>"
        )
    } else {
        format!(
            "<ABFindAllResponse xmlns=\"{AB_NS}\"><ABFindAllResult><groups>{groups}</groups>\
             <contacts>{contacts}</contacts><ab>{ab}</ab></ABFindAllResult></ABFindAllResponse>"
        )
    })
}

/// A `<guid>` result answer.
fn guid_answer(method: &str, guid: &str) -> Response {
    answer(&format!(
        "<{method}Response xmlns=\"{AB_NS}\"><{method}Result><guid>{guid}</guid></{method}Result>\
         </{method}Response>"
    ))
}

/// `ABContactAdd`: the contact joins the forward list (and, with allow-list management, the
/// allow list); the new contact id is its GUID.
fn contact_add(shared: &Shared, call: &Call) -> Response {
    let Some(email) = call
        .text(Some("contactInfo"), "passportName")
        .or_else(|| call.text(Some("contactInfo"), "email"))
        .map(str::to_owned)
    else {
        return client_fault("BadArgument", "no passportName");
    };
    if !email.contains('@') {
        return client_fault("EmailMissingAtSign", "Email is missing @ sign");
    }
    let mut out = Outbox::default();
    let result = {
        let mut dir = shared.directory();
        if dir
            .contact(&call.email, &email)
            .is_some_and(|c| c.lists & FL != 0)
        {
            Err(client_fault(
                "ContactAlreadyExists",
                "Contact Already Exists",
            ))
        } else {
            match list_add(&mut dir, &call.email, &email, FL, &mut out) {
                Ok(()) => Ok(dir.uuid_of(&email)),
                Err(ListError::NoSuchUser) => {
                    Err(client_fault("InvalidPassportUser", "Invalid passport user"))
                }
                Err(_) => Err(client_fault("BadArgument", "refused")),
            }
        }
    };
    out.send();
    match result {
        Ok(guid) => guid_answer("ABContactAdd", &guid),
        Err(fault) => fault,
    }
}

/// The contacts a call names by `contacts/Contact/contactId`, as addresses.
fn named_contacts(dir: &Directory, call: &Call) -> Vec<String> {
    call.texts(Some("contacts"), "contactId")
        .filter_map(|id| dir.contact_by_uuid(&call.email, id))
        .collect()
}

/// `ABContactDelete`: the contacts leave the forward list.
fn contact_delete(shared: &Shared, call: &Call) -> Response {
    let mut out = Outbox::default();
    let found = {
        let mut dir = shared.directory();
        let emails = named_contacts(&dir, call);
        for email in &emails {
            list_remove(&mut dir, &call.email, email, FL, &mut out);
        }
        !emails.is_empty()
    };
    out.send();
    match found {
        true => empty("ABContactDelete"),
        false => client_fault("ContactDoesNotExist", "Contact does not exist"),
    }
}

/// `ABContactUpdate`: the owner's display name (`Me`) or a contact's nickname.
fn contact_update(shared: &Shared, call: &Call) -> Response {
    if let Some(why) = crate::strict::contact_update_refusal(
        call.texts(Some("Contact"), "propertiesChanged"),
        call.texts(Some("Annotation"), "Name"),
    ) {
        shared.violation(why);
        // Escargot answers with a bare `500 Internal Server Error`.
        return Response::plain(500, Vec::new());
    }
    let mut dir = shared.directory();
    if call.text(Some("contactInfo"), "contactType") == Some("Me") {
        let Some(name) = call
            .text(Some("contactInfo"), "displayName")
            .map(str::to_owned)
        else {
            return client_fault("BadArgument", "no displayName");
        };
        if let Some(user) = dir.user_mut(&call.email) {
            user.friendly = name;
        }
        return empty("ABContactUpdate");
    }
    let emails = named_contacts(&dir, call);
    let nick = call
        .texts(Some("Annotation"), "Value")
        .next()
        .or_else(|| call.text(Some("contactInfo"), "displayName"))
        .map(str::to_owned);
    if emails.is_empty() {
        return client_fault("ContactDoesNotExist", "Contact does not exist");
    }
    for email in emails {
        if let Some(c) = dir.contact_mut(&call.email, &email) {
            c.name = nick.clone();
        }
    }
    empty("ABContactUpdate")
}

/// `ABGroupAdd`: a new group; its GUID is the answer.
fn group_add(shared: &Shared, call: &Call) -> Response {
    let Some(name) = call.text(Some("groupInfo"), "name").map(str::to_owned) else {
        return client_fault("BadArgument", "no group name");
    };
    if name.chars().count() > MAX_GROUP_NAME {
        return client_fault("GroupNameTooLong", "Group name too long");
    }
    let mut dir = shared.directory();
    let id = dir.new_guid();
    let Some(user) = dir.user_mut(&call.email) else {
        return client_fault("InvalidPassportUser", "No such user");
    };
    if user.groups.iter().any(|g| g.name == name) {
        return client_fault("GroupAlreadyExists", "Group Already Exists");
    }
    let numeric = user.groups.iter().map(|g| g.numeric).max().unwrap_or(0) + 1;
    user.groups.push(Group {
        id: id.clone(),
        numeric,
        name,
    });
    guid_answer("ABGroupAdd", &id)
}

/// `ABGroupUpdate`: renames a group.
fn group_update(shared: &Shared, call: &Call) -> Response {
    if call.text(Some("Group"), "propertiesChanged").is_none() {
        shared.violation("ABGroupUpdate without propertiesChanged".to_owned());
        // Escargot answers with a bare `500 Internal Server Error`.
        return Response::plain(500, Vec::new());
    }
    let (Some(id), Some(name)) = (
        call.text(Some("Group"), "groupId"),
        call.text(Some("groupInfo"), "name"),
    ) else {
        return client_fault("BadArgument", "no groupId or name");
    };
    if name.chars().count() > MAX_GROUP_NAME {
        return client_fault("GroupNameTooLong", "Group name too long");
    }
    let mut dir = shared.directory();
    let Some(user) = dir.user_mut(&call.email) else {
        return client_fault("InvalidPassportUser", "No such user");
    };
    match user.groups.iter_mut().find(|g| g.id == id) {
        Some(group) => {
            group.name = name.to_owned();
            empty("ABGroupUpdate")
        }
        None => client_fault("GroupDoesNotExist", "Group does not exist"),
    }
}

/// `ABGroupDelete`: deletes a group (its contacts stay, in no group).
fn group_delete(shared: &Shared, call: &Call) -> Response {
    let Some(id) = call.text(Some("groupIds"), "guid").map(str::to_owned) else {
        return client_fault("BadArgument", "no group");
    };
    let mut dir = shared.directory();
    let Some(user) = dir.user_mut(&call.email) else {
        return client_fault("InvalidPassportUser", "No such user");
    };
    if !user.groups.iter().any(|g| g.id == id) {
        return client_fault("GroupDoesNotExist", "Group does not exist");
    }
    user.groups.retain(|g| g.id != id);
    for c in &mut user.contacts {
        c.groups.retain(|g| *g != id);
    }
    empty("ABGroupDelete")
}

/// `ABGroupContactAdd`/`ABGroupContactDelete`: contacts join or leave a group.
fn group_contact(shared: &Shared, call: &Call) -> Response {
    let Some(id) = call.text(Some("groupIds"), "guid").map(str::to_owned) else {
        return client_fault("BadArgument", "no group");
    };
    let mut dir = shared.directory();
    let known = dir
        .user(&call.email)
        .is_some_and(|u| u.groups.iter().any(|g| g.id == id));
    if !known {
        return client_fault("GroupDoesNotExist", "Group does not exist");
    }
    let emails = named_contacts(&dir, call);
    if emails.is_empty() {
        return client_fault("ContactDoesNotExist", "Contact does not exist");
    }
    let adding = call.method == "ABGroupContactAdd";
    for email in emails {
        if let Some(c) = dir.contact_mut(&call.email, &email) {
            c.groups.retain(|g| *g != id);
            if adding {
                c.groups.push(id.clone());
            }
        }
    }
    empty(&call.method)
}
