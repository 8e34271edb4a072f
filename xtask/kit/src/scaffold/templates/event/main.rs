//! The Lambda function {{name}}, invoked by {{service}}: main wires the runtime to the
//! handler; the logic is in `handler.rs`.

mod handler;

use lambda_runtime::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handler::function_handler)).await
}
