//! The reference digits of pi for every test: Machin's formula, pi = 16·arctan(1/5) −
//! 4·arctan(1/239), in plain integer fixed point, independent of the function's algorithms.
//! Included by path (`#[path]`) from the function's tests (`tests/digits.rs`) and the kit's
//! (`xtask/tests/support`), so there is one reference.

use num_bigint::{BigInt, BigUint};

/// The first `n` digits of pi by Machin's formula.
pub fn machin(n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let mut guard = 12;
    loop {
        if let Some(digits) = machin_attempt(n, guard) {
            return digits;
        }
        guard += 12;
    }
}

/// Each arctangent term is floored, so the sum is low by less than one unit per term, and the
/// dropped tail is below one unit: the total error is under 20·(terms + 2) units, far below
/// the 10^(guard − 3) margin demanded of the guard digits for any n up to millions.
fn machin_attempt(n: usize, guard: usize) -> Option<String> {
    let unit = BigUint::from(10u32).pow((n - 1 + guard) as u32);
    let x: BigInt = arctan_inverse(5, &unit) * 16u32 - arctan_inverse(239, &unit) * 4u32;
    let text = x.to_biguint().expect("pi is positive").to_str_radix(10);
    assert_eq!(text.len(), n + guard);
    let (head, tail) = text.split_at(n);
    let top = &tail[..3];
    (top != "000" && top != "999").then(|| head.to_string())
}

/// Σₖ (−1)ᵏ ⌊unit / x^(2k+1)⌋ / (2k+1), each term floored: arctan(1/x)·unit, a little low.
pub fn arctan_inverse(x: u32, unit: &BigUint) -> BigInt {
    let x_squared = x * x;
    let mut power = unit / x; // ⌊unit / x^(2k+1)⌋
    let mut sum = BigInt::from(0);
    let mut k: u32 = 0;
    while power.bits() > 0 {
        let term = BigInt::from(&power / (2 * k + 1));
        if k.is_multiple_of(2) {
            sum += term;
        } else {
            sum -= term;
        }
        power /= x_squared;
        k += 1;
    }
    sum
}
