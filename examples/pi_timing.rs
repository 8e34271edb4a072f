//! Times algorithms: `pi_timing <algorithm>[,<algorithm>…] <n>` with algorithms baseline,
//! spigot and chudnovsky prints one JSON line per algorithm, run one after the other in this
//! process: the elapsed milliseconds, the number of digits, the first and last ten digits,
//! the sha256 of the digit string (as `examples/baseline.rs` and `benches/spigot.js` print it)
//! and the peak resident set size (VmHWM) of the process so far in KiB, where /proc has it.
//! `pi_timing baseline,spigot 10000` compares the plain transcription with the fast spigot
//! side by side; for the memory of one algorithm alone, time it alone.

#[path = "../benches/support/baseline.rs"]
mod baseline;

use std::time::Instant;

use calculate_pi::pi;
use sha2::{Digest, Sha256};

type Algorithm = fn(usize) -> String;

const USAGE: &str = "usage: pi_timing <baseline|spigot|chudnovsky>[,…] <n>";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [algorithms, n] = args.as_slice() else {
        fail("")
    };
    let n: usize = match calculate_pi::digit_string::parse_digit_string(n) {
        Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Err(_) => fail(": n must be a whole number"),
    };
    let runs: Vec<(&str, Algorithm)> = algorithms
        .split(',')
        .map(|name| {
            let compute: Algorithm = match name {
                "baseline" => baseline::digits,
                "spigot" => pi::spigot::digits,
                "chudnovsky" => pi::chudnovsky::digits,
                _ => fail(&format!(": unknown algorithm {name:?}")),
            };
            (name, compute)
        })
        .collect();
    for (name, compute) in runs {
        let start = Instant::now();
        let digits = compute(n);
        let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
        let first = &digits[..digits.len().min(10)];
        let last = &digits[digits.len().saturating_sub(10)..];
        let sha256: String = Sha256::digest(digits.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let peak_rss_kib = peak_rss_kib().map_or_else(|| "null".to_string(), |k| k.to_string());
        println!(
            "{{\"algorithm\":\"{name}\",\"digits\":{},\"elapsed_ms\":{elapsed_ms:.3},\"first\":\"{first}\",\"last\":\"{last}\",\"sha256\":\"{sha256}\",\"peak_rss_kib\":{peak_rss_kib}}}",
            digits.len()
        );
    }
}

fn fail(why: &str) -> ! {
    eprintln!("{USAGE}{why}");
    std::process::exit(2)
}

/// VmHWM from /proc/self/status: the peak resident set size of this process.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
