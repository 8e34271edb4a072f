use calculate_pi::{handler, limits::Limits};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

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
async fn main() -> Result<(), Error> {
    // A bad limit variable fails the init phase (Runtime.ExitError with the message) instead
    // of every invocation.
    let limits = Limits::from_env()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        handler::handle(event, &limits)
    }))
    .await
}
