//! lambda-kit: build, check, package, run and deploy the Rust Lambda functions of any Cargo
//! workspace, without cargo-lambda. Pure parts (ELF checks, zip and OCI writing, command
//! rendering, settings, validation) are kept apart from the effects that run programs and touch
//! files, so that they are tested directly.
//!
//! - [`workspace`]: finding the functions of a workspace and their settings (cargo-lambda's
//!   `[package.metadata.lambda]` schema).
//! - [`builder`]: building a function's binary with cargo or cross.
//! - [`ctoolchain`]: which dependencies compile C, and zig as their compiler for the cargo builder.
//! - [`artifact`]: the checked binary, the deployment zip and the OCI image.
//! - [`command`]: one way to describe, print and run every external command.
//! - [`aws`]: the `aws` CLI commands the kit prints and runs.
//! - [`events`]: the event a local run sends, and the kit's example events.
//! - [`emulator`]: a local Lambda execution environment (Runtime API, sandboxes, reports).
//! - [`scaffold`]: `new`'s function packages, from templates.
//! - [`watch`]: the source changes `serve --watch` rebuilds on.
//! - [`template`]: CloudFormation and SAM templates of the functions.

pub mod arch;
pub mod artifact;
pub mod atomic_file;
pub mod aws;
pub mod builder;
pub mod command;
pub mod ctoolchain;
pub mod emulator;
pub mod error;
pub mod events;
pub mod paths;
pub mod pipeline;
pub mod runtime;
pub mod scaffold;
pub mod template;
pub mod tools;
pub mod validate;
pub mod watch;
pub mod workspace;
