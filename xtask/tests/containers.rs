//! A real container engine (Podman) runs the images: the OCI archive `cargo xtask image` writes
//! loads under the name the README tags (`calculate-pi:x86_64`) and answers a Runtime API on
//! 127.0.0.1; the root Dockerfile builds with `podman build` for both architectures (its base
//! images named by build arguments, here local stand-ins since there is no registry), gives the
//! zip's very bootstrap, and its image answers too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use axum::body::Bytes;
use lambda_kit::artifact::lambda_zip;
use lambda_kit::emulator::runtime_api::{Event, RuntimeApi, RuntimeMessage};
use xtask::containers::{self, podman};

mod support;

use support::{pi_digits, xtask};
use xtask::repository::BENCHMARK_EVENT;

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn checked(command: &mut Command, what: &str) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A zip of this repository's function from the local toolchain (warm: the package tests build
/// the same binaries into the same target folder).
fn cargo_zip(arch: &str, dir: &Path) -> PathBuf {
    let zip = dir.join(format!("lambda-{arch}.zip"));
    xtask([
        "package",
        "--arch",
        arch,
        "--builder",
        "cargo",
        "--output",
        zip.to_str().unwrap(),
    ])
    .success();
    zip
}

/// Removes the container when the test ends, however it ends.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = podman()
            .args(["rm", "--force", "--time", "1", &self.0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Removes an image the test built when the test ends, however it ends: every run builds new
/// ones (the sources change), and a machine that runs the tests often would fill its disk.
struct BuiltImage(String);

impl Drop for BuiltImage {
    fn drop(&mut self) {
        let _ = podman()
            .args(["rmi", "--force", &self.0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs `image` with `AWS_LAMBDA_RUNTIME_API` pointing at a Runtime API on 127.0.0.1 (the
/// container shares the host's network), hands it `payload` and returns its answer.
fn answer_of_image(image: &str, name: &str, payload: &'static str) -> serde_json::Value {
    let runtime = lambda_kit::emulator::tokio_runtime().unwrap();
    runtime.block_on(async {
        let mut api = RuntimeApi::start().await.unwrap();
        // Unique on the machine: the tests of this binary run at once, and other checkouts'.
        let name = format!("calculate-pi-test-{name}-{}", std::process::id());
        let _container = Container(name.clone());
        let mut run = podman();
        run.args(["run", "--rm", "--network", "host", "--name", &name])
            .arg("-e")
            .arg(format!("AWS_LAMBDA_RUNTIME_API={}", api.address()))
            .args([
                "-e",
                "AWS_LAMBDA_FUNCTION_NAME=calculate-pi",
                "-e",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024",
                "-e",
                "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
                "-e",
                "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/calculate-pi",
                "-e",
                "AWS_LAMBDA_LOG_STREAM_NAME=test",
                image,
            ])
            .stdin(Stdio::null());
        let mut child = tokio::process::Command::from(run)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        api.send_event(Event {
            request_id: "11111111-2222-3333-4444-555555555555".to_string(),
            payload: Bytes::from_static(payload.as_bytes()),
            deadline_ms: lambda_kit::emulator::report::unix_ms(std::time::SystemTime::now())
                + 120_000,
            invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:calculate-pi"
                .to_string(),
            trace_id: "Root=1-00000000-000000000000000000000000".to_string(),
            deadline_header: Default::default(),
        })
        .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(180), async {
            loop {
                tokio::select! {
                    message = api.recv() => match message {
                        Some(RuntimeMessage::Next) => continue,
                        Some(RuntimeMessage::Response { body, .. }) => return body,
                        other => panic!("the container did not answer: {other:?}"),
                    },
                    status = child.wait() => {
                        panic!("`podman run` ended before answering ({status:?}); its output is above")
                    }
                }
            }
        })
        .await
        .expect("no answer from the container within 180 s");
        let _ = child.start_kill();
        serde_json::from_slice(&answer).unwrap()
    })
}

fn assert_benchmark_answer(answer: &serde_json::Value) {
    let pi = answer["pi"].as_str().unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(answer["digits"], 10_000, "{answer}");
    assert_eq!(pi.replace('.', ""), pi_digits(10_000));
}

/// `podman load` of `cargo xtask image`'s archive names the image `calculate-pi:x86_64` (the
/// name the README's `docker tag` uses), and the loaded image answers the benchmark event.
#[test]
fn the_oci_archive_loads_by_name_and_answers() {
    if !containers::ready_for_container_tests() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zip = cargo_zip("x86_64", dir.path());
    let archive = dir.path().join("image.tar");
    // What `cargo xtask image` writes, through the same function.
    let read = lambda_kit::artifact::deployment::read_zip(
        &zip,
        Some(lambda_kit::arch::Arch::X86_64),
        lambda_kit::runtime::Runtime::ProvidedAl2,
    )
    .unwrap();
    xtask::tasks::image::write_image(&read, "calculate-pi", &archive).unwrap();
    let _ = podman()
        .args(["rmi", "--force", "calculate-pi:x86_64"])
        .output();
    let _loaded = BuiltImage("calculate-pi:x86_64".to_string());
    let loaded = checked(
        podman().args(["load", "--input"]).arg(&archive),
        "podman load",
    );
    let said = String::from_utf8_lossy(&loaded.stdout);
    assert!(
        said.contains("Loaded image: docker.io/library/calculate-pi:x86_64"),
        "{said}"
    );
    checked(
        podman().args(["image", "exists", "calculate-pi:x86_64"]),
        "podman image exists calculate-pi:x86_64",
    );
    assert_benchmark_answer(&answer_of_image(
        "calculate-pi:x86_64",
        "archive",
        BENCHMARK_EVENT,
    ));
}

/// A function's included files are in its image where Lambda puts a zip's: under
/// `LAMBDA_TASK_ROOT` (/var/task). The fixture workspace's function, run in Podman, reads them
/// there and answers with their contents.
#[test]
fn an_image_holds_the_functions_included_files_in_the_task_root() {
    if !containers::ready_for_container_tests() {
        return;
    }
    let fixture = support::fixture("two-packages");
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("one.tar");
    let name = format!("calculate-pi-test-include-{}", std::process::id());
    let written = xtask(["image", "--manifest-path"])
        .arg(fixture.join("Cargo.toml"))
        .args([
            "--package",
            "alpha",
            "--bin",
            "one",
            "--arch",
            "x86_64",
            "--function-name",
            &name,
            "--json",
            "--output",
        ])
        .arg(&archive)
        .success();
    let report: serde_json::Value = serde_json::from_slice(&written.stdout).unwrap();
    assert_eq!(
        report["task_files"],
        serde_json::json!(["/var/task/greeting.txt", "/var/task/static/hello.txt"])
    );
    let tag = format!("{name}:x86_64");
    let _loaded = BuiltImage(tag.clone());
    checked(
        podman().args(["load", "--input"]).arg(&archive),
        "podman load",
    );
    let answer = answer_of_image(&tag, "include", BENCHMARK_EVENT);
    let file = |path: &str| std::fs::read_to_string(fixture.join("alpha").join(path)).unwrap();
    assert_eq!(answer["bin"], "one", "{answer}");
    assert_eq!(answer["greeting"], file("config/greeting.txt"), "{answer}");
    assert_eq!(answer["hello"], file("static/hello.txt"), "{answer}");
}

/// Local stand-ins for the Dockerfile's base images, from the toolchain image: a Rust image
/// whose rustup finds the host's toolchain (mounted at build time), and Lambda's
/// provided image (its `LAMBDA_RUNTIME_DIR` and an entrypoint that starts the bootstrap).
fn stand_in_images(dir: &Path) -> (String, String) {
    let rust = "localhost/calculate-pi-test-rust:1.95.0".to_string();
    let lambda = "localhost/calculate-pi-test-lambda:x86_64".to_string();

    let rust_dir = dir.join("rust");
    std::fs::create_dir_all(rust_dir.join("bin")).unwrap();
    let rustup = which::which("rustup").unwrap();
    for proxy in ["rustup", "cargo", "rustc"] {
        std::fs::copy(&rustup, rust_dir.join("bin").join(proxy)).unwrap();
    }
    std::fs::write(
        rust_dir.join("Containerfile"),
        format!(
            "FROM {}\n\
             ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo \
             PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
             COPY bin /usr/local/cargo/bin\n\
             RUN mkdir -p /usr/local/rustup/toolchains /etc/ssl/certs\n",
            containers::CROSS_IMAGE
        ),
    )
    .unwrap();
    checked(
        podman()
            .args(["build", "--pull=never", "--network", "host", "-t", &rust])
            .arg(&rust_dir),
        "building the stand-in Rust image",
    );

    let lambda_dir = dir.join("lambda");
    std::fs::create_dir_all(&lambda_dir).unwrap();
    std::fs::write(
        lambda_dir.join("Containerfile"),
        format!(
            "FROM {}\n\
             ENV LAMBDA_RUNTIME_DIR=/var/runtime LAMBDA_TASK_ROOT=/var/task\n\
             RUN mkdir -p /var/runtime /var/task \
             && printf '#!/bin/sh\\nexec \"$LAMBDA_RUNTIME_DIR/bootstrap\"\\n' > /lambda-entrypoint.sh \
             && chmod 755 /lambda-entrypoint.sh\n\
             ENTRYPOINT [\"/lambda-entrypoint.sh\"]\n",
            containers::CROSS_IMAGE
        ),
    )
    .unwrap();
    checked(
        podman()
            .args(["build", "--pull=never", "--network", "host", "-t", &lambda])
            .arg(&lambda_dir),
        "building the stand-in Lambda image",
    );

    (rust, lambda)
}

/// `podman build` of the root Dockerfile for `platform`, the host's toolchain mounted where
/// the stand-in's rustup looks for it and the host's CA bundle where curl looks (crates.io is
/// reached through the host's trusted proxy here).
fn build_dockerfile(platform: &str, rust: &str, lambda: &str, tag: &str, stage: Option<&str>) {
    // Podman 4.3 leaves BUILDPLATFORM unset (buildx and newer Podman set it): the builder stage
    // would then take the target's platform instead of the build machine's.
    let build_platform = "linux/amd64";
    let sysroot = String::from_utf8(
        Command::new("rustc")
            .current_dir(repository())
            .args(["--print", "sysroot"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let sysroot = Path::new(sysroot.trim()).canonicalize().unwrap();
    let mut build = podman();
    build
        .args([
            "build",
            "--pull=never",
            // No intermediate images: nothing to reuse, since the sources change every run.
            "--layers=false",
            "--network",
            "host",
            "--platform",
            platform,
            "--build-arg",
            &format!("BUILDPLATFORM={build_platform}"),
        ])
        .arg("--volume")
        .arg(format!(
            "{}:/usr/local/rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu:ro",
            sysroot.display()
        ))
        .args([
            "--build-arg",
            &format!("RUST_IMAGE={rust}"),
            "--build-arg",
            &format!("LAMBDA_IMAGE={lambda}"),
            "--tag",
            tag,
        ]);
    if Path::new("/etc/ssl/certs/ca-certificates.crt").is_file() {
        build.args([
            "--volume",
            "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro",
        ]);
    }
    if let Some(stage) = stage {
        build.args(["--target", stage]);
    }
    build.arg(repository());
    checked(
        &mut build,
        &format!("podman build of the Dockerfile for {platform}"),
    );
}

/// A file an image holds, copied out without running anything (so for any architecture).
fn file_of_image(image: &str, path: &str, dir: &Path) -> Vec<u8> {
    // A command for images without one (the builder stage); nothing runs.
    let created = checked(podman().args(["create", image, "true"]), "podman create");
    let id = String::from_utf8_lossy(&created.stdout).trim().to_string();
    let _container = Container(id.clone());
    let out = dir.join(format!("bootstrap-{}", id));
    checked(
        podman().arg("cp").arg(format!("{id}:{path}")).arg(&out),
        "podman cp",
    );
    std::fs::read(out).unwrap()
}

/// The Dockerfile, built by a real engine for both architectures, gives the zips' very
/// bootstraps (the same remap flags); its x86_64 image answers the benchmark event in Podman,
/// and its arm64 bootstrap answers under qemu-aarch64.
#[test]
fn the_dockerfile_builds_the_zips_bootstrap_for_both_architectures() {
    if !containers::ready_for_container_tests() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (rust, lambda) = stand_in_images(dir.path());
    let _x86_64_image = BuiltImage("calculate-pi-dockerfile:x86_64".to_string());
    let _arm64_builder = BuiltImage("calculate-pi-dockerfile:arm64-builder".to_string());

    build_dockerfile(
        "linux/amd64",
        &rust,
        &lambda,
        "calculate-pi-dockerfile:x86_64",
        None,
    );
    let zip = cargo_zip("x86_64", dir.path());
    assert_eq!(
        file_of_image(
            "calculate-pi-dockerfile:x86_64",
            "/var/runtime/bootstrap",
            dir.path()
        ),
        lambda_zip::read_bootstrap(&zip).unwrap().contents,
        "the Dockerfile's x86_64 bootstrap differs from the zip's"
    );
    assert_benchmark_answer(&answer_of_image(
        "calculate-pi-dockerfile:x86_64",
        "dockerfile",
        BENCHMARK_EVENT,
    ));

    // The builder stage only: Podman 4.3 applies the builder's `FROM --platform` to the final
    // stage too and then looks for an amd64 Lambda image. The final stage is the x86_64 one's
    // (a COPY), checked above.
    build_dockerfile(
        "linux/arm64",
        &rust,
        &lambda,
        "calculate-pi-dockerfile:arm64-builder",
        Some("builder"),
    );
    // The build context is the sources only, whatever else the checkout holds (.dockerignore
    // is an allow-list): a virtualenv in it once filled the disk of a CI machine.
    let context = checked(
        podman().args([
            "run",
            "--rm",
            "--network",
            "host",
            "calculate-pi-dockerfile:arm64-builder",
            "ls",
            "-A",
            "/src",
        ]),
        "listing the builder's /src",
    );
    let mut context: Vec<String> = String::from_utf8_lossy(&context.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    context.sort();
    assert_eq!(
        context,
        [
            ".cargo",
            "Cargo.lock",
            "Cargo.toml",
            "arith",
            "benches",
            "examples",
            "src",
            "tests",
            "xtask"
        ],
        "the Dockerfile's build context holds more than the sources"
    );
    let zip = cargo_zip("arm64", dir.path());
    let bootstrap = file_of_image(
        "calculate-pi-dockerfile:arm64-builder",
        "/bootstrap",
        dir.path(),
    );
    assert_eq!(
        bootstrap,
        lambda_zip::read_bootstrap(&zip).unwrap().contents,
        "the Dockerfile's arm64 bootstrap differs from the zip's"
    );
    let invoked = xtask([
        "invoke",
        "--arch",
        "arm64",
        "--zip",
        zip.to_str().unwrap(),
        "--payload",
        BENCHMARK_EVENT,
        "--timeout",
        "300",
    ])
    .success();
    assert_benchmark_answer(&serde_json::from_slice(&invoked.stdout).unwrap());
}
