//! One Lambda execution environment: the function's `bootstrap` in a process of its own, fed
//! events through its own [`RuntimeApi`](super::runtime_api::RuntimeApi), one invocation at a
//! time, and restarted (cold) after it dies or is killed.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use axum::body::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::environment::{self, EnvironmentSpec};
use super::memory;
use super::report::{self, Metrics, ReportStatus, BYTES_PER_MB, LATEST};
use super::runtime_api::{Event, PostedError, RuntimeApi, RuntimeMessage, MAX_PAYLOAD_BYTES};
use crate::arch::Arch;
use crate::artifact::elf;
use crate::artifact::lambda_zip;
use crate::atomic_file;
use crate::tools;

/// Lambda's bound on the init phase: 10 seconds.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often resident memory is sampled while the function runs.
const MEMORY_POLL: Duration = Duration::from_millis(10);
/// How long a killed process may take to be reaped.
const REAP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long log lines still in the pipes are waited for once an invocation has ended.
const LOG_SETTLE: Duration = Duration::from_millis(5);
/// The longest an invocation's log is collected after it ended; later lines go to the next one.
const LOG_DRAIN_LIMIT: Duration = Duration::from_millis(500);
/// The account in the ARNs the emulator makes up (AWS's documentation example).
const ACCOUNT_ID: &str = "123456789012";

/// Where the function's code comes from.
#[derive(Debug, Clone)]
pub enum FunctionCode {
    /// A Lambda deployment package: its `bootstrap` is extracted with its zip mode.
    Zip(PathBuf),
    /// A `bootstrap` executable as it stands (for example from an OCI image layer); its
    /// directory is the task root.
    Bootstrap(PathBuf),
}

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
            Outcome::OutOfMemory => Some("Runtime.OutOfMemory"),
            Outcome::Timeout | Outcome::InitTimeout => Some("Sandbox.Timedout"),
            Outcome::ResponseTooLarge => Some("Function.ResponseSizeTooLarge"),
        }
    }

    /// Whether the process is gone afterwards (the next invocation is cold).
    pub fn ends_process(&self) -> bool {
        !matches!(
            self,
            Outcome::Success | Outcome::FunctionError { .. } | Outcome::ResponseTooLarge
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
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

/// How the bootstrap is started.
#[derive(Debug, Clone)]
enum Launcher {
    Native,
    /// Under a user-mode emulator (qemu-aarch64 on an x86_64 host).
    Emulated {
        program: PathBuf,
        name: String,
        /// For a dynamically linked bootstrap: where the emulator finds the target's dynamic
        /// loader and C library (`qemu -L`).
        sysroot: Option<PathBuf>,
    },
}

/// A running function process.
struct FunctionProcess {
    child: Child,
    pid: u32,
    api: RuntimeApi,
    logs: mpsc::UnboundedReceiver<String>,
    /// Highest RSS sampled, in bytes.
    sampled_peak: u64,
}

/// What ended a wait on the process.
enum Ended {
    Next,
    Response(Bytes),
    Error(PostedError),
    TooLarge,
    InitError(PostedError),
    Exited(String),
    TimedOut,
    OutOfMemory,
}

/// An emulated Lambda execution environment for one function. See the [module docs](super).
pub struct Sandbox {
    config: FunctionConfig,
    arch: Arch,
    launcher: Launcher,
    bootstrap: PathBuf,
    task_root: PathBuf,
    runtime_dir: PathBuf,
    /// Holds the extracted code and the runtime directory while the sandbox lives.
    _scratch: tempfile::TempDir,
    process: Option<FunctionProcess>,
    log_stream_name: String,
}

impl Sandbox {
    /// Prepares the code (a zip is extracted to a temporary task root) and finds how to run it
    /// on this host: natively, or under `qemu-aarch64` for an arm64 bootstrap on x86_64. No
    /// process starts until the first [`Sandbox::invoke`], which is therefore cold.
    pub fn new(code: &FunctionCode, config: FunctionConfig) -> Result<Sandbox> {
        let scratch = tempfile::Builder::new()
            .prefix("lambda-sandbox-")
            .tempdir()
            .context("creating the sandbox's temporary directory")?;
        let runtime_dir = scratch.path().join("runtime");
        std::fs::create_dir_all(&runtime_dir)
            .with_context(|| format!("creating {}", runtime_dir.display()))?;
        let (bootstrap, task_root, bytes) = match code {
            FunctionCode::Zip(zip) => {
                let task_root = scratch.path().join("task");
                let bootstrap = extract_zip(zip, &task_root)?;
                let bytes = std::fs::read(&bootstrap)
                    .with_context(|| format!("reading {}", bootstrap.display()))?;
                (bootstrap, task_root, bytes)
            }
            FunctionCode::Bootstrap(path) => {
                let bootstrap = std::path::absolute(path)
                    .with_context(|| format!("resolving {}", path.display()))?;
                let bytes = std::fs::read(&bootstrap)
                    .with_context(|| format!("reading {}", bootstrap.display()))?;
                let task_root = bootstrap
                    .parent()
                    .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
                (bootstrap, task_root, bytes)
            }
        };
        let (arch, dynamic) = bootstrap_arch(&bytes)
            .with_context(|| format!("reading the bootstrap {}", bootstrap.display()))?;
        let launcher = launcher_for(arch, dynamic)?;
        let now = report::unix_ms(SystemTime::now());
        let log_stream_name = format!(
            "{}/[{LATEST}]{}",
            report::utc_date_path(now),
            uuid::Uuid::new_v4().simple()
        );
        Ok(Sandbox {
            config,
            arch,
            launcher,
            bootstrap,
            task_root,
            runtime_dir,
            _scratch: scratch,
            process: None,
            log_stream_name,
        })
    }

    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    /// The architecture of the bootstrap.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The emulator the bootstrap runs under, if it does not run natively.
    pub fn emulated_by(&self) -> Option<&str> {
        match &self.launcher {
            Launcher::Native => None,
            Launcher::Emulated { name, .. } => Some(name),
        }
    }

    /// The bootstrap that runs.
    pub fn bootstrap(&self) -> &Path {
        &self.bootstrap
    }

    /// Whether a function process is up (the next invocation is warm).
    pub fn is_warm(&self) -> bool {
        self.process.is_some()
    }

    /// Invokes the function with `payload`, starting a process first when there is none (a
    /// cold start). Faults of the function (errors, exits, timeouts, memory) are outcomes in the
    /// [`Invocation`]; `Err` means the emulator itself could not do its part.
    pub async fn invoke(&mut self, payload: &[u8]) -> Result<Invocation> {
        let request_id = uuid::Uuid::new_v4().to_string();
        if payload.len() > MAX_PAYLOAD_BYTES {
            bail!(
                "the payload is {} bytes, over Lambda's {MAX_PAYLOAD_BYTES}-byte limit for a \
                 synchronous invocation",
                payload.len()
            );
        }
        if let Some(process) = &mut self.process {
            // A process that died while idle is replaced, as Lambda would.
            if matches!(process.child.try_wait(), Ok(Some(_)) | Err(_)) {
                self.reset().await;
            }
        }

        let mut init_duration = None;
        let mut init_log = Vec::new();
        if self.process.is_none() {
            let started = Instant::now();
            self.process = Some(self.spawn().await?);
            let limit = self.memory_limit_bytes();
            let init_deadline = started + self.config.init_timeout;
            let process = self.process_mut()?;
            let ended = wait(process, None, init_deadline, limit).await;
            let elapsed = started.elapsed();
            init_log = drain_logs(process).await;
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
                // Not possible before a `next`; reported as the exit Lambda would see.
                Ended::Response(_) | Ended::Error(_) | Ended::TooLarge => Some((
                    Outcome::RuntimeExit {
                        exit: "answered before asking for an event".to_string(),
                    },
                    None,
                )),
            };
            init_duration = Some(elapsed);
            if let Some((outcome, body)) = outcome {
                let max_memory = self.max_memory_used();
                self.reset().await;
                return Ok(self.finish(
                    request_id,
                    outcome,
                    body,
                    Duration::ZERO,
                    init_duration,
                    init_log,
                    max_memory,
                ));
            }
        }

        let limit = self.memory_limit_bytes();
        let timeout = self.config.timeout;
        let deadline_ms = report::unix_ms(SystemTime::now() + timeout);
        let event = Event {
            request_id: request_id.clone(),
            payload: Bytes::copy_from_slice(payload),
            deadline_ms,
            invoked_function_arn: self.config.function_arn(),
            trace_id: trace_id(),
        };
        let process = self.process_mut()?;
        while process.api.try_recv().is_some() {}
        process.api.send_event(event)?;
        let handed_out = Instant::now();
        let ended = wait(process, Some(&request_id), handed_out + timeout, limit).await;
        let duration = handed_out.elapsed();
        let function_log = drain_logs(process).await;
        let max_memory = self.max_memory_used();

        let (outcome, body) = match ended {
            Ended::Response(body) => (Outcome::Success, Some(body)),
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
        };
        if outcome.ends_process() {
            self.reset().await;
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
        Ok(invocation)
    }

    /// Kills the function process, if any: the next invocation is cold.
    pub async fn reset(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.api.stop();
            kill_tree(&mut process.child, process.pid).await;
        }
    }

    /// Kills the function process and removes the extracted code.
    pub async fn shutdown(mut self) {
        self.reset().await;
    }

    fn process_mut(&mut self) -> Result<&mut FunctionProcess> {
        self.process
            .as_mut()
            .context("the function process is not running")
    }

    fn memory_limit_bytes(&self) -> u64 {
        u64::from(self.config.memory_size_mb) * BYTES_PER_MB
    }

    /// Peak resident memory of the process tree: VmHWM while it lives, with the highest sampled
    /// RSS as the floor (and the only figure once it is gone).
    fn max_memory_used(&self) -> u64 {
        let Some(process) = &self.process else {
            return 0;
        };
        let hwm = memory::tree_resident(process.pid).map_or(0, |r| r.peak);
        hwm.max(process.sampled_peak)
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
            Outcome::ResponseTooLarge => {
                let message = format!(
                    "Response payload size exceeded maximum allowed payload size \
                     ({MAX_PAYLOAD_BYTES} bytes)."
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
        }
    }

    async fn spawn(&self) -> Result<FunctionProcess> {
        let api = RuntimeApi::start().await?;
        let env = environment::lambda_environment(&EnvironmentSpec {
            runtime_api: api.address(),
            function_name: &self.config.function_name,
            memory_size_mb: self.config.memory_size_mb,
            version: LATEST,
            region: &self.config.region,
            log_stream_name: &self.log_stream_name,
            task_root: &self.task_root,
            runtime_dir: &self.runtime_dir,
            user: &self.config.environment,
        });
        let mut command = match &self.launcher {
            Launcher::Native => Command::new(&self.bootstrap),
            Launcher::Emulated {
                program, sysroot, ..
            } => {
                let mut command = Command::new(program);
                if let Some(sysroot) = sysroot {
                    command.arg("-L").arg(sysroot);
                }
                command.arg(&self.bootstrap);
                command
            }
        };
        command
            .env_clear()
            .envs(env)
            .current_dir(&self.task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let mut child = spawn_retrying_busy(&mut command)
            .await
            .with_context(|| format!("starting {}", self.bootstrap.display()))?;
        let pid = child
            .id()
            .context("the function process ended before its pid was read")?;
        let (log_tx, logs) = mpsc::unbounded_channel();
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(forward_lines(stdout, log_tx.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(forward_lines(stderr, log_tx));
        }
        Ok(FunctionProcess {
            child,
            pid,
            api,
            logs,
            sampled_peak: 0,
        })
    }
}

/// Waits for the runtime to ask for an event (`request_id` `None`, the init phase) or to answer
/// `request_id`, for the process to end, for `deadline`, or for memory over `limit`.
async fn wait(
    process: &mut FunctionProcess,
    request_id: Option<&str>,
    deadline: Instant,
    limit: u64,
) -> Ended {
    let deadline = tokio::time::Instant::from_std(deadline);
    let mut poll = tokio::time::interval(MEMORY_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            message = process.api.recv() => match message {
                Some(RuntimeMessage::Next) if request_id.is_none() => return Ended::Next,
                Some(RuntimeMessage::InitError { error }) => return Ended::InitError(error),
                Some(RuntimeMessage::Response { request_id: id, body })
                    if Some(id.as_str()) == request_id => return Ended::Response(body),
                Some(RuntimeMessage::Error { request_id: id, error })
                    if Some(id.as_str()) == request_id => return Ended::Error(error),
                Some(RuntimeMessage::ResponseTooLarge { request_id: id })
                    if Some(id.as_str()) == request_id => return Ended::TooLarge,
                Some(_) => {}
                None => return Ended::Exited("the Runtime API stopped".to_string()),
            },
            status = process.child.wait() => {
                return Ended::Exited(match status {
                    Ok(status) => describe_status(status),
                    Err(error) => format!("exit status unknown ({error})"),
                });
            }
            _ = tokio::time::sleep_until(deadline) => {
                kill_tree(&mut process.child, process.pid).await;
                return Ended::TimedOut;
            }
            _ = poll.tick() => {
                if let Some(resident) = memory::tree_resident(process.pid) {
                    process.sampled_peak = process.sampled_peak.max(resident.current);
                    if resident.current > limit {
                        kill_tree(&mut process.child, process.pid).await;
                        return Ended::OutOfMemory;
                    }
                }
            }
        }
    }
}

/// The lines already written, waiting briefly for those still in the pipes; bounded in time
/// even for a process that never stops writing.
async fn drain_logs(process: &mut FunctionProcess) -> Vec<String> {
    let mut lines = Vec::new();
    let give_up = Instant::now() + LOG_DRAIN_LIMIT;
    while Instant::now() < give_up {
        match tokio::time::timeout(LOG_SETTLE, process.logs.recv()).await {
            Ok(Some(line)) => lines.push(line),
            _ => break,
        }
    }
    lines
}

async fn forward_lines(stream: impl AsyncRead + Unpin, lines: mpsc::UnboundedSender<String>) {
    let mut reader = BufReader::new(stream);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buffer);
                let line = line.trim_end_matches(['\n', '\r']).to_string();
                if lines.send(line).is_err() {
                    return;
                }
            }
        }
    }
}

/// Kills the process group the function runs in (it was started as its leader), then reaps
/// the process, waiting a bounded time.
async fn kill_tree(child: &mut Child, pid: u32) {
    #[cfg(unix)]
    if let Ok(pgid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals the group; it touches no memory.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = child.start_kill();
    let _ = tokio::time::timeout(REAP_TIMEOUT, child.wait()).await;
}

fn describe_status(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        report::describe_exit(status.code(), status.signal(), status.core_dumped())
    }
    #[cfg(not(unix))]
    {
        report::describe_exit(status.code(), None, false)
    }
}

/// Extracts a deployment zip into `task_root` as Lambda does, each file with its zip mode
/// (`bootstrap` 0755 when the zip records none), and returns the bootstrap's path.
fn extract_zip(zip: &Path, task_root: &Path) -> Result<PathBuf> {
    let bytes = std::fs::read(zip).with_context(|| format!("reading {}", zip.display()))?;
    let entries =
        lambda_zip::read_entries(&bytes).with_context(|| format!("reading {}", zip.display()))?;
    let (bootstrap, others) = lambda_zip::split_bootstrap(entries)
        .with_context(|| format!("reading {}", zip.display()))?;
    for entry in others.iter().chain([&bootstrap]) {
        // Directory entries (`name/`) are made by the files below them.
        if entry.name.ends_with('/') {
            continue;
        }
        let path = task_root.join(&entry.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let default = if entry.name == lambda_zip::BOOTSTRAP {
            lambda_zip::BOOTSTRAP_MODE
        } else {
            0o644
        };
        let mode = entry.unix_mode.unwrap_or(default) & 0o7777;
        atomic_file::write_with_mode(&path, &entry.contents, mode)?;
    }
    Ok(task_root.join(lambda_zip::BOOTSTRAP))
}

/// The architecture of a bootstrap and whether it is dynamically linked, from one reading of
/// its ELF header; a script (`#!`) runs on the host's.
fn bootstrap_arch(bytes: &[u8]) -> Result<(Arch, bool)> {
    if bytes.starts_with(b"#!") {
        return Ok((
            Arch::host().context("this host is not x86_64 or arm64")?,
            false,
        ));
    }
    let info = elf::inspect(bytes)?;
    let arch = info.arch.with_context(|| {
        format!(
            "the bootstrap is for ELF machine {}, not x86_64 or arm64",
            info.machine
        )
    })?;
    Ok((arch, !info.is_static()))
}

fn launcher_for(arch: Arch, dynamic: bool) -> Result<Launcher> {
    if Arch::host() == Some(arch) {
        return Ok(Launcher::Native);
    }
    let name = arch.qemu_binary();
    let program = tools::program(
        name,
        &format!(
            "an {arch} bootstrap needs it on this host; install QEMU's user-mode emulators \
             (Debian/Ubuntu: sudo apt-get install qemu-user; Fedora: sudo dnf install qemu-user)"
        ),
    )?;
    let sysroot =
        if dynamic {
            // Debian's and Ubuntu's cross C libraries (libc6-arm64-cross) live here.
            let root = PathBuf::from(format!("/usr/{}-linux-gnu", arch.rust_arch()));
            if !root.join("lib").is_dir() {
                bail!(
                "the {arch} bootstrap is dynamically linked, so {name} needs the {arch} C library \
                 and loader: install them (Debian/Ubuntu: sudo apt-get install libc6-{}-cross), \
                 or run a static musl build (cargo xtask package --arch {arch} --target {})",
                if arch == Arch::Arm64 { "arm64" } else { "amd64" },
                arch.local_default_target()
            );
            }
            Some(root)
        } else {
            None
        };
    Ok(Launcher::Emulated {
        program,
        name: name.to_string(),
        sysroot,
    })
}

/// Starts `command`, trying again for a short, bounded while when the executable is "busy"
/// (ETXTBSY). A just-written bootstrap can be: another thread of this program may fork while
/// the file is still open for writing, and the child holds that descriptor until it execs.
async fn spawn_retrying_busy(command: &mut Command) -> std::io::Result<Child> {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(error) if error.raw_os_error() == Some(libc::ETXTBSY) && tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            result => return result,
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
    fn bootstraps_must_be_lambda_binaries_or_scripts() {
        assert_eq!(
            bootstrap_arch(b"#!/bin/sh\necho hi\n").ok().map(|(a, _)| a),
            Arch::host()
        );
        assert!(bootstrap_arch(b"MZ not elf").is_err());
        let own = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(bootstrap_arch(&own).ok().map(|(a, _)| a), Arch::host());
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
