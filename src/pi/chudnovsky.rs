//! The Chudnovsky series with binary splitting, in exact integer arithmetic:
//!
//! pi = 426880·√10005 / Σₖ (−1)ᵏ (6k)! (13591409 + 545140134k) / ((3k)! (k!)³ 640320³ᵏ)
//!
//! Each term adds about 14.18 digits. Binary splitting sums N terms as one fraction T/Q of big
//! integers (P, Q, T over ranges of terms, merged pairwise so that the work is a few large
//! multiplications rather than many small ones). √10005 comes as a fraction x/y from the Pell
//! equation x² − 10005y² = 1, so the whole computation ends in a single big division: with
//! d = n − 1 + g decimal places (g guard digits),
//!
//! X = ⌊426880 · 10^d · x · Q / (y · T)⌋,
//!
//! with Q and T first cut to the leading bits that matter. X is within about one unit of
//! pi·10^d (the floor, plus far smaller errors from x/y, the cut and the series' truncation,
//! N > d/14.18 + 2 terms), so the first n digits are X with its last g digits dropped —
//! unless those g digits are within a hundred units of a multiple of 10^g, where a carry could
//! hide; then everything is recomputed with more guard digits.

use num_bigint::{BigInt, BigUint};
use num_traits::One;

/// Digits each series term contributes: log10(640320³ / (24·6·2·6)) = log10(151931373056000).
const DIGITS_PER_TERM: f64 = 14.181647462725477;
/// 640320³ / 24.
const C3_OVER_24: u64 = 10_939_058_860_032_000;

/// The first `n` decimal digits of pi, `"31415…"`.
pub fn digits(n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let mut guard = 12;
    loop {
        if let Some(digits) = attempt(n, guard) {
            return digits;
        }
        guard += 24;
    }
}

/// The first `n` digits with `guard` guard digits, or `None` if the guard digits cannot rule
/// out a carry into the last digit asked for.
fn attempt(n: usize, guard: usize) -> Option<String> {
    let places = n - 1 + guard;
    let terms = (places as f64 / DIGITS_PER_TERM) as u64 + 2;
    let (_, q, t) = split(0, terms, false);
    let t = t
        .to_biguint()
        .expect("the partial sums of the series are positive");
    // X < 4·10^places needs about 3.32·places bits; carry 64 more through the division.
    let bits = (places as f64 * std::f64::consts::LOG2_10) as u64 + 64;
    // Only the leading bits of Q/T matter: Q' = Q >> s, T' = T >> s with T' ≥ 2^(bits+128)
    // give Q/T to a relative 2^−(bits+100) (Q/T ≈ 7.4·10⁻⁸, so Q' keeps ~24 bits fewer).
    let shift = t.bits().saturating_sub(bits + 128);
    let (q, t) = (q >> shift, t >> shift);
    // √10005 ≈ x/y from the Pell equation x² − 10005y² = 1, which the fundamental solution
    // (4001, 40) powered by repeated squaring, (x, y) → (2x² − 1, 2xy), solves with twice the
    // digits each time: x/y − √10005 = 1/(y(x + y√10005)) < 1/(200·y²). No division, no
    // Newton iteration — and the one division left is the final one.
    let (x, y) = pell_10005(bits / 2 + 8);
    // X = ⌊426880 · 10^places · x · Q' / (y · T')⌋
    let numerator = BigUint::from(10u32).pow(places as u32) * (x * 426880u32) * q;
    let x = numerator / (y * t);
    let text = x.to_str_radix(10);
    debug_assert_eq!(text.len(), n + guard);
    let (head, tail) = text.split_at(n);
    // X lies within (pi·10^d − 1.01, pi·10^d + 0.01): its first n digits are pi's when its
    // last g digits, as a number, are at least 1 and at most 10^g − 2. Demand a margin of a
    // hundred: the guard digits but the last two must be neither all 0s nor all 9s.
    let checked = &tail.as_bytes()[..guard - 2];
    let tail_ok = checked.iter().any(|&b| b != b'0') && checked.iter().any(|&b| b != b'9');
    tail_ok.then(|| head.to_string())
}

/// Below this many terms a range is summed term by term with in-place scalar arithmetic:
/// far fewer (small) allocations than splitting down to single terms.
const LEAF_TERMS: u64 = 16;

/// P(a, b), Q(a, b), T(a, b) of the terms a..b; P only when `need_p` (it is unused at the top).
fn split(a: u64, b: u64, need_p: bool) -> (BigUint, BigUint, BigInt) {
    if b - a <= LEAF_TERMS {
        return leaf(a, b);
    }
    let m = a + (b - a) / 2;
    let (p1, q1, t1) = split(a, m, true);
    let (p2, q2, t2) = split(m, b, need_p);
    // T = T1·Q2 + P1·T2, on magnitudes: no copies of the operands.
    let (sign1, t1) = t1.into_parts();
    let (sign2, t2) = t2.into_parts();
    let t = BigInt::from_biguint(sign1, t1 * &q2) + BigInt::from_biguint(sign2, &p1 * t2);
    let q = q1 * q2;
    let p = if need_p { p1 * p2 } else { BigUint::one() };
    (p, q, t)
}

/// P, Q, T of the terms a..b, adding one term k at a time to (P, Q, T):
/// T ← T·q(k) ± P·p(k)·(13591409 + 545140134k), P ← P·p(k), Q ← Q·q(k), where
/// p(k) = (6k−5)(2k−1)(6k−1), q(k) = k³·640320³/24 (and p(0) = q(0) = 1), the sign (−1)^k.
fn leaf(a: u64, b: u64) -> (BigUint, BigUint, BigInt) {
    let mut p = BigUint::one();
    let mut q = BigUint::one();
    let mut t = BigInt::default();
    for k in a..b {
        if k > 0 {
            // k³ < 2^64 for k below 2.6 million: far beyond any digit limit.
            let k_cubed = k.checked_pow(3).expect("term index below 2.6 million");
            t *= k_cubed;
            t *= C3_OVER_24;
            q *= k_cubed;
            q *= C3_OVER_24;
            p *= (6 * k - 5) * (2 * k - 1);
            p *= 6 * k - 1;
        }
        let term = BigInt::from(&p * (13_591_409u64 + 545_140_134u64 * k));
        if k % 2 == 1 {
            t -= &term;
        } else {
            t += &term;
        }
    }
    (p, q, t)
}

/// The solution (x, y) of x² − 10005·y² = 1 reached by squaring (4001 + 40√10005) until y has
/// at least `bits` bits.
fn pell_10005(bits: u64) -> (BigUint, BigUint) {
    let mut x = BigUint::from(4001u32);
    let mut y = BigUint::from(40u32);
    while y.bits() < bits {
        // (x + y√D)² = (x² + Dy²) + 2xy√D, and x² + Dy² = 2x² − 1.
        let xy = &x * &y;
        x = ((&x * &x) << 1u32) - 1u32;
        y = xy << 1u32;
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_digits() {
        assert_eq!(digits(0), "");
        assert_eq!(digits(1), "3");
        assert_eq!(digits(2), "31");
        assert_eq!(digits(20), "31415926535897932384");
    }

    #[test]
    fn pell_solutions_solve_the_equation() {
        for bits in [1, 20, 100, 1000] {
            let (x, y) = pell_10005(bits);
            assert!(y.bits() >= bits);
            assert_eq!(&x * &x, &y * &y * 10005u32 + 1u32);
        }
    }

    #[test]
    fn agrees_with_the_spigot() {
        let reference = super::super::spigot::digits(1200);
        for n in (1..=1200).step_by(37).chain([1000, 1199, 1200]) {
            assert_eq!(digits(n), reference[..n], "n = {n}");
        }
    }
}
