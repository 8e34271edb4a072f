//! `cargo xtask invoke`: run the packaged function locally, through the Lambda Runtime API
//! emulator ([`lambda_kit::emulator`]), and print what `aws lambda invoke` and CloudWatch would: the
//! response on stdout, the function's log lines and `START`/`END`/`REPORT` on stderr.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;

use std::collections::BTreeMap;

use lambda_kit::aws::cli::{FunctionSettings, SettingsFlags};
use lambda_kit::build::BuildArgs;
use lambda_kit::emulator::{
    self, DeadlineHeader, FunctionCode, FunctionConfig, Invocation, Sandbox,
};
use lambda_kit::workspace::{self, Function, FunctionArgs, Workspace};

use crate::tasks::package;

/// The benchmark event, the default payload.
pub const BENCHMARK_EVENT: &str = r#"{"digits": "10_000"}"#;

/// Which code runs: shared by `invoke` and `serve`.
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
        let workspace = match &given {
            // Settings from the workspace when there is one; a given file needs none.
            Some(_) => Workspace::load(self.function.manifest_path.as_deref()).ok(),
            None => Some(Workspace::load(self.function.manifest_path.as_deref())?),
        };
        let function = match &workspace {
            Some(ws) if given.is_none() => Some(ws.function(&self.function, task)?.clone()),
            Some(ws) => ws.function(&self.function, task).ok().cloned(),
            None => None,
        };
        let function = function.unwrap_or_else(|| Function {
            package: "function".into(),
            bin: "function".into(),
            manifest_path: PathBuf::from("Cargo.toml"),
            deploy: Default::default(),
            local_env: Default::default(),
        });
        let settings = flags.resolve(&function)?;
        let code = match (given, &workspace) {
            (Some(code), _) => code,
            (None, Some(workspace)) => {
                let (package, _) = package::ensure_default_zip(
                    workspace,
                    &function,
                    &settings,
                    &self.build,
                    self.rebuild,
                )?;
                FunctionCode::Zip(package.path)
            }
            (None, None) => unreachable!("a workspace was loaded above"),
        };
        // Flags come first, then the local `env` tables, then the deploy settings.
        let flagged: std::collections::BTreeSet<&String> =
            flags.env.iter().map(|(k, _)| k).collect();
        let local_env = function
            .local_env
            .into_iter()
            .filter(|(k, _)| !flagged.contains(k))
            .collect();
        Ok(LocalFunction {
            code,
            settings,
            local_env,
        })
    }
}

/// The function's configuration: shared by `invoke` and `serve`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The function's settings, over its `Cargo.toml` metadata (memory, timeout, env, …).
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// Region the function believes it runs in (AWS_REGION).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// What the Runtime API's Lambda-Runtime-Deadline-Ms header carries: `absolute` (Unix
    /// milliseconds, as Lambda sends), or an odd value other hosts send, to check that the
    /// function survives it: `relative` (the milliseconds left), `zero`, `garbage`, `omit`.
    /// The timeout is enforced in every case.
    #[arg(long, value_enum, default_value_t = DeadlineHeader::Absolute)]
    pub deadline_header: DeadlineHeader,
}

impl RunArgs {
    pub fn config(&self, local: &LocalFunction) -> FunctionConfig {
        let mut environment = local.settings.environment.clone();
        environment.extend(local.local_env.clone());
        FunctionConfig {
            function_name: local.settings.function_name.clone(),
            memory_size_mb: local.settings.memory_size,
            timeout: Duration::from_secs(u64::from(local.settings.timeout)),
            region: self.region.clone(),
            environment: environment.into_iter().collect(),
            deadline_header: self.deadline_header,
            ..FunctionConfig::default()
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct InvokeArgs {
    #[command(flatten)]
    pub code: CodeArgs,
    #[command(flatten)]
    pub function: RunArgs,
    /// The event, as JSON [default: {"digits": "10_000"}, the benchmark event].
    #[arg(long, conflicts_with = "payload_file")]
    pub payload: Option<String>,
    /// Read the event from this file.
    #[arg(long)]
    pub payload_file: Option<PathBuf>,
    /// Invoke this many times in a row against the same process (the first is cold).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
}

pub fn run(args: &InvokeArgs) -> Result<()> {
    crate::tasks::require_linux_host("invoke")?;
    let payload = read_payload(args.payload.as_deref(), args.payload_file.as_deref())?;
    let local = args.code.resolve(&args.function.settings, "invoke")?;
    let code = &local.code;
    let mut sandbox = Sandbox::new(code, args.function.config(&local))?;
    describe(code, &sandbox);
    let runtime = emulator::tokio_runtime()?;
    let invocations = runtime.block_on(async {
        let mut invocations = Vec::new();
        let mut failure = None;
        for _ in 0..args.count {
            match sandbox.invoke(&payload).await {
                Ok(invocation) => {
                    print_invocation(&invocation, args.count > 1)?;
                    invocations.push(invocation);
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        sandbox.shutdown().await;
        match failure {
            Some(error) => Err(error.context("running the function in the emulator")),
            None => Ok(invocations),
        }
    })?;
    summarize(&invocations)
}

fn describe(code: &FunctionCode, sandbox: &Sandbox) {
    let what = match code {
        FunctionCode::Zip(zip) => format!("the bootstrap of {}", workspace::shown(zip)),
        FunctionCode::Bootstrap(path) => workspace::shown(path),
    };
    let how = match sandbox.emulated_by() {
        Some(emulator) => format!("under {emulator} (emulated: figures include the emulator)"),
        None => "natively".to_string(),
    };
    let config = sandbox.config();
    eprintln!(
        "Running {what} ({arch}) {how}; memory {memory} MB, timeout {timeout} s",
        arch = sandbox.arch(),
        memory = config.memory_size_mb,
        timeout = config.timeout.as_secs(),
    );
}

/// The payload from `--payload`, `--payload-file` or the benchmark event; it must be JSON, as
/// Lambda refuses anything else.
pub fn read_payload(payload: Option<&str>, file: Option<&Path>) -> Result<Vec<u8>> {
    let bytes = match (payload, file) {
        (Some(text), _) => text.as_bytes().to_vec(),
        (None, Some(path)) => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, None) => BENCHMARK_EVENT.as_bytes().to_vec(),
    };
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        bail!("the payload is not JSON ({error}); Lambda only accepts a JSON event");
    }
    Ok(bytes)
}

fn print_invocation(invocation: &Invocation, several: bool) -> Result<()> {
    eprint!("{}", invocation.log_text());
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&invocation.response)
        .context("writing the response")?;
    if several || std::io::stdout().is_terminal() {
        stdout.write_all(b"\n").context("writing the response")?;
    }
    stdout.flush().context("writing the response")?;
    Ok(())
}

fn summarize(invocations: &[Invocation]) -> Result<()> {
    if let Some(emulator) = invocations
        .first()
        .and_then(|i| i.metrics.emulated_by.as_deref())
    {
        eprintln!(
            "note: emulated figures: the bootstrap ran under {emulator}, so Duration, Init \
             Duration and Max Memory Used include the emulator and are not Lambda's"
        );
    }
    let failed: Vec<&Invocation> = invocations
        .iter()
        .filter(|i| !i.outcome.is_success())
        .collect();
    match failed.last() {
        None => Ok(()),
        Some(last) => bail!(
            "{} of {} invocation(s) failed; the last with {}: {}",
            failed.len(),
            invocations.len(),
            last.outcome.error_type().unwrap_or("an error"),
            String::from_utf8_lossy(&last.response)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_default_to_the_benchmark_event_and_must_be_json() {
        assert_eq!(
            read_payload(None, None).unwrap(),
            BENCHMARK_EVENT.as_bytes()
        );
        assert_eq!(
            read_payload(Some(r#"{"digits": 5}"#), None).unwrap(),
            br#"{"digits": 5}"#
        );
        let err = read_payload(Some("{digits: 5}"), None).unwrap_err();
        assert!(err.to_string().contains("not JSON"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("event.json");
        std::fs::write(&file, "[1]").unwrap();
        assert_eq!(read_payload(None, Some(&file)).unwrap(), b"[1]");
        assert!(read_payload(None, Some(&dir.path().join("missing"))).is_err());
    }
}
