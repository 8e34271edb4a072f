//! The `aws` CLI: the commands the kit prints ([`cli`]), running them ([`client`]), and what
//! `deploy` does with them ([`deploy`]). One renderer serves both, so the command a user copies
//! is the very command `deploy` runs.

pub mod cli;
pub mod client;
pub mod deploy;
pub mod function_url;
pub mod layer;

use crate::command;
use crate::tools::NotInstalled;

/// What can go wrong running the `aws` CLI: it is missing, it could not run, it ran and AWS or
/// the CLI said no ([`client::CliError`], classified), or its output was not what it should be.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    NotInstalled(#[from] NotInstalled),
    /// The command could not be written out or started.
    #[error(transparent)]
    Command(#[from] command::Error),
    /// The CLI ran and failed: what it said, and what kind of failure that is.
    #[error(transparent)]
    Cli(#[from] client::CliError),
    #[error("{doing}: reading its output as JSON:\n{stdout}")]
    Output {
        doing: String,
        stdout: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// The CLI's own failure, when that is what this is.
    pub fn cli(&self) -> Option<&client::CliError> {
        match self {
            Error::Cli(error) => Some(error),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
