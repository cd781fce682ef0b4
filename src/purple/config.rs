//! Builds the core's session configuration from a PurpleAccount's settings.

use std::ffi::CStr;

use msnp::auth::sso::{guid_from_bytes, is_valid_machine_guid};
use msnp::http::Url;
use msnp::secret::Secret;
use msnp::session::{Config, ConnectionMethod};
use msnp::wire::Status;

use super::account::{
    self, DEFAULT_GATEWAY, DEFAULT_NEXUS_URL, DEFAULT_PORT, DEFAULT_SERVER, DEFAULT_SSO_URL,
};
use super::{cstr, ffi, presence, privacy};

/// Setting key (not shown in the dialog) of the account's machine GUID, made at first sign-in.
const MACHINE_GUID: &CStr = c"machine_guid";
/// Setting key (not shown in the dialog) of the ids of offline messages already shown,
/// comma-separated, newest last.
const OFFLINE_SHOWN: &CStr = c"offline_shown";
/// Most offline-message ids remembered.
const MAX_OFFLINE_SHOWN: usize = 256;

/// The largest file to offer or accept, from the account's `max_file_mb` (negative: 0).
///
/// # Safety
/// `account` must be a live PurpleAccount.
pub(crate) unsafe fn max_file_size(account: *mut ffi::PurpleAccount) -> u64 {
    // SAFETY: account is live per this function's contract.
    let mb = unsafe {
        ffi::purple_account_get_int(
            account,
            account::MAX_FILE_MB.as_ptr(),
            account::DEFAULT_MAX_FILE_MB,
        )
    };
    u64::try_from(mb).unwrap_or(0) * 1024 * 1024
}

/// Whether file transfers try direct connections (the account's `direct_transfers`, on by
/// default).
///
/// # Safety
/// `account` must be a live PurpleAccount.
pub(crate) unsafe fn direct_transfers(account: *mut ffi::PurpleAccount) -> bool {
    // SAFETY: account is live per this function's contract.
    unsafe { ffi::purple_account_get_bool(account, account::DIRECT_TRANSFERS.as_ptr(), 1) != 0 }
}

/// Reads the account's settings. Errors are texts for an INVALID_SETTINGS connection error.
///
/// # Safety
/// `account` must be a live PurpleAccount.
pub(crate) unsafe fn from_account(account: *mut ffi::PurpleAccount) -> Result<Config, String> {
    // SAFETY: account is live per this function's contract.
    let get = |key: &CStr, default: &str| unsafe { string_setting(account, key, default) };
    // SAFETY: as above.
    let username =
        unsafe { cstr::to_string(ffi::purple_account_get_username(account)) }.unwrap_or_default();
    // SAFETY: as above.
    let password =
        unsafe { cstr::to_string(ffi::purple_account_get_password(account)) }.unwrap_or_default();
    if !username.contains('@') {
        return Err(format!("\"{username}\" is not an e-mail address"));
    }
    // SAFETY: as above.
    let port =
        unsafe { ffi::purple_account_get_int(account, account::PORT.as_ptr(), DEFAULT_PORT) };
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("Invalid port {port}"))?;
    let max_version = match get(account::MAX_PROTOCOL, "auto").as_str() {
        "auto" | "" => None,
        other => Some(
            other
                .parse::<u32>()
                .map_err(|_| format!("Invalid protocol version \"{other}\""))?,
        ),
    };
    let connection = match get(account::CONNECTION_METHOD, "auto").as_str() {
        "auto" | "" => ConnectionMethod::Auto,
        "tcp" => ConnectionMethod::Tcp,
        "http" => ConnectionMethod::Http,
        other => return Err(format!("Invalid connection method \"{other}\"")),
    };
    let gateway = gateway_url(&get(account::GATEWAY, DEFAULT_GATEWAY))?;
    let mut guid = get(MACHINE_GUID, "");
    if !is_valid_machine_guid(&guid) {
        guid = guid_from_bytes(os_random()?);
        let value = cstr::to_cstring(&guid);
        // SAFETY: account is live; libpurple copies the value and saves it with the account.
        unsafe { ffi::purple_account_set_string(account, MACHINE_GUID.as_ptr(), value.as_ptr()) };
    }
    // SAFETY: as above; the active status belongs to the account.
    let (initial_status, personal_message) =
        unsafe { presence::own_status(ffi::purple_account_get_active_status(account)) }
            .unwrap_or((Status::Online, String::new()));
    Ok(Config {
        account: username,
        password: Secret::new(password),
        server: get(account::SERVER, DEFAULT_SERVER).trim().to_owned(),
        port,
        connection,
        gateway,
        nexus_url: get(account::NEXUS_URL, DEFAULT_NEXUS_URL).trim().to_owned(),
        sso_url: get(account::SSO_URL, DEFAULT_SSO_URL).trim().to_owned(),
        max_version,
        machine_guid: guid,
        initial_status,
        personal_message,
        services_url: Some(get(account::SERVICES_URL, "").trim().to_owned())
            .filter(|url| !url.is_empty()),
        // SAFETY: as above.
        privacy: unsafe { privacy::account_mode(account) },
        offline_shown: split_ids(&get(OFFLINE_SHOWN, "")),
        rng_seed: os_random()?,
    })
}

/// The gateway setting: `host[:port]` (plain HTTP, port 80 by default) or an `http://` or
/// `https://` URL without a path.
fn gateway_url(text: &str) -> Result<Url, String> {
    let text = text.trim();
    let invalid = || format!("Invalid HTTP gateway \"{text}\"");
    let url = match text.contains("://") {
        true => Url::parse(text),
        false => Url::parse(&format!("http://{text}")),
    }
    .map_err(|_| invalid())?;
    match url.path.as_str() {
        "/" => Ok(url),
        _ => Err(invalid()),
    }
}

/// The ids of a comma-separated list.
fn split_ids(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Adds `ids` to the account's offline messages already shown (the newest
/// [`MAX_OFFLINE_SHOWN`] are kept; libpurple saves them with the account).
///
/// # Safety
/// `account` must be a live PurpleAccount.
pub(crate) unsafe fn remember_offline_shown(account: *mut ffi::PurpleAccount, ids: &[String]) {
    // SAFETY: account is live per this function's contract.
    let mut known = split_ids(&unsafe { string_setting(account, OFFLINE_SHOWN, "") });
    known.extend(ids.iter().filter(|id| !id.contains(',')).cloned());
    let drop = known.len().saturating_sub(MAX_OFFLINE_SHOWN);
    let value = cstr::to_cstring(&known[drop..].join(","));
    // SAFETY: account is live; libpurple copies the value.
    unsafe { ffi::purple_account_set_string(account, OFFLINE_SHOWN.as_ptr(), value.as_ptr()) };
}

/// `N` bytes from the operating system's random source (the core itself has none).
fn os_random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("No random numbers available: {e}"))?;
    Ok(bytes)
}

/// A string setting, or `default` when unset.
///
/// # Safety
/// `account` must be a live PurpleAccount.
unsafe fn string_setting(account: *mut ffi::PurpleAccount, key: &CStr, default: &str) -> String {
    let default_c = cstr::to_cstring(default);
    // SAFETY: account is live; the returned string is owned by the account and copied at once.
    unsafe {
        cstr::to_string(ffi::purple_account_get_string(
            account,
            key.as_ptr(),
            default_c.as_ptr(),
        ))
    }
    .unwrap_or_else(|| default.to_owned())
}
