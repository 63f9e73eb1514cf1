//! **A local stand-in for AWS, for tests and the demo only.** It emulates Amazon OpenSearch
//! Service domains (the snapshot, index and alias APIs osnap uses, with AWS's signature check
//! and error shapes) over a real S3 protocol server on loopback. It is not a search engine and
//! must never be deployed.
//!
//! # Layout
//! - [`auth`]: the domain's SigV4 check and AWS's 403 answers.
//! - [`basic_auth`]: HTTP basic authentication, for self-managed clusters.
//! - [`client`]: signed clients for the emulated domains (tests and the demo).
//! - [`domain`]: the emulated search domain (indices, aliases, repositories, snapshots,
//!   restores, injected faults) and its HTTP front.
//! - [`s3`]: the S3 server (s3s over a folder, SigV4 checked) and the S3 client domains use.
//! - [`server`]: serving a hyper service on loopback until shut down.
//! - [`secrets`]: Secrets Manager `GetSecretValue`, for a self-managed cluster's password.
//! - [`sts`]: STS `AssumeRole`, for domains in another account.

pub mod auth;
pub mod basic_auth;
pub mod client;
pub mod domain;
pub mod s3;
pub mod s3_faults;
pub mod secrets;
pub mod server;
pub mod sts;

pub use domain::{
    Calendar, Domain, DomainConfig, Engine, Fault, FaultControl, FaultPlan, FaultRule, NodeDisk,
    SelfManagedAccess,
};
pub use s3_faults::{S3Fault, S3FaultControl, S3FaultRule, S3Requests};

/// The region the stand-in's services live in.
pub const TEST_REGION: &str = "us-east-1";

/// An engine as the command lines name it: `opensearch`, `opensearch:2.13.0`,
/// `elasticsearch`, `elasticsearch:7.10.2` (the versions policy's table knows).
pub fn parse_engine(spec: &str) -> Result<Engine, String> {
    let (kind, version) = spec.split_once(':').unwrap_or((spec, ""));
    let invalid = |e: policy::engines::EngineError| format!("`{spec}`: {e}");
    match (kind, version) {
        ("opensearch", "") => Ok(Engine::opensearch()),
        ("opensearch", v) => Engine::opensearch_at(v).map_err(invalid),
        ("elasticsearch", "") => Ok(Engine::elasticsearch()),
        ("elasticsearch", v) => Engine::elasticsearch_at(v).map_err(invalid),
        _ => Err(format!(
            "`{spec}` is not opensearch[:VERSION] or elasticsearch[:VERSION]"
        )),
    }
}

/// Why the stand-in could not start or do its work.
#[derive(Debug, thiserror::Error)]
pub enum StandinError {
    #[error("could not {what}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("stand-in set-up failed: {0}")]
    Setup(String),
    #[error("S3 request failed: {0}")]
    S3(String),
}

impl StandinError {
    pub(crate) fn io(what: &'static str, source: std::io::Error) -> Self {
        Self::Io { what, source }
    }
}

/// An error and its sources, `: `-separated, for a command line's last words.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Resolves on SIGTERM or Ctrl-C: how a process serving the stand-in is told to stop.
pub async fn terminated() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
