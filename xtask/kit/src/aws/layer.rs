//! Publishing an extension layer: `aws lambda publish-layer-version`, the very command
//! `package --extension` prints, then the new version's ARN and CodeSha256 checked against the
//! zip sent.

use std::path::Path;

use crate::artifact::layer::LayerZip;
use crate::aws::cli::{self, GlobalOptions};
use crate::aws::client;
use crate::command::{self, Shell};

/// Why a layer was not published.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("publishing the layer {name} failed")]
    Publish {
        name: String,
        #[source]
        source: crate::aws::Error,
    },
    #[error("AWS answered publish-layer-version for {name} without a LayerVersionArn: {answer}")]
    NoArn { name: String, answer: String },
    #[error(
        "AWS reports CodeSha256 {reported} for the new version of {name}, but the zip sent has \
         {sent}; publish again"
    )]
    NotThisZip {
        name: String,
        reported: String,
        sent: String,
    },
    #[error(transparent)]
    Command(#[from] command::Error),
}

/// A published layer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub arn: String,
    pub version: u64,
}

/// Prints the command that publishes `layer`, runs nothing.
pub fn dry_run(
    layer: &LayerZip,
    globals: &GlobalOptions,
    cwd: &Path,
    shell: Shell,
) -> Result<(), Error> {
    let publish = cli::publish_layer_version(layer, cwd).with_globals(globals);
    println!(
        "deploy --extension would run:\n\n{}\n",
        publish.render(shell)?
    );
    Ok(())
}

/// Publishes `layer` as a new version with the `aws` CLI at `aws` and checks the answer.
pub fn publish(
    aws: &Path,
    layer: &LayerZip,
    globals: &GlobalOptions,
    cwd: &Path,
) -> Result<Published, Error> {
    let name = &layer.extension;
    let publish = cli::publish_layer_version(layer, cwd).with_globals(globals);
    let answer = client::call(aws, &publish).map_err(|source| Error::Publish {
        name: name.clone(),
        source,
    })?;
    let arn = answer["LayerVersionArn"]
        .as_str()
        .ok_or_else(|| Error::NoArn {
            name: name.clone(),
            answer: answer.to_string(),
        })?;
    if let Some(reported) = answer["Content"]["CodeSha256"].as_str() {
        if reported != layer.sha256 {
            return Err(Error::NotThisZip {
                name: name.clone(),
                reported: reported.to_string(),
                sent: layer.sha256.clone(),
            });
        }
    }
    Ok(Published {
        arn: arn.to_string(),
        version: answer["Version"].as_u64().unwrap_or_default(),
    })
}
