//! The Lambda Extensions API (version 2020-01-01), served beside the Runtime API on the same
//! address (`AWS_LAMBDA_RUNTIME_API`), one per function process:
//!
//! - `POST /2020-01-01/extension/register` (`Lambda-Extension-Name`, body `{"events": [...]}`
//!   with `INVOKE` and/or `SHUTDOWN`): 200 with `Lambda-Extension-Identifier` and
//!   `{"functionName", "functionVersion", "handler"}` (and `accountId` when
//!   `Lambda-Extension-Accept-Feature: accountId` asks for it). An extension named after a file
//!   of `/opt/extensions` is external; any other is internal (a thread of the runtime's process),
//!   which may not ask for `SHUTDOWN` and must register before the runtime's first `next`.
//! - `GET /2020-01-01/extension/event/next` (`Lambda-Extension-Identifier`): blocks until the
//!   next event: `{"eventType": "INVOKE", "deadlineMs", "requestId", "invokedFunctionArn",
//!   "tracing": {"type": "X-Amzn-Trace-Id", "value"}}` or `{"eventType": "SHUTDOWN",
//!   "shutdownReason": "spindown"|"timeout"|"failure", "deadlineMs"}`.
//! - `POST /2020-01-01/extension/init/error` and `/exit/error`
//!   (`Lambda-Extension-Function-Error-Type`): 202; the init, or the environment, fails with
//!   that error type.
//!
//! The state machine ([`Registry`]) is pure: who registered, who is waiting in `next`, the
//! events queued for each, and the first failure. The sandbox drives it (dispatching events,
//! recording exits) and waits on it through [`Extensions::wait_until`].
//!
//! For the Telemetry and Logs APIs: [`Extensions::name_of`] maps a `Lambda-Extension-Identifier`
//! to its extension's name; the sandbox reports its lifecycle and every log line to the
//! [`LifecycleObserver`](super::lifecycle::LifecycleObserver)s of
//! [`FunctionConfig::observers`](super::FunctionConfig::observers), and serves the routes their
//! `routes` gives on each environment's Runtime API address.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::watch;

/// The whole shutdown budget when external extensions are registered: 2,000 ms.
pub const SHUTDOWN_BUDGET: Duration = Duration::from_millis(2000);
/// The runtime's share of it (SIGTERM to SIGKILL) with external extensions only: 300 ms.
pub const RUNTIME_SHUTDOWN: Duration = Duration::from_millis(300);
/// The runtime's share when it also registered internal extensions: 500 ms.
pub const RUNTIME_SHUTDOWN_WITH_INTERNAL: Duration = Duration::from_millis(500);

/// The events an extension may register for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventType {
    Invoke,
    Shutdown,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Invoke => "INVOKE",
            EventType::Shutdown => "SHUTDOWN",
        }
    }
}

/// Why the execution environment shuts down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    /// Idle, or the emulator stops.
    Spindown,
    /// The function ran past its timeout and was killed.
    Timeout,
    /// The runtime or an extension failed.
    Failure,
}

impl ShutdownReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ShutdownReason::Spindown => "spindown",
            ShutdownReason::Timeout => "timeout",
            ShutdownReason::Failure => "failure",
        }
    }
}

/// An event handed to extensions by `event/next`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionEvent {
    Invoke {
        request_id: String,
        deadline_ms: u64,
        invoked_function_arn: String,
        trace_id: String,
    },
    Shutdown {
        reason: ShutdownReason,
        deadline_ms: u64,
    },
}

impl ExtensionEvent {
    pub fn event_type(&self) -> EventType {
        match self {
            ExtensionEvent::Invoke { .. } => EventType::Invoke,
            ExtensionEvent::Shutdown { .. } => EventType::Shutdown,
        }
    }

    /// The body of `event/next`, as Lambda writes it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ExtensionEvent::Invoke {
                request_id,
                deadline_ms,
                invoked_function_arn,
                trace_id,
            } => serde_json::json!({
                "eventType": "INVOKE",
                "deadlineMs": deadline_ms,
                "requestId": request_id,
                "invokedFunctionArn": invoked_function_arn,
                "tracing": {"type": "X-Amzn-Trace-Id", "value": trace_id},
            }),
            ExtensionEvent::Shutdown {
                reason,
                deadline_ms,
            } => serde_json::json!({
                "eventType": "SHUTDOWN",
                "shutdownReason": reason.as_str(),
                "deadlineMs": deadline_ms,
            }),
        }
    }
}

/// Where an extension runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A process of its own, started from `/opt/extensions`.
    External,
    /// A thread of the runtime's process.
    Internal,
}

/// An answer of the API that is not a success: its status and Lambda's JSON error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub error_type: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, error_type: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error_type: error_type.to_string(),
            message: message.into(),
        }
    }
}

/// What makes the environment fail because of an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionFailure {
    pub extension: String,
    /// `Extension.Crash` for an extension that exited, else the type it posted.
    pub error_type: String,
    /// What happened, as Lambda says it after `RequestId: … Error: ` ("exit code 3").
    pub message: String,
}

#[derive(Debug)]
struct Extension {
    id: String,
    name: String,
    kind: Kind,
    events: Vec<EventType>,
    queue: VecDeque<ExtensionEvent>,
    /// In `next`, waiting for an event (or about to take one from the queue).
    waiting: bool,
    /// Asked for the next event after it was sent SHUTDOWN: done with it.
    shut_down: bool,
    shutdown_sent: bool,
    exited: bool,
}

/// The extensions of one function process and where each stands. Pure: no IO, no time.
#[derive(Debug, Default)]
pub struct Registry {
    /// The names of the external extensions started (files of `/opt/extensions`).
    expected: Vec<String>,
    extensions: Vec<Extension>,
    /// The runtime asked for its first event: registration is closed.
    runtime_ready: bool,
    failure: Option<ExtensionFailure>,
}

impl Registry {
    /// A registry expecting the external extensions `expected` (the names of their files).
    pub fn new(expected: Vec<String>) -> Registry {
        Registry {
            expected,
            ..Registry::default()
        }
    }

    /// Registers `name` for `events`, with the identifier `id` (a fresh UUID in the server).
    pub fn register(
        &mut self,
        id: String,
        name: &str,
        events: Vec<EventType>,
    ) -> Result<Kind, ApiError> {
        if self.runtime_ready {
            return Err(ApiError::new(
                403,
                "Extension.RegistrationClosed",
                format!(
                    "{name} registered after the init phase: extensions register before the \
                     runtime's first next"
                ),
            ));
        }
        if name.is_empty() {
            return Err(ApiError::new(
                400,
                "InvalidRequest",
                "the Lambda-Extension-Name header is missing or empty",
            ));
        }
        if self.extensions.iter().any(|e| e.name == name) {
            return Err(ApiError::new(
                409,
                "Extension.AlreadyRegistered",
                format!("an extension named {name} is already registered"),
            ));
        }
        let kind = if self.expected.iter().any(|e| e == name) {
            Kind::External
        } else {
            Kind::Internal
        };
        if kind == Kind::Internal && events.contains(&EventType::Shutdown) {
            return Err(ApiError::new(
                403,
                "ShutdownEventNotSupportedForInternalExtension",
                format!(
                    "{name} is not a file of /opt/extensions, so it is an internal extension, \
                     and internal extensions cannot register for SHUTDOWN"
                ),
            ));
        }
        self.extensions.push(Extension {
            id,
            name: name.to_string(),
            kind,
            events,
            queue: VecDeque::new(),
            waiting: false,
            shut_down: false,
            shutdown_sent: false,
            exited: false,
        });
        Ok(kind)
    }

    fn by_id(&mut self, id: &str) -> Result<&mut Extension, ApiError> {
        self.extensions
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(|| {
                ApiError::new(
                    403,
                    "Extension.UnknownExtensionIdentifier",
                    format!("{id:?} is not the identifier of a registered extension"),
                )
            })
    }

    /// The extension `id` asks for its next event: it is done with the previous one.
    pub fn ask_next(&mut self, id: &str) -> Result<(), ApiError> {
        let extension = self.by_id(id)?;
        extension.waiting = true;
        if extension.shutdown_sent && extension.queue.is_empty() {
            extension.shut_down = true;
        }
        Ok(())
    }

    /// The event waiting for `id`, taken out of its queue (it is then busy with it).
    pub fn take_event(&mut self, id: &str) -> Result<Option<ExtensionEvent>, ApiError> {
        let extension = self.by_id(id)?;
        let event = extension.queue.pop_front();
        if event.is_some() {
            extension.waiting = false;
        }
        Ok(event)
    }

    /// The runtime asked for its first event: no extension may register any more.
    pub fn runtime_ready(&mut self) {
        self.runtime_ready = true;
    }

    /// Queues `event` for every extension that registered for it (SHUTDOWN only reaches
    /// external ones); returns how many.
    pub fn dispatch(&mut self, event: &ExtensionEvent) -> usize {
        let kind = event.event_type();
        let mut count = 0;
        for extension in &mut self.extensions {
            if extension.exited || !extension.events.contains(&kind) {
                continue;
            }
            if kind == EventType::Shutdown {
                if extension.kind != Kind::External {
                    continue;
                }
                extension.shutdown_sent = true;
            }
            extension.queue.push_back(event.clone());
            count += 1;
        }
        count
    }

    /// Whether every external extension started has registered.
    pub fn externals_registered(&self) -> bool {
        self.expected
            .iter()
            .all(|name| self.extensions.iter().any(|e| &e.name == name))
    }

    /// Whether every registered extension is waiting in `next` with nothing queued: the init
    /// phase (with the runtime's `next`) or the invocation is complete.
    pub fn all_waiting(&self) -> bool {
        self.extensions
            .iter()
            .all(|e| e.exited || (e.waiting && e.queue.is_empty()))
    }

    /// Whether every extension sent SHUTDOWN is done with it (asked for more, or exited).
    pub fn shutdown_complete(&self) -> bool {
        self.extensions
            .iter()
            .filter(|e| e.shutdown_sent)
            .all(|e| e.shut_down || e.exited)
    }

    /// The external extension `name` ended (`exit` as Lambda words it, "exit code 3"). Outside
    /// a shutdown, that fails the environment: `Extension.Crash`.
    pub fn exited(&mut self, name: &str, exit: &str) {
        let mut shutting_down = false;
        if let Some(extension) = self.extensions.iter_mut().find(|e| e.name == name) {
            extension.exited = true;
            shutting_down = extension.shutdown_sent;
        }
        if !shutting_down {
            self.fail(name, "Extension.Crash", exit.to_string());
        }
    }

    /// The external extension `name` could not be started: `Extension.LaunchError`.
    pub fn launch_failed(&mut self, name: &str, reason: &str) {
        self.fail(name, "Extension.LaunchError", reason.to_string());
    }

    /// The extension `id` posted `init/error` or `exit/error` with `error_type`.
    pub fn posted_error(
        &mut self,
        id: &str,
        error_type: &str,
        phase: &str,
    ) -> Result<(), ApiError> {
        let name = self.by_id(id)?.name.clone();
        let error_type = if error_type.is_empty() {
            "Extension.UnknownError"
        } else {
            error_type
        };
        self.fail(
            &name,
            error_type,
            format!("the extension {name} reported an {phase} error: {error_type}"),
        );
        Ok(())
    }

    fn fail(&mut self, extension: &str, error_type: &str, message: String) {
        if self.failure.is_none() {
            self.failure = Some(ExtensionFailure {
                extension: extension.to_string(),
                error_type: error_type.to_string(),
                message,
            });
        }
    }

    /// The first failure of an extension, if any.
    pub fn failure(&self) -> Option<&ExtensionFailure> {
        self.failure.as_ref()
    }

    /// The name of the extension registered as `id`.
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.name.as_str())
    }

    /// Whether an internal extension registered (the runtime's shutdown share grows).
    pub fn has_internal(&self) -> bool {
        self.extensions.iter().any(|e| e.kind == Kind::Internal)
    }

    /// Whether any external extension registered (shutdown then follows Lambda's budget).
    pub fn has_external(&self) -> bool {
        self.extensions.iter().any(|e| e.kind == Kind::External)
    }

    /// Each registered extension, its state (`Ready`, `Registered`, `InitError`, `Exited`) and
    /// the events it registered for: what the `EXTENSION` log line and the Telemetry API's
    /// `platform.extension` event say.
    pub fn states(&self) -> Vec<ExtensionState> {
        self.extensions
            .iter()
            .map(|e| ExtensionState {
                name: e.name.clone(),
                state: match (&self.failure, e.exited) {
                    (Some(f), _) if f.extension == e.name => "InitError",
                    (_, true) => "Exited",
                    _ if e.waiting => "Ready",
                    _ => "Registered",
                },
                events: e.events.iter().map(|t| t.as_str()).collect(),
            })
            .collect()
    }

    /// Lambda's `EXTENSION` log lines for the init phase, one per extension:
    /// `EXTENSION\tName: logger\tState: Ready\tEvents: [INVOKE,SHUTDOWN]`.
    pub fn log_lines(&self) -> Vec<String> {
        self.states()
            .into_iter()
            .map(|e| {
                format!(
                    "EXTENSION\tName: {}\tState: {}\tEvents: [{}]",
                    e.name,
                    e.state,
                    e.events.join(",")
                )
            })
            .collect()
    }
}

/// An extension as [`Registry::states`] describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionState {
    pub name: String,
    pub state: &'static str,
    pub events: Vec<&'static str>,
}

/// What `register` answers with: the function the extension runs beside.
#[derive(Debug, Clone)]
pub struct FunctionInfo {
    pub function_name: String,
    pub function_version: String,
    pub handler: String,
    pub account_id: String,
}

/// A [`Registry`] shared by the API's handlers and the sandbox, with a signal on every change.
pub struct Extensions {
    registry: Mutex<Registry>,
    changed: watch::Sender<u64>,
    function: FunctionInfo,
}

impl Extensions {
    pub fn new(function: FunctionInfo, expected: Vec<String>) -> Arc<Extensions> {
        Arc::new(Extensions {
            registry: Mutex::new(Registry::new(expected)),
            changed: watch::Sender::new(0),
            function,
        })
    }

    /// Changes the registry and wakes everyone waiting on it.
    pub fn update<R>(&self, change: impl FnOnce(&mut Registry) -> R) -> R {
        let result = change(&mut self.registry.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.send_modify(|version| *version += 1);
        result
    }

    /// Reads the registry.
    pub fn read<R>(&self, look: impl FnOnce(&Registry) -> R) -> R {
        look(&self.registry.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Waits until `check` gives a value (checked now, then after every change).
    pub async fn wait_until<R>(&self, mut check: impl FnMut(&mut Registry) -> Option<R>) -> R {
        let mut changes = self.changed.subscribe();
        loop {
            let found = check(&mut self.registry.lock().unwrap_or_else(|e| e.into_inner()));
            if let Some(found) = found {
                return found;
            }
            // The sender lives as long as `self`.
            let _ = changes.changed().await;
        }
    }

    /// The name of the extension registered as `identifier`: for the Telemetry and Logs APIs,
    /// which know their subscribers by it.
    pub fn name_of(&self, identifier: &str) -> Option<String> {
        self.read(|r| r.name_of(identifier).map(str::to_string))
    }
}

/// The routes of the Extensions API, to merge into the Runtime API's router.
pub fn router(extensions: Arc<Extensions>) -> Router {
    Router::new()
        .route("/2020-01-01/extension/register", post(register))
        .route("/2020-01-01/extension/event/next", get(next))
        .route("/2020-01-01/extension/init/error", post(init_error))
        .route("/2020-01-01/extension/exit/error", post(exit_error))
        .with_state(extensions)
}

pub(super) fn error_response(error: ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({ "errorMessage": error.message, "errorType": error.error_type });
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

pub(super) fn identifier(headers: &HeaderMap) -> Result<&str, ApiError> {
    match header(headers, "lambda-extension-identifier") {
        "" => Err(ApiError::new(
            403,
            "Extension.MissingExtensionIdentifier",
            "the Lambda-Extension-Identifier header is missing",
        )),
        id => Ok(id),
    }
}

#[derive(serde::Deserialize)]
struct RegisterBody {
    events: Vec<EventType>,
}

async fn register(
    State(extensions): State<Arc<Extensions>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = header(&headers, "lambda-extension-name").to_string();
    let events = match serde_json::from_slice::<RegisterBody>(&body) {
        Ok(body) => body.events,
        Err(error) => {
            return error_response(ApiError::new(
                400,
                "InvalidRequest",
                format!(
                    "the body must be {{\"events\": [\"INVOKE\", \"SHUTDOWN\"]}} (either or \
                     both): {error}"
                ),
            ))
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    if let Err(error) = extensions.update(|r| r.register(id.clone(), &name, events)) {
        return error_response(error);
    }
    let function = &extensions.function;
    let mut body = serde_json::json!({
        "functionName": function.function_name,
        "functionVersion": function.function_version,
        "handler": function.handler,
    });
    if header(&headers, "lambda-extension-accept-feature")
        .split(',')
        .any(|f| f.trim() == "accountId")
    {
        body["accountId"] = function.account_id.clone().into();
    }
    let mut response = (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert("lambda-extension-identifier", value);
    }
    response
}

async fn next(State(extensions): State<Arc<Extensions>>, headers: HeaderMap) -> Response {
    let id = match identifier(&headers) {
        Ok(id) => id.to_string(),
        Err(error) => return error_response(error),
    };
    if let Err(error) = extensions.update(|r| r.ask_next(&id)) {
        return error_response(error);
    }
    let event = extensions
        .wait_until(|r| r.take_event(&id).transpose())
        .await;
    match event {
        Ok(event) => {
            // Taking it changed the registry: the extension is busy.
            extensions.update(|_| ());
            let mut response = (
                StatusCode::OK,
                [("content-type", "application/json")],
                event.to_json().to_string(),
            )
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
                response
                    .headers_mut()
                    .insert("lambda-extension-event-identifier", value);
            }
            response
        }
        Err(error) => error_response(error),
    }
}

async fn posted_error(extensions: &Extensions, headers: &HeaderMap, phase: &str) -> Response {
    let id = match identifier(headers) {
        Ok(id) => id,
        Err(error) => return error_response(error),
    };
    let error_type = header(headers, "lambda-extension-function-error-type");
    match extensions.update(|r| r.posted_error(id, error_type, phase)) {
        Ok(()) => (
            StatusCode::ACCEPTED,
            [("content-type", "application/json")],
            r#"{"status":"OK"}"#,
        )
            .into_response(),
        Err(error) => error_response(error),
    }
}

async fn init_error(State(extensions): State<Arc<Extensions>>, headers: HeaderMap) -> Response {
    posted_error(&extensions, &headers, "init").await
}

async fn exit_error(State(extensions): State<Arc<Extensions>>, headers: HeaderMap) -> Response {
    posted_error(&extensions, &headers, "exit").await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoke(id: &str) -> ExtensionEvent {
        ExtensionEvent::Invoke {
            request_id: id.into(),
            deadline_ms: 1,
            invoked_function_arn: "arn".into(),
            trace_id: "Root=1-x".into(),
        }
    }

    fn both() -> Vec<EventType> {
        vec![EventType::Invoke, EventType::Shutdown]
    }

    #[test]
    fn externals_are_the_files_started_and_internals_cannot_get_shutdown() {
        let mut r = Registry::new(vec!["logger".into()]);
        assert!(!r.externals_registered());
        assert_eq!(r.register("1".into(), "logger", both()), Ok(Kind::External));
        assert!(r.externals_registered());
        let refused = r.register("2".into(), "flush", both()).unwrap_err();
        assert_eq!(
            refused.error_type,
            "ShutdownEventNotSupportedForInternalExtension"
        );
        assert_eq!(
            r.register("2".into(), "flush", vec![EventType::Invoke]),
            Ok(Kind::Internal)
        );
        assert_eq!(
            r.register("3".into(), "flush", vec![]).unwrap_err().status,
            409
        );
        assert_eq!(r.name_of("2"), Some("flush"));
        assert!(r.has_internal() && r.has_external());
        r.runtime_ready();
        assert_eq!(
            r.register("4".into(), "late", vec![]).unwrap_err().status,
            403
        );
    }

    #[test]
    fn init_and_invocations_complete_when_every_extension_asks_again() {
        let mut r = Registry::new(vec!["a".into(), "b".into()]);
        r.register("a".into(), "a", both()).unwrap();
        r.register("b".into(), "b", vec![EventType::Shutdown])
            .unwrap();
        assert!(!r.all_waiting(), "nobody asked for an event yet");
        r.ask_next("a").unwrap();
        assert!(!r.all_waiting());
        r.ask_next("b").unwrap();
        assert!(r.all_waiting(), "init is complete");

        // INVOKE goes to `a` only; the invocation waits for it.
        assert_eq!(r.dispatch(&invoke("req-1")), 1);
        assert!(!r.all_waiting());
        assert_eq!(r.take_event("a").unwrap(), Some(invoke("req-1")));
        assert_eq!(r.take_event("b").unwrap(), None);
        assert!(!r.all_waiting(), "a is busy with the event");
        r.ask_next("a").unwrap();
        assert!(r.all_waiting());
        assert!(r.ask_next("nobody").is_err());
    }

    #[test]
    fn shutdown_reaches_externals_and_ends_with_their_next_or_exit() {
        let mut r = Registry::new(vec!["a".into(), "b".into()]);
        r.register("a".into(), "a", both()).unwrap();
        r.register("b".into(), "b", both()).unwrap();
        r.register("i".into(), "internal", vec![EventType::Invoke])
            .unwrap();
        let shutdown = ExtensionEvent::Shutdown {
            reason: ShutdownReason::Spindown,
            deadline_ms: 2,
        };
        assert_eq!(r.dispatch(&shutdown), 2);
        assert!(!r.shutdown_complete());
        assert_eq!(r.take_event("a").unwrap(), Some(shutdown.clone()));
        r.ask_next("a").unwrap();
        assert!(!r.shutdown_complete());
        r.exited("b", "exit code 0");
        assert!(r.shutdown_complete());
        assert_eq!(r.failure(), None, "exiting after SHUTDOWN is no crash");
        assert_eq!(
            shutdown.to_json(),
            serde_json::json!({"eventType": "SHUTDOWN", "shutdownReason": "spindown", "deadlineMs": 2})
        );
    }

    #[test]
    fn a_crash_or_a_posted_error_fails_the_environment_once() {
        let mut r = Registry::new(vec!["crasher".into(), "b".into()]);
        r.register("b".into(), "b", both()).unwrap();
        r.exited("crasher", "exit code 3");
        let failure = r.failure().unwrap().clone();
        assert_eq!(failure.error_type, "Extension.Crash");
        assert_eq!(failure.extension, "crasher");
        assert_eq!(failure.message, "exit code 3");
        r.posted_error("b", "Extension.Bad", "exit").unwrap();
        assert_eq!(r.failure(), Some(&failure), "the first failure is kept");

        let mut r = Registry::new(vec!["b".into()]);
        r.register("b".into(), "b", both()).unwrap();
        r.posted_error("b", "Extension.ConfigInvalid", "init")
            .unwrap();
        assert_eq!(r.failure().unwrap().error_type, "Extension.ConfigInvalid");
        assert_eq!(
            r.log_lines(),
            ["EXTENSION\tName: b\tState: InitError\tEvents: [INVOKE,SHUTDOWN]"]
        );
    }

    #[test]
    fn invoke_events_have_lambdas_fields() {
        assert_eq!(
            invoke("r").to_json(),
            serde_json::json!({
                "eventType": "INVOKE", "deadlineMs": 1, "requestId": "r",
                "invokedFunctionArn": "arn",
                "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-x"},
            })
        );
    }
}
