//! Why a command stopped, and the exit code that says so.

use operations::OsnapError;

use crate::exit;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An operation failed: its `errorType` is the exit code's.
    #[error(transparent)]
    Operation(#[from] OsnapError),
    /// A destructive command was not confirmed; nothing was changed.
    #[error("not confirmed: {0}")]
    NotConfirmed(String),
    /// A migration's preflight found blocking findings; nothing was changed.
    #[error("stopped by the preflight: {0}")]
    PreflightBlocked(String),
    /// Anything else (the local stand-in, the terminal).
    #[error("{0}")]
    Other(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Operation(error) => exit::for_error_type(error.error_type()),
            Self::NotConfirmed(_) => exit::NOT_CONFIRMED,
            Self::PreflightBlocked(_) => exit::PREFLIGHT_BLOCKED,
            Self::Other(_) => exit::FAILURE,
        }
    }

    /// The `errorType` a function would have answered, for `--json`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Operation(error) => error.error_type(),
            Self::NotConfirmed(_) => "NotConfirmed",
            Self::PreflightBlocked(_) => "PreflightBlocked",
            Self::Other(_) => "Failed",
        }
    }
}
