//! Every algorithm against the others and against an independent reference: Machin's formula
//! pi = 16·arctan(1/5) − 4·arctan(1/239) in plain integer fixed point (`support/machin.rs`,
//! which the kit's end-to-end tests check the function's answers against too).

#[path = "../benches/support/baseline.rs"]
mod baseline;
#[path = "support/machin.rs"]
mod machin;

use calculate_pi::pi::{self, Algorithm};
use machin::{arctan_inverse, machin};
use num_bigint::{BigInt, BigUint};
use num_traits::Signed;
use sha2::{Digest, Sha256};

/// SHA-256 of the first 1,000,000 digits of pi (`"31415…"`, no point) as FLINT (python-flint
/// 0.9.0, `arb.pi()`) and GMP/MPFR (gmpy2 2.3.2, MPFR 4.2.2, `const_pi()`) both give them,
/// each computed with 20 digits more and cut (`benches/anchors.py` checks the same in every
/// run). They end in …42209010610577945815.
const SHA256_OF_A_MILLION_DIGITS: &str =
    "387877db67fdddbde761c053c4376e0b411b10fd2b126fd8b1249963cb628877";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn machin_gives_the_well_known_first_digits() {
    assert_eq!(machin(1), "3");
    assert_eq!(
        machin(50),
        "31415926535897932384626433832795028841971693993751"
    );
}

#[test]
fn all_algorithms_agree_with_machin() {
    let reference = machin(10_000);
    for n in [1, 2, 3, 10, 100, 1000, 10_000] {
        let expected = &reference[..n];
        assert_eq!(pi::spigot::digits(n), expected, "spigot, n = {n}");
        assert_eq!(pi::chudnovsky::digits(n), expected, "chudnovsky, n = {n}");
        assert_eq!(pi::digits(Algorithm::Spigot, n), expected);
        assert_eq!(pi::digits(Algorithm::Chudnovsky, n), expected);
        if n <= 1000 {
            assert_eq!(baseline::digits(n), expected, "baseline, n = {n}");
        }
    }
}

#[test]
fn the_baseline_agrees_at_ten_thousand_digits() {
    // The slowest check (the plain transcription), kept to one run.
    assert_eq!(baseline::digits(10_000), pi::spigot::digits(10_000));
}

#[test]
fn chudnovsky_agrees_with_machin_at_a_hundred_thousand_digits() {
    let n = 100_000;
    assert_eq!(pi::chudnovsky::digits(n), machin(n));
}

#[test]
fn known_digit_windows() {
    // Checked against Machin's formula, the spigot and Chudnovsky (these tests), and
    // separately against Python's integers running Machin's formula.
    let digits = pi::chudnovsky::digits(10_000);
    assert_eq!(&digits[9_990..], "5525637567");
    assert_eq!(&digits[762..768], "999999"); // the Feynman point: 999999 from decimal 762
    let digits = pi::chudnovsky::digits(100_000);
    assert_eq!(&digits[99_990..], "5549362464");
}

#[test]
fn every_prefix_is_consistent() {
    // Each algorithm is exact, so a shorter request is a prefix of a longer one.
    let long = pi::chudnovsky::digits(5000);
    for n in [4999, 4321, 2048, 777] {
        assert_eq!(pi::chudnovsky::digits(n), long[..n]);
        assert_eq!(pi::spigot::digits(n), long[..n]);
    }
    assert!(long.bytes().all(|b| b.is_ascii_digit()));
}

#[test]
fn arctan_reference_is_sane() {
    // arctan(1/1000)·10^12 = 999999666.66…·10^0 (x − x³/3 + …); the floored sum is a little low.
    let value = arctan_inverse(1000, &BigUint::from(10u32).pow(12));
    assert!((value - BigInt::from(999_999_666u64)).abs() < BigInt::from(2));
}

#[test]
fn every_length_up_to_300_matches_the_baseline() {
    let reference = baseline::digits(300);
    for n in 1..=300 {
        assert_eq!(pi::spigot::digits(n), reference[..n], "n = {n}");
    }
}

#[test]
fn two_thousand_digits_match_the_baseline() {
    assert_eq!(pi::spigot::digits(2000), baseline::digits(2000));
}

/// The default workload at its default maximum: the spigot against Chudnovsky (itself checked
/// against Machin's formula at this size above).
#[test]
fn the_spigot_agrees_with_chudnovsky_at_its_maximum() {
    assert_eq!(pi::spigot::digits(100_000), pi::chudnovsky::digits(100_000));
}

/// A million digits against FLINT's and MPFR's, then shorter requests as prefixes of them:
/// around the decimal conversion's split points (256·2^j digits), where the series' merges
/// switch to the NTT (about 22,500 digits), and where a run of six 9s (the Feynman point at
/// decimal 762, another at 193,034) could hide a carry. About 3 s in a debug build.
#[test]
fn chudnovsky_matches_flint_and_mpfr_at_a_million_digits() {
    let digits = pi::chudnovsky::digits(1_000_000);
    assert_eq!(digits.len(), 1_000_000);
    assert_eq!(sha256(&digits), SHA256_OF_A_MILLION_DIGITS);
    assert_eq!(&digits[999_990..], "0577945815");
    let boundaries = [
        511, 512, 513, 1024, 1025, 2049, 4097, 65_537, 262_145, 22_000, 23_000, 763, 765, 768, 769,
        193_035, 193_040, 193_041,
    ];
    for n in boundaries {
        assert_eq!(pi::chudnovsky::digits(n), digits[..n], "n = {n}");
    }
}

/// Two threads compute the same million digits as one (the machine may have one core: the
/// threads then take turns, and the digits must not change).
#[test]
fn chudnovsky_on_two_threads_matches_one() {
    let digits = pi::chudnovsky::digits_with_threads(300_000, 2);
    assert_eq!(digits, pi::chudnovsky::digits_with_threads(300_000, 1));
}
