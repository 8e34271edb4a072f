//! `deploy`: what AWS has, decided against the zip built here ([`decide`], pure), and the aws
//! commands that bring it there ([`Plan`]), run through the user's `aws` CLI
//! ([`Deployment::run`]): the very commands `package` prints, then a check that AWS holds the
//! zip's CodeSha256.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::arch::Arch;
use crate::artifact::deployment::DeploymentZip;
use crate::artifact::elf;
use crate::aws::cli::{self, AwsCommand, GlobalOptions, ZipCommands};
use crate::aws::client::{self, CliError, ErrorKind};
use crate::command::{self, Shell};
use crate::error::{Context, Failure};
use crate::runtime::Runtime;
use crate::workspace::settings::FunctionSettings;

/// The execution role name the messages and the README suggest.
pub const ROLE: &str = "calculate-pi-lambda";

/// Why a deploy stopped; every message says what was not done and how to go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// deploy will not touch this function: why, and the commands that change it.
    #[error("{0}")]
    Refused(String),
    /// Creating the function needs an execution role: the commands that make one.
    #[error("{0}")]
    NeedsRole(String),
    /// An aws command failed: what deploy was doing, and what the CLI said.
    #[error("{doing} failed: the aws CLI said:\n{error}")]
    Cli { doing: String, error: CliError },
    #[error(
        "waiting for {name} to {what} failed: the aws CLI said:\n{message}\nhint: `aws lambda \
         get-function --function-name {name}` shows why (Configuration.StateReason, \
         LastUpdateStatusReason)"
    )]
    Wait {
        name: String,
        what: String,
        message: String,
    },
    #[error(
        "AWS reports CodeSha256 {reported} for {name}, but the zip sent has {sent}: the code AWS \
         holds is not this zip (was it changed during the upload, or updated by someone \
         else meanwhile?); deploy again"
    )]
    NotThisZip {
        name: String,
        reported: String,
        sent: String,
    },
    #[error(transparent)]
    Aws(#[from] crate::aws::Error),
    #[error(transparent)]
    Command(#[from] command::Error),
    #[error(transparent)]
    Failure(#[from] Failure),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The function as `aws lambda get-function` describes it (`Configuration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deployed {
    #[serde(default)]
    pub code_sha256: String,
    /// Absent in old responses, which means x86_64.
    #[serde(default)]
    pub architectures: Vec<String>,
    pub runtime: Option<String>,
    pub package_type: Option<String>,
    pub state: Option<String>,
    pub last_update_status: Option<String>,
    pub memory_size: Option<u32>,
    pub timeout: Option<u32>,
    #[serde(default)]
    pub environment: Option<DeployedEnvironment>,
    #[serde(default)]
    pub tracing_config: Option<DeployedTracing>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub layers: Vec<DeployedLayer>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeployedEnvironment {
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeployedTracing {
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeployedLayer {
    pub arn: String,
}

/// The settings in which the deployed function differs from `settings`, each as
/// "name: deployed -> wanted". Pure; an empty list means its configuration is up to date.
pub fn configuration_changes(deployed: &Deployed, settings: &FunctionSettings) -> Vec<String> {
    let mut changes = Vec::new();
    let mut differs = |name: &str, now: String, wanted: String| {
        if now != wanted {
            changes.push(format!("{name}: {now} -> {wanted}"));
        }
    };
    differs(
        "runtime",
        deployed.runtime.clone().unwrap_or_default(),
        settings.runtime.name().to_string(),
    );
    differs(
        "memory",
        deployed
            .memory_size
            .map_or("?".into(), |m| format!("{m} MB")),
        format!("{} MB", settings.memory_size),
    );
    differs(
        "timeout",
        deployed.timeout.map_or("?".into(), |t| format!("{t} s")),
        format!("{} s", settings.timeout),
    );
    let variables = deployed
        .environment
        .as_ref()
        .map(|e| e.variables.clone())
        .unwrap_or_default();
    differs(
        "environment",
        format!("{variables:?}"),
        format!("{:?}", settings.environment),
    );
    let mode = deployed
        .tracing_config
        .as_ref()
        .and_then(|t| t.mode.clone())
        .unwrap_or_else(|| "PassThrough".into());
    differs(
        "tracing",
        mode,
        settings
            .tracing
            .map_or("PassThrough", |t| t.mode())
            .to_string(),
    );
    differs(
        "description",
        format!("{:?}", deployed.description.clone().unwrap_or_default()),
        format!("{:?}", settings.description.clone().unwrap_or_default()),
    );
    let layers: Vec<&str> = deployed.layers.iter().map(|l| l.arn.as_str()).collect();
    differs(
        "layers",
        format!("{layers:?}"),
        format!("{:?}", settings.layers),
    );
    changes
}

impl Deployed {
    pub fn from_get_function(output: &serde_json::Value) -> Result<Self> {
        Ok(serde_json::from_value(output["Configuration"].clone())
            .context("reading Configuration from the get-function output")?)
    }

    pub fn architecture(&self) -> &str {
        self.architectures.first().map_or("x86_64", String::as_str)
    }
}

/// What to do, given what AWS has and what was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Create,
    Update,
    Unchanged,
    Refuse(Refusal),
}

/// Functions deploy will not touch, each for a reason it explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A container image function: its code is an image, not a zip.
    ImagePackage,
    /// A managed runtime (python3.12, nodejs20.x, …), which would never start a bootstrap.
    NotCustomRuntime(String),
    /// Configured for the other architecture.
    Architecture { deployed: String },
}

/// Decides between create, update, unchanged and refusal. Pure.
pub fn decide(deployed: Option<&Deployed>, arch: Arch, sha256: &str) -> Decision {
    let Some(deployed) = deployed else {
        return Decision::Create;
    };
    if deployed.package_type.as_deref() == Some("Image") {
        return Decision::Refuse(Refusal::ImagePackage);
    }
    if let Some(runtime) = &deployed.runtime {
        if !runtime.starts_with("provided") {
            return Decision::Refuse(Refusal::NotCustomRuntime(runtime.clone()));
        }
    }
    if deployed.architecture() != arch.lambda_name() {
        return Decision::Refuse(Refusal::Architecture {
            deployed: deployed.architecture().to_string(),
        });
    }
    if deployed.code_sha256 == sha256 {
        Decision::Unchanged
    } else {
        Decision::Update
    }
}

/// The message for a refusal: what was found, and the commands that change it.
pub fn refusal_message(
    refusal: &Refusal,
    name: &str,
    arch: Arch,
    plan: &Plan,
    shell: Shell,
) -> command::Result<String> {
    let delete = plan.delete_function.render(shell)?;
    Ok(match refusal {
        Refusal::ImagePackage => format!(
            "{name} is a container image function (PackageType Image); a zip cannot replace its \
             code. Deploy under another --function-name, or delete it and deploy again:\n\n{delete}"
        ),
        Refusal::NotCustomRuntime(runtime) => {
            let configure = plan.move_to_os_only_runtime.render(shell)?;
            format!(
                "{name} runs {runtime}, which would not start a custom-runtime bootstrap; nothing \
                 was uploaded. Move it to an OS-only runtime first:\n\n{configure}\n\nor delete it \
                 and deploy again:\n\n{delete}"
            )
        }
        Refusal::Architecture { deployed } => format!(
            "{name} is configured for {deployed}, but this zip is for {arch}; deploy does not \
             change a function's architecture on its own, so nothing was uploaded. Either deploy \
             the {deployed} build (cargo xtask deploy --arch {deployed} …), or change the \
             architecture together with the code:\n\n{update}\n\nor delete the function and \
             deploy again (it is then created for {arch}):\n\n{delete}",
            update = plan.update_printed.render(shell)?,
        ),
    })
}

/// Every aws command deploy may run, rendered by `aws_cli` exactly as `package` prints them,
/// plus the global options and `--output json` where the output is read; and those its
/// messages suggest.
#[derive(Debug, Clone)]
pub struct Plan {
    pub globals: GlobalOptions,
    pub get_function: AwsCommand,
    pub create_function: AwsCommand,
    pub update_function_code: AwsCommand,
    /// update-function-code as a user would type it (no `--output json`), for messages.
    pub update_printed: AwsCommand,
    pub wait_active: AwsCommand,
    pub wait_updated: AwsCommand,
    pub update_configuration: AwsCommand,
    /// Suggested when deploy refuses a function.
    pub delete_function: AwsCommand,
    /// Suggested for a function on a managed runtime: `provided.al2023`, handler `bootstrap`.
    pub move_to_os_only_runtime: AwsCommand,
    /// Suggested when the function must be created and no role was given: the role, then its
    /// policy.
    pub create_role: [AwsCommand; 2],
}

impl Plan {
    /// The plan for `printed`; the files of its JSON values (for the shells that need them) go
    /// in `files_dir`.
    pub fn new(
        printed: &ZipCommands,
        settings: &FunctionSettings,
        globals: &GlobalOptions,
        files_dir: &Path,
        cwd: &Path,
    ) -> Self {
        let name = &settings.function_name;
        let json = |c: AwsCommand| c.with_globals(globals).option("--output", "json");
        Plan {
            globals: globals.clone(),
            get_function: json(cli::get_function(name)),
            create_function: json(printed.create_function.clone()),
            update_function_code: json(printed.update_function_code.clone()),
            update_printed: printed.update_function_code.clone().with_globals(globals),
            wait_active: cli::wait("function-active-v2", name).with_globals(globals),
            wait_updated: cli::wait("function-updated-v2", name).with_globals(globals),
            update_configuration: json(cli::update_function_configuration(settings))
                .place_files(files_dir, cwd),
            delete_function: AwsCommand::aws(&["lambda", "delete-function"])
                .option("--function-name", name)
                .with_globals(globals),
            move_to_os_only_runtime: AwsCommand::aws(&["lambda", "update-function-configuration"])
                .option("--function-name", name)
                .option("--runtime", Runtime::ProvidedAl2023.name())
                .option("--handler", "bootstrap")
                .with_globals(globals),
            create_role: cli::create_execution_role(ROLE)
                .map(|c| c.with_globals(globals).place_files(files_dir, cwd)),
        }
    }

    /// Every command the plan may run.
    pub fn commands(&self) -> [&AwsCommand; 7] {
        [
            &self.get_function,
            &self.create_function,
            &self.update_function_code,
            &self.update_printed,
            &self.wait_active,
            &self.wait_updated,
            &self.update_configuration,
        ]
    }

    pub fn render_dry_run(&self, zip: &DeploymentZip, shell: Shell) -> command::Result<String> {
        Ok(format!(
            "Dry run: nothing was sent. deploy would run:\n\n\
             # Does the function exist?\n{get}\n\n\
             # If not (ResourceNotFoundException): create it, then wait until it is active.\n\
             {create}\n\n{wait_active}\n\n\
             # If it does, for {arch}, with another CodeSha256: update its code, then wait until \
             the update is applied.\n{update}\n\n{wait_updated}\n\n\
             # Then check that AWS reports the zip's CodeSha256, {sha}:\n{get}\n\n",
            get = self.get_function.render(shell)?,
            create = self.create_function.render(shell)?,
            wait_active = self.wait_active.render(shell)?,
            update = self.update_function_code.render(shell)?,
            wait_updated = self.wait_updated.render(shell)?,
            arch = zip.arch,
            sha = zip.sha256,
        ))
    }
}

/// A zip to deploy with its settings: the commands deploy may run, and where the files of
/// their JSON values go (beside the zip).
pub struct Deployment<'a> {
    pub zip: &'a DeploymentZip,
    pub settings: &'a FunctionSettings,
    pub globals: &'a GlobalOptions,
    pub plan: Plan,
    files_dir: PathBuf,
    cwd: PathBuf,
    /// The event of the printed invoke command.
    invoke_payload: String,
}

impl<'a> Deployment<'a> {
    pub fn new(
        zip: &'a DeploymentZip,
        settings: &'a FunctionSettings,
        globals: &'a GlobalOptions,
        cwd: &Path,
    ) -> Self {
        let printed = ZipCommands::new(zip, settings, cwd);
        let files_dir = cli::zip_dir(&zip.path).to_path_buf();
        let plan = Plan::new(&printed, settings, globals, &files_dir, cwd);
        Deployment {
            zip,
            settings,
            globals,
            plan,
            files_dir,
            cwd: cwd.to_path_buf(),
            invoke_payload: "{}".to_string(),
        }
    }

    /// The event the printed invoke command sends (the function's own; `{}` unless given).
    pub fn with_invoke_payload(mut self, payload: String) -> Self {
        self.invoke_payload = payload;
        self
    }

    /// Prints what [`Deployment::run`] would run, runs nothing.
    pub fn dry_run(&self, shell: Shell) -> Result<()> {
        command::write_files(self.plan.commands(), shell)?;
        print!("{}", self.plan.render_dry_run(self.zip, shell)?);
        print!("{}", self.invoke_hint(shell)?);
        Ok(())
    }

    /// Creates the function, or updates its code and configuration, with the `aws` CLI at
    /// `aws`; then checks the CodeSha256 AWS reports and prints how to invoke it.
    pub fn run(&self, aws: &Path, shell: Shell) -> Result<()> {
        let (plan, settings, zip) = (&self.plan, self.settings, self.zip);
        let name = &settings.function_name;
        let arch = zip.arch;
        let deployed = match client::call(aws, &plan.get_function) {
            Ok(output) => Some(Deployed::from_get_function(&output)?),
            Err(crate::aws::Error::Cli(error)) if error.kind == ErrorKind::NotFound => None,
            Err(error) => return Err(cli_failure(&format!("asking AWS for {name}"), error)),
        };
        let sha = &zip.sha256;
        match decide(deployed.as_ref(), arch, sha) {
            Decision::Refuse(refusal) => {
                command::write_files(plan.commands(), shell)?;
                return Err(Error::Refused(refusal_message(
                    &refusal, name, arch, plan, shell,
                )?));
            }
            Decision::Unchanged => {
                println!(
                    "{name} is unchanged: its code already has CodeSha256 {sha} ({arch}), the \
                     zip's; no upload needed."
                );
                let before = deployed.clone().unwrap_or_default();
                update_configuration(aws, plan, &before, settings)?;
            }
            Decision::Create => {
                if settings.role.is_none() {
                    let [create_role, attach] = &plan.create_role;
                    command::write_files([create_role, attach], shell)?;
                    return Err(Error::NeedsRole(format!(
                        "{name} does not exist, and creating it needs its execution role: pass --role \
                         arn:aws:iam::ACCOUNT:role/NAME (nothing was created). A role that lets the \
                         function write its logs is made with:\n\n{}\n\n{}\n\nthen deploy with \
                         --role set to the Role.Arn create-role prints \
                         (arn:aws:iam::ACCOUNT:role/{ROLE}).",
                        create_role.render(shell)?,
                        attach.render(shell)?
                    )));
                }
                eprintln!("{name} does not exist: creating it");
                client::call_create(aws, &plan.create_function)
                    .map_err(|e| cli_failure(&format!("creating {name}"), e))?;
                wait(aws, &plan.wait_active, name, "become active")?;
                let now = confirm(aws, plan, name, sha)?;
                println!(
                    "Created {name}: {arch}, {runtime}, handler bootstrap, CodeSha256 {sha}",
                    runtime = now.runtime.as_deref().unwrap_or("?"),
                );
            }
            Decision::Update => {
                let before = deployed.unwrap_or_default();
                if let Some(runtime) = before.runtime.as_deref().and_then(runtime_named) {
                    elf::check_for_lambda(&zip.binary, arch, runtime)
                        .with_context(|| format!("{name} runs {runtime}; nothing was uploaded"))?;
                }
                // Lambda refuses a new upload while the function is still being set up or updated.
                if before.state.as_deref() == Some("Pending") {
                    wait(aws, &plan.wait_active, name, "become active")?;
                }
                if before.last_update_status.as_deref() == Some("InProgress") {
                    wait(aws, &plan.wait_updated, name, "finish its update")?;
                }
                eprintln!(
                    "{name} exists with CodeSha256 {}: updating its code",
                    before.code_sha256
                );
                client::call(aws, &plan.update_function_code)
                    .map_err(|e| cli_failure(&format!("updating the code of {name}"), e))?;
                wait(aws, &plan.wait_updated, name, "apply the update")?;
                let now = confirm(aws, plan, name, sha)?;
                println!(
                    "Updated {name}: CodeSha256 {} -> {sha} ({arch})",
                    before.code_sha256,
                );
                update_configuration(aws, plan, &now, settings)?;
            }
        }
        println!();
        print!("{}", self.invoke_hint(shell)?);
        Ok(())
    }

    /// How to invoke the deployed function, for the installed CLI.
    fn invoke_hint(&self, shell: Shell) -> Result<String> {
        let hint = cli::InvokeHint::with_payload(
            &self.settings.function_name,
            &self.invoke_payload,
            self.globals,
            client::installed_version(),
        )
        .place_files(&self.files_dir, &self.cwd);
        command::write_files(hint.commands(), shell)?;
        Ok(hint.render(shell)?)
    }
}

/// Brings the function's configuration in line with the settings when it differs, and says
/// what changed (or that nothing did).
fn update_configuration(
    aws: &Path,
    plan: &Plan,
    deployed: &Deployed,
    settings: &FunctionSettings,
) -> Result<()> {
    let name = &settings.function_name;
    let changes = configuration_changes(deployed, settings);
    if changes.is_empty() {
        println!("Its configuration matches the settings.");
        return Ok(());
    }
    eprintln!(
        "updating the configuration of {name}: {}",
        changes.join("; ")
    );
    client::call(aws, &plan.update_configuration)
        .map_err(|e| cli_failure(&format!("updating the configuration of {name}"), e))?;
    wait(aws, &plan.wait_updated, name, "apply the configuration")?;
    println!(
        "Updated the configuration of {name}: {}",
        changes.join("; ")
    );
    Ok(())
}

fn runtime_named(name: &str) -> Option<Runtime> {
    [Runtime::ProvidedAl2, Runtime::ProvidedAl2023]
        .into_iter()
        .find(|r| r.name() == name)
}

/// What the CLI said, with what deploy was doing; a failure to run the CLI at all stays as it is.
fn cli_failure(doing: &str, error: crate::aws::Error) -> Error {
    match error {
        crate::aws::Error::Cli(error) => Error::Cli {
            doing: doing.to_string(),
            error,
        },
        other => other.into(),
    }
}

fn wait(aws: &Path, command: &AwsCommand, name: &str, what: &str) -> Result<()> {
    client::call(aws, command).map_err(|error| match error {
        crate::aws::Error::Cli(error) => Error::Wait {
            name: name.to_string(),
            what: what.to_string(),
            message: error.message,
        },
        other => other.into(),
    })?;
    Ok(())
}

/// Asks AWS for the function again and checks that its CodeSha256 is the zip's.
fn confirm(aws: &Path, plan: &Plan, name: &str, sha: &str) -> Result<Deployed> {
    let output = client::call(aws, &plan.get_function)
        .map_err(|e| cli_failure(&format!("checking {name} after the upload"), e))?;
    let now = Deployed::from_get_function(&output)?;
    if now.code_sha256 != sha {
        return Err(Error::NotThisZip {
            name: name.to_string(),
            reported: now.code_sha256,
            sent: sha.to_string(),
        });
    }
    Ok(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployed(arch: &str, sha: &str) -> Deployed {
        Deployed {
            code_sha256: sha.into(),
            architectures: vec![arch.into()],
            runtime: Some("provided.al2023".into()),
            package_type: Some("Zip".into()),
            state: Some("Active".into()),
            last_update_status: Some("Successful".into()),
            memory_size: Some(128),
            timeout: Some(30),
            ..Deployed::default()
        }
    }

    #[test]
    fn decisions() {
        assert_eq!(decide(None, Arch::X86_64, "a"), Decision::Create);
        let same = deployed("x86_64", "a");
        assert_eq!(decide(Some(&same), Arch::X86_64, "a"), Decision::Unchanged);
        assert_eq!(decide(Some(&same), Arch::X86_64, "b"), Decision::Update);
        assert_eq!(
            decide(Some(&same), Arch::Arm64, "a"),
            Decision::Refuse(Refusal::Architecture {
                deployed: "x86_64".into()
            })
        );
        let image = Deployed {
            package_type: Some("Image".into()),
            runtime: None,
            ..same.clone()
        };
        assert_eq!(
            decide(Some(&image), Arch::X86_64, "b"),
            Decision::Refuse(Refusal::ImagePackage)
        );
        let python = Deployed {
            runtime: Some("python3.12".into()),
            ..same.clone()
        };
        assert_eq!(
            decide(Some(&python), Arch::X86_64, "b"),
            Decision::Refuse(Refusal::NotCustomRuntime("python3.12".into()))
        );
        // No Architectures in the response: x86_64, as Lambda documents.
        let old = Deployed {
            architectures: vec![],
            ..same
        };
        assert_eq!(decide(Some(&old), Arch::X86_64, "b"), Decision::Update);
    }

    #[test]
    fn reads_get_function_output() {
        let output = serde_json::json!({
            "Configuration": {
                "FunctionName": "pi", "CodeSha256": "abc=", "Architectures": ["arm64"],
                "Runtime": "provided.al2", "PackageType": "Zip", "State": "Pending",
                "MemorySize": 256, "Timeout": 30, "Handler": "bootstrap"
            },
            "Code": {"Location": "https://example"}
        });
        let d = Deployed::from_get_function(&output).unwrap();
        assert_eq!(d.architecture(), "arm64");
        assert_eq!(d.code_sha256, "abc=");
        assert_eq!(d.state.as_deref(), Some("Pending"));
        assert_eq!(d.last_update_status, None);
        assert!(Deployed::from_get_function(&serde_json::json!({"Configuration": 3})).is_err());
    }

    #[test]
    fn the_architecture_refusal_says_how_to_change_it() {
        let settings = FunctionSettings {
            runtime: Runtime::ProvidedAl2023,
            ..FunctionSettings::defaults("pi")
        };
        let printed = ZipCommands {
            create_function: cli::create_function(&settings, Arch::X86_64, "fileb://z.zip"),
            update_function_code: cli::update_function_code(
                &settings,
                Arch::X86_64,
                "fileb://z.zip",
            ),
        };
        let globals = GlobalOptions {
            region: Some("eu-west-1".into()),
            endpoint_url: None,
        };
        let plan = Plan::new(
            &printed,
            &settings,
            &globals,
            Path::new("/p"),
            Path::new("/p"),
        );
        let text = refusal_message(
            &Refusal::Architecture {
                deployed: "arm64".into(),
            },
            "pi",
            Arch::X86_64,
            &plan,
            Shell::Posix,
        )
        .unwrap();
        for says in [
            "configured for arm64",
            "zip is for x86_64",
            "nothing was uploaded",
            "aws lambda update-function-code \\\n  --function-name pi \\\n  --architectures x86_64",
            "aws lambda delete-function \\\n  --function-name pi \\\n  --region eu-west-1",
        ] {
            assert!(text.contains(says), "{says}:\n{text}");
        }
        // The run commands read JSON; the printed ones stay as package prints them.
        let posix = |c: &AwsCommand| c.render(Shell::Posix).unwrap();
        assert!(posix(&plan.get_function).ends_with("--region eu-west-1 \\\n  --output json"));
        assert!(!posix(&plan.update_printed).contains("--output"));
        // In PowerShell the configuration's JSON comes from a file beside the zip.
        let text = plan.update_configuration.render(Shell::PowerShell).unwrap();
        assert!(
            text.contains("--environment file://environment.json `"),
            "{text}"
        );
        assert_eq!(
            plan.update_configuration.files(Shell::PowerShell),
            [
                (
                    PathBuf::from("/p/environment.json"),
                    "{\"Variables\":{}}".to_string()
                ),
                // An empty description clears it; PowerShell 5.1 would drop the argument.
                (PathBuf::from("/p/description.txt"), String::new())
            ]
        );
    }
}
