//! OCI container images of the function, built and read in memory: a one-layer image whose only
//! file is the `bootstrap`, as an OCI image-layout archive (`oci-layout`, `index.json`,
//! `blobs/sha256/…`) that `skopeo copy oci-archive:…` pushes to ECR.
//!
//! Everything here is pure: bytes in, bytes out. The same binary always gives the same archive,
//! byte for byte: fixed timestamps (the Unix epoch), owner root with no user or group names,
//! entries in a fixed order, a gzip header with no name and no time, and JSON documents whose
//! fields serialize in declaration order.
//!
//! The image is FROM scratch: no shell, no C library, no Lambda Runtime Interface Emulator. A
//! static (musl) bootstrap needs none of them; a dynamically linked one could not start, and the
//! task refuses it before this module is reached.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use crate::artifact::Result;
use crate::error::{bail, ensure, Context};
use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::arch::Arch;

/// Where the image holds the bootstrap, and its entrypoint: the path the Lambda base images use
/// (`${LAMBDA_RUNTIME_DIR}/bootstrap`), so that the Dockerfile's image and this one agree, and
/// the place the Runtime Interface Emulator looks for a bootstrap when given none.
pub const BOOTSTRAP_PATH: &str = "/var/runtime/bootstrap";
/// rwxr-xr-x: Lambda runs the entrypoint as a non-root user.
pub const BOOTSTRAP_MODE: u32 = 0o755;
/// Where the zip's other files go (`include`): `LAMBDA_TASK_ROOT`, where Lambda unpacks a zip,
/// and the working directory, as for a zip function.
pub const TASK_ROOT: &str = "/var/task";
/// `created` of the config and its history: fixed, so that a rebuild changes no digest.
pub const CREATED: &str = "1970-01-01T00:00:00Z";

pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MEDIA_TYPE_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// The annotation that names a manifest inside an OCI layout (`oci-archive:FILE:NAME`).
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The annotation that names the image for the containerd image store (`docker load` since
/// Docker 25) and for `podman load`: a full reference, `docker.io/library/<name>:<tag>`.
/// Without it Podman names the image after `ref.name` alone (`localhost/x86_64:latest`).
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// Lambda's limit for a container image, all layers uncompressed.
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// A content descriptor: what a manifest or index says about a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
}

/// `index.json` of an image layout (an image index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

/// An image manifest (OCI image-spec v1.0 and later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// The image configuration: only the fields this image sets (readers ignore the others).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub architecture: String,
    pub os: String,
    #[serde(default)]
    pub config: ExecConfig,
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// The `config` object of an image configuration: how a container of the image starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecConfig {
    #[serde(
        rename = "Entrypoint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "Env", default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(
        rename = "WorkingDir",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub working_dir: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// One entry of Docker's `manifest.json`, which `docker load` reads (see [`OciImage`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerManifestEntry {
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags")]
    pub repo_tags: Vec<String>,
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// A blob and its digest (`sha256:<hex>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn new(bytes: Vec<u8>) -> Self {
        Blob {
            digest: sha256_digest(&bytes),
            bytes,
        }
    }

    pub fn descriptor(&self, media_type: &str) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: self.digest.clone(),
            size: self.bytes.len() as u64,
            platform: None,
            annotations: BTreeMap::new(),
        }
    }

    /// Path of the blob inside an image layout: `blobs/sha256/<hex>`.
    pub fn layout_path(&self) -> String {
        blob_path(&self.digest)
    }
}

/// What to put in the image.
#[derive(Debug, Clone, Copy)]
pub struct ImageSpec<'a> {
    pub arch: Arch,
    /// The static bootstrap binary.
    pub bootstrap: &'a [u8],
    /// The zip's other files, by their path in the zip: they go under [`TASK_ROOT`].
    pub task_files: &'a [TaskFile<'a>],
    /// The name the layout gives the manifest (`org.opencontainers.image.ref.name`), a tag.
    pub ref_name: &'a str,
    /// `repository:tag` that `docker load` gives the image.
    pub docker_tag: &'a str,
}

/// A file of the function's code beside the bootstrap (an `include`), as the zip holds it.
#[derive(Debug, Clone, Copy)]
pub struct TaskFile<'a> {
    /// Relative, `/`-separated, as in the zip.
    pub path: &'a str,
    /// Permission bits.
    pub mode: u32,
    pub contents: &'a [u8],
}

/// An image in memory: its blobs and the layout documents that point at them.
///
/// Beside the OCI `index.json`, the archive carries Docker's `manifest.json`, as `docker save`
/// has written since Docker 25: with it `docker load` takes the archive whatever the image store
/// of the daemon (the classic store reads only `manifest.json`; the containerd store reads the
/// OCI layout). OCI readers such as skopeo ignore it.
#[derive(Debug, Clone)]
pub struct OciImage {
    /// The uncompressed layer tar; its digest is the config's diff_id.
    pub layer_tar: Blob,
    /// The gzip-compressed layer, the blob the manifest names.
    pub layer: Blob,
    pub config: Blob,
    pub manifest: Blob,
    pub index: Vec<u8>,
    pub docker_manifest: Vec<u8>,
}

impl OciImage {
    pub fn manifest_digest(&self) -> &str {
        &self.manifest.digest
    }
}

/// `name:tag` as a full reference, the way Docker reads a short one: `calculate-pi:x86_64` is
/// `docker.io/library/calculate-pi:x86_64`, `me/app:1` is `docker.io/me/app:1`, and a name whose
/// first part is a registry (`localhost`, a dot or a port in it) stays as it is.
pub fn full_reference(name: &str) -> String {
    match name.split_once('/') {
        None => format!("docker.io/library/{name}"),
        Some((first, _)) if first == "localhost" || first.contains(['.', ':']) => name.to_string(),
        Some(_) => format!("docker.io/{name}"),
    }
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// `blobs/sha256/<hex>` for `sha256:<hex>`.
pub fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

/// Builds the image: layer, config, manifest, index.
pub fn build_image(spec: &ImageSpec<'_>) -> Result<OciImage> {
    let layer_tar = Blob::new(layer_tar(spec.bootstrap, spec.task_files)?);
    if layer_tar.bytes.len() as u64 > MAX_IMAGE_BYTES {
        bail!(
            "the layer is {} bytes, over Lambda's limit of 10 GB for an image",
            layer_tar.bytes.len()
        );
    }
    let layer = Blob::new(gzip(&layer_tar.bytes)?);
    let config = Blob::new(to_json(&image_config(spec.arch, &layer_tar.digest))?);
    let manifest = Blob::new(to_json(&Manifest {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_MANIFEST.to_string()),
        config: config.descriptor(MEDIA_TYPE_CONFIG),
        layers: vec![layer.descriptor(MEDIA_TYPE_LAYER_GZIP)],
    })?);
    let mut manifest_descriptor = manifest.descriptor(MEDIA_TYPE_MANIFEST);
    manifest_descriptor.platform = Some(platform(spec.arch));
    manifest_descriptor
        .annotations
        .insert(ANNOTATION_REF_NAME.to_string(), spec.ref_name.to_string());
    manifest_descriptor.annotations.insert(
        ANNOTATION_IMAGE_NAME.to_string(),
        full_reference(spec.docker_tag),
    );
    let index = to_json(&Index {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_INDEX.to_string()),
        manifests: vec![manifest_descriptor],
    })?;
    let docker_manifest = to_json(&[DockerManifestEntry {
        config: config.layout_path(),
        repo_tags: vec![spec.docker_tag.to_string()],
        layers: vec![layer.layout_path()],
    }])?;
    Ok(OciImage {
        layer_tar,
        layer,
        config,
        manifest,
        index,
        docker_manifest,
    })
}

pub fn platform(arch: Arch) -> Platform {
    Platform {
        architecture: arch.oci_name().to_string(),
        os: "linux".to_string(),
    }
}

/// The image configuration: architecture, OS, entrypoint, the one layer's diff_id, and what
/// Lambda's own base images set: `LAMBDA_TASK_ROOT` and `LAMBDA_RUNTIME_DIR`, and the task root
/// as the working directory (where a zip function starts).
pub fn image_config(arch: Arch, diff_id: &str) -> ImageConfig {
    ImageConfig {
        created: Some(CREATED.to_string()),
        architecture: arch.oci_name().to_string(),
        os: "linux".to_string(),
        config: ExecConfig {
            entrypoint: Some(vec![BOOTSTRAP_PATH.to_string()]),
            cmd: None,
            env: Some(vec![
                format!("LAMBDA_TASK_ROOT={TASK_ROOT}"),
                format!("LAMBDA_RUNTIME_DIR={}", runtime_dir()),
            ]),
            working_dir: Some(TASK_ROOT.to_string()),
        },
        rootfs: RootFs {
            kind: "layers".to_string(),
            diff_ids: vec![diff_id.to_string()],
        },
        history: vec![History {
            created: Some(CREATED.to_string()),
            created_by: Some(format!(
                "cargo xtask image: COPY bootstrap {BOOTSTRAP_PATH}"
            )),
        }],
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(value).context("serializing an image document")?)
}

/// The folder of the bootstrap: `/var/runtime`.
fn runtime_dir() -> &'static str {
    BOOTSTRAP_PATH.rsplit_once('/').map_or("/", |(dir, _)| dir)
}

/// The layer: `var/runtime/bootstrap` (0755), `var/task/` with the zip's other files under
/// their paths, and every folder above them (0755), owned by root with no user or group
/// names, every time the epoch. Sorted by path, so each folder comes before what it holds.
pub fn layer_tar<'a>(bootstrap: &'a [u8], task_files: &[TaskFile<'a>]) -> Result<Vec<u8>> {
    let task_root = TASK_ROOT.trim_start_matches('/');
    let mut entries: BTreeMap<String, TarEntry> = BTreeMap::new();
    let mut add_file = |path: String, mode: u32, contents: &'a [u8]| {
        // Each parent folder: var/, var/runtime/, …
        for (end, _) in path.match_indices('/') {
            let dir = &path[..=end];
            entries
                .entry(dir.to_string())
                .or_insert_with(|| TarEntry::dir(dir));
        }
        entries.insert(path.clone(), TarEntry::file(&path, mode, contents));
    };
    add_file(
        BOOTSTRAP_PATH.trim_start_matches('/').to_string(),
        BOOTSTRAP_MODE,
        bootstrap,
    );
    for file in task_files {
        if file.path.is_empty() || file.path.ends_with('/') {
            continue; // a zip's folder entry: the folders come from the files' paths
        }
        add_file(
            format!("{task_root}/{}", file.path),
            file.mode & 0o777,
            file.contents,
        );
    }
    // The task root exists even with nothing in it: it is the working directory.
    let task_dir = format!("{task_root}/");
    entries
        .entry(task_dir.clone())
        .or_insert_with(|| TarEntry::dir(&task_dir));
    let entries: Vec<TarEntry> = entries.into_values().collect();
    Ok(write_tar(&entries).context("writing the image layer")?)
}

/// An entry of a tar written by [`write_tar`].
#[derive(Debug, Clone)]
pub struct TarEntry<'a> {
    pub path: String,
    pub mode: u32,
    pub contents: Option<&'a [u8]>,
}

impl<'a> TarEntry<'a> {
    pub fn dir(path: &str) -> Self {
        TarEntry {
            path: path.to_string(),
            mode: 0o755,
            contents: None,
        }
    }

    pub fn file(path: &str, mode: u32, contents: &'a [u8]) -> Self {
        TarEntry {
            path: path.to_string(),
            mode,
            contents: Some(contents),
        }
    }
}

/// A POSIX (ustar) tar of `entries` in the order given: uid and gid 0, no user or group names,
/// mtime 0.
pub fn write_tar(entries: &[TarEntry<'_>]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mode(entry.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        let contents = entry.contents.unwrap_or_default();
        header.set_entry_type(if entry.contents.is_some() {
            tar::EntryType::Regular
        } else {
            tar::EntryType::Directory
        });
        header.set_size(contents.len() as u64);
        builder
            .append_data(&mut header, &entry.path, contents)
            .with_context(|| format!("adding {} to a tar", entry.path))?;
    }
    Ok(builder.into_inner().context("finishing a tar")?)
}

/// gzip with no file name, mtime 0 and OS "unknown": the same bytes on every host.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    encoder.write_all(bytes).context("compressing the layer")?;
    Ok(encoder.finish().context("finishing the gzip stream")?)
}

/// The archive: an OCI image layout in a tar, entries sorted by path, directories before what
/// they hold.
pub fn archive_bytes(image: &OciImage) -> Result<Vec<u8>> {
    let mut files: BTreeMap<String, &[u8]> = BTreeMap::new();
    files.insert(OCI_LAYOUT_FILE.to_string(), OCI_LAYOUT.as_bytes());
    files.insert(INDEX_FILE.to_string(), &image.index);
    files.insert(DOCKER_MANIFEST_FILE.to_string(), &image.docker_manifest);
    for blob in [&image.layer, &image.config, &image.manifest] {
        files.insert(blob.layout_path(), &blob.bytes);
    }
    let mut entries = vec![TarEntry::dir("blobs/"), TarEntry::dir("blobs/sha256/")];
    // BTreeMap order: blobs/sha256/… < index.json < manifest.json < oci-layout.
    entries.extend(
        files
            .iter()
            .map(|(path, bytes)| TarEntry::file(path, 0o644, bytes)),
    );
    Ok(write_tar(&entries).context("writing the image archive")?)
}

pub const OCI_LAYOUT_FILE: &str = "oci-layout";
pub const OCI_LAYOUT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;
pub const INDEX_FILE: &str = "index.json";
pub const DOCKER_MANIFEST_FILE: &str = "manifest.json";

// ---------------------------------------------------------------------------------------------
// Reading images back: the check that the archive is what it claims to be, and the way to get
// the bootstrap out of one (to run it under an emulator, for instance).

/// The files of an image layout, by path relative to its root (`index.json`, `blobs/sha256/…`).
pub type LayoutFiles = BTreeMap<String, Vec<u8>>;

/// Reads every regular file of a tar (an OCI archive) into memory.
pub fn read_tar_files(archive: &[u8]) -> Result<LayoutFiles> {
    let mut files = LayoutFiles::new();
    let mut reader = tar::Archive::new(Cursor::new(archive));
    for entry in reader.entries().context("reading the archive")? {
        let mut entry = entry.context("reading an archive entry")?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry
            .path()
            .context("reading an archive entry's path")?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {path} from the archive"))?;
        files.insert(path, bytes);
    }
    Ok(files)
}

/// An image read back from a layout, with every blob checked against its digest.
#[derive(Debug, Clone)]
pub struct ReadImage {
    pub manifest_descriptor: Descriptor,
    pub manifest: Manifest,
    pub config: ImageConfig,
    /// Each layer, uncompressed, in order.
    pub layers: Vec<Vec<u8>>,
}

/// Reads the one image of a layout: `index.json` must name exactly one image manifest (not a
/// nested index, which Lambda would refuse), whose config and layers must be present and match
/// their digests.
pub fn read_image(files: &LayoutFiles) -> Result<ReadImage> {
    let index: Index = serde_json::from_slice(
        files
            .get(INDEX_FILE)
            .context("no index.json: not an OCI image layout")?,
    )
    .context("reading index.json")?;
    let [descriptor] = &index.manifests[..] else {
        bail!(
            "index.json lists {} manifests; an image for Lambda has exactly one",
            index.manifests.len()
        );
    };
    ensure!(
        descriptor.media_type == MEDIA_TYPE_MANIFEST,
        "index.json points at a {}, not an image manifest ({MEDIA_TYPE_MANIFEST}); Lambda \
         takes a single-platform image manifest, not an index",
        descriptor.media_type
    );
    let manifest: Manifest =
        serde_json::from_slice(blob(files, descriptor)?).context("reading the image manifest")?;
    let config: ImageConfig = serde_json::from_slice(blob(files, &manifest.config)?)
        .context("reading the image configuration")?;
    ensure!(
        config.rootfs.diff_ids.len() == manifest.layers.len(),
        "the configuration lists {} diff_ids for {} layers",
        config.rootfs.diff_ids.len(),
        manifest.layers.len()
    );
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (layer, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        let stored = blob(files, layer)?;
        let tar = match layer.media_type.as_str() {
            MEDIA_TYPE_LAYER_GZIP | "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
                let mut out = Vec::new();
                GzDecoder::new(stored)
                    .read_to_end(&mut out)
                    .with_context(|| format!("decompressing layer {}", layer.digest))?;
                out
            }
            MEDIA_TYPE_LAYER_TAR => stored.to_vec(),
            other => bail!(
                "layer {} has media type {other}, which this kit does not read",
                layer.digest
            ),
        };
        ensure!(
            &sha256_digest(&tar) == diff_id,
            "layer {} does not match its diff_id {diff_id}",
            layer.digest
        );
        layers.push(tar);
    }
    Ok(ReadImage {
        manifest_descriptor: descriptor.clone(),
        manifest,
        config,
        layers,
    })
}

/// A blob a descriptor names, checked against its size and digest.
fn blob<'a>(files: &'a LayoutFiles, descriptor: &Descriptor) -> Result<&'a [u8]> {
    let path = blob_path(&descriptor.digest);
    let bytes = files
        .get(&path)
        .with_context(|| format!("{path} is missing from the image layout"))?;
    ensure!(
        bytes.len() as u64 == descriptor.size && sha256_digest(bytes) == descriptor.digest,
        "{path} does not match its descriptor (size {}, digest {})",
        descriptor.size,
        descriptor.digest
    );
    Ok(bytes)
}

/// A regular file found in a layer tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerFile {
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub contents: Vec<u8>,
}

/// The file at `path` (absolute, as in the image) in the topmost layer that holds it.
pub fn find_file(layers: &[Vec<u8>], path: &str) -> Result<Option<LayerFile>> {
    let wanted = path.trim_start_matches('/');
    for layer in layers.iter().rev() {
        let mut archive = tar::Archive::new(Cursor::new(layer));
        for entry in archive.entries().context("reading a layer")? {
            let mut entry = entry.context("reading a layer entry")?;
            let entry_path = entry.path().context("reading a layer entry's path")?;
            if entry_path.to_string_lossy().trim_start_matches("./") != wanted {
                continue;
            }
            let header = entry.header();
            if header.entry_type() != tar::EntryType::Regular {
                bail!("{path} in the image is not a regular file");
            }
            let mut found = LayerFile {
                mode: header.mode().context("reading a mode")?,
                uid: header.uid().context("reading a uid")?,
                gid: header.gid().context("reading a gid")?,
                mtime: header.mtime().context("reading an mtime")?,
                contents: Vec::new(),
            };
            entry
                .read_to_end(&mut found.contents)
                .with_context(|| format!("reading {path} from a layer"))?;
            return Ok(Some(found));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE: &[u8] = b"\x7fELF static bootstrap stand-in";

    fn spec(arch: Arch, bootstrap: &[u8]) -> ImageSpec<'_> {
        ImageSpec {
            arch,
            bootstrap,
            task_files: &[],
            ref_name: arch.lambda_name(),
            docker_tag: "calculate-pi:test",
        }
    }

    #[test]
    fn short_names_become_full_references_as_docker_reads_them() {
        assert_eq!(
            full_reference("calculate-pi:x86_64"),
            "docker.io/library/calculate-pi:x86_64"
        );
        assert_eq!(full_reference("me/app:1"), "docker.io/me/app:1");
        assert_eq!(full_reference("localhost/app:1"), "localhost/app:1");
        assert_eq!(
            full_reference("123.dkr.ecr.eu-west-1.amazonaws.com/app:1"),
            "123.dkr.ecr.eu-west-1.amazonaws.com/app:1"
        );
        assert_eq!(full_reference("reg:5000/app:1"), "reg:5000/app:1");
    }

    /// Path, mode and type of every entry of a layer, in order; owner and time checked.
    fn layer_entries(tar: &[u8]) -> Vec<(String, u32, tar::EntryType)> {
        let mut archive = tar::Archive::new(Cursor::new(tar));
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let header = entry.header();
            assert_eq!(header.uid().unwrap(), 0);
            assert_eq!(header.gid().unwrap(), 0);
            assert_eq!(header.mtime().unwrap(), 0);
            assert_eq!(header.username().unwrap(), Some(""));
            assert_eq!(header.groupname().unwrap(), Some(""));
            seen.push((
                entry.path().unwrap().to_string_lossy().into_owned(),
                header.mode().unwrap(),
                header.entry_type(),
            ));
        }
        seen
    }

    fn dir(path: &str) -> (String, u32, tar::EntryType) {
        (path.to_string(), 0o755, tar::EntryType::Directory)
    }

    fn file(path: &str, mode: u32) -> (String, u32, tar::EntryType) {
        (path.to_string(), mode, tar::EntryType::Regular)
    }

    #[test]
    fn layer_holds_the_bootstrap_and_an_empty_task_root() {
        let tar = layer_tar(FAKE, &[]).unwrap();
        assert_eq!(
            layer_entries(&tar),
            [
                dir("var/"),
                dir("var/runtime/"),
                file("var/runtime/bootstrap", 0o755),
                dir("var/task/"),
            ]
        );
        let found = find_file(&[tar], BOOTSTRAP_PATH).unwrap().unwrap();
        assert_eq!(found.contents, FAKE);
        assert_eq!(found.mode, 0o755);
    }

    #[test]
    fn the_zips_other_files_go_under_the_task_root_with_their_folders_and_modes() {
        let files = [
            TaskFile {
                path: "static/css/site.css",
                mode: 0o100644,
                contents: b"body {}",
            },
            TaskFile {
                path: "static/",
                mode: 0o40755,
                contents: b"",
            },
            TaskFile {
                path: "greeting.txt",
                mode: 0o600,
                contents: b"hello",
            },
            TaskFile {
                path: "tool.sh",
                mode: 0o755,
                contents: b"#!/bin/sh",
            },
        ];
        let tar = layer_tar(FAKE, &files).unwrap();
        assert_eq!(
            layer_entries(&tar),
            [
                dir("var/"),
                dir("var/runtime/"),
                file("var/runtime/bootstrap", 0o755),
                dir("var/task/"),
                file("var/task/greeting.txt", 0o600),
                dir("var/task/static/"),
                dir("var/task/static/css/"),
                file("var/task/static/css/site.css", 0o644),
                file("var/task/tool.sh", 0o755),
            ]
        );
        let layers = [tar.clone()];
        let css = find_file(&layers, "/var/task/static/css/site.css")
            .unwrap()
            .unwrap();
        assert_eq!(css.contents, b"body {}");
        // The order of the zip's entries does not change the layer.
        let mut reversed = files;
        reversed.reverse();
        assert_eq!(layer_tar(FAKE, &reversed).unwrap(), tar);
    }

    #[test]
    fn gzip_header_has_no_time_and_no_name() {
        let gz = gzip(b"layer").unwrap();
        // ID1 ID2 CM FLG MTIME(4) XFL OS: no FNAME flag, mtime 0, OS unknown.
        assert_eq!(&gz[..4], [0x1f, 0x8b, 8, 0]);
        assert_eq!(&gz[4..8], [0, 0, 0, 0]);
        assert_eq!(gz[9], 255);
        let mut out = Vec::new();
        GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"layer");
    }

    #[test]
    fn config_names_architecture_os_entrypoint_and_the_layer() {
        for arch in Arch::ALL {
            let image = build_image(&spec(arch, FAKE)).unwrap();
            let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
            assert_eq!(config["architecture"], arch.oci_name());
            assert_eq!(config["os"], "linux");
            assert_eq!(config["created"], "1970-01-01T00:00:00Z");
            assert_eq!(
                config["config"]["Entrypoint"],
                serde_json::json!(["/var/runtime/bootstrap"])
            );
            assert_eq!(
                config["config"]["Env"],
                serde_json::json!([
                    "LAMBDA_TASK_ROOT=/var/task",
                    "LAMBDA_RUNTIME_DIR=/var/runtime"
                ])
            );
            assert_eq!(config["config"]["WorkingDir"], "/var/task");
            assert_eq!(config["rootfs"]["type"], "layers");
            assert_eq!(
                config["rootfs"]["diff_ids"],
                serde_json::json!([image.layer_tar.digest])
            );
        }
        assert_eq!(Arch::X86_64.oci_name(), "amd64");
        assert_eq!(Arch::Arm64.oci_name(), "arm64");
    }

    #[test]
    fn index_points_at_one_image_manifest_which_points_at_config_and_layer() {
        let image = build_image(&spec(Arch::Arm64, FAKE)).unwrap();
        let index: serde_json::Value = serde_json::from_slice(&image.index).unwrap();
        assert_eq!(index["schemaVersion"], 2);
        assert_eq!(index["mediaType"], MEDIA_TYPE_INDEX);
        let manifests = index["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 1);
        assert_eq!(manifests[0]["mediaType"], MEDIA_TYPE_MANIFEST);
        assert_eq!(manifests[0]["digest"], image.manifest.digest);
        assert_eq!(manifests[0]["size"], image.manifest.bytes.len());
        assert_eq!(manifests[0]["platform"]["architecture"], "arm64");
        assert_eq!(manifests[0]["annotations"][ANNOTATION_REF_NAME], "arm64");
        assert_eq!(
            manifests[0]["annotations"][ANNOTATION_IMAGE_NAME],
            "docker.io/library/calculate-pi:test"
        );

        let manifest: serde_json::Value = serde_json::from_slice(&image.manifest.bytes).unwrap();
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], MEDIA_TYPE_MANIFEST);
        assert_eq!(manifest["config"]["mediaType"], MEDIA_TYPE_CONFIG);
        assert_eq!(manifest["config"]["digest"], image.config.digest);
        assert_eq!(manifest["layers"][0]["mediaType"], MEDIA_TYPE_LAYER_GZIP);
        assert_eq!(manifest["layers"][0]["digest"], image.layer.digest);
        assert_eq!(manifest["layers"][0]["size"], image.layer.bytes.len());

        let docker: serde_json::Value = serde_json::from_slice(&image.docker_manifest).unwrap();
        assert_eq!(
            docker,
            serde_json::json!([{
                "Config": image.config.layout_path(),
                "RepoTags": ["calculate-pi:test"],
                "Layers": [image.layer.layout_path()],
            }])
        );
    }

    #[test]
    fn archive_is_a_sorted_layout_that_reads_back() {
        let image = build_image(&spec(Arch::X86_64, FAKE)).unwrap();
        let archive = archive_bytes(&image).unwrap();
        let mut reader = tar::Archive::new(Cursor::new(&archive));
        let paths: Vec<String> = reader
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        let mut blobs: Vec<String> = [&image.layer, &image.config, &image.manifest]
            .iter()
            .map(|b| b.layout_path())
            .collect();
        blobs.sort();
        let mut expected = vec!["blobs/".to_string(), "blobs/sha256/".to_string()];
        expected.extend(blobs);
        expected.extend(["index.json", "manifest.json", "oci-layout"].map(String::from));
        assert_eq!(paths, expected);

        let files = read_tar_files(&archive).unwrap();
        assert_eq!(files["oci-layout"], br#"{"imageLayoutVersion":"1.0.0"}"#);
        let read = read_image(&files).unwrap();
        assert_eq!(read.manifest_descriptor.digest, image.manifest.digest);
        assert_eq!(
            read.config.config.entrypoint.as_deref(),
            Some(&[BOOTSTRAP_PATH.to_string()][..])
        );
        let bootstrap = find_file(&read.layers, BOOTSTRAP_PATH).unwrap().unwrap();
        assert_eq!(bootstrap.contents, FAKE);
    }

    #[test]
    fn same_binary_same_bytes_other_binary_other_digests() {
        let a = archive_bytes(&build_image(&spec(Arch::X86_64, FAKE)).unwrap()).unwrap();
        let b = archive_bytes(&build_image(&spec(Arch::X86_64, FAKE)).unwrap()).unwrap();
        assert_eq!(a, b);
        let other = build_image(&spec(Arch::X86_64, b"other")).unwrap();
        assert_ne!(archive_bytes(&other).unwrap(), a);
        let arm = build_image(&spec(Arch::Arm64, FAKE)).unwrap();
        let x86 = build_image(&spec(Arch::X86_64, FAKE)).unwrap();
        // Same layer, different config, so a different image.
        assert_eq!(arm.layer.digest, x86.layer.digest);
        assert_ne!(arm.config.digest, x86.config.digest);
        assert_ne!(arm.manifest.digest, x86.manifest.digest);
    }

    #[test]
    fn tampered_or_nested_layouts_are_refused() {
        let image = build_image(&spec(Arch::X86_64, FAKE)).unwrap();
        let files = read_tar_files(&archive_bytes(&image).unwrap()).unwrap();

        let mut tampered = files.clone();
        tampered.insert(image.layer.layout_path(), gzip(b"not the layer").unwrap());
        let err = crate::error::chain_text(&read_image(&tampered).unwrap_err());
        assert!(err.contains("does not match its descriptor"), "{err}");

        let mut nested = files.clone();
        let mut index: Index = serde_json::from_slice(&files["index.json"]).unwrap();
        index.manifests[0].media_type = MEDIA_TYPE_INDEX.to_string();
        nested.insert("index.json".into(), serde_json::to_vec(&index).unwrap());
        let err = crate::error::chain_text(&read_image(&nested).unwrap_err());
        assert!(err.contains("not an image manifest"), "{err}");

        let mut missing = files.clone();
        missing.remove(&image.config.layout_path());
        let err = crate::error::chain_text(&read_image(&missing).unwrap_err());
        assert!(err.contains("missing"), "{err}");

        let err = crate::error::chain_text(&read_image(&LayoutFiles::new()).unwrap_err());
        assert!(err.contains("not an OCI image layout"), "{err}");
    }

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(blob_path("sha256:abc"), "blobs/sha256/abc");
    }
}
