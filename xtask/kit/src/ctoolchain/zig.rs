//! `zig cc` as the C compiler of the cargo builder for the two Lambda musl targets.
//!
//! zig is used only to compile C (and assembly) and to archive objects; rust-lld still links,
//! with Rust's own self-contained musl, exactly as for a pure-Rust function. cc-rs and cmake-rs
//! are pointed at small wrappers through their per-target variables, so nothing the user set
//! for the host, or for other targets, changes.
//!
//! Why wrappers: cc-rs (and CMake's flags, which cmake-rs takes from cc-rs) pass clang's
//! `--target=x86_64-unknown-linux-musl`; zig's driver parses targets its own way
//! (`x86_64-linux-musl`) and rejects Rust's triple ("UnknownOperatingSystem"). The wrapper drops
//! that argument and adds zig's `-target`, the path maps and `-fno-sanitize=all`. The maps live in the wrapper's
//! command line rather than in `CFLAGS_<target>`: cc-rs splits CFLAGS on whitespace, so a
//! checkout under "C:\Users\Jane Doe" would break them, and build systems that call `CC`
//! directly (CMake, jemalloc's configure) get them too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::command;

/// The zig release the kit pins (PyPI `ziglang==0.15.2`; clang 20.1.2 inside). Another release
/// compiles C with another clang and so gives other bytes for functions with C dependencies.
pub const ZIG_VERSION: &str = "0.15.2";

/// zig's name for a Lambda musl target; `None` for targets zig is not used for.
pub fn zig_target(rust_target: &str) -> Option<&'static str> {
    match rust_target {
        "x86_64-unknown-linux-musl" => Some("x86_64-linux-musl"),
        "aarch64-unknown-linux-musl" => Some("aarch64-linux-musl"),
        _ => None,
    }
}

/// A host folder and the name it gets in the binary: the same pairs, in the same order
/// (general to specific), as the Rust side's `--remap-path-prefix` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMap {
    pub from: String,
    pub to: String,
}

impl PathMap {
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Self {
        PathMap {
            from: from.into(),
            to: to.into(),
        }
    }

    /// clang's `-ffile-prefix-map`: rewrites `__FILE__` (aws-lc's error macros, asserts) and
    /// debug-info paths. With several matches, clang 20 takes the longest prefix for
    /// `__FILE__` and the last flag for debug info; general-to-specific order agrees on both.
    pub fn flag(&self) -> String {
        format!("-ffile-prefix-map={}={}", self.from, self.to)
    }
}

/// The tools a wrapper stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Cc,
    Cxx,
    Ar,
    Ranlib,
}

impl Tool {
    pub const ALL: [Tool; 4] = [Tool::Cc, Tool::Cxx, Tool::Ar, Tool::Ranlib];

    /// zig's subcommand.
    pub fn subcommand(self) -> &'static str {
        match self {
            Tool::Cc => "cc",
            Tool::Cxx => "c++",
            Tool::Ar => "ar",
            Tool::Ranlib => "ranlib",
        }
    }

    fn compiles(self) -> bool {
        matches!(self, Tool::Cc | Tool::Cxx)
    }
}

/// The wrappers of one target, in one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrappers {
    pub dir: PathBuf,
    pub zig_target: &'static str,
}

impl Wrappers {
    pub fn path(&self, tool: Tool) -> PathBuf {
        let name = format!(
            "{}-{}",
            self.zig_target,
            tool.subcommand().replace('+', "x")
        );
        self.dir.join(name)
    }

    pub fn cmake_toolchain_file(&self) -> PathBuf {
        self.dir.join(format!("{}.cmake", self.zig_target))
    }
}

/// The variables the cargo builder sets for `rust_target` so that cc-rs and cmake-rs compile
/// C with zig: `CC_`, `CXX_`, `AR_`, `RANLIB_` and `CMAKE_TOOLCHAIN_FILE_` for that target
/// only (underscore form, which cc-rs, cmake-rs and aws-lc-sys all read), and, on Windows,
/// `CMAKE_GENERATOR_<target>=Ninja` (Visual Studio's generator ignores the toolchain's compiler).
/// Empty for a target zig is not used for. `CFLAGS` are left to the user.
pub fn c_toolchain_env(
    rust_target: &str,
    wrappers: &Wrappers,
    host_is_windows: bool,
) -> Vec<(String, String)> {
    if zig_target(rust_target).is_none() {
        return Vec::new();
    }
    let suffix = rust_target.replace(['-', '.'], "_");
    let path = |tool| wrappers.path(tool).display().to_string();
    let mut env = vec![
        (format!("CC_{suffix}"), path(Tool::Cc)),
        (format!("CXX_{suffix}"), path(Tool::Cxx)),
        (format!("AR_{suffix}"), path(Tool::Ar)),
        (format!("RANLIB_{suffix}"), path(Tool::Ranlib)),
        (
            format!("CMAKE_TOOLCHAIN_FILE_{suffix}"),
            wrappers.cmake_toolchain_file().display().to_string(),
        ),
    ];
    if host_is_windows {
        env.push((format!("CMAKE_GENERATOR_{suffix}"), "Ninja".to_string()));
    }
    env
}

/// The command a compiler wrapper runs for the arguments cc-rs or CMake gave it: zig's
/// `-target`, the path maps, then every argument but clang's `--target=…` / `-target …`
/// (a Rust triple zig cannot parse). Archiver wrappers pass everything through.
pub fn wrapped_command(
    zig: &Path,
    zig_target: &str,
    tool: Tool,
    maps: &[PathMap],
    args: &[String],
) -> Vec<String> {
    let mut command = vec![zig.display().to_string(), tool.subcommand().to_string()];
    if !tool.compiles() {
        command.extend(args.iter().cloned());
        return command;
    }
    command.extend(["-target".to_string(), zig_target.to_string()]);
    command.extend(maps.iter().map(PathMap::flag));
    // zig cc turns UBSan on at -O0 (aws-lc builds its jitterentropy at -O0), and only zig's own
    // linker brings the runtime: rust-lld then fails on __ubsan_handle_*. An explicit
    // -fsanitize later on the command line still wins.
    command.push("-fno-sanitize=all".to_string());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg.starts_with("--target=") {
            continue;
        }
        if arg == "-target" || arg == "--target" {
            args.next();
            continue;
        }
        command.push(arg.clone());
    }
    command
}

/// A POSIX shell wrapper doing what [`wrapped_command`] says (Linux and macOS hosts).
pub fn sh_wrapper(zig: &Path, zig_target: &str, tool: Tool, maps: &[PathMap]) -> String {
    let fixed = wrapped_command(zig, zig_target, tool, maps, &[])
        .iter()
        .map(|a| sh_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let filter = if tool.compiles() {
        "# cc-rs and CMake pass clang's --target=<Rust triple>; zig names targets its own way.\n\
         for arg do\n  shift\n  case $arg in\n    --target=*) ;;\n    *) set -- \"$@\" \"$arg\" ;;\n  esac\ndone\n"
    } else {
        ""
    };
    format!(
        "#!/bin/sh\n# Written by lambda-kit: zig {ZIG_VERSION} `{}` for {zig_target} (see docs/kit.md).\n{filter}exec {fixed} \"$@\"\n",
        tool.subcommand()
    )
}

/// The CMake toolchain file for `rust_target`, naming the wrappers (CMake needs an archiver that
/// reads ELF objects of the target: the host's `ar`/`ranlib` may not, Apple's never do).
pub fn cmake_toolchain(rust_target: &str, wrappers: &Wrappers) -> String {
    let processor = rust_target.split('-').next().unwrap_or_default();
    let path = |tool| cmake_path(&wrappers.path(tool));
    format!(
        "# Written by lambda-kit: zig {ZIG_VERSION} for {rust_target} (see docs/kit.md).\n\
         set(CMAKE_SYSTEM_NAME Linux)\n\
         set(CMAKE_SYSTEM_PROCESSOR {processor})\n\
         set(CMAKE_C_COMPILER \"{}\")\n\
         set(CMAKE_CXX_COMPILER \"{}\")\n\
         set(CMAKE_AR \"{}\")\n\
         set(CMAKE_RANLIB \"{}\")\n",
        path(Tool::Cc),
        path(Tool::Cxx),
        path(Tool::Ar),
        path(Tool::Ranlib),
    )
}

/// The folder the wrappers of one zig, target and set of maps go to: its name carries a hash of
/// all three, so a new zig or a moved checkout gives a new `CC_<target>`, which makes cargo
/// rerun the C build scripts (cc-rs reruns on `CC_<target>` changes, not on the compiler's
/// bytes).
pub fn wrapper_dir(
    base: &Path,
    zig: &Path,
    zig_version: &str,
    zig_target: &str,
    maps: &[PathMap],
) -> PathBuf {
    let mut key = format!("{}\n{zig_version}\n{zig_target}", zig.display());
    for map in maps {
        key.push('\n');
        key.push_str(&map.flag());
    }
    base.join(format!("{zig_target}-{:016x}", fnv1a(key.as_bytes())))
}

/// What `zig version` printed, against the pinned release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionCheck {
    Pinned,
    /// Builds, but the C objects (so the zip's bytes) differ from the pinned release's.
    Other(String),
    Unreadable,
}

pub fn check_version(zig_version_output: &str) -> VersionCheck {
    let found = zig_version_output.trim();
    if found == ZIG_VERSION {
        VersionCheck::Pinned
    } else if found.split('.').count() >= 3
        && found.chars().next().is_some_and(|c| c.is_ascii_digit())
    {
        VersionCheck::Other(found.to_string())
    } else {
        VersionCheck::Unreadable
    }
}

/// The host operating systems the kit runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOs {
    Linux,
    MacOs,
    Windows,
}

impl HostOs {
    /// The host this kit runs on.
    pub fn current() -> HostOs {
        if cfg!(windows) {
            HostOs::Windows
        } else if cfg!(target_os = "macos") {
            HostOs::MacOs
        } else {
            HostOs::Linux
        }
    }
}

/// A zig that answered `zig version`, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zig {
    pub path: PathBuf,
    pub version: String,
    pub check: VersionCheck,
    /// "LAMBDA_KIT_ZIG", "on PATH", "python3 -m ziglang", "/w/.venv (ziglang)".
    pub found_by: String,
}

impl Zig {
    pub fn description(&self) -> String {
        format!(
            "zig {} ({}, {})",
            self.version,
            self.path.display(),
            self.found_by
        )
    }
}

/// The variable naming a zig executable explicitly; when set, it is the only one tried.
pub const ZIG_VARIABLE: &str = "LAMBDA_KIT_ZIG";

/// Finds zig, in this order: `$LAMBDA_KIT_ZIG`; PyPI's `ziglang` in the workspace's `.venv`
/// (where this repository's `cargo xtask setup` puts it); `zig` on PATH; `ziglang` in the
/// Python on PATH (`python3 -m ziglang`, resolved to its `zig` binary, which is then called
/// directly: a Python start per compiler call would cost ~30 ms × ~1,500 calls for the SDK).
/// The first one of the pinned version wins; else the first that answers. `None`: no zig.
pub fn find(workspace_root: &Path) -> Option<Zig> {
    if let Some(path) = std::env::var_os(ZIG_VARIABLE) {
        return probe(PathBuf::from(path), ZIG_VARIABLE.to_string());
    }
    let venv = workspace_root.join(".venv");
    let venv_python = venv.join(if cfg!(windows) {
        "Scripts/python.exe"
    } else {
        "bin/python"
    });
    let candidates: Vec<Box<dyn Fn() -> Option<Zig>>> = vec![
        Box::new(move || {
            let zig = ziglang_of(&venv_python)?;
            probe(zig, format!("ziglang in {}", venv.display()))
        }),
        Box::new(|| probe(which::which("zig").ok()?, "on PATH".to_string())),
        Box::new(|| {
            ["python3", "python", "py"].iter().find_map(|python| {
                let zig = ziglang_of(&which::which(python).ok()?)?;
                probe(zig, format!("{python} -m ziglang"))
            })
        }),
    ];
    let mut first = None;
    for candidate in candidates {
        if let Some(zig) = candidate() {
            if zig.check == VersionCheck::Pinned {
                return Some(zig);
            }
            first.get_or_insert(zig);
        }
    }
    first
}

/// The `zig` binary of the `ziglang` package of `python`, if it has one.
fn ziglang_of(python: &Path) -> Option<PathBuf> {
    let output = command::small_output_within(
        Command::new(python).args([
            "-c",
            "import os, ziglang; print(os.path.dirname(ziglang.__file__))",
        ]),
        Duration::from_secs(20),
    )?;
    if !output.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let zig = dir.join(if cfg!(windows) { "zig.exe" } else { "zig" });
    zig.is_file().then_some(zig)
}

/// `zig version` of `path`; `None` when it does not answer with a version.
fn probe(path: PathBuf, found_by: String) -> Option<Zig> {
    let output =
        command::small_output_within(Command::new(&path).arg("version"), Duration::from_secs(20))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let check = check_version(&text);
    if !output.status.success() || check == VersionCheck::Unreadable {
        return None;
    }
    Some(Zig {
        path,
        version: text.trim().to_string(),
        check,
        found_by,
    })
}

/// One sentence: how to get the pinned zig on `host`.
pub fn install_hint(host: HostOs) -> String {
    let pip = match host {
        HostOs::Windows => "py -m pip install ziglang==",
        _ => "python3 -m pip install --user ziglang==",
    };
    let other = match host {
        HostOs::Linux => "or unpack ziglang.org's zig-x86_64-linux tarball and put `zig` on PATH",
        HostOs::MacOs => "or `brew install zig` if Homebrew's release is the pinned one",
        HostOs::Windows => "or `winget install zig.zig` if its release is the pinned one",
    };
    format!("install zig {ZIG_VERSION}: `{pip}{ZIG_VERSION}` (the kit finds it through `python3 -m ziglang`, or in the workspace's .venv), {other}, or name it with {ZIG_VARIABLE}=/path/to/zig")
}

fn sh_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=+:,@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// CMake wants forward slashes even on Windows.
fn cmake_path(path: &Path) -> String {
    path.display().to_string().replace('\\', "/")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> Vec<PathMap> {
        vec![
            PathMap::new("/home/u/my service", "/orders"),
            PathMap::new("/home/u/.cargo", "/cargo"),
        ]
    }

    fn wrappers() -> Wrappers {
        Wrappers {
            dir: PathBuf::from("/w/target/lambda-kit/zig/aarch64-linux-musl-1"),
            zig_target: "aarch64-linux-musl",
        }
    }

    #[test]
    fn only_the_two_lambda_musl_targets() {
        assert_eq!(
            zig_target("x86_64-unknown-linux-musl"),
            Some("x86_64-linux-musl")
        );
        assert_eq!(
            zig_target("aarch64-unknown-linux-musl"),
            Some("aarch64-linux-musl")
        );
        assert_eq!(zig_target("aarch64-unknown-linux-gnu"), None);
        assert!(c_toolchain_env("aarch64-unknown-linux-gnu", &wrappers(), false).is_empty());
    }

    #[test]
    fn per_target_variables_in_the_underscore_form() {
        let env = c_toolchain_env("aarch64-unknown-linux-musl", &wrappers(), false);
        let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "CC_aarch64_unknown_linux_musl",
                "CXX_aarch64_unknown_linux_musl",
                "AR_aarch64_unknown_linux_musl",
                "RANLIB_aarch64_unknown_linux_musl",
                "CMAKE_TOOLCHAIN_FILE_aarch64_unknown_linux_musl",
            ]
        );
        assert!(env[0].1.ends_with("aarch64-linux-musl-cc") || env[0].1.ends_with(".cmd"));
        let windows = c_toolchain_env("aarch64-unknown-linux-musl", &wrappers(), true);
        assert_eq!(
            windows.last().unwrap(),
            &(
                "CMAKE_GENERATOR_aarch64_unknown_linux_musl".to_string(),
                "Ninja".to_string()
            )
        );
    }

    #[test]
    fn the_rust_triple_is_replaced_by_zigs_and_the_maps_come_first() {
        let args: Vec<String> = [
            "-O3",
            "--target=aarch64-unknown-linux-musl",
            "-c",
            "a b.c",
            "-target",
            "x",
            "-o",
            "a.o",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            wrapped_command(
                Path::new("/z/zig"),
                "aarch64-linux-musl",
                Tool::Cc,
                &maps(),
                &args
            ),
            [
                "/z/zig",
                "cc",
                "-target",
                "aarch64-linux-musl",
                "-ffile-prefix-map=/home/u/my service=/orders",
                "-ffile-prefix-map=/home/u/.cargo=/cargo",
                "-fno-sanitize=all",
                "-O3",
                "-c",
                "a b.c",
                "-o",
                "a.o",
            ]
        );
        let ar: Vec<String> = ["cq", "lib.a", "x.o"].map(String::from).to_vec();
        assert_eq!(
            wrapped_command(
                Path::new("/z/zig"),
                "aarch64-linux-musl",
                Tool::Ar,
                &maps(),
                &ar
            ),
            ["/z/zig", "ar", "cq", "lib.a", "x.o"]
        );
    }

    #[test]
    fn the_shell_wrapper_quotes_paths_with_spaces() {
        let script = sh_wrapper(
            Path::new("/opt/my zig/zig"),
            "x86_64-linux-musl",
            Tool::Cc,
            &maps(),
        );
        assert!(script.starts_with("#!/bin/sh\n"), "{script}");
        assert!(
            script.contains("exec '/opt/my zig/zig' cc -target x86_64-linux-musl '-ffile-prefix-map=/home/u/my service=/orders' -ffile-prefix-map=/home/u/.cargo=/cargo -fno-sanitize=all \"$@\""),
            "{script}"
        );
        assert!(script.contains("--target=*) ;;"), "{script}");
        let ar = sh_wrapper(Path::new("/z/zig"), "x86_64-linux-musl", Tool::Ar, &maps());
        assert!(
            ar.ends_with("exec /z/zig ar \"$@\"\n") && !ar.contains("--target"),
            "{ar}"
        );
    }

    #[test]
    fn cmake_toolchain_names_the_wrappers() {
        let file = cmake_toolchain("aarch64-unknown-linux-musl", &wrappers());
        assert!(file.contains("set(CMAKE_SYSTEM_NAME Linux)"), "{file}");
        assert!(
            file.contains("set(CMAKE_SYSTEM_PROCESSOR aarch64)"),
            "{file}"
        );
        assert!(file.contains("aarch64-linux-musl-ar\")"), "{file}");
    }

    #[test]
    fn a_moved_checkout_or_another_zig_gets_other_wrappers() {
        let base = Path::new("/t");
        let a = wrapper_dir(
            base,
            Path::new("/z/zig"),
            "0.15.2",
            "x86_64-linux-musl",
            &maps(),
        );
        assert_eq!(
            a,
            wrapper_dir(
                base,
                Path::new("/z/zig"),
                "0.15.2",
                "x86_64-linux-musl",
                &maps()
            )
        );
        assert_ne!(
            a,
            wrapper_dir(
                base,
                Path::new("/z/zig"),
                "0.16.0",
                "x86_64-linux-musl",
                &maps()
            )
        );
        assert_ne!(
            a,
            wrapper_dir(
                base,
                Path::new("/z/zig"),
                "0.15.2",
                "x86_64-linux-musl",
                &maps()[..1]
            )
        );
    }

    #[test]
    fn versions() {
        assert_eq!(check_version("0.15.2\n"), VersionCheck::Pinned);
        assert_eq!(
            check_version("0.16.0\n"),
            VersionCheck::Other("0.16.0".to_string())
        );
        assert_eq!(
            check_version("0.16.0-dev.123+abc\n"),
            VersionCheck::Other("0.16.0-dev.123+abc".to_string())
        );
        assert_eq!(
            check_version("zig: command not found"),
            VersionCheck::Unreadable
        );
    }

    #[test]
    fn one_sentence_per_host() {
        for host in [HostOs::Linux, HostOs::MacOs, HostOs::Windows] {
            let hint = install_hint(host);
            assert!(hint.contains("ziglang==0.15.2"), "{hint}");
            assert_eq!(hint.matches(". ").count(), 0, "{hint}");
        }
        assert!(install_hint(HostOs::Windows).starts_with("install zig 0.15.2: `py -m pip"));
    }
}
