//! A function's deployment settings, read from `Cargo.toml` in cargo-lambda's schema so that a
//! project configured for cargo-lambda moves over with nothing rewritten:
//!
//! ```toml
//! [workspace.metadata.lambda.deploy]      # defaults for every function of the workspace
//! memory = 512
//! [package.metadata.lambda.deploy]        # one package's functions
//! timeout = 60
//! env = { LOG_LEVEL = "info" }            # or ["LOG_LEVEL=info"]
//! [package.metadata.lambda.bin.NAME.deploy]   # one binary
//! name = "my-function"
//! [package.metadata.lambda.env]           # local runs only (invoke, serve), like cargo-lambda's watch
//! ```
//!
//! Each level is a [`DeploySettings`] of optional values; [`DeploySettings::over`] puts a more
//! specific level over a more general one, and [`DeploySettings::resolve`] fills what is still
//! unset with the kit's defaults. Command-line flags are the topmost level.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::Value;

use crate::runtime::Runtime;
use crate::validate;
use crate::workspace::function_url::{InvokeMode, UrlAuth, UrlLevel};

/// A setting that cannot be used, in the metadata or on the command line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value that is not valid where it is written: `at` names the file, the table and the
    /// key (or the flag).
    #[error("{at}: {problem}")]
    Invalid { at: String, problem: String },
    #[error("{origin} must be a table of settings")]
    NotATable { origin: Origin },
    /// An `env_file` that cannot be read, or holds a bad line.
    #[error("env_file {}: {problem}", path.display())]
    EnvFile { path: PathBuf, problem: String },
    /// The current directory, which the flags' relative paths are read from.
    #[error(transparent)]
    CurrentDir(std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// [`Error::Invalid`] at the place `at` names.
fn invalid(at: &dyn Fn() -> String, problem: impl fmt::Display) -> Error {
    Error::Invalid {
        at: at(),
        problem: problem.to_string(),
    }
}

/// X-Ray tracing of the function (`--tracing-config Mode=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
pub enum Tracing {
    #[value(name = "active", alias = "Active")]
    #[serde(rename = "Active")]
    Active,
    #[value(name = "passthrough", alias = "PassThrough")]
    #[serde(rename = "PassThrough")]
    PassThrough,
}

impl Tracing {
    /// `--tracing` and the `tracing` key: `Active` or `PassThrough`, in any case, as
    /// cargo-lambda takes it.
    pub fn parse(value: &str) -> Result<Tracing, String> {
        match value.to_ascii_lowercase().as_str() {
            "active" => Ok(Tracing::Active),
            "passthrough" => Ok(Tracing::PassThrough),
            _ => Err(format!(
                "{value:?} is not a tracing mode: use Active or PassThrough"
            )),
        }
    }

    /// The mode as the Lambda API spells it.
    pub fn mode(self) -> &'static str {
        match self {
            Tracing::Active => "Active",
            Tracing::PassThrough => "PassThrough",
        }
    }
}

/// Function settings given on the command line: the topmost level, over the `Cargo.toml`
/// metadata levels. Every value goes through the validator that the metadata's key uses.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsFlags {
    /// Lambda function name [default: metadata `name`, else the binary's name].
    #[arg(long, value_parser = validate::function_name)]
    pub function_name: Option<String>,
    /// Execution role ARN for create-function [default: $LAMBDA_ROLE_ARN, else metadata `role`;
    /// when none is set, the printed command reads that variable].
    #[arg(long, env = ROLE_VARIABLE, value_parser = validate::role_arn)]
    pub role: Option<String>,
    /// OS-only runtime the function runs on [default: metadata `runtime`, else provided.al2].
    #[arg(long, value_parser = validate::runtime)]
    pub runtime: Option<Runtime>,
    /// Memory in MB, 128 to 10240; CPU share grows with it [default: metadata `memory`, else 128].
    #[arg(long, value_parser = validate::memory_size)]
    pub memory_size: Option<u32>,
    /// Timeout in seconds, 1 to 900 [default: metadata `timeout`, else 30].
    #[arg(long, value_parser = validate::timeout)]
    pub timeout: Option<u32>,
    /// An environment variable of the function, KEY=VALUE (repeatable; over metadata `env`).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = env_pair)]
    pub env: Vec<(String, String)>,
    /// A dotenv file of environment variables (under `--env`'s).
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<std::path::PathBuf>,
    /// A resource tag, KEY=VALUE (repeatable; over metadata `tags`).
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = tag_pair)]
    pub tags: Vec<(String, String)>,
    /// A layer (repeatable; replaces metadata `layers`): a layer version ARN; for local runs
    /// (invoke, serve) also a layer zip, PATH.zip, unpacked under /opt; or the binary name of an
    /// extension of the workspace, whose layer the kit packages (local runs, templates).
    #[arg(long = "layer", value_name = "ARN|PATH.zip|EXTENSION", value_parser = validate::layer)]
    pub layers: Vec<String>,
    /// X-Ray tracing: Active or PassThrough.
    #[arg(long, value_parser = Tracing::parse)]
    pub tracing: Option<Tracing>,
    /// The function's description.
    #[arg(long, value_parser = validate::description)]
    pub description: Option<String>,
    /// A file or folder to add to the zip: PATH, or NAME:PATH to rename it (repeatable;
    /// replaces metadata `include`).
    #[arg(long = "include", value_name = "[NAME:]PATH")]
    pub include: Vec<String>,
}

fn env_pair(value: &str) -> Result<(String, String), String> {
    let (key, value) = key_value(value)?;
    validate::env_name(&key)?;
    Ok((key, value))
}

fn tag_pair(value: &str) -> Result<(String, String), String> {
    let (key, value) = key_value(value)?;
    validate::tag(&key, &value)?;
    Ok((key, value))
}

impl SettingsFlags {
    /// The flags again as command-line arguments, for a task that starts another with the same
    /// settings (`bench-serve` starts `serve`). Parsing them gives these flags back.
    pub fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = Vec::new();
        let mut push = |flag: &str, value: std::ffi::OsString| {
            args.push(flag.into());
            args.push(value);
        };
        if let Some(name) = &self.function_name {
            push("--function-name", name.into());
        }
        if let Some(role) = &self.role {
            push("--role", role.into());
        }
        if let Some(runtime) = self.runtime {
            push("--runtime", runtime.name().into());
        }
        if let Some(memory) = self.memory_size {
            push("--memory-size", memory.to_string().into());
        }
        if let Some(timeout) = self.timeout {
            push("--timeout", timeout.to_string().into());
        }
        for (key, value) in &self.env {
            push("--env", format!("{key}={value}").into());
        }
        if let Some(file) = &self.env_file {
            push("--env-file", file.into());
        }
        for (key, value) in &self.tags {
            push("--tag", format!("{key}={value}").into());
        }
        for layer in &self.layers {
            push("--layer", layer.into());
        }
        if let Some(tracing) = self.tracing {
            push("--tracing", tracing.mode().into());
        }
        if let Some(description) = &self.description {
            push("--description", description.into());
        }
        for include in &self.include {
            push("--include", include.into());
        }
        args
    }

    /// The flags as a settings level; relative paths are read from `cwd`.
    pub fn level(&self, cwd: &Path) -> Result<DeploySettings> {
        let include = self
            .include
            .iter()
            .map(|item| Include::parse(item, cwd).map_err(|e| invalid(&|| "--include".into(), e)))
            .collect::<Result<Vec<_>>>()?;
        Ok(DeploySettings {
            name: self.function_name.clone(),
            memory: self.memory_size,
            timeout: self.timeout,
            role: self.role.clone(),
            runtime: self.runtime,
            tracing: self.tracing,
            description: self.description.clone(),
            env: self.env.iter().cloned().collect(),
            env_file: self.env_file.as_ref().map(|p| cwd.join(p)),
            tags: self.tags.iter().cloned().collect(),
            layers: (!self.layers.is_empty()).then(|| self.layers.clone()),
            include: (!include.is_empty()).then_some(include),
            function_url: Default::default(),
        })
    }

    /// The settings of a function: these flags over its metadata (`deploy`, the levels of its
    /// `Cargo.toml` tables merged), over the kit's defaults for a binary named `bin`.
    pub fn resolve(&self, deploy: &DeploySettings, bin: &str) -> Result<FunctionSettings> {
        let cwd = std::env::current_dir().map_err(Error::CurrentDir)?;
        self.level(&cwd)?.over(deploy).resolve(bin)
    }
}

/// The shell variable the printed create-function command reads when no `--role` was given.
pub const ROLE_VARIABLE: &str = "LAMBDA_ROLE_ARN";

/// A file or folder added to the zip beside `bootstrap`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Include {
    /// The path inside the zip (relative, `/`-separated).
    pub name: String,
    /// Where it is on disk.
    pub source: PathBuf,
}

impl Include {
    /// `PATH` (kept under its relative path) or `NAME:PATH` (renamed), as cargo-lambda takes
    /// it; a relative PATH is read from `base`.
    pub fn parse(value: &str, base: &Path) -> Result<Include, String> {
        // Split at the first `:`, as cargo-lambda does, so NAME may have folders
        // (`config/app.toml:deploy/prod.toml`); only a Windows drive letter (`C:\x`) is a path.
        let rename = value.split_once(':').filter(|(name, _)| name.len() > 1);
        let (name, path) = match rename {
            Some((name, path)) => (name.to_string(), path),
            None => (value.replace('\\', "/"), value),
        };
        let name = name
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        let escapes = Path::new(&name)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if path.is_empty() || name.is_empty() || escapes {
            return Err(format!(
                "{value:?} is not an include: give a relative PATH (kept under that name in the \
                 zip) or NAME:PATH (NAME relative, without `..`)"
            ));
        }
        if name == crate::runtime::BOOTSTRAP {
            return Err(format!(
                "{value:?} would replace the function's own `bootstrap` in the zip"
            ));
        }
        Ok(Include {
            name,
            source: base.join(path),
        })
    }
}

/// One level of settings: every value optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeploySettings {
    pub name: Option<String>,
    pub memory: Option<u32>,
    pub timeout: Option<u32>,
    pub role: Option<String>,
    pub runtime: Option<Runtime>,
    pub tracing: Option<Tracing>,
    pub description: Option<String>,
    /// Merged key by key across levels.
    pub env: BTreeMap<String, String>,
    /// Read when the settings are resolved; its variables sit under `env`'s.
    pub env_file: Option<PathBuf>,
    /// Merged key by key across levels.
    pub tags: BTreeMap<String, String>,
    pub layers: Option<Vec<String>>,
    pub include: Option<Vec<Include>>,
    /// The function URL `deploy` and `template` give it (`function_url`, `function_url_auth`,
    /// `invoke_mode`).
    pub function_url: UrlLevel,
}

/// What one entry of `layers` names (checked by [`validate::layer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerRef<'a> {
    /// A published layer version.
    Arn(&'a str),
    /// A layer zip on disk (local runs only).
    Zip(&'a Path),
    /// The binary name of an extension of the workspace.
    Extension(&'a str),
}

impl<'a> LayerRef<'a> {
    pub fn of(value: &'a str) -> Self {
        if value.starts_with("arn:") {
            LayerRef::Arn(value)
        } else if value.ends_with(".zip") {
            LayerRef::Zip(Path::new(value))
        } else {
            LayerRef::Extension(value)
        }
    }
}

/// The kit's defaults, under every level.
pub const DEFAULT_MEMORY_MB: u32 = 128;
pub const DEFAULT_TIMEOUT_S: u32 = 30;

/// Settings with every value decided: what the printed commands, `deploy`, the templates and
/// the emulator use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionSettings {
    pub function_name: String,
    pub role: Option<String>,
    pub runtime: Runtime,
    pub memory_size: u32,
    pub timeout: u32,
    pub environment: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub layers: Vec<String>,
    pub tracing: Option<Tracing>,
    pub description: Option<String>,
    #[serde(skip)]
    pub include: Vec<Include>,
}

impl FunctionSettings {
    /// The layers that are not published layer versions (zips, extensions of the workspace):
    /// what a deployment cannot name by ARN.
    pub fn local_layers(&self) -> Vec<&str> {
        self.layers
            .iter()
            .map(String::as_str)
            .filter(|l| !matches!(LayerRef::of(l), LayerRef::Arn(_)))
            .collect()
    }

    /// The kit's defaults for a function named `name`.
    pub fn defaults(name: &str) -> Self {
        FunctionSettings {
            function_name: name.to_string(),
            role: None,
            runtime: Runtime::default(),
            memory_size: DEFAULT_MEMORY_MB,
            timeout: DEFAULT_TIMEOUT_S,
            environment: BTreeMap::new(),
            tags: BTreeMap::new(),
            layers: Vec::new(),
            tracing: None,
            description: None,
            include: Vec::new(),
        }
    }
}

impl DeploySettings {
    /// `self` (the more specific level) over `general`.
    pub fn over(&self, general: &DeploySettings) -> DeploySettings {
        let mut env = general.env.clone();
        env.extend(self.env.clone());
        let mut tags = general.tags.clone();
        tags.extend(self.tags.clone());
        DeploySettings {
            name: self.name.clone().or_else(|| general.name.clone()),
            memory: self.memory.or(general.memory),
            timeout: self.timeout.or(general.timeout),
            role: self.role.clone().or_else(|| general.role.clone()),
            runtime: self.runtime.or(general.runtime),
            tracing: self.tracing.or(general.tracing),
            description: self
                .description
                .clone()
                .or_else(|| general.description.clone()),
            env,
            env_file: self.env_file.clone().or_else(|| general.env_file.clone()),
            tags,
            layers: self.layers.clone().or_else(|| general.layers.clone()),
            include: self.include.clone().or_else(|| general.include.clone()),
            function_url: self.function_url.over(&general.function_url),
        }
    }

    /// Fills what is unset with the defaults; `env_file` variables go under `env`'s.
    /// `env_file` is read here (the one effect), so that a bad file fails the command using it.
    pub fn resolve(&self, bin: &str) -> Result<FunctionSettings> {
        let defaults = FunctionSettings::defaults(bin);
        let mut environment = match &self.env_file {
            Some(path) => read_env_file(path)?,
            None => BTreeMap::new(),
        };
        environment.extend(self.env.clone());
        Ok(FunctionSettings {
            function_name: self.name.clone().unwrap_or(defaults.function_name),
            role: self.role.clone(),
            runtime: self.runtime.unwrap_or(defaults.runtime),
            memory_size: self.memory.unwrap_or(defaults.memory_size),
            timeout: self.timeout.unwrap_or(defaults.timeout),
            environment,
            tags: self.tags.clone(),
            layers: self.layers.clone().unwrap_or_default(),
            tracing: self.tracing,
            description: self.description.clone(),
            include: self.include.clone().unwrap_or_default(),
        })
    }
}

/// A dotenv file (`KEY=VALUE` lines, `#` comments, quotes), as cargo-lambda reads `env_file`.
pub fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>> {
    let mut variables = BTreeMap::new();
    let bad = |problem: String| Error::EnvFile {
        path: path.to_path_buf(),
        problem,
    };
    let iter = dotenvy::from_path_iter(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
    for item in iter {
        let (key, value) = item.map_err(|e| bad(e.to_string()))?;
        validate::env_name(&key).map_err(bad)?;
        variables.insert(key, value);
    }
    Ok(variables)
}

/// Where a settings table was read from, for messages: `Cargo.toml`'s path and the table.
#[derive(Debug, Clone)]
pub struct Origin {
    pub manifest: PathBuf,
    pub table: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: [{}]", self.manifest.display(), self.table)
    }
}

/// What reading one `deploy` table gave: the settings, and a warning per key the kit does not
/// support (ignored, not an error: cargo-lambda has keys the kit does not use).
#[derive(Debug, Clone, Default)]
pub struct ReadTable {
    pub settings: DeploySettings,
    pub warnings: Vec<String>,
}

/// The keys the kit reads (cargo-lambda's names, and its aliases).
pub const SUPPORTED_KEYS: [&str; 21] = [
    "name",
    "memory",
    "timeout",
    "role",
    "iam_role",
    "runtime",
    "tracing",
    "description",
    "env",
    "env_var",
    "env_vars",
    "env_file",
    "tags",
    "tag",
    "layers",
    "layer",
    "include",
    "function_url",
    "enable_function_url",
    "function_url_auth",
    "invoke_mode",
];

/// Reads a `deploy` table. Every value goes through the validator of its command-line flag; an
/// error names the file, the table and the key. Relative paths (`env_file`, `include`) are read
/// from `base`, the folder of the `Cargo.toml` they are written in.
pub fn read_deploy_table(table: &Value, origin: &Origin, base: &Path) -> Result<ReadTable> {
    let Value::Object(entries) = table else {
        return Err(Error::NotATable {
            origin: origin.clone(),
        });
    };
    let mut read = ReadTable::default();
    let settings = &mut read.settings;
    for (key, value) in entries {
        let at = || format!("{origin} {key}");
        match key.as_str() {
            "name" => {
                settings.name = Some(checked(string(value, &at)?, validate::function_name, &at)?)
            }
            "memory" => {
                settings.memory = Some(checked(number(value, &at)?, validate::memory_size, &at)?)
            }
            "timeout" => {
                settings.timeout = Some(checked(number(value, &at)?, validate::timeout, &at)?)
            }
            "role" | "iam_role" => {
                settings.role = Some(checked(string(value, &at)?, validate::role_arn, &at)?)
            }
            "runtime" => {
                let name = string(value, &at)?;
                settings.runtime = Some(checked(name, validate::runtime, &at)?);
            }
            "tracing" => {
                let name = string(value, &at)?;
                settings.tracing = Some(checked(name, Tracing::parse, &at)?);
            }
            "description" => {
                settings.description =
                    Some(checked(string(value, &at)?, validate::description, &at)?)
            }
            "env" | "env_var" | "env_vars" => {
                for (name, value) in pairs(value, &at)? {
                    validate::env_name(&name).map_err(|e| invalid(&at, e))?;
                    settings.env.insert(name, value);
                }
            }
            "env_file" => settings.env_file = Some(base.join(string(value, &at)?)),
            "tags" | "tag" => {
                for (name, value) in pairs(value, &at)? {
                    validate::tag(&name, &value).map_err(|e| invalid(&at, e))?;
                    settings.tags.insert(name, value);
                }
            }
            "layers" | "layer" => {
                let mut layers = strings(value, &at)?;
                for layer in &mut layers {
                    checked(layer.clone(), validate::layer, &at)?;
                    // A zip is named relative to the manifest that names it.
                    if layer.ends_with(".zip") {
                        *layer = base.join(&*layer).to_string_lossy().into_owned();
                    }
                }
                settings.layers = Some(layers);
            }
            "include" => {
                let mut includes = Vec::new();
                for item in strings(value, &at)? {
                    includes.push(Include::parse(&item, base).map_err(|e| invalid(&at, e))?);
                }
                settings.include = Some(includes);
            }
            "function_url" | "enable_function_url" => match value {
                Value::Bool(enabled) => settings.function_url.enabled = Some(*enabled),
                other => {
                    return Err(invalid(
                        &at,
                        format!("expected true or false, found {other}"),
                    ))
                }
            },
            "function_url_auth" => {
                settings.function_url.auth =
                    Some(checked(string(value, &at)?, UrlAuth::parse, &at)?)
            }
            "invoke_mode" => {
                settings.function_url.invoke_mode =
                    Some(checked(string(value, &at)?, InvokeMode::parse, &at)?)
            }
            other => read.warnings.push(format!(
                "warning: {origin} {other} is not supported by this kit and is ignored (supported: \
                 name, memory, timeout, role, runtime, tracing, description, env, env_file, tags, \
                 layers, include, function_url, function_url_auth, invoke_mode)"
            )),
        }
    }
    Ok(read)
}

fn checked<T>(
    value: String,
    validator: fn(&str) -> Result<T, String>,
    at: &dyn Fn() -> String,
) -> Result<T> {
    validator(&value).map_err(|e| invalid(at, e))
}

fn string(value: &Value, at: &dyn Fn() -> String) -> Result<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(invalid(at, format!("expected a string, found {other}"))),
    }
}

/// A whole number, written as a TOML integer or as a string.
fn number(value: &Value, at: &dyn Fn() -> String) -> Result<String> {
    match value {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        other => Err(invalid(
            at,
            format!("expected a whole number, found {other}"),
        )),
    }
}

/// A list of strings, or one string of comma-separated items.
fn strings(value: &Value, at: &dyn Fn() -> String) -> Result<Vec<String>> {
    match value {
        Value::String(s) => Ok(s.split(',').map(|p| p.trim().to_string()).collect()),
        Value::Array(items) => items.iter().map(|item| string(item, at)).collect(),
        other => Err(invalid(
            at,
            format!("expected a list of strings, found {other}"),
        )),
    }
}

/// A table `{ KEY = "VALUE" }` or a list `["KEY=VALUE"]`, as cargo-lambda takes env and tags.
fn pairs(value: &Value, at: &dyn Fn() -> String) -> Result<Vec<(String, String)>> {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                other => Err(invalid(at, format!("{k} must be a string, found {other}"))),
            })
            .collect(),
        Value::Array(_) | Value::String(_) => strings(value, at)?
            .into_iter()
            .map(|item| match item.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    Ok((k.trim().to_string(), v.trim().to_string()))
                }
                _ => Err(invalid(at, format!("{item:?} is not KEY=VALUE"))),
            })
            .collect(),
        other => Err(invalid(
            at,
            format!(
                "expected a table {{ KEY = \"VALUE\" }} or a list of \"KEY=VALUE\", found {other}"
            ),
        )),
    }
}

/// `KEY=VALUE`, for the `--env` and `--tag` flags.
pub fn key_value(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{value:?} is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// No flag given is no level: the metadata and the defaults decide.
    #[test]
    fn no_flags_leave_the_settings_to_the_metadata_and_the_defaults() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            settings: SettingsFlags,
        }
        std::env::remove_var(ROLE_VARIABLE);
        let parsed = <Cli as clap::Parser>::try_parse_from(["cli"])
            .unwrap()
            .settings;
        let level = parsed.level(Path::new("/")).unwrap();
        assert_eq!(level, DeploySettings::default());
        let parsed = <Cli as clap::Parser>::try_parse_from([
            "cli",
            "--memory-size",
            "512",
            "--env",
            "A=1",
            "--env",
            "B=x=y",
            "--tag",
            "t=v",
            "--layer",
            "arn:aws:lambda:us-east-1:123456789012:layer:l:1",
            "--tracing",
            "Active",
        ])
        .unwrap()
        .settings;
        let level = parsed.level(Path::new("/")).unwrap();
        assert_eq!(level.memory, Some(512));
        assert_eq!(level.env["B"], "x=y");
        assert_eq!(level.tags["t"], "v");
        assert_eq!(level.tracing, Some(Tracing::Active));
        assert!(<Cli as clap::Parser>::try_parse_from(["cli", "--env", "1A=x"]).is_err());
        assert!(<Cli as clap::Parser>::try_parse_from(["cli", "--layer", "no pe"]).is_err());
    }

    fn origin() -> Origin {
        Origin {
            manifest: PathBuf::from("/ws/fn/Cargo.toml"),
            table: "package.metadata.lambda.deploy".into(),
        }
    }

    #[test]
    fn reads_cargo_lambda_keys_and_aliases() {
        let table = json!({
            "memory": 512, "timeout": "60", "iam_role": "arn:aws:iam::123456789012:role/r",
            "runtime": "provided.al2023", "tracing": "active", "description": "d",
            "env": {"A": "1", "B": 2}, "tag": ["team=pi"], "layers": ["arn:aws:lambda:us-east-1:123456789012:layer:l:3"],
            "include": ["static", "cfg.json:config/prod.json"], "env_file": ".env",
        });
        let read = read_deploy_table(&table, &origin(), Path::new("/ws/fn")).unwrap();
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        let s = read.settings;
        assert_eq!(s.memory, Some(512));
        assert_eq!(s.timeout, Some(60));
        assert_eq!(s.role.as_deref(), Some("arn:aws:iam::123456789012:role/r"));
        assert_eq!(s.runtime, Some(Runtime::ProvidedAl2023));
        assert_eq!(s.tracing, Some(Tracing::Active));
        assert_eq!(s.env["B"], "2");
        assert_eq!(s.tags["team"], "pi");
        assert_eq!(s.env_file, Some(PathBuf::from("/ws/fn/.env")));
        let include = s.include.unwrap();
        assert_eq!(include[0].name, "static");
        assert_eq!(include[0].source, PathBuf::from("/ws/fn/static"));
        assert_eq!(include[1].name, "cfg.json");
        assert_eq!(include[1].source, PathBuf::from("/ws/fn/config/prod.json"));
    }

    #[test]
    fn reads_the_function_url_keys_and_cargo_lambdas_name() {
        use crate::workspace::function_url::{InvokeMode, UrlAuth, UrlSettings};
        let table = json!({"enable_function_url": true, "invoke_mode": "RESPONSE_STREAM"});
        let read = read_deploy_table(&table, &origin(), Path::new("/ws")).unwrap();
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        assert_eq!(
            read.settings.function_url.resolve(),
            Some(UrlSettings {
                auth: UrlAuth::None,
                invoke_mode: InvokeMode::ResponseStream
            })
        );
        let table = json!({"function_url": true, "function_url_auth": "AWS_IAM"});
        let read = read_deploy_table(&table, &origin(), Path::new("/ws")).unwrap();
        assert_eq!(read.settings.function_url.auth, Some(UrlAuth::AwsIam));
        for (key, value) in [
            ("function_url", json!("yes")),
            ("function_url_auth", json!("PUBLIC")),
            ("invoke_mode", json!("STREAM")),
        ] {
            let err = read_deploy_table(&json!({ key: value }), &origin(), Path::new("/ws"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn bad_values_name_the_file_the_table_and_the_key() {
        for (key, value, says) in [
            ("memory", json!(64), "memory size"),
            ("timeout", json!(901), "timeout"),
            ("role", json!("admin"), "IAM role ARN"),
            ("runtime", json!("nodejs20.x"), "provided.al2023"),
            ("tracing", json!("loud"), "Active"),
            ("env", json!({"1BAD": "x"}), "environment variable name"),
            ("tags", json!(["novalue"]), "KEY=VALUE"),
            ("layers", json!(["arn:aws:lambda:x"]), "layer version ARN"),
            (
                "layers",
                json!(["no such/layer"]),
                "extension of the workspace",
            ),
            ("include", json!(["../secrets"]), "relative"),
            ("memory", json!(true), "whole number"),
        ] {
            let err = read_deploy_table(&json!({ key: value }), &origin(), Path::new("/ws"))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("/ws/fn/Cargo.toml: [package.metadata.lambda.deploy] "),
                "{err}"
            );
            assert!(err.contains(key) && err.contains(says), "{key}: {err}");
        }
    }

    #[test]
    fn unknown_keys_are_one_line_warnings() {
        let read = read_deploy_table(
            &json!({"memory": 256, "subnet_ids": ["s-1"]}),
            &origin(),
            Path::new("/ws"),
        )
        .unwrap();
        assert_eq!(read.settings.memory, Some(256));
        assert_eq!(read.warnings.len(), 1);
        assert!(read.warnings[0].contains("subnet_ids is not supported"));
        assert!(!read.warnings[0].contains('\n'));
    }

    #[test]
    fn specific_levels_win_and_maps_merge_by_key() {
        let workspace = DeploySettings {
            memory: Some(256),
            timeout: Some(10),
            env: BTreeMap::from([("A".into(), "ws".into()), ("B".into(), "ws".into())]),
            ..Default::default()
        };
        let package = DeploySettings {
            timeout: Some(20),
            env: BTreeMap::from([("B".into(), "pkg".into())]),
            ..Default::default()
        };
        let bin = DeploySettings {
            name: Some("fn-one".into()),
            ..Default::default()
        };
        let merged = bin.over(&package.over(&workspace));
        let resolved = merged.resolve("one").unwrap();
        assert_eq!(resolved.function_name, "fn-one");
        assert_eq!(resolved.memory_size, 256);
        assert_eq!(resolved.timeout, 20);
        assert_eq!(resolved.environment["A"], "ws");
        assert_eq!(resolved.environment["B"], "pkg");
        let defaults = DeploySettings::default().resolve("calculate-pi").unwrap();
        assert_eq!(defaults, FunctionSettings::defaults("calculate-pi"));
        assert_eq!(defaults.memory_size, 128);
        assert_eq!(defaults.timeout, 30);
    }

    #[test]
    fn env_file_variables_sit_under_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(&file, "# comment\nA=file\nexport C='quoted value'\n").unwrap();
        let settings = DeploySettings {
            env_file: Some(file),
            env: BTreeMap::from([("A".into(), "table".into())]),
            ..Default::default()
        };
        let env = settings.resolve("f").unwrap().environment;
        assert_eq!(env["A"], "table");
        assert_eq!(env["C"], "quoted value");
        let missing = DeploySettings {
            env_file: Some(dir.path().join("nope")),
            ..Default::default()
        };
        assert!(missing
            .resolve("f")
            .unwrap_err()
            .to_string()
            .contains("cannot be read"));
    }

    #[test]
    fn includes_keep_or_rename() {
        let base = Path::new("/ws");
        assert_eq!(Include::parse("a/b.txt", base).unwrap().name, "a/b.txt");
        let renamed = Include::parse("conf:etc/x.conf", base).unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.source),
            ("conf", PathBuf::from("/ws/etc/x.conf"))
        );
        let nested = Include::parse("config/app.toml:deploy/prod.toml", base).unwrap();
        assert_eq!(nested.name, "config/app.toml");
        assert_eq!(nested.source, base.join("deploy/prod.toml"));
        assert!(Include::parse("bootstrap", base).is_err());
        assert!(Include::parse("/etc/passwd", base).is_err());
        assert!(
            Include::parse("x:../y", base).is_ok(),
            "the source may be anywhere"
        );
        assert!(Include::parse("../y:z", base).is_err());
    }
}
