//! External commands: [`Cmd`] describes one (program and words) for printing in the user's
//! [`Shell`] and for running; the functions here run them plainly: each command is shown
//! before it runs, and a failure says what was being done.

mod cmd;
pub mod shell;

pub use cmd::{write_files, Cmd, EnvRef, Script, Step, Word};
pub use shell::{QuoteError, Shell, ShellArgs};

use std::path::PathBuf;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// What can go wrong with an external command: starting or running it, or writing it for a
/// shell.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The program could not be started (missing, not executable).
    #[error("{doing}: could not start `{command}`")]
    NotStarted {
        doing: String,
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The program ran and exited with a failure.
    #[error("{doing}: `{command}` failed ({status})")]
    Failed {
        doing: String,
        command: String,
        status: ExitStatus,
    },
    /// The command reads a variable the shell fills in, so the kit cannot run it itself.
    #[error(
        "`{command}` reads ${variable} ({what}), which the shell fills in; pass the value itself \
         (for create-function: --role arn:aws:iam::ACCOUNT:role/NAME)"
    )]
    ReadsVariable {
        command: String,
        variable: String,
        what: String,
    },
    /// A value cannot be written for the shell so that the program receives it unchanged.
    #[error(
        "cannot write `{command}` for {shell}: {problem}; print it for another shell with --shell"
    )]
    Unwritable {
        command: String,
        shell: &'static str,
        problem: QuoteError,
    },
    /// A file that a printed command reads could not be written.
    #[error("writing {} for `{command}`: {problem}", path.display())]
    File {
        path: PathBuf,
        command: String,
        problem: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    let status = command.status().map_err(|source| Error::NotStarted {
        doing: doing.to_string(),
        command: display(command),
        source,
    })?;
    if !status.success() {
        return Err(Error::Failed {
            doing: doing.to_string(),
            command: display(command),
            status,
        });
    }
    Ok(())
}

/// Starts a command after showing it on stderr, with its stderr piped for the caller to echo
/// and read (a builder that names what failed from what the tool printed).
pub fn spawn_reading_stderr(command: &mut Command, doing: &str) -> Result<std::process::Child> {
    eprintln!("$ {}", display(command));
    command
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::NotStarted {
            doing: doing.to_string(),
            command: display(command),
            source,
        })
}

/// Runs a command and captures its output; fails only when it cannot start.
pub fn output(command: &mut Command, doing: &str) -> Result<Output> {
    command
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::NotStarted {
            doing: doing.to_string(),
            command: display(command),
            source,
        })
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
