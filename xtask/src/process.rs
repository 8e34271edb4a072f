//! Running other programs plainly: each command is shown before it runs, and a failure says
//! what was being done.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The command line as a user would type it.
pub fn display(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words
        .iter()
        .map(|w| crate::aws_cli::shell_quote(w))
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
