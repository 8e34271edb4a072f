//! Windows, under Wine: the cmd renderings executed by Wine's cmd.exe against a Windows program
//! that records its argv, and the kit built for x86_64-pc-windows-gnu: `help`, `package
//! --binary` (the zip byte-identical to the Linux-made one), a refused input, and `invoke`
//! refusing to run a Linux bootstrap.
//!
//! The Wine prefix, the fixtures and the Windows build are kept under target/wine/ and
//! target/x86_64-pc-windows-gnu/, so only a cold run pays for them. Missing tools skip these
//! tests with a message, except in CI (CI=true), where they fail: `cargo xtask setup` installs
//! them (wine64, gcc-mingw-w64-x86-64, the x86_64-pc-windows-gnu target).
// Wine and the MinGW cross compiler are Linux packages.
#![cfg(target_os = "linux")]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use lambda_kit::artifact::lambda_zip;
use lambda_kit::command::Shell;
use support::commands::*;
use xtask::repository::repository_root;

const WINE64: &str = "/usr/lib/wine/wine64";
const FIXTURES: &str = "xtask/tests/fixtures/windows";

/// Whether the tools are here; a missing one fails in CI and skips elsewhere.
fn prerequisites() -> bool {
    let mut missing = Vec::new();
    if !Path::new(WINE64).exists() {
        missing.push("wine64");
    }
    if which::which("x86_64-w64-mingw32-gcc").is_err() {
        missing.push("gcc-mingw-w64-x86-64");
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "the Windows tests need {}: run `cargo xtask setup`",
        missing.join(", ")
    );
    assert!(!in_ci(), "{message}");
    eprintln!("skipping: {message}");
    false
}

fn cache_dir() -> PathBuf {
    let dir = repository_root().join("target").join("wine");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `Z:\…`: a Linux path as Windows programs under Wine see it.
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// Wine, quiet and headless, with its prefix under target/wine (made once: ~20 s).
fn wine() -> Command {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let prefix = cache_dir().join("prefix");
        if !prefix.join("system.reg").exists() {
            let start = Instant::now();
            let status = wine_in(&prefix)
                .args(["wineboot", "-i"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "wineboot -i failed: {status}");
            eprintln!("made the Wine prefix in {:.1?}", start.elapsed());
        }
        prefix
    });
    wine_in(prefix)
}

fn wine_in(prefix: &Path) -> Command {
    let mut command = Command::new(WINE64);
    command
        .env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        // No Mono or Gecko install prompts.
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    command
}

fn mingw(args: &[&str]) {
    let status = Command::new("x86_64-w64-mingw32-gcc")
        .args(args)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "x86_64-w64-mingw32-gcc {args:?}: {status}"
    );
}

/// The argv recorder and the ProcessPrng DLL, built from their C sources into target/wine.
fn fixtures() -> (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let sources = repository_root().join(FIXTURES);
            let dir = cache_dir();
            let argv = dir.join("argv.exe");
            let dll = dir.join("bcryptprimitives.dll");
            let src = |name: &str| sources.join(name).to_string_lossy().into_owned();
            mingw(&[
                "-municode",
                "-O2",
                "-o",
                argv.to_str().unwrap(),
                &src("argv.c"),
            ]);
            mingw(&[
                "-shared",
                "-O2",
                "-s",
                "-o",
                dll.to_str().unwrap(),
                &src("processprng.c"),
                "-ladvapi32",
            ]);
            (argv, dll)
        })
        .clone()
}

#[test]
fn every_cmd_rendering_reaches_a_windows_program_as_the_kit_runs_it() {
    if !prerequisites() {
        return;
    }
    let (argv_exe, _) = fixtures();
    let dir = tempfile::tempdir().unwrap();
    // cmd finds the programs in its current directory first.
    for program in ["aws", "skopeo", "docker", "case"] {
        std::fs::copy(&argv_exe, dir.path().join(format!("{program}.exe"))).unwrap();
    }
    let cases = cases(dir.path());
    // One batch file for all: `case N` marks where each case starts in the log.
    let mut batch = String::from("@echo off\r\n");
    for (n, case) in cases.iter().enumerate() {
        let text = case.printed.render(Shell::Cmd).unwrap();
        for command in case.printed.commands() {
            lambda_kit::command::write_files([command], Shell::Cmd).unwrap();
        }
        batch.push_str(&format!("case {n}\r\n{}\r\n", text.replace('\n', "\r\n")));
    }
    std::fs::write(dir.path().join("all.cmd"), &batch).unwrap();
    let log = dir.path().join("argv.log");
    let output = wine()
        .args(["cmd", "/c", "all.cmd"])
        .current_dir(dir.path())
        .env("ARGV_LOG", windows_path(&log))
        .env("LAMBDA_ROLE_ARN", ROLE)
        .env("ECR_REPOSITORY_URI", REPOSITORY)
        .env(
            "ECR_REPOSITORY_URI_HOST",
            REPOSITORY.split('/').next().unwrap(),
        )
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = parse(&std::fs::read_to_string(&log).unwrap());
    let mut by_case: Vec<Runs> = Vec::new();
    for run in runs {
        if run.0[0] == "case" {
            by_case.push(Vec::new());
        } else {
            by_case
                .last_mut()
                .expect("a run before the first case")
                .push(run);
        }
    }
    assert_eq!(by_case.len(), cases.len());
    for (case, mut runs) in cases.iter().zip(by_case) {
        let mut wanted = expected(&case.known, Shell::Cmd);
        // cmd's `set` lasts for the session: later runs see the dummy key of serve's command.
        for run in runs.iter_mut().chain(wanted.iter_mut()) {
            run.1.clear();
        }
        runs.sort();
        wanted.sort();
        let text = case.printed.render(Shell::Cmd).unwrap();
        assert_eq!(runs, wanted, "{}:\n{text}", case.name);
        // A value passed as file:// is in its file, unchanged.
        for command in case.printed.commands() {
            for (path, contents) in command.files(Shell::Cmd) {
                assert_eq!(std::fs::read_to_string(path).unwrap(), contents);
            }
        }
    }
}

/// xtask.exe, built for Windows in the workspace's target directory (incremental after the
/// first time), with the ProcessPrng DLL beside it.
fn xtask_exe() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let start = Instant::now();
            let root = repository_root();
            let status = Command::new(env!("CARGO"))
                .current_dir(&root)
                .args([
                    "build",
                    "--package",
                    "xtask",
                    "--bin",
                    "xtask",
                    "--target",
                    "x86_64-pc-windows-gnu",
                    "--locked",
                ])
                .status()
                .unwrap();
            assert!(
                status.success(),
                "building xtask for x86_64-pc-windows-gnu: {status}"
            );
            eprintln!("built xtask.exe in {:.1?}", start.elapsed());
            let exe_dir = root
                .join("target")
                .join("x86_64-pc-windows-gnu")
                .join("debug");
            let (_, dll) = fixtures();
            std::fs::copy(dll, exe_dir.join("bcryptprimitives.dll")).unwrap();
            exe_dir.join("xtask.exe")
        })
        .clone()
}

fn run_windows_xtask(args: &[&str], cwd: &Path) -> Output {
    wine()
        .arg(xtask_exe())
        .args(args)
        .current_dir(cwd)
        .env_remove("LAMBDA_ROLE_ARN")
        // Wine passes the Linux environment on: its SHELL would make the kit print for POSIX.
        .env_remove("SHELL")
        .env_remove("MSYSTEM")
        .output()
        .unwrap()
}

/// A small static Linux x86_64 executable, the "bootstrap built elsewhere".
fn linux_bootstrap(dir: &Path) -> PathBuf {
    let source = dir.join("main.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").unwrap();
    let binary = dir.join("bootstrap-linux");
    let status = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .unwrap();
    assert!(status.success(), "cc -static: {status}");
    binary
}

#[test]
fn the_windows_build_packages_like_linux_and_refuses_what_needs_linux() {
    if !prerequisites() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let help = run_windows_xtask(&["help"], dir.path());
    assert!(help.status.success(), "{}", text(&help));
    assert!(text(&help).contains("package"), "{}", text(&help));

    // The same binary packaged on Linux and on Windows: the same bytes.
    let binary = linux_bootstrap(dir.path());
    let linux_zip = dir.path().join("linux.zip");
    let linux = support::xtask(["package", "--json", "--binary"])
        .arg(&binary)
        .arg("--output")
        .arg(&linux_zip)
        .output();
    assert!(linux.status.success(), "{}", text(&linux));
    let windows = run_windows_xtask(
        &[
            "package",
            "--json",
            "--binary",
            &windows_path(&binary),
            "--output",
            &windows_path(&dir.path().join("windows.zip")),
        ],
        dir.path(),
    );
    assert!(windows.status.success(), "{}", text(&windows));
    let report: serde_json::Value = serde_json::from_slice(&windows.stdout).unwrap();
    let bytes = std::fs::read(dir.path().join("windows.zip")).unwrap();
    let linux_bytes = std::fs::read(&linux_zip).unwrap();
    let first_difference = bytes.iter().zip(&linux_bytes).position(|(a, b)| a != b);
    assert!(
        bytes.len() == linux_bytes.len() && first_difference.is_none(),
        "the zips differ: {} and {} bytes, first difference at {first_difference:?}",
        bytes.len(),
        linux_bytes.len()
    );
    assert_eq!(report["arch"], "x86_64");
    // Without MSYSTEM or a POSIX SHELL, the Windows build prints for PowerShell.
    assert_eq!(report["commands"]["shell"], "powershell", "{report}");
    let entries = lambda_zip::read_entries(&bytes).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, "bootstrap");
    assert_eq!(entries[0].unix_mode, Some(0o100755));
    // "Version made by": its high byte is the host, 3 = Unix (the mode is read only then).
    let central = bytes
        .windows(4)
        .position(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .expect("a central directory entry");
    assert_eq!(bytes[central + 5], 3, "made by host {}", bytes[central + 5]);

    // A refused input: not an ELF file.
    let not_elf = dir.path().join("notes.txt");
    std::fs::write(&not_elf, "not a program").unwrap();
    let refused = run_windows_xtask(
        &["package", "--binary", &windows_path(&not_elf)],
        dir.path(),
    );
    assert!(!refused.status.success());
    assert!(text(&refused).contains("notes.txt"), "{}", text(&refused));

    // invoke needs Linux: one sentence, before anything starts, no OS error.
    let invoke = run_windows_xtask(&["invoke", "--zip", &windows_path(&linux_zip)], dir.path());
    assert!(!invoke.status.success());
    let said = text(&invoke);
    for says in ["needs Linux", "WSL", "package, deploy and image work here"] {
        assert!(said.contains(says), "{says}: {said}");
    }
    assert!(!said.contains("os error"), "{said}");
}
