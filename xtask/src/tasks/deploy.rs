//! `cargo xtask deploy`: build and package the function, then create it or update its code
//! with the user's `aws` CLI, running the very commands `cargo xtask package` prints, and check
//! that AWS ends up with the CodeSha256 of the zip built here ([`lambda_kit::aws::deploy`]).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use lambda_kit::aws;
use lambda_kit::aws::cli::GlobalOptions;
use lambda_kit::aws::deploy::Deployment;
use lambda_kit::aws::function_url::{InvokeMode, UrlAuth, UrlPlan};
use lambda_kit::builder::BuildArgs;
use lambda_kit::command::ShellArgs;
use lambda_kit::pipeline::Lambda;
use lambda_kit::workspace::function_url::UrlLevel;
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
    /// Put the function behind a function URL (created, or updated to these settings), with
    /// the resource-policy statements a public URL needs; prints the URL [metadata:
    /// function_url = true].
    #[arg(long)]
    pub function_url: bool,
    /// Who may call the URL: anyone (NONE) or signed AWS principals (AWS_IAM) [metadata:
    /// function_url_auth; default: NONE].
    #[arg(long, value_enum)]
    pub function_url_auth: Option<UrlAuth>,
    /// How the URL invokes the function: BUFFERED (answers up to 6 MB) or RESPONSE_STREAM
    /// (streamed, up to 200 MB) [metadata: invoke_mode; default: BUFFERED].
    #[arg(long, value_enum)]
    pub invoke_mode: Option<InvokeMode>,
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
    let deployment = Deployment::new(&zip, &lambda.settings, &args.aws, &cwd).with_invoke_payload(
        lambda_kit::pipeline::report::invoke_payload(&lambda.function),
    );
    let shell = args.shell.shell();
    let flags = UrlLevel {
        enabled: args.function_url.then_some(true),
        auth: args.function_url_auth,
        invoke_mode: args.invoke_mode,
    };
    let url = flags
        .over(&lambda.function.deploy.function_url)
        .resolve()
        .map(|settings| UrlPlan::new(&lambda.settings.function_name, settings, &args.aws));
    if url.is_none() && (args.function_url_auth.is_some() || args.invoke_mode.is_some()) {
        anyhow::bail!(
            "--function-url-auth and --invoke-mode set up a function URL: add --function-url (or \
             function_url = true in [package.metadata.lambda.deploy])"
        );
    }
    match aws {
        None => {
            deployment.dry_run(shell)?;
            if let Some(url) = &url {
                print!("\n{}", url.render(shell)?);
            }
        }
        Some(aws) => {
            deployment.run(&aws, shell)?;
            if let Some(url) = &url {
                let name = &lambda.settings.function_name;
                let address = url
                    .apply(&aws, name, &args.aws)
                    .with_context(|| format!("putting {name} behind a function URL"))?;
                println!(
                    "Function URL ({}, {}): {address}",
                    url.settings.auth.name(),
                    url.settings.invoke_mode.name()
                );
                println!("\nThe same by hand:\n\n{}", url.render(shell)?);
            }
        }
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
