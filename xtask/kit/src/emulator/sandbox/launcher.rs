//! Choosing how the bootstrap starts on this host: natively, or under a user-mode emulator
//! (`qemu-aarch64` for an arm64 bootstrap on x86_64, with the target's C library for a
//! dynamically linked one).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::emulator::Result;
use crate::error::bail;
use tokio::process::{Child, Command};

use crate::arch::Arch;
use crate::tools;

/// How the bootstrap is started.
#[derive(Debug, Clone)]
pub(super) enum Launcher {
    Native,
    /// Under a user-mode emulator (qemu-aarch64 on an x86_64 host).
    Emulated {
        program: PathBuf,
        name: String,
        /// For a dynamically linked bootstrap: where the emulator finds the target's dynamic
        /// loader and C library (`qemu -L`).
        sysroot: Option<PathBuf>,
    },
}

impl Launcher {
    pub(super) fn emulated_by(&self) -> Option<&str> {
        match self {
            Launcher::Native => None,
            Launcher::Emulated { name, .. } => Some(name),
        }
    }

    /// The command that starts `bootstrap`.
    pub(super) fn command(&self, bootstrap: &Path) -> Command {
        match self {
            Launcher::Native => Command::new(bootstrap),
            Launcher::Emulated {
                program, sysroot, ..
            } => {
                let mut command = Command::new(program);
                if let Some(sysroot) = sysroot {
                    command.arg("-L").arg(sysroot);
                }
                command.arg(bootstrap);
                command
            }
        }
    }
}

pub(super) fn launcher_for(arch: Arch, dynamic: bool) -> Result<Launcher> {
    if Arch::host() == Some(arch) {
        return Ok(Launcher::Native);
    }
    let name = arch.qemu_binary();
    let program = tools::program(
        name,
        &format!(
            "an {arch} bootstrap needs it on this host; install QEMU's user-mode emulators \
             (Debian/Ubuntu: sudo apt-get install qemu-user; Fedora: sudo dnf install qemu-user)"
        ),
    )?;
    let sysroot =
        if dynamic {
            // Debian's and Ubuntu's cross C libraries (libc6-arm64-cross) live here.
            let root = PathBuf::from(format!("/usr/{}-linux-gnu", arch.rust_arch()));
            if !root.join("lib").is_dir() {
                bail!(
                "the {arch} bootstrap is dynamically linked, so {name} needs the {arch} C library \
                 and loader: install them (Debian/Ubuntu: sudo apt-get install libc6-{}-cross), \
                 or run a static musl build (cargo xtask package --arch {arch} --target {})",
                if arch == Arch::Arm64 { "arm64" } else { "amd64" },
                arch.local_default_target()
            );
            }
            Some(root)
        } else {
            None
        };
    Ok(Launcher::Emulated {
        program,
        name: name.to_string(),
        sysroot,
    })
}

/// Starts `command`, trying again for a short, bounded while when the executable is "busy"
/// (ETXTBSY). A just-written bootstrap can be: another thread of this program may fork while
/// the file is still open for writing, and the child holds that descriptor until it execs.
pub(super) async fn spawn_retrying_busy(command: &mut Command) -> std::io::Result<Child> {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(error) if error.raw_os_error() == Some(libc::ETXTBSY) && tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            result => return result,
        }
    }
}
