//! Building the Lambda binary for an architecture: with `cross` in a container whose image
//! `Cross.toml` pins, or with the local Rust toolchain.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use crate::arch::Arch;
use crate::cross_config::CrossConfig;
use crate::process;
use crate::project;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Builder {
    /// `cross` when it is installed and a container engine answers, else `cargo`.
    Auto,
    /// `cross build` in the container image Cross.toml pins for the target.
    Cross,
    /// The local toolchain (musl targets link with rust-lld).
    Cargo,
}

/// What to build: shared by every task that needs a fresh binary.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Lambda architecture.
    #[arg(long, value_enum, default_value_t = Arch::X86_64)]
    pub arch: Arch,
    /// Rust target triple; default: Cross.toml's target for the architecture with cross, the
    /// musl target with cargo.
    #[arg(long)]
    pub target: Option<String>,
    /// How to build.
    #[arg(long, value_enum, default_value_t = Builder::Auto)]
    pub builder: Builder,
}

#[derive(Debug, Clone)]
pub struct Built {
    pub binary: PathBuf,
    pub target: String,
    /// `Cross` or `Cargo`, never `Auto`.
    pub builder: Builder,
}

/// Builds the release binary of the function and returns where it is.
pub fn build(args: &BuildArgs) -> Result<Built> {
    let builder = resolve_builder(args.builder)?;
    let target = match (&args.target, builder) {
        (Some(target), _) => target.clone(),
        (None, Builder::Cross) => CrossConfig::load(&project::cross_toml())?
            .default_target(args.arch)?
            .to_string(),
        (None, _) => args.arch.local_default_target().to_string(),
    };
    check_target_matches(&target, args.arch)?;

    let mut command = match builder {
        Builder::Cross => Command::new("cross"),
        _ => {
            ensure_rustup_target(&target)?;
            let mut cargo = Command::new(process::cargo());
            cargo.env("CARGO_ENCODED_RUSTFLAGS", reproducible_rustflags()?);
            if let Some((variable, linker)) = cross_linker_for(&target)? {
                eprintln!("linking {target} with {linker} ({variable})");
                cargo.env(variable, linker);
            }
            cargo
        }
    };
    command.current_dir(project::root()).args([
        "build",
        "--release",
        "--locked",
        "--package",
        project::FUNCTION_PACKAGE,
        "--bin",
        project::FUNCTION_PACKAGE,
        "--target",
        &target,
    ]);
    process::run(
        &mut command,
        &format!("building {} for {target}", project::FUNCTION_PACKAGE),
    )?;

    let binary = target_dir()?
        .join(&target)
        .join("release")
        .join(project::FUNCTION_PACKAGE);
    if !binary.is_file() {
        bail!("the build succeeded but {} is missing", binary.display());
    }
    Ok(Built {
        binary,
        target,
        builder,
    })
}

/// The user's rustflags plus prefix maps that take the checkout's and cargo home's paths out of
/// the binary (panic locations name source files): the same sources give the same bootstrap
/// from any folder. Cargo reads `CARGO_ENCODED_RUSTFLAGS` before `RUSTFLAGS`, so the user's
/// flags are carried over from whichever is set.
fn reproducible_rustflags() -> Result<String> {
    let mut flags: Vec<String> = match std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        Ok(encoded) => encoded
            .split('\x1f')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
        Err(_) => std::env::var("RUSTFLAGS")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    };
    let cargo_home = match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => home_dir()?.join(".cargo"),
    };
    flags.extend(remap_flags(&project::root(), &cargo_home));
    Ok(flags.join("\x1f"))
}

/// `--remap-path-prefix` flags mapping the workspace to `/calculate-pi` and cargo's home to
/// `/cargo`.
pub fn remap_flags(workspace: &Path, cargo_home: &Path) -> Vec<String> {
    vec![
        format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
        format!("--remap-path-prefix={}=/calculate-pi", workspace.display()),
    ]
}

fn home_dir() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .context("neither CARGO_HOME nor HOME is set, so cargo's home is unknown")
}

/// Refuses `--arch arm64 --target x86_64-…` before anything is built.
pub fn check_target_matches(target: &str, arch: Arch) -> Result<()> {
    match Arch::of_target(target) {
        Some(found) if found == arch => Ok(()),
        Some(found) => bail!(
            "--target {target} builds for {found}, not {arch}: pass --arch {found} or a {}-… target",
            arch.rust_arch()
        ),
        None => bail!(
            "--target {target} is not a Lambda architecture: Lambda runs x86_64 and aarch64 (arm64) Linux binaries"
        ),
    }
}

fn resolve_builder(requested: Builder) -> Result<Builder> {
    let cross_installed = || {
        process::succeeds_within(
            Command::new("cross").arg("--version"),
            Duration::from_secs(20),
        )
    };
    match requested {
        Builder::Cargo => Ok(Builder::Cargo),
        Builder::Cross => {
            if !cross_installed() {
                bail!(
                    "--builder cross: `cross` is not installed; install it with \
                     `cargo install cross --locked`, or build with --builder cargo"
                );
            }
            if container_engine().is_none() {
                bail!(
                    "--builder cross: no container engine answered (`docker info`, `podman info`); \
                     start Docker or Podman, or build with --builder cargo"
                );
            }
            Ok(Builder::Cross)
        }
        Builder::Auto => {
            let (builder, why) = if !cross_installed() {
                (Builder::Cargo, "cross is not installed".to_string())
            } else if let Some(engine) = container_engine() {
                (
                    Builder::Cross,
                    format!("cross is installed and {engine} answers"),
                )
            } else {
                (
                    Builder::Cargo,
                    "cross is installed but no container engine (docker, podman) answers"
                        .to_string(),
                )
            };
            eprintln!(
                "builder: {} ({why})",
                if builder == Builder::Cross {
                    "cross"
                } else {
                    "cargo"
                }
            );
            Ok(builder)
        }
    }
}

/// The container engine cross would use, if one answers: `CROSS_CONTAINER_ENGINE` first, as
/// cross itself reads it, then docker, then podman.
fn container_engine() -> Option<String> {
    let candidates = std::env::var("CROSS_CONTAINER_ENGINE")
        .map(|e| vec![e])
        .unwrap_or_else(|_| vec!["docker".to_string(), "podman".to_string()]);
    candidates.into_iter().find(|engine| {
        process::succeeds_within(Command::new(engine).arg("info"), Duration::from_secs(20))
    })
}

/// Adds the target's standard library with rustup when it is missing, saying so.
fn ensure_rustup_target(target: &str) -> Result<()> {
    let listed = process::output(
        Command::new("rustup").args(["target", "list", "--installed"]),
        "listing installed rustup targets",
    );
    let installed = match listed {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        // Without rustup (a distribution's Rust), cargo itself reports a missing target.
        _ => return Ok(()),
    };
    if installed.lines().any(|line| line.trim() == target) {
        return Ok(());
    }
    eprintln!("the Rust standard library for {target} is missing; adding it");
    process::run(
        Command::new("rustup").args(["target", "add", target]),
        &format!("adding the {target} target"),
    )
}

/// The C linker a glibc target needs when built on another architecture, as the environment
/// variable cargo reads and its value; `None` where cargo's default works (musl targets use
/// rust-lld through .cargo/config.toml, native builds use the host's cc).
fn cross_linker_for(target: &str) -> Result<Option<(String, String)>> {
    let variable = format!(
        "CARGO_TARGET_{}_LINKER",
        target.to_uppercase().replace(['-', '.'], "_")
    );
    let native = Arch::host() == Arch::of_target(target) && cfg!(target_os = "linux");
    if !target.ends_with("-linux-gnu") || native || std::env::var_os(&variable).is_some() {
        return Ok(None);
    }
    let linker = format!(
        "{}-linux-gnu-gcc",
        Arch::of_target(target).map_or("", |a| a.rust_arch())
    );
    if which::which(&linker).is_err() {
        bail!(
            "building {target} with the local toolchain needs the C cross linker {linker} \
             (Debian/Ubuntu: apt-get install gcc-{}); or use --builder cross, or the musl target \
             the cargo builder uses by default (drop --target)",
            linker.trim_end_matches("-gcc").replace('_', "-")
        );
    }
    Ok(Some((variable, linker)))
}

/// Cargo's target directory (honours CARGO_TARGET_DIR and build.target-dir).
fn target_dir() -> Result<PathBuf> {
    let output = process::output(
        Command::new(process::cargo())
            .current_dir(project::root())
            .args(["metadata", "--format-version", "1", "--no-deps"]),
        "asking cargo for the target directory",
    )?;
    if !output.status.success() {
        bail!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading `cargo metadata` output")?;
    let dir = metadata["target_directory"]
        .as_str()
        .context("`cargo metadata` gave no target_directory")?;
    Ok(Path::new(dir).to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_and_architecture_must_agree() {
        check_target_matches("aarch64-unknown-linux-gnu", Arch::Arm64).unwrap();
        check_target_matches("x86_64-unknown-linux-musl", Arch::X86_64).unwrap();
        let err = check_target_matches("x86_64-unknown-linux-musl", Arch::Arm64)
            .unwrap_err()
            .to_string();
        assert!(err.contains("builds for x86_64, not arm64"), "{err}");
        let err = check_target_matches("riscv64gc-unknown-linux-gnu", Arch::Arm64)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a Lambda architecture"), "{err}");
    }

    #[test]
    fn musl_and_native_targets_need_no_c_linker() {
        assert_eq!(
            cross_linker_for("aarch64-unknown-linux-musl").unwrap(),
            None
        );
        assert_eq!(cross_linker_for("x86_64-unknown-linux-musl").unwrap(), None);
    }
}
