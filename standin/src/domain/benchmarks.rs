//! What benchmarks need from a domain: a repository filled with thousands of finished
//! snapshots at once, and the count of the requests the domain was sent (`state::requests`).
//!
//! Seeded snapshots are stored as the domain stores its own (a manifest each, one repository
//! index), so every listing, status and delete treats them alike; they carry no index data,
//! so they cannot be restored.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use policy::naming::NameTemplate;

use crate::StandinError;
use crate::domain::Domain;
use crate::domain::state::blobstore::{IndexStats, ShardCounts, SnapshotRecord, manifest_key};
use crate::domain::state::requests::RequestCounts;
use crate::domain::state::{new_uuid, repositories};
use crate::domain::wire::time::millis;

/// Manifests written to S3 at the same time while seeding.
const SEED_CONCURRENCY: usize = 32;

/// Which snapshots to seed: `count` of them named by `template` (which must carry the time),
/// the newest taken at `newest` and each older one `interval` before the next, each holding
/// `indices`.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub template: String,
    pub count: usize,
    pub newest: SystemTime,
    pub interval: Duration,
    pub indices: Vec<String>,
}

impl Domain {
    /// The requests this domain was sent so far.
    pub fn requests(&self) -> RequestCounts {
        self.shared.requests.counts()
    }

    /// Adds the snapshots of `plan` to the registered repository `repository`, writing their
    /// manifests in parallel and the repository index once. Returns the names, newest first.
    pub async fn seed_snapshots(
        &self,
        repository: &str,
        plan: &SeedPlan,
    ) -> Result<Vec<String>, StandinError> {
        let setup = |what: String| StandinError::Setup(format!("seeding {repository}: {what}"));
        let definition = repositories::lookup(&self.shared, repository)
            .map_err(|_| setup("the repository is not registered".into()))?;
        let blobs = repositories::blobs(&self.shared, &definition)
            .ok_or_else(|| setup("the repository has no bucket".into()))?;
        let template = NameTemplate::parse(&plan.template).map_err(|e| setup(e.to_string()))?;
        let engine = &self.shared.config.engine;

        let mut records = Vec::with_capacity(plan.count);
        let mut taken = plan.newest;
        for _ in 0..plan.count {
            let name = template.expand(taken).map_err(|e| setup(e.to_string()))?;
            let start = millis(taken);
            let index_stats: BTreeMap<String, IndexStats> = plan
                .indices
                .iter()
                .map(|index| {
                    let stats = IndexStats {
                        uuid: new_uuid(),
                        shards: 1,
                        bytes: 4096,
                        files: 3,
                        failed_shards: Vec::new(),
                        docs_sha256: None,
                    };
                    (index.clone(), stats)
                })
                .collect();
            let shards = plan.indices.len() as u64;
            records.push(SnapshotRecord {
                snapshot: name,
                uuid: new_uuid(),
                version_id: engine.version_id(),
                version: engine.version().to_owned(),
                indices: plan.indices.clone(),
                data_streams: Vec::new(),
                data_stream_defs: Vec::new(),
                include_global_state: false,
                metadata: None,
                state: "SUCCESS".into(),
                reason: None,
                start_time_in_millis: start,
                end_time_in_millis: start + 2_000,
                failures: Vec::new(),
                shards: ShardCounts {
                    total: shards,
                    failed: 0,
                    successful: shards,
                },
                index_stats,
            });
            taken = taken.checked_sub(plan.interval).unwrap_or(taken);
        }

        let mut index = blobs.read_index().await.map_err(|e| setup(e.to_string()))?;
        let mut writes = Vec::with_capacity(records.len());
        for record in &records {
            let body = serde_json::to_vec(record).map_err(|e| setup(e.to_string()))?;
            writes.push((manifest_key(&record.uuid), body));
        }
        blobs
            .put_concurrently(writes, SEED_CONCURRENCY)
            .await
            .map_err(|(key, e)| StandinError::S3(format!("seeding manifest {key}: {e}")))?;
        // Oldest first, as snapshots are appended when they finish.
        index
            .snapshots
            .extend(records.iter().rev().map(SnapshotRecord::entry));
        index.generation += 1;
        blobs
            .write_index(&index)
            .await
            .map_err(|e| setup(e.to_string()))?;
        Ok(records.into_iter().map(|r| r.snapshot).collect())
    }
}
