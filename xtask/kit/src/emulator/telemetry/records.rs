//! The records Lambda delivers to subscribers, rendered in the schema of the API they
//! subscribed with: the Telemetry API's `{"time", "type", "record"}` events (`platform.initStart`,
//! `platform.initRuntimeDone`, `platform.initReport`, `platform.start`, `platform.runtimeDone`,
//! `platform.report`, `platform.extension`, `platform.telemetrySubscription`,
//! `platform.logsDropped`, `function`, `extension`), or the Logs API's older ones (`platform.start`, `platform.runtimeDone` from
//! schema 2021-03-18, `platform.end`, `platform.report`, `platform.extension`,
//! `platform.logsSubscription`, `function`, `extension`). Pure.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::subscription::{Api, Stream};
use crate::emulator::report::{self, Metrics, LATEST};

/// Something that happened in the execution environment, as Lambda reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    InitStart,
    /// The runtime is initialised (or failed: `error_type`).
    InitRuntimeDone {
        error_type: Option<String>,
    },
    InitReport {
        duration: Duration,
        error_type: Option<String>,
    },
    Start {
        request_id: String,
    },
    /// The runtime answered the invocation (extensions may still be busy).
    RuntimeDone {
        request_id: String,
        error_type: Option<String>,
        duration: Duration,
    },
    /// The invocation is complete.
    Report {
        request_id: String,
        error_type: Option<String>,
        metrics: Metrics,
    },
    /// An extension and its state at the end of init.
    Extension {
        name: String,
        state: String,
        events: Vec<String>,
    },
    /// An extension subscribed (with `api`: each API reports its own subscriptions).
    Subscription {
        api: Api,
        name: String,
        types: Vec<Stream>,
    },
    /// Events a subscriber did not take fast enough were dropped.
    LogsDropped {
        records: u64,
        bytes: u64,
    },
    /// A line the function wrote.
    FunctionLine(String),
    /// A line an extension wrote.
    ExtensionLine(String),
}

impl Record {
    /// The stream a subscriber must have asked for to get it.
    pub fn stream(&self) -> Stream {
        match self {
            Record::FunctionLine(_) => Stream::Function,
            Record::ExtensionLine(_) => Stream::Extension,
            _ => Stream::Platform,
        }
    }

    /// The events that carry it to a subscriber of `api` with `schema_version`, stamped
    /// `time_ms` (Unix milliseconds): none when that schema has no such event.
    pub fn render(&self, api: Api, schema_version: &str, time_ms: u64) -> Vec<Value> {
        let event = |kind: &str, record: Value| json!({ "time": report::utc_timestamp(time_ms), "type": kind, "record": record });
        let line = |kind: &str, text: &str| vec![event(kind, Value::String(text.to_string()))];
        match (self, api) {
            (Record::FunctionLine(text), _) => line("function", text),
            (Record::ExtensionLine(text), _) => line("extension", text),
            (
                Record::Extension {
                    name,
                    state,
                    events,
                },
                _,
            ) => vec![event(
                "platform.extension",
                json!({ "name": name, "state": state, "events": events }),
            )],
            (
                Record::Subscription {
                    api: of,
                    name,
                    types,
                },
                _,
            ) if *of == api => {
                let kind = match api {
                    Api::Telemetry => "platform.telemetrySubscription",
                    Api::Logs => "platform.logsSubscription",
                };
                let types: Vec<&str> = types.iter().map(|t| t.name()).collect();
                vec![event(
                    kind,
                    json!({ "name": name, "state": "Subscribed", "types": types }),
                )]
            }
            (Record::Subscription { .. }, _) => Vec::new(),
            (Record::LogsDropped { records, bytes }, _) => vec![event(
                "platform.logsDropped",
                json!({
                    "reason": "Consumer seems to have fallen behind as it has not acknowledged \
                               receipt of logs.",
                    "droppedRecords": records,
                    "droppedBytes": bytes,
                }),
            )],
            (Record::Start { request_id }, _) => vec![event(
                "platform.start",
                json!({ "requestId": request_id, "version": LATEST }),
            )],
            (Record::InitStart, Api::Telemetry) => vec![event(
                "platform.initStart",
                json!({ "initializationType": "on-demand", "phase": "init" }),
            )],
            (Record::InitRuntimeDone { error_type }, Api::Telemetry) => {
                let mut record = init_fields(error_type);
                with_error_type(&mut record, error_type);
                vec![event("platform.initRuntimeDone", Value::Object(record))]
            }
            (
                Record::InitReport {
                    duration,
                    error_type,
                },
                Api::Telemetry,
            ) => {
                let mut record = init_fields(error_type);
                record.insert("metrics".into(), json!({ "durationMs": ms(*duration) }));
                vec![event("platform.initReport", Value::Object(record))]
            }
            (Record::InitStart | Record::InitRuntimeDone { .. } | Record::InitReport { .. }, _) => {
                Vec::new()
            }
            (
                Record::RuntimeDone {
                    request_id,
                    error_type,
                    duration,
                },
                _,
            ) => {
                let mut record = invoke_fields(request_id, error_type);
                if api == Api::Telemetry {
                    record.insert("metrics".into(), json!({ "durationMs": ms(*duration) }));
                } else if schema_version < "2021-03-18" {
                    return Vec::new(); // the first Logs API schema has no runtimeDone
                }
                vec![event("platform.runtimeDone", Value::Object(record))]
            }
            (
                Record::Report {
                    request_id,
                    error_type,
                    metrics,
                },
                _,
            ) => {
                let mut fields = json!({
                    "durationMs": ms(metrics.duration),
                    "billedDurationMs": metrics.billed_duration_ms,
                    "memorySizeMB": metrics.memory_size_mb,
                    "maxMemoryUsedMB": metrics.max_memory_used_mb(),
                });
                if let Some(init) = metrics.init_duration {
                    fields["initDurationMs"] = json!(ms(init));
                }
                match api {
                    Api::Telemetry => {
                        let mut record = invoke_fields(request_id, error_type);
                        record.insert("metrics".into(), fields);
                        vec![event("platform.report", Value::Object(record))]
                    }
                    // The Logs API ends an invocation with `platform.end`, then its report.
                    Api::Logs => vec![
                        event("platform.end", json!({ "requestId": request_id })),
                        event(
                            "platform.report",
                            json!({ "requestId": request_id, "metrics": fields }),
                        ),
                    ],
                }
            }
        }
    }
}

/// `success`, or how it failed: `timeout`, `failure` (the runtime or an extension crashed, ran
/// out of memory, answered too much), `error` (the function reported an error).
pub fn status(error_type: &Option<String>) -> &'static str {
    match error_type.as_deref() {
        None => "success",
        Some("Sandbox.Timedout") => "timeout",
        Some(t)
            if t.starts_with("Runtime.")
                || t.starts_with("Extension.")
                || t == "Function.ResponseSizeTooLarge" =>
        {
            "failure"
        }
        Some(_) => "error",
    }
}

fn init_fields(error_type: &Option<String>) -> Map<String, Value> {
    let mut record = Map::new();
    record.insert("initializationType".into(), json!("on-demand"));
    record.insert("phase".into(), json!("init"));
    record.insert("status".into(), json!(status(error_type)));
    record
}

fn invoke_fields(request_id: &str, error_type: &Option<String>) -> Map<String, Value> {
    let mut record = Map::new();
    record.insert("requestId".into(), json!(request_id));
    record.insert("status".into(), json!(status(error_type)));
    with_error_type(&mut record, error_type);
    record
}

fn with_error_type(record: &mut Map<String, Value>, error_type: &Option<String>) {
    if let Some(error_type) = error_type {
        record.insert("errorType".into(), json!(error_type));
    }
}

/// Milliseconds with three decimals, as Lambda writes durations.
fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2022-10-12T00:00:15.064Z
    const TIME: u64 = 1_665_532_815_064;

    fn telemetry(record: &Record) -> Vec<Value> {
        record.render(Api::Telemetry, "2022-12-13", TIME)
    }

    fn logs(record: &Record) -> Vec<Value> {
        record.render(Api::Logs, "2021-03-18", TIME)
    }

    fn metrics(init: Option<Duration>) -> Metrics {
        Metrics {
            duration: Duration::from_micros(693_921),
            init_duration: init,
            billed_duration_ms: 694,
            memory_size_mb: 128,
            max_memory_used_bytes: 83 * 1024 * 1024 + 1,
            emulated_by: None,
        }
    }

    #[test]
    fn init_events_in_the_telemetry_schema_only() {
        assert_eq!(
            telemetry(&Record::InitStart),
            [
                json!({"time": "2022-10-12T00:00:15.064Z", "type": "platform.initStart",
                    "record": {"initializationType": "on-demand", "phase": "init"}})
            ]
        );
        let failed = Some("Runtime.ExitError".to_string());
        assert_eq!(
            telemetry(&Record::InitRuntimeDone {
                error_type: failed.clone()
            })[0]["record"],
            json!({"initializationType": "on-demand", "phase": "init", "status": "failure",
                   "errorType": "Runtime.ExitError"})
        );
        assert_eq!(
            telemetry(&Record::InitReport {
                duration: Duration::from_micros(125_334),
                error_type: None
            })[0]["record"],
            json!({"initializationType": "on-demand", "phase": "init", "status": "success",
                   "metrics": {"durationMs": 125.334}})
        );
        assert!(logs(&Record::InitStart).is_empty());
        assert!(logs(&Record::InitRuntimeDone { error_type: failed }).is_empty());
    }

    #[test]
    fn an_invocation_in_both_schemas() {
        let start = Record::Start {
            request_id: "r-1".into(),
        };
        assert_eq!(
            telemetry(&start)[0]["record"],
            json!({"requestId": "r-1", "version": "$LATEST"})
        );
        assert_eq!(logs(&start)[0]["type"], "platform.start");
        let done = Record::RuntimeDone {
            request_id: "r-1".into(),
            error_type: None,
            duration: Duration::from_micros(140_000),
        };
        assert_eq!(
            telemetry(&done)[0],
            json!({"time": "2022-10-12T00:00:15.064Z", "type": "platform.runtimeDone",
                   "record": {"requestId": "r-1", "status": "success",
                              "metrics": {"durationMs": 140.0}}})
        );
        assert_eq!(
            logs(&done)[0]["record"],
            json!({"requestId": "r-1", "status": "success"})
        );
        assert!(done.render(Api::Logs, "2020-08-15", TIME).is_empty());
        let report = Record::Report {
            request_id: "r-1".into(),
            error_type: None,
            metrics: metrics(Some(Duration::from_micros(397_680))),
        };
        assert_eq!(
            telemetry(&report)[0]["record"],
            json!({"requestId": "r-1", "status": "success",
                   "metrics": {"durationMs": 693.921, "billedDurationMs": 694,
                               "memorySizeMB": 128, "maxMemoryUsedMB": 84,
                               "initDurationMs": 397.68}})
        );
        let old = logs(&report);
        assert_eq!(
            old[0],
            json!({"time": "2022-10-12T00:00:15.064Z", "type": "platform.end",
                                  "record": {"requestId": "r-1"}})
        );
        assert_eq!(old[1]["type"], "platform.report");
        assert!(old[1]["record"].get("status").is_none());
        let warm = Record::Report {
            request_id: "r-2".into(),
            error_type: Some("Sandbox.Timedout".into()),
            metrics: metrics(None),
        };
        let record = &telemetry(&warm)[0]["record"];
        assert_eq!(record["status"], "timeout");
        assert_eq!(record["errorType"], "Sandbox.Timedout");
        assert!(record["metrics"].get("initDurationMs").is_none());
    }

    #[test]
    fn log_lines_extensions_and_subscriptions() {
        let line = Record::FunctionLine("hello got {}".into());
        assert_eq!(line.stream(), Stream::Function);
        assert_eq!(
            telemetry(&line),
            [
                json!({"time": "2022-10-12T00:00:15.064Z", "type": "function",
                    "record": "hello got {}"})
            ]
        );
        assert_eq!(logs(&line), telemetry(&line));
        let own = Record::ExtensionLine("[logger] INVOKE r-1".into());
        assert_eq!(own.stream(), Stream::Extension);
        assert_eq!(telemetry(&own)[0]["type"], "extension");
        let extension = Record::Extension {
            name: "logger".into(),
            state: "Ready".into(),
            events: vec!["INVOKE".into(), "SHUTDOWN".into()],
        };
        assert_eq!(extension.stream(), Stream::Platform);
        assert_eq!(
            telemetry(&extension)[0]["record"],
            json!({"name": "logger", "state": "Ready", "events": ["INVOKE", "SHUTDOWN"]})
        );
        let subscribed = Record::Subscription {
            api: Api::Telemetry,
            name: "spy".into(),
            types: vec![Stream::Platform, Stream::Function],
        };
        assert_eq!(
            telemetry(&subscribed),
            [
                json!({"time": "2022-10-12T00:00:15.064Z", "type": "platform.telemetrySubscription",
                    "record": {"name": "spy", "state": "Subscribed",
                               "types": ["platform", "function"]}})
            ]
        );
        // Each API reports the subscriptions made with it.
        assert!(logs(&subscribed).is_empty());
        let dropped = Record::LogsDropped {
            records: 3,
            bytes: 120,
        };
        assert_eq!(dropped.stream(), Stream::Platform);
        let record = &telemetry(&dropped)[0]["record"];
        assert_eq!(
            (&record["droppedRecords"], &record["droppedBytes"]),
            (&json!(3), &json!(120))
        );
        assert_eq!(logs(&dropped)[0]["type"], "platform.logsDropped");
    }

    #[test]
    fn statuses() {
        let s = |t: &str| status(&Some(t.to_string()));
        assert_eq!(status(&None), "success");
        assert_eq!(s("Sandbox.Timedout"), "timeout");
        assert_eq!(s("Runtime.ExitError"), "failure");
        assert_eq!(s("Extension.Crash"), "failure");
        assert_eq!(s("Function.ResponseSizeTooLarge"), "failure");
        assert_eq!(s("MyError"), "error");
    }
}
