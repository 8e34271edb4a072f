//! Gibbons' unbounded spigot, fast: the same recurrence as the baseline transcription (`benches/support/baseline.rs`), the same
//! exact state, the same digits, without a big division (or a dozen big temporaries) per
//! digit.
//!
//! The recurrence keeps three integers q, r, t and an index i (start q=1, r=180, t=60, i=2);
//! each step emits y = ((27i−12)q + 5r) div (5t), then with u = 3(3i+1)(3i+2) sets
//! r ← 10u(q(5i−2) + r − yt), q ← 10qi(2i−1), t ← tu, i ← i+1.
//!
//! Two observations make it fast while keeping it the same computation:
//!
//! 1. **The digit only depends on the ratios** Q = q/t and R = r/t, which follow
//!    y = ⌊Q(27i−12)/5 + R⌋, R ← 10(R + Q(5i−2) − y), Q ← 10Q·i(2i−1)/u.
//!    From the leading bits of the exact q, r, t we get Q and R to a few hundred or thousand
//!    bits as *intervals* (lower and upper bounds in fixed point), and run those few-word
//!    recurrences instead. A digit is taken only when both bounds give the same floor, so it
//!    is exactly the digit of the exact recurrence; the interval widens ten-fold a step, and
//!    when it straddles an integer the batch ends. If even the first digit of a batch is
//!    ambiguous it is computed by the exact big division, as the baseline does.
//! 2. **A batch of steps is one matrix product.** In matrix form a step is
//!    `S ← E(y) · S · A(i)` with `S = [[q, r], [0, t]]`, `A(i) = [[i(2i−1), u(5i−2)], [0, u]]`
//!    and `E(y) = [[10, −10y], [0, 1]]`. The left and right factors of a batch of B steps
//!    collect separately: `A(i)…A(i+B−1) = [[α, β], [0, δ]]` (small numbers, computed by
//!    binary splitting) and `E(y_B)…E(y_1) = [[10^B, −10·D], [0, 1]]` where D is the batch's
//!    digits read as a decimal number. So the big state is updated once per batch:
//!    q ← 10^B·α·q, r ← 10^B·β·q + δ·(10^B·r − 10·D·t), t ← δ·t — a handful of big-by-medium
//!    multiplications (Karatsuba for long batches) instead of B rounds of big temporaries.
//!
//! At every batch boundary (q, r, t) is exactly the baseline's state after the same number of
//! steps (the tests check it), so the memory and the growth of the numbers are the baseline's;
//! only the work per digit is smaller, and allocation happens per batch, not per digit.

use std::convert::Infallible;

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, ToPrimitive};

/// The first `n` decimal digits of pi, `"31415…"`: identical to the baseline transcription's.
pub fn digits(n: usize) -> String {
    match digits_while(n, |_| Ok::<(), Infallible>(())) {
        Ok(digits) => digits,
        Err(never) => match never {},
    }
}

/// Like [`digits`], asking `check(digits so far)` after every batch of digits (at most a few
/// thousand, milliseconds of work) and stopping with its error as soon as it returns one. This
/// is how a caller stops the computation at a deadline.
pub fn digits_while<E>(
    n: usize,
    mut check: impl FnMut(usize) -> Result<(), E>,
) -> Result<String, E> {
    let mut spigot = Spigot::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        // The state after the last digit asked for is not needed.
        spigot.batch(n - out.len(), false, &mut out);
        if out.len() < n {
            check(out.len())?;
        }
    }
    Ok(out.into_iter().map(|d| char::from(b'0' + d)).collect())
}

/// The exact state of the recurrence, plus scratch space reused from batch to batch.
struct Spigot {
    q: BigUint,
    /// Signed for safety: the recurrence keeps r ≥ 0 in practice (the baseline, in unsigned
    /// arithmetic, relies on it), but nothing here needs to.
    r: BigInt,
    t: BigUint,
    /// The index of the next step.
    i: u64,
    intervals: Intervals,
}

impl Spigot {
    fn new() -> Self {
        Spigot {
            q: BigUint::one(),
            r: BigInt::from(180u32),
            t: BigUint::from(60u32),
            i: 2,
            intervals: Intervals::default(),
        }
    }

    /// Emits between 1 and `max_digits` digits (as values 0..=9) and advances the exact
    /// state past them, unless they are the last `max_digits` and `keep_state` is false.
    fn batch(&mut self, max_digits: usize, keep_state: bool, out: &mut Vec<u8>) {
        let start = out.len();
        let limit = max_digits.min(batch_target(self.t.bits()));
        self.intervals
            .run(&self.q, &self.r, &self.t, self.i, limit, out);
        if out.len() == start {
            // The first digit is too close to a digit boundary for the bounds: take it from
            // the exact state.
            out.push(self.exact_digit());
        }
        if keep_state || out.len() - start < max_digits {
            self.advance(&out[start..]);
        }
    }

    /// y = ((27i−12)q + 5r) div (5t), by big division.
    fn exact_digit(&self) -> u8 {
        let numerator = BigInt::from(&self.q * (27 * self.i - 12)) + &self.r * 5u32;
        let denominator = BigInt::from(&self.t * 5u32);
        let y = num_integer::Integer::div_floor(&numerator, &denominator);
        y.to_u8()
            .filter(|&y| y <= 9)
            .expect("each spigot step yields one decimal digit")
    }

    /// Applies the steps i, i+1, … that emitted `batch`: S ← E(y_B)…E(y_1) · S · A(i)…A(i+B−1).
    fn advance(&mut self, batch: &[u8]) {
        let steps = batch.len() as u64;
        let (alpha, beta, delta) = lft_product(self.i, self.i + steps);
        let ten_b = BigUint::from(10u32).pow(steps as u32);
        let d = BigUint::from_radix_be(batch, 10).expect("digits are below ten");
        // r ← 10^B·β·q + δ·(10^B·r − 10·D·t)
        let w = &self.r * BigInt::from(ten_b.clone()) - BigInt::from(&self.t * (d * 10u32));
        let r = w * BigInt::from(delta.clone()) + BigInt::from(&self.q * (&ten_b * beta));
        self.q = &self.q * (ten_b * alpha);
        self.t = &self.t * delta;
        self.r = r;
        self.i += steps;
    }
}

/// Digits to attempt per batch for a state of `bits` bits: long batches make the big
/// multiplications Karatsuba-sized, but each digit of a batch costs interval arithmetic on
/// numbers of about 3.3 bits per batch digit.
fn batch_target(bits: u64) -> usize {
    (bits / 96).clamp(16, 2048) as usize
}

/// `A(lo)…A(hi−1)` as (α, β, δ) for `[[α, β], [0, δ]]`, by binary splitting, where
/// `A(i) = [[i(2i−1), u(5i−2)], [0, u]]` and `u = 3(3i+1)(3i+2)`.
fn lft_product(lo: u64, hi: u64) -> (BigUint, BigUint, BigUint) {
    debug_assert!(lo < hi);
    if hi - lo == 1 {
        let i = lo;
        let u = 3 * (3 * i + 1) * (3 * i + 2);
        return (
            BigUint::from(i * (2 * i - 1)),
            BigUint::from(u128::from(u) * u128::from(5 * i - 2)),
            BigUint::from(u),
        );
    }
    let mid = lo + (hi - lo) / 2;
    let (a1, b1, d1) = lft_product(lo, mid);
    let (a2, b2, d2) = lft_product(mid, hi);
    // [[a1, b1], [0, d1]] · [[a2, b2], [0, d2]]
    let beta = &a1 * b2 + b1 * &d2;
    (a1 * a2, beta, d1 * d2)
}

/// Lower and upper bounds of Q = q/t and R = r/t in fixed point, and the few-word recurrence
/// that yields digits from them. The buffers are kept between batches.
#[derive(Default)]
struct Intervals {
    q_lo: Fixed,
    q_hi: Fixed,
    r_lo: Fixed,
    r_hi: Fixed,
    scratch: Fixed,
}

impl Intervals {
    /// Pushes the digits of steps i, i+1, … that the bounds determine, at most `limit`.
    fn run(
        &mut self,
        q: &BigUint,
        r: &BigInt,
        t: &BigUint,
        i: u64,
        limit: usize,
        out: &mut Vec<u8>,
    ) {
        // Bits needed: 10^limit times the starting width (a few units in the last place, times
        // at most ~30·i from the Q terms) must stay well below one.
        let frac_bits =
            (limit as u64 * 3322).div_ceil(1000) + 64 + 2 * u64::from(64 - i.leading_zeros());
        let words = frac_bits.div_ceil(64) as usize + 1;
        let frac_bits = 64 * (words as u64 - 1);
        // Only the leading bits of t matter: with t' = t >> s ≥ 2^(F+127), q' = q >> s,
        // q/t lies strictly between q'/(t'+1) and (q'+1)/t'.
        let shift = t.bits().saturating_sub(frac_bits + 128);
        let t_top = t >> shift;
        let t_top_plus = &t_top + 1u32;
        let q_top = q >> shift;
        self.q_lo
            .set_nonnegative(&((&q_top << frac_bits) / &t_top_plus), words);
        self.q_hi
            .set_nonnegative(&(((q_top + 1u32) << frac_bits) / &t_top + 1u32), words);
        let r_top = r.magnitude() >> shift;
        let r_small = (&r_top << frac_bits) / &t_top_plus;
        let r_large = ((r_top + 1u32) << frac_bits) / &t_top + 1u32;
        if r.sign() == Sign::Minus {
            // −R lies between the bounds of |r|/t.
            self.r_lo.set_nonnegative(&r_large, words);
            self.r_lo.negate();
            self.r_hi.set_nonnegative(&r_small, words);
            self.r_hi.negate();
        } else {
            self.r_lo.set_nonnegative(&r_small, words);
            self.r_hi.set_nonnegative(&r_large, words);
        }
        self.scratch.set_zero(words);

        let start = out.len();
        let mut i = i;
        while out.len() - start < limit {
            // y = ⌊(Q(27i−12) + 5R) / 5⌋ from both bounds (27i−12 > 0, so they stay ordered).
            let y_lo = self.digit_bound(false, 27 * i - 12);
            let y_hi = self.digit_bound(true, 27 * i - 12);
            let y = match (y_lo, y_hi) {
                (Some(lo), Some(hi)) if lo == hi && (0..=9).contains(&lo) => lo,
                _ => break,
            };
            out.push(y as u8);
            // R ← 10(R + Q(5i−2) − y): exact on both bounds.
            self.r_lo.add_mul(&self.q_lo, 5 * i - 2);
            self.r_lo.add_integer(-y);
            self.r_lo.mul(10);
            self.r_hi.add_mul(&self.q_hi, 5 * i - 2);
            self.r_hi.add_integer(-y);
            self.r_hi.mul(10);
            // Q ← 10Q·i(2i−1)/u: rounded down on the lower bound, up on the upper.
            let u = 3 * (3 * i + 1) * (3 * i + 2);
            self.q_lo.mul(10 * i * (2 * i - 1));
            self.q_lo.div_floor(u);
            self.q_hi.mul(10 * i * (2 * i - 1));
            self.q_hi.div_ceil(u);
            i += 1;
        }
    }

    /// ⌊(Q(27i−12) + 5R)/5⌋ on one bound, or `None` if it does not fit the integer word.
    fn digit_bound(&mut self, upper: bool, x: u64) -> Option<i64> {
        let (q, r) = if upper {
            (&self.q_hi, &self.r_hi)
        } else {
            (&self.q_lo, &self.r_lo)
        };
        self.scratch.copy_from(q);
        self.scratch.mul(x);
        self.scratch.add_mul(r, 5);
        // ⌊X/(5·2^F)⌋ = ⌊⌊X/2^F⌋/5⌋, and ⌊X/2^F⌋ is the top (integer) word.
        let integer = self.scratch.integer();
        (integer.unsigned_abs() < 1 << 40).then(|| integer.div_euclid(5))
    }
}

/// A fixed-point number: little-endian 64-bit words in two's complement, the top word the
/// integer part and the others 64 bits of fraction each. All arithmetic wraps modulo the width;
/// the spigot's values stay far inside it (|Q|, |R| < 100).
#[derive(Default, Clone)]
struct Fixed {
    words: Vec<u64>,
}

impl Fixed {
    fn set_zero(&mut self, words: usize) {
        self.words.clear();
        self.words.resize(words, 0);
    }

    /// `value` (a nonnegative integer with fewer than `words` words) scaled by nothing: the
    /// caller has already multiplied by 2^F.
    fn set_nonnegative(&mut self, value: &BigUint, words: usize) {
        self.set_zero(words);
        for (word, digit) in self.words.iter_mut().zip(value.iter_u64_digits()) {
            *word = digit;
        }
        debug_assert!(value.bits() < 64 * words as u64 - 1);
    }

    fn copy_from(&mut self, other: &Fixed) {
        self.words.clear();
        self.words.extend_from_slice(&other.words);
    }

    fn negate(&mut self) {
        let mut carry = true;
        for word in &mut self.words {
            let (sum, c) = (!*word).overflowing_add(u64::from(carry));
            *word = sum;
            carry = c;
        }
    }

    /// The integer part, ⌊self⌋.
    fn integer(&self) -> i64 {
        *self.words.last().expect("a fixed-point number has words") as i64
    }

    fn add_integer(&mut self, n: i64) {
        let top = self
            .words
            .last_mut()
            .expect("a fixed-point number has words");
        *top = top.wrapping_add(n as u64);
    }

    /// self ← self · m.
    fn mul(&mut self, m: u64) {
        let mut carry: u64 = 0;
        for word in &mut self.words {
            let product = u128::from(*word) * u128::from(m) + u128::from(carry);
            *word = product as u64;
            carry = (product >> 64) as u64;
        }
    }

    /// self ← self + other · m.
    fn add_mul(&mut self, other: &Fixed, m: u64) {
        debug_assert_eq!(self.words.len(), other.words.len());
        let mut carry: u64 = 0;
        for (word, &o) in self.words.iter_mut().zip(&other.words) {
            let sum = u128::from(o) * u128::from(m) + u128::from(*word) + u128::from(carry);
            *word = sum as u64;
            carry = (sum >> 64) as u64;
        }
    }

    /// self ← ⌊self / d⌋ for nonnegative self; returns whether there was a remainder.
    fn div_floor(&mut self, d: u64) -> bool {
        debug_assert!((self.integer()) >= 0);
        let mut remainder: u64 = 0;
        for word in self.words.iter_mut().rev() {
            let dividend = (u128::from(remainder) << 64) | u128::from(*word);
            *word = (dividend / u128::from(d)) as u64;
            remainder = (dividend % u128::from(d)) as u64;
        }
        remainder != 0
    }

    /// self ← ⌈self / d⌉ for nonnegative self.
    fn div_ceil(&mut self, d: u64) {
        if self.div_floor(d) {
            let mut carry = true;
            for word in &mut self.words {
                if !carry {
                    break;
                }
                let (sum, c) = word.overflowing_add(1);
                *word = sum;
                carry = c;
            }
        }
    }
}

/// The exact state after `steps` steps, for tests that compare it with the baseline's.
#[cfg(test)]
fn state_after(steps: usize) -> (BigUint, BigInt, BigUint) {
    let mut spigot = Spigot::new();
    let mut out = Vec::new();
    while out.len() < steps {
        spigot.batch(steps - out.len(), true, &mut out);
    }
    (spigot.q, spigot.r, spigot.t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_digits() {
        assert_eq!(digits(1), "3");
        assert_eq!(digits(20), "31415926535897932384");
        assert_eq!(digits(0), "");
    }

    #[test]
    fn the_caller_can_stop_between_batches() {
        let mut asked = Vec::new();
        let stopped = digits_while(3000, |done| {
            asked.push(done);
            if done < 1000 {
                Ok(())
            } else {
                Err(done)
            }
        });
        assert_eq!(stopped, Err(*asked.last().unwrap()));
        assert!(asked.windows(2).all(|w| w[0] < w[1]), "{asked:?}");
        assert!(*asked.last().unwrap() >= 1000);
        assert_eq!(
            digits_while(500, |_| Ok::<(), ()>(())).unwrap(),
            digits(500)
        );
    }

    /// The baseline's loop, returning its state instead of digits.
    fn baseline_state_after(steps: usize) -> (BigUint, BigUint, BigUint) {
        let (mut q, mut r, mut t) = (BigUint::one(), BigUint::from(180u32), BigUint::from(60u32));
        for i in 2..2 + steps as u64 {
            let u = BigUint::from(3 * (3 * i + 1) * (3 * i + 2));
            let y = (&q * (27 * i - 12) + &r * 5u32) / (&t * 5u32);
            r = &u * 10u32 * (&q * (5 * i - 2) + &r - &y * &t);
            q *= 10 * i * (2 * i - 1);
            t *= &u;
        }
        (q, r, t)
    }

    #[test]
    fn the_state_is_exactly_the_baselines() {
        for steps in [1, 2, 3, 17, 100, 257, 1000] {
            let (q, r, t) = state_after(steps);
            let (bq, br, bt) = baseline_state_after(steps);
            assert_eq!(q, bq, "q after {steps} steps");
            assert_eq!(r, BigInt::from(br), "r after {steps} steps");
            assert_eq!(t, bt, "t after {steps} steps");
        }
    }

    #[test]
    fn the_exact_fallback_agrees_with_the_bounds() {
        let mut spigot = Spigot::new();
        let mut out = Vec::new();
        while out.len() < 500 {
            let exact = spigot.exact_digit();
            let start = out.len();
            spigot.batch(7, true, &mut out);
            assert_eq!(out[start], exact, "digit {start}");
        }
    }

    #[test]
    fn fixed_point_rounding() {
        let mut x = Fixed::default();
        x.set_nonnegative(&(BigUint::from(7u32) << 64u32), 2);
        x.div_floor(2);
        assert_eq!(x.words, [1 << 63, 3]);
        x.set_nonnegative(&BigUint::from(7u32), 2);
        x.div_ceil(2);
        assert_eq!(x.words, [4, 0]);
        x.negate();
        assert_eq!(x.integer(), -1);
        x.add_integer(1);
        assert_eq!(x.words, [u64::MAX - 3, 0]);
    }
}
