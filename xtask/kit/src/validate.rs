//! Checks of user-supplied function settings, as the Lambda API itself would make them, so that a
//! printed command is never one AWS will refuse. Each function is a clap value parser.

/// Lambda's `FunctionName` for a function name (not an ARN): 1–64 of `[A-Za-z0-9_-]`.
pub fn function_name(value: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not a valid Lambda function name: use 1 to 64 letters, digits, '-' or '_'"
        ))
    }
}

/// An IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<optional path/>name`.
pub fn role_arn(value: &str) -> Result<String, String> {
    let error = || {
        format!(
            "{value:?} is not an IAM role ARN; expected arn:aws:iam::123456789012:role/NAME \
             (the function's execution role)"
        )
    };
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return Err(error());
    };
    let name = resource.strip_prefix("role/").ok_or_else(error)?;
    let name_ok = !name.is_empty()
        && name.len() <= 512
        && !name.ends_with('/')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b));
    let ok = arn == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && name_ok;
    if ok {
        Ok(value.to_string())
    } else {
        Err(error())
    }
}

/// `--memory-size`: 128 to 10,240 MB.
pub fn memory_size(value: &str) -> Result<u32, String> {
    whole_in_range(value, 128, 10_240, "memory size", "MB")
}

/// `--timeout`: 1 to 900 seconds.
pub fn timeout(value: &str) -> Result<u32, String> {
    whole_in_range(value, 1, 900, "timeout", "seconds")
}

fn whole_in_range(value: &str, min: u32, max: u32, what: &str, unit: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{value:?} is not a valid {what}: Lambda accepts a whole number from {min} to {max} {unit}"
        )),
    }
}

/// An AWS region name: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, …
pub fn region(value: &str) -> Result<String, String> {
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not an AWS region name; expected one such as us-east-1 or eu-west-1"
        ))
    }
}

/// An endpoint URL for the aws CLI: `http://` or `https://`, a host, no spaces.
pub fn endpoint_url(value: &str) -> Result<String, String> {
    let host = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match host {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.starts_with(':')
                && !value.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(value.to_string())
        }
        _ => Err(format!(
            "{value:?} is not an endpoint URL; expected http://HOST[:PORT] or https://HOST[:PORT]"
        )),
    }
}

/// `--runtime`: the OS-only runtimes a `bootstrap` runs on.
pub fn runtime(value: &str) -> Result<crate::runtime::Runtime, String> {
    use clap::ValueEnum;
    crate::runtime::Runtime::from_str(value, false).map_err(|_| {
        format!("{value:?} is not an OS-only runtime: use provided.al2023 or provided.al2")
    })
}

/// `--description`: at most 256 characters.
pub fn description(value: &str) -> Result<String, String> {
    if value.chars().count() <= 256 {
        Ok(value.to_string())
    } else {
        Err(format!(
            "the description is {} characters long; Lambda accepts at most 256",
            value.chars().count()
        ))
    }
}

/// An environment variable name Lambda accepts: a letter, then letters, digits or `_`.
pub fn env_name(value: &str) -> Result<String, String> {
    let mut bytes = value.bytes();
    let ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not an environment variable name Lambda accepts: a letter, then \
             letters, digits or '_'"
        ))
    }
}

/// A resource tag: key 1–128 and value 0–256 characters, not starting with `aws:`.
pub fn tag(key: &str, value: &str) -> Result<(), String> {
    if key.is_empty() || key.chars().count() > 128 || key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!(
            "{key:?} is not a tag key: use 1 to 128 characters, not starting with aws:"
        ));
    }
    if value.chars().count() > 256 {
        return Err(format!("the value of tag {key:?} is over 256 characters"));
    }
    Ok(())
}

/// `--layer`: a layer version ARN, `arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`.
pub fn layer_arn(value: &str) -> Result<String, String> {
    let parts: Vec<&str> = value.split(':').collect();
    let ok = parts.len() == 8
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "lambda"
        && region(parts[3]).is_ok()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5] == "layer"
        && !parts[6].is_empty()
        && parts[7].parse::<u32>().is_ok();
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not a layer version ARN; expected \
             arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"
        ))
    }
}

/// A layer as `--layer` and metadata `layers` name it: a layer version ARN, a layer zip on disk
/// (`….zip`: local runs only), or the binary name of an extension of the workspace, whose layer
/// the kit builds (local runs, templates).
pub fn layer(value: &str) -> Result<String, String> {
    if value.starts_with("arn:") {
        return layer_arn(value);
    }
    if value.ends_with(".zip") {
        return Ok(value.to_string());
    }
    let name_ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if name_ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not a layer: expected a layer version ARN \
             (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION), a layer zip (PATH.zip) or the \
             binary name of an extension of the workspace"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names() {
        for good in ["calculate-pi", "a", "Pi_2", &"x".repeat(64)] {
            assert!(function_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "pi calc",
            "pi.calc",
            "café",
            &"x".repeat(65),
            "arn:aws:lambda",
        ] {
            let err = function_name(bad).unwrap_err();
            assert!(err.contains("1 to 64"), "{bad}: {err}");
        }
    }

    #[test]
    fn role_arns() {
        for good in [
            "arn:aws:iam::123456789012:role/lambda-basic",
            "arn:aws:iam::123456789012:role/service-role/pi+runner=1,.@_-",
            "arn:aws-cn:iam::123456789012:role/r",
            "arn:aws-us-gov:iam::123456789012:role/r",
        ] {
            assert!(role_arn(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "lambda-basic",
            "arn:aws:iam::12345678901:role/r",
            "arn:aws:iam::123456789012:user/r",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam:us-east-1:123456789012:role/r",
            "arn:aws:s3::123456789012:role/r",
            "arn:aws:iam::123456789012:role/has space",
        ] {
            let err = role_arn(bad).unwrap_err();
            assert!(
                err.contains("arn:aws:iam::123456789012:role/NAME"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn memory_and_timeout_ranges() {
        assert_eq!(memory_size("128"), Ok(128));
        assert_eq!(memory_size("10240"), Ok(10240));
        assert!(memory_size("127").unwrap_err().contains("128 to 10240 MB"));
        assert!(memory_size("10241").is_err());
        assert!(memory_size("1e3").is_err());
        assert_eq!(timeout("1"), Ok(1));
        assert_eq!(timeout("900"), Ok(900));
        assert!(timeout("0").unwrap_err().contains("1 to 900 seconds"));
        assert!(timeout("901").is_err());
        assert!(timeout("-3").is_err());
    }

    #[test]
    fn regions_and_endpoints() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-5",
        ] {
            assert!(region(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "us--1",
            "us-east-1 ",
        ] {
            assert!(region(bad).unwrap_err().contains("us-east-1"), "{bad}");
        }
        for good in [
            "http://127.0.0.1:5000",
            "https://lambda.eu-west-1.amazonaws.com",
            "http://localhost:4566/",
        ] {
            assert!(endpoint_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "127.0.0.1:5000",
            "ftp://host",
            "http://",
            "http:///path",
            "http://a b",
            "http://:80",
        ] {
            assert!(
                endpoint_url(bad).unwrap_err().contains("http://HOST"),
                "{bad}"
            );
        }
    }
}
