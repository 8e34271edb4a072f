//! Running a function on this machine (`invoke`, `serve`, `bench-serve`): which code runs
//! ([`CodeArgs`]: the function's zip, packaged first when it is missing, or a given zip or
//! bootstrap), the settings it runs with ([`RunArgs`]), and the emulator's configuration made
//! from both ([`RunArgs::config`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::builder::BuildArgs;
use crate::emulator::{DeadlineHeader, FunctionCode, FunctionConfig};
use crate::error::{bail, Failure};
use crate::events::EventSource;
use crate::pipeline::{Error, Lambda, Result};
use crate::workspace::settings::{FunctionSettings, LayerRef, SettingsFlags};
use crate::workspace::{Function, FunctionArgs, Kind, LambdaHttp};

/// `invoke`, `serve` and `bench` run the function's Linux bootstrap on this machine: they stop
/// here, before starting anything, on any other host.
pub fn require_linux_host(task: &str) -> std::result::Result<(), Failure> {
    if cfg!(target_os = "linux") {
        return Ok(());
    }
    bail!(
        "`cargo xtask {task}` runs the function's Linux bootstrap on this machine, so it needs \
         Linux: run it in WSL 2 on Windows, or in a Linux VM or container (on macOS too); \
         package, deploy and image work here"
    )
}

/// Which code runs: shared by `invoke`, `serve` and `bench-serve`.
#[derive(Debug, Clone, Args)]
pub struct CodeArgs {
    #[command(flatten)]
    pub function: FunctionArgs,
    /// Architecture of the function's zip (packaged first if it is missing), and how to
    /// build it.
    #[command(flatten)]
    pub build: BuildArgs,
    /// Run this deployment zip instead of the function's dist/…/lambda-<arch>.zip.
    #[arg(long, conflicts_with = "bootstrap")]
    pub zip: Option<PathBuf>,
    /// Run this bootstrap executable as it stands (for example one taken from an image).
    #[arg(long)]
    pub bootstrap: Option<PathBuf>,
    /// Package the zip first even when it exists, so that it holds the current sources (cargo
    /// rebuilds only what changed; the same binary gives the same zip).
    #[arg(long, conflicts_with_all = ["zip", "bootstrap"])]
    pub rebuild: bool,
}

/// The function to run locally: its code and the settings it runs with.
pub struct LocalFunction {
    pub code: FunctionCode,
    pub settings: FunctionSettings,
    /// The `[*.metadata.lambda.env]` variables, for local runs only.
    pub local_env: BTreeMap<String, String>,
    /// Its `lambda_http` dependency (`None` for a file given outside a workspace).
    pub lambda_http: Option<LambdaHttp>,
    /// The event its `[*.metadata.lambda.invoke]` table names, if any.
    pub event: Option<EventSource>,
    /// The layer zips it runs with, in order (`--layer`, else metadata `layers`): zips as
    /// given, extensions of the workspace packaged for the function's architecture.
    pub layers: Vec<PathBuf>,
}

impl CodeArgs {
    /// The code to run and its settings (the flags over the function's `Cargo.toml` metadata);
    /// packages the function's zip when it is needed and missing. With `--zip` or
    /// `--bootstrap` outside a workspace, the settings are the flags over the kit's defaults.
    pub fn resolve(&self, flags: &SettingsFlags, task: &str) -> Result<LocalFunction> {
        let given = match (&self.bootstrap, &self.zip) {
            (Some(bootstrap), _) => Some(FunctionCode::Bootstrap(bootstrap.clone())),
            (None, Some(zip)) if !zip.is_file() => bail!("--zip {}: no such file", zip.display()),
            (None, Some(zip)) => Some(FunctionCode::Zip(zip.clone())),
            (None, None) => None,
        };
        let lambda = match Lambda::from_flags(&self.function, flags, &self.build, task) {
            Ok(lambda) => Some(lambda),
            // A given file needs no workspace: its settings come from one when there is one.
            Err(Error::Workspace(_)) if given.is_some() => None,
            Err(error) => return Err(error),
        };
        let layers = local_layers(&self.build, lambda.as_ref(), flags, self.rebuild)?;
        let (code, function, settings) = match (given, lambda) {
            (Some(code), Some(lambda)) => (code, lambda.function, lambda.settings),
            (Some(code), None) => {
                let function = Function::named("function", PathBuf::from("Cargo.toml"));
                let settings = function.settings(flags)?;
                (code, function, settings)
            }
            (None, Some(lambda)) => {
                let (zip, _) = lambda.ensure_zip(self.rebuild)?;
                (
                    FunctionCode::Zip(zip.path),
                    lambda.function,
                    lambda.settings,
                )
            }
            (None, None) => unreachable!("without a given file the function was found or failed"),
        };
        let mut local = LocalFunction::of(code, function, settings, flags);
        local.layers = layers;
        Ok(local)
    }
}

/// The layer zips a local run unpacks under `/opt`, in the order the settings list them
/// (`--layer` replaces metadata `layers`): a zip as given; an extension of the workspace, its
/// layer packaged first when missing (or with `--rebuild`) for the function's architecture. A
/// published layer version (ARN) cannot be fetched: it is left out, with a warning.
pub fn local_layers(
    build: &BuildArgs,
    lambda: Option<&Lambda>,
    flags: &SettingsFlags,
    rebuild: bool,
) -> Result<Vec<PathBuf>> {
    let listed: Vec<String> = match lambda {
        Some(lambda) => lambda.settings.layers.clone(),
        None => flags.layers.clone(),
    };
    let mut layers = Vec::new();
    for layer in &listed {
        match LayerRef::of(layer) {
            LayerRef::Arn(arn) => eprintln!(
                "warning: the layer {arn} is a published layer version, which local runs \
                 cannot fetch: running without it (pass its zip with --layer PATH.zip)"
            ),
            LayerRef::Zip(zip) => {
                if !zip.is_file() {
                    bail!("the layer {}: no such file", zip.display());
                }
                layers.push(zip.to_path_buf());
            }
            LayerRef::Extension(name) => {
                let Some(lambda) = lambda else {
                    bail!(
                        "the layer {name:?} names an extension of a workspace, and there is no \
                         workspace here: pass its layer zip with --layer PATH.zip"
                    );
                };
                let found = lambda
                    .workspace
                    .functions
                    .iter()
                    .find(|f| f.kind == Kind::Extension && f.bin == name);
                let Some(extension) = found else {
                    let known: Vec<&str> = lambda
                        .workspace
                        .functions
                        .iter()
                        .filter(|f| f.kind == Kind::Extension)
                        .map(|f| f.bin.as_str())
                        .collect();
                    bail!(
                        "the layer {name:?} is neither a zip (PATH.zip) nor an ARN, and the \
                         workspace has no extension of that name (its extensions: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    );
                };
                let layer = Lambda {
                    workspace: Arc::clone(&lambda.workspace),
                    function: extension.clone(),
                    settings: lambda.settings.clone(),
                    build: build.clone(),
                };
                layers.push(layer.ensure_layer(rebuild)?);
            }
        }
    }
    Ok(layers)
}

impl LocalFunction {
    /// `code` run with the settings of `function`.
    pub fn of(
        code: FunctionCode,
        function: Function,
        settings: FunctionSettings,
        flags: &SettingsFlags,
    ) -> LocalFunction {
        // Flags come first, then the local `env` tables, then the deploy settings.
        let flagged: BTreeSet<&String> = flags.env.iter().map(|(k, _)| k).collect();
        let lambda_http = function.lambda_http;
        let local_env = function
            .local_env
            .into_iter()
            .filter(|(k, _)| !flagged.contains(k))
            .collect();
        LocalFunction {
            code,
            settings,
            event: function.event,
            local_env,
            lambda_http,
            layers: Vec::new(),
        }
    }
}

/// The function's configuration when it runs locally: shared by `invoke`, `serve` and
/// `bench-serve`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The function's settings, over its `Cargo.toml` metadata (memory, timeout, env, …).
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// Region the function believes it runs in (AWS_REGION) [default: us-east-1, or with
    /// --pass-aws-settings your AWS_REGION / AWS_DEFAULT_REGION].
    #[arg(long)]
    pub region: Option<String>,
    /// Hand your AWS settings to the function, so that one on the AWS SDK reaches moto,
    /// LocalStack or a real account: every AWS_* variable of your environment (credentials,
    /// AWS_PROFILE, AWS_ENDPOINT_URL…, not the AWS_LAMBDA_* ones the emulator sets), your
    /// region, and your ~/.aws config and credentials files. Off by default; the values are
    /// never printed.
    #[arg(long)]
    pub pass_aws_settings: bool,
    /// What the Runtime API's Lambda-Runtime-Deadline-Ms header carries: `absolute` (Unix
    /// milliseconds, as Lambda sends), or an odd value other hosts send, to check that the
    /// function survives it: `relative` (the milliseconds left), `zero`, `garbage`, `omit`.
    /// The timeout is enforced in every case.
    #[arg(long, value_enum, default_value_t = DeadlineHeader::Absolute)]
    pub deadline_header: DeadlineHeader,
}

/// The region a local run reports when none is given.
pub const DEFAULT_REGION: &str = "us-east-1";

impl RunArgs {
    /// The flags again as command-line arguments: `bench-serve` starts `serve` with them.
    pub fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut args = self.settings.to_args();
        if let Some(region) = &self.region {
            args.extend(["--region".into(), region.clone().into()]);
        }
        if self.pass_aws_settings {
            args.push("--pass-aws-settings".into());
        }
        if let Some(value) = self.deadline_header.to_possible_value() {
            args.extend(["--deadline-header".into(), value.get_name().into()]);
        }
        args
    }

    /// The region the function runs in: `--region`, else (with `--pass-aws-settings`) the
    /// caller's, else [`DEFAULT_REGION`].
    pub fn region(&self) -> String {
        let callers = || {
            ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()))
        };
        self.region
            .clone()
            .or_else(|| self.pass_aws_settings.then(callers).flatten())
            .unwrap_or_else(|| DEFAULT_REGION.to_string())
    }

    pub fn config(&self, local: &LocalFunction) -> FunctionConfig {
        let mut environment = local.settings.environment.clone();
        environment.extend(local.local_env.clone());
        if self.pass_aws_settings {
            let home = std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .map(PathBuf::from);
            let passed = aws_settings(
                std::env::vars_os()
                    .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
                home.as_deref(),
                |path| path.is_file(),
            );
            let names: Vec<&str> = passed.iter().map(|(k, _)| k.as_str()).collect();
            eprintln!(
                "passing your AWS settings to the function (--pass-aws-settings; values not \
                 shown): {}",
                if names.is_empty() {
                    "none set".to_string()
                } else {
                    names.join(", ")
                }
            );
            environment.extend(passed);
        }
        FunctionConfig {
            function_name: local.settings.function_name.clone(),
            memory_size_mb: local.settings.memory_size,
            timeout: Duration::from_secs(u64::from(local.settings.timeout)),
            region: self.region(),
            environment: environment.into_iter().collect(),
            deadline_header: self.deadline_header,
            layers: local.layers.clone(),
            ..FunctionConfig::default()
        }
    }
}

/// What `--pass-aws-settings` hands the function from the caller's environment `vars`: every
/// `AWS_*` variable but those the emulator sets itself (`AWS_LAMBDA_*`, the region, which
/// [`RunArgs::region`] carries), and the config and credentials files as absolute paths, since
/// the function has no `HOME` (as on Lambda) to find `~/.aws` from.
pub fn aws_settings(
    vars: impl IntoIterator<Item = (String, String)>,
    home: Option<&std::path::Path>,
    exists: impl Fn(&std::path::Path) -> bool,
) -> Vec<(String, String)> {
    let emulators = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV"];
    let mut passed: BTreeMap<String, String> = vars
        .into_iter()
        .filter(|(k, _)| {
            k.starts_with("AWS_")
                && !k.starts_with("AWS_LAMBDA_")
                && !emulators.contains(&k.as_str())
        })
        .collect();
    for (variable, file) in [
        ("AWS_CONFIG_FILE", "config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ] {
        if passed.contains_key(variable) {
            continue;
        }
        if let Some(path) = home
            .map(|h| h.join(".aws").join(file))
            .filter(|p| exists(p))
        {
            passed.insert(variable.to_string(), path.display().to_string());
        }
    }
    passed.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    /// What `bench-serve` forwards to `serve` is what it was given.
    #[test]
    fn run_flags_survive_being_passed_on() {
        let given = [
            "cli",
            "--function-name",
            "pi-local",
            "--role",
            "arn:aws:iam::123456789012:role/r",
            "--runtime",
            "provided.al2023",
            "--memory-size",
            "512",
            "--timeout",
            "7",
            "--env",
            "A=x y=z",
            "--env",
            "B=",
            "--env-file",
            "some/.env",
            "--tag",
            "team=pi",
            "--layer",
            "arn:aws:lambda:us-east-1:123456789012:layer:l:1",
            "--tracing",
            "active",
            "--description",
            "it's pi",
            "--include",
            "conf:etc/x.conf",
            "--region",
            "eu-west-1",
            "--deadline-header",
            "relative",
        ];
        let run = Cli::try_parse_from(given).unwrap().run;
        let again = Cli::try_parse_from(std::iter::once("cli".into()).chain(run.to_args()))
            .unwrap()
            .run;
        assert_eq!(format!("{:?}", again), format!("{:?}", run));
        assert_eq!(run.settings.memory_size, Some(512));
        assert_eq!(run.deadline_header, DeadlineHeader::Relative);
        // Nothing given, nothing passed on but the region and the header's default.
        let none = Cli::try_parse_from(["cli"]).unwrap().run;
        assert_eq!(none.to_args(), ["--deadline-header", "absolute"]);
        assert_eq!(none.region(), DEFAULT_REGION);
    }

    #[test]
    fn aws_settings_are_the_callers_but_not_the_emulators() {
        let vars = [
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:5001"),
            ("AWS_PROFILE", "dev"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_LAMBDA_FUNCTION_NAME", "other"),
            ("HOME", "/home/u"),
            ("PATH", "/bin"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let home = std::path::Path::new("/home/u");
        let passed = aws_settings(vars.clone(), Some(home), |p| p.ends_with("config"));
        let names: Vec<&str> = passed.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "AWS_ACCESS_KEY_ID",
                "AWS_CONFIG_FILE",
                "AWS_ENDPOINT_URL",
                "AWS_ENDPOINT_URL_S3",
                "AWS_PROFILE",
                "AWS_SECRET_ACCESS_KEY",
            ]
        );
        assert!(passed.contains(&(
            "AWS_CONFIG_FILE".to_string(),
            "/home/u/.aws/config".to_string()
        )));
        // The caller's own file names win over ~/.aws.
        let own = aws_settings(
            [("AWS_CONFIG_FILE".to_string(), "/etc/aws".to_string())],
            Some(home),
            |_| true,
        );
        assert_eq!(
            own,
            [
                ("AWS_CONFIG_FILE".to_string(), "/etc/aws".to_string()),
                (
                    "AWS_SHARED_CREDENTIALS_FILE".to_string(),
                    "/home/u/.aws/credentials".to_string()
                ),
            ]
        );
    }
}
