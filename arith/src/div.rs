//! Division and square root by Newton's iteration, in the time of a few multiplications.
//!
//! The approximations ([`reciprocal`], [`inverse_sqrt`]) double their correct bits per step
//! and only need to be close: [`div_floor`] and [`sqrt_floor_scaled`] then check the exact
//! remainder and step the result by ones until it is the floor, so their answers are exact
//! whatever the approximation's error (which only decides how many steps that takes, one or
//! two in practice).

use crate::nat::Nat;

/// Up to this many bits, the approximations start from hardware arithmetic.
const BASE_BITS: u64 = 60;

/// `X ≈ 2^(m + k) / d` with m = `d.bits()`: a number of k + 1 bits, off by at most a few
/// units in its last place.
pub fn reciprocal(d: &Nat, k: u64) -> Nat {
    let m = d.bits();
    assert!(m > 0, "reciprocal of zero");
    if k <= BASE_BITS {
        // d's top 64 bits, t ∈ [2^63, 2^64): 2^(m+k)/d ≈ 2^(64+k)/t.
        let t = if m >= 64 {
            d.shr_ref(m - 64).to_u64().expect("64 bits")
        } else {
            d.to_u64().expect("under 64 bits") << (64 - m)
        };
        return Nat::from(((1u128 << (64 + k)) / t as u128) as u64);
    }
    // Half the precision first (plus a margin), from d's top bits only.
    let h = k / 2 + 4;
    let xh = reciprocal(d, h); // ≈ 2^(m+h)/d
                               // d cut to k + 8 bits: dt = ⌊d / 2^s⌋, mt = m − s bits.
    let s = m.saturating_sub(k + 8);
    let dt = d.shr_ref(s);
    let mt = m - s;
    // With x0 = xh·2^(k−h) ≈ 2^(mt+k)/dt, Newton's step is x0 + x0·e/2^(mt+k), where
    // e = 2^(mt+k) − dt·x0 = 2^(k−h)·(2^(mt+h) − dt·xh), small: compute it at h's scale.
    let one = Nat::from(1).shl_ref(mt + h);
    let product = &dt * &xh;
    let (e, negative) = if product <= one {
        (one - &product, false)
    } else {
        (product - &one, true)
    };
    // The correction x0·2^(k−h)·e/2^(mt+k) = xh·e/2^(mt+2h−k); e's top h + 8 bits suffice.
    let cut = e.bits().saturating_sub(h + 8);
    let correction = (&xh * &e.shr_ref(cut)).shr_ref((mt + 2 * h - k).saturating_sub(cut));
    let x0 = xh.shl_ref(k - h);
    if negative {
        let mut x = x0 - &correction;
        x.sub_small(1);
        x
    } else {
        x0 + &correction
    }
}

/// `⌊n / d⌋`, exactly.
///
/// # Panics
/// If `d` is zero.
pub fn div_floor(n: &Nat, d: &Nat) -> Nat {
    assert!(!d.is_zero(), "division by zero");
    if n < d {
        return Nat::zero();
    }
    if let Some(small) = d.to_u64() {
        return n.div_rem_small(small).0;
    }
    let (nb, m) = (n.bits(), d.bits());
    // The quotient has at most nb − m + 1 bits; four more absorb the approximations' errors.
    let k = nb - m + 4;
    let x = reciprocal(d, k); // ≈ 2^(m+k)/d
    let s = nb.saturating_sub(k + 4);
    let mut q = (&n.shr_ref(s) * &x).shr_ref(m + k - s);
    // Make it the floor: q·d ≤ n < (q + 1)·d.
    let mut qd = &q * d;
    let mut steps = 0;
    while qd > *n {
        qd = qd - d;
        q.sub_small(1);
        steps += 1;
    }
    let mut r = n.clone() - &qd;
    while r >= *d {
        r = r - d;
        q.add_small(1);
        steps += 1;
    }
    debug_assert!(steps <= 8, "the quotient estimate was off by {steps}");
    q
}

/// `Y ≈ 2^k / √a`, off by at most a few units in its last place.
pub fn inverse_sqrt(a: u64, k: u64) -> Nat {
    assert!(a > 0 && a < 1 << 52, "a small positive radicand");
    if k <= 48 {
        let y = (2f64.powi(k as i32) / (a as f64).sqrt()) as u64;
        return Nat::from(y);
    }
    // Newton on 1/√a: y1 = y0 + y0·(1 − a·y0²)/2, from half the precision (plus a margin).
    let h = k / 2 + 8;
    let yh = inverse_sqrt(a, h); // ≈ 2^h/√a
                                 // With y0 = yh·2^(k−h): y1 = y0 + yh·e·2^(k−3h−1), e = 2^(2h) − a·yh².
    let one = Nat::from(1).shl_ref(2 * h);
    let mut ay2 = yh.square();
    ay2.mul_small(a);
    let (e, negative) = if ay2 <= one {
        (one - &ay2, false)
    } else {
        (ay2 - &one, true)
    };
    let correction = (&yh * &e).shr_ref(3 * h + 1 - k);
    let y0 = yh.shl_ref(k - h);
    if negative {
        let mut y = y0 - &correction;
        y.sub_small(1);
        y
    } else {
        y0 + &correction
    }
}

/// `⌊√a · 2^c⌋ = ⌊√(a · 4^c)⌋`, exactly.
pub fn sqrt_floor_scaled(a: u64, c: u64) -> Nat {
    if a == 0 {
        return Nat::zero();
    }
    // √a·2^c = a · (2^(c+x)/√a) / 2^x, with x bits to spare so that a times the inverse's
    // error stays below one unit.
    let extra = u64::from(64 - a.leading_zeros()) + 4;
    let mut s = inverse_sqrt(a, c + extra);
    s.mul_small(a);
    let mut s = s.shr_ref(extra);
    // Make it the floor: s² ≤ a·4^c < (s + 1)².
    let mut target = Nat::from(a).shl_ref(2 * c);
    let mut square = s.square();
    let mut steps = 0;
    while square > target {
        // (s − 1)² = s² − 2s + 1
        square = square - &s.shl_ref(1);
        square.add_small(1);
        s.sub_small(1);
        steps += 1;
    }
    target = target - &square; // a·4^c − s² ≥ 0
                               // (s + 1)² ≤ a·4^c ⟺ 2s + 1 ≤ a·4^c − s²
    loop {
        let mut step = s.shl_ref(1);
        step.add_small(1);
        if step > target {
            break;
        }
        target = target - &step;
        s.add_small(1);
        steps += 1;
    }
    debug_assert!(steps <= 8, "the square root estimate was off by {steps}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;

    fn big(x: &Nat) -> BigUint {
        BigUint::from_slice(
            &x.limbs()
                .iter()
                .flat_map(|&l| [l as u32, (l >> 32) as u32])
                .collect::<Vec<u32>>(),
        )
    }

    fn random(limbs: usize, seed: u64) -> Nat {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        Nat::from_limbs(
            (0..limbs)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    s
                })
                .collect(),
        )
    }

    #[test]
    fn division_matches_num_bigint() {
        // Divisors and quotients of every size class, up to the NTT's, and all-ones operands.
        for (i, &(nl, dl)) in [
            (3, 2),
            (10, 2),
            (10, 9),
            (40, 17),
            (200, 100),
            (300, 40),
            (3000, 1400),
            (3000, 1),
            (5000, 2600),
        ]
        .iter()
        .enumerate()
        {
            let n = random(nl, i as u64 + 1);
            let d = random(dl, i as u64 + 50);
            assert_eq!(
                big(&div_floor(&n, &d)),
                big(&n) / big(&d),
                "{nl} / {dl} limbs"
            );
            let ones = Nat::from_limbs(vec![u64::MAX; nl]);
            assert_eq!(big(&div_floor(&ones, &d)), big(&ones) / big(&d));
            // Exact multiples: the remainder is 0, the boundary of the correction.
            let multiple = &d * &random(nl - dl + 1, i as u64 + 99);
            assert_eq!(big(&div_floor(&multiple, &d)), big(&multiple) / big(&d));
        }
        assert!(div_floor(&Nat::from(5), &Nat::from(7)).is_zero());
    }

    #[test]
    fn square_roots_are_floors() {
        for (a, c) in [
            (10005, 0),
            (10005, 1),
            (2, 100),
            (10005, 3000),
            (3, 70_000),
            (99, 64),
        ] {
            let s = big(&sqrt_floor_scaled(a, c));
            let target = BigUint::from(a) << c << c;
            assert!(&s * &s <= target, "a = {a}, c = {c}");
            assert!((&s + 1u32) * (&s + 1u32) > target, "a = {a}, c = {c}");
        }
        assert_eq!(sqrt_floor_scaled(4, 0).to_u64(), Some(2));
        assert_eq!(sqrt_floor_scaled(10005, 0).to_u64(), Some(100));
    }

    #[test]
    fn reciprocals_are_close() {
        for (limbs, k) in [(1, 10), (3, 100), (40, 2000), (1500, 90_000)] {
            let d = random(limbs, k);
            let x = big(&reciprocal(&d, k));
            let exact = (BigUint::from(1u32) << (d.bits() + k)) / big(&d);
            let diff = if x > exact { &x - &exact } else { &exact - &x };
            assert!(
                diff < BigUint::from(16u32),
                "{limbs} limbs, {k} bits: off by {diff}"
            );
        }
    }
}
