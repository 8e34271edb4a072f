//! `Cross.toml`: which target each architecture builds for with `cross`, and the image pinned
//! for it. The kit reads it so that the defaults live in one file, the one `cross` reads too.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::arch::Arch;
use crate::builder::{Error, Result};
use crate::error::Context;

#[derive(Debug, Deserialize)]
pub struct CrossConfig {
    #[serde(default)]
    pub target: BTreeMap<String, CrossTarget>,
}

#[derive(Debug, Deserialize)]
pub struct CrossTarget {
    pub image: Option<String>,
}

/// The kit's own defaults, for a workspace without a `Cross.toml`: this repository's file, whose
/// comments say why these targets and images.
pub const DEFAULT_CROSS_TOML: &str = r#"
[target.x86_64-unknown-linux-musl]
image = "ghcr.io/cross-rs/x86_64-unknown-linux-musl:0.2.5"

[target.aarch64-unknown-linux-gnu]
image = "ghcr.io/cross-rs/aarch64-unknown-linux-gnu:0.2.5"
"#;

impl CrossConfig {
    /// The workspace's `Cross.toml` when it has one, else the kit's defaults.
    pub fn for_workspace(cross_toml: Option<&Path>) -> Result<Self> {
        match cross_toml {
            Some(path) => Self::load(path),
            None => Self::parse(DEFAULT_CROSS_TOML),
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Self::parse(&text).with_context(|| format!("reading {}", path.display()))?)
    }

    pub fn parse(text: &str) -> Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// The one `[target.<triple>]` table for `arch`: its triple is the architecture's default
    /// target.
    pub fn default_target(&self, arch: Arch) -> Result<&str> {
        let targets: Vec<&str> = self
            .target
            .keys()
            .map(String::as_str)
            .filter(|t| Arch::of_target(t) == Some(arch))
            .collect();
        match targets[..] {
            [one] => Ok(one),
            [] => Err(Error::NoCrossTarget { arch }),
            _ => Err(Error::SeveralCrossTargets {
                arch,
                targets: targets.iter().map(|t| t.to_string()).collect(),
            }),
        }
    }

    pub fn image(&self, target: &str) -> Option<&str> {
        self.target.get(target)?.image.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_cross_toml_gives_the_documented_defaults() {
        let repository = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cross.toml");
        let config = CrossConfig::load(&repository).unwrap();
        let defaults = CrossConfig::parse(DEFAULT_CROSS_TOML).unwrap();
        assert_eq!(
            config.target.keys().collect::<Vec<_>>(),
            defaults.target.keys().collect::<Vec<_>>()
        );
        for (target, table) in &defaults.target {
            assert_eq!(config.image(target), table.image.as_deref());
        }
        assert_eq!(
            config.default_target(Arch::X86_64).unwrap(),
            "x86_64-unknown-linux-musl"
        );
        assert_eq!(
            config.default_target(Arch::Arm64).unwrap(),
            "aarch64-unknown-linux-gnu"
        );
        // Images old enough for provided.al2's glibc 2.26 (cross 0.2.5 ships glibc 2.23).
        for target in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-gnu"] {
            assert!(
                config.image(target).unwrap().ends_with(":0.2.5"),
                "{target}"
            );
        }
    }

    #[test]
    fn missing_or_ambiguous_targets_are_explained() {
        let config = CrossConfig::parse(
            "[target.x86_64-unknown-linux-gnu]\n[target.x86_64-unknown-linux-musl]\n",
        )
        .unwrap();
        let err = config.default_target(Arch::X86_64).unwrap_err().to_string();
        assert!(err.contains("several"), "{err}");
        let err = config.default_target(Arch::Arm64).unwrap_err().to_string();
        assert!(err.contains("no [target.aarch64-…]"), "{err}");
    }
}
