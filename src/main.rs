use std::process::ExitCode;
use std::time::SystemTime;

use calculate_pi::handler::{Diagnostic, Function};
use calculate_pi::limits::Limits;
use calculate_pi::startup::{self, RUNTIME_API_VAR};
use lambda_runtime::service_fn;

// musl's malloc hands every large block back to the kernel when it is freed; big-integer
// arithmetic allocates and frees such blocks constantly, so on musl (the static Lambda build)
// 1,000,000 Chudnovsky digits spent ~40% of their time in the kernel and took 3.2 s instead of
// 1.5 s. dlmalloc (the Rust port used by the standard library on wasm; pure Rust, so the musl
// targets still link with rust-lld alone) keeps freed memory for reuse.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

// One invocation at a time is all Lambda ever sends to a process, so a single-threaded
// runtime is enough; it also keeps the cold start and the resident memory small.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let started = SystemTime::now();
    let env = |name: &str| std::env::var(name).ok();
    // Checked before lambda_runtime reads them, which it does with `expect`.
    if let Err(error) = startup::check_environment(env) {
        return init_failed("Runtime.InvalidEnvironment", &error.to_string()).await;
    }
    // A bad limit variable fails the init phase, with the message, instead of every invocation.
    let limits = match Limits::from_lookup(env) {
        Ok(limits) => limits,
        Err(error) => return init_failed("InvalidConfiguration", &error.to_string()).await,
    };
    let function = Function::new(limits, started);
    match lambda_runtime::run(service_fn(|event| function.invoke(event))).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("calculate-pi: the Lambda runtime stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Says why the function cannot start, to the log and (when it can be reached) to the Runtime
/// API, then exits.
async fn init_failed(error_type: &str, message: &str) -> ExitCode {
    eprintln!("calculate-pi: {message}");
    let api = std::env::var(RUNTIME_API_VAR).ok();
    if let Some(api) = api.and_then(|api| startup::runtime_api_uri(&api).ok()) {
        let diagnostic = Diagnostic {
            error_type: error_type.to_string(),
            error_message: message.to_string(),
        };
        if let Err(error) = startup::report_init_error(&api, &diagnostic).await {
            eprintln!("calculate-pi: the init error could not be reported: {error}");
        }
    }
    ExitCode::FAILURE
}
