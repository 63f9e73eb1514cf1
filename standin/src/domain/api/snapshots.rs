//! Taking and deleting snapshots. A create checks the name, the repository and the
//! concurrency limit, captures the selected indices as they are at that moment, and answers;
//! a background task keeps the snapshot `IN_PROGRESS` for the configured time (or while
//! snapshots are stuck), then writes it to S3 and records it in the repository index.
//! Deleting a running snapshot aborts it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::domain::state::blobstore::{
    BlobError, Blobs, IndexContents, IndexEntry, IndexStats, ShardCounts, ShardFailure,
    SnapshotRecord, StoredDoc, docs_checksum, index_key, manifest_key, snapshot_keys,
};
use crate::domain::state::catalog::info_json;
use crate::domain::state::cluster::Cluster;
use crate::domain::state::expressions::IndicesOptions;
use crate::domain::state::repositories::{self, RepositoryDef, read_index};
use crate::domain::state::running::{Outcome, Running};
use crate::domain::state::tiers;
use crate::domain::state::{Shared, new_uuid};
use crate::domain::wire::body::{body_bool, body_indices};
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::{is_pattern, simple_match, snapshot_name_rules, split_list};
use crate::domain::wire::reply::{EsError, Reply};
use crate::domain::wire::time::millis;

/// How often background work looks at its flags.
const TICK: Duration = Duration::from_millis(5);

struct CreateRequest {
    indices: Vec<String>,
    options: IndicesOptions,
    include_global_state: bool,
    partial: bool,
    metadata: Option<Map<String, Value>>,
}

fn parse_create(body: &Map<String, Value>) -> Result<CreateRequest, EsError> {
    let mut options = IndicesOptions {
        hidden: true,
        ..IndicesOptions::STRICT
    };
    options.ignore_unavailable = body_bool(body, "ignore_unavailable", false)?;
    options.allow_no_indices = body_bool(body, "allow_no_indices", true)?;
    if let Some(expand) = body.get("expand_wildcards").and_then(Value::as_str) {
        options = options.with_expand(expand)?;
    }
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            let size = Value::Object(map.clone()).to_string().len();
            if size > 1024 {
                return Err(EsError::bad_request(
                    "action_request_validation_exception",
                    format!(
                        "Validation Failed: 1: metadata must be smaller than 1024 bytes, but was [{size}];"
                    ),
                ));
            }
            Some(map.clone())
        }
        Some(_) => {
            return Err(EsError::illegal_argument(
                "malformed metadata, should be an object",
            ));
        }
    };
    Ok(CreateRequest {
        indices: body_indices(body)?,
        options,
        include_global_state: body_bool(body, "include_global_state", true)?,
        partial: body_bool(body, "partial", false)?,
        metadata,
    })
}

/// A shard failure as the engine records it (its `index_uuid` field holds the index name).
fn shard_failure(index: &str, shard: u32, reason: &str) -> ShardFailure {
    ShardFailure {
        index: index.to_owned(),
        index_uuid: index.to_owned(),
        shard_id: shard,
        reason: reason.to_owned(),
        status: "INTERNAL_SERVER_ERROR".into(),
    }
}

/// AWS's rules for warm indexes in a manual snapshot (Developer Guide, ultrawarm.md, "Manual
/// snapshots of warm indexes"): a snapshot that names no indices takes only the hot ones; a
/// selection that mixes hot and warm indexes fails, wildcards included; only one warm index
/// per snapshot. The refusals' answers are not documented (see `tiers`).
fn select_by_tier(cluster: &Cluster, request: &CreateRequest) -> Result<Vec<String>, Reply> {
    let mut names = cluster.resolve(&request.indices, request.options)?;
    let everything = request.indices.is_empty()
        || (request.indices.len() == 1 && matches!(request.indices[0].as_str(), "_all"));
    let warm: Vec<String> = cluster.warm_among(&names).into_iter().cloned().collect();
    if warm.is_empty() {
        return Ok(names);
    }
    if everything {
        names.retain(|n| !warm.contains(n));
        return Ok(names);
    }
    if warm.len() < names.len() {
        return Err(tiers::manual_warm_snapshot_refused(
            "mixes hot and warm indexes",
        ));
    }
    if warm.len() > 1 {
        return Err(tiers::manual_warm_snapshot_refused(
            "holds more than one warm index",
        ));
    }
    Ok(names)
}

/// Captures the selected indices and builds the running snapshot.
fn start(
    shared: &Shared,
    cluster: &Cluster,
    repository: &str,
    snapshot: &str,
    request: &CreateRequest,
) -> Result<Running, Reply> {
    let names = select_by_tier(cluster, request)?;
    let mut contents = Vec::new();
    let mut index_stats = BTreeMap::new();
    let mut failures = Vec::new();
    let mut red = Vec::new();
    for name in &names {
        let Some(index) = cluster.indices.get(name) else {
            continue;
        };
        let shards = index.shards();
        let failed_shards: Vec<u32> = if index.red {
            (0..shards).collect()
        } else {
            Vec::new()
        };
        if index.red {
            red.push(name.clone());
            for shard in 0..shards {
                failures.push(shard_failure(name, shard, "primary shard is not allocated"));
            }
        }
        let docs: Vec<StoredDoc> = index
            .docs
            .iter()
            .map(|(id, d)| StoredDoc {
                id: id.clone(),
                source: d.source.clone(),
            })
            .collect();
        index_stats.insert(
            name.clone(),
            IndexStats {
                uuid: index.uuid.clone(),
                shards,
                bytes: index.primary_bytes(),
                files: index.primary_files(),
                failed_shards,
                docs_sha256: Some(docs_checksum(&docs)),
            },
        );
        contents.push(IndexContents {
            name: name.clone(),
            uuid: index.uuid.clone(),
            settings: index.settings.clone(),
            mappings: index.mappings.clone(),
            aliases: index.aliases.clone(),
            docs,
        });
    }
    let streams = if shared.capabilities().data_streams {
        cluster.streams_in_snapshot(&request.indices, &names)
    } else {
        Vec::new()
    };
    let engine = &shared.config.engine;
    let mut record = SnapshotRecord {
        snapshot: snapshot.to_owned(),
        uuid: new_uuid(),
        version_id: engine.version_id(),
        version: engine.version().to_owned(),
        indices: names,
        data_streams: streams.iter().map(|s| s.name.clone()).collect(),
        data_stream_defs: streams,
        include_global_state: request.include_global_state,
        metadata: request.metadata.clone(),
        state: "IN_PROGRESS".into(),
        reason: None,
        start_time_in_millis: millis(shared.config.calendar.now()),
        end_time_in_millis: 0,
        failures,
        shards: ShardCounts::default(),
        index_stats,
    };
    if !red.is_empty() && !request.partial {
        // The engine records such a snapshot as FAILED at once: the red shards are missing
        // and the others are skipped.
        record.state = "FAILED".into();
        record.reason = Some(format!(
            "Indices don't have primary shards [{}]",
            red.join(", ")
        ));
        let mut all = Vec::new();
        for (name, stats) in &record.index_stats {
            for shard in 0..stats.shards {
                let reason = if stats.failed_shards.contains(&shard) {
                    "primary shard is not allocated"
                } else {
                    "skipped"
                };
                all.push(shard_failure(name, shard, reason));
            }
        }
        record.failures = all;
    }
    let (outcome, _) = watch::channel(Outcome::Running);
    Ok(Running {
        repository: repository.to_owned(),
        record,
        contents,
        started_at: Instant::now(),
        aborted: false,
        outcome,
    })
}

/// `PUT|POST _snapshot/<repository>/<snapshot>`.
pub(crate) async fn create(
    shared: &Arc<Shared>,
    call: &Call,
    repo: &str,
    snapshot: &str,
) -> Answer {
    if shared.aws() && repositories::reserved(repo) {
        return Err(repositories::reserved_refusal(call));
    }
    if let Err(why) = snapshot_name_rules(snapshot) {
        return Err(EsError::invalid_snapshot_name(repo, snapshot, why).into());
    }
    let mut request = parse_create(&call.json_object()?)?;
    if !shared.capabilities().snapshot_metadata {
        // Before Elasticsearch 7.3 the create body's reader knows no `metadata` and skips it.
        request.metadata = None;
    }
    let wait = call.query.flag("wait_for_completion", false)?;
    let definition = repositories::lookup(shared, repo)?;
    if definition.readonly() {
        return Err(
            EsError::repository(repo, "cannot create snapshot in a readonly repository").into(),
        );
    }
    take(shared, &definition, snapshot, &request, wait).await
}

/// What AWS does on its own every hour: a snapshot of the whole cluster (every index, system
/// ones included, and the cluster state) into `cs-automated` ("Automated snapshots" in the
/// developer guide's managedomains-snapshots), which callers can only read and restore from.
pub(crate) async fn take_automated(shared: &Arc<Shared>, snapshot: &str) -> Answer {
    let definition = repositories::lookup(shared, AUTOMATED_REPOSITORY)?;
    let request = CreateRequest {
        indices: vec!["*".to_owned()],
        options: IndicesOptions {
            hidden: true,
            closed: true,
            ..IndicesOptions::STRICT
        },
        include_global_state: true,
        partial: true,
        metadata: None,
    };
    take(shared, &definition, snapshot, &request, true).await
}

/// AWS's automated snapshots' repository.
pub(crate) const AUTOMATED_REPOSITORY: &str = "cs-automated";

/// The engine's part of a create, once the request is accepted.
async fn take(
    shared: &Arc<Shared>,
    definition: &RepositoryDef,
    snapshot: &str,
    request: &CreateRequest,
    wait: bool,
) -> Answer {
    let repo = definition.name.as_str();
    ensure_can_start(&shared.cluster(), repo, snapshot)?;
    let index = read_index(shared, definition).await?;
    if index.snapshots.iter().any(|s| s.name == snapshot) {
        return Err(EsError::invalid_snapshot_name(
            repo,
            snapshot,
            "snapshot with the same name already exists",
        )
        .into());
    }
    let mut outcome = {
        let mut cluster = shared.cluster();
        ensure_can_start(&cluster, repo, snapshot)?;
        let running = start(shared, &cluster, repo, snapshot, request)?;
        let receiver = running.outcome.subscribe();
        let uuid = running.record.uuid.clone();
        cluster.running.push(running);
        let worker = shared.clone();
        let location = repositories::blobs(shared, definition);
        shared.spawn(async move { finish(worker, uuid, location).await });
        receiver
    };
    if !wait {
        return Ok(Reply::ok(&json!({"accepted": true})));
    }
    let result = outcome
        .wait_for(|o| *o != Outcome::Running)
        .await
        .map(|o| o.clone());
    match result {
        Ok(Outcome::Finished(record)) => Ok(Reply::ok(&json!({
            "snapshot": info_json(shared, &record, true)
        }))),
        _ => Err(EsError::internal(
            "snapshot_exception",
            format!("[{repo}:{snapshot}] Snapshot was aborted by deletion"),
        )
        .into()),
    }
}

/// The concurrency and name checks against running snapshots.
fn ensure_can_start(cluster: &Cluster, repo: &str, snapshot: &str) -> Result<(), EsError> {
    if cluster
        .running
        .iter()
        .any(|r| r.repository == repo && r.record.snapshot == snapshot)
    {
        return Err(EsError::invalid_snapshot_name(
            repo,
            snapshot,
            "snapshot with the same name is already in-progress",
        ));
    }
    if !cluster.running.is_empty() {
        return Err(EsError::concurrent_snapshot(
            repo,
            snapshot,
            "a snapshot is already running",
        ));
    }
    Ok(())
}

fn find_running<'a>(cluster: &'a mut Cluster, uuid: &str) -> Option<&'a mut Running> {
    cluster.running.iter_mut().find(|r| r.record.uuid == uuid)
}

/// Keeps the snapshot running, then writes it and records the outcome.
async fn finish(shared: Arc<Shared>, uuid: String, location: Option<Blobs>) {
    let mut stuck = shared.faults.stuck_snapshots();
    let duration = shared.config.snapshot_duration;
    loop {
        let (elapsed, aborted, failed) = {
            let mut cluster = shared.cluster();
            let Some(running) = find_running(&mut cluster, &uuid) else {
                return;
            };
            (
                running.started_at.elapsed(),
                running.aborted,
                running.record.state == "FAILED",
            )
        };
        let stuck_now = *stuck.borrow_and_update();
        if aborted || ((failed || elapsed >= duration) && !stuck_now) {
            break;
        }
        tokio::time::sleep(TICK).await;
    }
    let (mut record, contents, aborted) = {
        let mut cluster = shared.cluster();
        let Some(running) = find_running(&mut cluster, &uuid) else {
            return;
        };
        (
            running.record.clone(),
            std::mem::take(&mut running.contents),
            running.aborted,
        )
    };
    if aborted {
        conclude(&shared, &uuid, Outcome::Aborted);
        return;
    }
    record.end_time_in_millis = millis(shared.config.calendar.now());
    if record.state == "IN_PROGRESS" {
        fail_shards_as_injected(&shared, &mut record);
    }
    tally(&mut record);
    if let Some(blobs) = location
        && let Err(error) = store(&blobs, &mut record, &contents).await
    {
        // The snapshot's metadata or the repository's index could not be written: the
        // engine's finalization fails, and the snapshot is in no listing (its blobs are left
        // for a later cleanup, as stale blobs are).
        tracing::warn!(snapshot = %record.snapshot, %error, "snapshot could not be written");
        record.state = "FAILED".into();
        record.reason = Some(error.to_string());
    }
    conclude(&shared, &uuid, Outcome::Finished(Box::new(record)));
}

/// Shards of the indices the fault plan names fail now, after the snapshot started.
fn fail_shards_as_injected(shared: &Shared, record: &mut SnapshotRecord) {
    for (name, stats) in &mut record.index_stats {
        if !stats.failed_shards.is_empty() || !shared.faults.shards_fail_during_snapshots(name) {
            continue;
        }
        stats.failed_shards = (0..stats.shards).collect();
        for shard in 0..stats.shards {
            record.failures.push(shard_failure(
                name,
                shard,
                "IndexShardSnapshotFailedException[shard failed while it was being snapshotted]",
            ));
        }
    }
}

fn conclude(shared: &Shared, uuid: &str, outcome: Outcome) {
    let mut cluster = shared.cluster();
    if let Some(at) = cluster.running.iter().position(|r| r.record.uuid == uuid) {
        let running = cluster.running.remove(at);
        running.outcome.send_replace(outcome);
    }
}

/// The shard counts and the state from the failures so far. Shards that fail after the start
/// make the snapshot PARTIAL whatever its `partial` flag: the flag only decides whether a
/// snapshot may start with primaries missing (the create API's `partial`; the get API's
/// states: "PARTIAL: the global cluster state was stored, but data of at least one shard was
/// not stored successfully").
fn tally(record: &mut SnapshotRecord) {
    let total: u64 = record
        .index_stats
        .values()
        .map(|s| u64::from(s.shards))
        .sum();
    if record.state == "FAILED" {
        record.shards = ShardCounts {
            total,
            failed: total,
            successful: 0,
        };
        return;
    }
    let failed = record.failures.len() as u64;
    record.shards = ShardCounts {
        total,
        failed,
        successful: total.saturating_sub(failed),
    };
    record.state = if failed == 0 { "SUCCESS" } else { "PARTIAL" }.into();
}

/// Writes the index blobs, then the snapshot's metadata, then the repository index entry. An
/// index whose data S3 refuses (after the client's retries) has its shards failed, as a data
/// node's failed upload fails its shard; a refused metadata or index write fails the whole
/// snapshot (`Err`).
async fn store(
    blobs: &Blobs,
    record: &mut SnapshotRecord,
    contents: &[IndexContents],
) -> Result<(), BlobError> {
    // The index blobs go side by side, as an engine's data nodes write their shards; the
    // metadata and the repository index only once they are all there.
    let mut writes = Vec::with_capacity(contents.len());
    for index in contents {
        let missing = record
            .index_stats
            .get(&index.name)
            .is_some_and(|s| !s.failed_shards.is_empty());
        if record.state == "FAILED" || missing {
            continue;
        }
        let key = index_key(&record.uuid, &index.name);
        let body = serde_json::to_vec(index).map_err(|e| BlobError::Corrupt {
            key: key.clone(),
            reason: e.to_string(),
        })?;
        writes.push((key, body));
    }
    let refused = blobs.put_each(writes, STORE_CONCURRENCY).await;
    for (key, error) in refused {
        let Some(index) = contents
            .iter()
            .find(|c| index_key(&record.uuid, &c.name) == key)
        else {
            return Err(error);
        };
        fail_shards_whose_upload_failed(record, &index.name, &key, &error);
    }
    tally(record);
    blobs
        .put_json(&manifest_key(&record.uuid), &*record)
        .await?;
    let mut index = blobs.read_index().await?;
    index.snapshots.retain(|s| s.name != record.snapshot);
    index.snapshots.push(record.entry());
    index.generation += 1;
    blobs.write_index(&index).await
}

/// Every shard of `index` failed: its upload was refused.
fn fail_shards_whose_upload_failed(
    record: &mut SnapshotRecord,
    index: &str,
    key: &str,
    error: &BlobError,
) {
    let Some(stats) = record.index_stats.get_mut(index) else {
        return;
    };
    stats.failed_shards = (0..stats.shards).collect();
    let shards = stats.shards;
    for shard in 0..shards {
        record.failures.push(shard_failure(
            index,
            shard,
            &format!(
                "IndexShardSnapshotFailedException[Failed to write file list]; nested: \
                 IOException[Unable to upload object [{key}] using a single upload]; nested: \
                 {}",
                error.as_exception()
            ),
        ));
    }
}

/// Index blobs written at once while a snapshot is stored.
const STORE_CONCURRENCY: usize = 16;

/// `DELETE _snapshot/<repository>/<snapshots>`.
pub(crate) async fn delete(shared: &Arc<Shared>, call: &Call, repo: &str, names: &str) -> Answer {
    if shared.aws() && repositories::reserved(repo) {
        return Err(repositories::reserved_refusal(call));
    }
    let definition = repositories::lookup(shared, repo)?;
    if definition.readonly() {
        return Err(
            EsError::repository(repo, "cannot delete snapshot from a readonly repository").into(),
        );
    }
    let capabilities = shared.capabilities();
    // Before multi-snapshot deletes (Elasticsearch 7.8) the path names one snapshot: `a,b`,
    // `*` and `_all` are looked up as names.
    let multi = capabilities.multi_snapshot_delete;
    let patterns = if multi {
        split_list(names)
    } else {
        vec![names.to_owned()]
    };
    let index = read_index(shared, &definition).await?;
    let matches = |name: &str| {
        patterns.iter().any(|p| {
            p == name || (multi && (p == "_all" || (is_pattern(p) && simple_match(p, name))))
        })
    };
    let mut waiting = Vec::new();
    {
        let mut cluster = shared.cluster();
        if !capabilities.concurrent_snapshots
            && cluster
                .running
                .iter()
                .any(|r| !(r.repository == repo && matches(&r.record.snapshot)))
        {
            return Err(EsError::concurrent_snapshot(
                repo,
                names,
                "cannot delete - another snapshot is currently being created",
            )
            .into());
        }
        for pattern in patterns
            .iter()
            .filter(|p| !multi || (!is_pattern(p) && *p != "_all"))
        {
            let known = index.snapshots.iter().any(|s| &s.name == pattern)
                || cluster
                    .running
                    .iter()
                    .any(|r| r.repository == repo && &r.record.snapshot == pattern);
            if !known {
                return Err(EsError::snapshot_missing(repo, pattern).into());
            }
        }
        for running in cluster
            .running
            .iter_mut()
            .filter(|r| r.repository == repo && matches(&r.record.snapshot))
        {
            running.aborted = true;
            waiting.push(running.outcome.subscribe());
        }
    }
    let mut finished_meanwhile = Vec::new();
    for mut receiver in waiting {
        if let Ok(outcome) = receiver.wait_for(|o| *o != Outcome::Running).await
            && let Outcome::Finished(record) = &*outcome
        {
            finished_meanwhile.push(record.snapshot.clone());
        }
    }
    let Some(blobs) = repositories::blobs(shared, &definition) else {
        return Ok(Reply::acknowledged());
    };
    let mut index = read_index(shared, &definition).await?;
    let (doomed, kept): (Vec<IndexEntry>, Vec<IndexEntry>) = std::mem::take(&mut index.snapshots)
        .into_iter()
        .partition(|s| matches(&s.name) || finished_meanwhile.contains(&s.name));
    index.snapshots = kept;
    if doomed.is_empty() {
        return Ok(Reply::acknowledged());
    }
    index.generation += 1;
    let failed = |e: BlobError| {
        EsError::internal(
            "snapshot_exception",
            format!("[{repo}:{names}] failed to delete snapshot"),
        )
        .caused_by(e.to_cause("failed to update the repository index".into()))
    };
    blobs.write_index(&index).await.map_err(failed)?;
    let keys: Vec<String> = doomed.iter().flat_map(snapshot_keys).collect();
    blobs.delete_keys(&keys).await.map_err(failed)?;
    Ok(Reply::acknowledged())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bodies_parse_as_the_engine_reads_them() {
        let body =
            json!({"indices": "logs-*,-logs-old", "partial": "true", "metadata": {"by": "osnap"}});
        let request = parse_create(body.as_object().unwrap()).unwrap();
        assert_eq!(request.indices, ["logs-*", "-logs-old"]);
        assert!(request.partial && request.include_global_state);
        assert!(request.options.hidden);
        let list = json!({"indices": ["a", "b"]});
        assert_eq!(
            parse_create(list.as_object().unwrap()).unwrap().indices,
            ["a", "b"]
        );
        let bad = json!({"indices": 5});
        assert!(parse_create(bad.as_object().unwrap()).is_err());
        let bad = json!({"partial": "maybe"});
        assert!(parse_create(bad.as_object().unwrap()).is_err());
    }
}
