//! `cargo xtask <task>`: see `cargo xtask help`. This file only dispatches.

use clap::{Parser, Subcommand};

use xtask::tasks::{
    bench, bench_serve, clean, deploy, image, invoke, new, package, serve, setup, template, test,
};

const MAKE_TARGETS: &str = "\
Make targets (each runs one task):
  make build-x86    cargo xtask package --arch x86_64   -> dist/lambda-x86_64.zip
  make build-arm    cargo xtask package --arch arm64    -> dist/lambda-arm64.zip
  make build        both of the above
  make image-x86    cargo xtask image --arch x86_64 --rebuild  -> dist/lambda-x86_64-image.tar
  make image-arm    cargo xtask image --arch arm64 --rebuild   -> dist/lambda-arm64-image.tar
  make invoke-x86   cargo xtask invoke --arch x86_64 --rebuild  (the zip in the local emulator)
  make invoke-arm   cargo xtask invoke --arch arm64 --rebuild   (under qemu-aarch64)
  make bench        cargo xtask bench --rebuild (both zips in the emulator, baseline, node: dist/bench/)
  make test         cargo xtask test (installs the test tools, then fmt, clippy, all tests)
  make clean        cargo xtask clean

Every task takes --manifest-path PATH (another workspace), and --package/--bin to choose
among several functions.";

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Build, package, run and ship the Rust Lambda functions of a Cargo workspace, without cargo-lambda",
    after_help = MAKE_TARGETS
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Create a new function package at PATH (JSON, --http, --event-type KIND or --extension),
    /// ready to invoke, serve and deploy; it joins the workspace above PATH.
    New(new::NewArgs),
    /// Build the function and zip it as bootstrap into dist/lambda-<arch>.zip.
    Package(package::PackageArgs),
    /// Package, then create the function or update its code with the aws CLI, and check the
    /// CodeSha256 AWS reports.
    Deploy(deploy::DeployArgs),
    /// Write dist/lambda-<arch>-image.tar, an OCI image of the function, without Docker.
    Image(image::ImageArgs),
    /// Write a CloudFormation or SAM template of the functions (from the same settings), and
    /// print the commands that deploy it.
    Template(template::TemplateArgs),
    /// Install the test tools (rustup targets, Debian packages, .venv, .venv-sam).
    Setup(setup::SetupArgs),
    /// Set up, then check formatting and lints and run all tests.
    Test(test::TestArgs),
    /// Remove dist/ artifacts and the function's release builds.
    Clean(clean::CleanArgs),
    /// Run dist/lambda-<arch>.zip locally in a Lambda Runtime API emulator and print the
    /// response and CloudWatch's START/END/REPORT lines.
    Invoke(invoke::InvokeArgs),
    /// Serve the function locally behind AWS's Invoke endpoint (for `aws lambda invoke
    /// --endpoint-url`, boto3, the SDKs).
    Serve(serve::ServeArgs),
    /// Benchmark the zips in the emulator (Duration, Init Duration, Max Memory Used) beside the
    /// baseline and node; writes dist/bench/report.md and SVG charts.
    Bench(bench::BenchArgs),
    /// Load `serve` over loopback with boto3 clients at several concurrencies (throughput,
    /// latency, cold starts, 429s, memory); writes docs/bench/serve-load.md.
    BenchServe(bench_serve::BenchServeArgs),
}

fn main() -> anyhow::Result<()> {
    // Errors are for users: the context chain says what failed. A backtrace only when asked
    // for in particular (RUST_LIB_BACKTRACE=1), not whenever RUST_BACKTRACE is set for panics.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    match Cli::parse().task {
        Task::New(args) => new::run(&args),
        Task::Package(args) => package::run(&args),
        Task::Deploy(args) => deploy::run(&args),
        Task::Image(args) => image::run(&args),
        Task::Template(args) => template::run(&args),
        Task::Setup(args) => setup::run(&args),
        Task::Test(args) => test::run(&args),
        Task::Clean(args) => clean::run(&args),
        Task::Invoke(args) => invoke::run(&args),
        Task::Serve(args) => serve::run(&args),
        Task::Bench(args) => bench::run(&args),
        Task::BenchServe(args) => bench_serve::run(&args),
    }
}
