//! The plugin under test: the cdylib cargo built for this test run, in a plugin folder of its own.

use std::path::{Path, PathBuf};

/// The built plugin (`target/<profile>/libpurple_msnp.so`). `cargo test` builds only the rlib the
/// tests link, so the first call runs `cargo build --lib` with the same features, making the
/// plugin match the code under test.
pub fn plugin_path() -> PathBuf {
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let mut cargo = std::process::Command::new(env!("CARGO"));
        cargo
            .args(["build", "--lib", "--quiet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if cfg!(feature = "test-hooks") {
            cargo.args(["--features", "test-hooks"]);
        }
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("running cargo build");
        assert!(status.success(), "cargo build --lib failed");
    });
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let path = target.join(profile).join("libpurple_msnp.so");
    assert!(
        path.exists(),
        "{} missing: run `cargo build --lib` (make test does)",
        path.display()
    );
    path
}

/// A temporary folder holding only our plugin, removed on drop.
pub struct PluginDir {
    path: PathBuf,
}

impl PluginDir {
    /// Copies the plugin into a fresh folder.
    pub fn new() -> PluginDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "purple-msnp-plugins-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("plugin dir");
        std::fs::copy(plugin_path(), path.join("libpurple-msnp.so")).expect("copy plugin");
        PluginDir { path }
    }

    /// The folder to pass to purple-stub.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PluginDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
