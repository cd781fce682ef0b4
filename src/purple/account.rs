//! Account options (the setting keys are stable: later versions keep them) and the account text table.

use std::ffi::CStr;

use glib_sys::{
    g_free, g_hash_table_insert, g_hash_table_new_full, g_list_append, g_malloc0, g_str_equal,
    g_str_hash, g_strdup, GHashTable, GList,
};

use super::{cstr, ffi};

/// Setting key of the notification server host.
pub(crate) const SERVER: &CStr = c"server";
/// Setting key of the notification server port.
pub(crate) const PORT: &CStr = c"port";
/// Setting key of the Passport 1.4 nexus URL (MSNP8-12 login).
pub(crate) const NEXUS_URL: &CStr = c"nexus_url";
/// Setting key of the RST (SSO) endpoint (MSNP15-18 login).
pub(crate) const SSO_URL: &CStr = c"sso_url";
/// Setting key of the base URL of the address-book and sharing services (MSNP13+); empty
/// uses the scheme, host and port of the SSO URL.
pub(crate) const SERVICES_URL: &CStr = c"services_url";
/// Setting key of "open a conversation when a contact opens one" (for bots: the invitation
/// arrives before the contact types).
pub(crate) const OPEN_ON_INVITE: &CStr = c"open_on_invite";
/// Setting key: whether file transfers try a direct connection with the contact.
pub(crate) const DIRECT_TRANSFERS: &CStr = c"direct_transfers";
/// Setting key of the largest file offered or accepted, in MiB.
pub(crate) const MAX_FILE_MB: &CStr = c"max_file_mb";
/// Default of `max_file_mb`.
pub(crate) const DEFAULT_MAX_FILE_MB: i32 = 2048;
/// Setting key of the connection method: "auto" (direct, the HTTP gateway when that fails),
/// "tcp" or "http".
pub(crate) const CONNECTION_METHOD: &CStr = c"connection_method";
/// Setting key of the HTTP gateway: `host[:port]`, or an `http://` or `https://` URL.
pub(crate) const GATEWAY: &CStr = c"gateway";
/// Default HTTP gateway.
pub(crate) const DEFAULT_GATEWAY: &str = "gateway.messenger.hotmail.com:80";
/// Setting key of the newest protocol version to offer ("auto" or a number).
pub(crate) const MAX_PROTOCOL: &CStr = c"max_protocol";

/// Default notification server: the public Escargot server.
pub(crate) const DEFAULT_SERVER: &str = "msnmsgr.escargot.chat";
/// Default notification server port.
pub(crate) const DEFAULT_PORT: i32 = 1863;
/// Default Passport 1.4 nexus.
pub(crate) const DEFAULT_NEXUS_URL: &str = "https://m1.escargot.chat/nexus-mock";
/// Default RST endpoint.
pub(crate) const DEFAULT_SSO_URL: &str = "https://m1.escargot.chat/RST.srf";

/// The choices of `max_protocol`: (label, value).
const PROTOCOL_CHOICES: [(&str, &str); 5] = [
    ("Automatic (newest: MSNP18)", "auto"),
    ("MSNP18", "18"),
    ("MSNP15", "15"),
    ("MSNP12", "12"),
    ("MSNP8", "8"),
];

/// The choices of `connection_method`: (label, value); the first is the default.
const CONNECTION_CHOICES: [(&str, &str); 3] = [
    ("Automatic (direct, else HTTP gateway)", "auto"),
    ("Direct TCP only", "tcp"),
    ("HTTP gateway only", "http"),
];

/// Builds the `protocol_options` list shown in the account dialog's Advanced tab.
pub(crate) fn protocol_options() -> *mut GList {
    let mut list: *mut GList = std::ptr::null_mut();
    let mut push = |option: *mut ffi::PurpleAccountOption| {
        // SAFETY: appending a non-owned pointer to a GList we own; libpurple takes the list.
        list = unsafe { g_list_append(list, option.cast()) };
    };
    // SAFETY: (all calls below) the text and key strings are valid NUL-terminated strings that
    // libpurple copies; the returned options are owned by the list.
    unsafe {
        push(ffi::purple_account_option_string_new(
            c"Notification server".as_ptr(),
            SERVER.as_ptr(),
            cstr::to_cstring(DEFAULT_SERVER).as_ptr(),
        ));
        push(ffi::purple_account_option_int_new(
            c"Port".as_ptr(),
            PORT.as_ptr(),
            DEFAULT_PORT,
        ));
        push(ffi::purple_account_option_string_new(
            c"Passport 1.4 nexus URL (MSNP8-12)".as_ptr(),
            NEXUS_URL.as_ptr(),
            cstr::to_cstring(DEFAULT_NEXUS_URL).as_ptr(),
        ));
        push(ffi::purple_account_option_string_new(
            c"SSO (RST) URL (MSNP15-18)".as_ptr(),
            SSO_URL.as_ptr(),
            cstr::to_cstring(DEFAULT_SSO_URL).as_ptr(),
        ));
        push(ffi::purple_account_option_string_new(
            c"Contact list services URL (MSNP13-18; empty: the SSO host)".as_ptr(),
            SERVICES_URL.as_ptr(),
            c"".as_ptr(),
        ));
        push(ffi::purple_account_option_list_new(
            c"Newest protocol version".as_ptr(),
            MAX_PROTOCOL.as_ptr(),
            choices(&PROTOCOL_CHOICES),
        ));
        push(ffi::purple_account_option_list_new(
            c"Connection method".as_ptr(),
            CONNECTION_METHOD.as_ptr(),
            choices(&CONNECTION_CHOICES),
        ));
        push(ffi::purple_account_option_string_new(
            c"HTTP gateway (host:port, or an https:// URL)".as_ptr(),
            GATEWAY.as_ptr(),
            cstr::to_cstring(DEFAULT_GATEWAY).as_ptr(),
        ));
        push(ffi::purple_account_option_bool_new(
            c"Open a conversation when a contact opens one (bots)".as_ptr(),
            OPEN_ON_INVITE.as_ptr(),
            0,
        ));
        push(ffi::purple_account_option_int_new(
            c"Largest file to send or receive (MiB)".as_ptr(),
            MAX_FILE_MB.as_ptr(),
            DEFAULT_MAX_FILE_MB,
        ));
        push(ffi::purple_account_option_bool_new(
            c"Use direct connections for file transfers".as_ptr(),
            DIRECT_TRANSFERS.as_ptr(),
            1,
        ));
    }
    list
}

/// A list option's choices as a GList of PurpleKeyValuePair, as libpurple expects.
fn choices(pairs: &[(&str, &str)]) -> *mut GList {
    let mut list: *mut GList = std::ptr::null_mut();
    for &(label, value) in pairs {
        // SAFETY: a zeroed, g_malloc'd PurpleKeyValuePair filled with g_strdup'd strings is what
        // libpurple's list options own and free.
        unsafe {
            let pair = g_malloc0(std::mem::size_of::<ffi::PurpleKeyValuePair>())
                as *mut ffi::PurpleKeyValuePair;
            (*pair).key = g_strdup(cstr::to_cstring(label).as_ptr());
            (*pair).value = g_strdup(cstr::to_cstring(value).as_ptr()).cast();
            list = g_list_append(list, pair.cast());
        }
    }
    list
}

/// `get_account_text_table`: labels the username field "E-mail address".
pub(crate) unsafe extern "C" fn text_table(_account: *mut ffi::PurpleAccount) -> *mut GHashTable {
    super::guard::entry(std::ptr::null_mut(), || {
        // SAFETY: a string-keyed table whose values are g_strdup'd and freed by the table; the
        // key is a static string, never freed.
        unsafe {
            let table =
                g_hash_table_new_full(Some(g_str_hash), Some(g_str_equal), None, Some(g_free));
            g_hash_table_insert(
                table,
                c"login_label".as_ptr() as *mut _,
                g_strdup(c"E-mail address...".as_ptr()).cast(),
            );
            table
        }
    })
}

/// Frees the list made by [`protocol_options`], with the choice lists of its list options.
///
/// # Safety
/// `list` must be a list returned by [`protocol_options`] that libpurple no longer uses.
pub(crate) unsafe fn free_protocol_options(list: *mut GList) {
    let mut node = list;
    while !node.is_null() {
        // SAFETY: every node holds a PurpleAccountOption we created; list options own a GList
        // of PurpleKeyValuePair whose strings we g_strdup'd.
        unsafe {
            let option = (*node).data as *mut ffi::PurpleAccountOption;
            if ffi::purple_account_option_get_type(option) == ffi::PURPLE_PREF_STRING_LIST {
                let mut choice = ffi::purple_account_option_get_list(option);
                while !choice.is_null() {
                    let pair = (*choice).data as *mut ffi::PurpleKeyValuePair;
                    g_free((*pair).key.cast());
                    g_free((*pair).value);
                    choice = (*choice).next;
                }
            }
            ffi::purple_account_option_destroy(option);
            node = (*node).next;
        }
    }
    // SAFETY: the nodes' data is freed above; the list itself is ours.
    unsafe { glib_sys::g_list_free(list) };
}
