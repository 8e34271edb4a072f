//! `cargo xtask clean`: remove the artifacts in dist/ (keeping its .gitkeep) and the release
//! builds of the function. The kit's own debug build stays: it is the program running this
//! (Windows cannot delete a running executable).

use std::process::Command;

use anyhow::{Context, Result};
use clap::Args;

use crate::arch::Arch;
use crate::cross_config::CrossConfig;
use crate::{process, project};

#[derive(Debug, Clone, Args)]
pub struct CleanArgs {}

pub fn run(_args: &CleanArgs) -> Result<()> {
    let dist = project::dist_dir();
    if dist.is_dir() {
        for entry in
            std::fs::read_dir(&dist).with_context(|| format!("listing {}", dist.display()))?
        {
            let path = entry?.path();
            if path.file_name().is_some_and(|n| n == ".gitkeep") {
                continue;
            }
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.with_context(|| format!("removing {}", path.display()))?;
            eprintln!("removed {}", path.display());
        }
    }
    let cargo = process::cargo();
    let mut targets: Vec<String> = Arch::ALL
        .iter()
        .map(|a| a.local_default_target().to_string())
        .collect();
    // The benchmark's glibc runner (examples/pi_timing) builds for the host's glibc target.
    targets.push(format!("{}-unknown-linux-gnu", std::env::consts::ARCH));
    targets.extend(
        CrossConfig::load(&project::cross_toml())?
            .target
            .into_keys(),
    );
    targets.sort();
    targets.dedup();
    process::run(
        Command::new(&cargo)
            .current_dir(project::root())
            .args(["clean", "--release"]),
        "removing the host release build",
    )?;
    for target in targets {
        process::run(
            Command::new(&cargo).current_dir(project::root()).args([
                "clean",
                "--release",
                "--target",
                &target,
            ]),
            &format!("removing the {target} release build"),
        )?;
    }
    Ok(())
}
