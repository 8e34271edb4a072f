//! Property tests of the kit: the zip writer (any names, modes and bytes read back the same by
//! the `zip` crate and by Python's `zipfile`), and the emulator's Runtime API server (malformed
//! paths, headers, bodies and request lines get a 4xx, never a 5xx, a crash or a hang). Every
//! runner has a fixed seed (the same cases on every run) and writes no persistence file.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use lambda_kit::artifact::lambda_zip::{self, ExtraFile};
use lambda_kit::emulator::{self, runtime_api::RuntimeApi};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

// ---------------------------------------------------------------------------------------------
// The zip writer.

/// A relative `/`-separated name of one to three components, any Unicode letters included.
fn entry_name() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-zA-Z0-9_.\\-]{1,10}|\\p{L}{1,6}", 1..=3)
        .prop_map(|parts| parts.join("/"))
        .prop_filter("not a special name", |name| {
            name != lambda_zip::BOOTSTRAP
                && !name.split('/').any(|p| p == "." || p == "..")
                && !name.starts_with(&format!("{}/", lambda_zip::BOOTSTRAP))
        })
}

type Extras = BTreeMap<String, (u32, Vec<u8>)>;

fn function_inputs() -> impl Strategy<Value = (Vec<u8>, Extras)> {
    (
        prop::collection::vec(any::<u8>(), 0..4096),
        prop::collection::btree_map(
            entry_name(),
            (0u32..=0o777, prop::collection::vec(any::<u8>(), 0..2048)),
            0..5,
        ),
    )
        // A name cannot be both a file and a directory of another.
        .prop_filter("no file is another's directory", |(_, extras)| {
            !extras
                .keys()
                .any(|a| extras.keys().any(|b| b.starts_with(&format!("{a}/"))))
        })
}

fn extras_of(extras: &Extras) -> Vec<ExtraFile> {
    extras
        .iter()
        .map(|(name, (mode, contents))| ExtraFile {
            name: name.clone(),
            mode: *mode,
            contents: contents.clone(),
        })
        .collect()
}

#[test]
fn any_function_zip_reads_back_the_same_and_is_the_same_every_time() {
    runner(96)
        .run(&function_inputs(), |(binary, extras)| {
            let zip = lambda_zip::function_zip(&binary, &extras_of(&extras)).unwrap();
            prop_assert_eq!(
                &zip,
                &lambda_zip::function_zip(&binary, &extras_of(&extras)).unwrap()
            );
            let entries = lambda_zip::read_entries(&zip).unwrap();
            prop_assert_eq!(entries.len(), 1 + extras.len());
            prop_assert_eq!(&entries[0].name, lambda_zip::BOOTSTRAP);
            prop_assert_eq!(entries[0].unix_mode.map(|m| m & 0o777), Some(0o755));
            prop_assert_eq!(&entries[0].contents, &binary);
            for (entry, (name, (mode, contents))) in entries[1..].iter().zip(&extras) {
                prop_assert_eq!(&entry.name, name);
                prop_assert_eq!(entry.unix_mode.map(|m| m & 0o777), Some(*mode));
                prop_assert_eq!(&entry.contents, contents);
            }
            Ok(())
        })
        .unwrap();
}

/// Python's `zipfile` (a reader independent of the `zip` crate) reads the same names, modes
/// and contents, and finds every CRC right. One Python run checks a batch of generated zips.
#[test]
fn pythons_zipfile_reads_the_function_zips_the_same() {
    let python = xtask::repository::Venv::Test.program("python").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    let mut runner = runner(24);
    let strategy = function_inputs();
    for index in 0..24 {
        let (binary, extras) = strategy.new_tree(&mut runner).unwrap().current();
        let zip = lambda_zip::function_zip(&binary, &extras_of(&extras)).unwrap();
        let path = dir.path().join(format!("{index}.zip"));
        std::fs::write(&path, zip).unwrap();
        let mut entries = vec![json!([lambda_zip::BOOTSTRAP, 0o755, hex_sha256(&binary)])];
        for (name, (mode, contents)) in &extras {
            entries.push(json!([name, mode, hex_sha256(contents)]));
        }
        expected.push(json!({"path": path, "entries": entries}));
    }
    let script = r#"
import hashlib, json, sys, zipfile
seen = []
for case in json.load(sys.stdin):
    with zipfile.ZipFile(case["path"]) as z:
        assert z.testzip() is None, case["path"]
        seen.append({"path": case["path"], "entries": [
            [i.filename, (i.external_attr >> 16) & 0o777, hashlib.sha256(z.read(i)).hexdigest()]
            for i in z.infolist()]})
print(json.dumps(seen))
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(&expected).unwrap().as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen, Value::Array(expected));
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The Runtime API server, over real HTTP on 127.0.0.1.

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// A request, well-formed HTTP or not.
#[derive(Debug, Clone)]
enum Request {
    Http {
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Bytes that are not an HTTP request (or barely).
    Raw(Vec<u8>),
}

fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("invocation".to_string()),
        Just("next".to_string()),
        Just("response".to_string()),
        Just("error".to_string()),
        Just("init".to_string()),
        Just("runtime".to_string()),
        Just("2018-06-01".to_string()),
        Just(String::new()),
        Just("..".to_string()),
        "[a-f0-9\\-]{1,40}",
        "(%[0-9A-Fa-f]{2}|%|[a-z]){1,12}",
        "[!$&'()*+,;=:@~]{1,5}",
        "x{300,2000}",
    ]
}

fn request() -> impl Strategy<Value = Request> {
    let http = (
        prop::sample::select(vec![
            "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
        ]),
        prop::collection::vec(path_segment(), 0..6),
        any::<bool>(),
        prop::collection::vec(("[A-Za-z][A-Za-z0-9\\-]{0,30}", "[ -~]{0,60}"), 0..5),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            Just(b"{}".to_vec()),
            Just(br#"{"errorType": 5}"#.to_vec()),
            Just(b"[]".to_vec()),
        ],
    )
        .prop_map(|(method, segments, versioned, headers, body)| {
            let path = if versioned {
                format!("/2018-06-01/runtime/{}", segments.join("/"))
            } else {
                format!("/{}", segments.join("/"))
            };
            Request::Http {
                method: method.to_string(),
                path,
                headers,
                body,
            }
        })
        // `next` is a long poll: with no event it rightly waits.
        .prop_filter("not a long poll", |r| match r {
            Request::Http { method, path, .. } => {
                !(path.trim_end_matches('/') == NEXT && (method == "GET" || method == "HEAD"))
            }
            Request::Raw(_) => true,
        });
    let raw = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..200),
        "[ -~]{1,80}".prop_map(|line| format!("{line}\r\n\r\n").into_bytes()),
        "[A-Z]{1,8} [ -~]{0,40} HTTP/[0-9.]{1,4}".prop_map(|l| format!("{l}\r\n\r\n").into_bytes()),
    ]
    .prop_map(Request::Raw);
    prop_oneof![4 => http, 1 => raw]
}

fn request_bytes(request: &Request) -> Vec<u8> {
    match request {
        Request::Raw(bytes) => bytes.clone(),
        Request::Http {
            method,
            path,
            headers,
            body,
        } => {
            let mut bytes = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").into_bytes();
            for (name, value) in headers {
                // The framing headers are the test's own.
                let lower = name.to_ascii_lowercase();
                if ["content-length", "transfer-encoding", "host", "expect"]
                    .contains(&lower.as_str())
                {
                    continue;
                }
                bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            bytes.extend_from_slice(
                format!(
                    "Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            bytes.extend_from_slice(body);
            bytes
        }
    }
}

/// The status of the answer, `None` if the connection closed without one; `Err` on a hang.
async fn send(address: std::net::SocketAddr, bytes: &[u8]) -> Result<Option<u16>, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        // The server may answer and close before reading everything: not an error.
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        answer
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| "no answer within 10 s".to_string())?;
    let text = String::from_utf8_lossy(&answer);
    Ok(text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok()))
}

#[test]
fn malformed_runtime_api_requests_get_4xx_and_never_crash_or_hang_the_server() {
    let runtime = emulator::tokio_runtime().unwrap();
    let mut api = runtime.block_on(RuntimeApi::start()).unwrap();
    let address = api.address();
    runner(256)
        .run(&request(), |request| {
            let status = runtime.block_on(send(address, &request_bytes(&request)));
            let status = status.map_err(|e| TestCaseError::fail(format!("{e}: {request:?}")))?;
            let accepted_init_error = matches!(
                &request,
                Request::Http { method, path, .. }
                    if method == "POST" && path == "/2018-06-01/runtime/init/error"
            );
            match (status, &request) {
                (Some(code), _) if (400..500).contains(&code) => {}
                (Some(202), _) if accepted_init_error => {}
                // Bytes that are not HTTP may be dropped without an answer.
                (None, Request::Raw(_)) => {}
                (other, _) => {
                    return Err(TestCaseError::fail(format!(
                        "answered {other:?} to {request:?}"
                    )))
                }
            }
            Ok(())
        })
        .unwrap();
    // The server still works: an event goes out through `next` and its answer comes back.
    runtime.block_on(async {
        while api.try_recv().is_some() {}
        api.send_event(emulator::runtime_api::Event {
            request_id: "after-the-storm".into(),
            payload: axum::body::Bytes::from_static(b"{}"),
            deadline_ms: 1_700_000_000_000,
            deadline_header: Default::default(),
            invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            trace_id: "Root=1-0-0".into(),
        })
        .unwrap();
        let next = format!("GET {NEXT} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(send(address, next.as_bytes()).await, Ok(Some(200)));
        let response = "POST /2018-06-01/runtime/invocation/after-the-storm/response HTTP/1.1\r\n\
                        Host: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        assert_eq!(send(address, response.as_bytes()).await, Ok(Some(202)));
    });
}
