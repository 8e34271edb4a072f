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

use std::sync::Arc;

use super::pool::Pool;
use super::report::{self, LATEST};
use super::runtime_api::MAX_PAYLOAD_BYTES;
use super::sandbox::Invocation;
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
    Router::new()
        .route(
            "/2015-03-31/functions/{function_name}/invocations",
            post(invoke),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .with_state(AppState { pool, hook })
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
        "the emulator serves only POST /2015-03-31/functions/{name}/invocations",
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
    let tail = headers
        .get("x-amz-log-type")
        .is_some_and(|v| v.as_bytes() == b"Tail");
    let payload = match Limited::new(body, MAX_PAYLOAD_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLargeException",
                &format!(
                    "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the \
                     InvokeFunction operation"
                ),
            )
        }
        Err(error) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                &format!("could not read the request body: {error}"),
            )
        }
    };
    // Lambda refuses a payload that is not JSON before the function sees it.
    let payload = if payload.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        payload
    };
    if serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_err() {
        return api_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "Could not parse request body into json: the payload is not valid JSON",
        );
    }
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
        let log = invocation.log_text();
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(report::log_tail(&log, LOG_TAIL_BYTES));
        if let Ok(value) = HeaderValue::from_str(&encoded) {
            headers.insert("x-amz-log-result", value);
        }
    }
    response
}
