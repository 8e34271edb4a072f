//! The Lambda extension {{name}}: it runs beside the function in the same execution
//! environment and hears of each invocation and of the shutdown. main wires the Extensions API
//! to the handler; the logic is in `handler.rs`.

mod handler;

use lambda_extension::{service_fn, Error, Extension};

#[tokio::main]
async fn main() -> Result<(), Error> {
    Extension::new()
        .with_events(&["INVOKE", "SHUTDOWN"])
        .with_events_processor(service_fn(handler::extension_handler))
        .run()
        .await
}
