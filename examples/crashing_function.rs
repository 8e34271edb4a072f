//! A Lambda function that fails on request, for the emulator's tests (`cargo xtask invoke
//! --bootstrap target/debug/examples/crashing_function`). The event picks the fault:
//!
//! - `{"exit": 3}`: the process exits with status 3 mid-invocation (Runtime.ExitError);
//! - `{"abort": true}`: the process aborts (SIGABRT);
//! - `{"allocate_mb": 300}`: it allocates and touches that much memory, then waits a second;
//! - anything else: it answers `{"pid": <its process id>}`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let payload = event.payload;
    eprintln!("crashing_function: handling {payload}");
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        eprintln!("crashing_function: exiting with status {code}");
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    if payload.get("abort").and_then(Value::as_bool) == Some(true) {
        std::process::abort();
    }
    if let Some(mb) = payload.get("allocate_mb").and_then(Value::as_u64) {
        let mut blocks = Vec::new();
        for _ in 0..mb {
            // Touch every page so that it is resident.
            blocks.push(vec![1u8; 1024 * 1024]);
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        return Ok(json!({ "allocated_mb": blocks.len() }));
    }
    Ok(json!({ "pid": std::process::id() }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    println!("crashing_function: init");
    lambda_runtime::run(service_fn(handle)).await
}
