use std::process::ExitCode;
use std::time::SystemTime;

use calculate_pi::handler::Diagnostic;
use calculate_pi::{limits::Limits, runtime};

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
    let api = std::env::var(runtime::RUNTIME_API_VAR).ok();
    let client = match runtime::client(api.as_deref()) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("calculate-pi: {error}");
            return ExitCode::FAILURE;
        }
    };
    // A bad limit variable fails the init phase, with the message, instead of every invocation.
    let limits = match Limits::from_env() {
        Ok(limits) => limits,
        Err(error) => {
            eprintln!("calculate-pi: {error}");
            let diagnostic = Diagnostic {
                error_type: "InvalidConfiguration".to_string(),
                error_message: error.to_string(),
            };
            runtime::report_init_error(&client, &diagnostic).await;
            return ExitCode::FAILURE;
        }
    };
    let why = runtime::run(&client, &limits, started).await;
    eprintln!("calculate-pi: {why}");
    ExitCode::FAILURE
}
