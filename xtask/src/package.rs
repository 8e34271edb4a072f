//! `cargo xtask package`: build the function, check the binary, zip it as `bootstrap` into
//! `dist/lambda-<arch>.zip` and print the commands that create or update the function.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use crate::arch::Arch;
use crate::atomic_file;
use crate::aws_cli::{self, FunctionSettings};
use crate::build::{self, BuildArgs, Builder};
use crate::elf_check;
use crate::lambda_zip;
use crate::project;
use crate::runtime::Runtime;

#[derive(Debug, Clone, Args)]
pub struct PackageArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub function: FunctionSettings,
    /// Where to write the zip [default: dist/lambda-<arch>.zip].
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Print one JSON object (path, arch, target, runtime, size, sha256, commands) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A deployment package written to disk and checked.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    pub path: PathBuf,
    pub arch: Arch,
    pub target: String,
    pub builder: Builder,
    pub runtime: Runtime,
    /// Bytes of the zip.
    pub size: u64,
    /// Bytes of the bootstrap, unzipped.
    pub binary_size: u64,
    /// CodeSha256 as Lambda reports it: base64 of the SHA-256 of the zip.
    pub sha256: String,
    /// "static" or "dynamic, needs GLIBC_x.y".
    pub linkage: String,
}

pub fn run(args: &PackageArgs) -> Result<()> {
    let package = build_and_package(&args.build, args.function.runtime, args.output.as_deref())?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let commands = Commands::for_package(&package, &args.function, &cwd);
    if args.json {
        let report = serde_json::json!({
            "path": package.path,
            "arch": package.arch,
            "target": package.target,
            "builder": package.builder,
            "runtime": package.runtime,
            "size": package.size,
            "binary_size": package.binary_size,
            "sha256": package.sha256,
            "linkage": package.linkage,
            "commands": {
                "create_function": commands.create_function.render(),
                "update_function_code": commands.update_function_code.render(),
                "invoke": invoke_json(&args.function.function_name),
            },
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_summary(&package, &commands, &cwd));
        let installed = crate::aws_run::installed_version();
        let invoke = aws_cli::render_invoke(
            &args.function.function_name,
            &aws_cli::GlobalOptions::default(),
            installed,
        );
        print!("\nThen {}", invoke.replacen("Invoke", "invoke", 1));
    }
    Ok(())
}

/// Both forms of the invoke command, for `--json`.
fn invoke_json(function_name: &str) -> serde_json::Value {
    let form = |major| {
        aws_cli::invoke(
            function_name,
            aws_cli::INVOKE_PAYLOAD,
            aws_cli::INVOKE_OUTFILE,
            major,
            &aws_cli::GlobalOptions::default(),
        )
        .render()
    };
    serde_json::json!({
        "aws_cli_v1": form(aws_cli::CliMajor::V1),
        "aws_cli_v2": form(aws_cli::CliMajor::V2),
    })
}

/// Builds for `build.arch` and packages the binary: the step every other task starts from.
pub fn build_and_package(
    build: &BuildArgs,
    runtime: Runtime,
    output: Option<&Path>,
) -> Result<Package> {
    let built = build::build(build)?;
    let output = output.map_or_else(|| project::default_zip_path(build.arch), Path::to_path_buf);
    package_binary(
        &built.binary,
        build.arch,
        runtime,
        &built.target,
        built.builder,
        &output,
    )
}

/// `dist/lambda-<arch>.zip`, packaged first when it is missing or when `rebuild` asks for the
/// current sources (cargo rebuilds only what changed, and the same binary gives the same zip);
/// returns it and whether it was packaged now. The starting point of invoke, serve, image and
/// bench.
pub fn ensure_default_zip(
    build: &BuildArgs,
    runtime: Runtime,
    rebuild: bool,
) -> Result<(PathBuf, bool)> {
    let zip = project::default_zip_path(build.arch);
    if zip.is_file() && !rebuild {
        let zip_time = std::fs::metadata(&zip).and_then(|m| m.modified()).ok();
        if zip_time < project::newest_source_change() {
            eprintln!(
                "warning: {} is older than the function's sources, so it holds the code as it \
                 was packaged; pass --rebuild to package the current code",
                project::shown(&zip)
            );
        }
        return Ok((zip, false));
    }
    eprintln!(
        "packaging {} first ({}): cargo xtask package --arch {}",
        project::shown(&zip),
        if rebuild {
            "--rebuild"
        } else {
            "it is missing"
        },
        build.arch
    );
    build_and_package(build, runtime, Some(&zip))
        .with_context(|| format!("packaging {}", zip.display()))?;
    Ok((zip, true))
}

/// Checks `binary` for Lambda on `arch`/`runtime`, zips it and writes the zip atomically to
/// `output`. Nothing is written when a check fails.
pub fn package_binary(
    binary: &Path,
    arch: Arch,
    runtime: Runtime,
    target: &str,
    builder: Builder,
    output: &Path,
) -> Result<Package> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let info =
        elf_check::inspect(&bytes).with_context(|| format!("checking {}", binary.display()))?;
    elf_check::check_for_lambda(&info, arch, runtime)
        .with_context(|| format!("checking {} for Lambda", binary.display()))?;
    let zip = lambda_zip::bootstrap_zip(&bytes)?;
    atomic_file::write(output, &zip)?;
    Ok(Package {
        path: output.to_path_buf(),
        arch,
        target: target.to_string(),
        builder,
        runtime,
        size: zip.len() as u64,
        binary_size: bytes.len() as u64,
        sha256: lambda_zip::code_sha256(&zip),
        linkage: info.linkage(),
    })
}

/// The commands printed for a package.
pub struct Commands {
    pub create_function: aws_cli::AwsCommand,
    pub update_function_code: aws_cli::AwsCommand,
}

impl Commands {
    pub fn for_package(package: &Package, settings: &FunctionSettings, cwd: &Path) -> Self {
        let settings = FunctionSettings {
            runtime: package.runtime,
            ..settings.clone()
        };
        Self::for_zip(&package.path, package.arch, &settings, cwd)
    }

    /// The commands for a zip on disk (`deploy` runs these very commands).
    pub fn for_zip(zip: &Path, arch: Arch, settings: &FunctionSettings, cwd: &Path) -> Self {
        let url = aws_cli::fileb_url(zip, cwd);
        Commands {
            create_function: aws_cli::create_function(settings, arch, &url),
            update_function_code: aws_cli::update_function_code(settings, arch, &url),
        }
    }
}

pub fn render_summary(package: &Package, commands: &Commands, cwd: &Path) -> String {
    let shown = project::shown_from(&package.path, cwd);
    let builder = match package.builder {
        Builder::Cross => "cross",
        _ => "cargo",
    };
    let mut out = format!(
        "Packaged {path}\n  architecture: {arch} (target {target}, built with {builder})\n  \
         bootstrap:    {binary_size} bytes, {linkage}\n  zip:          {size} bytes\n  \
         CodeSha256:   {sha}\n",
        path = shown,
        arch = package.arch,
        target = package.target,
        binary_size = package.binary_size,
        linkage = package.linkage,
        size = package.size,
        sha = package.sha256,
    );
    if let Some(note) = package.runtime.deprecation_note() {
        out.push_str(note);
        out.push('\n');
    }
    out.push_str("\nCreate the function:\n\n");
    out.push_str(&commands.create_function.render());
    out.push_str("\n\nOr update the code of an existing one:\n\n");
    out.push_str(&commands.update_function_code.render());
    out.push('\n');
    out
}
