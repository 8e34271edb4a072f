//! Functions with C dependencies on the default (cargo) builder, in a workspace of their own
//! (`tests/fixtures/c-functions`), reached with `--manifest-path`: the kit compiles their C with
//! zig (the pinned `ziglang` of the test virtualenv), for both architectures; they answer
//! through `cargo xtask invoke` (arm64 under qemu); a relocated copy gives the same bytes; and
//! without zig the kit says what to install before building anything.
//!
//! Cost (one target dir for the fixture, shared by the tests and kept between runs; measured
//! on 2026-12-06 on the 2-core machine shared with other builds, so wall times are rough):
//! the whole file cold (fixture target dirs removed), before `digests`: 734 s wall, 353 CPU-s
//! (load 7–11); with it: 583 s wall, 417 CPU-s (load 3–7). Most of it is `bucket-keys`
//! (aws-sdk-s3: aws-lc-sys and ring) for x86_64; then `notes` (rusqlite `bundled`) for both
//! architectures and its relocated arm64 copy; the missing-zig test stops before building.
//! `digests` (aws-lc-rs) adds ~64 CPU-s (on the warm rest: 274 s wall at load ~9): its x86_64
//! build reuses bucket-keys' AWS-LC (the same features), its arm64 builds compile AWS-LC's C
//! twice (here and in the relocated copy) on the Rust dependencies notes' arm64 builds already
//! compiled. The SDK function for arm64 instead would add a second SDK build (~370–540 CPU-s
//! optimised, docs/kit.md's table).
#![cfg(target_os = "linux")] // builds and runs Linux Lambda binaries

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

mod support;

use support::moto::Moto;
use support::{copy_tree, xtask, Xtask};

/// The fixture, copied below the test target directory (its `target/` kept between runs).
fn fixture() -> &'static Path {
    static FIXTURE: OnceLock<PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| copy_of("c-functions"))
}

fn copy_of(name: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/c-functions");
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(copy.join("dist"));
    copy_tree(&source, &copy);
    copy
}

fn manifest(root: &Path) -> String {
    root.join("Cargo.toml").display().to_string()
}

/// The xtask runs from a folder outside the fixture: `--manifest-path` alone finds it.
const OUTSIDE: &str = env!("CARGO_TARGET_TMPDIR");

/// `package --json` of one function of the workspace at `root`.
fn package(root: &Path, package: &str, arch: &str) -> (Value, String) {
    let output = xtask([
        "package",
        "--manifest-path",
        &manifest(root),
        "--package",
        package,
        "--arch",
        arch,
        "--builder",
        "cargo",
        "--json",
    ])
    .current_dir(OUTSIDE)
    .success();
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `notes` packaged once per architecture, shared by the tests that need it.
fn notes(arch: &'static str) -> &'static (Value, String) {
    static X86: OnceLock<(Value, String)> = OnceLock::new();
    static ARM: OnceLock<(Value, String)> = OnceLock::new();
    let cell = if arch == "x86_64" { &X86 } else { &ARM };
    cell.get_or_init(|| package(fixture(), "notes", arch))
}

/// `digests` (aws-lc-rs, so aws-lc-sys) packaged once per architecture.
fn digests(arch: &'static str) -> &'static (Value, String) {
    static X86: OnceLock<(Value, String)> = OnceLock::new();
    static ARM: OnceLock<(Value, String)> = OnceLock::new();
    let cell = if arch == "x86_64" { &X86 } else { &ARM };
    cell.get_or_init(|| package(fixture(), "digests", arch))
}

/// The default builder made a static binary, after saying that zig compiles `krate`'s C.
fn assert_built_with_zig(report: &Value, stderr: &str, krate: &str) {
    assert!(
        stderr.contains("C toolchain for ")
            && stderr.contains(": zig 0.15.2 (")
            && stderr.contains(krate),
        "the kit says zig compiles {krate}:\n{stderr}"
    );
    assert_eq!(report["linkage"], "static", "{report}");
    assert_eq!(report["builder"], "cargo");
}

fn invoke(root: &Path, package: &str, arch: &str, payload: &str) -> Xtask {
    xtask([
        "invoke",
        "--manifest-path",
        &manifest(root),
        "--package",
        package,
        "--arch",
        arch,
        "--payload",
        payload,
    ])
    .current_dir(OUTSIDE)
}

#[test]
fn bundled_sqlite_builds_with_zig_for_both_architectures_and_answers() {
    for arch in ["x86_64", "arm64"] {
        let (report, stderr) = notes(arch);
        assert_built_with_zig(report, stderr, "libsqlite3-sys");
        // --rebuild: cargo finds it fresh; the command it says it runs is one to paste.
        let output = invoke(
            fixture(),
            "notes",
            arch,
            r#"{"notes": ["tea", "a longer note", "b"]}"#,
        )
        .arg("--rebuild")
        .success();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let packaging = format!(
            "first (--rebuild): cargo xtask package --manifest-path {} --package notes --bin notes --arch {arch}",
            manifest(fixture())
        );
        assert!(stderr.contains(&packaging), "{packaging} in:\n{stderr}");
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(answer["count"], 3, "{answer}");
        assert_eq!(answer["longest"], "a longer note", "{answer}");
        assert!(
            answer["sqlite"].as_str().unwrap().starts_with("3."),
            "SQLite's own C answered: {answer}"
        );
    }
}

#[test]
fn a_binary_built_elsewhere_is_zipped_into_the_workspaces_dist() {
    let (report, _) = notes("x86_64");
    let binary = fixture().join("target/x86_64-unknown-linux-musl/release/notes");
    let copy = Path::new(OUTSIDE).join("prebuilt/notes");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&binary, &copy).unwrap();
    let output = xtask([
        "package",
        "--manifest-path",
        &manifest(fixture()),
        "--binary",
        &copy.display().to_string(),
        "--json",
    ])
    .current_dir(OUTSIDE)
    .success();
    let prebuilt: Value = serde_json::from_slice(&output.stdout).unwrap();
    // Named after one of the workspace's functions: its dist/<bin>/, not the current folder's.
    assert_eq!(
        Path::new(prebuilt["path"].as_str().unwrap()),
        fixture().join("dist/notes/lambda-x86_64.zip")
    );
    assert!(!Path::new(OUTSIDE).join("dist").exists());
    assert_eq!(prebuilt["sha256"], report["sha256"], "the same bytes");
}

#[test]
fn a_c_build_failure_names_the_crate_and_the_next_step() {
    let stderr = xtask([
        "package",
        "--manifest-path",
        &manifest(fixture()),
        "--package",
        "broken-c",
        "--arch",
        "x86_64",
        "--builder",
        "cargo",
    ])
    .current_dir(OUTSIDE)
    .failure();
    assert!(
        stderr.contains("this C does not compile, on purpose"),
        "zig's own error is shown:\n{stderr}"
    );
    assert!(
        stderr.contains("the C of broken-c v0.1.0")
            && stderr.contains("did not build for x86_64-unknown-linux-musl with zig 0.15.2"),
        "{stderr}"
    );
    assert!(stderr.contains("--builder cross"), "{stderr}");
}

#[test]
fn a_relocated_copy_gives_the_same_zip() {
    // Another folder (with a space, which the compiler wrappers must quote), another target
    // dir, another wrapper folder: the same CodeSha256, for SQLite's C and for AWS-LC's (C and
    // assembly). arm64: the relocated copy shares that
    // architecture's Rust dependencies between the two functions.
    let relocated = copy_of("relocated copy/deeper/c-functions");
    for (function, original) in [("notes", notes("arm64")), ("digests", digests("arm64"))] {
        let (moved, stderr) = package(&relocated, function, "arm64");
        assert!(stderr.contains("zig 0.15.2"), "{stderr}");
        let (original, _) = original;
        assert_eq!(
            moved["sha256"], original["sha256"],
            "the relocated copy's {function} zip differs"
        );
        assert_ne!(moved["path"], original["path"]);
        eprintln!(
            "{function} arm64 from two folders: CodeSha256 {}",
            code_sha256(&moved)
        );
    }
}

/// CodeSha256, as Lambda reports it: base64 of the zip's SHA-256.
fn code_sha256(report: &Value) -> String {
    let zip = std::fs::read(report["path"].as_str().unwrap()).unwrap();
    lambda_kit::artifact::lambda_zip::code_sha256(&zip)
}

/// The Done-when of issue 16 for AWS-LC: a function on aws-lc-rs (so aws-lc-sys, the C under
/// rustls and every aws-sdk-* crate) packages with the default builder for both architectures
/// and answers through `invoke`, arm64 under qemu, with AWS-LC's known-answer values.
#[test]
fn an_aws_lc_function_builds_for_both_architectures_and_answers() {
    for arch in ["x86_64", "arm64"] {
        let (report, stderr) = digests(arch);
        assert_built_with_zig(report, stderr, "aws-lc-sys");
        // FIPS 180-2's "abc" and RFC 4231's test case 2.
        let output = invoke(
            fixture(),
            "digests",
            arch,
            r#"{"message": "what do ya want for nothing?", "key": "Jefe"}"#,
        )
        .success();
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            answer["hmac_sha256"],
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            "{arch}: {answer}"
        );
        let output = invoke(fixture(), "digests", arch, r#"{"message": "abc"}"#).success();
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            answer["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "{arch}: {answer}"
        );
        eprintln!("digests {arch}: CodeSha256 {}", code_sha256(report));
    }
}

#[test]
fn without_zig_the_kit_says_what_to_install_before_building() {
    // PATH with cargo and rustc only: no zig, no Python with ziglang.
    let toolchain_bin = Path::new(&std::env::var("CARGO").unwrap())
        .parent()
        .unwrap()
        .to_path_buf();
    let stderr = xtask([
        "package",
        "--manifest-path",
        &manifest(fixture()),
        "--package",
        "notes",
        "--arch",
        "arm64",
        "--builder",
        "cargo",
        "--output",
        &Path::new(OUTSIDE).join("no-zig.zip").display().to_string(),
    ])
    .current_dir(OUTSIDE)
    .env("PATH", &toolchain_bin)
    .env_remove("LAMBDA_KIT_ZIG")
    .failure();
    let notes_manifest = fixture().join("notes/Cargo.toml");
    assert!(
        stderr.contains(&format!(
            "notes ({}) compiles C for aarch64-unknown-linux-musl, and no C toolchain for it was found",
            notes_manifest.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("libsqlite3-sys") && stderr.contains("(via notes → rusqlite"),
        "names the crate and how it is reached:\n{stderr}"
    );
    assert!(
        stderr.contains("python3 -m pip install --user ziglang==0.15.2"),
        "{stderr}"
    );
    assert!(stderr.contains("or build with --builder cross"), "{stderr}");
    assert!(
        !stderr.contains("cargo build"),
        "nothing is built:\n{stderr}"
    );
    assert!(!Path::new(OUTSIDE).join("no-zig.zip").exists());
}

#[test]
fn an_aws_sdk_function_answers_from_moto_with_the_callers_settings() {
    let (report, stderr) = package(fixture(), "bucket-keys", "x86_64");
    assert!(
        stderr.contains("aws-lc-sys") && stderr.contains("ring"),
        "the SDK's C is found before building:\n{stderr}"
    );
    assert_eq!(report["linkage"], "static", "{report}");
    let moto = Moto::start();
    let aws = |args: &[&str]| {
        let mut command = Command::new(support::moto::test_tool("aws"));
        moto.isolate(&mut command)
            .args(["--endpoint-url", &moto.url])
            .args(args);
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    aws(&["s3api", "create-bucket", "--bucket", "kit-notes"]);
    let object = moto.dir().join("hello.txt");
    std::fs::write(&object, "hello from moto").unwrap();
    aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "kit-notes",
        "--key",
        "a/hello.txt",
        "--body",
        &object.display().to_string(),
    ]);

    let payload = r#"{"bucket": "kit-notes"}"#;
    // Without the flag the function has no credentials and no endpoint: it cannot reach moto.
    let mut without = invoke(fixture(), "bucket-keys", "x86_64", payload);
    moto.isolate(without.command())
        .env("AWS_ENDPOINT_URL", &moto.url);
    let refused = without.output();
    assert!(!refused.status.success());
    // With it, the caller's endpoint, credentials and region reach the function, and no value
    // is printed.
    let mut with = invoke(fixture(), "bucket-keys", "x86_64", payload).arg("--pass-aws-settings");
    moto.isolate(with.command())
        .env("AWS_ENDPOINT_URL", &moto.url);
    let output = with.success();
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        answer["keys"],
        serde_json::json!(["a/hello.txt"]),
        "{answer}"
    );
    assert_eq!(answer["first"], "hello from moto", "{answer}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AWS_ACCESS_KEY_ID") && stderr.contains("AWS_ENDPOINT_URL"),
        "the names are said:\n{stderr}"
    );
    assert!(
        !stderr.contains("testing") && !stderr.contains(&moto.url),
        "values are never printed:\n{stderr}"
    );
}
