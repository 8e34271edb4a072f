//! Preparing the function's code: a deployment zip extracted to a task root as Lambda does, or
//! a bare bootstrap taken as it stands, with its architecture read from the ELF header and the
//! launcher that runs it on this host. Prepared once, shared by every sandbox of a
//! [`Pool`](crate::emulator::pool::Pool) (Lambda's `/var/task` is read-only and shared too).

use std::path::{Path, PathBuf};

use crate::emulator::Result;
use crate::error::Context;

use super::launcher::{launcher_for, Launcher};
use crate::arch::Arch;
use crate::artifact::elf;
use crate::artifact::lambda_zip;
use crate::atomic_file;

/// Where the function's code comes from.
#[derive(Debug, Clone)]
pub enum FunctionCode {
    /// A Lambda deployment package: its `bootstrap` is extracted with its zip mode.
    Zip(PathBuf),
    /// A `bootstrap` executable as it stands (for example from an OCI image layer); its
    /// directory is the task root.
    Bootstrap(PathBuf),
}

/// The code, ready to run: the bootstrap, its task root and how to start it.
#[derive(Debug)]
pub struct PreparedCode {
    pub(super) bootstrap: PathBuf,
    pub(super) task_root: PathBuf,
    pub(super) arch: Arch,
    pub(super) launcher: Launcher,
    /// Holds the extracted zip while the code is in use.
    _scratch: Option<tempfile::TempDir>,
}

impl PreparedCode {
    /// Extracts a zip to a temporary task root (or takes a bootstrap as it is), checks the ELF
    /// architecture and finds `qemu-aarch64` when it is needed.
    pub fn prepare(code: &FunctionCode) -> Result<PreparedCode> {
        let (bootstrap, task_root, scratch) = match code {
            FunctionCode::Zip(zip) => {
                let scratch = tempfile::Builder::new()
                    .prefix("lambda-task-")
                    .tempdir()
                    .context("creating the task root's temporary directory")?;
                let task_root = scratch.path().join("task");
                let bootstrap = extract_zip(zip, &task_root)?;
                (bootstrap, task_root, Some(scratch))
            }
            FunctionCode::Bootstrap(path) => {
                let bootstrap = std::path::absolute(path)
                    .with_context(|| format!("resolving {}", path.display()))?;
                let task_root = bootstrap
                    .parent()
                    .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
                (bootstrap, task_root, None)
            }
        };
        let bytes = std::fs::read(&bootstrap)
            .with_context(|| format!("reading {}", bootstrap.display()))?;
        let (arch, dynamic) = bootstrap_arch(&bytes)
            .with_context(|| format!("reading the bootstrap {}", bootstrap.display()))?;
        let launcher = launcher_for(arch, dynamic)?;
        Ok(PreparedCode {
            bootstrap,
            task_root,
            arch,
            launcher,
            _scratch: scratch,
        })
    }

    pub fn bootstrap(&self) -> &Path {
        &self.bootstrap
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The emulator the bootstrap runs under, if it does not run natively.
    pub fn emulated_by(&self) -> Option<&str> {
        self.launcher.emulated_by()
    }
}

/// Extracts a deployment zip into `task_root` as Lambda does, each file with its zip mode
/// (`bootstrap` 0755 when the zip records none), and returns the bootstrap's path.
fn extract_zip(zip: &Path, task_root: &Path) -> Result<PathBuf> {
    let bytes = std::fs::read(zip).with_context(|| format!("reading {}", zip.display()))?;
    let entries =
        lambda_zip::read_entries(&bytes).with_context(|| format!("reading {}", zip.display()))?;
    let (bootstrap, others) = lambda_zip::split_bootstrap(entries)
        .with_context(|| format!("reading {}", zip.display()))?;
    for entry in others.iter().chain([&bootstrap]) {
        // Directory entries (`name/`) are made by the files below them.
        if entry.name.ends_with('/') {
            continue;
        }
        let path = task_root.join(&entry.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let default = if entry.name == lambda_zip::BOOTSTRAP {
            lambda_zip::BOOTSTRAP_MODE
        } else {
            0o644
        };
        let mode = entry.unix_mode.unwrap_or(default) & 0o7777;
        atomic_file::write_with_mode(&path, &entry.contents, mode)?;
    }
    Ok(task_root.join(lambda_zip::BOOTSTRAP))
}

/// The architecture of a bootstrap and whether it is dynamically linked, from one reading of
/// its ELF header; a script (`#!`) runs on the host's.
pub(super) fn bootstrap_arch(bytes: &[u8]) -> Result<(Arch, bool)> {
    if bytes.starts_with(b"#!") {
        return Ok((
            Arch::host().context("this host is not x86_64 or arm64")?,
            false,
        ));
    }
    let info = elf::inspect(bytes)?;
    let arch = info.arch.with_context(|| {
        format!(
            "the bootstrap is for ELF machine {}, not x86_64 or arm64",
            info.machine
        )
    })?;
    Ok((arch, !info.is_static()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstraps_must_be_lambda_binaries_or_scripts() {
        assert_eq!(
            bootstrap_arch(b"#!/bin/sh\necho hi\n").ok().map(|(a, _)| a),
            Arch::host()
        );
        assert!(bootstrap_arch(b"MZ not elf").is_err());
        let own = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(bootstrap_arch(&own).ok().map(|(a, _)| a), Arch::host());
    }
}
