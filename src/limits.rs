//! The largest request each algorithm accepts, documented in the README and configurable per
//! function through environment variables (`aws lambda update-function-configuration
//! --environment`), read once at start-up.

use std::fmt;

use crate::digit_string::parse_digit_string;
use crate::pi::Algorithm;

/// Environment variable that overrides the spigot's maximum digits.
pub const MAX_DIGITS_SPIGOT_VAR: &str = "CALCULATE_PI_MAX_DIGITS_SPIGOT";
/// Environment variable that overrides the Chudnovsky maximum digits.
pub const MAX_DIGITS_CHUDNOVSKY_VAR: &str = "CALCULATE_PI_MAX_DIGITS_CHUDNOVSKY";

/// Default ceiling of the spigot: its cost grows with the square of N; 100,000 digits take
/// about 2 s on a full core and so tens of seconds on a 128 MB function (a fraction of a vCPU).
pub const DEFAULT_MAX_DIGITS_SPIGOT: u64 = 100_000;
/// Default ceiling of Chudnovsky: a million digits fits comfortably in 128 MB and in seconds.
pub const DEFAULT_MAX_DIGITS_CHUDNOVSKY: u64 = 1_000_000;
/// No configuration may go beyond this: the response (about one byte a digit) must stay under
/// Lambda's 6 MB synchronous response limit.
pub const HARD_MAX_DIGITS: u64 = 5_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_digits_spigot: u64,
    pub max_digits_chudnovsky: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_digits_spigot: DEFAULT_MAX_DIGITS_SPIGOT,
            max_digits_chudnovsky: DEFAULT_MAX_DIGITS_CHUDNOVSKY,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct LimitsError {
    pub variable: &'static str,
    pub value: String,
}

impl fmt::Display for LimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "environment variable {}={:?} is not a whole number from 1 to {}",
            self.variable, self.value, HARD_MAX_DIGITS
        )
    }
}

// `main` returns this error at init, and the runtime prints it with `{:?}`: make that the
// sentence, not the struct.
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
        let read = |variable: &'static str, default: u64| match lookup(variable) {
            None => Ok(default),
            Some(value) => match parse_digit_string(&value) {
                Ok(n) if (1..=HARD_MAX_DIGITS).contains(&n) => Ok(n),
                _ => Err(LimitsError { variable, value }),
            },
        };
        Ok(Limits {
            max_digits_spigot: read(MAX_DIGITS_SPIGOT_VAR, DEFAULT_MAX_DIGITS_SPIGOT)?,
            max_digits_chudnovsky: read(MAX_DIGITS_CHUDNOVSKY_VAR, DEFAULT_MAX_DIGITS_CHUDNOVSKY)?,
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
        assert_eq!(limits_from(&[]).unwrap(), Limits::default());
        assert!(Limits::default().max_digits(Algorithm::Chudnovsky) >= 1_000_000);
    }

    #[test]
    fn variables_override_and_accept_separators() {
        let limits = limits_from(&[(MAX_DIGITS_SPIGOT_VAR, "20_000")]).unwrap();
        assert_eq!(limits.max_digits(Algorithm::Spigot), 20_000);
        assert_eq!(
            limits.max_digits(Algorithm::Chudnovsky),
            DEFAULT_MAX_DIGITS_CHUDNOVSKY
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for bad in ["0", "-1", "lots", "", "99999999999"] {
            let err = limits_from(&[(MAX_DIGITS_CHUDNOVSKY_VAR, bad)]).unwrap_err();
            assert_eq!(err.variable, MAX_DIGITS_CHUDNOVSKY_VAR);
            assert!(err.to_string().contains(MAX_DIGITS_CHUDNOVSKY_VAR));
            assert_eq!(format!("{err:?}"), err.to_string());
        }
    }
}
