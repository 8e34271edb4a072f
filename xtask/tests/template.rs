//! `cargo xtask template`: the CloudFormation template through the real `aws cloudformation
//! package` and `deploy` against moto (S3 + CloudFormation on 127.0.0.1), the SAM template
//! through the real, pinned `sam validate --lint` and `sam build`, then (moto does not expand
//! SAM's transform) `aws cloudformation package`, aws-sam-translator and `deploy`.
//!
//! Needs the pinned tools of `cargo xtask setup`: .venv/ (awscli, moto) and .venv-sam/ (SAM
//! CLI, cfn-lint, aws-sam-translator). A missing tool fails the test, saying so.
//!
//! moto's CloudFormation ignores a function's Architectures, TracingConfig, Layers and Tags, so
//! those are checked on the template's text; the rest on what `get-function` reports.
#![cfg(target_os = "linux")] // builds and runs Linux Lambda binaries

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use lambda_kit::artifact::lambda_zip;
use serde_json::{json, Value};
use xtask::repository::Venv;

mod support;

use support::moto::Moto;
use support::xtask;

fn tool(venv: Venv, name: &str) -> PathBuf {
    venv.program(name).unwrap_or_else(|e| {
        panic!("{e:#}\nthe template tests need the pinned tools: run `cargo xtask setup`")
    })
}

/// The fixture workspace, copied once for this test binary (its release builds are shared by
/// the tests below and kept between runs).
fn fixture() -> &'static Path {
    static FIXTURE: OnceLock<PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| support::fixture("two-packages"))
}

/// A fresh folder for one test's templates.
fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("template-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The caller's AWS settings removed as for every xtask a test runs, so nothing reaches a real
/// account; and no telemetry from SAM.
fn isolated(command: &mut Command) -> &mut Command {
    support::isolate(command)
        .env("SAM_CLI_TELEMETRY", "0")
        .stdin(Stdio::null())
}

fn run(command: &mut Command) -> Output {
    let start = Instant::now();
    let output = command.output().unwrap();
    eprintln!(
        "--- {:?} exited {} in {:.1} s\nstdout:\n{}\nstderr:\n{}",
        command,
        output.status,
        start.elapsed().as_secs_f64(),
        text(&output.stdout),
        text(&output.stderr)
    );
    output
}

/// The xtask runs from a folder outside both workspaces.
const OUTSIDE: &str = env!("CARGO_TARGET_TMPDIR");

/// A program of .venv-sam/, run from `dir`, which must succeed.
fn sam_venv(program: &str, args: &[&str], dir: &Path) -> Output {
    // The region after `isolated`, which removes every AWS_ variable of the caller.
    let output = run(isolated(
        Command::new(tool(Venv::Sam, program))
            .current_dir(dir)
            .args(args)
            // The Makefile runs the kit as this binary: the one under test, with no `cargo run`
            // rebuilding it for another feature set in the middle of the tests.
            .env("XTASK", env!("CARGO_BIN_EXE_xtask")),
    )
    .env("AWS_DEFAULT_REGION", "us-east-1"));
    assert!(output.status.success(), "{program} {args:?} failed");
    output
}

/// The SAM template at `sam` as plain CloudFormation in `out` (aws-sam-translator, offline).
fn sam_translate(sam: &Path, out: &Path, dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sam_translate.py");
    sam_venv(
        "python",
        &[
            script.to_str().unwrap(),
            sam.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
        dir,
    );
}

/// What the template tests ask of moto (S3, CloudFormation, Lambda).
trait StackApi {
    fn try_aws(&self, args: &[&str], dir: &Path) -> Output;
    fn aws(&self, args: &[&str], dir: &Path) -> Value;
    fn package(&self, template: &Path, bucket: &str) -> PathBuf;
    fn deploy(&self, template: &Path, stack: &str) -> Output;
    fn configuration(&self, function: &str) -> Value;
}

impl StackApi for Moto {
    /// `aws <args> --endpoint-url <moto>` from `dir`; its output, success or not.
    fn try_aws(&self, args: &[&str], dir: &Path) -> Output {
        // moto's isolation last: it sets the AWS_ variables that `isolated` removes.
        run(self.isolate(isolated(
            Command::new(tool(Venv::Test, "aws"))
                .current_dir(dir)
                .args(args)
                .args(["--endpoint-url", &self.url, "--output", "json"]),
        )))
    }

    /// [`Self::try_aws`], which must succeed; its JSON output.
    fn aws(&self, args: &[&str], dir: &Path) -> Value {
        let output = self.try_aws(args, dir);
        assert!(output.status.success(), "aws {args:?} failed");
        let stdout = text(&output.stdout);
        if stdout.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&stdout).unwrap()
        }
    }

    /// `aws cloudformation package` of `template` into a bucket, as the printed command does;
    /// the packaged template's path.
    fn package(&self, template: &Path, bucket: &str) -> PathBuf {
        let dir = template.parent().unwrap();
        let _ = self.try_aws(&["s3", "mb", &format!("s3://{bucket}")], dir);
        let packaged = template.with_extension("packaged.json");
        let output = self.try_aws(
            &[
                "cloudformation",
                "package",
                "--template-file",
                template.to_str().unwrap(),
                "--output-template-file",
                packaged.to_str().unwrap(),
                "--use-json",
                "--s3-bucket",
                bucket,
            ],
            dir,
        );
        assert!(
            output.status.success(),
            "packaging {} failed",
            template.display()
        );
        packaged
    }

    /// `aws cloudformation deploy`, as the printed command does.
    fn deploy(&self, template: &Path, stack: &str) -> Output {
        let output = self.try_aws(
            &[
                "cloudformation",
                "deploy",
                "--template-file",
                template.to_str().unwrap(),
                "--stack-name",
                stack,
                "--capabilities",
                "CAPABILITY_IAM",
                "--no-fail-on-empty-changeset",
            ],
            template.parent().unwrap(),
        );
        assert!(output.status.success(), "deploying {stack} failed");
        output
    }

    fn configuration(&self, function: &str) -> Value {
        self.aws(
            &["lambda", "get-function", "--function-name", function],
            self.dir(),
        )["Configuration"]
            .clone()
    }
}

/// The file a template's relative path names.
fn from_template(template: &Path, relative: &Value) -> PathBuf {
    template
        .parent()
        .unwrap()
        .join(relative.as_str().unwrap())
        .canonicalize()
        .unwrap()
}

fn code_sha256(zip: &Path) -> String {
    lambda_zip::code_sha256(&std::fs::read(zip).unwrap())
}

#[test]
fn this_repositorys_function_deploys_through_cloudformation() {
    let dir = work_dir("repository-cloudformation");
    let template = dir.join("cfn.json");
    let layer = "arn:aws:lambda:us-east-1:123456789012:layer:any-layer:3";
    let args = [
        "template",
        "--format",
        "cloudformation",
        "--manifest-path",
        &xtask::repository::repository_root()
            .join("Cargo.toml")
            .display()
            .to_string(),
        "--output",
        template.to_str().unwrap(),
        "--arch",
        "x86_64",
        "--builder",
        "cargo",
        "--runtime",
        "provided.al2023",
        "--memory-size",
        "256",
        "--timeout",
        "45",
        "--env",
        "DIGITS=1000",
        "--env",
        "RUST_LOG=info",
        "--tag",
        "project=calculate-pi",
        "--layer",
        layer,
        "--tracing",
        "active",
        "--description",
        "digits of pi",
    ]
    .map(str::to_string);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = xtask(&args).current_dir(OUTSIDE).success();
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("aws cloudformation deploy \\\n"),
        "{stdout}"
    );
    assert!(!text(&output.stderr).contains("provided.al2 "));
    let first = std::fs::read(&template).unwrap();
    let t: Value = serde_json::from_slice(&first).unwrap();
    let f = &t["Resources"]["CalculatePi"]["Properties"];
    // Code: the kit's zip, from the template's folder.
    let zip = from_template(&template, &f["Code"]);
    assert_eq!(
        zip,
        xtask::repository::repository_root()
            .join("dist/lambda-x86_64.zip")
            .canonicalize()
            .unwrap()
    );
    // What moto does not keep.
    assert_eq!(f["Architectures"], json!(["x86_64"]));
    assert_eq!(f["TracingConfig"], json!({"Mode": "Active"}));
    assert_eq!(f["Layers"], json!([layer]));
    assert_eq!(
        f["Tags"],
        json!([{"Key": "project", "Value": "calculate-pi"}])
    );
    assert_eq!(f["Role"], json!({"Fn::GetAtt": ["CalculatePiRole", "Arn"]}));

    // cfn-lint finds nothing but W3002 (a local Code path, for `package` to upload).
    sam_venv(
        "cfn-lint",
        &["--ignore-checks", "W3002", "--", template.to_str().unwrap()],
        &dir,
    );

    // Same settings and an unchanged zip: the same bytes.
    xtask(&args).current_dir(OUTSIDE).success();
    assert_eq!(std::fs::read(&template).unwrap(), first);

    let moto = Moto::start();
    let packaged = moto.package(&template, "templates");
    let packaged_bytes = std::fs::read(&packaged).unwrap();
    moto.deploy(&packaged, "calculate-pi");
    let c = moto.configuration("calculate-pi");
    assert_eq!(c["CodeSha256"], code_sha256(&zip));
    assert_eq!(c["Runtime"], "provided.al2023");
    assert_eq!(c["Handler"], "bootstrap");
    assert_eq!(c["MemorySize"], 256);
    assert_eq!(c["Timeout"], 45);
    assert_eq!(c["Description"], "digits of pi");
    assert_eq!(
        c["Environment"]["Variables"],
        json!({"DIGITS": "1000", "RUST_LOG": "info"})
    );
    assert!(
        c["Role"].as_str().unwrap().contains("CalculatePiRole"),
        "{c}"
    );

    // Unchanged zip: the same S3 key, the same packaged template, and a deploy that changes
    // nothing and succeeds.
    assert_eq!(
        std::fs::read(moto.package(&template, "templates")).unwrap(),
        packaged_bytes
    );
    let again = moto.deploy(&packaged, "calculate-pi");
    assert!(text(&again.stdout).contains("No changes to deploy"));
}

/// Every function of the fixture packaged by `template --format cloudformation --all`, and the
/// template's path.
#[test]
fn a_workspaces_functions_deploy_through_cloudformation_with_their_settings() {
    let fixture = fixture();
    let manifest = fixture.join("Cargo.toml");
    let template = fixture.join("deploy/cfn.json");
    let output = xtask([
        "template",
        "--format",
        "cloudformation",
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--all",
        "--output",
        template.to_str().unwrap(),
        "--arch",
        "x86_64",
        "--builder",
        "cargo",
    ])
    .current_dir(OUTSIDE)
    .success();
    // One warning line for the functions on the deprecated runtime.
    let warnings: Vec<String> = text(&output.stderr)
        .lines()
        .filter(|l| l.starts_with("warning: ") && l.contains("provided.al2,"))
        .map(str::to_string)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("warning: one, alpha-second on provided.al2,"));
    // The stack is named after the workspace's folder.
    assert!(text(&output.stdout).contains("--stack-name two-packages \\\n"));

    let t = read_json(&template);
    let ids: Vec<&String> = t["Resources"].as_object().unwrap().keys().collect();
    assert_eq!(
        ids,
        [
            "AlphaSecond",
            "AlphaSecondRole",
            "One",
            "OneRole",
            "Three",
            "ThreeRole"
        ]
    );
    for (id, bin) in [("One", "one"), ("AlphaSecond", "two"), ("Three", "three")] {
        let p = &t["Resources"][id]["Properties"];
        assert_eq!(p["Code"], format!("../dist/{bin}/lambda-x86_64.zip"));
        // The workspace level's tags, on the function and on its role.
        assert_eq!(p["Tags"], json!([{"Key": "team", "Value": "kit"}]));
        assert_eq!(
            t["Resources"][format!("{id}Role")]["Properties"]["Tags"],
            p["Tags"]
        );
    }
    sam_venv(
        "cfn-lint",
        &[
            "--ignore-checks",
            "W3002",
            "W2531",
            "--",
            template.to_str().unwrap(),
        ],
        fixture,
    );

    let moto = Moto::start();
    let packaged = moto.package(&template, "fixture");
    moto.deploy(&packaged, "two-packages");
    for (name, bin) in [("one", "one"), ("alpha-second", "two"), ("three", "three")] {
        let c = moto.configuration(name);
        let zip = fixture.join(format!("dist/{bin}/lambda-x86_64.zip"));
        assert_eq!(c["CodeSha256"], code_sha256(&zip), "{name}");
    }
    let two = moto.configuration("alpha-second");
    assert_eq!(two["Runtime"], "provided.al2");
    assert_eq!(two["MemorySize"], 512);
    assert_eq!(two["Timeout"], 25);
    assert_eq!(
        two["Environment"]["Variables"],
        json!({"GREETING_FILE": "greeting.txt", "STAGE": "test", "WHO": "two"})
    );
    let three = moto.configuration("three");
    assert_eq!(three["Runtime"], "provided.al2023");
    assert_eq!(three["MemorySize"], 256);
    assert_eq!(three["Timeout"], 20);
    assert_eq!(three["Description"], "the third function");
    assert_eq!(three["Environment"]["Variables"], json!({"STAGE": "test"}));
}

#[test]
fn sam_builds_the_kits_bootstrap_and_the_stack_deploys() {
    let fixture = fixture();
    let manifest = fixture.join("Cargo.toml");
    let dir = fixture.join("deploy-sam");
    let _ = std::fs::remove_dir_all(&dir);
    let template = dir.join("sam.json");
    xtask([
        "template",
        "--format",
        "sam",
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--all",
        "--output",
        template.to_str().unwrap(),
        "--arch",
        "x86_64",
        "--builder",
        "cargo",
        // cfn-lint (in `sam validate --lint`) fails provided.al2 (W2531).
        "--runtime",
        "provided.al2023",
    ])
    .current_dir(OUTSIDE)
    .success();
    let makefile = std::fs::read_to_string(dir.join("sam-build/Makefile")).unwrap();
    assert!(
        makefile.contains("--manifest-path \"$(HERE)/../../Cargo.toml\""),
        "{makefile}"
    );

    sam_venv(
        "sam",
        &["validate", "--lint", "--template-file", "sam.json"],
        &dir,
    );

    let build = |dir: &Path| sam_venv("sam", &["build", "--template-file", "sam.json"], dir);
    build(&dir);
    let built = dir.join(".aws-sam/build");
    for (id, bin) in [("One", "one"), ("AlphaSecond", "two"), ("Three", "three")] {
        let zip = fixture.join(format!("dist/{bin}/lambda-x86_64.zip"));
        let kit = lambda_zip::read_entries(&std::fs::read(&zip).unwrap()).unwrap();
        for entry in kit {
            let file = built.join(id).join(&entry.name);
            assert_eq!(
                std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
                entry.contents,
                "{id}: {} differs from the kit's zip",
                entry.name
            );
        }
    }
    // alpha's includes came along.
    assert!(built.join("AlphaSecond/static/hello.txt").is_file());

    let moto = Moto::start();
    let sam_built = built.join("template.yaml");
    let packaged = moto.package(&sam_built, "sam");
    let translated = dir.join("translated.json");
    sam_translate(&packaged, &translated, &dir);
    let t = read_json(&translated);
    assert_eq!(t["Resources"]["Three"]["Type"], "AWS::Lambda::Function");
    assert_eq!(
        t["Resources"]["Three"]["Properties"]["Architectures"],
        json!(["x86_64"])
    );
    moto.deploy(&translated, "two-packages-sam");
    let three = moto.configuration("three");
    assert_eq!(three["Runtime"], "provided.al2023");
    assert_eq!(three["MemorySize"], 256);
    assert_eq!(three["Timeout"], 20);
    assert_eq!(three["Description"], "the third function");
    // What Lambda runs is the kit's bootstrap: the zip SAM's path uploaded holds it.
    let code = &t["Resources"]["Three"]["Properties"]["Code"];
    let uploaded = dir.join("uploaded.zip");
    moto.aws(
        &[
            "s3api",
            "get-object",
            "--bucket",
            code["S3Bucket"].as_str().unwrap(),
            "--key",
            code["S3Key"].as_str().unwrap(),
            uploaded.to_str().unwrap(),
        ],
        &dir,
    );
    assert_eq!(three["CodeSha256"], code_sha256(&uploaded));
    assert_eq!(
        lambda_zip::read_bootstrap(&uploaded).unwrap().contents,
        lambda_zip::read_bootstrap(&fixture.join("dist/three/lambda-x86_64.zip"))
            .unwrap()
            .contents
    );

    // A second build of the same sources: the same files and times, so the same upload and
    // the same packaged template.
    let packaged_bytes = std::fs::read(&packaged).unwrap();
    build(&dir);
    assert_eq!(
        std::fs::read(moto.package(&sam_built, "sam")).unwrap(),
        packaged_bytes
    );
}

/// Cost: one SAM template (no build), cfn-lint and the SAM translator: a few seconds.
#[test]
fn a_function_url_in_metadata_is_in_the_sam_template_and_sams_translation() {
    let ws = work_dir("function-url");
    support::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/http-functions"),
        &ws,
    );
    let streamer = ws.join("streamer/Cargo.toml");
    let mut manifest = std::fs::read_to_string(&streamer).unwrap();
    manifest.push_str(
        "\n[package.metadata.lambda.deploy]\nenable_function_url = true\n\
         invoke_mode = \"RESPONSE_STREAM\"\n",
    );
    std::fs::write(&streamer, manifest).unwrap();
    let template = ws.join("out/sam.json");
    xtask([
        "template",
        "--format",
        "sam",
        "--manifest-path",
        ws.join("Cargo.toml").to_str().unwrap(),
        "--package",
        "streamer",
        "--output",
        template.to_str().unwrap(),
        "--runtime",
        "provided.al2023",
    ])
    .current_dir(OUTSIDE)
    .success();
    let t = read_json(&template);
    assert_eq!(
        t["Resources"]["Streamer"]["Properties"]["FunctionUrlConfig"],
        json!({"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"})
    );
    let dir = template.parent().unwrap();
    sam_venv("cfn-lint", &["--", template.to_str().unwrap()], dir);
    // SAM makes the URL and the public permission from it. (The translator takes the code
    // from S3 only, as `sam package` leaves it: the local folder is swapped for an S3 URI.)
    let mut uploaded = t.clone();
    uploaded["Resources"]["Streamer"]["Properties"]["CodeUri"] = json!("s3://bucket/streamer.zip");
    let uploaded_path = dir.join("uploaded.json");
    std::fs::write(&uploaded_path, uploaded.to_string()).unwrap();
    let translated = dir.join("translated.json");
    sam_translate(&uploaded_path, &translated, dir);
    let translated = read_json(&translated);
    let r = &translated["Resources"];
    assert_eq!(r["StreamerUrl"]["Type"], "AWS::Lambda::Url", "{r}");
    assert_eq!(
        r["StreamerUrl"]["Properties"]["InvokeMode"],
        "RESPONSE_STREAM"
    );
    let permissions: Vec<&Value> = r
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["Type"] == "AWS::Lambda::Permission")
        .collect();
    assert!(
        permissions
            .iter()
            .any(|p| p["Properties"]["Action"] == "lambda:InvokeFunctionUrl"),
        "{permissions:?}"
    );
}

/// An extension of the workspace that a function's metadata lists (`layers = ["logger"]`) is a
/// layer version of the template, which the function's `Layers` refer to: through cfn-lint,
/// `aws cloudformation package`/`deploy` on moto (the layer version's code is the kit's layer
/// zip), and `sam build` (the layer's folder holds `extensions/logger`).
/// Cost: the build of the extensions fixture, shared with tests/extensions.rs (same copy and
/// target dir), then ~20 s of moto and SAM.
#[test]
fn an_extension_the_function_lists_is_a_layer_version_of_the_template() {
    let fixture = support::fixture_of("extensions", "extensions");
    let manifest = fixture.join("Cargo.toml");
    let dir = work_dir("extension-layer");
    let template = dir.join("cfn.json");
    let common = [
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--package",
        "hello",
        "--arch",
        "x86_64",
        "--builder",
        "cargo",
        "--runtime",
        "provided.al2023",
    ];
    let mut args = vec!["template", "--format", "cloudformation", "--output"];
    args.push(template.to_str().unwrap());
    args.extend(common);
    xtask(&args).current_dir(OUTSIDE).success();
    let t = read_json(&template);
    let layer = &t["Resources"]["LoggerLayer"];
    assert_eq!(layer["Type"], "AWS::Lambda::LayerVersion");
    let zip = from_template(&template, &layer["Properties"]["Content"]);
    assert_eq!(
        zip,
        fixture
            .join("dist/logger/layer-x86_64.zip")
            .canonicalize()
            .unwrap()
    );
    assert_eq!(
        layer["Properties"]["CompatibleArchitectures"],
        json!(["x86_64"])
    );
    assert_eq!(
        t["Resources"]["Hello"]["Properties"]["Layers"],
        json!([{"Ref": "LoggerLayer"}])
    );
    sam_venv(
        "cfn-lint",
        &["--ignore-checks", "W3002", "--", template.to_str().unwrap()],
        &dir,
    );
    let moto = Moto::start();
    let packaged = moto.package(&template, "layers");
    moto.deploy(&packaged, "hello-with-logger");
    // moto names the layer after the resource, not its LayerName: the stack's only layer.
    let layers = moto.aws(&["lambda", "list-layers"], &dir);
    let name = layers["Layers"][0]["LayerName"]
        .as_str()
        .unwrap_or_else(|| panic!("no layer: {layers}"));
    let published = moto.aws(
        &[
            "lambda",
            "get-layer-version",
            "--layer-name",
            name,
            "--version-number",
            "1",
        ],
        &dir,
    );
    assert_eq!(published["Content"]["CodeSha256"], code_sha256(&zip));

    // SAM: the Makefile builds the layer with `package --extension --extract`.
    let sam_dir = dir.join("sam");
    let sam_template = sam_dir.join("sam.json");
    let mut args = vec!["template", "--format", "sam", "--output"];
    args.push(sam_template.to_str().unwrap());
    args.extend(common);
    xtask(&args).current_dir(OUTSIDE).success();
    let t = read_json(&sam_template);
    assert_eq!(
        t["Resources"]["LoggerLayer"]["Type"],
        "AWS::Serverless::LayerVersion"
    );
    sam_venv(
        "sam",
        &["validate", "--lint", "--template-file", "sam.json"],
        &sam_dir,
    );
    sam_venv("sam", &["build", "--template-file", "sam.json"], &sam_dir);
    let built = sam_dir.join(".aws-sam/build/LoggerLayer/extensions/logger");
    let entries = lambda_zip::read_entries(&std::fs::read(&zip).unwrap()).unwrap();
    assert_eq!(
        std::fs::read(&built).unwrap_or_else(|e| panic!("{}: {e}", built.display())),
        entries[0].contents
    );
}
