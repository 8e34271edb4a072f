//! The Chudnovsky series with binary splitting, in exact integer arithmetic (the `pi-arith`
//! crate: NTT multiplication, Newton division and square root, decimal conversion):
//!
//! pi = 426880·√10005 / Σₖ (−1)ᵏ (6k)! (13591409 + 545140134k) / ((3k)! (k!)³ 640320³ᵏ)
//!
//! Each term adds about 14.18 digits. Binary splitting sums N terms as one fraction T/Q of big
//! integers (P, Q, T over ranges of terms, merged pairwise so that the work is a few large
//! multiplications rather than many small ones), on two threads at the top when the machine
//! has them. Then, with b bits (the digits' bits plus guard bits),
//!
//! Y = ⌊42688 · S · Q' / (T' · 2^(c−b))⌋, S = ⌊√10005 · 2^c⌋ (c = b + 32),
//!
//! with Q' and T' the leading b + 64 bits of Q and T, is pi/10 · 2^b within 2 units (the floor
//! loses under one, S, Q', T' and the series' tail together far less than one). The decimal
//! conversion of that fraction ([`pi_arith::radix`]) returns ⌊pi/10 · 10^n⌋ — the first n
//! digits — exactly, or refuses when the error bound cannot rule out a carry at one of its
//! split points (a run of some 17 zeros or nines there); then everything is recomputed with
//! twice the guard bits.

use pi_arith::div::{div_floor, sqrt_floor_scaled};
use pi_arith::mul::prefers_ntt;
use pi_arith::ntt::{sums_of_products, transform_len, SHARED_TRANSFORMS_MAX_LEN};
use pi_arith::radix::{bits_for, fraction_digits, Fraction};
use pi_arith::Nat;

/// Digits each series term contributes: log10(640320³ / (24·6·2·6)) = log10(151931373056000).
const DIGITS_PER_TERM: f64 = 14.181647462725477;
/// 640320³ / 24.
const C3_OVER_24: u64 = 10_939_058_860_032_000;

/// The first `n` decimal digits of pi, `"31415…"`, on as many threads as the machine offers
/// (at most four: beyond that the merges' memory traffic, not the cores, limits).
pub fn digits(n: usize) -> String {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    digits_with_threads(n, threads)
}

/// The first `n` decimal digits of pi on at most `threads` threads (1: this one only).
pub fn digits_with_threads(n: usize, threads: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let mut guard = 64;
    loop {
        if let Some(digits) = attempt(n, guard, threads.max(1)) {
            return digits;
        }
        guard *= 2;
    }
}

/// The first `n` digits with `guard` guard bits, or `None` if they leave a digit undecided.
fn attempt(n: usize, guard: u64, threads: usize) -> Option<String> {
    let b = bits_for(n, guard);
    // The series' tail must stay far below 2^−(b+30) relative: enough terms for b + 40 bits.
    let terms = ((b + 40) as f64 * std::f64::consts::LOG10_2 / DIGITS_PER_TERM) as u64 + 2;
    let c = b + 32;
    // √10005 does not depend on the series: on a second thread it is free.
    let (Pqt { q, t, .. }, s) = if threads > 1 {
        std::thread::scope(|scope| {
            let root = scope.spawn(|| sqrt_floor_scaled(10005, c));
            let series = split(0, terms, false, threads);
            (series, join(root))
        })
    } else {
        (split(0, terms, false, 1), sqrt_floor_scaled(10005, c))
    };
    // Only the leading bits of Q/T matter: T' = ⌊T/2^s⌋ of b + 64 bits, Q' = ⌊Q/2^s⌋ of some
    // 24 bits fewer (Q/T ≈ 7.4·10⁻⁸): each within a relative 2^−(b+39) of the exact ratio.
    let shift = t.bits().saturating_sub(b + 64);
    let (q, t) = (q.shr_ref(shift), t.shr_ref(shift));
    let mut numerator = &s * &q;
    numerator.mul_small(42688);
    let y = div_floor(&numerator, &t.shl_ref(c - b));
    let digits = fraction_digits(
        Fraction {
            value: y,
            bits: b,
            error: 2,
        },
        n,
        guard,
        threads,
    )?;
    Some(String::from_utf8(digits).expect("ASCII digits"))
}

/// P(a, b), Q(a, b), T(a, b) of the terms a..b. The terms alternate in sign and shrink by a
/// factor of 10^14 each, so T(a, b) has the sign of its first term, (−1)^a: every range here
/// starts at an even term (the splits are at even offsets), so T is never negative.
struct Pqt {
    p: Nat,
    q: Nat,
    t: Nat,
}

/// Below this many terms a range is summed term by term with in-place scalar arithmetic.
const LEAF_TERMS: u64 = 16;
/// From this many terms the halves of a range, and the products of its merge, run on two
/// threads when allowed (below it a thread costs more than it saves).
const PARALLEL_TERMS: u64 = 1500;

/// P, Q, T of the terms a..b; P only when `need_p` (it is unused at the top).
fn split(a: u64, b: u64, need_p: bool, threads: usize) -> Pqt {
    if b - a <= LEAF_TERMS {
        return leaf(a, b);
    }
    // An even split point keeps both halves starting at even terms.
    let m = a + (((b - a) / 2) & !1);
    let parallel = threads > 1 && b - a >= PARALLEL_TERMS;
    let (left, right) = if parallel {
        std::thread::scope(|scope| {
            let left = scope.spawn(|| split(a, m, true, threads / 2));
            let right = split(m, b, need_p, threads - threads / 2);
            (join(left), right)
        })
    } else {
        (split(a, m, true, 1), split(m, b, need_p, 1))
    };
    merge(left, right, need_p, parallel)
}

/// The range a..b from a..m and m..b: P = P1·P2, Q = Q1·Q2, T = T1·Q2 + P1·T2. At NTT sizes
/// (up to a length that bounds their memory) Q and T come from one set of transforms (Q2's serves both products, and T's sum is taken
/// before its one inverse transform); on two threads, T's transforms run beside Q's and P's
/// products instead.
fn merge(left: Pqt, right: Pqt, need_p: bool, parallel: bool) -> Pqt {
    let (p1, q1, t1) = (left.p, left.q, left.t);
    let (p2, q2, t2) = (right.p, right.q, right.t);
    let p_product = || if need_p { &p1 * &p2 } else { Nat::zero() };
    let shortest = [&p1, &q1, &t1, &q2, &t2]
        .iter()
        .map(|x| x.limbs().len())
        .min()
        .unwrap_or(0);
    let longest = q1.limbs().len().max(t1.limbs().len());
    let longest_product = longest + q2.limbs().len();
    if !prefers_ntt(longest, shortest) || transform_len(longest_product) > SHARED_TRANSFORMS_MAX_LEN
    {
        let (q, t) = (&q1 * &q2, &(&t1 * &q2) + &(&p1 * &t2));
        return Pqt {
            p: p_product(),
            q,
            t,
        };
    }
    let (p1s, q1s, t1s, q2s, t2s) = (p1.limbs(), q1.limbs(), t1.limbs(), q2.limbs(), t2.limbs());
    if parallel {
        let t_sum = || {
            let mut t = sums_of_products(&[t1s, q2s, p1s, t2s], &[&[(0, 1), (2, 3)]]);
            t.pop().expect("one sum")
        };
        let (t, (q, p)) = std::thread::scope(|scope| {
            let t = scope.spawn(t_sum);
            let q_and_p = (&q1 * &q2, p_product());
            (join(t), q_and_p)
        });
        Pqt { p, q, t }
    } else {
        let mut qt = sums_of_products(&[q1s, q2s, t1s, p1s, t2s], &[&[(0, 1)], &[(2, 1), (3, 4)]]);
        let t = qt.pop().expect("two sums");
        let q = qt.pop().expect("two sums");
        Pqt {
            p: p_product(),
            q,
            t,
        }
    }
}

/// A scoped thread's result; its panic, if any, continues in this thread.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// P, Q, T of the terms a..b, adding one term k at a time to (P, Q, T):
/// T ← T·q(k) ± P·p(k)·(13591409 + 545140134k), P ← P·p(k), Q ← Q·q(k), where
/// p(k) = (6k−5)(2k−1)(6k−1), q(k) = k³·640320³/24 (and p(0) = q(0) = 1), the sign (−1)^k.
fn leaf(a: u64, b: u64) -> Pqt {
    let mut p = Nat::from(1);
    let mut q = Nat::from(1);
    let mut t = Nat::zero();
    for k in a..b {
        if k > 0 {
            // k³ < 2^64 for k below 2.6 million: far beyond any digit limit.
            let k_cubed = k.checked_pow(3).expect("term index below 2.6 million");
            t.mul_small(k_cubed);
            t.mul_small(C3_OVER_24);
            q.mul_small(k_cubed);
            q.mul_small(C3_OVER_24);
            p.mul_small((6 * k - 5) * (2 * k - 1));
            p.mul_small(6 * k - 1);
        }
        let mut term = p.clone();
        term.mul_small(13_591_409 + 545_140_134 * k);
        // The partial sums from an even a are positive too.
        if k % 2 == 1 {
            t.sub_assign_limbs(term.limbs());
        } else {
            t.add_assign_limbs(term.limbs());
        }
    }
    Pqt { p, q, t }
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
    fn agrees_with_the_spigot() {
        let reference = super::super::spigot::digits(1200);
        for n in (1..=1200)
            .step_by(37)
            .chain([511, 512, 513, 1000, 1199, 1200])
        {
            assert_eq!(digits(n), reference[..n], "n = {n}");
        }
    }

    /// With almost no guard bits the conversion often cannot decide a digit: it must then
    /// refuse (and the caller retry), never answer wrong digits.
    #[test]
    fn too_few_guard_bits_refuse_rather_than_lie() {
        let reference = super::super::spigot::digits(3000);
        let mut refused = 0;
        for n in (600..3000).step_by(97) {
            match attempt(n, 2, 1) {
                Some(digits) => assert_eq!(digits, reference[..n], "n = {n}"),
                None => refused += 1,
            }
        }
        assert!(
            refused > 0,
            "two guard bits should leave some digit undecided"
        );
    }

    #[test]
    fn threads_do_not_change_the_digits() {
        let one = digits_with_threads(30_000, 1);
        assert_eq!(digits_with_threads(30_000, 2), one);
        assert_eq!(digits_with_threads(30_000, 3), one);
    }
}
