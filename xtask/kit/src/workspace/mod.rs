//! The workspace the kit works on (this one, or another named by `--manifest-path`), its Lambda
//! functions ([`discovery`]) and their settings ([`settings`]), and where its artifacts go.

pub mod discovery;
pub mod function_url;
pub mod settings;

use std::path::{Path, PathBuf};

use clap::Args;

use crate::arch::Arch;
pub use discovery::{Function, Kind, LambdaHttp, Selection};

/// What can go wrong finding a workspace's functions and their settings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "--manifest-path {}: no such file; give the Cargo.toml of the workspace or package",
        .0.display()
    )]
    NoManifest(PathBuf),
    #[error("reading the path {}", path.display())]
    Path {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("asking cargo about the workspace (`cargo metadata --no-deps`)")]
    Metadata(#[source] cargo_metadata::Error),
    #[error(
        "{} has no Lambda function: no binary of a workspace package depends on {}",
        manifest.display(),
        discovery::RUNTIME_CRATES.join(" or ")
    )]
    NoFunction { manifest: PathBuf },
    /// The workspace has extensions only, and a function was asked for.
    #[error(
        "{} has no Lambda function, only extensions (packages that depend on lambda-extension); \
         package one as a layer:\n{extensions}",
        manifest.display()
    )]
    OnlyExtensions {
        manifest: PathBuf,
        extensions: String,
    },
    /// `--extension` was asked for and no package of the workspace is an extension.
    #[error(
        "{} has no Lambda extension: no binary of a workspace package depends on lambda-extension \
         without also being a function (an extension inside a function's own process needs no \
         layer); its functions are:\n{functions}",
        manifest.display()
    )]
    NoExtension {
        manifest: PathBuf,
        functions: String,
    },
    /// `--package`/`--bin` name no function; `functions` lists the command for each one.
    #[error("no Lambda {kind} matches {asked}; the binaries of this workspace are:\n{functions}")]
    NoMatch {
        kind: &'static str,
        asked: String,
        functions: String,
    },
    /// Several functions match and one is needed; `functions` lists the command for each.
    #[error(
        "{count} Lambda {kind}s match; choose one with --package and --bin, or pass --all:\n{functions}"
    )]
    Ambiguous {
        count: usize,
        kind: &'static str,
        functions: String,
    },
    #[error(transparent)]
    Settings(#[from] settings::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The flags that choose a workspace and its functions, shared by every task.
#[derive(Debug, Clone, Default, Args)]
pub struct FunctionArgs {
    /// The workspace's Cargo.toml [default: the one cargo finds from the current directory].
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// The package of the function (needed when the workspace has several).
    #[arg(long, short = 'p', value_name = "NAME")]
    pub package: Option<String>,
    /// The binary of the function (needed when a package has several).
    #[arg(long, value_name = "NAME")]
    pub bin: Option<String>,
}

impl FunctionArgs {
    /// The flags again as command-line arguments (see [`settings::SettingsFlags::to_args`]).
    pub fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = Vec::new();
        if let Some(path) = &self.manifest_path {
            args.extend(["--manifest-path".into(), path.into()]);
        }
        if let Some(package) = &self.package {
            args.extend(["--package".into(), package.into()]);
        }
        if let Some(bin) = &self.bin {
            args.extend(["--bin".into(), bin.into()]);
        }
        args
    }

    /// The functions (`kind` = function), extensions, or both (`None`) these flags name.
    pub fn selection(&self, all: bool, kind: Option<Kind>) -> Selection {
        Selection {
            package: self.package.clone(),
            bin: self.bin.clone(),
            all,
            kind,
        }
    }
}

/// A Cargo workspace and its Lambda functions.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    /// Cargo's target directory (honours CARGO_TARGET_DIR and build.target-dir).
    pub target_dir: PathBuf,
    pub functions: Vec<Function>,
    /// What the workspace's folder is called in the binaries' embedded paths
    /// (`--remap-path-prefix=<root>=/<path_name>`): the root package's name.
    pub path_name: String,
    /// `--manifest-path` as the kit was called with it: every command the kit suggests for
    /// this workspace carries it, so that it works from where the user is.
    pub manifest_arg: Option<PathBuf>,
}

impl Workspace {
    /// Asks cargo (`cargo metadata --no-deps`, offline) about the workspace of `manifest_path`,
    /// or of the current directory. Metadata keys the kit ignores are warned about on stderr.
    pub fn load(manifest_path: Option<&Path>) -> Result<Workspace> {
        let mut command = cargo_metadata::MetadataCommand::new();
        command.cargo_path(crate::command::cargo()).no_deps();
        if let Some(path) = manifest_path {
            let path = std::path::absolute(path).map_err(|source| Error::Path {
                path: path.to_path_buf(),
                source,
            })?;
            if !path.is_file() {
                return Err(Error::NoManifest(path));
            }
            command.manifest_path(path);
        }
        let metadata = command.exec().map_err(Error::Metadata)?;
        let discovered = discovery::discover(&metadata)?;
        for warning in &discovered.warnings {
            eprintln!("{warning}");
        }
        Ok(Workspace {
            root: discovered.root,
            target_dir: discovered.target_dir,
            functions: discovered.functions,
            path_name: discovered.path_name,
            manifest_arg: manifest_path.map(Path::to_path_buf),
        })
    }

    /// `cargo xtask <task>` for `function`, as the kit suggests it: with the `--manifest-path`
    /// it was called with, and the function's `--package`/`--bin` when the workspace has
    /// several.
    pub fn suggested_command(&self, task: &str, function: Option<&Function>) -> String {
        let mut command = format!("cargo xtask {}", self.task_words(task));
        if let Some(function) = function.filter(|_| self.functions.len() > 1) {
            command.push(' ');
            command.push_str(&function.selector());
        }
        command
    }

    /// `task` with `--manifest-path` when the kit was called with one.
    fn task_words(&self, task: &str) -> String {
        match &self.manifest_arg {
            Some(path) => {
                let path = path.display().to_string();
                let quoted = crate::command::Shell::Posix.quote(&path).unwrap_or(path);
                format!("{task} --manifest-path {quoted}")
            }
            None => task.to_string(),
        }
    }

    /// The functions `selection` names (see [`discovery::select`]); `task` goes into the
    /// ready-made commands of the error that lists them.
    pub fn select(&self, selection: &Selection, task: &str) -> Result<Vec<&Function>> {
        discovery::select(
            &self.functions,
            selection,
            &self.root,
            &self.task_words(task),
        )
    }

    /// The one function `args` names.
    pub fn function(&self, args: &FunctionArgs, task: &str) -> Result<&Function> {
        Ok(self.select(&args.selection(false, Some(Kind::Function)), task)?[0])
    }

    pub fn dist_dir(&self) -> PathBuf {
        self.root.join("dist")
    }

    /// Where a function's artifacts go: `dist/` when the workspace has one function (so this
    /// repository's `dist/lambda-x86_64.zip` stays where it is), `dist/<bin>/` when it has several.
    pub fn function_dist_dir(&self, function: &Function) -> PathBuf {
        // Extensions have a folder of their own; they do not move a lone function's zip.
        let functions = self
            .functions
            .iter()
            .filter(|f| f.kind == Kind::Function)
            .count();
        if functions <= 1 && function.kind == Kind::Function {
            self.dist_dir()
        } else {
            self.dist_dir().join(&function.bin)
        }
    }

    /// `dist/[<bin>/]lambda-<arch>.zip`.
    pub fn default_zip_path(&self, function: &Function, arch: Arch) -> PathBuf {
        self.function_dist_dir(function).join(arch.zip_file_name())
    }

    /// `dist/<bin>/layer-<arch>.zip`: an extension's layer zip.
    pub fn default_layer_path(&self, extension: &Function, arch: Arch) -> PathBuf {
        self.dist_dir()
            .join(&extension.bin)
            .join(format!("layer-{}.zip", arch.lambda_name()))
    }

    /// The workspace's own `Cross.toml`, if it has one.
    pub fn cross_toml(&self) -> Option<PathBuf> {
        Some(self.root.join("Cross.toml")).filter(|p| p.is_file())
    }

    /// The newest modification time of a function's sources (its package's folder, the
    /// workspace's Cargo.toml and Cargo.lock), to warn when a zip is older than them.
    pub fn newest_source_change(&self, function: &Function) -> Option<std::time::SystemTime> {
        fn walk(path: &Path, newest: &mut Option<std::time::SystemTime>, skip: &[PathBuf]) {
            if skip.iter().any(|s| s == path) {
                return;
            }
            let Ok(meta) = std::fs::metadata(path) else {
                return;
            };
            if meta.is_dir() {
                if let Ok(entries) = std::fs::read_dir(path) {
                    for entry in entries.flatten() {
                        walk(&entry.path(), newest, skip);
                    }
                }
            } else if let Ok(modified) = meta.modified() {
                *newest = (*newest).max(Some(modified));
            }
        }
        let package_dir = function.package_dir();
        // A package at the workspace root holds the workspace's other folders too: only its
        // sources count, not dist/, target/ or other packages.
        let mut newest = None;
        let parts: Vec<PathBuf> = if package_dir == self.root {
            ["src", "Cargo.toml"]
                .iter()
                .map(|p| self.root.join(p))
                .collect()
        } else {
            vec![package_dir.to_path_buf(), self.root.join("Cargo.toml")]
        };
        let skip = [self.target_dir.clone(), self.dist_dir()];
        for part in parts.iter().chain([&self.root.join("Cargo.lock")]) {
            walk(part, &mut newest, &skip);
        }
        newest
    }
}
