//! The event a local run sends: example events of the services that invoke Lambda functions,
//! shipped with the kit (offline, shaped as AWS sends them), and which event a run uses
//! ([`choose`]): `--payload`/`--payload-file` over `--event KIND` over the function's
//! `[*.metadata.lambda.invoke]` table over `{}`.
//!
//! ```toml
//! [package.metadata.lambda.invoke]    # or [workspace…] or [package.metadata.lambda.bin.NAME.invoke]
//! event = "sqs"                       # one of the kit's examples, or:
//! payload = '{"digits": "10_000"}'    # the JSON itself, or:
//! payload-file = "events/order.json"  # a file, relative to the Cargo.toml it is written in
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;

/// What stops the event from being chosen or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{given:?} is not an example event the kit knows; known: {}", known())]
    UnknownKind { given: String },
    #[error("reading the event file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is not JSON ({problem}); Lambda only accepts a JSON event")]
    NotJson { what: String, problem: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kinds of example event the kit ships, by the name `--event` and `event = …` take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ApigwRest,
    ApigwHttp,
    Alb,
    FunctionUrl,
    Sqs,
    S3,
    Sns,
    EventBridge,
    Schedule,
    DynamoDb,
    Kinesis,
    CloudWatchLogs,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::ApigwRest,
        Kind::ApigwHttp,
        Kind::Alb,
        Kind::FunctionUrl,
        Kind::Sqs,
        Kind::S3,
        Kind::Sns,
        Kind::EventBridge,
        Kind::Schedule,
        Kind::DynamoDb,
        Kind::Kinesis,
        Kind::CloudWatchLogs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::ApigwRest => "apigw-rest",
            Kind::ApigwHttp => "apigw-http",
            Kind::Alb => "alb",
            Kind::FunctionUrl => "function-url",
            Kind::Sqs => "sqs",
            Kind::S3 => "s3",
            Kind::Sns => "sns",
            Kind::EventBridge => "eventbridge",
            Kind::Schedule => "schedule",
            Kind::DynamoDb => "dynamodb",
            Kind::Kinesis => "kinesis",
            Kind::CloudWatchLogs => "cloudwatch-logs",
        }
    }

    /// The example event: one request or a batch of records, as the service sends it.
    pub fn example(self) -> &'static str {
        match self {
            Kind::ApigwRest => include_str!("examples/apigw-rest.json"),
            Kind::ApigwHttp => include_str!("examples/apigw-http.json"),
            Kind::Alb => include_str!("examples/alb.json"),
            Kind::FunctionUrl => include_str!("examples/function-url.json"),
            Kind::Sqs => include_str!("examples/sqs.json"),
            Kind::S3 => include_str!("examples/s3.json"),
            Kind::Sns => include_str!("examples/sns.json"),
            Kind::EventBridge => include_str!("examples/eventbridge.json"),
            Kind::Schedule => include_str!("examples/schedule.json"),
            Kind::DynamoDb => include_str!("examples/dynamodb.json"),
            Kind::Kinesis => include_str!("examples/kinesis.json"),
            Kind::CloudWatchLogs => include_str!("examples/cloudwatch-logs.json"),
        }
    }

    /// A kind by name; `_` for `-` and any case are accepted (`apigw_rest`, `EventBridge`).
    /// `http-v2` and `apigw-v2` name API Gateway's HTTP API, `apigw-v1` its REST API.
    pub fn parse(name: &str) -> Result<Kind> {
        let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
        let alias = match wanted.as_str() {
            "apigw-v1" | "rest" => "apigw-rest",
            "apigw-v2" | "http-v2" | "http" => "apigw-http",
            "lambda-url" | "url" => "function-url",
            "cloudwatch-events" | "scheduled" => "schedule",
            "logs" => "cloudwatch-logs",
            other => other,
        };
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == alias)
            .ok_or_else(|| Error::UnknownKind {
                given: name.to_string(),
            })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The known kinds, for messages and help: `apigw-rest, apigw-http, …`.
pub fn known() -> String {
    Kind::ALL.map(Kind::name).join(", ")
}

/// `--event`'s parser: an error lists the known kinds.
pub fn parse_kind(name: &str) -> std::result::Result<Kind, String> {
    Kind::parse(name).map_err(|e| e.to_string())
}

/// Where an event comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSource {
    /// The JSON itself.
    Inline(String),
    /// A file holding it.
    File(PathBuf),
    /// One of the kit's examples.
    Example(Kind),
    /// `{}`: nothing said which event the function takes.
    Empty,
}

impl EventSource {
    /// The event's bytes, checked to be JSON (Lambda refuses anything else). Reads the file of
    /// [`EventSource::File`].
    pub fn bytes(&self) -> Result<Vec<u8>> {
        let (bytes, what) = match self {
            EventSource::Inline(text) => (text.as_bytes().to_vec(), "the payload".to_string()),
            EventSource::File(path) => (
                std::fs::read(path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?,
                format!("the event file {}", path.display()),
            ),
            EventSource::Example(kind) => return Ok(kind.example().as_bytes().to_vec()),
            EventSource::Empty => return Ok(b"{}".to_vec()),
        };
        check_json(&bytes, &what)?;
        Ok(bytes)
    }

    /// The event as text, for a printed `aws lambda invoke --payload …`.
    pub fn text(&self) -> Result<String> {
        let bytes = self.bytes()?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// What it is, for a message: "the sqs example event", "events/order.json", …
    pub fn describe(&self) -> String {
        match self {
            EventSource::Inline(_) => "the given payload".to_string(),
            EventSource::File(path) => crate::paths::shown(path),
            EventSource::Example(kind) => format!("the kit's {kind} example event"),
            EventSource::Empty => "{} (no event chosen)".to_string(),
        }
    }
}

fn check_json(bytes: &[u8], what: &str) -> Result<()> {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(|_| ())
        .map_err(|e| Error::NotJson {
            what: what.to_string(),
            problem: e.to_string(),
        })
}

/// The event flags of `invoke` and `serve` (serve's printed command sends it).
#[derive(Debug, Clone, Default, Args)]
pub struct EventArgs {
    /// The event, as JSON [default: --event's, else the function's metadata
    /// `[package.metadata.lambda.invoke]`, else {}].
    #[arg(long, conflicts_with_all = ["payload_file", "event"])]
    pub payload: Option<String>,
    /// Read the event from this file.
    #[arg(long, conflicts_with = "event")]
    pub payload_file: Option<PathBuf>,
    /// Send the kit's example event of this kind, as AWS shapes it: apigw-rest, apigw-http,
    /// alb, function-url, sqs, s3, sns, eventbridge, schedule, dynamodb, kinesis,
    /// cloudwatch-logs.
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub event: Option<Kind>,
}

impl EventArgs {
    /// The event the flags name, if they name one.
    pub fn source(&self) -> Option<EventSource> {
        match (&self.payload, &self.payload_file, self.event) {
            (Some(text), _, _) => Some(EventSource::Inline(text.clone())),
            (None, Some(path), _) => Some(EventSource::File(path.clone())),
            (None, None, Some(kind)) => Some(EventSource::Example(kind)),
            (None, None, None) => None,
        }
    }
}

/// The event a run sends: the flags' (`--payload`, `--payload-file`, then `--event`), else the
/// function's own (`metadata`, its `invoke` table), else `{}`.
pub fn choose(flags: &EventArgs, metadata: Option<&EventSource>) -> EventSource {
    flags
        .source()
        .or_else(|| metadata.cloned())
        .unwrap_or(EventSource::Empty)
}

/// Reads an `invoke` table of the metadata: `event`, `payload` or `payload-file` (one of them;
/// a relative file is read from `base`, the folder of its `Cargo.toml`). An error names the
/// key; `Ok(None)` for a table that names no event.
pub fn read_invoke_table(
    table: &serde_json::Value,
    base: &Path,
) -> std::result::Result<Option<EventSource>, String> {
    let serde_json::Value::Object(entries) = table else {
        return Err("must be a table (event, payload or payload-file)".to_string());
    };
    let mut found = Vec::new();
    for (key, value) in entries {
        let text = || {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{key}: expected a string, found {value}"))
        };
        match key.as_str() {
            "event" => found.push(EventSource::Example(
                Kind::parse(&text()?).map_err(|e| format!("event: {e}"))?,
            )),
            "payload" => {
                let payload = text()?;
                check_json(payload.as_bytes(), "the payload")
                    .map_err(|e| format!("payload: {e}"))?;
                found.push(EventSource::Inline(payload));
            }
            "payload-file" | "payload_file" => found.push(EventSource::File(base.join(text()?))),
            other => {
                return Err(format!(
                    "{other}: not a key of this table (use event, payload or payload-file)"
                ))
            }
        }
    }
    match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => Err("give one of event, payload or payload-file, not several".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example deserializes into the type `aws_lambda_events` (the crate functions use)
    /// gives its service, so the shapes are the ones a typed handler accepts.
    #[test]
    fn every_example_is_the_shape_its_service_sends() {
        use aws_lambda_events::event as ev;
        fn typed<T: serde::de::DeserializeOwned>(kind: Kind) -> T {
            serde_json::from_str(kind.example()).unwrap_or_else(|e| panic!("{kind}: {e}"))
        }
        for kind in Kind::ALL {
            match kind {
                Kind::ApigwRest => {
                    let e: ev::apigw::ApiGatewayProxyRequest = typed(kind);
                    assert_eq!(e.path_parameters["id"], "42");
                }
                Kind::ApigwHttp => {
                    let e: ev::apigw::ApiGatewayV2httpRequest = typed(kind);
                    assert_eq!(e.request_context.http.method.as_str(), "GET");
                }
                Kind::Alb => {
                    let e: ev::alb::AlbTargetGroupRequest = typed(kind);
                    assert_eq!(e.path.as_deref(), Some("/orders/42"));
                }
                Kind::FunctionUrl => {
                    let e: ev::lambda_function_urls::LambdaFunctionUrlRequest = typed(kind);
                    assert_eq!(e.raw_path.as_deref(), Some("/orders/42"));
                }
                Kind::Sqs => {
                    let e: ev::sqs::SqsEvent = typed(kind);
                    assert!(e.records[0].body.as_deref().unwrap().contains("7781"));
                }
                Kind::S3 => {
                    let e: ev::s3::S3Event = typed(kind);
                    assert_eq!(e.records[0].s3.object.size, Some(1024));
                }
                Kind::Sns => {
                    let e: ev::sns::SnsEvent = typed(kind);
                    assert_eq!(e.records[0].sns.subject.as_deref(), Some("order shipped"));
                }
                Kind::EventBridge | Kind::Schedule => {
                    let e: ev::eventbridge::EventBridgeEvent = typed(kind);
                    assert!(e.detail_type.ends_with(if kind == Kind::Schedule {
                        "Scheduled Event"
                    } else {
                        "Order Shipped"
                    }));
                }
                Kind::DynamoDb => {
                    let e: ev::dynamodb::Event = typed(kind);
                    assert_eq!(e.records.len(), 2);
                    assert!(e.records[1].change.old_image.get("status").is_some());
                }
                Kind::Kinesis => {
                    let e: ev::kinesis::KinesisEvent = typed(kind);
                    let data = &e.records[0].kinesis.data;
                    assert!(String::from_utf8_lossy(&data.0).contains("7781"));
                }
                Kind::CloudWatchLogs => {
                    // The data is gzip then base64, as CloudWatch Logs sends it: decoded here.
                    let e: ev::cloudwatch_logs::LogsEvent = typed(kind);
                    assert_eq!(e.aws_logs.data.log_events.len(), 2);
                }
            }
        }
    }

    #[test]
    fn kinds_parse_by_name_and_alias_and_unknown_ones_list_the_known() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.name()).unwrap(), kind);
        }
        assert_eq!(Kind::parse("APIGW_REST").unwrap(), Kind::ApigwRest);
        assert_eq!(Kind::parse("http-v2").unwrap(), Kind::ApigwHttp);
        let err = Kind::parse("kafka").unwrap_err().to_string();
        assert!(
            err.contains("\"kafka\"") && err.contains("sqs, s3"),
            "{err}"
        );
    }

    #[test]
    fn flags_come_before_the_metadata_and_the_metadata_before_empty() {
        let meta = EventSource::Inline(r#"{"digits": "10_000"}"#.into());
        let none = EventArgs::default();
        assert_eq!(choose(&none, Some(&meta)), meta);
        assert_eq!(choose(&none, None), EventSource::Empty);
        assert_eq!(choose(&none, None).bytes().unwrap(), b"{}");
        let event = EventArgs {
            event: Some(Kind::Sqs),
            ..EventArgs::default()
        };
        assert_eq!(choose(&event, Some(&meta)), EventSource::Example(Kind::Sqs));
        let payload = EventArgs {
            payload: Some("[1]".into()),
            event: Some(Kind::Sqs),
            ..EventArgs::default()
        };
        assert_eq!(choose(&payload, None), EventSource::Inline("[1]".into()));
        let err = EventSource::Inline("{digits: 5}".into())
            .bytes()
            .unwrap_err();
        assert!(err.to_string().contains("not JSON"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("event.json");
        std::fs::write(&file, "[2]").unwrap();
        assert_eq!(EventSource::File(file).bytes().unwrap(), b"[2]");
        assert!(EventSource::File(dir.path().join("missing"))
            .bytes()
            .is_err());
    }

    #[test]
    fn invoke_tables_name_one_event() {
        let base = Path::new("/ws/pkg");
        let read = |v: serde_json::Value| read_invoke_table(&v, base);
        assert_eq!(
            read(serde_json::json!({"event": "s3"})).unwrap(),
            Some(EventSource::Example(Kind::S3))
        );
        assert_eq!(
            read(serde_json::json!({"payload-file": "e.json"})).unwrap(),
            Some(EventSource::File(base.join("e.json")))
        );
        assert_eq!(read(serde_json::json!({})).unwrap(), None);
        for bad in [
            serde_json::json!({"event": "nope"}),
            serde_json::json!({"payload": "{x"}),
            serde_json::json!({"event": "s3", "payload": "{}"}),
            serde_json::json!({"evnt": "s3"}),
            serde_json::json!({"event": 3}),
            serde_json::json!("sqs"),
        ] {
            let err = read(bad.clone()).unwrap_err();
            assert!(
                err.contains("event") || err.contains("payload"),
                "{bad}: {err}"
            );
        }
    }
}
