//! End to end on a workspace of extensions (tests/fixtures/extensions): discovery tells them
//! from functions, `package --extension` writes a reproducible layer zip that is read back as
//! Lambda reads it, and `deploy --extension` leaves a layer version on moto, read back with the
//! real AWS CLI. One copy of the fixture (and its target dir) serves every test here.
//! Cost: one cold build of the fixture (lambda-extension, lambda_runtime; ~1-2 min on 2 cores),
//! then seconds per test.

use std::path::PathBuf;

use lambda_kit::artifact::{elf, lambda_zip};

mod support;

use support::moto::{test_tool, Moto};
use support::xtask;

fn fixture() -> PathBuf {
    static FIXTURE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    FIXTURE
        .get_or_init(|| support::fixture_of("extensions", "extensions"))
        .clone()
}

fn manifest() -> String {
    fixture().join("Cargo.toml").to_string_lossy().into_owned()
}

#[test]
fn package_extension_writes_a_reproducible_layer_with_the_binary_in_extensions() {
    let manifest = manifest();
    let package = || {
        xtask([
            "package",
            "--manifest-path",
            &manifest,
            "--extension",
            "--bin",
            "logger",
            "--arch",
            "x86_64",
            "--builder",
            "cargo",
            "--json",
        ])
        .json()
    };
    let report = package();
    let zip = fixture().join("dist/logger/layer-x86_64.zip");
    assert_eq!(report["path"], zip.to_str().unwrap());
    assert_eq!(report["extension"], "logger");
    assert_eq!(report["linkage"], "static");
    assert_eq!(
        report["compatible_runtimes"],
        serde_json::json!(["provided.al2", "provided.al2023"])
    );
    let bytes = std::fs::read(&zip).unwrap();
    assert_eq!(report["sha256"], lambda_zip::code_sha256(&bytes));
    let entries = lambda_zip::read_entries(&bytes).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, "extensions/logger");
    assert_eq!(entries[0].unix_mode, Some(0o100755));
    let info = elf::inspect(&entries[0].contents).unwrap();
    assert_eq!(info.arch, Some(lambda_kit::arch::Arch::X86_64));
    let publish = report["commands"]["publish_layer_version"]
        .as_str()
        .unwrap();
    assert!(
        publish.contains("aws lambda publish-layer-version")
            && publish.contains("--layer-name logger")
            && publish.contains("--compatible-architectures x86_64")
            && publish.contains("--compatible-runtimes provided.al2 provided.al2023"),
        "{publish}"
    );
    // The same sources give the same bytes.
    assert_eq!(package()["sha256"], report["sha256"]);
}

#[test]
fn extensions_are_listed_apart_from_the_function() {
    let manifest = manifest();
    // The one function needs no choice: the extensions do not make it ambiguous.
    let err = xtask([
        "package",
        "--manifest-path",
        &manifest,
        "--extension",
        "--arch",
        "x86_64",
        "--builder",
        "cargo",
    ])
    .failure();
    assert!(err.contains("2 Lambda extensions match"), "{err}");
    assert!(
        err.contains(&format!("cargo xtask package --manifest-path {manifest} --extension --package logger --bin logger   (extension)")),
        "{err}"
    );
    assert!(
        err.contains(&format!("cargo xtask package --manifest-path {manifest} --extension --package crasher --bin crasher")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "cargo xtask package --manifest-path {manifest} --package hello --bin hello\n"
        )),
        "{err}"
    );
}

#[test]
fn deploy_extension_publishes_a_layer_version_on_moto() {
    let manifest = manifest();
    let moto = Moto::start();
    let output = moto
        .xtask([
            "deploy",
            "--manifest-path",
            &manifest,
            "--extension",
            "--bin",
            "logger",
            "--arch",
            "x86_64",
            "--builder",
            "cargo",
            "--endpoint-url",
            &moto.url,
        ])
        .output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Read back with the real AWS CLI.
    let listed = moto
        .isolate(&mut std::process::Command::new(test_tool("aws")))
        .args(["lambda", "list-layer-versions", "--layer-name", "logger"])
        .args(["--endpoint-url", &moto.url, "--output", "json"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let versions: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let versions = versions["LayerVersions"].as_array().unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
    let arn = versions[0]["LayerVersionArn"].as_str().unwrap();
    assert!(arn.contains(":layer:logger:1"), "{arn}");
    assert!(stdout.contains(arn), "the ARN is printed:\n{stdout}");
    assert_eq!(
        versions[0]["CompatibleArchitectures"],
        serde_json::json!(["x86_64"])
    );
    assert_eq!(
        versions[0]["CompatibleRuntimes"],
        serde_json::json!(["provided.al2", "provided.al2023"])
    );
}
