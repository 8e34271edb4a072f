//! The invocation handler: payload in, digits or a Lambda function error out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

use crate::deadline::{self, NotEnoughTime};
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

impl From<NotEnoughTime> for Diagnostic {
    fn from(error: NotEnoughTime) -> Self {
        Diagnostic {
            error_type: "NotEnoughTime".to_string(),
            error_message: error.to_string(),
        }
    }
}

pub async fn handle(event: LambdaEvent<Value>, limits: &Limits) -> Result<PiResponse, Diagnostic> {
    let request = parse_event(&event.payload, limits)?;
    let remaining = time_left(event.context.deadline, SystemTime::now());
    Ok(respond(request, deadline::computing_budget(remaining))?)
}

/// Time from `now` to `deadline_ms` (milliseconds since the Unix epoch, as the Runtime API's
/// `Lambda-Runtime-Deadline-Ms` gives it); zero once it has passed.
pub fn time_left(deadline_ms: u64, now: SystemTime) -> Duration {
    let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    });
    Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// Computes the answer to a valid request within `budget`.
pub fn respond(request: PiRequest, budget: Duration) -> Result<PiResponse, NotEnoughTime> {
    // The limits keep `digits` far below usize::MAX on any target.
    let n = usize::try_from(request.digits).unwrap_or(usize::MAX);
    let digits = deadline::digits_within(request.algorithm, n, budget)?;
    Ok(PiResponse {
        digits: request.digits,
        pi: pi::format_pi(&digits),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi::Algorithm;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn time_left_before_the_deadline() {
        let now = UNIX_EPOCH + Duration::from_millis(1_000_000);
        assert_eq!(time_left(1_003_000, now), Duration::from_secs(3));
        assert_eq!(time_left(999_000, now), Duration::ZERO);
        assert_eq!(time_left(0, now), Duration::ZERO);
    }

    #[test]
    fn too_little_time_is_a_lambda_error_that_says_what_would_fit() {
        let request = PiRequest {
            digits: 100_000,
            algorithm: Algorithm::Spigot,
        };
        let diagnostic: Diagnostic = respond(request, Duration::ZERO).unwrap_err().into();
        assert_eq!(diagnostic.error_type, "NotEnoughTime");
        assert!(
            diagnostic.error_message.contains("digits would fit"),
            "{}",
            diagnostic.error_message
        );
    }

    #[test]
    fn response_holds_exactly_n_digits() {
        for n in [1u64, 2, 10, 100] {
            let response = respond(
                PiRequest {
                    digits: n,
                    algorithm: Algorithm::Spigot,
                },
                HOUR,
            )
            .unwrap();
            assert_eq!(response.digits, n);
            let digit_count = response.pi.chars().filter(char::is_ascii_digit).count();
            assert_eq!(digit_count as u64, n);
        }
        let one = respond(
            PiRequest {
                digits: 1,
                algorithm: Algorithm::Spigot,
            },
            HOUR,
        )
        .unwrap();
        assert_eq!(one.pi, "3");
    }

    #[test]
    fn event_errors_become_lambda_diagnostics() {
        let diagnostic: Diagnostic = EventError::MissingDigits.into();
        assert_eq!(diagnostic.error_type, "MissingDigits");
        assert!(diagnostic.error_message.contains("digits"));
    }
}
