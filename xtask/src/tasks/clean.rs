//! `cargo xtask clean`: remove the artifacts in the workspace's dist/ (keeping its .gitkeep)
//! and the release builds of its functions, for every target the kit builds. The kit's own
//! debug build stays: it is the program running this (Windows cannot delete a running
//! executable).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use lambda_kit::arch::Arch;
use lambda_kit::builder::cross_config::CrossConfig;
use lambda_kit::paths;
use lambda_kit::workspace::Workspace;

#[derive(Debug, Clone, Args)]
pub struct CleanArgs {
    /// The workspace's Cargo.toml [default: the one cargo finds from the current directory].
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

pub fn run(args: &CleanArgs) -> Result<()> {
    let workspace = Workspace::load(args.manifest_path.as_deref())?;
    let dist = workspace.dist_dir();
    if dist.is_dir() {
        for entry in
            std::fs::read_dir(&dist).with_context(|| format!("listing {}", dist.display()))?
        {
            let path = entry?.path();
            if path.file_name().is_some_and(|n| n == ".gitkeep") {
                continue;
            }
            remove(&path)?;
        }
    }
    // `cargo clean --release --target T` without `-p` leaves target/T/release in place, so the
    // folders go directly: target/<triple>/release for each target the kit builds, and the
    // host's target/release (the benchmark's runners).
    let cross = CrossConfig::for_workspace(workspace.cross_toml().as_deref())?;
    // cross builds into its own folder (target/cross), with the same layout.
    let cross_dir = lambda_kit::builder::cross::target_dir(&workspace.target_dir);
    let cross_folders = cross
        .target
        .keys()
        .map(|t| cross_dir.join(t).join("release"));
    for folder in release_folders(&workspace.target_dir, cross.target.keys().cloned())
        .into_iter()
        .chain(cross_folders)
    {
        if folder.is_dir() {
            remove(&folder)?;
        }
    }
    Ok(())
}

/// The release build folders below `target_dir`: the host's, and one per target (the local
/// builder's musl targets, the host's glibc target, and `Cross.toml`'s).
pub fn release_folders(
    target_dir: &Path,
    cross_targets: impl Iterator<Item = String>,
) -> Vec<PathBuf> {
    let mut targets: Vec<String> = Arch::ALL
        .iter()
        .map(|a| a.local_default_target().to_string())
        .collect();
    targets.push(format!("{}-unknown-linux-gnu", std::env::consts::ARCH));
    targets.extend(cross_targets);
    targets.sort();
    targets.dedup();
    std::iter::once(target_dir.join("release"))
        .chain(targets.iter().map(|t| target_dir.join(t).join("release")))
        .collect()
}

fn remove(path: &Path) -> Result<()> {
    let removed = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    removed.with_context(|| format!("removing {}", path.display()))?;
    eprintln!("removed {}", paths::shown(path));
    Ok(())
}
