//! `cargo xtask deploy`: build and package the function, then create it or update its code
//! with the user's `aws` CLI, running the very commands `cargo xtask package` prints, and check
//! that AWS ends up with the CodeSha256 of the zip built here ([`lambda_kit::aws::deploy`]).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use lambda_kit::aws;
use lambda_kit::aws::cli::GlobalOptions;
use lambda_kit::aws::deploy::Deployment;
use lambda_kit::builder::BuildArgs;
use lambda_kit::command::ShellArgs;
use lambda_kit::pipeline::Lambda;
use lambda_kit::workspace::settings::SettingsFlags;
use lambda_kit::workspace::FunctionArgs;

#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub function: FunctionArgs,
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub settings: SettingsFlags,
    #[command(flatten)]
    pub aws: GlobalOptions,
    /// Deploy this zip (made by `cargo xtask package`) as it is, instead of building and
    /// packaging first.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["target", "builder"])]
    pub zip: Option<PathBuf>,
    /// Print the aws commands deploy would run, and run none of them.
    #[arg(long)]
    pub dry_run: bool,
    /// The shell of the printed commands (--dry-run, and those the messages suggest).
    #[command(flatten)]
    pub shell: ShellArgs,
}

pub fn run(args: &DeployArgs) -> Result<()> {
    // Before a build that may take minutes: is there a CLI to deploy with?
    let aws = if args.dry_run {
        None
    } else {
        Some(aws::client::program().context("deploy runs the aws CLI")?)
    };
    let lambda = Lambda::from_flags(&args.function, &args.settings, &args.build, "deploy")?;
    let zip = match &args.zip {
        Some(zip) => lambda.read_zip(zip).with_context(|| {
            format!(
                "checking {} for --arch {}; nothing was sent",
                zip.display(),
                args.build.arch
            )
        })?,
        None => lambda.package(None)?,
    };
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let deployment = Deployment::new(&zip, &lambda.settings, &args.aws, &cwd).with_invoke_payload(
        lambda_kit::pipeline::report::invoke_payload(&lambda.function),
    );
    let shell = args.shell.shell();
    match aws {
        None => deployment.dry_run(shell)?,
        Some(aws) => deployment.run(&aws, shell)?,
    }
    Ok(())
}
