//! AWS SAM: an `AWS::Serverless::Function` per function, built by `sam build` with the Makefile
//! the kit writes into the `CodeUri` folder (`BuildMethod: makefile`): each `build-<LogicalId>`
//! target runs the kit's own `package`, so `sam build` ships the kit's bootstrap, with no
//! cargo-lambda and no container. An extension of the workspace the functions list is an
//! `AWS::Serverless::LayerVersion` built the same way (`package --extension --extract`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{
    check, description, outputs, FunctionProperties, LayerProperties, MakeArg, Plan, Properties,
    Resource, Template, TemplateError, TemplateFunction, TemplateLayer,
};
use crate::command::shell::Shell;
use crate::workspace::settings::Tracing;

/// `CodeUri` of every function: the folder beside the template that holds only the Makefile
/// (`sam build` copies the whole folder before each build, so it must stay small).
pub const CODE_URI: &str = "sam-build";

pub(super) fn template(
    functions: &[TemplateFunction],
    layers: &[TemplateLayer],
    plan: Plan,
) -> Template {
    let mut resources = BTreeMap::new();
    for (layer, id) in layers.iter().zip(&plan.ids.layers) {
        let mut properties = LayerProperties::common(layer);
        properties.content_uri = Some(CODE_URI.to_string());
        resources.insert(
            id.clone(),
            Resource {
                kind: "AWS::Serverless::LayerVersion",
                // A layer's build needs its architecture named (a function's comes from its
                // Architectures).
                metadata: Some(json!({
                    "BuildMethod": "makefile",
                    "BuildArchitecture": layer.arch.lambda_name(),
                })),
                properties: Properties::Layer(properties),
            },
        );
    }
    let ids = &plan.ids.functions;
    for ((function, id), layers) in functions.iter().zip(ids).zip(plan.function_layers) {
        let settings = &function.settings;
        // Without Role, SAM creates `<id>Role` itself (AWSLambdaBasicExecutionRole, and
        // AWSXrayWriteOnlyAccess when Tracing is Active), as the CloudFormation template does.
        let mut properties = FunctionProperties::common(function, layers);
        properties.code_uri = Some(CODE_URI.to_string());
        properties.role = settings.role.clone().map(Value::String);
        properties.tracing = settings.tracing.map(Tracing::mode);
        properties.tags = (!settings.tags.is_empty())
            .then(|| serde_json::to_value(&settings.tags).expect("plain data serializes"));
        // SAM makes `<id>Url` and, for NONE, the public permission from this.
        properties.function_url_config = function.function_url.map(
            |url| json!({ "AuthType": url.auth.name(), "InvokeMode": url.invoke_mode.name() }),
        );
        resources.insert(
            id.clone(),
            Resource {
                kind: "AWS::Serverless::Function",
                metadata: Some(json!({ "BuildMethod": "makefile" })),
                properties: Properties::Function(Box::new(properties)),
            },
        );
    }
    Template {
        version: "2010-09-09",
        transform: Some("AWS::Serverless-2016-10-31"),
        description: description(functions),
        resources,
        outputs: outputs(functions, layers, &plan.ids),
    }
}

/// The Makefile of the `CodeUri` folder: a `build-<LogicalId>` target per function (and per
/// extension layer) that runs `package --extract $(ARTIFACTS_DIR)` from the kit's folder
/// (`kit_dir`, relative to the Makefile's). Paths start from the Makefile's own folder
/// ($(MAKEFILE_LIST)): `sam build` runs make in a scratch copy of the folder.
pub fn render_makefile(
    functions: &[TemplateFunction],
    layers: &[TemplateLayer],
    kit_dir: &str,
) -> Result<String, TemplateError> {
    let ids = check(functions, layers)?.ids;
    if !super::valid_relative(kit_dir) {
        return Err(TemplateError::InvalidPath {
            function_name: "the kit".to_string(),
            path: kit_dir.to_string(),
        });
    }
    let mut out = format!(
        "# Written by cargo xtask template. `sam build` runs `make --makefile <this file>\n\
         # build-<LogicalId>` in a scratch copy of this folder with ARTIFACTS_DIR set, so paths\n\
         # start from this file's own folder. XTASK runs the kit from its folder; set it to a\n\
         # built xtask binary to skip cargo's up-to-date check.\n\
         HERE := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))\n\
         KIT := $(HERE)/{kit_dir}\n\
         XTASK ?= cargo xtask\n\n.PHONY:"
    );
    let targets = layers
        .iter()
        .map(|l| &l.package_args)
        .zip(&ids.layers)
        .chain(
            functions
                .iter()
                .map(|f| &f.package_args)
                .zip(&ids.functions),
        );
    let targets: Vec<(&Vec<MakeArg>, &String)> = targets.collect();
    for (_, id) in &targets {
        out.push_str(&format!(" build-{id}"));
    }
    out.push('\n');
    for (package_args, id) in targets {
        let args: Vec<String> = package_args
            .iter()
            .map(|arg| match arg {
                // make expands `$`: doubled, the shell gets it as written.
                MakeArg::Literal(text) => posix_word(text).replace('$', "$$"),
                MakeArg::FromMakefile(path) => format!("\"$(HERE)/{path}\""),
            })
            .collect();
        out.push_str(&format!(
            "\nbuild-{id}:\n\tcd \"$(KIT)\" && $(XTASK) package {} --extract \"$(ARTIFACTS_DIR)\"\n",
            args.join(" ")
        ));
    }
    Ok(out)
}

/// A word for make's recipe shell (`/bin/sh`). No setting the kit writes holds a NUL, the one
/// byte a POSIX shell cannot quote.
fn posix_word(text: &str) -> String {
    Shell::Posix
        .quote(&text.replace('\0', ""))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::arch::Arch;
    use crate::template::tests::{assert_layers_wired, full, function, parse, with_layer};
    use crate::template::{render, Format};

    #[test]
    fn a_function_url_is_sams_function_url_config() {
        use crate::workspace::function_url::{InvokeMode, UrlAuth, UrlSettings};
        let mut f = function("F", Arch::X86_64);
        f.function_url = Some(UrlSettings {
            auth: UrlAuth::None,
            invoke_mode: InvokeMode::ResponseStream,
        });
        let t = parse(&render(Format::Sam, &[f], &[]).unwrap());
        assert_eq!(
            t["Resources"]["F"]["Properties"]["FunctionUrlConfig"],
            json!({"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"})
        );
        assert_eq!(
            t["Outputs"]["FFunctionUrl"]["Value"],
            json!({"Fn::GetAtt": ["FUrl", "FunctionUrl"]})
        );
    }

    #[test]
    fn a_serverless_function_built_by_make() {
        let t = parse(&render(Format::Sam, &[full()], &[]).unwrap());
        assert_eq!(t["Transform"], "AWS::Serverless-2016-10-31");
        let f = &t["Resources"]["CalculatePi"];
        assert_eq!(f["Type"], "AWS::Serverless::Function");
        assert_eq!(f["Metadata"], json!({"BuildMethod": "makefile"}));
        let p = &f["Properties"];
        assert_eq!(p["CodeUri"], CODE_URI);
        assert_eq!(p["Handler"], "bootstrap");
        assert_eq!(p["Architectures"], json!(["x86_64"]));
        assert_eq!(p["Tracing"], "Active");
        assert_eq!(p["Tags"], json!({"project": "pi", "team": "rust"}));
        assert_eq!(
            p["Layers"],
            json!(["arn:aws:lambda:us-east-1:123456789012:layer:l:3"])
        );
        // SAM makes the role itself.
        assert!(p.get("Role").is_none() && p.get("Code").is_none());
        assert_eq!(t["Resources"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn an_extension_of_the_workspace_is_a_serverless_layer_built_by_make() {
        let (f, layer) = with_layer("logger");
        let t = parse(
            &render(
                Format::Sam,
                std::slice::from_ref(&f),
                std::slice::from_ref(&layer),
            )
            .unwrap(),
        );
        let l = &t["Resources"]["LoggerLayer"];
        assert_eq!(l["Type"], "AWS::Serverless::LayerVersion");
        assert_eq!(
            l["Metadata"],
            json!({"BuildMethod": "makefile", "BuildArchitecture": "arm64"})
        );
        assert_eq!(l["Properties"]["ContentUri"], CODE_URI);
        assert_eq!(l["Properties"]["LayerName"], "logger");
        assert!(l["Properties"].get("Content").is_none());
        assert_layers_wired(&t, "LoggerLayer");
        let make = render_makefile(&[f], &[layer], "..").unwrap();
        assert!(
            make.contains("\n.PHONY: build-LoggerLayer build-Hello\n"),
            "{make}"
        );
        assert!(make.contains(
            "\nbuild-LoggerLayer:\n\tcd \"$(KIT)\" && $(XTASK) package --extension --bin logger \
             --extract \"$(ARTIFACTS_DIR)\"\n"
        ));
    }

    #[test]
    fn the_makefile_runs_the_kit_for_each_function() {
        let mut arm = function("calculate-pi-arm64", Arch::Arm64);
        arm.package_args.extend([
            MakeArg::Literal("--manifest-path".into()),
            MakeArg::FromMakefile("../other ws/Cargo.toml".into()),
            MakeArg::Literal("--include".into()),
            MakeArg::Literal("a $dollar".into()),
        ]);
        let functions = [function("calculate-pi", Arch::X86_64), arm];
        let make = render_makefile(&functions, &[], "../..").unwrap();
        assert!(make.contains("\nHERE := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))\n"));
        assert!(make.contains("\nKIT := $(HERE)/../..\nXTASK ?= cargo xtask\n"));
        assert!(make.contains("\n.PHONY: build-CalculatePi build-CalculatePiArm64\n"));
        assert!(make.contains(
            "\nbuild-CalculatePi:\n\tcd \"$(KIT)\" && $(XTASK) package --arch x86_64 \
             --extract \"$(ARTIFACTS_DIR)\"\n"
        ));
        assert!(make.ends_with(
            "\nbuild-CalculatePiArm64:\n\tcd \"$(KIT)\" && $(XTASK) package --arch arm64 \
             --manifest-path \"$(HERE)/../other ws/Cargo.toml\" --include 'a $$dollar' \
             --extract \"$(ARTIFACTS_DIR)\"\n"
        ));
        // make wants tabs before recipe lines.
        assert_eq!(make.lines().filter(|l| l.starts_with("\tcd ")).count(), 2);
        assert!(render_makefile(&functions, &[], "/abs").is_err());
    }
}
