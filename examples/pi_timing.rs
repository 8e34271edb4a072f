//! Times algorithms in-process: `pi_timing <algorithm>[,<algorithm>…] <n> [--runs R]
//! [--threads T]` with algorithms baseline, spigot and chudnovsky prints one JSON line per
//! algorithm, run one after the other in this process: the median elapsed milliseconds of R
//! runs (default 1) with their minimum, maximum and every run, the number of digits, the first
//! and last ten digits, the sha256 of the digit string (as `examples/baseline.rs` and
//! `benches/spigot.js` print it) and the peak resident set size (VmHWM) of the process so far
//! in KiB, where /proc has it. `--threads` sets Chudnovsky's threads (default: as the function
//! runs it, one per available CPU up to four).
//!
//! `pi_timing baseline,spigot 10000` compares the plain transcription with the fast spigot
//! side by side; `benches/anchors.py` runs `pi_timing chudnovsky N --runs R --threads 1`
//! beside FLINT and MPFR. For the memory of one algorithm alone, time it alone.
//!
//! Built for musl, this program uses the function's allocator (dlmalloc), so its figures are
//! the shipped bootstrap's computation without the Runtime API round trip.

#[path = "../benches/support/baseline.rs"]
mod baseline;

use std::time::Instant;

use calculate_pi::pi;
use sha2::{Digest, Sha256};

#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// An algorithm's digits for n.
type Compute = Box<dyn Fn(usize) -> String>;

const USAGE: &str =
    "usage: pi_timing <baseline|spigot|chudnovsky>[,…] <n> [--runs R] [--threads T]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (positional, options) = args.split_at(args.len().min(2));
    let [algorithms, n] = positional else {
        fail("")
    };
    let n: usize = match calculate_pi::digit_string::parse_digit_string(n) {
        Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Err(_) => fail(": n must be a whole number"),
    };
    let mut runs = 1usize;
    let mut threads: Option<usize> = None;
    let mut options = options.iter();
    while let Some(option) = options.next() {
        let value = options
            .next()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&v| v > 0);
        match (option.as_str(), value) {
            ("--runs", Some(v)) => runs = v,
            ("--threads", Some(v)) => threads = Some(v),
            _ => fail(&format!(": bad option {option:?} (or its value)")),
        }
    }
    let computations: Vec<(&str, Compute)> = algorithms
        .split(',')
        .map(|name| {
            let compute: Compute = match name {
                "baseline" => Box::new(baseline::digits),
                "spigot" => Box::new(pi::spigot::digits),
                "chudnovsky" => match threads {
                    Some(t) => Box::new(move |n| pi::chudnovsky::digits_with_threads(n, t)),
                    None => Box::new(pi::chudnovsky::digits),
                },
                _ => fail(&format!(": unknown algorithm {name:?}")),
            };
            (name, compute)
        })
        .collect();
    for (name, compute) in computations {
        let mut times = Vec::with_capacity(runs);
        let mut digits = String::new();
        for _ in 0..runs {
            let start = Instant::now();
            digits = compute(n);
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let all: Vec<String> = times.iter().map(|t| format!("{t:.3}")).collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let first = &digits[..digits.len().min(10)];
        let last = &digits[digits.len().saturating_sub(10)..];
        let sha256: String = Sha256::digest(digits.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let peak_rss_kib = peak_rss_kib().map_or_else(|| "null".to_string(), |k| k.to_string());
        let threads = match (name, threads) {
            ("chudnovsky", Some(t)) => t.to_string(),
            ("chudnovsky", None) => "null".to_string(),
            _ => "1".to_string(),
        };
        println!(
            "{{\"algorithm\":\"{name}\",\"digits\":{},\"threads\":{threads},\"runs\":{runs},\"elapsed_ms\":{median:.3},\"min_ms\":{:.3},\"max_ms\":{:.3},\"all_ms\":[{}],\"first\":\"{first}\",\"last\":\"{last}\",\"sha256\":\"{sha256}\",\"peak_rss_kib\":{peak_rss_kib}}}",
            digits.len(),
            times[0],
            times[times.len() - 1],
            all.join(","),
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
