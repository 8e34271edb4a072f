//! The cargo builder: the local toolchain. musl targets link with `rust-lld`, shipped with
//! Rust, so no C toolchain is needed on any host; a glibc target of another architecture links
//! with the C cross linker.

use std::path::Path;
use std::process::Command;

use crate::arch::Arch;
use crate::builder::remap::{self, Roots};
use crate::builder::toolchain::Toolchain;
use crate::builder::{Error, Result};
use crate::command;

/// `cargo` with the reproducible flags (host paths) and the linker `target` needs.
pub fn command(
    workspace_root: &Path,
    path_name: &str,
    target: &str,
    toolchain: &Toolchain,
) -> Result<Command> {
    ensure_rustup_target(workspace_root, target)?;
    let mut cargo = Command::new(command::cargo());
    let roots = Roots::host(workspace_root, &toolchain.sysroot, &toolchain.commit_hash)?;
    cargo.env(
        "CARGO_ENCODED_RUSTFLAGS",
        remap::reproducible_rustflags(&roots, path_name),
    );
    if let Some((variable, linker)) = musl_linker_for(workspace_root, target) {
        cargo.env(variable, linker);
    }
    if let Some((variable, linker)) = cross_linker_for(target)? {
        eprintln!("linking {target} with {linker} ({variable})");
        cargo.env(variable, linker);
    }
    Ok(cargo)
}

/// The variable cargo reads for a target's linker.
fn linker_variable(target: &str) -> String {
    format!(
        "CARGO_TARGET_{}_LINKER",
        target.to_uppercase().replace(['-', '.'], "_")
    )
}

/// `rust-lld` for a musl target, so that a workspace without this kit's `.cargo/config.toml`
/// links the same way; left alone when the user chose a linker (the variable, or a
/// `[target.<triple>]` table in the workspace's cargo configuration).
pub fn musl_linker_for(workspace_root: &Path, target: &str) -> Option<(String, String)> {
    let variable = linker_variable(target);
    if !target.ends_with("-linux-musl") || std::env::var_os(&variable).is_some() {
        return None;
    }
    let configured = ["config.toml", "config"].iter().any(|name| {
        std::fs::read_to_string(workspace_root.join(".cargo").join(name))
            .is_ok_and(|text| text.contains(&format!("[target.{target}]")))
    });
    (!configured).then(|| (variable, "rust-lld".to_string()))
}

/// Adds the target's standard library with rustup when it is missing, saying so; run in the
/// workspace, so for the toolchain its `rust-toolchain.toml` names.
pub fn ensure_rustup_target(workspace_root: &Path, target: &str) -> Result<()> {
    let listed = command::output(
        Command::new("rustup")
            .current_dir(workspace_root)
            .args(["target", "list", "--installed"]),
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
    Ok(command::run(
        Command::new("rustup")
            .current_dir(workspace_root)
            .args(["target", "add", target]),
        &format!("adding the {target} target"),
    )?)
}

/// The C linker a glibc target needs when built on another architecture, as the environment
/// variable cargo reads and its value; `None` where cargo's default works (musl targets use
/// rust-lld through .cargo/config.toml, native builds use the host's cc).
pub fn cross_linker_for(target: &str) -> Result<Option<(String, String)>> {
    let variable = linker_variable(target);
    let native = Arch::host() == Arch::of_target(target) && cfg!(target_os = "linux");
    if !target.ends_with("-linux-gnu") || native || std::env::var_os(&variable).is_some() {
        return Ok(None);
    }
    let linker = format!(
        "{}-linux-gnu-gcc",
        Arch::of_target(target).map_or("", |a| a.rust_arch())
    );
    if which::which(&linker).is_err() {
        return Err(Error::NoCrossLinker {
            target: target.to_string(),
            linker,
        });
    }
    Ok(Some((variable, linker)))
}
