//! `cargo xtask setup`: install what the tests need and a fresh machine lacks. Each step checks
//! first and says what it installs; `cargo xtask test` runs it before the tests.
//!
//! - rustup components (rustfmt, clippy) and targets for both architectures (musl, and
//!   aarch64 glibc for the glibc checks);
//! - Debian packages: `qemu-user` (runs arm64 bootstraps), `skopeo` (reads OCI images),
//!   `gcc-aarch64-linux-gnu` and `libc6-dev-arm64-cross` (link the aarch64 glibc test build);
//!   with apt-get as root, else the error names the packages to install;
//! - `.venv/` with the pinned test tools of `xtask/test-requirements.txt` (awscli, moto);
//! - `.venv-sam/` with the SAM CLI of `xtask/sam-requirements.txt` (for the template tests).
//! - for the container tests: `podman`, `runc` and `debootstrap` (Debian packages), cross 0.2.5
//!   and a local toolchain image for it ([`crate::containers`]).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;
use sha2::{Digest, Sha256};

use crate::repository::Venv;
use lambda_kit::command;

#[derive(Debug, Clone, Args)]
pub struct SetupArgs {}

/// Rust targets the tests build; Windows and macOS for `cargo check` of the whole workspace and
/// the xtask.exe that tests/windows.rs runs under Wine.
pub const RUST_TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "aarch64-unknown-linux-gnu",
    "x86_64-pc-windows-gnu",
    "aarch64-apple-darwin",
];

/// (program the tests run, Debian package that provides it): the POSIX shells the printed
/// commands are run by, and the MinGW compiler that links the Windows build and its fixtures.
pub const DEBIAN_PACKAGES: [(&str, &str); 9] = [
    ("qemu-aarch64", "qemu-user"),
    ("skopeo", "skopeo"),
    ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    ("dash", "dash"),
    ("zsh", "zsh"),
    ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"),
    // The container tests (crate::containers): cross's engine and the toolchain image.
    ("podman", "podman"),
    ("runc", "runc"),
    ("debootstrap", "debootstrap"),
];

/// (file the tests need, Debian package that provides it): the aarch64 C library to link the
/// glibc test build against, only a recommendation of the cross compiler's package; Wine's
/// 64-bit loader, which Debian keeps off PATH.
pub const DEBIAN_FILES: [(&str, &str); 2] = [
    ("/usr/aarch64-linux-gnu/lib/crt1.o", "libc6-dev-arm64-cross"),
    (WINE64, "wine64"),
];

/// Wine's loader for 64-bit Windows programs, as Debian's `wine64` installs it.
pub const WINE64: &str = "/usr/lib/wine/wine64";

pub fn run(_args: &SetupArgs) -> Result<()> {
    rust_components()?;
    rust_targets()?;
    debian_packages()?;
    // The two virtualenvs are independent, and pip is mostly one core and the network:
    // installed side by side, a fresh machine's setup takes about a minute less.
    std::thread::scope(|scope| {
        let sam = scope.spawn(|| python_tools(Venv::Sam, "sam"));
        let test = python_tools(Venv::Test, "aws");
        let sam = sam
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match (test, sam) {
            (Err(test), Err(sam)) => Err(test.context(format!("{sam:#}"))),
            (test, sam) => test.and(sam),
        }
    })?;
    crate::containers::setup()?;
    eprintln!("setup: everything the tests need is installed");
    Ok(())
}

/// rustfmt and clippy, which `cargo xtask test` runs; rustup's minimal profile has neither.
fn rust_components() -> Result<()> {
    let output = command::output(
        Command::new("rustup").args(["component", "list", "--installed"]),
        "listing installed rustup components",
    )
    .context("the tests need rustup (https://rustup.rs)")?;
    let installed = String::from_utf8_lossy(&output.stdout).into_owned();
    let missing: Vec<&str> = ["rustfmt", "clippy"]
        .into_iter()
        .filter(|c| {
            !installed
                .lines()
                .any(|line| line.starts_with(&format!("{c}-")))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("setup: adding rustup components {}", missing.join(", "));
    Ok(command::run(
        Command::new("rustup")
            .args(["component", "add"])
            .args(&missing),
        "adding rustup components",
    )?)
}

fn rust_targets() -> Result<()> {
    let output = command::output(
        Command::new("rustup").args(["target", "list", "--installed"]),
        "listing installed rustup targets",
    )
    .context("the tests need rustup (https://rustup.rs) to add the Linux targets")?;
    let installed = String::from_utf8_lossy(&output.stdout).into_owned();
    let missing: Vec<&str> = RUST_TARGETS
        .into_iter()
        .filter(|t| !installed.lines().any(|line| line.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("setup: adding Rust targets {}", missing.join(", "));
    Ok(command::run(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
        "adding Rust targets",
    )?)
}

fn debian_packages() -> Result<()> {
    if !cfg!(target_os = "linux") {
        // The end-to-end tests run Linux bootstraps (and Wine), so they need Linux; the unit
        // tests and `cargo check` run anywhere. Say what this platform would use, install nothing.
        eprintln!("setup: {}", other_host_packages(std::env::consts::OS));
        return Ok(());
    }
    let mut missing: Vec<&str> = DEBIAN_PACKAGES
        .into_iter()
        .filter(|(program, _)| which::which(program).is_err())
        .map(|(_, package)| package)
        .collect();
    missing.extend(
        DEBIAN_FILES
            .into_iter()
            .filter(|(file, _)| !Path::new(file).exists())
            .map(|(_, package)| package),
    );
    if missing.is_empty() {
        return Ok(());
    }
    let can_install = is_root() && which::which("apt-get").is_ok();
    if !can_install {
        bail!(
            "the tests need {}: install them (Debian/Ubuntu: sudo apt-get install -y {}) and run again",
            missing.join(", "),
            missing.join(" ")
        );
    }
    eprintln!("setup: installing Debian packages {}", missing.join(", "));
    command::run(
        Command::new("apt-get").args(["update", "-q"]),
        "updating the package lists",
    )?;
    Ok(command::run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "installing Debian packages",
    )?)
}

/// What the tools are called on macOS and Windows, for the message of a setup there.
pub fn other_host_packages(os: &str) -> String {
    let tail = "The end-to-end tests (emulator, qemu, Wine, the shells) need Linux: run \
                `make test` in a Linux VM or container (on Windows: WSL 2). package, deploy \
                and image work on this host.";
    match os {
        "macos" => format!(
            "on macOS the tools come from Homebrew: brew install skopeo qemu zsh \
             mingw-w64 (qemu-aarch64 as a user-mode emulator exists only on Linux). {tail}"
        ),
        "windows" => format!(
            "on Windows: winget install --id Python.Python.3.12 (or choco install python), \
             and the AWS CLI (winget install --id Amazon.AWSCLI, or choco install awscli). \
             {tail}"
        ),
        other => format!("setup installs Debian packages, which {other} has not. {tail}"),
    }
}

fn is_root() -> bool {
    command::output(Command::new("id").arg("-u"), "asking for the user id")
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Creates the virtualenv and installs its pinned requirements, again whenever the
/// requirements file changes (a stamp inside the venv records the file's hash) or `program` is
/// missing.
fn python_tools(which_venv: Venv, program: &str) -> Result<()> {
    let requirements = which_venv.requirements();
    let bin_dir = which_venv.bin_dir();
    let wanted = hex_sha256(
        &std::fs::read(&requirements)
            .with_context(|| format!("reading {}", requirements.display()))?,
    );
    let venv = which_venv.dir();
    let stamp = venv.join("requirements.sha256");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == wanted)
        && bin_dir
            .join(if cfg!(windows) {
                format!("{program}.exe")
            } else {
                program.to_string()
            })
            .exists()
    {
        return Ok(());
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| which::which(p).is_ok())
        .context("the tests need Python 3 (python3) for the AWS CLI and moto")?;
    let pip = bin_dir.join(if cfg!(windows) { "pip.exe" } else { "pip" });
    if venv.exists() && !pip.exists() {
        // A venv without pip: half-made (`python3 -m venv` failed for want of ensurepip) or
        // made without it. It may be the user's own, so it is mended, not removed.
        let venv_python = bin_dir.join(if cfg!(windows) {
            "python.exe"
        } else {
            "python"
        });
        command::run(
            Command::new(&venv_python).args(["-m", "ensurepip", "--upgrade"]),
            &format!(
                "{} has no pip; adding it (if this fails, remove {} and run again)",
                venv.display(),
                venv.display()
            ),
        )?;
    }
    if !venv.exists() {
        eprintln!("setup: creating {}", venv.display());
        command::run(
            Command::new(python).arg("-m").arg("venv").arg(&venv),
            "creating a test virtualenv (Debian/Ubuntu: apt-get install python3-venv)",
        )?;
    }
    eprintln!(
        "setup: installing the pinned test tools of {} into {}",
        requirements.display(),
        venv.display()
    );
    command::run(
        Command::new(&pip)
            // --no-compile: Python compiles what it imports on first use; compiling all of
            // botocore and the SAM CLI ahead of time costs about 15 s per virtualenv.
            .args([
                "install",
                "--quiet",
                "--no-compile",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
        &format!("installing the pinned tools into {}", venv.display()),
    )?;
    write_stamp(&stamp, &wanted)
}

fn write_stamp(stamp: &Path, hash: &str) -> Result<()> {
    Ok(lambda_kit::atomic_file::write(
        stamp,
        format!("{hash}\n").as_bytes(),
    )?)
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
