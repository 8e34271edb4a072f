//! Flags that take the build machine's folders out of the binary (panic locations and std's
//! inlined code name source files), so that the same sources and toolchain give the same
//! bootstrap from any folder, any `RUSTUP_HOME`/`CARGO_HOME`, and from cross's container.

use std::path::{Path, PathBuf};

use crate::error::{Context, Failure};

type Result<T> = std::result::Result<T, Failure>;

/// The folders a build embeds, as the compiler sees them (host paths for cargo, container paths
/// for cross), and the commit of the toolchain.
#[derive(Debug, Clone)]
pub struct Roots {
    pub workspace: String,
    pub cargo_home: String,
    pub sysroot: String,
    pub commit_hash: String,
}

impl Roots {
    /// The local build's folders: the workspace, `$CARGO_HOME` (or `~/.cargo`) and the
    /// toolchain's sysroot.
    pub fn host(workspace: &Path, sysroot: &Path, commit_hash: &str) -> Result<Self> {
        let cargo_home = match std::env::var_os("CARGO_HOME") {
            Some(home) => PathBuf::from(home),
            None => home_dir()?.join(".cargo"),
        };
        Ok(Roots {
            workspace: workspace.display().to_string(),
            cargo_home: cargo_home.display().to_string(),
            sysroot: sysroot.display().to_string(),
            commit_hash: commit_hash.to_string(),
        })
    }

    /// cross 0.2.5's container: the workspace at /project, cargo's home at /cargo and the
    /// host's toolchain (the same commit) at /rust.
    pub fn cross_container(commit_hash: &str) -> Self {
        Roots {
            workspace: "/project".to_string(),
            cargo_home: "/cargo".to_string(),
            sysroot: "/rust".to_string(),
            commit_hash: commit_hash.to_string(),
        }
    }
}

/// The user's rustflags plus [`remap_flags`], encoded for `CARGO_ENCODED_RUSTFLAGS`. Cargo
/// reads that variable before `RUSTFLAGS`, so the user's flags are carried over from whichever
/// is set.
pub fn reproducible_rustflags(roots: &Roots, path_name: &str) -> String {
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
    flags.extend(remap_flags(roots, path_name));
    flags.join("\x1f")
}

/// `--remap-path-prefix` flags: the workspace to `/<path name>` (the root package's name),
/// cargo's home to `/cargo`, and the toolchain's `rust-src` to `/rustc/<commit>`, where std's
/// paths point when rust-src is not installed (with it, rustc names the installed copy
/// instead, in inlined std code).
///
/// rustc applies the *last* matching prefix, so the list goes from general to specific: a
/// cargo home inside the checkout (some CI setups) still becomes `/cargo`.
pub fn remap_flags(roots: &Roots, path_name: &str) -> Vec<String> {
    vec![
        format!("--remap-path-prefix={}=/{path_name}", roots.workspace),
        format!("--remap-path-prefix={}=/cargo", roots.cargo_home),
        format!(
            "--remap-path-prefix={}/lib/rustlib/src/rust=/rustc/{}",
            roots.sysroot, roots.commit_hash
        ),
    ]
}

fn home_dir() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .context("neither CARGO_HOME nor HOME is set, so cargo's home is unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_to_specific_with_the_package_name() {
        let roots = Roots {
            workspace: "/home/u/ws".to_string(),
            cargo_home: "/home/u/ws/.cargo-home".to_string(),
            sysroot: "/home/u/.rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu".to_string(),
            commit_hash: "59807616e".to_string(),
        };
        assert_eq!(
            remap_flags(&roots, "calculate-pi"),
            [
                "--remap-path-prefix=/home/u/ws=/calculate-pi",
                "--remap-path-prefix=/home/u/ws/.cargo-home=/cargo",
                "--remap-path-prefix=/home/u/.rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu\
                 /lib/rustlib/src/rust=/rustc/59807616e",
            ]
        );
    }

    #[test]
    fn cross_uses_the_container_paths() {
        assert_eq!(
            remap_flags(&Roots::cross_container("abc"), "p"),
            [
                "--remap-path-prefix=/project=/p",
                "--remap-path-prefix=/cargo=/cargo",
                "--remap-path-prefix=/rust/lib/rustlib/src/rust=/rustc/abc",
            ]
        );
    }
}
