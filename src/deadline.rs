//! Answering before Lambda's timeout instead of being killed by it. The handler knows the
//! invocation's deadline (the Runtime API's `Lambda-Runtime-Deadline-Ms`); from the time left
//! it keeps a margin for sending the response, then projects the computation's cost from work
//! already done and stops as soon as it cannot finish, saying how many digits would.
//!
//! The projections are power laws: the spigot's work grows with the square of N (N steps on
//! numbers of N·log2(10) bits). Chudnovsky's is projected as N^1.5, the exponent measured when
//! it ran on num-bigint; on pi-arith's transforms its time grows about as N^1.2 to N^1.3
//! (100,000 to 10,000,000 digits), so the projection errs on the side of refusing: from its
//! 1/16 probe it overestimates about twofold, and may refuse a request that needs more than
//! about half the time left.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::pi::{self, Algorithm};

/// The spigot's cost exponent: T(N) ∝ N².
pub const SPIGOT_EXPONENT: f64 = 2.0;
/// Chudnovsky's cost exponent: cautious (see the module's doc; measured ~1.45 on num-bigint,
/// ~1.25 on pi-arith).
pub const CHUDNOVSKY_EXPONENT: f64 = 1.5;
/// The spigot projects its cost only once it has spent this share of its budget: early
/// batches cost more than the quadratic model says (start-up, and code translation under
/// qemu), so an early projection would refuse requests that fit. A quarter in, the sample is
/// large enough to trust and a refusal still comes well before the timeout.
pub const SPIGOT_DECIDES_AT: f64 = 0.25;
/// Chudnovsky is not incremental: above this many digits it first computes probes of
/// 1/1024, 1/256, 1/64 and 1/16 of them (together about 2% of the full cost) and projects from
/// each, so that even on a slow function the first verdict comes within a fraction of the
/// budget.
pub const CHUDNOVSKY_PROBE_FROM: usize = 50_000;
pub const CHUDNOVSKY_PROBE_DIVISORS: [usize; 4] = [1024, 256, 64, 16];
/// Small probes overestimate (fixed costs weigh more): they refuse only when the projection is
/// more than this many times the budget; the last, largest probe decides at 1×.
pub const SMALL_PROBE_TOLERANCE: f64 = 2.0;
// A small probe takes a fraction of a millisecond (977 of 1,000,000 digits: ~0.1 ms) and its
// projection multiplies it by up to 1024^1.5: one preemption of a few milliseconds on a busy
// host, or a CPU-quota pause on a small Lambda function, would refuse a request that fits
// (measured: 1,000,000 digits "would take 154.7 s" on a loaded 2-core machine, where they take
// 0.7 s). So a small probe refuses only when the next probe confirms it; see `probe_verdict`.

/// 2000-01-01T00:00:00Z in milliseconds since the epoch. No real deadline is older; a value
/// below it is a relative timeout (cargo-lambda's local runtime sends `600000`, its 600 s
/// timeout) or a placeholder (`0`): read as 1970 it would refuse every request.
pub const EARLIEST_REAL_DEADLINE_MS: u64 = 946_684_800_000;
/// Lambda's longest timeout is 900 s; a minute more allows for clock differences between the
/// Runtime API's host and this process. A deadline further ahead is not Lambda's.
pub const LATEST_REAL_DEADLINE_AHEAD: Duration = Duration::from_secs(900 + 60);

/// What the invocation's deadline (`Context::deadline`, from `Lambda-Runtime-Deadline-Ms`)
/// tells about the time left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeLeft {
    /// A real deadline: this much time is left (zero once it has passed).
    Known(Duration),
    /// No deadline is known: the function computes without a time budget.
    Unknown(UnrealDeadline),
}

/// A deadline that cannot be a real one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnrealDeadline {
    /// The deadline as received, in milliseconds since the epoch.
    pub deadline_ms: u64,
    /// Which rule it broke.
    pub rule: &'static str,
}

impl fmt::Display for UnrealDeadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Lambda-Runtime-Deadline-Ms {} {}, so no deadline is known: computing without a time \
             budget (said once per process)",
            self.deadline_ms, self.rule
        )
    }
}

/// Reads `deadline_ms` (`Lambda-Runtime-Deadline-Ms`: milliseconds since the Unix epoch) at
/// `now`, in a process that started at `started`. A value that cannot be a real deadline means
/// "no deadline known", never "expired": only a plausible deadline that has passed leaves zero.
pub fn time_left(deadline_ms: u64, now: SystemTime, started: SystemTime) -> TimeLeft {
    let unreal = |rule| TimeLeft::Unknown(UnrealDeadline { deadline_ms, rule });
    if deadline_ms < EARLIEST_REAL_DEADLINE_MS {
        return unreal("is before the year 2000 (a relative timeout, not a time?)");
    }
    // Whole milliseconds on both sides: a deadline given in the very millisecond the process
    // started is real.
    if deadline_ms < unix_ms(started) {
        return unreal("is before this process started");
    }
    let ahead_ms = deadline_ms.saturating_sub(unix_ms(now));
    if ahead_ms > LATEST_REAL_DEADLINE_AHEAD.as_millis() as u64 {
        return unreal("is more than Lambda's longest timeout (900 s) ahead");
    }
    TimeLeft::Known(Duration::from_millis(ahead_ms))
}

/// Whole milliseconds since the Unix epoch (0 for a clock before it).
fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

/// The time an invocation may spend computing: what is left before the deadline, less a margin
/// for serialising and posting the response (a tenth of the time left, at least 100 ms).
pub fn computing_budget(remaining: Duration) -> Duration {
    let margin = (remaining / 10).max(Duration::from_millis(100));
    remaining.saturating_sub(margin)
}

/// The requested digits cannot be computed in the time left.
#[derive(Debug, Clone, PartialEq)]
pub struct NotEnoughTime {
    pub algorithm: Algorithm,
    pub requested: usize,
    /// Projected time for all the requested digits.
    pub projected: Duration,
    /// Time there was to compute.
    pub budget: Duration,
    /// About how many digits fit in the budget.
    pub achievable: usize,
}

impl fmt::Display for NotEnoughTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} digits would take about {:.1} s, but only {:.1} s are left before the \
             function's timeout; about {} digits would fit. Ask for fewer digits, {}or raise the \
             function's timeout or memory (Lambda gives CPU in proportion to memory)",
            self.requested,
            self.algorithm.name(),
            self.projected.as_secs_f64(),
            self.budget.as_secs_f64(),
            self.achievable,
            match self.algorithm {
                Algorithm::Spigot => "use \"algorithm\": \"chudnovsky\" (far faster for large N), ",
                Algorithm::Chudnovsky => "",
            },
        )
    }
}

impl std::error::Error for NotEnoughTime {}

/// Projects the cost of `n` digits from `sample_digits` that took `sample_time`, with cost
/// ∝ digits^`exponent`; an error when it exceeds `tolerance` × `budget` (1.0 to decide, more
/// for a rough sample that should refuse only what is far out of reach).
pub fn project(
    algorithm: Algorithm,
    n: usize,
    sample_digits: usize,
    sample_time: Duration,
    budget: Duration,
    exponent: f64,
    tolerance: f64,
) -> Result<(), NotEnoughTime> {
    let scale = n as f64 / sample_digits.max(1) as f64;
    let projected = sample_time.as_secs_f64() * scale.powf(exponent);
    if projected <= budget.as_secs_f64() * tolerance {
        return Ok(());
    }
    let fits = budget.as_secs_f64() / sample_time.as_secs_f64().max(1e-9);
    let achievable = (sample_digits as f64 * fits.powf(1.0 / exponent)).min(n as f64);
    Err(NotEnoughTime {
        algorithm,
        requested: n,
        projected: Duration::from_secs_f64(projected.min(1e9)),
        budget,
        achievable: achievable as usize,
    })
}

/// Whether the spigot, `done` of `n` digits after `elapsed`, should go on within `budget`:
/// it stops when time is up, or, once it has spent [`SPIGOT_DECIDES_AT`] of the budget, when
/// the projection says it cannot finish.
pub fn spigot_progress(
    n: usize,
    done: usize,
    elapsed: Duration,
    budget: Duration,
) -> Result<(), NotEnoughTime> {
    if elapsed < budget.mul_f64(SPIGOT_DECIDES_AT) {
        return Ok(());
    }
    let projection = project(
        Algorithm::Spigot,
        n,
        done,
        elapsed,
        budget,
        SPIGOT_EXPONENT,
        1.0,
    );
    if elapsed < budget {
        return projection;
    }
    // Time is up, whatever the projection says: what is done is what fitted.
    Err(projection.err().unwrap_or(NotEnoughTime {
        algorithm: Algorithm::Spigot,
        requested: n,
        projected: elapsed,
        budget,
        achievable: done,
    }))
}

/// The first `n` digits with `algorithm` if they can be computed within `budget`; otherwise an
/// error, as early as the projection allows (see this module's doc).
pub fn digits_within(
    algorithm: Algorithm,
    n: usize,
    budget: Duration,
) -> Result<String, NotEnoughTime> {
    let start = Instant::now();
    match algorithm {
        Algorithm::Spigot => {
            pi::spigot::digits_while(n, |done| spigot_progress(n, done, start.elapsed(), budget))
        }
        Algorithm::Chudnovsky => {
            if n >= CHUDNOVSKY_PROBE_FROM {
                let last = CHUDNOVSKY_PROBE_DIVISORS.len() - 1;
                let mut unconfirmed = None;
                for (index, divisor) in CHUDNOVSKY_PROBE_DIVISORS.into_iter().enumerate() {
                    let probe = n / divisor;
                    let probe_start = Instant::now();
                    pi::chudnovsky::digits(probe);
                    let projection = project(
                        algorithm,
                        n,
                        probe,
                        probe_start.elapsed(),
                        budget.saturating_sub(start.elapsed()),
                        CHUDNOVSKY_EXPONENT,
                        if index == last {
                            1.0
                        } else {
                            SMALL_PROBE_TOLERANCE
                        },
                    );
                    probe_verdict(projection, index == last, &mut unconfirmed)?;
                }
            }
            Ok(pi::chudnovsky::digits(n))
        }
    }
}

/// Whether the probes so far refuse the request: the last probe's projection decides alone; a
/// smaller probe's refusal counts only when the next probe refuses too (`unconfirmed` holds the
/// previous probe's), so that one probe slowed by a pause that has nothing to do with its size
/// cannot refuse.
pub fn probe_verdict(
    projection: Result<(), NotEnoughTime>,
    last: bool,
    unconfirmed: &mut Option<NotEnoughTime>,
) -> Result<(), NotEnoughTime> {
    match projection {
        Ok(()) => {
            *unconfirmed = None;
            Ok(())
        }
        Err(refusal) if last || unconfirmed.is_some() => Err(refusal),
        Err(refusal) => {
            *unconfirmed = Some(refusal);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    const STARTED_MS: u64 = 1_700_000_000_000;

    /// The process started at [`STARTED_MS`]; it is now `since_start` later.
    fn left(deadline_ms: u64, since_start: Duration) -> TimeLeft {
        let started = UNIX_EPOCH + Duration::from_millis(STARTED_MS);
        time_left(deadline_ms, started + since_start, started)
    }

    fn rule_broken(deadline_ms: u64) -> &'static str {
        match left(deadline_ms, Duration::from_secs(5)) {
            TimeLeft::Unknown(unreal) => unreal.rule,
            known => panic!("{deadline_ms} was read as {known:?}"),
        }
    }

    #[test]
    fn a_real_deadline_leaves_the_time_until_it() {
        assert_eq!(
            left(STARTED_MS + 8_000, Duration::from_secs(5)),
            TimeLeft::Known(Duration::from_secs(3))
        );
        // Lambda's longest timeout, with the clock margin, is still real.
        assert_eq!(
            left(STARTED_MS + 5_000 + 960_000, Duration::from_secs(5)),
            TimeLeft::Known(Duration::from_secs(960))
        );
    }

    #[test]
    fn a_real_deadline_that_has_passed_leaves_nothing() {
        for passed in [STARTED_MS, STARTED_MS + 1_000, STARTED_MS + 4_999] {
            assert_eq!(
                left(passed, Duration::from_secs(5)),
                TimeLeft::Known(Duration::ZERO),
                "{passed}"
            );
        }
    }

    #[test]
    fn a_deadline_that_cannot_be_real_is_unknown_not_expired() {
        for relative in [0, 600_000, 946_684_799_999] {
            assert!(rule_broken(relative).contains("year 2000"), "{relative}");
        }
        assert!(rule_broken(STARTED_MS - 1).contains("before this process started"));
        assert!(rule_broken(STARTED_MS + 5_000 + 960_001).contains("900 s"));
        assert!(rule_broken(u64::MAX).contains("900 s"));
    }

    #[test]
    fn the_notice_names_the_header_its_value_and_the_rule() {
        let TimeLeft::Unknown(unreal) = left(600_000, Duration::ZERO) else {
            panic!("600000 read as a real deadline");
        };
        let line = unreal.to_string();
        for says in [
            "Lambda-Runtime-Deadline-Ms 600000",
            "year 2000",
            "without a time budget",
        ] {
            assert!(line.contains(says), "{says}: {line}");
        }
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_clock_before_the_epoch_does_not_panic() {
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert!(matches!(
            time_left(600_000, before, before),
            TimeLeft::Unknown(_)
        ));
        assert!(matches!(
            time_left(u64::MAX, before, before),
            TimeLeft::Unknown(_)
        ));
    }

    #[test]
    fn within_a_generous_budget_the_digits_are_the_same() {
        let hour = Duration::from_secs(3600);
        for algorithm in Algorithm::ALL {
            assert_eq!(
                digits_within(algorithm, 300, hour).unwrap(),
                pi::digits(algorithm, 300)
            );
        }
        assert_eq!(
            digits_within(Algorithm::Chudnovsky, 60_000, hour).unwrap(),
            pi::digits(Algorithm::Chudnovsky, 60_000)
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
    fn the_budget_keeps_a_margin_for_the_response() {
        assert_eq!(
            computing_budget(Duration::from_secs(3)),
            Duration::from_millis(2700)
        );
        assert_eq!(
            computing_budget(Duration::from_millis(500)),
            Duration::from_millis(400)
        );
        assert_eq!(computing_budget(Duration::from_millis(50)), Duration::ZERO);
        assert_eq!(computing_budget(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn quadratic_projection_of_the_spigot() {
        // 10,000 of 100,000 digits in 30 ms: all would take 100 × 30 ms = 3 s.
        assert!(project(
            Algorithm::Spigot,
            100_000,
            10_000,
            30 * MS,
            3100 * MS,
            2.0,
            1.0
        )
        .is_ok());
        let err = project(
            Algorithm::Spigot,
            100_000,
            10_000,
            30 * MS,
            750 * MS,
            2.0,
            1.0,
        )
        .unwrap_err();
        assert_eq!(err.projected, Duration::from_secs(3));
        // 750 ms is a quarter of the time: half the digits.
        assert_eq!(err.achievable, 50_000);
        let message = err.to_string();
        for says in [
            "100000 spigot digits",
            "about 3.0 s",
            "only 0.8 s",
            "about 50000 digits",
            "chudnovsky",
        ] {
            assert!(message.contains(says), "{says}: {message}");
        }
    }

    #[test]
    fn the_spigot_decides_a_quarter_into_its_budget() {
        // 10% in, even a bad-looking projection is not trusted yet.
        assert!(spigot_progress(100_000, 1000, 10 * MS, 100 * MS).is_ok());
        // A quarter in and the projection cannot finish: stop, with three quarters left.
        let err = spigot_progress(100_000, 5000, 500 * MS, 2000 * MS).unwrap_err();
        assert!(err.projected > Duration::from_secs(10));
        // A quarter in and it will finish: go on.
        assert!(spigot_progress(100_000, 80_000, 500 * MS, 2000 * MS).is_ok());
        // Time is up: stop whatever the sample.
        assert!(spigot_progress(100_000, 99_000, 100 * MS, 100 * MS).is_err());
        assert!(spigot_progress(100, 1, Duration::ZERO, Duration::ZERO).is_err());
    }

    #[test]
    fn a_tolerance_lets_rough_projections_pass_unless_far_off() {
        // Projected 3 s against a 2 s budget: refused at 1×, let through at 2×.
        assert!(project(
            Algorithm::Chudnovsky,
            1000,
            100,
            300 * MS,
            2000 * MS,
            1.0,
            1.0
        )
        .is_err());
        assert!(project(
            Algorithm::Chudnovsky,
            1000,
            100,
            300 * MS,
            2000 * MS,
            1.0,
            2.0
        )
        .is_ok());
        assert!(project(
            Algorithm::Chudnovsky,
            1000,
            100,
            500 * MS,
            2000 * MS,
            1.0,
            2.0
        )
        .is_err());
    }

    #[test]
    fn one_slow_small_probe_does_not_refuse_but_two_in_a_row_do() {
        // 977 of 1,000,000 digits slowed to 4.7 ms by a pause: "154.7 s" against 54 s.
        let paused = || {
            project(
                Algorithm::Chudnovsky,
                1_000_000,
                976,
                Duration::from_micros(4_700),
                Duration::from_secs(54),
                CHUDNOVSKY_EXPONENT,
                SMALL_PROBE_TOLERANCE,
            )
        };
        assert!(paused().is_err());
        let fine = || Ok(());

        let mut unconfirmed = None;
        assert!(probe_verdict(paused(), false, &mut unconfirmed).is_ok());
        assert!(probe_verdict(fine(), false, &mut unconfirmed).is_ok());
        assert!(unconfirmed.is_none(), "a good probe forgets the pause");
        assert!(probe_verdict(paused(), false, &mut unconfirmed).is_ok());
        let refusal = probe_verdict(paused(), false, &mut unconfirmed).unwrap_err();
        assert_eq!(refusal.requested, 1_000_000);

        // The last probe decides alone.
        let mut unconfirmed = None;
        assert!(probe_verdict(paused(), true, &mut unconfirmed).is_err());
        assert!(probe_verdict(fine(), true, &mut unconfirmed).is_ok());
    }

    #[test]
    fn achievable_never_exceeds_the_request() {
        let err = project(
            Algorithm::Chudnovsky,
            10,
            1,
            Duration::from_secs(1),
            MS,
            1.5,
            1.0,
        )
        .unwrap_err();
        assert!(err.achievable <= 10);
    }
}
