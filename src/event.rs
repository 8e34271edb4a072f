//! Turning an invocation payload into a request, or into an error that says what was wrong and
//! what is accepted. Every payload, of any JSON shape, ends in one or the other: nothing here
//! panics.

use std::fmt;

use serde_json::{Map, Value};

use crate::digit_string::{parse_digit_string, DigitStringError};
use crate::limits::{self, Limits};
use crate::pi::Algorithm;

/// The fields an event may carry; anything else is refused so that a typo (`"digit"`) is
/// reported instead of silently ignored.
pub const ACCEPTED_FIELDS: [&str; 2] = ["digits", "algorithm"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiRequest {
    pub digits: u64,
    pub algorithm: Algorithm,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The payload is not JSON at all (the Invoke API refuses such payloads, but a Runtime
    /// API might still pass one on).
    NotJson {
        reason: String,
    },
    /// The payload is valid JSON but not an object.
    NotAnObject {
        found: &'static str,
    },
    UnknownField {
        field: String,
    },
    MissingDigits,
    NullDigits,
    /// `digits` is present but not a whole number (wrong type, fraction, text, negative…).
    InvalidDigits {
        found: String,
        reason: &'static str,
    },
    /// A whole number outside 1..=max for the chosen algorithm.
    DigitsOutOfRange {
        requested: String,
        max: u64,
        algorithm: Algorithm,
    },
    InvalidAlgorithm {
        found: String,
    },
}

impl EventError {
    /// The Lambda `errorType` reported for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            EventError::NotJson { .. } | EventError::NotAnObject { .. } => "InvalidEvent",
            EventError::UnknownField { .. } => "UnknownField",
            EventError::MissingDigits | EventError::NullDigits => "MissingDigits",
            EventError::InvalidDigits { .. } => "InvalidDigits",
            EventError::DigitsOutOfRange { .. } => "DigitsOutOfRange",
            EventError::InvalidAlgorithm { .. } => "InvalidAlgorithm",
        }
    }
}

const DIGITS_ACCEPTED: &str =
    "a whole number of digits, as a JSON number (10000) or a string with optional _ separators (\"10_000\")";

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::NotJson { reason } => write!(
                f,
                "the event must be a JSON object such as {{\"digits\": \"10_000\"}}, but it is not JSON ({reason})"
            ),
            EventError::NotAnObject { found } => write!(
                f,
                "the event must be a JSON object such as {{\"digits\": \"10_000\"}}, got {found}"
            ),
            EventError::UnknownField { field } => write!(
                f,
                "unknown field {field:?}; accepted fields: {}",
                ACCEPTED_FIELDS.join(", ")
            ),
            EventError::MissingDigits => {
                write!(f, "the event has no \"digits\" field; send {DIGITS_ACCEPTED}")
            }
            EventError::NullDigits => write!(f, "\"digits\" is null; send {DIGITS_ACCEPTED}"),
            EventError::InvalidDigits { found, reason } => {
                write!(f, "\"digits\" is {found}, which {reason}; send {DIGITS_ACCEPTED}")
            }
            EventError::DigitsOutOfRange { requested, max, algorithm } => {
                write!(
                    f,
                    "\"digits\" is {requested}, outside the accepted range 1 to {max} for the {} \
                     algorithm; the function's {} variable sets this limit (up to {})",
                    algorithm.name(),
                    limits::max_digits_variable(*algorithm),
                    limits::HARD_MAX_DIGITS,
                )?;
                if *algorithm == Algorithm::Chudnovsky {
                    write!(
                        f,
                        "; its default grows with the function's memory size ({} digits a MB, \
                         at most {})",
                        limits::CHUDNOVSKY_DIGITS_PER_MB,
                        limits::DEFAULT_MAX_DIGITS_CHUDNOVSKY_CAP,
                    )?;
                }
                Ok(())
            }
            EventError::InvalidAlgorithm { found } => write!(
                f,
                "\"algorithm\" is {found}; accepted: \"spigot\" (default) or \"chudnovsky\""
            ),
        }
    }
}

impl std::error::Error for EventError {}

/// Parses the raw bytes of an invocation payload into a request within `limits`.
pub fn parse_payload(payload: &[u8], limits: &Limits) -> Result<PiRequest, EventError> {
    // serde_json stops at 128 levels of nesting, so no payload can exhaust the stack.
    let event: Value = serde_json::from_slice(payload).map_err(|error| EventError::NotJson {
        reason: cut_short(&error.to_string()),
    })?;
    parse_event(&event, limits)
}

/// Parses an invocation payload into a request within `limits`.
pub fn parse_event(event: &Value, limits: &Limits) -> Result<PiRequest, EventError> {
    let object = match event {
        Value::Object(object) => object,
        other => {
            return Err(EventError::NotAnObject {
                found: json_kind(other),
            })
        }
    };
    if let Some(field) = object
        .keys()
        .find(|key| !ACCEPTED_FIELDS.contains(&key.as_str()))
    {
        return Err(EventError::UnknownField {
            field: cut_short(field),
        });
    }
    let algorithm = parse_algorithm(object)?;
    let digits = parse_digits(object)?;
    let max = limits.max_digits(algorithm);
    match digits {
        Some(n) if (1..=max).contains(&n) => Ok(PiRequest {
            digits: n,
            algorithm,
        }),
        _ => Err(EventError::DigitsOutOfRange {
            requested: digits.map_or_else(|| "too large".to_string(), |n| n.to_string()),
            max,
            algorithm,
        }),
    }
}

fn parse_algorithm(object: &Map<String, Value>) -> Result<Algorithm, EventError> {
    match object.get("algorithm") {
        None | Some(Value::Null) => Ok(Algorithm::default()),
        Some(Value::String(name)) => Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| EventError::InvalidAlgorithm {
                found: describe(&Value::String(name.clone())),
            }),
        Some(other) => Err(EventError::InvalidAlgorithm {
            found: describe(other),
        }),
    }
}

/// `Ok(None)` is a whole, non-negative number too large for `u64`: out of range, not invalid.
fn parse_digits(object: &Map<String, Value>) -> Result<Option<u64>, EventError> {
    let value = match object.get("digits") {
        None => return Err(EventError::MissingDigits),
        Some(Value::Null) => return Err(EventError::NullDigits),
        Some(value) => value,
    };
    let invalid = |reason| EventError::InvalidDigits {
        found: describe(value),
        reason,
    };
    match value {
        Value::Number(number) => {
            if let Some(n) = number.as_u64() {
                Ok(Some(n))
            } else if number.as_i64().is_some() {
                Err(invalid("is negative"))
            } else {
                // A float: accept 1e4 or 10000.0, refuse 10.5 and negatives.
                let f = number.as_f64().unwrap_or(f64::NAN);
                if f < 0.0 {
                    Err(invalid("is negative"))
                } else if f.fract() != 0.0 {
                    Err(invalid("is not a whole number"))
                } else if f >= u64::MAX as f64 {
                    Ok(None)
                } else {
                    Ok(Some(f as u64))
                }
            }
        }
        Value::String(text) => match parse_digit_string(text) {
            Ok(n) => Ok(Some(n)),
            Err(DigitStringError::TooLarge) => Ok(None),
            Err(DigitStringError::Negative) => Err(invalid("is negative")),
            Err(DigitStringError::Fraction) => Err(invalid("is not a whole number")),
            Err(DigitStringError::Empty) => Err(invalid("is empty")),
            Err(DigitStringError::NotANumber) => Err(invalid("is not a number")),
        },
        Value::Bool(_) => Err(invalid("is a boolean, not a number")),
        Value::Array(_) => Err(invalid("is an array, not a number")),
        Value::Object(_) => Err(invalid("is an object, not a number")),
        Value::Null => Err(EventError::NullDigits),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The offending value as JSON, cut short so that a huge payload does not become a huge error.
fn describe(value: &Value) -> String {
    cut_short(&value.to_string())
}

/// `text`, or its first 60 characters and an ellipsis.
fn cut_short(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(event: Value) -> Result<PiRequest, EventError> {
        parse_event(&event, &Limits::default())
    }

    fn digits(event: Value) -> u64 {
        parse(event).expect("valid event").digits
    }

    #[test]
    fn accepts_the_benchmark_event_and_plain_numbers() {
        assert_eq!(digits(json!({"digits": "10_000"})), 10_000);
        assert_eq!(digits(json!({"digits": "10000"})), 10_000);
        assert_eq!(
            digits(json!({"digits": " 1_000_000 ", "algorithm": "chudnovsky"})),
            1_000_000
        );
        assert_eq!(digits(json!({"digits": 10000})), 10_000);
        assert_eq!(digits(json!({"digits": 1e4})), 10_000);
        assert_eq!(digits(json!({"digits": 1})), 1);
        assert_eq!(digits(json!({"digits": "+42"})), 42);
        assert_eq!(digits(json!({"digits": "42.0"})), 42);
        assert_eq!(
            parse(json!({"digits": 5, "algorithm": "Chudnovsky"}))
                .unwrap()
                .algorithm,
            Algorithm::Chudnovsky
        );
        assert_eq!(
            parse(json!({"digits": 5, "algorithm": null}))
                .unwrap()
                .algorithm,
            Algorithm::Spigot
        );
    }

    fn error_of(event: Value) -> EventError {
        parse(event).expect_err("invalid event")
    }

    #[test]
    fn every_bad_event_has_a_specific_error_type_and_says_what_is_accepted() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!({}), "MissingDigits", "no \"digits\""),
            (json!({"digits": null}), "MissingDigits", "null"),
            (json!({"digits": 0}), "DigitsOutOfRange", "1 to 100000"),
            (json!({"digits": "0"}), "DigitsOutOfRange", "1 to 100000"),
            (json!({"digits": -5}), "InvalidDigits", "negative"),
            (json!({"digits": "-5"}), "InvalidDigits", "negative"),
            (json!({"digits": -0.5}), "InvalidDigits", "negative"),
            (
                json!({"digits": 10.5}),
                "InvalidDigits",
                "not a whole number",
            ),
            (
                json!({"digits": "10.5"}),
                "InvalidDigits",
                "not a whole number",
            ),
            (json!({"digits": "ten"}), "InvalidDigits", "not a number"),
            (json!({"digits": "1__0"}), "InvalidDigits", "not a number"),
            (json!({"digits": "_10"}), "InvalidDigits", "not a number"),
            (json!({"digits": "10_"}), "InvalidDigits", "not a number"),
            (json!({"digits": "1e4"}), "InvalidDigits", "not a number"),
            (json!({"digits": ""}), "InvalidDigits", "empty"),
            (json!({"digits": true}), "InvalidDigits", "boolean"),
            (json!({"digits": [10]}), "InvalidDigits", "array"),
            (json!({"digits": {"n": 10}}), "InvalidDigits", "object"),
            (
                json!({"digits": 100_001}),
                "DigitsOutOfRange",
                "1 to 100000",
            ),
            (
                json!({"digits": "99999999999999999999999"}),
                "DigitsOutOfRange",
                "too large",
            ),
            (json!({"digits": 1e300}), "DigitsOutOfRange", "too large"),
            (
                json!({"digits": 6_000_000, "algorithm": "chudnovsky"}),
                "DigitsOutOfRange",
                "1 to 5120000 for the chudnovsky",
            ),
            (
                json!({"digits": 6_000_000, "algorithm": "chudnovsky"}),
                "DigitsOutOfRange",
                "CALCULATE_PI_MAX_DIGITS_CHUDNOVSKY",
            ),
            (
                json!({"digits": 6_000_000, "algorithm": "chudnovsky"}),
                "DigitsOutOfRange",
                "memory size",
            ),
            (
                json!({"digits": 100_001}),
                "DigitsOutOfRange",
                "CALCULATE_PI_MAX_DIGITS_SPIGOT",
            ),
            (
                json!({"digits": 10, "digit": 5}),
                "UnknownField",
                "\"digit\"",
            ),
            (
                json!({"digits": 10, "algorithm": "monte-carlo"}),
                "InvalidAlgorithm",
                "monte-carlo",
            ),
            (
                json!({"digits": 10, "algorithm": 7}),
                "InvalidAlgorithm",
                "7",
            ),
            (json!([1, 2]), "InvalidEvent", "an array"),
            (json!("10000"), "InvalidEvent", "a string"),
            (json!(10000), "InvalidEvent", "a number"),
            (Value::Null, "InvalidEvent", "null"),
        ];
        for (event, error_type, says) in cases {
            let err = error_of(event.clone());
            assert_eq!(err.error_type(), error_type, "{event}");
            let message = err.to_string();
            assert!(message.contains(says), "{event}: {message}");
            if let "InvalidDigits" | "MissingDigits" = error_type {
                assert!(message.contains("\"10_000\""), "{event}: {message}");
            }
        }
    }

    #[test]
    fn long_values_are_cut_short_in_messages() {
        let huge = "9".repeat(10_000) + "x";
        let message = error_of(json!({ "digits": huge })).to_string();
        assert!(message.len() < 400, "{message}");
        let message = error_of(json!({ "digits": 5, huge.clone(): 1 })).to_string();
        assert!(message.len() < 400, "{message}");
        let message = error_of(json!({ "digits": 5, "algorithm": huge })).to_string();
        assert!(message.len() < 400, "{message}");
    }

    /// A million signs once overflowed the stack through recursion; any input is one pass now.
    #[test]
    fn pathological_strings_are_plain_errors() {
        let dashes = "-".repeat(1_000_000) + "5";
        assert_eq!(
            error_of(json!({ "digits": dashes })).error_type(),
            "InvalidDigits"
        );
        let dots = "1".to_string() + &".".repeat(1_000_000);
        assert_eq!(
            error_of(json!({ "digits": dots })).error_type(),
            "InvalidDigits"
        );
    }

    #[test]
    fn payloads_that_are_not_json_are_invalid_events() {
        let limits = Limits::default();
        assert_eq!(
            parse_payload(br#"{"digits": "10_000"}"#, &limits).map(|r| r.digits),
            Ok(10_000)
        );
        let deep = "[".repeat(100_000);
        for bad in [
            &b""[..],
            b"not json",
            b"{\"digits\": 5",
            b"\xff\xfe",
            deep.as_bytes(),
        ] {
            let err = parse_payload(bad, &limits).unwrap_err();
            assert!(matches!(err, EventError::NotJson { .. }), "{err:?}");
            assert_eq!(err.error_type(), "InvalidEvent");
            let message = err.to_string();
            assert!(message.contains("not JSON"), "{message}");
            assert!(message.len() < 400, "{message}");
        }
    }

    #[test]
    fn limits_bound_each_algorithm() {
        let limits = Limits {
            max_digits_spigot: 10,
            max_digits_chudnovsky: 20,
            ..Limits::default()
        };
        assert!(parse_event(&json!({"digits": 10}), &limits).is_ok());
        assert!(parse_event(&json!({"digits": 11}), &limits).is_err());
        assert!(parse_event(&json!({"digits": 20, "algorithm": "chudnovsky"}), &limits).is_ok());
    }
}
