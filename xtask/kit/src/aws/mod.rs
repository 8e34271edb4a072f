//! The `aws` CLI: the commands the kit prints ([`cli`]) and running them ([`client`]). One
//! renderer serves both, so the command a user copies is the very command `deploy` runs.

pub mod cli;
pub mod client;
