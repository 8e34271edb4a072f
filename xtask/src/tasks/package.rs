//! `cargo xtask package`: build a function (or package a binary built elsewhere), check the
//! binary, zip it as `bootstrap` into `dist/[<bin>/]lambda-<arch>.zip` and print the commands
//! that create or update the function.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use lambda_kit::artifact::deployment;
use lambda_kit::artifact::layer::{self, LayerZip};
use lambda_kit::aws;
use lambda_kit::aws::cli::{GlobalOptions, InvokeHint, ZipCommands};
use lambda_kit::builder::BuildArgs;
use lambda_kit::command::{self, ShellArgs};
use lambda_kit::paths;
use lambda_kit::pipeline::{self, report, Lambda, Zipped};
use lambda_kit::workspace::settings::SettingsFlags;
use lambda_kit::workspace::{FunctionArgs, Kind};

#[derive(Debug, Clone, Args)]
pub struct PackageArgs {
    #[command(flatten)]
    pub function: FunctionArgs,
    /// Package every function of the workspace, and every extension as a layer (with
    /// --extension: every extension only).
    #[arg(long, conflicts_with_all = ["output", "binary"])]
    pub all: bool,
    /// Package an extension (a binary of a package that depends on lambda-extension) as a
    /// layer: a zip with the binary at extensions/<bin> [default output:
    /// dist/<bin>/layer-<arch>.zip].
    #[arg(long, conflicts_with = "binary")]
    pub extension: bool,
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// Package this Linux binary, built elsewhere (another CI step or machine), instead of
    /// building: the same checks, zip and commands, with no cargo needed. Its architecture is
    /// read from the ELF header.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["target", "builder"])]
    pub binary: Option<PathBuf>,
    /// Where to write the zip [default: dist/lambda-<arch>.zip; dist/<bin>/lambda-<arch>.zip in
    /// a workspace of several functions].
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Also write the zip's files (bootstrap, includes; a layer's extensions/<bin>) into DIR,
    /// with the zip's modes and fixed date: what `sam build` runs this for, with DIR =
    /// $(ARTIFACTS_DIR) (see `cargo xtask template --format sam`).
    #[arg(long, value_name = "DIR", conflicts_with = "all")]
    pub extract: Option<PathBuf>,
    /// Print JSON (path, arch, target, runtime, size, sha256, commands, …) instead of text: one
    /// object, or an array of them with --all.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub shell: ShellArgs,
}

pub fn run(args: &PackageArgs) -> Result<()> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let zipped = match &args.binary {
        Some(binary) => vec![pipeline::package_prebuilt(
            binary,
            &args.settings,
            args.output.as_deref(),
            &args.function,
            &cwd,
        )?],
        None => {
            let kind = match (args.extension, args.all) {
                (true, _) => Some(Kind::Extension),
                (false, true) => None,
                (false, false) => Some(Kind::Function),
            };
            let lambdas = Lambda::all_from_flags(
                &args.function,
                args.all,
                kind,
                &args.settings,
                &args.build,
                "package",
            )?;
            let (extensions, functions): (Vec<_>, Vec<_>) = lambdas
                .into_iter()
                .partition(|l| l.function.kind == Kind::Extension);
            let mut layers = Vec::new();
            for lambda in extensions {
                layers.push(lambda.package_layer(args.output.as_deref())?);
            }
            if let Some(dir) = &args.extract {
                for layer in &layers {
                    let written = layer::extract_layer(&layer.path, dir)?;
                    report_extracted(written.len(), &layer.path, dir, &cwd);
                }
            }
            if !layers.is_empty() {
                report_layers(&layers, args, &cwd)?;
                if functions.is_empty() {
                    return Ok(());
                }
                println!();
            }
            let mut zipped = Vec::new();
            for lambda in functions {
                let zip = lambda.package(args.output.as_deref())?;
                zipped.push(Zipped {
                    function: lambda.function,
                    settings: lambda.settings,
                    zip,
                });
            }
            zipped
        }
    };
    if let Some(dir) = &args.extract {
        for z in &zipped {
            let written = deployment::extract_zip(&z.zip.path, dir)?;
            report_extracted(written.len(), &z.zip.path, dir, &cwd);
        }
    }
    let shell = args.shell.shell();
    if args.json {
        let reports = zipped
            .iter()
            .map(|z| report::json(z, &cwd, shell))
            .collect::<Result<Vec<_>, _>>()?;
        let json = if args.all {
            serde_json::Value::Array(reports)
        } else {
            reports.into_iter().next().unwrap_or_default()
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    // A prebuilt binary is packaged where there may be no aws at all (a CI step): the hint then
    // shows both forms instead of asking `aws --version`.
    let installed = match args.binary {
        Some(_) => None,
        None => aws::client::installed_version(),
    };
    for (index, z) in zipped.iter().enumerate() {
        if index > 0 {
            println!();
        }
        let commands = ZipCommands::new(&z.zip, &z.settings, &cwd);
        let invoke = InvokeHint::with_payload(
            &z.settings.function_name,
            &report::invoke_payload(&z.function),
            &GlobalOptions::default(),
            installed,
        )
        .place_files(aws::cli::zip_dir(&z.zip.path), &cwd);
        command::write_files(commands.all().chain(invoke.commands()), shell)?;
        print!("{}", report::summary(z, &commands, &cwd, shell)?);
        print!(
            "\nThen {}",
            invoke.render(shell)?.replacen("Invoke", "invoke", 1)
        );
    }
    Ok(())
}

fn report_extracted(
    files: usize,
    zip: &std::path::Path,
    dir: &std::path::Path,
    cwd: &std::path::Path,
) {
    eprintln!(
        "extracted {files} file(s) of {} into {}",
        paths::shown_from(zip, cwd),
        paths::shown_from(dir, cwd)
    );
}

/// What `package --extension` prints: each layer, and the command that publishes it (the one
/// `deploy --extension` runs); with --json, the layers as JSON.
fn report_layers(layers: &[LayerZip], args: &PackageArgs, cwd: &std::path::Path) -> Result<()> {
    let shell = args.shell.shell();
    if args.json {
        let reports = layers
            .iter()
            .map(|layer| report::layer_json(layer, cwd, shell))
            .collect::<Result<Vec<_>, _>>()?;
        let json = if args.all {
            serde_json::Value::Array(reports)
        } else {
            reports.into_iter().next().unwrap_or_default()
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    for (index, layer) in layers.iter().enumerate() {
        if index > 0 {
            println!();
        }
        print!("{}", report::layer_summary(layer, cwd, shell)?);
    }
    Ok(())
}
