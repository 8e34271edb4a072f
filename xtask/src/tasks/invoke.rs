//! `cargo xtask invoke`: run the packaged function locally, through the Lambda Runtime API
//! emulator ([`lambda_kit::emulator`]), and print what `aws lambda invoke` and CloudWatch would: the
//! response on stdout, the function's log lines and `START`/`END`/`REPORT` on stderr.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use lambda_kit::emulator::{self, FunctionCode, Invocation, Sandbox};
use lambda_kit::paths;
use lambda_kit::pipeline::local::{require_linux_host, CodeArgs, RunArgs};

use crate::repository::BENCHMARK_EVENT;

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
    require_linux_host("invoke")?;
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
            Some(error) => {
                Err(anyhow::Error::new(error).context("running the function in the emulator"))
            }
            None => Ok(invocations),
        }
    })?;
    summarize(&invocations)
}

fn describe(code: &FunctionCode, sandbox: &Sandbox) {
    let what = match code {
        FunctionCode::Zip(zip) => format!("the bootstrap of {}", paths::shown(zip)),
        FunctionCode::Bootstrap(path) => paths::shown(path),
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
