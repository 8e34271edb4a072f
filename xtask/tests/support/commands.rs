//! The commands the tasks print, built as the tasks build them, for the tests that run them
//! in real shells (tests/shells.rs: bash, dash, zsh; tests/windows.rs: cmd under Wine).

use std::path::Path;

use lambda_kit::arch::Arch;
use lambda_kit::aws::cli::{self, GlobalOptions, InvokeHint, ZipCommands};
use lambda_kit::aws::deploy;
use lambda_kit::command::{Cmd, Script, Shell, Step};
use lambda_kit::workspace::settings::{FunctionSettings, Tracing};
use xtask::tasks::{image, serve};

pub const ROLE: &str = "arn:aws:iam::123456789012:role/lambda-basic";
pub const REPOSITORY: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi";
/// The event calculate-pi's metadata names (`[package.metadata.lambda.invoke]`).
pub const PI_EVENT: &str = r#"{"digits": "10_000"}"#;

/// Records `program\x1farg\x1f…key=…\x1e` (the dummy key id last), one record per run, in a
/// single write: the two sides of a pipe append at the same time.
pub const PRINTER: &str = r#"#!/bin/sh
record=$(printf '%s\037' "${0##*/}" "$@"; printf 'key=%s' "${AWS_ACCESS_KEY_ID-}")
printf '%s\036' "$record" >> "$ARGV_LOG"
"#;

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Settings with every optional value, and awkward characters in them.
pub fn settings(role: Option<&str>) -> FunctionSettings {
    FunctionSettings {
        role: role.map(str::to_string),
        environment: [
            ("A".to_string(), "x y, 'z' \"q\" $HOME `id` \\".to_string()),
            ("B".to_string(), "=%~!*".to_string()),
        ]
        .into(),
        tags: [("team".to_string(), "pi & co".to_string())].into(),
        layers: vec![
            "arn:aws:lambda:eu-west-1:123456789012:layer:a:1".into(),
            "arn:aws:lambda:eu-west-1:123456789012:layer:b:2".into(),
        ],
        tracing: Some(Tracing::Active),
        description: Some("it's \"pi\"".into()),
        ..FunctionSettings::defaults("calculate-pi")
    }
}

/// A command as printed (maybe reading variables) and as run (every value known).
pub struct Case {
    pub name: String,
    pub printed: Script,
    pub known: Script,
}

pub fn one(command: Cmd) -> Script {
    Script::default().run(command)
}

pub fn cases(cwd: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let zip = cwd.join("it's a dir").join("lambda-x86_64.zip");
    for role in [Some(ROLE), None] {
        let label = if role.is_some() {
            "role given"
        } else {
            "role from $LAMBDA_ROLE_ARN"
        };
        let printed = ZipCommands::for_path(&zip, Arch::X86_64, &settings(role), cwd);
        let known = ZipCommands::for_path(&zip, Arch::X86_64, &settings(Some(ROLE)), cwd);
        cases.push(Case {
            name: format!("package create-function, {label}"),
            printed: one(printed.create_function.clone()),
            known: one(known.create_function.clone()),
        });
        cases.push(Case {
            name: format!("package update-function-code, {label}"),
            printed: one(printed.update_function_code.clone()),
            known: one(known.update_function_code.clone()),
        });
        let globals = GlobalOptions {
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:5000".into()),
        };
        let plan =
            |s: &FunctionSettings, c: &ZipCommands| deploy::Plan::new(c, s, &globals, cwd, cwd);
        let (p, k) = (
            plan(&settings(role), &printed),
            plan(&settings(Some(ROLE)), &known),
        );
        for (printed, known) in p.commands().into_iter().zip(k.commands()) {
            cases.push(Case {
                name: format!("deploy {}, {label}", printed.summary()),
                printed: one(printed.clone()),
                known: one(known.clone()),
            });
        }
        for (printed, known) in cli::create_execution_role(deploy::ROLE)
            .into_iter()
            .zip(cli::create_execution_role(deploy::ROLE))
        {
            cases.push(Case {
                name: format!("deploy's role message: {}", printed.summary()),
                printed: one(printed),
                known: one(known),
            });
        }
        // image: with the repository given, and from $ECR_REPOSITORY_URI.
        let archive = image_archive(cwd);
        let given = image::ImageTarget::Repository {
            uri: REPOSITORY.into(),
            tag: "x86_64".into(),
        };
        let variable = image::ImageTarget::Variable {
            tag: "x86_64".into(),
        };
        let known = image::ImageCommands::new(&archive, &given, &settings(Some(ROLE)), cwd);
        for target in [&given, &variable] {
            let printed = image::ImageCommands::new(&archive, target, &settings(role), cwd);
            let which = if target == &given {
                "given"
            } else {
                "from $ECR_REPOSITORY_URI"
            };
            cases.push(Case {
                name: format!("image push, repository {which}, {label}"),
                printed: printed.push.clone(),
                known: expected_for(&known.push, target == &given),
            });
            cases.push(Case {
                name: format!("image docker, repository {which}, {label}"),
                printed: printed.docker_load.clone(),
                known: expected_for(&known.docker_load, target == &given),
            });
            cases.push(Case {
                name: format!("image create-function, repository {which}, {label}"),
                printed: one(printed.create_function.clone()),
                known: one(known.create_function.clone()),
            });
        }
    }
    // serve: both CLI forms and the one of each version, with region and dummy credentials.
    let address = "127.0.0.1:9000".parse().unwrap();
    for installed in [None, Some(cli::CliMajor::V1), Some(cli::CliMajor::V2)] {
        let hint = serve::invoke_hint(address, "calculate-pi", PI_EVENT, "us-east-1", installed);
        for command in hint.commands() {
            cases.push(Case {
                name: format!("serve {:?}", command.argv().unwrap()),
                printed: one(command.clone()),
                known: one(command.clone()),
            });
        }
    }
    // package's invoke hint.
    let hint = InvokeHint::with_payload("calculate-pi", PI_EVENT, &GlobalOptions::default(), None);
    for command in hint.commands() {
        cases.push(Case {
            name: "package invoke".into(),
            printed: one(command.clone()),
            known: one(command.clone()),
        });
    }
    cases
}

/// The known image script, with the region of get-login-password dropped when the printed one
/// reads the repository from the variable (its region is then the CLI's own).
pub fn expected_for(known: &Script, repository_given: bool) -> Script {
    Script(
        known
            .0
            .iter()
            .map(|step| match step {
                Step::Pipe(_, to) if !repository_given => {
                    Step::Pipe(Cmd::new("aws", &["ecr", "get-login-password"]), to.clone())
                }
                other => other.clone(),
            })
            .collect(),
    )
}

pub fn image_archive(cwd: &Path) -> image::ImageArchive {
    image::ImageArchive {
        path: cwd.join("dist").join("lambda-x86_64-image.tar"),
        arch: Arch::X86_64,
        platform: "linux/amd64".into(),
        zip: cwd.join("dist").join("lambda-x86_64.zip"),
        packaged: false,
        size: 1,
        bootstrap_path: "/var/runtime/bootstrap".into(),
        bootstrap_size: 1,
        task_files: vec![],
        linkage: "static".into(),
        manifest_digest: "sha256:m".into(),
        config_digest: "sha256:c".into(),
        layer_digest: "sha256:l".into(),
        layer_size: 1,
        diff_id: "sha256:d".into(),
        docker_tag: "calculate-pi:x86_64".into(),
    }
}

/// (program, args, AWS_ACCESS_KEY_ID seen) per run, in order.
pub type Runs = Vec<(Vec<String>, String)>;

pub fn expected(script: &Script, shell: Shell) -> Runs {
    script
        .commands()
        .map(|command| {
            let mut argv = vec![command.program.clone()];
            argv.extend(command.argv_for(shell).unwrap());
            let key = command
                .env
                .iter()
                .find(|(k, _)| k == "AWS_ACCESS_KEY_ID")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (argv, key)
        })
        .collect()
}

pub fn parse(log: &str) -> Runs {
    log.split('\x1e')
        .filter(|r| !r.is_empty())
        .map(|record| {
            let (args, key) = record.rsplit_once("key=").unwrap();
            let argv = args
                .split('\x1f')
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect();
            (argv, key.to_string())
        })
        .collect()
}
