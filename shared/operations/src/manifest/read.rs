//! Reading what the manifest records from the domain: once just before the create, once when
//! the snapshot is SUCCESS.

use std::collections::BTreeMap;
use std::time::SystemTime;

use policy::indices::IndexSelection;
use snapshot_api::indices::{CatIndex, IndicesByName};
use snapshot_api::snapshot::SnapshotInfo;
use snapshot_api::{ApiError, SnapshotApi};

use super::fingerprint::{mapping_fingerprint, settings_fingerprint};
use super::{AliasRecord, Completion, FORMAT, IndexRecord, Manifest, data_streams};
use crate::name_batches;

/// Indices per `GET <indices>` (the request line stays within 4 KB).
const DESCRIBE_BATCH: usize = 100;

/// The first reading, just before the create: every index on the domain that `selection`
/// picks, with its count, size, fingerprints and aliases.
pub async fn record_before(
    api: &SnapshotApi,
    repository: &str,
    snapshot: &str,
    selection: &IndexSelection,
    now: SystemTime,
) -> Result<Manifest, ApiError> {
    let engine = api.engine().await?;
    let rows = api.cat_indices(None).await?;
    let selected: Vec<&CatIndex> = rows
        .iter()
        .filter(|r| selection.matches(&r.index))
        .collect();
    let names: Vec<&str> = selected.iter().map(|r| r.index.as_str()).collect();
    let described = describe(api, &names).await?;
    let indices = selected
        .into_iter()
        .map(|row| {
            let description = described.get(&row.index);
            let record = IndexRecord {
                docs_before: open_count(row),
                docs_after: None,
                primary_store_bytes: row.pri_store_size,
                primary_shards: row.pri,
                mapping_sha256: description.map(|d| mapping_fingerprint(&d.mappings)),
                settings_sha256: description.map(|d| settings_fingerprint(&d.settings)),
                aliases: description
                    .map(|d| {
                        d.aliases
                            .iter()
                            .map(|(name, alias)| {
                                (
                                    name.clone(),
                                    AliasRecord {
                                        is_write_index: alias.is_write_index,
                                    },
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            (row.index.clone(), record)
        })
        .collect();
    Ok(Manifest {
        format: FORMAT.to_owned(),
        repository: repository.to_owned(),
        snapshot: snapshot.to_owned(),
        engine: engine.to_string(),
        counted_before_millis: millis(now),
        completed: None,
        indices,
        data_streams: BTreeMap::new(),
        last_drill: None,
    })
}

/// The second reading, once the snapshot is SUCCESS: the counts of exactly the snapshot's
/// indices (an index in the first reading that the snapshot does not hold is dropped; one
/// created between the reading and the create is added, with no first count), and its data
/// streams.
pub async fn complete(
    api: &SnapshotApi,
    manifest: &mut Manifest,
    info: &SnapshotInfo,
    now: SystemTime,
) -> Result<(), ApiError> {
    let rows = api.cat_indices(None).await?;
    let by_name: BTreeMap<&str, &CatIndex> = rows.iter().map(|r| (r.index.as_str(), r)).collect();
    manifest
        .indices
        .retain(|name, _| info.indices.iter().any(|i| i == name));
    for index in &info.indices {
        let row = by_name.get(index.as_str());
        let record = manifest.indices.entry(index.clone()).or_default();
        record.docs_after = row.and_then(|r| open_count(r));
        if record.primary_shards.is_none() {
            record.primary_shards = row.and_then(|r| r.pri);
        }
    }
    manifest.data_streams = data_streams(&info.data_streams, &info.indices);
    manifest.completed = Some(Completion {
        counted_after_millis: millis(now),
        snapshot_uuid: info.uuid.clone(),
        state: info
            .state
            .as_ref()
            .map_or("IN_PROGRESS", |s| s.as_str())
            .to_owned(),
    });
    Ok(())
}

/// An open index's `docs.count`; a closed one's is not known (`_cat/indices` shows none).
fn open_count(row: &CatIndex) -> Option<u64> {
    row.is_open().then_some(row.docs_count).flatten()
}

/// `GET <indices>` in batches: each index's aliases, mappings and settings.
pub(crate) async fn describe(api: &SnapshotApi, names: &[&str]) -> Result<IndicesByName, ApiError> {
    let mut all = IndicesByName::new();
    let room = name_batches::room(&[], "");
    for batch in name_batches::batches(names, DESCRIBE_BATCH, room, name_batches::encoded_len) {
        all.extend(api.get_indices(batch).await?);
    }
    Ok(all)
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
