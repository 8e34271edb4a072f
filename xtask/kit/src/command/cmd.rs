//! One model for every external command the kit prints or runs: a program and its words, line
//! by line. The same value gives the arguments to run ([`Cmd::argv`], [`Cmd::command`]) and the
//! text a user pastes into their shell ([`Cmd::render`]), so what is printed is what runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::shell::{ps_single_quote, QuoteError, Shell};
use super::{Error, Result};

/// An environment variable a printed command reads, because the kit does not know the value
/// (the execution role, the ECR repository). `prefix` and `suffix` are literal text around it,
/// in the same argument (`ImageUri=` … `:x86_64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvRef {
    pub name: String,
    /// What the variable holds, for the message when it is unset: "the execution role ARN".
    pub what: String,
    pub prefix: String,
    pub suffix: String,
    /// Only the part before the first `/` (the registry host of a repository URI).
    pub host_only: bool,
}

impl EnvRef {
    pub fn new(name: &str, what: &str) -> Self {
        assert!(
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "not an environment variable name: {name:?}"
        );
        EnvRef {
            name: name.to_string(),
            what: what.to_string(),
            prefix: String::new(),
            suffix: String::new(),
            host_only: false,
        }
    }

    pub fn around(mut self, prefix: &str, suffix: &str) -> Self {
        self.prefix = format!("{prefix}{}", self.prefix);
        self.suffix.push_str(suffix);
        self
    }

    pub fn host(mut self) -> Self {
        self.host_only = true;
        self
    }

    /// The variable cmd reads for [`Self::host`]: cmd cannot cut a value at a `/`.
    fn cmd_host_name(&self) -> String {
        format!("{}_HOST", self.name)
    }
}

/// One argument of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    /// Passed exactly as it is; quoted as the shell needs.
    Literal(String),
    /// A value (JSON) that some shells cannot pass intact, for a program that also reads it
    /// from `file://PATH` (the aws CLI, for any parameter). Inline where the shell can carry it,
    /// else as `file://` + `shown`, the file being written to `path` ([`Cmd::files`]).
    FileBacked {
        text: String,
        path: PathBuf,
        shown: String,
    },
    /// The value of an environment variable, read by the shell.
    Env(EnvRef),
}

impl Word {
    pub fn lit(text: impl Into<String>) -> Self {
        Word::Literal(text.into())
    }

    /// A file-backed value whose file is `name` in the current directory until
    /// [`Cmd::place_files`] moves it.
    pub fn file_backed(text: impl Into<String>, name: &str) -> Self {
        Word::FileBacked {
            text: text.into(),
            path: PathBuf::from(name),
            shown: name.to_string(),
        }
    }

    /// How `shell` writes this word, or why it cannot.
    fn render(&self, shell: Shell) -> Result<String, QuoteError> {
        match self {
            Word::Literal(text) => shell.quote(text),
            Word::FileBacked { text, shown, .. } => shell
                .quote(text)
                .or_else(|_| shell.quote(&format!("file://{shown}"))),
            Word::Env(env) => render_env(shell, env),
        }
    }
}

/// An environment variable's value as one argument.
///
/// * POSIX: `"${NAME:?set NAME to …}"`: unset or empty, the shell stops before the program
///   runs and says the message. The message holds no `'`, `"`, `}`, `$`, backslash or backtick
///   (bash 5.2 cannot parse an apostrophe there). [`EnvRef::host`]: `"${NAME%%/*}"`.
/// * PowerShell: `$env:NAME`, or `"prefix${env:NAME}suffix"`; a line before the command throws
///   when it is unset ([`Cmd::render`]). [`EnvRef::host`]: `$env:NAME.Split('/')[0]`.
/// * cmd: `"prefix%NAME%suffix"`. cmd has no check that stops a line, so the line before says
///   what to set; unset, aws receives `%NAME%` (at the prompt) or an empty value (in a batch
///   file), which it refuses. [`EnvRef::host`] reads `NAME_HOST`.
fn render_env(shell: Shell, env: &EnvRef) -> Result<String, QuoteError> {
    let name = &env.name;
    match shell {
        Shell::Posix => {
            let expansion = if env.host_only {
                format!("\"${{{name}%%/*}}\"")
            } else {
                let what: String = env
                    .what
                    .chars()
                    .filter(|c| !matches!(c, '\'' | '"' | '}' | '$' | '`' | '\\' | '\n'))
                    .collect();
                format!("\"${{{name}:?set {name} to {what}}}\"")
            };
            let quote = |text: &str| {
                if text.is_empty() {
                    Ok(String::new())
                } else {
                    Shell::Posix.quote(text)
                }
            };
            Ok(format!(
                "{}{expansion}{}",
                quote(&env.prefix)?,
                quote(&env.suffix)?
            ))
        }
        Shell::PowerShell => {
            let value = if env.host_only {
                format!("$env:{name}.Split('/')[0]")
            } else {
                format!("$env:{name}")
            };
            if env.prefix.is_empty() && env.suffix.is_empty() {
                return Ok(value);
            }
            assert!(!env.host_only, "a host is passed alone");
            // Inside "…" only `, $ and " (and their typographic twins) are special; the kit's
            // prefixes and suffixes (ImageUri=, docker://, :x86_64) hold none, nor whitespace,
            // which PowerShell 5.1 would pass differently.
            for part in [&env.prefix, &env.suffix] {
                if part.contains(|c: char| {
                    "`$\"\u{201C}\u{201D}\u{201E}".contains(c) || c.is_whitespace()
                }) {
                    return Err(QuoteError::PowerShellUnsafe(format!(
                        "{part:?} around ${name}"
                    )));
                }
            }
            Ok(format!("\"{}${{env:{name}}}{}\"", env.prefix, env.suffix))
        }
        Shell::Cmd => {
            let name = if env.host_only {
                env.cmd_host_name()
            } else {
                name.clone()
            };
            for part in [&env.prefix, &env.suffix] {
                if part.contains('%') {
                    return Err(QuoteError::Percent);
                }
                if part.contains(['"', '\n', '\r']) {
                    return Err(QuoteError::LineBreak(Shell::Cmd));
                }
            }
            Ok(format!("\"{}%{name}%{}\"", env.prefix, env.suffix))
        }
    }
}

/// A program and its arguments, in lines: `lines[0]` follows the program on the first line
/// (subcommands), each further line is one option with its values, or a positional argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub program: String,
    pub lines: Vec<Vec<Word>>,
    /// Environment variables set for the program (POSIX: for it alone; PowerShell and cmd set
    /// them in the session, on lines before it).
    pub env: Vec<(String, String)>,
}

impl Cmd {
    /// `program` with `head` on its first line.
    pub fn new(program: &str, head: &[&str]) -> Self {
        Cmd {
            program: program.to_string(),
            lines: vec![head.iter().map(|w| Word::lit(*w)).collect()],
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for the program.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// `aws` with its subcommand words.
    pub fn aws(subcommand: &[&str]) -> Self {
        Cmd::new("aws", subcommand)
    }

    /// A line of words.
    pub fn line(mut self, words: Vec<Word>) -> Self {
        self.lines.push(words);
        self
    }

    /// `--flag value` on a line of its own.
    pub fn option(self, flag: &str, value: impl Into<String>) -> Self {
        self.line(vec![Word::lit(flag), Word::lit(value)])
    }

    pub fn value_option(self, flag: &str, value: Word) -> Self {
        self.line(vec![Word::lit(flag), value])
    }

    /// A bare word on a line of its own: a flag without a value, or a positional argument.
    pub fn flag(self, word: &str) -> Self {
        self.line(vec![Word::lit(word)])
    }

    pub fn arg(self, word: &str) -> Self {
        self.flag(word)
    }

    /// The literal words of the first line, for messages ("aws lambda create-function").
    pub fn summary(&self) -> String {
        let mut words = vec![self.program.clone()];
        words.extend(self.lines[0].iter().filter_map(|w| match w {
            Word::Literal(text) => Some(text.clone()),
            _ => None,
        }));
        words.join(" ")
    }

    fn words(&self) -> impl Iterator<Item = &Word> {
        self.lines.iter().flatten()
    }

    /// The arguments to run the program with, as the shell passes them for [`Self::render`].
    /// Fails for a command that reads an environment variable: the kit runs only what it knows.
    pub fn argv(&self) -> Result<Vec<String>> {
        self.words()
            .map(|word| match word {
                Word::Literal(text) | Word::FileBacked { text, .. } => Ok(text.clone()),
                Word::Env(env) => Err(Error::ReadsVariable {
                    command: self.summary(),
                    variable: env.name.clone(),
                    what: env.what.clone(),
                }),
            })
            .collect()
    }

    /// The arguments the program receives from [`Self::render`] for `shell`: [`Self::argv`],
    /// with `file://PATH` where that shell passes a value through its file.
    pub fn argv_for(&self, shell: Shell) -> Result<Vec<String>> {
        let mut argv = self.argv()?;
        for (arg, word) in argv.iter_mut().zip(self.words()) {
            if let Word::FileBacked { text, shown, .. } = word {
                if shell.quote(text).is_err() {
                    *arg = format!("file://{shown}");
                }
            }
        }
        Ok(argv)
    }

    /// The command to run: the program found on PATH, these arguments.
    pub fn command(&self) -> Result<Command> {
        let mut command = Command::new(&self.program);
        command.args(self.argv()?);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        Ok(command)
    }

    /// Moves the files of file-backed words into `dir`, shown relative to `cwd`.
    pub fn place_files(mut self, dir: &Path, cwd: &Path) -> Self {
        for word in self.lines.iter_mut().flatten() {
            if let Word::FileBacked { path, shown, .. } = word {
                let name = path.file_name().map(PathBuf::from).unwrap_or_default();
                *path = dir.join(name);
                *shown = crate::paths::shown_from(path, cwd);
            }
        }
        self
    }

    /// The files the rendering for `shell` reads (path, contents): none in a POSIX shell.
    pub fn files(&self, shell: Shell) -> Vec<(PathBuf, String)> {
        self.words()
            .filter_map(|word| match word {
                Word::FileBacked { text, path, .. } if shell.quote(text).is_err() => {
                    // As it is: the aws CLI sends a file:// parameter's text unchanged.
                    Some((path.clone(), text.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// The lines said before the command: which values come from files, which variables must
    /// be set (PowerShell stops there when one is not).
    fn preamble(&self, shell: Shell) -> Result<Vec<String>, QuoteError> {
        let mut lines = Vec::new();
        for (name, value) in &self.env {
            match shell {
                Shell::Posix => {}
                Shell::PowerShell => {
                    lines.push(format!("$env:{name} = {}", ps_single_quote(value)))
                }
                Shell::Cmd => {
                    if value.contains(['%', '"', '\n', '\r']) {
                        return Err(QuoteError::Percent);
                    }
                    lines.push(format!("set \"{name}={value}\""));
                }
            }
        }
        let mut seen = BTreeSet::new();
        for line in &self.lines {
            for word in line {
                match word {
                    Word::FileBacked { text, shown, .. } if shell.quote(text).is_err() => {
                        let option = match &line[0] {
                            Word::Literal(flag) if flag.starts_with('-') => flag.clone(),
                            _ => "the value".to_string(),
                        };
                        let why = match shell.quote(text) {
                            Err(QuoteError::PowerShellUnsafe(why)) => format!("PowerShell {why}"),
                            Err(QuoteError::Percent) => "cmd would expand its % signs".into(),
                            _ => format!("{} cannot pass it", shell.name()),
                        };
                        lines.push(format!(
                            "{}{option} is read from {shown}, written by the kit ({why})",
                            shell.comment()
                        ));
                    }
                    // cmd reads another variable for the host; PowerShell checks the one.
                    Word::Env(env)
                        if seen
                            .insert((env.name.clone(), env.host_only && shell == Shell::Cmd)) =>
                    {
                        match shell {
                            Shell::Posix => {}
                            Shell::PowerShell => lines.push(format!(
                                "if (-not $env:{name}) {{ throw {} }}",
                                ps_single_quote(&format!("set $env:{} to {}", env.name, env.what)),
                                name = env.name
                            )),
                            Shell::Cmd if env.host_only => lines.push(format!(
                                "rem set {} to the host of {} (the part before the first /)",
                                env.cmd_host_name(),
                                env.name
                            )),
                            Shell::Cmd => lines.push(format!(
                                "rem set {} to {} first (set {}=...)",
                                env.name, env.what, env.name
                            )),
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(lines)
    }

    /// The words as `shell` writes them, line by line, and the preamble.
    fn rendered_lines(&self, shell: Shell) -> Result<(Vec<String>, Vec<String>)> {
        let mut out = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            let mut words = Vec::with_capacity(line.len() + 1);
            if i == 0 && shell == Shell::Posix {
                // `NAME=value program …`: for this program only.
                for (name, value) in &self.env {
                    words.push(format!(
                        "{name}={}",
                        shell.quote(value).map_err(|e| self.error(shell, e))?
                    ));
                }
            }
            if i == 0 {
                words.push(
                    shell
                        .quote(&self.program)
                        .map_err(|e| self.error(shell, e))?,
                );
            }
            for word in line {
                words.push(word.render(shell).map_err(|e| self.error(shell, e))?);
            }
            let indent = if i == 0 { "" } else { "  " };
            if i > 0 && words.is_empty() {
                continue;
            }
            out.push(format!("{indent}{}", words.join(" ")));
        }
        let preamble = self.preamble(shell).map_err(|e| self.error(shell, e))?;
        Ok((preamble, out))
    }

    fn error(&self, shell: Shell, problem: QuoteError) -> Error {
        Error::Unwritable {
            command: self.summary(),
            shell: shell.name(),
            problem,
        }
    }

    /// The command on one line, for a log of what runs (`$ aws lambda get-function …`).
    pub fn render_line(&self, shell: Shell) -> Result<String> {
        let (_, lines) = self.rendered_lines(shell)?;
        Ok(lines
            .iter()
            .map(|l| l.trim_start())
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// The command as a user types it into `shell`: the program and its first line, then one
    /// option per line, continued with the shell's line continuation; before it, the lines that
    /// say what it reads from files and variables.
    pub fn render(&self, shell: Shell) -> Result<String> {
        let (mut preamble, lines) = self.rendered_lines(shell)?;
        preamble.push(lines.join(&format!("{}\n", shell.continuation())));
        Ok(preamble.join("\n"))
    }
}

/// One step of a [`Script`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Run(Cmd),
    /// The first command's output is the second's input (`aws ecr get-login-password |
    /// docker login --password-stdin …`): the same `|` in all three shells.
    Pipe(Cmd, Cmd),
}

/// Commands run one after the other, as printed for a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script(pub Vec<Step>);

impl Script {
    pub fn run(mut self, command: Cmd) -> Self {
        self.0.push(Step::Run(command));
        self
    }

    pub fn pipe(mut self, from: Cmd, to: Cmd) -> Self {
        self.0.push(Step::Pipe(from, to));
        self
    }

    pub fn commands(&self) -> impl Iterator<Item = &Cmd> {
        self.0.iter().flat_map(|step| match step {
            Step::Run(c) => vec![c],
            Step::Pipe(a, b) => vec![a, b],
        })
    }

    pub fn render(&self, shell: Shell) -> Result<String> {
        let mut out = Vec::new();
        for step in &self.0 {
            match step {
                Step::Run(command) => out.push(command.render(shell)?),
                Step::Pipe(from, to) => {
                    let (mut preamble, first) = from.rendered_lines(shell)?;
                    let (more, second) = to.rendered_lines(shell)?;
                    preamble.extend(more);
                    let join =
                        |lines: Vec<String>| lines.join(&format!("{}\n", shell.continuation()));
                    preamble.push(format!("{} | {}", join(first), join(second)));
                    out.push(preamble.join("\n"));
                }
            }
        }
        Ok(out.join("\n"))
    }
}

/// Writes the files `shell`'s renderings of `commands` read (JSON passed as `file://`).
pub fn write_files<'a>(commands: impl IntoIterator<Item = &'a Cmd>, shell: Shell) -> Result<()> {
    for command in commands {
        for (path, contents) in command.files(shell) {
            crate::atomic_file::write(&path, contents.as_bytes()).map_err(|e| Error::File {
                path: path.clone(),
                command: command.summary(),
                problem: crate::error::chain_text(&e),
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::shell::tests::{
        cmd_ends_outside_quotes, cmd_preprocess, msvc_split, posix_split, ps_legacy_pass,
        ps_unquote,
    };
    use super::*;

    fn role() -> Word {
        Word::Env(EnvRef::new("LAMBDA_ROLE_ARN", "the execution role ARN"))
    }

    fn sample() -> Cmd {
        Cmd::aws(&["lambda", "create-function"])
            .option("--function-name", "pi")
            .value_option(
                "--environment",
                Word::file_backed(r#"{"Variables":{"A":"x y"}}"#, "environment.json"),
            )
            .option("--zip-file", "fileb://C:/Users/Jo Doe/lambda.zip")
            .value_option("--role", role())
            .env("AWS_ACCESS_KEY_ID", "local")
    }

    #[test]
    fn posix_lines_split_back_into_the_argv() {
        let text = sample().render(Shell::Posix).unwrap();
        assert_eq!(
            text,
            "AWS_ACCESS_KEY_ID=local aws lambda create-function \\\n  --function-name pi \\\n  \
             --environment '{\"Variables\":{\"A\":\"x y\"}}' \\\n  \
             --zip-file 'fileb://C:/Users/Jo Doe/lambda.zip' \\\n  \
             --role \"${LAMBDA_ROLE_ARN:?set LAMBDA_ROLE_ARN to the execution role ARN}\""
        );
        // Without the variable's word, the reference splitter gives back every argument.
        let known = Cmd {
            lines: sample().lines[..4].to_vec(),
            ..sample()
        };
        let words = posix_split(&known.render(Shell::Posix).unwrap());
        assert_eq!(words[0], "AWS_ACCESS_KEY_ID=local");
        assert_eq!(words[2..], known.argv().unwrap()[..]);
        assert!(sample().files(Shell::Posix).is_empty());
        assert!(sample()
            .argv()
            .unwrap_err()
            .to_string()
            .contains("$LAMBDA_ROLE_ARN"));
    }

    #[test]
    fn powershell_has_no_posix_syntax_and_passes_json_in_files() {
        let command = sample().place_files(Path::new("/p/dist"), Path::new("/p"));
        let text = command.render(Shell::PowerShell).unwrap();
        assert_eq!(
            text,
            "$env:AWS_ACCESS_KEY_ID = 'local'\n\
             # --environment is read from dist/environment.json, written by the kit (PowerShell \
             5.1 and 7.2 strip the double quotes inside it)\n\
             if (-not $env:LAMBDA_ROLE_ARN) { throw 'set $env:LAMBDA_ROLE_ARN to the execution \
             role ARN' }\n\
             aws lambda create-function `\n  --function-name pi `\n  \
             --environment file://dist/environment.json `\n  \
             --zip-file 'fileb://C:/Users/Jo Doe/lambda.zip' `\n  \
             --role $env:LAMBDA_ROLE_ARN"
        );
        for posix_only in [" \\\n", "${", ":?", "$(", "'{", "cat "] {
            assert!(!text.contains(posix_only), "{posix_only}: {text}");
        }
        assert_eq!(
            command.files(Shell::PowerShell),
            [(
                PathBuf::from("/p/dist/environment.json"),
                r#"{"Variables":{"A":"x y"}}"#.to_string()
            )]
        );
        // Every literal word passes the same in Windows PowerShell 5.1 (legacy) as typed.
        for line in text.lines().filter(|l| l.starts_with("  --")) {
            let word = line.trim_end_matches(" `").split_once(' ').unwrap().1;
            if !word.starts_with('$') {
                let value = ps_unquote(word);
                assert_eq!(msvc_split(&ps_legacy_pass(&value)), [value]);
            }
        }
    }

    #[test]
    fn cmd_says_what_to_set_and_carries_json_with_carets() {
        let text = sample().render(Shell::Cmd).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "set \"AWS_ACCESS_KEY_ID=local\"");
        assert_eq!(
            lines[1],
            "rem set LAMBDA_ROLE_ARN to the execution role ARN first (set LAMBDA_ROLE_ARN=...)"
        );
        let command = lines[2..].join("\n");
        assert!(
            command.ends_with("--role \"%LAMBDA_ROLE_ARN%\""),
            "{command}"
        );
        for line in &lines[2..] {
            assert!(cmd_ends_outside_quotes(line), "{line}");
        }
        // What the program receives, once cmd has read the line (the variable left as typed).
        let seen = cmd_preprocess(&command).unwrap();
        let argv = msvc_split(&seen);
        assert_eq!(
            argv[1..9],
            sample().lines[..4]
                .concat()
                .iter()
                .map(|w| match w {
                    Word::Literal(t) | Word::FileBacked { text: t, .. } => t.clone(),
                    Word::Env(_) => unreachable!(),
                })
                .collect::<Vec<_>>()[..]
        );
        // `%` has no escape at the prompt: refused, with the way out.
        let error = Cmd::new("x", &["100%"])
            .render(Shell::Cmd)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("cmd") && error.contains("--shell"),
            "{error}"
        );
    }

    #[test]
    fn pipes_and_hosts() {
        let uri = EnvRef::new("ECR_REPOSITORY_URI", "the repository");
        let script = Script::default().pipe(
            Cmd::new("aws", &["ecr", "get-login-password"]),
            Cmd::new("docker", &["login"]).line(vec![Word::Env(uri.clone().host())]),
        );
        assert_eq!(
            script.render(Shell::Posix).unwrap(),
            "aws ecr get-login-password | docker login \\\n  \"${ECR_REPOSITORY_URI%%/*}\""
        );
        assert_eq!(
            script.render(Shell::PowerShell).unwrap(),
            "if (-not $env:ECR_REPOSITORY_URI) { throw 'set $env:ECR_REPOSITORY_URI to the \
             repository' }\naws ecr get-login-password | docker login `\n  \
             $env:ECR_REPOSITORY_URI.Split('/')[0]"
        );
        assert_eq!(
            script.render(Shell::Cmd).unwrap(),
            "rem set ECR_REPOSITORY_URI_HOST to the host of ECR_REPOSITORY_URI (the part before \
             the first /)\naws ecr get-login-password | docker login ^\n  \"%ECR_REPOSITORY_URI_HOST%\""
        );
        let tagged = Word::Env(uri.around("docker://", ":x86_64"));
        assert_eq!(
            tagged.render(Shell::Posix).unwrap(),
            "docker://\"${ECR_REPOSITORY_URI:?set ECR_REPOSITORY_URI to the repository}\":x86_64"
        );
        assert_eq!(
            tagged.render(Shell::PowerShell).unwrap(),
            "\"docker://${env:ECR_REPOSITORY_URI}:x86_64\""
        );
        assert_eq!(
            tagged.render(Shell::Cmd).unwrap(),
            "\"docker://%ECR_REPOSITORY_URI%:x86_64\""
        );
    }
}
