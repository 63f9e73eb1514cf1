//! `POST _snapshot/<repo>/<snapshot>/_restore`: every body field the engine reads, its checks
//! in its order (snapshot state and version, index selection, renames, settings changes,
//! conflicts with open indices and aliases), then the restored indices recovering from the
//! snapshot over the configured time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use policy::restore_rules::{UNMODIFIABLE_SETTINGS, UNREMOVABLE_SETTINGS};
use serde_json::{Map, Value, json};

use crate::domain::state::blobstore::{
    Blobs, IndexContents, SnapshotRecord, docs_checksum, index_key, manifest_key,
};
use crate::domain::state::cluster::{Cluster, Doc, Index};
use crate::domain::state::cluster_settings::check_shard_limit;
use crate::domain::state::data_streams::{BACKING_PREFIX, DataStream};
use crate::domain::state::recovery::{Recovery, RecoverySource};
use crate::domain::state::repositories::{self, RepositoryDef};
use crate::domain::state::repositories::{read_index, repository_data_error};
use crate::domain::state::settings::{self, Settings};
use crate::domain::state::tiers;
use crate::domain::state::{Shared, new_uuid};
use crate::domain::wire::body::{body_bool, body_indices};
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::{
    filter_snapshot_indices, is_pattern, simple_match, validate_index_name,
};
use crate::domain::wire::rename::Rename;
use crate::domain::wire::reply::{EsError, Reply};

/// Body fields a restore reads; anything else is refused.
const FIELDS: [&str; 12] = [
    "indices",
    "ignore_unavailable",
    "allow_no_indices",
    "expand_wildcards",
    "include_global_state",
    "include_aliases",
    "partial",
    "index_settings",
    "ignore_index_settings",
    "rename_pattern",
    "rename_replacement",
    "settings",
];

struct RestoreRequest {
    indices: Vec<String>,
    ignore_unavailable: bool,
    include_aliases: bool,
    partial: bool,
    index_settings: Settings,
    ignore_index_settings: Vec<String>,
    rename: Option<Rename>,
}

fn parse(body: &Map<String, Value>) -> Result<RestoreRequest, EsError> {
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(EsError::illegal_argument(format!(
            "Unknown parameter {unknown}"
        )));
    }
    let index_settings = match body.get("index_settings") {
        None | Some(Value::Null) => Settings::new(),
        Some(v @ Value::Object(_)) => settings::flatten(v)?,
        Some(_) => {
            return Err(EsError::illegal_argument(
                "malformed index_settings section",
            ));
        }
    };
    let ignore_index_settings = match body.get("ignore_index_settings") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => crate::domain::wire::names::split_list(s),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_owned).ok_or_else(|| {
                    EsError::illegal_argument(
                        "malformed ignore_index_settings section, should be an array of strings",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(EsError::illegal_argument(
                "malformed ignore_index_settings section, should be an array of strings",
            ));
        }
    };
    let text = |key: &str| -> Result<Option<String>, EsError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(EsError::illegal_argument(format!("malformed {key}"))),
        }
    };
    let rename = match (text("rename_pattern")?, text("rename_replacement")?) {
        (Some(pattern), Some(replacement)) => Some(Rename::new(&pattern, &replacement)?),
        _ => None,
    };
    Ok(RestoreRequest {
        indices: body_indices(body)?,
        ignore_unavailable: body_bool(body, "ignore_unavailable", false)?,
        include_aliases: body_bool(body, "include_aliases", true)?,
        partial: body_bool(body, "partial", false)?,
        index_settings,
        ignore_index_settings,
        rename,
    })
}

/// The snapshot's settings less the ignored ones, plus the changed ones.
fn updated_settings(
    label: &str,
    original: &Settings,
    request: &RestoreRequest,
) -> Result<Settings, EsError> {
    let unremovable =
        |k: &str| UNMODIFIABLE_SETTINGS.contains(&k) || UNREMOVABLE_SETTINGS.contains(&k);
    for ignored in &request.ignore_index_settings {
        if !is_pattern(ignored) && unremovable(ignored) {
            return Err(EsError::snapshot_restore(
                label,
                &format!("cannot remove setting [{ignored}] on restore"),
            ));
        }
    }
    let mut out: Settings = original
        .iter()
        .filter(|(k, _)| {
            unremovable(k)
                || !request.ignore_index_settings.iter().any(|p| {
                    if is_pattern(p) {
                        simple_match(p, k)
                    } else {
                        p == *k
                    }
                })
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, value) in &request.index_settings {
        if UNMODIFIABLE_SETTINGS.contains(&key.as_str()) {
            return Err(EsError::snapshot_restore(
                label,
                &format!("cannot modify setting [{key}] on restore"),
            ));
        }
        out.insert(key.clone(), value.clone());
    }
    settings::validate(&request.index_settings)?;
    Ok(out)
}

/// An index's name after the rename; a stream's backing index keeps its `.ds-` prefix and the
/// rest is renamed (`RestoreService.renameIndex`).
fn renamed(rename: Option<&Rename>, index: &str, part_of_stream: bool) -> String {
    let Some(rename) = rename else {
        return index.to_owned();
    };
    match index.strip_prefix(BACKING_PREFIX) {
        Some(rest) if part_of_stream => format!("{BACKING_PREFIX}{}", rename.apply(rest)),
        _ => rename.apply(index),
    }
}

/// One index the restore will create or replace.
struct Planned {
    source: String,
    target: String,
    contents: Option<IndexContents>,
    /// Why the shards' data could not be read from the repository while they recovered.
    unreadable: Option<String>,
    settings: Settings,
    aliases: BTreeMap<String, Value>,
    partial: bool,
    bytes: u64,
    files: u64,
    shards: u32,
    docs_sha256: Option<String>,
}

async fn load_record(
    shared: &Shared,
    repository: &RepositoryDef,
    snapshot: &str,
) -> Result<SnapshotRecord, EsError> {
    let index = read_index(shared, repository).await?;
    let entry = index
        .snapshots
        .iter()
        .find(|s| s.name == snapshot)
        .ok_or_else(|| {
            EsError::snapshot_restore(
                &format!("{}:{snapshot}", repository.name),
                "snapshot does not exist",
            )
        })?;
    let blobs = repositories::blobs(shared, repository)
        .ok_or_else(|| EsError::snapshot_missing(&repository.name, snapshot))?;
    shared.count_snapshot_info_read();
    blobs
        .get_json::<SnapshotRecord>(&manifest_key(&entry.uuid))
        .await
        .map_err(|e| repository_data_error(&repository.name, &e))?
        .ok_or_else(|| EsError::snapshot_missing(&repository.name, snapshot))
}

/// Recoveries of a primary the engine tries before it gives up: the first and
/// `index.allocation.max_retries` (5 by default, `MaxRetryAllocationDecider`) more. After
/// that the shard stays unassigned until someone asks for a retry.
const RECOVERY_ATTEMPTS: u32 = 6;

/// Why a restored shard's data cannot be read while it recovers, or `None` once a read
/// succeeds: each recovery reads the data again through the S3 client, which retries on its
/// own. The metadata was read before the restore was accepted; this is the data read after.
async fn recovery_read_failure(blobs: &Blobs, key: &str) -> Option<String> {
    let mut last = None;
    for _ in 0..RECOVERY_ATTEMPTS {
        match blobs.get_json::<IndexContents>(key).await {
            Ok(Some(_)) => return None,
            Ok(None) => return Some(format!("NoSuchFileException[{key}]")),
            Err(error) => last = Some(error.as_exception()),
        }
    }
    last
}

/// Checks the plan against the cluster as it is now; nothing is changed.
fn check_conflicts(
    shared: &Shared,
    cluster: &Cluster,
    label: &str,
    plan: &[Planned],
) -> Result<(), EsError> {
    let restored_aliases: Vec<&String> = plan.iter().flat_map(|p| p.aliases.keys()).collect();
    for p in plan {
        match cluster.indices.get(&p.target) {
            Some(existing) if existing.open => {
                return Err(EsError::snapshot_restore(
                    label,
                    &format!(
                        "cannot restore index [{}] because an open index with same name already \
                         exists in the cluster. Either close or delete the existing index or \
                         restore the index under a different name by providing a rename pattern \
                         and replacement name",
                        p.target
                    ),
                ));
            }
            Some(existing) => {
                if p.partial {
                    return Err(EsError::snapshot_restore(
                        label,
                        &format!(
                            "cannot restore partial index [{}] because such index already exists",
                            p.target
                        ),
                    ));
                }
                if existing.shards() != p.shards {
                    return Err(EsError::snapshot_restore(
                        label,
                        &format!(
                            "cannot restore index [{}] with [{}] shards from a snapshot of index [{}] with [{}] shards",
                            p.target,
                            existing.shards(),
                            p.source,
                            p.shards
                        ),
                    ));
                }
            }
            None => {
                validate_index_name(&p.target, shared.opensearch())?;
                if cluster.has_alias(&p.target) {
                    return Err(EsError::invalid_index_name(
                        &p.target,
                        "already exists as alias",
                    ));
                }
                // Each new index against the cluster as it was before the restore, as
                // `RestoreService` checks it (a restore over a closed index is not checked).
                let copies = 1 + u64::from(settings::replicas(&p.settings));
                check_shard_limit(cluster, u64::from(p.shards) * copies)?;
            }
        }
    }
    for p in plan {
        if restored_aliases.contains(&&p.target) {
            return Err(EsError::snapshot_restore(
                label,
                &format!(
                    "cannot rename index [{}] into [{}] because of conflict with an alias with the same name",
                    p.source, p.target
                ),
            ));
        }
    }
    for alias in restored_aliases {
        let restored_here = plan.iter().any(|p| &p.target == alias);
        if cluster.indices.contains_key(alias.as_str()) && !restored_here {
            return Err(EsError::illegal_state(format!(
                "index and alias names need to be unique, but the following duplicates were \
                 found [{alias} (alias of restored indices) conflicts with index]"
            )));
        }
    }
    Ok(())
}

/// `POST _snapshot/<repository>/<snapshot>/_restore`.
pub(crate) async fn restore(
    shared: &Arc<Shared>,
    call: &Call,
    repo: &str,
    snapshot: &str,
) -> Answer {
    let request = parse(&call.json_object()?)?;
    let wait = call.query.flag("wait_for_completion", false)?;
    let repository = repositories::lookup(shared, repo)?;
    let record = load_record(shared, &repository, snapshot).await?;
    let label = format!("{repo}:{snapshot}/{}", record.uuid);
    if record.state == "FAILED" || record.state == "INCOMPATIBLE" {
        return Err(EsError::snapshot_restore(
            &label,
            &format!("unsupported snapshot state [{}]", record.state),
        )
        .into());
    }
    let engine = &shared.config.engine;
    if record.version_id > engine.version_id() {
        // Elasticsearch decodes an OpenSearch version id with its own formula.
        let shown = if engine.is_opensearch() {
            record.version.clone()
        } else {
            let id = record.version_id;
            format!(
                "{}.{}.{}",
                id / 1_000_000,
                id / 10_000 % 100,
                id / 100 % 100
            )
        };
        return Err(EsError::snapshot_restore(
            &label,
            &format!(
                "the snapshot was created with {} version [{shown}] which is higher than the \
                 version of this node [{}]",
                engine.product(),
                engine.version()
            ),
        )
        .into());
    }
    // Data streams, as `RestoreService` selects them: the request's names and patterns
    // matched leniently against the snapshot's streams; their backing indices take the
    // streams' place in the index list (an empty list names every stream, and then only
    // their backing indices remain named).
    let streams: Vec<DataStream> = if record.data_streams.is_empty() {
        Vec::new()
    } else {
        let names = filter_snapshot_indices(&record.data_streams, &request.indices, true)?;
        record
            .data_stream_defs
            .iter()
            .filter(|d| names.contains(&d.name))
            .cloned()
            .collect()
    };
    let backing: Vec<String> = streams.iter().flat_map(|s| s.indices.clone()).collect();
    let mut requested = request.indices.clone();
    requested.retain(|e| !streams.iter().any(|s| &s.name == e));
    requested.extend(backing.iter().cloned());
    let selected =
        filter_snapshot_indices(&record.indices, &requested, request.ignore_unavailable)?;
    let mut targets: BTreeMap<String, String> = BTreeMap::new();
    for source in &selected {
        let target = renamed(request.rename.as_ref(), source, backing.contains(source));
        if let Some(previous) = targets.insert(target.clone(), source.clone()) {
            return Err(EsError::snapshot_restore(
                &format!("{repo}:{snapshot}"),
                &format!(
                    "indices [{source}] and [{previous}] are renamed into the same index [{target}]"
                ),
            )
            .into());
        }
    }
    let blobs = repositories::blobs(shared, &repository)
        .ok_or_else(|| EsError::snapshot_missing(repo, snapshot))?;
    let mut plan = Vec::new();
    for (target, source) in &targets {
        let Some(stats) = record.index_stats.get(source) else {
            return Err(EsError::index_not_found(source).into());
        };
        let partial = !stats.failed_shards.is_empty();
        if partial && !request.partial {
            return Err(EsError::snapshot_restore(
                &label,
                &format!("index [{source}] wasn't fully snapshotted - cannot restore"),
            )
            .into());
        }
        let contents: Option<IndexContents> = if partial {
            None
        } else {
            Some(
                blobs
                    .get_json(&index_key(&record.uuid, source))
                    .await
                    .map_err(|e| repository_data_error(repo, &e))?
                    .ok_or_else(|| {
                        EsError::snapshot_restore(
                            &label,
                            &format!("index [{source}] data is missing"),
                        )
                    })?,
            )
        };
        let unreadable = match &contents {
            Some(_) => recovery_read_failure(&blobs, &index_key(&record.uuid, source)).await,
            None => None,
        };
        let mut original = contents
            .as_ref()
            .map(|c| c.settings.clone())
            .unwrap_or_else(|| {
                let mut s = Settings::new();
                s.insert("index.number_of_shards".into(), stats.shards.to_string());
                s
            });
        if repo != tiers::ULTRAWARM_REPOSITORY {
            // Manual (and cs-automated) snapshots restore to hot storage, even of an index
            // that was warm (ultrawarm.md, "Manual snapshots of warm indexes", "Restoring warm
            // indexes from snapshots").
            original.remove(tiers::BOX_TYPE);
        }
        let aliases = match (&contents, request.include_aliases) {
            (Some(c), true) => c.aliases.clone(),
            _ => BTreeMap::new(),
        };
        plan.push(Planned {
            source: source.clone(),
            target: target.clone(),
            settings: updated_settings(&label, &original, &request)?,
            contents,
            unreadable,
            aliases,
            partial,
            bytes: stats.bytes,
            files: stats.files,
            shards: stats.shards,
            docs_sha256: stats.docs_sha256.clone(),
        });
    }
    let restore_uuid = new_uuid();
    let now = shared.config.calendar.now();
    let (total, failed) = {
        let mut cluster = shared.cluster();
        check_conflicts(shared, &cluster, &label, &plan)?;
        let (mut total, mut failed) = (0u64, 0u64);
        for p in plan {
            total += u64::from(p.shards);
            let existing = cluster.indices.remove(&p.target);
            let uuid = existing.as_ref().map_or_else(new_uuid, |e| e.uuid.clone());
            let mut settings = p.settings;
            settings.insert("index.uuid".into(), uuid.clone());
            let mut index = Index::new(&p.target, uuid, settings.clone(), engine.version_id(), now);
            index.settings = settings;
            index.mappings = p
                .contents
                .as_ref()
                .map_or_else(|| json!({}), |c| c.mappings.clone());
            index.aliases = if request.include_aliases {
                p.aliases
            } else {
                existing.map(|e| e.aliases).unwrap_or_default()
            };
            let node = shared.identity.nodes.first().map_or("", |n| n.id.as_str());
            let unreadable = p.unreadable.as_ref().map(|cause| {
                format!(
                    "failed shard on node [{node}]: failed recovery, failure \
                     RecoveryFailedException[[{}][0]: Recovery failed]; nested: \
                     IndexShardRestoreFailedException[restore failed]; nested: \
                     IndexShardRestoreFailedException[failed to restore snapshot \
                     [{repo}:{snapshot}]]; nested: {cause}",
                    p.target
                )
            });
            let corrupt = unreadable.or_else(|| {
                p.contents.as_ref().and_then(|c| {
                    let expected = p.docs_sha256.as_deref()?;
                    let found = docs_checksum(&c.docs);
                    (found != expected).then(|| {
                        format!(
                            "failed shard on node [{node}]: failed recovery, failure \
                         RecoveryFailedException[[{}][0]: Recovery failed]; nested: \
                         IndexShardRestoreFailedException[restore failed]; nested: \
                         CorruptIndexException[checksum failed (hardware problem?) : \
                         expected={expected} actual={found}]",
                            p.target
                        )
                    })
                })
            });
            if let Some(failure) = corrupt {
                // The index exists with the snapshot's metadata; its primaries never start.
                index.red = true;
                index.failed_recovery = Some(failure);
                failed += u64::from(p.shards);
            } else if let Some(contents) = p.contents {
                for (seq_no, doc) in contents.docs.into_iter().enumerate() {
                    index.docs.insert(
                        doc.id,
                        Doc {
                            source: doc.source,
                            version: 1,
                            seq_no: seq_no as u64,
                        },
                    );
                }
                index.next_seq_no = index.docs.len() as u64;
                index.recovery = Recovery {
                    source: RecoverySource::Snapshot {
                        repository: repo.to_owned(),
                        snapshot: snapshot.to_owned(),
                        version: record.version.clone(),
                        index: p.source.clone(),
                        restore_uuid: restore_uuid.clone(),
                    },
                    started: now,
                    started_at: Instant::now(),
                    duration: shared.config.recovery_duration,
                    total_bytes: p.bytes,
                    total_files: p.files,
                };
            } else {
                // Shards missing from a partial snapshot come back empty.
                failed += u64::from(p.shards);
            }
            cluster.indices.insert(p.target.clone(), index);
        }
        // The restored streams replace any of the same name (`updatedDataStreams.putAll`).
        for stream in &streams {
            let name = request
                .rename
                .as_ref()
                .map_or_else(|| stream.name.clone(), |r| r.apply(&stream.name));
            let indices = stream
                .indices
                .iter()
                .map(|i| renamed(request.rename.as_ref(), i, true))
                .collect();
            cluster.data_streams.insert(
                name.clone(),
                DataStream {
                    name,
                    indices,
                    generation: stream.generation,
                    template: stream.template.clone(),
                },
            );
        }
        (total, failed)
    };
    if !wait {
        return Ok(Reply::ok(&json!({"accepted": true})));
    }
    loop {
        let done = {
            let cluster = shared.cluster();
            let now = Instant::now();
            targets.keys().all(|t| {
                cluster
                    .indices
                    .get(t)
                    .is_none_or(|i| i.recovery.primaries_done(now, i.replicas()))
            })
        };
        if done {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Ok(Reply::ok(&json!({
        "snapshot": {
            "snapshot": snapshot,
            "indices": targets.keys().collect::<Vec<_>>(),
            "shards": {"total": total, "failed": failed, "successful": total - failed}
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Value) -> RestoreRequest {
        parse(body.as_object().unwrap()).unwrap()
    }

    #[test]
    fn unknown_fields_are_refused() {
        let body = json!({"indices": "*", "rename_patern": "x"});
        let error = parse(body.as_object().unwrap()).err().unwrap();
        assert_eq!(error.reason, "Unknown parameter rename_patern");
    }

    #[test]
    fn settings_are_ignored_and_changed_within_the_rules() {
        let mut original = Settings::new();
        original.insert("index.number_of_shards".into(), "1".into());
        original.insert("index.number_of_replicas".into(), "1".into());
        original.insert("index.refresh_interval".into(), "5s".into());
        let r = request(json!({
            "index_settings": {"index.number_of_replicas": 0},
            "ignore_index_settings": ["index.refresh_interval"]
        }));
        let out = updated_settings("r:s/u", &original, &r).unwrap();
        assert_eq!(out["index.number_of_replicas"], "0");
        assert!(!out.contains_key("index.refresh_interval"));
        let r = request(json!({"index_settings": {"number_of_shards": 2}}));
        let error = updated_settings("r:s/u", &original, &r).unwrap_err();
        assert_eq!(
            error.reason,
            "[r:s/u] cannot modify setting [index.number_of_shards] on restore"
        );
        let r = request(json!({"ignore_index_settings": "index.number_of_replicas"}));
        assert!(updated_settings("r:s/u", &original, &r).is_err());
    }
}
