//! The deployment package Lambda wants for a custom runtime: a zip with one entry, `bootstrap`,
//! executable. Written the same way on every host (Unix mode 0755 even from Windows, a fixed
//! timestamp, no extra fields) so that the same binary always gives the same bytes, hence the
//! same CodeSha256.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

/// The file a custom runtime starts.
pub const BOOTSTRAP: &str = "bootstrap";
/// rwxr-xr-x: Lambda runs the bootstrap as a non-owner user, so it needs the execute bits of
/// group and others too.
pub const BOOTSTRAP_MODE: u32 = 0o755;
/// Lambda's limit for a zip uploaded directly (`--zip-file`).
pub const MAX_ZIPPED_BYTES: u64 = 50 * 1024 * 1024;
/// Lambda's limit for the unzipped deployment package.
pub const MAX_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;

/// Zips `binary` as the single entry `bootstrap`.
pub fn bootstrap_zip(binary: &[u8]) -> Result<Vec<u8>> {
    if binary.len() as u64 > MAX_UNZIPPED_BYTES {
        bail!(
            "the binary is {} bytes, over Lambda's limit of {MAX_UNZIPPED_BYTES} bytes (250 MB) \
             unzipped; build with the release profile (stripped, LTO)",
            binary.len()
        );
    }
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        // 1980-01-01 00:00, the zip epoch: no build time leaks into the bytes.
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(BOOTSTRAP_MODE)
        .large_file(false);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file(BOOTSTRAP, options)
        .context("starting the bootstrap entry")?;
    writer
        .write_all(binary)
        .context("compressing the bootstrap")?;
    let zip = writer.finish().context("finishing the zip")?.into_inner();
    if zip.len() as u64 > MAX_ZIPPED_BYTES {
        bail!(
            "the zip is {} bytes, over Lambda's limit of {MAX_ZIPPED_BYTES} bytes (50 MB) for a \
             direct upload; upload it to S3 and use --code S3Bucket=…,S3Key=…, or ship a container image",
            zip.len()
        );
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

/// Reads a Lambda zip and returns its `bootstrap`, checking that it is the only entry and that
/// it is executable: what Lambda itself would need to start it.
pub fn read_bootstrap(zip_path: &Path) -> Result<ZipEntry> {
    let bytes =
        std::fs::read(zip_path).with_context(|| format!("reading {}", zip_path.display()))?;
    let mut entries =
        read_entries(&bytes).with_context(|| format!("reading {}", zip_path.display()))?;
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    if names != [BOOTSTRAP] {
        bail!(
            "{} must hold exactly one entry, `bootstrap`; it holds {names:?}",
            zip_path.display()
        );
    }
    let entry = entries.remove(0);
    if entry.unix_mode.is_none_or(|mode| mode & 0o111 == 0) {
        bail!(
            "{}: `bootstrap` is not executable (mode {:?}); Lambda could not start it",
            zip_path.display(),
            entry.unix_mode.map(|m| format!("{m:o}"))
        );
    }
    Ok(entry)
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
        let err = read_bootstrap(&two).unwrap_err().to_string();
        assert!(err.contains("exactly one entry"), "{err}");

        let not_exec = dir.path().join("noexec.zip");
        let mut writer = ZipWriter::new(std::fs::File::create(&not_exec).unwrap());
        writer
            .start_file(
                "bootstrap",
                SimpleFileOptions::default().unix_permissions(0o644),
            )
            .unwrap();
        writer.finish().unwrap();
        let err = read_bootstrap(&not_exec).unwrap_err().to_string();
        assert!(err.contains("not executable"), "{err}");

        let good = dir.path().join("good.zip");
        std::fs::write(&good, bootstrap_zip(FAKE_BINARY).unwrap()).unwrap();
        assert_eq!(read_bootstrap(&good).unwrap().contents, FAKE_BINARY);
    }
}
