//! Every POSIX rendering the tasks print, run by bash, dash and zsh: `aws`, `skopeo` and
//! `docker` are a small script first on PATH that records the arguments it receives, which
//! must be the very argv the kit runs ([`Cmd::argv`]).
// Runs POSIX shells, which Windows does not have.
#![cfg(unix)]

mod support;

use std::path::PathBuf;
use std::process::Command;

use lambda_kit::arch::Arch;
use lambda_kit::aws::cli::ZipCommands;
use lambda_kit::command::Shell;
use support::commands::*;
use xtask::tasks::image;

const SHELLS: [&str; 3] = ["bash", "dash", "zsh"];

/// The shells present; in CI a missing one is an error (`cargo xtask setup` installs them).
fn shells() -> Vec<&'static str> {
    SHELLS
        .into_iter()
        .filter(|shell| {
            let found = which::which(shell).is_ok();
            assert!(
                found || !in_ci(),
                "{shell} is missing: run `cargo xtask setup`"
            );
            if !found {
                eprintln!("skipping {shell}: not installed (`cargo xtask setup` installs it)");
            }
            found
        })
        .collect()
}

struct Sandbox {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for program in ["aws", "skopeo", "docker"] {
            let path = bin.join(program);
            std::fs::write(&path, PRINTER).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Sandbox { dir, bin }
    }

    /// Runs `text` as a script file of `shell`, with `env`; returns its status and the runs.
    fn run(&self, shell: &str, text: &str, env: &[(&str, &str)]) -> (std::process::Output, Runs) {
        let script = self.dir.path().join("script");
        std::fs::write(&script, format!("{text}\n")).unwrap();
        let log = self.dir.path().join("argv.log");
        let _ = std::fs::remove_file(&log);
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = Command::new(shell)
            .arg(&script)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", path)
            .env("ARGV_LOG", &log)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let runs = parse(&std::fs::read_to_string(&log).unwrap_or_default());
        (output, runs)
    }
}

#[test]
fn every_posix_rendering_reaches_the_programs_as_the_kit_runs_it() {
    let sandbox = Sandbox::new();
    let cwd = sandbox.dir.path().to_path_buf();
    let env = [
        ("LAMBDA_ROLE_ARN", ROLE),
        ("ECR_REPOSITORY_URI", REPOSITORY),
    ];
    let cases = cases(&cwd);
    assert!(cases.len() >= 40, "{}", cases.len());
    for shell in shells() {
        for case in &cases {
            let text = case.printed.render(Shell::Posix).unwrap();
            let (output, runs) = sandbox.run(shell, &text, &env);
            assert!(
                output.status.success(),
                "{shell}, {}: {}\n{text}",
                case.name,
                String::from_utf8_lossy(&output.stderr)
            );
            // The two sides of a pipe run at the same time, in either order.
            let (mut runs, mut wanted) = (runs, expected(&case.known, Shell::Posix));
            runs.sort();
            wanted.sort();
            assert_eq!(runs, wanted, "{shell}, {}:\n{text}", case.name);
        }
    }
}

#[test]
fn an_unset_variable_stops_the_shell_before_the_program_runs() {
    let sandbox = Sandbox::new();
    let cwd = sandbox.dir.path().to_path_buf();
    let zip = cwd.join("lambda-x86_64.zip");
    let create = ZipCommands::for_path(&zip, Arch::X86_64, &settings(None), &cwd)
        .create_function
        .render(Shell::Posix)
        .unwrap();
    let push = image::ImageCommands::new(
        &image_archive(&cwd),
        &image::ImageTarget::Variable {
            tag: "x86_64".into(),
        },
        &settings(Some(ROLE)),
        &cwd,
    )
    .create_function
    .render(Shell::Posix)
    .unwrap();
    for shell in shells() {
        for (text, variable) in [(&create, "LAMBDA_ROLE_ARN"), (&push, "ECR_REPOSITORY_URI")] {
            let (output, runs) = sandbox.run(shell, text, &[]);
            assert!(!output.status.success(), "{shell}: {text}");
            assert!(runs.is_empty(), "{shell} ran {runs:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains(&format!("{variable}: set {variable} to ")),
                "{shell}: {stderr}"
            );
        }
    }
}
