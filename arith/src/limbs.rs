//! Operations on little-endian limb slices, the building blocks of everything else.

use std::cmp::Ordering;

/// `acc += b`, `acc.len() >= b.len()`; returns the carry out of `acc`.
pub fn add_assign(acc: &mut [u64], b: &[u64]) -> bool {
    debug_assert!(acc.len() >= b.len());
    let mut carry = false;
    let (low, high) = acc.split_at_mut(b.len());
    for (a, &b) in low.iter_mut().zip(b) {
        let (s, c1) = a.overflowing_add(b);
        let (s, c2) = s.overflowing_add(carry as u64);
        *a = s;
        carry = c1 | c2;
    }
    if carry {
        for a in high {
            let (s, c) = a.overflowing_add(1);
            *a = s;
            if !c {
                return false;
            }
        }
        return true;
    }
    false
}

/// `acc -= b`, `acc.len() >= b.len()`; returns the borrow out of `acc`.
pub fn sub_assign(acc: &mut [u64], b: &[u64]) -> bool {
    debug_assert!(acc.len() >= b.len());
    let mut borrow = false;
    let (low, high) = acc.split_at_mut(b.len());
    for (a, &b) in low.iter_mut().zip(b) {
        let (d, b1) = a.overflowing_sub(b);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        *a = d;
        borrow = b1 | b2;
    }
    if borrow {
        for a in high {
            let (d, b) = a.overflowing_sub(1);
            *a = d;
            if !b {
                return false;
            }
        }
        return true;
    }
    false
}

/// `acc += a · m` over `a.len()` limbs of `acc`; returns the limb carried out.
#[inline]
pub fn add_mul_1(acc: &mut [u64], a: &[u64], m: u64) -> u64 {
    debug_assert!(acc.len() >= a.len());
    let mut carry = 0u64;
    for (r, &x) in acc.iter_mut().zip(a) {
        let t = x as u128 * m as u128 + *r as u128 + carry as u128;
        *r = t as u64;
        carry = (t >> 64) as u64;
    }
    carry
}

/// `a *= m` in place; returns the limb carried out.
pub fn mul_1_assign(a: &mut [u64], m: u64) -> u64 {
    let mut carry = 0u64;
    for x in a.iter_mut() {
        let t = *x as u128 * m as u128 + carry as u128;
        *x = t as u64;
        carry = (t >> 64) as u64;
    }
    carry
}

/// Compares two normalised or equally long slices as numbers.
pub fn cmp(a: &[u64], b: &[u64]) -> Ordering {
    let a = trim(a);
    let b = trim(b);
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

/// `a` without its zero top limbs.
pub fn trim(a: &[u64]) -> &[u64] {
    let len = a.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    &a[..len]
}
