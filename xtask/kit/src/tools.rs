//! Finding the external programs the kit runs, with an error that says how to get one that is
//! missing.

use std::path::PathBuf;

use anyhow::{bail, Result};

/// A program from PATH, or an error naming the package that provides it.
pub fn program(name: &str, how_to_install: &str) -> Result<PathBuf> {
    match which::which(name) {
        Ok(path) => Ok(path),
        Err(_) => bail!("`{name}` is not installed: {how_to_install}"),
    }
}
