//! What the function does with the events of {{service}} ({{event_type}} from
//! `aws_lambda_events`).

use aws_lambda_events::event::{{event_module}}::{{event_type}};
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;

/// What the function answers (a caller such as `cargo xtask invoke` sees it; {{service}}
/// ignores it).
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Outcome {
    pub processed: usize,
}

/// The pure part: one line per {{item}}.
pub(crate) fn describe(event: &{{event_type}}) -> Vec<String> {
{{describe}}
}

pub(crate) async fn function_handler(event: LambdaEvent<{{event_type}}>) -> Result<Outcome, Error> {
    let lines = describe(&event.payload);
    for line in &lines {
        // stdout goes to the function's CloudWatch log stream.
        println!("{line}");
    }
    Ok(Outcome {
        processed: lines.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;

    #[tokio::test]
    async fn handles_every_{{item}}() {
{{test_event}}
        let expected = describe(&event).len();
        assert_eq!(expected, 1);
        let outcome = function_handler(LambdaEvent::new(event, Context::default()))
            .await
            .unwrap();
        assert_eq!(outcome, Outcome { processed: 1 });
    }
}
