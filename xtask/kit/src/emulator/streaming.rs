//! Response streaming, as Lambda does it for a custom runtime: the runtime posts its response
//! with `Lambda-Runtime-Function-Response-Mode: streaming` and a chunked body; the emulator hands
//! each chunk on as it arrives, to `InvokeWithResponseStream`, the front door or `invoke`.
//!
//! - [`StreamFrame`]s go from the Runtime API to the sandbox (data, then the end, with the error
//!   the runtime reported in the `Lambda-Runtime-Function-Error-Type`/`-Body` trailers);
//! - [`ResponsePart`]s go from the sandbox to whoever invoked (the head, then the chunks);
//! - the HTTP integration prelude (`application/vnd.awslambda.http-integration-response`: a JSON
//!   object with `statusCode`, `headers` and `cookies`, eight NUL bytes, then the body), which
//!   `lambda_http`'s streaming and `lambda_runtime`'s `StreamResponse` always send, is read by
//!   [`PreludeSplitter`], one chunk at a time.
//!
//! The limits are AWS's: a buffered answer is at most 6 MB ([`MAX_RESPONSE_BYTES`]), a streamed
//! one at most 200 MB ([`MAX_STREAMED_BYTES`]). Lambda's bandwidth cap past the first 6 MB
//! (2 MB/s) is not emulated: a local stream runs as fast as the function writes.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use base64::Engine;
use tokio::sync::mpsc;

use super::runtime_api::{PostedError, MAX_RESPONSE_BYTES};

/// Lambda's limit on a streamed response: 200 MB (since July 2025; 20 MB before).
pub const MAX_STREAMED_BYTES: usize = 200 * 1024 * 1024;

/// The request header that asks for a streamed response.
pub const RESPONSE_MODE_HEADER: &str = "lambda-runtime-function-response-mode";
/// The trailer (or header) naming the error of a stream that failed midway.
pub const ERROR_TYPE_TRAILER: &str = "lambda-runtime-function-error-type";
/// The trailer carrying the error's body, base64-encoded.
pub const ERROR_BODY_TRAILER: &str = "lambda-runtime-function-error-body";
/// The content type of a response that starts with the HTTP integration prelude.
pub const HTTP_INTEGRATION_CONTENT_TYPE: &str =
    "application/vnd.awslambda.http-integration-response";
/// What ends the prelude: eight NUL bytes.
pub const PRELUDE_DELIMITER: [u8; 8] = [0; 8];

/// How many chunks may wait between the runtime and the invoker: a runtime that writes faster
/// than the invoker reads is held back, as by a TCP window, instead of filling memory.
const FRAMES_IN_FLIGHT: usize = 16;

/// What the Runtime API hands the sandbox while a response streams in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamFrame {
    Data(Bytes),
    /// The body ended; `error` is what the trailers reported, if anything.
    End {
        error: Option<PostedError>,
    },
    /// The body could not be read (the runtime hung up mid-chunk, say).
    Broken(String),
}

/// A response being streamed in by the runtime: its content type and its frames. Cloning shares
/// the frames, which only one holder can take.
#[derive(Debug, Clone)]
pub struct ResponseStream {
    pub content_type: Option<String>,
    frames: Arc<Mutex<Option<mpsc::Receiver<StreamFrame>>>>,
}

impl PartialEq for ResponseStream {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.frames, &other.frames)
    }
}

impl Eq for ResponseStream {}

impl ResponseStream {
    /// A stream and the sender its frames go into.
    pub fn channel(content_type: Option<String>) -> (mpsc::Sender<StreamFrame>, ResponseStream) {
        let (tx, rx) = mpsc::channel(FRAMES_IN_FLIGHT);
        let stream = ResponseStream {
            content_type,
            frames: Arc::new(Mutex::new(Some(rx))),
        };
        (tx, stream)
    }

    /// The frames, the first time; `None` after.
    pub fn take_frames(&self) -> Option<mpsc::Receiver<StreamFrame>> {
        self.frames.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// The start of a response, sent to the invoker before any chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Whether the function streamed (otherwise its buffered response follows as one chunk).
    pub streamed: bool,
    /// The content type the runtime gave its response.
    pub content_type: Option<String>,
}

impl ResponseHead {
    /// Whether the body starts with the HTTP integration prelude.
    pub fn has_prelude(&self) -> bool {
        self.streamed
            && self
                .content_type
                .as_deref()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(HTTP_INTEGRATION_CONTENT_TYPE))
    }
}

/// What a streaming invoker receives, in order: one [`ResponsePart::Head`], then the chunks as
/// the function writes them. The [`Invocation`](super::Invocation) that the invoke returns
/// says how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponsePart {
    Head(ResponseHead),
    Chunk(Bytes),
}

/// Where the sandbox sends a response's parts.
pub type ResponseSender = mpsc::Sender<ResponsePart>;

/// A channel for [`ResponsePart`]s, bounded so that a slow reader holds the function back.
pub fn response_channel() -> (ResponseSender, mpsc::Receiver<ResponsePart>) {
    mpsc::channel(FRAMES_IN_FLIGHT)
}

/// An HTTP body fed by a channel: each `Ok` is sent as it arrives; an `Err` aborts the body
/// (the client sees the connection cut before the end, as when Lambda cuts a stream).
pub fn channel_body(rx: mpsc::Receiver<Result<Bytes, std::io::Error>>) -> axum::body::Body {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    axum::body::Body::from_stream(stream)
}

/// Whether a response post asks to stream (`Lambda-Runtime-Function-Response-Mode: streaming`).
pub fn is_streaming(headers: &HeaderMap) -> bool {
    headers
        .get(RESPONSE_MODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("streaming"))
}

/// The error reported in a stream's trailers: `Lambda-Runtime-Function-Error-Type` and the
/// base64 `Lambda-Runtime-Function-Error-Body` (a JSON error object, or plain text). `None` when
/// no error type was sent.
pub fn error_from_trailers(trailers: &HeaderMap) -> Option<PostedError> {
    let error_type = trailers
        .get(ERROR_TYPE_TRAILER)?
        .to_str()
        .unwrap_or("Runtime.StreamError")
        .trim()
        .to_string();
    let raw = trailers
        .get(ERROR_BODY_TRAILER)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim_ascii())
        .unwrap_or(raw);
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&decoded).ok();
    let message = match parsed.as_ref().and_then(|v| v.get("errorMessage")) {
        Some(serde_json::Value::String(m)) => m.clone(),
        _ => String::from_utf8_lossy(&decoded).into_owned(),
    };
    let body = match parsed.filter(serde_json::Value::is_object) {
        Some(_) => Bytes::from(decoded),
        None => Bytes::from(super::report::error_body(&error_type, &message)),
    };
    Some(PostedError {
        error_type,
        error_message: message,
        body,
    })
}

/// The HTTP integration prelude: what status, headers and cookies a streamed HTTP answer has.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prelude {
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub cookies: Vec<String>,
}

/// Lambda's bound on the prelude it reads before the body (a malformed stream is refused
/// rather than buffered without end).
pub const MAX_PRELUDE_BYTES: usize = 64 * 1024;

/// What [`PreludeSplitter::push`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// Still in the prelude: nothing to hand on yet.
    Pending,
    /// The prelude (the first time), then body bytes.
    Prelude(Prelude, Bytes),
    /// Body bytes.
    Body(Bytes),
}

/// Reads the prelude off the front of a streamed body, chunk by chunk: the delimiter may be
/// split across chunks, and the first body bytes may share the prelude's chunk.
#[derive(Debug, Default)]
pub struct PreludeSplitter {
    buffer: Vec<u8>,
    done: bool,
}

impl PreludeSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk; `Err` when the prelude is not JSON or too long.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Split, String> {
        if self.done {
            return Ok(Split::Body(Bytes::copy_from_slice(chunk)));
        }
        self.buffer.extend_from_slice(chunk);
        let Some(end) = self
            .buffer
            .windows(PRELUDE_DELIMITER.len())
            .position(|w| w == PRELUDE_DELIMITER)
        else {
            if self.buffer.len() > MAX_PRELUDE_BYTES {
                return Err(format!(
                    "no end of the HTTP integration prelude (8 NUL bytes) in the first \
                     {MAX_PRELUDE_BYTES} bytes"
                ));
            }
            return Ok(Split::Pending);
        };
        let prelude = parse_prelude(&self.buffer[..end])?;
        let rest = Bytes::copy_from_slice(&self.buffer[end + PRELUDE_DELIMITER.len()..]);
        self.buffer = Vec::new();
        self.done = true;
        Ok(Split::Prelude(prelude, rest))
    }

    /// Whether the prelude has been read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// At the end of the stream: the bytes held while looking for a prelude that never came.
    pub fn finish(self) -> Bytes {
        Bytes::from(self.buffer)
    }
}

/// Parses the prelude's JSON (`{}` when the runtime sent nothing before the delimiter).
pub fn parse_prelude(bytes: &[u8]) -> Result<Prelude, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Prelude::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| format!("the HTTP integration prelude is not the JSON Lambda expects: {e}"))
}

/// What [`write_body`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Written {
    /// The head, when one came (none when the invocation failed before answering).
    pub head: Option<ResponseHead>,
    /// The HTTP integration prelude, when the function sent one (it is not written).
    pub prelude: Option<Prelude>,
    /// Body bytes written.
    pub bytes: u64,
}

/// Writes a response's body to `out` as its chunks arrive, flushing after each (what `invoke`
/// prints): the HTTP integration prelude and its eight NUL bytes are read off, never written.
/// A prelude that is not one is written as it came, with a warning on stderr.
pub async fn write_body(
    parts: &mut mpsc::Receiver<ResponsePart>,
    out: &mut (dyn std::io::Write + Send),
) -> std::io::Result<Written> {
    let mut written = Written::default();
    let mut splitter: Option<PreludeSplitter> = None;
    while let Some(part) = parts.recv().await {
        let chunk = match part {
            ResponsePart::Head(head) => {
                if head.has_prelude() {
                    splitter = Some(PreludeSplitter::new());
                }
                written.head = Some(head);
                continue;
            }
            ResponsePart::Chunk(chunk) => chunk,
        };
        let split = match splitter.as_mut() {
            Some(splitter) if !splitter.is_done() => Some(splitter.push(&chunk)),
            _ => None,
        };
        let body = match split {
            None => chunk,
            Some(Ok(Split::Pending)) => continue,
            Some(Ok(Split::Prelude(prelude, rest))) => {
                written.prelude = Some(prelude);
                rest
            }
            Some(Ok(Split::Body(body))) => body,
            Some(Err(reason)) => {
                eprintln!("emulator: {reason}; the response is printed as it came");
                splitter
                    .take()
                    .map(PreludeSplitter::finish)
                    .unwrap_or_default()
            }
        };
        if !body.is_empty() {
            out.write_all(&body)?;
            out.flush()?;
            written.bytes += body.len() as u64;
        }
    }
    if let Some(splitter) = splitter.filter(|s| !s.is_done()) {
        // The stream ended inside its prelude: what came is all there is.
        let held = splitter.finish();
        out.write_all(&held)?;
        out.flush()?;
        written.bytes += held.len() as u64;
    }
    Ok(written)
}

/// The message of the error a buffered invoke gets when the function streamed more than 6 MB.
pub fn streamed_too_large_message(limit: usize) -> String {
    let mut message =
        format!("Response payload size exceeded maximum allowed payload size ({limit} bytes).");
    if limit == MAX_RESPONSE_BYTES {
        message.push_str(&format!(
            " The function streams its response: invoke it with InvokeWithResponseStream, or \
             behind a function URL in RESPONSE_STREAM mode, for up to {MAX_STREAMED_BYTES} bytes."
        ));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_prelude_is_read_across_chunks_and_the_body_follows() {
        let mut splitter = PreludeSplitter::new();
        assert_eq!(
            splitter.push(br#"{"statusCode":201,"#).unwrap(),
            Split::Pending
        );
        assert_eq!(
            splitter
                .push(br#""headers":{"content-type":"text/plain"},"cookies":["a=1"]}"#)
                .unwrap(),
            Split::Pending
        );
        assert_eq!(splitter.push(b"\0\0\0\0\0").unwrap(), Split::Pending);
        let Split::Prelude(prelude, rest) = splitter.push(b"\0\0\0hello").unwrap() else {
            panic!("no prelude");
        };
        assert_eq!(prelude.status_code, Some(201));
        assert_eq!(prelude.headers["content-type"], "text/plain");
        assert_eq!(prelude.cookies, vec!["a=1"]);
        assert_eq!(rest, Bytes::from_static(b"hello"));
        // NUL bytes in the body are body bytes.
        assert_eq!(
            splitter.push(b"\0\0\0\0\0\0\0\0").unwrap(),
            Split::Body(Bytes::from_static(&[0; 8]))
        );
    }

    #[test]
    fn a_bad_or_endless_prelude_is_an_error() {
        let mut splitter = PreludeSplitter::new();
        assert!(splitter.push(b"not json\0\0\0\0\0\0\0\0").is_err());
        let mut splitter = PreludeSplitter::new();
        assert!(splitter.push(&vec![b' '; MAX_PRELUDE_BYTES + 1]).is_err());
        let mut splitter = PreludeSplitter::new();
        assert!(matches!(
            splitter.push(b"\0\0\0\0\0\0\0\0x").unwrap(),
            Split::Prelude(p, rest) if p == Prelude::default() && rest == "x"
        ));
    }

    #[test]
    fn trailers_carry_the_error_type_and_a_base64_body() {
        let mut trailers = HeaderMap::new();
        assert_eq!(error_from_trailers(&trailers), None);
        trailers.insert(
            ERROR_TYPE_TRAILER,
            HeaderValue::from_static("Runtime.StreamError"),
        );
        let body = base64::engine::general_purpose::STANDARD
            .encode(br#"{"errorType":"Boom","errorMessage":"midway"}"#);
        trailers.insert(ERROR_BODY_TRAILER, HeaderValue::from_str(&body).unwrap());
        let error = error_from_trailers(&trailers).unwrap();
        assert_eq!(error.error_type, "Runtime.StreamError");
        assert_eq!(error.error_message, "midway");
        assert!(error.body.starts_with(b"{\"errorType\":\"Boom\""));

        let text = base64::engine::general_purpose::STANDARD.encode("plain words");
        trailers.insert(ERROR_BODY_TRAILER, HeaderValue::from_str(&text).unwrap());
        let error = error_from_trailers(&trailers).unwrap();
        assert_eq!(error.error_message, "plain words");
        let body: serde_json::Value = serde_json::from_slice(&error.body).unwrap();
        assert_eq!(body["errorType"], "Runtime.StreamError");
    }

    #[test]
    fn only_the_streaming_mode_header_streams_and_the_prelude_needs_its_content_type() {
        let mut headers = HeaderMap::new();
        assert!(!is_streaming(&headers));
        headers.insert(RESPONSE_MODE_HEADER, HeaderValue::from_static("streaming"));
        assert!(is_streaming(&headers));
        let head = |streamed, content_type: Option<&str>| ResponseHead {
            streamed,
            content_type: content_type.map(str::to_string),
        };
        assert!(head(true, Some(HTTP_INTEGRATION_CONTENT_TYPE)).has_prelude());
        assert!(!head(true, Some("application/json")).has_prelude());
        assert!(!head(false, Some(HTTP_INTEGRATION_CONTENT_TYPE)).has_prelude());
    }

    #[test]
    fn invoke_writes_the_body_without_the_prelude_chunk_by_chunk() {
        let runtime = crate::emulator::tokio_runtime().unwrap();
        let (tx, mut rx) = response_channel();
        let written = runtime.block_on(async move {
            let sender = tokio::spawn(async move {
                let head = ResponseHead {
                    streamed: true,
                    content_type: Some(HTTP_INTEGRATION_CONTENT_TYPE.to_string()),
                };
                tx.send(ResponsePart::Head(head)).await.unwrap();
                for chunk in [
                    &b"{\"statusCode\":200}\0\0\0"[..],
                    b"\0\0\0\0\0one ",
                    b"two",
                ] {
                    tx.send(ResponsePart::Chunk(Bytes::copy_from_slice(chunk)))
                        .await
                        .unwrap();
                }
            });
            let mut out = Vec::new();
            let written = write_body(&mut rx, &mut out).await.unwrap();
            sender.await.unwrap();
            (written, out)
        });
        let (written, out) = written;
        assert_eq!(out, b"one two");
        assert_eq!(written.bytes, 7);
        assert_eq!(written.prelude.unwrap().status_code, Some(200));

        // Without the prelude's content type, every byte is the body.
        let (tx, mut rx) = response_channel();
        let out = runtime.block_on(async move {
            tx.send(ResponsePart::Head(ResponseHead {
                streamed: true,
                content_type: Some("text/plain".into()),
            }))
            .await
            .unwrap();
            tx.send(ResponsePart::Chunk(Bytes::from_static(
                b"a\0\0\0\0\0\0\0\0b",
            )))
            .await
            .unwrap();
            drop(tx);
            let mut out = Vec::new();
            write_body(&mut rx, &mut out).await.unwrap();
            out
        });
        assert_eq!(out, b"a\0\0\0\0\0\0\0\0b");
    }

    #[test]
    fn a_buffered_invoke_of_a_big_stream_is_told_to_stream() {
        let message = streamed_too_large_message(MAX_RESPONSE_BYTES);
        assert!(message.starts_with(
            "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
        ));
        assert!(message.contains("InvokeWithResponseStream"), "{message}");
        assert!(
            !streamed_too_large_message(MAX_STREAMED_BYTES).contains("InvokeWithResponseStream")
        );
    }
}
