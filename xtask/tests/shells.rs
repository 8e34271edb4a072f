//! Every POSIX rendering the tasks print, run by bash, dash and zsh: `aws`, `skopeo` and
//! `docker` are a small script first on PATH that records the arguments it receives, which
//! must be the very argv the kit runs ([`Cmd::argv`]).
// Runs POSIX shells, which Windows does not have.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

use lambda_kit::arch::Arch;
use lambda_kit::aws::cli::{self, FunctionSettings, GlobalOptions, InvokeHint};
use lambda_kit::command::{Cmd, Script, Shell};
use lambda_kit::workspace::settings::Tracing;
use xtask::tasks::{deploy, image, package, serve};

const ROLE: &str = "arn:aws:iam::123456789012:role/lambda-basic";
const REPOSITORY: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/calculate-pi";
const SHELLS: [&str; 3] = ["bash", "dash", "zsh"];

/// Records `program\x1farg\x1f…` and the dummy key id, one record per run.
const PRINTER: &str = r#"#!/bin/sh
printf '%s\037' "${0##*/}" "$@" >> "$ARGV_LOG"
printf 'key=%s\036' "${AWS_ACCESS_KEY_ID-}" >> "$ARGV_LOG"
"#;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The shells present; in CI a missing one is an error (`cargo xtask setup` installs them).
fn shells() -> Vec<&'static str> {
    SHELLS
        .into_iter()
        .filter(|shell| {
            let found = which::which(shell).is_ok();
            assert!(
                found || !in_ci(),
                "{shell} is missing: run `cargo xtask setup`"
            );
            if !found {
                eprintln!("skipping {shell}: not installed (`cargo xtask setup` installs it)");
            }
            found
        })
        .collect()
}

/// Settings with every optional value, and awkward characters in them.
fn settings(role: Option<&str>) -> FunctionSettings {
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
struct Case {
    name: String,
    printed: Script,
    known: Script,
}

fn one(command: Cmd) -> Script {
    Script::default().run(command)
}

fn cases(cwd: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let zip = cwd.join("it's a dir").join("lambda-x86_64.zip");
    for role in [Some(ROLE), None] {
        let label = if role.is_some() {
            "role given"
        } else {
            "role from $LAMBDA_ROLE_ARN"
        };
        let printed = package::Commands::for_zip(&zip, Arch::X86_64, &settings(role), cwd);
        let known = package::Commands::for_zip(&zip, Arch::X86_64, &settings(Some(ROLE)), cwd);
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
        let plan = |s: &FunctionSettings, c: &package::Commands| {
            deploy::Plan::new(c, s, &globals, cwd, cwd)
        };
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
        let known = image::Commands::new(&archive, &given, &settings(Some(ROLE)), cwd);
        for target in [&given, &variable] {
            let printed = image::Commands::new(&archive, target, &settings(role), cwd);
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
        let hint = serve::invoke_hint(address, "calculate-pi", "us-east-1", installed);
        for command in hint.commands() {
            cases.push(Case {
                name: format!("serve {:?}", command.argv().unwrap()),
                printed: one(command.clone()),
                known: one(command.clone()),
            });
        }
    }
    // package's invoke hint.
    let hint = InvokeHint::new("calculate-pi", &GlobalOptions::default(), None);
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
fn expected_for(known: &Script, repository_given: bool) -> Script {
    use lambda_kit::command::Step;
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

fn image_archive(cwd: &Path) -> image::ImageArchive {
    image::ImageArchive {
        path: cwd.join("dist").join("lambda-x86_64-image.tar"),
        arch: Arch::X86_64,
        platform: "linux/amd64".into(),
        zip: cwd.join("dist").join("lambda-x86_64.zip"),
        packaged: false,
        size: 1,
        bootstrap_path: "/var/runtime/bootstrap".into(),
        bootstrap_size: 1,
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
type Runs = Vec<(Vec<String>, String)>;

fn expected(script: &Script) -> Runs {
    script
        .commands()
        .map(|command| {
            let mut argv = vec![command.program.clone()];
            argv.extend(command.argv().unwrap());
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

fn parse(log: &str) -> Runs {
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

struct Sandbox {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for program in ["aws", "skopeo", "docker"] {
            let path = bin.join(program);
            std::fs::write(&path, PRINTER).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Sandbox { dir, bin }
    }

    /// Runs `text` as a script file of `shell`, with `env`; returns its status and the runs.
    fn run(&self, shell: &str, text: &str, env: &[(&str, &str)]) -> (std::process::Output, Runs) {
        let script = self.dir.path().join("script");
        std::fs::write(&script, format!("{text}\n")).unwrap();
        let log = self.dir.path().join("argv.log");
        let _ = std::fs::remove_file(&log);
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = Command::new(shell)
            .arg(&script)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", path)
            .env("ARGV_LOG", &log)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let runs = parse(&std::fs::read_to_string(&log).unwrap_or_default());
        (output, runs)
    }
}

#[test]
fn every_posix_rendering_reaches_the_programs_as_the_kit_runs_it() {
    let sandbox = Sandbox::new();
    let cwd = sandbox.dir.path().to_path_buf();
    let env = [
        ("LAMBDA_ROLE_ARN", ROLE),
        ("ECR_REPOSITORY_URI", REPOSITORY),
    ];
    let cases = cases(&cwd);
    assert!(cases.len() >= 40, "{}", cases.len());
    for shell in shells() {
        for case in &cases {
            let text = case.printed.render(Shell::Posix).unwrap();
            let (output, runs) = sandbox.run(shell, &text, &env);
            assert!(
                output.status.success(),
                "{shell}, {}: {}\n{text}",
                case.name,
                String::from_utf8_lossy(&output.stderr)
            );
            // The two sides of a pipe run at the same time, in either order.
            let (mut runs, mut wanted) = (runs, expected(&case.known));
            runs.sort();
            wanted.sort();
            assert_eq!(runs, wanted, "{shell}, {}:\n{text}", case.name);
        }
    }
}

#[test]
fn an_unset_variable_stops_the_shell_before_the_program_runs() {
    let sandbox = Sandbox::new();
    let cwd = sandbox.dir.path().to_path_buf();
    let zip = cwd.join("lambda-x86_64.zip");
    let create = package::Commands::for_zip(&zip, Arch::X86_64, &settings(None), &cwd)
        .create_function
        .render(Shell::Posix)
        .unwrap();
    let push = image::Commands::new(
        &image_archive(&cwd),
        &image::ImageTarget::Variable {
            tag: "x86_64".into(),
        },
        &settings(Some(ROLE)),
        &cwd,
    )
    .create_function
    .render(Shell::Posix)
    .unwrap();
    for shell in shells() {
        for (text, variable) in [(&create, "LAMBDA_ROLE_ARN"), (&push, "ECR_REPOSITORY_URI")] {
            let (output, runs) = sandbox.run(shell, text, &[]);
            assert!(!output.status.success(), "{shell}: {text}");
            assert!(runs.is_empty(), "{shell} ran {runs:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains(&format!("{variable}: set {variable} to ")),
                "{shell}: {stderr}"
            );
        }
    }
}
