//! Before the runtime starts: the environment lambda_runtime needs, and the report of an init
//! failure to the Runtime API.
//!
//! lambda_runtime reads `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (an
//! `i32`), `AWS_LAMBDA_FUNCTION_VERSION` and `AWS_LAMBDA_RUNTIME_API` (a URI with a host) with
//! `expect`: without them it panics with a backtrace hint instead of saying what is missing.
//! Every Runtime API host sets them (Lambda, the RIE, cargo-lambda, this kit's emulator); a
//! bootstrap started by hand does not. So they are checked first, all at once, and the function
//! exits with one clear line.

use std::fmt;

use http::{Method, Uri};
use lambda_runtime::Diagnostic;
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{build_request, PooledClient};

/// The variable Lambda sets to the Runtime API's `host:port`.
pub const RUNTIME_API_VAR: &str = "AWS_LAMBDA_RUNTIME_API";
pub const FUNCTION_NAME_VAR: &str = "AWS_LAMBDA_FUNCTION_NAME";
pub const MEMORY_SIZE_VAR: &str = crate::limits::MEMORY_SIZE_VAR;
pub const FUNCTION_VERSION_VAR: &str = "AWS_LAMBDA_FUNCTION_VERSION";

/// What is wrong with the environment, one entry a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentError {
    pub problems: Vec<String>,
}

impl fmt::Display for EnvironmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "this is not a Lambda execution environment: {}. Lambda and its emulators set these \
             variables; to run the bootstrap locally use `cargo xtask invoke` or `cargo xtask serve`",
            self.problems.join("; ")
        )
    }
}

impl std::error::Error for EnvironmentError {}

/// Checks, through `lookup`, every variable lambda_runtime would otherwise panic on.
pub fn check_environment(lookup: impl Fn(&str) -> Option<String>) -> Result<(), EnvironmentError> {
    let mut problems = Vec::new();
    match lookup(RUNTIME_API_VAR) {
        None => problems.push(format!("{RUNTIME_API_VAR} is not set")),
        Some(api) => {
            if let Err(why) = runtime_api_uri(&api) {
                problems.push(why);
            }
        }
    }
    for variable in [FUNCTION_NAME_VAR, FUNCTION_VERSION_VAR] {
        if lookup(variable).is_none() {
            problems.push(format!("{variable} is not set"));
        }
    }
    match lookup(MEMORY_SIZE_VAR) {
        None => problems.push(format!("{MEMORY_SIZE_VAR} is not set")),
        // lambda_runtime parses it as an i32, untrimmed.
        Some(memory) if memory.parse::<i32>().is_err() => problems.push(format!(
            "{MEMORY_SIZE_VAR}={memory:?} is not a whole number of MB"
        )),
        Some(_) => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(EnvironmentError { problems })
    }
}

/// The Runtime API's base URI from `AWS_LAMBDA_RUNTIME_API` (`host:port`), as the runtime's
/// client reads it: a URI with a host, or it panics at the first request.
pub fn runtime_api_uri(api: &str) -> Result<Uri, String> {
    match api.parse::<Uri>() {
        Ok(uri) if uri.authority().is_some() => Ok(uri),
        _ => Err(format!("{RUNTIME_API_VAR}={api:?} is not host:port")),
    }
}

/// `POST /2018-06-01/runtime/init/error`: Lambda then fails the invocation with this error
/// (and its `errorType`) instead of a bare "Runtime exited".
pub async fn report_init_error(api: &Uri, diagnostic: &Diagnostic) -> Result<(), String> {
    let body = serde_json::to_vec(diagnostic).map_err(|e| e.to_string())?;
    let request = build_request()
        .method(Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .body(Body::from(body))
        .map_err(|e| e.to_string())?;
    let client = PooledClient::builder().with_endpoint(api.clone()).build();
    match client.call(request).await {
        Ok(reply) if reply.status().is_success() => Ok(()),
        Ok(reply) => Err(format!("the Runtime API answered {}", reply.status())),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn check(pairs: &[(&str, &str)]) -> Result<(), EnvironmentError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        check_environment(|name| map.get(name).map(|v| v.to_string()))
    }

    const LAMBDA: [(&str, &str); 4] = [
        (RUNTIME_API_VAR, "127.0.0.1:9001"),
        (FUNCTION_NAME_VAR, "calculate-pi"),
        (MEMORY_SIZE_VAR, "128"),
        (FUNCTION_VERSION_VAR, "$LATEST"),
    ];

    #[test]
    fn lambdas_environment_passes() {
        assert_eq!(check(&LAMBDA), Ok(()));
        let mut localhost = LAMBDA;
        localhost[0].1 = "localhost:9001";
        assert_eq!(check(&localhost), Ok(()));
    }

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let err = check(&[]).unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        let message = err.to_string();
        for variable in [
            RUNTIME_API_VAR,
            FUNCTION_NAME_VAR,
            MEMORY_SIZE_VAR,
            FUNCTION_VERSION_VAR,
        ] {
            assert!(message.contains(variable), "{variable}: {message}");
        }
        assert!(message.contains("cargo xtask invoke"), "{message}");
        for (index, (variable, _)) in LAMBDA.iter().enumerate() {
            let mut one_missing = LAMBDA.to_vec();
            one_missing.remove(index);
            let err = check(&one_missing).unwrap_err();
            assert_eq!(err.problems, vec![format!("{variable} is not set")]);
        }
    }

    #[test]
    fn values_lambda_runtime_would_panic_on_are_refused() {
        for (variable, bad) in [
            (MEMORY_SIZE_VAR, "lots"),
            (MEMORY_SIZE_VAR, " 128"),
            (MEMORY_SIZE_VAR, "99999999999"),
            (RUNTIME_API_VAR, ""),
            (RUNTIME_API_VAR, "not an address"),
            (RUNTIME_API_VAR, "/path"),
        ] {
            let mut env = LAMBDA.to_vec();
            env.retain(|(name, _)| *name != variable);
            env.push((variable, bad));
            let err = check(&env).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{err}");
            assert!(err.problems[0].starts_with(variable), "{err}");
        }
    }
}
