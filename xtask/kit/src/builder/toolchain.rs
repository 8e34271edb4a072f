//! The Rust toolchain a build uses, as `rustc -vV` and `rustc --print sysroot` report it from the
//! workspace (so `rust-toolchain.toml` applies): its version and commit go into the package
//! report, and its sysroot and commit into the path remapping.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::builder::{Error, Result};
use crate::command;
use crate::error::Context;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Toolchain {
    /// `rustc -vV`'s first line, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`.
    pub rustc: String,
    /// `release:`, e.g. `1.95.0`.
    pub release: String,
    /// `commit-hash:`: std's sources are embedded as `/rustc/<commit-hash>/library/…`.
    pub commit_hash: String,
    /// `host:`, the toolchain's own triple.
    pub host: String,
    /// `rustc --print sysroot`; a local path, so not part of the report.
    #[serde(skip)]
    pub sysroot: PathBuf,
}

impl Toolchain {
    /// The toolchain cargo would use in `workspace_root` (`$RUSTC`, else `rustc` from PATH,
    /// which rustup resolves through the workspace's `rust-toolchain.toml`).
    pub fn of_workspace(workspace_root: &Path) -> Result<Self> {
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
        let run = |args: &[&str]| -> Result<String> {
            let output = command::output(
                Command::new(&rustc).current_dir(workspace_root).args(args),
                "asking rustc for its version",
            )?;
            if !output.status.success() {
                return Err(Error::Rustc {
                    rustc: rustc.clone(),
                    args: args.join(" "),
                    dir: workspace_root.to_path_buf(),
                    stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
                });
            }
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        };
        let mut toolchain = Self::parse_verbose_version(&run(&["-vV"])?)?;
        toolchain.sysroot = PathBuf::from(run(&["--print", "sysroot"])?.trim());
        Ok(toolchain)
    }

    /// Reads `rustc -vV`; the sysroot is left empty.
    pub fn parse_verbose_version(text: &str) -> Result<Self> {
        let field = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .map(|value| value.trim().to_string())
                .with_context(|| format!("`rustc -vV` printed no `{name}:` line:\n{text}"))
        };
        Ok(Toolchain {
            rustc: text.lines().next().unwrap_or_default().trim().to_string(),
            release: field("release")?,
            commit_hash: field("commit-hash")?,
            host: field("host")?,
            sysroot: PathBuf::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rustc_verbose_version() {
        let toolchain = Toolchain::parse_verbose_version(
            "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\n\
             commit-hash: 59807616e1fa2540724bfbac14d7976d7e4a3860\ncommit-date: 2026-04-14\n\
             host: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n",
        )
        .unwrap();
        assert_eq!(toolchain.rustc, "rustc 1.95.0 (59807616e 2026-04-14)");
        assert_eq!(toolchain.release, "1.95.0");
        assert_eq!(
            toolchain.commit_hash,
            "59807616e1fa2540724bfbac14d7976d7e4a3860"
        );
        assert_eq!(toolchain.host, "x86_64-unknown-linux-gnu");
        assert!(Toolchain::parse_verbose_version("rustc 1.0\n").is_err());
    }
}
