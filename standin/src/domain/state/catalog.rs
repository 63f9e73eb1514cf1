//! The snapshots a repository holds, finished (in S3) and running (here), selected by
//! name or pattern, and described as `GET _snapshot` describes them.

use serde_json::{Map, Value, json};

use crate::domain::state::Shared;
use crate::domain::state::blobstore::{IndexEntry, SnapshotRecord, manifest_key};
use crate::domain::state::repositories::{self, RepositoryDef, read_index, repository_data_error};
use crate::domain::wire::names::{is_pattern, simple_match};
use crate::domain::wire::reply::EsError;
use crate::domain::wire::time::iso;

/// A snapshot as `GET _snapshot` describes it.
pub(crate) fn info_json(shared: &Shared, record: &SnapshotRecord, verbose: bool) -> Value {
    let mut out = Map::new();
    out.insert("snapshot".into(), json!(record.snapshot));
    out.insert("uuid".into(), json!(record.uuid));
    let capabilities = shared.capabilities();
    if !verbose {
        out.insert("indices".into(), json!(record.indices));
        if capabilities.data_streams {
            out.insert("data_streams".into(), json!(record.data_streams));
        }
        out.insert("state".into(), json!(record.state));
        return Value::Object(out);
    }
    out.insert("version_id".into(), json!(record.version_id));
    out.insert("version".into(), json!(record.version));
    if capabilities.remote_store_shallow_copy_field {
        out.insert("remote_store_index_shallow_copy".into(), json!(false));
    }
    out.insert("indices".into(), json!(record.indices));
    if capabilities.data_streams {
        out.insert("data_streams".into(), json!(record.data_streams));
    }
    out.insert(
        "include_global_state".into(),
        json!(record.include_global_state),
    );
    if let Some(metadata) = record
        .metadata
        .as_ref()
        .filter(|_| capabilities.snapshot_metadata)
    {
        out.insert("metadata".into(), Value::Object(metadata.clone()));
    }
    out.insert("state".into(), json!(record.state));
    if let Some(reason) = &record.reason {
        out.insert("reason".into(), json!(reason));
    }
    // A verbose description always carries both times, as OpenSearch's and Elasticsearch's
    // `SnapshotInfo.toXContent` write them (`verbose || endTime != 0`): a running snapshot
    // has `end_time_in_millis: 0` (end_time 1970-01-01) and a duration of 0.
    out.insert("start_time".into(), json!(iso(record.start_time_in_millis)));
    out.insert(
        "start_time_in_millis".into(),
        json!(record.start_time_in_millis),
    );
    out.insert("end_time".into(), json!(iso(record.end_time_in_millis)));
    out.insert(
        "end_time_in_millis".into(),
        json!(record.end_time_in_millis),
    );
    out.insert(
        "duration_in_millis".into(),
        json!(
            record
                .end_time_in_millis
                .saturating_sub(record.start_time_in_millis)
        ),
    );
    let failures: Vec<Value> = record
        .failures
        .iter()
        .map(|f| {
            json!({
                "index": f.index, "index_uuid": f.index_uuid, "shard_id": f.shard_id,
                "reason": f.reason, "status": f.status
            })
        })
        .collect();
    out.insert("failures".into(), json!(failures));
    out.insert(
        "shards".into(),
        json!({
            "total": record.shards.total,
            "failed": record.shards.failed,
            "successful": record.shards.successful
        }),
    );
    Value::Object(out)
}

/// A listed snapshot: finished (in the repository) or running here.
#[derive(Debug, Clone)]
pub(crate) enum Listed {
    Stored(IndexEntry),
    Running(Box<SnapshotRecord>),
}

impl Listed {
    fn name(&self) -> &str {
        match self {
            Self::Stored(e) => &e.name,
            Self::Running(r) => &r.snapshot,
        }
    }
}

fn running_records(shared: &Shared, repository: &str) -> Vec<SnapshotRecord> {
    shared
        .cluster()
        .running
        .iter()
        .filter(|r| r.repository == repository)
        .map(|r| r.record.clone())
        .collect()
}

/// The snapshots `patterns` name (`_all`, `*`, wildcards, `_current`, names); a missing
/// concrete name fails unless `ignore_unavailable`.
pub(crate) async fn select(
    shared: &Shared,
    repository: &RepositoryDef,
    patterns: &[String],
    ignore_unavailable: bool,
) -> Result<Vec<Listed>, EsError> {
    // Running ones first: a snapshot that finishes while the index is read has its index
    // entry written before it leaves the running list, so it is seen either way (the
    // stored entry wins below when it is seen twice).
    let running = running_records(shared, &repository.name);
    let index = read_index(shared, repository).await?;
    let mut all: Vec<Listed> = index.snapshots.into_iter().map(Listed::Stored).collect();
    all.extend(
        running
            .iter()
            .cloned()
            .map(|r| Listed::Running(Box::new(r))),
    );
    let mut out: Vec<Listed> = Vec::new();
    for pattern in patterns {
        let picked: Vec<&Listed> = match pattern.as_str() {
            "_all" => all.iter().collect(),
            "_current" => all
                .iter()
                .filter(|l| matches!(l, Listed::Running(_)))
                .collect(),
            p if is_pattern(p) => all.iter().filter(|l| simple_match(p, l.name())).collect(),
            p => {
                let found: Vec<&Listed> = all.iter().filter(|l| l.name() == p).collect();
                if found.is_empty() && !ignore_unavailable {
                    return Err(EsError::snapshot_missing(&repository.name, p));
                }
                found
            }
        };
        for listed in picked {
            if !out.iter().any(|o| o.name() == listed.name()) {
                out.push(listed.clone());
            }
        }
    }
    Ok(out)
}

/// The full description of a listed snapshot, read from S3 when it is finished.
pub(crate) async fn full_record(
    shared: &Shared,
    repository: &RepositoryDef,
    listed: &Listed,
) -> Result<SnapshotRecord, EsError> {
    let entry = match listed {
        Listed::Running(record) => return Ok((**record).clone()),
        Listed::Stored(entry) => entry,
    };
    let Some(blobs) = repositories::blobs(shared, repository) else {
        return Err(EsError::snapshot_missing(&repository.name, &entry.name));
    };
    shared.count_snapshot_info_read();
    match blobs
        .get_json::<SnapshotRecord>(&manifest_key(&entry.uuid))
        .await
    {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(EsError::snapshot_missing(&repository.name, &entry.name)),
        Err(error) => Err(repository_data_error(&repository.name, &error)),
    }
}

pub(crate) fn entry_record(entry: &IndexEntry) -> SnapshotRecord {
    SnapshotRecord {
        snapshot: entry.name.clone(),
        uuid: entry.uuid.clone(),
        version_id: 0,
        version: entry.version.clone(),
        indices: entry.indices.clone(),
        data_streams: entry.data_streams.clone(),
        data_stream_defs: Vec::new(),
        include_global_state: false,
        metadata: None,
        state: entry.state.clone(),
        reason: None,
        start_time_in_millis: entry.start_time_in_millis,
        end_time_in_millis: entry.end_time_in_millis,
        failures: Vec::new(),
        shards: Default::default(),
        index_stats: Default::default(),
    }
}

/// Finished snapshots' full descriptions, in start order.
pub(crate) async fn full_records(
    shared: &Shared,
    repository: &RepositoryDef,
    listed: &[Listed],
) -> Result<Vec<SnapshotRecord>, EsError> {
    let mut records = Vec::with_capacity(listed.len());
    for l in listed {
        records.push(full_record(shared, repository, l).await?);
    }
    records.sort_by(|a, b| {
        (a.start_time_in_millis, &a.snapshot).cmp(&(b.start_time_in_millis, &b.snapshot))
    });
    Ok(records)
}
