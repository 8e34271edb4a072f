//! `cargo xtask bench-serve`: a bounded load on `serve` over loopback, separate from the CPU
//! benchmark (`bench`). For each concurrency (1, 4, 16 by default) it starts `serve
//! --concurrency N`, drives it with real boto3 clients from the test virtualenv (16 threads,
//! 2,000 invocations in all, each retried after a 429 until it is answered), and reports
//! throughput, p50/p99 latency, cold starts, 429s and the peak memory of `serve` and of its
//! sandboxes. It checks that every invocation was answered once, correctly: the digits against
//! Python's own computation, and each request id against exactly one REPORT line.
//! Writes the table to docs/bench/serve-load.md.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value;

use crate::repository;
use lambda_kit::emulator::memory;
use lambda_kit::emulator::report::parse_report;
use lambda_kit::emulator::FunctionCode;
use lambda_kit::pipeline::local::{require_linux_host, CodeArgs, RunArgs};

#[derive(Debug, Clone, Args)]
pub struct BenchServeArgs {
    #[command(flatten)]
    pub code: CodeArgs,
    /// The function's settings, passed on to every `serve` (its timeout, memory, environment,
    /// region and deadline header).
    #[command(flatten)]
    pub function: RunArgs,
    /// Invocations per concurrency level.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub invocations: u32,
    /// Concurrent clients (threads, each with its own boto3 client).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub clients: u32,
    /// The `serve --concurrency` levels to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [1u32, 4, 16])]
    pub concurrency: Vec<u32>,
    /// Where the table goes.
    #[arg(long, default_value = "docs/bench/serve-load.md")]
    pub output: PathBuf,
}

/// The load: clients take invocation numbers from a shared counter; invocation i asks for
/// 200 + 8·(i mod 100) digits, checked against pi computed here with Machin's formula.
const DRIVER: &str = r#"
import json, sys, threading, time, random, boto3
from botocore.config import Config
url, total, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def pi_digits(n):
    unity = 10 ** (n + 10)
    def atan_inv(x):
        total = term = unity // x; k = 1; sign = -1
        while term:
            term //= x * x
            total += sign * (term // (2 * k + 1)); sign = -sign; k += 1
        return total
    return str(4 * (4 * atan_inv(5) - atan_inv(239)))[:n]
reference = pi_digits(1000)
config = Config(retries={"total_max_attempts": 1}, read_timeout=120, max_pool_connections=4)
lock = threading.Lock()
state = {"next": 0, "throttled": 0, "latencies": [], "ids": [], "wrong": [], "failed": []}
deadline = time.monotonic() + 600
def worker():
    client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing", config=config)
    while True:
        with lock:
            i = state["next"]
            if i >= total:
                return
            state["next"] += 1
        digits = 200 + 8 * (i % 100)
        payload = json.dumps({"digits": str(digits)}).encode()
        for attempt in range(100000):
            if time.monotonic() > deadline:
                with lock: state["failed"].append([i, "deadline"])
                return
            started = time.perf_counter()
            try:
                got = client.invoke(FunctionName="calculate-pi", Payload=payload)
            except client.exceptions.TooManyRequestsException:
                with lock: state["throttled"] += 1
                time.sleep(random.uniform(0.001, 0.005))
                continue
            except Exception as e:
                with lock: state["failed"].append([i, repr(e)])
                break
            latency = (time.perf_counter() - started) * 1000
            body = json.loads(got["Payload"].read())
            ok = got.get("FunctionError") is None and body.get("pi", "").replace(".", "") == reference[:digits]
            with lock:
                state["latencies"].append(latency)
                state["ids"].append(got["ResponseMetadata"]["RequestId"])
                if not ok: state["wrong"].append([i, str(body)[:200]])
            break
began = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
state["elapsed_s"] = time.perf_counter() - began
print(json.dumps(state))
"#;

struct Row {
    concurrency: u32,
    answered: usize,
    throughput: f64,
    p50_ms: f64,
    p99_ms: f64,
    cold_starts: usize,
    throttled: u64,
    serve_peak_mb: f64,
    sandboxes_peak_mb: f64,
}

pub fn run(args: &BenchServeArgs) -> Result<()> {
    require_linux_host("bench-serve")?;
    let python = repository::Venv::Test.program("python")?;
    let local = args.code.resolve(&args.function.settings, "bench-serve")?;
    // Every `serve` runs the code resolved here, as the same function with the same settings.
    let mut serve_args: Vec<std::ffi::OsString> = match &local.code {
        FunctionCode::Zip(zip) => vec!["--zip".into(), zip.clone().into()],
        FunctionCode::Bootstrap(path) => vec!["--bootstrap".into(), path.clone().into()],
    };
    serve_args.extend(args.code.function.to_args());
    serve_args.extend(args.function.to_args());
    let mut rows = Vec::new();
    for &concurrency in &args.concurrency {
        eprintln!(
            "bench-serve: concurrency {concurrency}: {} invocations from {} clients",
            args.invocations, args.clients
        );
        rows.push(measure(&python, &serve_args, concurrency, args)?);
    }
    let table = render(&rows, args);
    print!("{table}");
    if let Some(parent) = args.output.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&args.output, &table)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!("Wrote {}", args.output.display());
    Ok(())
}

fn measure(
    python: &std::path::Path,
    serve_args: &[std::ffi::OsString],
    concurrency: u32,
    args: &BenchServeArgs,
) -> Result<Row> {
    let exe = std::env::current_exe().context("finding the xtask executable")?;
    let mut serve = Command::new(exe)
        .args(["serve", "--port", "0", "--idle-timeout", "600"])
        .args(["--concurrency", &concurrency.to_string()])
        .args(serve_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting serve")?;
    let pid = serve.id();
    let stdout = serve.stdout.take().context("serve's stdout")?;
    let stderr = serve.stderr.take().context("serve's stderr")?;
    let reports = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let reports = Arc::clone(&reports);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(report) = parse_report(&line) {
                    reports.lock().unwrap().push(report);
                }
            }
        })
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .context("serve printed nothing")?
        .context("reading serve's output")?;
    let url = first
        .strip_prefix("Listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .with_context(|| format!("unexpected first line from serve: {first:?}"))?
        .to_string();

    // Peak resident memory: serve's own (VmHWM), and the sandboxes' (the process tree minus
    // serve, sampled every 20 ms).
    let stop = Arc::new(AtomicBool::new(false));
    let sandboxes_peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let stop = Arc::clone(&stop);
        let peak = Arc::clone(&sandboxes_peak);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let (Some(tree), Some(own)) = (memory::tree_resident(pid), own_resident(pid)) {
                    peak.fetch_max(tree.current.saturating_sub(own.current), Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let started = Instant::now();
    let driver = Command::new(python)
        .args(["-c", DRIVER, &url])
        .args([args.invocations.to_string(), args.clients.to_string()])
        .env_clear()
        .output()
        .context("running the boto3 load driver")?;
    let wall = started.elapsed();
    let serve_peak = own_resident(pid).map_or(0, |r| r.peak);
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    // Ctrl-C, so that serve shuts its sandboxes down (the task runs on Linux only, see run).
    #[cfg(unix)]
    // SAFETY: kill(2) on serve's pid, which is our child and not yet reaped.
    unsafe {
        libc::kill(pid as i32, libc::SIGINT);
    }
    #[cfg(not(unix))]
    let _ = serve.kill();
    let status = serve.wait().context("waiting for serve")?;
    let _ = reader.join();
    if !driver.status.success() {
        bail!(
            "the load driver failed: {}",
            String::from_utf8_lossy(&driver.stderr)
        );
    }
    if !status.success() {
        bail!("serve ended with {status}");
    }
    let state: Value =
        serde_json::from_slice(&driver.stdout).context("reading the driver's results")?;
    let mut latencies: Vec<f64> = state["latencies"]
        .as_array()
        .context("no latencies")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let ids: Vec<&str> = state["ids"]
        .as_array()
        .context("no request ids")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let reports = reports.lock().unwrap().clone();
    let expected = args.invocations as usize;
    let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
    let reported: std::collections::HashSet<&str> =
        reports.iter().map(|r| r.request_id.as_str()).collect();
    let checks = [
        (
            ids.len() == expected,
            format!("{} of {expected} answered", ids.len()),
        ),
        (
            unique.len() == ids.len(),
            "a request id answered twice".to_string(),
        ),
        (
            reports.len() == expected && reported == unique,
            format!("{} REPORT lines for {} answers", reports.len(), ids.len()),
        ),
        (
            state["wrong"].as_array().is_some_and(Vec::is_empty),
            format!("wrong answers: {}", state["wrong"]),
        ),
        (
            state["failed"].as_array().is_some_and(Vec::is_empty),
            format!("failed requests: {}", state["failed"]),
        ),
    ];
    for (ok, what) in &checks {
        if !ok {
            bail!("concurrency {concurrency}: {what}");
        }
    }
    let elapsed = state["elapsed_s"].as_f64().unwrap_or(wall.as_secs_f64());
    Ok(Row {
        concurrency,
        answered: ids.len(),
        throughput: ids.len() as f64 / elapsed,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        cold_starts: reports
            .iter()
            .filter(|r| r.init_duration_ms.is_some())
            .count(),
        throttled: state["throttled"].as_u64().unwrap_or(0),
        serve_peak_mb: serve_peak as f64 / 1_048_576.0,
        sandboxes_peak_mb: sandboxes_peak.load(Ordering::Relaxed) as f64 / 1_048_576.0,
    })
}

fn own_resident(pid: u32) -> Option<memory::Resident> {
    memory::parse_status(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn render(rows: &[Row], args: &BenchServeArgs) -> String {
    let mut text = String::from(
        "# `serve` under load\n\n\
         Written by `cargo xtask bench-serve`: a bounded load over loopback, not a timed test. \
         Each row starts `cargo xtask serve --concurrency N` on the x86_64 zip and sends it \
         the invocations from concurrent boto3 clients (threads of one Python process, \
         retries off); a client refused with 429 `TooManyRequestsException` tries the same \
         invocation again after 1 to 5 ms, so every invocation is eventually answered. \
         Invocation i asks for 200 + 8·(i mod 100) digits. `serve` runs as `cargo xtask` \
         builds it (the dev profile); the function is the release zip.\n\n\
         Every row passed the checks: each invocation answered exactly once (its request id \
         in exactly one REPORT line of `serve`), every answer's digits equal to Python's own \
         computation of pi.\n\n",
    );
    text.push_str(&format!(
        "{} invocations per row, {} clients. Latency: one successful HTTP round trip as \
         boto3 sees it. Memory: peak resident set of `serve` itself (VmHWM), and the highest \
         sampled total of its sandboxes' processes.\n\n",
        args.invocations, args.clients
    ));
    text.push_str(
        "| concurrency | answered | throughput (inv/s) | p50 (ms) | p99 (ms) | cold starts | 429s | serve peak (MB) | sandboxes peak (MB) |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        text.push_str(&format!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {} | {} | {:.1} | {:.1} |\n",
            row.concurrency,
            row.answered,
            row.throughput,
            row.p50_ms,
            row.p99_ms,
            row.cold_starts,
            row.throttled,
            row.serve_peak_mb,
            row.sandboxes_peak_mb
        ));
    }
    text.push_str(
        "\nThe clients are Python threads sharing one interpreter lock, on the same (shared, \
         2-core) machine as `serve`: throughput is bounded by the clients as much as by the \
         emulator. With fewer environments than clients, most attempts are refused (the 429s \
         column), as Lambda throttles a function at its reserved concurrency.\n",
    );
    text
}
