//! Conversions between C strings and Rust strings at the FFI boundary.

use std::ffi::{c_char, CStr, CString};

/// Copies a borrowed C string into a `String` (lossy on invalid UTF-8). `None` for NULL.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string valid for the duration of the call.
pub(crate) unsafe fn to_string(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    Some(
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// Makes a C string, replacing interior NULs (which C cannot carry) with U+FFFD.
pub(crate) fn to_cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}

/// Hands a C string to C; release it with `CString::from_raw` (plugin metadata, freed in
/// the plugin's `destroy`).
pub(crate) fn leak(s: &str) -> *mut c_char {
    to_cstring(s).into_raw()
}
