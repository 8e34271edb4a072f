//! What the container tests need, and `cargo xtask setup` installs: Podman (with runc and the
//! settings of `xtask/containers.conf`), cross 0.2.5, and a local toolchain image for cross built
//! from Debian packages with debootstrap, since the tests cannot count on a container registry.
//!
//! Everything is cached and checked before it is made again: the Debian packages by their
//! programs, cross by `cross --version`, the image by a label carrying its recipe's hash
//! (`podman image exists` and `podman image inspect`). See docs/cross.md.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::repository::repository_root;
use lambda_kit::command;

/// The cross release the kit is set up for (its container paths, the rustup shim).
pub const CROSS_VERSION: &str = "0.2.5";

/// The toolchain image cross runs in the tests, for both of Cross.toml's targets. (The tag
/// changes with a recipe change that would break builds of earlier checkouts sharing this
/// machine's image store: the musl linker `ENV` that recipe 2 added.)
pub const CROSS_IMAGE: &str = "localhost/calculate-pi-cross:bookworm-2";

/// The label holding the recipe hash of [`CROSS_IMAGE`].
pub const RECIPE_LABEL: &str = "calculate-pi.recipe";

const SUITE: &str = "bookworm";
/// gcc links build scripts and the x86_64 glibc host side; the aarch64 cross gcc and C library
/// link aarch64-unknown-linux-gnu. musl-tools gives C dependencies a compiler for
/// x86_64-unknown-linux-musl (`musl-gcc`); Debian has none for aarch64 musl (docs/cross.md).
const IMAGE_PACKAGES: &str = "gcc,libc6-dev,gcc-aarch64-linux-gnu,libc6-dev-arm64-cross,musl-tools";
/// What cross 0.2.5's own images set: the x86_64 musl image names its musl-cross-make gcc as
/// the target's C compiler *and* linker (`ENV` beats a workspace's `.cargo/config.toml`, so the
/// kit passes the linker it wants). Here `x86_64-linux-musl-gcc` is Debian's `musl-gcc` under
/// that image's name ([`MUSL_TOOL_LINKS`]).
const IMAGE_ENV: &[&str] = &[
    "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc",
    "CC_x86_64_unknown_linux_musl=x86_64-linux-musl-gcc",
    "CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=x86_64-linux-musl-gcc",
];
/// The names cross's x86_64 musl image gives its tools, pointing at Debian's.
const MUSL_TOOL_LINKS: &[(&str, &str)] = &[
    ("x86_64-linux-musl-gcc", "/usr/bin/musl-gcc"),
    ("x86_64-linux-musl-ar", "/usr/bin/ar"),
];
/// Bump to rebuild the image when the recipe changes in a way the other parts do not show.
const RECIPE_VERSION: &str = "3";

/// Podman's settings for the tests: runc, the host's network, explicit ulimits (sandboxes and
/// containers often forbid raising them, and crun's cgroup handling fails in some).
pub fn containers_conf() -> PathBuf {
    repository_root().join("xtask").join("containers.conf")
}

/// `podman`, with the tests' containers.conf unless `CONTAINERS_CONF` names another.
pub fn podman() -> Command {
    let mut podman = Command::new("podman");
    if std::env::var_os("CONTAINERS_CONF").is_none() {
        podman.env("CONTAINERS_CONF", containers_conf());
    }
    podman
}

/// Where setup installs cross: a cache outside the checkout (so a fresh clone, as in CI, finds
/// it), and off PATH, so that `--builder auto` of the other tasks keeps using cargo on a
/// machine whose cross has no reachable image. The tests put its `bin/` first on PATH.
pub fn cross_root() -> PathBuf {
    cache_dir().join(format!("cross-{CROSS_VERSION}"))
}

pub fn cross_bin_dir() -> PathBuf {
    cross_root().join("bin")
}

/// `$XDG_CACHE_HOME/calculate-pi`, else `~/.cache/calculate-pi`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("calculate-pi")
}

/// Installs cross 0.2.5 into [`cross_root`] unless it is there.
pub fn ensure_cross() -> Result<()> {
    if cross_installed() {
        return Ok(());
    }
    eprintln!(
        "setup: installing cross {CROSS_VERSION} into {} (a few minutes, once)",
        cross_root().display()
    );
    Ok(command::run(
        Command::new(command::cargo())
            .args(["install", "--locked", "--force", "--root"])
            .arg(cross_root())
            .args(["cross", "--version", CROSS_VERSION]),
        "installing cross",
    )?)
}

/// Whether [`cross_root`] holds cross 0.2.5, from cargo install's record. Never by running
/// `cross --version`: cross 0.2.5 then runs `rustup toolchain add` for the toolchain of the
/// current folder, which updates an unpinned `stable` (see docs/cross.md).
pub fn cross_installed() -> bool {
    let record = std::fs::read_to_string(cross_root().join(".crates.toml")).unwrap_or_default();
    record.contains(&format!("\"cross {CROSS_VERSION} ("))
        && cross_bin_dir()
            .join(format!("cross{}", std::env::consts::EXE_SUFFIX))
            .is_file()
}

/// The first Debian mirror apt uses (not the security one), else deb.debian.org.
pub fn debian_mirror() -> String {
    let mut texts = vec![std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default()];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let name = path.to_string_lossy();
            if name.ends_with(".list") || name.ends_with(".sources") {
                texts.push(std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.split_whitespace())
        .find(|word| word.starts_with("http") && !word.contains("security"))
        .unwrap_or("http://deb.debian.org/debian")
        .to_string()
}

/// The hash of everything that decides the image's content. (Package versions float with the
/// mirror; a snapshot.debian.org mirror pins them too.)
pub fn recipe_hash(mirror: &str) -> String {
    let links: Vec<String> = MUSL_TOOL_LINKS
        .iter()
        .map(|(name, to)| format!("{name}->{to}"))
        .collect();
    let recipe = [RECIPE_VERSION, SUITE, IMAGE_PACKAGES, mirror]
        .into_iter()
        .chain(IMAGE_ENV.iter().copied())
        .chain(links.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    Sha256::digest(recipe.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The label [`CROSS_IMAGE`] carries, if it exists.
pub fn image_recipe(image: &str) -> Option<String> {
    let exists = podman()
        .args(["image", "exists", image])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !exists {
        return None;
    }
    let output = podman()
        .args([
            "image",
            "inspect",
            "--format",
            &format!("{{{{index .Labels \"{RECIPE_LABEL}\"}}}}"),
            image,
        ])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Builds [`CROSS_IMAGE`] with debootstrap and `podman import`, unless it exists with the
/// current recipe.
pub fn ensure_cross_image() -> Result<()> {
    let mirror = debian_mirror();
    let hash = recipe_hash(&mirror);
    if image_recipe(CROSS_IMAGE).as_deref() == Some(hash.as_str()) {
        return Ok(());
    }
    eprintln!(
        "setup: building the toolchain image {CROSS_IMAGE} from {mirror} with debootstrap \
         (a few minutes, once; recipe {hash})"
    );
    let rootfs = tempfile::Builder::new()
        .prefix("calculate-pi-rootfs.")
        .tempdir_in("/var/tmp")
        .context("making a folder for the image's root file system")?;
    command::run(
        Command::new("nice")
            .args(["debootstrap", "--variant=minbase"])
            .arg(format!("--include={IMAGE_PACKAGES}"))
            .arg(SUITE)
            .arg(rootfs.path())
            .arg(&mirror),
        "building the toolchain image's root file system",
    )?;
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        let dir = rootfs.path().join(dir);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let bin = rootfs.path().join("usr/local/bin");
    std::fs::create_dir_all(&bin).context("making the image's /usr/local/bin")?;
    for (name, to) in MUSL_TOOL_LINKS {
        symlink(to, &bin.join(name))
            .with_context(|| format!("linking {name} to {to} in the image"))?;
    }
    // One change per variable: `podman import` reads `ENV A=1 B=2` as A="1 B=2".
    let changes: Vec<String> = IMAGE_ENV
        .iter()
        .map(|variable| format!("ENV {variable}"))
        .chain([format!("LABEL {RECIPE_LABEL}={hash}")])
        .collect();
    import_tree(rootfs.path(), CROSS_IMAGE, &changes)
}

/// A symbolic link inside the image's root file system (built on Linux only: debootstrap).
fn symlink(to: &str, link: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(to, link)
    }
    #[cfg(not(unix))]
    {
        let _ = (to, link);
        Err(std::io::Error::other(
            "the toolchain image is built on Linux only",
        ))
    }
}

/// `tar -C dir -c . | podman import [--change …] - image`.
pub fn import_tree(dir: &Path, image: &str, changes: &[String]) -> Result<()> {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting tar")?;
    let mut import = podman();
    import.arg("import");
    for change in changes {
        import.args(["--change", change]);
    }
    import.args(["-", image]);
    let status = import
        .stdin(tar.stdout.take().context("tar's output")?)
        .stdout(Stdio::null())
        .status()
        .context("starting podman import")?;
    let tar_status = tar.wait()?;
    if !status.success() || !tar_status.success() {
        bail!(
            "importing {} as {image} failed (podman import {status}, tar {tar_status})",
            dir.display()
        );
    }
    Ok(())
}

/// Everything above, for `cargo xtask setup` on Linux. Elsewhere it says what the container
/// tests need and leaves it to the user.
pub fn setup() -> Result<()> {
    if !cfg!(target_os = "linux") {
        eprintln!("setup: the container tests run on Linux only (Podman, debootstrap)");
        return Ok(());
    }
    ensure_cross()?;
    ensure_cross_image()
}

/// What the container tests lack, if anything.
pub fn missing_prerequisite() -> Option<String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Some("the container tests run on x86_64 Linux only".to_string());
    }
    if !cross_installed() {
        return Some(format!(
            "cross {CROSS_VERSION} is not in {}",
            cross_bin_dir().display()
        ));
    }
    let podman_answers = podman()
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !podman_answers {
        return Some("`podman info` fails".to_string());
    }
    if image_recipe(CROSS_IMAGE).is_none() {
        return Some(format!("the image {CROSS_IMAGE} is missing"));
    }
    None
}

/// Whether a container test can run: yes, or (outside CI) no with a note on stderr. In CI
/// (`CI` set) a missing prerequisite fails the test instead, since setup should have made it.
pub fn ready_for_container_tests() -> bool {
    let Some(missing) = missing_prerequisite() else {
        return true;
    };
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false") {
        panic!("{missing}: `cargo xtask setup` installs it (CI runs every test)");
    }
    eprintln!("skipped: {missing}; `cargo xtask setup` installs it");
    false
}

/// The environment of a `cargo xtask` run with cross: cross 0.2.5 first on PATH, the tests'
/// containers.conf, the local toolchain image for both targets, and a cross target folder in
/// the machine's cache (cross builds are independent of the checkout's path, so a fresh clone
/// in CI finds them warm).
pub fn with_cross_env(command: &mut Command) -> &mut Command {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(cross_bin_dir()).chain(std::env::split_paths(&path)))
            .expect("PATH");
    command
        .env("PATH", path)
        .env(
            "CONTAINERS_CONF",
            std::env::var_os("CONTAINERS_CONF")
                .map(PathBuf::from)
                .unwrap_or_else(containers_conf),
        )
        .env("CROSS_TARGET_X86_64_UNKNOWN_LINUX_MUSL_IMAGE", CROSS_IMAGE)
        .env("CROSS_TARGET_AARCH64_UNKNOWN_LINUX_GNU_IMAGE", CROSS_IMAGE)
        .env(
            "LAMBDA_KIT_CROSS_TARGET_DIR",
            cache_dir().join("cross-target"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recipe_hash_follows_the_mirror() {
        let hash = recipe_hash("http://deb.debian.org/debian");
        assert_eq!(hash.len(), 16);
        assert_eq!(hash, recipe_hash("http://deb.debian.org/debian"));
        assert_ne!(
            hash,
            recipe_hash("http://snapshot.debian.org/archive/debian/20250520T000000Z")
        );
    }
}
