//! The calculate-pi build kit. Pure parts (ELF checks, zip writing, command rendering,
//! validation) are separate from the tasks that run programs and touch files.

pub mod arch;
pub mod atomic_file;
pub mod aws_cli;
pub mod aws_run;
pub mod bench;
pub mod build;
pub mod clean;
pub mod cross_config;
pub mod deploy;
pub mod elf_check;
pub mod emulator;
pub mod image;
pub mod invoke;
pub mod lambda_zip;
pub mod oci;
pub mod package;
pub mod process;
pub mod project;
pub mod runtime;
pub mod serve;
pub mod setup;
pub mod test_suite;
pub mod tools;
pub mod validate;
