//! `cargo xtask bench`: the CloudWatch-style benchmark tables, measured through the Runtime API
//! emulator, with the baseline and JavaScript timed side by side in the same run.

pub mod charts;
pub mod stats;
