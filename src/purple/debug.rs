//! Routes the `log` crate (used by the core) and panic messages to libpurple's debug log.

use std::ffi::CString;

use super::ffi;

/// Debug category shown in Pidgin's debug window.
const CATEGORY: &std::ffi::CStr = c"msnp";

/// Writes one line to libpurple's debug log at `level`.
pub(crate) fn write(level: ffi::PurpleDebugLevel, text: &str) {
    // Interior NULs cannot cross into C; show them instead of truncating the line.
    let line = CString::new(format!("{}\n", text.replace('\0', "\\0")))
        .unwrap_or_else(|_| CString::from(c"(unprintable log line)\n"));
    // SAFETY: both pointers are valid NUL-terminated strings for the call; the "%s" format makes
    // libpurple treat `line` as data, never as a format string.
    unsafe { ffi::purple_debug(level, CATEGORY.as_ptr(), c"%s".as_ptr(), line.as_ptr()) };
}

struct PurpleLogger;

fn purple_level(level: log::Level) -> ffi::PurpleDebugLevel {
    match level {
        log::Level::Error => ffi::PURPLE_DEBUG_ERROR,
        log::Level::Warn => ffi::PURPLE_DEBUG_WARNING,
        log::Level::Info => ffi::PURPLE_DEBUG_INFO,
        log::Level::Debug | log::Level::Trace => ffi::PURPLE_DEBUG_MISC,
    }
}

/// Whether libpurple would show a line at `level`: the same test `purple_debug` makes, done
/// first so that nobody formats lines nobody reads (a flood of ignored server lines stays cheap).
fn purple_wants(level: ffi::PurpleDebugLevel) -> bool {
    // SAFETY: plain getters; the UI ops struct, if set, lives as long as the UI.
    unsafe {
        if ffi::purple_debug_is_enabled() != 0 {
            return true;
        }
        let ops = ffi::purple_debug_get_ui_ops();
        if ops.is_null() || (*ops).print.is_none() {
            return false;
        }
        match (*ops).is_enabled {
            Some(is_enabled) => is_enabled(level, CATEGORY.as_ptr()) != 0,
            None => true,
        }
    }
}

impl log::Log for PurpleLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        purple_wants(purple_level(metadata.level()))
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = purple_level(record.level());
        if purple_wants(level) {
            write(level, &record.args().to_string());
        }
    }

    fn flush(&self) {}
}

static LOGGER: PurpleLogger = PurpleLogger;

/// Installs the logger and the panic hook. Called once from `purple_init_plugin`; a second call
/// (another plugin already set a logger) leaves the existing logger in place.
pub(crate) fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    std::panic::set_hook(Box::new(|info| {
        write(
            ffi::PURPLE_DEBUG_ERROR,
            &format!("internal error (panic): {info}"),
        );
    }));
}

/// Puts the default panic hook back (ours lives in this library, which is about to be unloaded).
pub(crate) fn uninstall() {
    drop(std::panic::take_hook());
}
