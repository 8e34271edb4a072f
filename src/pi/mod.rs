//! The digits of pi. Every algorithm returns the same string: the first N decimal digits,
//! `"31415…"`, without the point; [`format_pi`] places it.

pub mod chudnovsky;
pub mod spigot;

use std::time::{Duration, Instant};

use crate::deadline::{self, NotEnoughTime};
use crate::event::Algorithm;

/// The first `n` decimal digits of pi with `algorithm`.
pub fn digits(algorithm: Algorithm, n: usize) -> String {
    match algorithm {
        Algorithm::Spigot => spigot::digits(n),
        Algorithm::Chudnovsky => chudnovsky::digits(n),
    }
}

/// The first `n` digits with `algorithm` if they can be computed within `budget`; otherwise an
/// error, as early as the projection allows (see [`crate::deadline`]).
pub fn digits_within(
    algorithm: Algorithm,
    n: usize,
    budget: Duration,
) -> Result<String, NotEnoughTime> {
    let start = Instant::now();
    match algorithm {
        Algorithm::Spigot => spigot::digits_while(n, |done| {
            deadline::spigot_progress(n, done, start.elapsed(), budget)
        }),
        Algorithm::Chudnovsky => {
            if n >= deadline::CHUDNOVSKY_PROBE_FROM {
                let last = deadline::CHUDNOVSKY_PROBE_DIVISORS.len() - 1;
                for (index, divisor) in deadline::CHUDNOVSKY_PROBE_DIVISORS.into_iter().enumerate()
                {
                    let probe = n / divisor;
                    let probe_start = Instant::now();
                    chudnovsky::digits(probe);
                    deadline::project(
                        algorithm,
                        n,
                        probe,
                        probe_start.elapsed(),
                        budget.saturating_sub(start.elapsed()),
                        deadline::CHUDNOVSKY_EXPONENT,
                        if index == last {
                            1.0
                        } else {
                            deadline::SMALL_PROBE_TOLERANCE
                        },
                    )?;
                }
            }
            Ok(chudnovsky::digits(n))
        }
    }
}

/// `"31415"` → `"3.1415"`, `"3"` → `"3"`.
pub fn format_pi(digits: &str) -> String {
    match digits.split_at_checked(1) {
        Some((first, rest)) if !rest.is_empty() => format!("{first}.{rest}"),
        _ => digits.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_a_generous_budget_the_digits_are_the_same() {
        let hour = Duration::from_secs(3600);
        for algorithm in Algorithm::ALL {
            assert_eq!(
                digits_within(algorithm, 300, hour).unwrap(),
                digits(algorithm, 300)
            );
        }
        assert_eq!(
            digits_within(Algorithm::Chudnovsky, 60_000, hour).unwrap(),
            digits(Algorithm::Chudnovsky, 60_000)
        );
    }

    #[test]
    fn without_time_large_requests_stop_with_what_would_fit() {
        let err = digits_within(Algorithm::Spigot, 100_000, Duration::ZERO).unwrap_err();
        assert_eq!((err.algorithm, err.requested), (Algorithm::Spigot, 100_000));
        assert!(err.achievable < 100_000);
        let err =
            digits_within(Algorithm::Chudnovsky, 1_000_000, Duration::from_millis(1)).unwrap_err();
        assert_eq!(err.requested, 1_000_000);
        assert!(err.achievable < 1_000_000);
    }

    #[test]
    fn the_point_follows_the_three() {
        assert_eq!(format_pi("3"), "3");
        assert_eq!(format_pi("31"), "3.1");
        assert_eq!(format_pi("31415"), "3.1415");
    }
}
