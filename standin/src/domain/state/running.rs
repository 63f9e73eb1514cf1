//! Work the cluster is doing: snapshots being taken (held in the cluster state until they
//! are written to the repository).

use std::time::Instant;

use tokio::sync::watch;

use crate::domain::state::blobstore::{IndexContents, SnapshotRecord};

/// How a running snapshot ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Running,
    Finished(Box<SnapshotRecord>),
    Aborted,
}

/// A snapshot being taken, held in the cluster state until it is written.
#[derive(Debug)]
pub(crate) struct Running {
    pub repository: String,
    pub record: SnapshotRecord,
    pub contents: Vec<IndexContents>,
    pub started_at: Instant,
    pub aborted: bool,
    pub outcome: watch::Sender<Outcome>,
}
