//! `cargo xtask deploy` and the commands `cargo xtask package` prints, run with the real AWS CLI
//! (from the test virtualenv) against a real AWS API mock (moto's server on 127.0.0.1).
//!
//! Needs the pinned test tools of `cargo xtask setup` (.venv/: awscli, moto). Without them the
//! tests fail, saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use lambda_kit::arch::Arch;
use lambda_kit::artifact::lambda_zip;
use lambda_kit::aws;
use lambda_kit::builder::Builder;
use lambda_kit::command::Shell;
use lambda_kit::runtime::Runtime;
use serde_json::Value;

mod support;

use support::moto::{free_port, test_tool, Moto};
use support::xtask;

/// moto's default account.
const ROLE_NAME: &str = "calculate-pi-test";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/calculate-pi-test";
const FUNCTION: &str = "calculate-pi";

/// The zips every test deploys, made once per test binary.
struct Zips {
    /// dist/lambda-x86_64.zip, as `cargo xtask package --json` made it.
    built: PathBuf,
    built_sha: String,
    /// What `cargo xtask package --json` printed.
    package_json: Value,
    /// The same bootstrap with one byte appended (still a valid x86_64 ELF: the loader reads
    /// only what the headers point at), zipped by the kit's own `zip_binary`.
    changed: PathBuf,
    changed_sha: String,
}

fn zips() -> &'static Zips {
    static ZIPS: OnceLock<Zips> = OnceLock::new();
    ZIPS.get_or_init(|| {
        let package_json = xtask([
            "package",
            "--arch",
            "x86_64",
            "--builder",
            "cargo",
            "--json",
        ])
        .json();
        let built = PathBuf::from(package_json["path"].as_str().unwrap());
        let built_sha = lambda_zip::code_sha256(&std::fs::read(&built).unwrap());
        assert_eq!(package_json["sha256"], built_sha.as_str());

        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deploy-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let mut binary = lambda_zip::read_bootstrap(&built).unwrap().contents;
        binary.push(0);
        let binary_path = dir.join("bootstrap-changed");
        std::fs::write(&binary_path, &binary).unwrap();
        let changed = lambda_kit::artifact::deployment::zip_binary(
            &binary_path,
            &lambda_kit::artifact::deployment::ZipSpec {
                arch: Arch::X86_64,
                runtime: Runtime::ProvidedAl2,
                target: Some("x86_64-unknown-linux-musl"),
                builder: Some(Builder::Cargo),
                include: &[],
            },
            &dir.join("lambda-x86_64-changed.zip"),
        )
        .unwrap();
        assert_ne!(changed.sha256, built_sha);
        Zips {
            built,
            built_sha,
            package_json,
            changed: changed.path,
            changed_sha: changed.sha256,
        }
    })
}

/// What the deploy tests ask of moto (Lambda and IAM) and how they run programs against it.
trait LambdaApi {
    fn env<'c>(&self, command: &'c mut Command) -> &'c mut Command;
    fn aws(&self, args: &[&str]) -> Value;
    fn sh(&self, text: &str, extra_env: &[(&str, &str)]) -> Output;
    fn run(&self, command: &mut Command) -> Output;
    fn create_role(&self);
    fn function_names(&self) -> Vec<String>;
    fn configuration(&self, name: &str) -> Value;
    fn code_sha256(&self, name: &str) -> String;
}

impl LambdaApi for Moto {
    /// The environment of every program a test runs: moto's, the venv's `aws` first on PATH,
    /// from the workspace root.
    fn env<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        self.isolate(command)
            .current_dir(xtask::repository::repository_root())
            .env("PATH", self.path())
    }

    /// `aws <args> --endpoint-url <moto> --output json`, which must succeed; its JSON output.
    fn aws(&self, args: &[&str]) -> Value {
        let output = self.run(self.env(Command::new(test_tool("aws")).args(args).args([
            "--endpoint-url",
            &self.url,
            "--output",
            "json",
        ])));
        assert!(output.status.success(), "aws {args:?} failed");
        let stdout = String::from_utf8_lossy(&output.stdout);
        if stdout.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&stdout).unwrap()
        }
    }

    /// A shell command line as a user would paste it.
    fn sh(&self, text: &str, extra_env: &[(&str, &str)]) -> Output {
        let mut command = Command::new("sh");
        command.args(["-c", text]);
        // The test's own variables after the isolation, which removes the caller's.
        self.env(&mut command).envs(extra_env.iter().copied());
        self.run(&mut command)
    }

    /// Runs `command` (given moto's environment by [`LambdaApi::env`]), its output echoed.
    fn run(&self, command: &mut Command) -> Output {
        let output = command.output().unwrap();
        eprintln!(
            "--- {:?} exited {}\nstdout:\n{}\nstderr:\n{}",
            command,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn create_role(&self) {
        self.aws(&[
            "iam",
            "create-role",
            "--role-name",
            ROLE_NAME,
            "--assume-role-policy-document",
            aws::cli::LAMBDA_TRUST_POLICY,
        ]);
    }

    fn function_names(&self) -> Vec<String> {
        let listed = self.aws(&["lambda", "list-functions"]);
        listed["Functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["FunctionName"].as_str().unwrap().to_string())
            .collect()
    }

    fn configuration(&self, name: &str) -> Value {
        self.aws(&["lambda", "get-function", "--function-name", name])["Configuration"].clone()
    }

    fn code_sha256(&self, name: &str) -> String {
        self.configuration(name)["CodeSha256"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Appends an option to a printed multi-line command, the way a user would.
fn with_endpoint(printed: &str, url: &str) -> String {
    format!("{printed} \\\n  --endpoint-url {url}")
}

#[test]
fn the_printed_commands_run_as_printed() {
    let zips = zips();
    let moto = Moto::start();

    // The execution role, with the commands deploy's message (and the README) print.
    for command in aws::cli::create_execution_role(ROLE_NAME) {
        let output = moto.sh(
            &with_endpoint(&command.render(Shell::Posix).unwrap(), &moto.url),
            &[],
        );
        assert!(output.status.success());
    }

    // create-function exactly as `cargo xtask package` printed it, run by the shell.
    let commands = &zips.package_json["commands"];
    let create = commands["create_function"].as_str().unwrap();
    assert!(create.starts_with("aws lambda create-function \\\n"));
    let output = moto.sh(
        &with_endpoint(create, &moto.url),
        &[("LAMBDA_ROLE_ARN", ROLE_ARN)],
    );
    assert!(output.status.success());

    let configuration = moto.configuration(FUNCTION);
    assert_eq!(configuration["Runtime"], "provided.al2");
    assert_eq!(configuration["Handler"], "bootstrap");
    assert_eq!(
        configuration["Architectures"],
        serde_json::json!(["x86_64"])
    );
    assert_eq!(configuration["Role"], ROLE_ARN);
    assert_eq!(configuration["CodeSha256"], zips.built_sha.as_str());

    // update-function-code as printed is accepted too.
    let update = commands["update_function_code"].as_str().unwrap();
    assert!(moto
        .sh(&with_endpoint(update, &moto.url), &[])
        .status
        .success());
    assert_eq!(moto.code_sha256(FUNCTION), zips.built_sha);

    // The invoke form for AWS CLI v1 (the pinned CLI) is accepted; the v2 form is refused by
    // v1, which is why the kit prints the form of the installed CLI.
    let invoke_dir = tempfile::tempdir().unwrap();
    let in_dir = |command: &str| {
        format!(
            "cd {} && {}",
            Shell::Posix
                .quote(&invoke_dir.path().to_string_lossy())
                .unwrap(),
            with_endpoint(command, &moto.url)
        )
    };
    let v1 = commands["invoke"]["aws_cli_v1"].as_str().unwrap();
    let output = moto.sh(&in_dir(v1), &[]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("\"StatusCode\": 200"));
    assert!(invoke_dir.path().join("response.json").is_file());
    let v2 = commands["invoke"]["aws_cli_v2"].as_str().unwrap();
    let output = moto.sh(&in_dir(v2), &[]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("Unknown options: --cli-binary-format"));
}

#[test]
fn deploy_creates_then_updates_then_recognises_unchanged_code() {
    let zips = zips();
    let moto = Moto::start();
    moto.create_role();
    let deploy = |extra: &[&str]| {
        let mut args = vec!["deploy", "--arch", "x86_64", "--endpoint-url", &moto.url];
        args.extend_from_slice(extra);
        moto.xtask(&args).output()
    };

    // Create: builds (incrementally), packages, creates, waits, checks CodeSha256.
    let output = deploy(&["--builder", "cargo", "--role", ROLE_ARN]);
    assert!(output.status.success());
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        stdout.starts_with(&format!(
            "Created {FUNCTION}: x86_64, provided.al2, handler bootstrap, CodeSha256 {}",
            zips.built_sha
        )),
        "{stdout}"
    );
    for ran in [
        "$ aws lambda get-function --function-name calculate-pi",
        "$ aws lambda create-function --function-name calculate-pi --runtime provided.al2 \
         --architectures x86_64 --handler bootstrap --memory-size 128 --timeout 30 \
         --zip-file fileb://dist/lambda-x86_64.zip --role arn:aws:iam::123456789012:role/calculate-pi-test",
        "$ aws lambda wait function-active-v2 --function-name calculate-pi",
    ] {
        assert!(stderr.contains(ran), "{ran}");
    }
    assert!(stdout.contains("aws lambda invoke \\\n  --function-name calculate-pi"));
    assert_eq!(moto.code_sha256(FUNCTION), zips.built_sha);

    // Update with other code: the update path, and CodeSha256 follows.
    let changed = zips.changed.to_str().unwrap();
    let output = deploy(&["--zip", changed]);
    assert!(output.status.success());
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(
        stdout.starts_with(&format!(
            "Updated {FUNCTION}: CodeSha256 {} -> {} (x86_64)",
            zips.built_sha, zips.changed_sha
        )),
        "{stdout}"
    );
    assert!(stderr.contains(
        "$ aws lambda update-function-code --function-name calculate-pi --architectures x86_64"
    ));
    assert!(stderr.contains("$ aws lambda wait function-updated-v2"));
    assert!(!stderr.contains("create-function"));
    assert_eq!(moto.code_sha256(FUNCTION), zips.changed_sha);

    // The same zip again: recognised, nothing uploaded.
    let output = deploy(&["--zip", changed]);
    assert!(output.status.success());
    assert!(text(&output.stdout).starts_with(&format!(
        "{FUNCTION} is unchanged: its code already has CodeSha256 {}",
        zips.changed_sha
    )));
    assert!(!text(&output.stderr).contains("update-function-code"));

    // And back to the built code, through the build.
    let output = deploy(&["--builder", "cargo"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).starts_with(&format!("Updated {FUNCTION}")));
    assert_eq!(moto.code_sha256(FUNCTION), zips.built_sha);
    assert_eq!(moto.function_names(), [FUNCTION]);
}

#[test]
fn another_architecture_is_refused_before_anything_is_uploaded() {
    let zips = zips();
    let moto = Moto::start();
    moto.create_role();
    // A function someone made for arm64.
    let zip_url = format!("fileb://{}", zips.changed.display());
    moto.aws(&[
        "lambda",
        "create-function",
        "--function-name",
        FUNCTION,
        "--runtime",
        "provided.al2",
        "--architectures",
        "arm64",
        "--handler",
        "bootstrap",
        "--role",
        ROLE_ARN,
        "--zip-file",
        &zip_url,
    ]);

    let output = moto
        .xtask([
            "deploy",
            "--arch",
            "x86_64",
            "--zip",
            zips.built.to_str().unwrap(),
            "--endpoint-url",
            &moto.url,
        ])
        .output();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    for says in [
        "calculate-pi is configured for arm64, but this zip is for x86_64",
        "nothing was uploaded",
        "aws lambda update-function-code \\\n  --function-name calculate-pi \\\n  --architectures x86_64",
        "aws lambda delete-function",
    ] {
        assert!(stderr.contains(says), "{says}");
    }
    assert!(!stderr.contains("$ aws lambda update-function-code"));
    assert_eq!(moto.code_sha256(FUNCTION), zips.changed_sha);
    assert_eq!(
        moto.configuration(FUNCTION)["Architectures"],
        serde_json::json!(["arm64"])
    );

    // A zip whose bootstrap is not for the architecture asked: refused before any request.
    let output = moto
        .xtask([
            "deploy",
            "--arch",
            "arm64",
            "--zip",
            zips.built.to_str().unwrap(),
            "--endpoint-url",
            &moto.url,
            "--function-name",
            "other",
            "--role",
            ROLE_ARN,
        ])
        .output();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("the binary is built for x86_64, but the package is for arm64"));
    assert!(stderr.contains("nothing was sent"));
    assert!(!stderr.contains("$ aws"));
    assert_eq!(moto.function_names(), [FUNCTION]);
}

#[test]
fn creating_without_a_role_is_refused_with_the_commands_that_make_one() {
    let zips = zips();
    let moto = Moto::start();
    let output = moto
        .xtask([
            "deploy",
            "--zip",
            zips.built.to_str().unwrap(),
            "--endpoint-url",
            &moto.url,
        ])
        .output();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    for says in [
        "calculate-pi does not exist, and creating it needs its execution role: pass --role",
        "nothing was created",
        "aws iam create-role",
        "lambda.amazonaws.com",
        "AWSLambdaBasicExecutionRole",
    ] {
        assert!(stderr.contains(says), "{says}");
    }
    assert!(!stderr.contains("$ aws lambda create-function"));
    assert!(moto.function_names().is_empty());
}

#[test]
fn malformed_arguments_are_refused_before_anything_is_sent() {
    let zips = zips();
    let moto = Moto::start();
    let zip = zips.built.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--function-name", "calculate pi"],
            "not a valid Lambda function name",
        ),
        (
            &["--function-name", &"x".repeat(65)],
            "not a valid Lambda function name",
        ),
        (&["--role", "calculate-pi-test"], "not an IAM role ARN"),
        (
            &["--role", "arn:aws:iam::123:role/r"],
            "not an IAM role ARN",
        ),
        (&["--region", "Europe"], "not an AWS region name"),
    ];
    for (bad, says) in cases {
        let mut args = vec!["deploy", "--zip", zip, "--endpoint-url", &moto.url];
        args.extend_from_slice(bad);
        let output = moto.xtask(&args).output();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(says), "{bad:?}: {stderr}");
        assert!(!stderr.contains("$ aws"), "{bad:?}");
    }
    let output = moto
        .xtask(["deploy", "--zip", zip, "--endpoint-url", "127.0.0.1:5000"])
        .output();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not an endpoint URL"));
    assert!(moto.function_names().is_empty());
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error() {
    let zips = zips();
    let moto = Moto::start();
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let start = Instant::now();
    let output = moto
        .xtask([
            "deploy",
            "--zip",
            zips.built.to_str().unwrap(),
            "--role",
            ROLE_ARN,
            "--endpoint-url",
            &nobody,
        ])
        .output();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("asking AWS for calculate-pi failed: the aws CLI said:"));
    assert!(stderr.contains(&format!(
        "Could not connect to the endpoint URL: \"{nobody}/"
    )));
    assert!(stderr.contains("hint: the endpoint did not answer"));
    // The CLI retries connecting on its own; deploy does not multiply that.
    assert!(start.elapsed() < Duration::from_secs(120));
    assert!(moto.function_names().is_empty());
}

#[test]
fn missing_credentials_are_reported_with_the_clis_message_and_a_hint() {
    let zips = zips();
    let moto = Moto::start();
    let output = moto
        .xtask([
            "deploy",
            "--zip",
            zips.built.to_str().unwrap(),
            "--role",
            ROLE_ARN,
        ])
        .args(["--endpoint-url", &moto.url])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("Unable to locate credentials"), "{stderr}");
    assert!(stderr.contains("hint: the aws CLI found no credentials: run `aws configure`"));
    assert!(moto.function_names().is_empty());
}

#[test]
fn a_dry_run_prints_the_commands_and_sends_nothing() {
    let zips = zips();
    let moto = Moto::start();
    let output = moto
        .xtask([
            "deploy",
            "--zip",
            zips.built.to_str().unwrap(),
            "--endpoint-url",
            &moto.url,
            "--dry-run",
        ])
        .output();
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    let printed = zips.package_json["commands"]["create_function"]
        .as_str()
        .unwrap();
    // package's create-function, plus the endpoint and JSON output.
    assert!(
        stdout.contains(&format!(
            "{} \\\n  --output json",
            with_endpoint(printed, &moto.url)
        )),
        "{stdout}"
    );
    for says in [
        "aws lambda get-function",
        "aws lambda wait function-active-v2",
        "aws lambda update-function-code",
        "aws lambda wait function-updated-v2",
        &zips.built_sha,
        "aws lambda invoke",
    ] {
        assert!(stdout.contains(says), "{says}");
    }
    assert!(!text(&output.stderr).contains("$ aws"));
    assert!(moto.function_names().is_empty());
}

#[test]
fn a_foreign_workspaces_functions_deploy_with_their_settings() {
    let fixture = support::fixture("two-packages");
    let manifest = fixture.join("Cargo.toml");
    let manifest = manifest.to_str().unwrap();
    let moto = Moto::start();
    moto.create_role();
    for (package, bin) in [("alpha", "two"), ("beta", "three")] {
        let output = moto
            .xtask([
                "deploy",
                "--manifest-path",
                manifest,
                "--package",
                package,
                "--bin",
                bin,
                "--arch",
                "x86_64",
                "--builder",
                "cargo",
                "--role",
                ROLE_ARN,
                "--endpoint-url",
                &moto.url,
            ])
            .output();
        assert!(output.status.success(), "{package}/{bin}");
    }
    let two = moto.aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        "alpha-second",
    ]);
    assert_eq!(two["MemorySize"], 512);
    assert_eq!(two["Timeout"], 25);
    assert_eq!(
        two["Environment"]["Variables"],
        serde_json::json!({"GREETING_FILE": "greeting.txt", "STAGE": "test", "WHO": "two"})
    );
    let zip = fixture.join("dist/two/lambda-x86_64.zip");
    assert_eq!(
        two["CodeSha256"],
        lambda_zip::code_sha256(&std::fs::read(zip).unwrap())
    );
    let three = moto.aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        "three",
    ]);
    assert_eq!(three["MemorySize"], 256);
    assert_eq!(three["Timeout"], 20);
    assert_eq!(three["Runtime"], "provided.al2023");
    assert_eq!(three["Description"], "the third function");
    assert_eq!(
        three["Environment"]["Variables"],
        serde_json::json!({"STAGE": "test"})
    );

    // A changed setting reaches the deployed configuration, with the code unchanged.
    let output = moto
        .xtask([
            "deploy",
            "--manifest-path",
            manifest,
            "--package",
            "beta",
            "--arch",
            "x86_64",
            "--builder",
            "cargo",
            "--timeout",
            "40",
            "--env",
            "STAGE=prod",
            "--endpoint-url",
            &moto.url,
        ])
        .output();
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("three is unchanged"), "{stdout}");
    assert!(
        stdout.contains("Updated the configuration of three: timeout: 20 s -> 40 s"),
        "{stdout}"
    );
    let three = moto.aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        "three",
    ]);
    assert_eq!(three["Timeout"], 40);
    assert_eq!(
        three["Environment"]["Variables"],
        serde_json::json!({"STAGE": "prod"})
    );
}

/// AWS refusing the runtime, as it refuses provided.al2 past its block dates, is answered in one
/// sentence: use provided.al2023, where the same zip runs unchanged. moto accepts any runtime,
/// so a stand-in `aws` on PATH prints AWS's error as the CLI does (exit status 254).
#[test]
#[cfg(unix)] // the stand-in `aws` is a /bin/sh script
fn a_refused_runtime_says_to_deploy_on_provided_al2023() {
    let zips = zips();
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls.txt");
    let fake = dir.path().join("aws");
    std::fs::write(
        &fake,
        r#"#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in
  *get-function*)
    printf '\nAn error occurred (ResourceNotFoundException) when calling the GetFunction operation: Function not found: arn:aws:lambda:us-east-1:123456789012:function:calculate-pi\n' >&2
    exit 254;;
  *create-function*)
    printf '\nAn error occurred (InvalidParameterValueException) when calling the CreateFunction operation: The runtime parameter of provided.al2 is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (provided.al2023) while creating or updating functions.\n' >&2
    exit 254;;
  *)
    echo "unexpected aws $*" >&2
    exit 255;;
esac
"#,
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut path = vec![dir.path().to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let output = xtask([
        "deploy",
        "--zip",
        zips.built.to_str().unwrap(),
        "--role",
        ROLE_ARN,
        "--runtime",
        "provided.al2",
    ])
    .env("PATH", std::env::join_paths(path).unwrap())
    .env("CALLS", &calls)
    .output();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("The runtime parameter of provided.al2 is no longer supported"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: AWS no longer accepts this runtime, so deploy again with --runtime \
             provided.al2023: the same zip runs there unchanged"
        ),
        "{stderr}"
    );
    // Not retried: asking again cannot change AWS's mind.
    let calls = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        calls
            .lines()
            .filter(|l| l.contains("create-function"))
            .count(),
        1,
        "{calls}"
    );
}
