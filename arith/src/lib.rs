//! Big natural numbers, as fast as pure Rust on one core allows for calculate-pi's Chudnovsky
//! digits: from ten thousand to ten million digits.
//!
//! - [`Nat`]: a little-endian vector of 64-bit limbs, always normalised (no zero top limb).
//! - Multiplication ([`mul`]): schoolbook, then Karatsuba, then a number-theoretic transform
//!   over three 62-bit primes (exact, no floating point), each from a measured threshold.
//! - Division and square root ([`div`]): Newton iterations on the reciprocal and the inverse
//!   square root, made exact (floor) by a final check of the remainder.
//! - Decimal conversion ([`radix`]): of a binary fraction, divide and conquer with
//!   multiplications only, every split checked against the approximation's error bound.
//!
//! Everything here is exact integer arithmetic: the results are floors, never "close".

pub mod div;
mod limbs;
pub mod mul;
mod nat;
pub mod ntt;
pub mod radix;

pub use nat::Nat;
