//! The invocation handler: payload in, digits or a Lambda function error out.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

use crate::event::{parse_event, EventError, PiRequest};
use crate::limits::Limits;
use crate::pi;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PiResponse {
    pub digits: u64,
    /// Exactly `digits` digits, with the point after the 3 (`"3"` for one digit).
    pub pi: String,
}

impl From<EventError> for Diagnostic {
    fn from(error: EventError) -> Self {
        Diagnostic {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}

pub async fn handle(event: LambdaEvent<Value>, limits: &Limits) -> Result<PiResponse, Diagnostic> {
    let request = parse_event(&event.payload, limits)?;
    Ok(respond(request))
}

/// Computes the answer to a valid request.
pub fn respond(request: PiRequest) -> PiResponse {
    // The limits keep `digits` far below usize::MAX on any target.
    let n = usize::try_from(request.digits).unwrap_or(usize::MAX);
    PiResponse {
        digits: request.digits,
        pi: pi::format_pi(&pi::digits(request.algorithm, n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Algorithm;

    #[test]
    fn response_holds_exactly_n_digits() {
        for n in [1u64, 2, 10, 100] {
            let response = respond(PiRequest {
                digits: n,
                algorithm: Algorithm::Spigot,
            });
            assert_eq!(response.digits, n);
            let digit_count = response.pi.chars().filter(char::is_ascii_digit).count();
            assert_eq!(digit_count as u64, n);
        }
        let one = respond(PiRequest {
            digits: 1,
            algorithm: Algorithm::Spigot,
        });
        assert_eq!(one.pi, "3");
    }

    #[test]
    fn event_errors_become_lambda_diagnostics() {
        let diagnostic: Diagnostic = EventError::MissingDigits.into();
        assert_eq!(diagnostic.error_type, "MissingDigits");
        assert!(diagnostic.error_message.contains("digits"));
    }
}
