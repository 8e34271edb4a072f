//! One way to run `cargo xtask` in a test: the xtask binary cargo built for the tests, from the
//! repository root unless the test names another folder, in an environment cut off from the
//! caller's AWS and Lambda settings ([`isolate`]), its output echoed so that a failing test
//! shows it (the test harness prints a test's output only when it fails).

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The variables of the caller that would change what the kit does or where the AWS CLI sends
/// requests, besides every `AWS_*` one: the execution role the printed commands read, the
/// image repository and the bucket of the printed commands.
pub const SCRUBBED: [&str; 3] = [
    "LAMBDA_ROLE_ARN",
    "ECR_REPOSITORY_URI",
    "LAMBDA_ARTIFACTS_BUCKET",
];

/// Removes the caller's AWS and Lambda settings from `command`: every `AWS_*` variable
/// (profiles, regions, credentials, endpoints), [`SCRUBBED`], and the user's AWS configuration
/// files (pointed at files that do not exist), so that what a test sees does not depend on the
/// machine. A test that wants a setting sets it after this.
pub fn isolate(command: &mut Command) -> &mut Command {
    for (variable, _) in std::env::vars_os() {
        if variable.to_string_lossy().starts_with("AWS_") {
            command.env_remove(variable);
        }
    }
    for variable in SCRUBBED {
        command.env_remove(variable);
    }
    let nowhere = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-aws-config");
    command
        .env("AWS_CONFIG_FILE", &nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_BACKTRACE", "0")
}

/// `cargo xtask <args>`, ready to run: see [`Xtask`].
pub fn xtask<I, S>(args: I) -> Xtask
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(args)
        .current_dir(xtask::repository::repository_root())
        .stdin(Stdio::null());
    isolate(&mut command);
    Xtask { command }
}

/// The xtask binary with its arguments, run from the repository root in an isolated
/// environment; the builder methods change that, the run methods echo what it printed.
pub struct Xtask {
    command: Command,
}

impl Xtask {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Runs it from `dir` instead of the repository root.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Changes the command with `f` (a set of variables a test needs, such as cross's).
    pub fn with(mut self, f: impl FnOnce(&mut Command) -> &mut Command) -> Self {
        f(&mut self.command);
        self
    }

    /// The command itself, for what the methods above do not cover.
    pub fn command(&mut self) -> &mut Command {
        &mut self.command
    }

    /// Runs it to the end and returns what it printed, echoed to the test's output.
    pub fn output(mut self) -> Output {
        let output = self
            .command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("running {:?}: {e}", self.command));
        eprintln!(
            "--- {} exited {}\nstdout:\n{}\nstderr:\n{}",
            self.shown(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// [`Xtask::output`], which must be a success.
    pub fn success(self) -> Output {
        let shown = self.shown();
        let output = self.output();
        assert!(
            output.status.success(),
            "{shown} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// [`Xtask::output`], which must be a failure; its stderr.
    pub fn failure(self) -> String {
        let shown = self.shown();
        let output = self.output();
        assert!(!output.status.success(), "{shown} succeeded");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// [`Xtask::success`], its stdout read as JSON (`--json`).
    pub fn json(self) -> serde_json::Value {
        let output = self.success();
        serde_json::from_slice(&output.stdout).expect("--json prints JSON")
    }

    /// Starts it with stdout and stderr piped, for a test that talks to it while it runs
    /// (`serve`).
    pub fn spawn(mut self) -> Child {
        self.command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {:?}: {e}", self.command))
    }

    /// `xtask <args>` as the echo shows it.
    fn shown(&self) -> String {
        let args: Vec<_> = self
            .command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        format!("xtask {}", args.join(" "))
    }
}
