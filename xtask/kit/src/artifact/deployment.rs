//! The deployment zip (Lambda's "deployment package") written to disk, with the checked facts
//! of its binary, handed from step to step so that nothing re-reads or re-inspects it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::arch::Arch;
use crate::artifact::elf::{self, BinaryInfo};
use crate::artifact::lambda_zip::{self, ExtraFile};
use crate::artifact::{Error, Result};
use crate::atomic_file;
use crate::builder::toolchain::Toolchain;
use crate::builder::Builder;
use crate::error::Context;
use crate::runtime::Runtime;
use crate::workspace::settings::Include;

/// A deployment zip written to disk and checked.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentZip {
    pub path: PathBuf,
    pub arch: Arch,
    /// The Rust target it was built for; unknown for a zip or a binary made elsewhere.
    pub target: Option<String>,
    /// How it was built (`cross` or `cargo`); unknown for a zip or a binary made elsewhere.
    pub builder: Option<Builder>,
    pub runtime: Runtime,
    /// Bytes of the zip.
    pub size: u64,
    /// Bytes of the bootstrap, unzipped.
    pub binary_size: u64,
    /// CodeSha256 as Lambda reports it: base64 of the SHA-256 of the zip.
    pub sha256: String,
    /// "static" or "dynamic, needs GLIBC_x.y".
    pub linkage: String,
    /// The names of the files beside `bootstrap`.
    pub includes: Vec<String>,
    /// The Rust toolchain that built it (version and commit); unknown for a zip or a binary
    /// made elsewhere. The same sources and toolchain give the same CodeSha256.
    pub toolchain: Option<Toolchain>,
    /// What the ELF check found; the emulator and the image need it, not the JSON report.
    #[serde(skip)]
    pub binary: BinaryInfo,
}

/// How a binary is to be zipped: what it is checked for, what goes beside it, and where it
/// came from (for the report).
#[derive(Debug, Clone)]
pub struct ZipSpec<'a> {
    pub arch: Arch,
    pub runtime: Runtime,
    pub target: Option<&'a str>,
    pub builder: Option<Builder>,
    pub include: &'a [Include],
}

/// Checks `binary` for Lambda on the spec's architecture and runtime, zips it with the
/// included files and writes the zip atomically to `output`. Nothing is written when a check
/// fails.
pub fn zip_binary(binary: &Path, spec: &ZipSpec, output: &Path) -> Result<DeploymentZip> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let info = elf::inspect(&bytes).with_context(|| format!("checking {}", binary.display()))?;
    elf::check_for_lambda(&info, spec.arch, spec.runtime)
        .with_context(|| format!("checking {} for Lambda", binary.display()))?;
    let extras = read_includes(spec.include)?;
    let zip = lambda_zip::function_zip(&bytes, &extras)?;
    atomic_file::write(output, &zip)?;
    let mut includes: Vec<String> = extras.into_iter().map(|e| e.name).collect();
    includes.sort();
    Ok(DeploymentZip {
        path: output.to_path_buf(),
        arch: spec.arch,
        target: spec.target.map(str::to_string),
        builder: spec.builder,
        runtime: spec.runtime,
        size: zip.len() as u64,
        binary_size: bytes.len() as u64,
        sha256: lambda_zip::code_sha256(&zip),
        linkage: info.linkage(),
        includes,
        toolchain: None,
        binary: info,
    })
}

/// Reads a zip made earlier (by `package`, or elsewhere) and checks that its bootstrap runs on
/// `arch` (the one its ELF header names, when `None`) and `runtime`.
pub fn read_zip(path: &Path, arch: Option<Arch>, runtime: Runtime) -> Result<DeploymentZip> {
    let zip = read_zip_unchecked(path, arch, runtime)?;
    elf::check_for_lambda(&zip.binary, zip.arch, runtime).with_context(|| {
        format!(
            "checking the bootstrap in {} for {}",
            path.display(),
            zip.arch
        )
    })?;
    Ok(zip)
}

/// [`read_zip`] without the checks against the runtime, for a caller that makes its own (an
/// image carries no runtime: it checks the bootstrap for a FROM-scratch image instead).
pub fn read_zip_unchecked(
    path: &Path,
    arch: Option<Arch>,
    runtime: Runtime,
) -> Result<DeploymentZip> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let entries =
        lambda_zip::read_entries(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let (bootstrap, others) = lambda_zip::split_bootstrap(entries)
        .with_context(|| format!("reading {}", path.display()))?;
    let info = elf::inspect(&bootstrap.contents)
        .with_context(|| format!("checking the bootstrap in {}", path.display()))?;
    let arch = match (arch, info.arch) {
        (Some(arch), _) | (None, Some(arch)) => arch,
        (None, None) => {
            return Err(Error::NotLambdaArch {
                path: path.to_path_buf(),
                machine: info.machine,
            })
        }
    };
    Ok(DeploymentZip {
        path: path.to_path_buf(),
        arch,
        target: None,
        builder: None,
        runtime,
        size: bytes.len() as u64,
        binary_size: bootstrap.contents.len() as u64,
        sha256: lambda_zip::code_sha256(&bytes),
        linkage: info.linkage(),
        includes: others.into_iter().map(|e| e.name).collect(),
        toolchain: None,
        binary: info,
    })
}

/// The included files and folders, read from disk: a folder gives every file below it, under
/// the folder's name. An executable file (on Unix) keeps its execute bits; everything else is
/// 0644, so a zip made on Windows equals one made on Linux.
pub fn read_includes(include: &[Include]) -> Result<Vec<ExtraFile>> {
    let mut files = Vec::new();
    for item in include {
        let meta = std::fs::metadata(&item.source).with_context(|| {
            format!(
                "include {:?}: {} cannot be read",
                item.name,
                item.source.display()
            )
        })?;
        if meta.is_dir() {
            add_folder(&item.source, &item.name, &mut files)?;
        } else {
            files.push(read_file(&item.source, &item.name)?);
        }
    }
    Ok(files)
}

fn add_folder(dir: &Path, name: &str, files: &mut Vec<ExtraFile>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("listing {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let child = format!("{name}/{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            add_folder(&entry.path(), &child, files)?;
        } else {
            files.push(read_file(&entry.path(), &child)?);
        }
    }
    Ok(())
}

fn read_file(path: &Path, name: &str) -> Result<ExtraFile> {
    let contents = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(ExtraFile {
        name: name.to_string(),
        mode: if is_executable(path) { 0o755 } else { 0o644 },
        contents,
    })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    false
}

/// The zip epoch, 1980-01-01 00:00 UTC, in seconds since 1970.
const ZIP_EPOCH_SECONDS: u64 = 315_532_800;

/// Writes the files of the zip at `zip` (`bootstrap` and the included files) into `dir`, each
/// atomically with the zip's mode and with the zip's fixed date as its modification time: what
/// `sam build` wants in $(ARTIFACTS_DIR). The fixed date matters: `aws cloudformation package`
/// zips that folder again, recording each file's time, and keys the upload by the zip's MD5, so
/// an unchanged build must give unchanged times for the stack to see no change.
pub fn extract_zip(zip: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    let bytes = std::fs::read(zip).with_context(|| format!("reading {}", zip.display()))?;
    let entries =
        lambda_zip::read_entries(&bytes).with_context(|| format!("reading {}", zip.display()))?;
    // Checks the names: nothing may land outside `dir`.
    let (bootstrap, others) = lambda_zip::split_bootstrap(entries)
        .with_context(|| format!("reading {}", zip.display()))?;
    let mut written = Vec::new();
    for entry in std::iter::once(bootstrap).chain(others) {
        if entry.name.ends_with('/') {
            continue; // a folder entry: its files make it
        }
        let mode = entry.unix_mode.unwrap_or(0o644) & 0o777;
        written.push(write_extracted(dir, &entry.name, mode, &entry.contents)?);
    }
    Ok(written)
}

/// Writes one file of a zip, whose `name` was checked to stay inside `dir`, atomically with
/// `mode` and the zip's fixed date (see [`extract_zip`]).
pub(crate) fn write_extracted(
    dir: &Path,
    name: &str,
    mode: u32,
    contents: &[u8],
) -> Result<PathBuf> {
    let epoch = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ZIP_EPOCH_SECONDS);
    let path = dir.join(name);
    atomic_file::write_with_mode(&path, contents, mode)?;
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|file| file.set_modified(epoch))
        .with_context(|| format!("setting the modification time of {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracting_gives_the_zips_files_with_fixed_times() {
        let dir = tempfile::tempdir().unwrap();
        let zip = lambda_zip::function_zip(
            b"\x7fELF not really",
            &[ExtraFile {
                name: "static/hello.txt".into(),
                mode: 0o644,
                contents: b"hello".to_vec(),
            }],
        )
        .unwrap();
        let zip_path = dir.path().join("lambda.zip");
        std::fs::write(&zip_path, &zip).unwrap();
        let out = dir.path().join("artifacts");
        let written = extract_zip(&zip_path, &out).unwrap();
        assert_eq!(
            written,
            [out.join("bootstrap"), out.join("static/hello.txt")]
        );
        assert_eq!(
            std::fs::read(out.join("bootstrap")).unwrap(),
            b"\x7fELF not really"
        );
        let meta = std::fs::metadata(out.join("bootstrap")).unwrap();
        let since_epoch = meta
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert_eq!(since_epoch.as_secs(), ZIP_EPOCH_SECONDS);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        }
        assert_eq!(
            std::fs::read(out.join("static/hello.txt")).unwrap(),
            b"hello"
        );
    }
}
