//! One module per `cargo xtask` task. A task uses the kit (`lambda-kit`) and this crate's
//! [`crate::repository`] and [`crate::containers`], never another task (`test` runs `setup`
//! first, as `make test` promises).

pub mod bench;
pub mod bench_serve;
pub mod clean;
pub mod deploy;
pub mod image;
pub mod invoke;
pub mod new;
pub mod package;
pub mod serve;
pub mod setup;
pub mod template;
pub mod test;
