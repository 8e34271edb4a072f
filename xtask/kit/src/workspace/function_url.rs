//! A function URL as a setting: `--function-url`, `--function-url-auth`, `--invoke-mode`, or the
//! same in a `deploy` table (`function_url = true` — cargo-lambda's `enable_function_url` is
//! read too —, `function_url_auth = "NONE" | "AWS_IAM"`, `invoke_mode = "BUFFERED" |
//! "RESPONSE_STREAM"`). Flags win over metadata, metadata over the defaults (NONE, BUFFERED).

use serde::Serialize;

/// Who may call the URL: anyone (`NONE`) or signed AWS principals (`AWS_IAM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
pub enum UrlAuth {
    #[default]
    #[value(name = "NONE")]
    #[serde(rename = "NONE")]
    None,
    #[value(name = "AWS_IAM")]
    #[serde(rename = "AWS_IAM")]
    AwsIam,
}

impl UrlAuth {
    pub fn name(self) -> &'static str {
        match self {
            UrlAuth::None => "NONE",
            UrlAuth::AwsIam => "AWS_IAM",
        }
    }

    pub fn parse(text: &str) -> Result<UrlAuth, String> {
        match text {
            "NONE" => Ok(UrlAuth::None),
            "AWS_IAM" => Ok(UrlAuth::AwsIam),
            other => Err(format!("{other:?} is not NONE or AWS_IAM")),
        }
    }
}

/// How the URL invokes the function: buffered (6 MB answers) or streamed (up to 200 MB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
pub enum InvokeMode {
    #[default]
    #[value(name = "BUFFERED")]
    #[serde(rename = "BUFFERED")]
    Buffered,
    #[value(name = "RESPONSE_STREAM")]
    #[serde(rename = "RESPONSE_STREAM")]
    ResponseStream,
}

impl InvokeMode {
    pub fn name(self) -> &'static str {
        match self {
            InvokeMode::Buffered => "BUFFERED",
            InvokeMode::ResponseStream => "RESPONSE_STREAM",
        }
    }

    pub fn parse(text: &str) -> Result<InvokeMode, String> {
        match text {
            "BUFFERED" => Ok(InvokeMode::Buffered),
            "RESPONSE_STREAM" => Ok(InvokeMode::ResponseStream),
            other => Err(format!("{other:?} is not BUFFERED or RESPONSE_STREAM")),
        }
    }
}

/// The URL a function should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct UrlSettings {
    pub auth: UrlAuth,
    pub invoke_mode: InvokeMode,
}

/// One level's URL settings (a `deploy` table, or the flags): every value optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct UrlLevel {
    pub enabled: Option<bool>,
    pub auth: Option<UrlAuth>,
    pub invoke_mode: Option<InvokeMode>,
}

impl UrlLevel {
    /// This level over `general`, value by value.
    pub fn over(&self, general: &UrlLevel) -> UrlLevel {
        UrlLevel {
            enabled: self.enabled.or(general.enabled),
            auth: self.auth.or(general.auth),
            invoke_mode: self.invoke_mode.or(general.invoke_mode),
        }
    }

    /// The URL wanted, if any: enabled, with the defaults under what is set.
    pub fn resolve(&self) -> Option<UrlSettings> {
        self.enabled.unwrap_or(false).then(|| UrlSettings {
            auth: self.auth.unwrap_or_default(),
            invoke_mode: self.invoke_mode.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_over_metadata_over_defaults() {
        let metadata = UrlLevel {
            enabled: Some(true),
            invoke_mode: Some(InvokeMode::ResponseStream),
            ..UrlLevel::default()
        };
        assert_eq!(
            metadata.resolve(),
            Some(UrlSettings {
                auth: UrlAuth::None,
                invoke_mode: InvokeMode::ResponseStream
            })
        );
        let flags = UrlLevel {
            auth: Some(UrlAuth::AwsIam),
            ..UrlLevel::default()
        };
        assert_eq!(
            flags.over(&metadata).resolve().unwrap().auth,
            UrlAuth::AwsIam
        );
        assert_eq!(UrlLevel::default().resolve(), None);
        assert_eq!(
            InvokeMode::parse("STREAM").unwrap_err(),
            "\"STREAM\" is not BUFFERED or RESPONSE_STREAM"
        );
    }
}
