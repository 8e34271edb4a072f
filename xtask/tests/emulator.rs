//! End-to-end tests of the Lambda emulator on real artifacts: the function's deployment zips of
//! both architectures (arm64 under qemu-aarch64; a missing qemu fails, it does not skip), small
//! faulty functions from the root crate's examples, `cargo xtask invoke` and `serve`, and the
//! real AWS CLI from the test virtualenv.
// Linux only: it runs Linux bootstraps natively and under qemu, and stops `serve` with SIGINT
// (libc::kill); on other hosts these tasks refuse to start (tasks::require_linux_host).
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use lambda_kit::arch::Arch;
use lambda_kit::build::{BuildArgs, Builder};
use lambda_kit::emulator::report::parse_report;
use lambda_kit::emulator::{self, FunctionCode, FunctionConfig, Invocation, Outcome, Sandbox};
use lambda_kit::runtime::Runtime;
use num_bigint::BigInt;
use serde_json::Value;

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
            xtask::tasks::package::package_repository_function(&args, Runtime::ProvidedAl2, &output)
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
            .args([
                "build",
                "--package",
                "calculate-pi",
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
// An independent check of the digits: Machin's formula, pi = 16 atan(1/5) - 4 atan(1/239).

fn arctan_inverse(x: u32, unity: &BigInt) -> BigInt {
    let x = BigInt::from(x);
    let x_squared = &x * &x;
    let mut power = unity / &x;
    let mut sum = power.clone();
    let mut n = 1u32;
    loop {
        power /= &x_squared;
        if power == BigInt::from(0) {
            return sum;
        }
        let term = &power / BigInt::from(2 * n + 1);
        if n % 2 == 1 {
            sum -= term;
        } else {
            sum += term;
        }
        n += 1;
    }
}

/// The first `n` digits of pi, `"31415…"`.
fn machin_digits(n: u32) -> String {
    let guard = 12;
    let unity = BigInt::from(10).pow(n + guard);
    let pi: BigInt = (arctan_inverse(5, &unity) * 4 - arctan_inverse(239, &unity)) * 4;
    let scale: BigInt = BigInt::from(10).pow(guard);
    let digits = (pi / scale).to_string();
    digits[..n as usize].to_string()
}

#[test]
fn machin_agrees_with_the_published_digits() {
    assert_eq!(
        machin_digits(50),
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
    let expected = machin_digits(10_000);
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

fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

#[test]
fn invoke_task_prints_the_response_and_cloudwatch_lines() {
    let zip = zip(Arch::X86_64);
    let output = xtask()
        .args(["invoke", "--zip"])
        .arg(&zip)
        .args([
            "--payload",
            r#"{"digits": "100"}"#,
            "--count",
            "2",
            "--timeout",
            "60",
        ])
        .output()
        .unwrap();
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
            machin_digits(100)
        );
    }
    let reports: Vec<_> = stderr.lines().filter_map(parse_report).collect();
    assert_eq!(reports.len(), 2, "{stderr}");
    assert!(reports[0].init_duration_ms.is_some());
    assert!(reports[1].init_duration_ms.is_none());
    assert_eq!(stderr.matches("START RequestId: ").count(), 2);

    let failed = xtask()
        .args(["invoke", "--zip"])
        .arg(&zip)
        .args(["--payload", "{}"])
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let body: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(body["errorType"], "MissingDigits");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("1 of 1 invocation(s) failed; the last with MissingDigits"),
        "{stderr}"
    );
}

/// `cargo xtask serve` on a free port; killed on drop.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Server {
    fn start(zip: &Path) -> Server {
        let mut child = xtask()
            .args(["serve", "--port", "0", "--timeout", "60", "--zip"])
            .arg(zip)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
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
        Server { child, url }
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
    let aws = xtask::repository::venv_program("aws").unwrap();
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
        body["pi"].as_str().unwrap().replace('.', "") == machin_digits(10_000),
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
    let python = xtask::repository::venv_program("python").unwrap();
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
        machin_digits(30)
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
    let package =
        xtask::tasks::package::package_repository_function(&build, Runtime::ProvidedAl2023, &zip)
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
