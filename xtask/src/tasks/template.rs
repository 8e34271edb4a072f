//! `cargo xtask template --format cloudformation|sam`: write a CloudFormation or SAM template of
//! the chosen functions from the same resolved settings as the commands `package` prints, and
//! print the commands that deploy it.
//!
//! - CloudFormation: the functions are packaged first (cargo rebuilds only what changed) and
//!   each `Code` is its zip, relative to the template's folder, for `aws cloudformation
//!   package` and `deploy`.
//! - SAM: nothing is built now. `sam build` runs the Makefile written into the `CodeUri` folder
//!   (`sam-build/` beside the template), whose targets run this kit's `package --extract`.
//!
//! An extension of the workspace that a function's `layers` names (by binary name) becomes a
//! layer version in the template (packaged now, or built by the Makefile), and the function's
//! `Layers` refer to it; layer version ARNs are written as they are.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use lambda_kit::artifact::layer;
use lambda_kit::atomic_file;
use lambda_kit::builder::Builder;
use lambda_kit::command::{Cmd, EnvRef, Word};
use lambda_kit::command::{Shell, ShellArgs};
use lambda_kit::paths;
use lambda_kit::pipeline::Lambda;
use lambda_kit::runtime::Runtime;
use lambda_kit::template::{
    self, sam, Format, MakeArg, TemplateFunction, TemplateLayer, WRITTEN_BY,
};
use lambda_kit::workspace::settings::{LayerRef, SettingsFlags};
use lambda_kit::workspace::FunctionArgs;
use lambda_kit::workspace::Kind;

use crate::repository::repository_root;

#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// The kind of template.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Where to write it [default: dist/template/cloudformation.json or dist/template/sam.json];
    /// the paths inside are relative to its folder.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub function: FunctionArgs,
    /// Put every function of the workspace in the template.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub build: lambda_kit::builder::BuildArgs,
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// The shell of the printed commands.
    #[command(flatten)]
    pub shell: ShellArgs,
    /// The stack name in the printed deploy command [default: the function's name, or the
    /// workspace folder's name for several functions].
    #[arg(long, value_parser = stack_name)]
    pub stack_name: Option<String>,
    /// The S3 bucket the printed package command uploads the code to [default: $LAMBDA_ARTIFACTS_BUCKET
    /// for CloudFormation, a bucket SAM manages (--resolve-s3) for SAM].
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,
}

/// The shell variable the printed `aws cloudformation package` reads when no --s3-bucket was
/// given.
pub const BUCKET_VARIABLE: &str = "LAMBDA_ARTIFACTS_BUCKET";

/// A CloudFormation stack name: a letter, then letters, digits or `-`, at most 128.
fn stack_name(value: &str) -> Result<String, String> {
    let ok = value.len() <= 128
        && value.starts_with(|c: char| c.is_ascii_alphabetic())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not a stack name: a letter, then up to 127 letters, digits or '-'"
        ))
    }
}

/// `name` made into a stack name: other characters become `-`.
fn default_stack_name(name: &str) -> String {
    let mut stack: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(120)
        .collect();
    if !stack.starts_with(|c: char| c.is_ascii_alphabetic()) {
        stack.insert_str(0, "stack-");
    }
    stack
}

pub fn run(args: &TemplateArgs) -> Result<()> {
    if args.format == Format::Sam && !args.settings.include.is_empty() {
        bail!(
            "--include: the SAM template's Makefile runs `cargo xtask package` for the function, \
             which reads its files from the metadata: put them in its `include` setting instead"
        );
    }
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let lambdas = Lambda::all_from_flags(
        &args.function,
        args.all,
        Some(Kind::Function),
        &args.settings,
        &args.build,
        "template",
    )?;
    let workspace = &lambdas[0].workspace;

    let output = match &args.output {
        Some(path) => std::path::absolute(path)
            .with_context(|| format!("reading the path {}", path.display()))?,
        None => workspace
            .dist_dir()
            .join("template")
            .join(match args.format {
                Format::CloudFormation => "cloudformation.json",
                Format::Sam => "sam.json",
            }),
    };
    let folder = output.parent().context("the template needs a folder")?;
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    // Canonical, so that relative paths between it and the workspace are right through symlinks.
    let folder = canonical(folder)?;
    let output = folder.join(
        output
            .file_name()
            .context("the template needs a file name")?,
    );
    let makefile = folder.join(sam::CODE_URI).join("Makefile");
    refuse_foreign(&output)?;
    if args.format == Format::Sam {
        refuse_foreign(&makefile)?;
    }

    let layers = extension_layers(&lambdas, args.format, &folder, &cwd)?;
    let mut entries = Vec::new();
    for lambda in &lambdas {
        let zip = match args.format {
            Format::CloudFormation => {
                let zip = lambda.package(None)?;
                eprintln!(
                    "packaged {} (CodeSha256 {})",
                    paths::shown_from(&zip.path, &cwd),
                    zip.sha256
                );
                relative(&folder, &canonical(&zip.path)?)?
            }
            // Not built now: `sam build` packages it. The path is not in a SAM template.
            Format::Sam => "unused.zip".to_string(),
        };
        let package_args = match args.format {
            Format::CloudFormation => Vec::new(),
            Format::Sam => package_args_of(lambda, &folder)?,
        };
        entries.push(TemplateFunction {
            settings: lambda.settings.clone(),
            arch: args.build.arch,
            zip,
            package_args,
            function_url: lambda.function.deploy.function_url.resolve(),
        });
    }

    let text = template::render(args.format, &entries, &layers)?;
    atomic_file::write(&output, text.as_bytes())?;
    if args.format == Format::Sam {
        let kit = relative(&makefile_folder(&folder), &canonical(&repository_root())?)?;
        let make = sam::render_makefile(&entries, &layers, &kit)?;
        atomic_file::write(&makefile, make.as_bytes())?;
    }

    let old: Vec<&str> = entries
        .iter()
        .filter(|e| e.settings.runtime == Runtime::ProvidedAl2)
        .map(|e| e.settings.function_name.as_str())
        .collect();
    if !old.is_empty() {
        eprintln!(
            "warning: {} on provided.al2, which is deprecated (Lambda blocks creating functions on \
             it from 2027-02-01; cfn-lint and `sam validate --lint` flag it as W2531): pass \
             --runtime provided.al2023 or set `runtime` in the metadata",
            old.join(", ")
        );
    }

    let stack = args
        .stack_name
        .clone()
        .unwrap_or_else(|| match &entries[..] {
            [one] => default_stack_name(&one.settings.function_name),
            _ => default_stack_name(
                &workspace
                    .root
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "lambda".to_string()),
            ),
        });
    let shown = paths::shown_from(&output, &cwd);
    println!("Wrote {shown}");
    if args.format == Format::Sam {
        println!("Wrote {}", paths::shown_from(&makefile, &cwd));
    }
    print!(
        "{}",
        next_steps(
            args.format,
            &output,
            &stack,
            args.s3_bucket.as_deref(),
            &cwd,
            args.shell.shell(),
        )?
    );
    Ok(())
}

/// The layers of the extensions of the workspace that `lambdas` list in their `layers` (by
/// binary name), each once. CloudFormation: packaged now (the template's `Content` is the zip);
/// SAM: built by the Makefile. An extension is checked against the oldest runtime of the
/// functions that list it, and declares that runtime and the newer ones.
fn extension_layers(
    lambdas: &[Lambda],
    format: Format,
    folder: &Path,
    cwd: &Path,
) -> Result<Vec<TemplateLayer>> {
    let mut wanted: Vec<(&str, Runtime)> = Vec::new();
    for lambda in lambdas {
        for layer in &lambda.settings.layers {
            match LayerRef::of(layer) {
                LayerRef::Arn(_) => {}
                // Refused before anything is built.
                LayerRef::Zip(path) => bail!(
                    "{}: the layer {} is a zip, which only local runs (invoke, serve) take; a \
                     template names a layer version by ARN, or an extension of the workspace by \
                     its binary name (the template then publishes it); nothing was written",
                    lambda.settings.function_name,
                    path.display()
                ),
                LayerRef::Extension(name) => {
                    let runtime = lambda.settings.runtime;
                    match wanted.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, oldest)) if runtime.glibc() < oldest.glibc() => *oldest = runtime,
                        Some(_) => {}
                        None => wanted.push((name, runtime)),
                    }
                }
            }
        }
    }
    let mut layers = Vec::new();
    for (name, runtime) in wanted {
        let mut extension = lambdas[0]
            .workspace_extension(name, "template")
            .with_context(|| format!("the layer `{name}` a function lists"))?;
        extension.settings.runtime = runtime;
        let arch = extension.build.arch;
        layers.push(match format {
            Format::CloudFormation => {
                let zip = extension.package_layer(None)?;
                eprintln!(
                    "packaged the layer {} (CodeSha256 {})",
                    paths::shown_from(&zip.path, cwd),
                    zip.sha256
                );
                TemplateLayer {
                    extension: name.to_string(),
                    arch,
                    zip: relative(folder, &canonical(&zip.path)?)?,
                    compatible_runtimes: zip.compatible_runtimes,
                    package_args: Vec::new(),
                }
            }
            Format::Sam => {
                let mut package_args = vec![MakeArg::Literal("--extension".to_string())];
                package_args.extend(package_args_of(&extension, folder)?);
                TemplateLayer {
                    extension: name.to_string(),
                    arch,
                    zip: "unused.zip".to_string(),
                    compatible_runtimes: layer::RUNTIMES
                        .into_iter()
                        .filter(|r| r.glibc() >= runtime.glibc())
                        .collect(),
                    package_args,
                }
            }
        });
    }
    Ok(layers)
}

fn canonical(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("reading the path {}", path.display()))
}

fn makefile_folder(template_folder: &Path) -> PathBuf {
    template_folder.join(sam::CODE_URI)
}

fn relative(from: &Path, to: &Path) -> Result<String> {
    template::relative_path(from, to).with_context(|| {
        format!(
            "{} cannot be reached by a relative path from {} (another drive?)",
            to.display(),
            from.display()
        )
    })
}

/// A file the kit would overwrite must be one it wrote: a template or Makefile of the user's own
/// is left alone.
fn refuse_foreign(path: &Path) -> Result<()> {
    match std::fs::read_to_string(path) {
        Ok(text)
            if !text.contains(WRITTEN_BY) && !text.contains("Written by cargo xtask template") =>
        {
            bail!(
                "{} exists and was not written by `cargo xtask template`; move it away or pass \
                 another --output",
                path.display()
            )
        }
        _ => Ok(()),
    }
}

/// The `package` arguments of the Makefile's target for `function`: the workspace (when it is
/// not the kit's own), the function, and what decides the build. Settings that do not change
/// the artifact (memory, environment, …) live in the template only.
fn package_args_of(lambda: &Lambda, template_folder: &Path) -> Result<Vec<MakeArg>> {
    let (function, settings, build) = (&lambda.function, &lambda.settings, &lambda.build);
    let lit = |s: &str| MakeArg::Literal(s.to_string());
    let mut out = Vec::new();
    let root = canonical(&lambda.workspace.root)?;
    if root != canonical(&repository_root())? {
        out.push(lit("--manifest-path"));
        out.push(MakeArg::FromMakefile(relative(
            &makefile_folder(template_folder),
            &root.join("Cargo.toml"),
        )?));
    }
    out.extend([
        lit("--package"),
        lit(&function.package),
        lit("--bin"),
        lit(&function.bin),
        lit("--arch"),
        lit(build.arch.lambda_name()),
        // The runtime decides the glibc check.
        lit("--runtime"),
        lit(settings.runtime.name()),
    ]);
    if build.builder != Builder::Auto {
        let value = build
            .builder
            .to_possible_value()
            .expect("no hidden builders");
        out.extend([lit("--builder"), lit(value.get_name())]);
    }
    if let Some(target) = &build.target {
        out.extend([lit("--target"), lit(target)]);
    }
    Ok(out)
}

/// The commands that follow, rendered for `shell` by the kit's one command renderer.
fn next_steps(
    format: Format,
    template: &Path,
    stack: &str,
    bucket: Option<&str>,
    cwd: &Path,
    shell: Shell,
) -> Result<String> {
    let shown = paths::shown_from(template, cwd);
    let bucket_word = |bucket: Option<&str>| match bucket {
        Some(bucket) => Word::lit(bucket),
        None => Word::Env(EnvRef::new(BUCKET_VARIABLE, "an S3 bucket for the code")),
    };
    let rendered = |commands: &[Cmd]| -> Result<Vec<String>> {
        Ok(commands
            .iter()
            .map(|c| c.render(shell))
            .collect::<Result<_, _>>()?)
    };
    Ok(match format {
        Format::CloudFormation => {
            let packaged = template.with_extension("packaged.json");
            let packaged = paths::shown_from(&packaged, cwd);
            let package = Cmd::aws(&["cloudformation", "package"])
                .option("--template-file", &shown)
                .option("--output-template-file", &packaged)
                .flag("--use-json")
                .value_option("--s3-bucket", bucket_word(bucket));
            let deploy = Cmd::aws(&["cloudformation", "deploy"])
                .option("--template-file", &packaged)
                .option("--stack-name", stack)
                .option("--capabilities", "CAPABILITY_IAM")
                .flag("--no-fail-on-empty-changeset");
            let [package, deploy] =
                <[String; 2]>::try_from(rendered(&[package, deploy])?).expect("two commands");
            format!(
                "\nUpload the zips and write the packaged template:\n\n{package}\n\nThen create \
                 or update the stack:\n\n{deploy}\n"
            )
        }
        Format::Sam => {
            let lint = Cmd::new("sam", &["validate"])
                .flag("--lint")
                .option("--template-file", &shown);
            let build = Cmd::new("sam", &["build"]).option("--template-file", &shown);
            let deploy = Cmd::new("sam", &["deploy"])
                .option("--template-file", ".aws-sam/build/template.yaml")
                .option("--stack-name", stack)
                .option("--capabilities", "CAPABILITY_IAM")
                .flag("--no-fail-on-empty-changeset");
            let deploy = match bucket {
                Some(bucket) => deploy.option("--s3-bucket", bucket),
                None => deploy.flag("--resolve-s3"),
            };
            let [lint, build, deploy] =
                <[String; 3]>::try_from(rendered(&[lint, build, deploy])?).expect("three commands");
            format!(
                "\nCheck it, build (the Makefile runs cargo xtask package), then deploy:\n\n\
                 {lint}\n\n{build}\n\n{deploy}\n"
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names() {
        assert_eq!(default_stack_name("calculate-pi"), "calculate-pi");
        assert_eq!(default_stack_name("my_fn"), "my-fn");
        assert_eq!(default_stack_name("2-packages"), "stack-2-packages");
        assert!(stack_name("ok-1").is_ok());
        assert!(stack_name("1bad").is_err() && stack_name("a_b").is_err());
    }

    #[test]
    fn the_printed_commands() {
        let cwd = Path::new("/w");
        let cfn = next_steps(
            Format::CloudFormation,
            Path::new("/w/dist/template/cloudformation.json"),
            "pi",
            None,
            cwd,
            Shell::Posix,
        )
        .unwrap();
        assert!(cfn.contains(
            "aws cloudformation package \\\n  --template-file dist/template/cloudformation.json \\\n  \
             --output-template-file dist/template/cloudformation.packaged.json \\\n  --use-json \\\n  \
             --s3-bucket \"${LAMBDA_ARTIFACTS_BUCKET:?"
        ));
        assert!(cfn.contains(
            "aws cloudformation deploy \\\n  --template-file dist/template/cloudformation.packaged.json \\\n  \
             --stack-name pi \\\n  --capabilities CAPABILITY_IAM \\\n  --no-fail-on-empty-changeset\n"
        ));
        let sam = next_steps(
            Format::Sam,
            Path::new("/w/dist/template/sam.json"),
            "pi",
            Some("my bucket"),
            cwd,
            Shell::Posix,
        )
        .unwrap();
        assert!(sam.contains("sam build \\\n  --template-file dist/template/sam.json\n"));
        assert!(sam.contains("sam deploy \\\n  --template-file .aws-sam/build/template.yaml \\\n"));
        assert!(sam.contains("  --s3-bucket 'my bucket'\n"));
    }
}
