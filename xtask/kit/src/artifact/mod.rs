//! What the kit ships: the checked binary ([`elf`]), the zip's bytes ([`lambda_zip`]), the
//! [`deployment::DeploymentZip`] on disk that carries both, and the OCI image ([`oci`]).

pub mod deployment;
pub mod elf;
pub mod lambda_zip;
pub mod layer;
pub mod oci;

use crate::arch::Arch;
use crate::error::Failure;
use crate::runtime::Runtime;

/// Why a binary, zip or image cannot be what Lambda runs; each message says the way out.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not an ELF executable (Lambda's custom runtime needs a Linux binary)")]
    NotElf,
    #[error("a 32-bit ELF binary; Lambda runs 64-bit x86_64 or arm64 binaries only")]
    Elf32,
    /// Built for another machine than the package's architecture (`found` names it).
    #[error(
        "the binary is built for {found}, but the package is for {arch}: build for a {} target \
         (e.g. --target {}) or package with --arch {found}",
        arch.rust_arch(),
        arch.local_default_target()
    )]
    WrongArch { found: String, arch: Arch },
    /// Needs a newer glibc than the runtime has.
    #[error(
        "the binary needs GLIBC_{}.{}, but {runtime} has glibc {}.{}, so Lambda would fail to start \
         it. Ways out: build with --builder cross (its pinned images link against an old glibc), \
         build a static musl binary (--target {}), or deploy on a newer runtime{}",
        needs.0,
        needs.1,
        runtime.glibc().0,
        runtime.glibc().1,
        arch.local_default_target(),
        if *runtime == Runtime::ProvidedAl2 { " (--runtime provided.al2023, glibc 2.34)" } else { "" }
    )]
    GlibcTooNew {
        needs: (u32, u32),
        runtime: Runtime,
        arch: Arch,
    },
    #[error(
        "the bootstrap in {} is not built for a Lambda architecture (ELF machine {machine})",
        path.display()
    )]
    NotLambdaArch {
        path: std::path::PathBuf,
        machine: u16,
    },
    #[error(
        "the function is {0} bytes unzipped, over Lambda's limit of {max} bytes (250 MB); build with \
         the release profile (stripped, LTO) and include fewer files",
        max = lambda_zip::MAX_UNZIPPED_BYTES
    )]
    TooLargeUnzipped(u64),
    #[error(
        "the zip is {0} bytes, over Lambda's limit of {max} bytes (50 MB) for a direct upload; \
         upload it to S3 and use --code S3Bucket=…,S3Key=…, or ship a container image",
        max = lambda_zip::MAX_ZIPPED_BYTES
    )]
    TooLargeZipped(u64),
    #[error("two included files would both be {0:?} in the zip")]
    DuplicateEntry(String),
    #[error("the zip has no `bootstrap` entry at its root; it holds {0:?}")]
    NoBootstrap(Vec<String>),
    #[error("the zip entry {0:?} points outside the function's folder")]
    EntryOutside(String),
    #[error("the zip: `bootstrap` is not executable (mode {0:?}); Lambda could not start it")]
    NotExecutable(Option<String>),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Failure(#[from] Failure),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
