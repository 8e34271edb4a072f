//! What the function does with an event: a JSON object in, a JSON object out.

use lambda_runtime::{Error, LambdaEvent};
use serde::{Deserialize, Serialize};

/// The event, as the caller sends it: `{"name": "Ada"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Request {
    #[serde(default)]
    pub name: Option<String>,
}

/// The answer, serialized to JSON by the runtime.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Response {
    pub message: String,
}

/// The pure part: easy to test, no runtime needed.
pub(crate) fn greet(request: &Request) -> Response {
    let name = request.name.as_deref().unwrap_or("world");
    Response {
        message: format!("Hello, {name}!"),
    }
}

pub(crate) async fn function_handler(event: LambdaEvent<Request>) -> Result<Response, Error> {
    Ok(greet(&event.payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;

    #[tokio::test]
    async fn greets_by_name_or_the_world() {
        let event = LambdaEvent::new(
            Request {
                name: Some("Ada".into()),
            },
            Context::default(),
        );
        let response = function_handler(event).await.unwrap();
        assert_eq!(response.message, "Hello, Ada!");
        assert_eq!(greet(&Request { name: None }).message, "Hello, world!");
    }
}
