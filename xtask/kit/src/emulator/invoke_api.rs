//! AWS Lambda's `Invoke` operation, `POST /2015-03-31/functions/{name}/invocations`, in front of
//! a [`Pool`] of sandboxes: what `aws lambda invoke --endpoint-url …` and the SDKs call. Any
//! function name is accepted (the pool runs one function). Each invocation runs in one
//! sandbox, one at a time per sandbox, as in Lambda's execution environments; with every
//! sandbox busy a synchronous invocation gets Lambda's throttle, 429
//! `TooManyRequestsException`, and an asynchronous (`Event`) one is queued.
//!
//! Request headers read: `X-Amz-Invocation-Type` (`RequestResponse`, `Event`, `DryRun`) and
//! `X-Amz-Log-Type` (`Tail`). Response headers: `X-Amz-Executed-Version`, `x-amzn-RequestId`,
//! `X-Amz-Function-Error: Unhandled` for a failed invocation, and `X-Amz-Log-Result` (base64 of
//! the last 4 KB of the log) when the tail was asked for.
//!
//! `InvokeWithResponseStream`, `POST /2021-11-15/functions/{name}/response-streaming-invocations`
//! (boto3's `invoke_with_response_stream`), answers 200 with an
//! `application/vnd.amazon.eventstream` body: a `PayloadChunk` event for each chunk as the
//! function streams it (a buffered answer is one chunk; the bytes are the function's own, the HTTP
//! integration prelude included, as AWS passes them on), then `InvokeComplete` with `ErrorCode`
//! (the error type) and `ErrorDetails` (its message) when the invocation failed, and `LogResult`
//! when the tail was asked for.

use std::sync::Arc;

use super::event_stream;
use super::pool::Pool;
use super::report::{self, LATEST};
use super::runtime_api::MAX_REQUEST_BYTES;
use super::sandbox::Invocation;
use super::streaming::{self, ResponsePart};
use crate::error::{chain_text, Failure};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Bytes of log `X-Amz-Log-Result` carries: the last 4 KB, as Lambda sends.
pub const LOG_TAIL_BYTES: usize = 4 * 1024;

/// Called with every finished invocation (the `serve` task prints its log).
pub type InvocationHook = Arc<dyn Fn(&Invocation) + Send + Sync>;

#[derive(Clone)]
struct AppState {
    pool: Arc<Pool>,
    hook: InvocationHook,
}

/// The router of the invoke endpoint for `pool`; serve it with `axum::serve`.
pub fn router(pool: Arc<Pool>, hook: InvocationHook) -> Router {
    router_with_front_door(pool, hook, None)
}

/// The invoke endpoint and, with `door`, the front door ([`super::front_door`]): plain HTTP at
/// `/lambda-url/<function>/…`, and at every other path when it serves one function.
pub fn router_with_front_door(
    pool: Arc<Pool>,
    hook: InvocationHook,
    door: Option<super::front_door::FrontDoor>,
) -> Router {
    let at_root = door.as_ref().is_some_and(|d| d.at_root);
    let front =
        door.map(|door| super::front_door::routes(Arc::clone(&pool), Arc::clone(&hook), door));
    let api = Router::new()
        .route(
            "/2015-03-31/functions/{function_name}/invocations",
            post(invoke),
        )
        .route(
            "/2021-11-15/functions/{function_name}/response-streaming-invocations",
            post(invoke_with_response_stream),
        );
    let api = if at_root {
        api
    } else {
        api.fallback(not_found)
    };
    let api = api.with_state(AppState { pool, hook });
    match front {
        Some(front) => api.merge(front),
        None => api,
    }
    .layer(DefaultBodyLimit::disable())
}

/// An error of the Lambda API, as the SDKs read it: the `x-amzn-ErrorType` header and a JSON
/// body with `Type` and `message`.
fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({ "Type": "User", "message": message });
    (
        status,
        [
            ("x-amzn-errortype", error_type.to_string()),
            ("content-type", "application/json".to_string()),
        ],
        body.to_string(),
    )
        .into_response()
}

async fn not_found() -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "UnknownOperationException",
        "the emulator serves only POST /2015-03-31/functions/{name}/invocations and \
         /2021-11-15/functions/{name}/response-streaming-invocations",
    )
}

enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// The invocation type, or the message of the 400 a bad one gets.
fn invocation_type(headers: &HeaderMap) -> Result<InvocationType, String> {
    match headers
        .get("x-amz-invocation-type")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None | Some("RequestResponse") => Ok(InvocationType::RequestResponse),
        Some("Event") => Ok(InvocationType::Event),
        Some("DryRun") => Ok(InvocationType::DryRun),
        Some(other) => Err(format!(
            "X-Amz-Invocation-Type {other:?} is not one of RequestResponse, Event, DryRun"
        )),
    }
}

async fn invoke(
    State(state): State<AppState>,
    Path(function_name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let kind = match invocation_type(&headers) {
        Ok(kind) => kind,
        Err(message) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                &message,
            )
        }
    };
    let tail = wants_tail(&headers);
    let payload = match read_payload(body).await {
        Ok(payload) => payload,
        Err(response) => return response,
    };
    let _ = function_name;
    match kind {
        InvocationType::DryRun => StatusCode::NO_CONTENT.into_response(),
        InvocationType::Event => {
            // Queued until a sandbox is free, as Lambda's asynchronous queue; never refused.
            tokio::spawn(async move {
                let result = match state.pool.acquire().await {
                    Ok(mut lease) => lease.invoke(&payload).await,
                    Err(error) => Err(error),
                };
                match result {
                    Ok(invocation) => (state.hook)(&invocation),
                    Err(error) => eprintln!(
                        "emulator: asynchronous invocation failed: {}",
                        chain_text(&error)
                    ),
                }
            });
            StatusCode::ACCEPTED.into_response()
        }
        InvocationType::RequestResponse => {
            let mut lease = match state.pool.try_acquire() {
                Ok(Some(lease)) => lease,
                Ok(None) => return too_many_requests(),
                Err(error) => return service_error(&error),
            };
            // In a task of its own, so that a client that hangs up does not cancel the
            // invocation halfway (the sandbox would be left with an event in flight).
            let run = tokio::spawn(async move { lease.invoke(&payload).await });
            match run.await {
                Ok(Ok(invocation)) => {
                    (state.hook)(&invocation);
                    invocation_response(&invocation, tail)
                }
                Ok(Err(error)) => service_error(&error),
                Err(error) => service_error(&Failure::msg(format!(
                    "the invocation task failed: {error}"
                ))),
            }
        }
    }
}

fn wants_tail(headers: &HeaderMap) -> bool {
    headers
        .get("x-amz-log-type")
        .is_some_and(|v| v.as_bytes() == b"Tail")
}

/// The event of an Invoke request: at most 6 MB of JSON (`{}` when empty), or the error
/// response Lambda gives.
async fn read_payload(body: Body) -> Result<Bytes, Response> {
    let payload = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLargeException",
                &format!(
                    "Request must be smaller than {MAX_REQUEST_BYTES} bytes for the \
                     InvokeFunction operation"
                ),
            ))
        }
        Err(error) => {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                &format!("could not read the request body: {error}"),
            ))
        }
    };
    // Lambda refuses a payload that is not JSON before the function sees it.
    let payload = if payload.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        payload
    };
    if serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_err() {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "Could not parse request body into json: the payload is not valid JSON",
        ));
    }
    Ok(payload)
}

/// `InvokeWithResponseStream`: the chunks as event-stream messages as the function writes them,
/// then `InvokeComplete`.
async fn invoke_with_response_stream(
    State(state): State<AppState>,
    Path(_function_name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match invocation_type(&headers) {
        Ok(InvocationType::RequestResponse) => {}
        Ok(InvocationType::DryRun) => return StatusCode::NO_CONTENT.into_response(),
        Ok(InvocationType::Event) | Err(_) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                "InvokeWithResponseStream takes X-Amz-Invocation-Type RequestResponse or DryRun",
            )
        }
    }
    let tail = wants_tail(&headers);
    let payload = match read_payload(body).await {
        Ok(payload) => payload,
        Err(response) => return response,
    };
    let mut lease = match state.pool.try_acquire() {
        Ok(Some(lease)) => lease,
        Ok(None) => return too_many_requests(),
        Err(error) => return service_error(&error),
    };
    let (parts_tx, mut parts) = streaming::response_channel();
    let (body_tx, body_rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    // The invocation runs in a task of its own: a client that hangs up does not cancel it.
    let run = tokio::spawn(async move { lease.invoke_streaming(&payload, parts_tx).await });
    tokio::spawn(async move {
        let mut client_gone = false;
        while let Some(part) = parts.recv().await {
            let ResponsePart::Chunk(chunk) = part else {
                continue;
            };
            for event in event_stream::payload_chunks(&chunk) {
                client_gone |= !client_gone && body_tx.send(Ok(event)).await.is_err();
            }
        }
        let complete = match run.await {
            Ok(Ok(invocation)) => {
                (state.hook)(&invocation);
                let log = tail.then(|| log_result(&invocation));
                let error_code = invocation.outcome.error_type();
                let details = invocation.outcome.error_message(&invocation.response);
                event_stream::invoke_complete(error_code, details.as_deref(), log.as_deref())
            }
            Ok(Err(error)) => event_stream::invoke_complete(
                Some("ServiceException"),
                Some(&format!(
                    "the emulator could not run the function: {}",
                    chain_text(&error)
                )),
                None,
            ),
            Err(error) => event_stream::invoke_complete(
                Some("ServiceException"),
                Some(&format!("the invocation task failed: {error}")),
                None,
            ),
        };
        let _ = body_tx.send(Ok(complete)).await;
    });
    let mut response = Response::new(streaming::channel_body(body_rx));
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static(event_stream::CONTENT_TYPE),
    );
    headers.insert("x-amz-executed-version", HeaderValue::from_static(LATEST));
    response
}

/// Base64 of the log's last 4 KB, as `X-Amz-Log-Result` and `LogResult` carry it.
pub fn log_result(invocation: &Invocation) -> String {
    let log = invocation.log_text();
    base64::engine::general_purpose::STANDARD.encode(report::log_tail(&log, LOG_TAIL_BYTES))
}

fn service_error(error: &(dyn std::error::Error + 'static)) -> Response {
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ServiceException",
        &format!(
            "the emulator could not run the function: {}",
            chain_text(error)
        ),
    )
}

/// Lambda's answer when the function's concurrency is exhausted: 429 with
/// `x-amzn-ErrorType: TooManyRequestsException` and the `Reason` it gives for a function with
/// reserved concurrency (which `serve --concurrency N` stands for). The SDKs raise it as
/// `TooManyRequestsException` (and retry it, as they would against AWS).
pub fn too_many_requests() -> Response {
    let body = serde_json::json!({
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "Type": "User",
        "message": "Rate Exceeded.",
    });
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            ("x-amzn-errortype", "TooManyRequestsException"),
            ("content-type", "application/json"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The HTTP response for a finished synchronous invocation.
pub fn invocation_response(invocation: &Invocation, tail: bool) -> Response {
    let mut response = Response::new(Body::from(invocation.response.clone()));
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-amz-executed-version", HeaderValue::from_static(LATEST));
    if let Ok(id) = HeaderValue::from_str(&invocation.request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if !invocation.outcome.is_success() {
        headers.insert(
            "x-amz-function-error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    if tail {
        if let Ok(value) = HeaderValue::from_str(&log_result(invocation)) {
            headers.insert("x-amz-log-result", value);
        }
    }
    response
}
