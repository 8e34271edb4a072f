//! The real binary against a minimal Lambda Runtime API on 127.0.0.1: whatever a Runtime API
//! sends in its headers, the function answers the event (or, with no request id, has nothing to
//! answer to) and asks for the next one. Every wait is bounded; the process is killed on drop.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, Mutex};

/// Far above what any step takes, even on a loaded machine; a hang fails the test instead of
/// blocking it.
const WAIT: Duration = Duration::from_secs(30);

struct Event {
    headers: Vec<(&'static str, Vec<u8>)>,
    body: String,
}

#[derive(Debug)]
enum Posted {
    Next,
    Response {
        id: String,
        body: Value,
    },
    Error {
        id: String,
        error_type_header: Option<String>,
        body: Value,
    },
    InitError {
        error_type_header: Option<String>,
        body: Value,
    },
}

struct Api {
    events: Mutex<mpsc::UnboundedReceiver<Event>>,
    posted: mpsc::UnboundedSender<Posted>,
}

async fn next(State(api): State<Arc<Api>>) -> Response {
    let _ = api.posted.send(Posted::Next);
    // Held open until the test sends an event, as Lambda holds it until an invocation.
    let Some(event) = api.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let mut response = (StatusCode::OK, event.body).into_response();
    for (name, value) in event.headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_bytes(&value).expect("a header value the test can send"),
        );
    }
    response
}

fn json_of(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| json!({ "not json": body.to_vec() }))
}

fn error_type_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("lambda-runtime-function-error-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

async fn response(State(api): State<Arc<Api>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let _ = api.posted.send(Posted::Response {
        id,
        body: json_of(&body),
    });
    StatusCode::ACCEPTED
}

async fn error(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let _ = api.posted.send(Posted::Error {
        id,
        error_type_header: error_type_header(&headers),
        body: json_of(&body),
    });
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let _ = api.posted.send(Posted::InitError {
        error_type_header: error_type_header(&headers),
        body: json_of(&body),
    });
    StatusCode::ACCEPTED
}

/// The function's process and its Runtime API.
struct Function {
    child: Child,
    events: mpsc::UnboundedSender<Event>,
    posted: mpsc::UnboundedReceiver<Posted>,
    next_id: u32,
}

impl Function {
    async fn start(extra_env: &[(&str, &str)]) -> Function {
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let (posted_tx, posted_rx) = mpsc::unbounded_channel();
        let api = Arc::new(Api {
            events: Mutex::new(event_rx),
            posted: posted_tx,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let child = Command::new(env!("CARGO_BIN_EXE_calculate-pi"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "calculate-pi")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/calculate-pi")
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the function binary starts");
        Function {
            child,
            events: event_tx,
            posted: posted_rx,
            next_id: 0,
        }
    }

    async fn posted(&mut self) -> Posted {
        // What the process posted before it ended still counts, so the channel goes first.
        tokio::select! {
            biased;
            posted = self.posted.recv() => posted.expect("the server keeps its sender"),
            status = self.child.wait() => panic!("the function exited: {status:?}"),
            () = tokio::time::sleep(WAIT) => panic!("nothing reached the Runtime API within {WAIT:?}"),
        }
    }

    /// Waits for the function to ask for an event: proof that it is alive and ready.
    async fn expect_next(&mut self) {
        match self.posted().await {
            Posted::Next => {}
            other => panic!("expected a request for the next event, got {other:?}"),
        }
    }

    /// Sends `body` with the usual headers, `changes` applied (`None` removes a header), and
    /// returns the request id it carried.
    fn send(&mut self, body: &str, changes: &[(&'static str, Option<&[u8]>)]) -> String {
        self.next_id += 1;
        let id = format!("request-{}", self.next_id);
        let deadline = unix_ms(SystemTime::now() + Duration::from_secs(60));
        let mut headers: Vec<(&'static str, Vec<u8>)> = vec![
            ("lambda-runtime-aws-request-id", id.clone().into_bytes()),
            (
                "lambda-runtime-deadline-ms",
                deadline.to_string().into_bytes(),
            ),
            (
                "lambda-runtime-invoked-function-arn",
                b"arn:aws:lambda:us-east-1:123456789012:function:calculate-pi".to_vec(),
            ),
            (
                "lambda-runtime-trace-id",
                b"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".to_vec(),
            ),
        ];
        for (name, value) in changes {
            headers.retain(|(existing, _)| existing != name);
            if let Some(value) = value {
                headers.push((name, value.to_vec()));
            }
        }
        let sent = self.events.send(Event {
            headers,
            body: body.to_string(),
        });
        assert!(sent.is_ok(), "the Runtime API is gone");
        id
    }

    /// The function's answer: the posted response's body, or panics on anything else.
    async fn expect_response(&mut self, id: &str) -> Value {
        match self.posted().await {
            Posted::Response { id: got, body } => {
                assert_eq!(got, id);
                body
            }
            other => panic!("expected a response to {id}, got {other:?}"),
        }
    }

    /// The function's error for `id`: its `errorType` (checked against the header) and message.
    async fn expect_error(&mut self, id: &str) -> (String, String) {
        match self.posted().await {
            Posted::Error {
                id: got,
                error_type_header,
                body,
            } => {
                assert_eq!(got, id);
                let error_type = body["errorType"].as_str().expect("errorType").to_string();
                let message = body["errorMessage"].as_str().expect("errorMessage");
                assert_eq!(error_type_header.as_deref(), Some(error_type.as_str()));
                (error_type, message.to_string())
            }
            other => panic!("expected an error for {id}, got {other:?}"),
        }
    }

    /// Stops the process and returns what it wrote to stderr.
    async fn stop(mut self) -> String {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(WAIT, self.child.wait()).await;
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = tokio::time::timeout(WAIT, pipe.read_to_string(&mut stderr)).await;
        }
        stderr
    }
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

const FIVE_DIGITS: &str = r#"{"digits": "5"}"#;

/// Sends an event with `changes` to its headers; it must be answered with the five digits,
/// and the process must then answer an ordinary event too.
async fn answered_despite(changes: &[(&'static str, Option<&[u8]>)]) -> String {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    let id = function.send(FIVE_DIGITS, changes);
    let body = function.expect_response(&id).await;
    assert_eq!(body, json!({"digits": 5, "pi": "3.1415"}), "{changes:?}");
    function.expect_next().await;
    let id = function.send(r#"{"digits": 3}"#, &[]);
    assert_eq!(function.expect_response(&id).await["pi"], "3.14");
    function.expect_next().await;
    function.stop().await
}

const DEADLINE: &str = "lambda-runtime-deadline-ms";

#[tokio::test]
async fn a_garbage_deadline_is_no_deadline() {
    answered_despite(&[(DEADLINE, Some(b"garbage"))]).await;
}

#[tokio::test]
async fn a_zero_deadline_is_no_deadline() {
    answered_despite(&[(DEADLINE, Some(b"0"))]).await;
}

#[tokio::test]
async fn a_negative_deadline_is_no_deadline() {
    answered_despite(&[(DEADLINE, Some(b"-5"))]).await;
}

#[tokio::test]
async fn a_missing_deadline_is_no_deadline() {
    answered_despite(&[(DEADLINE, None)]).await;
}

#[tokio::test]
async fn a_relative_deadline_is_no_deadline_and_said_once() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    // A large request: with the relative value read as 1970 it was refused as NotEnoughTime.
    for _ in 0..2 {
        let id = function.send(r#"{"digits": 2000}"#, &[(DEADLINE, Some(b"600000"))]);
        let body = function.expect_response(&id).await;
        assert_eq!(body["digits"], 2000);
        function.expect_next().await;
    }
    let stderr = function.stop().await;
    let notices: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("Lambda-Runtime-Deadline-Ms"))
        .collect();
    assert_eq!(notices.len(), 1, "{stderr}");
    assert!(notices[0].contains("600000"), "{}", notices[0]);
}

#[tokio::test]
async fn a_real_deadline_that_has_passed_still_refuses_large_requests() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    let now = unix_ms(SystemTime::now()).to_string();
    let id = function.send(r#"{"digits": 100000}"#, &[(DEADLINE, Some(now.as_bytes()))]);
    let (error_type, message) = function.expect_error(&id).await;
    assert_eq!(error_type, "NotEnoughTime", "{message}");
    function.expect_next().await;
    function.stop().await;
}

#[tokio::test]
async fn invalid_client_context_and_identity_are_ignored() {
    answered_despite(&[("lambda-runtime-client-context", Some(b"{not json"))]).await;
    answered_despite(&[("lambda-runtime-cognito-identity", Some(b"[1, 2"))]).await;
    answered_despite(&[
        ("lambda-runtime-client-context", Some(b"\"a string\"")),
        ("lambda-runtime-cognito-identity", Some(b"{}")),
    ])
    .await;
}

#[tokio::test]
async fn headers_that_are_not_text_are_tolerated() {
    answered_despite(&[
        ("lambda-runtime-invoked-function-arn", Some(b"arn:\xff\xfe")),
        ("lambda-runtime-trace-id", Some(b"Root=\xff")),
        (DEADLINE, Some(b"\xff")),
    ])
    .await;
}

#[tokio::test]
async fn an_event_without_a_request_id_is_skipped_and_the_next_answered() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    function.send(FIVE_DIGITS, &[("lambda-runtime-aws-request-id", None)]);
    // Nothing to address an answer to: the function must simply ask for the next event.
    function.expect_next().await;
    let id = function.send(FIVE_DIGITS, &[]);
    assert_eq!(function.expect_response(&id).await["pi"], "3.1415");
    function.expect_next().await;
    let stderr = function.stop().await;
    assert!(stderr.contains("Lambda-Runtime-Aws-Request-Id"), "{stderr}");
}

#[tokio::test]
async fn a_request_id_that_is_not_a_path_segment_is_still_answered() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    function.send(
        FIVE_DIGITS,
        &[("lambda-runtime-aws-request-id", Some(b"a b/c?d#e%"))],
    );
    let body = function.expect_response("a b/c?d#e%").await;
    assert_eq!(body["pi"], "3.1415");
    function.expect_next().await;
    function.stop().await;
}

#[tokio::test]
async fn bad_payloads_are_specific_errors_and_the_process_stays() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    for (payload, expected) in [
        (r#"{"digits": "ten"}"#, "InvalidDigits"),
        (r#"{"digit": 5}"#, "UnknownField"),
        ("[1, 2]", "InvalidEvent"),
        ("not json at all", "InvalidEvent"),
        ("", "InvalidEvent"),
    ] {
        let id = function.send(payload, &[]);
        let (error_type, message) = function.expect_error(&id).await;
        assert_eq!(error_type, expected, "{payload}: {message}");
        function.expect_next().await;
    }
    let id = function.send(FIVE_DIGITS, &[]);
    assert_eq!(function.expect_response(&id).await["pi"], "3.1415");
    function.stop().await;
}

#[tokio::test]
async fn a_bad_limit_is_an_init_error() {
    let mut function = Function::start(&[("CALCULATE_PI_MAX_DIGITS_SPIGOT", "lots")]).await;
    match function.posted().await {
        Posted::InitError {
            error_type_header,
            body,
        } => {
            assert_eq!(error_type_header.as_deref(), Some("Runtime.InitError"));
            let message = body["errorMessage"].as_str().expect("errorMessage");
            assert!(
                message.contains("CALCULATE_PI_MAX_DIGITS_SPIGOT"),
                "{message}"
            );
        }
        other => panic!("expected an init error, got {other:?}"),
    }
    let status = tokio::time::timeout(WAIT, function.child.wait())
        .await
        .expect("the process exits after its init error")
        .unwrap();
    assert!(!status.success());
}
