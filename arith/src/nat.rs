//! [`Nat`]: a natural number as little-endian 64-bit limbs, normalised.

use std::cmp::Ordering;
use std::ops::{Add, Mul, Shl, Shr, Sub};

use crate::limbs;

/// A natural number. The limb vector never ends in a zero limb, so zero is empty.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Nat {
    limbs: Vec<u64>,
}

impl Nat {
    pub const fn zero() -> Nat {
        Nat { limbs: Vec::new() }
    }

    pub fn from_limbs(mut limbs: Vec<u64>) -> Nat {
        let len = limbs::trim(&limbs).len();
        limbs.truncate(len);
        Nat { limbs }
    }

    pub fn limbs(&self) -> &[u64] {
        &self.limbs
    }

    pub fn into_limbs(self) -> Vec<u64> {
        self.limbs
    }

    pub fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// The number of significant bits (0 for zero).
    pub fn bits(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => self.limbs.len() as u64 * 64 - top.leading_zeros() as u64,
        }
    }

    /// The value if it fits in a `u64`.
    pub fn to_u64(&self) -> Option<u64> {
        match self.limbs.as_slice() {
            [] => Some(0),
            [x] => Some(*x),
            _ => None,
        }
    }

    /// `self *= m` in place.
    pub fn mul_small(&mut self, m: u64) {
        if m == 0 {
            self.limbs.clear();
            return;
        }
        let carry = limbs::mul_1_assign(&mut self.limbs, m);
        if carry != 0 {
            self.limbs.push(carry);
        }
    }

    /// `self += m` in place.
    pub fn add_small(&mut self, m: u64) {
        self.add_assign_limbs(&[m]);
    }

    /// `self += other` in place.
    pub fn add_assign_limbs(&mut self, other: &[u64]) {
        if self.limbs.len() < other.len() {
            self.limbs.resize(other.len(), 0);
        }
        if limbs::add_assign(&mut self.limbs, other) {
            self.limbs.push(1);
        }
        self.normalise();
    }

    /// `self -= other` in place.
    ///
    /// # Panics
    /// If `other > self`.
    pub fn sub_assign_limbs(&mut self, other: &[u64]) {
        let other = limbs::trim(other);
        assert!(
            limbs::cmp(&self.limbs, other) != Ordering::Less,
            "natural subtraction would go below zero"
        );
        limbs::sub_assign(&mut self.limbs, other);
        self.normalise();
    }

    /// `self − 1` for a non-zero number.
    pub fn sub_small(&mut self, m: u64) {
        self.sub_assign_limbs(&[m]);
    }

    /// The remainder and quotient by a single non-zero limb: `self = q·m + r`.
    pub fn div_rem_small(&self, m: u64) -> (Nat, u64) {
        assert!(m != 0, "division by zero");
        let mut q = vec![0u64; self.limbs.len()];
        let mut r = 0u64;
        for (i, &x) in self.limbs.iter().enumerate().rev() {
            let t = (r as u128) << 64 | x as u128;
            q[i] = (t / m as u128) as u64;
            r = (t % m as u128) as u64;
        }
        (Nat::from_limbs(q), r)
    }

    /// `⌊self / 2^k⌋` without consuming self.
    pub fn shr_ref(&self, k: u64) -> Nat {
        let words = (k / 64) as usize;
        if words >= self.limbs.len() {
            return Nat::zero();
        }
        let bits = (k % 64) as u32;
        let src = &self.limbs[words..];
        let mut out = Vec::with_capacity(src.len());
        if bits == 0 {
            out.extend_from_slice(src);
        } else {
            for i in 0..src.len() {
                let high = src.get(i + 1).map_or(0, |&h| h << (64 - bits));
                out.push(src[i] >> bits | high);
            }
        }
        Nat::from_limbs(out)
    }

    /// `self mod 2^k`.
    pub fn low_bits(&self, k: u64) -> Nat {
        let words = (k / 64) as usize;
        if words >= self.limbs.len() {
            return self.clone();
        }
        let mut out = self.limbs[..=words].to_vec();
        let bits = (k % 64) as u32;
        out[words] &= (1u64 << bits).wrapping_sub(1);
        Nat::from_limbs(out)
    }

    /// Whether `self mod 2^k` is zero.
    pub fn low_bits_are_zero(&self, k: u64) -> bool {
        let words = (k / 64) as usize;
        let bits = (k % 64) as u32;
        let full = &self.limbs[..words.min(self.limbs.len())];
        full.iter().all(|&x| x == 0)
            && self
                .limbs
                .get(words)
                .is_none_or(|&x| x & ((1u64 << bits).wrapping_sub(1)) == 0)
    }

    /// `self · 2^k`.
    pub fn shl_ref(&self, k: u64) -> Nat {
        if self.is_zero() {
            return Nat::zero();
        }
        let words = (k / 64) as usize;
        let bits = (k % 64) as u32;
        let mut out = vec![0u64; words];
        out.reserve(self.limbs.len() + 1);
        if bits == 0 {
            out.extend_from_slice(&self.limbs);
        } else {
            let mut carry = 0u64;
            for &x in &self.limbs {
                out.push(x << bits | carry);
                carry = x >> (64 - bits);
            }
            out.push(carry);
        }
        Nat::from_limbs(out)
    }

    /// `10^k`.
    pub fn pow10(k: u64) -> Nat {
        let mut result = Nat::from(1u64);
        let mut base = Nat::from(10u64);
        let mut e = k;
        while e > 0 {
            if e & 1 == 1 {
                result = &result * &base;
            }
            e >>= 1;
            if e > 0 {
                base = base.square();
            }
        }
        result
    }

    /// `self²`.
    pub fn square(&self) -> Nat {
        crate::mul::square(self)
    }

    fn normalise(&mut self) {
        let len = limbs::trim(&self.limbs).len();
        self.limbs.truncate(len);
    }
}

impl From<u64> for Nat {
    fn from(x: u64) -> Nat {
        Nat::from_limbs(vec![x])
    }
}

impl Ord for Nat {
    fn cmp(&self, other: &Nat) -> Ordering {
        limbs::cmp(&self.limbs, &other.limbs)
    }
}

impl PartialOrd for Nat {
    fn partial_cmp(&self, other: &Nat) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Debug for Nat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nat(0x")?;
        match self.limbs.split_last() {
            None => write!(f, "0")?,
            Some((top, rest)) => {
                write!(f, "{top:x}")?;
                for x in rest.iter().rev() {
                    write!(f, "_{x:016x}")?;
                }
            }
        }
        write!(f, ")")
    }
}

impl Mul<&Nat> for &Nat {
    type Output = Nat;
    fn mul(self, other: &Nat) -> Nat {
        crate::mul::mul(self, other)
    }
}

impl Add<&Nat> for &Nat {
    type Output = Nat;
    fn add(self, other: &Nat) -> Nat {
        let (long, short) = if self.limbs.len() >= other.limbs.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut sum = long.clone();
        sum.add_assign_limbs(&short.limbs);
        sum
    }
}

impl Add<&Nat> for Nat {
    type Output = Nat;
    fn add(mut self, other: &Nat) -> Nat {
        self.add_assign_limbs(&other.limbs);
        self
    }
}

impl Sub<&Nat> for Nat {
    type Output = Nat;
    fn sub(mut self, other: &Nat) -> Nat {
        self.sub_assign_limbs(&other.limbs);
        self
    }
}

impl Shl<u64> for &Nat {
    type Output = Nat;
    fn shl(self, k: u64) -> Nat {
        self.shl_ref(k)
    }
}

impl Shr<u64> for &Nat {
    type Output = Nat;
    fn shr(self, k: u64) -> Nat {
        self.shr_ref(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_and_sized() {
        assert!(Nat::from_limbs(vec![0, 0]).is_zero());
        assert_eq!(Nat::from(0).bits(), 0);
        assert_eq!(Nat::from(1).bits(), 1);
        assert_eq!(Nat::from_limbs(vec![0, 1]).bits(), 65);
        assert_eq!(Nat::from(5).to_u64(), Some(5));
    }

    #[test]
    fn shifts_round_trip() {
        let x = Nat::from_limbs(vec![u64::MAX, 0x1234, 7]);
        for k in [0, 1, 63, 64, 65, 200] {
            assert_eq!(x.shl_ref(k).shr_ref(k), x, "k = {k}");
            let low = x.low_bits(k);
            assert_eq!(&(x.shr_ref(k).shl_ref(k)) + &low, x, "k = {k}");
        }
    }

    #[test]
    fn add_sub_carry_across_limbs() {
        let mut x = Nat::from_limbs(vec![u64::MAX, u64::MAX]);
        x.add_small(1);
        assert_eq!(x.limbs(), &[0, 0, 1]);
        x.sub_small(1);
        assert_eq!(x.limbs(), &[u64::MAX, u64::MAX]);
    }

    #[test]
    fn small_division() {
        let x = Nat::pow10(40);
        let (q, r) = x.div_rem_small(7);
        let mut back = q.clone();
        back.mul_small(7);
        back.add_small(r);
        assert_eq!(back, x);
        assert!(r < 7);
    }
}
