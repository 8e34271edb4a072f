//! The `application/vnd.amazon.eventstream` body of `InvokeWithResponseStream`: one
//! `PayloadChunk` event per chunk the function streamed, then one `InvokeComplete` event
//! (`ErrorCode`, `ErrorDetails`, `LogResult`), each a binary event-stream message framed (with
//! both CRC32s) by `aws-smithy-eventstream`, the framing the AWS SDKs themselves use.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::Bytes;

/// The content type of the response body.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// The most payload one event carries: the event-stream format allows 16 MiB, a chunk of the
/// function's is far smaller, and a larger one is split.
pub const MAX_EVENT_PAYLOAD: usize = 1024 * 1024;

fn event(event_type: &'static str, content_type: &'static str, payload: Bytes) -> Bytes {
    let message = Message::new(payload)
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String(content_type.into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ));
    let mut buffer = Vec::with_capacity(message.payload().len() + 128);
    write_message_to(&message, &mut buffer)
        .expect("headers and payloads of this size always frame");
    Bytes::from(buffer)
}

/// `PayloadChunk` events carrying `payload` (one, or several for a payload over
/// [`MAX_EVENT_PAYLOAD`]), concatenated.
pub fn payload_chunks(payload: &Bytes) -> Vec<Bytes> {
    if payload.is_empty() {
        return Vec::new();
    }
    (0..payload.len())
        .step_by(MAX_EVENT_PAYLOAD)
        .map(|start| {
            let end = (start + MAX_EVENT_PAYLOAD).min(payload.len());
            event(
                "PayloadChunk",
                "application/octet-stream",
                payload.slice(start..end),
            )
        })
        .collect()
}

/// The `InvokeComplete` event: absent fields are left out, as AWS leaves them out.
pub fn invoke_complete(
    error_code: Option<&str>,
    error_details: Option<&str>,
    log_result: Option<&str>,
) -> Bytes {
    let mut body = serde_json::Map::new();
    for (name, value) in [
        ("ErrorCode", error_code),
        ("ErrorDetails", error_details),
        ("LogResult", log_result),
    ] {
        if let Some(value) = value {
            body.insert(name.to_string(), value.into());
        }
    }
    let payload = serde_json::Value::Object(body).to_string();
    event("InvokeComplete", "application/json", Bytes::from(payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::read_message_from;

    fn header<'a>(message: &'a Message, name: &str) -> &'a str {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str())
            .unwrap_or_else(|| panic!("no {name} header"))
    }

    #[test]
    fn chunks_and_the_completion_read_back_with_their_crcs() {
        let chunks = payload_chunks(&Bytes::from_static(b"hello"));
        assert_eq!(chunks.len(), 1);
        let message = read_message_from(chunks[0].clone()).unwrap();
        assert_eq!(header(&message, ":event-type"), "PayloadChunk");
        assert_eq!(header(&message, ":message-type"), "event");
        assert_eq!(message.payload().as_ref(), b"hello");

        let done =
            read_message_from(invoke_complete(Some("Unhandled"), Some("boom"), None)).unwrap();
        assert_eq!(header(&done, ":event-type"), "InvokeComplete");
        let body: serde_json::Value = serde_json::from_slice(done.payload()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"ErrorCode": "Unhandled", "ErrorDetails": "boom"})
        );

        // A flipped byte fails the message CRC.
        let mut bad = chunks[0].to_vec();
        let last = bad.len() - 5;
        bad[last] ^= 1;
        assert!(read_message_from(Bytes::from(bad)).is_err());
    }

    #[test]
    fn big_payloads_are_split_and_empty_ones_send_nothing() {
        assert!(payload_chunks(&Bytes::new()).is_empty());
        let big = Bytes::from(vec![7u8; MAX_EVENT_PAYLOAD * 2 + 1]);
        let chunks = payload_chunks(&big);
        assert_eq!(chunks.len(), 3);
        let total: usize = chunks
            .iter()
            .map(|c| read_message_from(c.clone()).unwrap().payload().len())
            .sum();
        assert_eq!(total, big.len());
    }
}
