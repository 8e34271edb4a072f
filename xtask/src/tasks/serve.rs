//! `cargo xtask serve`: the emulator behind AWS's `Invoke` endpoint on 127.0.0.1, so that real
//! clients work unchanged:
//!
//! ```text
//! aws lambda invoke --endpoint-url http://127.0.0.1:9000 --function-name calculate-pi \
//!     --payload '{"digits": "10_000"}' out.json
//! ```
//!
//! The printed command sends the function's own event (`[package.metadata.lambda.invoke]`), or
//! the one `--event`/`--payload` names, else `{}`.
//!
//! Up to `--concurrency` execution environments serve the invocations, each its own bootstrap
//! process with its own cold start; past that, synchronous invocations get Lambda's 429
//! `TooManyRequestsException` and asynchronous ones wait. An environment idle for
//! `--idle-timeout` is shut down. Ctrl-C stops the server and kills every function process.
//!
//! Plain HTTP goes through the front door (`lambda_kit::emulator::front_door`): at
//! `/lambda-url/<function>/…` and at every other path, as the event the function accepts (API
//! Gateway REST, HTTP API v2 or ALB: from its `lambda_http` features when only one fits, else
//! `--http-event`, HTTP v2 by default), so `curl http://127.0.0.1:9000/` reaches an axum route.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use lambda_kit::aws;
use lambda_kit::builder::Profile;
use lambda_kit::command::{self, ShellArgs};
use lambda_kit::emulator::front_door::{FrontDoor, URL_PREFIX};
use lambda_kit::emulator::http_event::{self, HttpEventKind};
use lambda_kit::emulator::{self, invoke_api, pool::Pool, FunctionCode, PreparedCode};
use lambda_kit::events::{self, EventArgs};
use lambda_kit::paths;
use lambda_kit::pipeline::local::{
    local_layers, require_linux_host, CodeArgs, LocalFunction, RunArgs,
};
use lambda_kit::pipeline::Lambda;

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
    /// The event plain HTTP requests become (front door): API Gateway REST (v1), HTTP API (v2,
    /// a function URL's) or ALB. Needed only when the function's lambda_http features accept
    /// more than one; then HTTP v2 unless given.
    #[arg(long, value_enum)]
    pub http_event: Option<HttpEventKind>,
    /// The shell of the printed invoke command.
    #[command(flatten)]
    pub shell: ShellArgs,
    /// The event the printed invoke command sends.
    #[command(flatten)]
    pub event: EventArgs,
    /// Rebuild on each source change (profile lambda-dev: release without LTO, 16 codegen
    /// units, incremental; the zip's target) and swap the sandboxes once their invocations
    /// finish; a failed build keeps the previous code answering.
    #[arg(long, conflicts_with_all = ["zip", "bootstrap", "rebuild"])]
    pub watch: bool,
}

/// The invoke command for the server at `address`, for the installed CLI (both forms when its
/// version is unknown): its region, and dummy credentials, since the CLI signs every request
/// even for a local endpoint.
pub fn invoke_hint(
    address: std::net::SocketAddr,
    function_name: &str,
    payload: &str,
    region: &str,
    installed: Option<aws::cli::CliMajor>,
) -> aws::cli::InvokeHint {
    let globals = aws::cli::GlobalOptions {
        region: Some(region.to_string()),
        endpoint_url: Some(format!("http://{address}")),
    };
    aws::cli::InvokeHint::with_payload(function_name, payload, &globals, installed).map(|c| {
        c.env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
    })
}

pub fn run(args: &ServeArgs) -> Result<()> {
    require_linux_host("serve")?;
    if let Some(given) = args.event.source() {
        given.bytes()?;
    }
    let watched = match args.watch {
        true => Some(Watched::start(args)?),
        false => None,
    };
    let local = match &watched {
        Some(watched) => watched.local.take_first(),
        None => args.code.resolve(&args.function.settings, "serve")?,
    };
    let payload = events::choose(&args.event, local.event.as_ref())
        .text()
        .context("reading the function's event ([package.metadata.lambda.invoke])")?;
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
    let accepted = local.lambda_http.as_ref().map(http_event::kinds_of);
    let kind = http_event::choose_kind(accepted.as_deref(), args.http_event)
        .map_err(anyhow::Error::msg)?;
    let door = FrontDoor {
        kind,
        at_root: true,
        region: region.clone(),
        function_name: function_name.clone(),
    };
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
        let app = invoke_api::router_with_front_door(Arc::clone(&pool), hook, Some(door));
        println!(
            "Listening on http://{address} (Lambda Invoke API, function {function_name}, {arch}{}, \
             concurrency {}, idle timeout {} s)",
            emulated
                .map(|e| format!(", emulated under {e}"))
                .unwrap_or_default(),
            args.concurrency,
            args.idle_timeout,
        );
        let hint = invoke_hint(address, &function_name, &payload, &region, installed)
            .place_files(&files_dir, &cwd);
        command::write_files(hint.commands(), shell)?;
        println!("\n{}", hint.render(shell)?);
        println!(
            "\nPlain HTTP becomes {} (--http-event {}):\n  curl http://{address}/\n  curl \
             http://{address}{URL_PREFIX}{function_name}/",
            kind.describe(),
            kind.flag_value(),
        );
        println!("Press Ctrl-C to stop.");
        let reaper = tokio::spawn(reap(Arc::clone(&pool)));
        let watcher = match watched {
            Some(watched) => Some(tokio::spawn(watched.rebuild_on_change(Arc::clone(&pool))?)),
            None => None,
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving the Invoke API")?;
        reaper.abort();
        if let Some(watcher) = watcher {
            watcher.abort();
        }
        eprintln!("Stopping: killing the function processes");
        // Synchronous requests have finished; queued asynchronous ones get a little longer.
        pool.shutdown(Duration::from_secs(10)).await;
        Ok(())
    })
}

/// `--watch`: the function, its lambda-dev builds (zipped into a scratch folder, one zip per
/// build, so that a running sandbox never sees its code change) and the first one.
struct Watched {
    lambda: Arc<Lambda>,
    scratch: Arc<tempfile::TempDir>,
    local: FirstLocal,
}

/// The first build's [`LocalFunction`], taken once by `run`.
struct FirstLocal(std::sync::Mutex<Option<LocalFunction>>);

impl FirstLocal {
    fn take_first(&self) -> LocalFunction {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("the first build is taken once")
    }
}

impl Watched {
    fn start(args: &ServeArgs) -> Result<Watched> {
        let lambda = Lambda::from_flags(
            &args.code.function,
            &args.function.settings,
            &args.code.build,
            "serve",
        )?;
        let scratch = tempfile::Builder::new()
            .prefix("lambda-watch-")
            .tempdir()
            .context("creating the watch's scratch folder")?;
        eprintln!(
            "watch: building {} with profile lambda-dev (release without LTO, 16 codegen units, \
             incremental) for the zip's target",
            lambda.function.bin
        );
        let code = build_dev(&lambda, scratch.path(), 0)?;
        let mut local = LocalFunction::of(
            code,
            lambda.function.clone(),
            lambda.settings.clone(),
            &args.function.settings,
        );
        local.layers = local_layers(
            &args.code.build,
            Some(&lambda),
            &args.function.settings,
            false,
        )?;
        Ok(Watched {
            lambda: Arc::new(lambda),
            scratch: Arc::new(scratch),
            local: FirstLocal(std::sync::Mutex::new(Some(local))),
        })
    }

    /// Starts watching the workspace; the future rebuilds on each change and swaps the code.
    fn rebuild_on_change(
        self,
        pool: Arc<Pool>,
    ) -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
        let workspace = &self.lambda.workspace;
        let ignored = vec![workspace.target_dir.clone(), workspace.dist_dir()];
        let watch = lambda_kit::watch::watch(&workspace.root, ignored)?;
        eprintln!("watch: watching {} for changes", workspace.root.display());
        Ok(async move {
            // The whole watch moves in (not only its channel), so that its watcher lives.
            let mut watch = watch;
            let mut generation = 0;
            while let Some(mut changed) = watch.changes.recv().await {
                // Changes that came during the last build go into this one.
                while let Ok(more) = watch.changes.try_recv() {
                    changed.extend(more);
                }
                generation += 1;
                let shown: Vec<String> = changed.iter().take(3).map(|p| paths::shown(p)).collect();
                eprintln!("watch: {} changed; rebuilding", shown.join(", "));
                let started = std::time::Instant::now();
                let (lambda, scratch) = (Arc::clone(&self.lambda), Arc::clone(&self.scratch));
                let built = tokio::task::spawn_blocking(move || {
                    build_dev(&lambda, scratch.path(), generation)
                        .and_then(|code| Ok(PreparedCode::prepare(&code)?))
                })
                .await;
                match built {
                    Ok(Ok(code)) => {
                        pool.replace_code(Arc::new(code)).await;
                        eprintln!(
                            "watch: rebuilt in {:.1} s; the next invocations run the new code",
                            started.elapsed().as_secs_f64()
                        );
                    }
                    Ok(Err(error)) => eprintln!(
                        "watch: the build failed, the previous code keeps answering: {error:#}"
                    ),
                    Err(error) => eprintln!("watch: the build stopped: {error}"),
                }
            }
        })
    }
}

/// Builds the function with the lambda-dev profile and zips it as the zip is made (same
/// target, checks and includes) into `scratch`.
fn build_dev(lambda: &Lambda, scratch: &std::path::Path, generation: u64) -> Result<FunctionCode> {
    let zip = scratch.join(format!("lambda-{generation}.zip"));
    let packaged = lambda.package_with(Some(&zip), Profile::LambdaDev)?;
    Ok(FunctionCode::Zip(packaged.path))
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
