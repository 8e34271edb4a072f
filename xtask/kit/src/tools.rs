//! Finding the external programs the kit runs, with an error that says how to get one that is
//! missing.

use std::path::PathBuf;

/// A program the kit needs is not on PATH.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{name}` is not installed: {how_to_install}")]
pub struct NotInstalled {
    pub name: String,
    /// How to get it.
    pub how_to_install: String,
}

/// A program from PATH, or an error naming the package that provides it.
pub fn program(name: &str, how_to_install: &str) -> Result<PathBuf, NotInstalled> {
    which::which(name).map_err(|_| NotInstalled {
        name: name.to_string(),
        how_to_install: how_to_install.to_string(),
    })
}
