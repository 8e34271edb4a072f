#!/usr/bin/env python3
"""Chudnovsky digits side by side with the best libraries, in one run.

    .venv/bin/python benches/anchors.py --rust target/x86_64-unknown-linux-musl/release/examples/pi_timing

times, for each number of digits, the function's Chudnovsky in-process (`examples/pi_timing.rs`,
built for musl as shipped, with dlmalloc) on 1 and 2 threads, FLINT (python-flint: `arb.pi()`
at the matching precision plus its conversion to a decimal string) and GMP/MPFR (gmpy2:
`const_pi()` plus `digits(10, n)`), each in a fresh process, with the median of --runs runs,
their range, the peak resident memory of that process, and the ratios of the Rust figures to
FLINT's and MPFR's single-threaded ones. Every library's digits are checked against the Rust
digits' sha256 (FLINT and MPFR round the last digit, so they compute a few more, untimed).

`--check-sizes` instead compares the Rust digits, on 1 and 2 threads, with FLINT's at sizes around
every split and threshold (and some random ones) up to 1,100,000 digits: a correctness sweep,
about 15 s.

Both caches are emptied before each run (`flint.ctx.cleanup()`, `gmpy2.free_cache()`): FLINT
and MPFR keep pi once computed. Prints a table, or JSON lines with --json (one per program and
size) for `cargo xtask bench`. The machine may be shared: compare the ratios of one run.
"""

import argparse
import hashlib
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time


def bits_for(n):
    return int(n * math.log2(10)) + 64


def flint_digits(n, extra=0):
    import flint

    flint.ctx.prec = bits_for(n + extra)
    text = flint.arb.pi().str(n + extra, radius=False)
    return text.replace(".", "")


def mpfr_digits(n, extra=0):
    import gmpy2

    gmpy2.get_context().precision = bits_for(n + extra)
    mantissa, _exponent, _precision = gmpy2.const_pi().digits(10, n + extra)
    return mantissa


def worker(library, n, runs, threads):
    """One library at one size, in this (fresh) process: prints one JSON line."""
    if library == "flint":
        import flint

        flint.ctx.threads = threads

        def clear():
            flint.ctx.cleanup()
            flint.ctx.threads = threads

        compute = flint_digits
    elif library == "mpfr":
        import gmpy2

        clear = gmpy2.free_cache
        compute = mpfr_digits
    else:
        raise SystemExit(f"unknown library {library!r}")
    times = []
    for _ in range(runs):
        clear()
        start = time.perf_counter()
        compute(n)
        times.append((time.perf_counter() - start) * 1e3)
    # The check, untimed: a few more digits so that rounding cannot reach the first n.
    clear()
    digits = compute(n, extra=12)[:n]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "program": library,
                "digits": n,
                "threads": threads,
                "runs": runs,
                "elapsed_ms": statistics.median(times),
                "min_ms": min(times),
                "max_ms": max(times),
                "sha256": hashlib.sha256(digits.encode()).hexdigest(),
                "peak_rss_kib": peak_kib,
            }
        )
    )


def run_json(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def library(name, n, runs, threads):
    return run_json([sys.executable, __file__, "worker", name, str(n), str(runs), str(threads)])


def rust(binary, n, runs, threads):
    line = run_json([binary, "chudnovsky", str(n), "--runs", str(runs), "--threads", str(threads)])
    line["program"] = "rust"
    return line


def check_sizes(binary):
    """The Rust digits at many sizes against one FLINT computation: prints and exits non-zero on
    any difference."""
    import random

    top = 1_100_000
    reference = flint_digits(top, extra=30)[:top]
    random.seed(7)
    edges = [1, 2, 3, 18, 19, 20, 37, 38, 511, 512, 513, 767, 768, 769, 1023, 1024, 1025]
    edges += [2047, 2048, 2049, 22_000, 22_500, 23_000, 65_536, 65_537, 131_071, 131_072]
    edges += [131_073, 262_144, 262_145, 524_288, 524_289, 1_048_576, 1_048_577]
    sizes = sorted(set(edges + [random.randint(1, top) for _ in range(25)]))
    bad = []
    for n in sizes:
        expected = hashlib.sha256(reference[:n].encode()).hexdigest()
        for threads in (1, 2):
            if rust(binary, n, 1, threads)["sha256"] != expected:
                bad.append(f"{n} digits on {threads} thread(s)")
    print(f"{len(sizes)} sizes × 2 thread counts checked against FLINT, {len(bad)} different")
    if bad:
        print("different: " + "; ".join(bad), file=sys.stderr)
        sys.exit(1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, name, n, runs, threads = sys.argv
        worker(name, int(n), int(runs), int(threads))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rust", required=True, help="the pi_timing executable (musl release)")
    parser.add_argument("--digits", default="10000,100000,1000000,10000000")
    parser.add_argument("--runs", type=int, default=5, help="runs per program and size")
    parser.add_argument(
        "--big-runs", type=int, default=3, help="runs at 10,000,000 digits and above"
    )
    parser.add_argument("--threads", default="1,2", help="Rust thread counts to time")
    parser.add_argument("--flint-threads", default="1", help="FLINT thread counts to time")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    parser.add_argument(
        "--check-sizes", action="store_true", help="a correctness sweep instead of timings"
    )
    args = parser.parse_args()
    if not os.access(args.rust, os.X_OK):
        raise SystemExit(f"{args.rust}: not an executable (build examples/pi_timing.rs first)")
    if args.check_sizes:
        check_sizes(args.rust)
        return

    rows = []
    failures = []
    for n in [int(d.replace("_", "")) for d in args.digits.split(",")]:
        runs = args.big_runs if n >= 10_000_000 else args.runs
        results = []
        for threads in [int(t) for t in args.threads.split(",")]:
            results.append(rust(args.rust, n, runs, threads))
        for threads in [int(t) for t in args.flint_threads.split(",")]:
            results.append(library("flint", n, runs, threads))
        results.append(library("mpfr", n, runs, 1))
        reference = results[0]["sha256"]
        for r in results:
            if r["sha256"] != reference:
                failures.append(f"{r['program']} ({r['threads']} threads), {n} digits")
        flint_1 = next(r for r in results if r["program"] == "flint" and r["threads"] == 1)
        mpfr_1 = next(r for r in results if r["program"] == "mpfr")
        for r in results:
            r["vs_flint"] = r["elapsed_ms"] / flint_1["elapsed_ms"]
            r["vs_mpfr"] = r["elapsed_ms"] / mpfr_1["elapsed_ms"]
        rows.extend(results)

    if args.json:
        for r in rows:
            print(json.dumps({k: v for k, v in r.items() if k not in ("first", "last")}))
    else:
        print(
            "| digits | program | threads | runs | time (ms): median (min–max) "
            "| ÷ FLINT (1 thread) | ÷ MPFR | peak RSS (MB) |"
        )
        print("| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |")
        names = {"rust": "Rust Chudnovsky (musl, dlmalloc)", "flint": "FLINT arb", "mpfr": "MPFR"}
        for r in rows:
            print(
                f"| {r['digits']:,} | {names[r['program']]} | {r['threads']} | {r['runs']} "
                f"| {fmt(r['elapsed_ms'])} ({fmt(r['min_ms'])}–{fmt(r['max_ms'])}) "
                f"| {r['vs_flint']:.2f}× | {r['vs_mpfr']:.2f}× "
                f"| {r['peak_rss_kib'] / 1024:.1f} |"
            )
        load = os.getloadavg()
        print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if failures:
        print("digits differ from the Rust digits: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


def fmt(ms):
    return f"{ms:.3g}" if ms < 10 else f"{ms:.0f}"


if __name__ == "__main__":
    main()
