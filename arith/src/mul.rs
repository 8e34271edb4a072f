//! Multiplication: schoolbook below [`KARATSUBA_THRESHOLD`] limbs (of the shorter operand),
//! then Karatsuba or the number-theoretic transform ([`crate::ntt`]), whichever a cost model
//! fitted to measurements says is cheaper ([`prefers_ntt`]): the transform's cost is a step
//! function of the padded length, so around each power of two either may win.
//! `cargo run --release -p pi-arith --example thresholds` times the methods side by side.

use crate::limbs;
use crate::nat::Nat;
use crate::ntt;

/// The shorter operand's limbs from which Karatsuba beats schoolbook.
pub const KARATSUBA_THRESHOLD: usize = 24;
/// Below this many limbs in the shorter operand the NTT never wins.
pub const NTT_THRESHOLD: usize = 800;

/// Measured cost of Karatsuba per na·nb^0.585 (nb ≤ na) and of the NTT per L·log2 L (L the
/// transform length), in the same unit: 0.00325 and 0.0070 µs on the benchmark machine
/// (within 2 % from 600 to 2,000 limbs). Only their ratio decides.
const KARATSUBA_COST: f64 = 0.00325;
const NTT_COST: f64 = 0.0070;

/// Whether the NTT multiplies an `a`-limb by a `b`-limb number faster than Karatsuba.
pub fn prefers_ntt(a: usize, b: usize) -> bool {
    let (long, short) = (a.max(b), a.min(b));
    if short < NTT_THRESHOLD {
        return false;
    }
    let len = ntt::transform_len(long + short) as f64;
    NTT_COST * len * len.log2() < KARATSUBA_COST * long as f64 * (short as f64).powf(0.585)
}

/// `a·b`.
pub fn mul(a: &Nat, b: &Nat) -> Nat {
    let (a, b) = (a.limbs(), b.limbs());
    if a.is_empty() || b.is_empty() {
        return Nat::zero();
    }
    let mut out = vec![0u64; a.len() + b.len()];
    mul_into(&mut out, a, b);
    Nat::from_limbs(out)
}

/// `a²`.
pub fn square(a: &Nat) -> Nat {
    let a = a.limbs();
    if a.is_empty() {
        return Nat::zero();
    }
    let mut out = vec![0u64; 2 * a.len()];
    square_into(&mut out, a);
    Nat::from_limbs(out)
}

/// `out = a·b`, overwriting `out` (`out.len() == a.len() + b.len()`).
pub fn mul_into(out: &mut [u64], a: &[u64], b: &[u64]) {
    let (a, b) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    debug_assert_eq!(out.len(), a.len() + b.len());
    if b.is_empty() {
        out.fill(0);
    } else if b.len() < KARATSUBA_THRESHOLD {
        schoolbook(out, a, b);
    } else if prefers_ntt(a.len(), b.len()) {
        ntt::mul_into(out, a, Some(b));
    } else if a.len() >= 2 * b.len() {
        unbalanced(out, a, b);
    } else {
        karatsuba(out, a, b);
    }
}

/// `out = a²` (`out.len() == 2·a.len()`).
pub fn square_into(out: &mut [u64], a: &[u64]) {
    debug_assert_eq!(out.len(), 2 * a.len());
    if a.len() < KARATSUBA_THRESHOLD {
        schoolbook(out, a, a);
    } else if prefers_ntt(a.len(), a.len()) {
        ntt::mul_into(out, a, None);
    } else {
        karatsuba_square(out, a);
    }
}

/// Long multiplication, two rows (limbs of `b`) at a time: each limb of `out` is loaded and
/// stored once per pair of rows.
pub fn schoolbook(out: &mut [u64], a: &[u64], b: &[u64]) {
    out.fill(0);
    let na = a.len();
    let mut pairs = b.chunks_exact(2);
    let mut j = 0;
    for pair in &mut pairs {
        let (b0, b1) = (pair[0] as u128, pair[1] as u128);
        // out[j + k] += a[k]·b0 + a[k−1]·b1, k = 0..=na, with a[−1] = a[na] = 0.
        let row = &mut out[j..j + na + 2];
        let mut carry: u128 = 0;
        let mut previous = 0u64; // a[k − 1]
        for k in 0..na {
            let p0 = a[k] as u128 * b0;
            let p1 = previous as u128 * b1;
            let s = row[k] as u128 + (p0 as u64) as u128 + (p1 as u64) as u128 + carry;
            row[k] = s as u64;
            carry = (s >> 64) + (p0 >> 64) + (p1 >> 64);
            previous = a[k];
        }
        let p1 = previous as u128 * b1;
        let s = row[na] as u128 + (p1 as u64) as u128 + carry;
        row[na] = s as u64;
        carry = (s >> 64) + (p1 >> 64);
        row[na + 1] = carry as u64;
        j += 2;
    }
    if let [y] = pairs.remainder() {
        out[j + na] = limbs::add_mul_1(&mut out[j..j + na], a, *y);
    }
}

/// `a` much longer than `b`: `b` times each `b`-sized piece of `a`, added at its offset.
fn unbalanced(out: &mut [u64], a: &[u64], b: &[u64]) {
    out.fill(0);
    let mut piece = vec![0u64; 2 * b.len()];
    for (i, chunk) in a.chunks(b.len()).enumerate() {
        let product = &mut piece[..chunk.len() + b.len()];
        mul_into(product, chunk, b);
        let offset = i * b.len();
        limbs::add_assign(&mut out[offset..], product);
    }
}

/// a = a1·B + a0, b = b1·B + b0 (B = 2^(64h)): a·b = a1b1·B² + ((a0 + a1)(b0 + b1) − a0b0 −
/// a1b1)·B + a0b0, h = ⌈a.len()/2⌉ limbs; b1 may be empty (a.len() < 2·b.len() gives b.len() ≥ h).
pub fn karatsuba(out: &mut [u64], a: &[u64], b: &[u64]) {
    let h = a.len().div_ceil(2);
    debug_assert!(b.len() >= h);
    let (a0, a1) = a.split_at(h);
    let (b0, b1) = b.split_at(h);
    let (low, high) = out.split_at_mut(2 * h);
    mul_into(low, a0, b0);
    mul_into(high, a1, b1);
    let sum_a = sum(a0, a1);
    let sum_b = sum(b0, b1);
    let mut middle = vec![0u64; sum_a.len() + sum_b.len()];
    mul_into(&mut middle, &sum_a, &sum_b);
    combine(out, &mut middle, h);
}

fn karatsuba_square(out: &mut [u64], a: &[u64]) {
    let h = a.len().div_ceil(2);
    let (a0, a1) = a.split_at(h);
    let (low, high) = out.split_at_mut(2 * h);
    square_into(low, a0);
    square_into(high, a1);
    let sum_a = sum(a0, a1);
    let mut middle = vec![0u64; 2 * sum_a.len()];
    square_into(&mut middle, &sum_a);
    combine(out, &mut middle, h);
}

/// out holds a0b0 (low 2h limbs) and a1b1 (above); adds (middle − a0b0 − a1b1)·B^h.
fn combine(out: &mut [u64], middle: &mut [u64], h: usize) {
    let (low, high) = out.split_at(2 * h);
    let borrow_low = limbs::sub_assign(middle, limbs::trim(low));
    let borrow_high = limbs::sub_assign(middle, limbs::trim(high));
    debug_assert!(
        !borrow_low && !borrow_high,
        "the middle term is non-negative"
    );
    let middle = limbs::trim(middle);
    let carry = limbs::add_assign(&mut out[h..], middle);
    debug_assert!(!carry, "the product fits its limbs");
}

/// `a + b` with room for the carry (`a.len() >= b.len()`).
fn sum(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut s = Vec::with_capacity(a.len() + 1);
    s.extend_from_slice(a);
    s.push(0);
    limbs::add_assign(&mut s, b);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;

    /// A reproducible stream of limbs (xorshift).
    pub(crate) fn random_limbs(len: usize, seed: u64) -> Vec<u64> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s
            })
            .collect()
    }

    fn oracle(a: &[u64], b: &[u64]) -> Nat {
        let to_big = |x: &[u64]| {
            BigUint::from_bytes_le(&x.iter().flat_map(|l| l.to_le_bytes()).collect::<Vec<u8>>())
        };
        let product = to_big(a) * to_big(b);
        Nat::from_limbs(product.to_u64_digits())
    }

    fn check(a: Vec<u64>, b: Vec<u64>) {
        let (x, y) = (Nat::from_limbs(a.clone()), Nat::from_limbs(b.clone()));
        assert_eq!(
            mul(&x, &y),
            oracle(&a, &b),
            "{} × {} limbs",
            a.len(),
            b.len()
        );
        if a == b {
            assert_eq!(square(&x), oracle(&a, &a), "{} limbs squared", a.len());
        }
    }

    /// Every method at and around its thresholds, on random and all-ones operands (the largest
    /// convolution sums, every carry).
    #[test]
    fn every_method_at_its_thresholds() {
        let sizes = [
            1,
            2,
            KARATSUBA_THRESHOLD - 1,
            KARATSUBA_THRESHOLD,
            KARATSUBA_THRESHOLD + 1,
            3 * KARATSUBA_THRESHOLD + 1,
            NTT_THRESHOLD - 1,
            NTT_THRESHOLD,
            NTT_THRESHOLD + 1,
            1024,
            1025,
            1300,
            2048,
            2049,
        ];
        for (i, &n) in sizes.iter().enumerate() {
            let a = random_limbs(n, i as u64);
            check(a.clone(), a.clone());
            check(a.clone(), random_limbs(n, 100 + i as u64));
            check(vec![u64::MAX; n], vec![u64::MAX; n]);
            // Unbalanced: a long operand against a short one of every size class.
            check(random_limbs(3 * n + 5, 7), a.clone());
            check(vec![u64::MAX; n + 3], vec![u64::MAX; n.div_ceil(2)]);
        }
    }

    #[test]
    fn zero_and_one() {
        let a = Nat::from_limbs(random_limbs(50, 3));
        assert_eq!(mul(&a, &Nat::zero()), Nat::zero());
        assert_eq!(mul(&a, &Nat::from(1)), a);
        assert_eq!(square(&Nat::zero()), Nat::zero());
    }
}
