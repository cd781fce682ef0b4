//! Registration: `purple_init_plugin`, the plugin info and the protocol vtable.

use std::ffi::c_char;
use std::ptr;

use super::{
    account, actions, blist, carried, chat, connection, conversation, cstr, debug, farewell, ffi,
    guard::entry, icons, presence, privacy, status, xfer,
};

/// The protocol id: distinct from `prpl-msn` (Pidgin's old plugin, retro-prpl) and msn-pecan, so
/// all of them can be installed side by side.
pub(crate) const PROTOCOL_ID: &str = "prpl-msnp";

/// The lowest libpurple 2.x minor version whose API this plugin uses (2.11 added
/// `purple_xfer_read_file` and `purple_xfer_write_file`; `make check` compares this with the
/// imports).
const MIN_PURPLE_MINOR: u32 = 11;

/// Entry point libpurple looks up in every plugin it loads; the only symbol this library exports.
///
/// # Safety
/// Called by libpurple with a valid `PurplePlugin` it owns.
#[no_mangle]
pub unsafe extern "C" fn purple_init_plugin(plugin: *mut ffi::PurplePlugin) -> ffi::gboolean {
    entry(0, || {
        if plugin.is_null() {
            return 0;
        }
        debug::install();
        farewell::watch_quitting();
        let info = Box::into_raw(Box::new(plugin_info()));
        // SAFETY: `plugin` is a live PurplePlugin owned by libpurple; `info` stays valid until
        // `destroy`. purple_plugin_register only reads the info we just set.
        unsafe {
            (*plugin).info = info;
            ffi::purple_plugin_register(plugin)
        }
    })
}

/// Builds the PurplePluginInfo; strings and the vtable are leaked (they live as long as the
/// process, as libpurple expects of plugin metadata).
fn plugin_info() -> ffi::PurplePluginInfo {
    // SAFETY: PurplePluginInfo is plain C data (integers, pointers, nullable function pointers),
    // for which all-zero bytes are a valid "unset" value.
    let mut info: ffi::PurplePluginInfo = unsafe { std::mem::zeroed() };
    // Every pointer below is released in `destroy`.
    info.magic = 5; // PURPLE_PLUGIN_MAGIC
    info.major_version = 2;
    info.minor_version = MIN_PURPLE_MINOR;
    info.type_ = ffi::PURPLE_PLUGIN_PROTOCOL;
    info.priority = 0;
    info.id = cstr::leak(PROTOCOL_ID);
    info.name = cstr::leak("MSN (MSNP)");
    info.version = cstr::leak(env!("CARGO_PKG_VERSION"));
    info.summary = cstr::leak("MSN Messenger protocol plugin (MSNP8-18, Escargot)");
    info.description = cstr::leak(
        "Signs in to MSN Messenger revival servers such as Escargot with MSNP8 to MSNP18. \
         Every server and login endpoint is an account setting.",
    );
    info.author = cstr::leak("purple-msnp developers");
    info.homepage = cstr::leak("https://github.com/purple-msnp/purple-msnp");
    info.extra_info = Box::into_raw(Box::new(protocol_info())).cast();
    info.destroy = Some(destroy);
    info.actions = Some(actions::actions);
    info
}

/// `destroy`: libpurple is done with the plugin (it unloads the module next); frees everything
/// `purple_init_plugin` allocated, so nothing is left unreachable once the code is gone.
unsafe extern "C" fn destroy(plugin: *mut ffi::PurplePlugin) {
    entry((), || {
        // SAFETY: libpurple passes the plugin it is destroying; `info` is ours (set in init).
        let info = unsafe { std::mem::replace(&mut (*plugin).info, ptr::null_mut()) };
        if info.is_null() {
            return;
        }
        // SAFETY: info, its strings and the protocol info were made by Box::into_raw /
        // CString::into_raw in plugin_info and are released here once, after libpurple's last use.
        unsafe {
            let info = Box::from_raw(info);
            for text in [
                info.id,
                info.name,
                info.version,
                info.summary,
                info.description,
                info.author,
                info.homepage,
            ] {
                drop(std::ffi::CString::from_raw(text));
            }
            let prpl = Box::from_raw(info.extra_info as *mut ffi::PurplePluginProtocolInfo);
            account::free_protocol_options(prpl.protocol_options);
        }
        carried::release_all();
        farewell::release_all();
        farewell::unwatch_quitting();
        debug::uninstall();
    })
}

/// The protocol vtable: every slot the plugin implements, set here and nowhere else.
fn protocol_info() -> ffi::PurplePluginProtocolInfo {
    // SAFETY: as above, all-zero is the valid "slot not implemented" value for every field.
    let mut prpl: ffi::PurplePluginProtocolInfo = unsafe { std::mem::zeroed() };
    prpl.struct_size = std::mem::size_of::<ffi::PurplePluginProtocolInfo>() as _;
    prpl.options = 0;
    prpl.protocol_options = account::protocol_options();
    prpl.icon_spec = icons::icon_spec();
    prpl.set_buddy_icon = Some(icons::set_buddy_icon);
    prpl.list_icon = Some(list_icon);
    prpl.status_types = Some(status::status_types);
    prpl.get_account_text_table = Some(account::text_table);
    prpl.login = Some(connection::login);
    prpl.close = Some(connection::close);
    prpl.add_buddy = Some(blist::add_buddy);
    prpl.add_buddy_with_invite = Some(blist::add_buddy_with_invite);
    prpl.remove_buddy = Some(blist::remove_buddy);
    prpl.group_buddy = Some(blist::group_buddy);
    prpl.rename_group = Some(blist::rename_group);
    prpl.remove_group = Some(blist::remove_group);
    prpl.alias_buddy = Some(blist::alias_buddy);
    prpl.set_status = Some(presence::set_status);
    prpl.set_idle = Some(presence::set_idle);
    prpl.status_text = Some(presence::status_text);
    prpl.tooltip_text = Some(presence::tooltip_text);
    prpl.list_emblem = Some(presence::list_emblem);
    prpl.add_permit = Some(privacy::add_permit);
    prpl.add_deny = Some(privacy::add_deny);
    prpl.rem_permit = Some(privacy::rem_permit);
    prpl.rem_deny = Some(privacy::rem_deny);
    prpl.set_permit_deny = Some(privacy::set_permit_deny);
    prpl.set_public_alias = Some(actions::set_public_alias);
    prpl.get_public_alias = Some(actions::get_public_alias);
    prpl.send_im = Some(conversation::send_im);
    prpl.send_typing = Some(conversation::send_typing);
    prpl.convo_closed = Some(conversation::convo_closed);
    prpl.send_attention = Some(conversation::send_attention);
    prpl.get_attention_types = Some(conversation::get_attention_types);
    prpl.chat_info = Some(chat::chat_info);
    prpl.join_chat = Some(chat::join_chat);
    prpl.chat_invite = Some(chat::chat_invite);
    prpl.chat_leave = Some(chat::chat_leave);
    prpl.chat_send = Some(chat::chat_send);
    prpl.blist_node_menu = Some(chat::blist_node_menu);
    prpl.can_receive_file = Some(xfer::can_receive_file);
    prpl.send_file = Some(xfer::send_file);
    prpl.new_xfer = Some(xfer::new_xfer);
    prpl
}

/// `list_icon`: Pidgin looks up `pixmaps/pidgin/protocols/*/msn.png`.
unsafe extern "C" fn list_icon(
    _account: *mut ffi::PurpleAccount,
    _buddy: *mut ffi::PurpleBuddy,
) -> *const c_char {
    entry(ptr::null(), || c"msn".as_ptr())
}
