//! One Lambda execution environment: the function's `bootstrap` in a process of its own, fed
//! events through its own [`RuntimeApi`](super::runtime_api::RuntimeApi), one invocation at a
//! time, and restarted (cold) after it dies or is killed. By concern:
//!
//! - [`code`]: preparing the code (zip extraction, architecture), shared by many sandboxes;
//! - [`launcher`]: choosing how the bootstrap starts on this host (natively or under qemu);
//! - [`process`]: supervising the process (Runtime API messages, exit, deadline, memory);
//! - [`logs`]: collecting its output (and its extensions') as CloudWatch lines, bounded;
//! - `opt`: its layers unpacked into its own `/opt`, and how its processes see it;
//! - this module: the environment's lifecycle (extensions first, then the runtime; Lambda's
//!   shutdown), the invocation itself and what Lambda reports about it.

pub mod code;
mod launcher;
pub mod logs;
mod opt;
mod process;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::Result;
use crate::error::{bail, Context};
use axum::body::Bytes;

use self::logs::LogSink;
use self::opt::{ExternalExtension, Opt};
use self::process::{Ended, ExtensionProcess, FunctionProcess, Launch};
use super::environment::{self, EnvironmentSpec};
use super::extensions::{
    ExtensionEvent, ExtensionFailure, Extensions, FunctionInfo, ShutdownReason, RUNTIME_SHUTDOWN,
    RUNTIME_SHUTDOWN_WITH_INTERNAL, SHUTDOWN_BUDGET,
};
use super::lifecycle::Observers;
use super::lifecycle::{LifecycleObserver, PlatformEvent};
use super::report::{self, Metrics, ReportStatus, BYTES_PER_MB, LATEST};
use super::runtime_api::{
    DeadlineHeader, Event, PostedError, RuntimeApi, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES,
};
use super::streaming::{
    self, ResponseHead, ResponsePart, ResponseSender, ResponseStream, StreamFrame,
    MAX_STREAMED_BYTES,
};
use super::telemetry::{self, Telemetry};
use crate::arch::Arch;
pub use code::{FunctionCode, PreparedCode};

/// Lambda's bound on the init phase: 10 seconds.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The account in the ARNs the emulator makes up (AWS's documentation example).
const ACCOUNT_ID: &str = "123456789012";

/// The function's configuration, as `create-function` would give it.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    pub function_name: String,
    pub memory_size_mb: u32,
    pub timeout: Duration,
    /// Bound on the init phase (process start to the first `next`): [`INIT_TIMEOUT`].
    pub init_timeout: Duration,
    pub region: String,
    /// The function's environment variables (`--env`), checked with
    /// [`environment::parse_env_var`].
    pub environment: Vec<(String, String)>,
    /// What the `Lambda-Runtime-Deadline-Ms` header carries: Lambda's absolute deadline, or an
    /// odd value other hosts send, to test the runtime against it. The timeout is enforced
    /// either way.
    pub deadline_header: DeadlineHeader,
    /// Layer zips, unpacked in this order into the sandbox's `/opt` (a later layer's file
    /// replaces an earlier one's); the executables of `/opt/extensions` start before the
    /// function ([`super::extensions`]).
    pub layers: Vec<PathBuf>,
    /// Told of the lifecycle and of every log line ([`super::lifecycle`]).
    pub observers: Observers,
}

impl Default for FunctionConfig {
    fn default() -> Self {
        FunctionConfig {
            function_name: "calculate-pi".to_string(),
            memory_size_mb: 128,
            timeout: Duration::from_secs(3),
            init_timeout: INIT_TIMEOUT,
            region: "us-east-1".to_string(),
            environment: Vec::new(),
            deadline_header: DeadlineHeader::default(),
            layers: Vec::new(),
            observers: Observers::default(),
        }
    }
}

impl FunctionConfig {
    pub fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{ACCOUNT_ID}:function:{}",
            self.region, self.function_name
        )
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function responded.
    Success,
    /// The function reported an error (`/error`): its body goes back as it was posted.
    FunctionError {
        error_type: String,
        error_message: String,
    },
    /// The function's initialisation reported an error (`/init/error`).
    InitError {
        error_type: String,
        error_message: String,
    },
    /// The process ended (`exit` describes how, as Lambda words it): `Runtime.ExitError`.
    RuntimeExit { exit: String },
    /// Resident memory went over the memory size; the process was killed:
    /// `Runtime.OutOfMemory`.
    OutOfMemory,
    /// The invocation ran past the timeout and the process was killed.
    Timeout,
    /// The init phase ran past its bound and the process was killed.
    InitTimeout,
    /// The response was over 6 MB: `Function.ResponseSizeTooLarge`.
    ResponseTooLarge,
    /// The function streamed more than the invoker takes: 6 MB for a buffered invoke, 200 MB
    /// for a streamed one (`Function.ResponseSizeTooLarge`, with a message that names
    /// streaming when it was a buffered invoke).
    StreamedResponseTooLarge { limit_bytes: usize },
    /// An extension failed: it exited outside a shutdown (`Extension.Crash`), or posted
    /// `init/error` or `exit/error` (its error type). `detail` is what Lambda says after
    /// `RequestId: … Error: ` ("exit code 3").
    ExtensionError { error_type: String, detail: String },
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }

    /// The `errorType` the invoker sees; `None` on success.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Outcome::Success => None,
            Outcome::FunctionError { error_type, .. } | Outcome::InitError { error_type, .. } => {
                Some(error_type)
            }
            Outcome::RuntimeExit { .. } => Some("Runtime.ExitError"),
            Outcome::ExtensionError { error_type, .. } => Some(error_type),
            Outcome::OutOfMemory => Some("Runtime.OutOfMemory"),
            Outcome::Timeout | Outcome::InitTimeout => Some("Sandbox.Timedout"),
            Outcome::ResponseTooLarge | Outcome::StreamedResponseTooLarge { .. } => {
                Some("Function.ResponseSizeTooLarge")
            }
        }
    }

    /// The `errorMessage` of the error the invoker gets, read from the `response` it was given
    /// with; `None` on success.
    pub fn error_message<'a>(&'a self, response: &'a [u8]) -> Option<String> {
        match self {
            Outcome::Success => None,
            Outcome::FunctionError { error_message, .. }
            | Outcome::InitError { error_message, .. } => Some(error_message.clone()),
            _ => Some(
                serde_json::from_slice::<serde_json::Value>(response)
                    .ok()
                    .and_then(|v| v["errorMessage"].as_str().map(str::to_string))
                    .unwrap_or_default(),
            ),
        }
    }

    /// Whether the process is gone afterwards (the next invocation is cold).
    pub fn ends_process(&self) -> bool {
        !matches!(
            self,
            Outcome::Success
                | Outcome::FunctionError { .. }
                | Outcome::ResponseTooLarge
                | Outcome::StreamedResponseTooLarge { .. }
        )
    }

    fn report_status(&self) -> ReportStatus {
        match self {
            Outcome::Success | Outcome::FunctionError { .. } => ReportStatus::Completed,
            Outcome::Timeout | Outcome::InitTimeout => ReportStatus::Timeout,
            other => ReportStatus::Error(other.error_type().unwrap_or_default().to_string()),
        }
    }
}

/// One invocation and everything Lambda would say about it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// What the invoker receives: the response, or the error as JSON.
    pub response: Bytes,
    pub metrics: Metrics,
    /// The function's own lines (stdout and stderr) from its init phase, on a cold start.
    pub init_log: Vec<String>,
    /// The function's own lines during the invocation.
    pub function_log: Vec<String>,
    /// Lines Lambda itself adds for a fault ("… Task timed out after 3.00 seconds").
    pub platform_log: Vec<String>,
    /// Lines written while the environment shut down after this invocation (a fault ended
    /// it): the extensions' answers to SHUTDOWN. CloudWatch has them after the REPORT.
    pub shutdown_log: Vec<String>,
    /// How many bytes the function streamed, when it streamed its response (they went to the
    /// invoker as they came; `response` holds them only for a buffered invoke).
    pub streamed_bytes: Option<u64>,
}

impl Invocation {
    pub fn is_cold(&self) -> bool {
        self.metrics.init_duration.is_some()
    }

    pub fn start_line(&self) -> String {
        report::start_line(&self.request_id, LATEST)
    }

    pub fn end_line(&self) -> String {
        report::end_line(&self.request_id)
    }

    pub fn report_line(&self) -> String {
        report::report_line(
            &self.request_id,
            &self.metrics,
            &self.outcome.report_status(),
        )
    }

    /// The log as CloudWatch would hold it: init lines, `START`, the function's lines, Lambda's
    /// own fault lines, `END`, `REPORT`; one line each, newline-terminated.
    pub fn log_text(&self) -> String {
        let mut lines: Vec<String> = self.init_log.clone();
        lines.push(self.start_line());
        lines.extend(self.function_log.iter().cloned());
        lines.extend(self.platform_log.iter().cloned());
        lines.push(self.end_line());
        lines.push(self.report_line());
        lines.extend(self.shutdown_log.iter().cloned());
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

/// An emulated Lambda execution environment for one function. See the [module docs](super).
pub struct Sandbox {
    config: FunctionConfig,
    code: Arc<PreparedCode>,
    runtime_dir: PathBuf,
    /// Holds the runtime directory while the sandbox lives.
    _scratch: tempfile::TempDir,
    process: Option<FunctionProcess>,
    log_stream_name: String,
    /// The sandbox's `/opt` (its layers) and the extensions in it.
    opt: Opt,
    externals: Vec<ExternalExtension>,
    /// The extensions' registry, their processes and the log of this environment, from its
    /// init to its shutdown.
    environment: Option<Environment>,
}

/// What lives from an environment's init to its shutdown, beside the runtime's process.
struct Environment {
    extensions: Arc<Extensions>,
    /// Its Telemetry and Logs APIs (their subscribers are its extensions).
    telemetry: Arc<Telemetry>,
    externals: Vec<ExtensionProcess>,
    logs: Arc<LogSink>,
    /// The API until the runtime starts and takes it: extensions call it from the start.
    api: Option<RuntimeApi>,
}

/// How an environment ended: why, for its extensions' SHUTDOWN event.
fn shutdown_reason(outcome: &Outcome) -> ShutdownReason {
    match outcome {
        Outcome::Timeout | Outcome::InitTimeout => ShutdownReason::Timeout,
        _ => ShutdownReason::Failure,
    }
}

impl Sandbox {
    /// Prepares the code (a zip is extracted to a temporary task root) and finds how to run it
    /// on this host: natively, or under `qemu-aarch64` for an arm64 bootstrap on x86_64. No
    /// process starts until the first [`Sandbox::invoke`], which is therefore cold.
    pub fn new(code: &FunctionCode, config: FunctionConfig) -> Result<Sandbox> {
        Sandbox::with_code(Arc::new(PreparedCode::prepare(code)?), config)
    }

    /// A sandbox for code already prepared (and possibly shared with other sandboxes). Each
    /// sandbox has its own process, Runtime API, runtime directory and log stream.
    pub fn with_code(code: Arc<PreparedCode>, config: FunctionConfig) -> Result<Sandbox> {
        let scratch = tempfile::Builder::new()
            .prefix("lambda-sandbox-")
            .tempdir()
            .context("creating the sandbox's temporary directory")?;
        let runtime_dir = scratch.path().join("runtime");
        std::fs::create_dir_all(&runtime_dir)
            .with_context(|| format!("creating {}", runtime_dir.display()))?;
        let now = report::unix_ms(SystemTime::now());
        let log_stream_name = format!(
            "{}/[{LATEST}]{}",
            report::utc_date_path(now),
            uuid::Uuid::new_v4().simple()
        );
        let (opt, externals) = Opt::unpack(&config.layers, &scratch.path().join("opt"))?;
        Ok(Sandbox {
            config,
            code,
            runtime_dir,
            _scratch: scratch,
            process: None,
            log_stream_name,
            opt,
            externals,
            environment: None,
        })
    }

    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    /// The architecture of the bootstrap.
    pub fn arch(&self) -> Arch {
        self.code.arch()
    }

    /// The emulator the bootstrap runs under, if it does not run natively.
    pub fn emulated_by(&self) -> Option<&str> {
        self.code.emulated_by()
    }

    /// The bootstrap that runs.
    pub fn bootstrap(&self) -> &Path {
        self.code.bootstrap()
    }

    /// The CloudWatch log stream of this execution environment.
    pub fn log_stream_name(&self) -> &str {
        &self.log_stream_name
    }

    /// The names of the external extensions its layers hold (started before the function).
    pub fn extension_names(&self) -> Vec<&str> {
        self.externals.iter().map(|e| e.name.as_str()).collect()
    }

    /// Whether its processes see its layers at `/opt` (a private mount namespace), rather than
    /// the host's `/opt` (see the `opt` module).
    pub fn opt_is_private(&self) -> bool {
        self.opt.mounted
    }

    /// The extensions' registry of the running environment, if any.
    pub fn extensions(&self) -> Option<Arc<Extensions>> {
        self.environment.as_ref().map(|e| Arc::clone(&e.extensions))
    }

    /// Whether a function process is up (the next invocation is warm).
    pub fn is_warm(&self) -> bool {
        self.process.is_some()
    }

    /// The function process's id, while there is one.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.pid)
    }

    /// Invokes the function with `payload`, starting a process first when there is none (a
    /// cold start). Faults of the function (errors, exits, timeouts, memory) are outcomes in the
    /// [`Invocation`]; `Err` means the emulator itself could not do its part.
    ///
    /// A function that streams its response is read as a buffered `Invoke` reads it: whole, up to
    /// 6 MB ([`Outcome::StreamedResponseTooLarge`] past that).
    pub async fn invoke(&mut self, payload: &[u8]) -> Result<Invocation> {
        self.run(payload, None).await
    }

    /// Invokes the function as `InvokeWithResponseStream` does: `parts` gets a
    /// [`ResponsePart::Head`], then the response's chunks as the function writes them (a
    /// buffered answer comes as one chunk), up to 200 MB; nothing on failure. The returned
    /// [`Invocation`] says how it ended (its `response` is the error, or empty).
    pub async fn invoke_streaming(
        &mut self,
        payload: &[u8],
        parts: ResponseSender,
    ) -> Result<Invocation> {
        self.run(payload, Some(parts)).await
    }

    async fn run(&mut self, payload: &[u8], parts: Option<ResponseSender>) -> Result<Invocation> {
        let request_id = uuid::Uuid::new_v4().to_string();
        if payload.len() > MAX_REQUEST_BYTES {
            bail!(
                "the payload is {} bytes, over Lambda's {MAX_REQUEST_BYTES}-byte limit for a \
                 synchronous invocation",
                payload.len()
            );
        }
        let mut init_log = Vec::new();
        // A process (or an extension) that died while idle is replaced, as Lambda would.
        let runtime_died = self.process.as_mut().is_some_and(|p| p.has_exited());
        let extension_failed = self
            .extensions()
            .is_some_and(|x| x.read(|r| r.failure().is_some()));
        if runtime_died || extension_failed {
            init_log = self.end_environment(ShutdownReason::Failure).await;
        }

        let mut init_duration = None;
        if self.process.is_none() {
            let started = Instant::now();
            self.observe(&PlatformEvent::InitStart);
            let limit = self.memory_limit_bytes();
            let init_deadline = started + self.config.init_timeout;
            let ended = self.init(init_deadline, limit).await?;
            let elapsed = started.elapsed();
            if let Some(environment) = &self.environment {
                init_log.extend(logs::drain(&environment.logs).await);
                init_log.extend(environment.extensions.read(|r| r.log_lines()));
            }
            let outcome = match ended {
                Ended::Next => None,
                Ended::InitError(error) => Some((
                    Outcome::InitError {
                        error_type: error.error_type,
                        error_message: error.error_message,
                    },
                    Some(error.body),
                )),
                Ended::Exited(exit) => Some((Outcome::RuntimeExit { exit }, None)),
                Ended::OutOfMemory => Some((Outcome::OutOfMemory, None)),
                Ended::TimedOut => Some((Outcome::InitTimeout, None)),
                Ended::Extension(failure) => Some((extension_outcome(failure), None)),
                // Not possible before a `next`; reported as the exit Lambda would see.
                Ended::Response(_)
                | Ended::Error(_)
                | Ended::TooLarge
                | Ended::Streaming(_)
                | Ended::StreamTooLarge(_) => Some((
                    Outcome::RuntimeExit {
                        exit: "answered before asking for an event".to_string(),
                    },
                    None,
                )),
            };
            init_duration = Some(elapsed);
            self.observe(&PlatformEvent::InitEnd {
                duration: elapsed,
                error_type: outcome
                    .as_ref()
                    .and_then(|(o, _)| o.error_type().map(str::to_string)),
            });
            if let Some((outcome, body)) = outcome {
                let max_memory = self.max_memory_used();
                let shutdown_log = self.end_environment(shutdown_reason(&outcome)).await;
                let mut invocation = self.finish(
                    request_id,
                    outcome,
                    body,
                    Duration::ZERO,
                    init_duration,
                    init_log,
                    max_memory,
                );
                invocation.shutdown_log = shutdown_log;
                self.observe_report(&invocation);
                return Ok(invocation);
            }
        }

        let limit = self.memory_limit_bytes();
        let timeout = self.config.timeout;
        let deadline_ms = report::unix_ms(SystemTime::now() + timeout);
        let event = Event {
            request_id: request_id.clone(),
            payload: Bytes::copy_from_slice(payload),
            deadline_ms,
            deadline_header: self.config.deadline_header,
            invoked_function_arn: self.config.function_arn(),
            trace_id: trace_id(),
        };
        let extensions = self.extensions();
        if let Some(extensions) = &extensions {
            extensions.update(|r| {
                r.dispatch(&ExtensionEvent::Invoke {
                    request_id: request_id.clone(),
                    deadline_ms,
                    invoked_function_arn: event.invoked_function_arn.clone(),
                    trace_id: event.trace_id.clone(),
                })
            });
        }
        self.observe(&PlatformEvent::InvokeStart {
            request_id: request_id.clone(),
        });
        let process = self.process_mut()?;
        while process.api.try_recv().is_some() {}
        process.api.send_event(event)?;
        let handed_out = Instant::now();
        let mut ended = tokio::select! {
            ended = process.wait(Some(&request_id), handed_out + timeout, limit) => ended,
            failure = extension_failure(extensions.as_deref()) => Ended::Extension(failure),
        };
        let mut streamed_bytes = None;
        if let Ended::Streaming(stream) = ended {
            let (end, bytes) =
                follow_stream(process, stream, parts.as_ref(), handed_out + timeout, limit).await;
            ended = end;
            streamed_bytes = Some(bytes);
        }
        let duration = handed_out.elapsed();
        let function_log = process.drain_logs().await;
        let max_memory = self.max_memory_used();

        let (outcome, body) = match ended {
            Ended::Response(body) => {
                if let (Some(parts), None) = (&parts, streamed_bytes) {
                    // A buffered answer to a streaming invoke: one chunk.
                    let head = ResponseHead {
                        streamed: false,
                        content_type: Some("application/json".to_string()),
                    };
                    let _ = parts.send(ResponsePart::Head(head)).await;
                    let _ = parts.send(ResponsePart::Chunk(body.clone())).await;
                }
                (Outcome::Success, Some(body))
            }
            Ended::Streaming(_) => unreachable!("a stream is followed to its end above"),
            Ended::StreamTooLarge(limit_bytes) => {
                (Outcome::StreamedResponseTooLarge { limit_bytes }, None)
            }
            Ended::Error(error) => (
                Outcome::FunctionError {
                    error_type: error.error_type,
                    error_message: error.error_message,
                },
                Some(error.body),
            ),
            Ended::TooLarge => (Outcome::ResponseTooLarge, None),
            Ended::Exited(exit) => (Outcome::RuntimeExit { exit }, None),
            Ended::TimedOut => (Outcome::Timeout, None),
            Ended::OutOfMemory => (Outcome::OutOfMemory, None),
            Ended::InitError(error) => (
                Outcome::InitError {
                    error_type: error.error_type,
                    error_message: error.error_message,
                },
                Some(error.body),
            ),
            Ended::Next => (
                Outcome::RuntimeExit {
                    exit: "asked for the next event without answering this one".to_string(),
                },
                None,
            ),
            Ended::Extension(failure) => (extension_outcome(failure), None),
        };
        self.observe(&PlatformEvent::RuntimeDone {
            request_id: request_id.clone(),
            error_type: outcome.error_type().map(str::to_string),
        });
        // The invocation completes when every extension has asked for its next event too,
        // within the same timeout.
        let (outcome, body) = if outcome.ends_process() {
            (outcome, body)
        } else {
            match self.wait_for_extensions(handed_out + timeout).await {
                Ended::TimedOut => (Outcome::Timeout, None),
                Ended::Extension(failure) => (extension_outcome(failure), None),
                _ => (outcome, body),
            }
        };
        let function_log = match &self.environment {
            Some(environment) => {
                let mut log = function_log;
                log.extend(logs::drain(&environment.logs).await);
                log
            }
            None => function_log,
        };
        let mut shutdown_log = Vec::new();
        if outcome.ends_process() {
            shutdown_log = self.end_environment(shutdown_reason(&outcome)).await;
        }
        let duration = if outcome == Outcome::Timeout {
            timeout
        } else {
            duration
        };
        let mut invocation = self.finish(
            request_id,
            outcome,
            body,
            duration,
            init_duration,
            init_log,
            max_memory,
        );
        invocation.function_log = function_log;
        invocation.streamed_bytes = streamed_bytes;
        invocation.shutdown_log = shutdown_log;
        self.observe_report(&invocation);
        Ok(invocation)
    }

    /// Shuts the environment down (reason `spindown`), if one is up: the next invocation is
    /// cold. Returns the lines written meanwhile (the extensions' answers to SHUTDOWN).
    pub async fn reset(&mut self) -> Vec<String> {
        self.end_environment(ShutdownReason::Spindown).await
    }

    /// Shuts the environment down (reason `spindown`) and removes the sandbox's files.
    /// Returns the lines written meanwhile.
    pub async fn shutdown(mut self) -> Vec<String> {
        self.reset().await
    }

    /// Lambda's shutdown: with external extensions registered, the runtime gets SIGTERM and
    /// its share of the budget (300 ms, 500 ms with internal extensions) before SIGKILL; then
    /// each external extension registered for it gets SHUTDOWN with `reason` and the rest of
    /// the 2,000 ms, and is killed when it has not exited or asked for another event by then.
    /// Without them the runtime is killed at once, as before.
    async fn end_environment(&mut self, reason: ShutdownReason) -> Vec<String> {
        let process = self.process.take();
        let Some(environment) = self.environment.take() else {
            if let Some(mut process) = process {
                process.api.stop();
                process.kill().await;
            }
            return Vec::new();
        };
        let extensions = environment.extensions;
        let (external, internal) = extensions.read(|r| (r.has_external(), r.has_internal()));
        let started = Instant::now();
        // The API stays up until the extensions are done: they still call it.
        let mut process = process;
        if let Some(process) = &mut process {
            if external {
                let share = if internal {
                    RUNTIME_SHUTDOWN_WITH_INTERNAL
                } else {
                    RUNTIME_SHUTDOWN
                };
                process.terminate(share).await;
            } else {
                process.kill().await;
            }
        }
        if external {
            self.observe(&PlatformEvent::Shutdown { reason });
            // The runtime's streams are closed: its last records go to the subscribers while
            // they still run (at most a quarter of the budget).
            environment.telemetry.flush(SHUTDOWN_BUDGET / 4).await;
            let left = SHUTDOWN_BUDGET.saturating_sub(started.elapsed());
            let deadline_ms = report::unix_ms(SystemTime::now() + left);
            extensions.update(|r| {
                r.dispatch(&ExtensionEvent::Shutdown {
                    reason,
                    deadline_ms,
                })
            });
            let done = extensions.wait_until(|r| r.shutdown_complete().then_some(()));
            let _ = tokio::time::timeout(left, done).await;
        }
        for extension in environment.externals {
            extension.kill().await;
        }
        if let Some(process) = process {
            process.api.stop();
        }
        logs::drain(&environment.logs).await
    }

    /// The init phase: the external extensions start and register, then the runtime starts;
    /// it is over when the runtime and every extension have asked for their next event.
    async fn init(&mut self, deadline: Instant, limit: u64) -> Result<Ended> {
        let expected = self.externals.iter().map(|e| e.name.clone()).collect();
        let extensions = Extensions::new(
            FunctionInfo {
                function_name: self.config.function_name.clone(),
                function_version: LATEST.to_string(),
                handler: environment::HANDLER.to_string(),
                account_id: ACCOUNT_ID.to_string(),
            },
            expected,
        );
        // The environment's own Telemetry and Logs APIs hear its lifecycle and log lines,
        // beside the observers (which may serve routes of their own).
        let telemetry = Telemetry::new(Arc::clone(&extensions));
        let mut routes = self
            .config
            .observers
            .routes(&self.log_stream_name, &extensions);
        routes.push(telemetry::router(Arc::clone(&telemetry)));
        let api = RuntimeApi::start_with_routes(Arc::clone(&extensions), routes).await?;
        let mut observers = self.config.observers.clone();
        observers.0.push(telemetry.clone());
        let logs = LogSink::observed(observers, &self.log_stream_name);
        let env = environment::lambda_environment(&EnvironmentSpec {
            runtime_api: api.address(),
            function_name: &self.config.function_name,
            memory_size_mb: self.config.memory_size_mb,
            version: LATEST,
            region: &self.config.region,
            log_stream_name: &self.log_stream_name,
            task_root: &self.code.task_root,
            runtime_dir: &self.runtime_dir,
            user: &self.config.environment,
        });
        let code = Arc::clone(&self.code);
        let opt = self.opt.clone();
        let launch = Launch {
            task_root: &code.task_root,
            env: &env,
            opt: &opt,
        };
        let mut externals = Vec::new();
        for extension in &self.externals {
            let program = opt.path_of(extension);
            let started = ExtensionProcess::spawn(
                &launch,
                &extension.launcher,
                &extension.name,
                &program,
                &logs,
                Arc::clone(&extensions),
            )
            .await;
            match started {
                Ok(process) => externals.push(process),
                Err(error) => extensions.update(|r| {
                    r.launch_failed(
                        &extension.name,
                        &format!("fork/exec {}: {error}", program.display()),
                    )
                }),
            }
        }
        let environment = self.environment.insert(Environment {
            telemetry,
            extensions: Arc::clone(&extensions),
            externals,
            logs: Arc::clone(&logs),
            api: Some(api),
        });
        // Extension init: every external extension registers.
        let registered = extensions.wait_until(|r| match r.failure() {
            Some(failure) => Some(Err(failure.clone())),
            None => r.externals_registered().then_some(Ok(())),
        });
        match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), registered).await {
            Err(_) => return Ok(Ended::TimedOut),
            Ok(Err(failure)) => return Ok(Ended::Extension(failure)),
            Ok(Ok(())) => {}
        }
        // Runtime init.
        let api = environment.api.take().context("the Runtime API is gone")?;
        let process = FunctionProcess::spawn(
            &launch,
            &code.launcher,
            &code.bootstrap,
            api,
            Arc::clone(&logs),
        )
        .await?;
        let process = self.process.insert(process);
        let ended = tokio::select! {
            ended = process.wait(None, deadline, limit) => ended,
            failure = extension_failure(Some(&extensions)) => Ended::Extension(failure),
        };
        if !matches!(ended, Ended::Next) {
            return Ok(ended);
        }
        Ok(self.wait_for_extensions(deadline).await)
    }

    /// Waits until every extension has asked for its next event: `Ended::Next`, or
    /// `Ended::TimedOut` at `deadline`, or `Ended::Extension` when one fails.
    async fn wait_for_extensions(&self, deadline: Instant) -> Ended {
        let Some(extensions) = self.extensions() else {
            return Ended::Next;
        };
        let ready = extensions.wait_until(|r| match r.failure() {
            Some(failure) => Some(Err(failure.clone())),
            None => r.all_waiting().then_some(Ok(())),
        });
        match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), ready).await {
            Err(_) => Ended::TimedOut,
            Ok(Err(failure)) => Ended::Extension(failure),
            Ok(Ok(())) => Ended::Next,
        }
    }

    fn observe(&self, event: &PlatformEvent) {
        self.config.observers.platform(&self.log_stream_name, event);
        if let Some(environment) = &self.environment {
            environment.telemetry.platform(&self.log_stream_name, event);
        }
    }

    fn observe_report(&self, invocation: &Invocation) {
        self.observe(&PlatformEvent::Report {
            request_id: invocation.request_id.clone(),
            metrics: invocation.metrics.clone(),
            error_type: invocation.outcome.error_type().map(str::to_string),
        });
    }

    fn process_mut(&mut self) -> Result<&mut FunctionProcess> {
        Ok(self
            .process
            .as_mut()
            .context("the function process is not running")?)
    }

    fn memory_limit_bytes(&self) -> u64 {
        u64::from(self.config.memory_size_mb) * BYTES_PER_MB
    }

    fn max_memory_used(&self) -> u64 {
        self.process
            .as_ref()
            .map_or(0, FunctionProcess::max_memory_used)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        request_id: String,
        outcome: Outcome,
        body: Option<Bytes>,
        duration: Duration,
        init_duration: Option<Duration>,
        init_log: Vec<String>,
        max_memory_used_bytes: u64,
    ) -> Invocation {
        let now = report::utc_timestamp(report::unix_ms(SystemTime::now()));
        let (response, platform_log) = match &outcome {
            Outcome::Success | Outcome::FunctionError { .. } | Outcome::InitError { .. } => {
                (body.unwrap_or_default(), Vec::new())
            }
            Outcome::RuntimeExit { exit } => {
                let message = report::runtime_exit_message(&request_id, exit);
                (
                    Bytes::from(report::error_body("Runtime.ExitError", &message)),
                    vec![message, "Runtime.ExitError".to_string()],
                )
            }
            Outcome::ExtensionError { error_type, detail } => {
                let message = format!("RequestId: {request_id} Error: {detail}");
                (
                    Bytes::from(report::error_body(error_type, &message)),
                    vec![message, error_type.clone()],
                )
            }
            Outcome::OutOfMemory => {
                let message = report::runtime_exit_message(&request_id, "signal: killed");
                (
                    Bytes::from(report::error_body("Runtime.OutOfMemory", &message)),
                    vec![message, "Runtime.OutOfMemory".to_string()],
                )
            }
            Outcome::Timeout | Outcome::InitTimeout => {
                let limit = if outcome == Outcome::Timeout {
                    self.config.timeout
                } else {
                    self.config.init_timeout
                };
                let message = report::timeout_message(&request_id, limit);
                let line = format!(
                    "{now} {request_id} Task timed out after {:.2} seconds",
                    limit.as_secs_f64()
                );
                (
                    Bytes::from(report::error_body("Sandbox.Timedout", &message)),
                    vec![line],
                )
            }
            Outcome::StreamedResponseTooLarge { limit_bytes } => (
                Bytes::from(report::error_body(
                    "Function.ResponseSizeTooLarge",
                    &streaming::streamed_too_large_message(*limit_bytes),
                )),
                Vec::new(),
            ),
            Outcome::ResponseTooLarge => {
                let message = format!(
                    "Response payload size exceeded maximum allowed payload size \
                     ({MAX_RESPONSE_BYTES} bytes)."
                );
                (
                    Bytes::from(report::error_body(
                        "Function.ResponseSizeTooLarge",
                        &message,
                    )),
                    Vec::new(),
                )
            }
        };
        let metrics = Metrics {
            duration,
            init_duration,
            billed_duration_ms: report::billed_duration_ms(duration, init_duration),
            memory_size_mb: self.config.memory_size_mb,
            max_memory_used_bytes,
            emulated_by: self.emulated_by().map(str::to_string),
        };
        Invocation {
            request_id,
            outcome,
            response,
            metrics,
            init_log,
            function_log: Vec::new(),
            platform_log,
            shutdown_log: Vec::new(),
            streamed_bytes: None,
        }
    }
}

/// The outcome of an extension's failure.
fn extension_outcome(failure: ExtensionFailure) -> Outcome {
    Outcome::ExtensionError {
        error_type: failure.error_type,
        detail: failure.message,
    }
}

/// The first failure of an extension; never, when there are none.
async fn extension_failure(extensions: Option<&Extensions>) -> ExtensionFailure {
    match extensions {
        Some(extensions) => extensions.wait_until(|r| r.failure().cloned()).await,
        None => std::future::pending().await,
    }
}

/// Reads a streamed response to its end, handing each chunk to `parts` as it comes (a streaming
/// invoke, up to 200 MB) or collecting it (a buffered invoke, up to 6 MB), while the process is
/// watched for its exit, the deadline and memory. Returns how it ended and the bytes streamed.
async fn follow_stream(
    process: &mut FunctionProcess,
    stream: ResponseStream,
    parts: Option<&ResponseSender>,
    deadline: Instant,
    limit: u64,
) -> (Ended, u64) {
    let Some(mut frames) = stream.take_frames() else {
        return (Ended::Exited("the response stream was lost".to_string()), 0);
    };
    let size_limit = if parts.is_some() {
        MAX_STREAMED_BYTES
    } else {
        MAX_RESPONSE_BYTES
    };
    if let Some(parts) = parts {
        let head = ResponseHead {
            streamed: true,
            content_type: stream.content_type.clone(),
        };
        let _ = parts.send(ResponsePart::Head(head)).await;
    }
    let mut collected = Vec::new();
    let mut total: u64 = 0;
    let mut poll = process::memory_poll();
    loop {
        let frame = match process
            .next_frame(&mut frames, deadline, limit, &mut poll)
            .await
        {
            Ok(frame) => frame,
            Err(ended) => return (ended, total),
        };
        match frame {
            StreamFrame::Data(data) => {
                total += data.len() as u64;
                if total > size_limit as u64 {
                    // Dropping the frames makes the Runtime API refuse the rest (413).
                    drop(frames);
                    return (Ended::StreamTooLarge(size_limit), total);
                }
                match parts {
                    // A reader that went away does not stop the function: the rest is dropped.
                    Some(parts) => {
                        let _ = parts.send(ResponsePart::Chunk(data)).await;
                    }
                    None => collected.extend_from_slice(&data),
                }
            }
            StreamFrame::End { error: Some(error) } => return (Ended::Error(error), total),
            StreamFrame::End { error: None } => {
                return (Ended::Response(Bytes::from(collected)), total)
            }
            StreamFrame::Broken(reason) => {
                let error = PostedError {
                    error_type: "Runtime.StreamError".to_string(),
                    error_message: format!("the response stream broke off: {reason}"),
                    body: Bytes::new(),
                };
                let body = report::error_body(&error.error_type, &error.error_message);
                return (
                    Ended::Error(PostedError {
                        body: Bytes::from(body),
                        ..error
                    }),
                    total,
                );
            }
        }
    }
}

/// An X-Ray trace header as Lambda passes it: `Root=1-<epoch hex>-<96 random bits>;…`.
fn trace_id() -> String {
    let secs = report::unix_ms(SystemTime::now()) / 1000;
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &random[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_map_to_lambdas_error_types() {
        assert_eq!(Outcome::Success.error_type(), None);
        assert_eq!(
            Outcome::RuntimeExit {
                exit: "exit status 3".into()
            }
            .error_type(),
            Some("Runtime.ExitError")
        );
        assert_eq!(Outcome::Timeout.error_type(), Some("Sandbox.Timedout"));
        assert_eq!(
            Outcome::OutOfMemory.error_type(),
            Some("Runtime.OutOfMemory")
        );
        assert!(!Outcome::ResponseTooLarge.ends_process());
        assert!(Outcome::Timeout.ends_process());
        assert_eq!(Outcome::Timeout.report_status(), ReportStatus::Timeout);
        assert_eq!(
            Outcome::OutOfMemory.report_status(),
            ReportStatus::Error("Runtime.OutOfMemory".into())
        );
    }

    #[test]
    fn trace_ids_have_xrays_shape() {
        let id = trace_id();
        let root = id.strip_prefix("Root=1-").unwrap();
        let (epoch, rest) = root.split_once('-').unwrap();
        assert_eq!(epoch.len(), 8);
        assert_eq!(rest.split(';').next().unwrap().len(), 24);
        assert!(id.contains(";Parent=") && id.ends_with(";Sampled=0"));
    }
}
