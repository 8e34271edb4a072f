//! The real binary against a Lambda Runtime API on 127.0.0.1: every header set a real Runtime
//! API sends (Lambda's, the RIE's, cargo-lambda's) is answered; the headers no real one sends
//! end the process as lambda_runtime decides (measured here, documented in docs/function.md);
//! the start-up checks; and streamed answers, read as Lambda reads them (the response-mode
//! header, a chunked body, trailers). Every wait is bounded; the process is killed on drop.
//!
//! Cost: each test starts one or two processes of the debug binary; the whole file takes a few
//! seconds once the binary is built.

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, Mutex};

/// Far above what any step takes, even on a loaded machine; a hang fails the test instead of
/// blocking it.
const WAIT: Duration = Duration::from_secs(60);

struct Event {
    status: StatusCode,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: String,
}

/// A response as the Runtime API received it.
#[derive(Debug)]
struct Received {
    id: String,
    headers: HeaderMap,
    body: Vec<u8>,
    /// How many data frames the body came in.
    data_frames: usize,
    trailers: Option<HeaderMap>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        json_of(&self.body)
    }
}

#[derive(Debug)]
enum Posted {
    Next,
    Response(Received),
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
    let mut response = (event.status, event.body).into_response();
    response.headers_mut().remove("content-type");
    for (name, value) in event.headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_bytes(&value).expect("a header value the test can send"),
        );
    }
    response
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| json!({ "not json": body.to_vec() }))
}

fn error_type_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("lambda-runtime-function-error-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Reads a response frame by frame, as a streamed one comes: data, then perhaps trailers.
async fn response(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> StatusCode {
    let mut body = body;
    let mut received = Received {
        id,
        headers,
        body: Vec::new(),
        data_frames: 0,
        trailers: None,
    };
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return StatusCode::BAD_REQUEST;
        };
        match frame.into_data() {
            Ok(data) => {
                received.data_frames += 1;
                received.body.extend_from_slice(&data);
            }
            Err(frame) => received.trailers = frame.into_trailers().ok(),
        }
    }
    let _ = api.posted.send(Posted::Response(received));
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

/// The variables every Runtime API host sets.
const LAMBDA_ENV: [(&str, &str); 5] = [
    ("AWS_LAMBDA_FUNCTION_NAME", "calculate-pi"),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ("AWS_LAMBDA_LOG_STREAM_NAME", "stream"),
    ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/calculate-pi"),
];

/// The function's process and its Runtime API.
struct Function {
    child: Child,
    events: mpsc::UnboundedSender<Event>,
    posted: mpsc::UnboundedReceiver<Posted>,
    next_id: u32,
}

impl Function {
    async fn start(extra_env: &[(&str, &str)]) -> Function {
        Function::start_with(&LAMBDA_ENV, extra_env, true).await
    }

    /// Starts the binary with `env` (and `AWS_LAMBDA_RUNTIME_API` when `with_api`), then
    /// `extra_env`, and nothing else.
    async fn start_with(env: &[(&str, &str)], extra_env: &[(&str, &str)], with_api: bool) -> Self {
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
        let mut command = Command::new(env!("CARGO_BIN_EXE_calculate-pi"));
        command.env_clear();
        if with_api {
            command.env("AWS_LAMBDA_RUNTIME_API", address.to_string());
        }
        let child = command
            .envs(env.iter().copied())
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

    /// Waits for the process to end, with nothing posted meanwhile (no answer, no next).
    async fn expect_exit(&mut self) -> ExitStatus {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the process ends")
            .unwrap();
        if let Ok(posted) = self.posted.try_recv() {
            panic!("the process posted {posted:?} before it ended");
        }
        status
    }

    fn send_raw(&self, body: &str, headers: Vec<(&'static str, Vec<u8>)>) {
        self.send_status(StatusCode::OK, body, headers);
    }

    fn send_status(&self, status: StatusCode, body: &str, headers: Vec<(&'static str, Vec<u8>)>) {
        let sent = self.events.send(Event {
            status,
            headers,
            body: body.to_string(),
        });
        assert!(sent.is_ok(), "the Runtime API is gone");
    }

    /// Sends `body` with Lambda's headers, `changes` applied (`None` removes a header), and
    /// returns the request id it carried.
    fn send(&mut self, body: &str, changes: &[(&'static str, Option<&[u8]>)]) -> String {
        self.next_id += 1;
        let id = format!("8476a536-e9f4-11e8-9739-{:012}", self.next_id);
        let mut headers = lambdas_headers(&id);
        for (name, value) in changes {
            headers.retain(|(existing, _)| existing != name);
            if let Some(value) = value {
                headers.push((name, value.to_vec()));
            }
        }
        self.send_raw(body, headers);
        id
    }

    async fn expect_received(&mut self, id: &str) -> Received {
        match self.posted().await {
            Posted::Response(received) => {
                assert_eq!(received.id, id);
                received
            }
            other => panic!("expected a response to {id}, got {other:?}"),
        }
    }

    /// The function's buffered answer: the posted response's JSON, or panics on anything else.
    async fn expect_response(&mut self, id: &str) -> Value {
        let received = self.expect_received(id).await;
        assert_eq!(
            received.header("lambda-runtime-function-response-mode"),
            None,
            "a small answer is buffered"
        );
        received.json()
    }

    /// The function's error for `id`: its `errorType`, its message and the error-type header.
    async fn expect_error(&mut self, id: &str) -> (String, String, Option<String>) {
        match self.posted().await {
            Posted::Error {
                id: got,
                error_type_header,
                body,
            } => {
                assert_eq!(got, id);
                let error_type = body["errorType"].as_str().expect("errorType").to_string();
                let message = body["errorMessage"].as_str().expect("errorMessage");
                (error_type, message.to_string(), error_type_header)
            }
            other => panic!("expected an error for {id}, got {other:?}"),
        }
    }

    /// Stops the process and returns what it wrote to stderr.
    async fn stop(mut self) -> String {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(WAIT, self.child.wait()).await;
        self.stderr().await
    }

    async fn stderr(&mut self) -> String {
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

/// The headers Lambda sends with an event (the deadline a minute ahead).
fn lambdas_headers(id: &str) -> Vec<(&'static str, Vec<u8>)> {
    let deadline = unix_ms(SystemTime::now() + Duration::from_secs(60));
    vec![
        ("lambda-runtime-aws-request-id", id.as_bytes().to_vec()),
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
            b"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".to_vec(),
        ),
        (
            "lambda-runtime-invocation-id",
            b"0f6a4ef2-4ea4-4bc2-b3a2-0d1b2b0a58c3".to_vec(),
        ),
        ("content-type", b"application/json".to_vec()),
    ]
}

const FIVE_DIGITS: &str = r#"{"digits": "5"}"#;
const DEADLINE: &str = "lambda-runtime-deadline-ms";
const REQUEST_ID: &str = "lambda-runtime-aws-request-id";

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

// ---------------------------------------------------------------------------------------------
// What real Runtime APIs send.

#[tokio::test]
async fn lambdas_headers_are_answered_and_the_invocation_id_echoed() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    let id = function.send(FIVE_DIGITS, &[]);
    let received = function.expect_received(&id).await;
    assert_eq!(received.json(), json!({"digits": 5, "pi": "3.1415"}));
    assert_eq!(
        received.header("lambda-runtime-invocation-id"),
        Some("0f6a4ef2-4ea4-4bc2-b3a2-0d1b2b0a58c3")
    );
    function.expect_next().await;
    let stderr = function.stop().await;
    // A real deadline: nothing to say about it.
    assert!(!stderr.contains("Lambda-Runtime-Deadline-Ms"), "{stderr}");
}

/// The AWS Lambda Runtime Interface Emulator: request id, absolute deadline, its own ARN, and
/// a content type; no trace id, no invocation id.
#[tokio::test]
async fn the_ries_headers_are_answered() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    let deadline = unix_ms(SystemTime::now() + Duration::from_secs(300));
    let id = "5b2b5b4b-4d5c-4a6d-9f4b-2f3c3a9c6e7a";
    function.send_raw(
        FIVE_DIGITS,
        vec![
            (REQUEST_ID, id.as_bytes().to_vec()),
            (DEADLINE, deadline.to_string().into_bytes()),
            (
                "lambda-runtime-invoked-function-arn",
                b"arn:aws:lambda:us-east-1:012345678912:function:test_function".to_vec(),
            ),
            ("content-type", b"application/json".to_vec()),
        ],
    );
    assert_eq!(function.expect_response(id).await["pi"], "3.1415");
    function.expect_next().await;
    function.stop().await;
}

/// cargo-lambda's local runtime: `600000` (its timeout, relative), `function-arn`, no trace
/// id. A relative deadline read as 1970 would refuse every large request as too late.
#[tokio::test]
async fn cargo_lambdas_relative_deadline_is_no_deadline_and_said_once() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    for n in 1..=2 {
        let id = format!("cargo-lambda-{n}");
        function.send_raw(
            r#"{"digits": 2000}"#,
            vec![
                (REQUEST_ID, id.clone().into_bytes()),
                (DEADLINE, b"600000".to_vec()),
                (
                    "lambda-runtime-invoked-function-arn",
                    b"function-arn".to_vec(),
                ),
            ],
        );
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

/// This kit's emulator with `--deadline-header zero`.
#[tokio::test]
async fn a_zero_deadline_is_no_deadline() {
    answered_despite(&[(DEADLINE, Some(b"0"))]).await;
}

#[tokio::test]
async fn a_deadline_before_the_process_started_or_too_far_ahead_is_no_deadline() {
    answered_despite(&[(DEADLINE, Some(b"1000000000000"))]).await;
    let next_year = unix_ms(SystemTime::now() + Duration::from_secs(365 * 86_400));
    answered_despite(&[(DEADLINE, Some(next_year.to_string().as_bytes()))]).await;
}

#[tokio::test]
async fn a_real_deadline_that_has_passed_still_refuses_large_requests() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    // Let a millisecond pass since the process started, so that "now" is a real deadline.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let now = unix_ms(SystemTime::now()).to_string();
    let id = function.send(r#"{"digits": 100000}"#, &[(DEADLINE, Some(now.as_bytes()))]);
    let (error_type, message, _) = function.expect_error(&id).await;
    assert_eq!(error_type, "NotEnoughTime", "{message}");
    function.expect_next().await;
    function.stop().await;
}

/// Lambda sends these only for the mobile SDKs, as JSON; absent (the usual case) or valid,
/// the event is answered.
#[tokio::test]
async fn a_valid_client_context_and_identity_are_answered() {
    answered_despite(&[
        (
            "lambda-runtime-client-context",
            Some(br#"{"client": {"installation_id": "i", "app_title": "t", "app_version_name": "1", "app_version_code": "1", "app_package_name": "p"}, "custom": {"k": "v"}, "env": {}}"#),
        ),
        (
            "lambda-runtime-cognito-identity",
            Some(br#"{"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"}"#),
        ),
    ])
    .await;
    answered_despite(&[("lambda-runtime-client-context", Some(b""))]).await;
}

#[tokio::test]
async fn a_trace_id_that_is_not_text_is_tolerated() {
    answered_despite(&[("lambda-runtime-trace-id", Some(b"Root=\xff"))]).await;
}

// ---------------------------------------------------------------------------------------------
// Headers no real Runtime API sends: lambda_runtime reads them before any handler code runs,
// and ends the process (measured here; docs/function.md lists them). The invocation is left
// unanswered: Lambda, or an emulator, reports it as Runtime.ExitError and starts cold.

struct Ends {
    /// The process's exit status: 101 for a panic, 1 when `run` returns its error.
    code: i32,
    /// What its stderr says.
    says: &'static str,
}

async fn lambda_runtime_ends_the_process_on(
    changes: &[(&'static str, Option<&[u8]>)],
    expected: Ends,
) {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    function.send(FIVE_DIGITS, changes);
    let status = function.expect_exit().await;
    let stderr = function.stderr().await;
    assert_eq!(status.code(), Some(expected.code), "{changes:?}: {stderr}");
    assert!(stderr.contains(expected.says), "{changes:?}: {stderr}");
}

#[tokio::test]
async fn a_missing_deadline_panics_in_lambda_runtime() {
    lambda_runtime_ends_the_process_on(
        &[(DEADLINE, None)],
        Ends {
            code: 101,
            says: "missing lambda-runtime-deadline-ms header",
        },
    )
    .await;
}

#[tokio::test]
async fn a_missing_request_id_panics_in_lambda_runtime() {
    lambda_runtime_ends_the_process_on(
        &[(REQUEST_ID, None)],
        Ends {
            code: 101,
            says: "missing lambda-runtime-aws-request-id header",
        },
    )
    .await;
}

#[tokio::test]
async fn a_deadline_that_is_not_a_number_stops_lambda_runtime() {
    lambda_runtime_ends_the_process_on(
        &[(DEADLINE, Some(b""))],
        Ends {
            code: 1,
            says: "the Lambda runtime stopped: cannot parse integer from empty string",
        },
    )
    .await;
    for garbage in [&b"not-a-deadline"[..], b"-5", b"1.5"] {
        lambda_runtime_ends_the_process_on(
            &[(DEADLINE, Some(garbage))],
            Ends {
                code: 1,
                says: "the Lambda runtime stopped: invalid digit found in string",
            },
        )
        .await;
    }
    lambda_runtime_ends_the_process_on(
        &[(DEADLINE, Some(b"\xff"))],
        Ends {
            code: 1,
            says: "the Lambda runtime stopped: failed to convert header to a str",
        },
    )
    .await;
}

#[tokio::test]
async fn client_context_or_identity_that_lambda_runtime_cannot_read_stops_it() {
    for header in [
        (
            "lambda-runtime-client-context",
            &b"{not json"[..],
            "key must be a string",
        ),
        // cargo-lambda passes a client context on base64-encoded.
        (
            "lambda-runtime-client-context",
            b"eyJjdXN0b20iOnt9fQ==",
            "expected value",
        ),
        (
            "lambda-runtime-cognito-identity",
            b"{}",
            "missing field `identityId`",
        ),
    ] {
        lambda_runtime_ends_the_process_on(
            &[(header.0, Some(header.1))],
            Ends {
                code: 1,
                says: header.2,
            },
        )
        .await;
    }
}

#[tokio::test]
async fn a_request_id_that_is_no_path_segment_stops_lambda_runtime() {
    lambda_runtime_ends_the_process_on(
        &[(REQUEST_ID, Some(b"a b/c?d#e%"))],
        Ends {
            code: 1,
            says: "the Lambda runtime stopped: invalid uri character",
        },
    )
    .await;
}

#[tokio::test]
async fn an_arn_that_is_not_text_stops_lambda_runtime() {
    lambda_runtime_ends_the_process_on(
        &[("lambda-runtime-invoked-function-arn", Some(b"arn:\xff\xfe"))],
        Ends {
            code: 1,
            says: "failed to convert header to a str",
        },
    )
    .await;
}

/// The Runtime API documents `500 Container error` on `next` as "exit promptly": lambda_runtime
/// does, by the panic on the missing request id.
#[tokio::test]
async fn a_container_error_on_next_ends_the_process() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    function.send_status(
        StatusCode::INTERNAL_SERVER_ERROR,
        r#"{"errorMessage": "Internal Server Error", "errorType": "InternalServerError"}"#,
        Vec::new(),
    );
    let status = function.expect_exit().await;
    let stderr = function.stderr().await;
    assert_eq!(status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains("missing lambda-runtime-aws-request-id header"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Payloads and errors.

#[tokio::test]
async fn bad_payloads_are_specific_errors_and_the_process_stays() {
    let mut function = Function::start(&[]).await;
    function.expect_next().await;
    for (payload, expected) in [
        (r#"{"digits": "ten"}"#, "InvalidDigits"),
        (r#"{"digit": 5}"#, "UnknownField"),
        ("[1, 2]", "InvalidEvent"),
        (r#"{"digits": 1e400}"#, "InvalidEvent"),
        (r#"{"digits": 0}"#, "DigitsOutOfRange"),
    ] {
        let id = function.send(payload, &[]);
        let (error_type, message, header) = function.expect_error(&id).await;
        assert_eq!(error_type, expected, "{payload}: {message}");
        // lambda_runtime sends the same header with every function error.
        assert_eq!(header.as_deref(), Some("unhandled"));
        function.expect_next().await;
    }
    // Not JSON at all: lambda_runtime refuses it before the handler, with its own error (the
    // Invoke API refuses such payloads, so only a hand-made Runtime API sends one).
    for payload in ["not json at all", ""] {
        let id = function.send(payload, &[]);
        let (error_type, message, _) = function.expect_error(&id).await;
        assert_eq!(
            error_type, "&lambda_runtime::deserializer::DeserializeError",
            "{payload}: {message}"
        );
        assert!(
            message.starts_with("failed to deserialize the incoming data"),
            "{message}"
        );
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
            assert_eq!(body["errorType"], "InvalidConfiguration");
            let message = body["errorMessage"].as_str().expect("errorMessage");
            assert!(
                message.contains("CALCULATE_PI_MAX_DIGITS_SPIGOT"),
                "{message}"
            );
        }
        other => panic!("expected an init error, got {other:?}"),
    }
    let status = function.expect_exit().await;
    assert_eq!(status.code(), Some(1));
}

// ---------------------------------------------------------------------------------------------
// Start-up: the variables lambda_runtime would panic without.

#[tokio::test]
async fn a_missing_lambda_variable_is_one_clear_line_and_an_init_error_not_a_panic() {
    for (index, (variable, _)) in LAMBDA_ENV[..3].iter().enumerate() {
        let mut env = LAMBDA_ENV.to_vec();
        env.remove(index);
        let mut function = Function::start_with(&env, &[], true).await;
        match function.posted().await {
            Posted::InitError { body, .. } => {
                assert_eq!(body["errorType"], "Runtime.InvalidEnvironment");
                let message = body["errorMessage"].as_str().unwrap();
                assert!(
                    message.contains(&format!("{variable} is not set")),
                    "{message}"
                );
            }
            other => panic!("{variable}: expected an init error, got {other:?}"),
        }
        let status = function.expect_exit().await;
        let stderr = function.stderr().await;
        assert_eq!(status.code(), Some(1), "{variable}: {stderr}");
        assert!(stderr.contains(variable), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let mut function = Function::start_with(
        &LAMBDA_ENV,
        &[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots")],
        true,
    )
    .await;
    assert!(matches!(function.posted().await, Posted::InitError { .. }));
    assert_eq!(function.expect_exit().await.code(), Some(1));
}

#[tokio::test]
async fn without_a_runtime_api_the_function_says_so_and_exits() {
    for api in [None, Some("not an address")] {
        let extra: Vec<(&str, &str)> = api
            .map(|api| ("AWS_LAMBDA_RUNTIME_API", api))
            .into_iter()
            .collect();
        let mut function = Function::start_with(&LAMBDA_ENV, &extra, false).await;
        let status = function.expect_exit().await;
        let stderr = function.stderr().await;
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("AWS_LAMBDA_RUNTIME_API"), "{stderr}");
        assert!(stderr.contains("cargo xtask invoke"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// Streamed answers, read as Lambda reads them.

/// The HTTP-integration prelude lambda_runtime writes ahead of a streamed body, and the body.
fn split_prelude(body: &[u8]) -> (Value, &[u8]) {
    let end = body
        .windows(8)
        .position(|w| w == [0u8; 8])
        .expect("the prelude ends with eight NUL bytes");
    (json_of(&body[..end]), &body[end + 8..])
}

fn assert_streamed(received: &Received) -> &[u8] {
    assert_eq!(
        received.header("lambda-runtime-function-response-mode"),
        Some("streaming")
    );
    assert_eq!(received.header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        received.header("content-type"),
        Some("application/vnd.awslambda.http-integration-response")
    );
    let trailers: Vec<&str> = received
        .headers
        .get_all("trailer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(
        trailers,
        [
            "Lambda-Runtime-Function-Error-Type",
            "Lambda-Runtime-Function-Error-Body"
        ]
    );
    // No error: no trailers, and no error text in the body either.
    assert_eq!(received.trailers, None);
    let (prelude, body) = split_prelude(&received.body);
    assert_eq!(
        prelude,
        json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "cookies": []})
    );
    body
}

/// Below the threshold an answer stays buffered; above it, the same JSON document arrives
/// streamed, in chunks, byte for byte what the buffered answer of another process is.
#[tokio::test]
async fn an_answer_above_the_threshold_streams_the_buffered_json() {
    const N: &str = r#"{"digits": 200000, "algorithm": "chudnovsky"}"#;
    let mut buffered = Function::start(&[]).await;
    buffered.expect_next().await;
    let id = buffered.send(N, &[]);
    let expected = buffered.expect_received(&id).await;
    assert_eq!(
        expected.header("lambda-runtime-function-response-mode"),
        None
    );
    assert_eq!(expected.json()["digits"], 200_000);
    buffered.stop().await;

    let mut streaming = Function::start(&[("CALCULATE_PI_STREAM_ABOVE_BYTES", "100_000")]).await;
    streaming.expect_next().await;
    let id = streaming.send(r#"{"digits": 99000, "algorithm": "chudnovsky"}"#, &[]);
    let small = streaming.expect_response(&id).await;
    assert_eq!(small["digits"], 99_000);
    streaming.expect_next().await;
    let id = streaming.send(N, &[]);
    let received = streaming.expect_received(&id).await;
    assert_eq!(assert_streamed(&received), expected.body.as_slice());
    // 200,022 bytes in chunks of 64 KiB, each sent as it is ready.
    assert!(received.data_frames > 2, "{} frames", received.data_frames);
    // The process goes on to the next event, and errors stay buffered.
    streaming.expect_next().await;
    let id = streaming.send(r#"{"digits": "ten"}"#, &[]);
    assert_eq!(streaming.expect_error(&id).await.0, "InvalidDigits");
    streaming.expect_next().await;
    streaming.stop().await;
}

#[tokio::test]
async fn with_threshold_zero_every_answer_streams() {
    let mut function = Function::start(&[("CALCULATE_PI_STREAM_ABOVE_BYTES", "0")]).await;
    function.expect_next().await;
    let id = function.send(FIVE_DIGITS, &[]);
    let received = function.expect_received(&id).await;
    assert_eq!(assert_streamed(&received), br#"{"digits":5,"pi":"3.1415"}"#);
    function.expect_next().await;
    function.stop().await;
}
