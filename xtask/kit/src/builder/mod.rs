//! Building a function's release binary for an architecture, with one of two small strategies:
//! [`cross`] in a container whose image `Cross.toml` pins, or the local toolchain ([`cargo`]).
//! Both get the same path remapping ([`remap`]).

pub mod cargo;
pub mod cross;
pub mod cross_config;
pub mod remap;
pub mod toolchain;

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::arch::Arch;
use crate::builder::cross_config::CrossConfig;
use crate::builder::toolchain::Toolchain;
use crate::command;
use crate::error::Failure;
use crate::workspace::{Function, Workspace};

/// What can stop a build, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "--builder cross: `cross` is not installed; install it with \
         `cargo install cross --version 0.2.5 --locked` (see docs/cross.md), or \
         build with --builder cargo"
    )]
    CrossNotInstalled,
    #[error(
        "--builder cross: no container engine answered (`docker info`, `podman info`); \
         start Docker or Podman, or build with --builder cargo"
    )]
    NoContainerEngine,
    /// cross failed for a reason of its container engine, told in one sentence.
    #[error("{doing}: {sentence}")]
    ContainerEngine { doing: String, sentence: String },
    #[error("--target {target} builds for {found}, not {arch}: pass --arch {found} or a {}-… target", arch.rust_arch())]
    TargetArch {
        target: String,
        found: Arch,
        arch: Arch,
    },
    #[error(
        "--target {0} is not a Lambda architecture: Lambda runs x86_64 and aarch64 (arm64) Linux binaries"
    )]
    NotLambdaTarget(String),
    #[error(
        "Cross.toml has no [target.{}-…] table, so there is no default target for {arch}; add one or pass --target",
        arch.rust_arch()
    )]
    NoCrossTarget { arch: Arch },
    #[error("Cross.toml has several {arch} targets ({}); keep one or pass --target", targets.join(", "))]
    SeveralCrossTargets { arch: Arch, targets: Vec<String> },
    #[error(
        "building {target} with the local toolchain needs the C cross linker {linker} \
         (Debian/Ubuntu: apt-get install gcc-{}); or use --builder cross, or the musl target \
         the cargo builder uses by default (drop --target)",
        linker.trim_end_matches("-gcc").replace('_', "-")
    )]
    NoCrossLinker { target: String, linker: String },
    #[error("`{rustc} {args}` failed in {}: {stderr}", dir.display())]
    Rustc {
        rustc: String,
        args: String,
        dir: PathBuf,
        stderr: String,
    },
    #[error("the build succeeded but {} is missing", .0.display())]
    MissingBinary(PathBuf),
    #[error(transparent)]
    CToolchain(#[from] Box<crate::ctoolchain::Error>),
    #[error(transparent)]
    CrossToml(#[from] toml::de::Error),
    #[error(transparent)]
    Command(#[from] command::Error),
    #[error(transparent)]
    Failure(#[from] Failure),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    /// The toolchain that built it (cross mounts the host's).
    pub toolchain: Toolchain,
}

/// The cargo profile a build uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `--release`: what the zip ships.
    Release,
    /// `lambda-dev`, for `serve --watch`: dependencies as the release profile builds them
    /// (opt-level 3), the workspace's own packages at opt-level 0, no LTO, 16 codegen units,
    /// incremental. A handler edit then recompiles only unoptimised code of the edited crate:
    /// measured on an HTTP function, ~1 s against ~7 s with the crate at opt-level 3, because
    /// `lambda_http`'s generics are instantiated there. The kit defines it with `--config`,
    /// which overrides a `[profile.lambda-dev]` of the workspace for these keys.
    LambdaDev,
}

impl Profile {
    /// The arguments of `cargo build` that choose it.
    pub fn cargo_args(self) -> Vec<String> {
        match self {
            Profile::Release => vec!["--release".into()],
            Profile::LambdaDev => {
                let mut args = vec!["--profile".to_string(), "lambda-dev".to_string()];
                for setting in [
                    "inherits=\"release\"",
                    "opt-level=0",
                    "package.\"*\".opt-level=3",
                    "lto=false",
                    "codegen-units=16",
                    "incremental=true",
                ] {
                    args.push("--config".into());
                    args.push(format!("profile.lambda-dev.{setting}"));
                }
                args
            }
        }
    }

    /// What it is, in one line for the user.
    pub fn describe(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::LambdaDev => {
                "lambda-dev: dependencies optimised as in release, your packages at opt-level 0, \
                 no LTO, incremental"
            }
        }
    }

    /// The folder of its outputs under `target/<triple>/`.
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::LambdaDev => "lambda-dev",
        }
    }
}

/// Builds the release binary of `function` and returns where it is.
pub fn build(workspace: &Workspace, function: &Function, args: &BuildArgs) -> Result<Built> {
    build_with(workspace, function, args, Profile::Release)
}

/// Builds `function` with `profile` and returns where its binary is.
pub fn build_with(
    workspace: &Workspace,
    function: &Function,
    args: &BuildArgs,
    profile: Profile,
) -> Result<Built> {
    let resolved = cross::resolve_builder(args.builder)?;
    let builder = resolved.builder;
    let cross_config = CrossConfig::for_workspace(workspace.cross_toml().as_deref())?;
    let target = match (&args.target, builder) {
        (Some(target), _) => target.clone(),
        (None, Builder::Cross) => cross_config.default_target(args.arch)?.to_string(),
        (None, _) => args.arch.local_default_target().to_string(),
    };
    check_target_matches(&target, args.arch)?;
    let toolchain = Toolchain::of_workspace(&workspace.root)?;

    let target_dir = match builder {
        Builder::Cross => cross::target_dir(&workspace.target_dir),
        _ => workspace.target_dir.clone(),
    };
    let mut command = match builder {
        Builder::Cross => cross::command(
            &workspace.root,
            &target_dir,
            &workspace.path_name,
            &target,
            &toolchain,
            resolved.engine.as_deref(),
        )?,
        _ => cargo::command(
            &workspace.root,
            &target_dir,
            &workspace.path_name,
            &target,
            &toolchain,
        )?,
    };
    // Before anything is built: what in the function's graph compiles C for the target, and
    // with which compiler (or why there is none).
    let c_toolchain = match builder {
        Builder::Cross => None,
        _ => cargo::c_toolchain(workspace, function, &target_dir, &target, &toolchain)?,
    };
    if let Some(c) = &c_toolchain {
        eprintln!("{}", c.summary());
    }
    command
        .current_dir(&workspace.root)
        .arg("build")
        .args(profile.cargo_args());
    // The lock file's versions, when the workspace has one (a library-style workspace may not):
    // the same sources then give the same binary.
    if workspace.root.join("Cargo.lock").is_file() {
        command.arg("--locked");
    }
    command.args([
        "--package",
        &function.package,
        "--bin",
        &function.bin,
        "--target",
        &target,
    ]);
    let doing = format!(
        "building {} for {target} with {}",
        function.bin, toolchain.rustc
    );
    match builder {
        Builder::Cross => cross::run(
            &mut command,
            &doing,
            &cross::image_for(&target, cross_config.image(&target)),
        )?,
        _ => match &c_toolchain {
            Some(c) => crate::ctoolchain::run_build(&mut command, &doing, c).map_err(Box::new)?,
            None => command::run(&mut command, &doing)?,
        },
    }

    let binary = target_dir
        .join(&target)
        .join(profile.dir())
        .join(&function.bin);
    if !binary.is_file() {
        return Err(Error::MissingBinary(binary));
    }
    Ok(Built {
        binary,
        target,
        builder,
        toolchain,
    })
}

/// Refuses `--arch arm64 --target x86_64-…` before anything is built.
pub fn check_target_matches(target: &str, arch: Arch) -> Result<()> {
    match Arch::of_target(target) {
        Some(found) if found == arch => Ok(()),
        Some(found) => Err(Error::TargetArch {
            target: target.to_string(),
            found,
            arch,
        }),
        None => Err(Error::NotLambdaTarget(target.to_string())),
    }
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
            cargo::cross_linker_for("aarch64-unknown-linux-musl").unwrap(),
            None
        );
        assert_eq!(
            cargo::cross_linker_for("x86_64-unknown-linux-musl").unwrap(),
            None
        );
    }
}
