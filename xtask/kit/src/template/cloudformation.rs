//! Plain CloudFormation: an `AWS::Lambda::Function` per function whose `Code` is the kit's zip
//! (a local path that `aws cloudformation package` uploads and rewrites), and an
//! `AWS::IAM::Role` for each function that has no role configured.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{
    description, get_att_arn, outputs, role_logical_id, FunctionProperties, Properties, Resource,
    Template, TemplateFunction,
};
use crate::workspace::settings::Tracing;

pub(super) fn template(functions: &[TemplateFunction], ids: &[String]) -> Template {
    let mut resources = BTreeMap::new();
    for (function, id) in functions.iter().zip(ids) {
        let settings = &function.settings;
        let mut properties = FunctionProperties::common(function);
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
    }
    Template {
        version: "2010-09-09",
        transform: None,
        description: description(functions),
        resources,
        outputs: outputs(functions, ids),
    }
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
    use crate::template::tests::{full, function, parse};
    use crate::template::{render, Format};

    #[test]
    fn a_function_and_its_role() {
        let t = parse(&render(Format::CloudFormation, &[full()]).unwrap());
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
    fn a_configured_role_means_no_role_resource() {
        let mut f = full();
        f.settings.role = Some("arn:aws:iam::123456789012:role/lambda".into());
        for format in [Format::CloudFormation, Format::Sam] {
            let t = parse(&render(format, &[f.clone()]).unwrap());
            assert_eq!(t["Resources"].as_object().unwrap().len(), 1);
            assert_eq!(
                t["Resources"]["CalculatePi"]["Properties"]["Role"],
                "arn:aws:iam::123456789012:role/lambda"
            );
        }
    }

    #[test]
    fn unset_settings_are_left_out() {
        let t = parse(&render(Format::CloudFormation, &[function("f", Arch::Arm64)]).unwrap());
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
        let t = parse(&render(Format::CloudFormation, &functions).unwrap());
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
