//! The environment Lambda gives a custom runtime's `bootstrap`, and nothing else: the user's own
//! environment (AWS credentials above all) never reaches the function.
//!
//! Set as on Lambda: `AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`,
//! `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `AWS_LAMBDA_FUNCTION_VERSION`,
//! `AWS_LAMBDA_INITIALIZATION_TYPE`, `AWS_LAMBDA_LOG_GROUP_NAME`, `AWS_LAMBDA_LOG_STREAM_NAME`,
//! `AWS_REGION`, `AWS_DEFAULT_REGION`, `_HANDLER`, `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`,
//! `TZ`, `LANG`, `PATH`, `LD_LIBRARY_PATH`. Not set: `AWS_EXECUTION_ENV`, which Lambda does not
//! define for the OS-only (`provided`) runtimes, and the execution role's credentials
//! (`AWS_ACCESS_KEY_ID`, …), which a local run does not have.

use std::net::SocketAddr;
use std::path::Path;

/// Keys Lambda reserves: a function's configuration cannot set them.
pub const RESERVED_KEYS: [&str; 18] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
];

/// The handler a custom runtime is created with (`--handler bootstrap`).
pub const HANDLER: &str = "bootstrap";

/// What the environment is made from.
#[derive(Debug, Clone)]
pub struct EnvironmentSpec<'a> {
    pub runtime_api: SocketAddr,
    pub function_name: &'a str,
    pub memory_size_mb: u32,
    pub version: &'a str,
    pub region: &'a str,
    pub log_stream_name: &'a str,
    pub task_root: &'a Path,
    pub runtime_dir: &'a Path,
    /// The function's configured variables (`--env KEY=VALUE`), checked by [`parse_env_var`].
    pub user: &'a [(String, String)],
}

/// The complete environment of the `bootstrap` process, in a fixed order.
pub fn lambda_environment(spec: &EnvironmentSpec<'_>) -> Vec<(String, String)> {
    let task_root = spec.task_root.display().to_string();
    let runtime_dir = spec.runtime_dir.display().to_string();
    let mut env: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), spec.runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), spec.function_name.into()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
            spec.memory_size_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), spec.version.into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", spec.function_name),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME".into(),
            spec.log_stream_name.into(),
        ),
        ("AWS_REGION".into(), spec.region.into()),
        ("AWS_DEFAULT_REGION".into(), spec.region.into()),
        ("_HANDLER".into(), HANDLER.into()),
        ("LAMBDA_TASK_ROOT".into(), task_root.clone()),
        ("LAMBDA_RUNTIME_DIR".into(), runtime_dir.clone()),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        (
            "PATH".into(),
            "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into(),
        ),
        (
            "LD_LIBRARY_PATH".into(),
            format!(
                "/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{task_root}:{task_root}/lib:/opt/lib"
            ),
        ),
    ];
    for (key, value) in spec.user {
        // The unreserved ones (LANG, PATH, LD_LIBRARY_PATH, TZ) may be overridden, as on Lambda.
        match env.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.clone(),
            None => env.push((key.clone(), value.clone())),
        }
    }
    env
}

/// `--env KEY=VALUE`, with Lambda's rules for keys: a letter, then letters, digits or `_`;
/// not a reserved key.
pub fn parse_env_var(value: &str) -> Result<(String, String), String> {
    let (key, val) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not KEY=VALUE"))?;
    let key_ok = key.len() >= 2
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !key_ok {
        return Err(format!(
            "{key:?} is not a valid Lambda environment variable name: a letter, then at least \
             one letter, digit or '_'"
        ));
    }
    if RESERVED_KEYS.contains(&key) {
        return Err(format!(
            "{key} is reserved: Lambda sets it itself and refuses it in a function's configuration"
        ));
    }
    Ok((key.to_string(), val.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn only_lambdas_variables_and_the_configured_ones() {
        let task_root = PathBuf::from("/tmp/task");
        let runtime_dir = PathBuf::from("/tmp/runtime");
        let user = vec![
            (
                "CALCULATE_PI_MAX_DIGITS_SPIGOT".to_string(),
                "20".to_string(),
            ),
            ("LANG".to_string(), "C.UTF-8".to_string()),
        ];
        let spec = EnvironmentSpec {
            runtime_api: "127.0.0.1:9001".parse().unwrap(),
            function_name: "calculate-pi",
            memory_size_mb: 256,
            version: "$LATEST",
            region: "eu-west-1",
            log_stream_name: "2025/01/02/[$LATEST]abc",
            task_root: &task_root,
            runtime_dir: &runtime_dir,
            user: &user,
        };
        let env = lambda_environment(&spec);
        let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("AWS_LAMBDA_RUNTIME_API"), Some("127.0.0.1:9001"));
        assert_eq!(get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("256"));
        assert_eq!(
            get("AWS_LAMBDA_LOG_GROUP_NAME"),
            Some("/aws/lambda/calculate-pi")
        );
        assert_eq!(get("AWS_DEFAULT_REGION"), Some("eu-west-1"));
        assert_eq!(get("_HANDLER"), Some("bootstrap"));
        assert_eq!(get("LAMBDA_TASK_ROOT"), Some("/tmp/task"));
        assert_eq!(get("TZ"), Some(":UTC"));
        assert_eq!(get("LANG"), Some("C.UTF-8"));
        assert_eq!(get("CALCULATE_PI_MAX_DIGITS_SPIGOT"), Some("20"));
        assert!(get("LD_LIBRARY_PATH").unwrap().contains("/tmp/task/lib"));
        for absent in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "HOME",
            "AWS_EXECUTION_ENV",
        ] {
            assert_eq!(get(absent), None, "{absent}");
        }
        let mut keys: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), env.len(), "no key twice");
    }

    #[test]
    fn env_vars_follow_lambdas_rules() {
        assert_eq!(
            parse_env_var("CALCULATE_PI_MAX_DIGITS_SPIGOT=20_000"),
            Ok(("CALCULATE_PI_MAX_DIGITS_SPIGOT".into(), "20_000".into()))
        );
        assert_eq!(parse_env_var("A1=x=y"), Ok(("A1".into(), "x=y".into())));
        assert_eq!(parse_env_var("EMPTY="), Ok(("EMPTY".into(), String::new())));
        assert!(parse_env_var("NOVALUE").unwrap_err().contains("KEY=VALUE"));
        assert!(parse_env_var("1A=x").is_err());
        assert!(parse_env_var("A=x").is_err());
        assert!(parse_env_var("MY-VAR=x").is_err());
        assert!(parse_env_var("AWS_ACCESS_KEY_ID=x")
            .unwrap_err()
            .contains("reserved"));
        assert!(parse_env_var("AWS_LAMBDA_RUNTIME_API=x").is_err());
    }
}
