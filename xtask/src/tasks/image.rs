//! `cargo xtask image`: the function as a container image, built without Docker.
//!
//! The task takes the bootstrap out of the zip `cargo xtask package` wrote (packaging first when
//! there is none), checks it again, and writes `dist/lambda-<arch>-image.tar`: an OCI image
//! archive with one layer holding `/var/runtime/bootstrap`, which `skopeo copy` pushes to ECR
//! and `docker load` loads. [`lambda_kit::artifact::oci`] builds the bytes; this module reads, checks, writes
//! and prints.
//!
//! The image is FROM scratch: it has no C library and no Runtime Interface Emulator. The static
//! musl bootstrap needs neither on Lambda, so the image is the bootstrap alone; a dynamically
//! linked (gnu) bootstrap could not even start in it, and is refused. For a glibc binary, or to
//! run the image with `docker run` and the emulator built in, use the Dockerfile, whose final
//! stage is the `provided` base image.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;

use lambda_kit::arch::Arch;
use lambda_kit::artifact::deployment::{self, DeploymentZip};
use lambda_kit::artifact::elf::{self, BinaryInfo};
use lambda_kit::artifact::lambda_zip;
use lambda_kit::artifact::oci;
use lambda_kit::atomic_file;
use lambda_kit::aws;
use lambda_kit::aws::cli::AwsCommand;
use lambda_kit::builder::BuildArgs;
use lambda_kit::command::{Cmd, EnvRef, Script, Shell, ShellArgs, Word};
use lambda_kit::paths;
use lambda_kit::pipeline::Lambda;
use lambda_kit::workspace::settings::{FunctionSettings, SettingsFlags};
use lambda_kit::workspace::FunctionArgs;

#[derive(Debug, Clone, Args)]
pub struct ImageArgs {
    /// --arch picks the image's architecture; --target and --builder apply only when the zip
    /// is packaged first (the image needs a static binary, so the default target is musl).
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub function: FunctionArgs,
    /// The function's settings for the printed commands (--runtime only applies to the zip
    /// packaged first: the image carries no runtime).
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// The zip to take the bootstrap from [default: dist/lambda-<arch>.zip, packaged first
    /// when it is missing].
    #[arg(long)]
    pub zip: Option<PathBuf>,
    /// Package the function afresh even when the zip exists.
    #[arg(long, conflicts_with = "zip")]
    pub rebuild: bool,
    /// Where to write the archive [default: dist/lambda-<arch>-image.tar].
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// ECR repository for the printed commands, ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME;
    /// without it they read $ECR_REPOSITORY_URI.
    #[arg(long, value_parser = repository_uri, conflicts_with = "image_uri")]
    pub repository_uri: Option<String>,
    /// Image tag for the printed commands [default: the architecture, e.g. x86_64]. (`--tag`
    /// is the function's resource tags, as on every task.)
    #[arg(long = "image-tag", value_parser = image_tag, conflicts_with = "image_uri")]
    pub tag: Option<String>,
    /// The whole image URI for the printed commands (REPOSITORY:TAG or REPOSITORY@sha256:…),
    /// instead of --repository-uri and --tag.
    #[arg(long, value_parser = image_uri)]
    pub image_uri: Option<String>,
    /// Print one JSON object (path, digests, sizes, commands) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub shell: ShellArgs,
}

/// The shell variable the printed commands read when no repository was given.
pub const REPOSITORY_VARIABLE: &str = "ECR_REPOSITORY_URI";

/// An image archive written to disk.
#[derive(Debug, Clone, Serialize)]
pub struct ImageArchive {
    pub path: PathBuf,
    pub arch: Arch,
    /// `linux/amd64` or `linux/arm64`, as `docker --platform` names it.
    pub platform: String,
    /// The zip the bootstrap came from.
    pub zip: PathBuf,
    /// Whether this run packaged the zip first.
    pub packaged: bool,
    /// Bytes of the archive.
    pub size: u64,
    pub bootstrap_path: String,
    pub bootstrap_size: u64,
    /// The zip's other files (`include`), where the image holds them.
    pub task_files: Vec<String>,
    pub linkage: String,
    /// Digest of the image manifest: the image's identity in ECR (`REPOSITORY@sha256:…`).
    pub manifest_digest: String,
    pub config_digest: String,
    pub layer_digest: String,
    /// The layer, compressed.
    pub layer_size: u64,
    pub diff_id: String,
    /// `repository:tag` that `docker load` gives the image.
    pub docker_tag: String,
}

pub fn run(args: &ImageArgs) -> Result<()> {
    let arch = args.build.arch;
    let (zip, lambda) = ensure_zip(args)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_image_path(&lambda.dist_dir(), arch));
    let archive = write_image(&zip, &lambda.settings.function_name, &output)?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let target = ImageTarget::from_args(args);
    let commands = ImageCommands::new(&archive, &target, &lambda.settings, &cwd);
    let shell = args.shell.shell();
    if args.json {
        let mut report = serde_json::to_value(&archive)?;
        report["commands"] = serde_json::json!({
            "shell": shell,
            "push": commands.push.render(shell)?,
            "docker_load": commands.docker_load.render(shell)?,
            "create_function": commands.create_function.render(shell)?,
            "update_function_code": commands.update_function_code.render(shell)?,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!(
            "{}",
            render_image_summary(&archive, &commands, &cwd, shell)?
        );
    }
    Ok(())
}

/// `<dist>/lambda-<arch>-image.tar`, beside the function's zip.
pub fn default_image_path(dist: &Path, arch: Arch) -> PathBuf {
    dist.join(format!("lambda-{}-image.tar", arch.lambda_name()))
}

/// The zip to read (checked), with the function it is of; the function's zip is packaged
/// first when it is missing (or `--rebuild`).
fn ensure_zip(args: &ImageArgs) -> Result<(DeploymentZip, Lambda)> {
    let arch = args.build.arch;
    let build = BuildArgs {
        // A FROM-scratch image needs a static binary: musl unless the user says otherwise.
        target: Some(
            args.build
                .target
                .clone()
                .unwrap_or_else(|| arch.local_default_target().to_string()),
        ),
        ..args.build.clone()
    };
    let lambda = Lambda::from_flags(&args.function, &args.settings, &build, "image")?;
    if let Some(zip) = &args.zip {
        if !zip.is_file() {
            bail!(
                "no zip at {}: package one with `cargo xtask package --arch {arch} --output {}`, \
                 or drop --zip to use (and, if need be, build) dist/{}",
                zip.display(),
                zip.display(),
                arch.zip_file_name()
            );
        }
        let read = deployment::read_zip_unchecked(zip, Some(arch), lambda.settings.runtime)?;
        return Ok((read, lambda));
    }
    let (zip, _) = lambda
        .ensure_zip(args.rebuild)
        .context("packaging the zip the image is made from")?;
    Ok((zip, lambda))
}

/// Takes the bootstrap from the checked deployment zip, checks it for a FROM-scratch image, and
/// writes the image archive atomically to `output`, named `<name>:<arch>` for `docker load`.
/// Nothing is written when a check fails.
pub fn write_image(
    deployment_zip: &DeploymentZip,
    name: &str,
    output: &Path,
) -> Result<ImageArchive> {
    let zip = &deployment_zip.path;
    let arch = deployment_zip.arch;
    let (entry, others) = std::fs::read(zip)
        .map_err(anyhow::Error::from)
        .and_then(|bytes| Ok(lambda_zip::read_entries(&bytes)?))
        .and_then(|entries| Ok(lambda_zip::split_bootstrap(entries)?))
        .with_context(|| format!("reading the function's files from {}", zip.display()))?;
    // Lambda unpacks a zip's symbolic links as links; the layer would turn one into a file
    // holding the link's target, so an image takes regular files (and folders) only.
    if let Some(odd) = others.iter().find(|file| {
        file.unix_mode
            .is_some_and(|mode| !matches!(mode & 0o170000, 0 | 0o100000 | 0o040000))
    }) {
        bail!(
            "{}: the entry {:?} is not a regular file (mode {:o}); an image holds regular files \
             only: replace the link by the file it points at",
            zip.display(),
            odd.name,
            odd.unix_mode.unwrap_or(0)
        );
    }
    // The zip's other files (`include`) go to the task root, as Lambda unpacks a zip.
    let task_files: Vec<oci::TaskFile> = others
        .iter()
        .map(|file| oci::TaskFile {
            path: &file.name,
            mode: file.unix_mode.unwrap_or(0o644),
            contents: &file.contents,
        })
        .collect();
    let info = &deployment_zip.binary;
    check_for_image(info, arch)
        .with_context(|| format!("checking the bootstrap in {} for an image", zip.display()))?;
    let docker_tag = format!("{name}:{}", arch.lambda_name());
    let image = oci::build_image(&oci::ImageSpec {
        arch,
        bootstrap: &entry.contents,
        task_files: &task_files,
        ref_name: arch.lambda_name(),
        docker_tag: &docker_tag,
    })?;
    let bytes = oci::archive_bytes(&image)?;
    atomic_file::write(output, &bytes)
        .with_context(|| format!("writing the image archive {}", output.display()))?;
    Ok(ImageArchive {
        path: output.to_path_buf(),
        arch,
        platform: format!("linux/{}", arch.oci_name()),
        zip: zip.to_path_buf(),
        packaged: deployment_zip.builder.is_some(),
        size: bytes.len() as u64,
        bootstrap_path: oci::BOOTSTRAP_PATH.to_string(),
        bootstrap_size: entry.contents.len() as u64,
        task_files: others
            .iter()
            .filter(|file| !file.name.ends_with('/'))
            .map(|file| format!("{}/{}", oci::TASK_ROOT, file.name))
            .collect(),
        linkage: info.linkage(),
        manifest_digest: image.manifest.digest.clone(),
        config_digest: image.config.digest.clone(),
        layer_digest: image.layer.digest.clone(),
        layer_size: image.layer.bytes.len() as u64,
        diff_id: image.layer_tar.digest.clone(),
        docker_tag,
    })
}

/// What a FROM-scratch image needs of the bootstrap: the image's architecture (as for the zip)
/// and static linking, since the image has no C library and no dynamic loader.
pub fn check_for_image(info: &BinaryInfo, arch: Arch) -> Result<()> {
    // The architecture check of the zip; glibc versions do not matter here, since a dynamic
    // binary is refused below whatever it needs.
    let machine_only = BinaryInfo {
        glibc_versions: Vec::new(),
        ..info.clone()
    };
    elf::check_for_lambda(
        &machine_only,
        arch,
        lambda_kit::runtime::Runtime::ProvidedAl2,
    )?;
    if let Some(interpreter) = &info.interpreter {
        bail!(
            "the bootstrap is dynamically linked ({}, loader {interpreter}), but this image is \
             FROM scratch: it has no C library and no dynamic loader, so the bootstrap could not \
             start. Build the static musl target (cargo xtask image --arch {arch} --rebuild \
             --target {}), or build the image with the Dockerfile, whose final stage is Lambda's \
             provided base image with its glibc",
            info.linkage(),
            arch.local_default_target()
        );
    }
    Ok(())
}

/// Extracts `/var/runtime/bootstrap` from an OCI image, as an archive (`oci-archive`) or as an
/// image-layout directory (`oci:`), to `dest` (or to `dest/bootstrap` when `dest` is a
/// directory), executable. Every blob is checked against its digest on the way. Returns the
/// path written.
pub fn extract_bootstrap_from_oci(source: &Path, dest: &Path) -> Result<PathBuf> {
    let files = if source.is_dir() {
        read_layout_dir(source)
    } else {
        std::fs::read(source)
            .with_context(|| format!("reading {}", source.display()))
            .and_then(|bytes| Ok(oci::read_tar_files(&bytes)?))
    }
    .with_context(|| format!("reading the OCI image {}", source.display()))?;
    let image = oci::read_image(&files)
        .with_context(|| format!("reading the image in {}", source.display()))?;
    let bootstrap = oci::find_file(&image.layers, oci::BOOTSTRAP_PATH)?.with_context(|| {
        format!(
            "the image in {} has no {}",
            source.display(),
            oci::BOOTSTRAP_PATH
        )
    })?;
    let dest = if dest.is_dir() {
        dest.join(lambda_zip::BOOTSTRAP)
    } else {
        dest.to_path_buf()
    };
    atomic_file::write_with_mode(&dest, &bootstrap.contents, oci::BOOTSTRAP_MODE)?;
    Ok(dest)
}

/// The files of an image-layout directory that [`oci::read_image`] needs.
fn read_layout_dir(dir: &Path) -> Result<oci::LayoutFiles> {
    let mut files = oci::LayoutFiles::new();
    let index = dir.join(oci::INDEX_FILE);
    files.insert(
        oci::INDEX_FILE.to_string(),
        std::fs::read(&index).with_context(|| format!("reading {}", index.display()))?,
    );
    let blobs = dir.join("blobs").join("sha256");
    for entry in
        std::fs::read_dir(&blobs).with_context(|| format!("listing {}", blobs.display()))?
    {
        let entry = entry.with_context(|| format!("listing {}", blobs.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?;
        files.insert(format!("blobs/sha256/{name}"), bytes);
    }
    Ok(files)
}

/// Where the printed commands push the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageTarget {
    /// A repository and tag given on the command line.
    Repository { uri: String, tag: String },
    /// A whole image URI given on the command line.
    Uri(String),
    /// Neither: the commands read $ECR_REPOSITORY_URI.
    Variable { tag: String },
}

impl ImageTarget {
    pub fn from_args(args: &ImageArgs) -> Self {
        let tag = args
            .tag
            .clone()
            .unwrap_or_else(|| args.build.arch.lambda_name().to_string());
        match (&args.image_uri, &args.repository_uri) {
            (Some(uri), _) => ImageTarget::Uri(uri.clone()),
            (None, Some(uri)) => ImageTarget::Repository {
                uri: uri.clone(),
                tag,
            },
            (None, None) => ImageTarget::Variable { tag },
        }
    }

    /// The image URI as one argument: a literal, or the variable with the tag after it.
    pub fn image_uri(&self) -> Word {
        match self {
            ImageTarget::Repository { uri, tag } => Word::lit(format!("{uri}:{tag}")),
            ImageTarget::Uri(uri) => Word::lit(uri.clone()),
            ImageTarget::Variable { tag } => {
                Word::Env(repository_variable().around("", &format!(":{tag}")))
            }
        }
    }

    /// The registry host, for `docker login` and `skopeo login`.
    pub fn registry(&self) -> Word {
        match self {
            ImageTarget::Repository { uri, .. } | ImageTarget::Uri(uri) => {
                Word::lit(uri.split('/').next().unwrap_or(uri))
            }
            ImageTarget::Variable { .. } => Word::Env(repository_variable().host()),
        }
    }

    /// The region of the registry, when the URI is known.
    pub fn region(&self) -> Option<String> {
        let uri = match self {
            ImageTarget::Repository { uri, .. } | ImageTarget::Uri(uri) => uri,
            ImageTarget::Variable { .. } => return None,
        };
        ecr_region(uri.split('/').next()?)
    }
}

/// `$ECR_REPOSITORY_URI` as the printed commands read it.
fn repository_variable() -> EnvRef {
    EnvRef::new(
        REPOSITORY_VARIABLE,
        "ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY",
    )
}

/// The commands printed for an image.
#[derive(Debug, Clone)]
pub struct ImageCommands {
    /// `skopeo login` with an ECR password, then `skopeo copy` to ECR.
    pub push: Script,
    /// `docker load`, then tag, log in and push.
    pub docker_load: Script,
    pub create_function: AwsCommand,
    pub update_function_code: AwsCommand,
}

impl ImageCommands {
    pub fn new(
        archive: &ImageArchive,
        target: &ImageTarget,
        settings: &FunctionSettings,
        cwd: &Path,
    ) -> Self {
        let shown = paths::shown_from(&archive.path, cwd);
        let uri = target.image_uri();
        let password = match target.region() {
            Some(region) => {
                Cmd::new("aws", &["ecr", "get-login-password"]).option("--region", region)
            }
            None => Cmd::new("aws", &["ecr", "get-login-password"]),
        };
        // The password goes through a pipe, the same `|` in every shell, and never through
        // the command line.
        let login = |program: &str| {
            Cmd::new(program, &["login"])
                .option("--username", "AWS")
                .flag("--password-stdin")
                .line(vec![target.registry()])
        };
        let destination = match &uri {
            Word::Env(env) => Word::Env(env.clone().around("docker://", "")),
            Word::Literal(text) | Word::FileBacked { text, .. } => {
                Word::lit(format!("docker://{text}"))
            }
        };
        let push = Script::default()
            .pipe(password.clone(), login("skopeo"))
            .run(
                Cmd::new("skopeo", &["copy"])
                    // Push the manifest as it is (or fail): the image keeps the digest printed here.
                    .flag("--preserve-digests")
                    .arg(&format!("oci-archive:{shown}"))
                    .line(vec![destination]),
            );
        let docker_load = Script::default()
            .run(Cmd::new("docker", &["load"]).option("--input", &shown))
            .run(Cmd::new("docker", &["tag", &archive.docker_tag]).line(vec![uri.clone()]))
            .pipe(password, login("docker"))
            .run(Cmd::new("docker", &["push"]).line(vec![uri.clone()]));
        ImageCommands {
            push,
            docker_load,
            create_function: aws::cli::create_image_function(settings, archive.arch, &uri),
            update_function_code: aws::cli::update_function_image(settings, archive.arch, &uri),
        }
    }
}

pub fn render_image_summary(
    archive: &ImageArchive,
    commands: &ImageCommands,
    cwd: &Path,
    shell: Shell,
) -> Result<String> {
    let mut out = format!(
        "Image {path}\n  \
         platform:   {platform} (Lambda --architectures {arch})\n  \
         from:       {zip}{packaged}\n  \
         entrypoint: {bootstrap} ({size} bytes, {linkage})\n  \
         {files}\
         layer:      {layer} ({layer_size} bytes, gzip)\n  \
         manifest:   {manifest}\n  \
         archive:    {archive_size} bytes (OCI image layout; `docker load` names it {tag})\n",
        path = paths::shown_from(&archive.path, cwd),
        platform = archive.platform,
        arch = archive.arch,
        zip = paths::shown_from(&archive.zip, cwd),
        packaged = if archive.packaged {
            " (packaged now)"
        } else {
            ""
        },
        bootstrap = archive.bootstrap_path,
        size = archive.bootstrap_size,
        linkage = archive.linkage,
        files = if archive.task_files.is_empty() {
            String::new()
        } else {
            format!("files:      {}\n  ", archive.task_files.join(", "))
        },
        layer = archive.layer_digest,
        layer_size = archive.layer_size,
        manifest = archive.manifest_digest,
        archive_size = archive.size,
        tag = archive.docker_tag,
    );
    out.push_str(
        "\nThe image is FROM scratch: it runs on Lambda (or under a Runtime API emulator), \
         not with a bare `docker run`.\n",
    );
    out.push_str("\nPush it to ECR without Docker (skopeo; the repository must exist):\n\n");
    out.push_str(&commands.push.render(shell)?);
    out.push_str("\n\nOr with Docker:\n\n");
    out.push_str(&commands.docker_load.render(shell)?);
    out.push_str("\n\nCreate the function:\n\n");
    out.push_str(&commands.create_function.render(shell)?);
    out.push_str("\n\nOr point an existing image function at it:\n\n");
    out.push_str(&commands.update_function_code.render(shell)?);
    out.push('\n');
    Ok(out)
}

/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]` → REGION.
pub fn ecr_region(host: &str) -> Option<String> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts[..] {
        [account, "dkr", "ecr", region, "amazonaws", "com"]
        | [account, "dkr", "ecr", region, "amazonaws", "com", "cn"]
            if account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            Some(region.to_string())
        }
        _ => None,
    }
}

/// `--repository-uri`: an ECR repository, `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`, with no
/// tag or digest (Lambda takes images from ECR in the function's region only).
pub fn repository_uri(value: &str) -> Result<String, String> {
    let error = |why: &str| {
        format!(
            "{value:?} is not an ECR repository URI ({why}); expected \
             ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY, e.g. \
             123456789012.dkr.ecr.us-east-1.amazonaws.com/calculate-pi"
        )
    };
    let Some((host, name)) = value.split_once('/') else {
        return Err(error("no repository name"));
    };
    if host.contains(".dkr.ecr-fips.") {
        return Err(error("Lambda does not take images from ECR FIPS endpoints"));
    }
    if ecr_region(host).is_none() {
        return Err(error("Lambda takes images from Amazon ECR only"));
    }
    let name_ok = (2..=256).contains(&name.len())
        && name.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && part
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
                && part
                    .bytes()
                    .last()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
        });
    if !name_ok {
        return Err(error(
            "a repository name is lowercase letters, digits and . _ - / between them; \
             give the tag with --tag",
        ));
    }
    Ok(value.to_string())
}

/// `--tag`: 1 to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`.
pub fn image_tag(value: &str) -> Result<String, String> {
    let ok = (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !value.starts_with(['.', '-']);
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not a valid image tag: use 1 to 128 letters, digits, '_', '.' or '-', \
             not starting with '.' or '-'"
        ))
    }
}

/// `--image-uri`: an ECR repository URI with `:TAG` or `@sha256:DIGEST`.
pub fn image_uri(value: &str) -> Result<String, String> {
    let (repository, reference_ok) = if let Some((repository, digest)) = value.split_once('@') {
        let hex = digest.strip_prefix("sha256:").unwrap_or("");
        (
            repository,
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        )
    } else {
        match value.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, image_tag(tag).is_ok()),
            _ => (value, false),
        }
    };
    if !reference_ok {
        return Err(format!(
            "{value:?} is not an image URI: expected REPOSITORY:TAG or REPOSITORY@sha256:DIGEST, \
             e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/calculate-pi:x86_64"
        ));
    }
    repository_uri(repository)?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_kit::command::Shell;

    fn info(arch: Arch, interpreter: Option<&str>) -> BinaryInfo {
        BinaryInfo {
            arch: Some(arch),
            machine: arch.elf_machine(),
            interpreter: interpreter.map(str::to_string),
            glibc_versions: if interpreter.is_some() {
                vec![(2, 17)]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn only_static_binaries_of_the_right_architecture_go_in_a_scratch_image() {
        check_for_image(&info(Arch::Arm64, None), Arch::Arm64).unwrap();
        check_for_image(&info(Arch::X86_64, None), Arch::X86_64).unwrap();

        let err = check_for_image(
            &info(Arch::Arm64, Some("/lib/ld-linux-aarch64.so.1")),
            Arch::Arm64,
        )
        .unwrap_err()
        .to_string();
        for says in [
            "dynamically linked",
            "GLIBC_2.17",
            "/lib/ld-linux-aarch64.so.1",
            "no C library",
            "aarch64-unknown-linux-musl",
            "Dockerfile",
        ] {
            assert!(err.contains(says), "{says}: {err}");
        }

        let err = check_for_image(&info(Arch::X86_64, None), Arch::Arm64)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("built for x86_64") && err.contains("for arm64"),
            "{err}"
        );
    }

    #[test]
    fn ecr_uris_are_checked_as_lambda_would() {
        let good = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi";
        assert_eq!(repository_uri(good).unwrap(), good);
        assert!(repository_uri("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/pi").is_ok());
        for bad in [
            "calculate-pi",
            "docker.io/library/calculate-pi",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/Calculate",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi:tag",
            "12345.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/",
        ] {
            assert!(repository_uri(bad).is_err(), "{bad}");
        }
        let fips =
            repository_uri("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/pi").unwrap_err();
        assert!(fips.contains("FIPS"), "{fips}");

        assert!(image_uri(&format!("{good}:x86_64")).is_ok());
        assert!(image_uri(&format!("{good}@sha256:{}", "a".repeat(64))).is_ok());
        assert!(image_uri(good).is_err());
        assert!(image_uri(&format!("{good}@sha256:abc")).is_err());
        assert!(image_uri("docker.io/library/pi:latest").is_err());

        assert!(image_tag("x86_64").is_ok());
        assert!(image_tag("v1.2-rc_1").is_ok());
        for bad in ["", "-x", ".x", "a b", "a:b", &"x".repeat(129)] {
            assert!(image_tag(bad).is_err(), "{bad}");
        }

        assert_eq!(
            ecr_region("123456789012.dkr.ecr.ap-southeast-2.amazonaws.com").as_deref(),
            Some("ap-southeast-2")
        );
        assert_eq!(ecr_region("ghcr.io"), None);
    }

    fn archive(arch: Arch) -> ImageArchive {
        ImageArchive {
            path: PathBuf::from("/work/project/dist/lambda-arm64-image.tar"),
            arch,
            platform: format!("linux/{}", arch.oci_name()),
            zip: PathBuf::from("/work/project/dist/lambda-arm64.zip"),
            packaged: false,
            size: 1,
            bootstrap_path: oci::BOOTSTRAP_PATH.into(),
            bootstrap_size: 1,
            task_files: vec![],
            linkage: "static".into(),
            manifest_digest: "sha256:m".into(),
            config_digest: "sha256:c".into(),
            layer_digest: "sha256:l".into(),
            layer_size: 1,
            diff_id: "sha256:d".into(),
            docker_tag: format!("calculate-pi:{arch}"),
        }
    }

    fn settings(role: Option<&str>) -> FunctionSettings {
        FunctionSettings {
            role: role.map(str::to_string),
            ..FunctionSettings::defaults("calculate-pi")
        }
    }

    #[test]
    fn commands_with_a_known_repository_are_literal() {
        let target = ImageTarget::Repository {
            uri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi".into(),
            tag: "arm64".into(),
        };
        let commands = ImageCommands::new(
            &archive(Arch::Arm64),
            &target,
            &settings(Some("arn:aws:iam::123456789012:role/lambda-basic")),
            Path::new("/work/project"),
        );
        let push = commands.push.render(Shell::Posix).unwrap();
        assert_eq!(
            push,
            "aws ecr get-login-password \\\n  --region eu-west-1 | skopeo login \\\n  \
             --username AWS \\\n  --password-stdin \\\n  \
             123456789012.dkr.ecr.eu-west-1.amazonaws.com\n\
             skopeo copy \\\n  \
             --preserve-digests \\\n  \
             oci-archive:dist/lambda-arm64-image.tar \\\n  \
             docker://123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi:arm64"
        );
        let docker = commands.docker_load.render(Shell::Posix).unwrap();
        assert!(docker.contains(
            "docker login \\\n  --username AWS \\\n  --password-stdin \\\n  \
             123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        ));
        assert!(docker.starts_with(
            "docker load \\\n  --input dist/lambda-arm64-image.tar\ndocker tag calculate-pi:arm64 \\\n"
        ));
        // The same in PowerShell: backticks, nothing POSIX.
        let push = commands.push.render(Shell::PowerShell).unwrap();
        assert!(push
            .starts_with("aws ecr get-login-password `\n  --region eu-west-1 | skopeo login `\n"));
        assert!(!push.contains('\\') && !push.contains("$("), "{push}");
        let argv = commands.create_function.argv().unwrap();
        assert!(argv.contains(
            &"ImageUri=123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi:arm64".to_string()
        ));
        assert!(argv.windows(2).any(|w| w == ["--architectures", "arm64"]));
    }

    #[test]
    fn without_a_repository_the_commands_read_a_variable() {
        let target = ImageTarget::Variable {
            tag: "x86_64".into(),
        };
        let commands = ImageCommands::new(
            &archive(Arch::X86_64),
            &target,
            &settings(None),
            Path::new("/elsewhere"),
        );
        let expansion = "\"${ECR_REPOSITORY_URI:?set ECR_REPOSITORY_URI to \
                         ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY}\":x86_64";
        let push = commands.push.render(Shell::Posix).unwrap();
        assert!(push.ends_with(&format!("docker://{expansion}")), "{push}");
        // Not under the working directory: the absolute path.
        assert!(push.contains("oci-archive:/work/project/dist/lambda-arm64-image.tar"));
        assert!(push.contains("\"${ECR_REPOSITORY_URI%%/*}\""), "{push}");
        // PowerShell stops first when the variable is unset, and cuts the host with Split.
        let push = commands.push.render(Shell::PowerShell).unwrap();
        assert!(
            push.starts_with(
                "if (-not $env:ECR_REPOSITORY_URI) { throw 'set $env:ECR_REPOSITORY_URI to \
                 ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY' }\n"
            ),
            "{push}"
        );
        assert!(
            push.contains("$env:ECR_REPOSITORY_URI.Split('/')[0]"),
            "{push}"
        );
        assert!(
            push.ends_with("\"docker://${env:ECR_REPOSITORY_URI}:x86_64\""),
            "{push}"
        );
        let text = commands.create_function.render(Shell::Posix).unwrap();
        assert!(
            text.contains(&format!("--code ImageUri={expansion}")),
            "{text}"
        );
        assert!(commands.create_function.argv().is_err());
    }
}
