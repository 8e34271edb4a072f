//! `cargo xtask package`: build a function (or package a binary built elsewhere), check the
//! binary, zip it as `bootstrap` into `dist/[<bin>/]lambda-<arch>.zip` and print the commands
//! that create or update the function.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use lambda_kit::arch::Arch;
use lambda_kit::artifact::package::{self, Package, Packaging};
use lambda_kit::aws;
use lambda_kit::aws::cli::{FunctionSettings, SettingsFlags};
use lambda_kit::build::{self, BuildArgs};
use lambda_kit::command::{self, Cmd, Shell, ShellArgs};
use lambda_kit::workspace::{self, Function, FunctionArgs, Workspace};

#[derive(Debug, Clone, Args)]
pub struct PackageArgs {
    #[command(flatten)]
    pub function: FunctionArgs,
    /// Package every function of the workspace.
    #[arg(long, conflicts_with_all = ["output", "binary"])]
    pub all: bool,
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
    /// Also write the zip's files (bootstrap, includes) into DIR, with the zip's modes and
    /// fixed date: what `sam build` runs this for, with DIR = $(ARTIFACTS_DIR) (see
    /// `cargo xtask template --format sam`).
    #[arg(long, value_name = "DIR", conflicts_with = "all")]
    pub extract: Option<PathBuf>,
    /// Print JSON (path, arch, target, runtime, size, sha256, commands, …) instead of text: one
    /// object, or an array of them with --all.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub shell: ShellArgs,
}

/// A function packaged, with the settings its commands were made from.
pub struct Packaged {
    pub function: Function,
    pub settings: FunctionSettings,
    pub package: Package,
}

pub fn run(args: &PackageArgs) -> Result<()> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let packaged = match &args.binary {
        Some(binary) => vec![package_prebuilt(args, binary, &cwd)?],
        None => {
            let workspace = Workspace::load(args.function.manifest_path.as_deref())?;
            let functions = workspace.select(&args.function.selection(args.all), "package")?;
            let mut packaged = Vec::new();
            for function in functions {
                let settings = args.settings.resolve(function)?;
                let package = build_and_package(
                    &workspace,
                    function,
                    &settings,
                    &args.build,
                    args.output.as_deref(),
                )?;
                packaged.push(Packaged {
                    function: function.clone(),
                    settings,
                    package,
                });
            }
            packaged
        }
    };
    if let Some(dir) = &args.extract {
        for p in &packaged {
            let written = package::extract_zip(&p.package.path, dir)?;
            eprintln!(
                "extracted {} file(s) of {} into {}",
                written.len(),
                workspace::shown_from(&p.package.path, &cwd),
                workspace::shown_from(dir, &cwd)
            );
        }
    }
    let shell = args.shell.shell();
    if args.json {
        let reports = packaged
            .iter()
            .map(|p| json_report(p, &cwd, shell))
            .collect::<Result<Vec<_>>>()?;
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
    for (index, p) in packaged.iter().enumerate() {
        if index > 0 {
            println!();
        }
        let commands = Commands::for_package(&p.package, &p.settings, &cwd);
        let invoke = aws::cli::InvokeHint::new(
            &p.settings.function_name,
            &aws::cli::GlobalOptions::default(),
            installed,
        )
        .place_files(zip_dir(&p.package.path), &cwd);
        command::write_files(commands.all().chain(invoke.commands()), shell)?;
        print!("{}", render_summary(&p.package, &commands, &cwd, shell)?);
        print!(
            "\nThen {}",
            invoke.render(shell)?.replacen("Invoke", "invoke", 1)
        );
    }
    Ok(())
}

/// The folder of a zip, where the files of the printed commands go.
pub fn zip_dir(zip: &Path) -> &Path {
    zip.parent().unwrap_or(Path::new("."))
}

/// `--binary PATH`: no workspace, no cargo; the settings are the flags over the defaults.
fn package_prebuilt(args: &PackageArgs, binary: &Path, cwd: &Path) -> Result<Packaged> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let info = lambda_kit::artifact::elf::inspect(&bytes)
        .with_context(|| format!("checking {}", binary.display()))?;
    let arch = info.arch.with_context(|| {
        format!(
            "{} is built for ELF machine {}, not for a Lambda architecture (x86_64 or arm64)",
            binary.display(),
            info.machine
        )
    })?;
    let name = binary
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| lambda_kit::validate::function_name(s).is_ok() && s != "bootstrap")
        .unwrap_or_else(|| "function".to_string());
    let function = Function {
        package: name.clone(),
        bin: name,
        manifest_path: cwd.join("Cargo.toml"),
        deploy: Default::default(),
        local_env: Default::default(),
    };
    let settings = args.settings.resolve(&function)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| cwd.join("dist").join(arch.zip_file_name()));
    let packaging = Packaging {
        arch,
        runtime: settings.runtime,
        target: None,
        builder: None,
        include: &settings.include,
    };
    let package = package::package_binary(binary, &packaging, &output)?;
    Ok(Packaged {
        function,
        settings,
        package,
    })
}

/// The JSON report of one package: today's fields first (scripts read them), then the function.
/// The commands are written for `shell` (named in `commands.shell`).
pub fn json_report(p: &Packaged, cwd: &Path, shell: Shell) -> Result<serde_json::Value> {
    let commands = Commands::for_package(&p.package, &p.settings, cwd);
    let forms = |major| {
        aws::cli::invoke(
            &p.settings.function_name,
            aws::cli::INVOKE_PAYLOAD,
            aws::cli::INVOKE_OUTFILE,
            major,
            &aws::cli::GlobalOptions::default(),
        )
        .place_files(zip_dir(&p.package.path), cwd)
    };
    let (v1, v2) = (forms(aws::cli::CliMajor::V1), forms(aws::cli::CliMajor::V2));
    command::write_files(commands.all().chain([&v1, &v2]), shell)?;
    let mut report = serde_json::to_value(&p.package).unwrap_or_default();
    report["commands"] = serde_json::json!({
        "shell": shell,
        "create_function": commands.create_function.render(shell)?,
        "update_function_code": commands.update_function_code.render(shell)?,
        "invoke": {
            "aws_cli_v1": v1.render(shell)?,
            "aws_cli_v2": v2.render(shell)?,
        },
    });
    report["function"] = serde_json::json!({
        "package": p.function.package,
        "bin": p.function.bin,
        "settings": p.settings,
    });
    Ok(report)
}

/// Builds `function` for `build.arch` and packages it with its settings: the step every other
/// task starts from.
pub fn build_and_package(
    workspace: &Workspace,
    function: &Function,
    settings: &FunctionSettings,
    build: &BuildArgs,
    output: Option<&Path>,
) -> Result<Package> {
    let built = build::build(workspace, function, build)?;
    let output = output.map_or_else(
        || workspace.default_zip_path(function, build.arch),
        Path::to_path_buf,
    );
    let packaging = Packaging {
        arch: build.arch,
        runtime: settings.runtime,
        target: Some(&built.target),
        builder: Some(built.builder),
        include: &settings.include,
    };
    let mut package = package::package_binary(&built.binary, &packaging, &output)?;
    package.toolchain = Some(built.toolchain);
    Ok(package)
}

/// The function's default zip, packaged first when it is missing or when `rebuild` asks for the
/// current sources (cargo rebuilds only what changed, and the same binary gives the same zip);
/// otherwise read back and checked. Returns it and whether it was packaged now. The starting
/// point of invoke, serve, image and bench.
pub fn ensure_default_zip(
    workspace: &Workspace,
    function: &Function,
    settings: &FunctionSettings,
    build: &BuildArgs,
    rebuild: bool,
) -> Result<(Package, bool)> {
    let zip = workspace.default_zip_path(function, build.arch);
    if zip.is_file() && !rebuild {
        let zip_time = std::fs::metadata(&zip).and_then(|m| m.modified()).ok();
        if zip_time < workspace.newest_source_change(function) {
            eprintln!(
                "warning: {} is older than the function's sources, so it holds the code as it \
                 was packaged; pass --rebuild to package the current code",
                workspace::shown(&zip)
            );
        }
        return Ok((
            package::read_zip(&zip, Some(build.arch), settings.runtime)?,
            false,
        ));
    }
    eprintln!(
        "packaging {} first ({}): cargo xtask package --arch {}",
        workspace::shown(&zip),
        if rebuild {
            "--rebuild"
        } else {
            "it is missing"
        },
        build.arch
    );
    let package = build_and_package(workspace, function, settings, build, Some(&zip))
        .with_context(|| format!("packaging {}", zip.display()))?;
    Ok((package, true))
}

/// The commands printed for a package.
pub struct Commands {
    pub create_function: aws::cli::AwsCommand,
    pub update_function_code: aws::cli::AwsCommand,
}

impl Commands {
    pub fn for_package(package: &Package, settings: &FunctionSettings, cwd: &Path) -> Self {
        let settings = FunctionSettings {
            runtime: package.runtime,
            ..settings.clone()
        };
        Self::for_zip(&package.path, package.arch, &settings, cwd)
    }

    /// The commands for a zip on disk (`deploy` runs these very commands); the files of JSON
    /// values that some shells cannot pass go beside the zip.
    pub fn for_zip(zip: &Path, arch: Arch, settings: &FunctionSettings, cwd: &Path) -> Self {
        let url = aws::cli::fileb_url(zip, cwd);
        let dir = zip_dir(zip);
        Commands {
            create_function: aws::cli::create_function(settings, arch, &url).place_files(dir, cwd),
            update_function_code: aws::cli::update_function_code(settings, arch, &url)
                .place_files(dir, cwd),
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &Cmd> {
        [&self.create_function, &self.update_function_code].into_iter()
    }
}

pub fn render_summary(
    package: &Package,
    commands: &Commands,
    cwd: &Path,
    shell: Shell,
) -> Result<String> {
    let shown = workspace::shown_from(&package.path, cwd);
    let origin = match (&package.target, package.builder) {
        (Some(target), Some(builder)) => format!(
            "target {target}, built with {}",
            if builder == lambda_kit::build::Builder::Cross {
                "cross"
            } else {
                "cargo"
            }
        ),
        _ => "built elsewhere".to_string(),
    };
    let mut out = format!(
        "Packaged {path}\n  architecture: {arch} ({origin})\n  \
         bootstrap:    {binary_size} bytes, {linkage}\n  zip:          {size} bytes\n  \
         CodeSha256:   {sha}\n",
        path = shown,
        arch = package.arch,
        binary_size = package.binary_size,
        linkage = package.linkage,
        size = package.size,
        sha = package.sha256,
    );
    if let Some(toolchain) = &package.toolchain {
        out.push_str(&format!(
            "  toolchain:    {}, commit {}\n",
            toolchain.rustc, toolchain.commit_hash
        ));
    }
    if !package.includes.is_empty() {
        out.push_str(&format!(
            "  includes:     {}\n",
            package.includes.join(", ")
        ));
    }
    if let Some(note) = package.runtime.deprecation_note() {
        out.push_str(note);
        out.push('\n');
    }
    out.push_str("\nCreate the function:\n\n");
    out.push_str(&commands.create_function.render(shell)?);
    out.push_str("\n\nOr update the code of an existing one:\n\n");
    out.push_str(&commands.update_function_code.render(shell)?);
    out.push('\n');
    Ok(out)
}

/// This repository's own function, built for `build` and packaged to `output` with `runtime`:
/// what the tests and the benchmark start from.
pub fn package_repository_function(
    build: &BuildArgs,
    runtime: lambda_kit::runtime::Runtime,
    output: &Path,
) -> Result<Package> {
    let workspace = Workspace::load(Some(
        &crate::repository::repository_root().join("Cargo.toml"),
    ))?;
    let function = workspace.function(&FunctionArgs::default(), "package")?;
    let settings = FunctionSettings {
        runtime,
        ..SettingsFlags::default().resolve(function)?
    };
    build_and_package(&workspace, function, &settings, build, Some(output))
}
