//! Property tests: the event parser on any JSON, the digit-string grammar both ways, and the
//! shape of the digits. Every runner has a fixed seed (the same cases on every run, whatever
//! PROPTEST_RNG_SEED says) and writes no persistence file.

use std::sync::LazyLock;

use calculate_pi::digit_string::{parse_digit_string, DigitStringError};
use calculate_pi::event::{parse_event, parse_payload, PiRequest};
use calculate_pi::handler::respond;
use calculate_pi::limits::Limits;
use calculate_pi::pi::{self, format_pi, Algorithm};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use regex::Regex;
use serde_json::{json, Map, Value};

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

/// Text that is often close to a digit string, and sometimes not at all.
fn digitish_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ \t+\\-_.0-9]{0,14}",
        "[ +\\-_.0-9a-z\u{a0}\u{2003}]{0,14}",
        "\\PC{0,12}",
    ]
}

/// Any JSON value, as deep as a few levels, with `digits`/`algorithm` keys common in objects.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        // Non-finite floats become null, as serde_json has them.
        any::<f64>().prop_map(Value::from),
        (0u64..2_000_000).prop_map(Value::from),
        (0u32..2_000_000).prop_map(|n| Value::from(f64::from(n) / 4.0)),
        digitish_text().prop_map(Value::String),
        prop_oneof![Just("spigot"), Just(" Chudnovsky "), Just("monte-carlo")]
            .prop_map(Value::from),
    ];
    let key = prop_oneof![
        Just("digits".to_string()),
        Just("algorithm".to_string()),
        "\\PC{0,8}"
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Events shaped like real ones: `digits` and `algorithm` each present or not, of any value.
fn event_like() -> impl Strategy<Value = Value> {
    (prop::option::of(any_json()), prop::option::of(any_json())).prop_map(|(digits, algorithm)| {
        let mut object = Map::new();
        if let Some(digits) = digits {
            object.insert("digits".to_string(), digits);
        }
        if let Some(algorithm) = algorithm {
            object.insert("algorithm".to_string(), algorithm);
        }
        Value::Object(object)
    })
}

const ERROR_TYPES: [&str; 6] = [
    "InvalidEvent",
    "UnknownField",
    "MissingDigits",
    "InvalidDigits",
    "DigitsOutOfRange",
    "InvalidAlgorithm",
];

#[test]
fn any_json_is_a_request_within_the_limits_or_a_specific_error() {
    let limits = Limits {
        max_digits_spigot: 1_000,
        max_digits_chudnovsky: 50_000,
        ..Limits::default()
    };
    runner(2_000)
        .run(&prop_oneof![any_json(), event_like()], |event| {
            let parsed = parse_event(&event, &limits);
            match &parsed {
                Ok(request) => {
                    prop_assert!(
                        (1..=limits.max_digits(request.algorithm)).contains(&request.digits)
                    );
                }
                Err(error) => {
                    prop_assert!(ERROR_TYPES.contains(&error.error_type()), "{error:?}");
                    let message = error.to_string();
                    prop_assert!(!message.is_empty() && message.len() < 600, "{message}");
                }
            }
            // The same event as bytes goes the same way (floats may round-trip to a
            // neighbour, so only the kind of answer is compared).
            let from_bytes = parse_payload(event.to_string().as_bytes(), &limits);
            prop_assert_eq!(from_bytes.is_ok(), parsed.is_ok());
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_bytes_are_a_request_or_a_specific_error() {
    let limits = Limits::default();
    runner(1_000)
        .run(&prop::collection::vec(any::<u8>(), 0..40), |bytes| {
            if let Err(error) = parse_payload(&bytes, &limits) {
                prop_assert!(ERROR_TYPES.contains(&error.error_type()));
            }
            Ok(())
        })
        .unwrap();
}

/// The grammar the parser documents: white space around, an optional `+`, digits with single
/// `_` separators between them, and optionally a point followed by zeros.
static ACCEPTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*\+?[0-9]+(_[0-9]+)*(\.0+)?\s*$").unwrap());

/// The value of a string the grammar accepts: its digits before any point.
fn value_of(text: &str) -> Option<u64> {
    let whole = text.split('.').next().unwrap_or_default();
    let digits: String = whole.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[test]
fn every_accepted_string_matches_the_grammar_and_every_match_is_accepted() {
    runner(5_000)
        .run(&digitish_text(), |text| {
            match parse_digit_string(&text) {
                Ok(n) => {
                    prop_assert!(ACCEPTED.is_match(&text), "accepted {text:?}");
                    prop_assert_eq!(Some(n), value_of(&text));
                }
                Err(DigitStringError::TooLarge) => {
                    prop_assert!(ACCEPTED.is_match(&text) && value_of(&text).is_none());
                }
                Err(_) => prop_assert!(!ACCEPTED.is_match(&text), "refused {text:?}"),
            }
            Ok(())
        })
        .unwrap();
}

/// A string built from the grammar's parts, with what the parser must make of it.
#[derive(Debug)]
struct Built {
    text: String,
    expected: Result<u64, DigitStringError>,
}

fn built_from_the_grammar() -> impl Strategy<Value = Built> {
    let space = "[ \t\n\u{a0}]{0,2}";
    (
        space,
        prop_oneof![Just(""), Just("+"), Just("-")],
        prop::collection::vec("[0-9]{1,4}", 1..7),
        prop_oneof![Just(String::new()), "\\.0{1,3}", "\\.[0-9]{0,2}[1-9]"],
        space,
    )
        .prop_map(|(before, sign, groups, fraction, after)| {
            let whole = groups.concat().parse::<u128>().expect("digits only");
            let text = format!("{before}{sign}{}{fraction}{after}", groups.join("_"));
            let whole = u64::try_from(whole).map_err(|_| DigitStringError::TooLarge);
            let fraction_is_zero = fraction.chars().skip(1).all(|c| c == '0');
            let unsigned = whole.and_then(|n| {
                if fraction_is_zero {
                    Ok(n)
                } else {
                    Err(DigitStringError::Fraction)
                }
            });
            let expected = if sign == "-" {
                Err(DigitStringError::Negative)
            } else {
                unsigned
            };
            Built { text, expected }
        })
}

#[test]
fn every_string_of_the_grammar_is_read_with_its_value() {
    let limits = Limits::default();
    let max = limits.max_digits(Algorithm::Spigot);
    runner(3_000)
        .run(&built_from_the_grammar(), |built| {
            prop_assert_eq!(
                parse_digit_string(&built.text),
                built.expected,
                "{:?}",
                built.text
            );
            // Through an event: in range a request, out of range a range error.
            let event = parse_event(&json!({ "digits": built.text }), &limits);
            match built.expected {
                Ok(n) if (1..=max).contains(&n) => prop_assert_eq!(
                    event,
                    Ok(PiRequest {
                        digits: n,
                        algorithm: Algorithm::Spigot
                    })
                ),
                Ok(_) | Err(DigitStringError::TooLarge) => {
                    prop_assert_eq!(event.unwrap_err().error_type(), "DigitsOutOfRange")
                }
                Err(_) => prop_assert_eq!(event.unwrap_err().error_type(), "InvalidDigits"),
            }
            Ok(())
        })
        .unwrap();
}

/// Pi's first 101 digits, as printed everywhere.
const KNOWN: &str = "31415926535897932384626433832795028841971693993751\
                     05820974944592307816406286208998628034825342117067\
                     9";

/// More digits than [`KNOWN`], from Chudnovsky (checked against Machin in tests/digits.rs).
static REFERENCE: LazyLock<String> = LazyLock::new(|| {
    let digits = pi::digits(Algorithm::Chudnovsky, 1_500);
    assert!(digits.starts_with(KNOWN));
    digits
});

#[test]
fn formatted_digits_are_pi_with_the_point_after_the_three() {
    runner(48)
        .run(
            &(
                1usize..=1_500,
                prop::sample::select(Algorithm::ALL.to_vec()),
            ),
            |(n, algorithm)| {
                let formatted = format_pi(&pi::digits(algorithm, n));
                if n == 1 {
                    prop_assert_eq!(formatted.as_str(), "3");
                } else {
                    prop_assert_eq!(formatted.len(), n + 1);
                    prop_assert!(formatted.starts_with("3."));
                    prop_assert_eq!(formatted.replacen('.', "", 1), &REFERENCE[..n]);
                }
                let response = respond(
                    PiRequest {
                        digits: n as u64,
                        algorithm,
                    },
                    None,
                )
                .unwrap();
                prop_assert_eq!(response.digits, n as u64);
                prop_assert_eq!(response.pi, formatted);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn format_pi_only_inserts_the_point() {
    runner(1_000)
        .run(&"[0-9]{0,40}", |digits| {
            let formatted = format_pi(&digits);
            if digits.len() < 2 {
                prop_assert_eq!(formatted, digits);
            } else {
                prop_assert_eq!(formatted.len(), digits.len() + 1);
                prop_assert_eq!(&formatted[1..2], ".");
                prop_assert_eq!(formatted.replacen('.', "", 1), digits);
            }
            Ok(())
        })
        .unwrap();
}
