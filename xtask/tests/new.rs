//! The inner loop on packages `cargo xtask new` writes, as a new user runs it: `new` then
//! `invoke --event`, `serve` answering curl at `/` for an HTTP function, and `serve --watch` answering with the edited code (and keeping the old
//! code on a syntax error). The packages are written to a temporary folder outside any
//! workspace; their builds share one target folder below this repository's `target/`, so a
//! rerun is warm.
//!
//! Cost (2 cores, warm registry): `new_sqs_function_answers_its_example_event` ~35 s cold
//! (lambda_runtime and aws_lambda_events, release, musl), ~3 s warm;
//! `serve_watch_swaps_in_edits_and_keeps_the_old_code_on_a_build_failure` ~30 s cold (the
//! lambda-dev profile), then ~4 s per edit; `new_http_function_answers_curl_at_the_root_under_serve`
//! ~40 s cold (lambda_http, release).
#![cfg(target_os = "linux")] // builds and runs Linux Lambda binaries

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod support;

use support::serve::Served;
use support::xtask;

/// One target folder for every generated package of every run.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("new-packages-target")
}

fn new_package(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let output = xtask(["new"])
        .arg(&path)
        .args(flags)
        .current_dir(dir)
        .success();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("`{name}`")), "{stdout}");
    path.join("Cargo.toml")
}

#[test]
fn new_sqs_function_answers_its_example_event() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = new_package(dir.path(), "orders-queue", &["--event-type", "sqs"]);
    // A second `new` at the same place is refused and changes nothing.
    let before = std::fs::read(&manifest).unwrap();
    let refused = xtask(["new", "orders-queue", "--http"])
        .current_dir(dir.path())
        .failure();
    assert!(refused.contains("not empty"), "{refused}");
    assert_eq!(std::fs::read(&manifest).unwrap(), before);

    let invoke = |extra: &[&str]| {
        xtask(["invoke", "--builder", "cargo", "--manifest-path"])
            .arg(&manifest)
            .args(extra)
            .env("CARGO_TARGET_DIR", shared_target())
            .current_dir(dir.path())
            .success()
    };
    let output = invoke(&["--event", "sqs"]);
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer, serde_json::json!({"processed": 1}));
    let logs = String::from_utf8_lossy(&output.stderr);
    // The handler logged the body of the example's message.
    assert!(
        logs.contains("message c80e8021-a70a-42c7-a470-796e1186f753: {\"orderId\": \"7781\""),
        "{logs}"
    );
    // Without --event, the package's own metadata names the same example.
    let output = invoke(&[]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("Sending the kit's sqs example"));
    // An unknown kind lists the known ones.
    let unknown = xtask(["invoke", "--event", "kafka", "--manifest-path"])
        .arg(&manifest)
        .failure();
    assert!(
        unknown.contains("apigw-rest") && unknown.contains("sqs"),
        "{unknown}"
    );
}

/// POSTs `body` to the Invoke API at `address` and returns the response body.
fn invoke_api(address: &str, function: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /2015-03-31/functions/{function}/invocations HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or(response)
}

/// `cargo xtask serve` on a generated package, its output lines read on their own threads.
/// `serve` on a free port in `dir`, with the packages' shared target folder.
fn serve(dir: &Path, manifest: &Path, flags: &[&str]) -> Served {
    Served::spawn(
        xtask(["serve", "--builder", "cargo", "--port", "0"])
            .args(flags)
            .arg("--manifest-path")
            .arg(manifest)
            .env("CARGO_TARGET_DIR", shared_target())
            .current_dir(dir),
    )
}

#[test]
fn new_http_function_answers_curl_at_the_root_under_serve() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = new_package(dir.path(), "web-page", &["--http"]);
    let served = serve(dir.path(), &manifest, &[]);
    let page = support::http::curl(&[&format!("http://{}/?name=Ada", served.address)]);
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
    assert_eq!(
        String::from_utf8_lossy(&page.body),
        "Hello, Ada! This is web-page, a Rust function on AWS Lambda."
    );
    assert_eq!(page.header("content-type"), ["text/plain; charset=utf-8"]);
}

#[test]
fn serve_watch_swaps_in_edits_and_keeps_the_old_code_on_a_build_failure() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = new_package(dir.path(), "greeter", &[]);
    let handler = dir.path().join("greeter/src/handler.rs");
    let mut served = serve(dir.path(), &manifest, &["--watch"]);
    let address = served.address.clone();
    let ask = || invoke_api(&address, "greeter", r#"{"name": "Ada"}"#);
    assert_eq!(ask(), r#"{"message":"Hello, Ada!"}"#);

    let text = std::fs::read_to_string(&handler).unwrap();
    std::fs::write(&handler, text.replace("Hello, {name}!", "Welcome, {name}!")).unwrap();
    served.wait_for(
        &|l| l.starts_with("watch: rebuilt in"),
        Duration::from_secs(300),
    );
    assert_eq!(
        ask(),
        r#"{"message":"Welcome, {name}!"}"#.replace("{name}", "Ada")
    );

    // A syntax error: the compiler's error is shown, and the previous code keeps answering.
    let text = std::fs::read_to_string(&handler).unwrap();
    std::fs::write(
        &handler,
        text.replace("Welcome, {name}!\")", "Welcome, {name}!\""),
    )
    .unwrap();
    served.wait_for(&|l| l.starts_with("error"), Duration::from_secs(300));
    served.wait_for(
        &|l| l.starts_with("watch: the build failed"),
        Duration::from_secs(60),
    );
    assert_eq!(ask(), r#"{"message":"Welcome, Ada!"}"#);
}
