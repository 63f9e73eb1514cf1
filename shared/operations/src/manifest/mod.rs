//! The manifest: what a snapshot is supposed to hold, recorded by osnap when it takes one, so
//! a restore can be judged against the snapshot rather than against a source that has moved on.
//!
//! It is osnap's own JSON object in the repository's bucket, under the repository's base
//! path: `<base_path>/osnap/manifests/<snapshot>.json`. Never inside the engine's files (the
//! engine's repository clean-up removes only its own root blobs, `snap-*`, `meta-*`,
//! `index-N`, and unreferenced `indices/` folders: `BlobStoreRepository` in OpenSearch), and
//! never in the snapshot's `metadata`, which some engines cap or do not keep.
//!
//! Counts on a live source. `snapshot` reads each index's document count just before the
//! create (`docs_before`); `verify`, when it first sees the snapshot SUCCESS, reads them again
//! (`docs_after`) and completes the manifest. Each shard's snapshot holds every document
//! indexed before it started and none indexed after it ended, so for an index that only
//! takes new documents (logs, events) the snapshot's count lies within
//! `[docs_before, docs_after]`: a restored count there is accepted as `within_interval`, and
//! said so. A count outside is a mismatch. Counts are `_cat/indices`' `docs.count` (the
//! primaries, as Lucene counts them, nested documents included) on both sides, so like is
//! compared with like.

pub mod fingerprint;
pub mod judge;
mod read;
mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) use read::describe;
pub use read::{complete, record_before};
pub use store::{Location, Lookup, ManifestStore, StoreMissing};

/// The format's name and version, first in every manifest.
pub const FORMAT: &str = "osnap-manifest/1";

/// What a snapshot is supposed to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub repository: String,
    pub snapshot: String,
    /// The engine and version that took the snapshot, as `GET /` reports them.
    pub engine: String,
    /// When the counts were read before the create (milliseconds since the epoch).
    pub counted_before_millis: u64,
    /// Set by `verify` when it first sees the snapshot SUCCESS; `None` until then.
    #[serde(default)]
    pub completed: Option<Completion>,
    pub indices: BTreeMap<String, IndexRecord>,
    /// The snapshot's data streams (from its description's `data_streams`, on engines that
    /// have them), each with its backing indices; their counts are the indices' own.
    #[serde(default)]
    pub data_streams: BTreeMap<String, DataStreamRecord>,
    /// The last restore drill's verdict (`verify`'s `check: drill`), written before its
    /// copies are deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<DrillRecord>,
}

/// A drill's verdict, as the manifest keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillRecord {
    /// The domain drilled on (its endpoint's host).
    pub domain: String,
    pub prefix: String,
    /// The snapshot's indices drilled.
    pub sample: Vec<String>,
    pub passed: Vec<String>,
    /// Each failed index, with why.
    pub failed: BTreeMap<String, String>,
    /// The copies deleted, and those left in place.
    pub deleted: Vec<String>,
    pub kept: Vec<String>,
}

/// The second reading, once the snapshot is SUCCESS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub counted_after_millis: u64,
    /// The snapshot's UUID: a later snapshot of the same name is not this one.
    #[serde(default)]
    pub snapshot_uuid: Option<String>,
    pub state: String,
}

/// One index as the snapshot should hold it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IndexRecord {
    /// Documents before the create; `None` where the index could not be counted then (it did
    /// not exist yet, or was closed).
    #[serde(default)]
    pub docs_before: Option<u64>,
    /// Documents once the snapshot was SUCCESS; `None` until the manifest is completed, or
    /// where the index was gone or closed by then.
    #[serde(default)]
    pub docs_after: Option<u64>,
    #[serde(default)]
    pub primary_store_bytes: Option<u64>,
    #[serde(default)]
    pub primary_shards: Option<u64>,
    #[serde(default)]
    pub mapping_sha256: Option<String>,
    #[serde(default)]
    pub settings_sha256: Option<String>,
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AliasRecord {
    #[serde(default)]
    pub is_write_index: Option<bool>,
}

/// A data stream of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DataStreamRecord {
    /// Its backing indices among the snapshot's: `.ds-<name>-<generation>`, with a date
    /// before the generation from Elasticsearch 7.11 on.
    pub backing_indices: Vec<String>,
}

impl Manifest {
    /// Whether this manifest describes `snapshot` (the same name, and the same UUID once it
    /// is known on both sides).
    pub fn describes(&self, snapshot: &str, uuid: Option<&str>) -> bool {
        let same_uuid = match (
            self.completed
                .as_ref()
                .and_then(|c| c.snapshot_uuid.as_deref()),
            uuid,
        ) {
            (Some(recorded), Some(actual)) => recorded == actual,
            _ => true,
        };
        self.snapshot == snapshot && same_uuid
    }
}

/// The data streams of a snapshot, each with its backing indices among `indices`.
pub fn data_streams(streams: &[String], indices: &[String]) -> BTreeMap<String, DataStreamRecord> {
    streams
        .iter()
        .map(|stream| {
            let prefix = format!(".ds-{stream}-");
            let backing = indices
                .iter()
                .filter(|i| {
                    i.strip_prefix(&prefix).is_some_and(|rest| {
                        !rest.is_empty()
                            && rest
                                .bytes()
                                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                    })
                })
                .cloned()
                .collect();
            (
                stream.clone(),
                DataStreamRecord {
                    backing_indices: backing,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_snapshot_of_the_same_name_is_not_described() {
        let mut manifest = Manifest {
            format: FORMAT.into(),
            repository: "r".into(),
            snapshot: "nightly-1".into(),
            engine: "OpenSearch 2.13.0".into(),
            counted_before_millis: 1,
            completed: None,
            indices: BTreeMap::new(),
            data_streams: BTreeMap::new(),
            last_drill: None,
        };
        assert!(manifest.describes("nightly-1", Some("u1")));
        assert!(!manifest.describes("nightly-2", None));
        manifest.completed = Some(Completion {
            counted_after_millis: 2,
            snapshot_uuid: Some("u1".into()),
            state: "SUCCESS".into(),
        });
        assert!(manifest.describes("nightly-1", Some("u1")));
        assert!(!manifest.describes("nightly-1", Some("u2")));
    }

    #[test]
    fn data_streams_list_their_backing_indices() {
        let streams = data_streams(
            &["logs-app".to_owned()],
            &[
                ".ds-logs-app-000001".to_owned(),
                ".ds-logs-app-000002".to_owned(),
                ".ds-logs-application-000001".to_owned(),
                ".ds-logs-app-x-000001".to_owned(),
                ".ds-logs-app-2026.11.28-000003".to_owned(),
                "orders".to_owned(),
            ],
        );
        assert_eq!(
            streams["logs-app"].backing_indices,
            [
                ".ds-logs-app-000001",
                ".ds-logs-app-000002",
                ".ds-logs-app-2026.11.28-000003"
            ]
        );
    }
}
