//! The sandbox's `/opt`: its layers unpacked in order into a directory of its own, and how the
//! function and its extensions see it.
//!
//! As root on Linux (where unprivileged mount namespaces are not needed), every process of the
//! sandbox starts in a private mount namespace in which that directory is bind-mounted on
//! `/opt`, so the function reads `/opt/...` as on Lambda, and the host's `/opt` is untouched.
//! Where that cannot be done (not root, no `/opt` on the host), the directory stands for `/opt`
//! without being mounted there: extensions still start from it, but code that opens `/opt/…`
//! by its absolute path sees the host's (docs/emulator.md says so).

use std::path::{Path, PathBuf};

use super::code::bootstrap_arch;
use super::launcher::{launcher_for, Launcher};
use crate::artifact::layer::{self, EXTENSIONS_DIR};
use crate::atomic_file;
use crate::emulator::Result;
use crate::error::Context;

/// Where the sandbox's `/opt` is, and whether processes see it at `/opt`.
#[derive(Debug, Clone)]
pub(super) struct Opt {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(super) dir: PathBuf,
    /// Bind-mounted on `/opt` in a private mount namespace of each process.
    pub(super) mounted: bool,
}

/// An executable of `/opt/extensions`, started before the function.
#[derive(Debug, Clone)]
pub(super) struct ExternalExtension {
    /// Its file name: the name it registers with.
    pub(super) name: String,
    /// Its path on the host.
    pub(super) path: PathBuf,
    /// How it starts on this host (natively, or under qemu for another architecture).
    pub(super) launcher: Launcher,
}

impl Opt {
    /// Unpacks `layers` in order into `dir` (a later layer's file replaces an earlier one's,
    /// as on Lambda) and lists the extensions they hold, by name.
    pub(super) fn unpack(layers: &[PathBuf], dir: &Path) -> Result<(Opt, Vec<ExternalExtension>)> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for zip in layers {
            let files = layer::read_layer(zip)
                .with_context(|| format!("reading the layer {}", zip.display()))?;
            for file in files {
                let path = dir.join(&file.name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                atomic_file::write_with_mode(&path, &file.contents, file.mode)?;
            }
        }
        let mut extensions = Vec::new();
        let extensions_dir = dir.join(EXTENSIONS_DIR);
        if let Ok(entries) = std::fs::read_dir(&extensions_dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let executable = std::fs::metadata(&path).is_ok_and(|m| is_executable(&m));
                if executable {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    let (arch, dynamic) = bootstrap_arch(&bytes)
                        .with_context(|| format!("reading the extension {}", path.display()))?;
                    extensions.push(ExternalExtension {
                        name: entry.file_name().to_string_lossy().into_owned(),
                        path,
                        launcher: launcher_for(arch, dynamic)?,
                    });
                }
            }
        }
        extensions.sort_by(|a, b| a.name.cmp(&b.name));
        let mounted = !layers.is_empty() && private_opt_works();
        Ok((
            Opt {
                dir: dir.to_path_buf(),
                mounted,
            },
            extensions,
        ))
    }

    /// The path a process is started with for `extension`: under `/opt` when it is mounted.
    pub(super) fn path_of(&self, extension: &ExternalExtension) -> PathBuf {
        if self.mounted {
            Path::new("/opt").join(EXTENSIONS_DIR).join(&extension.name)
        } else {
            extension.path.clone()
        }
    }

    /// Makes `command` start in a private mount namespace with this directory on `/opt`.
    pub(super) fn apply(&self, command: &mut tokio::process::Command) -> Result<()> {
        #[cfg(target_os = "linux")]
        if self.mounted {
            let bind = linux::opt_binder(&self.dir)?;
            // SAFETY: see `opt_binder`.
            unsafe {
                command.pre_exec(bind);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = command;
        Ok(())
    }
}

/// A file Lambda would start from `/opt/extensions`: executable by its mode (any file where
/// there are no modes; the emulator itself runs only on Linux).
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}

/// Whether a process can be started with a directory of ours on `/opt` (tried once; only
/// Linux has mount namespaces).
pub(super) fn private_opt_works() -> bool {
    #[cfg(target_os = "linux")]
    {
        linux::private_opt_works()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::sync::OnceLock;

    use crate::emulator::Result;
    use crate::error::Context;

    /// Whether a process can be started with a directory of ours on `/opt` (tried once).
    pub(super) fn private_opt_works() -> bool {
        static WORKS: OnceLock<bool> = OnceLock::new();
        *WORKS.get_or_init(|| {
            let Ok(probe) = tempfile::Builder::new()
                .prefix("lambda-opt-probe-")
                .tempdir()
            else {
                return false;
            };
            if std::fs::create_dir(probe.path().join("probe-marker")).is_err() {
                return false;
            }
            let Ok(bind) = opt_binder(probe.path()) else {
                return false;
            };
            let mut command = std::process::Command::new("/bin/sh");
            command
                .args(["-c", "test -d /opt/probe-marker"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            // SAFETY: see `opt_binder`.
            unsafe {
                use std::os::unix::process::CommandExt;
                command.pre_exec(bind);
            }
            command.status().is_ok_and(|s| s.success())
        })
    }

    /// What a child runs between fork and exec to see `dir` on `/opt`: only system calls (unshare,
    /// mount) on memory allocated before the fork, which is what makes `pre_exec` sound.
    pub(super) fn opt_binder(
        dir: &Path,
    ) -> Result<impl FnMut() -> std::io::Result<()> + Send + Sync + 'static> {
        let source = CString::new(dir.as_os_str().as_bytes())
            .with_context(|| format!("{} cannot be mounted", dir.display()))?;
        // SAFETY (of the calls): the pointers are to NUL-terminated strings that outlive them.
        Ok(move || unsafe {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let root = c"/";
            let opt = c"/opt";
            if libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if libc::mount(
                source.as_ptr(),
                opt.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}
