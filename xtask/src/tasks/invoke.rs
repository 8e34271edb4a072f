//! `cargo xtask invoke`: run the packaged function locally, through the Lambda Runtime API
//! emulator ([`lambda_kit::emulator`]), and print what `aws lambda invoke` and CloudWatch would: the
//! response on stdout, the function's log lines and `START`/`END`/`REPORT` on stderr.
//!
//! The response is printed as it arrives: a streaming function's chunks one by one, flushed,
//! without the HTTP integration prelude and its eight NUL bytes (`streaming::write_body`).

use std::io::{IsTerminal, Write};

use anyhow::{bail, Context, Result};
use clap::Args;

use lambda_kit::emulator::{self, streaming, FunctionCode, Invocation, Sandbox};
use lambda_kit::events::{self, EventArgs};
use lambda_kit::paths;
use lambda_kit::pipeline::local::{require_linux_host, CodeArgs, RunArgs};

#[derive(Debug, Clone, Args)]
pub struct InvokeArgs {
    #[command(flatten)]
    pub code: CodeArgs,
    #[command(flatten)]
    pub function: RunArgs,
    /// The event sent.
    #[command(flatten)]
    pub event: EventArgs,
    /// Invoke this many times in a row against the same process (the first is cold).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
}

pub fn run(args: &InvokeArgs) -> Result<()> {
    require_linux_host("invoke")?;
    // A bad event given on the command line stops the run before anything is built.
    if let Some(given) = args.event.source() {
        given.bytes()?;
    }
    let local = args.code.resolve(&args.function.settings, "invoke")?;
    let event = events::choose(&args.event, local.event.as_ref());
    let payload = event
        .bytes()
        .context("reading the function's event ([package.metadata.lambda.invoke])")?;
    if args.event.source().is_none() {
        eprintln!("Sending {}", event.describe());
    }
    let code = &local.code;
    let mut sandbox = Sandbox::new(code, args.function.config(&local))?;
    describe(code, &sandbox);
    let runtime = emulator::tokio_runtime()?;
    let invocations = runtime.block_on(async {
        let mut invocations = Vec::new();
        let mut failure = None;
        for _ in 0..args.count {
            let (parts, mut received) = streaming::response_channel();
            // The body goes to stdout while the function writes it.
            let printer = tokio::spawn(async move {
                let mut stdout = std::io::stdout();
                streaming::write_body(&mut received, &mut stdout).await
            });
            let invoked = sandbox.invoke_streaming(&payload, parts).await;
            let written = printer
                .await
                .context("printing the response")?
                .context("writing the response")?;
            match invoked {
                Ok(invocation) => {
                    print_invocation(&invocation, written.head.is_some(), args.count > 1)?;
                    invocations.push(invocation);
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        // The extensions' answers to SHUTDOWN, after the last REPORT as in CloudWatch.
        for line in sandbox.shutdown().await {
            eprintln!("{line}");
        }
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
    let layers = &config.layers;
    if !layers.is_empty() {
        let shown: Vec<String> = layers.iter().map(|l| paths::shown(l)).collect();
        let extensions = sandbox.extension_names();
        eprintln!(
            "Layers under /opt{}: {}; extensions started before the function: {}",
            if sandbox.opt_is_private() {
                " (a private mount namespace)"
            } else {
                " (a directory standing for /opt: the function's own /opt is the host's)"
            },
            shown.join(", "),
            if extensions.is_empty() {
                "none".to_string()
            } else {
                extensions.join(", ")
            }
        );
    }
}

/// The log, and the end of the response: what failed before answering is printed as Lambda
/// answers it (the error JSON); an answer was printed as it came.
fn print_invocation(invocation: &Invocation, answered: bool, several: bool) -> Result<()> {
    eprint!("{}", invocation.log_text());
    let mut stdout = std::io::stdout().lock();
    if !answered {
        stdout
            .write_all(&invocation.response)
            .context("writing the response")?;
    }
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
