//! The plain BigInt transcription of the spigot, timed on its own:
//! `cargo run --release --example baseline -- 10000` prints one JSON line,
//! `{"algorithm":"baseline","digits":10000,"elapsed_ms":…,"sha256":"…"}`, where sha256 is
//! the hash of the digit string (`"31415…"`, ASCII, no point and no newline) — the same line
//! `node benches/spigot.js 10000` prints for the JavaScript transcription, and
//! `examples/pi_timing.rs` for the fast algorithms.

#[path = "../benches/support/baseline.rs"]
mod baseline;

use std::time::Instant;

use sha2::{Digest, Sha256};

fn main() {
    let n = match std::env::args()
        .nth(1)
        .as_deref()
        .map(calculate_pi::digit_string::parse_digit_string)
    {
        Some(Ok(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        _ => {
            eprintln!("usage: baseline <number of digits>");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let digits = baseline::digits(n);
    let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    let sha256: String = Sha256::digest(digits.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!(
        "{{\"algorithm\":\"baseline\",\"digits\":{},\"elapsed_ms\":{elapsed_ms:.3},\"sha256\":\"{sha256}\"}}",
        digits.len()
    );
}
