//! The plugin under test: its protocol id and account options, asked of libpurple itself, so
//! any MSN plugin for libpurple 2.x can be measured with one option template.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::stub::{Fallible, Stub};

/// A protocol plugin found in its file.
pub struct Plugin {
    pub path: PathBuf,
    /// Row label: the file name without `lib` and `.so`.
    pub label: String,
    pub protocol_id: String,
    /// Keys of the plugin's account options.
    pub options: HashSet<String>,
    /// libpurple's version.
    pub libpurple: String,
}

impl Plugin {
    /// Loads `path` in purple-stub and reads its protocol id and option keys.
    pub fn probe(stub: &Path, path: &Path) -> Fallible<Plugin> {
        let file = path.file_name().ok_or("no file name")?.to_owned();
        let mut s = Stub::start(stub, &[], path)?;
        let loaded = s
            .plugins
            .iter()
            .find(|p| {
                p["type"] == "protocol"
                    && p["path"]
                        .as_str()
                        .is_some_and(|p| Path::new(p).file_name() == Some(&file))
            })
            .ok_or_else(|| {
                format!(
                    "{} is not a protocol plugin libpurple loads",
                    path.display()
                )
            })?;
        let protocol_id = loaded["id"].as_str().unwrap_or_default().to_owned();
        s.send(&format!("protocol-info {protocol_id}"));
        let info = s.wait(Duration::from_secs(30), |e| e["event"] == "protocol-info")?;
        let options = info["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["key"].as_str().map(str::to_owned))
            .collect();
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        Ok(Plugin {
            path: path.to_owned(),
            label: stem.strip_prefix("lib").unwrap_or(&stem).to_owned(),
            protocol_id,
            options,
            libpurple: s.libpurple.clone(),
        })
    }

    /// The `key=value` words of `template` whose key the plugin has (others are left out).
    pub fn applicable(&self, template: &str) -> (String, Vec<String>) {
        let (mut kept, mut dropped) = (Vec::new(), Vec::new());
        for word in template.split_whitespace() {
            let key = word.split('=').next().unwrap_or(word);
            match self.options.contains(key) {
                true => kept.push(word),
                false => dropped.push(key.to_owned()),
            }
        }
        (kept.join(" "), dropped)
    }
}
