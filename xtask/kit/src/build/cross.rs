//! The cross builder: `cross build` in the container image `Cross.toml` pins for the target.

use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::build::Builder;
use crate::command;

/// The builder `requested` means here: `Auto` becomes cross when cross is installed and a
/// container engine answers, else cargo, and says which and why.
pub fn resolve_builder(requested: Builder) -> Result<Builder> {
    let cross_installed = || {
        command::succeeds_within(
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
        command::succeeds_within(Command::new(engine).arg("info"), Duration::from_secs(20))
    })
}

/// `cross build …` for `args`, run from the workspace root.
pub fn command() -> Command {
    Command::new("cross")
}
