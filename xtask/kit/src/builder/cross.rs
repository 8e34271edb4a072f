//! The cross builder: `cross build` (cross 0.2.5) in the container image `Cross.toml` pins for
//! the target, set up so that it builds the same bytes as the cargo builder and touches nothing
//! of the host's toolchain:
//!
//! - the remap flags name cross's container paths (/project, /cargo, /rust), passed as
//!   `CARGO_ENCODED_RUSTFLAGS`, which cross forwards into the container by name;
//! - a `rustup` shim first on PATH and `CROSS_CUSTOM_TOOLCHAIN=1`: cross 0.2.5 misreads
//!   `rustup toolchain list` from rustup ≥ 1.28 and would otherwise run `rustup toolchain add`
//!   (which updates an unpinned `stable` and needs the network) and `rustup component add
//!   rust-src` (which changes later local builds' bytes) on every build;
//! - its own target folder (`target/cross`), since its flags differ from the cargo builder's and
//!   each would otherwise rebuild the other's output;
//! - the musl targets' linker said as `CARGO_TARGET_<TRIPLE>_LINKER` (forwarded, like every
//!   `CARGO_*` variable): cross's musl images set it to their gcc in `ENV`, which beats the
//!   workspace's `.cargo/config.toml`; the kit passes the workspace's choice, else `rust-lld`,
//!   so cross links as the cargo builder does (and a C dependency's objects, compiled by the
//!   image's `CC_<target>`, are linked with Rust's own musl);
//! - the engine that answered (`CROSS_CONTAINER_ENGINE=podman` when Docker's daemon did not),
//!   and `--platform linux/amd64` on an arm64 host, where cross's images are amd64 only.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::arch::Arch;
use crate::builder::remap::{self, Roots};
use crate::builder::toolchain::Toolchain;
use crate::builder::{Builder, Error, Result};
use crate::command;
use crate::error::Context;

/// Where cross builds go when `LAMBDA_KIT_CROSS_TARGET_DIR` is not set: below the workspace's
/// target folder.
pub const TARGET_SUBDIR: &str = "cross";

/// The builder to use, and for cross the container engine that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub builder: Builder,
    pub engine: Option<String>,
}

/// The builder `requested` means here: `Auto` becomes cross when cross is installed and a
/// container engine answers, else cargo, and says which and why.
pub fn resolve_builder(requested: Builder) -> Result<Resolved> {
    // Found on PATH, never run to ask: cross 0.2.5 runs `rustup toolchain add` even for
    // `--version` (see the module documentation), which updates an unpinned `stable`.
    let cross_installed = || which::which("cross").is_ok();
    match requested {
        Builder::Cargo => Ok(Resolved {
            builder: Builder::Cargo,
            engine: None,
        }),
        Builder::Cross => {
            if !cross_installed() {
                return Err(Error::CrossNotInstalled);
            }
            let Some(engine) = container_engine() else {
                return Err(Error::NoContainerEngine);
            };
            Ok(Resolved {
                builder: Builder::Cross,
                engine: Some(engine),
            })
        }
        Builder::Auto => {
            let resolved = if !cross_installed() {
                eprintln!("builder: cargo (cross is not installed)");
                Resolved {
                    builder: Builder::Cargo,
                    engine: None,
                }
            } else if let Some(engine) = container_engine() {
                eprintln!("builder: cross (cross is installed and {engine} answers)");
                Resolved {
                    builder: Builder::Cross,
                    engine: Some(engine),
                }
            } else {
                eprintln!(
                    "builder: cargo (cross is installed but no container engine (docker, podman) \
                     answers)"
                );
                Resolved {
                    builder: Builder::Cargo,
                    engine: None,
                }
            };
            Ok(resolved)
        }
    }
}

/// The container engine cross would use, if one answers: `CROSS_CONTAINER_ENGINE` first, as
/// cross itself reads it, then docker, then podman.
fn container_engine() -> Option<String> {
    let candidates = std::env::var("CROSS_CONTAINER_ENGINE")
        .map(|e| vec![e])
        .unwrap_or_else(|_| vec!["docker".to_string(), "podman".to_string()]);
    candidates.into_iter().find(|engine| {
        command::succeeds_within(Command::new(engine).arg("info"), Duration::from_secs(20))
    })
}

/// The folder cross builds into: `LAMBDA_KIT_CROSS_TARGET_DIR`, else `<target>/cross`. cross
/// mounts the workspace at /project whatever its host path, so one such folder can serve
/// several checkouts (a CI cache).
pub fn target_dir(workspace_target_dir: &Path) -> PathBuf {
    std::env::var_os("LAMBDA_KIT_CROSS_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_target_dir.join(TARGET_SUBDIR))
}

/// `cross` set up as the module documentation says, for `target`; the caller adds `build …`.
pub fn command(
    workspace_root: &Path,
    cross_target_dir: &Path,
    path_name: &str,
    target: &str,
    toolchain: &Toolchain,
    engine: Option<&str>,
) -> Result<Command> {
    // CROSS_CUSTOM_TOOLCHAIN stops cross from adding the target itself.
    crate::builder::cargo::ensure_rustup_target(workspace_root, target)?;
    let mut cross = Command::new("cross");
    cross
        .env("CROSS_CUSTOM_TOOLCHAIN", "1")
        .env("CARGO_TARGET_DIR", cross_target_dir)
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            remap::reproducible_rustflags(
                &Roots::cross_container(&toolchain.commit_hash),
                path_name,
            ),
        );
    if let Some((variable, linker)) = container_linker(workspace_root, target) {
        cross.env(variable, linker);
    }
    if let Some(shim_dir) = write_rustup_shim(cross_target_dir)? {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(shim_dir).chain(std::env::split_paths(&path)))
                .context("adding the rustup shim to PATH")?;
        cross.env("PATH", path);
    }
    if std::env::var_os("CROSS_CONTAINER_ENGINE").is_none() {
        if let Some(engine) = engine.filter(|e| *e != "docker") {
            // cross tries docker first whenever it is on PATH, even with no daemon.
            eprintln!("cross: using {engine} (CROSS_CONTAINER_ENGINE={engine})");
            cross.env("CROSS_CONTAINER_ENGINE", engine);
        }
    }
    if Arch::host() == Some(Arch::Arm64) {
        // cross 0.2.5's images exist for linux/amd64 only; the engine runs them emulated.
        let mut opts = std::env::var("CROSS_CONTAINER_OPTS").unwrap_or_default();
        if !opts.contains("--platform") {
            opts = format!("{opts} --platform linux/amd64").trim().to_string();
            eprintln!(
                "cross: this host is arm64 and cross's images are amd64: running them emulated \
                 (CROSS_CONTAINER_OPTS={opts})"
            );
        }
        cross.env("CROSS_CONTAINER_OPTS", opts);
    }
    Ok(cross)
}

/// The linker cross's container is to use for a musl `target`, as the variable cargo reads:
/// yours when you set the variable (cross forwards it as it is), else the workspace's
/// `.cargo/config.toml` choice, else `rust-lld`, over the image's `ENV`. `None` for other
/// targets, whose image's C linker is the one to use.
pub fn container_linker(workspace_root: &Path, target: &str) -> Option<(String, String)> {
    let variable = crate::builder::cargo::linker_variable(target);
    if !target.ends_with("-linux-musl") || std::env::var_os(&variable).is_some() {
        return None;
    }
    let linker = crate::builder::cargo::configured_linker(workspace_root, target)
        .unwrap_or_else(|| "rust-lld".to_string());
    Some((variable, linker))
}

/// The shim that makes cross 0.2.5 read `rustup toolchain list` right: rustup ≥ 1.28 prints
/// `1.95.0-… (active)`, cross strips only ` (default)`/` (override)`, finds no toolchain and
/// runs `rustup toolchain add` every build. `toolchain list --quiet` prints bare names. Every
/// other call goes to the real rustup. Written into the cross target folder; `None` where there
/// is no rustup or no POSIX shell (Windows), where cross runs as it is.
fn write_rustup_shim(cross_target_dir: &Path) -> Result<Option<PathBuf>> {
    if cfg!(windows) {
        return Ok(None);
    }
    let Ok(real) = which::which("rustup") else {
        return Ok(None);
    };
    let dir = cross_target_dir.join("rustup-shim");
    let script = rustup_shim_script(&real.display().to_string());
    let path = dir.join("rustup");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(script.as_str()) {
        crate::atomic_file::write_with_mode(&path, script.as_bytes(), 0o755)
            .context("writing the rustup shim for cross")?;
    }
    Ok(Some(dir))
}

pub fn rustup_shim_script(real_rustup: &str) -> String {
    format!(
        r#"#!/bin/sh
# Written by lambda-kit for cross 0.2.5 (see xtask/kit/src/builder/cross.rs, docs/cross.md):
# `rustup toolchain list` as bare names, which cross matches; everything else unchanged.
REAL={real}
sub=
for a in "$@"; do
  case $a in -*) ;; *) sub="$sub $a" ;; esac
done
if [ "$sub" = " toolchain list" ]; then
  "$REAL" toolchain list --quiet 2>/dev/null || exec "$REAL" "$@"
  exit 0
fi
exec "$REAL" "$@"
"#,
        real = sh_quote(real_rustup)
    )
}

/// `'…'` for a POSIX shell.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The image cross runs for `target`: `CROSS_TARGET_<TRIPLE>_IMAGE`, else Cross.toml's, else
/// cross 0.2.5's own.
pub fn image_for(target: &str, configured: Option<&str>) -> String {
    let variable = format!(
        "CROSS_TARGET_{}_IMAGE",
        target.to_uppercase().replace(['-', '.'], "_")
    );
    std::env::var(variable)
        .ok()
        .or_else(|| configured.map(str::to_string))
        .unwrap_or_else(|| format!("ghcr.io/cross-rs/{target}:0.2.5"))
}

/// Runs cross, its output shown as it comes; on failure, a container engine problem is told in
/// one sentence with the way out, from what cross and the engine printed.
pub fn run(command: &mut Command, doing: &str, image: &str) -> Result<()> {
    let mut child = command::spawn_reading_stderr(command, doing)?;
    let mut stderr = child.stderr.take().context("cross's stderr")?;
    // Echo stderr while keeping its end, where the engine's error is.
    let reader = std::thread::spawn(move || {
        let mut tail: Vec<u8> = Vec::new();
        let mut buffer = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buffer) {
            if n == 0 {
                break;
            }
            let _ = std::io::stderr().write_all(&buffer[..n]);
            tail.extend_from_slice(&buffer[..n]);
            if tail.len() > 64 * 1024 {
                tail.drain(..tail.len() - 32 * 1024);
            }
        }
        String::from_utf8_lossy(&tail).into_owned()
    });
    let status = child
        .wait()
        .with_context(|| format!("{doing}: waiting for cross"))?;
    let tail = reader.join().unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    Err(match explain_failure(status.code(), &tail, image) {
        Some(sentence) => Error::ContainerEngine {
            doing: doing.to_string(),
            sentence,
        },
        None => command::Error::Failed {
            doing: doing.to_string(),
            command: command::display(command),
            status,
        }
        .into(),
    })
}

/// One sentence for the container engine failures cross passes on (exit 125/126 from the
/// engine, or cross's own "no container engine found"); `None` for anything else, such as a
/// compile error, which cargo has already explained.
pub fn explain_failure(code: Option<i32>, stderr: &str, image: &str) -> Option<String> {
    let way_out = "or build with --builder cargo";
    if stderr.contains("no container engine found") {
        return Some(format!(
            "cross found no container engine: install Docker or Podman (docs/cross.md), {way_out}"
        ));
    }
    if stderr.contains("Cannot connect to the Docker daemon") {
        return Some(format!(
            "cross ran docker, but Docker's daemon is not running: start it, or use Podman \
             (CROSS_CONTAINER_ENGINE=podman), {way_out}"
        ));
    }
    if stderr.contains("error setting rlimit") || stderr.contains("setrlimit") {
        return Some(format!(
            "the container engine could not set the container's resource limits (common inside \
             a container or sandbox): give Podman default_ulimits in containers.conf \
             (docs/cross.md), {way_out}"
        ));
    }
    let pulling = [
        "pinging container registry",
        "Trying to pull",
        "pull access denied",
        "manifest unknown",
        "Unable to find image",
    ];
    if matches!(code, Some(125)) || pulling.iter().any(|s| stderr.contains(s)) {
        if pulling.iter().any(|s| stderr.contains(s)) {
            return Some(format!(
                "the image {image} is not on this machine and could not be pulled (no network \
                 to its registry?): pull or load it, build a local one (cargo xtask setup, \
                 docs/cross.md) and name it with CROSS_TARGET_<TRIPLE>_IMAGE, {way_out}"
            ));
        }
        return Some(format!(
            "the container engine failed to start the build container (exit 125; its message \
             is above), {way_out}"
        ));
    }
    if stderr.contains("couldn't install toolchain") {
        return Some(format!(
            "cross tried to install the toolchain with rustup and failed: install the toolchain \
             rust-toolchain.toml names (rustup show), {way_out}"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_failures_are_one_sentence_with_the_way_out() {
        let cases = [
            (
                Some(125),
                "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is \
                 the docker daemon running?\nRun 'docker run --help' for more information\n",
                "Docker's daemon is not running",
            ),
            (
                Some(1),
                "Error: \n   0: no container engine found\n\nSuggestion: is docker or podman installed?",
                "found no container engine",
            ),
            (
                Some(125),
                "Trying to pull ghcr.io/cross-rs/x86_64-unknown-linux-musl:0.2.5...\nError: \
                 initializing source docker://ghcr.io/…: pinging container registry ghcr.io: \
                 Get \"https://ghcr.io/v2/\": dial tcp: lookup ghcr.io: no such host",
                "is not on this machine and could not be pulled",
            ),
            (
                Some(126),
                "Error: runc: runc create failed: unable to start container process: error \
                 during container init: error setting rlimits for ready process: error setting \
                 rlimit type 7: operation not permitted: OCI permission denied",
                "resource limits",
            ),
        ];
        for (code, stderr, expected) in cases {
            let sentence = explain_failure(code, stderr, "IMG").unwrap();
            assert!(sentence.contains(expected), "{sentence}");
            assert!(sentence.ends_with("--builder cargo"), "{sentence}");
        }
        assert_eq!(
            explain_failure(Some(101), "error[E0425]: cannot find value", "IMG"),
            None
        );
    }

    #[test]
    fn the_workspaces_linker_is_read_from_its_cargo_config() {
        use crate::builder::cargo::linker_in_config;
        let config = "[alias]\nxtask = \"run\"\n\n[target.x86_64-unknown-linux-musl]\nlinker = \"rust-lld\"\n";
        assert_eq!(
            linker_in_config(config, "x86_64-unknown-linux-musl").as_deref(),
            Some("rust-lld")
        );
        assert_eq!(linker_in_config(config, "aarch64-unknown-linux-musl"), None);
        assert_eq!(
            linker_in_config("not toml [", "x86_64-unknown-linux-musl"),
            None
        );
        let dir = tempfile::tempdir().unwrap();
        // No configuration: rust-lld, over the image's gcc.
        assert_eq!(
            container_linker(dir.path(), "x86_64-unknown-linux-musl"),
            Some((
                "CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER".to_string(),
                "rust-lld".to_string()
            ))
        );
        std::fs::create_dir(dir.path().join(".cargo")).unwrap();
        std::fs::write(
            dir.path().join(".cargo/config.toml"),
            "[target.x86_64-unknown-linux-musl]\nlinker = \"x86_64-linux-musl-gcc\"\n",
        )
        .unwrap();
        assert_eq!(
            container_linker(dir.path(), "x86_64-unknown-linux-musl").map(|(_, l)| l),
            Some("x86_64-linux-musl-gcc".to_string())
        );
        // glibc targets keep the image's linker.
        assert_eq!(
            container_linker(dir.path(), "aarch64-unknown-linux-gnu"),
            None
        );
    }

    #[test]
    fn the_shim_answers_toolchain_list_quietly() {
        let script = rustup_shim_script("/home/u/.cargo/bin/rustup");
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(script.contains("REAL='/home/u/.cargo/bin/rustup'\n"));
        assert!(script.contains("toolchain list --quiet"));
    }
}
