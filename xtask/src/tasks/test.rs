//! `cargo xtask test` (`make test`): set up the test tools, then check formatting and lints and
//! run every test of the workspace, unit and end to end.

use std::process::Command;

use anyhow::Result;
use clap::Args;

use crate::repository::{repository_root, Venv};
use crate::tasks::setup::{self, SetupArgs};
use lambda_kit::command;

#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// Arguments passed on to `cargo test` (e.g. a test name filter), after `--`.
    #[arg(last = true)]
    pub cargo_test_args: Vec<String>,
}

/// The other hosts' targets `make test` checks the kit for.
pub const CHECK_TARGETS: [&str; 2] = ["x86_64-pc-windows-gnu", "aarch64-apple-darwin"];

pub fn run(args: &TestArgs) -> Result<()> {
    setup::run(&SetupArgs {})?;
    let cargo = command::cargo();
    let root = repository_root();
    command::run(
        Command::new(&cargo)
            .current_dir(&root)
            .args(["fmt", "--all", "--", "--check"]),
        "checking formatting (fix with `cargo fmt --all`)",
    )?;
    command::run(
        Command::new(&cargo).current_dir(&root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
        "running clippy",
    )?;
    // The kit (xtask and lambda-kit, tests included) must build on the hosts developers use
    // beyond Linux; checking is enough here (tests/windows.rs also runs the Windows build under
    // Wine). The function itself only ever runs on Lambda's Linux. One cargo call for both
    // targets keeps both cores busy to the end.
    let mut check = Command::new(&cargo);
    check.current_dir(&root).args([
        "check",
        "--package",
        "xtask",
        "--package",
        "lambda-kit",
        "--all-targets",
        "--locked",
    ]);
    for target in CHECK_TARGETS {
        check.args(["--target", target]);
    }
    command::run(
        &mut check,
        &format!("checking the kit for {}", CHECK_TARGETS.join(" and ")),
    )?;
    // The test tools of .venv come first on PATH, so tests and the programs they start find the
    // pinned `aws` and `moto_server`.
    let path = std::env::join_paths(std::iter::once(Venv::Test.bin_dir()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))?;
    Ok(command::run(
        Command::new(&cargo)
            .current_dir(&root)
            .env("PATH", path)
            .args(["test", "--workspace", "--locked"])
            .args(&args.cargo_test_args),
        "running the tests",
    )?)
}
