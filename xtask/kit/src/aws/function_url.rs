//! A function URL for a deployed function (`deploy --function-url`): its configuration
//! (`create-function-url-config` or `update-function-url-config`) and, for a public URL
//! (`--function-url-auth NONE`), the two resource-policy statements a URL needs since October
//! 2025: `lambda:InvokeFunctionUrl` with `FunctionUrlAuthType NONE`, and `lambda:InvokeFunction`
//! invoked via the function URL. An `AWS_IAM` URL gets no public statement (its callers' own
//! IAM policies grant access), and the public ones a former `NONE` URL left are removed.
//! Every command is an [`AwsCommand`], shown as it runs; [`UrlPlan::render`] prints them all.

use crate::aws::cli::{AwsCommand, GlobalOptions};
use crate::aws::client::{self, ErrorKind};
use crate::command::{self, Shell};
pub use crate::workspace::function_url::{InvokeMode, UrlAuth, UrlSettings};

/// Why the function URL was not set up: what was being done, and what the CLI said.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{doing} failed")]
    Cli {
        doing: String,
        #[source]
        source: crate::aws::Error,
    },
    #[error("{doing}: unexpected answer from the aws CLI: {answer}")]
    Answer { doing: String, answer: String },
    #[error(transparent)]
    Command(#[from] command::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The statement that lets anyone call a `NONE` URL (the console's name for it).
pub const URL_STATEMENT: &str = "FunctionURLAllowPublicAccess";
/// The statement that lets those calls invoke the function (required since October 2025).
pub const INVOKE_STATEMENT: &str = "FunctionURLAllowInvokeAction";

/// What to do to the URL configuration. Pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlStep {
    Create,
    Update,
    Unchanged,
}

/// Create, update or leave the URL, given the `AuthType` and `InvokeMode` AWS reports (`None`:
/// no URL).
pub fn url_step(existing: Option<(&str, &str)>, wanted: UrlSettings) -> UrlStep {
    match existing {
        None => UrlStep::Create,
        Some((auth, mode)) if auth == wanted.auth.name() && mode == wanted.invoke_mode.name() => {
            UrlStep::Unchanged
        }
        Some(_) => UrlStep::Update,
    }
}

/// The statement ids of a `get-policy` answer's `Policy` (a JSON document in a string).
pub fn statement_ids(policy: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(policy)
        .ok()
        .and_then(|p| p["Statement"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s["Sid"].as_str().map(str::to_string))
        .collect()
}

/// Statements to add and to remove, given those the policy has. Pure.
pub fn statement_changes(
    present: &[String],
    auth: UrlAuth,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let ours = [URL_STATEMENT, INVOKE_STATEMENT];
    let has = |sid: &str| present.iter().any(|p| p == sid);
    match auth {
        UrlAuth::None => (ours.into_iter().filter(|s| !has(s)).collect(), Vec::new()),
        UrlAuth::AwsIam => (Vec::new(), ours.into_iter().filter(|s| has(s)).collect()),
    }
}

/// Every command the URL may need, with the global options.
#[derive(Debug, Clone)]
pub struct UrlPlan {
    pub settings: UrlSettings,
    pub get_config: AwsCommand,
    pub create_config: AwsCommand,
    pub update_config: AwsCommand,
    pub get_policy: AwsCommand,
    pub add_url_permission: AwsCommand,
    pub add_invoke_permission: AwsCommand,
}

impl UrlPlan {
    pub fn new(function_name: &str, settings: UrlSettings, globals: &GlobalOptions) -> UrlPlan {
        let lambda =
            |sub: &str| AwsCommand::aws(&["lambda", sub]).option("--function-name", function_name);
        let json = |c: AwsCommand| c.with_globals(globals).option("--output", "json");
        let config = |sub: &str| {
            json(
                lambda(sub)
                    .option("--auth-type", settings.auth.name())
                    .option("--invoke-mode", settings.invoke_mode.name()),
            )
        };
        UrlPlan {
            settings,
            get_config: json(lambda("get-function-url-config")),
            create_config: config("create-function-url-config"),
            update_config: config("update-function-url-config"),
            get_policy: json(lambda("get-policy")),
            add_url_permission: json(
                lambda("add-permission")
                    .option("--statement-id", URL_STATEMENT)
                    .option("--action", "lambda:InvokeFunctionUrl")
                    .option("--principal", "*")
                    .option("--function-url-auth-type", "NONE"),
            ),
            add_invoke_permission: json(
                lambda("add-permission")
                    .option("--statement-id", INVOKE_STATEMENT)
                    .option("--action", "lambda:InvokeFunction")
                    .option("--principal", "*")
                    .flag("--invoked-via-function-url"),
            ),
        }
    }

    fn remove_permission(
        &self,
        function_name: &str,
        sid: &str,
        globals: &GlobalOptions,
    ) -> AwsCommand {
        AwsCommand::aws(&["lambda", "remove-permission"])
            .option("--function-name", function_name)
            .option("--statement-id", sid)
            .with_globals(globals)
    }

    /// The commands as a user would run them, for `--dry-run` and the record of what ran.
    pub fn render(&self, shell: Shell) -> command::Result<String> {
        let mut text = format!(
            "# The function URL ({auth}, {mode}): create it, or update it when it exists.\n\
             {create}\n\n{update}\n",
            auth = self.settings.auth.name(),
            mode = self.settings.invoke_mode.name(),
            create = self.create_config.render(shell)?,
            update = self.update_config.render(shell)?,
        );
        if self.settings.auth == UrlAuth::None {
            text.push_str(&format!(
                "\n# Anyone may call it: both statements a public URL needs.\n{}\n\n{}\n",
                self.add_url_permission.render(shell)?,
                self.add_invoke_permission.render(shell)?,
            ));
        }
        Ok(text)
    }

    /// Sets the URL up with the `aws` CLI at `aws` (idempotent); returns the URL.
    pub fn apply(
        &self,
        aws: &std::path::Path,
        function_name: &str,
        globals: &GlobalOptions,
    ) -> Result<String> {
        let cli = |doing: &str, command: &AwsCommand| {
            client::call(aws, command).map_err(|source| Error::Cli {
                doing: doing.to_string(),
                source,
            })
        };
        let not_found =
            |e: &crate::aws::Error| e.cli().is_some_and(|c| c.kind == ErrorKind::NotFound);
        let existing = match client::call(aws, &self.get_config) {
            Ok(config) => Some(config),
            Err(error) if not_found(&error) => None,
            Err(source) => {
                return Err(Error::Cli {
                    doing: format!("reading the function URL of {function_name}"),
                    source,
                })
            }
        };
        let reported = existing.as_ref().map(|c| {
            (
                c["AuthType"].as_str().unwrap_or_default(),
                c["InvokeMode"].as_str().unwrap_or("BUFFERED"),
            )
        });
        let config = match url_step(reported, self.settings) {
            UrlStep::Create => cli("creating the function URL", &self.create_config)?,
            UrlStep::Update => cli("updating the function URL", &self.update_config)?,
            UrlStep::Unchanged => existing.clone().unwrap_or_default(),
        };
        let url = config["FunctionUrl"]
            .as_str()
            .ok_or_else(|| Error::Answer {
                doing: "setting up the function URL".into(),
                answer: config.to_string(),
            })?
            .to_string();
        let present = match client::call(aws, &self.get_policy) {
            Ok(policy) => statement_ids(policy["Policy"].as_str().unwrap_or_default()),
            Err(error) if not_found(&error) => Vec::new(),
            Err(source) => {
                return Err(Error::Cli {
                    doing: format!("reading the resource policy of {function_name}"),
                    source,
                })
            }
        };
        let (add, remove) = statement_changes(&present, self.settings.auth);
        for sid in add {
            let command = if sid == URL_STATEMENT {
                &self.add_url_permission
            } else {
                &self.add_invoke_permission
            };
            cli(&format!("adding the {sid} statement"), command)?;
        }
        for sid in remove {
            let command = self.remove_permission(function_name, sid, globals);
            cli(&format!("removing the public {sid} statement"), &command)?;
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_created_updated_or_left() {
        let wanted = UrlSettings {
            auth: UrlAuth::None,
            invoke_mode: InvokeMode::ResponseStream,
        };
        assert_eq!(url_step(None, wanted), UrlStep::Create);
        assert_eq!(
            url_step(Some(("NONE", "RESPONSE_STREAM")), wanted),
            UrlStep::Unchanged
        );
        assert_eq!(
            url_step(Some(("NONE", "BUFFERED")), wanted),
            UrlStep::Update
        );
        assert_eq!(
            url_step(Some(("AWS_IAM", "RESPONSE_STREAM")), wanted),
            UrlStep::Update
        );
    }

    #[test]
    fn a_public_url_gets_both_statements_once_and_an_iam_url_none() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"FunctionURLAllowPublicAccess"},{"Sid":"other"}]}"#;
        let present = statement_ids(policy);
        assert_eq!(present, ["FunctionURLAllowPublicAccess", "other"]);
        assert_eq!(
            statement_changes(&present, UrlAuth::None),
            (vec![INVOKE_STATEMENT], vec![])
        );
        assert_eq!(
            statement_changes(&present, UrlAuth::AwsIam),
            (vec![], vec![URL_STATEMENT])
        );
        assert_eq!(
            statement_changes(&[], UrlAuth::None),
            (vec![URL_STATEMENT, INVOKE_STATEMENT], vec![])
        );
    }
}
