//! End to end: `cargo xtask package` builds real binaries with the local toolchain, and the zips
//! it writes are read back as Lambda would read them.

use std::path::{Path, PathBuf};
use std::process::Output;

use lambda_kit::arch::Arch;
use lambda_kit::artifact::elf;
use lambda_kit::artifact::lambda_zip;

mod support;

use support::xtask;

const ROLE: &str = "arn:aws:iam::123456789012:role/lambda-basic-execution";

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn package_json(arch: Arch, output: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "package",
        "--arch",
        arch.lambda_name(),
        "--builder",
        "cargo",
        "--role",
        ROLE,
        "--json",
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let result = xtask(&args).output();
    assert!(
        result.status.success(),
        "package failed:\n{}",
        stderr(&result)
    );
    serde_json::from_slice(&result.stdout).expect("package --json prints one JSON object")
}

fn check_package(arch: Arch) {
    let dir = tempfile::tempdir().unwrap();
    let zip_path: PathBuf = dir.path().join(arch.zip_file_name());
    let report = package_json(arch, &zip_path, &[]);

    let bytes = std::fs::read(&zip_path).unwrap();
    assert_eq!(report["path"], zip_path.to_str().unwrap());
    assert_eq!(report["arch"], arch.lambda_name());
    assert_eq!(report["target"], arch.local_default_target());
    assert_eq!(report["runtime"], "provided.al2");
    assert_eq!(report["size"], bytes.len() as u64);
    assert_eq!(report["sha256"], lambda_zip::code_sha256(&bytes));
    assert_eq!(report["linkage"], "static");

    // Exactly one executable, deflated `bootstrap` with the zip epoch as its time.
    let entries = lambda_zip::read_entries(&bytes).unwrap();
    assert_eq!(entries.len(), 1);
    let bootstrap = &entries[0];
    assert_eq!(bootstrap.name, "bootstrap");
    assert_eq!(bootstrap.unix_mode, Some(0o100755));
    assert_eq!(bootstrap.compression, zip::CompressionMethod::Deflated);
    assert_eq!(bootstrap.last_modified, Some(zip::DateTime::DEFAULT));
    assert_eq!(report["binary_size"], bootstrap.contents.len() as u64);

    // The binary inside is a static ELF executable for the architecture.
    let info = elf::inspect(&bootstrap.contents).unwrap();
    assert_eq!(info.arch, Some(arch));
    assert!(info.is_static(), "{info:?}");

    let create = report["commands"]["create_function"].as_str().unwrap();
    assert!(
        create.starts_with("aws lambda create-function \\\n"),
        "{create}"
    );
    for says in [
        format!("--architectures {}", arch.lambda_name()),
        "--runtime provided.al2".to_string(),
        "--handler bootstrap".to_string(),
        format!("--zip-file fileb://{}", zip_path.display()),
        format!("--role {ROLE}"),
    ] {
        assert!(create.contains(&says), "{says}: {create}");
    }
    let update = report["commands"]["update_function_code"].as_str().unwrap();
    assert!(
        update.contains(&format!("--architectures {}", arch.lambda_name())),
        "{update}"
    );

    // Packaging again gives the byte-identical zip, hence the same CodeSha256.
    let again = dir.path().join("again.zip");
    let second = package_json(arch, &again, &[]);
    assert_eq!(std::fs::read(&again).unwrap(), bytes);
    assert_eq!(second["sha256"], report["sha256"]);
}

#[test]
fn packages_x86_64_as_lambda_needs() {
    check_package(Arch::X86_64);
}

#[test]
fn packages_arm64_as_lambda_needs() {
    check_package(Arch::Arm64);
}

/// A real aarch64 glibc build linked on this machine needs a glibc newer than provided.al2's:
/// it is refused there (keeping the previous zip) and accepted for provided.al2023.
#[test]
fn glibc_arm64_binary_is_refused_for_al2_and_accepted_for_al2023() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("lambda-arm64.zip");
    std::fs::write(&zip_path, b"the previous package").unwrap();
    let args = [
        "package",
        "--arch",
        "arm64",
        "--builder",
        "cargo",
        "--target",
        "aarch64-unknown-linux-gnu",
        "--output",
        zip_path.to_str().unwrap(),
    ];
    let refused = xtask(args).output();
    assert!(!refused.status.success());
    let message = stderr(&refused);
    for says in [
        "needs GLIBC_2.",
        "provided.al2 has glibc 2.26",
        "--builder cross",
        "aarch64-unknown-linux-musl",
        "--runtime provided.al2023",
    ] {
        assert!(message.contains(says), "{says}: {message}");
    }
    assert_eq!(std::fs::read(&zip_path).unwrap(), b"the previous package");

    let report = package_json(
        Arch::Arm64,
        &zip_path,
        &[
            "--target",
            "aarch64-unknown-linux-gnu",
            "--runtime",
            "provided.al2023",
        ],
    );
    let linkage = report["linkage"].as_str().unwrap();
    assert!(linkage.starts_with("dynamic, needs GLIBC_2."), "{linkage}");
    assert_eq!(report["runtime"], "provided.al2023");
    let bootstrap = lambda_zip::read_bootstrap(&zip_path).unwrap();
    let info = elf::inspect(&bootstrap.contents).unwrap();
    assert_eq!(info.arch, Some(Arch::Arm64));
    assert!(info.newest_glibc().unwrap() <= (2, 34));
    let create = report["commands"]["create_function"].as_str().unwrap();
    assert!(create.contains("--runtime provided.al2023"), "{create}");
}

#[test]
fn a_target_of_another_architecture_is_refused_before_building() {
    let result = xtask([
        "package",
        "--arch",
        "arm64",
        "--target",
        "x86_64-unknown-linux-musl",
    ])
    .output();
    assert!(!result.status.success());
    let message = stderr(&result);
    assert!(
        message.contains("builds for x86_64, not arm64"),
        "{message}"
    );
    assert!(!message.contains("Compiling"), "{message}");
}

#[test]
fn invalid_function_settings_are_refused_with_what_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("never.zip");
    let cases: [(&str, &str, &str); 5] = [
        ("--function-name", "calculate pi", "1 to 64 letters"),
        (
            "--role",
            "lambda-basic-execution",
            "arn:aws:iam::123456789012:role/NAME",
        ),
        ("--memory-size", "64", "128 to 10240 MB"),
        ("--timeout", "0", "1 to 900 seconds"),
        ("--runtime", "provided", "provided.al2023"),
    ];
    for (flag, value, says) in cases {
        let result = xtask(["package", flag, value, "--output", output.to_str().unwrap()]).output();
        assert_eq!(result.status.code(), Some(2), "{flag} {value}");
        let message = stderr(&result);
        assert!(message.contains(says), "{flag} {value}: {message}");
    }
    assert!(!output.exists());
}

/// What users copy: the human output holds the path, size, CodeSha256 and both commands.
#[test]
fn human_output_prints_the_commands_ready_to_copy() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("lambda-x86_64.zip");
    let result = xtask([
        "package",
        "--arch",
        "x86_64",
        "--builder",
        "cargo",
        "--function-name",
        "pi-bench",
        "--memory-size",
        "256",
        "--timeout",
        "60",
        "--output",
        zip_path.to_str().unwrap(),
    ])
    .output();
    assert!(result.status.success(), "{}", stderr(&result));
    let text = String::from_utf8(result.stdout).unwrap();
    let sha = lambda_zip::code_sha256(&std::fs::read(&zip_path).unwrap());
    for says in [
        format!("CodeSha256:   {sha}"),
        "provided.al2 is deprecated".to_string(),
        "aws lambda create-function \\\n  --function-name pi-bench \\\n".to_string(),
        "--memory-size 256 \\\n  --timeout 60 \\\n".to_string(),
        "--role \"${LAMBDA_ROLE_ARN:?".to_string(),
        "aws lambda update-function-code \\\n  --function-name pi-bench \\\n".to_string(),
    ] {
        assert!(text.contains(&says), "{says}:\n{text}");
    }
    assert_eq!(text.matches("deprecated").count(), 1, "{text}");
}

/// `--binary` packages a binary built elsewhere where there is neither cargo nor aws: neither
/// is started (each is a recorder on PATH that would leave a trace), text output included.
#[cfg(unix)]
#[test]
fn a_prebuilt_binary_is_packaged_without_cargo_or_aws() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let trace = dir.path().join("started");
    for program in ["cargo", "aws"] {
        let path = bin.join(program);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho {program} >> '{}'\nexit 1\n",
                trace.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let source = dir.path().join("main.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").unwrap();
    let binary = dir.path().join("handler");
    assert!(std::process::Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .unwrap()
        .success());
    let zip = dir.path().join("out").join("lambda-x86_64.zip");
    for json in [false, true] {
        let mut command = xtask(["package", "--binary"])
            .arg(&binary)
            .arg("--output")
            .arg(&zip)
            .env("PATH", &bin)
            .env_remove("CARGO")
            .current_dir(dir.path());
        if json {
            command = command.arg("--json");
        }
        let output = command.output();
        assert!(output.status.success(), "{}", stderr(&output));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("--function-name handler"), "{text}");
    }
    assert!(zip.is_file());
    assert!(
        !trace.exists(),
        "started: {:?}",
        std::fs::read_to_string(&trace)
    );
}
