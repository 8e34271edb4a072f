//! `cargo xtask <task>`: see `cargo xtask --help`. This file only dispatches.

use clap::{Parser, Subcommand};

use xtask::{invoke, package, serve};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, package and ship the calculate-pi Lambda function"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the function and zip it as bootstrap into dist/lambda-<arch>.zip.
    Package(package::PackageArgs),
    /// Run dist/lambda-<arch>.zip locally in a Lambda Runtime API emulator and print the
    /// response and CloudWatch's START/END/REPORT lines.
    Invoke(invoke::InvokeArgs),
    /// Serve the function locally behind AWS's Invoke endpoint (for `aws lambda invoke
    /// --endpoint-url`, boto3, the SDKs).
    Serve(serve::ServeArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Package(args) => package::run(&args),
        Task::Invoke(args) => invoke::run(&args),
        Task::Serve(args) => serve::run(&args),
    }
}
