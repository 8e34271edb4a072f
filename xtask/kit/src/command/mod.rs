//! External commands: [`Cmd`] describes one (program and words) for printing in the user's
//! [`Shell`] and for running; the functions here run them plainly: each command is shown
//! before it runs, and a failure says what was being done.

mod cmd;
pub mod shell;

pub use cmd::{write_files, Cmd, EnvRef, Script, Step, Word};
pub use shell::{Shell, ShellArgs};

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The cargo running this kit (`$CARGO` under `cargo xtask`), or `cargo` from PATH.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// The command line as a user would type it.
pub fn display(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words
        .iter()
        .map(|w| {
            Shell::Posix
                .quote(w)
                .unwrap_or_else(|_| w.replace('\0', ""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs a command with inherited stdio, after showing it on stderr; fails on a non-zero exit.
pub fn run(command: &mut Command, doing: &str) -> Result<()> {
    eprintln!("$ {}", display(command));
    let status = command
        .status()
        .with_context(|| format!("{doing}: could not start `{}`", display(command)))?;
    if !status.success() {
        bail!("{doing}: `{}` failed ({status})", display(command));
    }
    Ok(())
}

/// Runs a command and captures its output; fails only when it cannot start.
pub fn output(command: &mut Command, doing: &str) -> Result<Output> {
    command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{doing}: could not start `{}`", display(command)))
}

/// Runs a command with small output (a version line) and captures it, if it exits within
/// `limit`; `None` when it cannot start or does not finish in time (it is then killed).
pub fn small_output_within(command: &mut Command, limit: Duration) -> Option<Output> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            // Small output fits in the pipes' buffers, so it is all there once the process has
            // exited.
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Whether a command exits 0 within `limit`, with its output discarded. Used to ask whether a
/// tool or a daemon answers without ever hanging on one that does not.
pub fn succeeds_within(command: &mut Command, limit: Duration) -> bool {
    let Ok(mut child) = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_commands_as_typed() {
        let mut command = Command::new("cargo");
        command.args(["build", "--target", "x86_64-unknown-linux-musl", "a b"]);
        assert_eq!(
            display(&command),
            "cargo build --target x86_64-unknown-linux-musl 'a b'"
        );
    }

    #[test]
    fn small_outputs_within_a_limit() {
        let output = small_output_within(
            Command::new("echo").arg("aws-cli/1.2.3"),
            Duration::from_secs(5),
        );
        assert_eq!(output.unwrap().stdout, b"aws-cli/1.2.3\n");
        assert!(
            small_output_within(Command::new("sleep").arg("10"), Duration::from_millis(200))
                .is_none()
        );
        assert!(small_output_within(
            &mut Command::new("no-such-program-here"),
            Duration::from_secs(5)
        )
        .is_none());
    }

    #[test]
    fn bounded_waits() {
        assert!(succeeds_within(
            &mut Command::new("true"),
            Duration::from_secs(5)
        ));
        assert!(!succeeds_within(
            &mut Command::new("false"),
            Duration::from_secs(5)
        ));
        assert!(!succeeds_within(
            &mut Command::new("no-such-program-here"),
            Duration::from_secs(5)
        ));
        let start = Instant::now();
        assert!(!succeeds_within(
            Command::new("sleep").arg("10"),
            Duration::from_millis(200)
        ));
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
