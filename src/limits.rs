//! The largest request each algorithm accepts and the size above which an answer is streamed,
//! documented in docs/function.md and configurable per function through environment variables
//! (`aws lambda update-function-configuration --environment`), read once at start-up.

use std::fmt;

use crate::digit_string::parse_digit_string;
use crate::pi::Algorithm;

/// Environment variable that overrides the spigot's maximum digits.
pub const MAX_DIGITS_SPIGOT_VAR: &str = "CALCULATE_PI_MAX_DIGITS_SPIGOT";
/// Environment variable that overrides the Chudnovsky maximum digits.
pub const MAX_DIGITS_CHUDNOVSKY_VAR: &str = "CALCULATE_PI_MAX_DIGITS_CHUDNOVSKY";
/// Environment variable that lowers the size above which answers are streamed.
pub const STREAM_ABOVE_BYTES_VAR: &str = "CALCULATE_PI_STREAM_ABOVE_BYTES";
/// The function's memory size in MB, set by Lambda (and required by lambda_runtime).
pub const MEMORY_SIZE_VAR: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";

/// Default ceiling of the spigot: its cost grows with the square of N; 100,000 digits take
/// about 2 s on a full core and so tens of seconds on a 128 MB function (a fraction of a vCPU).
pub const DEFAULT_MAX_DIGITS_SPIGOT: u64 = 100_000;
/// Chudnovsky's default ceiling per MB of the function's memory size. Its peak resident memory
/// was measured at about 10 bytes a digit (10 MB for 1,000,000 digits, 37 MB for 4,000,000,
/// the answer included); 40,000 digits a MB allows 25 bytes a digit, room for the allocator,
/// the runtime and a faster multiplication's buffers. 128 MB thus allows 5,120,000 digits.
pub const CHUDNOVSKY_DIGITS_PER_MB: u64 = 40_000;
/// Chudnovsky's default ceiling never goes below this (a million digits fit in any memory
/// size Lambda offers) nor above [`DEFAULT_MAX_DIGITS_CHUDNOVSKY_CAP`] (reached at 250 MB).
pub const DEFAULT_MAX_DIGITS_CHUDNOVSKY_FLOOR: u64 = 1_000_000;
pub const DEFAULT_MAX_DIGITS_CHUDNOVSKY_CAP: u64 = 10_000_000;
/// No configuration may go beyond this: answers above Lambda's buffered limit are streamed,
/// and 20,000,000 digits (20,000,034 bytes of JSON) stay under the 20 MiB that AWS documented
/// for streamed responses before it raised the limit to 200 MB.
pub const HARD_MAX_DIGITS: u64 = 20_000_000;
/// Lambda's limit for a buffered (`RequestResponse`) answer: 6 MiB and 100 bytes, as its
/// `Function.ResponseSizeTooLarge` error states it. Larger answers must be streamed.
pub const BUFFERED_RESPONSE_LIMIT_BYTES: u64 = 6_291_556;

// A default never exceeds what a variable may set.
const _: () = assert!(DEFAULT_MAX_DIGITS_CHUDNOVSKY_CAP <= HARD_MAX_DIGITS);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_digits_spigot: u64,
    pub max_digits_chudnovsky: u64,
    /// An answer whose JSON is longer than this is streamed; at most
    /// [`BUFFERED_RESPONSE_LIMIT_BYTES`].
    pub stream_above_bytes: u64,
}

impl Default for Limits {
    /// The limits of a function with Lambda's smallest memory size (128 MB) and no variables.
    fn default() -> Self {
        Limits {
            max_digits_spigot: DEFAULT_MAX_DIGITS_SPIGOT,
            max_digits_chudnovsky: default_max_digits_chudnovsky(Some(128)),
            stream_above_bytes: BUFFERED_RESPONSE_LIMIT_BYTES,
        }
    }
}

/// Chudnovsky's default ceiling for a function of `memory_mb` (unknown: the floor).
pub fn default_max_digits_chudnovsky(memory_mb: Option<u64>) -> u64 {
    memory_mb.map_or(DEFAULT_MAX_DIGITS_CHUDNOVSKY_FLOOR, |mb| {
        mb.saturating_mul(CHUDNOVSKY_DIGITS_PER_MB).clamp(
            DEFAULT_MAX_DIGITS_CHUDNOVSKY_FLOOR,
            DEFAULT_MAX_DIGITS_CHUDNOVSKY_CAP,
        )
    })
}

/// The variable that sets `algorithm`'s ceiling.
pub fn max_digits_variable(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Spigot => MAX_DIGITS_SPIGOT_VAR,
        Algorithm::Chudnovsky => MAX_DIGITS_CHUDNOVSKY_VAR,
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct LimitsError {
    pub variable: &'static str,
    pub value: String,
    /// The largest value the variable accepts (the smallest is 1, or 0 for the threshold).
    pub accepted: &'static str,
}

impl fmt::Display for LimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "environment variable {}={:?} is not {}",
            self.variable, self.value, self.accepted
        )
    }
}

// Shown with `{:?}` by whatever prints an error returned from `main`: make that the sentence.
impl fmt::Debug for LimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for LimitsError {}

impl Limits {
    /// Reads the limits from the process environment.
    pub fn from_env() -> Result<Self, LimitsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the limits through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LimitsError> {
        let read = |variable: &'static str,
                    range: std::ops::RangeInclusive<u64>,
                    accepted: &'static str,
                    default: u64| match lookup(variable) {
            None => Ok(default),
            Some(value) => match parse_digit_string(&value) {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(LimitsError {
                    variable,
                    value,
                    accepted,
                }),
            },
        };
        const DIGITS: &str = "a whole number from 1 to 20000000";
        let memory_mb = lookup(MEMORY_SIZE_VAR).and_then(|mb| mb.trim().parse::<u64>().ok());
        Ok(Limits {
            max_digits_spigot: read(
                MAX_DIGITS_SPIGOT_VAR,
                1..=HARD_MAX_DIGITS,
                DIGITS,
                DEFAULT_MAX_DIGITS_SPIGOT,
            )?,
            max_digits_chudnovsky: read(
                MAX_DIGITS_CHUDNOVSKY_VAR,
                1..=HARD_MAX_DIGITS,
                DIGITS,
                default_max_digits_chudnovsky(memory_mb),
            )?,
            stream_above_bytes: read(
                STREAM_ABOVE_BYTES_VAR,
                0..=BUFFERED_RESPONSE_LIMIT_BYTES,
                "a whole number of bytes from 0 to 6291556 (Lambda's buffered limit)",
                BUFFERED_RESPONSE_LIMIT_BYTES,
            )?,
        })
    }

    pub fn max_digits(&self, algorithm: Algorithm) -> u64 {
        match algorithm {
            Algorithm::Spigot => self.max_digits_spigot,
            Algorithm::Chudnovsky => self.max_digits_chudnovsky,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn limits_from(pairs: &[(&str, &str)]) -> Result<Limits, LimitsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Limits::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let limits = limits_from(&[(MEMORY_SIZE_VAR, "128")]).unwrap();
        assert_eq!(limits, Limits::default());
        assert_eq!(limits.max_digits(Algorithm::Chudnovsky), 5_120_000);
        assert_eq!(limits.stream_above_bytes, 6_291_556);
    }

    #[test]
    fn chudnovskys_default_follows_the_memory_size() {
        for (memory, max) in [
            ("128", 5_120_000),
            ("250", 10_000_000),
            ("256", 10_000_000),
            ("10240", 10_000_000),
            // Not Lambda's, but never below a million, nor a reason to fail.
            ("1", 1_000_000),
            ("0", 1_000_000),
            ("-5", 1_000_000),
            ("lots", 1_000_000),
        ] {
            let limits = limits_from(&[(MEMORY_SIZE_VAR, memory)]).unwrap();
            assert_eq!(limits.max_digits_chudnovsky, max, "{memory}");
            assert_eq!(limits.max_digits_spigot, DEFAULT_MAX_DIGITS_SPIGOT);
        }
        assert_eq!(
            limits_from(&[]).unwrap().max_digits_chudnovsky,
            DEFAULT_MAX_DIGITS_CHUDNOVSKY_FLOOR
        );
    }

    #[test]
    fn variables_override_and_accept_separators() {
        let limits = limits_from(&[
            (MAX_DIGITS_SPIGOT_VAR, "20_000"),
            (MAX_DIGITS_CHUDNOVSKY_VAR, "20_000_000"),
            (STREAM_ABOVE_BYTES_VAR, "0"),
            (MEMORY_SIZE_VAR, "128"),
        ])
        .unwrap();
        assert_eq!(limits.max_digits(Algorithm::Spigot), 20_000);
        assert_eq!(limits.max_digits(Algorithm::Chudnovsky), 20_000_000);
        assert_eq!(limits.stream_above_bytes, 0);
    }

    #[test]
    fn bad_values_name_the_variable_and_what_it_accepts() {
        for bad in ["0", "-1", "lots", "", "20_000_001", "99999999999"] {
            let err = limits_from(&[(MAX_DIGITS_CHUDNOVSKY_VAR, bad)]).unwrap_err();
            assert_eq!(err.variable, MAX_DIGITS_CHUDNOVSKY_VAR);
            let message = err.to_string();
            assert!(message.contains(MAX_DIGITS_CHUDNOVSKY_VAR), "{message}");
            assert!(message.contains("1 to 20000000"), "{message}");
            assert_eq!(format!("{err:?}"), message);
        }
        for bad in ["-1", "6291557", "big"] {
            let err = limits_from(&[(STREAM_ABOVE_BYTES_VAR, bad)]).unwrap_err();
            assert_eq!(err.variable, STREAM_ABOVE_BYTES_VAR);
            assert!(err.to_string().contains("0 to 6291556"), "{err}");
        }
    }
}
