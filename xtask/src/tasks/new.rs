//! `cargo xtask new PATH`: a new function package at PATH, named after its folder as `cargo new`
//! names it, with no questions asked: a JSON function by default, `--http` (lambda_http),
//! `--event-type KIND` (typed with aws_lambda_events) or `--extension`. It joins the workspace
//! above PATH when there is one, and never overwrites anything. See [`lambda_kit::scaffold`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use lambda_kit::command::{Cmd, ShellArgs};
use lambda_kit::paths;
use lambda_kit::scaffold::{self, EventType, HttpFeature, Joined, Template};

#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// The new package's folder (missing or empty); its name is the package's name.
    pub path: PathBuf,
    /// An HTTP function on lambda_http, for API Gateway, an ALB or a function URL.
    #[arg(long, conflicts_with_all = ["event_type", "extension"])]
    pub http: bool,
    /// Which front the HTTP function sits behind: lambda_http is built with that feature only.
    #[arg(long, value_enum, requires = "http", default_value_t = HttpFeature::ApigwHttp)]
    pub http_feature: HttpFeature,
    /// A function for this service's events, typed with aws_lambda_events.
    #[arg(long, value_enum, value_name = "KIND", conflicts_with = "extension")]
    pub event_type: Option<EventType>,
    /// A Lambda extension on lambda-extension (it runs beside a function, from a layer).
    #[arg(long)]
    pub extension: bool,
    /// The shell of the printed next steps.
    #[command(flatten)]
    pub shell: ShellArgs,
}

impl NewArgs {
    fn template(&self) -> Template {
        match (self.http, self.event_type, self.extension) {
            (true, _, _) => Template::Http(self.http_feature),
            (_, Some(kind), _) => Template::Event(kind),
            (_, _, true) => Template::Extension,
            _ => Template::Json,
        }
    }
}

pub fn run(args: &NewArgs) -> Result<()> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let dir = normalized(&cwd.join(&args.path));
    let name = scaffold::package_name(&dir)?;
    let template = args.template();
    let files = scaffold::render(&name, template);
    scaffold::create(&dir, &files)?;
    let shown = paths::shown_from(&dir, &cwd);
    println!("Created the {template} `{name}` in {shown}:");
    for file in &files {
        println!("  {}", file.path.display());
    }
    let joined = scaffold::join_workspace(&dir)?;
    let in_workspace = match &joined {
        Joined::NoWorkspace => false,
        Joined::Added { manifest, member } => {
            println!(
                "Added \"{member}\" to the members of {}.",
                paths::shown_from(manifest, &cwd)
            );
            true
        }
        Joined::Covered { manifest, pattern } => {
            println!(
                "It is a member of the workspace of {} (members \"{pattern}\").",
                paths::shown_from(manifest, &cwd)
            );
            true
        }
        Joined::Manual { manifest, how } => {
            println!(
                "It is inside the workspace of {}, which was not edited: {how}.",
                paths::shown_from(manifest, &cwd)
            );
            true
        }
    };
    print!(
        "{}",
        next_steps(
            &dir,
            &cwd,
            &name,
            template,
            in_workspace,
            args.shell.shell()
        )?
    );
    Ok(())
}

/// `a/./b/../c` as `a/c`, without touching the file system (the folder does not exist yet).
fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// What to run next, with the new package's manifest.
fn next_steps(
    dir: &Path,
    cwd: &Path,
    name: &str,
    template: Template,
    in_workspace: bool,
    shell: lambda_kit::command::Shell,
) -> Result<String> {
    let manifest = paths::shown_from(&dir.join("Cargo.toml"), cwd);
    let task = |words: &[&str]| {
        let mut command = Cmd::new("cargo", &["xtask"]);
        for word in words {
            command = command.arg(word);
        }
        command = command.option("--manifest-path", &manifest);
        if in_workspace {
            command = command.option("--package", name);
        }
        command
    };
    let test = Cmd::new("cargo", &["test"]).option("--manifest-path", &manifest);
    let mut out = String::from("\nNext:\n");
    let mut step = |what: &str, command: &Cmd| -> Result<()> {
        out.push_str(&format!("\n# {what}\n{}\n", command.render_line(shell)?));
        Ok(())
    };
    step("its unit test", &test)?;
    match template {
        Template::Extension => {
            out.push_str(
                "\n# An extension runs beside a function, from a layer: build it into one and \
                 attach it to the function (see docs/new.md).\n",
            );
        }
        Template::Http(_) => {
            step(
                "serve it on 127.0.0.1, rebuilt on each change (curl the printed address)",
                &task(&["serve", "--watch"]),
            )?;
            step("invoke it once with its example event", &task(&["invoke"]))?;
            step("deploy it", &task(&["deploy"]))?;
        }
        Template::Json | Template::Event(_) => {
            step(
                "invoke it with its example event (Cargo.toml, [package.metadata.lambda.invoke])",
                &task(&["invoke"]),
            )?;
            step(
                "serve it on 127.0.0.1, rebuilt on each change",
                &task(&["serve", "--watch"]),
            )?;
            step("deploy it", &task(&["deploy"]))?;
        }
    }
    Ok(out)
}
