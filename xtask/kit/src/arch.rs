//! The two Lambda architectures, named as `aws lambda --architectures` names them, and what each
//! means for Rust targets, ELF machines, container platforms and emulation.

use std::fmt;
use std::str::FromStr;

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, serde::Serialize)]
pub enum Arch {
    #[value(name = "x86_64")]
    #[serde(rename = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    #[serde(rename = "arm64")]
    Arm64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::Arm64];

    /// The name Lambda uses (`--architectures`), also used in artifact names.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The first component of Rust target triples for this architecture.
    pub fn rust_arch(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }

    /// The target the local toolchain builds when the user names none: musl everywhere, so
    /// that the binary is static and links with `rust-lld` alone, on any host OS.
    pub fn local_default_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Arm64 => "aarch64-unknown-linux-musl",
        }
    }

    /// The architecture name of OCI images and `docker --platform linux/<name>`.
    pub fn oci_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The ELF `e_machine` of binaries for this architecture.
    pub fn elf_machine(self) -> u16 {
        match self {
            Arch::X86_64 => object::elf::EM_X86_64,
            Arch::Arm64 => object::elf::EM_AARCH64,
        }
    }

    /// The user-mode emulator that runs this architecture's binaries on another host.
    pub fn qemu_binary(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-x86_64",
            Arch::Arm64 => "qemu-aarch64",
        }
    }

    /// The architecture of the machine running this program, if it is a Lambda one.
    pub fn host() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }

    /// The architecture a Rust target triple builds for.
    pub fn of_target(target: &str) -> Option<Arch> {
        let rust_arch = target.split('-').next()?;
        Arch::ALL.into_iter().find(|a| a.rust_arch() == rust_arch)
    }

    /// `dist/` file name of the zip for this architecture.
    pub fn zip_file_name(self) -> String {
        format!("lambda-{}.zip", self.lambda_name())
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lambda_name())
    }
}

impl FromStr for Arch {
    type Err = crate::error::Failure;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "x86_64" => Ok(Arch::X86_64),
            "arm64" => Ok(Arch::Arm64),
            other => Err(crate::error::Failure::msg(format!(
                "unknown architecture {other:?}: Lambda accepts x86_64 or arm64"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_back_to_their_architecture() {
        for arch in Arch::ALL {
            assert_eq!(Arch::of_target(arch.local_default_target()), Some(arch));
            assert_eq!(arch.lambda_name().parse::<Arch>().unwrap(), arch);
        }
        assert_eq!(
            Arch::of_target("aarch64-unknown-linux-gnu"),
            Some(Arch::Arm64)
        );
        assert_eq!(Arch::of_target("riscv64gc-unknown-linux-gnu"), None);
        assert!("aarch64".parse::<Arch>().is_err());
    }
}
