//! The Lambda Runtime API (version 2018-06-01) a custom runtime talks to, served on
//! 127.0.0.1 at an ephemeral port, one server per function process:
//!
//! - `GET  /2018-06-01/runtime/invocation/next`: waits for an event; answers 200 with the
//!   payload and the `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//!   `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id` headers.
//! - `POST /2018-06-01/runtime/invocation/{id}/response`: 202; 413 `RequestEntityTooLarge`
//!   above 6 MB; 400 `InvalidRequestID` for an id that is not in flight. With
//!   `Lambda-Runtime-Function-Response-Mode: streaming` the body is handed on chunk by chunk as
//!   it arrives ([`RuntimeMessage::StreamStarted`]; see [`super::streaming`]), an error in the
//!   `Lambda-Runtime-Function-Error-Type`/`-Body` trailers ends it, and the 202 comes at its end.
//! - `POST /2018-06-01/runtime/invocation/{id}/error`: 202; 400 for an unknown id or a body that
//!   is not a JSON object.
//! - `POST /2018-06-01/runtime/init/error`: 202 during init; 403 once init is over.
//!
//! Everything the runtime does arrives as a [`RuntimeMessage`] on [`RuntimeApi::recv`]; events
//! go out with [`RuntimeApi::send_event`]. A new process gets a new server, so a request left
//! over from a dead process can never take an event meant for its successor.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::Result;
use crate::error::{Context, Failure};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::extensions::{Extensions, FunctionInfo};
use super::streaming::{self, ResponseStream, StreamFrame};

/// Lambda's limit for a synchronous invocation's event: 6 MB (AWS's MB of 2^20 bytes), as its
/// `RequestEntityTooLargeException` says: "Request must be smaller than 6291456 bytes for the
/// InvokeFunction operation".
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// Lambda's limit for a buffered (synchronous) response: the documented "6 MB", which the
/// service enforces as 6,291,556 bytes, 100 more than the request's, as its
/// `Function.ResponseSizeTooLarge` says: "Response payload size exceeded maximum allowed
/// payload size (6291556 bytes)".
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// An invocation event handed to the runtime by `next`.
#[derive(Debug, Clone)]
pub struct Event {
    pub request_id: String,
    pub payload: Bytes,
    /// When the invocation times out, in Unix milliseconds.
    pub deadline_ms: u64,
    /// How the deadline is written in `Lambda-Runtime-Deadline-Ms` (Lambda's way by default).
    pub deadline_header: DeadlineHeader,
    pub invoked_function_arn: String,
    pub trace_id: String,
}

/// What `Lambda-Runtime-Deadline-Ms` carries. Lambda sends the deadline in Unix milliseconds;
/// other hosts of the Runtime API have sent a relative timeout, `0`, or nothing, and a runtime
/// must survive all of them (the rule: a deadline that cannot be real means no deadline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeadlineHeader {
    /// The deadline in Unix milliseconds, as Lambda sends it.
    #[default]
    Absolute,
    /// The milliseconds left until the deadline (`600000` for a 600 s timeout).
    Relative,
    /// `0`.
    Zero,
    /// A value that is not a number.
    Garbage,
    /// No header at all.
    Omit,
}

impl DeadlineHeader {
    /// The value sent for a deadline of `deadline_ms` at `now_ms`; `None` sends no header.
    pub fn value(self, deadline_ms: u64, now_ms: u64) -> Option<String> {
        match self {
            DeadlineHeader::Absolute => Some(deadline_ms.to_string()),
            DeadlineHeader::Relative => Some(deadline_ms.saturating_sub(now_ms).to_string()),
            DeadlineHeader::Zero => Some("0".to_string()),
            DeadlineHeader::Garbage => Some("not-a-deadline".to_string()),
            DeadlineHeader::Omit => None,
        }
    }
}

/// An error a runtime reported, as it posted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedError {
    pub error_type: String,
    pub error_message: String,
    /// The body as posted (a JSON object): what Lambda returns to the invoker.
    pub body: Bytes,
}

/// What the runtime did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeMessage {
    /// It asked for the next event: init is over (the first time) or it is idle again.
    Next,
    /// It answered the invocation.
    Response { request_id: String, body: Bytes },
    /// The function failed the invocation.
    Error {
        request_id: String,
        error: PostedError,
    },
    /// Its response was over [`MAX_RESPONSE_BYTES`] and was refused with 413.
    ResponseTooLarge { request_id: String },
    /// Its initialisation failed.
    InitError { error: PostedError },
    /// It started to stream its answer: the frames follow on `stream`.
    StreamStarted {
        request_id: String,
        stream: ResponseStream,
    },
}

struct Shared {
    events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    messages: mpsc::UnboundedSender<RuntimeMessage>,
    /// The request id handed out and not yet answered.
    in_flight: Mutex<Option<String>>,
    init_done: AtomicBool,
    /// The Extensions API served beside it: the runtime's first `next` closes registration.
    extensions: Arc<Extensions>,
}

impl Shared {
    /// Whether `request_id` is the event handed out and not yet answered.
    fn is_in_flight(&self, request_id: &str) -> bool {
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        in_flight.as_deref() == Some(request_id)
    }

    fn send(&self, message: RuntimeMessage) {
        // The receiver goes only when the sandbox drops this API, and the server with it.
        let _ = self.messages.send(message);
    }

    /// Takes `request_id` out of flight if it is the one in flight.
    fn complete(&self, request_id: &str) -> bool {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight.as_deref() == Some(request_id) {
            *in_flight = None;
            true
        } else {
            false
        }
    }
}

/// A running Runtime API server. [`RuntimeApi::stop`] stops accepting connections; dropping it
/// does that too, and a `next` still waiting then gets a 500 (the Runtime API's "container
/// error"). The sandbox kills the process, which closes the connections it had open.
pub struct RuntimeApi {
    address: SocketAddr,
    events: mpsc::Sender<Event>,
    messages: mpsc::UnboundedReceiver<RuntimeMessage>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds 127.0.0.1 on an ephemeral port and serves, with an Extensions API that expects no
    /// external extension. Needs a tokio runtime.
    pub async fn start() -> Result<RuntimeApi> {
        let function = FunctionInfo {
            function_name: "function".to_string(),
            function_version: super::report::LATEST.to_string(),
            handler: super::environment::HANDLER.to_string(),
            account_id: String::new(),
        };
        RuntimeApi::start_with(Extensions::new(function, Vec::new())).await
    }

    /// Binds 127.0.0.1 on an ephemeral port and serves the Runtime API and `extensions`'
    /// Extensions API ([`super::extensions`]). Needs a tokio runtime.
    pub async fn start_with(extensions: Arc<Extensions>) -> Result<RuntimeApi> {
        RuntimeApi::start_with_routes(extensions, Vec::new()).await
    }

    /// [`RuntimeApi::start_with`], also serving `routes` on the same address (the environment's
    /// Telemetry and Logs APIs, [`super::telemetry`], and those that observers add:
    /// [`super::lifecycle::LifecycleObserver::routes`]).
    pub async fn start_with_routes(
        extensions: Arc<Extensions>,
        routes: Vec<Router>,
    ) -> Result<RuntimeApi> {
        let (events_tx, events_rx) = mpsc::channel(1);
        let (messages_tx, messages_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: tokio::sync::Mutex::new(events_rx),
            messages: messages_tx,
            in_flight: Mutex::new(None),
            init_done: AtomicBool::new(false),
            extensions,
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the Runtime API to 127.0.0.1")?;
        let address = listener
            .local_addr()
            .context("reading the Runtime API's address")?;
        let app = routes.into_iter().fold(router(shared), Router::merge);
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("emulator: the Runtime API server stopped: {error}");
            }
        });
        Ok(RuntimeApi {
            address,
            events: events_tx,
            messages: messages_rx,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Queues an event for the runtime's next `next`. Fails if one is already queued.
    pub fn send_event(&self, event: Event) -> Result<()> {
        self.events
            .try_send(event)
            .map_err(|_| Failure::msg("an event is already waiting for the runtime").into())
    }

    /// The next thing the runtime did; `None` only if the server is gone.
    pub async fn recv(&mut self) -> Option<RuntimeMessage> {
        self.messages.recv().await
    }

    /// What the runtime did that has not been read yet, without waiting.
    pub fn try_recv(&mut self) -> Option<RuntimeMessage> {
        self.messages.try_recv().ok()
    }

    /// Stops accepting connections.
    pub fn stop(&self) {
        self.server.abort();
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let extensions = super::extensions::router(Arc::clone(&shared.extensions));
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .fallback(not_found)
        // Bodies are read with our own limit, to answer 413 in Lambda's words.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
        .merge(extensions)
}

/// The JSON error body of the Runtime API: `{"errorMessage": …, "errorType": …}`.
fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

fn unknown_request_id(request_id: &str) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        &format!("Invalid request ID: {request_id:?} is not the invocation in flight"),
    )
}

async fn not_found() -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "no such Runtime API resource (version 2018-06-01)",
    )
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.init_done.store(true, Ordering::SeqCst);
    shared.extensions.update(|r| r.runtime_ready());
    shared.send(RuntimeMessage::Next);
    let mut events = shared.events.lock().await;
    let Some(event) = events.recv().await else {
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Runtime.Shutdown",
            "the emulator is shutting down",
        );
    };
    drop(events);
    *shared.in_flight.lock().unwrap_or_else(|e| e.into_inner()) = Some(event.request_id.clone());
    let mut response = Response::new(Body::from(event.payload));
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let now_ms = super::report::unix_ms(std::time::SystemTime::now());
    let deadline = event.deadline_header.value(event.deadline_ms, now_ms);
    for (name, value) in [
        ("lambda-runtime-aws-request-id", Some(event.request_id)),
        ("lambda-runtime-deadline-ms", deadline),
        (
            "lambda-runtime-invoked-function-arn",
            Some(event.invoked_function_arn),
        ),
        ("lambda-runtime-trace-id", Some(event.trace_id)),
    ] {
        let Some(value) = value else { continue };
        match HeaderValue::from_str(&value) {
            Ok(value) => {
                headers.insert(name, value);
            }
            Err(_) => {
                return api_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Runtime.Unknown",
                    &format!("{name} cannot be sent as a header"),
                )
            }
        }
    }
    response
}

enum BodyError {
    TooLarge,
    Unreadable(String),
}

impl BodyError {
    /// AWS's answer to a body it cannot take.
    fn into_response(self) -> Response {
        match self {
            BodyError::TooLarge => api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
            ),
            BodyError::Unreadable(reason) => api_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestBody",
                &format!("could not read the body: {reason}"),
            ),
        }
    }
}

async fn read_body(body: Body) -> Result<Bytes, BodyError> {
    match Limited::new(body, MAX_RESPONSE_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge)
        }
        Err(error) => Err(BodyError::Unreadable(error.to_string())),
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !shared.is_in_flight(&request_id) {
        return unknown_request_id(&request_id);
    }
    if streaming::is_streaming(&headers) {
        return streamed_response(&shared, request_id, &headers, body).await;
    }
    match read_body(body).await {
        Ok(body) => {
            if !shared.complete(&request_id) {
                return unknown_request_id(&request_id);
            }
            shared.send(RuntimeMessage::Response { request_id, body });
            accepted()
        }
        Err(BodyError::TooLarge) => {
            if shared.complete(&request_id) {
                shared.send(RuntimeMessage::ResponseTooLarge { request_id });
            }
            BodyError::TooLarge.into_response()
        }
        Err(unreadable) => unreadable.into_response(),
    }
}

/// A streamed response: each chunk is handed on as it arrives; the invoker's limit is enforced
/// by the sandbox, which stops reading (and the runtime gets 413) past it.
async fn streamed_response(
    shared: &Shared,
    request_id: String,
    headers: &HeaderMap,
    mut body: Body,
) -> Response {
    if !shared.complete(&request_id) {
        return unknown_request_id(&request_id);
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (frames, stream) = ResponseStream::channel(content_type);
    shared.send(RuntimeMessage::StreamStarted { request_id, stream });
    let refused = || {
        api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            "the invoker stopped reading the streamed response (over its size limit, or gone)",
        )
    };
    loop {
        match body.frame().await {
            None => {
                let _ = frames.send(StreamFrame::End { error: None }).await;
                return accepted();
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    if !data.is_empty() && frames.send(StreamFrame::Data(data)).await.is_err() {
                        return refused();
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        let error = streaming::error_from_trailers(&trailers);
                        let _ = frames.send(StreamFrame::End { error }).await;
                        return accepted();
                    }
                }
            },
            Some(Err(error)) => {
                let reason = error.to_string();
                let _ = frames.send(StreamFrame::Broken(reason.clone())).await;
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestBody",
                    &format!("could not read the streamed body: {reason}"),
                );
            }
        }
    }
}

/// Reads an error body: a JSON object with optional `errorType` and `errorMessage` strings;
/// the `Lambda-Runtime-Function-Error-Type` header names the type when the body does not.
pub fn parse_posted_error(headers: &HeaderMap, body: Bytes) -> Result<PostedError, String> {
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("the error body is not JSON: {e}"))?;
    let object = value
        .as_object()
        .ok_or("the error body must be a JSON object with errorType and errorMessage")?;
    let text = |field: &str| match object.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{field} must be a string")),
    };
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let error_type = text("errorType")?
        .or(header_type)
        .unwrap_or_else(|| "Unhandled".to_string());
    Ok(PostedError {
        error_type,
        error_message: text("errorMessage")?.unwrap_or_default(),
        body,
    })
}

async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !shared.is_in_flight(&request_id) {
        return unknown_request_id(&request_id);
    }
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    match parse_posted_error(&headers, body) {
        Ok(error) => {
            if !shared.complete(&request_id) {
                return unknown_request_id(&request_id);
            }
            shared.send(RuntimeMessage::Error { request_id, error });
            accepted()
        }
        Err(reason) => api_error(StatusCode::BAD_REQUEST, "InvalidRequestBody", &reason),
    }
}

async fn init_error(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    if shared.init_done.load(Ordering::SeqCst) {
        return api_error(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "init/error is only accepted before the first next",
        );
    }
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    match parse_posted_error(&headers, body) {
        Ok(error) => {
            shared.send(RuntimeMessage::InitError { error });
            accepted()
        }
        Err(reason) => api_error(StatusCode::BAD_REQUEST, "InvalidRequestBody", &reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_take_the_type_from_the_body_then_the_header() {
        let mut headers = HeaderMap::new();
        let error = parse_posted_error(
            &headers,
            Bytes::from_static(br#"{"errorType":"MissingDigits","errorMessage":"no digits"}"#),
        )
        .unwrap();
        assert_eq!(error.error_type, "MissingDigits");
        assert_eq!(error.error_message, "no digits");

        headers.insert(
            "lambda-runtime-function-error-type",
            HeaderValue::from_static("Runtime.InitError"),
        );
        let error = parse_posted_error(&headers, Bytes::from_static(b"{}")).unwrap();
        assert_eq!(error.error_type, "Runtime.InitError");

        for bad in [&b"not json"[..], b"[1]", br#"{"errorType": 5}"#, b""] {
            assert!(
                parse_posted_error(&headers, Bytes::copy_from_slice(bad)).is_err(),
                "{bad:?}"
            );
        }
    }
}
