//! Snapshots: create, get, list, status, delete.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The body of `PUT _snapshot/<repo>/<snapshot>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CreateSnapshotRequest {
    /// Comma-separated patterns (`logs-*,-logs-old`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indices: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_unavailable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_global_state: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What a create answers: accepted (`wait_for_completion=false`) or the finished snapshot.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum CreateSnapshotResponse {
    Completed { snapshot: Box<SnapshotInfo> },
    Accepted { accepted: bool },
}

/// A snapshot's state in listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum SnapshotState {
    InProgress,
    Success,
    Partial,
    Failed,
    Incompatible,
    Other(String),
}

impl From<String> for SnapshotState {
    fn from(s: String) -> Self {
        match s.as_str() {
            "IN_PROGRESS" => Self::InProgress,
            "SUCCESS" => Self::Success,
            "PARTIAL" => Self::Partial,
            "FAILED" => Self::Failed,
            "INCOMPATIBLE" => Self::Incompatible,
            _ => Self::Other(s),
        }
    }
}

impl From<SnapshotState> for String {
    fn from(s: SnapshotState) -> Self {
        s.as_str().to_owned()
    }
}

impl SnapshotState {
    pub fn as_str(&self) -> &str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Success => "SUCCESS",
            Self::Partial => "PARTIAL",
            Self::Failed => "FAILED",
            Self::Incompatible => "INCOMPATIBLE",
            Self::Other(s) => s,
        }
    }

    /// Whether the snapshot has stopped changing.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Partial | Self::Failed | Self::Incompatible
        )
    }
}

/// One snapshot as `GET _snapshot/<repo>/<snapshot>` describes it. With `verbose=false`
/// only the name, uuid, indices and (on most versions) the state are present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub snapshot: String,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub indices: Vec<String>,
    #[serde(default)]
    pub data_streams: Vec<String>,
    #[serde(default)]
    pub include_global_state: Option<bool>,
    #[serde(default)]
    pub state: Option<SnapshotState>,
    #[serde(default)]
    pub start_time_in_millis: Option<u64>,
    #[serde(default)]
    pub end_time_in_millis: Option<u64>,
    #[serde(default)]
    pub duration_in_millis: Option<u64>,
    #[serde(default)]
    pub failures: Vec<ShardFailure>,
    #[serde(default)]
    pub shards: Option<ShardStats>,
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFailure {
    #[serde(default)]
    pub index: Option<String>,
    #[serde(default)]
    pub shard_id: Option<u32>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub node_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShardStats {
    pub total: u64,
    pub failed: u64,
    pub successful: u64,
}

#[derive(Deserialize)]
struct SnapshotList {
    snapshots: Vec<SnapshotInfo>,
}

/// Parses a `GET _snapshot/<repo>/<names>` answer straight from the received bytes into
/// typed snapshots: no intermediate JSON tree, fields osnap does not use are skipped.
pub fn parse_snapshot_list(body: &[u8]) -> Result<Vec<SnapshotInfo>, serde_json::Error> {
    serde_json::from_slice::<SnapshotList>(body).map(|list| list.snapshots)
}

/// `GET _snapshot/<repo>/<snapshot>/_status`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SnapshotStatus {
    pub snapshot: String,
    pub repository: String,
    #[serde(default)]
    pub uuid: Option<String>,
    /// `STARTED`, `SUCCESS`, `FAILED`, `ABORTED`, `INIT`…
    pub state: String,
    #[serde(default)]
    pub include_global_state: Option<bool>,
    pub shards_stats: ShardsStats,
    pub stats: StatusStats,
    #[serde(default)]
    pub indices: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct ShardsStats {
    #[serde(default)]
    pub initializing: u64,
    #[serde(default)]
    pub started: u64,
    #[serde(default)]
    pub finalizing: u64,
    #[serde(default)]
    pub done: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct StatusStats {
    #[serde(default)]
    pub incremental: FileStats,
    #[serde(default)]
    pub processed: Option<FileStats>,
    #[serde(default)]
    pub total: FileStats,
    #[serde(default)]
    pub start_time_in_millis: u64,
    #[serde(default)]
    pub time_in_millis: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct FileStats {
    #[serde(default)]
    pub file_count: u64,
    #[serde(default)]
    pub size_in_bytes: u64,
}

#[derive(Deserialize)]
pub(crate) struct StatusList {
    pub(crate) snapshots: Vec<SnapshotStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verbose_and_brief_listings() {
        let verbose = r#"{"snapshots":[{"snapshot":"nightly-1","uuid":"u1","version_id":136327827,"version":"2.13.0","remote_store_index_shallow_copy":false,"indices":["logs-1",".kibana_1"],"data_streams":[],"include_global_state":false,"state":"SUCCESS","start_time":"2026-11-28T03:00:00.123Z","start_time_in_millis":1795748400123,"end_time":"2026-11-28T03:00:05.000Z","end_time_in_millis":1795748405000,"duration_in_millis":4877,"failures":[],"shards":{"total":2,"failed":0,"successful":2},"metadata":{"taken_by":"osnap"}},{"snapshot":"nightly-2","uuid":"u2","indices":[],"state":"PARTIAL","failures":[{"index":"logs-2","index_uuid":"x","shard_id":0,"reason":"IndexShardSnapshotFailedException","node_id":"n1","status":"INTERNAL_SERVER_ERROR"}],"shards":{"total":1,"failed":1,"successful":0}}]}"#;
        let list = parse_snapshot_list(verbose.as_bytes()).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].state, Some(SnapshotState::Success));
        assert_eq!(list[0].start_time_in_millis, Some(1_795_748_400_123));
        assert_eq!(list[1].failures[0].shard_id, Some(0));
        let brief = r#"{"snapshots":[{"snapshot":"a","uuid":"u","indices":["x"],"data_streams":[],"state":"IN_PROGRESS"},{"snapshot":"b","uuid":"v","indices":[]}]}"#;
        let list = parse_snapshot_list(brief.as_bytes()).unwrap();
        assert_eq!(list[0].state, Some(SnapshotState::InProgress));
        assert_eq!(list[1].state, None);
    }

    #[test]
    fn create_answers_both_shapes() {
        let accepted: CreateSnapshotResponse =
            serde_json::from_str(r#"{"accepted":true}"#).unwrap();
        assert_eq!(
            accepted,
            CreateSnapshotResponse::Accepted { accepted: true }
        );
        let done: CreateSnapshotResponse = serde_json::from_str(
            r#"{"snapshot":{"snapshot":"s","state":"SUCCESS","indices":["a"]}}"#,
        )
        .unwrap();
        assert!(matches!(done, CreateSnapshotResponse::Completed { .. }));
    }

    #[test]
    fn unknown_states_are_kept() {
        let state: SnapshotState = serde_json::from_str(r#""WAITING""#).unwrap();
        assert_eq!(state, SnapshotState::Other("WAITING".into()));
        assert!(!state.is_done());
        assert_eq!(
            serde_json::to_string(&SnapshotState::Partial).unwrap(),
            r#""PARTIAL""#
        );
    }
}
