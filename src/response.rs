//! The answer on the wire: the JSON document `{"digits":N,"pi":"3.14…"}`, returned whole
//! (buffered) when it fits Lambda's buffered limit, streamed in chunks when it does not.

use bytes::Bytes;
use lambda_runtime::MetadataPrelude;
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PiResponse {
    pub digits: u64,
    /// Exactly `digits` digits, with the point after the 3 (`"3"` for one digit).
    pub pi: String,
}

/// The size of each chunk of a streamed answer.
pub const CHUNK_BYTES: usize = 64 * 1024;

impl PiResponse {
    /// The length of this response's JSON, without writing it: `pi` holds only digits and a
    /// point, which JSON needs no escape for.
    pub fn json_len(&self) -> u64 {
        const FRAME: usize = r#"{"digits":,"pi":""}"#.len();
        (FRAME + self.digits.to_string().len() + self.pi.len()) as u64
    }
}

/// How an answer leaves the function.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Whole, as the body of one `POST …/response` (lambda_runtime serialises it).
    Buffered(PiResponse),
    /// The same JSON bytes in chunks of [`CHUNK_BYTES`], posted with
    /// `Lambda-Runtime-Function-Response-Mode: streaming`.
    Streamed(Vec<Bytes>),
}

/// `response` buffered if its JSON is at most `stream_above_bytes` long, else streamed.
pub fn answer(response: PiResponse, stream_above_bytes: u64) -> Answer {
    if response.json_len() <= stream_above_bytes {
        return Answer::Buffered(response);
    }
    // Serialising two plain fields cannot fail; should it ever, the chunks are of `{}`.
    let json = Bytes::from(serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec()));
    drop(response);
    let chunks = (0..json.len())
        .step_by(CHUNK_BYTES)
        .map(|start| json.slice(start..json.len().min(start + CHUNK_BYTES)))
        .collect();
    Answer::Streamed(chunks)
}

/// The metadata lambda_runtime sends ahead of a streamed answer (its HTTP-integration prelude):
/// status 200 and `Content-Type: application/json`, which a function URL turns into the HTTP
/// response's status and header.
pub fn streamed_prelude() -> MetadataPrelude {
    let mut prelude = MetadataPrelude {
        status_code: http::StatusCode::OK,
        ..MetadataPrelude::default()
    };
    prelude.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    prelude
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(digits: u64) -> PiResponse {
        let pi = "3.".to_string() + &"1".repeat(digits as usize - 1);
        PiResponse { digits, pi }
    }

    #[test]
    fn the_json_length_is_known_before_writing_it() {
        for digits in [1, 2, 9, 10, 99_999, 100_000, 1_000_001] {
            let mut response = response(digits);
            if digits == 1 {
                response.pi = "3".to_string();
            }
            let json = serde_json::to_vec(&response).unwrap();
            assert_eq!(response.json_len(), json.len() as u64, "{digits}");
        }
    }

    #[test]
    fn answers_up_to_the_threshold_stay_buffered() {
        let small = response(100);
        let len = small.json_len();
        assert!(matches!(answer(small, len), Answer::Buffered(_)));
        assert!(matches!(
            answer(response(100), len - 1),
            Answer::Streamed(_)
        ));
    }

    #[test]
    fn from_6291530_digits_on_the_default_threshold_streams() {
        use crate::limits::BUFFERED_RESPONSE_LIMIT_BYTES as LIMIT;
        assert_eq!(response(6_291_529).json_len(), LIMIT);
        assert!(matches!(
            answer(response(6_291_529), LIMIT),
            Answer::Buffered(_)
        ));
        assert!(matches!(
            answer(response(6_291_530), LIMIT),
            Answer::Streamed(_)
        ));
    }

    #[test]
    fn a_streamed_answer_is_the_json_document_in_chunks() {
        for digits in [5, 65_000, 200_000] {
            let expected = serde_json::to_vec(&response(digits)).unwrap();
            let Answer::Streamed(chunks) = answer(response(digits), 0) else {
                panic!("not streamed");
            };
            assert_eq!(chunks.len(), expected.len().div_ceil(CHUNK_BYTES));
            assert!(chunks
                .iter()
                .all(|c| !c.is_empty() && c.len() <= CHUNK_BYTES));
            assert_eq!(chunks.concat(), expected, "{digits}");
        }
    }

    #[test]
    fn the_prelude_says_json() {
        let prelude = serde_json::to_value(streamed_prelude()).unwrap();
        assert_eq!(
            prelude,
            serde_json::json!({
                "statusCode": 200,
                "headers": {"content-type": "application/json"},
                "cookies": [],
            })
        );
    }
}
