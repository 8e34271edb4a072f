//! How the kit shows a path to a user, in messages and in the commands it prints.

use std::path::Path;

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
