//! Snapshots: create, get, list, status, delete.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de::count_or_string;
use crate::error::ApiError;

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
    /// A state this version of osnap does not know, kept as sent.
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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub snapshot: String,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// The engine's numeric version id (`policy::engines::Engine::from_version_id`).
    #[serde(default)]
    pub version_id: Option<u64>,
    #[serde(default)]
    pub indices: Vec<String>,
    #[serde(default)]
    pub data_streams: Vec<String>,
    #[serde(default)]
    pub include_global_state: Option<bool>,
    #[serde(default)]
    pub state: Option<SnapshotState>,
    /// Why a snapshot failed as a whole (e.g. `Indices don't have primary shards [logs]`);
    /// present only then, and often the only detail a FAILED snapshot carries.
    #[serde(default)]
    pub reason: Option<String>,
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

/// Shard counts of a snapshot or a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShardStats {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub successful: u64,
}

#[derive(Deserialize)]
struct SnapshotList {
    snapshots: Vec<SnapshotInfo>,
}

/// Parses a `GET _snapshot/<repo>/<names>` answer straight from the received bytes into
/// typed snapshots: no intermediate JSON tree, and the fields osnap does not keep (the
/// human-readable times, `remote_store_index_shallow_copy`, a failed repository's
/// `failures`…) are skipped by the parser without being allocated.
pub fn parse_snapshot_list(body: &[u8]) -> Result<Vec<SnapshotInfo>, ApiError> {
    serde_json::from_slice::<SnapshotList>(body)
        .map(|list| list.snapshots)
        .map_err(|source| ApiError::Decode {
            what: "snapshot listing",
            source,
        })
}

/// One row of `GET _cat/snapshots/<repo>?format=json`: a cheaper listing whose numbers are
/// strings on the wire. Times are in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatSnapshot {
    pub id: String,
    /// Only Elasticsearch 7.x and later name the repository.
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub status: Option<SnapshotState>,
    #[serde(default, deserialize_with = "count_or_string")]
    pub start_epoch: Option<u64>,
    #[serde(default, deserialize_with = "count_or_string")]
    pub end_epoch: Option<u64>,
    /// Human-readable (`4.6m`).
    #[serde(default)]
    pub duration: Option<String>,
    /// How many indices the snapshot holds.
    #[serde(default, deserialize_with = "count_or_string")]
    pub indices: Option<u64>,
    #[serde(default, deserialize_with = "count_or_string")]
    pub successful_shards: Option<u64>,
    #[serde(default, deserialize_with = "count_or_string")]
    pub failed_shards: Option<u64>,
    #[serde(default, deserialize_with = "count_or_string")]
    pub total_shards: Option<u64>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET _snapshot/<repo>/<snapshot>/_status`: shard and byte progress.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SnapshotStatus {
    pub snapshot: String,
    pub repository: String,
    #[serde(default)]
    pub uuid: Option<String>,
    pub state: SnapshotStatusState,
    #[serde(default)]
    pub include_global_state: Option<bool>,
    #[serde(default)]
    pub shards_stats: ShardsStats,
    #[serde(default)]
    pub stats: StatusStats,
    #[serde(default)]
    pub indices: BTreeMap<String, IndexStatus>,
}

/// The state `_status` reports. Unlike a listing's [`SnapshotState`], a finished `PARTIAL`
/// snapshot is reported as `SUCCESS` here (its shard counts tell them apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum SnapshotStatusState {
    Init,
    Started,
    Success,
    Failed,
    /// Being aborted (a deletion of a running snapshot).
    Aborted,
    /// A state this version of osnap does not know, kept as sent.
    Other(String),
}

impl From<String> for SnapshotStatusState {
    fn from(s: String) -> Self {
        match s.as_str() {
            "INIT" => Self::Init,
            "STARTED" => Self::Started,
            "SUCCESS" => Self::Success,
            "FAILED" => Self::Failed,
            "ABORTED" => Self::Aborted,
            _ => Self::Other(s),
        }
    }
}

impl From<SnapshotStatusState> for String {
    fn from(s: SnapshotStatusState) -> Self {
        s.as_str().to_owned()
    }
}

impl SnapshotStatusState {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Init => "INIT",
            Self::Started => "STARTED",
            Self::Success => "SUCCESS",
            Self::Failed => "FAILED",
            Self::Aborted => "ABORTED",
            Self::Other(s) => s,
        }
    }

    /// Whether the snapshot has stopped changing.
    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Success | Self::Failed)
    }
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

/// Files and bytes: `incremental` is what this snapshot had to copy, `total` what it refers
/// to, `processed` (while running) what has been copied so far. Elasticsearch 6.x before
/// 6.4 used other names; those parse as zeros.
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

/// One index of a `_status` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct IndexStatus {
    #[serde(default)]
    pub shards_stats: ShardsStats,
    #[serde(default)]
    pub stats: StatusStats,
    /// Shard number (as a string key) → its progress.
    #[serde(default)]
    pub shards: BTreeMap<String, ShardStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ShardStatus {
    /// `INIT`, `STARTED`, `FINALIZE`, `DONE` or `FAILURE`.
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub stats: StatusStats,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
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

    #[test]
    fn parses_an_elasticsearch_6_listing() {
        // ES 6.8: no data_streams, no metadata, `version_id` in the 6.x numbering.
        let body = r#"{"snapshots":[{"snapshot":"snap-1","uuid":"dKb54xw67gvdRctLCxSket","version_id":6080099,"version":"6.8.0","indices":["logs-1"],"include_global_state":true,"state":"SUCCESS","start_time":"2019-05-06T12:00:00.000Z","start_time_in_millis":1557144000000,"end_time":"2019-05-06T12:00:01.000Z","end_time_in_millis":1557144001000,"duration_in_millis":1000,"failures":[],"shards":{"total":5,"failed":0,"successful":5}}]}"#;
        let list = parse_snapshot_list(body.as_bytes()).unwrap();
        assert_eq!(list[0].version.as_deref(), Some("6.8.0"));
        assert!(list[0].data_streams.is_empty() && list[0].metadata.is_none());
        assert_eq!(list[0].shards.map(|s| s.successful), Some(5));
    }

    #[test]
    fn a_listing_that_is_not_one_is_a_decode_error() {
        let err = parse_snapshot_list(br#"{"snapshot":{"snapshot":"s"}}"#).unwrap_err();
        assert!(matches!(
            err,
            ApiError::Decode {
                what: "snapshot listing",
                ..
            }
        ));
        assert_eq!(err.status(), None);
    }

    #[test]
    fn parses_a_running_snapshots_status() {
        let body = r#"{"snapshots":[{"snapshot":"nightly-2","repository":"nightly","uuid":"u2","state":"STARTED","include_global_state":false,"shards_stats":{"initializing":0,"started":1,"finalizing":0,"done":1,"failed":0,"total":2},"stats":{"incremental":{"file_count":40,"size_in_bytes":1048576},"processed":{"file_count":12,"size_in_bytes":262144},"total":{"file_count":52,"size_in_bytes":2097152},"start_time_in_millis":1795748400123,"time_in_millis":5230},"indices":{"logs-1":{"shards_stats":{"initializing":0,"started":1,"finalizing":0,"done":1,"failed":0,"total":2},"stats":{"incremental":{"file_count":40,"size_in_bytes":1048576},"total":{"file_count":52,"size_in_bytes":2097152},"start_time_in_millis":1795748400123,"time_in_millis":5230},"shards":{"0":{"stage":"DONE","stats":{"incremental":{"file_count":20,"size_in_bytes":524288},"total":{"file_count":26,"size_in_bytes":1048576},"start_time_in_millis":1795748400200,"time_in_millis":3000}},"1":{"stage":"STARTED","stats":{"incremental":{"file_count":20,"size_in_bytes":524288},"processed":{"file_count":12,"size_in_bytes":262144},"total":{"file_count":26,"size_in_bytes":1048576},"start_time_in_millis":1795748400300,"time_in_millis":4900},"node":"aBcDeF"}}}}}]}"#;
        let mut list: StatusList = serde_json::from_str(body).unwrap();
        let status = list.snapshots.pop().unwrap();
        assert_eq!(status.state, SnapshotStatusState::Started);
        assert!(!status.state.is_finished());
        assert_eq!(status.shards_stats.done, 1);
        assert_eq!(
            status.stats.processed.map(|p| p.size_in_bytes),
            Some(262_144)
        );
        let shard = &status.indices["logs-1"].shards["1"];
        assert_eq!(
            (shard.stage.as_str(), shard.node.as_deref()),
            ("STARTED", Some("aBcDeF"))
        );
        let other: SnapshotStatusState = serde_json::from_str(r#""PAUSED""#).unwrap();
        assert_eq!(other.as_str(), "PAUSED");
    }

    #[test]
    fn parses_cat_snapshots_rows() {
        let body = r#"[{"id":"snap1","repository":"nightly","status":"FAILED","start_epoch":"1445616705","start_time":"18:11:45","end_epoch":"1445616978","end_time":"18:16:18","duration":"4.6m","indices":"1","successful_shards":"4","failed_shards":"1","total_shards":"5"},{"id":"snap2","status":"IN_PROGRESS","start_epoch":"1445634298","start_time":"23:04:58","end_epoch":"0","end_time":"00:00:00","duration":"6.2m","indices":"2","successful_shards":"0","failed_shards":"0","total_shards":"10"}]"#;
        let rows: Vec<CatSnapshot> = serde_json::from_str(body).unwrap();
        assert_eq!(rows[0].status, Some(SnapshotState::Failed));
        assert_eq!(
            (rows[0].start_epoch, rows[0].failed_shards),
            (Some(1_445_616_705), Some(1))
        );
        assert_eq!(rows[1].repository, None);
    }
}
