//! This repository: its root (the kit's own files, the benchmark's function), and its test
//! tools from PyPI (the AWS CLI, moto), pinned in `xtask/test-requirements.txt` and installed by
//! `cargo xtask setup` into `.venv/`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// This repository's root: the parent of `xtask/`. The kit's own files live here; the
/// workspace it builds may be another one (`--manifest-path`).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives inside the repository")
        .to_path_buf()
}

/// The virtualenv of the test tools.
pub fn venv_dir() -> PathBuf {
    repository_root().join(".venv")
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
