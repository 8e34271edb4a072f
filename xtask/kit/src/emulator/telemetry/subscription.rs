//! A subscription request of the Telemetry API (`PUT /2022-07-01/telemetry`) or of the older
//! Logs API (`PUT /2020-08-15/logs`), checked as Lambda checks it. Pure.
//!
//! - `schemaVersion`: Telemetry `2022-07-01`, `2022-12-13` or `2025-01-29`; Logs `2020-08-15` or
//!   `2021-03-18`.
//! - `types`: a non-empty list of `platform`, `function`, `extension`.
//! - `buffering` (optional, each field too): `maxItems` 1,000 to 10,000 (default 1,000 for
//!   Telemetry, 10,000 for Logs), `maxBytes` 262,144 to 1,048,576 (default 262,144),
//!   `timeoutMs` 25 to 30,000 (default 1,000).
//! - `destination`: `{"protocol": "HTTP", "URI": "http://sandbox.localdomain:PORT[/PATH]"}`
//!   (HTTP only, not HTTPS), or TCP (`"URI": "tcp://sandbox.localdomain:PORT"`, or the Logs
//!   API's `"port": PORT`). Lambda sends telemetry only inside the execution environment, and
//!   reserves port 9001. The emulator's environment is this machine: `sandbox.localdomain` (and
//!   `sandbox`, `localhost`, `127.0.0.1`) is 127.0.0.1.
//!
//! A refusal is `400 {"errorType": "ValidationError", "errorMessage": …}`, Lambda's answer.

use std::time::Duration;

use serde_json::Value;

/// Which of the two subscription APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `PUT /2022-07-01/telemetry`.
    Telemetry,
    /// `PUT /2020-08-15/logs`, which the Telemetry API supersedes.
    Logs,
}

impl Api {
    pub fn path(self) -> &'static str {
        match self {
            Api::Telemetry => "/2022-07-01/telemetry",
            Api::Logs => "/2020-08-15/logs",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Api::Telemetry => "Telemetry API",
            Api::Logs => "Logs API",
        }
    }

    fn schema_versions(self) -> &'static [&'static str] {
        match self {
            Api::Telemetry => &["2022-07-01", "2022-12-13", "2025-01-29"],
            Api::Logs => &["2020-08-15", "2021-03-18"],
        }
    }

    fn default_max_items(self) -> usize {
        match self {
            Api::Telemetry => 1_000,
            Api::Logs => 10_000,
        }
    }
}

/// A stream an extension subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stream {
    /// Lambda's own events (`platform.*`).
    Platform,
    /// The function's log lines.
    Function,
    /// The extensions' log lines.
    Extension,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Platform => "platform",
            Stream::Function => "function",
            Stream::Extension => "extension",
        }
    }
}

/// How records are batched before a delivery: the first limit reached sends the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffering {
    pub max_items: usize,
    pub max_bytes: usize,
    /// How long the first record of a batch waits for others.
    pub timeout: Duration,
}

pub const MAX_ITEMS: (usize, usize) = (1_000, 10_000);
pub const MAX_BYTES: (usize, usize) = (262_144, 1_048_576);
pub const TIMEOUT_MS: (u64, u64) = (25, 30_000);
/// The port Lambda keeps for itself (the Runtime API's).
pub const RESERVED_PORT: u16 = 9001;

/// Where batches go, on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// POST of a JSON array to `url` (the URI with its host made 127.0.0.1).
    Http { uri: String, url: String },
    /// Newline-delimited JSON over a TCP connection to 127.0.0.1:`port`.
    Tcp { port: u16 },
}

/// A subscription as Lambda accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub api: Api,
    pub schema_version: String,
    /// Sorted, each once.
    pub types: Vec<Stream>,
    pub buffering: Buffering,
    pub destination: Destination,
}

impl Subscription {
    pub fn wants(&self, stream: Stream) -> bool {
        self.types.contains(&stream)
    }
}

/// Why a subscription was refused: Lambda's `ValidationError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError(pub String);

impl ValidationError {
    pub const ERROR_TYPE: &'static str = "ValidationError";
}

/// The hosts that name the execution environment itself.
const LOCAL_HOSTS: [&str; 4] = ["sandbox.localdomain", "sandbox", "localhost", "127.0.0.1"];

/// Checks a subscription body of `api`; every problem found is named, `; `-separated, as
/// Lambda words its messages ("URI port is not provided; types should not be empty").
pub fn parse(api: Api, body: &[u8]) -> Result<Subscription, ValidationError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ValidationError(format!("the body is not JSON: {e}")))?;
    let Value::Object(body) = value else {
        return Err(ValidationError("the body is not a JSON object".into()));
    };
    let mut problems = Vec::new();

    let schema_version = match body.get("schemaVersion").and_then(Value::as_str) {
        Some(v) if api.schema_versions().contains(&v) => v.to_string(),
        Some(v) => {
            problems.push(format!(
                "schemaVersion {v:?} is not one of {}",
                api.schema_versions().join(", ")
            ));
            String::new()
        }
        None => {
            problems.push("schemaVersion is required".to_string());
            String::new()
        }
    };

    let mut types = Vec::new();
    match body.get("types") {
        Some(Value::Array(items)) if !items.is_empty() => {
            for item in items {
                match item.as_str() {
                    Some("platform") => types.push(Stream::Platform),
                    Some("function") => types.push(Stream::Function),
                    Some("extension") => types.push(Stream::Extension),
                    _ => problems.push(format!(
                        "types: {item} is not one of platform, function, extension"
                    )),
                }
            }
        }
        Some(Value::Array(_)) | None => problems.push("types should not be empty".to_string()),
        Some(other) => problems.push(format!("types should be a list, not {other}")),
    }
    types.sort();
    types.dedup();

    let buffering = buffering(api, body.get("buffering"), &mut problems);
    let destination = match body.get("destination") {
        Some(Value::Object(d)) => destination(d, &mut problems),
        _ => {
            problems.push("destination is required".to_string());
            None
        }
    };

    match destination {
        Some(destination) if problems.is_empty() => Ok(Subscription {
            api,
            schema_version,
            types,
            buffering,
            destination,
        }),
        _ => Err(ValidationError(problems.join("; "))),
    }
}

fn buffering(api: Api, value: Option<&Value>, problems: &mut Vec<String>) -> Buffering {
    let mut buffering = Buffering {
        max_items: api.default_max_items(),
        max_bytes: MAX_BYTES.0,
        timeout: Duration::from_millis(1_000),
    };
    let Some(value) = value else {
        return buffering;
    };
    let Value::Object(fields) = value else {
        problems.push(format!("buffering should be an object, not {value}"));
        return buffering;
    };
    let mut field = |name: &str, (min, max): (u64, u64)| -> Option<u64> {
        let value = fields.get(name)?;
        match value.as_u64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                problems.push(format!(
                    "buffering.{name} should be an integer from {min} to {max}, not {value}"
                ));
                None
            }
        }
    };
    let wide = |(a, b): (usize, usize)| (a as u64, b as u64);
    if let Some(n) = field("maxItems", wide(MAX_ITEMS)) {
        buffering.max_items = n as usize;
    }
    if let Some(n) = field("maxBytes", wide(MAX_BYTES)) {
        buffering.max_bytes = n as usize;
    }
    if let Some(n) = field("timeoutMs", TIMEOUT_MS) {
        buffering.timeout = Duration::from_millis(n);
    }
    buffering
}

fn destination(
    fields: &serde_json::Map<String, Value>,
    problems: &mut Vec<String>,
) -> Option<Destination> {
    let protocol = fields.get("protocol").and_then(Value::as_str);
    let uri = fields
        .get("URI")
        .or_else(|| fields.get("uri"))
        .and_then(Value::as_str);
    match protocol {
        Some("HTTP") => {
            let Some(uri) = uri else {
                problems.push("destination.URI is required for HTTP".to_string());
                return None;
            };
            let (port, path) = local_address(uri, "http", problems)?;
            Some(Destination::Http {
                uri: uri.to_string(),
                url: format!("http://127.0.0.1:{port}{path}"),
            })
        }
        Some("TCP") => {
            let port = match (uri, fields.get("port")) {
                (Some(uri), _) => local_address(uri, "tcp", problems)?.0,
                (None, Some(port)) => {
                    let port = port.as_u64().and_then(|p| u16::try_from(p).ok());
                    match port {
                        Some(port) if port != 0 && port != RESERVED_PORT => port,
                        _ => {
                            problems.push(format!(
                                "destination.port should be a port other than 0 and \
                                 {RESERVED_PORT}"
                            ));
                            return None;
                        }
                    }
                }
                (None, None) => {
                    problems.push("destination.URI is required".to_string());
                    return None;
                }
            };
            Some(Destination::Tcp { port })
        }
        Some(other) => {
            problems.push(format!(
                "destination.protocol {other:?} is not HTTP or TCP (Lambda delivers over HTTP, \
                 not HTTPS)"
            ));
            None
        }
        None => {
            problems.push("destination.protocol is required".to_string());
            None
        }
    }
}

/// The port and path of `uri`, which must be `<scheme>://<a local host>:PORT[/PATH]`.
fn local_address<'a>(
    uri: &'a str,
    scheme: &str,
    problems: &mut Vec<String>,
) -> Option<(u16, &'a str)> {
    let rest = uri
        .split_once("://")
        .filter(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|(_, rest)| rest);
    let Some(rest) = rest else {
        problems.push(format!(
            "URI {uri:?} should start with {scheme}:// (Lambda delivers over HTTP, not HTTPS)"
        ));
        return None;
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if !LOCAL_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        problems.push(format!(
            "URI host {host:?} is outside the execution environment: Lambda sends telemetry \
             only to sandbox.localdomain"
        ));
        return None;
    }
    let port = match port.map(str::parse::<u16>) {
        None | Some(Ok(0)) => {
            problems.push("URI port is not provided".to_string());
            return None;
        }
        Some(Err(_)) => {
            problems.push(format!("URI port in {uri:?} is not a port number"));
            return None;
        }
        Some(Ok(RESERVED_PORT)) => {
            problems.push(format!(
                "URI port {RESERVED_PORT} is reserved by Lambda (the Runtime API's)"
            ));
            return None;
        }
        Some(Ok(port)) => port,
    };
    Some((port, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Vec<u8> {
        value.to_string().into_bytes()
    }

    fn telemetry(value: Value) -> Result<Subscription, ValidationError> {
        parse(Api::Telemetry, &body(value))
    }

    /// What aws-lambda-rust-runtime's lambda-extension sends.
    fn crates_request() -> Value {
        json!({
            "schemaVersion": "2022-07-01",
            "types": ["platform", "function"],
            "buffering": {"timeoutMs": 1000, "maxBytes": 262144, "maxItems": 10000},
            "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:9003"},
        })
    }

    #[test]
    fn the_lambda_extension_crates_request_is_accepted_and_made_local() {
        let s = telemetry(crates_request()).unwrap();
        assert_eq!(s.types, [Stream::Platform, Stream::Function]);
        assert_eq!(
            s.buffering,
            Buffering {
                max_items: 10_000,
                max_bytes: 262_144,
                timeout: Duration::from_secs(1),
            }
        );
        assert_eq!(
            s.destination,
            Destination::Http {
                uri: "http://sandbox.localdomain:9003".into(),
                url: "http://127.0.0.1:9003".into(),
            }
        );
        assert!(s.wants(Stream::Function) && !s.wants(Stream::Extension));
    }

    #[test]
    fn defaults_differ_between_the_two_apis() {
        let minimal = json!({
            "schemaVersion": "2021-03-18",
            "types": ["function"],
            "destination": {"protocol": "HTTP", "URI": "http://sandbox:8080/logs/in"},
        });
        let logs = parse(Api::Logs, &body(minimal.clone())).unwrap();
        assert_eq!(logs.buffering.max_items, 10_000);
        assert_eq!(
            logs.destination,
            Destination::Http {
                uri: "http://sandbox:8080/logs/in".into(),
                url: "http://127.0.0.1:8080/logs/in".into(),
            }
        );
        let mut as_telemetry = minimal;
        as_telemetry["schemaVersion"] = json!("2022-12-13");
        let t = telemetry(as_telemetry).unwrap();
        assert_eq!(t.buffering.max_items, 1_000);
        assert_eq!(t.buffering.max_bytes, 262_144);
        assert_eq!(t.buffering.timeout, Duration::from_millis(1_000));
    }

    #[test]
    fn every_problem_is_named_as_lambda_words_it() {
        let err = telemetry(json!({
            "schemaVersion": "2022-07-01",
            "types": [],
            "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain"},
        }))
        .unwrap_err();
        assert_eq!(err.0, "types should not be empty; URI port is not provided");
    }

    #[test]
    fn refusals() {
        let with = |path: &[&str], value: Value| {
            let mut request = crates_request();
            let mut at = &mut request;
            for key in &path[..path.len() - 1] {
                at = &mut at[*key];
            }
            at[path[path.len() - 1]] = value;
            telemetry(request).unwrap_err().0
        };
        for (path, value, says) in [
            (&["schemaVersion"][..], json!("2020-08-15"), "schemaVersion"),
            (&["types"], json!(["platform", "metrics"]), "not one of"),
            (&["types"], json!("platform"), "should be a list"),
            (&["buffering", "maxItems"], json!(999), "maxItems"),
            (&["buffering", "maxItems"], json!(10_001), "maxItems"),
            (&["buffering", "maxBytes"], json!(262_143), "maxBytes"),
            (&["buffering", "maxBytes"], json!(1_048_577), "maxBytes"),
            (&["buffering", "timeoutMs"], json!(24), "timeoutMs"),
            (&["buffering", "timeoutMs"], json!(30_001), "timeoutMs"),
            (&["buffering", "timeoutMs"], json!("100"), "timeoutMs"),
            (
                &["destination", "protocol"],
                json!("HTTPS"),
                "not HTTP or TCP",
            ),
            (
                &["destination", "URI"],
                json!("https://sandbox.localdomain:8080"),
                "not HTTPS",
            ),
            (
                &["destination", "URI"],
                json!("http://example.com:8080"),
                "outside the execution environment",
            ),
            (
                &["destination", "URI"],
                json!("http://sandbox.localdomain:9001"),
                "reserved",
            ),
            (
                &["destination", "URI"],
                json!("http://sandbox.localdomain:http"),
                "not a port number",
            ),
        ] {
            let message = with(path, value.clone());
            assert!(message.contains(says), "{path:?} = {value}: {message}");
        }
        assert!(telemetry(json!([])).is_err());
        assert!(parse(Api::Telemetry, b"not json").is_err());
        let mut no_destination = crates_request();
        no_destination
            .as_object_mut()
            .unwrap()
            .remove("destination");
        assert_eq!(
            telemetry(no_destination).unwrap_err().0,
            "destination is required"
        );
    }

    #[test]
    fn tcp_destinations() {
        let mut request = crates_request();
        request["destination"] =
            json!({"protocol": "TCP", "URI": "tcp://sandbox.localdomain:4243"});
        assert_eq!(
            telemetry(request).unwrap().destination,
            Destination::Tcp { port: 4243 }
        );
        let logs = json!({
            "schemaVersion": "2020-08-15",
            "types": ["platform"],
            "destination": {"protocol": "TCP", "port": 4244},
        });
        assert_eq!(
            parse(Api::Logs, &body(logs)).unwrap().destination,
            Destination::Tcp { port: 4244 }
        );
    }
}
