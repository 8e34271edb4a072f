//! `cargo xtask deploy`: build and package the function, then create it or update its code
//! with the user's `aws` CLI, running the very commands `cargo xtask package` prints, and check
//! that AWS ends up with the CodeSha256 of the zip built here ([`lambda_kit::aws::deploy`]).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use lambda_kit::aws;
use lambda_kit::aws::cli::GlobalOptions;
use lambda_kit::aws::deploy::Deployment;
use lambda_kit::builder::BuildArgs;
use lambda_kit::command::ShellArgs;
use lambda_kit::pipeline::Lambda;
use lambda_kit::workspace::settings::SettingsFlags;
use lambda_kit::workspace::{FunctionArgs, Kind};

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
    /// Publish an extension (a binary of a package that depends on lambda-extension) as a new
    /// layer version instead: `aws lambda publish-layer-version`, then its ARN is printed.
    #[arg(long, conflicts_with = "zip")]
    pub extension: bool,
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
    let cwd = std::env::current_dir().context("reading the current directory")?;
    if args.extension {
        return publish_extension(args, aws.as_deref(), &cwd);
    }
    let lambda = Lambda::from_flags(&args.function, &args.settings, &args.build, "deploy")?;
    let local = lambda.settings.local_layers();
    if !local.is_empty() {
        bail!(
            "the layers {local:?} are local (a zip, or an extension of the workspace): a deployed \
             function names layer versions by ARN. Publish the extension first with `cargo xtask \
             deploy --extension --bin NAME` and pass the ARN it prints with --layer (or deploy \
             with a template: `cargo xtask template` publishes and wires it); nothing was sent"
        );
    }
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
    let deployment = Deployment::new(&zip, &lambda.settings, &args.aws, &cwd);
    let shell = args.shell.shell();
    match aws {
        None => deployment.dry_run(shell)?,
        Some(aws) => deployment.run(&aws, shell)?,
    }
    Ok(())
}

/// `deploy --extension`: package the extension as a layer and publish a new version of it.
fn publish_extension(
    args: &DeployArgs,
    aws: Option<&std::path::Path>,
    cwd: &std::path::Path,
) -> Result<()> {
    let mut chosen = Lambda::all_from_flags(
        &args.function,
        false,
        Some(Kind::Extension),
        &args.settings,
        &args.build,
        "deploy",
    )?;
    let extension = chosen.remove(0);
    let layer = extension.package_layer(None)?;
    let shell = args.shell.shell();
    match aws {
        None => aws::layer::dry_run(&layer, &args.aws, cwd, shell)?,
        Some(aws) => {
            let published = aws::layer::publish(aws, &layer, &args.aws, cwd)?;
            println!(
                "Published the layer {} version {} ({}, CodeSha256 {}):\n{}",
                layer.extension, published.version, layer.arch, layer.sha256, published.arn
            );
        }
    }
    Ok(())
}
