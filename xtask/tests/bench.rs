//! `cargo xtask bench` end to end, with small settings so that it stays quick once the x86_64
//! zip and the timing runners are built (the first run builds them: a few minutes). It checks
//! that the report and the three charts are written and hold the figures of the run, so that
//! the bench cannot rot unnoticed.

use std::path::Path;

use xtask::tasks::bench::report;
use xtask::tasks::bench::results::{BenchResults, ProgramKind};
use xtask::tasks::bench::stats;

mod support;

use support::xtask;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn bench_writes_the_report_and_charts_of_a_real_run() {
    let dir = tempfile::tempdir().unwrap();
    let output = xtask([
        "bench",
        "--digits",
        "500",
        "--warm",
        "2",
        "--cold",
        "2",
        "--baseline-runs",
        "1",
        "--arch",
        "x86_64",
        "--chudnovsky-runs",
        "1",
        "--chudnovsky-digits",
        "20_000",
        "--output-dir",
    ])
    .arg(dir.path())
    .output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench failed ({}):\n{stderr}\n{stdout}",
        output.status
    );

    // The figures, as measured.
    let results: BenchResults =
        serde_json::from_str(&read(&dir.path().join("results.json"))).unwrap();
    assert_eq!(results.settings.digits, 500);
    assert_eq!(results.functions.len(), 1);
    let x86 = &results.functions[0];
    assert_eq!(
        (x86.arch.as_str(), x86.emulated_by.as_deref()),
        ("x86_64", None)
    );
    assert_eq!((x86.cold.len(), x86.warm.len()), (2, 2));
    for cold in &x86.cold {
        assert!(cold.init_duration_ms.is_some_and(|ms| ms > 0.0), "{cold:?}");
        assert!(
            cold.duration_ms > 0.0 && cold.max_memory_used_mb > 0,
            "{cold:?}"
        );
    }
    for warm in &x86.warm {
        assert!(warm.init_duration_ms.is_none(), "{warm:?}");
        assert!(
            warm.duration_ms > 0.0 && warm.max_memory_used_mb > 0,
            "{warm:?}"
        );
    }
    for kind in [
        ProgramKind::BaselineGlibc,
        ProgramKind::BaselineMusl,
        ProgramKind::SpigotMusl,
    ] {
        let program = results.program(kind).unwrap_or_else(|| panic!("{kind:?}"));
        assert_eq!(program.elapsed_ms.len(), 1);
        assert!(program.elapsed_ms[0] > 0.0);
    }
    assert!(results.program(ProgramKind::Node).is_some() || results.node_missing.is_some());
    let chudnovsky: Vec<u64> = results.chudnovsky.iter().map(|c| c.digits).collect();
    assert_eq!(chudnovsky, [500, 20_000]);
    assert_eq!(results.chudnovsky_in_process.len(), 2);
    // FLINT and MPFR beside Chudnovsky at both digit counts, one run each, the same digits.
    let anchored: Vec<u64> = results.anchors.iter().map(|a| a.digits).collect();
    assert_eq!(anchored, [500, 20_000]);
    for anchors in &results.anchors {
        for kind in [
            ProgramKind::ChudnovskyMusl,
            ProgramKind::Flint,
            ProgramKind::Mpfr,
        ] {
            assert!(anchors.median(kind).is_some_and(|ms| ms > 0.0), "{kind:?}");
        }
    }
    assert_eq!(x86.one_digit_ms.len(), 2);
    assert!(x86.one_digit_ms.iter().all(|ms| *ms > 0.0));
    assert_eq!(results.reference_sha256.as_deref().map(str::len), Some(64));

    // The report holds them.
    let md = read(&dir.path().join("report.md"));
    let warm_median = x86.warm_summary().unwrap();
    for says in [
        "x86_64 (native)".to_string(),
        "### Targets".to_string(),
        "### Chudnovsky beside FLINT and GMP/MPFR".to_string(),
        "not measured: this run put Chudnovsky beside FLINT at 500 digits and 20,000 digits"
            .to_string(),
        "not measured: this run computed 500 digits".to_string(),
        format!(
            "{} ({}–{})",
            report::ms_text(warm_median.median),
            report::ms_text(warm_median.min),
            report::ms_text(warm_median.max)
        ),
        results.reference_sha256.clone().unwrap(),
    ] {
        assert!(md.contains(&says), "report.md lacks {says:?}:\n{md}");
    }
    assert!(!md.contains("Graviton"), "no arm64 was run:\n{md}");
    assert!(
        stdout.contains("### Targets"),
        "the tables go to stdout too"
    );

    // The charts: one point per run, one bar per program, labelled with the medians.
    let durations = read(&dir.path().join("durations.svg"));
    let cold_starts = read(&dir.path().join("cold_starts.svg"));
    let bars = read(&dir.path().join("rust_vs_js.svg"));
    for svg in [&durations, &cold_starts, &bars] {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(100)]);
    }
    assert_eq!(durations.matches("<circle").count(), 2, "{durations}");
    assert_eq!(cold_starts.matches("<circle").count(), 2, "{cold_starts}");
    assert!(durations.contains("x86_64"));
    let glibc = stats::summarize(
        &results
            .program(ProgramKind::BaselineGlibc)
            .unwrap()
            .elapsed_ms,
    )
    .unwrap();
    for says in [
        "function x86_64".to_string(),
        "baseline glibc".to_string(),
        "baseline musl".to_string(),
        format!("{:.1} ms", warm_median.median),
        format!("{:.1} ms", glibc.median),
    ] {
        assert!(bars.contains(&says), "rust_vs_js.svg lacks {says:?}");
    }
}

#[test]
fn bad_settings_stop_the_bench_before_anything_runs() {
    let output = xtask(["bench", "--digits", "ten"]).output();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a digit count"), "{stderr}");
}
