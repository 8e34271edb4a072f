//! The kit on a workspace that is not this repository's (`tests/fixtures/two-packages`): two
//! packages, three functions, settings in cargo-lambda's schema at all three levels, reached with
//! `--manifest-path` as a user would. The zips are read back, the printed commands checked, and
//! a function run in the emulator sees its environment and its included files.
#![cfg(target_os = "linux")] // builds and runs Linux Lambda binaries

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lambda_kit::artifact::lambda_zip;
use serde_json::Value;

mod support;

use support::{copy_tree, xtask};

fn fixture() -> &'static Path {
    static FIXTURE: OnceLock<PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| support::fixture("two-packages"))
}

fn manifest() -> String {
    fixture().join("Cargo.toml").display().to_string()
}

/// The xtask runs from a folder outside both workspaces: `--manifest-path` alone finds the
/// fixture.
const OUTSIDE: &str = env!("CARGO_TARGET_TMPDIR");

/// Every function packaged once for x86_64: what `package --all --json` printed.
fn packaged() -> &'static (Vec<Value>, String) {
    static PACKAGED: OnceLock<(Vec<Value>, String)> = OnceLock::new();
    PACKAGED.get_or_init(|| {
        let manifest = manifest();
        let output = xtask([
            "package",
            "--manifest-path",
            &manifest,
            "--all",
            "--arch",
            "x86_64",
            "--builder",
            "cargo",
            "--json",
        ])
        .current_dir(OUTSIDE)
        .output();
        assert!(output.status.success());
        let reports: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        (
            reports,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
}

fn report(bin: &str) -> &'static Value {
    packaged()
        .0
        .iter()
        .find(|r| r["function"]["bin"] == bin)
        .unwrap_or_else(|| panic!("no report for {bin}"))
}

fn flag_value(command: &str, flag: &str) -> String {
    let argv = shlex::split(&command.replace("\\\n", " ")).unwrap();
    let at = argv
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} in {command}"));
    argv[at + 1].clone()
}

#[test]
fn every_function_is_packaged_under_the_workspaces_own_dist_with_its_includes() {
    let (reports, stderr) = packaged();
    let bins: Vec<&str> = reports
        .iter()
        .map(|r| r["function"]["bin"].as_str().unwrap())
        .collect();
    assert_eq!(bins, ["one", "two", "three"]);
    for report in reports {
        let bin = report["function"]["bin"].as_str().unwrap();
        let path = PathBuf::from(report["path"].as_str().unwrap());
        assert_eq!(
            path,
            fixture().join("dist").join(bin).join("lambda-x86_64.zip")
        );
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(report["sha256"], lambda_zip::code_sha256(&bytes));
        let entries = lambda_zip::read_entries(&bytes).unwrap();
        let names: Vec<(&str, Option<u32>)> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.unix_mode))
            .collect();
        if bin == "three" {
            assert_eq!(names, [("bootstrap", Some(0o100755))]);
        } else {
            assert_eq!(
                names,
                [
                    ("bootstrap", Some(0o100755)),
                    ("greeting.txt", Some(0o100644)),
                    ("static/hello.txt", Some(0o100644)),
                ]
            );
            assert_eq!(entries[1].contents, b"greetings from config\n");
            assert_eq!(
                report["includes"],
                serde_json::json!(["greeting.txt", "static/hello.txt"])
            );
        }
    }
    // The cargo-lambda key the kit does not use: one warning line, and the build went on.
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("subnet_ids"))
        .collect();
    assert!(!warnings.is_empty(), "{stderr}");
    assert!(warnings[0].starts_with("warning: ") && warnings[0].contains("beta/Cargo.toml"));
}

#[test]
fn the_commands_carry_each_functions_settings_from_the_three_levels() {
    // bin level over package level over workspace level.
    let two = report("two")["commands"]["create_function"]
        .as_str()
        .unwrap();
    assert_eq!(flag_value(two, "--function-name"), "alpha-second");
    assert_eq!(flag_value(two, "--memory-size"), "512");
    assert_eq!(flag_value(two, "--timeout"), "25");
    let env: Value = serde_json::from_str(&flag_value(two, "--environment")).unwrap();
    assert_eq!(
        env,
        serde_json::json!({"Variables": {"GREETING_FILE": "greeting.txt", "STAGE": "test", "WHO": "two"}})
    );
    assert_eq!(flag_value(two, "--tags"), r#"{"team":"kit"}"#);
    // Relative to the folder the command ran in, as a user would type it there.
    let zip = fixture().join("dist/two/lambda-x86_64.zip");
    let shown = zip.strip_prefix(env!("CARGO_TARGET_TMPDIR")).unwrap();
    assert_eq!(
        flag_value(two, "--zip-file"),
        format!("fileb://{}", shown.display())
    );

    let one = report("one")["commands"]["create_function"]
        .as_str()
        .unwrap();
    assert_eq!(flag_value(one, "--function-name"), "one");
    assert_eq!(flag_value(one, "--memory-size"), "256");
    assert_eq!(flag_value(one, "--timeout"), "25");

    let three = report("three");
    let create = three["commands"]["create_function"].as_str().unwrap();
    assert_eq!(flag_value(create, "--function-name"), "three");
    assert_eq!(flag_value(create, "--runtime"), "provided.al2023");
    assert_eq!(three["runtime"], "provided.al2023");
    assert_eq!(flag_value(create, "--timeout"), "20");
    assert_eq!(flag_value(create, "--description"), "the third function");
    let env: Value = serde_json::from_str(&flag_value(create, "--environment")).unwrap();
    assert_eq!(env, serde_json::json!({"Variables": {"STAGE": "test"}}));
    // Today's JSON field names stay (scripts read them).
    for field in [
        "path",
        "arch",
        "target",
        "builder",
        "runtime",
        "size",
        "binary_size",
        "sha256",
        "linkage",
    ] {
        assert!(three.get(field).is_some(), "{field}");
    }
    assert!(three["commands"]["update_function_code"].is_string());
    assert!(three["commands"]["invoke"]["aws_cli_v2"].is_string());
}

#[test]
fn flags_override_the_metadata() {
    packaged();
    let manifest = manifest();
    let output = xtask([
        "package",
        "--manifest-path",
        &manifest,
        "--package",
        "alpha",
        "--bin",
        "two",
        "--builder",
        "cargo",
        "--memory-size",
        "1024",
        "--env",
        "WHO=flag",
        "--json",
    ])
    .current_dir(OUTSIDE)
    .output();
    assert!(output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let create = report["commands"]["create_function"].as_str().unwrap();
    assert_eq!(flag_value(create, "--memory-size"), "1024");
    assert_eq!(flag_value(create, "--timeout"), "25");
    let env: Value = serde_json::from_str(&flag_value(create, "--environment")).unwrap();
    assert_eq!(env["Variables"]["WHO"], "flag");
    assert_eq!(env["Variables"]["STAGE"], "test");
}

#[test]
fn several_functions_and_no_choice_is_refused_with_the_list() {
    let manifest = manifest();
    for task in ["package", "invoke", "deploy"] {
        let output = xtask([task, "--manifest-path", &manifest, "--arch", "x86_64"])
            .current_dir(OUTSIDE)
            .output();
        assert_eq!(output.status.code(), Some(1), "{task}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("3 Lambda functions match"), "{stderr}");
        for (package, bin) in [("alpha", "one"), ("alpha", "two"), ("beta", "three")] {
            // Ready to paste from where the user is: with the --manifest-path given.
            let line = format!(
                "cargo xtask {task} --manifest-path {manifest} --package {package} --bin {bin}"
            );
            assert!(stderr.contains(&line), "{line} in {stderr}");
        }
    }
    let output = xtask([
        "package",
        "--manifest-path",
        &manifest,
        "--package",
        "alpha",
    ])
    .current_dir(OUTSIDE)
    .output();
    assert!(String::from_utf8_lossy(&output.stderr).contains("2 Lambda functions match"));
    let output = xtask(["package", "--manifest-path", &manifest, "--bin", "four"])
        .current_dir(OUTSIDE)
        .output();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no Lambda function matches --bin four")
    );
}

#[test]
fn a_bad_metadata_value_names_the_file_and_the_key() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    copy_tree(&fixture().join("beta"), &dir.path().join("beta"));
    copy_tree(&fixture().join("alpha"), &dir.path().join("alpha"));
    let _ = std::fs::remove_dir_all(dir.path().join("alpha/target"));
    let root = std::fs::read_to_string(fixture().join("Cargo.toml"))
        .unwrap()
        .replace("memory = 256", "memory = 64");
    std::fs::write(dir.path().join("Cargo.toml"), root).unwrap();
    let manifest = dir.path().join("Cargo.toml");
    let output = xtask([
        "package",
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--all",
    ])
    .current_dir(OUTSIDE)
    .output();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: [workspace.metadata.lambda.deploy] memory: \"64\" is not a valid memory size",
            manifest.display()
        )),
        "{stderr}"
    );
}

#[test]
fn the_function_runs_with_its_environment_and_its_files() {
    packaged();
    let manifest = manifest();
    let output = xtask([
        "invoke",
        "--manifest-path",
        &manifest,
        "--package",
        "alpha",
        "--bin",
        "two",
        "--payload",
        "{}",
    ])
    .current_dir(OUTSIDE)
    .output();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({
            "bin": "two",
            "env": {"STAGE": "test", "WHO": "two", "GREETING_FILE": "greeting.txt", "LOCAL_ONLY": "yes"},
            "greeting": "greetings from config\n",
            "hello": "hello from static\n",
        })
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Memory Size: 512 MB"), "{stderr}");
}

#[test]
fn clean_removes_the_artifacts_and_every_release_build_but_not_the_debug_build() {
    // A copy of the fixture with stand-in build folders: clean needs `cargo metadata` only.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-packages");
    copy_tree(&source, dir.path());
    let made = [
        "dist/one/lambda-x86_64.zip",
        "dist/.gitkeep",
        "target/x86_64-unknown-linux-musl/release/one",
        "target/aarch64-unknown-linux-gnu/release/three",
        "target/release/pi_timing",
        "target/debug/xtask",
        "target/x86_64-unknown-linux-musl/debug/one",
    ];
    for file in made {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"x").unwrap();
    }
    let manifest = dir.path().join("Cargo.toml");
    let output = xtask(["clean", "--manifest-path", manifest.to_str().unwrap()])
        .current_dir(OUTSIDE)
        .output();
    assert!(output.status.success());
    let exists = |file: &str| dir.path().join(file).exists();
    assert!(!exists("dist/one"));
    assert!(exists("dist/.gitkeep"));
    assert!(!exists("target/x86_64-unknown-linux-musl/release"));
    assert!(!exists("target/aarch64-unknown-linux-gnu/release"));
    assert!(!exists("target/release"));
    assert!(exists("target/debug/xtask"));
    assert!(exists("target/x86_64-unknown-linux-musl/debug/one"));
}
