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
use crate::ctoolchain::{self, zig::PathMap, CToolchain};
use crate::workspace::{Function, Workspace};

/// `cargo` with the reproducible flags (host paths) and the linker `target` needs.
pub fn command(
    workspace_root: &Path,
    target_dir: &Path,
    path_name: &str,
    target: &str,
    toolchain: &Toolchain,
) -> Result<Command> {
    ensure_rustup_target(workspace_root, target)?;
    let mut cargo = Command::new(command::cargo());
    let roots = Roots::host(workspace_root, &toolchain.sysroot, &toolchain.commit_hash)?;
    let mut rustflags = remap::reproducible_rustflags(&roots, path_name);
    // A target dir outside the workspace (CARGO_TARGET_DIR) is named by code that includes
    // generated files (`include!(concat!(env!("OUT_DIR"), …))`); inside it, the workspace's
    // remap covers it already, and the flags (so the bytes) stay as they were.
    if !target_dir.starts_with(workspace_root) {
        rustflags.push('\x1f');
        rustflags.push_str(&format!(
            "--remap-path-prefix={}=/target",
            target_dir.display()
        ));
    }
    cargo.env("CARGO_ENCODED_RUSTFLAGS", rustflags);
    if let Some((variable, linker)) = musl_linker_for(workspace_root, target) {
        cargo.env(variable, linker);
    }
    if let Some((variable, linker)) = cross_linker_for(target)? {
        eprintln!("linking {target} with {linker} ({variable})");
        cargo.env(variable, linker);
    }
    Ok(cargo)
}

/// The C toolchain for what the function's graph compiles in C for `target` (see
/// [`crate::ctoolchain`]), with the same path maps as the Rust side's remaps; `None` for a
/// pure-Rust function.
pub fn c_toolchain(
    workspace: &Workspace,
    function: &Function,
    target_dir: &Path,
    target: &str,
    toolchain: &Toolchain,
) -> Result<Option<CToolchain>> {
    let roots = Roots::host(&workspace.root, &toolchain.sysroot, &toolchain.commit_hash)?;
    let maps = vec![
        PathMap::new(&roots.workspace, format!("/{}", workspace.path_name)),
        PathMap::new(&roots.cargo_home, "/cargo"),
    ];
    ctoolchain::prepare(&ctoolchain::Request {
        workspace_root: &workspace.root,
        target_dir,
        package: &function.package,
        manifest_path: &function.manifest_path,
        target,
        maps,
    })
    .map_err(|e| Error::CToolchain(Box::new(e)))
}

/// The variable cargo reads for a target's linker.
pub fn linker_variable(target: &str) -> String {
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

/// The linker a musl target's `[target.<triple>] linker` names in the workspace's
/// `.cargo/config.toml` (or `.cargo/config`), if any.
pub fn configured_linker(workspace_root: &Path, target: &str) -> Option<String> {
    ["config.toml", "config"].iter().find_map(|name| {
        let text = std::fs::read_to_string(workspace_root.join(".cargo").join(name)).ok()?;
        linker_in_config(&text, target)
    })
}

/// `[target.<target>] linker = "…"` of a cargo configuration file's text.
pub fn linker_in_config(config: &str, target: &str) -> Option<String> {
    let config: toml::Table = config.parse().ok()?;
    config
        .get("target")?
        .get(target)?
        .get("linker")?
        .as_str()
        .map(str::to_string)
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
