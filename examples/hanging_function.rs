//! A Lambda function that does not finish, for the emulator's tests. With `HANG_IN_INIT=1` in
//! its environment it never leaves its init phase; otherwise each invocation sleeps for the
//! event's `sleep_ms` (forever without it) before answering `{"slept_ms": …}`.

use std::time::Duration;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    match event.payload.get("sleep_ms").and_then(Value::as_u64) {
        Some(ms) => {
            // Blocking is fine: a Lambda process handles one invocation at a time.
            std::thread::sleep(Duration::from_millis(ms));
            Ok(json!({ "slept_ms": ms }))
        }
        None => {
            eprintln!("hanging_function: sleeping forever");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if std::env::var("HANG_IN_INIT").as_deref() == Ok("1") {
        eprintln!("hanging_function: hanging in init");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    lambda_runtime::run(service_fn(handle)).await
}
