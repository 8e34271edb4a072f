//! The Lambda OS-only runtimes a custom-runtime `bootstrap` can run on.

use std::fmt;

use clap::ValueEnum;

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
    pub fn deprecation_note(self) -> Option<&'static str> {
        match self {
            Runtime::ProvidedAl2 => Some(
                "note: provided.al2 is deprecated and Lambda blocks creating functions on it from early 2027; \
                 pass --runtime provided.al2023 to move on",
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
