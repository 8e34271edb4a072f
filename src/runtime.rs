//! The Lambda Runtime API loop (version 2018-06-01): get an event, answer it, repeat.
//!
//! lambda_runtime's own loop builds its `Context` with `expect` and `?`
//! (`Context::new`, `invoke_request_id` in its types.rs): a missing
//! `Lambda-Runtime-Deadline-Ms` or `Lambda-Runtime-Aws-Request-Id` panics, and a deadline that
//! is not a number, client-context or Cognito headers that are not JSON, or an ARN that is not
//! text end the process, before any handler or layer sees the event. So the loop is ours, on
//! the same upstream client (`lambda_runtime_api_client`), reading only the headers this
//! function uses and every one of them tolerantly.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::SystemTime;

use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use http_body_util::BodyExt;
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{build_request, PooledClient};
use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::deadline::{self, TimeLeft};
use crate::handler::{self, Diagnostic};
use crate::limits::Limits;

/// The variable Lambda sets to the Runtime API's `host:port`.
pub const RUNTIME_API_VAR: &str = "AWS_LAMBDA_RUNTIME_API";
/// X-Ray SDKs read the invocation's trace header from this variable.
pub const TRACE_ID_VAR: &str = "_X_AMZN_TRACE_ID";

pub const REQUEST_ID_HEADER: &str = "lambda-runtime-aws-request-id";
pub const DEADLINE_HEADER: &str = "lambda-runtime-deadline-ms";
pub const TRACE_ID_HEADER: &str = "lambda-runtime-trace-id";
/// Newer Runtime APIs send it with each event and expect it back with the answer, to reject
/// an answer meant for an earlier, timed-out invocation.
pub const INVOCATION_ID_HEADER: &str = "lambda-runtime-invocation-id";
pub const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

const API: &str = "/2018-06-01/runtime";

/// Everything but RFC 3986's unreserved characters: a request id (a UUID on Lambda) stays as it
/// is, and any other becomes one path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A client for the Runtime API at `api` (`host:port`, as in [`RUNTIME_API_VAR`]); an error
/// rather than the client's own panic when it is not an address.
pub fn client(api: Option<&str>) -> Result<PooledClient, String> {
    let api = api.ok_or_else(|| format!("{RUNTIME_API_VAR} is not set"))?;
    match api.parse::<Uri>() {
        Ok(uri) if uri.authority().is_some() => {
            Ok(PooledClient::builder().with_endpoint(uri).build())
        }
        _ => Err(format!("{RUNTIME_API_VAR}={api:?} is not host:port")),
    }
}

pub fn next_request() -> Result<Request<Body>, http::Error> {
    build_request()
        .method(Method::GET)
        .uri(format!("{API}/invocation/next"))
        .body(Body::empty())
}

/// `POST /runtime/invocation/{request_id}/response` with the answer's JSON.
pub fn response_request(
    request_id: &[u8],
    invocation_id: Option<&HeaderValue>,
    json: Vec<u8>,
) -> Result<Request<Body>, http::Error> {
    let mut builder = build_request()
        .method(Method::POST)
        .uri(invocation_uri(request_id, "response"));
    if let Some(id) = invocation_id {
        builder = builder.header(INVOCATION_ID_HEADER, id);
    }
    builder.body(Body::from(json))
}

/// `POST /runtime/invocation/{request_id}/error` with the error's JSON; its type goes in the
/// `Lambda-Runtime-Function-Error-Type` header too, as the AWS runtimes send it.
pub fn error_request(
    request_id: &[u8],
    invocation_id: Option<&HeaderValue>,
    diagnostic: &Diagnostic,
) -> Result<Request<Body>, http::Error> {
    let mut builder = build_request()
        .method(Method::POST)
        .uri(invocation_uri(request_id, "error"))
        .header(ERROR_TYPE_HEADER, error_type_value(diagnostic));
    if let Some(id) = invocation_id {
        builder = builder.header(INVOCATION_ID_HEADER, id);
    }
    builder.body(Body::from(diagnostic_json(diagnostic)))
}

/// `POST /runtime/init/error`: the function cannot start (its configuration is wrong).
pub fn init_error_request(diagnostic: &Diagnostic) -> Result<Request<Body>, http::Error> {
    build_request()
        .method(Method::POST)
        .uri(format!("{API}/init/error"))
        .header(ERROR_TYPE_HEADER, "Runtime.InitError")
        .body(Body::from(diagnostic_json(diagnostic)))
}

fn invocation_uri(request_id: &[u8], what: &str) -> String {
    let id = percent_encode(request_id, PATH_SEGMENT);
    format!("{API}/invocation/{id}/{what}")
}

fn error_type_value(diagnostic: &Diagnostic) -> HeaderValue {
    // Our types are ASCII names; should one ever not be, the header still goes.
    HeaderValue::from_str(&diagnostic.error_type)
        .unwrap_or_else(|_| HeaderValue::from_static("Unhandled"))
}

fn diagnostic_json(diagnostic: &Diagnostic) -> Vec<u8> {
    // Two strings always serialise; the fallback is only there to need no `expect`.
    serde_json::to_vec(diagnostic).unwrap_or_else(|_| b"{}".to_vec())
}

/// The request id the answer must be addressed to; `None` when there is none.
pub fn request_id(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get(REQUEST_ID_HEADER)
        .map(HeaderValue::as_bytes)
        .filter(|id| !id.is_empty())
}

/// The value `_X_AMZN_TRACE_ID` takes for an event: its trace header, or none (unset) so that
/// one invocation's trace never leaks into the next.
pub fn trace_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(TRACE_ID_HEADER)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        // A header value holds no NUL, which set_var would refuse; checked anyway.
        .filter(|value| !value.contains('\0'))
}

/// Answers events until the Runtime API fails (on Lambda: the environment is shutting down).
/// `started` is when the process started, for [`deadline::time_left`].
pub async fn run(client: &PooledClient, limits: &Limits, started: SystemTime) -> String {
    let mut deadline_notice_given = false;
    loop {
        let next = match next_request() {
            Ok(request) => client.call(request).await,
            Err(error) => return format!("cannot build the next-event request: {error}"),
        };
        let event = match next {
            Ok(event) if event.status().is_success() => event,
            // The Runtime API documents any other status as a state to exit from.
            Ok(event) => {
                return format!(
                    "the Runtime API answered {} for the next event",
                    event.status()
                )
            }
            Err(error) => return format!("the Runtime API cannot be reached: {error}"),
        };
        let (parts, body) = event.into_parts();
        let Some(request_id) = request_id(&parts.headers) else {
            eprintln!(
                "calculate-pi: an event came without a Lambda-Runtime-Aws-Request-Id header, so \
                 there is nowhere to answer it; skipped"
            );
            continue;
        };
        let invocation_id = parts.headers.get(INVOCATION_ID_HEADER);
        match trace_id(&parts.headers) {
            Some(trace) => std::env::set_var(TRACE_ID_VAR, trace),
            None => std::env::remove_var(TRACE_ID_VAR),
        }
        let answer = match body.collect().await {
            Ok(payload) => {
                let time_left = deadline::time_left(
                    parts
                        .headers
                        .get(DEADLINE_HEADER)
                        .map(HeaderValue::as_bytes),
                    SystemTime::now(),
                    started,
                );
                if let TimeLeft::Unknown(unreal) = &time_left {
                    if !deadline_notice_given {
                        eprintln!("calculate-pi: {unreal}");
                        deadline_notice_given = true;
                    }
                }
                // No payload should panic the handler; if one does, it costs that invocation
                // only, as with lambda_runtime's own catch.
                let payload = payload.to_bytes();
                catch_unwind(AssertUnwindSafe(|| {
                    handler::handle(&payload, &time_left, limits)
                }))
                .unwrap_or_else(|panic| Err(Diagnostic::from_panic(panic.as_ref())))
            }
            Err(error) => Err(Diagnostic {
                error_type: "InvalidEvent".to_string(),
                error_message: format!("the event's body could not be read: {error}"),
            }),
        };
        let request = match answer.map(|response| serde_json::to_vec(&response)) {
            Ok(Ok(json)) => response_request(request_id, invocation_id, json),
            Ok(Err(error)) => error_request(
                request_id,
                invocation_id,
                &Diagnostic {
                    error_type: "SerializationError".to_string(),
                    error_message: error.to_string(),
                },
            ),
            Err(diagnostic) => error_request(request_id, invocation_id, &diagnostic),
        };
        // A refused answer (the invocation timed out, the response is too large) leaves the
        // process as it is: Lambda sends the next event, or ends the environment.
        match request {
            Ok(request) => match client.call(request).await {
                Ok(reply) if !reply.status().is_success() => eprintln!(
                    "calculate-pi: the Runtime API answered {} to the answer of {}",
                    reply.status(),
                    String::from_utf8_lossy(request_id)
                ),
                Ok(_) => {}
                Err(error) => eprintln!("calculate-pi: the answer could not be sent: {error}"),
            },
            Err(error) => eprintln!("calculate-pi: the answer could not be built: {error}"),
        }
    }
}

/// Reports an init failure to the Runtime API; the caller then exits.
pub async fn report_init_error(client: &PooledClient, diagnostic: &Diagnostic) {
    let sent = match init_error_request(diagnostic) {
        Ok(request) => client
            .call(request)
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    if let Err(error) = sent {
        eprintln!("calculate-pi: the init error could not be reported: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_map(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_static(name),
                    HeaderValue::from_bytes(value).unwrap(),
                )
            })
            .collect()
    }

    fn diagnostic() -> Diagnostic {
        Diagnostic {
            error_type: "InvalidDigits".to_string(),
            error_message: "\"digits\" is \"ten\"".to_string(),
        }
    }

    #[test]
    fn the_client_needs_an_address() {
        assert!(client(Some("127.0.0.1:9001")).is_ok());
        assert!(client(Some("localhost:9001")).is_ok());
        for bad in [None, Some(""), Some("not an address"), Some("/path")] {
            let err = client(bad).unwrap_err();
            assert!(err.contains(RUNTIME_API_VAR), "{err}");
        }
    }

    #[test]
    fn requests_follow_the_runtime_api() {
        let next = next_request().unwrap();
        assert_eq!(next.method(), Method::GET);
        assert_eq!(next.uri(), "/2018-06-01/runtime/invocation/next");

        let id = b"8476a536-e9f4-11e8-9739-2dfe598c3fcd";
        let response = response_request(id, None, b"{}".to_vec()).unwrap();
        assert_eq!(response.method(), Method::POST);
        assert_eq!(
            response.uri(),
            "/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response"
        );
        assert!(response.headers().get(INVOCATION_ID_HEADER).is_none());

        let invocation = HeaderValue::from_static("inv-1");
        let error = error_request(id, Some(&invocation), &diagnostic()).unwrap();
        assert_eq!(
            error.uri(),
            "/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/error"
        );
        assert_eq!(error.headers()[ERROR_TYPE_HEADER], "InvalidDigits");
        assert_eq!(error.headers()[INVOCATION_ID_HEADER], "inv-1");

        let init = init_error_request(&diagnostic()).unwrap();
        assert_eq!(init.uri(), "/2018-06-01/runtime/init/error");
        assert_eq!(init.headers()[ERROR_TYPE_HEADER], "Runtime.InitError");
    }

    #[test]
    fn any_request_id_becomes_one_path_segment() {
        let request = response_request(b"a b/c?d#e%\xff", None, Vec::new()).unwrap();
        assert_eq!(
            request.uri(),
            "/2018-06-01/runtime/invocation/a%20b%2Fc%3Fd%23e%25%FF/response"
        );
    }

    #[test]
    fn an_error_type_that_is_no_header_value_still_goes() {
        let odd = Diagnostic {
            error_type: "line\nbreak".to_string(),
            error_message: String::new(),
        };
        let request = error_request(b"id", None, &odd).unwrap();
        assert_eq!(request.headers()[ERROR_TYPE_HEADER], "Unhandled");
    }

    #[test]
    fn headers_are_read_tolerantly() {
        assert_eq!(request_id(&header_map(&[])), None);
        assert_eq!(request_id(&header_map(&[(REQUEST_ID_HEADER, b"")])), None);
        assert_eq!(
            request_id(&header_map(&[(REQUEST_ID_HEADER, b"abc")])),
            Some(&b"abc"[..])
        );
        assert_eq!(trace_id(&header_map(&[])), None);
        assert_eq!(
            trace_id(&header_map(&[(TRACE_ID_HEADER, b"Root=1-5759e988")])).as_deref(),
            Some("Root=1-5759e988")
        );
        assert_eq!(
            trace_id(&header_map(&[(TRACE_ID_HEADER, b"Root=\xff")])).as_deref(),
            Some("Root=\u{fffd}")
        );
    }
}
