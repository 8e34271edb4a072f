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
use crate::runtime::Runtime;
use crate::workspace::settings::{FunctionSettings, LayerRef};

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

/// An extension of the workspace that the template publishes as a layer version, for the
/// functions whose `layers` name it (by its binary name).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateLayer {
    /// The extension's binary name: the layer's name, its entry `extensions/<name>`, and what
    /// a function's `layers` calls it.
    pub extension: String,
    pub arch: Arch,
    pub compatible_runtimes: Vec<Runtime>,
    /// CloudFormation's `Content`: the layer zip, relative to the template's folder.
    pub zip: String,
    /// SAM's Makefile: the `package --extension` arguments that build this layer.
    pub package_args: Vec<MakeArg>,
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
    /// A function's `layers` names an extension the template has no layer for.
    UnknownExtension {
        function_name: String,
        extension: String,
    },
    /// A function's `layers` names a layer zip: local runs only.
    ZipLayer {
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
            TemplateError::UnknownExtension {
                function_name,
                extension,
            } => write!(
                f,
                "function `{function_name}`: its layer `{extension}` is not an extension of the \
                 workspace; name a layer version by its ARN or an extension by its binary name"
            ),
            TemplateError::ZipLayer {
                function_name,
                path,
            } => write!(
                f,
                "function `{function_name}`: the layer {path} is a zip, which only local runs \
                 take; a template names layer versions by ARN, or an extension of the workspace \
                 by its binary name (the template publishes it)"
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

/// The logical id of an extension's layer version: `<LogicalId>Layer`.
pub fn layer_logical_id(extension: &str) -> String {
    format!("{}Layer", derive_logical_id(extension))
}

/// The logical ids of a template's resources, in the order of their inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalIds {
    pub functions: Vec<String>,
    pub layers: Vec<String>,
}

/// Logical ids of `functions` and `layers`, in order, unique across every resource the template
/// holds (the functions, the layers and the roles it creates).
pub fn assign_logical_ids(
    functions: &[TemplateFunction],
    layers: &[TemplateLayer],
) -> Result<LogicalIds, TemplateError> {
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
    // Layers and roles after all functions, so that a function always comes first in the
    // message.
    let mut layer_ids = Vec::with_capacity(layers.len());
    for layer in layers {
        let id = layer_logical_id(&layer.extension);
        claim(
            id.clone(),
            format!("the layer of extension `{}`", layer.extension),
        )?;
        layer_ids.push(id);
    }
    for (function, id) in functions.iter().zip(&ids) {
        if function.settings.role.is_none() {
            claim(
                role_logical_id(id),
                format!("the role of function `{}`", function.settings.function_name),
            )?;
        }
    }
    Ok(LogicalIds {
        functions: ids,
        layers: layer_ids,
    })
}

/// A path a template or Makefile may hold: relative, `/`-separated, nothing a shell or make
/// would expand.
fn valid_relative(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.contains(['\\', '"', '$', '`', ':', '\n'])
}

/// What a template is rendered from once its inputs are checked: the logical ids, and each
/// function's `Layers` (ARNs as written, `Ref`s to the layer versions of extensions).
struct Plan {
    ids: LogicalIds,
    function_layers: Vec<Vec<Value>>,
}

fn check(functions: &[TemplateFunction], layers: &[TemplateLayer]) -> Result<Plan, TemplateError> {
    if functions.is_empty() {
        return Err(TemplateError::NoFunctions);
    }
    let paths = functions
        .iter()
        .map(|f| (&f.settings.function_name, &f.package_args, &f.zip))
        .chain(
            layers
                .iter()
                .map(|l| (&l.extension, &l.package_args, &l.zip)),
        );
    for (name, package_args, zip) in paths {
        let paths = package_args
            .iter()
            .filter_map(|arg| match arg {
                MakeArg::FromMakefile(path) => Some(path),
                MakeArg::Literal(_) => None,
            })
            .chain([zip]);
        for path in paths {
            if !valid_relative(path) {
                return Err(TemplateError::InvalidPath {
                    function_name: name.clone(),
                    path: path.clone(),
                });
            }
        }
    }
    let ids = assign_logical_ids(functions, layers)?;
    let function_layers = functions
        .iter()
        .map(|function| function_layers(function, layers, &ids.layers))
        .collect::<Result<_, _>>()?;
    Ok(Plan {
        ids,
        function_layers,
    })
}

/// A function's `Layers`, in the order its settings list them: an ARN as it is, an extension
/// of the workspace as a `Ref` to its layer version (which is the version's ARN).
fn function_layers(
    function: &TemplateFunction,
    layers: &[TemplateLayer],
    layer_ids: &[String],
) -> Result<Vec<Value>, TemplateError> {
    let function_name = &function.settings.function_name;
    function
        .settings
        .layers
        .iter()
        .map(|layer| match LayerRef::of(layer) {
            LayerRef::Arn(arn) => Ok(Value::String(arn.to_string())),
            LayerRef::Zip(_) => Err(TemplateError::ZipLayer {
                function_name: function_name.clone(),
                path: layer.clone(),
            }),
            LayerRef::Extension(name) => layers
                .iter()
                .zip(layer_ids)
                .find(|(l, _)| l.extension == name)
                .map(|(_, id)| json!({ "Ref": id }))
                .ok_or_else(|| TemplateError::UnknownExtension {
                    function_name: function_name.clone(),
                    extension: name.to_string(),
                }),
        })
        .collect()
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
    Layer(LayerProperties),
    /// The role: sorted keys read fine there.
    Other(Value),
}

/// `AWS::Lambda::LayerVersion` and `AWS::Serverless::LayerVersion` differ in the code's
/// property only (`Content` / `ContentUri`).
#[derive(Serialize)]
struct LayerProperties {
    #[serde(rename = "LayerName")]
    layer_name: String,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "Content", skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(rename = "ContentUri", skip_serializing_if = "Option::is_none")]
    content_uri: Option<String>,
    #[serde(rename = "CompatibleArchitectures")]
    compatible_architectures: [&'static str; 1],
    #[serde(rename = "CompatibleRuntimes")]
    compatible_runtimes: Vec<&'static str>,
}

impl LayerProperties {
    /// What both formats write alike; the caller sets the content.
    fn common(layer: &TemplateLayer) -> Self {
        LayerProperties {
            // The name `deploy --extension` publishes it under.
            layer_name: layer.extension.clone(),
            description: format!(
                "Lambda extension {} (extensions/{}): {WRITTEN_BY}",
                layer.extension, layer.extension
            ),
            content: None,
            content_uri: None,
            compatible_architectures: [layer.arch.lambda_name()],
            compatible_runtimes: layer.compatible_runtimes.iter().map(|r| r.name()).collect(),
        }
    }
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
    layers: Vec<Value>,
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
    /// What both formats write alike; the caller fills in the rest. `layers`: its `Layers`.
    fn common(function: &TemplateFunction, layers: Vec<Value>) -> Self {
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
            layers,
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

fn outputs(
    functions: &[TemplateFunction],
    layers: &[TemplateLayer],
    ids: &LogicalIds,
) -> BTreeMap<String, Output> {
    let mut outputs = BTreeMap::new();
    for (id, layer) in ids.layers.iter().zip(layers) {
        outputs.insert(
            format!("{id}Arn"),
            Output {
                description: format!("ARN of the layer version of extension {}", layer.extension),
                value: json!({ "Ref": id }),
            },
        );
    }
    for (id, function) in ids.functions.iter().zip(functions) {
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

/// The template of `functions` and the extension `layers` they use, as pretty JSON with a
/// final newline.
pub fn render(
    format: Format,
    functions: &[TemplateFunction],
    layers: &[TemplateLayer],
) -> Result<String, TemplateError> {
    let plan = check(functions, layers)?;
    let template = match format {
        Format::CloudFormation => cloudformation::template(functions, layers, plan),
        Format::Sam => sam::template(functions, layers, plan),
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

    /// The layer of extension `name` and a function `hello` that lists it between two ARNs.
    pub fn with_layer(name: &str) -> (TemplateFunction, TemplateLayer) {
        let mut f = function("hello", Arch::Arm64);
        f.settings.layers = vec![
            "arn:aws:lambda:us-east-1:123456789012:layer:first:1".into(),
            name.into(),
            "arn:aws:lambda:us-east-1:123456789012:layer:last:2".into(),
        ];
        let layer = TemplateLayer {
            extension: name.into(),
            arch: Arch::Arm64,
            compatible_runtimes: vec![Runtime::ProvidedAl2, Runtime::ProvidedAl2023],
            zip: format!("../dist/{name}/layer-arm64.zip"),
            package_args: vec![
                MakeArg::Literal("--extension".into()),
                MakeArg::Literal("--bin".into()),
                MakeArg::Literal(name.into()),
            ],
        };
        (f, layer)
    }

    /// The `Layers` of a template's function `Hello`: an extension's `Ref` between the ARNs,
    /// in the order of the settings.
    pub fn assert_layers_wired(t: &Value, layer_id: &str) {
        assert_eq!(
            t["Resources"]["Hello"]["Properties"]["Layers"],
            json!([
                "arn:aws:lambda:us-east-1:123456789012:layer:first:1",
                {"Ref": layer_id},
                "arn:aws:lambda:us-east-1:123456789012:layer:last:2",
            ])
        );
        assert_eq!(
            t["Outputs"][format!("{layer_id}Arn")]["Value"],
            json!({"Ref": layer_id})
        );
    }

    #[test]
    fn a_layer_named_by_a_function_must_be_given_and_not_a_zip() {
        let (f, layer) = with_layer("logger");
        for format in [Format::CloudFormation, Format::Sam] {
            assert_eq!(
                render(format, std::slice::from_ref(&f), &[]),
                Err(TemplateError::UnknownExtension {
                    function_name: "hello".into(),
                    extension: "logger".into(),
                })
            );
        }
        let mut zipped = f.clone();
        zipped.settings.layers.push("/w/layer.zip".into());
        assert_eq!(
            render(
                Format::CloudFormation,
                &[zipped],
                std::slice::from_ref(&layer)
            ),
            Err(TemplateError::ZipLayer {
                function_name: "hello".into(),
                path: "/w/layer.zip".into(),
            })
        );
        // A layer's paths are checked as a function's are.
        let mut absolute = layer.clone();
        absolute.zip = "/abs/layer.zip".into();
        assert!(matches!(
            render(Format::CloudFormation, std::slice::from_ref(&f), &[absolute]),
            Err(TemplateError::InvalidPath { function_name, .. }) if function_name == "logger"
        ));
        // `logger-layer` the function and `logger`'s layer would both be LoggerLayer.
        let clash = function("logger-layer", Arch::Arm64);
        assert_eq!(
            assign_logical_ids(&[clash], &[layer]).unwrap_err(),
            TemplateError::DuplicateLogicalId {
                logical_id: "LoggerLayer".into(),
                first: "function `logger-layer`".into(),
                second: "the layer of extension `logger`".into(),
            }
        );
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
            assign_logical_ids(&functions, &[]).unwrap_err(),
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
            assign_logical_ids(&functions, &[]),
            Err(TemplateError::DuplicateLogicalId { logical_id, .. }) if logical_id == "ARole"
        ));
        // With a role of its own, `a` makes no `ARole`.
        let mut with_role = functions.clone();
        with_role[0].settings.role = Some("arn:aws:iam::123456789012:role/r".into());
        assert_eq!(
            assign_logical_ids(&with_role, &[]).unwrap().functions,
            ["A", "ARole"]
        );
    }

    #[test]
    fn bad_names_and_paths_are_refused() {
        assert!(matches!(
            assign_logical_ids(&[function("___", Arch::X86_64)], &[]),
            Err(TemplateError::EmptyLogicalId { .. })
        ));
        assert_eq!(
            render(Format::Sam, &[], &[]),
            Err(TemplateError::NoFunctions)
        );
        for bad in ["/abs/lambda.zip", "C:/x.zip", "a\\b.zip", "$(x).zip", ""] {
            let mut f = function("x", Arch::X86_64);
            f.zip = bad.into();
            assert!(
                matches!(
                    render(Format::CloudFormation, &[f], &[]),
                    Err(TemplateError::InvalidPath { .. })
                ),
                "{bad}"
            );
        }
        let mut f = function("x", Arch::X86_64);
        f.package_args
            .push(MakeArg::FromMakefile("../\"quoted\"".into()));
        assert!(render(Format::Sam, &[f], &[]).is_err());
    }

    #[test]
    fn same_settings_same_bytes_and_a_fixed_key_order() {
        let functions = [full(), function("calculate-pi-arm", Arch::Arm64)];
        for format in [Format::CloudFormation, Format::Sam] {
            let a = render(format, &functions, &[]).unwrap();
            assert_eq!(a, render(format, &functions.clone(), &[]).unwrap());
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
            render(Format::CloudFormation, &[reordered], &[]).unwrap(),
            render(Format::CloudFormation, &[full()], &[]).unwrap()
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
