//! What a sandbox tells observers about its execution environment as it goes: the platform
//! events Lambda's Telemetry API carries (init start and end, invoke start, runtime done, report,
//! shutdown) and every log line of the function and of its extensions, as it is read.
//!
//! Observers are set on [`FunctionConfig::observers`](super::FunctionConfig::observers) and
//! called synchronously from the sandbox (keep them quick: queue, do not block). An observer
//! may also serve routes beside the Runtime and Extensions APIs of each new environment
//! ([`LifecycleObserver::routes`]), knowing its extensions by their identifiers.

use std::sync::Arc;

use axum::Router;

use super::extensions::{Extensions, ShutdownReason};
use super::report::Metrics;

/// A platform event of one execution environment (`log_stream` names it).
#[derive(Debug, Clone)]
pub enum PlatformEvent {
    /// The init phase starts (extensions, then the runtime).
    InitStart,
    /// The init phase ended: `error_type` is `None` when it succeeded.
    InitEnd {
        error_type: Option<String>,
        /// How long init took: the Init Duration of the REPORT.
        duration: std::time::Duration,
    },
    /// An invocation was handed to the runtime (and to the extensions registered for INVOKE).
    InvokeStart { request_id: String },
    /// The runtime answered (or failed) the invocation; extensions may still be busy.
    RuntimeDone {
        request_id: String,
        /// `None` on success, else the error type.
        error_type: Option<String>,
    },
    /// The invocation is complete (every extension asked for its next event): its REPORT.
    Report {
        request_id: String,
        metrics: Metrics,
        error_type: Option<String>,
    },
    /// The environment shuts down.
    Shutdown { reason: ShutdownReason },
}

/// Who wrote a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    Function,
    /// An external extension, by its file name.
    Extension(String),
}

/// Receives what a sandbox does. Both methods default to doing nothing.
pub trait LifecycleObserver: Send + Sync {
    fn platform(&self, _log_stream: &str, _event: &PlatformEvent) {}
    fn log_line(&self, _log_stream: &str, _source: &LogSource, _line: &str) {}
    /// Routes to serve on the address of a new environment's Runtime API (`/2022-07-01/telemetry`,
    /// say), called once per environment before anything in it starts; `extensions` is its
    /// registry ([`Extensions::name_of`]).
    fn routes(&self, _log_stream: &str, _extensions: &Arc<Extensions>) -> Option<Router> {
        None
    }
}

/// The observers of a function's sandboxes.
#[derive(Clone, Default)]
pub struct Observers(pub Vec<Arc<dyn LifecycleObserver>>);

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Observers({})", self.0.len())
    }
}

impl Observers {
    pub fn platform(&self, log_stream: &str, event: &PlatformEvent) {
        for observer in &self.0 {
            observer.platform(log_stream, event);
        }
    }

    /// Every observer's routes for a new environment.
    pub fn routes(&self, log_stream: &str, extensions: &Arc<Extensions>) -> Vec<Router> {
        self.0
            .iter()
            .filter_map(|o| o.routes(log_stream, extensions))
            .collect()
    }

    pub fn log_line(&self, log_stream: &str, source: &LogSource, line: &str) {
        for observer in &self.0 {
            observer.log_line(log_stream, source, line);
        }
    }
}
