//! `cargo bench -p calculate-pi --bench pi`: the fast spigot (the Lambda's default workload)
//! against the plain transcription it replaced, and Chudnovsky for large N.
//!
//! Long runs get few samples: criterion's minimum of ten keeps the spigot at 100,000 digits
//! and Chudnovsky at a million to about a minute each on a small machine.

#[path = "support/baseline.rs"]
mod baseline;

use std::time::Duration;

use calculate_pi::pi;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn spigot(c: &mut Criterion) {
    let mut group = c.benchmark_group("spigot");
    group.sample_size(10);
    for n in [1_000usize, 10_000, 100_000] {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| pi::spigot::digits(n))
        });
    }
    group.finish();
}

fn baseline(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for n in [1_000usize, 10_000] {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| baseline::digits(n))
        });
    }
    group.finish();
}

fn chudnovsky(c: &mut Criterion) {
    let mut group = c.benchmark_group("chudnovsky");
    group.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| pi::chudnovsky::digits(n))
        });
    }
    group.finish();
}

criterion_group!(benches, spigot, baseline, chudnovsky);
criterion_main!(benches);
