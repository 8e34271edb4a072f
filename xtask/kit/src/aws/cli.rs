//! The `aws` CLI commands the kit prints and runs. One renderer serves both, so that the
//! command a user copies is the very command `deploy` runs and the tests exercise.

use std::path::Path;

use clap::Args;

use crate::arch::Arch;
use crate::artifact::deployment::DeploymentZip;
use crate::artifact::layer::LayerZip;
use crate::command::{Cmd, EnvRef, Result, Word};
use crate::validate;
use crate::workspace::settings::{FunctionSettings, Tracing, ROLE_VARIABLE};

/// The aws commands are [`Cmd`]s whose program is `aws`.
pub type AwsCommand = Cmd;

/// `fileb://` URL for a zip, relative to `cwd` when the zip is below it (so that the printed
/// command reads `fileb://dist/lambda-x86_64.zip` from the project root).
pub fn fileb_url(zip: &Path, cwd: &Path) -> String {
    format!("fileb://{}", crate::paths::shown_from(zip, cwd))
}

/// The folder of a zip, where the files of the printed commands go.
pub fn zip_dir(zip: &Path) -> &Path {
    zip.parent().unwrap_or(Path::new("."))
}

/// The commands printed for a deployment zip: create the function, or update the code of an
/// existing one. `deploy` runs these very commands.
#[derive(Debug, Clone)]
pub struct ZipCommands {
    pub create_function: AwsCommand,
    pub update_function_code: AwsCommand,
}

impl ZipCommands {
    /// The commands for `zip`, on the runtime its bootstrap was checked for.
    pub fn new(zip: &DeploymentZip, settings: &FunctionSettings, cwd: &Path) -> Self {
        let settings = FunctionSettings {
            runtime: zip.runtime,
            ..settings.clone()
        };
        Self::for_path(&zip.path, zip.arch, &settings, cwd)
    }

    /// The commands for a zip on disk; the files of JSON values that some shells cannot pass
    /// go beside the zip.
    pub fn for_path(zip: &Path, arch: Arch, settings: &FunctionSettings, cwd: &Path) -> Self {
        let url = fileb_url(zip, cwd);
        let dir = zip_dir(zip);
        ZipCommands {
            create_function: create_function(settings, arch, &url).place_files(dir, cwd),
            update_function_code: update_function_code(settings, arch, &url).place_files(dir, cwd),
        }
    }

    pub fn all(&self) -> impl Iterator<Item = &Cmd> {
        [&self.create_function, &self.update_function_code].into_iter()
    }
}

/// `--role` with the settings' role, or with `$LAMBDA_ROLE_ARN` read by the shell (which stops
/// with a message when it is unset) when there is none.
fn with_role(command: Cmd, settings: &FunctionSettings) -> Cmd {
    match &settings.role {
        Some(role) => command.option("--role", role),
        None => command.value_option("--role", Word::Env(role_variable())),
    }
}

/// `$LAMBDA_ROLE_ARN` as the printed commands read it.
pub fn role_variable() -> EnvRef {
    EnvRef::new(ROLE_VARIABLE, "the execution role ARN")
}

pub fn create_function(settings: &FunctionSettings, arch: Arch, zip_url: &str) -> AwsCommand {
    let command = Cmd::aws(&["lambda", "create-function"])
        .option("--function-name", &settings.function_name)
        .option("--runtime", settings.runtime.name())
        .option("--architectures", arch.lambda_name())
        .option("--handler", "bootstrap")
        .option("--memory-size", settings.memory_size.to_string())
        .option("--timeout", settings.timeout.to_string())
        .option("--zip-file", zip_url)
        .configuration(settings);
    with_role(command, settings)
}

/// `update-function-configuration` with every setting the kit manages, for `deploy` to bring an
/// existing function in line with them.
pub fn update_function_configuration(settings: &FunctionSettings) -> AwsCommand {
    Cmd::aws(&["lambda", "update-function-configuration"])
        .option("--function-name", &settings.function_name)
        .option("--runtime", settings.runtime.name())
        .option("--memory-size", settings.memory_size.to_string())
        .option("--timeout", settings.timeout.to_string())
        // An empty map clears variables that were removed from the settings.
        .value_option("--environment", environment_word(&settings.environment))
        .option(
            "--tracing-config",
            format!(
                "Mode={}",
                settings.tracing.unwrap_or(Tracing::PassThrough).mode()
            ),
        )
        // Empty clears it; PowerShell 5.1 would drop an empty argument, so it can be a file.
        .value_option(
            "--description",
            Word::file_backed(
                settings.description.clone().unwrap_or_default(),
                "description.txt",
            ),
        )
        .layers(&settings.layers)
}

/// The environment as JSON, passed in `environment.json` where the shell cannot carry it.
fn environment_word(variables: &std::collections::BTreeMap<String, String>) -> Word {
    Word::file_backed(environment_json(variables), "environment.json")
}

/// `{"Variables":{...}}`: JSON rather than the CLI's shorthand, which cannot carry commas or
/// `=` in values.
pub fn environment_json(variables: &std::collections::BTreeMap<String, String>) -> String {
    serde_json::json!({ "Variables": variables }).to_string()
}

impl AwsCommand {
    /// The optional settings, each only when set (create-function starts from nothing).
    fn configuration(mut self, settings: &FunctionSettings) -> Self {
        if !settings.environment.is_empty() {
            self = self.value_option("--environment", environment_word(&settings.environment));
        }
        if !settings.tags.is_empty() {
            self = self.value_option(
                "--tags",
                Word::file_backed(
                    serde_json::to_string(&settings.tags).unwrap_or_default(),
                    "tags.json",
                ),
            );
        }
        if let Some(tracing) = settings.tracing {
            self = self.option("--tracing-config", format!("Mode={}", tracing.mode()));
        }
        if let Some(description) = &settings.description {
            self = self.value_option(
                "--description",
                Word::file_backed(description.clone(), "description.txt"),
            );
        }
        self.layers(&settings.layers)
    }

    /// `--layers A B`: one option, a value per layer; none when there are no layers (the CLI
    /// refuses `--layers` without a value, so layers set by hand are left as they are).
    fn layers(self, layers: &[String]) -> Self {
        if layers.is_empty() {
            return self;
        }
        let mut line = vec![Word::lit("--layers")];
        line.extend(layers.iter().map(Word::lit));
        self.line(line)
    }
}

/// `publish-layer-version` of an extension layer: named after the extension, for its
/// architecture and the runtimes its binary runs on. The answer carries `LayerVersionArn`.
pub fn publish_layer_version(layer: &LayerZip, cwd: &Path) -> AwsCommand {
    let mut runtimes = vec![Word::lit("--compatible-runtimes")];
    runtimes.extend(
        layer
            .compatible_runtimes
            .iter()
            .map(|r| Word::lit(r.name())),
    );
    Cmd::aws(&["lambda", "publish-layer-version"])
        .option("--layer-name", &layer.extension)
        .option("--compatible-architectures", layer.arch.lambda_name())
        .line(runtimes)
        .option("--zip-file", fileb_url(&layer.path, cwd))
}

pub fn update_function_code(settings: &FunctionSettings, arch: Arch, zip_url: &str) -> AwsCommand {
    Cmd::aws(&["lambda", "update-function-code"])
        .option("--function-name", &settings.function_name)
        .option("--architectures", arch.lambda_name())
        .option("--zip-file", zip_url)
}

/// `create-function` for a container image (`--package-type Image`): no runtime and no handler,
/// the image's entrypoint is the bootstrap. `image_uri` is a literal URI or a shell expansion.
pub fn create_image_function(
    settings: &FunctionSettings,
    arch: Arch,
    image_uri: &Word,
) -> AwsCommand {
    let command = Cmd::aws(&["lambda", "create-function"])
        .option("--function-name", &settings.function_name)
        .option("--package-type", "Image")
        .value_option("--code", image_uri_value("ImageUri=", image_uri))
        .option("--architectures", arch.lambda_name())
        .option("--memory-size", settings.memory_size.to_string())
        .option("--timeout", settings.timeout.to_string());
    with_role(command, settings)
}

/// `update-function-code` of an image function: points it at another image.
pub fn update_function_image(
    settings: &FunctionSettings,
    arch: Arch,
    image_uri: &Word,
) -> AwsCommand {
    Cmd::aws(&["lambda", "update-function-code"])
        .option("--function-name", &settings.function_name)
        .option("--architectures", arch.lambda_name())
        .value_option("--image-uri", image_uri_value("", image_uri))
}

/// `prefix` + the URI: one literal, or the variable with the prefix before it.
fn image_uri_value(prefix: &str, image_uri: &Word) -> Word {
    match image_uri {
        Word::Env(env) => Word::Env(env.clone().around(prefix, "")),
        Word::Literal(uri) | Word::FileBacked { text: uri, .. } => {
            Word::Literal(format!("{prefix}{uri}"))
        }
    }
}

/// Global options of the `aws` CLI that point it at an account's region or another endpoint.
/// Absent ones are left to the user's own configuration (profile, `AWS_REGION`, …).
#[derive(Debug, Clone, Default, Args, serde::Serialize)]
pub struct GlobalOptions {
    /// AWS region for the aws CLI [default: the CLI's own configuration].
    #[arg(long, value_parser = validate::region)]
    pub region: Option<String>,
    /// Send the requests to this endpoint instead of AWS (a mock such as moto, LocalStack).
    #[arg(long, value_parser = validate::endpoint_url)]
    pub endpoint_url: Option<String>,
}

impl AwsCommand {
    /// Appends the global options that are set (`--region`, `--endpoint-url`).
    pub fn with_globals(mut self, globals: &GlobalOptions) -> Self {
        if let Some(region) = &globals.region {
            self = self.option("--region", region);
        }
        if let Some(url) = &globals.endpoint_url {
            self = self.option("--endpoint-url", url);
        }
        self
    }
}

pub fn get_function(function_name: &str) -> AwsCommand {
    Cmd::aws(&["lambda", "get-function"]).option("--function-name", function_name)
}

/// `aws lambda wait <waiter>`: `function-active-v2` after create-function,
/// `function-updated-v2` after update-function-code (both poll GetFunction).
pub fn wait(waiter: &str, function_name: &str) -> AwsCommand {
    Cmd::aws(&["lambda", "wait", waiter]).option("--function-name", function_name)
}

/// The major version of an installed AWS CLI; the two disagree on blob arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CliMajor {
    V1,
    V2,
}

/// Reads the major version from `aws --version` output ("aws-cli/1.46.3 Python/3.11.7 …",
/// "aws-cli/2.17.0 Python/3.11.9 …"); `None` for anything else.
pub fn parse_cli_version(output: &str) -> Option<CliMajor> {
    let rest = output
        .split_whitespace()
        .find_map(|w| w.strip_prefix("aws-cli/"))?;
    let (major, rest) = rest.split_once('.')?;
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    match major {
        "1" => Some(CliMajor::V1),
        "2" => Some(CliMajor::V2),
        _ => None,
    }
}

/// Where the payload is read from in shells that cannot pass JSON (PowerShell): beside the zip.
pub const INVOKE_PAYLOAD_FILE: &str = "invoke-payload.json";
/// Where the printed invoke command writes the function's response.
pub const INVOKE_OUTFILE: &str = "response.json";

/// `aws lambda invoke` with a JSON payload, in the form `major` accepts: v2 reads a blob
/// argument as base64 unless told `--cli-binary-format raw-in-base64-out`, an option v1 refuses.
/// The output file comes last, after `globals`.
pub fn invoke(
    function_name: &str,
    payload: &str,
    outfile: &str,
    major: CliMajor,
    globals: &GlobalOptions,
) -> AwsCommand {
    let command = Cmd::aws(&["lambda", "invoke"]).option("--function-name", function_name);
    let command = match major {
        CliMajor::V2 => command.option("--cli-binary-format", "raw-in-base64-out"),
        CliMajor::V1 => command,
    };
    command
        .value_option("--payload", Word::file_backed(payload, INVOKE_PAYLOAD_FILE))
        .with_globals(globals)
        .arg(outfile)
}

/// How to invoke the function and read its answer: the form of the installed CLI, or both
/// forms, labelled, when its version is unknown (`installed` is `None`).
#[derive(Debug, Clone)]
pub struct InvokeHint {
    pub installed: Option<CliMajor>,
    pub forms: Vec<(CliMajor, Cmd)>,
}

impl InvokeHint {
    /// The commands that send `payload` (the function's own event, see [`crate::events`]).
    pub fn with_payload(
        function_name: &str,
        payload: &str,
        globals: &GlobalOptions,
        installed: Option<CliMajor>,
    ) -> Self {
        let majors = match installed {
            Some(major) => vec![major],
            None => vec![CliMajor::V2, CliMajor::V1],
        };
        let forms = majors
            .into_iter()
            .map(|major| {
                let command = invoke(function_name, payload, INVOKE_OUTFILE, major, globals);
                (major, command)
            })
            .collect();
        InvokeHint { installed, forms }
    }

    /// Changes every form with `f` (adds environment variables, …).
    pub fn map(mut self, f: impl Fn(Cmd) -> Cmd) -> Self {
        self.forms = self.forms.into_iter().map(|(m, c)| (m, f(c))).collect();
        self
    }

    /// Puts the payload file (for shells that cannot pass JSON) in `dir`.
    pub fn place_files(mut self, dir: &Path, cwd: &Path) -> Self {
        self.forms = self
            .forms
            .into_iter()
            .map(|(major, command)| (major, command.place_files(dir, cwd)))
            .collect();
        self
    }

    pub fn commands(&self) -> impl Iterator<Item = &Cmd> {
        self.forms.iter().map(|(_, command)| command)
    }

    /// "Invoke it …:" and the command(s), then how to show the response.
    pub fn render(&self, shell: crate::command::Shell) -> Result<String> {
        let label = |major| if major == CliMajor::V2 { "v2" } else { "v1" };
        let mut out = String::new();
        for (i, (major, command)) in self.forms.iter().enumerate() {
            let heading = match (self.installed, i) {
                (Some(_), _) => format!("Invoke it (AWS CLI {}, as installed):", label(*major)),
                (None, 0) => format!("Invoke it, with AWS CLI {}:", label(*major)),
                (None, _) => format!("\n\nor with AWS CLI {}:", label(*major)),
            };
            out.push_str(&heading);
            out.push_str("\n\n");
            out.push_str(&command.render(shell)?);
        }
        let show = Cmd::new(
            match shell {
                crate::command::Shell::Posix => "cat",
                crate::command::Shell::PowerShell => "Get-Content",
                crate::command::Shell::Cmd => "type",
            },
            &[INVOKE_OUTFILE],
        );
        out.push_str(&format!("\n\n{}\n", show.render(shell)?));
        Ok(out)
    }
}

/// The trust policy that lets Lambda assume an execution role.
pub const LAMBDA_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// The AWS managed policy that lets a function write its logs to CloudWatch.
pub const BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// The two commands that make an execution role for the function: the role, trusted by
/// Lambda, then the basic execution policy attached to it.
pub fn create_execution_role(role_name: &str) -> [AwsCommand; 2] {
    [
        Cmd::aws(&["iam", "create-role"])
            .option("--role-name", role_name)
            .value_option(
                "--assume-role-policy-document",
                Word::file_backed(LAMBDA_TRUST_POLICY, "trust-policy.json"),
            ),
        Cmd::aws(&["iam", "attach-role-policy"])
            .option("--role-name", role_name)
            .option("--policy-arn", BASIC_EXECUTION_POLICY),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Shell;
    use std::path::PathBuf;

    fn shell_quote(word: &str) -> String {
        Shell::Posix.quote(word).unwrap()
    }

    fn settings(role: Option<&str>) -> FunctionSettings {
        FunctionSettings {
            role: role.map(str::to_string),
            ..FunctionSettings::defaults("calculate-pi")
        }
    }

    #[test]
    fn optional_settings_reach_create_and_configuration_commands_quoted() {
        let settings = FunctionSettings {
            environment: [
                ("A".to_string(), "1,2".to_string()),
                ("B".to_string(), "x y".to_string()),
            ]
            .into(),
            tags: [("team".to_string(), "pi".to_string())].into(),
            layers: vec!["arn:aws:lambda:us-east-1:123456789012:layer:l:1".into()],
            tracing: Some(Tracing::Active),
            description: Some("it's pi".into()),
            ..settings(Some("arn:aws:iam::123456789012:role/r"))
        };
        let create = create_function(&settings, Arch::X86_64, "fileb://z.zip");
        let argv = create.argv().unwrap();
        let after = |flag: &str| argv[argv.iter().position(|a| a == flag).unwrap() + 1].clone();
        assert_eq!(
            after("--environment"),
            r#"{"Variables":{"A":"1,2","B":"x y"}}"#
        );
        assert_eq!(after("--tags"), r#"{"team":"pi"}"#);
        assert_eq!(after("--tracing-config"), "Mode=Active");
        assert_eq!(after("--description"), "it's pi");
        assert_eq!(
            after("--layers"),
            "arn:aws:lambda:us-east-1:123456789012:layer:l:1"
        );
        let text = create.render(Shell::Posix).unwrap();
        assert!(
            text.contains(r#"--environment '{"Variables":{"A":"1,2","B":"x y"}}'"#),
            "{text}"
        );
        let update = update_function_configuration(&FunctionSettings::defaults("pi"))
            .argv()
            .unwrap();
        // Nothing set: variables and the description are cleared, tracing back to PassThrough.
        assert!(!update.contains(&"--layers".to_string()));
        assert!(update.contains(&r#"{"Variables":{}}"#.to_string()));
        assert!(update.contains(&"Mode=PassThrough".to_string()));
    }

    #[test]
    fn create_function_renders_as_a_copyable_multi_line_command() {
        let role = "arn:aws:iam::123456789012:role/lambda-basic";
        let command = create_function(
            &settings(Some(role)),
            Arch::Arm64,
            "fileb://dist/lambda-arm64.zip",
        );
        let text = command.render(Shell::Posix).unwrap();
        assert_eq!(
            text,
            "aws lambda create-function \\\n  --function-name calculate-pi \\\n  --runtime provided.al2 \\\n  \
             --architectures arm64 \\\n  --handler bootstrap \\\n  --memory-size 128 \\\n  --timeout 30 \\\n  \
             --zip-file fileb://dist/lambda-arm64.zip \\\n  --role arn:aws:iam::123456789012:role/lambda-basic"
        );
        // No prompt characters, every continued line ends in a backslash.
        assert!(!text.starts_with('$'));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[..lines.len() - 1].iter().all(|l| l.ends_with(" \\")));
        let argv = command.argv().unwrap();
        assert_eq!(&argv[..2], ["lambda", "create-function"]);
        assert_eq!(argv.last().unwrap(), role);
    }

    #[test]
    fn without_a_role_the_command_reads_a_variable_and_cannot_be_run() {
        let command = create_function(
            &settings(None),
            Arch::X86_64,
            "fileb://dist/lambda-x86_64.zip",
        );
        assert!(command.render(Shell::Posix).unwrap().ends_with(
            "--role \"${LAMBDA_ROLE_ARN:?set LAMBDA_ROLE_ARN to the execution role ARN}\""
        ));
        assert!(command.argv().unwrap_err().to_string().contains("--role"));
    }

    #[test]
    fn values_are_shell_quoted() {
        assert_eq!(shell_quote("plain-word_1.zip"), "plain-word_1.zip");
        assert_eq!(
            shell_quote("fileb://dist/lambda-x86_64.zip"),
            "fileb://dist/lambda-x86_64.zip"
        );
        assert_eq!(shell_quote("with space"), "'with space'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
        let command =
            update_function_code(&settings(None), Arch::X86_64, "fileb://my dir/lambda.zip");
        assert!(command
            .render(Shell::Posix)
            .unwrap()
            .contains("--zip-file 'fileb://my dir/lambda.zip'"));
        assert_eq!(
            command.argv().unwrap().last().unwrap(),
            "fileb://my dir/lambda.zip"
        );
    }

    #[test]
    fn image_functions_have_a_package_type_and_no_runtime_or_handler() {
        let uri = Word::lit("123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi:arm64");
        let role = "arn:aws:iam::123456789012:role/lambda-basic";
        let command = create_image_function(&settings(Some(role)), Arch::Arm64, &uri);
        assert_eq!(
            command.render(Shell::Posix).unwrap(),
            "aws lambda create-function \\\n  --function-name calculate-pi \\\n  \
             --package-type Image \\\n  \
             --code ImageUri=123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi:arm64 \\\n  \
             --architectures arm64 \\\n  --memory-size 128 \\\n  --timeout 30 \\\n  \
             --role arn:aws:iam::123456789012:role/lambda-basic"
        );
        let argv = command.argv().unwrap();
        assert!(!argv.iter().any(|a| a == "--runtime" || a == "--handler"));

        let shell = Word::Env(EnvRef::new("ECR_REPOSITORY_URI", "it").around("", ":x86_64"));
        let command = create_image_function(&settings(None), Arch::X86_64, &shell);
        let text = command.render(Shell::Posix).unwrap();
        assert!(
            text.contains(
                "--code ImageUri=\"${ECR_REPOSITORY_URI:?set ECR_REPOSITORY_URI to it}\":x86_64 \\\n"
            ),
            "{text}"
        );
        assert!(text.contains("--role \"${LAMBDA_ROLE_ARN:?"), "{text}");
        assert!(command.argv().is_err());

        let update = update_function_image(&settings(None), Arch::Arm64, &uri);
        assert_eq!(
            update.argv().unwrap(),
            [
                "lambda",
                "update-function-code",
                "--function-name",
                "calculate-pi",
                "--architectures",
                "arm64",
                "--image-uri",
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi:arm64"
            ]
        );
    }

    #[test]
    fn fileb_urls_are_relative_to_the_working_directory() {
        let cwd = Path::new("/work/project");
        assert_eq!(
            fileb_url(Path::new("/work/project/dist/lambda-arm64.zip"), cwd),
            "fileb://dist/lambda-arm64.zip"
        );
        assert_eq!(
            fileb_url(Path::new("/elsewhere/lambda-arm64.zip"), cwd),
            "fileb:///elsewhere/lambda-arm64.zip"
        );
    }

    #[test]
    fn global_options_are_appended_when_set() {
        let none = get_function("pi").with_globals(&GlobalOptions::default());
        assert_eq!(
            none.argv().unwrap(),
            ["lambda", "get-function", "--function-name", "pi"]
        );
        let globals = GlobalOptions {
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:5000".into()),
        };
        let command = update_function_code(&settings(None), Arch::Arm64, "fileb://z.zip")
            .with_globals(&globals);
        assert!(command.render(Shell::Posix).unwrap().ends_with(
            "--zip-file fileb://z.zip \\\n  --region eu-west-1 \\\n  --endpoint-url http://127.0.0.1:5000"
        ));
        assert_eq!(
            command.argv().unwrap()[8..],
            [
                "--region",
                "eu-west-1",
                "--endpoint-url",
                "http://127.0.0.1:5000"
            ]
        );
    }

    #[test]
    fn cli_versions() {
        let v1 = "aws-cli/1.46.3 Python/3.11.7 Linux/6.1.0 botocore/1.43.62\n";
        let v2 = "aws-cli/2.17.0 Python/3.11.9 Linux/6.1.0 exe/x86_64.ubuntu.24\n";
        assert_eq!(parse_cli_version(v1), Some(CliMajor::V1));
        assert_eq!(parse_cli_version(v2), Some(CliMajor::V2));
        assert_eq!(
            parse_cli_version("aws-cli/1.18.69 Python/2.7.18"),
            Some(CliMajor::V1)
        );
        for other in [
            "",
            "aws: command not found",
            "aws-cli/3.0.0 Python/3.13",
            "aws-cli/2 Python/3.11",
            "aws-cli/12.0.1",
            "awscli/2.1.0",
        ] {
            assert_eq!(parse_cli_version(other), None, "{other}");
        }
    }

    #[test]
    fn invoke_takes_the_form_each_cli_accepts() {
        const INVOKE_PAYLOAD: &str = r#"{"digits": 20}"#;
        let v1 = invoke(
            "pi",
            INVOKE_PAYLOAD,
            INVOKE_OUTFILE,
            CliMajor::V1,
            &GlobalOptions::default(),
        );
        assert_eq!(
            v1.argv().unwrap(),
            [
                "lambda",
                "invoke",
                "--function-name",
                "pi",
                "--payload",
                r#"{"digits": 20}"#,
                "response.json"
            ]
        );
        let v2 = invoke(
            "pi",
            INVOKE_PAYLOAD,
            INVOKE_OUTFILE,
            CliMajor::V2,
            &GlobalOptions::default(),
        )
        .render(Shell::Posix)
        .unwrap();
        assert_eq!(
            v2,
            "aws lambda invoke \\\n  --function-name pi \\\n  --cli-binary-format raw-in-base64-out \\\n  \
             --payload '{\"digits\": 20}' \\\n  response.json"
        );
        let both = InvokeHint::with_payload("pi", INVOKE_PAYLOAD, &GlobalOptions::default(), None)
            .render(Shell::Posix)
            .unwrap();
        assert!(
            both.contains("AWS CLI v2:") && both.contains("AWS CLI v1:"),
            "{both}"
        );
        assert_eq!(both.matches("--cli-binary-format").count(), 1, "{both}");
        let one = InvokeHint::with_payload(
            "pi",
            INVOKE_PAYLOAD,
            &GlobalOptions::default(),
            Some(CliMajor::V1),
        );
        let text = one.render(Shell::Posix).unwrap();
        assert!(text.contains("AWS CLI v1, as installed") && !text.contains("--cli-binary-format"));
        assert!(text.ends_with("cat response.json\n"));
        // PowerShell: the payload from its file, said on the line before; no POSIX syntax.
        let one = one.place_files(Path::new("/p/dist"), Path::new("/p"));
        let text = one.render(Shell::PowerShell).unwrap();
        assert!(
            text.contains(
                "# --payload is read from dist/invoke-payload.json, written by the kit \
                 (PowerShell 5.1 and 7.2 strip the double quotes inside it)\naws lambda invoke `\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("--payload file://dist/invoke-payload.json `\n"),
            "{text}"
        );
        assert!(text.ends_with("Get-Content response.json\n"), "{text}");
        let files = one.commands().next().unwrap().files(Shell::PowerShell);
        assert_eq!(
            files,
            [(
                PathBuf::from("/p/dist/invoke-payload.json"),
                INVOKE_PAYLOAD.to_string()
            )]
        );
        assert!(one
            .commands()
            .next()
            .unwrap()
            .files(Shell::Posix)
            .is_empty());
        // cmd carries the JSON inline, with carets.
        let text = one.render(Shell::Cmd).unwrap();
        assert!(
            text.contains("--payload ^\"{\\^\"digits\\^\": 20}^\" ^\n"),
            "{text}"
        );
        assert!(text.ends_with("type response.json\n"), "{text}");
    }

    #[test]
    fn execution_role_commands() {
        let [create, attach] = create_execution_role("calculate-pi-role");
        let argv = create.argv().unwrap();
        let policy: serde_json::Value = serde_json::from_str(&argv[5]).unwrap();
        assert_eq!(
            policy["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );
        assert_eq!(policy["Statement"][0]["Action"], "sts:AssumeRole");
        assert!(attach.render(Shell::Posix).unwrap().ends_with(
            "--policy-arn arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        ));
    }
}
