//! Up to N execution environments of one function, as Lambda scales a function with reserved
//! concurrency N: a request takes an idle [`Sandbox`] (the most recently used, so that the
//! others age out), or starts a new one (its own bootstrap process, its own cold start, its
//! own log stream) while fewer than N exist; with all N busy a synchronous request is refused
//! ([`Pool::try_acquire`] gives `None`, `serve` answers 429 `TooManyRequestsException`) and an
//! asynchronous one waits its turn ([`Pool::acquire`]). Sandboxes idle longer than the idle
//! timeout are shut down ([`Pool::reap_idle`]), so the next request is cold again.
//!
//! Sandboxes share nothing but the prepared code: one that times out, crashes or runs out of
//! memory ends only its own process.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Result;
use crate::error::Failure;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::sandbox::{FunctionConfig, Invocation, PreparedCode, Sandbox};

/// A bounded set of sandboxes of one function.
pub struct Pool {
    /// The code new sandboxes start from, and its generation: `serve --watch` replaces it
    /// ([`Pool::replace_code`]) while sandboxes of the old one finish their invocations.
    code: Mutex<(Arc<PreparedCode>, u64)>,
    config: FunctionConfig,
    limit: usize,
    idle_timeout: Duration,
    /// One permit per sandbox that may be busy at once.
    slots: Arc<Semaphore>,
    /// Warm sandboxes nobody uses, with when they were last used; the last is the newest.
    idle: Mutex<Vec<(Sandbox, Instant)>>,
}

/// A sandbox lent out for invocations; it goes back to the pool (if its process is still up)
/// when the lease is dropped.
pub struct Lease {
    pool: Arc<Pool>,
    /// The code generation its sandbox runs: an older one is not returned to the pool.
    generation: u64,
    sandbox: Option<Sandbox>,
    /// Set while an invocation runs: a lease dropped mid-invocation (its future cancelled)
    /// leaves the process in an unknown state, so the sandbox is then discarded, not reused.
    busy: bool,
    _slot: OwnedSemaphorePermit,
}

impl Pool {
    /// A pool of at most `limit` (at least 1) sandboxes of `code`.
    pub fn new(
        code: Arc<PreparedCode>,
        config: FunctionConfig,
        limit: usize,
        idle_timeout: Duration,
    ) -> Arc<Pool> {
        let limit = limit.max(1);
        Arc::new(Pool {
            code: Mutex::new((code, 0)),
            config,
            limit,
            idle_timeout,
            slots: Arc::new(Semaphore::new(limit)),
            idle: Mutex::new(Vec::new()),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    pub fn code(&self) -> Arc<PreparedCode> {
        Arc::clone(&self.lock_code().0)
    }

    fn lock_code(&self) -> std::sync::MutexGuard<'_, (Arc<PreparedCode>, u64)> {
        self.code.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// New code for the sandboxes: the idle ones are shut down at once, the busy ones once
    /// their invocation has finished (their lease is not returned); the next request starts a
    /// sandbox of `code`, cold. Returns how many idle sandboxes were shut down.
    pub async fn replace_code(&self, code: Arc<PreparedCode>) -> usize {
        {
            let mut current = self.lock_code();
            let generation = current.1 + 1;
            *current = (code, generation);
        }
        let idle: Vec<Sandbox> = self.lock_idle().drain(..).map(|(s, _)| s).collect();
        let count = idle.len();
        for sandbox in idle {
            print_lines(sandbox.shutdown().await);
        }
        count
    }

    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    /// A sandbox at once, or `None` when all `limit` are busy (Lambda's throttle).
    pub fn try_acquire(self: &Arc<Self>) -> Result<Option<Lease>> {
        match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(slot) => self.lease(slot).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// A sandbox, waiting for one to be free (for asynchronous invocations, which Lambda
    /// queues rather than refuses).
    pub async fn acquire(self: &Arc<Self>) -> Result<Lease> {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| Failure::msg("the emulator is shutting down"))?;
        self.lease(slot)
    }

    fn lease(self: &Arc<Self>, slot: OwnedSemaphorePermit) -> Result<Lease> {
        let (code, generation) = self.lock_code().clone();
        let reused = self.lock_idle().pop().map(|(sandbox, _)| sandbox);
        let sandbox = match reused {
            Some(sandbox) => sandbox,
            None => Sandbox::with_code(code, self.config.clone())?,
        };
        Ok(Lease {
            pool: Arc::clone(self),
            generation,
            sandbox: Some(sandbox),
            busy: false,
            _slot: slot,
        })
    }

    /// How many warm sandboxes are idle.
    pub fn idle_count(&self) -> usize {
        self.lock_idle().len()
    }

    /// Shuts down the sandboxes idle for longer than the idle timeout; returns how many.
    pub async fn reap_idle(&self) -> usize {
        let expired: Vec<Sandbox> = {
            let mut idle = self.lock_idle();
            let (old, fresh): (Vec<_>, Vec<_>) = idle
                .drain(..)
                .partition(|(_, since)| since.elapsed() >= self.idle_timeout);
            *idle = fresh;
            old.into_iter().map(|(sandbox, _)| sandbox).collect()
        };
        let count = expired.len();
        for sandbox in expired {
            print_lines(sandbox.shutdown().await);
        }
        count
    }

    /// Waits (at most `patience`) for the busy sandboxes to be returned, then shuts every idle
    /// one down. Sandboxes still busy after that are killed when they are dropped.
    pub async fn shutdown(&self, patience: Duration) {
        let all = u32::try_from(self.limit).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(patience, self.slots.acquire_many(all)).await;
        self.slots.close();
        let idle: Vec<Sandbox> = self.lock_idle().drain(..).map(|(s, _)| s).collect();
        for sandbox in idle {
            print_lines(sandbox.shutdown().await);
        }
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<(Sandbox, Instant)>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The lines an environment wrote while it shut down (its extensions' answers to SHUTDOWN),
/// on stderr with the invocations' logs.
fn print_lines(lines: Vec<String>) {
    for line in lines {
        eprintln!("{line}");
    }
}

impl Lease {
    /// Invokes the lent sandbox; see [`Sandbox::invoke`].
    pub async fn invoke(&mut self, payload: &[u8]) -> Result<Invocation> {
        let sandbox = self
            .sandbox
            .as_mut()
            .expect("a lease holds its sandbox until dropped");
        self.busy = true;
        let result = sandbox.invoke(payload).await;
        self.busy = false;
        result
    }

    /// Invokes the lent sandbox, streaming; see [`Sandbox::invoke_streaming`].
    pub async fn invoke_streaming(
        &mut self,
        payload: &[u8],
        parts: super::streaming::ResponseSender,
    ) -> Result<Invocation> {
        let sandbox = self
            .sandbox
            .as_mut()
            .expect("a lease holds its sandbox until dropped");
        self.busy = true;
        let result = sandbox.invoke_streaming(payload, parts).await;
        self.busy = false;
        result
    }

    pub fn sandbox(&self) -> &Sandbox {
        self.sandbox
            .as_ref()
            .expect("a lease holds its sandbox until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            // Only a warm, settled sandbox is worth keeping; a cold one costs nothing to make.
            let current = self.generation == self.pool.lock_code().1;
            if sandbox.is_warm() && !self.busy && current {
                self.pool.lock_idle().push((sandbox, Instant::now()));
            }
        }
    }
}
