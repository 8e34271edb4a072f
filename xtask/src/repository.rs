//! This repository: its root (the kit's own files, the benchmark's function and its event), and its test
//! tools from PyPI, installed by `cargo xtask setup`: the AWS CLI and moto pinned in
//! `xtask/test-requirements.txt` into `.venv/`, the SAM CLI pinned in `xtask/sam-requirements.txt`
//! into `.venv-sam/` (its own, because it pins moto's dependencies to other versions).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use lambda_kit::artifact::deployment::DeploymentZip;
use lambda_kit::builder::BuildArgs;
use lambda_kit::pipeline::Lambda;
use lambda_kit::runtime::Runtime;
use lambda_kit::workspace::settings::SettingsFlags;
use lambda_kit::workspace::FunctionArgs;

/// The benchmark event of this repository's function: the default payload of `invoke`, and the
/// one `serve`'s printed command sends.
pub const BENCHMARK_EVENT: &str = r#"{"digits": "10_000"}"#;

/// This repository's root: the parent of `xtask/`. The kit's own files live here; the
/// workspace it builds may be another one (`--manifest-path`).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives inside the repository")
        .to_path_buf()
}

/// This repository's own function, built for `build` and zipped to `output` on `runtime`:
/// what the tests and the benchmark start from.
pub fn package_function(
    build: &BuildArgs,
    runtime: Runtime,
    output: &Path,
) -> Result<DeploymentZip> {
    let function = FunctionArgs {
        manifest_path: Some(repository_root().join("Cargo.toml")),
        ..FunctionArgs::default()
    };
    let settings = SettingsFlags {
        runtime: Some(runtime),
        ..SettingsFlags::default()
    };
    let lambda = Lambda::from_flags(&function, &settings, build, "package")?;
    Ok(lambda.package(Some(output))?)
}

/// A virtualenv of pinned test tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Venv {
    /// `.venv/`: the AWS CLI and moto.
    Test,
    /// `.venv-sam/`: the SAM CLI, aws-sam-translator, cfn-lint.
    Sam,
}

impl Venv {
    pub fn dir(self) -> PathBuf {
        repository_root().join(match self {
            Venv::Test => ".venv",
            Venv::Sam => ".venv-sam",
        })
    }

    /// The file of pinned requirements it is made from.
    pub fn requirements(self) -> PathBuf {
        repository_root().join("xtask").join(match self {
            Venv::Test => "test-requirements.txt",
            Venv::Sam => "sam-requirements.txt",
        })
    }

    /// The directory of its programs (`bin/`, or `Scripts/` on Windows).
    pub fn bin_dir(self) -> PathBuf {
        self.dir()
            .join(if cfg!(windows) { "Scripts" } else { "bin" })
    }

    /// One of its programs: the pinned version, never another one found on PATH.
    pub fn program(self, name: &str) -> Result<PathBuf> {
        let in_venv = self.bin_dir().join(if cfg!(windows) {
            format!("{name}.exe")
        } else {
            name.to_string()
        });
        if in_venv.is_file() {
            return Ok(in_venv);
        }
        bail!(
            "`{name}` is missing from {}: run `cargo xtask setup` (it installs the test tools \
             pinned in {})",
            self.dir().display(),
            self.requirements().display()
        )
    }
}
