//! `cargo xtask <task>`: see `cargo xtask --help`. This file only dispatches.

use clap::{Parser, Subcommand};

use xtask::{deploy, package};

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
    /// Package, then create the function or update its code with the aws CLI, and check the
    /// CodeSha256 AWS reports.
    Deploy(deploy::DeployArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Package(args) => package::run(&args),
        Task::Deploy(args) => deploy::run(&args),
    }
}
