//! The benchmark's effects: invocations through the Runtime API emulator, the timing runners
//! (`examples/pi_timing.rs`) built for glibc and musl, the plain baseline
//! (`examples/baseline.rs`) built for musl, node, and facts about the machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::results::{AnchorRuns, InvocationFigures, ProgramKind, ProgramRuns};
use lambda_kit::command;
use lambda_kit::emulator::{Invocation, Sandbox};

use crate::repository::repository_root;

/// The benchmark's function: this repository's pi function.
pub const BENCHMARKED_PACKAGE: &str = "calculate-pi";

/// The timing runner the programs timed outside the function are built from.
pub const RUNNER_EXAMPLE: &str = "pi_timing";
/// The baseline alone, without the function's allocator: built for musl it runs on musl's own
/// malloc, as the plain transcription built for musl does (pi_timing uses dlmalloc on musl).
pub const BASELINE_EXAMPLE: &str = "baseline";
pub const GLIBC_TARGET: &str = "x86_64-unknown-linux-gnu";
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";
/// The JavaScript BigInt spigot, relative to the project root.
pub const NODE_SCRIPT: &str = "benches/spigot.js";

/// sha256 of `bytes`, in lowercase hex, as the runners print it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digit string ("31415…") of a response `{"digits": n, "pi": "3.1415…"}`, checked to hold
/// `expected` digits.
pub fn response_digits(response: &[u8], expected: u64) -> Result<String> {
    #[derive(Deserialize)]
    struct Response {
        digits: u64,
        pi: String,
    }
    let parsed: Response = serde_json::from_slice(response).with_context(|| {
        format!(
            "the response is not {{\"digits\": …, \"pi\": …}}: {}",
            preview(response)
        )
    })?;
    let digits: String = parsed.pi.chars().filter(|c| *c != '.').collect();
    if parsed.digits != expected || digits.len() as u64 != expected {
        bail!(
            "asked for {expected} digits, the response says {} and holds {}",
            parsed.digits,
            digits.len()
        );
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        bail!("the response's pi holds characters other than digits and one point");
    }
    Ok(digits)
}

/// The start of a response, for error messages.
pub fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// One line a runner prints (`examples/pi_timing.rs`, `benches/spigot.js`).
#[derive(Debug, Clone, Deserialize)]
pub struct RunnerLine {
    pub digits: u64,
    pub elapsed_ms: f64,
    pub sha256: String,
    #[serde(default)]
    pub peak_rss_kib: Option<u64>,
}

/// The last JSON line of a runner's output.
pub fn parse_runner_line(stdout: &str) -> Result<RunnerLine> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .context("the runner printed no JSON line")?;
    serde_json::from_str(line).with_context(|| format!("reading the runner's line {line:?}"))
}

/// Builds `examples/pi_timing.rs` in release for `target` and returns the executable.
pub fn build_runner(target: &str) -> Result<PathBuf> {
    build_example(RUNNER_EXAMPLE, target)
}

/// Builds the example `name` in release for `target` and returns the executable.
pub fn build_example(name: &str, target: &str) -> Result<PathBuf> {
    let mut command = Command::new(command::cargo());
    command.current_dir(repository_root()).args([
        "build",
        "--release",
        "--locked",
        "--package",
        BENCHMARKED_PACKAGE,
        "--example",
        name,
        "--target",
        target,
        "--message-format",
        "json-render-diagnostics",
    ]);
    eprintln!("$ {}", command::display(&command));
    let doing = format!("building examples/{name}.rs for {target}");
    let output = command::output(command.stderr(Stdio::inherit()), &doing)?;
    if !output.status.success() {
        bail!(
            "{doing}: `{}` failed ({})",
            command::display(&command),
            output.status
        );
    }
    executable_from_messages(&String::from_utf8_lossy(&output.stdout), name)
        .with_context(|| format!("{doing}: cargo named no executable for {name}"))
}

/// The executable of target `name` in cargo's `--message-format json` output.
pub fn executable_from_messages(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// Runs a runner once; it must succeed and print its line.
pub fn run_runner(command: &mut Command, doing: &str) -> Result<RunnerLine> {
    let output = command::output(command, doing)?;
    if !output.status.success() {
        bail!(
            "{doing}: `{}` failed ({}): {}",
            command::display(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    parse_runner_line(&String::from_utf8_lossy(&output.stdout))
        .with_context(|| format!("{doing}: `{}`", command::display(command)))
}

/// Runs `make_command()` `runs` times; each must print `digits` digits hashing to
/// `expected_sha256` (when given). Returns the runs and the sha256 the first printed.
pub fn time_program(
    kind: ProgramKind,
    make_command: impl Fn() -> Command,
    runs: u32,
    digits: u64,
    expected_sha256: Option<&str>,
) -> Result<(ProgramRuns, String)> {
    let shown = command::display(&make_command());
    let doing = format!("timing {} ({shown})", kind.label());
    let mut result = ProgramRuns {
        kind,
        command: shown_command(&make_command()),
        elapsed_ms: Vec::new(),
        peak_rss_kib: None,
    };
    let mut sha = None::<String>;
    for run in 1..=runs {
        let line = run_runner(&mut make_command(), &doing)?;
        if line.digits != digits {
            bail!(
                "{doing}: run {run} computed {} digits, not {digits}",
                line.digits
            );
        }
        let expected = expected_sha256.or(sha.as_deref());
        if let Some(expected) = expected {
            if line.sha256 != expected {
                bail!(
                    "{doing}: run {run} computed other digits than the reference (sha256 {} \
                     instead of {expected})",
                    line.sha256
                );
            }
        }
        eprintln!(
            "  {} run {run}/{runs}: {:.1} ms",
            kind.label(),
            line.elapsed_ms
        );
        result.elapsed_ms.push(line.elapsed_ms);
        result.peak_rss_kib = result.peak_rss_kib.max(line.peak_rss_kib);
        sha.get_or_insert(line.sha256);
    }
    Ok((result, sha.unwrap_or_default()))
}

/// A command as the report shows it: paths inside the project relative to it, programs from
/// elsewhere (node on PATH) by name.
fn shown_command(command: &Command) -> String {
    let root = repository_root();
    let mut words = Vec::new();
    let program = PathBuf::from(command.get_program());
    let shown = match program.strip_prefix(&root) {
        Ok(inside) => inside.display().to_string(),
        Err(_) => program.file_name().map_or_else(
            || program.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        ),
    };
    words.push(shown);
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// A `baseline <digits>` command (`examples/baseline.rs`).
pub fn baseline_command(baseline: &Path, digits: u64) -> Command {
    let mut command = Command::new(baseline);
    command
        .current_dir(repository_root())
        .arg(digits.to_string());
    command
}

/// A `pi_timing <algorithm> <digits>` command.
pub fn runner_command(runner: &Path, algorithm: &str, digits: u64) -> Command {
    let mut command = Command::new(runner);
    command
        .current_dir(repository_root())
        .args([algorithm, &digits.to_string()]);
    command
}

/// The anchors' script: `python benches/anchors.py worker <flint|mpfr> <digits> 1 1` times one
/// run of the library on one thread in a fresh process and prints a runner's JSON line.
pub const ANCHORS_SCRIPT: &str = "benches/anchors.py";

/// The function's Chudnovsky (in-process, musl, one thread), FLINT and MPFR at `digits`, `runs`
/// runs each, every run a fresh process; the libraries' digits checked against Chudnovsky's.
pub fn time_anchors(runner: &Path, python: &Path, digits: u64, runs: u32) -> Result<AnchorRuns> {
    let (chudnovsky, sha) = time_program(
        ProgramKind::ChudnovskyMusl,
        || {
            let mut command = runner_command(runner, "chudnovsky", digits);
            command.args(["--threads", "1"]);
            command
        },
        runs,
        digits,
        None,
    )?;
    let mut programs = vec![chudnovsky];
    for (kind, library) in [(ProgramKind::Flint, "flint"), (ProgramKind::Mpfr, "mpfr")] {
        let (library_runs, _) = time_program(
            kind,
            || {
                let mut command = Command::new(python);
                command.current_dir(repository_root()).args([
                    ANCHORS_SCRIPT,
                    "worker",
                    library,
                    &digits.to_string(),
                    "1",
                    "1",
                ]);
                command
            },
            runs,
            digits,
            Some(&sha),
        )?;
        programs.push(library_runs);
    }
    Ok(AnchorRuns { digits, programs })
}

/// `node benches/spigot.js <digits>`.
pub fn node_command(node: &Path, digits: u64) -> Command {
    let mut command = Command::new(node);
    command
        .current_dir(repository_root())
        .args([NODE_SCRIPT, &digits.to_string()]);
    command
}

/// node's version, or why node cannot be used.
pub fn find_node() -> std::result::Result<(PathBuf, String), String> {
    let node = which::which("node").map_err(|_| "not run: `node` is not on PATH".to_string())?;
    let output = command::output(
        Command::new(&node).arg("--version"),
        "asking node's version",
    )
    .map_err(|e| format!("not run: {}", lambda_kit::error::chain_text(&e)))?;
    if !output.status.success() {
        return Err(format!(
            "not run: `{} --version` failed ({})",
            node.display(),
            output.status
        ));
    }
    Ok((
        node,
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
    ))
}

/// One invocation of the function; anything but a success fails the bench.
pub async fn invoke(sandbox: &mut Sandbox, payload: &[u8], what: &str) -> Result<Invocation> {
    let invocation = sandbox
        .invoke(payload)
        .await
        .with_context(|| format!("{what}: running the function in the emulator"))?;
    if !invocation.outcome.is_success() {
        bail!(
            "{what}: the function failed with {}: {}\n{}",
            invocation.outcome.error_type().unwrap_or("an error"),
            preview(&invocation.response),
            invocation.log_text()
        );
    }
    Ok(invocation)
}

pub fn figures(invocation: &Invocation) -> InvocationFigures {
    let m = &invocation.metrics;
    InvocationFigures {
        duration_ms: m.duration.as_secs_f64() * 1e3,
        billed_duration_ms: m.billed_duration_ms,
        init_duration_ms: m.init_duration.map(|d| d.as_secs_f64() * 1e3),
        max_memory_used_mb: m.max_memory_used_mb(),
    }
}

/// The first three fields of /proc/loadavg.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

pub fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, model)| model.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The short commit of the project and whether the work tree has changes; `None` outside git.
pub fn git_commit() -> (Option<String>, Option<bool>) {
    let git = |args: &[&str]| -> Option<String> {
        let output = command::output(
            Command::new("git")
                .current_dir(repository_root())
                .args(args),
            "asking git for the commit",
        )
        .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = commit
        .as_ref()
        .and_then(|_| git(&["status", "--porcelain", "--untracked-files=no"]))
        .map(|s| !s.is_empty());
    (commit, dirty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_give_their_digits() {
        let digits = response_digits(br#"{"digits":5,"pi":"3.1415"}"#, 5).unwrap();
        assert_eq!(digits, "31415");
        assert_eq!(
            response_digits(br#"{"digits":1,"pi":"3"}"#, 1).unwrap(),
            "3"
        );
        let short = response_digits(br#"{"digits":5,"pi":"3.141"}"#, 5).unwrap_err();
        assert!(short.to_string().contains("holds 4"), "{short}");
        let error = response_digits(br#"{"errorType":"X","errorMessage":"no"}"#, 5).unwrap_err();
        assert!(format!("{error:#}").contains("errorType"), "{error:#}");
        assert!(response_digits(br#"{"digits":3,"pi":"3.1x"}"#, 3).is_err());
    }

    #[test]
    fn runner_lines_and_cargo_messages_are_read() {
        let line = parse_runner_line(
            "noise\n{\"algorithm\":\"baseline\",\"digits\":10,\"elapsed_ms\":1.5,\"sha256\":\"ab\"}\n",
        )
        .unwrap();
        assert_eq!(
            (line.digits, line.elapsed_ms, line.peak_rss_kib),
            (10, 1.5, None)
        );
        let with_rss =
            parse_runner_line(r#"{"digits":10,"elapsed_ms":2,"sha256":"ab","peak_rss_kib":2048}"#)
                .unwrap();
        assert_eq!(with_rss.peak_rss_kib, Some(2048));
        assert!(parse_runner_line("nothing").is_err());

        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"num_bigint"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"pi_timing"},"executable":"/t/release/examples/pi_timing"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable_from_messages(messages, "pi_timing"),
            Some(PathBuf::from("/t/release/examples/pi_timing"))
        );
        assert_eq!(executable_from_messages(messages, "baseline"), None);
    }

    #[test]
    fn hashes_match_the_runners() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_load_average_is_read() {
        assert!(load_average().is_some());
    }
}
