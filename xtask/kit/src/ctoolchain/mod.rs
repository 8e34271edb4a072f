//! The C toolchain of the cargo builder: which packages of a function's graph compile C for the
//! Lambda target ([`detect`], read from `cargo metadata` before building), and `zig cc` as their
//! C compiler and archiver for the two Lambda musl targets ([`zig`]). rust-lld keeps linking.
//!
//! A pure-Rust function gets nothing from here: no zig is looked for, no variable is set, so
//! its bytes are those of a build without this module.

pub mod detect;
pub mod zig;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command;
use detect::CReport;
use zig::{HostOs, PathMap, Zig};

/// What stops a function with C dependencies from building, each with the next step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`cargo metadata --filter-platform {target}` failed in {}: {stderr}", dir.display())]
    Metadata {
        target: String,
        dir: PathBuf,
        stderr: String,
    },
    #[error("reading `cargo metadata`'s output: {0}")]
    MetadataJson(#[from] serde_json::Error),
    #[error("`cargo metadata` does not list the package {0}")]
    UnknownPackage(String),
    #[error(
        "{package} ({manifest}) compiles C for {target}, and no C toolchain for it was found:\n{}\n\
         {}; or build with --builder cross",
        packages.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"),
        zig::install_hint(*host)
    )]
    NoCompiler {
        package: String,
        manifest: String,
        target: String,
        packages: Vec<String>,
        host: HostOs,
    },
    #[error(
        "{package} compiles C for {target}; the cargo builder does that with zig's shell wrappers, \
         which Windows hosts cannot run yet: build with --builder cross, or from WSL"
    )]
    WindowsHost { package: String, target: String },
    #[error("writing the C compiler wrapper {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: crate::error::Failure,
    },
    /// A package's build script (its C) failed: named, with what to do next.
    #[error(
        "the C of {krate} did not build for {target} with {toolchain} (the compiler's errors are \
         above, under \"failed to run custom build command for `{krate}`\"). Next: check that \
         crate's build requirements in docs/kit.md (\"C dependencies\"), rerun with \
         `CARGO_TERM_VERBOSE=true` for the full compiler commands, or build with --builder cross \
         (gcc in cross's image) to tell a zig problem from the crate's"
    )]
    CBuildFailed {
        krate: String,
        target: String,
        toolchain: String,
        #[source]
        source: Box<command::Error>,
    },
    #[error(transparent)]
    Command(#[from] command::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The C toolchain a build uses for its target: the variables that point cc-rs and CMake at
/// it, and how to say so.
#[derive(Debug, Clone)]
pub struct CToolchain {
    pub target: String,
    /// "zig 0.15.2 (/path/zig, from python3 -m ziglang)", or the user's own `CC_<target>`.
    pub description: String,
    pub env: Vec<(String, String)>,
    /// What compiles C, one line per package.
    pub packages: Vec<String>,
}

impl CToolchain {
    /// The line the builder prints before building.
    pub fn summary(&self) -> String {
        format!(
            "C toolchain for {}: {} ({} compile{} C)",
            self.target,
            self.description,
            self.packages
                .iter()
                .map(|l| l.split(" compiles").next().unwrap_or(l))
                .collect::<Vec<_>>()
                .join(", "),
            if self.packages.len() == 1 { "s" } else { "" }
        )
    }
}

/// What the builder needs to know about a function before building it for `target`.
pub struct Request<'a> {
    pub workspace_root: &'a Path,
    pub target_dir: &'a Path,
    pub package: &'a str,
    pub manifest_path: &'a Path,
    pub target: &'a str,
    /// Host folders and their names in the binary, general to specific (the Rust remaps').
    pub maps: Vec<PathMap>,
}

/// Reads the function's dependency graph for `target` and, when something in it compiles C for
/// the target, sets up the C toolchain (zig, or the user's `CC_<target>`); `None` for a
/// pure-Rust function or a target zig is not used for. Fails before any build when C is
/// needed and no toolchain is found. Prints what it found.
pub fn prepare(request: &Request) -> Result<Option<CToolchain>> {
    let report = report_for(request)?;
    for line in report.library_lines() {
        eprintln!("warning: {line}; the build will likely fail without it");
    }
    if !report.needs_target_c_compiler() {
        return Ok(None);
    }
    let packages: Vec<String> = report.compiler_lines();
    let suffix = request.target.replace(['-', '.'], "_");
    if let Some(cc) = [format!("CC_{suffix}"), format!("CC_{}", request.target)]
        .iter()
        .find_map(|v| {
            std::env::var(v)
                .ok()
                .map(|cc| format!("{v}={cc} from your environment"))
        })
    {
        return Ok(Some(CToolchain {
            target: request.target.to_string(),
            description: cc,
            env: Vec::new(),
            packages,
        }));
    }
    let Some(zig_target) = zig::zig_target(request.target) else {
        // glibc targets: the cross linker's gcc (builder::cargo) is cc-rs's default compiler.
        return Ok(None);
    };
    let no_compiler = || Error::NoCompiler {
        package: request.package.to_string(),
        manifest: request.manifest_path.display().to_string(),
        target: request.target.to_string(),
        packages: packages.clone(),
        host: HostOs::current(),
    };
    if cfg!(windows) {
        return Err(Error::WindowsHost {
            package: request.package.to_string(),
            target: request.target.to_string(),
        });
    }
    let Some(found) = zig::find(request.workspace_root) else {
        return Err(no_compiler());
    };
    if let zig::VersionCheck::Other(version) = &found.check {
        eprintln!(
            "warning: zig {version} found ({}), the kit pins {}: the build works, but its C \
             objects, so the zip's bytes, differ from other machines' (pip install ziglang=={})",
            found.path.display(),
            zig::ZIG_VERSION,
            zig::ZIG_VERSION
        );
    }
    let env = install(&found, request, zig_target)?;
    Ok(Some(CToolchain {
        target: request.target.to_string(),
        description: found.description(),
        env,
        packages,
    }))
}

/// The graph of the function for `target`, as `cargo metadata` resolves it.
pub fn report_for(request: &Request) -> Result<CReport> {
    let mut metadata = Command::new(command::cargo());
    metadata.current_dir(request.workspace_root).args([
        "metadata",
        "--format-version",
        "1",
        "--filter-platform",
        request.target,
    ]);
    if request.workspace_root.join("Cargo.lock").is_file() {
        metadata.arg("--locked");
    }
    let output = command::output(&mut metadata, "reading the dependency graph")?;
    if !output.status.success() {
        return Err(Error::Metadata {
            target: request.target.to_string(),
            dir: request.workspace_root.to_path_buf(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    let metadata: cargo_metadata::Metadata = serde_json::from_slice(&output.stdout)?;
    let id = metadata
        .packages
        .iter()
        .find(|p| {
            p.name.as_str() == request.package
                && metadata.workspace_members.contains(&p.id)
                && p.manifest_path.as_std_path() == request.manifest_path
        })
        .or_else(|| {
            metadata.packages.iter().find(|p| {
                p.name.as_str() == request.package && metadata.workspace_members.contains(&p.id)
            })
        })
        .map(|p| p.id.clone())
        .ok_or_else(|| Error::UnknownPackage(request.package.to_string()))?;
    let os = if request.target.contains("-linux-") {
        "linux"
    } else {
        request.target.split('-').nth(2).unwrap_or("linux")
    };
    Ok(detect::c_packages(&metadata, &id, os))
}

/// Writes the wrappers and the CMake toolchain file of `zig_target` under the target dir and
/// returns the variables that name them.
fn install(
    found: &Zig,
    request: &Request,
    zig_target: &'static str,
) -> Result<Vec<(String, String)>> {
    let base = request.target_dir.join("lambda-kit").join("zig");
    let mut maps = request.maps.clone();
    maps.push(PathMap::new(
        request.target_dir.display().to_string(),
        "/target",
    ));
    let dir = zig::wrapper_dir(&base, &found.path, &found.version, zig_target, &maps);
    let wrappers = zig::Wrappers { dir, zig_target };
    // Rewritten only when it changes (atomically: another build may be running it).
    let write = |path: PathBuf, text: String, mode: u32| -> Result<()> {
        if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
            return Ok(());
        }
        crate::atomic_file::write_with_mode(&path, text.as_bytes(), mode)
            .map_err(|source| Error::Write { path, source })
    };
    for tool in zig::Tool::ALL {
        write(
            wrappers.path(tool),
            zig::sh_wrapper(&found.path, zig_target, tool, &maps),
            0o755,
        )?;
    }
    write(
        wrappers.cmake_toolchain_file(),
        zig::cmake_toolchain(request.target, &wrappers),
        0o644,
    )?;
    let mut env = zig::c_toolchain_env(request.target, &wrappers, false);
    // zig's caches: scratch objects of this target dir, not the user's home.
    env.push((
        "ZIG_GLOBAL_CACHE_DIR".to_string(),
        base.join("cache").join("global").display().to_string(),
    ));
    env.push((
        "ZIG_LOCAL_CACHE_DIR".to_string(),
        base.join("cache").join("local").display().to_string(),
    ));
    Ok(env)
}

/// Runs the build with the C toolchain's variables, its stderr passed through line by line so
/// that a failed build script is named: the error then says which crate's C failed and what to
/// do next.
pub fn run_build(command: &mut Command, doing: &str, c: &CToolchain) -> Result<()> {
    command.envs(c.env.iter().map(|(k, v)| (k, v)));
    let mut child = command::spawn_reading_stderr(command, doing)?;
    let mut failed_crate = None;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            eprintln!("{line}");
            if failed_crate.is_none() {
                failed_crate = failed_build_script(&line);
            }
        }
    }
    let status = child.wait().map_err(|source| command::Error::NotStarted {
        doing: doing.to_string(),
        command: command::display(command),
        source,
    })?;
    if status.success() {
        return Ok(());
    }
    let failure = command::Error::Failed {
        doing: doing.to_string(),
        command: command::display(command),
        status,
    };
    Err(match failed_crate {
        Some(krate) => Error::CBuildFailed {
            krate,
            target: c.target.clone(),
            toolchain: c.description.clone(),
            source: Box::new(failure),
        },
        None => Error::Command(failure),
    })
}

/// The crate of cargo's "failed to run custom build command for `aws-lc-sys v0.47.0`".
pub fn failed_build_script(line: &str) -> Option<String> {
    let rest = line
        .split("failed to run custom build command for `")
        .nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failed_build_script_is_named() {
        assert_eq!(
            failed_build_script(
                "error: failed to run custom build command for `aws-lc-sys v0.47.0`"
            )
            .as_deref(),
            Some("aws-lc-sys v0.47.0")
        );
        assert_eq!(failed_build_script("error[E0308]: mismatched types"), None);
    }

    #[test]
    fn the_missing_toolchain_names_the_crate_and_what_to_install() {
        let error = Error::NoCompiler {
            package: "orders".to_string(),
            manifest: "/w/orders/Cargo.toml".to_string(),
            target: "aarch64-unknown-linux-musl".to_string(),
            packages: vec![
                "ring 0.17.14 compiles C for the target (cc) (via orders → ring)".into(),
            ],
            host: HostOs::Linux,
        }
        .to_string();
        assert!(
            error.starts_with(
                "orders (/w/orders/Cargo.toml) compiles C for aarch64-unknown-linux-musl"
            ),
            "{error}"
        );
        assert!(error.contains("\n  ring 0.17.14 compiles C"), "{error}");
        assert!(
            error.contains("pip install --user ziglang==0.15.2"),
            "{error}"
        );
        assert!(error.ends_with("or build with --builder cross"), "{error}");
    }

    #[test]
    fn the_summary_names_the_packages() {
        let c = CToolchain {
            target: "x86_64-unknown-linux-musl".to_string(),
            description: "zig 0.15.2 (/z/zig, on PATH)".to_string(),
            env: Vec::new(),
            packages: vec![
                "aws-lc-sys 0.47.0 compiles C for the target (cc, cmake) (via f → aws-lc-sys)"
                    .into(),
                "ring 0.17.14 compiles C for the target (cc) (via f → ring)".into(),
            ],
        };
        assert_eq!(
            c.summary(),
            "C toolchain for x86_64-unknown-linux-musl: zig 0.15.2 (/z/zig, on PATH) \
             (aws-lc-sys 0.47.0, ring 0.17.14 compile C)"
        );
    }
}
