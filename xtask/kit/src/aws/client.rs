//! Running the user's `aws` CLI: finding it, asking its version, reading its errors and
//! retrying the ones worth retrying. What the CLI prints on failure is classified by a pure
//! function, [`classify`], so that every message it knows is covered by a unit test.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::aws::cli::{AwsCommand, CliMajor};
use crate::aws::{self, Error, Result};
use crate::command;
use crate::tools;

/// How to get the AWS CLI, for the error when it is missing.
pub const INSTALL_HINT: &str = "install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html) \
     and configure it (`aws configure`, or `aws configure sso`)";

/// The `aws` program on PATH: the user's, with the user's profile, region and credentials.
pub fn program() -> Result<PathBuf> {
    Ok(tools::program("aws", INSTALL_HINT)?)
}

/// The major version of the installed `aws`, if one is installed and says.
pub fn installed_version() -> Option<CliMajor> {
    let aws = which::which("aws").ok()?;
    // Bounded: a wrapper that hangs must not stall packaging, which prints the invoke command.
    let output =
        command::small_output_within(Command::new(aws).arg("--version"), Duration::from_secs(20))?;
    // v1 printed its version on stderr in older releases, on stdout in newer ones.
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    aws::cli::parse_cli_version(&text)
}

/// What kind of failure the CLI reported, as far as deploying cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// ResourceNotFoundException: for get-function, the function does not exist.
    NotFound,
    /// The CLI found no credentials at all; nothing was sent.
    NoCredentials,
    /// AWS refused the credentials: unknown, wrong or expired keys or session.
    InvalidCredentials,
    /// The credentials are good but lack a permission.
    AccessDenied,
    /// TooManyRequestsException, ThrottlingException, …
    Throttled,
    /// ResourceConflictException while the function is being created or updated.
    UpdateInProgress,
    /// ResourceConflictException on create-function: the function exists.
    AlreadyExists,
    /// The connection dropped or timed out mid-request.
    ConnectionLost,
    /// The endpoint could not be reached at all (the CLI already retried connecting).
    Unreachable,
    /// AWS no longer accepts the function's runtime for creating or updating functions (an
    /// InvalidParameterValueException about the runtime, as for provided.al2 once it is blocked).
    RuntimeUnsupported,
    /// AWS refused a parameter (InvalidParameterValueException, ValidationException, …).
    InvalidParameter,
    /// A failure inside AWS (ServiceException, 5xx).
    ServiceError,
    Other,
}

impl ErrorKind {
    /// Whether trying the same request again later may succeed.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled
                | ErrorKind::UpdateInProgress
                | ErrorKind::ConnectionLost
                | ErrorKind::ServiceError
        )
    }

    /// What to do about it.
    pub fn hint(self) -> &'static str {
        match self {
            ErrorKind::NotFound => {
                "the function does not exist in this account and region; check the region \
                 (--region, AWS_REGION, the profile's region) and the account (`aws sts get-caller-identity`)"
            }
            ErrorKind::NoCredentials => {
                "the aws CLI found no credentials: run `aws configure` (access keys) or \
                 `aws configure sso` then `aws sso login`, or set AWS_PROFILE to a configured profile"
            }
            ErrorKind::InvalidCredentials => {
                "AWS refused the credentials (unknown, wrong or expired): refresh them \
                 (`aws sso login`, `aws configure`) and check with `aws sts get-caller-identity`"
            }
            ErrorKind::AccessDenied => {
                "the identity the CLI uses (`aws sts get-caller-identity`) lacks a permission: \
                 deploying needs lambda:GetFunction, lambda:CreateFunction, lambda:UpdateFunctionCode \
                 and iam:PassRole on the execution role"
            }
            ErrorKind::Throttled => "AWS throttled the requests; wait a little and deploy again",
            ErrorKind::UpdateInProgress => {
                "the function is being created or updated (state Pending, or an update in \
                 progress); wait for `aws lambda wait function-updated-v2 --function-name NAME`, \
                 then deploy again"
            }
            ErrorKind::AlreadyExists => {
                "the function was created meanwhile (by someone else?); deploy again to update its code"
            }
            ErrorKind::ConnectionLost => {
                "the connection to AWS dropped; check the network and deploy again"
            }
            ErrorKind::Unreachable => {
                "the endpoint did not answer: check --endpoint-url, --region and the network \
                 (a proxy needs HTTPS_PROXY)"
            }
            ErrorKind::RuntimeUnsupported => {
                "AWS no longer accepts this runtime, so deploy again with --runtime \
                 provided.al2023: the same zip runs there unchanged (a static musl bootstrap \
                 needs nothing from the OS, and glibc 2.34 runs what was built for 2.26)"
            }
            ErrorKind::InvalidParameter => "AWS refused a parameter; the message above names it",
            ErrorKind::ServiceError => "an error inside AWS; try again in a few minutes",
            ErrorKind::Other => "see the aws CLI's message above",
        }
    }
}

/// A failed `aws` command: its kind, the error code AWS sent (if any) and the CLI's own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\nhint: {}", self.message, self.kind.hint())
    }
}

impl std::error::Error for CliError {}

/// The error code in "An error occurred (CODE) when calling the OPERATION operation: …".
pub fn error_code(stderr: &str) -> Option<&str> {
    let start = stderr.find("An error occurred (")? + "An error occurred (".len();
    let len = stderr[start..].find(')')?;
    let code = &stderr[start..start + len];
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'))
        .then_some(code)
}

/// Classifies what the aws CLI (v1 or v2) printed on stderr when it exited non-zero.
pub fn classify(stderr: &str) -> CliError {
    let message = stderr.trim().to_string();
    let code = error_code(stderr).map(str::to_string);
    let lower = stderr.to_ascii_lowercase();
    let kind = match code.as_deref() {
        Some("ResourceNotFoundException") => ErrorKind::NotFound,
        Some(
            "TooManyRequestsException"
            | "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "SlowDown"
            | "EC2ThrottledException",
        ) => ErrorKind::Throttled,
        Some("ResourceConflictException") if lower.contains("already exist") => {
            ErrorKind::AlreadyExists
        }
        Some("ResourceConflictException" | "ResourceInUseException") => ErrorKind::UpdateInProgress,
        Some(
            "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "AuthFailure"
            | "IncompleteSignature",
        ) => ErrorKind::InvalidCredentials,
        Some("AccessDeniedException" | "AccessDenied") => ErrorKind::AccessDenied,
        Some("InvalidParameterValueException") if refuses_runtime(&lower) => {
            ErrorKind::RuntimeUnsupported
        }
        Some(
            "InvalidParameterValueException"
            | "ValidationException"
            | "InvalidRequestContentException"
            | "RequestTooLargeException"
            | "CodeStorageExceededException",
        ) => ErrorKind::InvalidParameter,
        Some(
            "ServiceException"
            | "InternalFailure"
            | "InternalError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "EC2UnexpectedException",
        ) => ErrorKind::ServiceError,
        Some(_) => ErrorKind::Other,
        None if lower.contains("unable to locate credentials")
            || lower.contains("partial credentials found")
            || lower.contains("token has expired and refresh failed")
            || lower.contains("the sso session associated with this profile has expired") =>
        {
            if lower.contains("expired") {
                ErrorKind::InvalidCredentials
            } else {
                ErrorKind::NoCredentials
            }
        }
        None if lower.contains("could not connect to the endpoint url") => ErrorKind::Unreachable,
        None if lower.contains("connection reset")
            || lower.contains("connection was closed before we received a valid response")
            || lower.contains("connection aborted")
            || lower.contains("read timeout on endpoint url")
            || lower.contains("connect timeout on endpoint url") =>
        {
            ErrorKind::ConnectionLost
        }
        None if lower.contains("parameter validation failed") => ErrorKind::InvalidParameter,
        None => ErrorKind::Other,
    };
    CliError {
        kind,
        code,
        message,
    }
}

/// Whether an InvalidParameterValueException's text is about the runtime being blocked, as in
/// "The runtime parameter of provided.al2 is no longer supported for creating or updating AWS
/// Lambda functions." (Lambda's wording for a deprecated runtime past its block dates).
fn refuses_runtime(lower: &str) -> bool {
    lower.contains("runtime")
        && (lower.contains("no longer supported") || lower.contains("is not supported"))
}

/// How often and how patiently a retryable failure is tried again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Five attempts, 2 s then doubling up to 16 s between them: 30 s of patience in all, on
    /// top of the CLI's own retries.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        attempts: 5,
        first_delay: Duration::from_secs(2),
        max_delay: Duration::from_secs(16),
    };

    /// The pause before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Runs `attempt` until it succeeds, fails for good, or `policy.attempts` are used up;
/// `pause(error, retry, delay)` is called before each retry (it sleeps and says why). Only
/// the CLI's retryable failures ([`ErrorKind::retryable`]) are retried, never a failure to run
/// the CLI at all.
pub fn with_retries<T>(
    policy: &RetryPolicy,
    mut attempt: impl FnMut() -> Result<T>,
    mut pause: impl FnMut(&CliError, u32, Duration),
) -> Result<T> {
    let mut retry = 0;
    loop {
        match attempt() {
            Err(Error::Cli(error)) if error.kind.retryable() && retry + 1 < policy.attempts => {
                retry += 1;
                pause(&error, retry, policy.delay(retry));
            }
            outcome => return outcome,
        }
    }
}

/// Runs one `aws` command: shows it, captures its output, and returns its stdout read as JSON
/// (`null` when empty) or the classified failure ([`Error::Cli`]).
pub fn call_once(aws: &std::path::Path, command: &AwsCommand) -> Result<serde_json::Value> {
    let argv = command.argv()?;
    eprintln!("$ {}", command.render_line(crate::command::Shell::Posix)?);
    let doing = format!("running {}", command.summary());
    let output = command::output(
        // AWS CLI v2 pipes long output through a pager unless told not to; v1 ignores this.
        Command::new(aws).args(&argv).env("AWS_PAGER", ""),
        &doing,
    )?;
    if !output.status.success() {
        return Err(classify(&String::from_utf8_lossy(&output.stderr)).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(&stdout).map_err(|source| Error::Output {
        doing,
        stdout: stdout.into_owned(),
        source,
    })
}

/// [`call_once`] with retries of retryable failures, as [`RetryPolicy::DEFAULT`] allows.
pub fn call(aws: &std::path::Path, command: &AwsCommand) -> Result<serde_json::Value> {
    with_retries(
        &RetryPolicy::DEFAULT,
        || call_once(aws, command),
        say_and_pause,
    )
}

/// [`call`] for create-function, which is not idempotent: when an attempt whose answer was lost
/// (a dropped connection) is retried, AWS answers that the function already exists, because the
/// first attempt created it. After a retry that answer is taken as success; the CodeSha256
/// check that follows a deploy tells whether the function holds this zip.
pub fn call_create(aws: &std::path::Path, command: &AwsCommand) -> Result<serde_json::Value> {
    let mut retried = false;
    let outcome = with_retries(
        &RetryPolicy::DEFAULT,
        || call_once(aws, command),
        |error, retry, delay| {
            retried = true;
            say_and_pause(error, retry, delay);
        },
    );
    match outcome {
        Err(Error::Cli(error)) if retried && error.kind == ErrorKind::AlreadyExists => {
            eprintln!(
                "{} (after a retry: the first attempt created it)",
                error.message
            );
            Ok(serde_json::Value::Null)
        }
        outcome => outcome,
    }
}

fn say_and_pause(error: &CliError, retry: u32, delay: Duration) {
    eprintln!(
        "{} (retrying in {} s, retry {retry} of {})",
        error.message,
        delay.as_secs(),
        RetryPolicy::DEFAULT.attempts - 1
    );
    std::thread::sleep(delay);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages as AWS CLI v1 and v2 print them.
    const CASES: &[(&str, ErrorKind, bool)] = &[
        (
            "\nAn error occurred (ResourceNotFoundException) when calling the GetFunction operation: \
             Function not found: arn:aws:lambda:us-east-1:123456789012:function:pi\n",
            ErrorKind::NotFound,
            false,
        ),
        (
            "Unable to locate credentials. You can configure credentials by running \"aws configure\".\n",
            ErrorKind::NoCredentials,
            false,
        ),
        (
            "\nAn error occurred (UnrecognizedClientException) when calling the GetFunction operation: \
             The security token included in the request is invalid.\n",
            ErrorKind::InvalidCredentials,
            false,
        ),
        (
            "\nAn error occurred (ExpiredTokenException) when calling the GetFunction operation: \
             The security token included in the request is expired\n",
            ErrorKind::InvalidCredentials,
            false,
        ),
        (
            "Error when retrieving token from sso: Token has expired and refresh failed\n",
            ErrorKind::InvalidCredentials,
            false,
        ),
        (
            "\nAn error occurred (AccessDeniedException) when calling the CreateFunction operation: \
             User: arn:aws:iam::123456789012:user/dev is not authorized to perform: iam:PassRole\n",
            ErrorKind::AccessDenied,
            false,
        ),
        (
            "\nAn error occurred (TooManyRequestsException) when calling the UpdateFunctionCode \
             operation (reached max retries: 4): Rate exceeded\n",
            ErrorKind::Throttled,
            true,
        ),
        (
            "\nAn error occurred (ThrottlingException) when calling the GetFunction operation: Rate exceeded\n",
            ErrorKind::Throttled,
            true,
        ),
        (
            "\nAn error occurred (ResourceConflictException) when calling the UpdateFunctionCode \
             operation: The operation cannot be performed at this time. An update is in progress \
             for resource: arn:aws:lambda:us-east-1:123456789012:function:pi\n",
            ErrorKind::UpdateInProgress,
            true,
        ),
        (
            "\nAn error occurred (ResourceConflictException) when calling the UpdateFunctionCode \
             operation: The operation cannot be performed at this time. The function is currently \
             in the following state: Pending\n",
            ErrorKind::UpdateInProgress,
            true,
        ),
        (
            "\nAn error occurred (ResourceConflictException) when calling the CreateFunction \
             operation: Function already exist: pi\n",
            ErrorKind::AlreadyExists,
            false,
        ),
        (
            "\nConnection was closed before we received a valid response from endpoint URL: \
             \"https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/pi\".\n",
            ErrorKind::ConnectionLost,
            true,
        ),
        (
            "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))\n",
            ErrorKind::ConnectionLost,
            true,
        ),
        (
            "\nCould not connect to the endpoint URL: \"http://127.0.0.1:1/2015-03-31/functions/pi\"\n",
            ErrorKind::Unreachable,
            false,
        ),
        (
            "\nAn error occurred (InvalidParameterValueException) when calling the CreateFunction \
             operation: The role defined for the function cannot be assumed by Lambda.\n",
            ErrorKind::InvalidParameter,
            false,
        ),
        (
            "\nAn error occurred (ServiceException) when calling the UpdateFunctionCode operation \
             (reached max retries: 4): An internal error occurred\n",
            ErrorKind::ServiceError,
            true,
        ),
        ("\nParameter validation failed:\nInvalid length for parameter FunctionName, value: 0\n", ErrorKind::InvalidParameter, false),
        (
            "\nAn error occurred (InvalidParameterValueException) when calling the CreateFunction \
             operation: The runtime parameter of provided.al2 is no longer supported for creating \
             or updating AWS Lambda functions. We recommend you use the new runtime \
             (provided.al2023) while creating or updating functions.\n",
            ErrorKind::RuntimeUnsupported,
            false,
        ),
        (
            "\nAn error occurred (InvalidParameterValueException) when calling the \
             UpdateFunctionConfiguration operation: The runtime parameter of provided.al2 is no \
             longer supported for creating or updating AWS Lambda functions.\n",
            ErrorKind::RuntimeUnsupported,
            false,
        ),
        ("something nobody has seen before", ErrorKind::Other, false),
        ("", ErrorKind::Other, false),
    ];

    #[test]
    fn classifies_what_the_cli_prints() {
        for (stderr, kind, retryable) in CASES {
            let error = classify(stderr);
            assert_eq!(error.kind, *kind, "{stderr}");
            assert_eq!(error.kind.retryable(), *retryable, "{stderr}");
            assert_eq!(error.message, stderr.trim());
            // Shown with the CLI's own message first, then what to do.
            let shown = error.to_string();
            assert!(
                shown.starts_with(stderr.trim()) && shown.contains("\nhint: "),
                "{shown}"
            );
        }
    }

    #[test]
    fn error_codes() {
        assert_eq!(
            error_code("An error occurred (TooManyRequestsException) when calling"),
            Some("TooManyRequestsException")
        );
        assert_eq!(error_code("An error occurred () when"), None);
        assert_eq!(error_code("An error occurred (unterminated"), None);
        assert_eq!(error_code("An error occurred (has space) when"), None);
        assert_eq!(error_code("no code"), None);
    }

    #[test]
    fn back_off_doubles_up_to_a_cap() {
        let policy = RetryPolicy::DEFAULT;
        let delays: Vec<u64> = (1..=6).map(|r| policy.delay(r).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 16, 16]);
        assert_eq!(policy.delay(200), policy.max_delay);
    }

    fn failure(kind_text: &str) -> CliError {
        classify(kind_text)
    }

    #[test]
    fn retries_retryable_failures_a_bounded_number_of_times() {
        let policy = RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        };
        let throttled =
            "An error occurred (TooManyRequestsException) when calling X: Rate exceeded";

        // Throttled twice, then through.
        let mut calls = 0;
        let mut pauses = Vec::new();
        let outcome = with_retries(
            &policy,
            || {
                calls += 1;
                if calls < 3 {
                    Err(failure(throttled).into())
                } else {
                    Ok(calls)
                }
            },
            |_, retry, delay| pauses.push((retry, delay)),
        )
        .unwrap();
        assert_eq!(outcome, 3);
        assert_eq!(
            pauses,
            [(1, Duration::from_millis(1)), (2, Duration::from_millis(2))]
        );

        // Always throttled: gives up after the last attempt with the last error.
        let mut calls = 0;
        let outcome: Result<()> = with_retries(
            &policy,
            || {
                calls += 1;
                Err(failure(throttled).into())
            },
            |_, _, _| {},
        );
        assert_eq!(calls, 3);
        assert_eq!(
            outcome.unwrap_err().cli().unwrap().kind,
            ErrorKind::Throttled
        );

        // Not retryable: one attempt only.
        let mut calls = 0;
        let outcome: Result<()> = with_retries(
            &policy,
            || {
                calls += 1;
                Err(failure("An error occurred (AccessDeniedException) when calling X: no").into())
            },
            |_, _, _| panic!("no retry expected"),
        );
        assert_eq!(calls, 1);
        assert_eq!(
            outcome.unwrap_err().cli().unwrap().kind,
            ErrorKind::AccessDenied
        );

        // A failure to run at all is not retried either.
        let mut calls = 0;
        let outcome: Result<()> = with_retries(
            &policy,
            || {
                calls += 1;
                Err(tools::program("no-such-aws-here", "install it")
                    .unwrap_err()
                    .into())
            },
            |_, _, _| {},
        );
        assert!(matches!(outcome, Err(Error::NotInstalled(_))));
        assert_eq!(calls, 1);
    }
}
