//! Finding a workspace's Lambda functions as cargo-lambda does: every binary target of every
//! workspace package that depends on `lambda_runtime` or `lambda_http` (or drives the Runtime API
//! itself with their `lambda_runtime_api_client`), with its settings from the three levels of
//! `[*.metadata.lambda]`; and its Lambda extensions: the binaries of the other packages that
//! depend on `lambda-extension` (a package that depends on both runs its extension inside the
//! function's process, an "internal" extension, and is a function). Pure: it reads `cargo
//! metadata`'s answer only.

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, Package};
use serde_json::Value;

use crate::events::{self, EventSource};
use crate::workspace::settings::{self, DeploySettings, FunctionSettings, Origin, SettingsFlags};
use crate::workspace::{Error, Result};

/// The crates whose dependents are Lambda functions.
pub const RUNTIME_CRATES: [&str; 3] =
    ["lambda_runtime", "lambda_http", "lambda_runtime_api_client"];

/// The crate whose dependents (that are not functions) are external extensions. Cargo reports
/// a dependency by its package name; `lambda_extension` is the same crate's library name.
pub const EXTENSION_CRATES: [&str; 2] = ["lambda-extension", "lambda_extension"];

/// What a binary is to Lambda: the function itself (zipped as `bootstrap`), or an external
/// extension (shipped in a layer as `extensions/<bin>`, started beside the function).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Function,
    Extension,
}

impl Kind {
    /// "function" or "extension", as messages say it.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Function => "function",
            Kind::Extension => "extension",
        }
    }

    /// The flag that chooses this kind (`--extension`), empty for a function.
    fn flag(self) -> &'static str {
        match self {
            Kind::Function => "",
            Kind::Extension => " --extension",
        }
    }
}

/// One Lambda function (or extension): a binary target of a package.
#[derive(Debug, Clone)]
pub struct Function {
    pub package: String,
    pub bin: String,
    pub kind: Kind,
    /// The package's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The deploy settings of the workspace, package and binary levels, merged.
    pub deploy: DeploySettings,
    /// Variables of the `env` tables beside `deploy`: local runs only (invoke, serve).
    pub local_env: std::collections::BTreeMap<String, String>,
    /// How its package depends on `lambda_http`, if it does: the features say which HTTP
    /// events it accepts (`serve`'s front door).
    pub lambda_http: Option<LambdaHttp>,
    /// The event its `invoke` table names (the most specific level's), for local runs and
    /// printed invoke commands.
    pub event: Option<EventSource>,
}

/// A package's `lambda_http` dependency as `cargo metadata` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaHttp {
    pub default_features: bool,
    pub features: Vec<String>,
}

impl LambdaHttp {
    /// The package's normal dependency on `lambda_http`, if any.
    pub fn of_package(package: &Package) -> Option<LambdaHttp> {
        package
            .dependencies
            .iter()
            .find(|d| d.name == "lambda_http" && d.kind == cargo_metadata::DependencyKind::Normal)
            .map(|d| LambdaHttp {
                default_features: d.uses_default_features,
                features: d.features.clone(),
            })
    }
}

impl Function {
    pub fn package_dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(Path::new("."))
    }

    /// `--package P --bin B`, the flags that choose this function.
    pub fn selector(&self) -> String {
        format!("--package {} --bin {}", self.package, self.bin)
    }

    /// Its settings: `flags` over its metadata, over the kit's defaults.
    pub fn settings(&self, flags: &SettingsFlags) -> settings::Result<FunctionSettings> {
        flags.resolve(&self.deploy, &self.bin)
    }

    /// A function known by name only (a zip or binary given as a file, outside a workspace):
    /// no metadata, so its settings are the flags over the kit's defaults.
    pub fn named(name: &str, manifest_path: PathBuf) -> Function {
        Function {
            package: name.to_string(),
            bin: name.to_string(),
            manifest_path,
            kind: Kind::Function,
            deploy: DeploySettings::default(),
            local_env: Default::default(),
            lambda_http: None,
            event: None,
        }
    }

    /// The event a run of it sends when no flag names one: its own, else `{}`.
    pub fn default_event(&self) -> EventSource {
        self.event.clone().unwrap_or(EventSource::Empty)
    }
}

/// What `cargo metadata` says of a workspace, reduced to what the kit uses.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub functions: Vec<Function>,
    /// The name the workspace's folder takes in the binaries' embedded paths.
    pub path_name: String,
    /// One line per metadata key the kit ignores.
    pub warnings: Vec<String>,
}

pub fn discover(metadata: &Metadata) -> Result<Discovered> {
    let root = metadata.workspace_root.as_std_path().to_path_buf();
    let root_manifest = root.join("Cargo.toml");
    let mut warnings = Vec::new();
    let workspace_level = read_level(
        metadata.workspace_metadata.get("lambda"),
        &root_manifest,
        "workspace.metadata.lambda",
        &mut warnings,
    )?;
    let mut functions = Vec::new();
    for package in metadata.workspace_packages() {
        let depends_on = |crates: &[&str]| {
            package.dependencies.iter().any(|d| {
                crates.contains(&d.name.as_str())
                    && d.kind == cargo_metadata::DependencyKind::Normal
            })
        };
        let kind = if depends_on(&RUNTIME_CRATES) {
            Kind::Function
        } else if depends_on(&EXTENSION_CRATES) {
            Kind::Extension
        } else {
            continue;
        };
        functions.extend(functions_of(
            package,
            kind,
            &workspace_level,
            &mut warnings,
        )?);
    }
    functions.sort_by(|a, b| (a.kind, &a.package, &a.bin).cmp(&(b.kind, &b.package, &b.bin)));
    // The root package's name (this repository's: calculate-pi), or in a virtual workspace the
    // first member's: a name from the sources, the same for every clone and every function of
    // the workspace. One name for all functions keeps one set of compiler flags, so that cargo
    // builds the dependencies once for all of them.
    let path_name = metadata
        .root_package()
        .or_else(|| {
            metadata
                .workspace_packages()
                .into_iter()
                .min_by_key(|p| p.name.as_str())
        })
        .map_or_else(|| "workspace".to_string(), |p| p.name.to_string());
    Ok(Discovered {
        root,
        target_dir: metadata.target_directory.as_std_path().to_path_buf(),
        functions,
        path_name,
        warnings,
    })
}

/// The `deploy`, `env` and `invoke` tables of one level.
#[derive(Debug, Clone, Default)]
struct Level {
    deploy: DeploySettings,
    env: std::collections::BTreeMap<String, String>,
    event: Option<EventSource>,
}

/// `lambda` is the level's table: `[workspace.metadata.lambda]`, `[package.metadata.lambda]` or
/// `[package.metadata.lambda.bin.NAME]`, named `table` in messages.
fn read_level(
    lambda: Option<&Value>,
    manifest: &Path,
    table: &str,
    warnings: &mut Vec<String>,
) -> Result<Level> {
    let Some(lambda) = lambda.filter(|v| !v.is_null()) else {
        return Ok(Level::default());
    };
    let base = manifest.parent().unwrap_or(Path::new("."));
    let mut level = Level::default();
    if let Some(deploy) = lambda.get("deploy") {
        let origin = Origin {
            manifest: manifest.to_path_buf(),
            table: format!("{table}.deploy"),
        };
        let read = settings::read_deploy_table(deploy, &origin, base)?;
        warnings.extend(read.warnings);
        level.deploy = read.settings;
    }
    if let Some(env) = lambda.get("env") {
        // The same reading as deploy's `env` key, so the same checks and messages.
        let origin = Origin {
            manifest: manifest.to_path_buf(),
            table: table.to_string(),
        };
        let wrapped = serde_json::json!({ "env": env });
        level.env = settings::read_deploy_table(&wrapped, &origin, base)?
            .settings
            .env;
    }
    if let Some(invoke) = lambda.get("invoke") {
        level.event = events::read_invoke_table(invoke, base).map_err(|problem| {
            settings::Error::Invalid {
                at: format!("{}: [{table}.invoke]", manifest.display()),
                problem,
            }
        })?;
    }
    Ok(level)
}

fn functions_of(
    package: &Package,
    kind: Kind,
    workspace: &Level,
    warnings: &mut Vec<String>,
) -> Result<Vec<Function>> {
    let manifest = package.manifest_path.as_std_path();
    let package_level = read_level(
        package.metadata.get("lambda"),
        manifest,
        "package.metadata.lambda",
        warnings,
    )?;
    let bins_table = package.metadata.get("lambda").and_then(|l| l.get("bin"));
    let mut functions = Vec::new();
    for target in package.targets.iter().filter(|t| t.is_bin()) {
        let bin_level = read_level(
            bins_table.and_then(|b| b.get(&target.name)),
            manifest,
            &format!("package.metadata.lambda.bin.{}", target.name),
            warnings,
        )?;
        let mut local_env = workspace.env.clone();
        local_env.extend(package_level.env.clone());
        local_env.extend(bin_level.env.clone());
        functions.push(Function {
            package: package.name.to_string(),
            bin: target.name.clone(),
            kind,
            manifest_path: manifest.to_path_buf(),
            deploy: bin_level
                .deploy
                .over(&package_level.deploy.over(&workspace.deploy)),
            local_env,
            lambda_http: LambdaHttp::of_package(package),
            event: (bin_level.event.clone())
                .or_else(|| package_level.event.clone())
                .or_else(|| workspace.event.clone()),
        });
    }
    Ok(functions)
}

/// Which functions a task is for: `--package`, `--bin`, `--all`, and of which kind: functions,
/// extensions (`--extension`), or both (`kind: None`, what `package --all` takes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub package: Option<String>,
    pub bin: Option<String>,
    pub all: bool,
    pub kind: Option<Kind>,
}

/// The functions (or extensions) `selection` names. With no choice made, the workspace's only
/// one; with several, an error that lists them all with the command for each, extensions with
/// `--extension`.
pub fn select<'a>(
    functions: &'a [Function],
    selection: &Selection,
    root: &Path,
    task: &str,
) -> Result<Vec<&'a Function>> {
    let list = |fs: &[&Function]| {
        fs.iter()
            .map(|f| {
                let line = format!("  cargo xtask {task}{} {}", f.kind.flag(), f.selector());
                match f.kind {
                    Kind::Function => line,
                    Kind::Extension => format!("{line}   (extension)"),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let all: Vec<&Function> = functions.iter().collect();
    let of_kind: Vec<&Function> = functions
        .iter()
        .filter(|f| selection.kind.is_none_or(|k| f.kind == k))
        .collect();
    if of_kind.is_empty() {
        let manifest = root.join("Cargo.toml");
        return Err(match selection.kind {
            Some(Kind::Extension) => Error::NoExtension {
                manifest,
                functions: list(&all),
            },
            _ if !all.is_empty() => Error::OnlyExtensions {
                manifest,
                extensions: list(&all),
            },
            _ => Error::NoFunction { manifest },
        });
    }
    let chosen: Vec<&Function> = of_kind
        .iter()
        .copied()
        .filter(|f| selection.package.as_ref().is_none_or(|p| &f.package == p))
        .filter(|f| selection.bin.as_ref().is_none_or(|b| &f.bin == b))
        .collect();
    if chosen.is_empty() {
        let asked = [
            selection.package.as_ref().map(|p| format!("--package {p}")),
            selection.bin.as_ref().map(|b| format!("--bin {b}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        return Err(Error::NoMatch {
            kind: selection.kind.unwrap_or_default().noun(),
            asked,
            functions: list(&all),
        });
    }
    if chosen.len() > 1 && !selection.all {
        // The other kind's binaries are listed too: the one wanted may be among them.
        let others: Vec<&Function> = all
            .iter()
            .copied()
            .filter(|f| !chosen.iter().any(|c| std::ptr::eq(*c, *f)))
            .collect();
        let mut functions = list(&chosen);
        if !others.is_empty() {
            functions = format!("{functions}\n{}", list(&others));
        }
        return Err(Error::Ambiguous {
            count: chosen.len(),
            kind: selection.kind.unwrap_or_default().noun(),
            functions,
        });
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(package: &str, bin: &str) -> Function {
        Function {
            package: package.into(),
            bin: bin.into(),
            kind: Kind::Function,
            manifest_path: PathBuf::from(format!("/ws/{package}/Cargo.toml")),
            deploy: DeploySettings::default(),
            local_env: Default::default(),
            lambda_http: None,
            event: None,
        }
    }

    #[test]
    fn one_function_needs_no_choice() {
        let fs = [function("pi", "pi")];
        let chosen = select(&fs, &Selection::default(), Path::new("/ws"), "package").unwrap();
        assert_eq!(chosen[0].bin, "pi");
    }

    #[test]
    fn several_functions_are_listed_with_a_command_each() {
        let fs = [
            function("a", "one"),
            function("a", "two"),
            function("b", "three"),
        ];
        let err = select(&fs, &Selection::default(), Path::new("/ws"), "invoke")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("3 Lambda functions match"), "{err}");
        for f in &fs {
            assert!(
                err.contains(&format!(
                    "cargo xtask invoke --package {} --bin {}",
                    f.package, f.bin
                )),
                "{err}"
            );
        }
        let by_package = Selection {
            package: Some("a".into()),
            ..Default::default()
        };
        let err = select(&fs, &by_package, Path::new("/ws"), "package")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("2 Lambda functions match"), "{err}");
        let all = Selection {
            package: Some("a".into()),
            all: true,
            ..Default::default()
        };
        assert_eq!(
            select(&fs, &all, Path::new("/ws"), "package")
                .unwrap()
                .len(),
            2
        );
        let bin = Selection {
            bin: Some("three".into()),
            ..Default::default()
        };
        assert_eq!(
            select(&fs, &bin, Path::new("/ws"), "package").unwrap()[0].package,
            "b"
        );
        let none = Selection {
            bin: Some("four".into()),
            ..Default::default()
        };
        let err = select(&fs, &none, Path::new("/ws"), "package")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no Lambda function matches --bin four"),
            "{err}"
        );
        assert!(
            select(&[], &Selection::default(), Path::new("/ws"), "package")
                .unwrap_err()
                .to_string()
                .contains("has no Lambda function")
        );
    }

    #[test]
    fn extensions_are_chosen_with_their_flag_and_listed_as_extensions() {
        let mut ext = function("logger", "logger");
        ext.kind = Kind::Extension;
        let fs = [function("pi", "pi"), ext];
        let functions = Selection {
            kind: Some(Kind::Function),
            ..Default::default()
        };
        // The extension does not make the lone function ambiguous.
        let chosen = select(&fs, &functions, Path::new("/ws"), "invoke").unwrap();
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].bin, "pi");
        let extensions = Selection {
            kind: Some(Kind::Extension),
            ..Default::default()
        };
        let chosen = select(&fs, &extensions, Path::new("/ws"), "package").unwrap();
        assert_eq!(chosen[0].bin, "logger");
        // Both kinds: ambiguous, and the list says which is which.
        let err = select(&fs, &Selection::default(), Path::new("/ws"), "package")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "cargo xtask package --extension --package logger --bin logger   (extension)"
            ),
            "{err}"
        );
        assert!(
            err.contains("cargo xtask package --package pi --bin pi\n"),
            "{err}"
        );
        // A workspace of extensions only: asking for a function says how to package them.
        let only = [fs[1].clone()];
        let err = select(&only, &functions, Path::new("/ws"), "package")
            .unwrap_err()
            .to_string();
        assert!(err.contains("only extensions"), "{err}");
        assert!(err.contains("--extension --package logger"), "{err}");
        let err = select(&fs[..1], &extensions, Path::new("/ws"), "package")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has no Lambda extension"), "{err}");
    }
}
