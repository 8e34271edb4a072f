//! Quoting for the shell a user pastes the kit's commands into: a POSIX shell (sh, bash, dash,
//! zsh), PowerShell (Windows PowerShell 5.1 and PowerShell 7), or cmd.exe. Pure functions, no
//! I/O; `Shell::detect` takes the environment as a closure. [`super::Cmd`] renders whole
//! commands with these rules.
//!
//! Which values each shell can carry, and why (docs/hosts.md has the sources):
//!
//! * POSIX: anything but NUL. Plain words stay bare, the rest is single-quoted, `'` as `'\''`.
//! * PowerShell: single-quoted strings (`'` and its typographic twins doubled), but Windows
//!   PowerShell 5.1 and PowerShell 7.0-7.2 (and 7.3+ with `$PSNativeCommandArgumentPassing =
//!   'Legacy'`, and 7.3+ for `.cmd`/`.bat` targets such as pip's `aws.cmd`) build the native
//!   command line without escaping embedded `"`, drop empty arguments, and break a quoted
//!   argument that ends in `\`. 7.3+ in `Standard`/`Windows` mode escapes correctly. No one
//!   literal reaches `aws.exe` intact in both, so such values are refused
//!   ([`QuoteError::PowerShellUnsafe`]): the kit passes JSON as `file://payload.json` instead.
//! * cmd: the Windows command-line rules that `aws.exe` (MSVC CRT), Rust's `std::env::args`
//!   and `CommandLineToArgvW` share (`"..."`, `\"`, backslashes doubled before a `"`). A value
//!   without `"` is simply wrapped in `"`: cmd is inside quotes exactly there, so `& | < > ^`
//!   stay literal. A value with `"` would flip cmd's quote state mid-value, so there every `"`
//!   is written `^"` and every metacharacter gets a `^`: cmd never enters quotes, and a
//!   trailing `^` always continues the line. `%` is refused: an interactive cmd line has no
//!   reliable escape for it (`%%` is only for batch files, `^%` works only outside quotes).
//!   `!` is literal while delayed expansion is off, cmd's default (and `^!` where carets are).

use std::fmt;

/// The shell a printed command is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    /// sh, bash, dash, zsh, ksh (and Git Bash, MSYS2, Cygwin on Windows).
    Posix,
    /// Windows PowerShell 5.1 and PowerShell 7 (pwsh).
    #[value(name = "powershell")]
    PowerShell,
    /// cmd.exe, typed or pasted at its prompt.
    Cmd,
}

/// `--shell`, for every task that prints commands.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ShellArgs {
    /// The shell the printed commands are written for [default: posix; on Windows posix under
    /// Git Bash, MSYS2 or Cygwin, else powershell].
    #[arg(long, value_enum)]
    pub shell: Option<Shell>,
}

impl ShellArgs {
    /// The shell asked for, or the one this process most likely runs under.
    pub fn shell(&self) -> Shell {
        self.shell
            .unwrap_or_else(|| Shell::detect(cfg!(windows), |name| std::env::var(name).ok()))
    }
}

/// A value that cannot be written for a shell so that the program receives it unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteError {
    /// NUL cannot be in any argument.
    Nul,
    /// A line break cannot be in a cmd argument, nor survive PowerShell 5.1.
    LineBreak(Shell),
    /// PowerShell 5.1 / 7.2 pass it differently from 7.3+: embedded `"`, an empty value, or
    /// whitespace with a trailing `\`.
    PowerShellUnsafe(String),
    /// `%` on a cmd command line.
    Percent,
}

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuoteError::Nul => write!(f, "a NUL byte cannot be passed as an argument"),
            QuoteError::LineBreak(shell) => {
                write!(
                    f,
                    "a line break cannot be passed in an argument in {}",
                    shell.name()
                )
            }
            QuoteError::PowerShellUnsafe(why) => write!(
                f,
                "PowerShell 5.1 and 7.3+ would pass this value differently ({why}); \
                 pass it in a file (file://...) instead"
            ),
            QuoteError::Percent => write!(
                f,
                "cmd expands %...% even inside quotes and has no escape that works both at the \
                 prompt and in a batch file; pass this value in a file (file://...) instead"
            ),
        }
    }
}

impl std::error::Error for QuoteError {}

impl Shell {
    pub fn name(self) -> &'static str {
        match self {
            Shell::Posix => "a POSIX shell",
            Shell::PowerShell => "PowerShell",
            Shell::Cmd => "cmd",
        }
    }

    /// What ends a line that the next line continues (the shell's line-continuation).
    pub fn continuation(self) -> &'static str {
        match self {
            Shell::Posix => " \\",
            // Must be the very last character of the line: a backtick before a space escapes
            // the space and ends the command.
            Shell::PowerShell => " `",
            // The caret escapes the line break; cmd then reads the next line's first character
            // literally, which is a space in the kit's indented lines.
            Shell::Cmd => " ^",
        }
    }

    /// What starts a comment line: the kit says on such a line what a command needs.
    pub fn comment(self) -> &'static str {
        match self {
            Shell::Posix | Shell::PowerShell => "# ",
            Shell::Cmd => "rem ",
        }
    }

    /// One argument, quoted only where the shell needs it.
    pub fn quote(self, arg: &str) -> Result<String, QuoteError> {
        if arg.contains('\0') {
            return Err(QuoteError::Nul);
        }
        match self {
            Shell::Posix => Ok(quote_posix(arg)),
            Shell::PowerShell => quote_powershell(arg),
            Shell::Cmd => quote_cmd(arg),
        }
    }

    /// The shell to print for. On Unix (Linux, macOS, WSL): POSIX. On Windows: POSIX when a
    /// POSIX shell is evidently the one running (Git Bash, MSYS2, Cygwin), else PowerShell,
    /// the default shell of Windows Terminal and of VS Code on Windows. cmd is never guessed
    /// (PowerShell and cmd leave no reliable trace in the environment): `--shell cmd`.
    pub fn detect(windows: bool, env: impl Fn(&str) -> Option<String>) -> Shell {
        if !windows {
            return Shell::Posix;
        }
        // MSYSTEM: MSYS2 (MSYS, MINGW64, UCRT64, CLANG64, ...) and Git for Windows (MINGW64).
        let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
        if set("MSYSTEM") {
            return Shell::Posix;
        }
        // SHELL: Cygwin, MSYS2 and Git Bash export a POSIX path such as /usr/bin/bash; Windows
        // itself never sets it.
        if let Some(shell) = env("SHELL") {
            let base = shell.rsplit(['/', '\\']).next().unwrap_or("");
            let base = base.strip_suffix(".exe").unwrap_or(base);
            if matches!(
                base,
                "sh" | "bash" | "dash" | "zsh" | "ksh" | "mksh" | "ash" | "busybox"
            ) {
                return Shell::Posix;
            }
        }
        Shell::PowerShell
    }

    /// Parses a `--shell` value.
    pub fn from_name(name: &str) -> Option<Shell> {
        match name.to_ascii_lowercase().as_str() {
            "posix" | "sh" | "bash" | "zsh" | "dash" => Some(Shell::Posix),
            "powershell" | "pwsh" | "ps" => Some(Shell::PowerShell),
            "cmd" | "cmd.exe" => Some(Shell::Cmd),
            _ => None,
        }
    }
}

/// Characters that need no quoting in any POSIX shell, wherever they stand (`=` and `~` are
/// special at the start of a word: zsh's `=cmd`, tilde expansion).
fn posix_plain(arg: &str) -> bool {
    !arg.is_empty()
        && !arg.starts_with(['=', '~'])
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+=:,./@%".contains(c))
}

fn quote_posix(arg: &str) -> String {
    if posix_plain(arg) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// PowerShell treats these four as single quotes too; doubling each keeps it literal.
const PS_SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

pub(crate) fn ps_single_quote(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        if PS_SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Bare words PowerShell passes as they are: letters, digits and `_ - . / : =`, not starting
/// with `-` unless it is a plain `--flag` (PowerShell splits `-a.b` at the dot for native
/// commands), nor with a digit unless all digits (`1e3`, `0x10` are number literals).
fn powershell_plain(arg: &str) -> bool {
    let chars_ok = arg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./:=".contains(c));
    if arg.is_empty() || !chars_ok {
        return false;
    }
    if let Some(rest) = arg.strip_prefix('-') {
        return rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    }
    if arg.starts_with(|c: char| c.is_ascii_digit()) {
        return arg.chars().all(|c| c.is_ascii_digit());
    }
    true
}

fn quote_powershell(arg: &str) -> Result<String, QuoteError> {
    if arg.contains(['\n', '\r']) {
        return Err(QuoteError::LineBreak(Shell::PowerShell));
    }
    if arg.is_empty() {
        return Err(QuoteError::PowerShellUnsafe(
            "5.1 drops an empty argument".into(),
        ));
    }
    if arg.contains(['"', '\u{201C}', '\u{201D}', '\u{201E}']) {
        return Err(QuoteError::PowerShellUnsafe(
            "5.1 and 7.2 strip the double quotes inside it".into(),
        ));
    }
    if arg.ends_with('\\') && arg.contains([' ', '\t']) {
        return Err(QuoteError::PowerShellUnsafe(
            "5.1 quotes it and its trailing backslash escapes the closing quote".into(),
        ));
    }
    if powershell_plain(arg) {
        Ok(arg.to_string())
    } else {
        Ok(ps_single_quote(arg))
    }
}

/// Bare words that cmd and the MSVC CRT both leave alone.
fn cmd_plain(arg: &str) -> bool {
    !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:\\+@".contains(c))
}

fn quote_cmd(arg: &str) -> Result<String, QuoteError> {
    if arg.contains(['\n', '\r']) {
        return Err(QuoteError::LineBreak(Shell::Cmd));
    }
    if arg.contains('%') {
        return Err(QuoteError::Percent);
    }
    if cmd_plain(arg) {
        return Ok(arg.to_string());
    }
    let quoted = msvc_quote(arg);
    if !arg.contains('"') {
        // Two quotes: cmd is inside them exactly where the value is, so its metacharacters
        // are literal there, and the line ends outside quotes.
        return Ok(quoted);
    }
    // An embedded `\"` would toggle cmd's quote state and leave a part of the value outside
    // quotes (where `&` runs a second command) and, for an odd count, the end of the line
    // inside quotes (where `^` no longer continues it). So cmd must never enter quotes: each
    // `"` is written `^"`, and every metacharacter gets a caret too.
    let mut out = String::with_capacity(quoted.len() * 2);
    for c in quoted.chars() {
        if matches!(c, '"' | '^' | '&' | '|' | '<' | '>' | '(' | ')' | '!') {
            out.push('^');
        }
        out.push(c);
    }
    Ok(out)
}

/// Quotes one argument by the rules every Windows command-line splitter shares (the MSVC CRT
/// of any year, UCRT, `CommandLineToArgvW`, Rust's `std::env::args`, Python's argv): wrapped
/// in `"`, each `"` of the value as `\"`, and backslashes doubled only where they precede a
/// `"` (one of the value's, or the closing one). Not `""`: inside quotes the CRT since 2008
/// reads it as a literal `"`, but `CommandLineToArgvW` and older CRTs also leave quote mode.
pub fn msvc_quote(arg: &str) -> String {
    let mut out = String::from("\"");
    let mut backslashes = 0usize;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                backslashes = 0;
                out.push('"');
            }
            c => {
                out.extend(std::iter::repeat_n('\\', backslashes));
                backslashes = 0;
                out.push(c);
            }
        }
    }
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The values the proofs in FINDINGS.md send through real shells.
    pub const TRICKY: &[&str] = &[
        "plain-word_1.zip",
        "{\"digits\": \"10_000\"}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"}]}",
        "C:\\Program Files\\x\\",
        "fileb://Z:\\a b\\lambda-x86_64.zip",
        "fileb://dist/lambda-arm64.zip",
        "arn:aws:iam::123456789012:role/lambda-basic",
        "Variables={A=1,B=\"x y\"}",
        "a&b|c<d>e^f(g)h",
        "it's",
        "say \"hi\"\\",
        "back\\\\\"slash",
        "trailing\\",
        "trailing space \\\\",
        "bang!",
        "",
        " leading and trailing ",
        "$HOME `date` $(id)",
        "*.zip ?",
        "=zsh-equals",
        "~tilde",
        "tab\there",
        "unicode π ‘quoted’",
        "100%",
        "%PATH%",
    ];

    /// A reference POSIX word splitter for single quotes, double quotes and backslashes, enough
    /// for what `quote_posix` writes.
    pub(crate) fn posix_split(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut cur = String::new();
        let mut in_word = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' => {
                    in_word = true;
                    for c in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                        cur.push(c);
                    }
                }
                '\\' => match chars.next() {
                    Some('\n') => {} // a continued line: no word
                    Some(c) => {
                        in_word = true;
                        cur.push(c);
                    }
                    None => {}
                },
                ' ' | '\t' | '\n' => {
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                c => {
                    in_word = true;
                    cur.push(c);
                }
            }
        }
        if in_word {
            words.push(cur);
        }
        words
    }

    /// The MSVC CRT (post-2008) / Rust std rules for everything after argv[0].
    pub(crate) fn msvc_split(line: &str) -> Vec<String> {
        let chars: Vec<char> = line.chars().collect();
        let mut args = Vec::new();
        let mut i = 0;
        loop {
            while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
                i += 1;
            }
            if i >= chars.len() {
                return args;
            }
            let mut cur = String::new();
            let mut in_quotes = false;
            while i < chars.len() {
                let c = chars[i];
                if c == '\\' {
                    let start = i;
                    while i < chars.len() && chars[i] == '\\' {
                        i += 1;
                    }
                    let n = i - start;
                    if i < chars.len() && chars[i] == '"' {
                        cur.extend(std::iter::repeat_n('\\', n / 2));
                        if n % 2 == 1 {
                            cur.push('"');
                            i += 1;
                        }
                    } else {
                        cur.extend(std::iter::repeat_n('\\', n));
                    }
                    continue;
                }
                if c == '"' {
                    if in_quotes && chars.get(i + 1) == Some(&'"') {
                        cur.push('"');
                        i += 2;
                        continue;
                    }
                    in_quotes = !in_quotes;
                    i += 1;
                    continue;
                }
                if !in_quotes && (c == ' ' || c == '\t') {
                    break;
                }
                cur.push(c);
                i += 1;
            }
            args.push(cur);
        }
    }

    /// What cmd does to a pasted line before the program sees it, for the lines the renderer
    /// writes (no `%`, delayed expansion off): outside quotes `^x` is `x` and `^` + line
    /// break joins the lines; inside quotes nothing changes. Returns None when a metacharacter
    /// would act (`& | < >` outside quotes), i.e. the rendering is wrong.
    pub(crate) fn cmd_preprocess(text: &str) -> Option<String> {
        let mut out = String::new();
        let mut in_quotes = false;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    in_quotes = !in_quotes;
                    out.push(c);
                }
                '^' if !in_quotes => match chars.next() {
                    // The escaped line break: the next line's first character is taken
                    // literally.
                    Some('\n') => {
                        if let Some(next) = chars.next() {
                            if next == '"' {
                                return None; // would not toggle: not modelled
                            }
                            out.push(next);
                        }
                    }
                    Some(next) => out.push(next),
                    None => {}
                },
                '&' | '|' | '<' | '>' if !in_quotes => return None,
                '\n' => return None, // an unescaped line break ends the command
                c => out.push(c),
            }
        }
        Some(out)
    }

    /// Whether cmd is outside quotes after `text` (a caret outside quotes escapes the next
    /// character, a `"` included; inside quotes a caret is literal).
    pub(crate) fn cmd_ends_outside_quotes(text: &str) -> bool {
        let mut in_quotes = false;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => in_quotes = !in_quotes,
                '^' if !in_quotes => {
                    chars.next();
                }
                _ => {}
            }
        }
        !in_quotes
    }

    #[test]
    fn posix_quoting_round_trips() {
        for value in TRICKY {
            let quoted = Shell::Posix.quote(value).unwrap();
            assert_eq!(posix_split(&quoted), [*value], "{value:?} -> {quoted}");
        }
        assert_eq!(
            quote_posix("fileb://dist/lambda-x86_64.zip"),
            "fileb://dist/lambda-x86_64.zip"
        );
        assert_eq!(quote_posix("with space"), "'with space'");
        assert_eq!(quote_posix("it's"), "'it'\\''s'");
        assert_eq!(quote_posix(""), "''");
        assert_eq!(quote_posix("=x"), "'=x'");
        assert_eq!(quote_posix("a=b"), "a=b");
        assert_eq!(Shell::Posix.quote("a\0b"), Err(QuoteError::Nul));
    }

    #[test]
    fn cmd_quoting_round_trips_through_cmd_and_the_crt() {
        for value in TRICKY {
            match Shell::Cmd.quote(value) {
                Ok(quoted) => {
                    let seen = cmd_preprocess(&quoted).unwrap_or_else(|| panic!("{quoted}"));
                    assert_eq!(msvc_split(&seen), [*value], "{value:?} -> {quoted}");
                    // cmd ends the argument outside quotes, so a caret after it continues.
                    assert!(cmd_ends_outside_quotes(&quoted), "{quoted}");
                    // No `""` (CommandLineToArgvW reads it otherwise than the CRT).
                    assert!(value.is_empty() || !quoted.contains("\"\""), "{quoted}");
                }
                Err(e) => {
                    assert!(value.contains('%'), "{value:?}: {e}");
                    assert_eq!(e, QuoteError::Percent);
                }
            }
        }
    }

    #[test]
    fn cmd_examples() {
        let q = |s| Shell::Cmd.quote(s).unwrap();
        assert_eq!(
            q("fileb://dist/lambda-arm64.zip"),
            "fileb://dist/lambda-arm64.zip"
        );
        assert_eq!(q("C:\\dist\\lambda.zip"), "C:\\dist\\lambda.zip");
        assert_eq!(q("{\"digits\": 20}"), "^\"{\\^\"digits\\^\": 20}^\"");
        assert_eq!(q("a b\\"), "\"a b\\\\\"");
        assert_eq!(q("a\\\"b"), "^\"a\\\\\\^\"b^\"");
        assert_eq!(q("x\"&y"), "^\"x\\^\"^&y^\"");
        assert_eq!(q("x&y"), "\"x&y\"");
        assert_eq!(q(""), "\"\"");
        assert_eq!(Shell::Cmd.quote("50%"), Err(QuoteError::Percent));
        assert_eq!(
            Shell::Cmd.quote("a\nb"),
            Err(QuoteError::LineBreak(Shell::Cmd))
        );
    }

    /// The PowerShell single-quoted string rules: `'...'` is verbatim, `''` is one `'`, and
    /// the typographic single quotes count as `'`.
    pub(crate) fn ps_unquote(word: &str) -> String {
        if !word.starts_with(PS_SINGLE_QUOTES) {
            return word.to_string();
        }
        let inner: Vec<char> = word.chars().collect();
        let inner = &inner[1..inner.len() - 1];
        let mut out = String::new();
        let mut i = 0;
        while i < inner.len() {
            out.push(inner[i]);
            if PS_SINGLE_QUOTES.contains(&inner[i]) {
                assert!(
                    PS_SINGLE_QUOTES.contains(&inner[i + 1]),
                    "lone quote in {word}"
                );
                i += 1;
            }
            i += 1;
        }
        out
    }

    /// Windows PowerShell 5.1's legacy native command line for one argument: wrapped in `"`
    /// when it holds whitespace, nothing escaped.
    pub(crate) fn ps_legacy_pass(arg: &str) -> String {
        if arg.contains([' ', '\t']) {
            format!("\"{arg}\"")
        } else {
            arg.to_string()
        }
    }

    #[test]
    fn powershell_quoting_survives_both_argument_passing_modes() {
        for value in TRICKY {
            match Shell::PowerShell.quote(value) {
                Ok(quoted) => {
                    assert_eq!(ps_unquote(&quoted), *value, "{quoted}");
                    // Legacy (5.1, 7.0-7.2): the CRT splits what PowerShell wrote back into
                    // the value. Standard (7.3+) escapes by the CRT rules, so it is exact.
                    assert_eq!(msvc_split(&ps_legacy_pass(value)), [*value], "{value:?}");
                }
                Err(QuoteError::PowerShellUnsafe(_)) => {
                    let legacy = msvc_split(&ps_legacy_pass(value));
                    assert_ne!(legacy, [*value], "{value:?} was refused but passes");
                }
                Err(QuoteError::LineBreak(_)) => assert!(value.contains('\n')),
                Err(e) => panic!("{value:?}: {e}"),
            }
        }
    }

    #[test]
    fn powershell_examples() {
        let q = |s| Shell::PowerShell.quote(s).unwrap();
        assert_eq!(
            q("fileb://dist/lambda-arm64.zip"),
            "fileb://dist/lambda-arm64.zip"
        );
        assert_eq!(q("--function-name"), "--function-name");
        assert_eq!(q("-a.b"), "'-a.b'");
        assert_eq!(q("128"), "128");
        assert_eq!(q("1e3"), "'1e3'");
        assert_eq!(q("it's"), "'it''s'");
        assert_eq!(q("$HOME"), "'$HOME'");
        assert_eq!(q("fileb://C:\\a b\\x.zip"), "'fileb://C:\\a b\\x.zip'");
        assert_eq!(q("a,b"), "'a,b'");
        assert_eq!(q("@x"), "'@x'");
        assert_eq!(q("‘x’"), "'‘‘x’’'");
        assert!(matches!(
            Shell::PowerShell.quote("{\"digits\": 20}"),
            Err(QuoteError::PowerShellUnsafe(_))
        ));
        assert!(matches!(
            Shell::PowerShell.quote(""),
            Err(QuoteError::PowerShellUnsafe(_))
        ));
        assert!(matches!(
            Shell::PowerShell.quote("C:\\a b\\"),
            Err(QuoteError::PowerShellUnsafe(_))
        ));
        assert_eq!(q("C:\\ab\\"), "'C:\\ab\\'");
    }

    #[test]
    fn msvc_quote_is_the_inverse_of_the_crt_split() {
        for value in TRICKY {
            assert_eq!(msvc_split(&msvc_quote(value)), [*value], "{value:?}");
        }
        // A few generated ones: every mix of the characters that matter.
        let alphabet = ['a', ' ', '\\', '"', '&', '^'];
        for n in 0..=4u32 {
            for mut k in 0..alphabet.len().pow(n) {
                let mut s = String::new();
                for _ in 0..n {
                    s.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                let quoted = msvc_quote(&s);
                assert_eq!(msvc_split(&quoted), [s.clone()], "{s:?} -> {quoted}");
                let via_cmd = cmd_preprocess(&quote_cmd(&s).unwrap()).unwrap();
                assert_eq!(msvc_split(&via_cmd), [s.clone()], "{s:?} via cmd");
            }
        }
    }

    #[test]
    fn detection() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shell::detect(false, env(&[])), Shell::Posix);
        assert_eq!(Shell::detect(true, env(&[])), Shell::PowerShell);
        assert_eq!(
            Shell::detect(true, env(&[("MSYSTEM", "MINGW64")])),
            Shell::Posix
        );
        assert_eq!(
            Shell::detect(true, env(&[("MSYSTEM", "")])),
            Shell::PowerShell
        );
        assert_eq!(
            Shell::detect(true, env(&[("SHELL", "/usr/bin/bash")])),
            Shell::Posix
        );
        assert_eq!(
            Shell::detect(true, env(&[("SHELL", "/bin/zsh")])),
            Shell::Posix
        );
        assert_eq!(
            Shell::detect(true, env(&[("SHELL", "C:\\msys64\\usr\\bin\\bash.exe")])),
            Shell::Posix
        );
        assert_eq!(
            Shell::detect(true, env(&[("SHELL", "pwsh")])),
            Shell::PowerShell
        );
        assert_eq!(
            Shell::detect(true, env(&[("PSModulePath", "C:\\x"), ("PROMPT", "$P$G")])),
            Shell::PowerShell
        );
        assert_eq!(Shell::from_name("PowerShell"), Some(Shell::PowerShell));
        assert_eq!(Shell::from_name("cmd"), Some(Shell::Cmd));
        assert_eq!(Shell::from_name("fish"), None);
    }
}
