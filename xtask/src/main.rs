//! `cargo xtask <task>`: see `cargo xtask --help`. This file only dispatches.

use clap::{Parser, Subcommand};

use xtask::{image, package};

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
    /// Write dist/lambda-<arch>-image.tar, an OCI image of the function, without Docker.
    Image(image::ImageArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Package(args) => package::run(&args),
        Task::Image(args) => image::run(&args),
    }
}
