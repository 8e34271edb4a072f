//! Decimal digits of a binary fraction, by divide and conquer with multiplications only.
//!
//! A [`Fraction`] stands for a real y ∈ [0, 1) known to within `error` units of 2^−bits. Its
//! first D decimal digits, ⌊y·10^D⌋, split as D = D_hi + D_lo (D_hi = [`UNIT`]·2^j): the high
//! digits are those of y itself to D_hi places (y cut to fewer bits), the low ones those of
//! frac(y·10^D_hi) (one multiplication by 5^D_hi and a shift), and each half recurses. No
//! division anywhere, and the powers of 5 are shared by every node of a level.
//!
//! Exactness: a split is taken only when the whole interval y·10^D_hi ± error·10^D_hi lies
//! strictly between two integers, so every number in it has the same integer part and the
//! fractional part handed down is within the (recomputed) error; the leaves check the same of
//! their digits. When a check fails (the digits right after a split are all 0s or all 9s for
//! longer than the guard bits cover) the conversion answers `None` and the caller asks again
//! with more bits. So the digits returned are ⌊y·10^D⌋ exactly, for any y in the interval.

use std::f64::consts::LOG2_10;

use crate::limbs;
use crate::mul::prefers_ntt;
use crate::nat::Nat;
use crate::ntt;

/// y ≈ value / 2^bits, with |y − value/2^bits| ≤ error / 2^bits, and y ∈ [0, 1).
#[derive(Clone, Debug)]
pub struct Fraction {
    pub value: Nat,
    pub bits: u64,
    pub error: u64,
}

/// Digits per leaf unit: splits are at UNIT·2^j digits.
pub const UNIT: usize = 256;
/// Nodes of at least this many digits convert their halves on two threads when allowed.
const PARALLEL_DIGITS: usize = 50_000;

/// Bits that hold `digits` decimal digits with `guard` bits to spare, plus 8 for each level
/// of splits below: a node then has at least 8 bits more than its low half needs beyond
/// the scale 10^D_hi, so that the error shrinks at every split instead of growing, and the
/// product's wrapped top stays below the bits cut off (see [`scaled_fraction`]). The
/// fraction given to [`fraction_digits`] should have this many bits for its digits.
pub fn bits_for(digits: usize, guard: u64) -> u64 {
    let levels = if digits <= 2 * UNIT {
        0
    } else {
        u64::from(usize::BITS - ((digits - 1) / UNIT).leading_zeros())
    };
    (digits as f64 * LOG2_10).ceil() as u64 + 1 + guard + 8 * levels
}

/// The first `digits` decimal digits of `y` (⌊y·10^digits⌋, zero-padded), as ASCII, or `None`
/// when the fraction's error leaves one of them undecided. Every node keeps `guard` bits
/// beyond its digits' (64 leave a split undecided only after some 17 equal digits 0 or 9);
/// `threads` > 1 lets the halves of large nodes run in parallel.
pub fn fraction_digits(y: Fraction, digits: usize, guard: u64, threads: usize) -> Option<Vec<u8>> {
    let mut out = vec![b'0'; digits];
    // 5^(UNIT·2^j) for every split the recursion can take.
    let mut powers = vec![];
    let mut power = Nat::from(5u64.pow(16)); // 5^16; squared up to 5^UNIT
    let mut exponent = 16usize;
    while exponent < UNIT {
        power = power.square();
        exponent *= 2;
    }
    while 2 * exponent < digits {
        powers.push(power.clone());
        power = power.square();
        exponent *= 2;
    }
    if exponent < digits && digits > 2 * UNIT {
        powers.push(power);
    }
    let y = cut(y, bits_for(digits, guard));
    let node = Node {
        powers: &powers,
        guard,
    };
    node.convert(y, &mut out, threads.max(1)).then_some(out)
}

/// The same interval held with at most `bits` bits.
fn cut(y: Fraction, bits: u64) -> Fraction {
    let error = Nat::from(y.error);
    cut_with(y.value, y.bits, &error, bits)
}

/// value/2^from ± error/2^from as value'/2^to ± error'/2^to with value' = ⌊value/2^(from−to)⌋:
/// error' = ⌈error/2^s⌉, one more if bits were dropped (s = from − to).
fn cut_with(value: Nat, from: u64, error: &Nat, to: u64) -> Fraction {
    if from <= to {
        let error = error.to_u64().expect("a small error");
        return Fraction {
            value,
            bits: from,
            error,
        };
    }
    let s = from - to;
    let ceil = {
        let mut e = error.shr_ref(s);
        if !error.low_bits_are_zero(s) {
            e.add_small(1);
        }
        e
    };
    let dropped = !value.low_bits_are_zero(s);
    let error = ceil.to_u64().expect("a small error") + dropped as u64;
    Fraction {
        value: value.shr_ref(s),
        bits: to,
        error,
    }
}

/// What every node of one conversion shares.
struct Node<'a> {
    powers: &'a [Nat],
    guard: u64,
}

impl Node<'_> {
    fn convert(&self, y: Fraction, out: &mut [u8], threads: usize) -> bool {
        let digits = out.len();
        if digits <= 2 * UNIT {
            return leaf(y, out);
        }
        // D_hi = UNIT·2^j: the largest such below D (so D_hi ≥ D/2).
        let j = usize::BITS - 1 - ((digits - 1) / UNIT).leading_zeros();
        let high_digits = UNIT << j;
        let low_digits = digits - high_digits;
        let power5 = &self.powers[j as usize];
        let (out_high, out_low) = out.split_at_mut(high_digits);
        let (high_bits, low_bits) = (
            bits_for(high_digits, self.guard),
            bits_for(low_digits, self.guard),
        );

        // The low digits: frac(y·10^D_hi) from y cut to the low digits' bits plus D_hi's.
        let scale_bits = (high_digits as f64 * LOG2_10).ceil() as u64 + 8;
        let y1 = cut(y.clone(), low_bits + scale_bits);
        let high = cut(y, high_bits);
        let Some(low) = scaled_fraction(y1, power5, high_digits as u64, low_bits) else {
            return false;
        };
        if threads > 1 && digits >= PARALLEL_DIGITS {
            std::thread::scope(|scope| {
                let low_done = scope.spawn(|| self.convert(low, out_low, threads / 2));
                let high_done = self.convert(high, out_high, threads - threads / 2);
                let low_done = low_done
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                high_done && low_done
            })
        } else {
            self.convert(high, out_high, 1) && self.convert(low, out_low, 1)
        }
    }
}

/// frac(y·10^k), held with `to` bits, for y·10^k = (value·5^k·2^k ± error·5^k·2^k)/2^bits,
/// if that interval has a single integer part.
///
/// With W = (value·5^k) mod 2^(bits−k), frac(y·10^k) ≈ W/2^(bits−k). At transform sizes
/// only W's top `to` bits are computed exactly enough, from the product modulo B^len − 1 with
/// len the value's length (a power of two) instead of the whole product: the product's top
/// part, below 2^(5^k's bits), wraps onto its bottom, which is cut off anyway, and can carry at
/// most one unit into what is kept (see [`wrapped_window`]).
fn scaled_fraction(y: Fraction, power5: &Nat, k: u64, to: u64) -> Option<Fraction> {
    let bits = y.bits;
    debug_assert!(bits > k + to);
    let w_bits = bits - k;
    let mut spread = power5.clone(); // error·5^k, in units of 2^−w_bits
    spread.mul_small(y.error);
    let len = y.value.limbs().len().next_power_of_two();
    let wraps_shorter = ntt::transform_len(y.value.limbs().len() + power5.limbs().len()) > len;
    let ntt_sized = prefers_ntt(y.value.limbs().len(), power5.limbs().len());
    if ntt_sized && wraps_shorter && w_bits - to > power5.bits() {
        return wrapped_window(&y.value, power5, len, w_bits, to, &spread);
    }
    let w = (&y.value * power5).low_bits(w_bits);
    let top = Nat::from(1).shl_ref(w_bits);
    if w < spread || &w + &spread >= top {
        return None;
    }
    Some(cut_with(w, w_bits, &spread, to))
}

/// W's top `to` bits, ⌊W/2^s⌋ (s = w_bits − to), from V = value·5^k mod (B^len − 1):
/// value·5^k = H·B^len + L with H < 2^s, so V = L + H (or L + H − B^len + 1 when that
/// reaches B^len − 1, which needs L's window all ones and leaves V's all zeros), and V's window
/// is W's or one more. So frac(y·10^k)·2^to lies within window ± (1 + ⌈spread/2^s⌉), and the
/// integer part is decided when that interval stays inside [0, 2^to] — which also refuses
/// the all-zeros window of the wrapped case.
fn wrapped_window(
    value: &Nat,
    power5: &Nat,
    len: usize,
    w_bits: u64,
    to: u64,
    spread: &Nat,
) -> Option<Fraction> {
    let s = w_bits - to;
    let v = Nat::from_limbs(ntt::mul_wrapped(value.limbs(), power5.limbs(), len));
    let window = v.low_bits(w_bits).shr_ref(s);
    let mut margin = spread.shr_ref(s);
    if !spread.low_bits_are_zero(s) {
        margin.add_small(1);
    }
    margin.add_small(1);
    if window < margin || &window + &margin > Nat::from(1).shl_ref(to) {
        return None;
    }
    Some(Fraction {
        value: window,
        bits: to,
        error: margin.to_u64().expect("a small error"),
    })
}

/// The digits of a small node: the fraction, padded to whole limbs, times 10^19 (or less for
/// the first group) at a time; the limb carried out is the next group of digits.
fn leaf(y: Fraction, out: &mut [u8]) -> bool {
    let digits = out.len();
    let pad = (64 - y.bits % 64) % 64;
    let words = ((y.bits + pad) / 64) as usize;
    let mut frac = y.value.shl_ref(pad).into_limbs();
    frac.resize(words, 0);
    // error·2^pad·10^digits, the width of the interval the final fraction stands for.
    let mut spread = Nat::from(y.error).shl_ref(pad);
    let first = match digits % 19 {
        0 => 19,
        r => r,
    };
    let mut start = 0;
    let mut group = first;
    while start < digits {
        let scale = 10u64.pow(group as u32);
        let mut integer = limbs::mul_1_assign(&mut frac, scale);
        spread.mul_small(scale);
        for slot in out[start..start + group].iter_mut().rev() {
            *slot = b'0' + (integer % 10) as u8;
            integer /= 10;
        }
        if integer != 0 {
            return false; // y was not below 1
        }
        start += group;
        group = 19;
    }
    // All of [frac − spread, frac + spread] must lie in [0, 2^(64·words)).
    let w = Nat::from_limbs(frac);
    let top = Nat::from(1).shl_ref(64 * words as u64);
    w >= spread && &w + &spread < top
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;

    fn to_nat(x: &BigUint) -> Nat {
        Nat::from_limbs(x.to_u64_digits())
    }

    /// ⌊value·10^digits / 2^bits⌋ by num-bigint, zero-padded.
    fn oracle(value: &BigUint, bits: u64, digits: usize) -> String {
        let x = ((value * BigUint::from(10u32).pow(digits as u32)) >> bits).to_string();
        "0".repeat(digits - x.len()) + &x
    }

    /// 1/7 and 1/3 in binary, exactly floored: their decimal digits repeat, and every split
    /// point falls in the middle of the pattern.
    #[test]
    fn repeating_fractions() {
        for digits in [1, 19, 20, 511, 512, 513, 1000, 3000] {
            let bits = bits_for(digits, 64) + 10;
            let one = BigUint::from(1u32) << bits;
            for q in [7u32, 3, 13] {
                let value = &one / q;
                let y = Fraction {
                    value: to_nat(&value),
                    bits,
                    error: 1,
                };
                let got = fraction_digits(y, digits, 64, 1).expect("decided");
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    oracle(&value, bits, digits)
                );
            }
        }
    }

    /// Random fractions of every size class, on one and two threads, against num-bigint.
    #[test]
    fn random_fractions() {
        let mut seed = 12345u64;
        // 150,000 digits: the top split multiplies by 5^131072 (4,752 limbs), modulo B^8192 − 1.
        for digits in [600, 1025, 4096, 7777, 60_000, 150_000] {
            let bits = bits_for(digits, 64) + 3;
            let limbs: Vec<u64> = (0..bits.div_ceil(64))
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed
                })
                .collect();
            let value = Nat::from_limbs(limbs).low_bits(bits);
            let big = BigUint::from_slice(
                &value
                    .limbs()
                    .iter()
                    .flat_map(|&l| [l as u32, (l >> 32) as u32])
                    .collect::<Vec<_>>(),
            );
            let expected = oracle(&big, bits, digits);
            for threads in [1, 2] {
                let y = Fraction {
                    value: value.clone(),
                    bits,
                    error: 0,
                };
                let got = fraction_digits(y, digits, 64, threads).expect("decided");
                assert_eq!(String::from_utf8(got).unwrap(), expected, "{digits} digits");
            }
        }
    }

    /// A fraction whose digits after a split point are all zeros, known only to ± 3 units:
    /// the digit before could be one lower, so the conversion must not decide.
    #[test]
    fn undecidable_boundaries_are_refused() {
        // y = 0.5 exactly: digits 5000…; with an error the floor at every split is ambiguous.
        let bits = bits_for(2000, 64);
        let half = Nat::from(1).shl_ref(bits - 1);
        let exact = Fraction {
            value: half.clone(),
            bits,
            error: 0,
        };
        let digits = fraction_digits(exact, 2000, 64, 1).expect("an exact half is decided");
        assert_eq!(digits[0], b'5');
        assert!(digits[1..].iter().all(|&d| d == b'0'));
        let blurred = Fraction {
            value: half,
            bits,
            error: 3,
        };
        assert_eq!(fraction_digits(blurred, 2000, 64, 1), None);
    }
}
