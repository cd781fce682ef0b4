//! Links libpurple and glib, checks the struct layouts our bindings assume against the installed
//! headers (`include/abi_check.c`), and with `--features bindgen` regenerates the bindings.

#[cfg(feature = "bindgen")]
use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=include/purple-msnp.h");
    println!("cargo:rerun-if-changed=include/abi_check.c");
    println!("cargo:rerun-if-changed=src/purple/ffi/bindings.rs");

    let purple = pkg_config::Config::new()
        .atleast_version("2.10")
        .probe("purple")
        .expect("libpurple development files not found (Debian: apt-get install libpurple-dev)");

    // Fails the build when the installed headers disagree with the layouts in the bindings.
    let mut abi = cc::Build::new();
    abi.file("include/abi_check.c")
        .warnings(true)
        .extra_warnings(true);
    for path in &purple.include_paths {
        abi.include(path);
    }
    abi.compile("msnp_abi_check");

    #[cfg(feature = "bindgen")]
    generate_bindings(&purple.include_paths);
}

/// Writes `$OUT_DIR/bindings.rs` from `include/purple-msnp.h`, restricted to libpurple's own
/// declarations; GLib types come from `glib-sys` and C types from `libc`.
#[cfg(feature = "bindgen")]
fn generate_bindings(include_paths: &[PathBuf]) {
    let mut builder = bindgen::Builder::default()
        .header("include/purple-msnp.h")
        .allowlist_file(".*/libpurple/.*\\.h")
        .allowlist_recursively(false)
        // va_list and GObject-based items are not used and have no stable Rust spelling.
        .blocklist_function(".*_vargs?(_.*)?|.*_valist|purple_marshal_.*|purple_media_.*")
        .blocklist_function("purple_status_set_active_with_attrs")
        .blocklist_type("va_list|__va_list_tag|__builtin_va_list|_?PurpleRequestUiOps")
        .blocklist_type("PurpleSignalMarshalFunc|PurpleRequestScreenshareCb")
        .blocklist_function("purple_request_(set|get)_ui_ops|purple_signal_register|purple_plugin_ipc_register|purple_request_screenshare_media")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(false)
        .layout_tests(false)
        .generate_comments(false)
        .raw_line("#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, clippy::all)]")
        .raw_line("use glib_sys::*;")
        .raw_line("use libc::{tm, FILE, size_t, ssize_t, time_t};")
        .raw_line("use std::os::raw::{c_char, c_int, c_long, c_short, c_uchar, c_uint, c_ulong, c_ushort, c_void};")
        .raw_line("pub type gchar = c_char;")
        .raw_line("pub type guchar = c_uchar;")
        .raw_line("pub type gint = c_int;")
        .raw_line("pub type guint = c_uint;")
        .raw_line("pub type gulong = c_ulong;")
        .raw_line("pub type gsize = usize;")
        .raw_line("pub type gssize = isize;")
        .raw_line("pub type gint64 = i64;")
        .raw_line("pub type guint64 = u64;")
        .raw_line("pub type guint8 = u8;")
        .raw_line("pub type guint16 = u16;")
        .raw_line("pub type guint32 = u32;")
        .raw_line("pub type GCallback = Option<unsafe extern \"C\" fn()>;");
    for path in include_paths {
        builder = builder.clang_arg(format!("-I{}", path.display()));
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR")).join("bindings.rs");
    builder
        .generate()
        .expect("bindgen failed on include/purple-msnp.h")
        .write_to_file(&out)
        .expect("writing bindings");
    println!("cargo:warning=bindings generated at {}", out.display());
}
