//! CloudFormation and SAM templates of a workspace's functions, from the same resolved settings
//! as the commands the kit prints ([`cloudformation`], [`sam`]), and the Makefile `sam build`
//! runs ([`sam::render_makefile`]). Pure: the caller decides the paths and writes the files.
//!
//! Deterministic by construction: every object is a struct (its fields serialize in declaration
//! order) or a `BTreeMap` (sorted keys), and no path is absolute, so the same settings give the
//! same bytes. serde_json's `preserve_order` stays off: features unify across the workspace and
//! it would change the key order of every `serde_json::Value` the kit prints.

pub mod cloudformation;
pub mod sam;

use crate::workspace::function_url::UrlSettings;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path};

use serde::Serialize;
use serde_json::{json, Value};

use crate::arch::Arch;
use crate::workspace::settings::FunctionSettings;

/// Which template to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain CloudFormation (`AWS::Lambda::Function`) for `aws cloudformation package/deploy`.
    #[value(name = "cloudformation")]
    CloudFormation,
    /// AWS SAM (`AWS::Serverless::Function`, built by a Makefile) for `sam build/deploy`.
    #[value(name = "sam")]
    Sam,
}

/// Words every template's description carries: how the kit recognises a file it wrote (and may
/// overwrite).
pub const WRITTEN_BY: &str = "written by cargo xtask template";

/// One function of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateFunction {
    pub settings: FunctionSettings,
    pub arch: Arch,
    /// CloudFormation's `Code`: the zip, relative to the template's folder, `/`-separated.
    pub zip: String,
    /// SAM's Makefile: the `package` arguments that choose and build this function, each one
    /// either a literal or a path from the Makefile's folder.
    pub package_args: Vec<MakeArg>,
    /// Its function URL, if it has one (`function_url` in its metadata).
    pub function_url: Option<UrlSettings>,
}

/// An argument of the kit's command in the Makefile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MakeArg {
    Literal(String),
    /// A path relative to the Makefile's folder, `/`-separated.
    FromMakefile(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    NoFunctions,
    /// The name has no ASCII letter or digit to build a logical id from.
    EmptyLogicalId {
        function_name: String,
    },
    /// Two resources would get the same logical id.
    DuplicateLogicalId {
        logical_id: String,
        first: String,
        second: String,
    },
    InvalidPath {
        function_name: String,
        path: String,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::NoFunctions => write!(f, "no function to put in the template"),
            TemplateError::EmptyLogicalId { function_name } => write!(
                f,
                "function `{function_name}`: its name has no ASCII letter or digit to make a \
                 CloudFormation logical id from; give it another name (metadata `name` or \
                 --function-name)"
            ),
            TemplateError::DuplicateLogicalId {
                logical_id,
                first,
                second,
            } => write!(
                f,
                "{first} and {second} would both be `{logical_id}` in the template; give one of \
                 them another name (metadata `name`)"
            ),
            TemplateError::InvalidPath {
                function_name,
                path,
            } => write!(
                f,
                "function `{function_name}`: `{path}` must be relative to the template's folder, \
                 with `/` separators and none of \" $ ` \\"
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// `calculate-pi` -> `CalculatePi`, `my_fn.v2` -> `MyFnV2`: every run of ASCII letters and
/// digits becomes a word with its first letter upper-cased, the rest kept as written. Lossy
/// (`my-fn`, `my_fn` both give `MyFn`): [`assign_logical_ids`] refuses collisions rather than
/// suffixing, because a logical id that changed when another function was added would make
/// CloudFormation replace the function (delete, then create).
pub fn derive_logical_id(function_name: &str) -> String {
    function_name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word[..1].to_ascii_uppercase() + &word[1..])
        .collect()
}

/// The role a function without `role` gets: `<LogicalId>Role`, the id SAM gives it too.
pub fn role_logical_id(function_logical_id: &str) -> String {
    format!("{function_logical_id}Role")
}

/// Logical ids of `functions`, in order, unique across every resource the template holds (the
/// functions and the roles it creates).
pub fn assign_logical_ids(functions: &[TemplateFunction]) -> Result<Vec<String>, TemplateError> {
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |id: String, what: String| -> Result<(), TemplateError> {
        if let Some(first) = taken.get(&id) {
            return Err(TemplateError::DuplicateLogicalId {
                logical_id: id,
                first: first.clone(),
                second: what,
            });
        }
        taken.insert(id, what);
        Ok(())
    };
    let mut ids = Vec::with_capacity(functions.len());
    for function in functions {
        let name = &function.settings.function_name;
        let id = derive_logical_id(name);
        if id.is_empty() {
            return Err(TemplateError::EmptyLogicalId {
                function_name: name.clone(),
            });
        }
        claim(id.clone(), format!("function `{name}`"))?;
        ids.push(id);
    }
    // Roles after all functions, so that a function always comes first in the message.
    for (function, id) in functions.iter().zip(&ids) {
        if function.settings.role.is_none() {
            claim(
                role_logical_id(id),
                format!("the role of function `{}`", function.settings.function_name),
            )?;
        }
    }
    Ok(ids)
}

/// A path a template or Makefile may hold: relative, `/`-separated, nothing a shell or make
/// would expand.
fn valid_relative(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.contains(['\\', '"', '$', '`', ':', '\n'])
}

fn check(functions: &[TemplateFunction]) -> Result<Vec<String>, TemplateError> {
    if functions.is_empty() {
        return Err(TemplateError::NoFunctions);
    }
    for function in functions {
        let paths = function
            .package_args
            .iter()
            .filter_map(|arg| match arg {
                MakeArg::FromMakefile(path) => Some(path),
                MakeArg::Literal(_) => None,
            })
            .chain([&function.zip]);
        for path in paths {
            if !valid_relative(path) {
                return Err(TemplateError::InvalidPath {
                    function_name: function.settings.function_name.clone(),
                    path: path.clone(),
                });
            }
        }
    }
    assign_logical_ids(functions)
}

/// `to` relative to the folder `from`, `/`-separated; both absolute and normalized (no `.` or
/// `..`). `None` when no relative path leads there (another Windows drive).
pub fn relative_path(from: &Path, to: &Path) -> Option<String> {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    if from.first() != to.first() {
        return None;
    }
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Some(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

// ---- what both formats share ------------------------------------------------------------------

#[derive(Serialize)]
struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    version: &'static str,
    #[serde(rename = "Transform", skip_serializing_if = "Option::is_none")]
    transform: Option<&'static str>,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, Resource>,
    #[serde(rename = "Outputs")]
    outputs: BTreeMap<String, Output>,
}

#[derive(Serialize)]
struct Resource {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "Metadata", skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
    #[serde(rename = "Properties")]
    properties: Properties,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Properties {
    /// A struct, so that the properties come out in the order written there.
    Function(Box<FunctionProperties>),
    /// The role: sorted keys read fine there.
    Other(Value),
}

/// `AWS::Lambda::Function` and `AWS::Serverless::Function` share every property but the code's
/// (`Code` / `CodeUri`), the tags' shape (list / map) and tracing's (`TracingConfig` / `Tracing`).
#[derive(Serialize)]
struct FunctionProperties {
    #[serde(rename = "FunctionName")]
    function_name: String,
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(rename = "Code", skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(rename = "CodeUri", skip_serializing_if = "Option::is_none")]
    code_uri: Option<String>,
    #[serde(rename = "Handler")]
    handler: &'static str,
    #[serde(rename = "Runtime")]
    runtime: &'static str,
    #[serde(rename = "Architectures")]
    architectures: [&'static str; 1],
    #[serde(rename = "MemorySize")]
    memory: u32,
    #[serde(rename = "Timeout")]
    timeout: u32,
    #[serde(rename = "Role", skip_serializing_if = "Option::is_none")]
    role: Option<Value>,
    #[serde(rename = "Environment", skip_serializing_if = "Option::is_none")]
    environment: Option<Environment>,
    #[serde(rename = "Layers", skip_serializing_if = "Vec::is_empty")]
    layers: Vec<String>,
    #[serde(rename = "TracingConfig", skip_serializing_if = "Option::is_none")]
    tracing_config: Option<Value>,
    #[serde(rename = "Tracing", skip_serializing_if = "Option::is_none")]
    tracing: Option<&'static str>,
    #[serde(rename = "Tags", skip_serializing_if = "Option::is_none")]
    tags: Option<Value>,
    /// SAM's `FunctionUrlConfig` (CloudFormation: an `AWS::Lambda::Url` resource instead).
    #[serde(rename = "FunctionUrlConfig", skip_serializing_if = "Option::is_none")]
    function_url_config: Option<Value>,
}

#[derive(Serialize)]
struct Environment {
    #[serde(rename = "Variables")]
    variables: BTreeMap<String, String>,
}

impl FunctionProperties {
    /// What both formats write alike; the caller fills in the rest.
    fn common(function: &TemplateFunction) -> Self {
        let settings = &function.settings;
        FunctionProperties {
            function_name: settings.function_name.clone(),
            description: settings.description.clone(),
            code: None,
            code_uri: None,
            handler: crate::artifact::lambda_zip::BOOTSTRAP,
            runtime: settings.runtime.name(),
            architectures: [function.arch.lambda_name()],
            memory: settings.memory_size,
            timeout: settings.timeout,
            role: None,
            environment: (!settings.environment.is_empty()).then(|| Environment {
                variables: settings.environment.clone(),
            }),
            layers: settings.layers.clone(),
            tracing_config: None,
            tracing: None,
            tags: None,
            function_url_config: None,
        }
    }
}

#[derive(Serialize)]
struct Output {
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "Value")]
    value: Value,
}

/// `{"Fn::GetAtt": [id, "Arn"]}`.
fn get_att_arn(logical_id: &str) -> Value {
    json!({ "Fn::GetAtt": [logical_id, "Arn"] })
}

fn description(functions: &[TemplateFunction]) -> String {
    let names: Vec<&str> = functions
        .iter()
        .map(|f| f.settings.function_name.as_str())
        .collect();
    format!("Lambda functions {}: {WRITTEN_BY}", names.join(", "))
}

fn outputs(functions: &[TemplateFunction], ids: &[String]) -> BTreeMap<String, Output> {
    let mut outputs = BTreeMap::new();
    for (id, function) in ids.iter().zip(functions) {
        let name = &function.settings.function_name;
        outputs.insert(
            format!("{id}Arn"),
            Output {
                description: format!("ARN of {name}"),
                value: get_att_arn(id),
            },
        );
        // The URL resource is `<id>Url` in both: ours in CloudFormation, SAM's own in SAM.
        if function.function_url.is_some() {
            outputs.insert(
                format!("{id}FunctionUrl"),
                Output {
                    description: format!("Function URL of {name}"),
                    value: json!({ "Fn::GetAtt": [url_logical_id(id), "FunctionUrl"] }),
                },
            );
        }
    }
    outputs
}

/// The logical id of a function's `AWS::Lambda::Url` (the one SAM gives it too).
fn url_logical_id(id: &str) -> String {
    format!("{id}Url")
}

/// The template as pretty JSON with a final newline.
pub fn render(format: Format, functions: &[TemplateFunction]) -> Result<String, TemplateError> {
    let ids = check(functions)?;
    let template = match format {
        Format::CloudFormation => cloudformation::template(functions, &ids),
        Format::Sam => sam::template(functions, &ids),
    };
    let mut text = serde_json::to_string_pretty(&template).expect("plain data serializes");
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::runtime::Runtime;
    use crate::workspace::settings::Tracing;

    pub fn function(name: &str, arch: Arch) -> TemplateFunction {
        TemplateFunction {
            settings: FunctionSettings {
                runtime: Runtime::ProvidedAl2023,
                ..FunctionSettings::defaults(name)
            },
            arch,
            zip: format!("../dist/lambda-{}.zip", arch.lambda_name()),
            package_args: vec![
                MakeArg::Literal("--arch".into()),
                MakeArg::Literal(arch.lambda_name().into()),
            ],
            function_url: None,
        }
    }

    pub fn full() -> TemplateFunction {
        let mut f = function("calculate-pi", Arch::X86_64);
        let s = &mut f.settings;
        s.memory_size = 256;
        s.environment = BTreeMap::from([
            ("RUST_LOG".into(), "info".into()),
            ("DIGITS".into(), "1000".into()),
        ]);
        s.tags = BTreeMap::from([
            ("team".into(), "rust".into()),
            ("project".into(), "pi".into()),
        ]);
        s.layers = vec!["arn:aws:lambda:us-east-1:123456789012:layer:l:3".into()];
        s.tracing = Some(Tracing::Active);
        s.description = Some("Computes digits of pi".into());
        f
    }

    pub fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn logical_ids_from_names() {
        assert_eq!(derive_logical_id("calculate-pi"), "CalculatePi");
        assert_eq!(derive_logical_id("my_fn.v2"), "MyFnV2");
        assert_eq!(derive_logical_id("alpha-second"), "AlphaSecond");
        assert_eq!(derive_logical_id("pi-2-arm64"), "Pi2Arm64");
        assert_eq!(derive_logical_id("--x--"), "X");
        assert_eq!(derive_logical_id("___"), "");
    }

    #[test]
    fn colliding_names_are_refused_not_suffixed() {
        let functions = [
            function("my-fn", Arch::X86_64),
            function("my_fn", Arch::Arm64),
        ];
        assert_eq!(
            assign_logical_ids(&functions).unwrap_err(),
            TemplateError::DuplicateLogicalId {
                logical_id: "MyFn".into(),
                first: "function `my-fn`".into(),
                second: "function `my_fn`".into(),
            }
        );
    }

    #[test]
    fn a_function_named_like_another_ones_role_is_refused() {
        let functions = [
            function("a", Arch::X86_64),
            function("a-role", Arch::X86_64),
        ];
        assert!(matches!(
            assign_logical_ids(&functions),
            Err(TemplateError::DuplicateLogicalId { logical_id, .. }) if logical_id == "ARole"
        ));
        // With a role of its own, `a` makes no `ARole`.
        let mut with_role = functions.clone();
        with_role[0].settings.role = Some("arn:aws:iam::123456789012:role/r".into());
        assert_eq!(assign_logical_ids(&with_role).unwrap(), ["A", "ARole"]);
    }

    #[test]
    fn bad_names_and_paths_are_refused() {
        assert!(matches!(
            assign_logical_ids(&[function("___", Arch::X86_64)]),
            Err(TemplateError::EmptyLogicalId { .. })
        ));
        assert_eq!(render(Format::Sam, &[]), Err(TemplateError::NoFunctions));
        for bad in ["/abs/lambda.zip", "C:/x.zip", "a\\b.zip", "$(x).zip", ""] {
            let mut f = function("x", Arch::X86_64);
            f.zip = bad.into();
            assert!(
                matches!(
                    render(Format::CloudFormation, &[f]),
                    Err(TemplateError::InvalidPath { .. })
                ),
                "{bad}"
            );
        }
        let mut f = function("x", Arch::X86_64);
        f.package_args
            .push(MakeArg::FromMakefile("../\"quoted\"".into()));
        assert!(render(Format::Sam, &[f]).is_err());
    }

    #[test]
    fn same_settings_same_bytes_and_a_fixed_key_order() {
        let functions = [full(), function("calculate-pi-arm", Arch::Arm64)];
        for format in [Format::CloudFormation, Format::Sam] {
            let a = render(format, &functions).unwrap();
            assert_eq!(a, render(format, &functions.clone()).unwrap());
            assert!(a.starts_with("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n"));
            assert!(a.ends_with("}\n"));
            let body = &a[a.find("\"FunctionName\"").unwrap()..];
            let at: Vec<usize> = [
                "\"FunctionName\"",
                "\"Description\"",
                "\"Handler\"",
                "\"Runtime\"",
                "\"MemorySize\"",
            ]
            .iter()
            .map(|k| body.find(k).unwrap())
            .collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{format:?}: {at:?}");
        }
        // The maps are sorted whatever order the settings were built in.
        let mut reordered = full();
        reordered.settings.environment = full().settings.environment.into_iter().rev().collect();
        assert_eq!(
            render(Format::CloudFormation, &[reordered]).unwrap(),
            render(Format::CloudFormation, &[full()]).unwrap()
        );
    }

    #[test]
    fn relative_paths() {
        let rel = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b)).unwrap();
        assert_eq!(
            rel("/w/repo/deploy", "/w/repo/dist/lambda-x86_64.zip"),
            "../dist/lambda-x86_64.zip"
        );
        assert_eq!(rel("/w/repo", "/w/repo/dist/a.zip"), "dist/a.zip");
        assert_eq!(rel("/w/repo/", "/w/repo"), ".");
        assert_eq!(rel("/a/b/c", "/x/y"), "../../../x/y");
    }
}
