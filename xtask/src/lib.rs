//! The calculate-pi build kit. Pure parts (ELF checks, zip writing, command rendering,
//! validation) are separate from the tasks that run programs and touch files.

pub mod arch;
pub mod atomic_file;
pub mod aws_cli;
pub mod build;
pub mod cross_config;
pub mod elf_check;
pub mod emulator;
pub mod invoke;
pub mod lambda_zip;
pub mod package;
pub mod process;
pub mod project;
pub mod runtime;
pub mod serve;
pub mod tools;
pub mod validate;
