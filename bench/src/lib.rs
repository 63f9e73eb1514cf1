//! osnap-bench: measures the built function binaries as Lambda runs them, on the local
//! stand-in, with real HTTP and real SigV4. `./dev bench` builds the release binaries and
//! the zips, installs the pinned Python comparison into a throwaway virtualenv, and runs it.
//!
//! # Layout
//! - [`runtime_api`]: a minimal Lambda Runtime API that sees the first `next` and each answer.
//! - [`function`]: exec a `bootstrap` with Lambda's environment, time and sample it.
//! - [`process`]: peak memory and CPU time from `/proc`.
//! - [`python`]: AWS's Python client registering a repository, for comparison.
//! - [`scenario`]: the runs themselves (cold starts, ordinary work, 10,000 snapshots).
//! - [`criterion`]: the criterion benchmarks' figures, read from their output.
//! - [`report`]: the markdown table.

pub mod criterion;
pub mod function;
pub mod process;
pub mod python;
pub mod report;
pub mod runtime_api;
pub mod scenario;

/// Why a measurement could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("could not {what}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the stand-in failed")]
    Standin(#[from] standin::StandinError),
    #[error("a request to the stand-in failed")]
    Signing(#[from] signing::SigningError),
    #[error("the stand-in answered {status} to {what}: {body}")]
    Refused {
        what: String,
        status: u16,
        body: String,
    },
    #[error("function run failed: {0}")]
    Function(String),
    #[error("the Python client failed: {0}")]
    Python(String),
    #[error("{0}")]
    Usage(String),
}

impl BenchError {
    pub(crate) fn io(what: &'static str, source: std::io::Error) -> Self {
        Self::Io { what, source }
    }
}
