//! The reference transcription of Gibbons' unbounded spigot (J. Gibbons, "Unbounded Spigot
//! Algorithms for the Digits of Pi", 2006), in the form users benchmark with: start q=1,
//! r=180, t=60, i=2; each step emits y = ((27i−12)q + 5r) div (5t), then with
//! u = 3(3i+1)(3i+2): r ← 10u(q(5i−2) + r − yt), q ← 10qi(2i−1), t ← tu, i ← i+1.
//!
//! This is deliberately a plain, line-for-line transcription with `num-bigint` — fresh
//! temporaries and one full big division per digit — because it is what the benchmark
//! compares against (the JavaScript `BigInt` version in `benches/spigot.js` is the same
//! code). Do not optimise it: `calculate_pi::pi::spigot::digits` is the fast implementation of
//! the same recurrence, and the tests check that both give identical strings.
//!
//! It lives beside the benchmarks, not in the function: `examples/baseline.rs`,
//! `examples/pi_timing.rs`, `benches/pi.rs` and `tests/digits.rs` include it with `#[path]`.

use num_bigint::BigUint;
use num_traits::One;

/// The first `n` decimal digits of pi, `"31415…"`, by the plain transcription.
// `q = q * …` rather than `q *= …`: kept exactly as first written and benchmarked.
#[allow(clippy::assign_op_pattern)]
pub fn digits(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut q = BigUint::one();
    let mut r = BigUint::from(180u32);
    let mut t = BigUint::from(60u32);
    let mut i: u64 = 2;
    while out.len() < n {
        let u = BigUint::from(3 * (3 * i + 1) * (3 * i + 2));
        let y = (&q * (27 * i - 12) + &r * 5u32) / (&t * 5u32);
        let y_digit = u8::try_from(&y).expect("each spigot step yields one decimal digit");
        out.push(char::from(b'0' + y_digit));
        // r − yt is never negative: y is the floor of a value r/t bounds from above.
        r = &u * 10u32 * (&q * (5 * i - 2) + &r - &y * &t);
        q = q * (10 * i * (2 * i - 1));
        t = t * &u;
        i += 1;
    }
    out
}
