//! A Lambda layer holding external extensions: a zip whose `extensions/<name>` entries are
//! executables that Lambda unpacks under `/opt` and starts before the function. Written like the
//! function zip (deflated, Unix mode 0755, the zip epoch as timestamp), so the same binary gives
//! the same bytes, and checked the same way (ELF machine, glibc against the runtimes).

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::arch::Arch;
use crate::artifact::elf::{self, BinaryInfo};
use crate::artifact::lambda_zip::{self, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES};
use crate::artifact::{Error, Result};
use crate::atomic_file;
use crate::builder::toolchain::Toolchain;
use crate::builder::Builder;
use crate::error::Context;
use crate::runtime::Runtime;

/// The folder of a layer Lambda starts extensions from (`/opt/extensions`).
pub const EXTENSIONS_DIR: &str = "extensions";
/// Every OS-only runtime an extension layer can declare, oldest first.
pub const RUNTIMES: [Runtime; 2] = [Runtime::ProvidedAl2, Runtime::ProvidedAl2023];

/// An extension layer written to disk and checked.
#[derive(Debug, Clone, Serialize)]
pub struct LayerZip {
    pub path: PathBuf,
    pub arch: Arch,
    /// The extension's name: its entry is `extensions/<name>`.
    pub extension: String,
    pub target: Option<String>,
    pub builder: Option<Builder>,
    /// The runtimes whose glibc the binary runs on (both for a static binary).
    pub compatible_runtimes: Vec<Runtime>,
    pub size: u64,
    pub binary_size: u64,
    /// base64 of the SHA-256 of the zip, as Lambda reports a layer version's CodeSha256.
    pub sha256: String,
    pub linkage: String,
    pub toolchain: Option<Toolchain>,
    #[serde(skip)]
    pub binary: BinaryInfo,
}

/// Zips `binary` as the single entry `extensions/<name>` (0755, fixed time): the same binary
/// always gives the same bytes.
pub fn extension_layer_zip(binary: &[u8], name: &str) -> Result<Vec<u8>> {
    if binary.len() as u64 > MAX_UNZIPPED_BYTES {
        return Err(Error::TooLargeUnzipped(binary.len() as u64));
    }
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o755)
        .system(zip::System::Unix)
        .large_file(false);
    let entry = format!("{EXTENSIONS_DIR}/{name}");
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file(entry.as_str(), options)
        .with_context(|| format!("starting the entry {entry}"))?;
    writer
        .write_all(binary)
        .with_context(|| format!("compressing {entry}"))?;
    let zip = writer.finish().context("finishing the zip")?.into_inner();
    if zip.len() as u64 > MAX_ZIPPED_BYTES {
        return Err(Error::TooLargeZipped(zip.len() as u64));
    }
    Ok(zip)
}

/// The runtimes of [`RUNTIMES`] that `info`'s glibc needs allow.
pub fn compatible_runtimes(info: &BinaryInfo) -> Vec<Runtime> {
    RUNTIMES
        .into_iter()
        .filter(|runtime| {
            info.newest_glibc()
                .is_none_or(|needs| needs <= runtime.glibc())
        })
        .collect()
}

/// How an extension binary is to be zipped and what is said of its origin.
#[derive(Debug, Clone)]
pub struct LayerSpec<'a> {
    pub arch: Arch,
    /// The function runtime it must at least run on (checked as for a function).
    pub runtime: Runtime,
    pub name: &'a str,
    pub target: Option<&'a str>,
    pub builder: Option<Builder>,
}

/// Checks `binary` as a function's bootstrap is checked, zips it as `extensions/<name>` and
/// writes the layer atomically to `output`. Nothing is written when a check fails.
pub fn zip_extension(binary: &Path, spec: &LayerSpec, output: &Path) -> Result<LayerZip> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let info = elf::inspect(&bytes).with_context(|| format!("checking {}", binary.display()))?;
    elf::check_for_lambda(&info, spec.arch, spec.runtime)
        .with_context(|| format!("checking {} for Lambda", binary.display()))?;
    let zip = extension_layer_zip(&bytes, spec.name)?;
    atomic_file::write(output, &zip)?;
    Ok(LayerZip {
        path: output.to_path_buf(),
        arch: spec.arch,
        extension: spec.name.to_string(),
        target: spec.target.map(str::to_string),
        builder: spec.builder,
        compatible_runtimes: compatible_runtimes(&info),
        size: zip.len() as u64,
        binary_size: bytes.len() as u64,
        sha256: lambda_zip::code_sha256(&zip),
        linkage: info.linkage(),
        toolchain: None,
        binary: info,
    })
}

/// One file of a layer, as Lambda puts it under `/opt`.
#[derive(Debug, Clone)]
pub struct LayerFile {
    /// Relative to `/opt`, `/`-separated, checked to stay inside it.
    pub name: String,
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// Every file of a layer zip (any layer, not only the kit's), with names checked to stay
/// inside `/opt`; folder entries are left out.
pub fn read_layer(path: &Path) -> Result<Vec<LayerFile>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let entries =
        lambda_zip::read_entries(&bytes).with_context(|| format!("reading {}", path.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        if Path::new(&entry.name)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(Error::EntryOutside(entry.name));
        }
        if entry.name.ends_with('/') {
            continue;
        }
        files.push(LayerFile {
            mode: entry.unix_mode.unwrap_or(0o644) & 0o777,
            name: entry.name,
            contents: entry.contents,
        });
    }
    Ok(files)
}

/// Writes the files of the layer zip at `zip` into `dir` as [`super::deployment::extract_zip`]
/// writes a function's (modes kept, the zip's fixed date): what `sam build` wants in
/// $(ARTIFACTS_DIR) for a layer, whose root is that folder.
pub fn extract_layer(zip: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
    read_layer(zip)?
        .iter()
        .map(|file| super::deployment::write_extracted(dir, &file.name, file.mode, &file.contents))
        .collect()
}

/// The extensions a layer's files start: its executables directly in `extensions/`.
pub fn extensions_of(files: &[LayerFile]) -> Vec<&LayerFile> {
    files
        .iter()
        .filter(|f| {
            f.name
                .strip_prefix(EXTENSIONS_DIR)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|name| !name.is_empty() && !name.contains('/'))
                && f.mode & 0o111 != 0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE: &[u8] = b"\x7fELF not really";

    #[test]
    fn one_executable_entry_under_extensions_same_bytes_every_time() {
        let zip = extension_layer_zip(FAKE, "logger").unwrap();
        assert_eq!(zip, extension_layer_zip(FAKE, "logger").unwrap());
        let entries = lambda_zip::read_entries(&zip).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, "extensions/logger");
        assert_eq!(entries[0].unix_mode, Some(0o100755));
        assert_eq!(entries[0].last_modified, Some(DateTime::DEFAULT));
        assert_eq!(entries[0].contents, FAKE);
    }

    #[cfg(unix)]
    #[test]
    fn extracting_a_layer_writes_its_executable_under_extensions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("layer.zip");
        std::fs::write(&zip, extension_layer_zip(FAKE, "logger").unwrap()).unwrap();
        let out = dir.path().join("artifacts");
        let written = extract_layer(&zip, &out).unwrap();
        let binary = out.join("extensions/logger");
        assert_eq!(written, std::slice::from_ref(&binary));
        assert_eq!(std::fs::read(&binary).unwrap(), FAKE);
        let meta = std::fs::metadata(&binary).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        // The zip's date, 1980-01-01: an unchanged build uploads an unchanged folder.
        let since_epoch = meta
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert_eq!(since_epoch.as_secs(), 315_532_800);
    }

    #[test]
    fn the_extensions_of_a_layer_are_its_executables_in_extensions() {
        let file = |name: &str, mode| LayerFile {
            name: name.into(),
            mode,
            contents: vec![],
        };
        let files = [
            file("extensions/a", 0o755),
            file("extensions/readme.txt", 0o644),
            file("extensions/lib/b", 0o755),
            file("bin/tool", 0o755),
        ];
        let names: Vec<_> = extensions_of(&files).iter().map(|f| &f.name).collect();
        assert_eq!(names, ["extensions/a"]);
    }

    #[test]
    fn runtimes_follow_the_glibc_the_binary_needs() {
        let info = |glibc: Vec<(u32, u32)>| BinaryInfo {
            arch: Some(Arch::X86_64),
            machine: 62,
            interpreter: None,
            glibc_versions: glibc,
        };
        assert_eq!(compatible_runtimes(&info(vec![])), RUNTIMES);
        assert_eq!(
            compatible_runtimes(&info(vec![(2, 34)])),
            [Runtime::ProvidedAl2023]
        );
        assert!(compatible_runtimes(&info(vec![(2, 36)])).is_empty());
    }
}
