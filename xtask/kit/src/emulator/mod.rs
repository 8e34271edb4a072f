//! A local emulator of the Lambda execution environment for a custom runtime: it runs the real
//! `bootstrap` (from a deployment zip, or a bare executable such as one taken from an OCI image
//! layer), serves it the Lambda Runtime API, and reports each invocation as CloudWatch would
//! (`START`, `END`, `REPORT` with Duration, Billed Duration, Max Memory Used, Init Duration).
//! An arm64 bootstrap on an x86_64 host runs under `qemu-aarch64`; its figures are then marked
//! as emulated ([`report::Metrics::emulated_by`]).
//!
//! # API
//!
//! ```no_run
//! use std::time::Duration;
//! use lambda_kit::emulator::{FunctionCode, FunctionConfig, Sandbox};
//!
//! # async fn demo() -> lambda_kit::emulator::Result<()> {
//! let config = FunctionConfig {
//!     memory_size_mb: 128,
//!     timeout: Duration::from_secs(3),
//!     environment: vec![("CALCULATE_PI_MAX_DIGITS_SPIGOT".into(), "20000".into())],
//!     ..FunctionConfig::default()
//! };
//! let mut sandbox = Sandbox::new(&FunctionCode::Zip("dist/lambda-arm64.zip".into()), config)?;
//! for _ in 0..3 {
//!     // The first invocation starts the process (cold); the others reuse it (warm).
//!     let invocation = sandbox.invoke(br#"{"digits": "10_000"}"#).await?;
//!     let m = &invocation.metrics;
//!     println!(
//!         "{:?} {:?} init={:?} billed={} ms max={} MB emulated={:?}",
//!         invocation.outcome, m.duration, m.init_duration, m.billed_duration_ms,
//!         m.max_memory_used_mb(), m.emulated_by,
//!     );
//!     eprint!("{}", invocation.log_text()); // START … END, REPORT
//! }
//! sandbox.reset().await; // the next invocation is a cold start again
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! - [`Sandbox::new`]`(&FunctionCode, FunctionConfig) -> Result<Sandbox>`: extracts a zip with
//!   [`crate::artifact::lambda_zip::read_bootstrap`] (or takes [`FunctionCode::Bootstrap`] as it is),
//!   checks the ELF architecture and finds `qemu-aarch64` when it is needed. Starts nothing.
//! - [`Sandbox::invoke`]`(&mut self, payload: &[u8]) -> Result<Invocation>` (async, needs a
//!   tokio runtime with time, IO and process drivers: [`tokio_runtime`] builds one): starts the
//!   process if there is none (cold, [`Invocation::is_cold`]), hands the event over, waits for
//!   the response or a fault. `Err` is kept for failures of the emulator itself; everything the
//!   function does wrong is an [`Outcome`]: `FunctionError` (its `/error` post), `RuntimeExit`
//!   (Runtime.ExitError: "exit status 3"), `Timeout` (killed after `timeout`), `OutOfMemory`
//!   (resident memory over `memory_size_mb`, killed), `InitError`, `InitTimeout` (init is
//!   bounded by `init_timeout`, 10 s as on Lambda), `ResponseTooLarge` (over 6 MB).
//!   Every fault that ends the process makes the next invocation cold.
//! - [`Invocation`]: `request_id`, `outcome`, `response` (the bytes the invoker gets: the
//!   response, or the error JSON), `metrics` ([`report::Metrics`]: `duration`,
//!   `init_duration`, `billed_duration_ms`, `memory_size_mb`, `max_memory_used_bytes`,
//!   `emulated_by`), the function's log lines, and [`Invocation::log_text`] /
//!   [`Invocation::report_line`] in CloudWatch's format.
//! - [`Sandbox::reset`] kills the process (forces a cold start); [`Sandbox::shutdown`] ends it.
//! - [`pool::Pool`] holds up to N sandboxes of one function (reserved concurrency, idle
//!   timeout); [`invoke_api::router`] puts a pool behind AWS's `Invoke` endpoint
//!   (`cargo xtask serve`), with 429 `TooManyRequestsException` when all N are busy.
//! - [`telemetry`]: the Telemetry and Logs APIs each environment serves beside its Runtime and
//!   Extensions APIs, pushing platform events and log lines to the extensions that subscribe.
//! - [`runtime_api::RuntimeApi`] is the Runtime API server alone; [`report`] holds the pure
//!   formatting and parsing of `START`/`END`/`REPORT` lines.
//!
//! # What is measured
//!
//! - Init Duration: from the process start to its first `GET …/invocation/next`.
//! - Duration: from the event handed to the runtime to its response (or the fault).
//! - Billed Duration: Duration (plus Init Duration on a cold start: custom runtimes are billed
//!   for init) rounded up to the millisecond.
//! - Max Memory Used: the peak resident memory (`VmHWM`, and the highest `VmRSS` sampled every
//!   10 ms) of the function's process tree, in MB of 2^20 bytes, rounded up. Under qemu it
//!   includes the emulator.
//!
//! The process gets only Lambda's environment ([`environment`]): none of the caller's
//! variables, so none of the caller's AWS credentials. Linux only (`/proc`, process groups).

pub mod environment;
pub mod event_stream;
pub mod extensions;
pub mod front_door;
pub mod http_event;
pub mod invoke_api;
pub mod lifecycle;
pub mod memory;
pub mod pool;
pub mod report;
pub mod runtime_api;
pub mod sandbox;
pub mod streaming;
pub mod telemetry;

pub use report::Metrics;
pub use runtime_api::DeadlineHeader;
pub use sandbox::{
    FunctionCode, FunctionConfig, Invocation, Outcome, PreparedCode, Sandbox, INIT_TIMEOUT,
};

/// A failure of the emulator itself (never of the function, whose faults are [`Outcome`]s):
/// code it cannot run here, a program it needs that is missing, a step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The code is not a bootstrap this emulator can run (not a Lambda zip, not a Linux ELF).
    #[error(transparent)]
    Code(#[from] crate::artifact::Error),
    #[error(transparent)]
    NotInstalled(#[from] crate::tools::NotInstalled),
    #[error(transparent)]
    Failure(#[from] crate::error::Failure),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A single-threaded tokio runtime with every driver the emulator needs.
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    use crate::error::Context;
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime for the emulator")?)
}
