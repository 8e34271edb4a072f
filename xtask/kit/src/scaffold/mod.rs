//! `cargo xtask new`: a new function package, written from the templates in `templates/`
//! (rendered by [`render`], pure) into a folder that must not hold anything yet ([`create`]),
//! and added to the workspace above it when there is one ([`join_workspace`]).
//!
//! What it writes builds at once and follows aws-lambda-rust-runtime's examples: `main.rs` only
//! wires the runtime, the logic is in `handler.rs` with a unit test; `Cargo.toml` carries the
//! deploy settings and the event `invoke` sends (`[package.metadata.lambda.invoke]`).

use std::fmt;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::events::Kind;

/// What stops a package from being written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {problem}", path.display())]
    Refused { path: PathBuf, problem: String },
    #[error("{0:?} is not a package name cargo accepts: use letters, digits, '-' or '_', starting with a letter")]
    Name(String),
    #[error("writing {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that could not be written into place.
    #[error(transparent)]
    Failure(#[from] crate::error::Failure),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The front of an HTTP function: which events `lambda_http` is built to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HttpFeature {
    /// API Gateway REST API (payload format 1.0).
    #[value(name = "apigw_rest")]
    ApigwRest,
    /// API Gateway HTTP API and function URLs (payload format 2.0).
    #[value(name = "apigw_http")]
    ApigwHttp,
    /// Application Load Balancer.
    #[value(name = "alb")]
    Alb,
}

impl HttpFeature {
    fn feature(self) -> &'static str {
        match self {
            HttpFeature::ApigwRest => "apigw_rest",
            HttpFeature::ApigwHttp => "apigw_http",
            HttpFeature::Alb => "alb",
        }
    }

    fn front(self) -> &'static str {
        match self {
            HttpFeature::ApigwRest => "API Gateway REST API",
            HttpFeature::ApigwHttp => "API Gateway HTTP API or function URL",
            HttpFeature::Alb => "Application Load Balancer",
        }
    }

    /// The kit's example event of that front.
    pub fn event(self) -> Kind {
        match self {
            HttpFeature::ApigwRest => Kind::ApigwRest,
            HttpFeature::ApigwHttp => Kind::ApigwHttp,
            HttpFeature::Alb => Kind::Alb,
        }
    }
}

/// The service whose events a typed function takes (`aws_lambda_events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventType {
    Sqs,
    S3,
    Sns,
    #[value(name = "eventbridge")]
    EventBridge,
    Schedule,
    #[value(name = "dynamodb")]
    DynamoDb,
    Kinesis,
    CloudwatchLogs,
}

/// How a typed function reads its event: the pieces of `templates/event/handler.rs`.
struct EventShape {
    feature: &'static str,
    module: &'static str,
    type_name: &'static str,
    service: &'static str,
    item: &'static str,
    describe: &'static str,
    test_event: &'static str,
}

impl EventType {
    /// The kit's example event of that service.
    pub fn event(self) -> Kind {
        match self {
            EventType::Sqs => Kind::Sqs,
            EventType::S3 => Kind::S3,
            EventType::Sns => Kind::Sns,
            EventType::EventBridge => Kind::EventBridge,
            EventType::Schedule => Kind::Schedule,
            EventType::DynamoDb => Kind::DynamoDb,
            EventType::Kinesis => Kind::Kinesis,
            EventType::CloudwatchLogs => Kind::CloudWatchLogs,
        }
    }

    fn shape(self) -> EventShape {
        const ONE_RECORD: &str = "        let mut event = {{event_type}}::default();\n        \
                                  event.records.push(Default::default());";
        const ONE_EVENT: &str = "        let event = {{event_type}}::default();";
        let bridge = |service| EventShape {
            feature: "eventbridge",
            module: "eventbridge",
            type_name: "EventBridgeEvent",
            service,
            item: "event",
            describe: "    vec![format!(\"{} from {}\", event.detail_type, event.source)]",
            test_event: ONE_EVENT,
        };
        let records = |feature, module, type_name, service, item, line| EventShape {
            feature,
            module,
            type_name,
            service,
            item,
            describe: line,
            test_event: ONE_RECORD,
        };
        match self {
            EventType::Sqs => records(
                "sqs",
                "sqs",
                "SqsEvent",
                "Amazon SQS",
                "message",
                "    event\n        .records\n        .iter()\n        .map(|message| {\n            \
                 format!(\n                \"message {}: {}\",\n                \
                 message.message_id.as_deref().unwrap_or(\"?\"),\n                \
                 message.body.as_deref().unwrap_or(\"\")\n            )\n        })\n        \
                 .collect()",
            ),
            EventType::S3 => records(
                "s3",
                "s3",
                "S3Event",
                "Amazon S3",
                "record",
                "    event\n        .records\n        .iter()\n        .map(|record| {\n            \
                 format!(\n                \"{} s3://{}/{}\",\n                \
                 record.event_name.as_deref().unwrap_or(\"?\"),\n                \
                 record.s3.bucket.name.as_deref().unwrap_or(\"?\"),\n                \
                 record.s3.object.key.as_deref().unwrap_or(\"?\")\n            )\n        })\n        \
                 .collect()",
            ),
            EventType::Sns => records(
                "sns",
                "sns",
                "SnsEvent",
                "Amazon SNS",
                "record",
                "    event\n        .records\n        .iter()\n        \
                 .map(|record| format!(\"{}: {}\", record.sns.topic_arn, record.sns.message))\n        \
                 .collect()",
            ),
            EventType::DynamoDb => records(
                "dynamodb",
                "dynamodb",
                "Event",
                "a DynamoDB stream",
                "record",
                "    event\n        .records\n        .iter()\n        \
                 .map(|record| format!(\"{} {}\", record.event_name, record.event_id))\n        \
                 .collect()",
            ),
            EventType::Kinesis => records(
                "kinesis",
                "kinesis",
                "KinesisEvent",
                "a Kinesis stream",
                "record",
                "    event\n        .records\n        .iter()\n        .map(|record| {\n            \
                 let data = String::from_utf8_lossy(&record.kinesis.data.0);\n            \
                 format!(\"{}: {data}\", record.kinesis.partition_key)\n        })\n        \
                 .collect()",
            ),
            EventType::CloudwatchLogs => EventShape {
                feature: "cloudwatch_logs",
                module: "cloudwatch_logs",
                type_name: "LogsEvent",
                service: "a CloudWatch Logs subscription",
                item: "log_event",
                describe: "    let data = &event.aws_logs.data;\n    data.log_events\n        \
                           .iter()\n        \
                           .map(|entry| format!(\"{}: {}\", data.log_group, entry.message))\n        \
                           .collect()",
                test_event: "        let mut event = {{event_type}}::default();\n        \
                             event.aws_logs.data.log_events.push(Default::default());",
            },
            EventType::EventBridge => bridge("Amazon EventBridge"),
            EventType::Schedule => bridge("an EventBridge schedule"),
        }
    }
}

/// The kind of package `new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// JSON in, JSON out, on `lambda_runtime`.
    Json,
    /// An HTTP function on `lambda_http`.
    Http(HttpFeature),
    /// A function typed with the `aws_lambda_events` event of a service.
    Event(EventType),
    /// A Lambda extension on `lambda-extension`.
    Extension,
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Template::Json => f.write_str("JSON function"),
            Template::Http(front) => write!(f, "HTTP function ({})", front.front()),
            Template::Event(kind) => write!(f, "function for {}", kind.shape().service),
            Template::Extension => f.write_str("Lambda extension"),
        }
    }
}

/// The versions the kit's own function and fixtures build with.
const LAMBDA_RUNTIME: &str = r#"lambda_runtime = { version = "1.5", default-features = false }"#;
const TOKIO: &str = r#"tokio = { version = "1", features = ["macros"] }"#;
const SERDE: &str = r#"serde = { version = "1", features = ["derive"] }"#;

/// One file of a package: its path inside the package and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: PathBuf,
    pub text: String,
}

/// Replaces each `{{key}}` of `text` by its value. A placeholder without a value is a bug in
/// the templates, so it panics (the unit tests render every template).
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed placeholder in template: {rest}"));
        let key = &after[..end];
        let value = values
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("no value for the placeholder {{{{{key}}}}}"))
            .1;
        // A value may hold placeholders of its own (the event shapes' pieces).
        out.push_str(&fill(value, values));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The files of a package named `name` made from `template`. Pure.
pub fn render(name: &str, template: Template) -> Vec<File> {
    let (main, handler, dependencies, invoke, mut values): (_, _, Vec<String>, String, Vec<_>) =
        match template {
            Template::Json => (
                include_str!("templates/json/main.rs"),
                include_str!("templates/json/handler.rs"),
                vec![
                    LAMBDA_RUNTIME.into(),
                    SERDE.into(),
                    "serde_json = \"1\"".into(),
                    TOKIO.into(),
                ],
                r#"payload = '{"name": "Lambda"}'"#.to_string(),
                vec![],
            ),
            Template::Http(front) => (
                include_str!("templates/http/main.rs"),
                include_str!("templates/http/handler.rs"),
                vec![
                    format!(
                        "lambda_http = {{ version = \"1\", default-features = false, \
                         features = [\"{}\"] }}",
                        front.feature()
                    ),
                    TOKIO.into(),
                ],
                format!("event = \"{}\"", front.event()),
                vec![("front", front.front())],
            ),
            Template::Event(kind) => {
                let shape = kind.shape();
                (
                    include_str!("templates/event/main.rs"),
                    include_str!("templates/event/handler.rs"),
                    vec![
                        format!(
                            "aws_lambda_events = {{ version = \"1\", default-features = false, \
                             features = [\"{}\"] }}",
                            shape.feature
                        ),
                        LAMBDA_RUNTIME.into(),
                        SERDE.into(),
                        TOKIO.into(),
                    ],
                    format!("event = \"{}\"", kind.event()),
                    vec![
                        ("service", shape.service),
                        ("event_module", shape.module),
                        ("event_type", shape.type_name),
                        ("item", shape.item),
                        ("describe", shape.describe),
                        ("test_event", shape.test_event),
                    ],
                )
            }
            Template::Extension => (
                include_str!("templates/extension/main.rs"),
                include_str!("templates/extension/handler.rs"),
                vec![
                    r#"lambda-extension = { version = "1", default-features = false }"#.into(),
                    TOKIO.into(),
                    String::new(),
                    "[dev-dependencies]".into(),
                    "serde_json = \"1\"".into(),
                ],
                String::new(),
                vec![],
            ),
        };
    let dependencies = dependencies.join("\n");
    values.extend([
        ("name", name),
        ("dependencies", dependencies.as_str()),
        ("invoke", invoke.as_str()),
    ]);
    let mut manifest = fill(include_str!("templates/Cargo.toml.in"), &values);
    if template == Template::Extension {
        // An extension is not invoked: it runs beside a function, in a layer.
        manifest = manifest.replace(
            "\n# The event `cargo xtask invoke` sends, and `serve` prints, when none is given.\n\
             [package.metadata.lambda.invoke]\n\n",
            "\n",
        );
        manifest = manifest.replace(
            "# `cargo xtask deploy` and the create-function command `cargo xtask package` prints \
             use these\n# settings (cargo-lambda's schema; name, role, runtime, env, layers, … go \
             here too).\n[package.metadata.lambda.deploy]\nmemory = 128\ntimeout = 30\n\n",
            "",
        );
    }
    vec![
        File {
            path: "Cargo.toml".into(),
            text: manifest,
        },
        File {
            path: "src/main.rs".into(),
            text: fill(main, &values),
        },
        File {
            path: "src/handler.rs".into(),
            text: fill(handler, &values),
        },
        File {
            path: ".gitignore".into(),
            text: include_str!("templates/gitignore").to_string(),
        },
    ]
}

/// The package name of a folder, as `cargo new` takes it: the folder's name, which must be a
/// name cargo accepts.
pub fn package_name(path: &Path) -> Result<String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= 64;
    if !valid {
        return Err(Error::Name(name));
    }
    Ok(name)
}

/// Writes `files` into `dir`, which must not exist or be empty; nothing is overwritten. Each
/// file is written to a temporary file and renamed into place.
pub fn create(dir: &Path, files: &[File]) -> Result<()> {
    let refuse = |problem: &str| Error::Refused {
        path: dir.to_path_buf(),
        problem: problem.to_string(),
    };
    if dir.is_file() {
        return Err(refuse("a file is already there; nothing was written"));
    }
    if dir.is_dir() {
        let mut entries = std::fs::read_dir(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        if entries.next().is_some() {
            return Err(refuse(
                "the folder is not empty; `new` never overwrites anything: give a new folder",
            ));
        }
    }
    for file in files {
        let path = dir.join(&file.path);
        let write = |source| Error::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write)?;
        }
        crate::atomic_file::write(&path, file.text.as_bytes())?;
    }
    Ok(())
}

/// What joining the workspace above a new package did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    /// No workspace above: the package is its own.
    NoWorkspace,
    /// Its path was added to `members` of the workspace's `Cargo.toml`.
    Added { manifest: PathBuf, member: String },
    /// Already a member (a glob of `members` covers it).
    Covered { manifest: PathBuf, pattern: String },
    /// Not edited: what the user must do, in one sentence.
    Manual { manifest: PathBuf, how: String },
}

/// The `Cargo.toml` with a `[workspace]` table in the closest folder above `dir` (cargo's own
/// search), if any.
pub fn workspace_above(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().skip(1).find_map(|folder| {
        let manifest = folder.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).ok()?;
        let doc: toml_edit::DocumentMut = text.parse().ok()?;
        doc.get("workspace").is_some().then_some(manifest)
    })
}

/// How the workspace whose manifest text is `text` takes the member `member` (a `/`-separated
/// path relative to the workspace's folder): the edited text, or why it is not edited. Pure.
pub fn add_member(text: &str, member: &str) -> Result<Option<String>, JoinDecision> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| JoinDecision::Manual(format!("it is not valid TOML ({e})")))?;
    let workspace = doc
        .get_mut("workspace")
        .and_then(|w| w.as_table_like_mut())
        .ok_or_else(|| JoinDecision::Manual("it has no [workspace] table".into()))?;
    let strings = |key: &str, ws: &dyn toml_edit::TableLike| -> Vec<String> {
        ws.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let excludes = strings("exclude", &*workspace);
    if let Some(excluded) = excludes
        .iter()
        .find(|e| member == e.trim_end_matches('/') || member.starts_with(&format!("{e}/")))
    {
        return Err(JoinDecision::Manual(format!(
            "{member} is under exclude's \"{excluded}\": remove it from exclude, or add \
             \"{member}\" to [workspace] members and narrow exclude"
        )));
    }
    let members = strings("members", &*workspace);
    if members.iter().any(|m| m.trim_end_matches('/') == member) {
        return Ok(None);
    }
    if let Some(pattern) = members.iter().find(|m| glob_matches(m, member)) {
        return Err(JoinDecision::Covered(pattern.clone()));
    }
    match workspace.get_mut("members") {
        None => {
            let mut array = toml_edit::Array::new();
            array.push(member);
            workspace.insert("members", toml_edit::value(array));
        }
        Some(item) => match item.as_array_mut() {
            Some(array) => array.push(member),
            None => {
                return Err(JoinDecision::Manual(format!(
                    "its members is not a list: add \"{member}\" to it"
                )))
            }
        },
    }
    Ok(Some(doc.to_string()))
}

/// Why a workspace's manifest is not edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinDecision {
    /// A glob of `members` already takes the package in.
    Covered(String),
    /// The user must edit it: how.
    Manual(String),
}

/// Cargo's member globs (`crates/*`, `fn-?`): `*` and `?` within one path segment.
fn glob_matches(pattern: &str, path: &str) -> bool {
    if !pattern.contains(['*', '?', '[']) {
        return false;
    }
    let (pattern, path): (Vec<&str>, Vec<&str>) = (
        pattern.trim_end_matches('/').split('/').collect(),
        path.split('/').collect(),
    );
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| segment_matches(p.as_bytes(), s.as_bytes()))
}

fn segment_matches(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            segment_matches(&pattern[1..], text)
                || (!text.is_empty() && segment_matches(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => segment_matches(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => segment_matches(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// Adds the new package at `dir` to the workspace above it, if there is one. The manifest is
/// written to a temporary file and renamed into place.
pub fn join_workspace(dir: &Path) -> Result<Joined> {
    let Some(manifest) = workspace_above(dir) else {
        return Ok(Joined::NoWorkspace);
    };
    let root = manifest.parent().unwrap_or(Path::new("."));
    let member = dir
        .strip_prefix(root)
        .unwrap_or(dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    let text = std::fs::read_to_string(&manifest).map_err(|source| Error::Write {
        path: manifest.clone(),
        source,
    })?;
    match add_member(&text, &member) {
        Ok(Some(edited)) => {
            crate::atomic_file::write(&manifest, edited.as_bytes())?;
            Ok(Joined::Added { manifest, member })
        }
        Ok(None) => Ok(Joined::Covered {
            manifest,
            pattern: member,
        }),
        Err(JoinDecision::Covered(pattern)) => Ok(Joined::Covered { manifest, pattern }),
        Err(JoinDecision::Manual(how)) => Ok(Joined::Manual { manifest, how }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_templates() -> Vec<Template> {
        let mut all = vec![Template::Json, Template::Extension];
        all.extend(
            HttpFeature::value_variants()
                .iter()
                .map(|f| Template::Http(*f)),
        );
        all.extend(
            EventType::value_variants()
                .iter()
                .map(|e| Template::Event(*e)),
        );
        all
    }

    #[test]
    fn every_template_renders_whole_files() {
        for template in all_templates() {
            let files = render("orders-api", template);
            let paths: Vec<_> = files.iter().map(|f| f.path.clone()).collect();
            assert_eq!(
                paths,
                ["Cargo.toml", "src/main.rs", "src/handler.rs", ".gitignore"].map(PathBuf::from)
            );
            for file in &files {
                assert!(!file.text.contains("{{"), "{template}: {}", file.text);
            }
            let manifest: toml::Table = toml::from_str(&files[0].text).unwrap();
            assert_eq!(manifest["package"]["name"].as_str(), Some("orders-api"));
            assert!(files[1].text.contains("mod handler;"), "{template}");
            assert!(files[2].text.contains("#[cfg(test)]"), "{template}");
            let lambda = manifest["package"].get("metadata").map(|m| &m["lambda"]);
            match template {
                Template::Extension => {
                    assert!(lambda.is_none(), "{}", files[0].text);
                    assert!(manifest["dependencies"].get("lambda-extension").is_some());
                }
                _ => {
                    let lambda = lambda.unwrap();
                    assert_eq!(lambda["deploy"]["memory"].as_integer(), Some(128));
                    let invoke = &lambda["invoke"];
                    if let Some(kind) = invoke.get("event") {
                        Kind::parse(kind.as_str().unwrap()).unwrap();
                    } else {
                        let payload = invoke["payload"].as_str().unwrap();
                        serde_json::from_str::<serde_json::Value>(payload).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn http_functions_build_lambda_http_with_their_front_only() {
        let files = render("web", Template::Http(HttpFeature::Alb));
        let manifest: toml::Table = toml::from_str(&files[0].text).unwrap();
        let http = &manifest["dependencies"]["lambda_http"];
        assert_eq!(http["default-features"].as_bool(), Some(false));
        assert_eq!(http["features"].as_array().unwrap().len(), 1);
        assert_eq!(http["features"][0].as_str(), Some("alb"));
        assert_eq!(
            manifest["package"]["metadata"]["lambda"]["invoke"]["event"].as_str(),
            Some("alb")
        );
        let sqs = render("q", Template::Event(EventType::Sqs));
        assert!(sqs[2]
            .text
            .contains("use aws_lambda_events::event::sqs::SqsEvent;"));
    }

    #[test]
    fn placeholders_are_filled_and_a_missing_value_is_a_bug() {
        assert_eq!(
            fill("a {{x}} b {{y}}", &[("x", "1"), ("y", "{{x}}")]),
            "a 1 b 1"
        );
        assert!(std::panic::catch_unwind(|| fill("{{nope}}", &[])).is_err());
    }

    #[test]
    fn package_names_come_from_the_folder() {
        assert_eq!(
            package_name(Path::new("/w/orders-api")).unwrap(),
            "orders-api"
        );
        for bad in ["/w/1st", "/w/has space", "/w/ünï", "/"] {
            assert!(package_name(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let files = render("p", Template::Json);
        let target = dir.path().join("p");
        create(&target, &files).unwrap();
        assert!(target.join("src/handler.rs").is_file());
        let before = std::fs::read(target.join("Cargo.toml")).unwrap();
        let err = create(&target, &files).unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
        assert_eq!(std::fs::read(target.join("Cargo.toml")).unwrap(), before);
        // An empty folder is fine, as for cargo new.
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        create(&dir.path().join("empty"), &files).unwrap();
    }

    #[test]
    fn workspaces_take_the_member_or_say_how() {
        let added = add_member("[workspace]\nmembers = [\"a\"] # ours\n", "fns/b")
            .unwrap()
            .unwrap();
        assert_eq!(added, "[workspace]\nmembers = [\"a\", \"fns/b\"] # ours\n");
        let created = add_member("[package]\nname = \"x\"\n[workspace]\n", "b")
            .unwrap()
            .unwrap();
        assert!(created.contains("members = [\"b\"]"), "{created}");
        assert_eq!(
            add_member("[workspace]\nmembers = [\"b\"]\n", "b").unwrap(),
            None
        );
        assert_eq!(
            add_member("[workspace]\nmembers = [\"fns/*\"]\n", "fns/b"),
            Err(JoinDecision::Covered("fns/*".into()))
        );
        assert!(
            add_member("[workspace]\nmembers = [\"crates/*\"]\n", "fns/b")
                .unwrap()
                .is_some()
        );
        let Err(JoinDecision::Manual(how)) = add_member(
            "[workspace]\nmembers = [\"*\"]\nexclude = [\"fns\"]\n",
            "fns/b",
        ) else {
            panic!("an excluded path must be left to the user");
        };
        assert!(
            how.contains("exclude") && how.contains("\"fns/b\""),
            "{how}"
        );
    }

    #[test]
    fn member_globs_match_one_segment_per_star() {
        assert!(glob_matches("fns/*", "fns/orders"));
        assert!(glob_matches("fn-?", "fn-a"));
        assert!(!glob_matches("fns/*", "fns/a/b"));
        assert!(!glob_matches("fns", "fns"));
    }
}
