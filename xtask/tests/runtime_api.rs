//! The Runtime API server against a real HTTP client: the headers `next` gives, AWS's status
//! codes, and 400 (not a crash) for unknown request ids and malformed bodies.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lambda_kit::emulator::runtime_api::{Event, RuntimeApi, RuntimeMessage, MAX_RESPONSE_BYTES};
use serde_json::Value;

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn call(
    client: &HttpClient,
    api: &RuntimeApi,
    method: Method,
    path: &str,
    body: impl Into<Bytes>,
) -> (StatusCode, hyper::HeaderMap, Bytes) {
    let request = Request::builder()
        .method(method)
        .uri(format!("http://{}{path}", api.address()))
        .body(Full::new(body.into()))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .expect("the Runtime API answers")
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body)
}

fn error_type(body: &Bytes) -> String {
    let value: Value = serde_json::from_slice(body).unwrap();
    value["errorType"].as_str().unwrap().to_string()
}

#[test]
fn runtime_api_speaks_lambdas_protocol() {
    let runtime = lambda_kit::emulator::tokio_runtime().unwrap();
    runtime.block_on(async {
        let mut api = RuntimeApi::start().await.unwrap();
        assert!(api.address().ip().is_loopback());
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

        // init/error is accepted before the first next.
        let (status, _, _) = call(
            &client,
            &api,
            Method::POST,
            "/2018-06-01/runtime/init/error",
            r#"{"errorType":"Runtime.InitError","errorMessage":"bad config"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        match api.recv().await.unwrap() {
            RuntimeMessage::InitError { error } => {
                assert_eq!(error.error_type, "Runtime.InitError");
                assert_eq!(error.error_message, "bad config");
            }
            other => panic!("{other:?}"),
        }

        // next waits for an event and hands it over with Lambda's headers.
        let next = {
            let client = client.clone();
            let uri = format!(
                "http://{}/2018-06-01/runtime/invocation/next",
                api.address()
            );
            tokio::spawn(async move {
                let response = client
                    .request(Request::get(uri).body(Full::new(Bytes::new())).unwrap())
                    .await
                    .unwrap();
                let headers = response.headers().clone();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                (headers, body)
            })
        };
        assert_eq!(api.recv().await.unwrap(), RuntimeMessage::Next);
        api.send_event(Event {
            request_id: "req-1".into(),
            payload: Bytes::from_static(br#"{"digits": 5}"#),
            deadline_ms: 1_700_000_003_000,
            deadline_header: Default::default(),
            invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:calculate-pi"
                .into(),
            trace_id: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
                .into(),
        })
        .unwrap();
        let (headers, body) = tokio::time::timeout(Duration::from_secs(10), next)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(body, Bytes::from_static(br#"{"digits": 5}"#));
        assert_eq!(headers["lambda-runtime-aws-request-id"], "req-1");
        assert_eq!(headers["lambda-runtime-deadline-ms"], "1700000003000");
        assert_eq!(
            headers["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:123456789012:function:calculate-pi"
        );
        assert!(headers["lambda-runtime-trace-id"]
            .to_str()
            .unwrap()
            .starts_with("Root=1-"));

        // init/error after the first next: 403.
        let (status, _, _) = call(
            &client,
            &api,
            Method::POST,
            "/2018-06-01/runtime/init/error",
            "{}",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // An unknown request id: 400, and nothing reaches the sandbox.
        let (status, _, body) = call(
            &client,
            &api,
            Method::POST,
            "/2018-06-01/runtime/invocation/nope/response",
            "{}",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_type(&body), "InvalidRequestID");

        // A malformed error body: 400; the invocation stays in flight.
        for bad in ["not json", "[]", r#"{"errorType": 1}"#] {
            let (status, _, body) = call(
                &client,
                &api,
                Method::POST,
                "/2018-06-01/runtime/invocation/req-1/error",
                bad,
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(error_type(&body), "InvalidRequestBody");
        }
        assert_eq!(api.try_recv(), None);

        // Over 6 MB: 413 RequestEntityTooLarge, and the invocation fails.
        let (status, _, body) = call(
            &client,
            &api,
            Method::POST,
            "/2018-06-01/runtime/invocation/req-1/response",
            vec![b'x'; MAX_RESPONSE_BYTES + 1],
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error_type(&body), "RequestEntityTooLarge");
        assert_eq!(
            api.recv().await.unwrap(),
            RuntimeMessage::ResponseTooLarge {
                request_id: "req-1".into()
            }
        );

        // A second invocation: answered with 202, once.
        let next = {
            let client = client.clone();
            let uri = format!(
                "http://{}/2018-06-01/runtime/invocation/next",
                api.address()
            );
            tokio::spawn(async move {
                client
                    .request(Request::get(uri).body(Full::new(Bytes::new())).unwrap())
                    .await
                    .unwrap()
                    .status()
            })
        };
        assert_eq!(api.recv().await.unwrap(), RuntimeMessage::Next);
        api.send_event(Event {
            request_id: "req-2".into(),
            payload: Bytes::from_static(b"{}"),
            deadline_ms: 1,
            deadline_header: Default::default(),
            invoked_function_arn: "arn".into(),
            trace_id: "Root=1-0-0".into(),
        })
        .unwrap();
        assert_eq!(next.await.unwrap(), StatusCode::OK);
        let (status, _, _) = call(
            &client,
            &api,
            Method::POST,
            "/2018-06-01/runtime/invocation/req-2/response",
            r#"{"ok":true}"#,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(
            api.recv().await.unwrap(),
            RuntimeMessage::Response {
                request_id: "req-2".into(),
                body: Bytes::from_static(br#"{"ok":true}"#)
            }
        );
        let (status, _, _) = call(
            &client,
            &api,
            Method::POST,
            "/2018-06-01/runtime/invocation/req-2/response",
            "{}",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "answered twice");

        let (status, _, _) = call(&client, &api, Method::GET, "/2018-06-01/nothing", "").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        api.stop();
    });
}
