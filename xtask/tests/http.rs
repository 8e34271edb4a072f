//! HTTP functions and streaming, end to end against the real `lambda_http`: the functions of
//! `tests/fixtures/http-functions` (one package per event kind, each with only its own
//! lambda_http feature), run by the emulator behind the front door and the Invoke API, called
//! with curl and boto3.
//!
//! Cost: the fixture's four packages are built once per run, each on its own (their lambda_http
//! features must not be unified), as host debug builds into the repository's target directory,
//! which shares the root workspace's compiled dependencies: about a minute on a cold machine
//! (lambda_http is compiled three times, once per feature set), a second when warm. The tests
//! themselves take a few seconds each, most of it the streamer's deliberate pauses.
#![cfg(target_os = "linux")]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame};
use lambda_kit::emulator::front_door::FrontDoor;
use lambda_kit::emulator::http_event::{self, HttpEventKind};
use lambda_kit::emulator::invoke_api::{self, InvocationHook};
use lambda_kit::emulator::pool::Pool;
use lambda_kit::emulator::runtime_api::{Event, RuntimeApi, RuntimeMessage};
use lambda_kit::emulator::streaming::{self, StreamFrame};
use lambda_kit::emulator::{FunctionCode, FunctionConfig, Outcome, PreparedCode, Sandbox};
use serde_json::{json, Value};
use support::http::{curl, python_json};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/http-functions")
}

/// The fixture's function `name`, built for the host (all four once per test binary).
fn function(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let target = BUILT.get_or_init(|| {
        let target = xtask::repository::repository_root().join("target");
        for package in ["rest-html", "http-echo", "alb-echo", "streamer"] {
            // One package at a time: built together, cargo would unify their lambda_http
            // features and every function would accept every event.
            let status = Command::new(lambda_kit::command::cargo())
                .current_dir(fixture_dir())
                .args(["build", "--locked", "--package", package, "--target-dir"])
                .arg(&target)
                .status()
                .map_err(|e| format!("running cargo: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "building the fixture's {package} failed ({status})"
                ));
            }
        }
        Ok(target.join("debug"))
    });
    match target {
        Ok(dir) => dir.join(name),
        Err(e) => panic!("{e}"),
    }
}

/// The event kinds the fixture's package accepts, from `cargo metadata` as the kit reads it.
fn accepted_kinds(package: &str) -> Option<Vec<HttpEventKind>> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(fixture_dir().join("Cargo.toml"))
        .no_deps()
        .exec()
        .unwrap();
    let package = metadata
        .packages
        .iter()
        .find(|p| p.name.as_str() == package)
        .unwrap();
    http_event::kinds_of_package(package)
}

/// The emulator serving one function on 127.0.0.1: the Invoke API and the front door, on a
/// thread of its own; dropping it stops the server and kills the function processes.
struct Server {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(name: &str, kind: HttpEventKind) -> Server {
        Server::start_with_timeout(name, kind, Duration::from_secs(30))
    }

    fn start_with_timeout(name: &str, kind: HttpEventKind, timeout: Duration) -> Server {
        let code =
            Arc::new(PreparedCode::prepare(&FunctionCode::Bootstrap(function(name))).unwrap());
        let config = FunctionConfig {
            function_name: name.to_string(),
            timeout,
            ..FunctionConfig::default()
        };
        let door = FrontDoor {
            kind,
            at_root: true,
            region: "us-east-1".to_string(),
            function_name: name.to_string(),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = lambda_kit::emulator::tokio_runtime().unwrap();
            runtime.block_on(async move {
                let pool = Pool::new(code, config, 2, Duration::from_secs(60));
                let hook: InvocationHook =
                    Arc::new(|invocation| eprint!("{}", invocation.log_text()));
                let app = invoke_api::router_with_front_door(Arc::clone(&pool), hook, Some(door));
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                address_tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
                pool.shutdown(Duration::from_secs(5)).await;
            });
        });
        Server {
            address: address_rx.recv().unwrap(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_rest_function_on_axum_answers_curl_at_the_root_with_its_html() {
    let kinds = accepted_kinds("rest-html").expect("rest-html depends on lambda_http");
    assert_eq!(kinds, [HttpEventKind::Rest]);
    let kind = http_event::choose_kind(Some(&kinds), None).unwrap();
    let server = Server::start("rest-html", kind);

    let root = curl(&[&server.url("/")]);
    assert_eq!(root.status, 200);
    assert!(
        root.header("content-type")[0].starts_with("text/html"),
        "{:?}",
        root.headers
    );
    assert_eq!(root.body, b"<h1>Hello from a REST function</h1>");

    // The request as lambda_http handed it to the router: an API Gateway v1 event.
    let echo = curl(&[
        "-H",
        "x-twice: one",
        "-H",
        "x-twice: two",
        "--cookie",
        "a=1; b=2",
        &server.url("/echo?a=1&a=2&b=x%20y"),
    ]);
    assert_eq!(echo.status, 200);
    let echo = echo.json();
    assert_eq!(echo["context"], "ApiGatewayV1", "{echo}");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["query"]["a"], json!(["1", "2"]));
    assert_eq!(echo["query"]["b"], json!(["x y"]));
    // The event has both values in multiValueHeaders and the last in headers; lambda_http lets
    // `headers` replace them (it would on AWS too).
    assert_eq!(echo["x_twice"], json!(["two"]));
    assert_eq!(echo["cookie"], json!(["a=1; b=2"]));
    assert_eq!(echo["source_ip"], "127.0.0.1");
    assert!(
        echo["request_id"].as_str().is_some_and(|id| id.len() == 36),
        "{echo}"
    );

    // cargo-lambda's path reaches the same function, less its prefix.
    let prefixed = curl(&[&server.url("/lambda-url/rest-html/echo")]).json();
    assert_eq!(prefixed["path"], "/echo");
    assert_eq!(prefixed["context"], "ApiGatewayV1");
}

#[test]
fn an_event_the_function_cannot_read_is_api_gateways_502() {
    // What cargo-lambda does to a REST-only function: an HTTP v2 event, which it refuses.
    let server = Server::start("rest-html", HttpEventKind::Http);
    let answer = curl(&[&server.url("/")]);
    assert_eq!(answer.status, 502);
    assert_eq!(answer.body, br#"{"message":"Internal server error"}"#);
    // And the kit refuses to choose that kind for it.
    let kinds = accepted_kinds("rest-html").unwrap();
    let refused = http_event::choose_kind(Some(&kinds), Some(HttpEventKind::Http)).unwrap_err();
    assert!(refused.contains("apigw_http"), "{refused}");
}

fn echo_checks(name: &str, kind: HttpEventKind, context: &str) {
    assert_eq!(accepted_kinds(name).unwrap(), [kind]);
    let server = Server::start(name, kind);
    let binary = [0u8, 159, 146, 150, 255];
    let dir = tempfile::tempdir().unwrap();
    let body_file = dir.path().join("body.bin");
    std::fs::write(&body_file, binary).unwrap();
    let posted = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/octet-stream",
        "-H",
        "x-twice: one",
        "-H",
        "x-twice: two",
        "--cookie",
        "a=1; b=2",
        "--data-binary",
        &format!("@{}", body_file.display()),
        &server.url("/lambda-url/fn/echo/deep?a=1&a=2"),
    ]);
    assert_eq!(posted.status, 200);
    let echo = posted.json();
    assert_eq!(echo["context"], context, "{echo}");
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo/deep");
    assert_eq!(
        echo["body"],
        json!(binary),
        "the binary body arrives intact"
    );
    assert_eq!(echo["query"]["a"], json!(["1", "2"]), "{echo}");
    if kind == HttpEventKind::Http {
        // HTTP v2 joins repeated headers with commas and passes cookies apart; lambda_http
        // puts them back as one cookie header.
        assert_eq!(echo["x_twice"], json!(["one,two"]));
        assert_eq!(echo["cookie"], json!(["a=1; b=2"]));
        assert_eq!(echo["source_ip"], "127.0.0.1");
    } else {
        assert_eq!(echo["x_twice"], json!(["one", "two"]));
    }

    let status = curl(&[&server.url("/status/201")]);
    assert_eq!(status.status, 201);
    assert_eq!(status.body, b"status 201");
    // lambda_http writes one value per name in HTTP v2's `headers` (the first), and both in
    // REST's and ALB's `multiValueHeaders`: the front door passes on what it was given.
    let multi: &[&str] = if kind == HttpEventKind::Http {
        &["one"]
    } else {
        &["one", "two"]
    };
    assert_eq!(status.header("x-multi"), multi, "{:?}", status.headers);
    assert_eq!(status.header("set-cookie"), ["session=abc; Path=/"]);

    let binary_answer = curl(&[&server.url("/binary")]);
    assert_eq!(binary_answer.body, [0u8, 159, 146, 150]);

    let failed = curl(&[&server.url("/fail")]);
    assert_eq!(failed.status, 502);
    assert_eq!(failed.body, br#"{"message":"Internal server error"}"#);
}

#[test]
fn an_http_api_function_gets_v2_events_and_its_answers_map_back() {
    echo_checks("http-echo", HttpEventKind::Http, "ApiGatewayV2");
}

#[test]
fn an_alb_function_gets_alb_events_and_its_answers_map_back() {
    echo_checks("alb-echo", HttpEventKind::Alb, "Alb");
}

/// boto3's invoke_with_response_stream: when each event arrived (seconds from the call), and
/// what the events held.
const STREAM_CLIENT: &str = r#"
import base64, json, sys, time, boto3
from botocore.config import Config
url, payload = sys.argv[1], sys.argv[2]
client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing",
                      config=Config(retries={"total_max_attempts": 1}, read_timeout=120))
start = time.monotonic()
got = client.invoke_with_response_stream(FunctionName="fn", Payload=payload.encode(), LogType="Tail")
events = []
for event in got["EventStream"]:
    at = time.monotonic() - start
    if "PayloadChunk" in event:
        events.append({"at": at, "chunk": base64.b64encode(event["PayloadChunk"]["Payload"]).decode()})
    elif "InvokeComplete" in event:
        events.append({"at": at, "complete": event["InvokeComplete"]})
print(json.dumps({"status": got["StatusCode"], "version": got.get("ExecutedVersion"),
                  "content_type": got["ResponseStreamContentType"], "events": events}))
"#;

/// A function URL's HTTP v2 event for `GET /` with `query`.
fn url_event(query: &str) -> String {
    let request = http_event::FrontRequest {
        method: hyper::Method::GET,
        path: "/".to_string(),
        query: Some(query.to_string()),
        headers: Default::default(),
        body: Bytes::new(),
        source_ip: "127.0.0.1".parse().unwrap(),
    };
    let gateway = http_event::GatewayContext {
        request_id: "test".into(),
        time_ms: 1_764_950_400_000,
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        function_name: "streamer".into(),
        api_id: "abc".into(),
    };
    String::from_utf8(http_event::event(HttpEventKind::Http, &request, &gateway)).unwrap()
}

#[test]
fn a_streamed_answer_reaches_curl_and_boto3_chunk_by_chunk() {
    assert_eq!(accepted_kinds("streamer").unwrap(), [HttpEventKind::Http]);
    let server = Server::start("streamer", HttpEventKind::Http);
    // Four chunks, 800 ms apart: the whole answer takes at least 2.4 s.
    let query = "chunks=4&delay_ms=800&status=202";

    // curl through the front door: the prelude gives the status and cookie, the body streams.
    let timing = Command::new("curl")
        .args(["--silent", "--no-buffer", "--include", "--output", "-"])
        .args(["--write-out", "\n%{time_starttransfer} %{time_total}"])
        .arg(server.url(&format!("/?{query}")))
        .output()
        .unwrap();
    let text = String::from_utf8(timing.stdout).unwrap();
    assert!(
        !text.contains('\0'),
        "no prelude delimiter reaches the client: {text:?}"
    );
    assert!(text.starts_with("HTTP/1.1 202"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("set-cookie: streamed=yes"),
        "{text}"
    );
    assert!(
        text.contains("chunk 1 of 4\nchunk 2 of 4\nchunk 3 of 4\nchunk 4 of 4\n"),
        "{text}"
    );
    let figures: Vec<f64> = text
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .map(|f| f.parse().unwrap())
        .collect();
    let (first, whole) = (figures[0], figures[1]);
    eprintln!("curl: first byte after {first:.3} s, whole answer after {whole:.3} s");
    assert!(whole >= 2.4, "the pauses are in the answer: {whole}");
    assert!(
        whole - first >= 2.0,
        "the first chunk came {first:.3} s in, the whole answer {whole:.3} s: not streamed"
    );

    // boto3 through InvokeWithResponseStream: the bytes as the function sent them (prelude
    // included, as AWS passes them), chunk by chunk, then InvokeComplete with the log.
    let got = python_json(STREAM_CLIENT, &[&server.url(""), &url_event(query)]);
    assert_eq!(got["status"], 200);
    assert_eq!(got["content_type"], "application/vnd.amazon.eventstream");
    let events = got["events"].as_array().unwrap();
    let chunks: Vec<&Value> = events.iter().filter(|e| e.get("chunk").is_some()).collect();
    assert!(chunks.len() >= 4, "{got}");
    let mut bytes = Vec::new();
    for chunk in &chunks {
        use base64::Engine;
        bytes.extend(
            base64::engine::general_purpose::STANDARD
                .decode(chunk["chunk"].as_str().unwrap())
                .unwrap(),
        );
    }
    let delimiter = bytes.windows(8).position(|w| w == [0; 8]).unwrap();
    let prelude: Value = serde_json::from_slice(&bytes[..delimiter]).unwrap();
    assert_eq!(prelude["statusCode"], 202);
    assert_eq!(prelude["cookies"], json!(["streamed=yes"]));
    assert_eq!(
        &bytes[delimiter + 8..],
        b"chunk 1 of 4\nchunk 2 of 4\nchunk 3 of 4\nchunk 4 of 4\n"
    );
    let complete = events.last().unwrap();
    assert!(complete["complete"].get("ErrorCode").is_none(), "{got}");
    let log = complete["complete"]["LogResult"].as_str().unwrap();
    use base64::Engine;
    let log = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(log)
            .unwrap(),
    )
    .unwrap();
    assert!(log.contains("REPORT RequestId:"), "{log}");
    let first_chunk = chunks[0]["at"].as_f64().unwrap();
    let last_chunk = chunks.last().unwrap()["at"].as_f64().unwrap();
    eprintln!(
        "boto3: first PayloadChunk after {first_chunk:.3} s, last after {last_chunk:.3} s, \
         InvokeComplete after {:.3} s",
        complete["at"].as_f64().unwrap()
    );
    assert!(last_chunk - first_chunk >= 2.0, "not streamed: {got}");
}

#[test]
fn a_stream_cut_by_the_timeout_is_cut_for_curl_and_named_for_boto3() {
    // Three chunks 1.5 s apart under a 2 s timeout: two arrive, then the function is killed.
    let server =
        Server::start_with_timeout("streamer", HttpEventKind::Http, Duration::from_secs(2));
    let query = "chunks=3&delay_ms=1500";
    let output = Command::new("curl")
        .args(["--silent", "--no-buffer", "--max-time", "30"])
        .arg(server.url(&format!("/?{query}")))
        .output()
        .unwrap();
    // curl 18: the transfer closed with data outstanding (the chunked body never ended).
    assert_eq!(output.status.code(), Some(18), "{output:?}");
    assert_eq!(output.stdout, b"chunk 1 of 3\nchunk 2 of 3\n");

    let got = python_json(STREAM_CLIENT, &[&server.url(""), &url_event(query)]);
    let complete = &got["events"].as_array().unwrap().last().unwrap()["complete"];
    assert_eq!(complete["ErrorCode"], "Sandbox.Timedout", "{got}");
    assert!(
        complete["ErrorDetails"]
            .as_str()
            .is_some_and(|d| d.contains("Task timed out after 2.00 seconds")),
        "{got}"
    );
}

#[test]
fn a_failed_invocation_ends_the_stream_with_its_error_code() {
    let server = Server::start("http-echo", HttpEventKind::Http);
    let got = python_json(
        STREAM_CLIENT,
        &[
            &server.url(""),
            r#"{"version":"2.0","rawPath":"/fail","requestContext":{"http":{"method":"GET"}}}"#,
        ],
    );
    let events = got["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "no payload for a failure: {got}");
    let complete = &events[0]["complete"];
    assert!(
        complete["ErrorCode"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{got}"
    );
    assert!(
        complete["ErrorDetails"]
            .as_str()
            .is_some_and(|d| d.contains("failed on purpose")),
        "{got}"
    );
    // A buffered answer to a streaming invoke is one chunk.
    let echoed = python_json(STREAM_CLIENT, &[&server.url(""), &url_event("a=1")]);
    let events = echoed["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{echoed}");
}

#[test]
fn streamed_answers_have_lambdas_limits_6_mb_buffered_and_much_more_streamed() {
    let runtime = lambda_kit::emulator::tokio_runtime().unwrap();
    let config = FunctionConfig {
        function_name: "streamer".into(),
        timeout: Duration::from_secs(60),
        memory_size_mb: 512,
        ..FunctionConfig::default()
    };
    let mut sandbox = Sandbox::new(&FunctionCode::Bootstrap(function("streamer")), config).unwrap();
    // 7 chunks of 1 MiB: 7 MiB, over the buffered limit.
    let event = url_event("chunks=7&chunk_kb=1024&delay_ms=0");
    runtime.block_on(async {
        let buffered = sandbox.invoke(event.as_bytes()).await.unwrap();
        assert_eq!(
            buffered.outcome,
            Outcome::StreamedResponseTooLarge {
                limit_bytes: 6_291_556
            }
        );
        let error: Value = serde_json::from_slice(&buffered.response).unwrap();
        assert_eq!(error["errorType"], "Function.ResponseSizeTooLarge");
        let message = error["errorMessage"].as_str().unwrap();
        assert!(
            message.starts_with(
                "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
            ) && message.contains("InvokeWithResponseStream"),
            "{message}"
        );

        // The same answer streamed arrives whole, from the same (still warm) process.
        let (parts, mut received) = streaming::response_channel();
        let reader = tokio::spawn(async move {
            let mut total = 0usize;
            let mut head = None;
            while let Some(part) = received.recv().await {
                match part {
                    streaming::ResponsePart::Head(h) => head = Some(h),
                    streaming::ResponsePart::Chunk(c) => total += c.len(),
                }
            }
            (head, total)
        });
        let streamed = sandbox
            .invoke_streaming(event.as_bytes(), parts)
            .await
            .unwrap();
        assert_eq!(
            streamed.outcome,
            Outcome::Success,
            "{}",
            streamed.log_text()
        );
        assert!(
            !streamed.is_cold(),
            "the refused stream left the process alive"
        );
        let (head, total) = reader.await.unwrap();
        assert!(head.unwrap().has_prelude());
        assert!(total > 7 * 1024 * 1024, "{total}");
        assert_eq!(streamed.streamed_bytes, Some(total as u64));
        sandbox.shutdown().await;
    });
}

#[test]
fn the_runtime_api_reads_error_trailers_of_a_stream() {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let runtime = lambda_kit::emulator::tokio_runtime().unwrap();
    runtime.block_on(async {
        let mut api = RuntimeApi::start().await.unwrap();
        let client: Client<_, StreamBody<_>> = Client::builder(TokioExecutor::new()).build_http();
        api.send_event(Event {
            request_id: "r1".into(),
            payload: Bytes::from_static(b"{}"),
            deadline_ms: u64::MAX / 2,
            deadline_header: Default::default(),
            invoked_function_arn: "arn".into(),
            trace_id: "t".into(),
        })
        .unwrap();
        let next = hyper::Request::get(format!(
            "http://{}/2018-06-01/runtime/invocation/next",
            api.address()
        ))
        .body(StreamBody::new(futures_stream(Vec::new())))
        .unwrap();
        let got = client.request(next).await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(api.recv().await, Some(RuntimeMessage::Next));

        let mut trailers = hyper::HeaderMap::new();
        trailers.insert(
            streaming::ERROR_TYPE_TRAILER,
            "Runtime.StreamError".parse().unwrap(),
        );
        use base64::Engine;
        let body = base64::engine::general_purpose::STANDARD.encode("it broke midway");
        trailers.insert(streaming::ERROR_BODY_TRAILER, body.parse().unwrap());
        let frames = vec![
            Frame::data(Bytes::from_static(b"part one, ")),
            Frame::data(Bytes::from_static(b"part two")),
            Frame::trailers(trailers),
        ];
        let post = hyper::Request::post(format!(
            "http://{}/2018-06-01/runtime/invocation/r1/response",
            api.address()
        ))
        .header(streaming::RESPONSE_MODE_HEADER, "streaming")
        .header(
            "trailer",
            "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
        )
        .body(StreamBody::new(futures_stream(frames)))
        .unwrap();
        let post = tokio::spawn(client.request(post));
        let Some(RuntimeMessage::StreamStarted { request_id, stream }) = api.recv().await else {
            panic!("no stream");
        };
        assert_eq!(request_id, "r1");
        let mut frames = stream.take_frames().unwrap();
        let mut data = Vec::new();
        let end = loop {
            match frames.recv().await.unwrap() {
                StreamFrame::Data(d) => data.extend_from_slice(&d),
                other => break other,
            }
        };
        assert_eq!(data, b"part one, part two");
        let StreamFrame::End { error: Some(error) } = end else {
            panic!("no error from the trailers: {end:?}");
        };
        assert_eq!(error.error_type, "Runtime.StreamError");
        assert_eq!(error.error_message, "it broke midway");
        let answered = post.await.unwrap().unwrap();
        assert_eq!(answered.status(), 202);
        let _ = answered.into_body().collect().await;
    });
}

/// A body of the given frames.
fn futures_stream(
    frames: Vec<Frame<Bytes>>,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, std::convert::Infallible>> {
    futures_util::stream::iter(frames.into_iter().map(Ok))
}

/// `cargo xtask serve` of a fixture function on a free port, its stdout lines until the
/// front door's curl line; killed on drop.
struct Serve {
    child: std::process::Child,
    stdout: Vec<String>,
}

impl Serve {
    fn start(package: &str, extra: &[&str]) -> Serve {
        use std::io::{BufRead, BufReader};
        let manifest = fixture_dir().join("Cargo.toml");
        let mut child = support::xtask(["serve", "--port", "0", "--timeout", "30"])
            .arg("--manifest-path")
            .arg(&manifest)
            .args(["--package", package, "--bootstrap"])
            .arg(function(package))
            .args(extra)
            .spawn();
        let (tx, rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut stdout = Vec::new();
        while !stdout.iter().any(|l: &String| l.contains("/lambda-url/")) {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => stdout.push(line),
                Err(_) => {
                    let _ = child.kill();
                    let output = child.wait_with_output().unwrap();
                    panic!(
                        "serve printed no curl line: {stdout:?}\n{}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            }
        }
        Serve { child, stdout }
    }

    /// The URL of the `curl http://…/` line serve printed.
    fn root_url(&self) -> String {
        self.stdout
            .iter()
            .find_map(|l| l.trim().strip_prefix("curl "))
            .unwrap_or_else(|| panic!("no curl line in {:?}", self.stdout))
            .to_string()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Cost: two serve processes on the prebuilt fixture functions, about a second each.
#[test]
fn serve_puts_a_rest_function_at_the_root_for_curl_and_takes_http_event() {
    // The REST function: its lambda_http features choose REST, no flag needed.
    let serve = Serve::start("rest-html", &[]);
    let text = serve.stdout.join("\n");
    assert!(
        text.contains("API Gateway REST (v1) events (--http-event rest)"),
        "{text}"
    );
    let root = curl(&[&serve.root_url()]);
    assert_eq!(root.status, 200);
    assert!(
        root.header("content-type")[0].starts_with("text/html"),
        "{:?}",
        root.headers
    );
    assert_eq!(
        String::from_utf8_lossy(&root.body),
        "<h1>Hello from a REST function</h1>"
    );
    drop(serve);

    // A kind its features refuse is an error at start-up, naming the feature.
    let manifest = fixture_dir().join("Cargo.toml");
    let refused = support::xtask(["serve", "--port", "0", "--http-event", "alb"])
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--package", "rest-html", "--bootstrap"])
        .arg(function("rest-html"))
        .failure();
    assert!(refused.contains("`alb` feature"), "{refused}");
}

/// Cost: one invoke of the prebuilt streamer, about 2 s of its own pauses.
#[test]
fn invoke_prints_a_streamed_answer_as_it_arrives_without_its_prelude() {
    use std::io::{BufRead, BufReader};
    let manifest = fixture_dir().join("Cargo.toml");
    let started = std::time::Instant::now();
    let mut child = support::xtask(["invoke", "--payload"])
        .arg(url_event("chunks=3&delay_ms=1000"))
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--package", "streamer", "--bootstrap"])
        .arg(function("streamer"))
        .spawn();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        lines.push((line, started.elapsed()));
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {lines:?}");
    let text: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(text, ["chunk 1 of 3", "chunk 2 of 3", "chunk 3 of 3"]);
    assert!(!text.concat().contains('\0'), "no prelude: {text:?}");
    let (first, last) = (lines[0].1, lines[2].1);
    eprintln!("invoke: first chunk after {first:?}, last after {last:?}");
    assert!(
        last - first >= Duration::from_millis(1500),
        "the first chunk came at {first:?}, the last at {last:?}: not printed as it came"
    );
}
