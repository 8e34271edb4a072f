//! The deployment package Lambda wants for a custom runtime: a zip with one entry, `bootstrap`,
//! executable. Written the same way on every host (Unix mode 0755 even from Windows, a fixed
//! timestamp, no extra fields) so that the same binary always gives the same bytes, hence the
//! same CodeSha256.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use crate::artifact::{Error, Result};
use crate::error::Context;
use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

/// The file a custom runtime starts.
pub use crate::runtime::BOOTSTRAP;
/// rwxr-xr-x: Lambda runs the bootstrap as a non-owner user, so it needs the execute bits of
/// group and others too.
pub const BOOTSTRAP_MODE: u32 = 0o755;
/// Lambda's limit for a zip uploaded directly (`--zip-file`).
pub const MAX_ZIPPED_BYTES: u64 = 50 * 1024 * 1024;
/// Lambda's limit for the unzipped deployment package.
pub const MAX_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;

/// A file the zip carries beside `bootstrap` (a function's `include`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraFile {
    /// Relative, `/`-separated.
    pub name: String,
    /// Unix permission bits (0o644, or 0o755 for an executable).
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// Zips `binary` as the single entry `bootstrap`.
pub fn bootstrap_zip(binary: &[u8]) -> Result<Vec<u8>> {
    function_zip(binary, &[])
}

/// Zips `binary` as `bootstrap`, first, then `extras` sorted by name, every entry written the
/// same way whatever the host, so the same inputs always give the same bytes.
pub fn function_zip(binary: &[u8], extras: &[ExtraFile]) -> Result<Vec<u8>> {
    let unzipped =
        binary.len() as u64 + extras.iter().map(|e| e.contents.len() as u64).sum::<u64>();
    if unzipped > MAX_UNZIPPED_BYTES {
        return Err(Error::TooLargeUnzipped(unzipped));
    }
    let mut extras: Vec<&ExtraFile> = extras.iter().collect();
    extras.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = extras.windows(2).find(|pair| pair[0].name == pair[1].name) {
        return Err(Error::DuplicateEntry(pair[0].name.clone()));
    }
    let options = |mode: u32| {
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9))
            // 1980-01-01 00:00, the zip epoch: no build time leaks into the bytes.
            .last_modified_time(DateTime::DEFAULT)
            .unix_permissions(mode)
            // Made by Unix on every host: Lambda reads the mode only from Unix entries (the
            // zip crate says MS-DOS when built for Windows, and the bootstrap would not run).
            .system(zip::System::Unix)
            .large_file(false)
    };
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file(BOOTSTRAP, options(BOOTSTRAP_MODE))
        .context("starting the bootstrap entry")?;
    writer
        .write_all(binary)
        .context("compressing the bootstrap")?;
    for extra in extras {
        writer
            .start_file(extra.name.as_str(), options(extra.mode))
            .with_context(|| format!("starting the entry {}", extra.name))?;
        writer
            .write_all(&extra.contents)
            .with_context(|| format!("compressing {}", extra.name))?;
    }
    let zip = writer.finish().context("finishing the zip")?.into_inner();
    if zip.len() as u64 > MAX_ZIPPED_BYTES {
        return Err(Error::TooLargeZipped(zip.len() as u64));
    }
    Ok(zip)
}

/// CodeSha256 as Lambda reports it: base64 of the SHA-256 of the zip bytes.
pub fn code_sha256(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

/// The single `bootstrap` entry of a Lambda zip, as read back.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    pub name: String,
    /// Unix mode bits (permissions and file type), if the zip records them.
    pub unix_mode: Option<u32>,
    pub compression: CompressionMethod,
    pub last_modified: Option<DateTime>,
    pub contents: Vec<u8>,
}

/// Reads every entry of a zip.
pub fn read_entries(zip: &[u8]) -> Result<Vec<ZipEntry>> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).context("reading the zip directory")?;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let mut file = archive
            .by_index(index)
            .with_context(|| format!("reading zip entry {index}"))?;
        let name = file
            .name()
            .with_context(|| format!("reading the name of zip entry {index}"))?
            .into_owned();
        let mut contents = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        file.read_to_end(&mut contents)
            .with_context(|| format!("decompressing zip entry {name}"))?;
        entries.push(ZipEntry {
            name,
            unix_mode: file.unix_mode(),
            compression: file.compression(),
            last_modified: file.last_modified(),
            contents,
        });
    }
    Ok(entries)
}

/// Reads a Lambda zip and returns its `bootstrap`, checking that it is there and executable:
/// what Lambda itself would need to start it.
pub fn read_bootstrap(zip_path: &Path) -> Result<ZipEntry> {
    let bytes =
        std::fs::read(zip_path).with_context(|| format!("reading {}", zip_path.display()))?;
    let (bootstrap, _) = split_bootstrap(
        read_entries(&bytes).with_context(|| format!("reading {}", zip_path.display()))?,
    )
    .with_context(|| format!("reading {}", zip_path.display()))?;
    Ok(bootstrap)
}

/// A Lambda zip's entries: its executable `bootstrap`, and the other files (what the function
/// finds beside it in `LAMBDA_TASK_ROOT`).
pub fn split_bootstrap(mut entries: Vec<ZipEntry>) -> Result<(ZipEntry, Vec<ZipEntry>)> {
    let Some(index) = entries.iter().position(|e| e.name == BOOTSTRAP) else {
        let names = entries.iter().map(|e| e.name.clone()).collect();
        return Err(Error::NoBootstrap(names));
    };
    let entry = entries.remove(index);
    if let Some(bad) = entries.iter().find(|e| {
        Path::new(&e.name)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    }) {
        return Err(Error::EntryOutside(bad.name.clone()));
    }
    if entry.unix_mode.is_none_or(|mode| mode & 0o111 == 0) {
        return Err(Error::NotExecutable(
            entry.unix_mode.map(|m| format!("{m:o}")),
        ));
    }
    Ok((entry, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE_BINARY: &[u8] = b"\x7fELF not really, but bytes are bytes for the zip";

    #[test]
    fn one_executable_deflated_entry_with_a_fixed_timestamp() {
        let zip = bootstrap_zip(FAKE_BINARY).unwrap();
        let entries = read_entries(&zip).unwrap();
        assert_eq!(entries.len(), 1);
        let entry = &entries[0];
        assert_eq!(entry.name, "bootstrap");
        assert_eq!(entry.contents, FAKE_BINARY);
        assert_eq!(entry.compression, CompressionMethod::Deflated);
        // A regular file (0o100000) with rwxr-xr-x.
        assert_eq!(entry.unix_mode, Some(0o100755));
        assert_eq!(entry.last_modified, Some(DateTime::DEFAULT));
    }

    #[test]
    fn same_binary_same_bytes() {
        let a = bootstrap_zip(FAKE_BINARY).unwrap();
        let b = bootstrap_zip(FAKE_BINARY).unwrap();
        assert_eq!(a, b);
        assert_eq!(code_sha256(&a), code_sha256(&b));
        assert_ne!(bootstrap_zip(b"other").unwrap(), a);
    }

    #[test]
    fn extras_follow_bootstrap_sorted_with_their_modes() {
        let extra = |name: &str, mode| ExtraFile {
            name: name.into(),
            mode,
            contents: name.as_bytes().to_vec(),
        };
        let zip = function_zip(
            FAKE_BINARY,
            &[extra("static/b.txt", 0o644), extra("run.sh", 0o755)],
        )
        .unwrap();
        let entries = read_entries(&zip).unwrap();
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["bootstrap", "run.sh", "static/b.txt"]);
        assert_eq!(entries[1].unix_mode, Some(0o100755));
        assert_eq!(entries[2].unix_mode, Some(0o100644));
        assert_eq!(entries[2].contents, b"static/b.txt");
        // No extras: exactly the bootstrap-only zip.
        assert_eq!(
            function_zip(FAKE_BINARY, &[]).unwrap(),
            bootstrap_zip(FAKE_BINARY).unwrap()
        );
        let err = function_zip(FAKE_BINARY, &[extra("a", 0o644), extra("a", 0o644)]).unwrap_err();
        assert!(err.to_string().contains("two included files"), "{err}");
    }

    #[test]
    fn code_sha256_is_base64_of_sha256() {
        // SHA-256 of the empty input, base64: a published test vector.
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn read_bootstrap_refuses_other_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let two = dir.path().join("two.zip");
        let mut writer = ZipWriter::new(std::fs::File::create(&two).unwrap());
        let options = SimpleFileOptions::default().unix_permissions(0o755);
        writer.start_file("bootstrap", options).unwrap();
        writer.start_file("extra", options).unwrap();
        writer.finish().unwrap();
        assert_eq!(
            read_bootstrap(&two).unwrap().name,
            "bootstrap",
            "extra files are allowed"
        );

        let none = dir.path().join("none.zip");
        let mut writer = ZipWriter::new(std::fs::File::create(&none).unwrap());
        writer.start_file("main", options).unwrap();
        writer.finish().unwrap();
        let err = crate::error::chain_text(&read_bootstrap(&none).unwrap_err());
        assert!(err.contains("no `bootstrap` entry"), "{err}");

        let not_exec = dir.path().join("noexec.zip");
        let mut writer = ZipWriter::new(std::fs::File::create(&not_exec).unwrap());
        writer
            .start_file(
                "bootstrap",
                SimpleFileOptions::default().unix_permissions(0o644),
            )
            .unwrap();
        writer.finish().unwrap();
        let err = crate::error::chain_text(&read_bootstrap(&not_exec).unwrap_err());
        assert!(err.contains("not executable"), "{err}");

        let good = dir.path().join("good.zip");
        std::fs::write(&good, bootstrap_zip(FAKE_BINARY).unwrap()).unwrap();
        assert_eq!(read_bootstrap(&good).unwrap().contents, FAKE_BINARY);
    }
}
