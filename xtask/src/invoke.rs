//! `cargo xtask invoke`: run the packaged function locally, through the Lambda Runtime API
//! emulator ([`crate::emulator`]), and print what `aws lambda invoke` and CloudWatch would: the
//! response on stdout, the function's log lines and `START`/`END`/`REPORT` on stderr.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::build::BuildArgs;
use crate::emulator::{self, environment, FunctionCode, FunctionConfig, Invocation, Sandbox};
use crate::package;
use crate::project;
use crate::runtime::Runtime;
use crate::validate;

/// The benchmark event, the default payload.
pub const BENCHMARK_EVENT: &str = r#"{"digits": "10_000"}"#;

/// Which code runs: shared by `invoke` and `serve`.
#[derive(Debug, Clone, Args)]
pub struct CodeArgs {
    /// Architecture of dist/lambda-<arch>.zip (packaged first if it is missing), and how to
    /// build it.
    #[command(flatten)]
    pub build: BuildArgs,
    /// Run this deployment zip instead of dist/lambda-<arch>.zip.
    #[arg(long, conflicts_with = "bootstrap")]
    pub zip: Option<PathBuf>,
    /// Run this bootstrap executable as it stands (for example one taken from an image).
    #[arg(long)]
    pub bootstrap: Option<PathBuf>,
    /// Package dist/lambda-<arch>.zip first even when it exists, so that it holds the current
    /// sources (cargo rebuilds only what changed; the same binary gives the same zip).
    #[arg(long, conflicts_with_all = ["zip", "bootstrap"])]
    pub rebuild: bool,
}

impl CodeArgs {
    /// The code to run; packages dist/lambda-<arch>.zip when it is needed and missing.
    pub fn resolve(&self) -> Result<FunctionCode> {
        if let Some(bootstrap) = &self.bootstrap {
            return Ok(FunctionCode::Bootstrap(bootstrap.clone()));
        }
        if let Some(zip) = &self.zip {
            if !zip.is_file() {
                bail!("--zip {}: no such file", zip.display());
            }
            return Ok(FunctionCode::Zip(zip.clone()));
        }
        let (zip, _) = package::ensure_default_zip(&self.build, Runtime::default(), self.rebuild)?;
        Ok(FunctionCode::Zip(zip))
    }
}

/// The function's configuration: shared by `invoke` and `serve`.
#[derive(Debug, Clone, Args)]
pub struct FunctionArgs {
    /// Function name, as the process sees it (AWS_LAMBDA_FUNCTION_NAME).
    #[arg(long, default_value = "calculate-pi", value_parser = validate::function_name)]
    pub function_name: String,
    /// Memory in MB (128 to 10240); going over it kills the invocation (Runtime.OutOfMemory).
    #[arg(long, default_value_t = 128, value_parser = validate::memory_size)]
    pub memory_size: u32,
    /// Timeout in seconds (1 to 900), Lambda's default 3.
    #[arg(long, default_value_t = 3, value_parser = validate::timeout)]
    pub timeout: u32,
    /// A function environment variable, KEY=VALUE (repeatable), e.g.
    /// CALCULATE_PI_MAX_DIGITS_SPIGOT=20000.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = environment::parse_env_var)]
    pub env: Vec<(String, String)>,
    /// Region the function believes it runs in (AWS_REGION).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

impl FunctionArgs {
    pub fn config(&self) -> FunctionConfig {
        FunctionConfig {
            function_name: self.function_name.clone(),
            memory_size_mb: self.memory_size,
            timeout: Duration::from_secs(u64::from(self.timeout)),
            region: self.region.clone(),
            environment: self.env.clone(),
            ..FunctionConfig::default()
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct InvokeArgs {
    #[command(flatten)]
    pub code: CodeArgs,
    #[command(flatten)]
    pub function: FunctionArgs,
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
    let payload = read_payload(args.payload.as_deref(), args.payload_file.as_deref())?;
    let code = args.code.resolve()?;
    let mut sandbox = Sandbox::new(&code, args.function.config())?;
    describe(&code, &sandbox);
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
        FunctionCode::Zip(zip) => format!("the bootstrap of {}", project::shown(zip)),
        FunctionCode::Bootstrap(path) => project::shown(path),
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
