//! Plain CloudFormation: an `AWS::Lambda::Function` per function whose `Code` is the kit's zip
//! (a local path that `aws cloudformation package` uploads and rewrites), and an
//! `AWS::IAM::Role` for each function that has no role configured; an `AWS::Lambda::LayerVersion`
//! per extension of the workspace the functions list (its `Content` the kit's layer zip, which
//! `aws cloudformation package` uploads too).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{
    description, get_att_arn, outputs, role_logical_id, url_logical_id, FunctionProperties,
    LayerProperties, Plan, Properties, Resource, Template, TemplateFunction, TemplateLayer,
};
use crate::workspace::function_url::{UrlAuth, UrlSettings};
use crate::workspace::settings::Tracing;

pub(super) fn template(
    functions: &[TemplateFunction],
    layers: &[TemplateLayer],
    plan: Plan,
) -> Template {
    let mut resources = BTreeMap::new();
    for (layer, id) in layers.iter().zip(&plan.ids.layers) {
        let mut properties = LayerProperties::common(layer);
        // Uploaded by `aws cloudformation package` as a function's `Code` is.
        properties.content = Some(layer.zip.clone());
        resources.insert(
            id.clone(),
            Resource {
                kind: "AWS::Lambda::LayerVersion",
                metadata: None,
                properties: Properties::Layer(properties),
            },
        );
    }
    let ids = &plan.ids.functions;
    for ((function, id), layers) in functions.iter().zip(ids).zip(plan.function_layers) {
        let settings = &function.settings;
        let mut properties = FunctionProperties::common(function, layers);
        // `aws cloudformation package` uploads the zip and writes {S3Bucket, S3Key = the zip's
        // MD5} here: an unchanged zip keeps the same key, so a redeploy changes nothing.
        properties.code = Some(function.zip.clone());
        properties.role = Some(match &settings.role {
            Some(arn) => Value::String(arn.clone()),
            None => {
                resources.insert(role_logical_id(id), role(function));
                get_att_arn(&role_logical_id(id))
            }
        });
        properties.tracing_config = settings.tracing.map(|t| json!({ "Mode": t.mode() }));
        properties.tags = (!settings.tags.is_empty()).then(|| tag_list(&settings.tags));
        resources.insert(
            id.clone(),
            Resource {
                kind: "AWS::Lambda::Function",
                metadata: None,
                properties: Properties::Function(Box::new(properties)),
            },
        );
        if let Some(url) = function.function_url {
            resources.extend(url_resources(id, url));
        }
    }
    Template {
        version: "2010-09-09",
        transform: None,
        description: description(functions),
        resources,
        outputs: outputs(functions, layers, &plan.ids),
    }
}

/// A function URL: `AWS::Lambda::Url`, and for a public one (`NONE`) the two permissions it
/// needs since October 2025 (`lambda:InvokeFunctionUrl` for the auth type NONE, and
/// `lambda:InvokeFunction` invoked via the URL), as `deploy --function-url` adds them.
fn url_resources(id: &str, url: UrlSettings) -> Vec<(String, Resource)> {
    let mut resources = vec![(
        url_logical_id(id),
        Resource {
            kind: "AWS::Lambda::Url",
            metadata: None,
            properties: Properties::Other(json!({
                "TargetFunctionArn": get_att_arn(id),
                "AuthType": url.auth.name(),
                "InvokeMode": url.invoke_mode.name(),
            })),
        },
    )];
    if url.auth == UrlAuth::None {
        let permission = |extra: Value| {
            let mut properties = json!({
                "FunctionName": { "Ref": id },
                "Principal": "*",
            });
            let map = properties.as_object_mut().expect("an object");
            map.extend(extra.as_object().expect("an object").clone());
            Resource {
                kind: "AWS::Lambda::Permission",
                metadata: None,
                properties: Properties::Other(properties),
            }
        };
        resources.push((
            format!("{id}UrlPublicAccess"),
            permission(json!({
                "Action": "lambda:InvokeFunctionUrl",
                "FunctionUrlAuthType": "NONE",
            })),
        ));
        resources.push((
            format!("{id}UrlInvokeAccess"),
            permission(json!({
                "Action": "lambda:InvokeFunction",
                "InvokedViaFunctionUrl": true,
            })),
        ));
    }
    resources
}

fn managed_policy(path: &str) -> Value {
    json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:iam::aws:policy/{path}") })
}

/// The execution role of a function without `role`: Lambda's trust policy, CloudWatch Logs, and
/// X-Ray when tracing is Active (the policies SAM attaches too). No `RoleName`: CloudFormation
/// then names it `<stack>-<LogicalId>-<random>`, unique in the account (role names are
/// account-wide), and CAPABILITY_IAM is enough (a name would need CAPABILITY_NAMED_IAM).
fn role(function: &TemplateFunction) -> Resource {
    let mut policies = vec![managed_policy("service-role/AWSLambdaBasicExecutionRole")];
    if function.settings.tracing == Some(Tracing::Active) {
        policies.push(managed_policy("AWSXrayWriteOnlyAccess"));
    }
    let mut properties = json!({
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": "lambda.amazonaws.com" },
                "Action": "sts:AssumeRole",
            }],
        },
        "ManagedPolicyArns": policies,
    });
    if !function.settings.tags.is_empty() {
        properties["Tags"] = tag_list(&function.settings.tags);
    }
    Resource {
        kind: "AWS::IAM::Role",
        metadata: None,
        properties: Properties::Other(properties),
    }
}

/// CloudFormation's tag list, sorted by key.
fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::arch::Arch;
    use crate::template::tests::{assert_layers_wired, full, function, parse, with_layer};
    use crate::template::{render, Format};

    #[test]
    fn a_function_and_its_role() {
        let t = parse(&render(Format::CloudFormation, &[full()], &[]).unwrap());
        assert!(t.get("Transform").is_none());
        let f = &t["Resources"]["CalculatePi"];
        assert_eq!(f["Type"], "AWS::Lambda::Function");
        let p = &f["Properties"];
        assert_eq!(p["FunctionName"], "calculate-pi");
        assert_eq!(p["Code"], "../dist/lambda-x86_64.zip");
        assert_eq!(p["Handler"], "bootstrap");
        assert_eq!(p["Runtime"], "provided.al2023");
        assert_eq!(p["Architectures"], json!(["x86_64"]));
        assert_eq!(p["MemorySize"], 256);
        assert_eq!(p["Timeout"], 30);
        assert_eq!(
            p["Environment"]["Variables"],
            json!({"DIGITS": "1000", "RUST_LOG": "info"})
        );
        assert_eq!(
            p["Tags"],
            json!([{"Key": "project", "Value": "pi"}, {"Key": "team", "Value": "rust"}])
        );
        assert_eq!(
            p["Layers"],
            json!(["arn:aws:lambda:us-east-1:123456789012:layer:l:3"])
        );
        assert_eq!(p["TracingConfig"], json!({"Mode": "Active"}));
        assert_eq!(p["Description"], "Computes digits of pi");
        assert_eq!(p["Role"], json!({"Fn::GetAtt": ["CalculatePiRole", "Arn"]}));
        let role = &t["Resources"]["CalculatePiRole"];
        assert_eq!(role["Type"], "AWS::IAM::Role");
        assert!(role["Properties"].get("RoleName").is_none());
        assert_eq!(
            role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );
        // Tracing is Active: X-Ray's policy beside CloudWatch Logs'.
        assert_eq!(
            role["Properties"]["ManagedPolicyArns"][1],
            json!({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess"})
        );
        assert_eq!(
            t["Outputs"]["CalculatePiArn"]["Value"],
            json!({"Fn::GetAtt": ["CalculatePi", "Arn"]})
        );
    }

    #[test]
    fn a_function_url_and_the_two_permissions_of_a_public_one() {
        use crate::workspace::function_url::{InvokeMode, UrlAuth, UrlSettings};
        let mut f = function("F", Arch::X86_64);
        f.function_url = Some(UrlSettings {
            auth: UrlAuth::None,
            invoke_mode: InvokeMode::ResponseStream,
        });
        let t = parse(&render(Format::CloudFormation, &[f.clone()], &[]).unwrap());
        let r = &t["Resources"];
        assert_eq!(r["FUrl"]["Type"], "AWS::Lambda::Url");
        assert_eq!(
            r["FUrl"]["Properties"],
            json!({"TargetFunctionArn": {"Fn::GetAtt": ["F", "Arn"]}, "AuthType": "NONE",
                   "InvokeMode": "RESPONSE_STREAM"})
        );
        assert_eq!(
            r["FUrlPublicAccess"]["Properties"],
            json!({"FunctionName": {"Ref": "F"}, "Principal": "*",
                   "Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "NONE"})
        );
        assert_eq!(
            r["FUrlInvokeAccess"]["Properties"],
            json!({"FunctionName": {"Ref": "F"}, "Principal": "*",
                   "Action": "lambda:InvokeFunction", "InvokedViaFunctionUrl": true})
        );
        assert_eq!(
            t["Outputs"]["FFunctionUrl"]["Value"],
            json!({"Fn::GetAtt": ["FUrl", "FunctionUrl"]})
        );
        // AWS_IAM: the URL alone.
        f.function_url = Some(UrlSettings {
            auth: UrlAuth::AwsIam,
            invoke_mode: InvokeMode::Buffered,
        });
        let t = parse(&render(Format::CloudFormation, &[f], &[]).unwrap());
        let kinds: Vec<&str> = t["Resources"]
            .as_object()
            .unwrap()
            .values()
            .map(|r| r["Type"].as_str().unwrap())
            .collect();
        assert!(!kinds.contains(&"AWS::Lambda::Permission"), "{kinds:?}");
        assert!(kinds.contains(&"AWS::Lambda::Url"), "{kinds:?}");
    }

    #[test]
    fn an_extension_of_the_workspace_is_a_layer_version_the_function_refers_to() {
        let (f, layer) = with_layer("logger");
        let t = parse(&render(Format::CloudFormation, &[f], &[layer]).unwrap());
        let l = &t["Resources"]["LoggerLayer"];
        assert_eq!(l["Type"], "AWS::Lambda::LayerVersion");
        assert_eq!(
            l["Properties"],
            json!({
                "LayerName": "logger",
                "Description": "Lambda extension logger (extensions/logger): written by cargo \
                                xtask template",
                "Content": "../dist/logger/layer-arm64.zip",
                "CompatibleArchitectures": ["arm64"],
                "CompatibleRuntimes": ["provided.al2", "provided.al2023"],
            })
        );
        assert_layers_wired(&t, "LoggerLayer");
    }

    #[test]
    fn a_configured_role_means_no_role_resource() {
        let mut f = full();
        f.settings.role = Some("arn:aws:iam::123456789012:role/lambda".into());
        for format in [Format::CloudFormation, Format::Sam] {
            let t = parse(&render(format, &[f.clone()], &[]).unwrap());
            assert_eq!(t["Resources"].as_object().unwrap().len(), 1);
            assert_eq!(
                t["Resources"]["CalculatePi"]["Properties"]["Role"],
                "arn:aws:iam::123456789012:role/lambda"
            );
        }
    }

    #[test]
    fn unset_settings_are_left_out() {
        let t = parse(&render(Format::CloudFormation, &[function("f", Arch::Arm64)], &[]).unwrap());
        let p = t["Resources"]["F"]["Properties"].as_object().unwrap();
        for absent in [
            "Description",
            "Environment",
            "Layers",
            "Tags",
            "TracingConfig",
        ] {
            assert!(!p.contains_key(absent), "{absent}");
        }
        assert_eq!(p["Architectures"], json!(["arm64"]));
        let role = &t["Resources"]["FRole"]["Properties"];
        assert_eq!(role["ManagedPolicyArns"].as_array().unwrap().len(), 1);
        assert!(role.get("Tags").is_none());
    }

    #[test]
    fn two_architectures_in_one_template() {
        let functions = [
            function("calculate-pi", Arch::X86_64),
            function("calculate-pi-arm64", Arch::Arm64),
        ];
        let t = parse(&render(Format::CloudFormation, &functions, &[]).unwrap());
        let ids: Vec<&String> = t["Resources"].as_object().unwrap().keys().collect();
        assert_eq!(
            ids,
            [
                "CalculatePi",
                "CalculatePiArm64",
                "CalculatePiArm64Role",
                "CalculatePiRole"
            ]
        );
        assert_eq!(
            t["Resources"]["CalculatePiArm64"]["Properties"]["Code"],
            "../dist/lambda-arm64.zip"
        );
    }
}
