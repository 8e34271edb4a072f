//! Where things are in this repository, whatever directory the kit is run from.

use std::path::{Path, PathBuf};

use crate::arch::Arch;

/// The Lambda function's package and binary name (the binary becomes `bootstrap`).
pub const FUNCTION_PACKAGE: &str = "calculate-pi";

/// The workspace root: the parent of `xtask/`.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives inside the workspace")
        .to_path_buf()
}

pub fn dist_dir() -> PathBuf {
    root().join("dist")
}

/// `dist/lambda-<arch>.zip`.
pub fn default_zip_path(arch: Arch) -> PathBuf {
    dist_dir().join(arch.zip_file_name())
}

pub fn cross_toml() -> PathBuf {
    root().join("Cross.toml")
}

/// `path` as a user would type it from `cwd`: relative when it is below it, with forward
/// slashes (which every shell and the AWS CLI accept, on Windows too).
pub fn shown_from(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// [`shown_from`] the current directory.
pub fn shown(path: &Path) -> String {
    match std::env::current_dir() {
        Ok(cwd) => shown_from(path, &cwd),
        Err(_) => shown_from(path, Path::new("")),
    }
}

/// The newest modification time of the function's sources (src/, Cargo.toml, Cargo.lock),
/// to warn when a zip is older than them.
pub fn newest_source_change() -> Option<std::time::SystemTime> {
    fn walk(path: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(path) {
                for entry in entries.flatten() {
                    walk(&entry.path(), newest);
                }
            }
        } else if let Ok(modified) = meta.modified() {
            *newest = (*newest).max(Some(modified));
        }
    }
    let root = root();
    let mut newest = None;
    for part in ["src", "Cargo.toml", "Cargo.lock"] {
        walk(&root.join(part), &mut newest);
    }
    newest
}
