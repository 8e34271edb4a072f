//! The tasks of `cargo xtask`, one module each; the kit they use is the `lambda-kit` crate.

pub mod containers;
pub mod repository;
pub mod tasks;
