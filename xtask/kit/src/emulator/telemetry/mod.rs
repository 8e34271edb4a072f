//! The Telemetry API (`PUT /2022-07-01/telemetry`) and the older Logs API (`PUT
//! /2020-08-15/logs`), served beside the Runtime and Extensions APIs of one execution
//! environment: a registered extension subscribes ([`subscription`]) and gets, in batches
//! ([`batch`], [`delivery`]), the platform events of the environment's lifecycle, the
//! function's log lines and the extensions' ([`records`]), as Lambda pushes them.
//!
//! One [`Telemetry`] per environment, from its init to its shutdown. It hears the sandbox as a
//! [`LifecycleObserver`]; what happens during init before an extension could subscribe
//! (`platform.initStart`, the runtime's first lines) is kept and handed to the subscriptions
//! made during init, as Lambda does. The sandbox flushes every subscriber before it sends the
//! extensions SHUTDOWN ([`Telemetry::flush`]).

pub mod batch;
mod delivery;
pub mod records;
pub mod subscription;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::Router;
use tokio::sync::{mpsc, oneshot};

use self::delivery::{Command, Queue};
use self::records::Record;
use self::subscription::{Api, Subscription, ValidationError};
use super::extensions::{self, ApiError, Extensions};
use super::lifecycle::{LifecycleObserver, LogSource, PlatformEvent};
use super::report;

/// The most records kept from the init phase for subscriptions still to come.
const INIT_BACKLOG: usize = 10_000;
/// How many batches' worth of bytes (`maxBytes`) may wait for a subscriber before events are
/// dropped (and a `platform.logsDropped` says so).
const QUEUED_BATCHES: usize = 4;

/// The Telemetry and Logs APIs of one execution environment.
pub struct Telemetry {
    extensions: Arc<Extensions>,
    state: Mutex<Inner>,
}

struct Inner {
    /// The init phase's records, while it lasts.
    backlog: Option<Vec<(u64, Record)>>,
    invoke_started: Option<Instant>,
    /// The API of the first subscription: the other one refuses subscriptions.
    api: Option<Api>,
    subscribers: Vec<Subscriber>,
}

struct Subscriber {
    name: String,
    subscription: Subscription,
    queue: Arc<Queue>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Subscriber {
    fn send(&self, time_ms: u64, record: &Record) {
        let subscription = &self.subscription;
        if !subscription.wants(record.stream()) {
            return;
        }
        for event in record.render(subscription.api, &subscription.schema_version, time_ms) {
            let event = event.to_string();
            if self.queue.admit(event.len()) {
                let _ = self.commands.send(Command::Event(event));
            }
        }
    }
}

impl Telemetry {
    /// The APIs of an environment whose init starts now (its `platform.initStart`), knowing its
    /// subscribers by `extensions`' identifiers.
    pub fn new(extensions: Arc<Extensions>) -> Arc<Telemetry> {
        let telemetry = Arc::new(Telemetry {
            extensions,
            state: Mutex::new(Inner {
                backlog: Some(Vec::new()),
                invoke_started: None,
                api: None,
                subscribers: Vec::new(),
            }),
        });
        telemetry.emit(Record::InitStart);
        telemetry
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `record`, stamped now, to every subscriber that wants it (and keeps it for later
    /// subscriptions while init lasts).
    fn emit(&self, record: Record) {
        let time_ms = report::unix_ms(SystemTime::now());
        let mut state = self.state();
        for subscriber in &state.subscribers {
            subscriber.send(time_ms, &record);
        }
        if let Some(backlog) = &mut state.backlog {
            if backlog.len() < INIT_BACKLOG {
                backlog.push((time_ms, record));
            }
        }
    }

    /// `PUT` of a subscription with `api` by the extension `headers` identify. Needs a tokio
    /// runtime (the delivery runs as a task of its own).
    fn subscribe(&self, api: Api, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
        let id = extensions::identifier(headers)?;
        let name = self.extensions.name_of(id).ok_or_else(|| {
            ApiError::new(
                403,
                "Extension.UnknownExtensionIdentifier",
                format!("{id:?} is not the identifier of a registered extension"),
            )
        })?;
        let invalid =
            |ValidationError(message)| ApiError::new(400, ValidationError::ERROR_TYPE, message);
        let subscription = subscription::parse(api, body).map_err(invalid)?;
        let types = subscription.types.clone();
        {
            let mut state = self.state();
            match state.api {
                Some(used) if used != api => {
                    return Err(invalid(ValidationError(format!(
                        "{name} subscribes with the {}, but this environment's extensions \
                         subscribed with the {}: Lambda takes one or the other",
                        api.name(),
                        used.name()
                    ))))
                }
                _ => state.api = Some(api),
            }
            // A new subscription of the same extension replaces its earlier one.
            state.subscribers.retain(|s| s.name != name);
            let (commands, received) = mpsc::unbounded_channel();
            // A subscriber that falls behind loses events past four batches' worth of bytes.
            let queue = Arc::new(Queue::new(
                QUEUED_BATCHES * subscription.buffering.max_bytes,
            ));
            tokio::spawn(delivery::run(
                subscription.clone(),
                Arc::clone(&queue),
                received,
            ));
            let subscriber = Subscriber {
                name: name.clone(),
                subscription,
                queue,
                commands,
            };
            for (time_ms, record) in state.backlog.iter().flatten() {
                subscriber.send(*time_ms, record);
            }
            state.subscribers.push(subscriber);
        }
        self.emit(Record::Subscription { api, name, types });
        Ok(())
    }

    /// Sends every subscriber what is batched, waiting at most `within` for the deliveries.
    pub async fn flush(&self, within: Duration) {
        let waits: Vec<oneshot::Receiver<()>> = self
            .state()
            .subscribers
            .iter()
            .filter_map(|s| {
                let (done, wait) = oneshot::channel();
                s.commands.send(Command::Flush(done)).ok().map(|()| wait)
            })
            .collect();
        let _ = tokio::time::timeout(within, futures_util::future::join_all(waits)).await;
    }

    /// How many extensions subscribed.
    pub fn subscribers(&self) -> usize {
        self.state().subscribers.len()
    }
}

impl LifecycleObserver for Telemetry {
    fn platform(&self, _log_stream: &str, event: &PlatformEvent) {
        match event {
            // Emitted when this environment's APIs were made, at the start of init.
            PlatformEvent::InitStart | PlatformEvent::Shutdown { .. } => {}
            PlatformEvent::InitEnd {
                error_type,
                duration,
            } => {
                for extension in self.extensions.read(|r| r.states()) {
                    self.emit(Record::Extension {
                        name: extension.name,
                        state: extension.state.to_string(),
                        events: extension.events.iter().map(|e| e.to_string()).collect(),
                    });
                }
                self.emit(Record::InitRuntimeDone {
                    error_type: error_type.clone(),
                });
                self.emit(Record::InitReport {
                    duration: *duration,
                    error_type: error_type.clone(),
                });
                self.state().backlog = None;
            }
            PlatformEvent::InvokeStart { request_id } => {
                self.state().invoke_started = Some(Instant::now());
                self.emit(Record::Start {
                    request_id: request_id.clone(),
                });
            }
            PlatformEvent::RuntimeDone {
                request_id,
                error_type,
            } => {
                let duration = self
                    .state()
                    .invoke_started
                    .map_or(Duration::ZERO, |started| started.elapsed());
                self.emit(Record::RuntimeDone {
                    request_id: request_id.clone(),
                    error_type: error_type.clone(),
                    duration,
                });
            }
            PlatformEvent::Report {
                request_id,
                metrics,
                error_type,
            } => self.emit(Record::Report {
                request_id: request_id.clone(),
                error_type: error_type.clone(),
                metrics: metrics.clone(),
            }),
        }
    }

    fn log_line(&self, _log_stream: &str, source: &LogSource, line: &str) {
        self.emit(match source {
            LogSource::Function => Record::FunctionLine(line.to_string()),
            LogSource::Extension(_) => Record::ExtensionLine(line.to_string()),
        });
    }
}

/// The routes of both APIs, to merge into the Runtime API's router.
pub fn router(telemetry: Arc<Telemetry>) -> Router {
    let telemetry_api = put(
        |State(t): State<Arc<Telemetry>>, headers: HeaderMap, body: Bytes| async move {
            answer(t.subscribe(Api::Telemetry, &headers, &body))
        },
    );
    let logs_api = put(
        |State(t): State<Arc<Telemetry>>, headers: HeaderMap, body: Bytes| async move {
            answer(t.subscribe(Api::Logs, &headers, &body))
        },
    );
    Router::new()
        .route(Api::Telemetry.path(), telemetry_api.clone())
        .route(&format!("{}/", Api::Telemetry.path()), telemetry_api)
        .route(Api::Logs.path(), logs_api.clone())
        .route(&format!("{}/", Api::Logs.path()), logs_api)
        .with_state(telemetry)
}

/// Lambda's answers: `200 "OK"`, or the error as JSON.
fn answer(result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "\"OK\"",
        )
            .into_response(),
        Err(error) => extensions::error_response(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::extensions::{EventType, FunctionInfo};
    use crate::emulator::report::Metrics;
    use axum::routing::post;
    use serde_json::{json, Value};

    /// An environment with the external extension `spy` registered as `id-1`.
    fn environment() -> Arc<Telemetry> {
        let extensions = Extensions::new(
            FunctionInfo {
                function_name: "f".into(),
                function_version: "$LATEST".into(),
                handler: "bootstrap".into(),
                account_id: "123456789012".into(),
            },
            vec!["spy".into()],
        );
        extensions
            .update(|r| r.register("id-1".into(), "spy", vec![EventType::Invoke]))
            .unwrap();
        Telemetry::new(extensions)
    }

    /// The environment's init succeeds after 20 ms.
    fn init_ends(t: &Telemetry) {
        t.platform(
            "s",
            &PlatformEvent::InitEnd {
                error_type: None,
                duration: Duration::from_millis(20),
            },
        );
    }

    fn headers(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("lambda-extension-identifier", id.parse().unwrap());
        headers
    }

    /// A listener on 127.0.0.1 that keeps every POSTed body; its port.
    async fn listener() -> (u16, Arc<Mutex<Vec<Value>>>) {
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&received);
        let app = Router::new().route(
            "/in",
            post(move |body: Bytes| async move {
                kept.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                StatusCode::OK
            }),
        );
        let socket = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(socket, app).await });
        (port, received)
    }

    fn request(port: u16, types: Value, timeout_ms: u64) -> Vec<u8> {
        json!({
            "schemaVersion": "2022-12-13",
            "types": types,
            "buffering": {"timeoutMs": timeout_ms},
            "destination": {"protocol": "HTTP", "URI": format!("http://sandbox.localdomain:{port}/in")},
        })
        .to_string()
        .into_bytes()
    }

    fn types_of(batches: &[Value]) -> Vec<String> {
        batches
            .iter()
            .flat_map(|b| b.as_array().unwrap().iter())
            .map(|e| match e["type"].as_str().unwrap() {
                "function" => format!("function {}", e["record"].as_str().unwrap()),
                kind => kind.to_string(),
            })
            .collect()
    }

    #[tokio::test]
    async fn an_environments_lifecycle_reaches_a_local_listener_in_order() {
        let (port, received) = listener().await;
        let t = environment();
        t.log_line("s", &LogSource::Function, "init line");
        t.subscribe(
            Api::Telemetry,
            &headers("id-1"),
            &request(port, json!(["platform", "function"]), 25),
        )
        .unwrap();
        init_ends(&t);
        t.platform(
            "s",
            &PlatformEvent::InvokeStart {
                request_id: "r-1".into(),
            },
        );
        t.log_line("s", &LogSource::Function, "hello got {}");
        t.log_line("s", &LogSource::Extension("spy".into()), "not asked for");
        t.platform(
            "s",
            &PlatformEvent::RuntimeDone {
                request_id: "r-1".into(),
                error_type: None,
            },
        );
        t.platform(
            "s",
            &PlatformEvent::Report {
                request_id: "r-1".into(),
                metrics: Metrics {
                    duration: Duration::from_millis(3),
                    init_duration: None,
                    billed_duration_ms: 3,
                    memory_size_mb: 128,
                    max_memory_used_bytes: 1 << 20,
                    emulated_by: None,
                },
                error_type: None,
            },
        );
        // The 25 ms timeout sends the batch without a flush.
        let waited = Instant::now();
        while types_of(&received.lock().unwrap()).len() < 10 {
            assert!(waited.elapsed() < Duration::from_secs(5), "{received:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let batches = received.lock().unwrap().clone();
        // What happened during init before the subscription came too, in order.
        assert_eq!(
            types_of(&batches),
            [
                "platform.initStart",
                "function init line",
                "platform.telemetrySubscription",
                "platform.extension",
                "platform.initRuntimeDone",
                "platform.initReport",
                "platform.start",
                "function hello got {}",
                "platform.runtimeDone",
                "platform.report",
            ]
        );
        let events: Vec<&Value> = batches.iter().flat_map(|b| b.as_array().unwrap()).collect();
        assert_eq!(
            events[2]["record"],
            json!({"name": "spy", "state": "Subscribed", "types": ["platform", "function"]})
        );
        assert_eq!(
            events[3]["record"],
            json!({"name": "spy", "state": "Registered", "events": ["INVOKE"]})
        );
        assert_eq!(events[6]["record"]["requestId"], "r-1");
        assert_eq!(events[8]["record"]["status"], "success");
    }

    #[tokio::test]
    async fn a_flush_sends_what_is_batched_and_an_ended_environment_what_is_left() {
        let (port, received) = listener().await;
        let t = environment();
        init_ends(&t);
        // Records from before a subscription made after init are not replayed.
        t.log_line("s", &LogSource::Function, "before");
        t.subscribe(
            Api::Telemetry,
            &headers("id-1"),
            &request(port, json!(["function"]), 30_000),
        )
        .unwrap();
        t.log_line("s", &LogSource::Function, "one");
        t.flush(Duration::from_secs(5)).await;
        assert_eq!(types_of(&received.lock().unwrap()), ["function one"]);
        t.log_line("s", &LogSource::Function, "two");
        drop(t); // the environment ends: its subscribers get the rest
        let waited = Instant::now();
        while received.lock().unwrap().len() < 2 {
            assert!(waited.elapsed() < Duration::from_secs(5));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            types_of(&received.lock().unwrap()),
            ["function one", "function two"]
        );
    }

    #[tokio::test]
    async fn the_logs_api_delivers_its_own_schema_as_ndjson_over_tcp() {
        use tokio::io::AsyncBufReadExt;
        let socket = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let t = environment();
        init_ends(&t);
        let body = json!({
            "schemaVersion": "2021-03-18",
            "types": ["platform", "function"],
            "buffering": {"timeoutMs": 25},
            "destination": {"protocol": "TCP", "port": port},
        });
        t.subscribe(Api::Logs, &headers("id-1"), body.to_string().as_bytes())
            .unwrap();
        t.platform(
            "s",
            &PlatformEvent::InvokeStart {
                request_id: "r-9".into(),
            },
        );
        t.log_line("s", &LogSource::Function, "a line");
        let (stream, _) = socket.accept().await.unwrap();
        let mut lines = tokio::io::BufReader::new(stream).lines();
        let mut kinds = Vec::new();
        while kinds.len() < 3 {
            let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let event: Value = serde_json::from_str(&line).unwrap();
            kinds.push(event["type"].as_str().unwrap().to_string());
        }
        assert_eq!(
            kinds,
            ["platform.logsSubscription", "platform.start", "function"]
        );
    }

    #[tokio::test]
    async fn lambdas_refusals() {
        let t = environment();
        let body = request(4243, json!(["platform"]), 100);
        let status = |r: Result<(), ApiError>| r.unwrap_err();
        let unknown = status(t.subscribe(Api::Telemetry, &headers("nobody"), &body));
        assert_eq!(
            (unknown.status, unknown.error_type.as_str()),
            (403, "Extension.UnknownExtensionIdentifier")
        );
        let missing = status(t.subscribe(Api::Telemetry, &HeaderMap::new(), &body));
        assert_eq!(missing.status, 403);
        let invalid = status(t.subscribe(Api::Telemetry, &headers("id-1"), b"{}"));
        assert_eq!(
            (invalid.status, invalid.error_type.as_str()),
            (400, "ValidationError")
        );
        t.subscribe(Api::Telemetry, &headers("id-1"), &body)
            .unwrap();
        // Again: the new subscription replaces the first.
        t.subscribe(Api::Telemetry, &headers("id-1"), &body)
            .unwrap();
        assert_eq!(t.subscribers(), 1);
        // One API or the other, not both.
        let logs = json!({
            "schemaVersion": "2021-03-18",
            "types": ["platform"],
            "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:4244"},
        });
        let mixed = status(t.subscribe(Api::Logs, &headers("id-1"), logs.to_string().as_bytes()));
        assert_eq!(mixed.status, 400);
        assert!(mixed.message.contains("Logs API"), "{}", mixed.message);
        // Lambda's 200 "OK" and its error body.
        let ok = answer(Ok(()));
        assert_eq!(ok.status(), StatusCode::OK);
        let body = axum::body::to_bytes(ok.into_body(), 100).await.unwrap();
        assert_eq!(&body[..], b"\"OK\"");
    }
}
