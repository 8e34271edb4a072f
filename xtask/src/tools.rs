//! Finding the external programs the tasks and tests use, with an error that says how to get
//! one that is missing. Test tools from PyPI live in `.venv/` at the workspace root, made by
//! `cargo xtask setup`.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::project;

/// The workspace's virtualenv for test tools.
pub fn venv_dir() -> PathBuf {
    project::root().join(".venv")
}

/// The directory of the virtualenv's programs (`bin/`, or `Scripts/` on Windows).
pub fn venv_bin_dir() -> PathBuf {
    venv_dir().join(if cfg!(windows) { "Scripts" } else { "bin" })
}

/// A program from the test virtualenv (`aws`, `moto_server`, `python`): the pinned version,
/// never another one found on PATH.
pub fn venv_program(name: &str) -> Result<PathBuf> {
    let in_venv = venv_bin_dir().join(if cfg!(windows) {
        format!("{name}.exe")
    } else {
        name.to_string()
    });
    if in_venv.is_file() {
        return Ok(in_venv);
    }
    bail!(
        "`{name}` is missing from {}: run `cargo xtask setup` (it installs the test tools pinned in \
         xtask/test-requirements.txt)",
        venv_dir().display()
    )
}

/// A program from PATH, or an error naming the package that provides it.
pub fn program(name: &str, how_to_install: &str) -> Result<PathBuf> {
    match which::which(name) {
        Ok(path) => Ok(path),
        Err(_) => bail!("`{name}` is not installed: {how_to_install}"),
    }
}
