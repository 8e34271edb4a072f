//! End-to-end tests of the Lambda emulator on real artifacts: the function's deployment zips of
//! both architectures (arm64 under qemu-aarch64; a missing qemu fails, it does not skip), small
//! faulty functions from the root crate's examples, `cargo xtask invoke` and `serve`, and the
//! real AWS CLI from the test virtualenv.
// Linux only: it runs Linux bootstraps natively and under qemu, and stops `serve` with SIGINT
// (libc::kill); on other hosts these tasks refuse to start (lambda_kit::pipeline::local::require_linux_host).
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use lambda_kit::arch::Arch;
use lambda_kit::builder::{BuildArgs, Builder};
use lambda_kit::emulator::report::parse_report;
use lambda_kit::emulator::{self, FunctionCode, FunctionConfig, Invocation, Outcome, Sandbox};
use lambda_kit::runtime::Runtime;
use serde_json::Value;

mod support;

use support::http::python_json;
use support::{pi_digits, xtask};

// ---------------------------------------------------------------------------------------------
// Artifacts, built once per test binary.

/// The deployment zip of `arch`, built by the kit's own packaging into target/ (not dist/, which
/// belongs to the user).
fn zip(arch: Arch) -> PathBuf {
    static ZIPS: OnceLock<Result<(PathBuf, PathBuf), String>> = OnceLock::new();
    let zips = ZIPS.get_or_init(|| {
        let dir = xtask::repository::repository_root()
            .join("target")
            .join("emulator-tests");
        let build = |arch: Arch| {
            let output = dir.join(arch.zip_file_name());
            let args = BuildArgs {
                arch,
                target: None,
                builder: Builder::Cargo,
            };
            xtask::repository::package_function(&args, Runtime::ProvidedAl2, &output)
                .map(|p| p.path)
                .map_err(|e| format!("packaging {arch}: {e:#}"))
        };
        Ok((build(Arch::X86_64)?, build(Arch::Arm64)?))
    });
    match (zips, arch) {
        (Ok((x86, _)), Arch::X86_64) => x86.clone(),
        (Ok((_, arm)), Arch::Arm64) => arm.clone(),
        (Err(e), _) => panic!("{e}"),
    }
}

/// A test function from the root crate's examples, built for the host.
fn example(name: &str) -> PathBuf {
    static EXAMPLES: OnceLock<Result<Vec<(String, PathBuf)>, String>> = OnceLock::new();
    let built = EXAMPLES.get_or_init(|| {
        let output = Command::new(lambda_kit::command::cargo())
            .current_dir(xtask::repository::repository_root())
            // --workspace: the features `cargo test --workspace` resolved, so its builds of the
            // examples are reused (with --package, cargo rebuilds ~70 dependencies: a minute).
            .args([
                "build",
                "--workspace",
                "--example",
                "crashing_function",
                "--example",
                "hanging_function",
                "--message-format",
                "json-render-diagnostics",
            ])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("running cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!("building the examples failed ({})", output.status));
        }
        let mut found = Vec::new();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(message) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if let (Some(name), Some(exe)) = (
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            ) {
                found.push((name.to_string(), PathBuf::from(exe)));
            }
        }
        Ok(found)
    });
    let built = built.as_ref().unwrap_or_else(|e| panic!("{e}"));
    built
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, path)| path.clone())
        .unwrap_or_else(|| panic!("example {name} was not built"))
}

fn config(timeout: Duration) -> FunctionConfig {
    FunctionConfig {
        timeout,
        ..FunctionConfig::default()
    }
}

/// Generous for the 10,000-digit event on a loaded machine (and under qemu).
const SLOW: Duration = Duration::from_secs(120);

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    emulator::tokio_runtime().unwrap().block_on(future)
}

// ---------------------------------------------------------------------------------------------
// The reference digits: Machin's formula (support::pi_digits).

#[test]
fn machin_agrees_with_the_published_digits() {
    assert_eq!(
        pi_digits(50),
        "31415926535897932384626433832795028841971693993751"
    );
}

fn digits_of(invocation: &Invocation) -> String {
    let body: Value = serde_json::from_slice(&invocation.response).unwrap_or_else(|e| {
        panic!(
            "response is not JSON ({e}): {}",
            String::from_utf8_lossy(&invocation.response)
        )
    });
    body["pi"]
        .as_str()
        .unwrap_or_else(|| panic!("no pi in {body}"))
        .replace('.', "")
}

fn assert_success(invocation: &Invocation) {
    assert_eq!(
        invocation.outcome,
        Outcome::Success,
        "{}\n{}",
        String::from_utf8_lossy(&invocation.response),
        invocation.log_text()
    );
}

/// The REPORT line parses and its figures hang together.
fn check_report(invocation: &Invocation, memory_size_mb: u32) {
    let log = invocation.log_text();
    let lines: Vec<&str> = log.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            *l == format!(
                "START RequestId: {} Version: $LATEST",
                invocation.request_id
            )
        })
        .unwrap_or_else(|| panic!("no START line in\n{log}"));
    let end = lines
        .iter()
        .position(|l| *l == format!("END RequestId: {}", invocation.request_id))
        .unwrap_or_else(|| panic!("no END line in\n{log}"));
    assert!(start < end && end + 2 == lines.len(), "{log}");
    let report = parse_report(lines[end + 1]).unwrap_or_else(|| panic!("bad REPORT in\n{log}"));
    assert_eq!(report.request_id, invocation.request_id);
    assert_eq!(report.memory_size_mb, memory_size_mb);
    assert!(report.duration_ms > 0.0, "{report:?}");
    let init = report.init_duration_ms.unwrap_or(0.0);
    assert_eq!(report.init_duration_ms.is_some(), invocation.is_cold());
    // Billed: duration plus init, rounded up to the millisecond (both shown rounded to 0.01).
    let expected = (report.duration_ms + init).ceil();
    assert!(
        (report.billed_duration_ms as f64 - expected).abs() <= 1.0,
        "{report:?}"
    );
    assert!(report.max_memory_used_mb >= 1, "{report:?}");
    assert_eq!(report.emulated_by, invocation.metrics.emulated_by);
}

// ---------------------------------------------------------------------------------------------
// The real function.

fn benchmark_on(arch: Arch, count: usize) {
    let expected = pi_digits(10_000);
    let mut sandbox = Sandbox::new(&FunctionCode::Zip(zip(arch)), config(SLOW)).unwrap();
    let emulated = Arch::host() != Some(arch);
    assert_eq!(sandbox.emulated_by().is_some(), emulated);
    let invocations = block_on(async {
        let mut all = Vec::new();
        for _ in 0..count {
            all.push(sandbox.invoke(br#"{"digits": "10_000"}"#).await.unwrap());
        }
        sandbox.shutdown().await;
        all
    });
    for (i, invocation) in invocations.iter().enumerate() {
        assert_success(invocation);
        assert_eq!(invocation.is_cold(), i == 0, "only the first is cold");
        let digits = digits_of(invocation);
        assert_eq!(digits.len(), 10_000);
        assert!(digits == expected, "the 10,000 digits differ from Machin's");
        check_report(invocation, 128);
        let mb = invocation.metrics.max_memory_used_mb();
        assert!((1..=128).contains(&mb), "Max Memory Used {mb} MB");
        assert_eq!(
            invocation.metrics.emulated_by.as_deref(),
            emulated.then_some("qemu-aarch64")
        );
    }
}

#[test]
fn benchmark_event_on_x86_64_cold_then_warm() {
    benchmark_on(Arch::X86_64, 2);
}

#[test]
fn benchmark_event_on_arm64_under_qemu() {
    benchmark_on(Arch::Arm64, 1);
}

fn bad_events_on(arch: Arch) {
    let cases = [
        (r#"{}"#, "MissingDigits"),
        (r#"{"digits": "ten"}"#, "InvalidDigits"),
        (r#"{"digits": 0}"#, "DigitsOutOfRange"),
        (r#"{"digits": 21}"#, "DigitsOutOfRange"),
        (r#"{"digits": 10, "digit": 5}"#, "UnknownField"),
        (
            r#"{"digits": 10, "algorithm": "monte-carlo"}"#,
            "InvalidAlgorithm",
        ),
        (r#"[1, 2]"#, "InvalidEvent"),
    ];
    let config = FunctionConfig {
        // The function's own configuration, as `--env` passes it: 21 digits is then too many.
        environment: vec![("CALCULATE_PI_MAX_DIGITS_SPIGOT".into(), "20".into())],
        ..config(SLOW)
    };
    let mut sandbox = Sandbox::new(&FunctionCode::Zip(zip(arch)), config).unwrap();
    block_on(async {
        let first = sandbox.invoke(br#"{"digits": 5}"#).await.unwrap();
        assert_success(&first);
        assert_eq!(digits_of(&first), "31415");
        for (event, error_type) in cases {
            let failed = sandbox.invoke(event.as_bytes()).await.unwrap();
            let body: Value = serde_json::from_slice(&failed.response).unwrap();
            assert_eq!(body["errorType"], error_type, "{event}: {body}");
            assert!(body["errorMessage"].as_str().is_some_and(|m| !m.is_empty()));
            assert_eq!(failed.outcome.error_type(), Some(error_type));
            assert!(!failed.is_cold());
            check_report(&failed, 128);

            // The same process answers the next event.
            let next = sandbox.invoke(br#"{"digits": "20"}"#).await.unwrap();
            assert_success(&next);
            assert!(!next.is_cold(), "{event} must not cost a restart");
            assert_eq!(digits_of(&next), "31415926535897932384");
        }
        sandbox.shutdown().await;
    });
}

#[test]
fn bad_events_are_function_errors_and_the_process_lives_on_x86_64() {
    bad_events_on(Arch::X86_64);
}

#[test]
fn bad_events_are_function_errors_and_the_process_lives_on_arm64() {
    bad_events_on(Arch::Arm64);
}

// ---------------------------------------------------------------------------------------------
// Faults, with the examples.

fn error_body(invocation: &Invocation) -> (String, String) {
    let body: Value = serde_json::from_slice(&invocation.response).unwrap();
    (
        body["errorType"].as_str().unwrap_or_default().to_string(),
        body["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn pid_of(invocation: &Invocation) -> u64 {
    assert_success(invocation);
    let body: Value = serde_json::from_slice(&invocation.response).unwrap();
    body["pid"].as_u64().unwrap()
}

#[test]
fn a_crash_is_a_runtime_exit_error_and_the_next_invoke_is_cold() {
    let bootstrap = example("crashing_function");
    let mut sandbox = Sandbox::new(
        &FunctionCode::Bootstrap(bootstrap),
        config(Duration::from_secs(10)),
    )
    .unwrap();
    block_on(async {
        let first = sandbox.invoke(b"{}").await.unwrap();
        let first_pid = pid_of(&first);
        assert!(first.is_cold());
        assert!(first
            .init_log
            .iter()
            .any(|l| l == "crashing_function: init"));
        assert!(first
            .function_log
            .iter()
            .any(|l| l.starts_with("crashing_function: handling")));

        let crashed = sandbox.invoke(br#"{"exit": 3}"#).await.unwrap();
        assert_eq!(
            crashed.outcome,
            Outcome::RuntimeExit {
                exit: "exit status 3".into()
            }
        );
        let (error_type, message) = error_body(&crashed);
        assert_eq!(error_type, "Runtime.ExitError");
        assert_eq!(
            message,
            format!(
                "RequestId: {} Error: Runtime exited with error: exit status 3",
                crashed.request_id
            )
        );
        let report = parse_report(&crashed.report_line()).unwrap();
        assert_eq!(report.status.as_deref(), Some("error"));
        assert_eq!(report.error_type.as_deref(), Some("Runtime.ExitError"));
        assert!(!sandbox.is_warm());

        let again = sandbox.invoke(b"{}").await.unwrap();
        assert!(again.is_cold(), "a fresh process after the crash");
        assert_ne!(pid_of(&again), first_pid);

        let aborted = sandbox.invoke(br#"{"abort": true}"#).await.unwrap();
        let (error_type, message) = error_body(&aborted);
        assert_eq!(error_type, "Runtime.ExitError");
        assert!(
            message.ends_with("signal: aborted")
                || message.contains("signal: aborted (core dumped)"),
            "{message}"
        );
        sandbox.shutdown().await;
    });
}

#[test]
fn a_hanging_handler_is_killed_at_the_timeout() {
    let bootstrap = example("hanging_function");
    let mut sandbox = Sandbox::new(
        &FunctionCode::Bootstrap(bootstrap),
        config(Duration::from_secs(1)),
    )
    .unwrap();
    block_on(async {
        let started = Instant::now();
        let hung = sandbox.invoke(b"{}").await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(hung.outcome, Outcome::Timeout);
        let (error_type, message) = error_body(&hung);
        assert_eq!(error_type, "Sandbox.Timedout");
        assert_eq!(
            message,
            format!(
                "RequestId: {} Error: Task timed out after 1.00 seconds",
                hung.request_id
            )
        );
        assert!(hung.platform_log.iter().any(|l| l.ends_with(&format!(
            "{} Task timed out after 1.00 seconds",
            hung.request_id
        ))));
        let report = parse_report(&hung.report_line()).unwrap();
        assert_eq!(report.status.as_deref(), Some("timeout"));
        assert!((report.duration_ms - 1000.0).abs() < 0.01, "{report:?}");
        assert!(!sandbox.is_warm(), "the hung process is gone");

        let quick = sandbox.invoke(br#"{"sleep_ms": 10}"#).await.unwrap();
        assert_success(&quick);
        assert!(quick.is_cold());
        sandbox.shutdown().await;
    });
}

#[test]
fn an_init_that_never_ends_is_bounded() {
    let bootstrap = example("hanging_function");
    let config = FunctionConfig {
        init_timeout: Duration::from_secs(1),
        environment: vec![("HANG_IN_INIT".into(), "1".into())],
        ..config(Duration::from_secs(3))
    };
    let mut sandbox = Sandbox::new(&FunctionCode::Bootstrap(bootstrap), config).unwrap();
    block_on(async {
        let started = Instant::now();
        let hung = sandbox.invoke(b"{}").await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(8));
        assert_eq!(hung.outcome, Outcome::InitTimeout);
        assert!(hung.init_log.iter().any(|l| l.contains("hanging in init")));
        assert!(!sandbox.is_warm());
        sandbox.shutdown().await;
    });
}

#[test]
fn memory_over_the_memory_size_is_out_of_memory() {
    let bootstrap = example("crashing_function");
    let mut sandbox = Sandbox::new(
        &FunctionCode::Bootstrap(bootstrap),
        config(Duration::from_secs(20)),
    )
    .unwrap();
    block_on(async {
        // Within the limit: the figure is a real measurement of what was touched.
        let fits = sandbox.invoke(br#"{"allocate_mb": 40}"#).await.unwrap();
        assert_success(&fits);
        let used = fits.metrics.max_memory_used_mb();
        assert!((40..128).contains(&used), "Max Memory Used {used} MB");

        let over = sandbox.invoke(br#"{"allocate_mb": 300}"#).await.unwrap();
        assert_eq!(over.outcome, Outcome::OutOfMemory);
        let (error_type, _) = error_body(&over);
        assert_eq!(error_type, "Runtime.OutOfMemory");
        assert!(over.metrics.max_memory_used_mb() > 128);
        let report = parse_report(&over.report_line()).unwrap();
        assert_eq!(report.error_type.as_deref(), Some("Runtime.OutOfMemory"));

        let after = sandbox.invoke(b"{}").await.unwrap();
        assert_success(&after);
        assert!(after.is_cold());
        sandbox.shutdown().await;
    });
}

#[test]
fn the_process_sees_lambdas_environment_and_nothing_of_ours() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dir.path().join("bootstrap");
    std::fs::write(
        &bootstrap,
        "#!/bin/sh\nenv > \"$LAMBDA_TASK_ROOT/env.txt\"\nexit 7\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = FunctionConfig {
        environment: vec![("CALCULATE_PI_MAX_DIGITS_SPIGOT".into(), "500".into())],
        memory_size_mb: 256,
        ..FunctionConfig::default()
    };
    let mut sandbox = Sandbox::new(&FunctionCode::Bootstrap(bootstrap), config).unwrap();
    let invocation = block_on(async {
        let invocation = sandbox.invoke(b"{}").await.unwrap();
        sandbox.shutdown().await;
        invocation
    });
    // It exits during init: Runtime.ExitError, as Lambda reports it.
    assert_eq!(
        invocation.outcome,
        Outcome::RuntimeExit {
            exit: "exit status 7".into()
        }
    );
    let env = std::fs::read_to_string(dir.path().join("env.txt")).unwrap();
    for expected in [
        "AWS_LAMBDA_FUNCTION_NAME=calculate-pi",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
        "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
        "AWS_REGION=us-east-1",
        "_HANDLER=bootstrap",
        "TZ=:UTC",
        "CALCULATE_PI_MAX_DIGITS_SPIGOT=500",
    ] {
        assert!(
            env.lines().any(|l| l == expected),
            "{expected} missing from\n{env}"
        );
    }
    assert!(env
        .lines()
        .any(|l| l.starts_with("AWS_LAMBDA_RUNTIME_API=127.0.0.1:")));
    // Cargo gives this test CARGO_* variables and HOME; none of them may leak through.
    for leaked in [
        "CARGO",
        "HOME=",
        "RUST_",
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
    ] {
        assert!(
            !env.lines().any(|l| l.starts_with(leaked)),
            "{leaked} leaked:\n{env}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The tasks, as a user runs them.

#[test]
fn invoke_task_prints_the_response_and_cloudwatch_lines() {
    let zip = zip(Arch::X86_64);
    let output = xtask(["invoke", "--zip"])
        .arg(&zip)
        .args([
            "--payload",
            r#"{"digits": "100"}"#,
            "--count",
            "2",
            "--timeout",
            "60",
        ])
        .output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let bodies: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2, "{stdout}");
    for body in &bodies {
        assert_eq!(
            body["pi"].as_str().unwrap().replace('.', ""),
            pi_digits(100)
        );
    }
    let reports: Vec<_> = stderr.lines().filter_map(parse_report).collect();
    assert_eq!(reports.len(), 2, "{stderr}");
    assert!(reports[0].init_duration_ms.is_some());
    assert!(reports[1].init_duration_ms.is_none());
    assert_eq!(stderr.matches("START RequestId: ").count(), 2);

    let failed = xtask(["invoke", "--zip"])
        .arg(&zip)
        .args(["--payload", "{}"])
        .output();
    assert!(!failed.status.success());
    let body: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(body["errorType"], "MissingDigits");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("1 of 1 invocation(s) failed; the last with MissingDigits"),
        "{stderr}"
    );
}

/// `cargo xtask serve` on a free port; killed on drop. Its stderr (the CloudWatch lines) is
/// collected in `log`.
struct Server {
    child: std::process::Child,
    url: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    log_reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(zip: &Path) -> Server {
        Server::start_with(&["--zip".as_ref(), zip.as_os_str()], &[])
    }

    /// `serve` with `code` (`--zip …` or `--bootstrap …`) and `extra` options; a 60 s timeout
    /// unless `extra` sets one.
    fn start_with(code: &[&std::ffi::OsStr], extra: &[&str]) -> Server {
        let timeout: &[&str] = if extra.contains(&"--timeout") {
            &[]
        } else {
            &["--timeout", "60"]
        };
        let mut child = xtask(["serve", "--port", "0"])
            .args(timeout)
            .args(code)
            .args(extra)
            .spawn();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = std::sync::Arc::clone(&log);
        let log_reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("serve printed its address");
        let url = first
            .strip_prefix("Listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        Server {
            child,
            url,
            log,
            log_reader: Some(log_reader),
        }
    }

    /// Ctrl-C; then everything serve wrote on stderr, to its end.
    fn stop(&mut self) -> (std::process::ExitStatus, String) {
        let status = self.interrupt();
        if let Some(reader) = self.log_reader.take() {
            reader.join().unwrap();
        }
        (status, self.log())
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Ctrl-C, then a bounded wait.
    fn interrupt(&mut self) -> std::process::ExitStatus {
        let pid = i32::try_from(self.child.id()).unwrap();
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "serve did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aws(url: &str, args: &[&str]) -> std::process::Output {
    let aws = xtask::repository::Venv::Test.program("aws").unwrap();
    Command::new(aws)
        .args([
            "--endpoint-url",
            url,
            "--region",
            "us-east-1",
            "--cli-read-timeout",
            "120",
        ])
        .args(args)
        // Fake credentials: the AWS CLI signs every request, the emulator ignores the signature.
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap()
}

fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
                children.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
    }
    children
}

#[test]
fn the_aws_cli_and_boto3_invoke_through_serve() {
    let mut server = Server::start(&zip(Arch::X86_64));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("response.json");
    let out_str = out.to_str().unwrap();

    let ok = aws(
        &server.url,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "calculate-pi",
            "--payload",
            r#"{"digits": "10_000"}"#,
            "--log-type",
            "Tail",
            out_str,
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let meta: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(meta["StatusCode"], 200);
    assert_eq!(meta["ExecutedVersion"], "$LATEST");
    assert!(meta.get("FunctionError").is_none(), "{meta}");
    let log = base64::engine::general_purpose::STANDARD
        .decode(meta["LogResult"].as_str().unwrap())
        .unwrap();
    let log = String::from_utf8(log).unwrap();
    assert!(log.lines().any(|l| parse_report(l).is_some()), "{log}");
    let body: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(
        body["pi"].as_str().unwrap().replace('.', "") == pi_digits(10_000),
        "the digits through the AWS CLI are wrong"
    );

    let bad = aws(
        &server.url,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "function",
            "--payload",
            r#"{"digits": "ten"}"#,
            out_str,
        ],
    );
    assert!(
        bad.status.success(),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let meta: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(meta["FunctionError"], "Unhandled");
    let body: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(body["errorType"], "InvalidDigits");

    // boto3 (installed with moto in the test virtualenv), as an SDK reads the headers.
    let python = xtask::repository::Venv::Test.program("python").unwrap();
    let script = r#"
import json, sys, boto3
client = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
bad = client.invoke(FunctionName="calculate-pi", Payload=b'{"digits": 0}')
good = client.invoke(FunctionName="calculate-pi", Payload=b'{"digits": 30}', LogType="Tail")
print(json.dumps({
    "bad_error": bad.get("FunctionError"),
    "bad_body": json.loads(bad["Payload"].read()),
    "good_error": good.get("FunctionError"),
    "good_body": json.loads(good["Payload"].read()),
    "good_version": good["ExecutedVersion"],
    "good_log": good.get("LogResult", ""),
}))
"#;
    let boto = Command::new(python)
        .args(["-c", script, &server.url])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        boto.status.success(),
        "{}",
        String::from_utf8_lossy(&boto.stderr)
    );
    let seen: Value = serde_json::from_slice(&boto.stdout).unwrap();
    assert_eq!(seen["bad_error"], "Unhandled");
    assert_eq!(seen["bad_body"]["errorType"], "DigitsOutOfRange");
    assert_eq!(seen["good_error"], Value::Null);
    assert_eq!(
        seen["good_body"]["pi"].as_str().unwrap().replace('.', ""),
        pi_digits(30)
    );
    assert_eq!(seen["good_version"], "$LATEST");
    assert!(!seen["good_log"].as_str().unwrap().is_empty());

    // Ctrl-C stops the server and the function process with it.
    let function_pids = children_of(server.child.id());
    assert!(
        !function_pids.is_empty(),
        "the function process runs under serve"
    );
    let status = server.interrupt();
    assert!(status.success(), "{status}");
    for pid in function_pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "function process {pid} outlived serve"
        );
    }
}

/// boto3 asks for `argv[2]` through InvokeWithResponseStream and then through the buffered
/// Invoke; FLINT (python-flint's `arb.pi()`) computes the first `argv[3]` digits on its own. The
/// big strings stay in Python: it prints their SHA-256 and what the test checks about them.
const TEN_MILLION_CLIENT: &str = r#"
import hashlib, json, math, sys, time, boto3, flint
from botocore.config import Config
url, payload, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing",
                      config=Config(retries={"total_max_attempts": 1}, read_timeout=600))
sha256 = lambda text: hashlib.sha256(text.encode()).hexdigest()
start = time.monotonic()
got = client.invoke_with_response_stream(FunctionName="calculate-pi", Payload=payload)
chunks, complete = [], None
for event in got["EventStream"]:
    if "PayloadChunk" in event:
        chunks.append(event["PayloadChunk"]["Payload"])
    elif "InvokeComplete" in event:
        complete = event["InvokeComplete"]
streamed_s = time.monotonic() - start
# lambda_runtime's HTTP-integration prelude and eight NUL bytes come first (docs/function.md).
prelude, separator, document = b"".join(chunks).partition(b"\0" * 8)
answer = json.loads(document)
start = time.monotonic()
buffered = client.invoke(FunctionName="calculate-pi", Payload=payload)
buffered_s = time.monotonic() - start
start = time.monotonic()
flint.ctx.prec = int((n + 30) * math.log2(10)) + 64
reference = flint.arb.pi().str(n + 30, radius=False).replace(".", "")[:n]
flint_s = time.monotonic() - start
pi = answer["pi"]
print(json.dumps({
    "status": got["StatusCode"], "content_type": got["ResponseStreamContentType"],
    "chunks": len(chunks), "complete": complete, "prelude": json.loads(prelude),
    "separator": len(separator), "document_bytes": len(document),
    "compact_json": json.dumps(answer, separators=(",", ":")).encode() == document,
    "keys": list(answer), "digits": answer["digits"], "pi_start": pi[:7], "pi_length": len(pi),
    "pi_sha256": sha256(pi.replace(".", "", 1)), "flint_sha256": sha256(reference),
    "flint_length": len(reference),
    "buffered_status": buffered["StatusCode"], "buffered_error": buffered.get("FunctionError"),
    "buffered_body": json.loads(buffered["Payload"].read()),
    "seconds": {"streamed": streamed_s, "buffered": buffered_s, "flint": flint_s},
}))
"#;

/// Ten million digits (a 10,000,028-byte answer, over the 6 MB a buffered call may return) from
/// the real release bootstrap under `serve`: through boto3's InvokeWithResponseStream they
/// come back as the JSON document in many chunks, their digits FLINT's; through the buffered
/// Invoke the same request gets an error that names streaming, and the process stays warm.
/// 256 MB is the smallest memory size whose default ceiling allows 10,000,000 Chudnovsky digits
/// (docs/function.md); the 300 s timeout leaves the deadline rule's cautious projection room on
/// a loaded machine. Cost: the digits computed twice and FLINT's once; 73 s on this shared
/// 2-core machine with other builds running (26 s streamed, 28 s buffered, 15 s FLINT).
#[test]
fn ten_million_digits_stream_through_serve_and_a_buffered_call_is_told_to_stream() {
    let zip = zip(Arch::X86_64);
    let mut server = Server::start_with(
        &["--zip".as_ref(), zip.as_os_str()],
        &["--memory-size", "256", "--timeout", "300"],
    );
    let n = 10_000_000;
    let got = python_json(
        TEN_MILLION_CLIENT,
        &[
            &server.url,
            r#"{"digits": "10_000_000", "algorithm": "chudnovsky"}"#,
            &n.to_string(),
        ],
    );
    eprintln!("seconds: {}", got["seconds"]);
    assert_eq!(got["status"], 200);
    assert_eq!(got["content_type"], "application/vnd.amazon.eventstream");
    assert!(got["complete"].get("ErrorCode").is_none(), "{got}");
    // 10,000,028 bytes in chunks of 64 KiB, after the prelude.
    assert!(got["chunks"].as_u64().unwrap() >= 100, "{got}");
    assert_eq!(got["prelude"]["statusCode"], 200);
    assert_eq!(got["separator"], 8);
    assert_eq!(got["document_bytes"], n + 28);
    assert_eq!(got["compact_json"], true, "not the function's own JSON");
    assert_eq!(got["keys"], serde_json::json!(["digits", "pi"]));
    assert_eq!(got["digits"], n);
    assert_eq!(got["pi_start"], "3.14159");
    assert_eq!(got["pi_length"], n + 1);
    assert_eq!(got["flint_length"], n);
    assert_eq!(
        got["pi_sha256"], got["flint_sha256"],
        "the streamed digits are not FLINT's"
    );

    assert_eq!(got["buffered_status"], 200);
    assert_eq!(got["buffered_error"], "Unhandled");
    assert_eq!(
        got["buffered_body"]["errorType"],
        "Function.ResponseSizeTooLarge"
    );
    let message = got["buffered_body"]["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("(6291556 bytes)") && message.contains("InvokeWithResponseStream"),
        "{message}"
    );

    let (status, log) = server.stop();
    assert!(status.success(), "{status}");
    let reports: Vec<_> = log.lines().filter_map(parse_report).collect();
    assert_eq!(reports.len(), 2, "{log}");
    assert!(reports[0].init_duration_ms.is_some(), "{log}");
    assert!(
        reports[1].init_duration_ms.is_none(),
        "the refused buffered call cost a cold start:\n{log}"
    );
    assert_eq!(
        reports[1].error_type.as_deref(),
        Some("Function.ResponseSizeTooLarge")
    );
    for report in &reports {
        eprintln!("{report:?}");
        assert_eq!(report.memory_size_mb, 256);
        assert!(report.max_memory_used_mb < 256, "{report:?}");
    }
}

/// The function reads the deadline the Runtime API hands it: a request that cannot finish in
/// the timeout is answered with `NotEnoughTime` (and how many digits would fit) well before the
/// timeout, instead of being killed; the process stays warm.
#[test]
fn a_request_that_cannot_finish_in_time_is_refused_before_the_timeout() {
    let timeout = Duration::from_secs(1);
    let config = FunctionConfig {
        // Raised limits, so that the requests take far longer than the timeout on any machine:
        // hours for the spigot, many seconds for Chudnovsky.
        environment: vec![
            ("CALCULATE_PI_MAX_DIGITS_SPIGOT".into(), "1000000".into()),
            (
                "CALCULATE_PI_MAX_DIGITS_CHUDNOVSKY".into(),
                "5000000".into(),
            ),
        ],
        ..config(timeout)
    };
    let mut sandbox = Sandbox::new(&FunctionCode::Zip(zip(Arch::X86_64)), config).unwrap();
    block_on(async {
        for event in [
            &br#"{"digits": 1000000}"#[..],
            &br#"{"digits": 5000000, "algorithm": "chudnovsky"}"#[..],
        ] {
            let refused = sandbox.invoke(event).await.unwrap();
            let body: Value = serde_json::from_slice(&refused.response).unwrap();
            assert_eq!(body["errorType"], "NotEnoughTime", "{body}");
            let message = body["errorMessage"].as_str().unwrap();
            assert!(message.contains("digits would fit"), "{message}");
            assert!(
                refused.metrics.duration < timeout,
                "{:?}",
                refused.metrics.duration
            );

            let next = sandbox.invoke(br#"{"digits": "20"}"#).await.unwrap();
            assert_success(&next);
            assert!(!next.is_cold());
        }
        sandbox.shutdown().await;
    });
}

/// A dynamically linked (glibc) arm64 bootstrap, as `cross` builds by default, runs under qemu
/// with the arm64 C library: `make invoke-arm` works whichever builder made the zip.
#[test]
fn a_glibc_arm64_bootstrap_runs_under_qemu() {
    let dir = xtask::repository::repository_root()
        .join("target")
        .join("emulator-tests");
    let zip = dir.join("lambda-arm64-gnu.zip");
    let build = BuildArgs {
        arch: Arch::Arm64,
        target: Some("aarch64-unknown-linux-gnu".into()),
        builder: Builder::Cargo,
    };
    let package = xtask::repository::package_function(&build, Runtime::ProvidedAl2023, &zip)
        .unwrap_or_else(|e| panic!("packaging the glibc arm64 function: {e:#}"));
    assert!(
        package.linkage.starts_with("dynamic"),
        "{}",
        package.linkage
    );
    let mut sandbox = Sandbox::new(&FunctionCode::Zip(zip), config(SLOW)).unwrap();
    block_on(async {
        let invocation = sandbox.invoke(br#"{"digits": "20"}"#).await.unwrap();
        assert_success(&invocation);
        assert_eq!(digits_of(&invocation), "31415926535897932384");
        sandbox.shutdown().await;
    });
}

// ---------------------------------------------------------------------------------------------
// Odd deadline headers. A number that cannot be a real deadline (`0`, a relative `600000`)
// reaches the handler, which reads it as "no deadline"; no number at all never does:
// lambda_runtime ends the process first (a missing header panics, one that is not a number
// stops its loop), so each invocation is a Runtime.ExitError and the next one starts cold.

#[test]
fn the_function_answers_under_deadline_headers_that_cannot_be_real() {
    use emulator::DeadlineHeader;
    let zip = zip(Arch::X86_64);
    for header in [DeadlineHeader::Zero, DeadlineHeader::Relative] {
        // 600 s: the relative header is then 600000 (or just under), as cargo-lambda sends.
        let config = FunctionConfig {
            deadline_header: header,
            ..config(Duration::from_secs(600))
        };
        let mut sandbox = Sandbox::new(&FunctionCode::Zip(zip.clone()), config).unwrap();
        block_on(async {
            for _ in 0..2 {
                let invocation = sandbox.invoke(br#"{"digits": "1000"}"#).await.unwrap();
                assert_success(&invocation);
                assert_eq!(digits_of(&invocation), pi_digits(1000), "{header:?}");
            }
            sandbox.shutdown().await;
        });
    }
}

#[test]
fn lambda_runtime_ends_the_process_without_a_deadline_number() {
    use emulator::DeadlineHeader;
    let zip = zip(Arch::X86_64);
    for (header, exit, says) in [
        (
            DeadlineHeader::Garbage,
            "exit status 1",
            "calculate-pi: the Lambda runtime stopped: invalid digit found in string",
        ),
        (
            DeadlineHeader::Omit,
            "exit status 101",
            "missing lambda-runtime-deadline-ms header",
        ),
    ] {
        let config = FunctionConfig {
            deadline_header: header,
            ..config(Duration::from_secs(60))
        };
        let mut sandbox = Sandbox::new(&FunctionCode::Zip(zip.clone()), config).unwrap();
        block_on(async {
            for _ in 0..2 {
                let invocation = sandbox.invoke(br#"{"digits": "20"}"#).await.unwrap();
                assert!(invocation.is_cold(), "{header:?}: every process ends");
                assert_eq!(
                    invocation.outcome,
                    Outcome::RuntimeExit { exit: exit.into() },
                    "{header:?}: {}",
                    invocation.log_text()
                );
                let (error_type, _) = error_body(&invocation);
                assert_eq!(error_type, "Runtime.ExitError");
                assert!(
                    invocation.log_text().contains(says),
                    "{header:?}: {}",
                    invocation.log_text()
                );
            }
            sandbox.shutdown().await;
        });
    }
}

#[test]
fn invoke_sends_the_deadline_header_asked_for() {
    for header in ["zero", "relative", "garbage", "omit"] {
        let output = xtask(["invoke", "--zip"])
            .arg(zip(Arch::X86_64))
            .args(["--payload", r#"{"digits": "50"}"#, "--timeout", "600"])
            .args(["--deadline-header", header])
            .output();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let body: Value = serde_json::from_slice(&output.stdout).unwrap();
        match header {
            // Numbers that cannot be deadlines: answered, and said so in the log.
            "zero" | "relative" => {
                assert!(output.status.success(), "{header}: {stderr}");
                assert_eq!(
                    body["pi"].as_str().unwrap().replace('.', ""),
                    pi_digits(50),
                    "{header}"
                );
                assert!(
                    stderr.contains("calculate-pi: Lambda-Runtime-Deadline-Ms"),
                    "{header}: {stderr}"
                );
            }
            // No number: lambda_runtime ends the process before the handler runs.
            _ => {
                assert_eq!(output.status.code(), Some(1), "{header}: {stderr}");
                assert_eq!(body["errorType"], "Runtime.ExitError", "{header}");
            }
        }
    }
    let refused = xtask(["invoke", "--zip"])
        .arg(zip(Arch::X86_64))
        .args(["--deadline-header", "tomorrow"])
        .output();
    assert_eq!(refused.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------
// Faults injected into real processes: a Runtime API client in sh and curl, told by the event
// what to do wrong.

const SCRIPTED_RUNTIME: &str = r#"#!/bin/sh
# A Runtime API client in sh and curl. The event picks the fault:
#   "sleep": write the pid to $LAMBDA_TASK_ROOT/pid and sleep (to be killed from outside);
#   "big":   answer 7 MB, over Lambda's 6 MB;
#   "flood": write 100 MB to stdout (1 KB lines), then answer;
#   "linger": answer, then never ask for the next event;
#   anything else: answer {"pid": …}.
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
work=$(mktemp -d)
echo "scripted runtime: init"
while :; do
  curl -sS -D "$work/headers" -o "$work/event" "$api/next" || exit 1
  id=$(tr -d '\r' < "$work/headers" | sed -n 's/^lambda-runtime-aws-request-id: //p')
  printf '{"pid": %s}' "$$" > "$work/response"
  case "$(cat "$work/event")" in
    *sleep*) echo $$ > "$LAMBDA_TASK_ROOT/pid"; sleep 600;;
    *big*) head -c 7000000 /dev/zero | tr '\0' a > "$work/response";;
    *flood*) yes "$(head -c 1023 /dev/zero | tr '\0' x)" | head -c 100000000;;
  esac
  curl -sS -o /dev/null -X POST --data-binary @"$work/response" "$api/$id/response"
  case "$(cat "$work/event")" in
    *linger*) sleep 600;;
  esac
done
"#;

/// A directory with the scripted runtime as its `bootstrap`.
fn scripted_runtime() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dir.path().join("bootstrap");
    std::fs::write(&bootstrap, SCRIPTED_RUNTIME).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (dir, bootstrap)
}

fn scripted_pid(invocation: &Invocation) -> u64 {
    pid_of(invocation)
}

#[test]
fn a_bootstrap_killed_mid_invocation_is_a_runtime_exit_error_and_the_next_is_cold() {
    let (dir, bootstrap) = scripted_runtime();
    let mut sandbox = Sandbox::new(
        &FunctionCode::Bootstrap(bootstrap),
        config(Duration::from_secs(60)),
    )
    .unwrap();
    let pid_file = dir.path().join("pid");
    // kill -9 from outside once the function is inside the invocation.
    let killer = std::thread::spawn(move || {
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&pid_file) {
                if let Ok(pid) = text.trim().parse::<i32>() {
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                    return;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no pid file");
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    block_on(async {
        let first = sandbox.invoke(b"{}").await.unwrap();
        let first_pid = scripted_pid(&first);
        let killed = sandbox.invoke(br#"{"sleep": true}"#).await.unwrap();
        killer.join().unwrap();
        assert_eq!(
            killed.outcome,
            Outcome::RuntimeExit {
                exit: "signal: killed".into()
            }
        );
        let (error_type, message) = error_body(&killed);
        assert_eq!(error_type, "Runtime.ExitError");
        assert_eq!(
            message,
            format!(
                "RequestId: {} Error: Runtime exited with error: signal: killed",
                killed.request_id
            )
        );
        let report = parse_report(&killed.report_line()).unwrap();
        assert_eq!(report.error_type.as_deref(), Some("Runtime.ExitError"));
        assert!(!sandbox.is_warm());

        let next = sandbox.invoke(b"{}").await.unwrap();
        assert!(next.is_cold());
        assert_ne!(scripted_pid(&next), first_pid);
        sandbox.shutdown().await;
    });
}

#[test]
fn a_response_over_6_mb_is_lambdas_error_and_the_process_lives_on() {
    let (_dir, bootstrap) = scripted_runtime();
    let mut sandbox = Sandbox::new(
        &FunctionCode::Bootstrap(bootstrap),
        config(Duration::from_secs(60)),
    )
    .unwrap();
    block_on(async {
        let big = sandbox.invoke(br#"{"big": true}"#).await.unwrap();
        assert_eq!(big.outcome, Outcome::ResponseTooLarge);
        let (error_type, message) = error_body(&big);
        assert_eq!(error_type, "Function.ResponseSizeTooLarge");
        assert_eq!(
            message,
            "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
        );
        let after = sandbox.invoke(b"{}").await.unwrap();
        assert_success(&after);
        assert!(!after.is_cold(), "the runtime went on to the next event");
        sandbox.shutdown().await;
    });
}

#[test]
fn a_runtime_that_never_asks_again_times_out_the_next_invoke_then_starts_cold() {
    let (_dir, bootstrap) = scripted_runtime();
    let mut sandbox = Sandbox::new(
        &FunctionCode::Bootstrap(bootstrap),
        config(Duration::from_secs(2)),
    )
    .unwrap();
    block_on(async {
        let answered = sandbox.invoke(br#"{"linger": true}"#).await.unwrap();
        assert_success(&answered);
        let started = Instant::now();
        let stuck = sandbox.invoke(b"{}").await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(30), "bounded");
        assert_eq!(stuck.outcome, Outcome::Timeout);
        assert_eq!(error_body(&stuck).0, "Sandbox.Timedout");
        let fresh = sandbox.invoke(b"{}").await.unwrap();
        assert_success(&fresh);
        assert!(fresh.is_cold());
        sandbox.shutdown().await;
    });
}

#[test]
fn a_function_writing_100_mb_to_stdout_gets_a_bounded_log_and_nothing_hangs() {
    use lambda_kit::emulator::sandbox::logs::MAX_KEPT_BYTES;
    let (_dir, bootstrap) = scripted_runtime();
    let mut sandbox = Sandbox::new(
        &FunctionCode::Bootstrap(bootstrap),
        config(Duration::from_secs(300)),
    )
    .unwrap();
    block_on(async {
        let started = Instant::now();
        let flooded = sandbox.invoke(br#"{"flood": true}"#).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(240), "bounded");
        assert_success(&flooded);
        let kept: usize = flooded.function_log.iter().map(String::len).sum();
        assert!(kept <= MAX_KEPT_BYTES + 1024, "{kept} bytes kept");
        let note = flooded.function_log.last().unwrap();
        assert!(note.starts_with("emulator: log truncated: "), "{note}");
        assert!(note.contains("were dropped"), "{note}");

        let after = sandbox.invoke(b"{}").await.unwrap();
        assert_success(&after);
        assert!(!after.is_cold());
        let kept: usize = after.function_log.iter().map(String::len).sum();
        assert!(kept <= MAX_KEPT_BYTES + 1024, "{kept} bytes kept");
        sandbox.shutdown().await;
    });
}

// ---------------------------------------------------------------------------------------------
// serve --concurrency: several execution environments, Lambda's throttle past them.

/// Each of N threads makes its own client, waits at a barrier, then invokes `per_client`
/// times without retries; prints what each call got.
const CONCURRENT_CLIENTS: &str = r#"
import json, sys, threading, boto3
from botocore.config import Config
url, clients, per_client, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
config = Config(retries={"total_max_attempts": 1}, read_timeout=120, max_pool_connections=64)
barrier = threading.Barrier(clients)
results = []
lock = threading.Lock()
def client_thread(n):
    client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=config)
    barrier.wait(timeout=120)
    for i in range(per_client):
        try:
            got = client.invoke(FunctionName="calculate-pi", Payload=payload.encode())
            record = {"status": got["StatusCode"], "error": got.get("FunctionError"),
                      "body": json.loads(got["Payload"].read()),
                      "request_id": got["ResponseMetadata"]["RequestId"]}
        except client.exceptions.TooManyRequestsException as e:
            record = {"throttled": e.response["Error"]["Code"],
                      "http": e.response["ResponseMetadata"]["HTTPStatusCode"],
                      "reason": e.response.get("Reason"), "type": e.response.get("Type"),
                      "message": e.response["Error"]["Message"]}
        with lock:
            results.append(record)
threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(clients)]
for t in threads: t.start()
for t in threads: t.join(timeout=300)
print(json.dumps(results))
"#;

#[test]
fn serve_with_concurrency_8_runs_8_clients_on_several_environments_and_loses_nothing() {
    let zip = zip(Arch::X86_64);
    let mut server = Server::start_with(
        &["--zip".as_ref(), zip.as_os_str()],
        &["--concurrency", "8"],
    );
    let results = python_json(
        CONCURRENT_CLIENTS,
        &[&server.url, "8", "5", r#"{"digits": "10_000"}"#],
    );
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 40, "{results:?}");
    let expected = pi_digits(10_000);
    let mut request_ids = std::collections::HashSet::new();
    for result in results {
        assert_eq!(result["status"], 200, "{result}");
        assert_eq!(result["error"], Value::Null, "{result}");
        assert_eq!(
            result["body"]["pi"].as_str().unwrap().replace('.', ""),
            expected
        );
        assert!(request_ids.insert(result["request_id"].as_str().unwrap().to_string()));
    }
    let (status, log) = server.stop();
    assert!(status.success(), "{status}");
    let reports: Vec<_> = log.lines().filter_map(parse_report).collect();
    // One REPORT per request, each for a request a client got: nothing lost, nothing twice.
    assert_eq!(reports.len(), 40, "{log}");
    let reported: std::collections::HashSet<String> =
        reports.iter().map(|r| r.request_id.clone()).collect();
    assert_eq!(reported, request_ids);
    let cold = reports
        .iter()
        .filter(|r| r.init_duration_ms.is_some())
        .count();
    assert!((2..=8).contains(&cold), "{cold} cold starts:\n{log}");
}

#[test]
fn serve_with_concurrency_2_throttles_the_excess_as_lambda_does() {
    let hanging = example("hanging_function");
    let mut server = Server::start_with(
        &["--bootstrap".as_ref(), hanging.as_os_str()],
        &["--concurrency", "2"],
    );
    // 12 clients at once, each held 5 s: two run, the rest are refused at once (allowing for
    // clients that arrive late, after one of the first two has finished).
    let results = python_json(
        CONCURRENT_CLIENTS,
        &[&server.url, "12", "1", r#"{"sleep_ms": 5000}"#],
    );
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 12);
    let answered: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("status").is_some())
        .collect();
    let throttled: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("throttled").is_some())
        .collect();
    assert_eq!(answered.len() + throttled.len(), 12);
    assert!((1..=4).contains(&answered.len()), "{results:?}");
    assert!(throttled.len() >= 8, "{results:?}");
    for ok in &answered {
        assert_eq!(ok["body"]["slept_ms"], 5000, "{ok}");
    }
    for refused in &throttled {
        assert_eq!(refused["throttled"], "TooManyRequestsException");
        assert_eq!(refused["http"], 429);
        assert_eq!(
            refused["reason"],
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        );
        assert_eq!(refused["type"], "User");
        assert_eq!(refused["message"], "Rate Exceeded.");
    }

    // The AWS CLI says it as against AWS, while both environments are busy; an asynchronous
    // invocation meanwhile is queued (202), not refused, and runs once one is free.
    let busy = {
        let url = server.url.clone();
        std::thread::spawn(move || {
            python_json(
                CONCURRENT_CLIENTS,
                &[&url, "2", "1", r#"{"sleep_ms": 4000}"#],
            )
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let started = Instant::now();
    let mut refused = None;
    let mut cli_answered = 0;
    while started.elapsed() < Duration::from_secs(60) {
        let output = Command::new(xtask::repository::Venv::Test.program("aws").unwrap())
            .args(["--endpoint-url", &server.url, "--region", "us-east-1"])
            .args(["lambda", "invoke", "--function-name", "calculate-pi"])
            .args(["--payload", r#"{"sleep_ms": 1}"#])
            .arg(&out)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_MAX_ATTEMPTS", "1")
            .output()
            .unwrap();
        if !output.status.success() {
            refused = Some(output);
            break;
        }
        cli_answered += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let refused = refused.expect("the CLI was refused while both environments were busy");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    // The CLI's exit status for an error AWS sent: 255 in v1, 254 in v2.
    assert!(
        matches!(refused.status.code(), Some(254 | 255)),
        "{:?} {stderr}",
        refused.status
    );
    assert!(
        stderr.contains(
            "An error occurred (TooManyRequestsException) when calling the Invoke operation"
        ) && stderr.contains("Rate Exceeded."),
        "{stderr}"
    );
    let queued = aws(
        &server.url,
        &[
            "lambda",
            "invoke",
            "--function-name",
            "calculate-pi",
            "--invocation-type",
            "Event",
            "--payload",
            r#"{"sleep_ms": 7}"#,
            out.to_str().unwrap(),
        ],
    );
    assert!(
        queued.status.success(),
        "{}",
        String::from_utf8_lossy(&queued.stderr)
    );
    let meta: Value = serde_json::from_slice(&queued.stdout).unwrap();
    assert_eq!(meta["StatusCode"], 202);
    let busy = busy.join().unwrap();
    assert_eq!(busy.as_array().unwrap().len(), 2);
    let ran_busy = busy
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("status").is_some())
        .count();
    // Every REPORT is an invocation that ran: the 12 clients' answered ones, the busy ones,
    // the CLI's answered ones and the queued event; the throttled ones never reached a sandbox.
    let expected = answered.len() + ran_busy + cli_answered + 1;
    let count = |log: &str| log.lines().filter(|l| parse_report(l).is_some()).count();
    let started = Instant::now();
    while count(&server.log()) < expected && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, log) = server.stop();
    assert!(status.success(), "{status}");
    assert_eq!(count(&log), expected, "{log}");
}
