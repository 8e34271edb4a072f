//! The reference digits the tests check the function's answers against: Machin's formula, the
//! same file the function's own tests use (`tests/support/machin.rs` of the repository).

#[path = "../../../tests/support/machin.rs"]
mod machin;

/// The first `n` digits of pi, `"31415…"` (no decimal point).
pub fn pi_digits(n: usize) -> String {
    machin::machin(n)
}
