use calculate_pi::{handler, limits::Limits};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

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
