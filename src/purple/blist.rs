//! The buddy list side of the contact list: libpurple buddies, groups, privacy and presence.
//!
//! Contact events are applied in order through a per-connection queue. A big list (thousands
//! of buddies) is applied in passes of at most [`PASS_BUDGET_US`] from a zero-delay timeout,
//! so the user interface never stalls; events arriving meanwhile wait behind it. The two
//! items that walk the whole list run in passes of their own. Buddies are created and removed
//! (never moved), so applying the server's list calls nothing back.

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::ffi::{c_char, c_void, CStr};

use glib_sys::{g_slist_free, GList, GSList};

use msnp::session::contacts::{Buddy, DEFAULT_GROUP};
use msnp::session::{ContactEvent, PictureEvent};

use super::connection::Connection;
use super::guard::entry;
use super::held::Held;
use super::{cstr, ffi, presence, privacy};

/// Time one pass of the zero-delay timeout may spend applying items (it stops after the first
/// item past it). Measured (BENCH.md) a new buddy costs about 117,000 instructions, ~40 µs on
/// the bench machine, almost all of it inside libpurple; a time budget instead of a count keeps
/// a pass at 3 ms plus one item (0.1 ms at half that speed) on any machine, under the 8 ms a
/// main-loop callback may take.
const PASS_BUDGET_US: i64 = 3_000;
/// The budget of the pass run at once from the callback that delivered the events (which has
/// already spent time reading and parsing them).
const INLINE_BUDGET_US: i64 = 1_000;

/// One thing to apply to the buddy list.
enum Item {
    /// Make sure the group exists.
    Group(String),
    /// Show the buddy exactly so.
    Buddy(Buddy),
    /// Make the local permit/deny lists these (expanded into `Listed` items).
    Lists {
        allowed: Vec<String>,
        blocked: Vec<String>,
    },
    /// Someone joined or left the permit (`permit`) or deny list.
    Listed {
        email: String,
        permit: bool,
        on: bool,
    },
    /// The server's whole forward list was applied: offer to upload local-only buddies.
    ListDone(HashSet<String>),
    /// Any other event.
    Event(ContactEvent),
    /// A display-picture event (after the buddy it is about).
    Picture(PictureEvent),
}

impl Item {
    /// Whether applying the item walks the whole list: comparing the permit and deny lists
    /// (~0.3 µs a contact on the bench machine, 1.2-1.8 ms at 5,000) or every local buddy with
    /// the server's list (~0.5 µs a buddy, 2.4-4.6 ms at 5,000).
    fn whole_list(&self) -> bool {
        matches!(self, Item::Lists { .. } | Item::ListDone(_))
    }
}

/// The contact events still to apply to the buddy list, and the buddy-list prompts libpurple
/// holds: a field of the connection state, released with it.
#[derive(Default)]
pub(crate) struct ListState {
    items: RefCell<VecDeque<Item>>,
    /// The zero-delay timeout applying the rest, or 0.
    source: Cell<u32>,
    /// Set while items are being applied (libpurple may call the plugin back meanwhile).
    applying: Cell<bool>,
    /// Set during a buddy-list callback ([`list_command`]): libpurple still holds the node it
    /// passed, so nothing is applied before the callback returns.
    deferred: Cell<bool>,
    /// Local-only buddy prompts, until answered.
    prompts: Held<Upload>,
    /// Each group's last node as [`append_buddy`] left it; cleared whenever libpurple removes
    /// a node ([`connect_signals`]).
    tails: RefCell<Vec<(*mut ffi::PurpleGroup, *mut ffi::PurpleBlistNode)>>,
}

impl ListState {
    /// Drops the waiting items and removes the timeout applying them.
    pub(crate) fn cancel(&self) {
        self.items.borrow_mut().clear();
        let source = self.source.replace(0);
        if source != 0 {
            // SAFETY: the source came from purple_timeout_add and has not run (resume_cb
            // clears it first).
            unsafe { ffi::purple_timeout_remove(source) };
        }
    }
}

/// Buddies on the local list only, offered for adding to the server.
struct Upload {
    account: *mut ffi::PurpleAccount,
    buddies: Vec<(String, String)>,
}

/// Applies a contact-list event to libpurple (queued behind any list still being applied).
pub(crate) fn show(conn: &Connection, event: ContactEvent) {
    let items = match event {
        ContactEvent::ListSynced {
            groups,
            buddies,
            allowed,
            blocked,
        } => {
            let server: HashSet<String> = buddies
                .iter()
                .map(|b| b.email.to_ascii_lowercase())
                .collect();
            let mut items: Vec<Item> = groups.into_iter().map(Item::Group).collect();
            items.extend(buddies.into_iter().map(Item::Buddy));
            items.push(Item::Lists { allowed, blocked });
            items.push(Item::ListDone(server));
            // The callback that delivered a whole list has spent its time: all passes later.
            return enqueue(conn, items, 0);
        }
        other => vec![Item::Event(other)],
    };
    enqueue(conn, items, INLINE_BUDGET_US);
}

/// Applies a display-picture event in order with the contact-list events.
pub(crate) fn show_picture(conn: &Connection, event: PictureEvent) {
    enqueue(conn, vec![Item::Picture(event)], INLINE_BUDGET_US);
}

/// Queues items behind any still being applied, and applies what fits in `budget_us` now.
fn enqueue(conn: &Connection, items: Vec<Item>, budget_us: i64) {
    let list = conn.list();
    list.items.borrow_mut().extend(items);
    // Already scheduled, or called back while applying: the running loop takes them.
    if list.source.get() != 0 || list.applying.get() {
        return;
    }
    if list.deferred.get() {
        return schedule(conn);
    }
    if budget_us == 0 || apply_slice(conn, budget_us, false) {
        schedule(conn);
    }
}

/// Arms the zero-delay timeout that applies the rest.
fn schedule(conn: &Connection) {
    let data: *const Connection = conn;
    // SAFETY: data is the connection, whose `release` removes this timeout before it is freed.
    let source = unsafe { ffi::purple_timeout_add(0, Some(resume_cb), data as *mut c_void) };
    conn.list().source.set(source);
}

/// The timeout: applies the next slice (one-shot; a new one is armed while items are left).
unsafe extern "C" fn resume_cb(data: *mut c_void) -> ffi::gboolean {
    entry(0, || {
        // SAFETY: data is a live Connection (its `release` removes this timeout).
        let conn = unsafe { &*(data as *const Connection) };
        conn.list().source.set(0);
        conn.guarded(|c| {
            if apply_slice(c, PASS_BUDGET_US, true) {
                schedule(c);
            }
        });
        0
    })
}

/// Applies items until the queue is empty or `budget_us` has passed; true when some are left.
/// An item that walks the whole list ([`Item::whole_list`]) runs alone, and only in a pass
/// of the timeout (`own_pass`), never after other items or from the callback that delivered
/// the events.
fn apply_slice(conn: &Connection, budget_us: i64, own_pass: bool) -> bool {
    let list = conn.list();
    list.applying.set(true);
    // SAFETY: reads GLib's monotonic clock; no preconditions.
    let start = unsafe { glib_sys::g_get_monotonic_time() };
    let mut first = true;
    // SAFETY: as above.
    while unsafe { glib_sys::g_get_monotonic_time() } - start < budget_us {
        let whole = list.items.borrow().front().map(Item::whole_list);
        let item = match whole {
            None => {
                list.applying.set(false);
                return false;
            }
            Some(true) if !(first && own_pass) => break,
            _ => list.items.borrow_mut().pop_front(),
        };
        if let Some(item) = item {
            apply(conn, item);
        }
        if whole == Some(true) {
            break;
        }
        first = false;
    }
    list.applying.set(false);
    !list.items.borrow().is_empty()
}

fn apply(conn: &Connection, item: Item) {
    match item {
        Item::Group(name) => {
            group(&name);
        }
        Item::Buddy(buddy) => show_buddy(conn, &buddy),
        Item::Lists { allowed, blocked } => {
            let changes = privacy::list_changes(conn, &allowed, &blocked);
            let mut items = conn.list().items.borrow_mut();
            for (email, permit, on) in changes.into_iter().rev() {
                items.push_front(Item::Listed { email, permit, on });
            }
        }
        Item::Listed { email, permit, on } => privacy::show_list(conn, &email, permit, on),
        Item::ListDone(server) => offer_upload(conn, &server),
        Item::Event(event) => apply_event(conn, event),
        Item::Picture(event) => super::icons::apply(conn, event),
    }
}

fn apply_event(conn: &Connection, event: ContactEvent) {
    match event {
        ContactEvent::ListSynced { .. } => {}
        ContactEvent::BuddyChanged(buddy) => show_buddy(conn, &buddy),
        ContactEvent::BuddyRemoved { email } => {
            for buddy in local_buddies(conn.account(), Some(&email)) {
                // SAFETY: buddy is live (just found); removing does not call the plugin.
                unsafe { ffi::purple_blist_remove_buddy(buddy) };
            }
        }
        ContactEvent::GroupAdded { name } => {
            group(&name);
        }
        ContactEvent::GroupRenamed { old, new } => {
            let (old_c, new_c) = (cstr::to_cstring(&old), cstr::to_cstring(&new));
            // SAFETY: libpurple copies the names; the group is live while found.
            unsafe {
                let group = ffi::purple_find_group(old_c.as_ptr());
                if !group.is_null() && ffi::purple_find_group(new_c.as_ptr()).is_null() {
                    ffi::purple_blist_rename_group(group, new_c.as_ptr());
                }
            }
        }
        ContactEvent::GroupRemoved { name } => {
            let name = cstr::to_cstring(&name);
            // SAFETY: as above; only an empty group is removed (which calls no plugin).
            unsafe {
                let group = ffi::purple_find_group(name.as_ptr());
                if !group.is_null()
                    && ffi::purple_blist_node_get_first_child(group.cast()).is_null()
                {
                    ffi::purple_blist_remove_group(group);
                }
            }
        }
        ContactEvent::Allowed { email, on } => privacy::show_list(conn, &email, true, on),
        ContactEvent::Blocked { email, on } => privacy::show_list(conn, &email, false, on),
        ContactEvent::PrivacyMode(mode) => privacy::show_mode(conn, mode),
        ContactEvent::AuthRequest {
            email,
            friendly,
            message,
            on_list,
        } => privacy::request_authorization(
            conn,
            &email,
            friendly.as_deref(),
            message.as_deref(),
            on_list,
        ),
        ContactEvent::Presence(p) => {
            if let Some(friendly) = &p.friendly {
                set_server_alias(conn, &p.email, friendly);
            }
            presence::show(conn, &p);
        }
        ContactEvent::OwnName(name) => {
            let name = cstr::to_cstring(&name);
            // SAFETY: gc is live while its Connection exists; libpurple copies the name.
            unsafe { ffi::purple_connection_set_display_name(conn.gc(), name.as_ptr()) };
        }
        ContactEvent::OwnStatus(status) => presence::show_own(conn, status),
        ContactEvent::Failed(text) => notify_error(conn, &text),
    }
}

/// Shows an error about the contact list.
fn notify_error(conn: &Connection, text: &str) {
    log::warn!("{text}");
    let text = cstr::to_cstring(text);
    // SAFETY: gc is live; libpurple copies the texts.
    unsafe {
        ffi::purple_notify_message(
            conn.gc().cast(),
            ffi::PURPLE_NOTIFY_MSG_ERROR,
            c"MSN".as_ptr(),
            c"Contact list".as_ptr(),
            text.as_ptr(),
            None,
            std::ptr::null_mut(),
        )
    };
}

/// The group called `name`, created if needed.
fn group(name: &str) -> *mut ffi::PurpleGroup {
    let name = cstr::to_cstring(name);
    // SAFETY: libpurple copies the name; adding a group calls no plugin.
    unsafe {
        let found = ffi::purple_find_group(name.as_ptr());
        if !found.is_null() {
            return found;
        }
        let group = ffi::purple_group_new(name.as_ptr());
        ffi::purple_blist_add_group(group, std::ptr::null_mut());
        group
    }
}

/// The account's local buddies called `email` (all of them for `None`).
fn local_buddies(
    account: *mut ffi::PurpleAccount,
    email: Option<&str>,
) -> Vec<*mut ffi::PurpleBuddy> {
    let name = email.map(cstr::to_cstring);
    let mut out = Vec::new();
    // SAFETY: the account is live; the returned list is ours to free (not its buddies).
    unsafe {
        let list = ffi::purple_find_buddies(
            account,
            name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr()),
        );
        let mut node: *mut GSList = list.cast();
        while !node.is_null() {
            out.push((*node).data as *mut ffi::PurpleBuddy);
            node = (*node).next;
        }
        g_slist_free(list.cast());
    }
    out
}

/// The name of the group a live buddy is in.
fn group_of(buddy: *mut ffi::PurpleBuddy) -> String {
    // SAFETY: the buddy is live; the name is copied at once.
    unsafe {
        cstr::to_string(ffi::purple_group_get_name(ffi::purple_buddy_get_group(
            buddy,
        )))
    }
    .unwrap_or_default()
}

/// Whether two group names are the same for libpurple.
fn same_group(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// Shows `buddy` exactly as the server has it: in its groups (the default group for none),
/// with its server alias, and its nickname as local alias when there is none.
fn show_buddy(conn: &Connection, buddy: &Buddy) {
    let account = conn.account();
    let wanted: Vec<&str> = match buddy.groups.is_empty() {
        true => vec![DEFAULT_GROUP],
        false => buddy.groups.iter().map(String::as_str).collect(),
    };
    let local: Vec<(*mut ffi::PurpleBuddy, String)> = local_buddies(account, Some(&buddy.email))
        .into_iter()
        .map(|b| (b, group_of(b)))
        .collect();
    // SAFETY: the buddies are live; the alias (if any) is copied at once.
    let alias = local
        .iter()
        .find_map(|(b, _)| unsafe { cstr::to_string(ffi::purple_buddy_get_local_buddy_alias(*b)) })
        .or_else(|| buddy.nickname.clone());
    let email = cstr::to_cstring(&buddy.email);
    let alias_c = alias.as_deref().map(cstr::to_cstring);
    // A buddy new to the list gets its server alias directly: it has no earlier name to
    // announce in a conversation, so `serv_got_alias`'s lookups are not needed.
    let server_alias = buddy
        .server_alias
        .as_deref()
        .filter(|a| *a != buddy.email)
        .map(cstr::to_cstring);
    for name in &wanted {
        if local.iter().any(|(_, g)| same_group(g, name)) {
            continue;
        }
        let group = group(name);
        // SAFETY: account and group are live; a new buddy node added to a group calls no
        // plugin; libpurple copies the strings.
        unsafe {
            let new = ffi::purple_buddy_new(
                account,
                email.as_ptr(),
                alias_c.as_ref().map_or(std::ptr::null(), |a| a.as_ptr()),
            );
            append_buddy(conn.list(), new, group);
            if local.is_empty() {
                if let Some(a) = &server_alias {
                    ffi::purple_blist_server_alias_buddy(new, a.as_ptr());
                }
            }
        }
    }
    for (old, group) in &local {
        if !wanted.iter().any(|w| same_group(w, group)) {
            // SAFETY: old is live (found above, nothing removed it since).
            unsafe { ffi::purple_blist_remove_buddy(*old) };
        }
    }
    if let (Some(server_alias), false) = (&buddy.server_alias, local.is_empty()) {
        set_server_alias(conn, &buddy.email, server_alias);
    }
}

/// Adds a new buddy in a contact of its own at the end of `group`, as
/// `purple_blist_add_buddy` does without a contact, but in constant time: libpurple finds the
/// group's last node by walking the whole group for every buddy (`purple_blist_get_last_child`
/// in its `blist.c`), ~12.5 million node visits for a 5,000-buddy group and 30% of that
/// sign-in's CPU. The group's last node is remembered instead ([`ListState::tails`]).
///
/// # Safety
/// `buddy` is a new buddy node not in the list and `group` a live group in the list.
unsafe fn append_buddy(
    list: &ListState,
    buddy: *mut ffi::PurpleBuddy,
    group: *mut ffi::PurpleGroup,
) {
    let remembered = list
        .tails
        .borrow()
        .iter()
        .find(|(g, _)| *g == group)
        .map(|(_, node)| *node);
    let tail = match remembered {
        // SAFETY: a remembered node is live: every removal of a node emits
        // "blist-node-removed" before libpurple frees it, and that clears the memory
        // (`node_removed`).
        Some(node) if !node.is_null() && unsafe { is_last_child(node, group) } => node,
        // SAFETY: the group is live.
        _ => unsafe { last_child(group) },
    };
    // SAFETY: tail is the group's live last child (a contact or chat) or NULL for an empty
    // group, where libpurple puts the contact first; adding a childless contact emits no
    // signal and calls no plugin.
    let contact = unsafe {
        let contact = ffi::purple_contact_new();
        ffi::purple_blist_add_contact(contact, group, tail);
        contact
    };
    // Remembered before the buddy goes in: "buddy-added" handlers run inside libpurple's add,
    // and a handler removing the buddy (and so its contact) then clears what is remembered.
    {
        let mut tails = list.tails.borrow_mut();
        match tails.iter_mut().find(|(g, _)| *g == group) {
            Some(slot) => slot.1 = contact.cast(),
            None => tails.push((group, contact.cast())),
        }
    }
    // SAFETY: buddy is new and contact live in the list; adding a buddy calls no plugin.
    unsafe { ffi::purple_blist_add_buddy(buddy, contact, group, std::ptr::null_mut()) };
}

/// Whether `node` is still the last child of `group` (the user may have moved it elsewhere or
/// added a node after it).
///
/// # Safety
/// `node` is a live node.
unsafe fn is_last_child(node: *mut ffi::PurpleBlistNode, group: *mut ffi::PurpleGroup) -> bool {
    // SAFETY: node is live; reading its parent and next sibling has no other precondition.
    unsafe {
        ffi::purple_blist_node_get_parent(node) == group.cast()
            && ffi::purple_blist_node_get_sibling_next(node).is_null()
    }
}

/// The last child of a live `group` (NULL when empty), found by walking it.
///
/// # Safety
/// `group` is live.
unsafe fn last_child(group: *mut ffi::PurpleGroup) -> *mut ffi::PurpleBlistNode {
    // SAFETY: the group is live; its children are live nodes.
    let mut last = unsafe { ffi::purple_blist_node_get_first_child(group.cast()) };
    while !last.is_null() {
        // SAFETY: as above.
        let next = unsafe { ffi::purple_blist_node_get_sibling_next(last) };
        if next.is_null() {
            break;
        }
        last = next;
    }
    last
}

/// Connects "blist-node-removed" for `conn`, under the connection's address as handle (the
/// connection disconnects its handle before it is freed): a removed node may be a group's
/// remembered last node.
pub(crate) fn connect_signals(conn: &Connection) {
    let removed: unsafe extern "C" fn(*mut ffi::PurpleBlistNode, *mut c_void) = node_removed;
    let data: *const Connection = conn;
    // SAFETY: the callback has the signature of "blist-node-removed" (node, user data), which
    // libpurple calls through the generic PurpleCallback type; the handle and data are the
    // connection, which disconnects before it is freed.
    unsafe {
        ffi::purple_signal_connect(
            ffi::purple_blist_get_handle(),
            c"blist-node-removed".as_ptr(),
            data as *mut c_void,
            Some(std::mem::transmute::<
                unsafe extern "C" fn(*mut ffi::PurpleBlistNode, *mut c_void),
                unsafe extern "C" fn(),
            >(removed)),
            data as *mut c_void,
        )
    };
}

/// "blist-node-removed": forgets the remembered last nodes (the removed one may be among them).
unsafe extern "C" fn node_removed(_node: *mut ffi::PurpleBlistNode, data: *mut c_void) {
    entry((), || {
        // SAFETY: data is the live connection (it disconnects this signal before it is freed).
        let conn = unsafe { &*(data as *const Connection) };
        conn.list().tails.borrow_mut().clear();
    })
}

/// Sets a buddy's server alias (`serv_got_alias`) when it differs.
pub(crate) fn set_server_alias(conn: &Connection, email: &str, alias: &str) {
    let current = local_buddies(conn.account(), Some(email))
        .first()
        // SAFETY: the buddy is live; its server alias is copied at once.
        .and_then(|b| unsafe { cstr::to_string(ffi::purple_buddy_get_server_alias(*b)) });
    if current.as_deref() == Some(alias) || current.is_none() && alias == email {
        return;
    }
    let (who, alias) = (cstr::to_cstring(email), cstr::to_cstring(alias));
    // SAFETY: gc is live; libpurple copies the strings.
    unsafe { ffi::serv_got_alias(conn.gc(), who.as_ptr(), alias.as_ptr()) };
}

/// After the server's list: asks whether buddies only on the local list go to the server
/// (they are never removed silently).
fn offer_upload(conn: &Connection, server: &HashSet<String>) {
    let account = conn.account();
    // Names are compared in place (copied only when lower-case is needed) and groups looked up
    // only for the buddies kept: the walk costs ~0.5 µs a buddy.
    let buddies: Vec<(String, String)> = local_buddies(account, None)
        .into_iter()
        .filter_map(|buddy| {
            // SAFETY: the buddy is live; its name is read here and copied if kept.
            let name = unsafe { ffi::purple_buddy_get_name(buddy) };
            if name.is_null() {
                return None;
            }
            // SAFETY: a non-NULL buddy name is NUL-terminated.
            let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
            let known = match name.bytes().any(|b| b.is_ascii_uppercase()) {
                true => server.contains(&name.to_ascii_lowercase()),
                false => server.contains(name.as_ref()),
            };
            (!known).then(|| (name.into_owned(), group_of(buddy)))
        })
        .collect();
    if buddies.is_empty() {
        return;
    }
    let names: Vec<&str> = buddies.iter().take(20).map(|(n, _)| n.as_str()).collect();
    let more = buddies.len().saturating_sub(names.len());
    let mut secondary = names.join(", ");
    if more > 0 {
        secondary.push_str(&format!(" and {more} more"));
    }
    let primary = cstr::to_cstring(&format!(
        "{} buddies on this computer are not on the server's contact list. Add them to it?",
        buddies.len()
    ));
    let secondary = cstr::to_cstring(&secondary);
    let data = conn.list().prompts.hold(Upload { account, buddies });
    let yes: unsafe extern "C" fn(*mut c_void, i32) = upload_yes;
    let no: unsafe extern "C" fn(*mut c_void, i32) = upload_no;
    // SAFETY: gc and account are live; libpurple copies the texts; `data` stays valid in
    // the prompts until a callback takes it out or `close` closes the request; two (label,
    // callback) pairs follow the count.
    unsafe {
        ffi::purple_request_action(
            conn.gc().cast(),
            c"Buddy list synchronization".as_ptr(),
            primary.as_ptr(),
            secondary.as_ptr(),
            0,
            account,
            std::ptr::null(),
            std::ptr::null_mut(),
            data,
            2,
            c"_Yes".as_ptr(),
            yes,
            c"_No".as_ptr(),
            no,
        )
    };
}

/// The connection a prompt was shown for, and the prompt, taken back from it.
///
/// # Safety
/// `data` must be what `offer_upload` handed to libpurple, for a request still open.
unsafe fn prompt_answer<'a>(data: *mut c_void) -> Option<(&'a Connection, Box<Upload>)> {
    // SAFETY: an open request's data is live: `close` closes the requests before freeing it;
    // the account outlives its connection.
    let gc = unsafe { ffi::purple_account_get_connection((*(data as *const Upload)).account) };
    // SAFETY: gc is NULL or the account's live connection.
    let conn = unsafe { Connection::from_gc(gc) }?;
    Some((conn, conn.list().prompts.take(data)?))
}

/// "Yes": adds the local-only buddies to the server.
unsafe extern "C" fn upload_yes(data: *mut c_void, _action: i32) {
    entry((), || {
        // SAFETY: libpurple passes the data of the open request.
        let Some((conn, upload)) = (unsafe { prompt_answer(data) }) else {
            return;
        };
        conn.command(|session, now| {
            for (email, group) in &upload.buddies {
                session.add_buddy(email, Some(group), now);
            }
        });
    })
}

/// "No": keeps them on this computer only.
unsafe extern "C" fn upload_no(data: *mut c_void, _action: i32) {
    // SAFETY: libpurple passes the data of the open request.
    entry((), || drop(unsafe { prompt_answer(data) }))
}

/// The name of a PurpleGroup (NULL gives `None`).
///
/// # Safety
/// `group` must be NULL or a live PurpleGroup.
unsafe fn group_name(group: *mut ffi::PurpleGroup) -> Option<String> {
    if group.is_null() {
        return None;
    }
    // SAFETY: per the contract.
    unsafe { cstr::to_string(ffi::purple_group_get_name(group)) }
}

/// The connection and buddy name of a vtable call about a buddy.
///
/// # Safety
/// `gc` and `buddy` must be NULL or live.
unsafe fn buddy_call<'a>(
    gc: *mut ffi::PurpleConnection,
    buddy: *mut ffi::PurpleBuddy,
) -> Option<(&'a Connection, String)> {
    if buddy.is_null() {
        return None;
    }
    // SAFETY: per the contract.
    let conn = unsafe { Connection::from_gc(gc) }?;
    // SAFETY: as above.
    let name = unsafe { cstr::to_string(ffi::purple_buddy_get_name(buddy)) }?;
    Some((conn, name))
}

/// Runs a buddy-list callback's command. What it changes in the list is applied from the main
/// loop afterwards, never inside the callback: libpurple goes on using the node it passed
/// (after `remove_buddy`, Pidgin and Finch free the buddy themselves; removing it here first
/// made that a use after free).
fn list_command(
    conn: &Connection,
    f: impl FnOnce(&mut msnp::session::Session, std::time::Instant),
) {
    let list = conn.list();
    list.deferred.set(true);
    conn.command(f);
    list.deferred.set(false);
}

/// `add_buddy`: the user added a buddy (to `group`, or the buddy's own group).
pub(crate) unsafe extern "C" fn add_buddy(
    gc: *mut ffi::PurpleConnection,
    buddy: *mut ffi::PurpleBuddy,
    group: *mut ffi::PurpleGroup,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection, buddy and group (or NULL).
        let Some((conn, name)) = (unsafe { buddy_call(gc, buddy) }) else {
            return;
        };
        let group = match group.is_null() {
            // SAFETY: the buddy is live.
            true => unsafe { ffi::purple_buddy_get_group(buddy) },
            false => group,
        };
        // SAFETY: group is NULL or live.
        let group = unsafe { group_name(group) };
        list_command(conn, |session, now| {
            session.add_buddy(&name, group.as_deref(), now)
        });
    })
}

/// `add_buddy_with_invite`: as `add_buddy` (the invitation text is not sent).
pub(crate) unsafe extern "C" fn add_buddy_with_invite(
    gc: *mut ffi::PurpleConnection,
    buddy: *mut ffi::PurpleBuddy,
    group: *mut ffi::PurpleGroup,
    _message: *const c_char,
) {
    entry((), || {
        // SAFETY: same contract as add_buddy.
        unsafe { add_buddy(gc, buddy, group) }
    })
}

/// `remove_buddy`: the user removed a buddy from `group`.
pub(crate) unsafe extern "C" fn remove_buddy(
    gc: *mut ffi::PurpleConnection,
    buddy: *mut ffi::PurpleBuddy,
    group: *mut ffi::PurpleGroup,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection, buddy and group (or NULL).
        let Some((conn, name)) = (unsafe { buddy_call(gc, buddy) }) else {
            return;
        };
        // SAFETY: as above.
        let group = unsafe { group_name(group) };
        list_command(conn, |session, now| {
            session.remove_buddy(&name, group.as_deref(), now)
        });
    })
}

/// `group_buddy`: the user moved a buddy to another group.
pub(crate) unsafe extern "C" fn group_buddy(
    gc: *mut ffi::PurpleConnection,
    who: *const c_char,
    old_group: *const c_char,
    new_group: *const c_char,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection and NUL-terminated names.
        let (conn, who, old, new) = unsafe {
            (
                Connection::from_gc(gc),
                cstr::to_string(who),
                cstr::to_string(old_group),
                cstr::to_string(new_group),
            )
        };
        let (Some(conn), Some(who)) = (conn, who) else {
            return;
        };
        list_command(conn, |session, now| {
            session.move_buddy(&who, old.as_deref(), new.as_deref(), now)
        });
    })
}

/// `rename_group`: the user renamed a group (merging it when the new name exists).
pub(crate) unsafe extern "C" fn rename_group(
    gc: *mut ffi::PurpleConnection,
    old_name: *const c_char,
    group: *mut ffi::PurpleGroup,
    moved: *mut GList,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection, names, group and buddy list.
        let (conn, old, new) = unsafe {
            (
                Connection::from_gc(gc),
                cstr::to_string(old_name),
                group_name(group),
            )
        };
        let (Some(conn), Some(old), Some(new)) = (conn, old, new) else {
            return;
        };
        let mut buddies = Vec::new();
        let mut node = moved;
        while !node.is_null() {
            // SAFETY: node is a live GList node whose data is a live buddy.
            unsafe {
                let buddy = (*node).data as *mut ffi::PurpleBuddy;
                if ffi::purple_buddy_get_account(buddy) == conn.account() {
                    if let Some(name) = cstr::to_string(ffi::purple_buddy_get_name(buddy)) {
                        buddies.push(name);
                    }
                }
                node = (*node).next;
            }
        }
        list_command(conn, |session, now| {
            session.rename_group(&old, &new, &buddies, now)
        });
    })
}

/// `remove_group`: the user deleted an empty group.
pub(crate) unsafe extern "C" fn remove_group(
    gc: *mut ffi::PurpleConnection,
    group: *mut ffi::PurpleGroup,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection and group.
        let (Some(conn), Some(name)) = (unsafe { Connection::from_gc(gc) }, unsafe {
            group_name(group)
        }) else {
            return;
        };
        list_command(conn, |session, now| session.remove_group(&name, now));
    })
}

/// `alias_buddy`: the user gave a buddy a name; stored on the server where it can be.
pub(crate) unsafe extern "C" fn alias_buddy(
    gc: *mut ffi::PurpleConnection,
    who: *const c_char,
    alias: *const c_char,
) {
    entry((), || {
        // SAFETY: libpurple passes its live connection and NUL-terminated strings (alias may
        // be NULL: cleared).
        let (conn, who, alias) = unsafe {
            (
                Connection::from_gc(gc),
                cstr::to_string(who),
                cstr::to_string(alias).unwrap_or_default(),
            )
        };
        let (Some(conn), Some(who)) = (conn, who) else {
            return;
        };
        list_command(conn, |session, now| session.alias_buddy(&who, &alias, now));
    })
}
