//! `cargo xtask serve`: the emulator behind AWS's `Invoke` endpoint on 127.0.0.1, so that real
//! clients work unchanged:
//!
//! ```text
//! aws lambda invoke --endpoint-url http://127.0.0.1:9000 --function-name calculate-pi \
//!     --payload '{"digits": "10_000"}' out.json
//! ```
//!
//! Up to `--concurrency` execution environments serve the invocations, each its own bootstrap
//! process with its own cold start; past that, synchronous invocations get Lambda's 429
//! `TooManyRequestsException` and asynchronous ones wait. An environment idle for
//! `--idle-timeout` is shut down. Ctrl-C stops the server and kills every function process.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use crate::repository::BENCHMARK_EVENT;
use lambda_kit::aws;
use lambda_kit::command::{self, ShellArgs};
use lambda_kit::emulator::{self, invoke_api, pool::Pool, FunctionCode, PreparedCode};
use lambda_kit::pipeline::local::{require_linux_host, CodeArgs, RunArgs};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub code: CodeArgs,
    #[command(flatten)]
    pub function: RunArgs,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// Execution environments that may run at once (the function's reserved concurrency);
    /// one more concurrent synchronous request gets 429 TooManyRequestsException. Each is a
    /// process of up to the memory size, so the default stays small: enough to see parallel
    /// requests and cold starts, not enough to swamp a laptop.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Seconds an execution environment may sit idle before it is shut down (the next
    /// request then starts cold).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout: u64,
    /// The shell of the printed invoke command.
    #[command(flatten)]
    pub shell: ShellArgs,
}

/// The invoke command for the server at `address`, for the installed CLI (both forms when its
/// version is unknown): its region, and dummy credentials, since the CLI signs every request
/// even for a local endpoint.
pub fn invoke_hint(
    address: std::net::SocketAddr,
    function_name: &str,
    region: &str,
    installed: Option<aws::cli::CliMajor>,
) -> aws::cli::InvokeHint {
    let globals = aws::cli::GlobalOptions {
        region: Some(region.to_string()),
        endpoint_url: Some(format!("http://{address}")),
    };
    aws::cli::InvokeHint::with_payload(function_name, BENCHMARK_EVENT, &globals, installed).map(
        |c| {
            c.env("AWS_ACCESS_KEY_ID", "local")
                .env("AWS_SECRET_ACCESS_KEY", "local")
        },
    )
}

pub fn run(args: &ServeArgs) -> Result<()> {
    require_linux_host("serve")?;
    let local = args.code.resolve(&args.function.settings, "serve")?;
    let shell = args.shell.shell();
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let files_dir = match &local.code {
        FunctionCode::Zip(path) | FunctionCode::Bootstrap(path) => path
            .parent()
            .map_or_else(|| cwd.clone(), std::path::Path::to_path_buf),
    };
    let installed = aws::client::installed_version();
    let region = args.function.region();
    let code = Arc::new(PreparedCode::prepare(&local.code)?);
    let emulated = code.emulated_by().map(str::to_string);
    let arch = code.arch();
    let function_name = local.settings.function_name.clone();
    let idle_timeout = Duration::from_secs(args.idle_timeout);
    let pool = Pool::new(
        code,
        args.function.config(&local),
        args.concurrency as usize,
        idle_timeout,
    );
    let runtime = emulator::tokio_runtime()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("listening on 127.0.0.1:{}", args.port))?;
        let address = listener
            .local_addr()
            .context("reading the listening address")?;
        let hook: invoke_api::InvocationHook = Arc::new(|invocation| {
            eprint!("{}", invocation.log_text());
        });
        let app = invoke_api::router(Arc::clone(&pool), hook);
        println!(
            "Listening on http://{address} (Lambda Invoke API, function {function_name}, {arch}{}, \
             concurrency {}, idle timeout {} s)",
            emulated
                .map(|e| format!(", emulated under {e}"))
                .unwrap_or_default(),
            args.concurrency,
            args.idle_timeout,
        );
        let hint =
            invoke_hint(address, &function_name, &region, installed).place_files(&files_dir, &cwd);
        command::write_files(hint.commands(), shell)?;
        println!("\n{}", hint.render(shell)?);
        println!("Press Ctrl-C to stop.");
        let reaper = tokio::spawn(reap(Arc::clone(&pool)));
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving the Invoke API")?;
        reaper.abort();
        eprintln!("Stopping: killing the function processes");
        // Synchronous requests have finished; queued asynchronous ones get a little longer.
        pool.shutdown(Duration::from_secs(10)).await;
        Ok(())
    })
}

/// Shuts down the environments idle past the idle timeout, checking a few times per timeout.
async fn reap(pool: Arc<Pool>) {
    let every = (pool.idle_timeout() / 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let reaped = pool.reap_idle().await;
        if reaped > 0 {
            eprintln!(
                "emulator: shut down {reaped} execution environment(s) idle for {} s",
                pool.idle_timeout().as_secs()
            );
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
