//! The invocation handler: payload in, digits or a Lambda function error out.
//!
//! [`handle`] and [`respond`] are plain functions; [`Function::invoke`] is what
//! `lambda_runtime::run(service_fn(…))` calls: it reads the deadline from lambda_runtime's
//! `Context` and shapes the answer into a buffered or a streamed `FunctionResponse`.

use std::any::Any;
use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use lambda_runtime::{FunctionResponse, LambdaEvent, StreamResponse};
use serde_json::value::RawValue;

use crate::deadline::{self, NotEnoughTime, TimeLeft};
use crate::event::{parse_payload, EventError, PiRequest};
use crate::limits::Limits;
use crate::pi;
pub use crate::response::PiResponse;
use crate::response::{self, Answer};

/// A function error as the Runtime API takes it: `{"errorType": …, "errorMessage": …}`.
pub use lambda_runtime::Diagnostic;

/// The chunks of a streamed answer, as lambda_runtime takes them.
pub type ChunkStream = tokio_stream::Iter<std::iter::Map<std::vec::IntoIter<Bytes>, ChunkOk>>;
type ChunkOk = fn(Bytes) -> Result<Bytes, Infallible>;

/// What the handler returns to lambda_runtime.
pub type Reply = FunctionResponse<PiResponse, ChunkStream>;

fn diagnostic(error_type: &str, error_message: String) -> Diagnostic {
    Diagnostic {
        error_type: error_type.to_string(),
        error_message,
    }
}

/// The error for a handler that panicked (a bug: no payload should get there). lambda_runtime
/// would catch the panic too, but name it after a Rust type
/// (`&alloc::boxed::Box<dyn core::any::Any + core::marker::Send>`); this keeps `Panic`.
pub fn panic_diagnostic(panic: &(dyn Any + Send)) -> Diagnostic {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    diagnostic("Panic", format!("the function panicked: {what}"))
}

impl From<EventError> for Diagnostic {
    fn from(error: EventError) -> Self {
        diagnostic(error.error_type(), error.to_string())
    }
}

impl From<NotEnoughTime> for Diagnostic {
    fn from(error: NotEnoughTime) -> Self {
        diagnostic("NotEnoughTime", error.to_string())
    }
}

/// The function as lambda_runtime runs it: its limits, and what it remembers between
/// invocations.
pub struct Function {
    limits: Limits,
    /// When the process started: a deadline before it cannot be real.
    started: SystemTime,
    /// Whether the log already says that deadlines are not real.
    deadline_notice_given: AtomicBool,
}

impl Function {
    pub fn new(limits: Limits, started: SystemTime) -> Self {
        Function {
            limits,
            started,
            deadline_notice_given: AtomicBool::new(false),
        }
    }

    /// Answers one invocation. The payload arrives as lambda_runtime received it (any valid
    /// JSON), so that every shape gets this function's own error.
    pub async fn invoke(&self, event: LambdaEvent<Box<RawValue>>) -> Result<Reply, Diagnostic> {
        let time_left =
            deadline::time_left(event.context.deadline, SystemTime::now(), self.started);
        if let TimeLeft::Unknown(unreal) = &time_left {
            if self.first_deadline_notice() {
                eprintln!("calculate-pi: {unreal}");
            }
        }
        let payload = event.payload.get().as_bytes();
        let response = catch_unwind(AssertUnwindSafe(|| {
            handle(payload, &time_left, &self.limits)
        }))
        .unwrap_or_else(|panic| Err(panic_diagnostic(panic.as_ref())))?;
        Ok(reply(response::answer(
            response,
            self.limits.stream_above_bytes,
        )))
    }

    /// True the first time only.
    fn first_deadline_notice(&self) -> bool {
        !self.deadline_notice_given.swap(true, Ordering::Relaxed)
    }
}

/// An answer as lambda_runtime sends it.
pub fn reply(answer: Answer) -> Reply {
    match answer {
        Answer::Buffered(response) => FunctionResponse::BufferedResponse(response),
        Answer::Streamed(chunks) => FunctionResponse::StreamingResponse(StreamResponse {
            metadata_prelude: response::streamed_prelude(),
            stream: tokio_stream::iter(chunks.into_iter().map(Ok as ChunkOk)),
        }),
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
    use lambda_runtime::Context;
    use std::time::UNIX_EPOCH;
    use tokio_stream::StreamExt;

    const HOUR: Option<Duration> = Some(Duration::from_secs(3600));

    fn event(payload: &str, deadline_ms: u64) -> LambdaEvent<Box<RawValue>> {
        let mut context = Context::default();
        context.deadline = deadline_ms;
        LambdaEvent::new(RawValue::from_string(payload.to_string()).unwrap(), context)
    }

    fn in_a_minute() -> u64 {
        let later = SystemTime::now() + Duration::from_secs(60);
        later.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
    }

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn handle_answers_within_a_known_deadline_or_without_one() {
        let limits = Limits::default();
        let payload = br#"{"digits": "20_000"}"#;
        let no_time = TimeLeft::Known(Duration::ZERO);
        let err = handle(payload, &no_time, &limits).unwrap_err();
        assert_eq!(err.error_type, "NotEnoughTime");
        let unknown = deadline::time_left(600_000, UNIX_EPOCH, UNIX_EPOCH);
        assert!(matches!(unknown, TimeLeft::Unknown(_)));
        let response = handle(payload, &unknown, &limits).unwrap();
        assert_eq!(response.digits, 20_000);
        assert!(response.pi.starts_with("3.14159"));
        let err = handle(b"{", &unknown, &limits).unwrap_err();
        assert_eq!(err.error_type, "InvalidEvent");
    }

    #[test]
    fn invoke_reads_the_deadline_from_the_context() {
        let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
        let function = Function::new(Limits::default(), ten_minutes_ago);
        block_on(async {
            for deadline in [in_a_minute(), 0, 600_000] {
                let reply = function.invoke(event(r#"{"digits": 5}"#, deadline)).await;
                let Ok(FunctionResponse::BufferedResponse(response)) = reply else {
                    panic!("{deadline}: not a buffered answer");
                };
                assert_eq!(response.pi, "3.1415");
            }
            // A real deadline that has passed refuses what cannot be done at once.
            let past = in_a_minute() - 61_000;
            let refused = function.invoke(event(r#"{"digits": 100000}"#, past)).await;
            assert_eq!(refused.err().unwrap().error_type, "NotEnoughTime");
            // With 600000 (no deadline known) the same request is computed.
            let reply = function.invoke(event(r#"{"digits": 3000}"#, 600_000)).await;
            assert!(reply.is_ok());
        });
        assert!(!function.first_deadline_notice(), "the notice was given");
    }

    #[test]
    fn the_deadline_notice_is_given_once() {
        let function = Function::new(Limits::default(), SystemTime::now());
        assert!(function.first_deadline_notice());
        assert!(!function.first_deadline_notice());
        assert!(!function.first_deadline_notice());
    }

    #[test]
    fn invoke_turns_bad_events_into_their_errors() {
        let function = Function::new(Limits::default(), SystemTime::now());
        block_on(async {
            for (payload, error_type) in [
                (r#"{"digits": "ten"}"#, "InvalidDigits"),
                ("[1, 2]", "InvalidEvent"),
                (r#"{"digits": 1e400}"#, "InvalidEvent"),
                (r#"{"digit": 5}"#, "UnknownField"),
            ] {
                let err = function
                    .invoke(event(payload, in_a_minute()))
                    .await
                    .err()
                    .unwrap();
                assert_eq!(
                    err.error_type, error_type,
                    "{payload}: {}",
                    err.error_message
                );
            }
        });
    }

    #[test]
    fn an_answer_over_the_threshold_is_streamed_as_the_same_json() {
        let limits = Limits {
            stream_above_bytes: 25,
            ..Limits::default()
        };
        let function = Function::new(limits, SystemTime::now());
        block_on(async {
            // {"digits":1,"pi":"3"}: 21 bytes.
            let small = function.invoke(event(r#"{"digits": 1}"#, 0)).await;
            assert!(matches!(small, Ok(FunctionResponse::BufferedResponse(_))));
            let Ok(FunctionResponse::StreamingResponse(streamed)) =
                function.invoke(event(r#"{"digits": 100}"#, 0)).await
            else {
                panic!("not streamed");
            };
            assert_eq!(streamed.metadata_prelude, response::streamed_prelude());
            let mut body = Vec::new();
            let mut stream = streamed.stream;
            while let Some(chunk) = stream.next().await {
                body.extend_from_slice(&chunk.unwrap());
            }
            let buffered = respond(
                PiRequest {
                    digits: 100,
                    algorithm: Algorithm::Spigot,
                },
                None,
            )
            .unwrap();
            assert_eq!(body, serde_json::to_vec(&buffered).unwrap());
        });
    }

    #[test]
    fn diagnostics_serialise_as_the_runtime_api_reads_them() {
        let diagnostic = diagnostic("InvalidDigits", "no".to_string());
        assert_eq!(
            serde_json::to_value(&diagnostic).unwrap(),
            serde_json::json!({"errorType": "InvalidDigits", "errorMessage": "no"})
        );
    }

    #[test]
    fn a_panic_becomes_a_diagnostic_with_its_message() {
        let caught = catch_unwind(|| panic!("at {}", 42)).unwrap_err();
        let diagnostic = panic_diagnostic(caught.as_ref());
        assert_eq!(diagnostic.error_type, "Panic");
        assert!(diagnostic.error_message.contains("at 42"));
        let caught = catch_unwind(|| std::panic::panic_any(7)).unwrap_err();
        assert!(panic_diagnostic(caught.as_ref())
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
