//! End to end on a workspace of extensions (tests/fixtures/extensions): discovery tells them
//! from functions, `package --extension` writes a reproducible layer zip that is read back as
//! Lambda reads it, and `deploy --extension` leaves a layer version on moto, read back with the
//! real AWS CLI; `invoke` and `serve` run the layers beside the function through the emulator's
//! Extensions API (INVOKE with the request id, SHUTDOWN with its reason, Extension.Crash, an
//! invocation that waits for a busy extension), natively and for arm64 under qemu. One copy of
//! the fixture (and its target dir) serves every test here.
//! Cost: one cold build of the fixture (lambda-extension, lambda_runtime; ~1-2 min on 2 cores),
//! one more for arm64 (~1-2 min), then seconds per test.
#![cfg(target_os = "linux")] // builds and runs Linux extensions and functions

use std::path::PathBuf;
use std::time::Duration;

use lambda_kit::artifact::{elf, lambda_zip};

mod support;

use support::moto::{test_tool, Moto};
use support::serve::Served;
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
    assert!(err.contains("3 Lambda extensions match"), "{err}");
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

/// `package --extension --bin <bin>` for `arch`: the layer zip's path.
fn package_layer(bin: &str, arch: &str) -> PathBuf {
    let report = xtask([
        "package",
        "--manifest-path",
        &manifest(),
        "--extension",
        "--bin",
        bin,
        "--arch",
        arch,
        "--builder",
        "cargo",
        "--json",
    ])
    .json();
    PathBuf::from(report["path"].as_str().unwrap())
}

/// `invoke` of the `hello` function for `arch` with `flags`; its stdout and stderr.
fn invoke_hello(arch: &str, flags: &[&str]) -> (bool, String, String) {
    let output = xtask([
        "invoke",
        "--manifest-path",
        &manifest(),
        "--package",
        "hello",
    ])
    .args([
        "--arch",
        arch,
        "--builder",
        "cargo",
        "--payload",
        r#"{"name": "pi"}"#,
    ])
    .args(flags)
    .output();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The request ids of the `START` lines of a log, in order.
fn request_ids(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.strip_prefix("START RequestId: "))
        .map(|rest| rest.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// Where `needle` is in `log`, which must hold it.
fn at(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the log:\n{log}"))
}

/// The logger's lines for one invocation and for the shutdown, in CloudWatch's order: INVOKE
/// with that invocation's request id between its START and its REPORT, SHUTDOWN after.
fn assert_logged_invoke_then_shutdown(log: &str, reason: &str) {
    let ids = request_ids(log);
    assert_eq!(ids.len(), 1, "{log}");
    let id = &ids[0];
    let start = at(log, &format!("START RequestId: {id}"));
    let invoke = at(log, &format!("[logger] INVOKE {id}"));
    let report = at(log, &format!("REPORT RequestId: {id}"));
    let shutdown = at(log, &format!("[logger] SHUTDOWN {reason}"));
    assert!(
        start < invoke && invoke < report && report < shutdown,
        "{log}"
    );
    assert!(
        log.contains("EXTENSION\tName: logger\tState: Ready\tEvents: [INVOKE,SHUTDOWN]"),
        "{log}"
    );
}

#[test]
fn invoke_runs_a_layer_packaged_with_extension_beside_the_function() {
    let layer = package_layer("logger", "x86_64");
    // --layer replaces the metadata's layers: the extension comes from this zip.
    let (ok, stdout, stderr) = invoke_hello("x86_64", &["--layer", layer.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, r#"{"hello":"pi"}"#);
    assert!(
        stderr.contains("extensions started before the function: logger"),
        "{stderr}"
    );
    assert!(stderr.contains("hello got {\"name\":\"pi\"}"), "{stderr}");
    assert_logged_invoke_then_shutdown(&stderr, "spindown");
}

#[test]
fn metadata_layers_naming_a_workspace_extension_run_it_without_flags() {
    // hello's metadata lists `layers = ["logger"]`: the kit packages that layer itself.
    let (ok, stdout, stderr) = invoke_hello("x86_64", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, r#"{"hello":"pi"}"#);
    assert_logged_invoke_then_shutdown(&stderr, "spindown");
}

#[test]
fn an_internal_extension_registers_from_the_functions_process_beside_an_external_one() {
    let (ok, stdout, stderr) = invoke_hello("x86_64", &["--env", "HELLO_INTERNAL_EXTENSION=1"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, r#"{"hello":"pi"}"#);
    let id = &request_ids(&stderr)[0];
    assert!(
        at(&stderr, &format!("[internal] INVOKE {id}"))
            < at(&stderr, &format!("REPORT RequestId: {id}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("EXTENSION\tName: hello-internal\tState: Ready\tEvents: [INVOKE]"),
        "{stderr}"
    );
    assert_logged_invoke_then_shutdown(&stderr, "spindown");
}

#[test]
fn an_invocation_completes_only_when_a_busy_extension_asks_for_its_next_event() {
    // The logger stays busy 400 ms after INVOKE: the REPORT waits for its DONE line.
    let (ok, stdout, stderr) = invoke_hello("x86_64", &["--env", "LOGGER_SLEEP_MS=400"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, r#"{"hello":"pi"}"#);
    let id = &request_ids(&stderr)[0];
    let done = at(&stderr, &format!("[logger] DONE {id}"));
    let report = at(&stderr, &format!("REPORT RequestId: {id}"));
    assert!(done < report, "{stderr}");

    // Busy past the timeout: the invocation times out and the extensions hear why.
    let (ok, _, stderr) = invoke_hello(
        "x86_64",
        &["--env", "LOGGER_SLEEP_MS=3000", "--timeout", "1"],
    );
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("Task timed out after 1.00 seconds"),
        "{stderr}"
    );
    let id = &request_ids(&stderr)[0];
    assert!(
        at(&stderr, &format!("REPORT RequestId: {id}")) < at(&stderr, "[logger] SHUTDOWN timeout"),
        "{stderr}"
    );
}

#[test]
fn an_extension_that_crashes_at_start_fails_init_as_extension_crash() {
    let crasher = package_layer("crasher", "x86_64");
    let (ok, stdout, stderr) = invoke_hello("x86_64", &["--layer", crasher.to_str().unwrap()]);
    assert!(!ok, "{stderr}");
    let error: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(error["errorType"], "Extension.Crash", "{stdout}");
    let id = &request_ids(&stderr)[0];
    assert_eq!(
        error["errorMessage"],
        format!("RequestId: {id} Error: exit code 3")
    );
    assert!(
        stderr.contains("[crasher] giving up before registering"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Status: error\tError Type: Extension.Crash"),
        "{stderr}"
    );
    assert!(
        stderr.contains("failed; the last with Extension.Crash"),
        "{stderr}"
    );
    // The function never ran.
    assert!(!stderr.contains("hello got"), "{stderr}");
}

#[test]
fn serve_stop_sends_shutdown_spindown_to_the_extensions() {
    let mut served = Served::spawn(
        xtask([
            "serve",
            "--builder",
            "cargo",
            "--port",
            "0",
            "--arch",
            "x86_64",
        ])
        .args(["--manifest-path", &manifest(), "--package", "hello"]),
    );
    let url = format!(
        "http://{}/2015-03-31/functions/hello/invocations",
        served.address
    );
    let answer = support::http::curl(&["-X", "POST", "--data", r#"{"name": "pi"}"#, &url]);
    assert_eq!(String::from_utf8_lossy(&answer.body), r#"{"hello":"pi"}"#);
    served.wait_for(
        &|l| l.starts_with("REPORT RequestId: "),
        Duration::from_secs(30),
    );
    let (lines, took) = served.interrupt();
    assert!(
        lines.iter().any(|l| l == "[logger] SHUTDOWN spindown"),
        "{lines:#?}"
    );
    // For the record (Lambda's budget is 2,000 ms; the logger answers at once).
    eprintln!("serve stopped in {took:?}");
}

#[test]
fn arm64_extension_and_function_run_under_qemu() {
    // Both packaged for arm64 (the metadata's logger layer with the function's arch).
    let (ok, stdout, stderr) = invoke_hello("arm64", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, r#"{"hello":"pi"}"#);
    assert!(stderr.contains("under qemu-aarch64"), "{stderr}");
    assert!(
        fixture().join("dist/logger/layer-arm64.zip").is_file(),
        "{stderr}"
    );
    assert_logged_invoke_then_shutdown(&stderr, "spindown");
}

/// The `spy` extension subscribes to the Telemetry API from its own listener: through `invoke
/// --layer`, it is delivered the invocation's `platform.start`, then the line the function
/// printed, then `platform.runtimeDone`, all with the request id of the invocation's START line.
/// Cost: packaging the spy layer (its build shares the fixture's dependencies), one invoke
/// (~3 s).
#[test]
fn a_telemetry_subscriber_receives_the_functions_log_lines_and_platform_events() {
    let layer = package_layer("spy", "x86_64");
    // A free port for the spy's listener (the extension gets the function's environment).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (ok, stdout, log) = invoke_hello(
        "x86_64",
        &[
            "--layer",
            layer.to_str().unwrap(),
            "--env",
            &format!("SPY_TELEMETRY_PORT={port}"),
            "--env",
            "SPY_TIMEOUT_MS=25",
        ],
    );
    assert!(ok, "{log}");
    assert_eq!(stdout, r#"{"hello":"pi"}"#);
    let ids = request_ids(&log);
    assert_eq!(ids.len(), 1, "{log}");
    let id = &ids[0];
    let start = at(&log, &format!("[spy] platform.start {id} "));
    let line = at(
        &log,
        "[spy] function hello got {\"name\":\"pi\"} (delivered ",
    );
    let done = at(&log, &format!("[spy] platform.runtimeDone {id} Success "));
    assert!(start < line && line < done, "{log}");
    // What happened in init before the spy subscribed reached it too.
    assert!(log.contains("[spy] platform.initStart "), "{log}");
    assert!(
        log.contains("[spy] platform.telemetrySubscription spy platform,function "),
        "{log}"
    );
    let late = log[line..].lines().next().unwrap();
    eprintln!("function line to extension: {late}");
}
