//! What the extension does on each event of the Extensions API.

use lambda_extension::{Error, LambdaEvent, NextEvent};

/// The pure part: the log line for an event.
pub(crate) fn describe(event: &NextEvent) -> String {
    match event {
        NextEvent::Invoke(invoke) => format!("{{name}}: invocation {}", invoke.request_id),
        NextEvent::Shutdown(shutdown) => {
            format!("{{name}}: shutting down ({})", shutdown.shutdown_reason)
        }
    }
}

pub(crate) async fn extension_handler(event: LambdaEvent) -> Result<(), Error> {
    // An extension's stdout goes to the function's CloudWatch log stream.
    println!("{}", describe(&event.next));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events as the Extensions API sends them.
    fn event(json: serde_json::Value) -> NextEvent {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn says_which_event_came() {
        let invoke = event(serde_json::json!({
            "eventType": "INVOKE",
            "deadlineMs": 1715690490000u64,
            "requestId": "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
            "invokedFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders",
        }));
        assert!(describe(&invoke).ends_with("invocation 8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
        let shutdown = event(serde_json::json!({
            "eventType": "SHUTDOWN",
            "shutdownReason": "spindown",
            "deadlineMs": 1715690490000u64,
        }));
        assert!(describe(&shutdown).ends_with("shutting down (spindown)"));
    }
}
