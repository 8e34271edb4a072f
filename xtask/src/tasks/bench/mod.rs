//! `cargo xtask bench`: the CloudWatch-style benchmark tables, measured through the Runtime API
//! emulator, with the baseline and JavaScript timed side by side in the same run.
//!
//! [`measure`] runs things, [`results`] holds what they gave, [`report`] renders the tables
//! (pure), [`charts`] draws the SVGs and [`stats`] summarizes repeated runs.

pub mod charts;
pub mod measure;
pub mod report;
pub mod results;
pub mod stats;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use lambda_kit::arch::Arch;
use lambda_kit::atomic_file;
use lambda_kit::builder::{BuildArgs, Builder};
use lambda_kit::emulator::{self, FunctionCode, FunctionConfig, Sandbox};
use lambda_kit::paths;
use lambda_kit::pipeline::local::require_linux_host;
use lambda_kit::pipeline::Lambda;
use lambda_kit::validate;
use lambda_kit::workspace::settings::SettingsFlags;
use lambda_kit::workspace::FunctionArgs;

use crate::repository::{repository_root, Venv};
use measure::BENCHMARKED_PACKAGE;

use results::{BenchResults, ChudnovskyRuns, FunctionRuns, Machine, ProgramKind, Settings};

/// The function's default maxima: the bench stays within them so that it needs no settings.
const MAX_SPIGOT_DIGITS: u64 = 100_000;
const MAX_CHUDNOVSKY_DIGITS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchChoice {
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    Arm64,
    /// Both architectures.
    All,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Digits per invocation of the spigot (the benchmark event); `_` separators allowed.
    #[arg(long, default_value = "10_000", value_parser = spigot_digits)]
    pub digits: u64,
    /// Warm invocations in a row per architecture.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub warm: u32,
    /// Cold starts per architecture (each a new process).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub cold: u32,
    /// Runs of each program timed beside the function (baseline glibc and musl, the
    /// in-process spigot, node).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub baseline_runs: u32,
    /// Architecture to measure (repeatable, or `all`) [default: all]; arm64 runs under
    /// qemu-aarch64 on an x86_64 host.
    #[arg(long, value_enum)]
    pub arch: Vec<ArchChoice>,
    /// Memory in MB (128 to 10240).
    #[arg(long, default_value_t = 128, value_parser = validate::memory_size)]
    pub memory_size: u32,
    /// Timeout in seconds (1 to 900): generous, so that a slow emulated run is not killed.
    #[arg(long, default_value_t = 60, value_parser = validate::timeout)]
    pub timeout: u32,
    /// The larger Chudnovsky digit count, run through the x86_64 bootstrap beside --digits.
    #[arg(long, default_value = "1_000_000", value_parser = chudnovsky_digits)]
    pub chudnovsky_digits: u64,
    /// Warm Chudnovsky invocations at each of the two digit counts (0 skips Chudnovsky).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub chudnovsky_runs: u32,
    /// Where report.md, results.json and the SVG charts go [default: dist/bench].
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// How to build a zip that is missing (or every zip with --rebuild).
    #[arg(long, value_enum, default_value_t = Builder::Auto)]
    pub builder: Builder,
    /// Package the zips afresh even when dist/lambda-<arch>.zip exists (after changing the
    /// function).
    #[arg(long)]
    pub rebuild: bool,
    /// Also copy the report and charts to docs/bench/ and put the report into README.md's
    /// Benchmarks section.
    #[arg(long)]
    pub update_readme: bool,
}

impl BenchArgs {
    pub fn arches(&self) -> Vec<Arch> {
        if self.arch.is_empty() || self.arch.contains(&ArchChoice::All) {
            return Arch::ALL.to_vec();
        }
        Arch::ALL
            .into_iter()
            .filter(|arch| match arch {
                Arch::X86_64 => self.arch.contains(&ArchChoice::X86_64),
                Arch::Arm64 => self.arch.contains(&ArchChoice::Arm64),
            })
            .collect()
    }
}

/// A whole number with single `_` separators between digits (as the function accepts it),
/// within `1..=max`.
fn digit_count(value: &str, max: u64) -> Result<u64, String> {
    let plain = value.replace('_', "");
    let separators_ok = !value.starts_with('_') && !value.ends_with('_') && !value.contains("__");
    match plain.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) && separators_ok => Ok(n),
        _ => Err(format!(
            "{value:?} is not a digit count from 1 to {} (the function's default maximum); \
             `_` separators are allowed, e.g. 10_000",
            report::with_commas(max)
        )),
    }
}

fn spigot_digits(value: &str) -> Result<u64, String> {
    digit_count(value, MAX_SPIGOT_DIGITS)
}

fn chudnovsky_digits(value: &str) -> Result<u64, String> {
    digit_count(value, MAX_CHUDNOVSKY_DIGITS)
}

/// The event: `{"digits": "10_000"}` for the benchmark, the same form for other counts.
pub fn payload(digits: u64, algorithm: Option<&str>) -> String {
    match algorithm {
        None => format!(r#"{{"digits": "{}"}}"#, report::grouped(digits)),
        Some(algorithm) => format!(
            r#"{{"digits": "{}", "algorithm": "{algorithm}"}}"#,
            report::grouped(digits)
        ),
    }
}

pub fn run(args: &BenchArgs) -> Result<()> {
    require_linux_host("bench")?;
    let started = Instant::now();
    let load_start = measure::load_average();
    let output_dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| repository_root().join("dist").join("bench"));
    let arches = args.arches();
    let (commit, dirty) = measure::git_commit();
    let mut results = BenchResults {
        settings: Settings {
            command: command_line(),
            digits: args.digits,
            payload: payload(args.digits, None),
            warm: args.warm,
            cold: args.cold,
            baseline_runs: args.baseline_runs,
            memory_size_mb: args.memory_size,
            timeout_s: args.timeout,
            chudnovsky_digits: args.chudnovsky_digits,
            chudnovsky_runs: args.chudnovsky_runs,
        },
        machine: Machine {
            started: emulator::report::utc_timestamp(emulator::report::unix_ms(
                std::time::SystemTime::now(),
            )),
            commit,
            dirty,
            cpu_model: measure::cpu_model(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_start,
            ..Machine::default()
        },
        ..BenchResults::default()
    };
    eprintln!(
        "Benchmark: {} digits, {} cold start(s) and {} warm invocation(s) per architecture ({}); \
         load average {}",
        report::with_commas(args.digits),
        args.cold,
        args.warm,
        arches
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        results.machine.load_start.as_deref().unwrap_or("unknown"),
    );

    // The zips, packaged when missing (or asked to), as `cargo xtask invoke` does.
    let mut zips = Vec::new();
    for &arch in &arches {
        zips.push((arch, zip_for(arch, args)?));
    }

    // The programs beside the function, and the reference digits.
    let glibc = measure::build_runner(measure::GLIBC_TARGET)?;
    let musl = measure::build_runner(measure::MUSL_TARGET)?;
    let musl_baseline = measure::build_example(measure::BASELINE_EXAMPLE, measure::MUSL_TARGET)?;
    eprintln!(
        "Timing the programs beside the function ({} run(s) each)",
        args.baseline_runs
    );
    let (baseline_glibc, reference) = measure::time_program(
        ProgramKind::BaselineGlibc,
        || measure::runner_command(&glibc, "baseline", args.digits),
        args.baseline_runs,
        args.digits,
        None,
    )?;
    results.programs.push(baseline_glibc);
    let (baseline_musl, _) = measure::time_program(
        ProgramKind::BaselineMusl,
        || measure::baseline_command(&musl_baseline, args.digits),
        args.baseline_runs,
        args.digits,
        Some(&reference),
    )?;
    results.programs.push(baseline_musl);
    let (spigot_musl, _) = measure::time_program(
        ProgramKind::SpigotMusl,
        || measure::runner_command(&musl, "spigot", args.digits),
        args.baseline_runs,
        args.digits,
        Some(&reference),
    )?;
    results.programs.push(spigot_musl);
    match measure::find_node() {
        Ok((node, version)) => {
            let (runs, _) = measure::time_program(
                ProgramKind::Node,
                || measure::node_command(&node, args.digits),
                args.baseline_runs,
                args.digits,
                Some(&reference),
            )?;
            results.programs.push(runs);
            results.machine.node_version = Some(version);
        }
        Err(why) => {
            eprintln!("JavaScript: {why}");
            results.node_missing = Some(why);
        }
    }
    results.reference_sha256 = Some(reference.clone());

    let chudnovsky = args.chudnovsky_runs > 0 && arches.contains(&Arch::X86_64);
    if chudnovsky {
        eprintln!(
            "Computing {} Chudnovsky digits in-process, musl (the reference) and glibc",
            report::with_commas(args.chudnovsky_digits)
        );
        let (musl_runs, sha) = measure::time_program(
            ProgramKind::ChudnovskyMusl,
            || measure::runner_command(&musl, "chudnovsky", args.chudnovsky_digits),
            1,
            args.chudnovsky_digits,
            None,
        )?;
        let (glibc_runs, _) = measure::time_program(
            ProgramKind::ChudnovskyGlibc,
            || measure::runner_command(&glibc, "chudnovsky", args.chudnovsky_digits),
            1,
            args.chudnovsky_digits,
            Some(&sha),
        )?;
        results.chudnovsky_in_process = vec![musl_runs, glibc_runs];
        results.chudnovsky_reference_sha256 = Some(sha);

        let python = Venv::Test.program("python")?;
        for digits in [args.digits, args.chudnovsky_digits] {
            eprintln!(
                "Chudnovsky beside FLINT and MPFR at {} digits ({} run(s) each, one thread)",
                report::with_commas(digits),
                args.baseline_runs
            );
            results.anchors.push(measure::time_anchors(
                &musl,
                &python,
                digits,
                args.baseline_runs,
            )?);
        }
    }

    // The function, through the emulator.
    let config = FunctionConfig {
        memory_size_mb: args.memory_size,
        timeout: std::time::Duration::from_secs(u64::from(args.timeout)),
        ..FunctionConfig::default()
    };
    let runtime = emulator::tokio_runtime()?;
    for (arch, zip) in &zips {
        let (runs, chudnovsky_runs) = runtime.block_on(measure_function(
            *arch,
            zip,
            config.clone(),
            args,
            &reference,
            if *arch == Arch::X86_64 && chudnovsky {
                results.chudnovsky_reference_sha256.as_deref()
            } else {
                None
            },
        ))?;
        results.functions.push(runs);
        results.chudnovsky.extend(chudnovsky_runs);
    }

    results.machine.load_end = measure::load_average();
    results.machine.elapsed_s = started.elapsed().as_secs_f64();
    write_outputs(&results, &output_dir, args.update_readme)
}

/// The zip of `arch`: dist/lambda-<arch>.zip, packaged when missing or with --rebuild.
fn zip_for(arch: Arch, args: &BenchArgs) -> Result<PathBuf> {
    let build = BuildArgs {
        arch,
        target: None,
        builder: args.builder,
    };
    let function = FunctionArgs {
        manifest_path: Some(repository_root().join("Cargo.toml")),
        package: Some(BENCHMARKED_PACKAGE.to_string()),
        bin: None,
    };
    let lambda = Lambda::from_flags(&function, &SettingsFlags::default(), &build, "bench")?;
    let (zip, _) = lambda.ensure_zip(args.rebuild)?;
    Ok(zip.path)
}

/// Cold starts, then warm invocations in the last process, then (x86_64) Chudnovsky; every
/// response checked against the reference digits.
async fn measure_function(
    arch: Arch,
    zip: &Path,
    config: FunctionConfig,
    args: &BenchArgs,
    reference_sha256: &str,
    chudnovsky_reference: Option<&str>,
) -> Result<(FunctionRuns, Vec<ChudnovskyRuns>)> {
    let mut sandbox = Sandbox::new(&FunctionCode::Zip(zip.to_path_buf()), config)
        .with_context(|| format!("preparing {} to run", zip.display()))?;
    let mut runs = FunctionRuns {
        arch: arch.to_string(),
        emulated_by: sandbox.emulated_by().map(str::to_string),
        zip: paths::shown_from(zip, &repository_root()),
        ..FunctionRuns::default()
    };
    eprintln!(
        "Measuring {} ({}): {} cold start(s), then {} warm invocation(s)",
        runs.label(),
        runs.zip,
        args.cold,
        args.warm
    );
    let event = payload(args.digits, None);
    let mut spigot_digits = String::new();
    for (index, cold) in (0..args.cold)
        .map(|_| true)
        .chain((0..args.warm).map(|_| false))
        .enumerate()
    {
        let what = format!(
            "{} {} invocation {}",
            runs.label(),
            if cold { "cold" } else { "warm" },
            if cold {
                index + 1
            } else {
                index + 1 - args.cold as usize
            }
        );
        if cold {
            sandbox.reset().await;
        }
        let invocation = measure::invoke(&mut sandbox, event.as_bytes(), &what).await?;
        if invocation.is_cold() != cold {
            bail!(
                "{what}: expected a {} start, the emulator reported otherwise",
                if cold { "cold" } else { "warm" }
            );
        }
        let digits = measure::response_digits(&invocation.response, args.digits)
            .with_context(|| format!("{what}: checking the response"))?;
        let sha = measure::sha256_hex(digits.as_bytes());
        if sha != reference_sha256 {
            bail!(
                "{what}: wrong digits: their sha256 is {sha}, the baseline's in this run \
                 {reference_sha256}"
            );
        }
        let figures = measure::figures(&invocation);
        eprintln!(
            "  {what}: Duration {:.2} ms{}, Max Memory Used {} MB",
            figures.duration_ms,
            figures
                .init_duration_ms
                .map_or_else(String::new, |ms| format!(", Init Duration {ms:.2} ms")),
            figures.max_memory_used_mb
        );
        if cold {
            runs.cold.push(figures);
        } else {
            runs.warm.push(figures);
        }
        spigot_digits = digits;
    }

    // The fixed cost of an invocation: one digit, warm.
    let one_digit = payload(1, None);
    for run in 1..=args.warm {
        let what = format!("{} 1-digit invocation {run}", runs.label());
        let invocation = measure::invoke(&mut sandbox, one_digit.as_bytes(), &what).await?;
        let digits = measure::response_digits(&invocation.response, 1)
            .with_context(|| format!("{what}: checking the response"))?;
        if digits != "3" {
            bail!("{what}: wrong digits: {digits:?} instead of \"3\"");
        }
        runs.one_digit_ms
            .push(invocation.metrics.duration.as_secs_f64() * 1e3);
    }
    eprintln!(
        "  {} 1-digit invocations: Duration {} ms",
        runs.label(),
        runs.one_digit_ms
            .iter()
            .map(|ms| format!("{ms:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut chudnovsky = Vec::new();
    if let Some(large_reference) = chudnovsky_reference {
        let mut counts = vec![args.digits, args.chudnovsky_digits];
        counts.dedup();
        for digits in counts {
            let event = payload(digits, Some("chudnovsky"));
            let mut entry = ChudnovskyRuns {
                digits,
                ..ChudnovskyRuns::default()
            };
            for run in 1..=args.chudnovsky_runs {
                let what = format!(
                    "{} Chudnovsky {} digits, run {run}",
                    runs.label(),
                    report::with_commas(digits)
                );
                let invocation = measure::invoke(&mut sandbox, event.as_bytes(), &what).await?;
                let got = measure::response_digits(&invocation.response, digits)
                    .with_context(|| format!("{what}: checking the response"))?;
                let common = got.len().min(spigot_digits.len());
                if got[..common] != spigot_digits[..common] {
                    bail!(
                        "{what}: wrong digits: they differ from the spigot's at digit {}",
                        got.bytes()
                            .zip(spigot_digits.bytes())
                            .position(|(a, b)| a != b)
                            .map_or(common, |p| p + 1)
                    );
                }
                if digits == args.chudnovsky_digits {
                    let sha = measure::sha256_hex(got.as_bytes());
                    if sha != large_reference {
                        bail!(
                            "{what}: wrong digits: their sha256 is {sha}, `pi_timing chudnovsky` \
                             gave {large_reference}"
                        );
                    }
                }
                let figures = measure::figures(&invocation);
                eprintln!(
                    "  {what}: Duration {:.2} ms, Max Memory Used {} MB",
                    figures.duration_ms, figures.max_memory_used_mb
                );
                entry.durations_ms.push(figures.duration_ms);
                entry.max_memory_used_mb = entry.max_memory_used_mb.max(figures.max_memory_used_mb);
            }
            chudnovsky.push(entry);
        }
    }
    sandbox.shutdown().await;
    Ok((runs, chudnovsky))
}

/// report.md, results.json and the charts in `dir`; the tables on stdout.
fn write_outputs(results: &BenchResults, dir: &Path, update_readme: bool) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let markdown = report::render(results, "");
    let json = serde_json::to_string_pretty(results).context("writing the results as JSON")?;
    let mut written = Vec::new();
    let mut write = |name: &str, text: &str| -> Result<()> {
        let path = dir.join(name);
        atomic_file::write(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    write("report.md", &markdown)?;
    write("results.json", &json)?;
    for (name, svg) in draw_charts(results)? {
        write(name, &svg)?;
    }
    println!("{markdown}");
    for path in &written {
        println!("wrote {}", paths::shown_from(path, &repository_root()));
    }
    if update_readme {
        update_readme_section(results, &written)?;
    }
    Ok(())
}

/// The three charts, by file name.
pub fn draw_charts(results: &BenchResults) -> Result<Vec<(&'static str, String)>> {
    let digits = report::with_commas(results.settings.digits);
    let labels: Vec<String> = results.functions.iter().map(|f| f.label()).collect();
    let warm: Vec<Vec<f64>> = results
        .functions
        .iter()
        .map(|f| f.warm_durations())
        .collect();
    let init: Vec<Vec<f64>> = results
        .functions
        .iter()
        .map(|f| f.init_durations())
        .collect();
    fn lines<'a>(labels: &'a [String], values: &'a [Vec<f64>]) -> Vec<charts::Line<'a>> {
        labels
            .iter()
            .zip(values)
            .map(|(label, values)| charts::Line { label, values })
            .collect()
    }
    let emulated = results.functions.iter().any(|f| f.emulated_by.is_some());
    let durations = charts::lines_svg(
        &format!("Duration per warm invocation, {digits} digits"),
        if emulated { "ms (log scale)" } else { "ms" },
        &lines(&labels, &warm),
        emulated,
    )?;
    let cold = charts::lines_svg(
        "Init Duration per cold start",
        if emulated { "ms (log scale)" } else { "ms" },
        &lines(&labels, &init),
        emulated,
    )?;

    let mut bar_values: Vec<(String, f64)> = Vec::new();
    if let Some(s) = results.function("x86_64").and_then(|f| f.warm_summary()) {
        bar_values.push(("function x86_64".to_string(), s.median));
    }
    for (kind, label) in [
        (ProgramKind::BaselineGlibc, "baseline glibc"),
        (ProgramKind::BaselineMusl, "baseline musl"),
        (ProgramKind::Node, "node BigInt"),
    ] {
        if let Some(s) = results.program(kind).and_then(|p| p.summary()) {
            bar_values.push((label.to_string(), s.median));
        }
    }
    let bars: Vec<charts::Bar> = bar_values
        .iter()
        .map(|(label, value)| charts::Bar {
            label,
            value: *value,
        })
        .collect();
    let rust_vs_js = charts::bars_svg(
        &format!("{digits} digits: Rust vs the baseline vs JavaScript (median)"),
        "ms (log scale)",
        &bars,
    )?;
    Ok(vec![
        ("durations.svg", durations),
        ("cold_starts.svg", cold),
        ("rust_vs_js.svg", rust_vs_js),
    ])
}

/// Copies the report and charts to docs/bench/, and the summary of the targets into README.md
/// between its markers.
fn update_readme_section(results: &BenchResults, written: &[PathBuf]) -> Result<()> {
    let docs = repository_root().join("docs").join("bench");
    std::fs::create_dir_all(&docs).with_context(|| format!("creating {}", docs.display()))?;
    for path in written {
        if let Some(name) = path.file_name() {
            let target = docs.join(name);
            std::fs::copy(path, &target)
                .with_context(|| format!("copying {} to {}", path.display(), target.display()))?;
        }
    }
    let readme_path = repository_root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path)
        .with_context(|| format!("reading {}", readme_path.display()))?;
    let section = report::readme_summary(results);
    let Some(updated) =
        report::replace_between(&readme, report::README_START, report::README_END, &section)
    else {
        bail!(
            "README.md has no {} … {} markers to put the report between",
            report::README_START,
            report::README_END
        );
    };
    atomic_file::write(&readme_path, updated.as_bytes())
        .with_context(|| format!("writing {}", readme_path.display()))?;
    println!("updated README.md's Benchmarks section and docs/bench/");
    Ok(())
}

/// "cargo xtask bench …" as typed.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo xtask {}", args.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_counts_take_separators_as_the_function_does() {
        assert_eq!(digit_count("10_000", 100_000), Ok(10_000));
        assert_eq!(digit_count("500", 100_000), Ok(500));
        for bad in ["1__0", "10_", "_10", "0", "100_001", "ten", ""] {
            assert!(digit_count(bad, 100_000).is_err(), "{bad}");
        }
    }
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied())).map(|c| c.bench)
    }

    #[test]
    fn options_and_defaults() {
        let args = parse(&[]).unwrap();
        assert_eq!(
            (args.digits, args.warm, args.cold, args.baseline_runs),
            (10_000, 5, 3, 3)
        );
        assert_eq!((args.memory_size, args.timeout), (128, 60));
        assert_eq!(args.chudnovsky_digits, 1_000_000);
        assert_eq!(args.arches(), vec![Arch::X86_64, Arch::Arm64]);
        let args = parse(&["--digits", "500", "--arch", "x86_64"]).unwrap();
        assert_eq!((args.digits, args.arches()), (500, vec![Arch::X86_64]));
        let args = parse(&["--arch", "arm64", "--arch", "x86_64"]).unwrap();
        assert_eq!(args.arches(), vec![Arch::X86_64, Arch::Arm64]);
        assert_eq!(parse(&["--arch", "all"]).unwrap().arches().len(), 2);
        for bad in [
            &["--digits", "0"][..],
            &["--digits", "100_001"],
            &["--digits", "ten"],
            &["--digits", "_1"],
            &["--warm", "0"],
            &["--cold", "0"],
            &["--arch", "mips"],
            &["--memory-size", "64"],
            &["--chudnovsky-digits", "2_000_000"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn events_use_the_benchmark_form() {
        assert_eq!(payload(10_000, None), crate::repository::BENCHMARK_EVENT);
        assert_eq!(
            payload(1_000_000, Some("chudnovsky")),
            r#"{"digits": "1_000_000", "algorithm": "chudnovsky"}"#
        );
    }
}
