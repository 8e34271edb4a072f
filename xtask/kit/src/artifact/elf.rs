//! What Lambda will make of a binary, read from its ELF header and dynamic section before it is
//! packaged: the machine it runs on, whether it is static, and the newest glibc symbol version
//! it needs (a binary that needs a newer glibc than the runtime has dies at start-up with
//! "version `GLIBC_2.34' not found").

use object::elf;
use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
use object::Endianness;

use crate::arch::Arch;
use crate::artifact::{Error, Result};
use crate::error::Context;
use crate::runtime::Runtime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryInfo {
    /// The architecture named by `e_machine`, if it is a Lambda one.
    pub arch: Option<Arch>,
    pub machine: u16,
    /// The `PT_INTERP` program interpreter; `None` for a static binary.
    pub interpreter: Option<String>,
    /// Every `GLIBC_x.y` version the binary needs, sorted oldest first.
    pub glibc_versions: Vec<(u32, u32)>,
}

impl BinaryInfo {
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none()
    }

    pub fn newest_glibc(&self) -> Option<(u32, u32)> {
        self.glibc_versions.last().copied()
    }

    /// "static" or "dynamic, needs GLIBC_2.28".
    pub fn linkage(&self) -> String {
        match (&self.interpreter, self.newest_glibc()) {
            (None, _) => "static".to_string(),
            (Some(_), Some((major, minor))) => format!("dynamic, needs GLIBC_{major}.{minor}"),
            (Some(interp), None) => format!("dynamic ({interp})"),
        }
    }
}

/// Reads the facts Lambda cares about from an ELF executable.
pub fn inspect(bytes: &[u8]) -> Result<BinaryInfo> {
    if bytes.get(..4) != Some(&elf::ELFMAG[..]) {
        return Err(Error::NotElf);
    }
    // e_ident[EI_CLASS]: 1 for 32-bit, 2 for 64-bit.
    if bytes.get(4) != Some(&elf::ELFCLASS64) {
        return Err(Error::Elf32);
    }
    let file = ElfFile64::<Endianness>::parse(bytes).context("reading the ELF header")?;
    let endian = file.endian();
    let header = file.elf_header();
    let machine = header.e_machine(endian);
    let arch = Arch::ALL.into_iter().find(|a| a.elf_machine() == machine);

    let mut interpreter = None;
    for segment in file.elf_program_headers() {
        if let Some(interp) = segment
            .interpreter(endian, bytes)
            .context("reading PT_INTERP")?
        {
            interpreter = Some(String::from_utf8_lossy(interp).into_owned());
        }
    }

    let mut glibc_versions = Vec::new();
    let sections = file.elf_section_table();
    if let Some((mut needs, link)) = sections
        .gnu_verneed(endian, bytes)
        .context("reading the version-needs section")?
    {
        let strings = sections
            .strings(endian, bytes, link)
            .context("reading the version-needs string table")?;
        while let Some((_need, mut aux)) = needs.next().context("reading a version need")? {
            while let Some(entry) = aux.next().context("reading a version need entry")? {
                let name = entry
                    .name(endian, strings)
                    .context("reading a version name")?;
                if let Some(version) = parse_glibc_version(name) {
                    glibc_versions.push(version);
                }
            }
        }
    }
    glibc_versions.sort_unstable();
    glibc_versions.dedup();

    Ok(BinaryInfo {
        arch,
        machine,
        interpreter,
        glibc_versions,
    })
}

/// `GLIBC_2.34` → (2, 34); anything else (`GLIBC_PRIVATE`, `GCC_3.0`) → `None`.
pub fn parse_glibc_version(name: &[u8]) -> Option<(u32, u32)> {
    let rest = std::str::from_utf8(name).ok()?.strip_prefix("GLIBC_")?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// Checks that a binary will start on `runtime` on `arch`; the error says what was found and
/// the ways out.
pub fn check_for_lambda(info: &BinaryInfo, arch: Arch, runtime: Runtime) -> Result<()> {
    if info.arch != Some(arch) {
        let found = info.arch.map_or_else(
            || format!("ELF machine {}", info.machine),
            |a| a.to_string(),
        );
        return Err(Error::WrongArch { found, arch });
    }
    if let Some((major, minor)) = info.newest_glibc() {
        if (major, minor) > runtime.glibc() {
            return Err(Error::GlibcTooNew {
                needs: (major, minor),
                runtime,
                arch,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_version_names() {
        assert_eq!(parse_glibc_version(b"GLIBC_2.34"), Some((2, 34)));
        assert_eq!(parse_glibc_version(b"GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(parse_glibc_version(b"GLIBC_2"), Some((2, 0)));
        assert_eq!(parse_glibc_version(b"GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc_version(b"GCC_3.0"), None);
    }

    #[test]
    fn non_elf_input_is_refused_clearly() {
        let err = inspect(b"#!/bin/sh\necho hi\n").unwrap_err().to_string();
        assert!(err.contains("not an ELF"), "{err}");
        let err = inspect(b"").unwrap_err().to_string();
        assert!(err.contains("not an ELF"), "{err}");
    }

    /// The test binary itself is a real ELF executable of the host: dynamic, glibc.
    #[test]
    fn reads_the_running_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let bytes = std::fs::read(exe).unwrap();
        let info = inspect(&bytes).unwrap();
        assert_eq!(info.arch, Arch::host());
        if cfg!(target_env = "gnu") {
            assert!(!info.is_static());
            assert!(info.newest_glibc().is_some_and(|v| v >= (2, 2)));
        }
    }

    fn dynamic(arch: Arch, glibc: (u32, u32)) -> BinaryInfo {
        BinaryInfo {
            arch: Some(arch),
            machine: arch.elf_machine(),
            interpreter: Some("/lib/ld-linux-aarch64.so.1".into()),
            glibc_versions: vec![(2, 17), glibc],
        }
    }

    #[test]
    fn glibc_newer_than_the_runtime_is_refused_with_the_ways_out() {
        let info = dynamic(Arch::Arm64, (2, 34));
        let err = check_for_lambda(&info, Arch::Arm64, Runtime::ProvidedAl2)
            .unwrap_err()
            .to_string();
        for says in [
            "GLIBC_2.34",
            "glibc 2.26",
            "--builder cross",
            "aarch64-unknown-linux-musl",
            "provided.al2023",
        ] {
            assert!(err.contains(says), "{says}: {err}");
        }
        check_for_lambda(&info, Arch::Arm64, Runtime::ProvidedAl2023).unwrap();
        check_for_lambda(
            &dynamic(Arch::Arm64, (2, 26)),
            Arch::Arm64,
            Runtime::ProvidedAl2,
        )
        .unwrap();
        assert!(check_for_lambda(
            &dynamic(Arch::Arm64, (2, 35)),
            Arch::Arm64,
            Runtime::ProvidedAl2023
        )
        .is_err());
    }

    #[test]
    fn wrong_machine_is_refused() {
        let info = dynamic(Arch::X86_64, (2, 17));
        let err = check_for_lambda(&info, Arch::Arm64, Runtime::ProvidedAl2023)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("built for x86_64") && err.contains("for arm64"),
            "{err}"
        );
    }
}
