//! The invocation handler: payload in, digits or a Lambda function error out.

use std::any::Any;
use std::time::Duration;

use serde::Serialize;

use crate::deadline::{self, NotEnoughTime, TimeLeft};
use crate::event::{parse_payload, EventError, PiRequest};
use crate::limits::Limits;
use crate::pi;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PiResponse {
    pub digits: u64,
    /// Exactly `digits` digits, with the point after the 3 (`"3"` for one digit).
    pub pi: String,
}

/// A function error as the Runtime API takes it: `{"errorType": …, "errorMessage": …}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    pub error_type: String,
    pub error_message: String,
}

impl Diagnostic {
    /// The error for a handler that panicked (a bug: no payload should get there).
    pub fn from_panic(panic: &(dyn Any + Send)) -> Self {
        let what = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        Diagnostic {
            error_type: "Panic".to_string(),
            error_message: format!("the function panicked: {what}"),
        }
    }
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

/// Answers one invocation: its raw payload, with `time_left` before its deadline.
pub fn handle(
    payload: &[u8],
    time_left: &TimeLeft,
    limits: &Limits,
) -> Result<PiResponse, Diagnostic> {
    let request = parse_payload(payload, limits)?;
    let budget = match time_left {
        TimeLeft::Known(remaining) => Some(deadline::computing_budget(*remaining)),
        TimeLeft::Unknown(_) => None,
    };
    Ok(respond(request, budget)?)
}

/// Computes the answer to a valid request within `budget`, or without a time limit when no
/// deadline is known.
pub fn respond(request: PiRequest, budget: Option<Duration>) -> Result<PiResponse, NotEnoughTime> {
    // The limits keep `digits` far below usize::MAX on any target.
    let n = usize::try_from(request.digits).unwrap_or(usize::MAX);
    let digits = match budget {
        Some(budget) => deadline::digits_within(request.algorithm, n, budget)?,
        None => pi::digits(request.algorithm, n),
    };
    Ok(PiResponse {
        digits: request.digits,
        pi: pi::format_pi(&digits),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pi::Algorithm;
    use std::time::UNIX_EPOCH;

    const HOUR: Option<Duration> = Some(Duration::from_secs(3600));

    #[test]
    fn handle_answers_within_a_known_deadline_or_without_one() {
        let limits = Limits::default();
        let payload = br#"{"digits": "20_000"}"#;
        let no_time = TimeLeft::Known(Duration::ZERO);
        let err = handle(payload, &no_time, &limits).unwrap_err();
        assert_eq!(err.error_type, "NotEnoughTime");
        let unknown = deadline::time_left(Some(b"600000"), UNIX_EPOCH, UNIX_EPOCH);
        assert!(matches!(unknown, TimeLeft::Unknown(_)));
        let response = handle(payload, &unknown, &limits).unwrap();
        assert_eq!(response.digits, 20_000);
        assert!(response.pi.starts_with("3.14159"));
        let err = handle(b"{", &unknown, &limits).unwrap_err();
        assert_eq!(err.error_type, "InvalidEvent");
    }

    #[test]
    fn diagnostics_serialise_as_the_runtime_api_reads_them() {
        let diagnostic = Diagnostic {
            error_type: "InvalidDigits".to_string(),
            error_message: "no".to_string(),
        };
        assert_eq!(
            serde_json::to_value(&diagnostic).unwrap(),
            serde_json::json!({"errorType": "InvalidDigits", "errorMessage": "no"})
        );
    }

    #[test]
    fn a_panic_becomes_a_diagnostic_with_its_message() {
        let caught = std::panic::catch_unwind(|| panic!("at {}", 42)).unwrap_err();
        let diagnostic = Diagnostic::from_panic(caught.as_ref());
        assert_eq!(diagnostic.error_type, "Panic");
        assert!(diagnostic.error_message.contains("at 42"));
        let caught = std::panic::catch_unwind(|| std::panic::panic_any(7)).unwrap_err();
        assert!(Diagnostic::from_panic(caught.as_ref())
            .error_message
            .contains("no message"));
    }

    #[test]
    fn too_little_time_is_a_lambda_error_that_says_what_would_fit() {
        let request = PiRequest {
            digits: 100_000,
            algorithm: Algorithm::Spigot,
        };
        let diagnostic: Diagnostic = respond(request, Some(Duration::ZERO)).unwrap_err().into();
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
