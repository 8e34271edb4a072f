//! Supervising one function process: starting it in a process group of its own with Lambda's
//! environment, waiting on its Runtime API for what it does, its exit, the deadline or memory
//! over the limit, and killing the whole tree.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::emulator::Result;
use crate::error::Context;
use axum::body::Bytes;
use tokio::process::Child;

use super::launcher::{spawn_retrying_busy, Launcher};
use super::logs::{self, LogSink};
use super::opt::Opt;
use crate::emulator::extensions::{ExtensionFailure, Extensions};
use crate::emulator::lifecycle::LogSource;
use crate::emulator::memory;
use crate::emulator::report;
use crate::emulator::runtime_api::{PostedError, RuntimeApi, RuntimeMessage};
use crate::emulator::streaming::{ResponseStream, StreamFrame};

/// How often resident memory is sampled while the function runs.
const MEMORY_POLL: Duration = Duration::from_millis(10);
/// How long the pipes of a killed extension are read for its last lines.
const PIPE_DRAIN_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a killed process may take to be reaped.
const REAP_TIMEOUT: Duration = Duration::from_secs(5);

/// The interval at which resident memory is sampled while the function runs.
pub(super) fn memory_poll() -> tokio::time::Interval {
    let mut poll = tokio::time::interval(MEMORY_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll
}

/// How a process of the sandbox starts: with exactly `env`, in `task_root`, in a process group
/// of its own, seeing the sandbox's `/opt`, its output collected as log lines.
pub(super) struct Launch<'a> {
    pub(super) task_root: &'a Path,
    pub(super) env: &'a [(String, String)],
    pub(super) opt: &'a Opt,
}

impl Launch<'_> {
    async fn start(
        &self,
        launcher: &Launcher,
        program: &Path,
        sink: &Arc<LogSink>,
        source: LogSource,
    ) -> std::io::Result<(Child, u32, Vec<tokio::task::JoinHandle<()>>)> {
        let mut command = launcher.command(program);
        command
            .env_clear()
            .envs(self.env.iter().cloned())
            .current_dir(self.task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        self.opt
            .apply(&mut command)
            .map_err(|e| std::io::Error::other(crate::error::chain_text(&e)))?;
        let mut child = spawn_retrying_busy(&mut command).await?;
        let pid = child
            .id()
            .ok_or_else(|| std::io::Error::other("the process ended before its pid was read"))?;
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(tokio::spawn(logs::forward(
                stdout,
                Arc::clone(sink),
                source.clone(),
            )));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(tokio::spawn(logs::forward(
                stderr,
                Arc::clone(sink),
                source,
            )));
        }
        Ok((child, pid, readers))
    }
}

/// An external extension's process: its exit is recorded in the registry (outside a shutdown,
/// that is `Extension.Crash`) by the task that waits for it.
pub(super) struct ExtensionProcess {
    pid: u32,
    waiter: tokio::task::JoinHandle<()>,
    /// The tasks reading its stdout and stderr: done at the pipes' end.
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl ExtensionProcess {
    /// Starts the extension `name` from `program`.
    pub(super) async fn spawn(
        launch: &Launch<'_>,
        launcher: &Launcher,
        name: &str,
        program: &Path,
        sink: &Arc<LogSink>,
        extensions: Arc<Extensions>,
    ) -> std::io::Result<ExtensionProcess> {
        let (mut child, pid, readers) = launch
            .start(
                launcher,
                program,
                sink,
                LogSource::Extension(name.to_string()),
            )
            .await?;
        let name = name.to_string();
        let waiter = tokio::spawn(async move {
            let exit = match child.wait().await {
                Ok(status) => extension_exit(status),
                Err(error) => format!("exit code unknown ({error})"),
            };
            extensions.update(|r| r.exited(&name, &exit));
        });
        Ok(ExtensionProcess {
            pid,
            waiter,
            readers,
        })
    }

    /// Kills its process group and waits (bounded) for the exit to be recorded.
    pub(super) async fn kill(self) {
        kill_group(self.pid, Signal::Kill);
        let _ = tokio::time::timeout(REAP_TIMEOUT, self.waiter).await;
        // Its last lines (its answer to SHUTDOWN) are read to the pipes' end, not left to the
        // log's settling time; bounded, for a pipe some orphan still holds open.
        let readers = futures_join(self.readers);
        let _ = tokio::time::timeout(PIPE_DRAIN_TIMEOUT, readers).await;
    }
}

/// The signals the sandbox sends (named here: Windows' libc has no SIGKILL, and the kit is
/// checked for Windows even though the emulator runs only on Linux).
#[derive(Debug, Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

fn kill_group(pid: u32, signal: Signal) {
    #[cfg(unix)]
    if let Ok(pgid) = i32::try_from(pid) {
        let signal = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: kill(2) with a negative pid signals the group; it touches no memory.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
    #[cfg(not(unix))]
    let _ = (pid, signal);
}

/// How Lambda words an extension's end: "exit code 3", "signal: killed".
fn extension_exit(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => describe_status(status),
    }
}

/// A running function process.
pub(super) struct FunctionProcess {
    pub(super) child: Child,
    pub(super) pid: u32,
    pub(super) api: RuntimeApi,
    logs: Arc<LogSink>,
    /// Highest RSS sampled, in bytes.
    sampled_peak: u64,
}

/// What ended a wait on the process.
pub(super) enum Ended {
    Next,
    Response(Bytes),
    /// The runtime started to stream its response.
    Streaming(ResponseStream),
    /// A streamed response went over the invoker's limit (in bytes).
    StreamTooLarge(usize),
    Error(PostedError),
    TooLarge,
    InitError(PostedError),
    Exited(String),
    TimedOut,
    OutOfMemory,
    /// An extension failed (crashed, or posted an error).
    Extension(ExtensionFailure),
}

impl FunctionProcess {
    /// Starts `bootstrap` with exactly `env`, in `task_root`, its output collected as log lines
    /// into `sink`.
    pub(super) async fn spawn(
        launch: &Launch<'_>,
        launcher: &Launcher,
        bootstrap: &Path,
        api: RuntimeApi,
        sink: Arc<LogSink>,
    ) -> Result<FunctionProcess> {
        let (child, pid, _) = launch
            .start(launcher, bootstrap, &sink, LogSource::Function)
            .await
            .with_context(|| format!("starting {}", bootstrap.display()))?;
        Ok(FunctionProcess {
            child,
            pid,
            api,
            logs: sink,
            sampled_peak: 0,
        })
    }

    /// Whether the process has ended (while idle, say).
    pub(super) fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)) | Err(_))
    }

    /// Waits for the runtime to ask for an event (`request_id` `None`, the init phase) or to
    /// answer `request_id`, for the process to end, for `deadline`, or for memory over `limit`.
    pub(super) async fn wait(
        &mut self,
        request_id: Option<&str>,
        deadline: Instant,
        limit: u64,
    ) -> Ended {
        let deadline = tokio::time::Instant::from_std(deadline);
        let mut poll = memory_poll();
        loop {
            tokio::select! {
                biased;
                message = self.api.recv() => match message {
                    Some(RuntimeMessage::Next) if request_id.is_none() => return Ended::Next,
                    Some(RuntimeMessage::InitError { error }) => return Ended::InitError(error),
                    Some(RuntimeMessage::Response { request_id: id, body })
                        if Some(id.as_str()) == request_id => return Ended::Response(body),
                    Some(RuntimeMessage::Error { request_id: id, error })
                        if Some(id.as_str()) == request_id => return Ended::Error(error),
                    Some(RuntimeMessage::ResponseTooLarge { request_id: id })
                        if Some(id.as_str()) == request_id => return Ended::TooLarge,
                    Some(RuntimeMessage::StreamStarted { request_id: id, stream })
                        if Some(id.as_str()) == request_id => return Ended::Streaming(stream),
                    Some(_) => {}
                    None => return Ended::Exited("the Runtime API stopped".to_string()),
                },
                status = self.child.wait() => {
                    return Ended::Exited(match status {
                        Ok(status) => describe_status(status),
                        Err(error) => format!("exit status unknown ({error})"),
                    });
                }
                _ = tokio::time::sleep_until(deadline) => {
                    self.kill().await;
                    return Ended::TimedOut;
                }
                _ = poll.tick() => {
                    if let Some(resident) = memory::tree_resident(self.pid) {
                        self.sampled_peak = self.sampled_peak.max(resident.current);
                        if resident.current > limit {
                            self.kill().await;
                            return Ended::OutOfMemory;
                        }
                    }
                }
            }
        }
    }

    /// The next frame of a streamed response, while watching the process as [`Self::wait`]
    /// does: `Err` when it ends, runs past `deadline` or over `limit` first.
    pub(super) async fn next_frame(
        &mut self,
        frames: &mut tokio::sync::mpsc::Receiver<StreamFrame>,
        deadline: Instant,
        limit: u64,
        poll: &mut tokio::time::Interval,
    ) -> Result<StreamFrame, Ended> {
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            tokio::select! {
                biased;
                frame = frames.recv() => {
                    return Ok(frame.unwrap_or_else(|| {
                        StreamFrame::Broken("the Runtime API stopped".to_string())
                    }));
                }
                status = self.child.wait() => {
                    return Err(Ended::Exited(match status {
                        Ok(status) => describe_status(status),
                        Err(error) => format!("exit status unknown ({error})"),
                    }));
                }
                _ = tokio::time::sleep_until(deadline) => {
                    self.kill().await;
                    return Err(Ended::TimedOut);
                }
                _ = poll.tick() => {
                    if let Some(resident) = memory::tree_resident(self.pid) {
                        self.sampled_peak = self.sampled_peak.max(resident.current);
                        if resident.current > limit {
                            self.kill().await;
                            return Err(Ended::OutOfMemory);
                        }
                    }
                }
            }
        }
    }

    /// The log lines written so far (bounded; see [`logs`]).
    pub(super) async fn drain_logs(&self) -> Vec<String> {
        logs::drain(&self.logs).await
    }

    /// Peak resident memory of the process tree: VmHWM while it lives, with the highest
    /// sampled RSS as the floor (and the only figure once it is gone).
    pub(super) fn max_memory_used(&self) -> u64 {
        let hwm = memory::tree_resident(self.pid).map_or(0, |r| r.peak);
        hwm.max(self.sampled_peak)
    }

    /// Asks the runtime to stop (SIGTERM to its group), waits `grace` for it to exit, then
    /// kills it: Lambda's shutdown of a runtime beside external extensions.
    pub(super) async fn terminate(&mut self, grace: Duration) {
        if self.has_exited() {
            return;
        }
        kill_group(self.pid, Signal::Term);
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            self.kill().await;
        } else {
            // Whatever else is left of its group.
            kill_group(self.pid, Signal::Kill);
        }
    }

    /// Kills the process group the function runs in (it was started as its leader), then
    /// reaps the process, waiting a bounded time.
    pub(super) async fn kill(&mut self) {
        #[cfg(unix)]
        if let Ok(pgid) = i32::try_from(self.pid) {
            // SAFETY: kill(2) with a negative pid signals the group; it touches no memory.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(REAP_TIMEOUT, self.child.wait()).await;
    }
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

impl Drop for FunctionProcess {
    /// A process dropped without [`FunctionProcess::kill`] (its sandbox dropped mid-invocation,
    /// or at exit) takes its whole group with it, not only the direct child.
    fn drop(&mut self) {
        #[cfg(unix)]
        if matches!(self.child.try_wait(), Ok(None)) {
            if let Ok(pgid) = i32::try_from(self.pid) {
                // SAFETY: kill(2) with a negative pid signals the group; it touches no memory.
                unsafe {
                    libc::kill(-pgid, libc::SIGKILL);
                }
            }
        }
    }
}

/// Waits for every task of `handles`.
async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for handle in handles {
        let _ = handle.await;
    }
}
