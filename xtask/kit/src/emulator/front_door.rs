//! The front door: plain HTTP in front of the function, as API Gateway, a function URL or an
//! ALB would put it, so that `curl` and a browser reach a `lambda_http` function directly.
//!
//! - `/lambda-url/<function>/<path>` (cargo-lambda's path) always, and every other path when the
//!   server runs one function ([`FrontDoor::at_root`]), becomes the event of
//!   [`FrontDoor::kind`] ([`super::http_event::event`]) and is invoked through the pool, like any
//!   other invocation (429 when every execution environment is busy).
//! - A buffered answer is mapped back as the service would ([`super::http_event::response`]);
//!   a function error or an answer the service cannot use is API Gateway's 502
//!   `{"message":"Internal server error"}`, a timeout 504.
//! - A streamed answer streams (a function URL in `RESPONSE_STREAM` mode): its HTTP integration
//!   prelude gives the status, headers and cookies, and each chunk goes to the client as the
//!   function writes it. A stream that fails midway is cut off, as Lambda cuts it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::mpsc;

use super::http_event::{self, FrontRequest, FrontResponse, GatewayContext, HttpEventKind};
use super::invoke_api::InvocationHook;
use super::pool::Pool;
use super::report;
use super::runtime_api::MAX_REQUEST_BYTES;
use super::sandbox::{Invocation, Outcome};
use super::streaming::{self, PreludeSplitter, ResponseHead, ResponsePart, Split};
use crate::error::chain_text;

/// The prefix of cargo-lambda's function URL path: `/lambda-url/<function>/…`.
pub const URL_PREFIX: &str = "/lambda-url/";

/// How the front door turns requests into events.
#[derive(Debug, Clone)]
pub struct FrontDoor {
    /// The event the function gets.
    pub kind: HttpEventKind,
    /// Whether every path outside the Invoke API and `/lambda-url/…` goes to the function (the
    /// server runs one function).
    pub at_root: bool,
    pub region: String,
    pub function_name: String,
}

#[derive(Clone)]
struct DoorState {
    pool: Arc<Pool>,
    hook: InvocationHook,
    door: Arc<FrontDoor>,
}

/// The front door's routes. With [`FrontDoor::at_root`] it is also the fallback of every
/// other path; merge it with [`super::invoke_api::router`] through
/// [`super::invoke_api::router_with_front_door`].
pub(super) fn routes(pool: Arc<Pool>, hook: InvocationHook, door: FrontDoor) -> Router {
    let at_root = door.at_root;
    let state = DoorState {
        pool,
        hook,
        door: Arc::new(door),
    };
    let router = Router::new()
        .route("/lambda-url/{function}", any(front_door))
        .route("/lambda-url/{function}/", any(front_door))
        .route("/lambda-url/{function}/{*path}", any(front_door));
    let router = if at_root {
        router.fallback(front_door)
    } else {
        router
    };
    router.with_state(state)
}

/// The path the function sees: the request's, less `/lambda-url/<function>`.
pub fn function_path(path: &str) -> String {
    match path.strip_prefix(URL_PREFIX) {
        Some(rest) => match rest.find('/') {
            Some(slash) => rest[slash..].to_string(),
            None => "/".to_string(),
        },
        None => path.to_string(),
    }
}

fn plain(response: FrontResponse) -> Response {
    let mut out = Response::new(Body::from(response.body));
    *out.status_mut() = response.status;
    for (name, value) in response.headers {
        out.headers_mut().append(name, value);
    }
    out
}

async fn front_door(State(state): State<DoorState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                [("content-type", "application/json")],
                r#"{"message":"Request Entity Too Large"}"#,
            )
                .into_response()
        }
        Err(_) => return plain(FrontResponse::bad_gateway()),
    };
    let request = FrontRequest {
        method: parts.method.clone(),
        path: function_path(parts.uri.path()),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers.clone(),
        body,
        source_ip,
    };
    let door = &state.door;
    let gateway = GatewayContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        time_ms: report::unix_ms(std::time::SystemTime::now()),
        account_id: "123456789012".to_string(),
        region: door.region.clone(),
        function_name: door.function_name.clone(),
        api_id: api_id(&door.function_name),
    };
    let event = http_event::event(door.kind, &request, &gateway);
    let mut lease = match state.pool.try_acquire() {
        Ok(Some(lease)) => lease,
        Ok(None) => return plain(FrontResponse::throttled()),
        Err(error) => {
            eprintln!("emulator: front door: {}", chain_text(&error));
            return plain(FrontResponse::bad_gateway());
        }
    };
    let (parts_tx, mut parts) = streaming::response_channel();
    let run = tokio::spawn(async move { lease.invoke_streaming(&event, parts_tx).await });
    let hook = Arc::clone(&state.hook);
    // The invocation's end: logged through the hook, and what a failure answers.
    let finish = move || async move {
        match run.await {
            Ok(Ok(invocation)) => {
                hook(&invocation);
                Some(invocation)
            }
            Ok(Err(error)) => {
                eprintln!(
                    "emulator: front door: the emulator could not run the function: {}",
                    chain_text(&error)
                );
                None
            }
            Err(error) => {
                eprintln!("emulator: front door: the invocation task failed: {error}");
                None
            }
        }
    };
    let head = match parts.recv().await {
        Some(ResponsePart::Head(head)) => head,
        // No head: the invocation failed before answering.
        _ => return failure_response(finish().await.as_ref()),
    };
    if !head.streamed {
        let answer = match parts.recv().await {
            Some(ResponsePart::Chunk(answer)) => answer,
            _ => Bytes::new(),
        };
        let invocation = finish().await;
        return match http_event::response(door.kind, &answer) {
            Ok(response) => plain(response),
            Err(reason) => {
                eprintln!("emulator: front door: 502: {reason}");
                plain(FrontResponse::bad_gateway())
            }
        }
        .tap_failure(invocation.as_ref());
    }
    streamed_response(head, parts, finish).await
}

/// Small helper: an answer stays as it is unless the invocation failed.
trait TapFailure {
    fn tap_failure(self, invocation: Option<&Invocation>) -> Response;
}

impl TapFailure for Response {
    fn tap_failure(self, invocation: Option<&Invocation>) -> Response {
        match invocation {
            Some(i) if i.outcome.is_success() => self,
            other => failure_response(other),
        }
    }
}

/// API Gateway's answer to an invocation that failed: 504 for a timeout, else 502.
fn failure_response(invocation: Option<&Invocation>) -> Response {
    match invocation.map(|i| &i.outcome) {
        Some(Outcome::Timeout) => plain(FrontResponse::gateway_timeout()),
        _ => plain(FrontResponse::bad_gateway()),
    }
}

/// A streamed answer: the prelude (when the function sends one) gives the head, then each chunk
/// goes on as it comes; a failure after the head cuts the body off.
async fn streamed_response<F, Fut>(
    head: ResponseHead,
    mut parts: mpsc::Receiver<ResponsePart>,
    finish: F,
) -> Response
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<Invocation>> + Send,
{
    let mut status = StatusCode::OK;
    let mut headers = vec![(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_str(
            head.content_type
                .as_deref()
                .unwrap_or("application/octet-stream"),
        )
        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    )];
    let mut first_body = Bytes::new();
    if head.has_prelude() {
        let mut splitter = PreludeSplitter::new();
        loop {
            let Some(ResponsePart::Chunk(chunk)) = parts.recv().await else {
                // The stream ended (or failed) before its prelude did.
                let invocation = finish().await;
                eprintln!("emulator: front door: 502: the stream ended inside its prelude");
                return failure_response(invocation.as_ref());
            };
            match splitter.push(&chunk) {
                Ok(Split::Pending) => continue,
                Ok(Split::Prelude(prelude, rest)) => {
                    match http_event::prelude_head(&prelude) {
                        Ok((code, prelude_headers)) => {
                            status = code;
                            headers = prelude_headers;
                        }
                        Err(reason) => {
                            eprintln!("emulator: front door: 502: {reason}");
                            drain(parts, finish);
                            return plain(FrontResponse::bad_gateway());
                        }
                    }
                    first_body = rest;
                    break;
                }
                Ok(Split::Body(_)) => unreachable!("the prelude comes first"),
                Err(reason) => {
                    eprintln!("emulator: front door: 502: {reason}");
                    drain(parts, finish);
                    return plain(FrontResponse::bad_gateway());
                }
            }
        }
    }
    let (body_tx, body_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        if !first_body.is_empty() {
            let _ = body_tx.send(Ok(first_body)).await;
        }
        while let Some(part) = parts.recv().await {
            if let ResponsePart::Chunk(chunk) = part {
                // A client that hung up does not stop the function; the rest is dropped.
                let _ = body_tx.send(Ok(chunk)).await;
            }
        }
        let invocation = finish().await;
        if !invocation.as_ref().is_some_and(|i| i.outcome.is_success()) {
            let reason = invocation
                .as_ref()
                .and_then(|i| i.outcome.error_type().map(str::to_string))
                .unwrap_or_else(|| "the emulator failed".to_string());
            let _ = body_tx
                .send(Err(std::io::Error::other(format!(
                    "the function's stream failed: {reason}"
                ))))
                .await;
        }
    });
    let mut response = Response::new(streaming::channel_body(body_rx));
    *response.status_mut() = status;
    for (name, value) in headers {
        response.headers_mut().append(name, value);
    }
    response
}

/// Reads what is left of a stream that will not be sent, then logs the invocation.
fn drain<F, Fut>(mut parts: mpsc::Receiver<ResponsePart>, finish: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<Invocation>> + Send,
{
    tokio::spawn(async move {
        while parts.recv().await.is_some() {}
        finish().await;
    });
}

/// A stable id for the function's made-up URL or API: 32 lowercase alphanumerics for a URL
/// id (AWS's length), derived from the name so that it stays the same between runs.
fn api_id(function_name: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(function_name.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_sees_the_path_after_its_url_prefix() {
        assert_eq!(function_path("/lambda-url/orders/items/1"), "/items/1");
        assert_eq!(function_path("/lambda-url/orders"), "/");
        assert_eq!(function_path("/lambda-url/orders/"), "/");
        assert_eq!(function_path("/items"), "/items");
        assert_eq!(api_id("orders").len(), 32);
        assert_eq!(api_id("orders"), api_id("orders"));
    }
}
