//! The Lambda OS-only runtimes a custom-runtime `bootstrap` can run on.

use std::fmt;

use clap::ValueEnum;

/// The executable a custom runtime starts: the function's binary, renamed.
pub const BOOTSTRAP: &str = "bootstrap";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, serde::Serialize)]
pub enum Runtime {
    /// Amazon Linux 2, glibc 2.26 (deprecated).
    #[default]
    #[value(name = "provided.al2")]
    #[serde(rename = "provided.al2")]
    ProvidedAl2,
    /// Amazon Linux 2023, glibc 2.34.
    #[value(name = "provided.al2023")]
    #[serde(rename = "provided.al2023")]
    ProvidedAl2023,
}

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Runtime::ProvidedAl2 => "provided.al2",
            Runtime::ProvidedAl2023 => "provided.al2023",
        }
    }

    /// The newest glibc symbol version the runtime's C library provides, as (major, minor).
    pub fn glibc(self) -> (u32, u32) {
        match self {
            Runtime::ProvidedAl2 => (2, 26),
            Runtime::ProvidedAl2023 => (2, 34),
        }
    }

    /// The one line said about the runtime's support status, if any.
    ///
    /// Only dates AWS has published, from the OS-only runtimes table of
    /// <https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html> (as it stood when this
    /// was written): provided.al2 is deprecated since Jul 31, 2026; Lambda blocks creating
    /// functions on it from Feb 1, 2027 and updating them from Mar 3, 2027. provided.al2023:
    /// Jun 30, 2029, Jul 31, 2029, Aug 31, 2029. AWS moves such dates; the page is the
    /// reference, so the note names it.
    pub fn deprecation_note(self) -> Option<&'static str> {
        match self {
            Runtime::ProvidedAl2 => Some(
                "note: provided.al2 is deprecated (since Jul 31, 2026); Lambda blocks creating functions \
                 on it from Feb 1, 2027 and updating them from Mar 3, 2027 (dates as AWS published \
                 them; check https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html). \
                 Pass --runtime provided.al2023: the same zip runs there unchanged",
            ),
            Runtime::ProvidedAl2023 => None,
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
