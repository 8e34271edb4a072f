//! `cargo xtask image` against the real thing: the function built for both architectures,
//! archives written by the task, read back by skopeo (which must be installed: a missing skopeo
//! fails these tests, it never skips them).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use lambda_kit::arch::Arch;
use lambda_kit::builder::{BuildArgs, Builder};
use lambda_kit::runtime::Runtime;
use lambda_kit::{artifact::elf, artifact::lambda_zip, artifact::oci};
use xtask::tasks::image;

mod support;

use support::xtask;

/// Scratch space of this test binary, inside cargo's target directory.
fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("image-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh directory for one test's outputs.
fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(work_dir()).unwrap()
}

/// The zip `cargo xtask package` makes for `arch` (musl, local toolchain), built once per test
/// binary through the kit's own library.
fn zip(arch: Arch) -> &'static Path {
    static ZIPS: OnceLock<Vec<(Arch, PathBuf)>> = OnceLock::new();
    let zips = ZIPS.get_or_init(|| {
        Arch::ALL
            .iter()
            .map(|&arch| {
                let path = work_dir().join(arch.zip_file_name());
                let build = BuildArgs {
                    arch,
                    target: None,
                    builder: Builder::Cargo,
                };
                xtask::repository::package_function(&build, Runtime::ProvidedAl2, &path)
                    .unwrap_or_else(|e| panic!("packaging the function for {arch}: {e:#}"));
                (arch, path)
            })
            .collect()
    });
    &zips.iter().find(|(a, _)| *a == arch).unwrap().1
}

fn zip_bootstrap(arch: Arch) -> Vec<u8> {
    lambda_zip::read_bootstrap(zip(arch)).unwrap().contents
}

fn write_archive(arch: Arch, dir: &Path) -> image::ImageArchive {
    let output = dir.join(format!("lambda-{arch}-image.tar"));
    let zip =
        lambda_kit::artifact::deployment::read_zip(zip(arch), Some(arch), Runtime::ProvidedAl2)
            .unwrap();
    image::write_image(&zip, "calculate-pi", &output)
        .unwrap_or_else(|e| panic!("writing the {arch} image: {e:#}"))
}

fn skopeo(args: &[&str]) -> String {
    let program = lambda_kit::tools::program(
        "skopeo",
        "these tests read the archives with it; install it (Debian/Ubuntu: apt-get install skopeo)",
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let output = Command::new(&program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "skopeo {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn oci_archive(path: &Path) -> String {
    format!("oci-archive:{}", path.display())
}

#[test]
fn skopeo_inspect_shows_architecture_os_and_entrypoint() {
    let dir = temp_dir();
    for arch in Arch::ALL {
        let archive = write_archive(arch, dir.path());
        let source = oci_archive(&archive.path);

        let inspect: serde_json::Value =
            serde_json::from_str(&skopeo(&["inspect", &source])).unwrap();
        assert_eq!(inspect["Architecture"], arch.oci_name(), "{inspect}");
        assert_eq!(inspect["Os"], "linux", "{inspect}");
        assert_eq!(inspect["Digest"], archive.manifest_digest.as_str());
        assert_eq!(inspect["Layers"], serde_json::json!([archive.layer_digest]));

        let config: serde_json::Value =
            serde_json::from_str(&skopeo(&["inspect", "--config", &source])).unwrap();
        assert_eq!(
            config["config"]["Entrypoint"],
            serde_json::json!(["/var/runtime/bootstrap"]),
            "{config}"
        );
        assert_eq!(config["config"]["WorkingDir"], "/var/task", "{config}");
        assert_eq!(
            config["config"]["Env"],
            serde_json::json!([
                "LAMBDA_TASK_ROOT=/var/task",
                "LAMBDA_RUNTIME_DIR=/var/runtime"
            ]),
            "{config}"
        );
        assert_eq!(config["architecture"], arch.oci_name());
        assert_eq!(config["os"], "linux");
        assert_eq!(config["created"], "1970-01-01T00:00:00Z");
        assert_eq!(
            config["rootfs"]["diff_ids"],
            serde_json::json!([archive.diff_id])
        );
    }
}

#[test]
fn the_layer_skopeo_copies_out_holds_the_zips_static_bootstrap() {
    let dir = temp_dir();
    for arch in Arch::ALL {
        let archive = write_archive(arch, dir.path());
        let copied = dir.path().join(format!("dir-{arch}"));
        skopeo(&[
            "copy",
            &oci_archive(&archive.path),
            &format!("dir:{}", copied.display()),
        ]);

        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(copied.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["mediaType"], oci::MEDIA_TYPE_MANIFEST);
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "{manifest}");
        assert_eq!(layers[0]["mediaType"], oci::MEDIA_TYPE_LAYER_GZIP);
        let digest = layers[0]["digest"].as_str().unwrap();
        let blob = std::fs::read(copied.join(digest.trim_start_matches("sha256:"))).unwrap();

        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(&blob[..])
            .read_to_end(&mut tar_bytes)
            .unwrap();
        let mut layer = tar::Archive::new(&tar_bytes[..]);
        let mut paths = Vec::new();
        let mut bootstrap = None;
        for entry in layer.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let header = entry.header();
            assert_eq!(
                (header.uid().unwrap(), header.gid().unwrap()),
                (0, 0),
                "{path}"
            );
            assert_eq!(header.mtime().unwrap(), 0, "{path}");
            if path == "var/runtime/bootstrap" {
                assert_eq!(header.entry_type(), tar::EntryType::Regular);
                assert_eq!(header.mode().unwrap(), 0o755);
                let mut contents = Vec::new();
                entry.read_to_end(&mut contents).unwrap();
                bootstrap = Some(contents);
            }
            paths.push(path);
        }
        // The task root is empty: this function includes no files.
        assert_eq!(
            paths,
            ["var/", "var/runtime/", "var/runtime/bootstrap", "var/task/"]
        );

        let bootstrap = bootstrap.unwrap();
        assert!(
            bootstrap == zip_bootstrap(arch),
            "the {arch} layer's bootstrap differs from the zip's"
        );
        let info = elf::inspect(&bootstrap).unwrap();
        assert_eq!(info.arch, Some(arch));
        assert!(info.is_static(), "{arch}: {}", info.linkage());
    }
}

#[test]
fn the_same_zip_gives_a_byte_identical_archive() {
    for arch in Arch::ALL {
        let (first, second) = (temp_dir(), temp_dir());
        let a = write_archive(arch, first.path());
        let b = write_archive(arch, second.path());
        let (a_bytes, b_bytes) = (
            std::fs::read(&a.path).unwrap(),
            std::fs::read(&b.path).unwrap(),
        );
        assert!(a_bytes == b_bytes, "{arch}: two builds differ");
        assert_eq!(oci::sha256_digest(&a_bytes), oci::sha256_digest(&b_bytes));
        assert_eq!(a.manifest_digest, b.manifest_digest);
    }
}

#[test]
fn the_bootstrap_extracts_from_the_archive_and_from_a_layout_directory() {
    let dir = temp_dir();
    for arch in Arch::ALL {
        let archive = write_archive(arch, dir.path());
        let out = dir.path().join(format!("out-{arch}"));
        std::fs::create_dir(&out).unwrap();
        let written = image::extract_bootstrap_from_oci(&archive.path, &out).unwrap();
        assert_eq!(written, out.join("bootstrap"));
        assert!(std::fs::read(&written).unwrap() == zip_bootstrap(arch));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&written).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }

        // The layout skopeo writes (oci:DIR) reads the same way.
        let layout = dir.path().join(format!("layout-{arch}"));
        skopeo(&[
            "copy",
            &oci_archive(&archive.path),
            &format!("oci:{}", layout.display()),
        ]);
        let named = dir.path().join(format!("bootstrap-{arch}"));
        let written = image::extract_bootstrap_from_oci(&layout, &named).unwrap();
        assert_eq!(written, named);
        assert!(std::fs::read(&named).unwrap() == zip_bootstrap(arch));
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Only the files a test put there: no archive and no temporary file was left behind.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_task_writes_the_archive_and_prints_push_and_create_commands() {
    let dir = temp_dir();
    let output = dir.path().join("arm.tar");
    let zip_path = zip(Arch::Arm64).to_str().unwrap();
    let run = xtask([
        "image",
        "--arch",
        "arm64",
        "--zip",
        zip_path,
        "--output",
        output.to_str().unwrap(),
        "--repository-uri",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi",
        "--role",
        "arn:aws:iam::123456789012:role/lambda-basic",
        "--json",
    ])
    .output();
    assert!(run.status.success(), "{}", stderr(&run));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["arch"], "arm64");
    assert_eq!(report["platform"], "linux/arm64");
    assert_eq!(report["linkage"], "static");
    assert_eq!(
        report["size"].as_u64().unwrap(),
        std::fs::metadata(&output).unwrap().len()
    );
    let push = report["commands"]["push"].as_str().unwrap();
    assert!(
        push.starts_with("aws ecr get-login-password \\\n  --region eu-west-1 | skopeo login \\\n"),
        "{push}"
    );
    assert!(push.contains("\nskopeo copy \\\n"), "{push}");
    // The archive as the user would type it from where the task ran (the repository root).
    let shown = lambda_kit::paths::shown_from(&output, &xtask::repository::repository_root());
    assert!(
        push.contains(&format!("oci-archive:{shown} \\\n")),
        "{push}"
    );
    assert!(
        push.ends_with("docker://123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi:arm64"),
        "{push}"
    );
    let create = report["commands"]["create_function"].as_str().unwrap();
    for says in [
        "aws lambda create-function",
        "--package-type Image",
        "ImageUri=123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi:arm64",
        "--architectures arm64",
        "--role arn:aws:iam::123456789012:role/lambda-basic",
    ] {
        assert!(create.contains(says), "{says}: {create}");
    }
    assert!(!create.contains("--runtime") && !create.contains("--handler"));
    assert!(report["commands"]["docker_load"]
        .as_str()
        .unwrap()
        .starts_with("docker load \\\n  --input"));

    // The text form says the same, with the placeholders when no repository is given.
    let text = xtask([
        "image",
        "--arch",
        "arm64",
        "--zip",
        zip_path,
        "--output",
        output.to_str().unwrap(),
    ])
    .output();
    assert!(text.status.success(), "{}", stderr(&text));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("platform:   linux/arm64"), "{text}");
    assert!(text.contains("${ECR_REPOSITORY_URI:?"), "{text}");
    assert!(text.contains("${LAMBDA_ROLE_ARN:?"), "{text}");
}

#[test]
fn a_binary_for_the_other_architecture_is_refused_and_nothing_is_written() {
    let dir = temp_dir();
    let output = dir.path().join("image.tar");
    let run = xtask([
        "image",
        "--arch",
        "arm64",
        "--zip",
        zip(Arch::X86_64).to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ])
    .output();
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("built for x86_64") && err.contains("for arm64"),
        "{err}"
    );
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
}

#[test]
fn a_dynamically_linked_binary_is_refused_with_the_ways_out() {
    let Some(host) = Arch::host() else {
        panic!("these tests run on x86_64 or aarch64 Linux");
    };
    let dir = temp_dir();
    // A dynamically linked executable of the host: a small system one, else this test binary.
    let dynamic = ["/usr/bin/true", "/bin/true"]
        .iter()
        .map(PathBuf::from)
        .find(|p| {
            std::fs::read(p)
                .ok()
                .and_then(|b| elf::inspect(&b).ok())
                .is_some_and(|i| !i.is_static() && i.arch == Some(host))
        })
        .unwrap_or_else(|| std::env::current_exe().unwrap());
    let zip_path = dir.path().join("dynamic.zip");
    std::fs::write(
        &zip_path,
        lambda_zip::bootstrap_zip(&std::fs::read(&dynamic).unwrap()).unwrap(),
    )
    .unwrap();
    let output = dir.path().join("image.tar");
    let run = xtask([
        "image",
        "--arch",
        host.lambda_name(),
        "--zip",
        zip_path.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ])
    .output();
    assert!(!run.status.success());
    let err = stderr(&run);
    for says in [
        "dynamically linked",
        "no C library",
        host.local_default_target(),
        "Dockerfile",
    ] {
        assert!(err.contains(says), "{says}: {err}");
    }
    assert!(!output.exists());
}

/// A zip with a symbolic link beside the bootstrap: Lambda would unpack it as a link, the
/// image cannot hold it as one, so it is refused, naming the entry, and nothing is written.
#[test]
fn a_zip_with_a_symbolic_link_is_refused_for_an_image() {
    use std::io::Write;
    let dir = temp_dir();
    let linked = dir.path().join("linked.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&linked).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    writer
        .start_file("bootstrap", options.unix_permissions(0o755))
        .unwrap();
    writer.write_all(&zip_bootstrap(Arch::X86_64)).unwrap();
    writer
        .add_symlink("config.json", "/etc/passwd", options)
        .unwrap();
    writer.finish().unwrap();

    let output = dir.path().join("image.tar");
    let run = xtask([
        "image",
        "--arch",
        "x86_64",
        "--zip",
        linked.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ])
    .output();
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("\"config.json\" is not a regular file") && err.contains("regular files only"),
        "{err}"
    );
    assert!(!output.exists());
}

#[test]
fn a_missing_zip_is_refused() {
    let dir = temp_dir();
    let missing = dir.path().join("no-such.zip");
    let output = dir.path().join("image.tar");
    let run = xtask([
        "image",
        "--zip",
        missing.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ])
    .output();
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("no zip at") && err.contains("cargo xtask package"),
        "{err}"
    );
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn an_unwritable_destination_is_refused() {
    let dir = temp_dir();
    // A regular file where the output's directory should be: unwritable even for root.
    let blocker = dir.path().join("dist");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let output = blocker.join("lambda-x86_64-image.tar");
    let run = xtask([
        "image",
        "--zip",
        zip(Arch::X86_64).to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ])
    .output();
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(err.contains("writing the image archive"), "{err}");
    assert_eq!(names_in(dir.path()), ["dist"]);
    assert_eq!(std::fs::read(&blocker).unwrap(), b"not a directory");
}

/// The image is the function: the bootstrap skopeo unpacks from it answers the benchmark event
/// under the local Runtime API emulator (arm64 under qemu-aarch64) with the right digits.
#[test]
fn the_bootstrap_from_the_image_answers_the_benchmark_event_under_the_emulator() {
    use lambda_kit::emulator::{self, FunctionCode, FunctionConfig, Outcome, Sandbox};

    let dir = temp_dir();
    for arch in Arch::ALL {
        let archive = write_archive(arch, dir.path());
        let layout = dir.path().join(format!("layout-{arch}"));
        skopeo(&[
            "copy",
            &oci_archive(&archive.path),
            &format!("oci:{}", layout.display()),
        ]);
        let bootstrap = image::extract_bootstrap_from_oci(
            &layout,
            &dir.path().join(format!("bootstrap-{arch}")),
        )
        .unwrap_or_else(|e| panic!("extracting the {arch} bootstrap: {e:#}"));

        let config = FunctionConfig {
            timeout: std::time::Duration::from_secs(120),
            ..FunctionConfig::default()
        };
        let invocation = emulator::tokio_runtime().unwrap().block_on(async {
            let mut sandbox = Sandbox::new(&FunctionCode::Bootstrap(bootstrap), config)?;
            let invocation = sandbox.invoke(br#"{"digits": "10_000"}"#).await;
            sandbox.shutdown().await;
            invocation
        });
        let invocation = invocation.unwrap_or_else(|e| panic!("{arch}: {e:#}"));
        let response = String::from_utf8_lossy(&invocation.response).into_owned();
        assert_eq!(invocation.outcome, Outcome::Success, "{arch}: {response}");
        let body: serde_json::Value = serde_json::from_str(&response).unwrap();
        assert_eq!(body["digits"], 10_000);
        let digits = body["pi"].as_str().unwrap().replace('.', "");
        assert_eq!(digits.len(), 10_000, "{arch}");
        // The published first fifty digits, and the 9,991st to 10,000th digits (checked against
        // Machin's formula in tests/digits.rs and in the emulator tests).
        assert!(
            digits.starts_with("31415926535897932384626433832795028841971693993751"),
            "{arch}"
        );
        assert!(
            digits.ends_with("5525637567"),
            "{arch}: …{}",
            &digits[9_990..]
        );
    }
}
