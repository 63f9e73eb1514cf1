//! What benchmarks need from a domain: a repository filled with thousands of finished
//! snapshots at once, and a count of the requests the domain was sent.
//!
//! Seeded snapshots are stored as the domain stores its own (a manifest each, one repository
//! index), so every listing, status and delete treats them alike; they carry no index data,
//! so they cannot be restored.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::Method;
use policy::naming::NameTemplate;

use crate::StandinError;
use crate::domain::blobstore::{IndexStats, ShardCounts, SnapshotRecord, manifest_key};
use crate::domain::time::millis;
use crate::domain::{Domain, new_uuid, repository};

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

/// Requests a domain was sent, by method (signature failures and faults included).
#[derive(Debug, Default)]
pub(crate) struct RequestCounter {
    get: AtomicU64,
    put: AtomicU64,
    post: AtomicU64,
    delete: AtomicU64,
    head: AtomicU64,
    other: AtomicU64,
}

impl RequestCounter {
    pub fn record(&self, method: &Method) {
        let slot = match *method {
            Method::GET => &self.get,
            Method::PUT => &self.put,
            Method::POST => &self.post,
            Method::DELETE => &self.delete,
            Method::HEAD => &self.head,
            _ => &self.other,
        };
        slot.fetch_add(1, Ordering::Relaxed);
    }

    fn counts(&self) -> RequestCounts {
        RequestCounts {
            get: self.get.load(Ordering::Relaxed),
            put: self.put.load(Ordering::Relaxed),
            post: self.post.load(Ordering::Relaxed),
            delete: self.delete.load(Ordering::Relaxed),
            head: self.head.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        }
    }
}

/// How many requests a domain was sent, by method, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub get: u64,
    pub put: u64,
    pub post: u64,
    pub delete: u64,
    pub head: u64,
    pub other: u64,
}

impl RequestCounts {
    pub fn total(&self) -> u64 {
        self.get + self.put + self.post + self.delete + self.head + self.other
    }

    /// The requests sent between `earlier` and this count.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            get: self.get.saturating_sub(earlier.get),
            put: self.put.saturating_sub(earlier.put),
            post: self.post.saturating_sub(earlier.post),
            delete: self.delete.saturating_sub(earlier.delete),
            head: self.head.saturating_sub(earlier.head),
            other: self.other.saturating_sub(earlier.other),
        }
    }
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
        let definition = repository::lookup(&self.shared, repository)
            .map_err(|_| setup("the repository is not registered".into()))?;
        let blobs = repository::blobs(&self.shared, &definition)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_told_apart_by_method() {
        let counter = RequestCounter::default();
        counter.record(&Method::GET);
        counter.record(&Method::GET);
        counter.record(&Method::DELETE);
        counter.record(&Method::PATCH);
        let counts = counter.counts();
        assert_eq!((counts.get, counts.delete, counts.other), (2, 1, 1));
        assert_eq!(counts.total(), 4);
        let earlier = RequestCounts {
            get: 1,
            ..RequestCounts::default()
        };
        assert_eq!(counts.since(&earlier).get, 1);
    }
}
