//! One module per `cargo xtask` task.

pub mod clean;
pub mod deploy;
pub mod image;
pub mod invoke;
pub mod package;
pub mod serve;
pub mod setup;
pub mod template;
pub mod test;
