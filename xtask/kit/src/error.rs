//! How the kit's errors are made. Each capability has its own error enum ([`crate::workspace::Error`],
//! [`crate::builder::Error`], [`crate::artifact::Error`], [`crate::aws::Error`],
//! [`crate::command::Error`], [`crate::emulator::Error`], [`crate::pipeline::Error`]) whose
//! variants say what kind of thing went wrong, so that a caller can match on them. The steps
//! beneath are told as a chain, the way `anyhow` tells them: [`Context`] wraps an error in what
//! was being done ([`Failure`]), and `source()` leads to the cause, so that a program printing
//! the chain (the xtask's `main`) prints "what failed" then "Caused by: why".

use std::fmt::Display;

/// Any error, boxed: the cause beneath a [`Failure`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A step that failed: what was being done (the message), and the error beneath, if any.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl Failure {
    /// A failure with nothing beneath it: the message says it all.
    pub fn msg(message: impl Display) -> Self {
        Failure {
            message: message.to_string(),
            source: None,
        }
    }

    /// `message`, caused by `source`.
    pub fn new(message: impl Display, source: impl Into<BoxError>) -> Self {
        Failure {
            message: message.to_string(),
            source: Some(source.into()),
        }
    }
}

/// `.context(...)` and `.with_context(...)` on results and options, as with `anyhow`: the error
/// becomes the cause of a [`Failure`] that says what was being done.
pub trait Context<T> {
    fn context(self, message: impl Display) -> Result<T, Failure>;
    fn with_context<M: Display>(self, message: impl FnOnce() -> M) -> Result<T, Failure>;
}

impl<T, E: Into<BoxError>> Context<T> for Result<T, E> {
    fn context(self, message: impl Display) -> Result<T, Failure> {
        self.map_err(|error| Failure::new(message, error))
    }

    fn with_context<M: Display>(self, message: impl FnOnce() -> M) -> Result<T, Failure> {
        self.map_err(|error| Failure::new(message(), error))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, message: impl Display) -> Result<T, Failure> {
        self.ok_or_else(|| Failure::msg(message))
    }

    fn with_context<M: Display>(self, message: impl FnOnce() -> M) -> Result<T, Failure> {
        self.ok_or_else(|| Failure::msg(message()))
    }
}

/// The whole chain on one line, "what failed: why: why beneath", as `anyhow` prints `{:#}`.
pub fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

/// Returns early with a [`Failure`] of the formatted message, converted into the function's
/// error type.
macro_rules! bail {
    ($($message:tt)*) => {
        return Err($crate::error::Failure::msg(format!($($message)*)).into())
    };
}

/// [`bail!`] unless the condition holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)*) => {
        if !$condition {
            $crate::error::bail!($($message)*);
        }
    };
}

pub(crate) use bail;
pub(crate) use ensure;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_read_as_anyhow_reads_them() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let inner: Result<(), _> = Err(io);
        let outer = inner
            .context("reading x")
            .context("packaging y")
            .unwrap_err();
        assert_eq!(outer.to_string(), "packaging y");
        assert_eq!(chain_text(&outer), "packaging y: reading x: no such file");
        let none: Option<u8> = None;
        assert_eq!(none.context("nothing").unwrap_err().to_string(), "nothing");
    }
}
