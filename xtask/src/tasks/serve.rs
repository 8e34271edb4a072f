//! `cargo xtask serve`: the emulator behind AWS's `Invoke` endpoint on 127.0.0.1, so that real
//! clients work unchanged:
//!
//! ```text
//! aws lambda invoke --endpoint-url http://127.0.0.1:9000 --function-name calculate-pi \
//!     --payload '{"digits": "10_000"}' out.json
//! ```
//!
//! One function process serves every invocation in turn (one execution environment); Ctrl-C
//! stops the server and kills the process.

use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::Mutex;

use crate::tasks::invoke::{CodeArgs, RunArgs};
use lambda_kit::aws;
use lambda_kit::command::{self, ShellArgs};
use lambda_kit::emulator::{self, invoke_api, FunctionCode, Sandbox};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub code: CodeArgs,
    #[command(flatten)]
    pub function: RunArgs,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
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
    aws::cli::InvokeHint::with_payload(
        function_name,
        crate::tasks::invoke::BENCHMARK_EVENT,
        &globals,
        installed,
    )
    .map(|c| {
        c.env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
    })
}

pub fn run(args: &ServeArgs) -> Result<()> {
    crate::tasks::require_linux_host("serve")?;
    let local = args.code.resolve(&args.function.settings, "serve")?;
    let shell = args.shell.shell();
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let files_dir = match &local.code {
        FunctionCode::Zip(path) | FunctionCode::Bootstrap(path) => path
            .parent()
            .map_or_else(|| cwd.clone(), std::path::Path::to_path_buf),
    };
    let installed = aws::client::installed_version();
    let region = args.function.region.clone();
    let sandbox = Sandbox::new(&local.code, args.function.config(&local))?;
    let emulated = sandbox.emulated_by().map(str::to_string);
    let arch = sandbox.arch();
    let function_name = local.settings.function_name.clone();
    let runtime = emulator::tokio_runtime()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("listening on 127.0.0.1:{}", args.port))?;
        let address = listener
            .local_addr()
            .context("reading the listening address")?;
        let sandbox = Arc::new(Mutex::new(sandbox));
        let hook: invoke_api::InvocationHook = Arc::new(|invocation| {
            eprint!("{}", invocation.log_text());
        });
        let app = invoke_api::router(Arc::clone(&sandbox), hook);
        println!(
            "Listening on http://{address} (Lambda Invoke API, function {function_name}, {arch}{})",
            emulated
                .map(|e| format!(", emulated under {e}"))
                .unwrap_or_default()
        );
        let hint =
            invoke_hint(address, &function_name, &region, installed).place_files(&files_dir, &cwd);
        command::write_files(hint.commands(), shell)?;
        println!("\n{}", hint.render(shell)?);
        println!("Press Ctrl-C to stop.");
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving the Invoke API")?;
        eprintln!("Stopping: killing the function process");
        // Every request has finished; the sandbox is free.
        sandbox.lock().await.reset().await;
        Ok(())
    })
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
