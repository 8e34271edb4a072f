//! End to end with real cross 0.2.5 in Podman, in the local toolchain image `cargo xtask setup`
//! builds (Debian bookworm: gcc 12, glibc 2.36): the same bytes as the cargo builder, the glibc
//! check of an arm64 glibc binary, `--builder auto`, and a build from a relocated toolchain and
//! cargo home giving the same CodeSha256.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lambda_kit::artifact::lambda_zip;
use xtask::containers;

mod support;

use support::xtask;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "failed:\n{}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("--json prints one JSON object")
}

fn package_args<'a>(arch: &'a str, output: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "package",
        "--arch",
        arch,
        "--json",
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args
}

fn rustup_state() -> (String, String) {
    let list = |args: &[&str]| {
        let output = Command::new("rustup").args(args).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    (
        list(&["toolchain", "list"]),
        list(&["component", "list", "--installed"]),
    )
}

/// cross in Podman builds the very bytes the local toolchain builds; `auto` picks cross here and
/// says why (and sets the engine cross is to use); cross leaves rustup's toolchains and
/// components alone (the shim).
#[test]
fn cross_x86_64_gives_the_cargo_builders_zip() {
    if !containers::ready_for_container_tests() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cargo_zip = dir.path().join("cargo.zip");
    let cargo = json(&xtask(package_args("x86_64", &cargo_zip, &["--builder", "cargo"])).output());
    assert_eq!(cargo["builder"], "cargo");
    assert_eq!(
        cargo["toolchain"]["release"], "1.95.0",
        "rust-toolchain.toml's pin"
    );

    let rustup_before = rustup_state();
    let cross_zip = dir.path().join("cross.zip");
    let cross = json(
        &xtask(package_args("x86_64", &cross_zip, &["--builder", "cross"]))
            .with(containers::with_cross_env)
            .output(),
    );
    assert_eq!(cross["builder"], "cross");
    assert_eq!(cross["target"], "x86_64-unknown-linux-musl");
    assert_eq!(cross["toolchain"], cargo["toolchain"]);
    assert_eq!(cross["sha256"], cargo["sha256"]);
    assert_eq!(
        std::fs::read(&cross_zip).unwrap(),
        std::fs::read(&cargo_zip).unwrap()
    );
    assert_eq!(
        rustup_state(),
        rustup_before,
        "cross changed rustup's toolchains or components"
    );

    let auto_zip = dir.path().join("auto.zip");
    let auto = xtask(package_args("x86_64", &auto_zip, &[]))
        .with(containers::with_cross_env)
        .output();
    let said = stderr(&auto);
    let report = json(&auto);
    assert_eq!(report["builder"], "cross");
    assert_eq!(report["sha256"], cargo["sha256"]);
    // No Docker daemon here: auto found Podman, and cross is told to use it.
    assert!(
        said.contains("builder: cross (cross is installed and podman answers)"),
        "{said}"
    );
    assert!(said.contains("CROSS_CONTAINER_ENGINE=podman"), "{said}");
}

/// A function with C dependencies (rusqlite `bundled`: SQLite's C) from another workspace
/// builds with cross too: the image compiles the C with its `CC_x86_64_unknown_linux_musl`
/// (`x86_64-linux-musl-gcc`, as in cross's own musl image) and the kit has the container link
/// with rust-lld over the image's gcc, as the cargo builder does; the zip answers. Cost: ~1 min
/// cold (measured: 47 s for `cross build` in the container, 2026-12-06, machine shared at load
/// ~8; SQLite's C and the function's Rust, unoptimised as the fixture says), in the cross
/// target folder of the machine's cache.
#[test]
fn cross_builds_a_function_with_c_and_it_answers() {
    if !containers::ready_for_container_tests() {
        return;
    }
    let workspace = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cross-c-functions");
    let _ = std::fs::remove_dir_all(workspace.join("dist"));
    support::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/c-functions"),
        &workspace,
    );
    let manifest = workspace.join("Cargo.toml");
    let manifest = manifest.to_str().unwrap();
    let built = xtask([
        "package",
        "--manifest-path",
        manifest,
        "--package",
        "notes",
        "--arch",
        "x86_64",
        "--builder",
        "cross",
        "--json",
    ])
    .with(containers::with_cross_env)
    .output();
    let said = stderr(&built);
    let report = json(&built);
    assert_eq!(report["builder"], "cross");
    assert_eq!(report["target"], "x86_64-unknown-linux-musl");
    assert_eq!(report["linkage"], "static", "{report}");
    assert!(
        !said.contains("zig"),
        "the image compiles the C, not the kit's zig:\n{said}"
    );
    let zip = report["path"].as_str().unwrap();
    let bootstrap = lambda_zip::read_bootstrap(Path::new(zip)).unwrap().contents;
    let gcc = b"GCC: (Debian 12";
    assert!(
        bootstrap.windows(gcc.len()).any(|w| w == gcc),
        "SQLite's objects come from the image's gcc (their .comment)"
    );

    let invoked = xtask([
        "invoke",
        "--arch",
        "x86_64",
        "--zip",
        zip,
        "--payload",
        r#"{"notes": ["one", "the longest one", "two"]}"#,
    ])
    .output();
    assert!(invoked.status.success(), "{}", stderr(&invoked));
    let answer: serde_json::Value = serde_json::from_slice(&invoked.stdout).unwrap();
    assert_eq!(answer["count"], 3, "{answer}");
    assert_eq!(answer["longest"], "the longest one", "{answer}");
    assert!(
        answer["sqlite"].as_str().unwrap().starts_with("3."),
        "{answer}"
    );
}

/// An image that is not there and cannot be pulled comes back as one sentence naming it, with
/// the way out; nothing is written.
#[test]
fn a_missing_image_is_one_sentence_with_the_way_out() {
    if !containers::ready_for_container_tests() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("lambda-x86_64.zip");
    let image = "localhost/calculate-pi-no-such-image:1";
    let failed = xtask(package_args("x86_64", &zip, &["--builder", "cross"]))
        .with(containers::with_cross_env)
        .env("CROSS_TARGET_X86_64_UNKNOWN_LINUX_MUSL_IMAGE", image)
        .output();
    assert!(!failed.status.success());
    let said = stderr(&failed);
    assert!(
        said.contains(&format!(
            "the image {image} is not on this machine and could not be pulled"
        )),
        "{said}"
    );
    assert!(said.contains("or build with --builder cargo"), "{said}");
    assert!(!zip.exists());
}

/// aarch64-unknown-linux-gnu from the bookworm image needs glibc 2.34: refused for provided.al2
/// (glibc 2.26) with the version named and the previous zip left as it was, accepted for
/// provided.al2023, where it answers (under qemu-aarch64 with the aarch64 C library).
#[test]
fn cross_arm64_glibc_binary_is_checked_against_the_runtime() {
    if !containers::ready_for_container_tests() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("lambda-arm64.zip");
    std::fs::write(&zip, b"the previous zip").unwrap();
    let refused = xtask(package_args(
        "arm64",
        &zip,
        &["--builder", "cross", "--runtime", "provided.al2"],
    ))
    .with(containers::with_cross_env)
    .output();
    assert!(!refused.status.success());
    let said = stderr(&refused);
    assert!(said.contains("needs GLIBC_2.3"), "{said}");
    assert!(said.contains("provided.al2 has glibc 2.26"), "{said}");
    assert_eq!(std::fs::read(&zip).unwrap(), b"the previous zip");

    let accepted = json(
        &xtask(package_args(
            "arm64",
            &zip,
            &["--builder", "cross", "--runtime", "provided.al2023"],
        ))
        .with(containers::with_cross_env)
        .output(),
    );
    assert_eq!(accepted["target"], "aarch64-unknown-linux-gnu");
    assert_eq!(accepted["runtime"], "provided.al2023");
    let linkage = accepted["linkage"].as_str().unwrap();
    assert!(linkage.starts_with("dynamic, needs GLIBC_2.3"), "{linkage}");

    let invoked = xtask([
        "invoke",
        "--arch",
        "arm64",
        "--runtime",
        "provided.al2023",
        "--zip",
        zip.to_str().unwrap(),
        "--payload",
        r#"{"digits": "100"}"#,
        "--timeout",
        "120",
    ])
    .output();
    assert!(invoked.status.success(), "{}", stderr(&invoked));
    let body: serde_json::Value = serde_json::from_slice(&invoked.stdout).unwrap();
    assert_eq!(
        body["pi"],
        "3.141592653589793238462643383279502884197169399375105820974944592307816406286208998628034825342117067"
    );
}

/// The same sources built from another folder, with another RUSTUP_HOME (a copy of this
/// toolchain, so no download) and an empty CARGO_HOME, give the same CodeSha256: every path
/// the binary embeds is remapped. Kept under the machine's cache so that a rerun is warm.
#[test]
fn a_relocated_checkout_toolchain_and_cargo_home_give_the_same_zip() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let root = containers::cache_dir().join("relocated");
    let rustup_home = root.join("rustup");
    let cargo_home = root.join("cargo-home");
    let checkout = root.join("checkout");
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();

    let sysroot = PathBuf::from(
        String::from_utf8(
            Command::new("rustc")
                .current_dir(repository)
                .args(["--print", "sysroot"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim(),
    );
    let host = String::from_utf8(
        Command::new("rustc")
            .current_dir(repository)
            .arg("-vV")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .lines()
    .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
    .unwrap();
    let toolchain = rustup_home
        .join("toolchains")
        .join(format!("1.95.0-{host}"));
    if !toolchain.join("bin").is_dir() {
        std::fs::create_dir_all(toolchain.parent().unwrap()).unwrap();
        // Hard links (same file system) are instant; the sysroot is canonical, so a toolchain
        // folder that is itself a symbolic link is copied as its target's contents.
        let canonical = sysroot.canonicalize().unwrap();
        let copied = Command::new("cp")
            .arg("-al")
            .arg(&canonical)
            .arg(&toolchain)
            .status()
            .unwrap()
            .success()
            || Command::new("cp")
                .arg("-a")
                .arg(&canonical)
                .arg(&toolchain)
                .status()
                .unwrap()
                .success();
        assert!(copied, "copying {} failed", canonical.display());
    }
    // The sources (the workspace's members too); files are rewritten only when they differ,
    // so a rerun stays warm.
    sync(repository, &checkout);
    std::fs::create_dir_all(&cargo_home).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let here = dir.path().join("here.zip");
    let here_report = json(&xtask(package_args("x86_64", &here, &["--builder", "cargo"])).output());
    let there = dir.path().join("there.zip");
    let there_report = json(
        &xtask(package_args(
            "x86_64",
            &there,
            &[
                "--builder",
                "cargo",
                "--manifest-path",
                checkout.join("Cargo.toml").to_str().unwrap(),
            ],
        ))
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO_TARGET_DIR")
        .env("RUSTUP_HOME", &rustup_home)
        .env("CARGO_HOME", &cargo_home)
        .env("RUSTUP_AUTO_INSTALL", "0")
        .current_dir(&checkout)
        .output(),
    );
    assert_eq!(there_report["toolchain"], here_report["toolchain"]);
    assert_eq!(there_report["sha256"], here_report["sha256"]);
    let bootstrap = lambda_zip::read_bootstrap(&there).unwrap().contents;
    for host_path in [
        repository.to_str().unwrap(),
        checkout.to_str().unwrap(),
        rustup_home.to_str().unwrap(),
        cargo_home.to_str().unwrap(),
    ] {
        assert!(
            !bootstrap
                .windows(host_path.len())
                .any(|w| w == host_path.as_bytes()),
            "the bootstrap names {host_path}"
        );
    }
}

/// Copies a file or folder, writing only files whose contents differ (mtimes of unchanged
/// files stay, so cargo sees nothing new).
fn sync(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if [".git", "target", "dist", ".venv"]
                .iter()
                .any(|n| name == *n)
            {
                continue;
            }
            sync(&entry.path(), &to.join(name));
        }
    } else {
        let bytes = std::fs::read(from).unwrap();
        if std::fs::read(to).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(to, bytes).unwrap();
        }
    }
}
