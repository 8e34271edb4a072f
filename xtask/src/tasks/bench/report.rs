//! The benchmark's tables, as Markdown, from a [`BenchResults`]: pure, so that the targets'
//! met/missed logic and the ratios are unit-tested without running anything.

use std::fmt::Write as _;

use super::results::{BenchResults, FunctionRuns, ProgramKind};
use super::stats::{self, Summary};

/// The digit count the issue's figures and most targets are quoted for.
pub const BENCHMARK_DIGITS: u64 = 10_000;
/// The larger Chudnovsky target.
pub const CHUDNOVSKY_LARGE_DIGITS: u64 = 1_000_000;

/// Chudnovsky's time over FLINT's, at most (the target) and the goal beyond it.
pub const CHUDNOVSKY_VS_FLINT: f64 = 3.0;
pub const CHUDNOVSKY_VS_FLINT_GOAL: f64 = 1.5;

/// What users measured on a 128 MB Lambda for 10,000 digits (the issue's figures).
pub const USERS_X86_64: &str = "≈ 5.4 s";
pub const USERS_ARM64: &str = "≈ 11 s";
pub const USERS_INIT: &str = "17–22 ms";
pub const USERS_MEMORY: &str = "12–16 MB";
pub const USERS_NODE: &str = "≈ 24 s";

/// Where README.md's copy of the report begins and ends (`cargo xtask bench --update-readme`).
pub const README_START: &str = "<!-- bench-report:start -->";
pub const README_END: &str = "<!-- bench-report:end -->";

/// A target's bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Met,
    /// How far off, in words: "2.8× short (28 %)".
    Missed(String),
    /// Why there is no figure.
    NotMeasured(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub goal: Goal,
    /// The figure, in `unit`.
    pub measured: Option<f64>,
    pub unit: &'static str,
    pub status: Status,
}

/// Met or missed, and by how much.
pub fn judge(goal: Goal, measured: f64, unit: &str) -> Status {
    match goal {
        Goal::AtLeast(bound) if measured >= bound => Status::Met,
        Goal::AtMost(bound) if measured <= bound => Status::Met,
        Goal::AtLeast(bound) => Status::Missed(format!(
            "{} short ({:.0} % below {})",
            number(bound - measured, unit),
            (bound - measured) / bound * 100.0,
            number(bound, unit)
        )),
        Goal::AtMost(bound) => Status::Missed(format!(
            "{} over ({:.0} % above {})",
            number(measured - bound, unit),
            (measured - bound) / bound * 100.0,
            number(bound, unit)
        )),
    }
}

/// "12.3×", "2.41 ms", "8 MB".
fn number(value: f64, unit: &str) -> String {
    match unit {
        "×" => format!("{}×", ratio_text(value)),
        "MB" => format!("{value:.0} MB"),
        _ => format!("{} {unit}", ms_text(value)),
    }
}

/// Milliseconds with sensible precision: 2 decimals under 10, 1 under 1000, none above.
pub fn ms_text(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 1000.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

pub fn ratio_text(ratio: f64) -> String {
    if ratio < 10.0 {
        format!("{ratio:.2}")
    } else {
        format!("{ratio:.1}")
    }
}

fn ms_summary(summary: Option<Summary>) -> String {
    match summary {
        None => "–".to_string(),
        Some(s) if s.count == 1 => ms_text(s.median),
        Some(s) => format!(
            "{} ({}–{})",
            ms_text(s.median),
            ms_text(s.min),
            ms_text(s.max)
        ),
    }
}

/// "1_000_000": digit counts as the benchmark event writes them.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, c) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// "10,000" for prose.
pub fn with_commas(n: u64) -> String {
    grouped(n).replace('_', ",")
}

/// The measured ratios: how many times faster the x86_64 function (warm Duration median) is
/// than each program timed beside it.
pub fn ratio_to_function(results: &BenchResults, kind: ProgramKind) -> Option<f64> {
    let function = results.function("x86_64")?.warm_summary();
    stats::ratio(results.program(kind)?.summary(), function)
}

fn function_x86_64(results: &BenchResults) -> Option<&FunctionRuns> {
    results.function("x86_64")
}

/// Every target of the issue, judged from this run's figures.
pub fn targets(results: &BenchResults) -> Vec<Target> {
    let digits = results.settings.digits;
    let at_benchmark = digits == BENCHMARK_DIGITS;
    let not_benchmark = || {
        format!(
            "not measured: this run computed {} digits, the target is for 10,000",
            with_commas(digits)
        )
    };
    let x86 = function_x86_64(results);
    let no_x86 = "not measured: the x86_64 function was not run".to_string();

    let mut list = Vec::new();
    let mut push = |name: String, goal: Goal, unit: &'static str, figure: Result<f64, String>| {
        let (measured, status) = match figure {
            Ok(value) => (Some(value), judge(goal, value, unit)),
            Err(why) => (None, Status::NotMeasured(why)),
        };
        list.push(Target {
            name,
            goal,
            measured,
            unit,
            status,
        });
    };

    for (kind, bound) in [
        (ProgramKind::BaselineGlibc, 10.0),
        (ProgramKind::BaselineMusl, 50.0),
    ] {
        let libc = if kind == ProgramKind::BaselineGlibc {
            "glibc"
        } else {
            "musl"
        };
        let figure = if !at_benchmark {
            Err(not_benchmark())
        } else if x86.is_none() {
            Err(no_x86.clone())
        } else {
            ratio_to_function(results, kind)
                .ok_or_else(|| format!("not measured: the {libc} baseline was not run"))
        };
        push(
            format!(
                "spigot, 10,000 digits, x86_64 bootstrap: ≥ {bound:.0}× faster than the \
                 baseline built for {libc}"
            ),
            Goal::AtLeast(bound),
            "×",
            figure,
        );
    }

    // Chudnovsky against the best library, as a ratio (absolute times depend on the host).
    for chudnovsky_digits in [BENCHMARK_DIGITS, CHUDNOVSKY_LARGE_DIGITS] {
        let figure = match results.anchors_at(chudnovsky_digits) {
            Some(anchors) => anchors
                .ratio_to(ProgramKind::Flint)
                .ok_or_else(|| "not measured: no runs".to_string()),
            None => Err(format!(
                "not measured: this run put Chudnovsky beside FLINT at {}",
                if results.anchors.is_empty() {
                    "no digit count".to_string()
                } else {
                    results
                        .anchors
                        .iter()
                        .map(|a| format!("{} digits", with_commas(a.digits)))
                        .collect::<Vec<_>>()
                        .join(" and ")
                }
            )),
        };
        push(
            format!(
                "Chudnovsky, {} digits, in-process on one thread: ≤ {CHUDNOVSKY_VS_FLINT:.0}× \
                 FLINT's time, decimal string included (median ÷ median; goal \
                 {CHUDNOVSKY_VS_FLINT_GOAL}×)",
                with_commas(chudnovsky_digits)
            ),
            Goal::AtMost(CHUDNOVSKY_VS_FLINT),
            "×",
            figure,
        );
    }

    let init = match x86 {
        None => Err(no_x86.clone()),
        Some(runs) => runs
            .init_summary()
            .map(|s| s.median)
            .ok_or_else(|| "not measured: no cold starts (--cold 0)".to_string()),
    };
    push(
        "cold start, x86_64: process start to the first `next` ≤ 3 ms (Init Duration, median)"
            .to_string(),
        Goal::AtMost(3.0),
        "ms",
        init,
    );

    let memory = match x86 {
        None => Err(no_x86),
        Some(_) if !at_benchmark => Err(not_benchmark()),
        Some(runs) => runs
            .max_memory_used_mb()
            .map(|mb| mb as f64)
            .ok_or_else(|| "not measured: no invocations".to_string()),
    };
    push(
        "Max Memory Used ≤ 8 MB, 10,000 spigot digits, x86_64 (highest of all invocations)"
            .to_string(),
        Goal::AtMost(8.0),
        "MB",
        memory,
    );
    list
}

/// For each missed target, what else this run measured that bears on it (the order of
/// [`targets`]: spigot glibc, spigot musl, Chudnovsky 10,000, Chudnovsky large, cold start,
/// memory).
pub fn miss_hints(results: &BenchResults, list: &[Target]) -> Vec<String> {
    let missed =
        |index: usize| matches!(list.get(index), Some(t) if matches!(t.status, Status::Missed(_)));
    let x86 = function_x86_64(results);
    let fixed_cost = x86.and_then(|f| stats::summarize(&f.one_digit_ms));
    let mut hints = Vec::new();
    if (missed(0) || missed(1) || missed(2) || missed(3)) && fixed_cost.is_some() {
        if let Some(cost) = fixed_cost {
            hints.push(format!(
                "Every Duration includes the fixed cost of an invocation, {} ms here (median \
                 Duration of `{{\"digits\": \"1\"}}`).",
                ms_text(cost.median)
            ));
        }
    }
    for index in [2, 3] {
        if !missed(index) {
            continue;
        }
        let digits = [BENCHMARK_DIGITS, CHUDNOVSKY_LARGE_DIGITS][index - 2];
        if let Some(mpfr) = results
            .anchors_at(digits)
            .and_then(|a| a.ratio_to(ProgramKind::Mpfr))
        {
            hints.push(format!(
                "Chudnovsky, {} digits: {}× GMP/MPFR's time in the same run; the machine may \
                 have been busy (read the min–max ranges in the anchors' table).",
                with_commas(digits),
                ratio_text(mpfr)
            ));
        }
    }
    if missed(4) {
        if let Some(init) = x86.and_then(|f| f.init_summary()) {
            hints.push(format!(
                "Cold start: the {} Init Durations ranged from {} to {} ms, with a load average \
                 of {} on {} CPUs at the start; a median of few cold starts on a busy machine \
                 moves from run to run (`--cold` takes more).",
                init.count,
                ms_text(init.min),
                ms_text(init.max),
                results.machine.load_start.as_deref().unwrap_or("unknown"),
                results.machine.cpus
            ));
        }
    }
    hints
}

fn status_text(status: &Status) -> String {
    match status {
        Status::Met => "met".to_string(),
        Status::Missed(by) => format!("**missed**: {by}"),
        Status::NotMeasured(why) => why.clone(),
    }
}

fn measured_text(target: &Target) -> String {
    match target.measured {
        Some(value) => number(value, target.unit),
        None => "–".to_string(),
    }
}

/// The whole report. `charts` is the folder the SVGs are linked from, relative to where the
/// Markdown will live ("" for beside it).
/// The report in Markdown: one small function per section, each reading the run's data.
pub fn render(results: &BenchResults, charts: &str) -> String {
    let mut md = String::new();
    how_made(results, &mut md);
    summary(results, &mut md);
    targets_table(results, &mut md);
    side_by_side(results, &mut md);
    chudnovsky(results, &mut md);
    anchors_table(results, &mut md);
    every_invocation(results, &mut md);
    charts_section(charts, &mut md);
    notes(results, &mut md);
    md
}

/// How this run was made.
fn how_made(results: &BenchResults, md: &mut String) {
    let s = &results.settings;
    let m = &results.machine;
    let digits = with_commas(s.digits);
    let _ = writeln!(md, "### How this run was made\n");
    let commit = match (&m.commit, m.dirty) {
        (Some(c), Some(true)) => format!("commit `{c}` plus uncommitted changes"),
        (Some(c), _) => format!("commit `{c}`"),
        (None, _) => "an unknown commit".to_string(),
    };
    let _ = writeln!(
        md,
        "`{}`, started {}, {commit}, took {:.0} s.  ",
        s.command, m.started, m.elapsed_s
    );
    let _ = writeln!(
        md,
        "Machine: {}, {} CPUs, shared with other work: load average (1, 5, 15 min) {} at the \
         start and {} at the end. On a noisy machine read the ratios between figures of this \
         same run, not the absolute times.  ",
        m.cpu_model.as_deref().unwrap_or("unknown CPU"),
        m.cpus,
        m.load_start.as_deref().unwrap_or("unknown"),
        m.load_end.as_deref().unwrap_or("unknown"),
    );
    let _ = writeln!(
        md,
        "Function: event `{}`, memory {} MB, timeout {} s, run by the Runtime API emulator \
         (figures as `cargo xtask invoke` reports them): {} cold start(s), each a new process, \
         then {} warm invocation(s) in a row in the last one.  ",
        s.payload, s.memory_size_mb, s.timeout_s, s.cold, s.warm
    );
    match &results.reference_sha256 {
        Some(sha) => {
            let _ = writeln!(
                md,
                "Every response was checked: the sha256 of its {digits} digits is `{sha}`, \
                 the same as the baseline's, node's and every configuration's in this run."
            );
        }
        None => {
            let _ = writeln!(md, "No reference digits: the baseline was not run.");
        }
    }
}

/// The function at the benchmark's digits.
fn summary(results: &BenchResults, md: &mut String) {
    let s = &results.settings;
    let digits = with_commas(s.digits);
    let _ = writeln!(md, "\n### The function, {digits} digits\n");
    let _ = writeln!(
        md,
        "| configuration | Duration, warm (ms): median (min–max) | Init Duration (ms): median \
         (min–max) | Max Memory Used (MB) | 1-digit invocation, warm (ms) ‡ | users' figures, \
         Lambda 128 MB |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- |");
    for runs in &results.functions {
        let users = match runs.arch.as_str() {
            "x86_64" => format!("{USERS_X86_64}, init {USERS_INIT}, {USERS_MEMORY}"),
            "arm64" => format!("{USERS_ARM64} (Graviton), {USERS_MEMORY}"),
            _ => String::new(),
        };
        let label = if runs.emulated_by.is_some() {
            format!("{} †", runs.label())
        } else {
            format!("{} (native)", runs.label())
        };
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} | {} | {} |",
            ms_summary(runs.warm_summary()),
            ms_summary(runs.init_summary()),
            runs.max_memory_used_mb()
                .map_or_else(|| "–".to_string(), |mb| mb.to_string()),
            ms_summary(stats::summarize(&runs.one_digit_ms)),
            if s.digits == BENCHMARK_DIGITS {
                users
            } else {
                "(quoted for 10,000 digits)".to_string()
            }
        );
    }
    let _ = writeln!(
        md,
        "\n‡ `{{\"digits\": \"1\"}}`, after the others: the fixed cost of an invocation here \
         (the Runtime API round trip through the emulator, JSON), included in every Duration."
    );
    if let Some(emulated) = results.functions.iter().find(|f| f.emulated_by.is_some()) {
        let _ = writeln!(
            md,
            "\n† **Emulated, not Graviton**: the {} bootstrap ran under {} (user-mode \
             emulation) on this x86_64 machine. Its figures measure the emulator's overhead on \
             top of the code; they say nothing about arm64 Lambda's speed, and its memory \
             includes the emulator's.",
            emulated.arch,
            emulated.emulated_by.as_deref().unwrap_or("an emulator")
        );
    }
}

/// The targets and whether they were met.
fn targets_table(results: &BenchResults, md: &mut String) {
    let _ = writeln!(md, "\n### Targets\n");
    let _ = writeln!(md, "| target | measured | result |");
    let _ = writeln!(md, "| --- | --- | --- |");
    let list = targets(results);
    for target in &list {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            target.name,
            measured_text(target),
            status_text(&target.status)
        );
    }
    let hints = miss_hints(results, &list);
    if !hints.is_empty() {
        let _ = writeln!(md, "\nWhat this run's own figures say about the misses:\n");
        for hint in hints {
            let _ = writeln!(md, "- {hint}");
        }
    }
}

/// README.md's benchmark summary: the targets of this run in one table, and where the whole
/// report is.
pub fn readme_summary(results: &BenchResults) -> String {
    let m = &results.machine;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "From `{}` ({}, {} CPUs, shared: read the ratios), started {}:",
        results.settings.command,
        m.cpu_model.as_deref().unwrap_or("unknown CPU"),
        m.cpus,
        m.started
    );
    targets_table(results, &mut md);
    anchors_table(results, &mut md);
    let _ = writeln!(
        md,
        "\nThe whole report, with every invocation, the baselines side by side and the charts: \
         [docs/bench/report.md](docs/bench/report.md)."
    );
    md
}

/// The function beside the baselines and node, same run.
fn side_by_side(results: &BenchResults, md: &mut String) {
    let s = &results.settings;
    let digits = with_commas(s.digits);
    let _ = writeln!(md, "\n### Side by side, same run, {digits} digits\n");
    let _ = writeln!(
        md,
        "| program | runs | time (ms): median (min–max) | x86_64 function is this many times \
         faster | peak RSS (MB) |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- |");
    if let Some(x86) = function_x86_64(results) {
        let _ = writeln!(
            md,
            "| the function, x86_64 bootstrap (warm Duration, through the Runtime API) | {} | {} \
             | (reference) | {} |",
            x86.warm.len(),
            ms_summary(x86.warm_summary()),
            x86.max_memory_used_mb()
                .map_or_else(|| "–".to_string(), |mb| mb.to_string()),
        );
    }
    for program in &results.programs {
        let ratio = ratio_to_function(results, program.kind)
            .map_or_else(|| "–".to_string(), |r| format!("{}×", ratio_text(r)));
        let label = match (program.kind, &results.machine.node_version) {
            (ProgramKind::Node, Some(version)) => format!("JavaScript BigInt (node {version})"),
            (kind, _) => kind.label().to_string(),
        };
        let _ = writeln!(
            md,
            "| {label}: `{}` | {} | {} | {ratio} | {} |",
            program.command,
            program.elapsed_ms.len(),
            ms_summary(program.summary()),
            program.peak_rss_kib.map_or_else(
                || "–".to_string(),
                |kib| format!("{:.1}", kib as f64 / 1024.0)
            ),
        );
    }
    if let Some(why) = &results.node_missing {
        let _ = writeln!(md, "| JavaScript BigInt (node) | – | {why} | – | – |");
    }
    let _ = writeln!(
        md,
        "\nThe programs time their own computation (start-up excluded); the function's Duration \
         is the whole invocation through the Runtime API, JSON included. Users' figures for \
         the same algorithm on a 128 MB Lambda: x86_64 {USERS_X86_64}, arm64 {USERS_ARM64}, \
         JavaScript {USERS_NODE}."
    );
}

/// Chudnovsky at each size.
fn chudnovsky(results: &BenchResults, md: &mut String) {
    let s = &results.settings;
    let digits = with_commas(s.digits);
    if !results.chudnovsky.is_empty() {
        let _ = writeln!(
            md,
            "\n### Chudnovsky, x86_64 bootstrap (`{{\"digits\": …, \"algorithm\": \"chudnovsky\"}}`)\n"
        );
        let _ = writeln!(
            md,
            "| digits | runs | Duration, warm (ms): median (min–max) | Max Memory Used (MB) |"
        );
        let _ = writeln!(md, "| --- | --- | --- | --- |");
        for runs in &results.chudnovsky {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                with_commas(runs.digits),
                runs.durations_ms.len(),
                ms_summary(stats::summarize(&runs.durations_ms)),
                runs.max_memory_used_mb
            );
        }
        if !results.chudnovsky_in_process.is_empty() {
            let _ = writeln!(
                md,
                "\nThe same computation in-process (`examples/pi_timing.rs`, no Runtime API), \
                 built for musl with musl's own malloc (the bootstrap uses dlmalloc instead) and \
                 for glibc:\n"
            );
            let _ = writeln!(
                md,
                "| program | digits | runs | time (ms): median (min–max) | peak RSS (MB) |"
            );
            let _ = writeln!(md, "| --- | --- | --- | --- | --- |");
            for program in &results.chudnovsky_in_process {
                let _ = writeln!(
                    md,
                    "| {}: `{}` | {} | {} | {} | {} |",
                    program.kind.label(),
                    program.command,
                    with_commas(s.chudnovsky_digits),
                    program.elapsed_ms.len(),
                    ms_summary(program.summary()),
                    program.peak_rss_kib.map_or_else(
                        || "–".to_string(),
                        |kib| format!("{:.1}", kib as f64 / 1024.0)
                    ),
                );
            }
        }
        let _ = writeln!(
            md,
            "\nChecked: each response's digits begin with the spigot's {digits}{}.",
            match &results.chudnovsky_reference_sha256 {
                Some(_) => format!(
                    ", and the {} digits hash as `pi_timing chudnovsky` computed them in \
                     this run",
                    with_commas(s.chudnovsky_digits)
                ),
                None => String::new(),
            }
        );
    }
}

/// Chudnovsky beside FLINT and MPFR, one row per program and digit count.
fn anchors_table(results: &BenchResults, md: &mut String) {
    if results.anchors.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n### Chudnovsky beside FLINT and GMP/MPFR (in-process, one thread each, decimal string \
         included, a fresh process per run)\n"
    );
    let _ = writeln!(
        md,
        "| digits | program | runs | time (ms): median (min–max) | ÷ FLINT | ÷ MPFR | peak RSS (MB) |"
    );
    let _ = writeln!(md, "| ---: | --- | ---: | --- | ---: | ---: | ---: |");
    for anchors in &results.anchors {
        let flint = anchors.median(ProgramKind::Flint);
        let mpfr = anchors.median(ProgramKind::Mpfr);
        for program in &anchors.programs {
            let median = program.summary().map(|s| s.median);
            let over = |anchor: Option<f64>| match (median, anchor) {
                (Some(m), Some(a)) => format!("{}×", ratio_text(m / a)),
                _ => "–".to_string(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                with_commas(anchors.digits),
                program.kind.label(),
                program.elapsed_ms.len(),
                ms_summary(program.summary()),
                over(flint),
                over(mpfr),
                program.peak_rss_kib.map_or_else(
                    || "–".to_string(),
                    |kib| format!("{:.1}", kib as f64 / 1024.0)
                ),
            );
        }
    }
    let _ = writeln!(
        md,
        "\nEvery library's digits hash as Chudnovsky's do in the same run (the libraries round \
         the last digit, so they compute 12 more, untimed). The python-flint and gmpy2 versions \
         are those pinned in xtask/test-requirements.txt."
    );
}

/// Every invocation, as its REPORT line gives it.
fn every_invocation(results: &BenchResults, md: &mut String) {
    let _ = writeln!(md, "\n### Every invocation, as its REPORT line gives it\n");
    let _ = writeln!(
        md,
        "| configuration | invocation | Duration (ms) | Billed Duration (ms) | Init Duration (ms) \
         | Max Memory Used (MB) |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- |");
    for runs in &results.functions {
        let label = runs.label();
        let rows = runs
            .cold
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("cold {}", i + 1), f))
            .chain(
                runs.warm
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (format!("warm {}", i + 1), f)),
            );
        for (name, f) in rows {
            let _ = writeln!(
                md,
                "| {label} | {name} | {} | {} | {} | {} |",
                ms_text(f.duration_ms),
                f.billed_duration_ms,
                f.init_duration_ms.map_or_else(|| "–".to_string(), ms_text),
                f.max_memory_used_mb
            );
        }
    }
}

/// The charts.
fn charts_section(charts: &str, md: &mut String) {
    let _ = writeln!(md, "\n### Charts\n");
    for (file, alt) in [
        (
            "durations.svg",
            "Duration of each warm invocation per configuration",
        ),
        (
            "cold_starts.svg",
            "Init Duration of each cold start per configuration",
        ),
        (
            "rust_vs_js.svg",
            "The function, the baselines and node, log scale",
        ),
    ] {
        let _ = writeln!(md, "![{alt}]({charts}{file})");
    }
}

/// What the figures mean.
fn notes(results: &BenchResults, md: &mut String) {
    let _ = writeln!(md, "\n### What the figures mean\n");
    let _ = writeln!(
        md,
        "- Max Memory Used counts the function's own process tree only. Lambda's figure also \
         counts its runtime environment, so users' {USERS_MEMORY} and these figures are not \
         directly comparable."
    );
    let _ = writeln!(
        md,
        "- Init Duration is measured locally from the process start to its first `next` \
         request; Lambda's also includes fetching the code and starting the sandbox."
    );
    if results.functions.iter().any(|f| f.emulated_by.is_some()) {
        let _ = writeln!(
            md,
            "- arm64 figures come from qemu user-mode emulation on x86_64: they show that the \
             arm64 bootstrap runs and answers correctly, and how much emulation costs. They are \
             not Graviton figures: on Lambda, arm64 runs natively."
        );
    }
    let _ = writeln!(
        md,
        "- Medians are shown with the range (min–max) of all runs; the machine is shared, so \
         single runs can be slowed by other work."
    );
}

/// Replaces what lies between `start` and `end` in `text` (the markers stay).
pub fn replace_between(text: &str, start: &str, end: &str, new: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = from + text[from..].find(end)?;
    Some(format!(
        "{}\n{}\n{}",
        &text[..from],
        new.trim_end(),
        &text[to..]
    ))
}

#[cfg(test)]
mod tests {
    use super::super::results::{
        AnchorRuns, ChudnovskyRuns, InvocationFigures, Machine, ProgramRuns, Settings,
    };
    use super::*;

    fn invocation(duration_ms: f64, init: Option<f64>, mb: u64) -> InvocationFigures {
        InvocationFigures {
            duration_ms,
            billed_duration_ms: (duration_ms + init.unwrap_or(0.0)).ceil() as u64,
            init_duration_ms: init,
            max_memory_used_mb: mb,
        }
    }

    fn program(kind: ProgramKind, elapsed_ms: &[f64]) -> ProgramRuns {
        ProgramRuns {
            kind,
            command: format!("run {kind:?}"),
            elapsed_ms: elapsed_ms.to_vec(),
            peak_rss_kib: Some(4096),
        }
    }

    fn sample() -> BenchResults {
        BenchResults {
            settings: Settings {
                command: "cargo xtask bench".into(),
                digits: 10_000,
                payload: r#"{"digits": "10_000"}"#.into(),
                warm: 3,
                cold: 2,
                baseline_runs: 3,
                memory_size_mb: 128,
                timeout_s: 60,
                chudnovsky_digits: 1_000_000,
                chudnovsky_runs: 2,
            },
            machine: Machine {
                started: "2026-01-01T00:00:00Z".into(),
                cpus: 2,
                load_start: Some("1.00 2.00 3.00".into()),
                load_end: Some("1.50 2.00 3.00".into()),
                node_version: Some("v20.0.0".into()),
                ..Machine::default()
            },
            functions: vec![
                FunctionRuns {
                    arch: "x86_64".into(),
                    emulated_by: None,
                    zip: "dist/lambda-x86_64.zip".into(),
                    cold: vec![
                        invocation(50.0, Some(1.5), 5),
                        invocation(52.0, Some(2.5), 5),
                    ],
                    warm: vec![
                        invocation(40.0, None, 6),
                        invocation(50.0, None, 6),
                        invocation(45.0, None, 6),
                    ],
                    one_digit_ms: vec![0.5, 0.7, 0.6],
                },
                FunctionRuns {
                    arch: "arm64".into(),
                    emulated_by: Some("qemu-aarch64".into()),
                    zip: "dist/lambda-arm64.zip".into(),
                    cold: vec![invocation(400.0, Some(20.0), 14)],
                    warm: vec![invocation(390.0, None, 15)],
                    one_digit_ms: Vec::new(),
                },
            ],
            chudnovsky: vec![
                ChudnovskyRuns {
                    digits: 10_000,
                    durations_ms: vec![1.0, 1.2],
                    max_memory_used_mb: 6,
                },
                ChudnovskyRuns {
                    digits: 1_000_000,
                    durations_ms: vec![2500.0, 2300.0],
                    max_memory_used_mb: 30,
                },
            ],
            programs: vec![
                program(ProgramKind::BaselineGlibc, &[900.0, 1000.0, 950.0]),
                program(ProgramKind::BaselineMusl, &[2000.0, 2100.0, 2050.0]),
                program(ProgramKind::Node, &[1300.0]),
            ],
            node_missing: None,
            reference_sha256: Some("ab".repeat(32)),
            chudnovsky_reference_sha256: Some("cd".repeat(32)),
            chudnovsky_in_process: vec![
                program(ProgramKind::ChudnovskyMusl, &[2600.0]),
                program(ProgramKind::ChudnovskyGlibc, &[1500.0]),
            ],
            anchors: vec![
                AnchorRuns {
                    digits: 10_000,
                    programs: vec![
                        program(ProgramKind::ChudnovskyMusl, &[1.0, 1.2, 1.1]),
                        program(ProgramKind::Flint, &[0.5, 0.6, 0.4]),
                        program(ProgramKind::Mpfr, &[0.8]),
                    ],
                },
                AnchorRuns {
                    digits: 1_000_000,
                    programs: vec![
                        program(ProgramKind::ChudnovskyMusl, &[800.0]),
                        program(ProgramKind::Flint, &[250.0]),
                        program(ProgramKind::Mpfr, &[600.0]),
                    ],
                },
            ],
        }
    }

    #[test]
    fn judging_says_by_how_much() {
        assert_eq!(judge(Goal::AtLeast(10.0), 12.0, "×"), Status::Met);
        assert_eq!(judge(Goal::AtLeast(10.0), 10.0, "×"), Status::Met);
        assert_eq!(judge(Goal::AtMost(3.0), 3.0, "ms"), Status::Met);
        assert_eq!(
            judge(Goal::AtLeast(50.0), 45.0, "×"),
            Status::Missed("5.00× short (10 % below 50.0×)".into())
        );
        assert_eq!(
            judge(Goal::AtMost(2000.0), 2500.0, "ms"),
            Status::Missed("500.0 ms over (25 % above 2000 ms)".into())
        );
        assert_eq!(
            judge(Goal::AtMost(8.0), 12.0, "MB"),
            Status::Missed("4 MB over (50 % above 8 MB)".into())
        );
    }

    #[test]
    fn ratios_are_medians_over_the_x86_64_warm_median() {
        let results = sample();
        // warm median 45 ms: glibc 950 / 45, musl 2050 / 45, node 1300 / 45.
        let glibc = ratio_to_function(&results, ProgramKind::BaselineGlibc).unwrap();
        assert!((glibc - 950.0 / 45.0).abs() < 1e-9);
        let musl = ratio_to_function(&results, ProgramKind::BaselineMusl).unwrap();
        assert!((musl - 2050.0 / 45.0).abs() < 1e-9);
        assert_eq!(ratio_to_function(&results, ProgramKind::SpigotMusl), None);
        let mut no_x86 = results.clone();
        no_x86.functions.remove(0);
        assert_eq!(ratio_to_function(&no_x86, ProgramKind::BaselineGlibc), None);
    }

    #[test]
    fn targets_are_met_missed_or_not_measured() {
        let list = targets(&sample());
        let statuses: Vec<&Status> = list.iter().map(|t| &t.status).collect();
        assert_eq!(list.len(), 6);
        // 950/45 = 21.1× ≥ 10: met; 2050/45 = 45.6× < 50: missed.
        assert_eq!(statuses[0], &Status::Met);
        assert!(
            matches!(statuses[1], Status::Missed(by) if by.contains("below 50.0×")),
            "{:?}",
            statuses[1]
        );
        // Chudnovsky ÷ FLINT, medians: 10k 1.1/0.5 = 2.2× ≤ 3: met; 1M 800/250 = 3.2×: missed.
        assert_eq!(list[2].measured, Some(1.1 / 0.5));
        assert_eq!(statuses[2], &Status::Met);
        assert!(
            matches!(statuses[3], Status::Missed(by) if by.contains("above 3.00×")),
            "{:?}",
            statuses[3]
        );
        assert!(miss_hints(&sample(), &list)
            .iter()
            .any(|h| h.contains("1.33× GMP/MPFR")));
        // Init median 2.0 ms ≤ 3: met; memory 6 MB ≤ 8: met.
        assert_eq!(list[4].measured, Some(2.0));
        assert_eq!(statuses[4], &Status::Met);
        assert_eq!(list[5].measured, Some(6.0));
        assert_eq!(statuses[5], &Status::Met);

        // Another digit count: the 10,000-digit targets are not measured, and say why.
        let mut other = sample();
        other.settings.digits = 500;
        other.chudnovsky.remove(1);
        other.anchors.remove(0);
        let list = targets(&other);
        for index in [0, 1, 5] {
            assert!(
                matches!(&list[index].status, Status::NotMeasured(why) if why.contains("500 digits")),
                "{:?}",
                list[index]
            );
        }
        assert!(
            matches!(&list[2].status, Status::NotMeasured(why) if why.contains("at 1,000,000 digits")),
            "{:?}",
            list[2]
        );
        // Without the x86_64 function nothing can be judged but nothing panics.
        let mut arm_only = sample();
        arm_only.functions.remove(0);
        arm_only.chudnovsky.clear();
        arm_only.anchors.clear();
        assert!(targets(&arm_only)
            .iter()
            .all(|t| matches!(t.status, Status::NotMeasured(_))));
    }

    #[test]
    fn report_marks_emulation_and_shows_every_figure() {
        let md = render(&sample(), "");
        for says in [
            "x86_64 (native)",
            "arm64 (emulated, qemu-aarch64) †",
            "**Emulated, not Graviton**",
            "45.0 (40.0–50.0)", // x86_64 warm Duration
            "2.00 (1.50–2.50)", // Init Duration
            "21.1×",            // glibc ratio
            "45.6×",            // musl ratio
            "**missed**: 4.44× short (9 % below 50.0×)",
            "JavaScript BigInt (node v20.0.0)",
            "| x86_64 | warm 3 | 45.0 | 45 | – | 6 |",
            "| arm64 (emulated, qemu-aarch64) | cold 1 | 400.0 | 420 | 20.0 | 14 |",
            "![Duration of each warm invocation per configuration](durations.svg)",
            "load average (1, 5, 15 min) 1.00 2.00 3.00 at the start and 1.50 2.00 3.00",
            "| 1,000,000 | 2 | 2400 (2300–2500) | 30 |",
            "| Chudnovsky in-process, glibc: `run ChudnovskyGlibc` | 1,000,000 | 1 | 1500 | 4.0 |",
            "| 0.60 (0.50–0.70) |", // the 1-digit invocations
            "≈ 5.4 s",
            "| 1,000,000 | FLINT arb.pi() + decimal string (python-flint) | 1 | 250.0 | 1.00× | 0.42× |",
            "| 10,000 | Chudnovsky in-process, musl | 3 | 1.10 (1.00–1.20) | 2.20× | 1.38× |",
        ] {
            assert!(md.contains(says), "missing {says:?} in\n{md}");
        }
        // Charts can be linked from elsewhere (README → docs/bench/).
        assert!(render(&sample(), "docs/bench/").contains("(docs/bench/cold_starts.svg)"));

        // The misses of the sample come with what the run says about them.
        for says in [
            "What this run's own figures say about the misses",
            "fixed cost of an invocation, 0.60 ms",
            "Chudnovsky, 1,000,000 digits: 1.33× GMP/MPFR's time in the same run",
        ] {
            assert!(md.contains(says), "missing {says:?} in\n{md}");
        }
        let mut slow_start = sample();
        slow_start.functions[0].cold[0].init_duration_ms = Some(8.0);
        slow_start.functions[0].cold[1].init_duration_ms = Some(9.0);
        let hints = miss_hints(&slow_start, &targets(&slow_start));
        assert!(
            hints.iter().any(|h| h.contains(
                "ranged from 8.00 to 9.00 ms, with a load average of 1.00 2.00 3.00 on 2 CPUs"
            )),
            "{hints:?}"
        );

        let mut native_only = sample();
        native_only.functions.truncate(1);
        native_only.node_missing = Some("not run: `node` is not on PATH".into());
        native_only.programs.retain(|p| p.kind != ProgramKind::Node);
        let md = render(&native_only, "");
        assert!(!md.contains("Graviton"), "{md}");
        assert!(md.contains("`node` is not on PATH"), "{md}");
    }

    #[test]
    fn digit_counts_are_grouped() {
        assert_eq!(grouped(7), "7");
        assert_eq!(grouped(500), "500");
        assert_eq!(grouped(10_000), "10_000");
        assert_eq!(grouped(1_000_000), "1_000_000");
        assert_eq!(with_commas(100_000), "100,000");
    }

    #[test]
    fn readme_section_is_replaced_between_markers() {
        let text = format!("# T\n{README_START}\nold\n{README_END}\nrest\n");
        let new = replace_between(&text, README_START, README_END, "new table\n").unwrap();
        assert_eq!(
            new,
            format!("# T\n{README_START}\nnew table\n{README_END}\nrest\n")
        );
        assert_eq!(
            replace_between("no markers", README_START, README_END, "x"),
            None
        );
    }
}
