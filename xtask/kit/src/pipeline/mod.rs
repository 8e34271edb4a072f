//! The steps the tasks share, in the order they take them: the function the flags choose, with
//! its settings resolved and its build decided, made once ([`Lambda`]); its binary built and
//! zipped ([`Lambda::package`]), or the zip already there reused ([`Lambda::ensure_zip`]); the
//! summary and JSON report of a zip ([`report`]); the code a local run starts from ([`local`]).
//! The commands printed for a zip are [`crate::aws::cli::ZipCommands`]; deploying is
//! [`crate::aws::deploy`].

pub mod local;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::artifact::deployment::{self, DeploymentZip, ZipSpec};
use crate::artifact::layer::{self, LayerSpec, LayerZip};
use crate::builder::{self, BuildArgs};
use crate::error::{Context, Failure};
use crate::paths;
use crate::workspace::settings::{self, FunctionSettings, SettingsFlags};
use crate::workspace::{self, Function, FunctionArgs, Kind, Workspace};

/// What can stop a step of the pipeline: the error of the capability that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Workspace(#[from] workspace::Error),
    #[error(transparent)]
    Settings(#[from] settings::Error),
    #[error(transparent)]
    Builder(#[from] builder::Error),
    #[error(transparent)]
    Artifact(#[from] crate::artifact::Error),
    #[error(transparent)]
    Failure(#[from] Failure),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One Lambda function of a workspace as the flags chose it: its settings (the flags over its
/// `Cargo.toml` metadata, over the kit's defaults) and how to build it. Made once per task;
/// everything else starts from it.
#[derive(Debug, Clone)]
pub struct Lambda {
    pub workspace: Arc<Workspace>,
    pub function: Function,
    pub settings: FunctionSettings,
    pub build: BuildArgs,
}

impl Lambda {
    /// The one function `function` names in its workspace. `task` is the `cargo xtask` task the
    /// error lists commands for when the choice is ambiguous.
    pub fn from_flags(
        function: &FunctionArgs,
        settings: &SettingsFlags,
        build: &BuildArgs,
        task: &str,
    ) -> Result<Lambda> {
        let mut chosen =
            Self::all_from_flags(function, false, Some(Kind::Function), settings, build, task)?;
        Ok(chosen.remove(0))
    }

    /// Every function `function` names (all of the workspace's with `all`) of `kind`
    /// (functions, extensions, or both when `None`).
    pub fn all_from_flags(
        function: &FunctionArgs,
        all: bool,
        kind: Option<Kind>,
        settings: &SettingsFlags,
        build: &BuildArgs,
        task: &str,
    ) -> Result<Vec<Lambda>> {
        let workspace = Arc::new(Workspace::load(function.manifest_path.as_deref())?);
        let chosen = workspace.select(&function.selection(all, kind), task)?;
        chosen
            .into_iter()
            .map(|chosen| {
                Ok(Lambda {
                    settings: chosen.settings(settings)?,
                    function: chosen.clone(),
                    workspace: Arc::clone(&workspace),
                    build: build.clone(),
                })
            })
            .collect()
    }

    /// Where its artifacts go: `dist/`, or `dist/<bin>/` in a workspace of several functions.
    pub fn dist_dir(&self) -> PathBuf {
        self.workspace.function_dist_dir(&self.function)
    }

    /// `dist/[<bin>/]lambda-<arch>.zip`.
    pub fn default_zip_path(&self) -> PathBuf {
        self.workspace
            .default_zip_path(&self.function, self.build.arch)
    }

    /// Builds the function for its architecture and zips it with its settings into `output`
    /// (its default zip when `None`): the step every other task starts from.
    pub fn package(&self, output: Option<&Path>) -> Result<DeploymentZip> {
        self.package_with(output, builder::Profile::Release)
    }

    /// [`Lambda::package`] with another build profile (`serve --watch`'s `lambda-dev`).
    pub fn package_with(
        &self,
        output: Option<&Path>,
        profile: builder::Profile,
    ) -> Result<DeploymentZip> {
        let built = builder::build_with(&self.workspace, &self.function, &self.build, profile)?;
        let output = output.map_or_else(|| self.default_zip_path(), Path::to_path_buf);
        let spec = ZipSpec {
            arch: self.build.arch,
            runtime: self.settings.runtime,
            target: Some(&built.target),
            builder: Some(built.builder),
            include: &self.settings.include,
        };
        let mut zip = deployment::zip_binary(&built.binary, &spec, &output)?;
        zip.toolchain = Some(built.toolchain);
        Ok(zip)
    }

    /// `dist/<bin>/layer-<arch>.zip`: an extension's layer.
    pub fn default_layer_path(&self) -> PathBuf {
        self.workspace
            .default_layer_path(&self.function, self.build.arch)
    }

    /// Builds the extension for its architecture and zips it as a layer (`extensions/<bin>`)
    /// into `output` (its default layer zip when `None`).
    pub fn package_layer(&self, output: Option<&Path>) -> Result<LayerZip> {
        let built = builder::build(&self.workspace, &self.function, &self.build)?;
        let output = output.map_or_else(|| self.default_layer_path(), Path::to_path_buf);
        let spec = LayerSpec {
            arch: self.build.arch,
            runtime: self.settings.runtime,
            name: &self.function.bin,
            target: Some(&built.target),
            builder: Some(built.builder),
        };
        let mut zip = layer::zip_extension(&built.binary, &spec, &output)?;
        zip.toolchain = Some(built.toolchain);
        Ok(zip)
    }

    /// The extension of the same workspace whose binary is `name` (what a function's `layers`
    /// call it), with its own settings from the metadata and the same build; `task` goes into
    /// the commands of the error that lists the workspace's binaries when none is `name`.
    pub fn workspace_extension(&self, name: &str, task: &str) -> Result<Lambda> {
        let selection = workspace::Selection {
            bin: Some(name.to_string()),
            kind: Some(Kind::Extension),
            ..Default::default()
        };
        let found = self.workspace.select(&selection, task)?.remove(0);
        Ok(Lambda {
            settings: found.settings(&SettingsFlags::default())?,
            function: found.clone(),
            workspace: Arc::clone(&self.workspace),
            build: self.build.clone(),
        })
    }

    /// The extension's layer zip, packaged first when missing or when `rebuild` asks for it:
    /// what `invoke`/`serve` take for a function whose metadata lists the extension.
    pub fn ensure_layer(&self, rebuild: bool) -> Result<PathBuf> {
        let path = self.default_layer_path();
        if !path.is_file() || rebuild {
            eprintln!(
                "packaging the extension layer {} first: cargo xtask package --extension {} --arch {}",
                paths::shown(&path),
                self.function.selector(),
                self.build.arch
            );
            self.package_layer(Some(&path))
                .with_context(|| format!("packaging {}", path.display()))?;
        }
        Ok(path)
    }

    /// The function's default zip, packaged first when it is missing or when `rebuild` asks
    /// for the current sources (cargo rebuilds only what changed, and the same binary gives the
    /// same zip); otherwise read back and checked. Returns it and whether it was packaged now.
    /// The starting point of invoke, serve, image and bench.
    pub fn ensure_zip(&self, rebuild: bool) -> Result<(DeploymentZip, bool)> {
        let zip = self.default_zip_path();
        if zip.is_file() && !rebuild {
            let zip_time = std::fs::metadata(&zip).and_then(|m| m.modified()).ok();
            if zip_time < self.workspace.newest_source_change(&self.function) {
                eprintln!(
                    "warning: {} is older than the function's sources, so it holds the code as \
                     it was packaged; pass --rebuild to package the current code",
                    paths::shown(&zip)
                );
            }
            return Ok((self.read_zip(&zip)?, false));
        }
        eprintln!(
            "packaging {} first ({}): {} --arch {}",
            paths::shown(&zip),
            if rebuild {
                "--rebuild"
            } else {
                "it is missing"
            },
            self.workspace
                .suggested_command("package", Some(&self.function)),
            self.build.arch
        );
        let packaged = self
            .package(Some(&zip))
            .with_context(|| format!("packaging {}", zip.display()))?;
        Ok((packaged, true))
    }

    /// A zip made earlier, read back and checked for the function's architecture and runtime.
    pub fn read_zip(&self, path: &Path) -> Result<DeploymentZip> {
        Ok(deployment::read_zip(
            path,
            Some(self.build.arch),
            self.settings.runtime,
        )?)
    }
}

/// A function and its zip, with the settings its commands are made from: what `package`
/// reports.
#[derive(Debug, Clone)]
pub struct Zipped {
    pub function: Function,
    pub settings: FunctionSettings,
    pub zip: DeploymentZip,
}

/// Packages a Linux binary built elsewhere (`package --binary`): nothing is built; the
/// architecture is read from its ELF header, the settings are `flags` over the defaults of a
/// function named after the file, and the zip goes to `output`, by default into the selected
/// workspace's `dist/` (`--manifest-path`, else the one of the current directory, if any; under
/// `dist/<bin>/` when the file is named after one of its several functions), else
/// `<cwd>/dist/`.
pub fn package_prebuilt(
    binary: &Path,
    flags: &SettingsFlags,
    output: Option<&Path>,
    function_args: &FunctionArgs,
    cwd: &Path,
) -> Result<Zipped> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let info = crate::artifact::elf::inspect(&bytes)
        .with_context(|| format!("checking {}", binary.display()))?;
    let arch = info.arch.with_context(|| {
        format!(
            "{} is built for ELF machine {}, not for a Lambda architecture (x86_64 or arm64)",
            binary.display(),
            info.machine
        )
    })?;
    let name = binary
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| crate::validate::function_name(s).is_ok() && s != "bootstrap")
        .unwrap_or_else(|| "function".to_string());
    let function = Function::named(&name, cwd.join("Cargo.toml"));
    let settings = function.settings(flags)?;
    // A CI step packaging a binary may have no cargo: a workspace is read only when named, or
    // to find its dist/ when no --output says where the zip goes.
    let workspace = match (&function_args.manifest_path, output) {
        (Some(path), _) => Some(Workspace::load(Some(path))?),
        (None, None) => Workspace::load(None).ok(),
        (None, Some(_)) => None,
    };
    let dist = match &workspace {
        Some(workspace) => match workspace.functions.iter().find(|f| f.bin == name) {
            Some(named) => workspace.function_dist_dir(named),
            None => workspace.dist_dir(),
        },
        None => cwd.join("dist"),
    };
    let output = output.map_or_else(|| dist.join(arch.zip_file_name()), Path::to_path_buf);
    let spec = ZipSpec {
        arch,
        runtime: settings.runtime,
        target: None,
        builder: None,
        include: &settings.include,
    };
    let zip = deployment::zip_binary(binary, &spec, &output)?;
    Ok(Zipped {
        function,
        settings,
        zip,
    })
}
