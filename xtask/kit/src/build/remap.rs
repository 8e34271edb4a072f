//! Flags that take the build machine's folders out of the binary (panic locations name source
//! files), so that the same sources give the same bootstrap from any folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The user's rustflags plus prefix maps that take the checkout's and cargo home's paths out of
/// the binary (panic locations name source files): the same sources give the same bootstrap
/// from any folder. Cargo reads `CARGO_ENCODED_RUSTFLAGS` before `RUSTFLAGS`, so the user's
/// flags are carried over from whichever is set.
pub fn reproducible_rustflags(workspace_root: &Path, package: &str) -> Result<String> {
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
    flags.extend(remap_flags(workspace_root, &cargo_home, package));
    Ok(flags.join("\x1f"))
}

/// `--remap-path-prefix` flags mapping the workspace to `/<package>` and cargo's home to
/// `/cargo`.
pub fn remap_flags(workspace: &Path, cargo_home: &Path, package: &str) -> Vec<String> {
    vec![
        format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
        format!("--remap-path-prefix={}=/{package}", workspace.display()),
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
    fn the_workspace_is_named_after_the_package() {
        assert_eq!(
            remap_flags(
                Path::new("/home/u/ws"),
                Path::new("/home/u/.cargo"),
                "calculate-pi"
            ),
            [
                "--remap-path-prefix=/home/u/.cargo=/cargo",
                "--remap-path-prefix=/home/u/ws=/calculate-pi",
            ]
        );
    }
}
