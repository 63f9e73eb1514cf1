//! `check: drill`: proves a snapshot restorable by restoring a sample of it, judging each copy
//! against the snapshot's manifest, and deleting the copies.
//!
//! A drill is two calls and a loop, so no function waits: `drill_phase: start` restores the sample
//! under the drill's prefix (no aliases, no replicas) with the restore's own rules and
//! checks; `drill_phase: check`, sent after a Wait until the answer is `done`, follows the
//! recoveries and, once every copy has recovered or failed, judges them (count, mapping and
//! settings fingerprints) and deletes them.
//!
//! What a drill deletes is worked out again on every call from the snapshot, never read from
//! the event: the sample's names with the prefix, and of those only each index whose every
//! primary shard the domain restored from this repository, this snapshot and the index of
//! the same name in it. An index that merely carries a drill name is left alone, and so is a
//! copy whose restore failed (nothing shows it is the drill's; its failure can be read
//! there). The verdict is written into the manifest before anything is deleted, so a check
//! repeated after the delete answers the same verdict instead of finding the copies gone.

use std::collections::{BTreeMap, BTreeSet};

use policy::indices::{IndexSelection, backing_stream, is_system_index};
use policy::time::UtcDateTime;
use serde_json::{Map, Value, json};
use snapshot_api::SnapshotApi;
use snapshot_api::indices::CatIndex;
use snapshot_api::snapshot::{SnapshotInfo, SnapshotState};

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::bounded::{Bounded, SAMPLE};
use crate::context::Context;
use crate::contract::Target;
use crate::manifest::fingerprint::{mapping_fingerprint, settings_fingerprint};
use crate::manifest::judge::{CountVerdict, judge_count};
use crate::manifest::{DrillRecord, Manifest, ManifestStore};
use crate::name_batches;
use crate::requests::{
    DrillDay, DrillPhase, DrillReport, DrillRequest, DrillSample, OnConflict, RestoreRequest,
    RestoreSelection, RestoredIndex, ShardCounts, VerifyRequest, VerifyResponse,
};

/// The longest index name the engine accepts, in bytes (`MetadataCreateIndexService`).
const MAX_INDEX_NAME_BYTES: usize = 255;

pub(super) async fn drill(
    ctx: &Context,
    request: &VerifyRequest,
    target: &Target,
) -> Result<VerifyResponse, OsnapError> {
    let spec = request.drill.clone().unwrap_or_else(|| DrillRequest {
        sample: DrillSample::default(),
        prefix: crate::requests::DEFAULT_DRILL_PREFIX.to_owned(),
        domain: None,
        on: DrillDay::default(),
    });
    let phase = request.drill_phase;
    if phase == DrillPhase::Done {
        // An answer's phase, never a request's: a drill that is over has nothing left to do,
        // and starting a new one from it would restore again.
        return Err(OsnapError::invalid(
            "drill_phase \"done\" is what an answer says when the drill is over: send \
             \"start\" to begin a drill, \"check\" to follow one",
        ));
    }
    check_prefix(&spec.prefix)?;
    let place = Target {
        domain: spec.domain.clone().unwrap_or_else(|| target.domain.clone()),
        repository: target.repository.clone(),
        event_time: target.event_time,
    };
    let host = crate::contract::host_of(&place.domain.endpoint);
    if phase == DrillPhase::Start && !is_due(spec.on, UtcDateTime::from_system_time(ctx.now())) {
        return Ok(not_due(request, &spec, &host));
    }
    let repository = place.repository.as_str();
    let api = ctx.api(&place).await?;
    let name = resolve(&api, repository, request, phase).await?;
    let subject = Subject {
        repository,
        snapshot: Some(&name),
    };
    let info = api
        .get_snapshot(repository, &name)
        .await
        .map_err(|e| from_api(e, subject))?;
    if info.state != Some(SnapshotState::Success) {
        return Err(OsnapError::invalid(format!(
            "snapshot `{}` is {}: a drill restores only a SUCCESS snapshot",
            policy::quote::short(&name),
            info.state.as_ref().map_or("IN_PROGRESS", |s| s.as_str())
        )));
    }
    let (manifest, store) = match super::manifest_of(ctx, &place, &info).await {
        Ok((manifest, store)) => (Ok(manifest), Some(store)),
        Err(why) => (Err(why), None),
    };
    let sample = choose(&spec.sample, &info, manifest.as_ref().ok())?;
    if sample.is_empty() {
        return Err(OsnapError::invalid(format!(
            "the drill's sample selects none of snapshot `{}`'s indices (system indices and \
             data streams' backing indices are never drilled)",
            policy::quote::short(&name)
        )));
    }
    let selection = drill_selection(&name, &sample, &spec.prefix);
    let pairs = crate::restore::targets(&selection, &info)?;
    for pair in &pairs {
        if pair.to.len() > MAX_INDEX_NAME_BYTES {
            return Err(OsnapError::invalid(format!(
                "the drill's copy of `{}` would be named past {MAX_INDEX_NAME_BYTES} bytes: \
                 choose a shorter prefix",
                policy::quote::short(&pair.from)
            )));
        }
    }
    let report = Report {
        host,
        prefix: spec.prefix.clone(),
        sample,
    };
    match phase {
        DrillPhase::Start | DrillPhase::Done => {
            let cluster = api
                .cat_indices(None)
                .await
                .map_err(|e| from_api(e, subject))?;
            check_prefix_free(&cluster, &pairs, &spec.prefix)?;
            start(ctx, &place, &name, &report.sample, &spec.prefix).await?;
            Ok(report.restoring(repository, &name, &pairs, Vec::new()))
        }
        DrillPhase::Check => {
            check(
                &api,
                repository,
                &name,
                &pairs,
                manifest,
                store.as_ref(),
                report,
            )
            .await
        }
    }
}

/// What every answer of one drill repeats.
struct Report {
    host: String,
    prefix: String,
    sample: Vec<String>,
}

impl Report {
    fn answer(
        &self,
        repository: &str,
        snapshot: &str,
        state: &str,
        phase: DrillPhase,
        outcome: Outcome,
    ) -> VerifyResponse {
        let done = phase == DrillPhase::Done;
        let ok = done && outcome.failed.is_empty() && outcome.kept.is_empty();
        let failures: Vec<String> = outcome
            .failed
            .iter()
            .map(|(i, why)| format!("{i}: {why}"))
            .collect();
        let mut results = failures.clone();
        results.extend(outcome.passed.iter().map(|(i, why)| format!("{i}: {why}")));
        results.extend(outcome.pending.iter().cloned());
        let names = |v: &[(String, String)]| v.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>();
        VerifyResponse {
            repository: repository.to_owned(),
            snapshot: snapshot.to_owned(),
            state: state.to_owned(),
            done,
            ok,
            indices: Bounded::from_slice(&self.sample),
            // Indices, not shards: the drill's progress is its sample judged.
            shards: ShardCounts {
                total: self.sample.len() as u64,
                successful: outcome.passed.len() as u64,
                failed: outcome.failed.len() as u64,
            },
            failure_count: failures.len(),
            failures: super::capped(failures),
            age_seconds: None,
            duration_millis: None,
            manifest: None,
            counts: None,
            index_bytes: None,
            drill: Some(DrillReport {
                phase,
                domain: self.host.clone(),
                prefix: self.prefix.clone(),
                sample: Bounded::from_slice(&self.sample),
                passed: Bounded::from_slice(&names(&outcome.passed)),
                failed: Bounded::from_slice(&names(&outcome.failed)),
                deleted: Bounded::from_slice(&outcome.deleted),
                kept: Bounded::from_slice(&outcome.kept),
                results: results
                    .iter()
                    .take(SAMPLE)
                    .map(|r| policy::quote::short(r))
                    .collect(),
            }),
        }
    }

    fn restoring(
        &self,
        repository: &str,
        snapshot: &str,
        pairs: &[RestoredIndex],
        pending: Vec<String>,
    ) -> VerifyResponse {
        let pending = if pending.is_empty() {
            pairs
                .iter()
                .map(|p| format!("{}: restoring as {}", p.from, p.to))
                .collect()
        } else {
            pending
        };
        self.answer(
            repository,
            snapshot,
            "DRILL_RESTORING",
            DrillPhase::Check,
            Outcome {
                pending,
                ..Outcome::default()
            },
        )
    }
}

#[derive(Debug, Default)]
struct Outcome {
    passed: Vec<(String, String)>,
    failed: Vec<(String, String)>,
    deleted: Vec<String>,
    kept: Vec<String>,
    pending: Vec<String>,
}

fn not_due(request: &VerifyRequest, spec: &DrillRequest, host: &str) -> VerifyResponse {
    let report = Report {
        host: host.to_owned(),
        prefix: spec.prefix.clone(),
        sample: Vec::new(),
    };
    let mut answer = report.answer(
        request.repository.as_deref().unwrap_or_default(),
        &request.snapshot,
        "NOT_DUE",
        DrillPhase::Done,
        Outcome::default(),
    );
    answer.ok = true;
    answer
}

/// Whether a run on `date` drills.
pub(crate) fn is_due(on: DrillDay, date: UtcDateTime) -> bool {
    // 1970-01-01 was a Thursday.
    let days = date.to_system_time().map_or(0, |t| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 86_400)
    });
    let weekday = (days + 4) % 7; // 0: Sunday
    match on {
        DrillDay::Always | DrillDay::Daily => true,
        DrillDay::Monthly => date.day == 1,
        DrillDay::Sunday => weekday == 0,
        DrillDay::Monday => weekday == 1,
        DrillDay::Tuesday => weekday == 2,
        DrillDay::Wednesday => weekday == 3,
        DrillDay::Thursday => weekday == 4,
        DrillDay::Friday => weekday == 5,
        DrillDay::Saturday => weekday == 6,
    }
}

/// A prefix that can only name drill copies: non-empty, a valid start of an index name, and
/// nothing the rename would read as a group.
fn check_prefix(prefix: &str) -> Result<(), OsnapError> {
    let valid = !prefix.is_empty()
        && prefix.len() <= 64
        && !prefix.starts_with(['.', '_', '-', '+'])
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(OsnapError::invalid(format!(
            "drill prefix `{}` must be 1 to 64 of a-z, 0-9, `-`, `_`, `.`, not starting with \
             `.`, `_`, `-` or `+`",
            policy::quote::short(prefix)
        )))
    }
}

/// The prefix is the drill's own: an index under it that is not one of this drill's copies
/// (a copy from an earlier drill whose restore failed, an index named so by hand) stops the
/// drill before anything is restored. A copy of this drill's, from a start repeated after
/// its answer was lost, is the restore's to judge (its own, or a conflict).
fn check_prefix_free(
    cluster: &[CatIndex],
    pairs: &[RestoredIndex],
    prefix: &str,
) -> Result<(), OsnapError> {
    let copies: BTreeSet<&str> = pairs.iter().map(|p| p.to.as_str()).collect();
    let others: Vec<&str> = cluster
        .iter()
        .map(|row| row.index.as_str())
        .filter(|i| i.starts_with(prefix) && !copies.contains(i))
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    Err(OsnapError::UnsafeOperation {
        reason: format!(
            "{} indices already use the drill prefix `{}` ({}): the drill deletes only its \
             own copies, so the prefix must be free; delete or rename them, or choose another \
             prefix",
            others.len(),
            policy::quote::short(prefix),
            others
                .iter()
                .take(SAMPLE)
                .map(|i| policy::quote::short(i))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The snapshot a drill is about: `latest` is resolved when it starts; a check needs the
/// name the start answered.
async fn resolve(
    api: &SnapshotApi,
    repository: &str,
    request: &VerifyRequest,
    phase: DrillPhase,
) -> Result<String, OsnapError> {
    if request.snapshot != "latest" {
        return Ok(request.snapshot.clone());
    }
    if phase == DrillPhase::Check {
        return Err(OsnapError::invalid(
            "a drill's check needs the snapshot's name (its start answered it), not `latest`",
        ));
    }
    crate::listing::newest_name(
        api,
        repository,
        &request.name_pattern,
        "successful snapshot",
        |s| *s == SnapshotState::Success,
    )
    .await
}

/// The snapshot's indices the sample takes, sorted by name: never a system index, never a
/// data stream's backing index (a stream restores as a whole, under its own name).
pub(crate) fn choose(
    sample: &DrillSample,
    info: &SnapshotInfo,
    manifest: Option<&Manifest>,
) -> Result<Vec<String>, OsnapError> {
    let mut candidates: Vec<&String> = info
        .indices
        .iter()
        .filter(|i| !is_system_index(i) && !i.starts_with('.') && backing_stream(i).is_none())
        .collect();
    candidates.sort();
    let mut chosen: Vec<String> = match sample {
        DrillSample::All => candidates.into_iter().cloned().collect(),
        DrillSample::Indices(patterns) => {
            if patterns.is_empty() {
                return Err(OsnapError::invalid("drill sample `indices` names no index"));
            }
            let selection = IndexSelection::new(patterns);
            candidates
                .into_iter()
                .filter(|i| selection.matches(i))
                .cloned()
                .collect()
        }
        DrillSample::Random(n) => {
            let seed = info.uuid.as_deref().unwrap_or(&info.snapshot);
            let mut keyed: Vec<(u64, &String)> =
                candidates.into_iter().map(|i| (draw(seed, i), i)).collect();
            keyed.sort();
            keyed.into_iter().take(*n).map(|(_, i)| i.clone()).collect()
        }
        DrillSample::Largest(n) => {
            let size = |i: &str| {
                manifest
                    .and_then(|m| m.indices.get(i))
                    .and_then(|r| r.primary_store_bytes)
                    .unwrap_or(0)
            };
            candidates.sort_by(|a, b| size(b).cmp(&size(a)).then(a.cmp(b)));
            candidates.into_iter().take(*n).cloned().collect()
        }
    };
    if matches!(sample, DrillSample::Random(0) | DrillSample::Largest(0)) {
        return Err(OsnapError::invalid(
            "a drill sample of 0 indices drills nothing",
        ));
    }
    chosen.sort();
    Ok(chosen)
}

/// A stable draw for `index` under `seed`: the first eight bytes of a SHA-256, the same on
/// every platform and release.
fn draw(seed: &str, index: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{seed}\n{index}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The restore a drill makes: the sample's indices by name, each under the prefix.
fn drill_selection(snapshot: &str, sample: &[String], prefix: &str) -> RestoreSelection {
    RestoreSelection {
        snapshot: snapshot.to_owned(),
        indices: Some(sample.to_vec()),
        on_conflict: OnConflict::Rename,
        rename_pattern: Some("^(.+)$".to_owned()),
        rename_replacement: Some(format!("{prefix}$1")),
    }
}

/// Restores the sample with the restore's own plan and checks: a drill name already taken by
/// an index the snapshot did not restore is a conflict, and nothing is restored.
async fn start(
    ctx: &Context,
    place: &Target,
    snapshot: &str,
    sample: &[String],
    prefix: &str,
) -> Result<(), OsnapError> {
    let selection = drill_selection(snapshot, sample, prefix);
    let mut settings = Map::new();
    settings.insert("index.number_of_replicas".into(), json!(0));
    let request = RestoreRequest {
        domain: None,
        repository: None,
        snapshot: snapshot.to_owned(),
        name_pattern: "*".to_owned(),
        indices: selection.indices,
        on_conflict: selection.on_conflict,
        rename_pattern: selection.rename_pattern,
        rename_replacement: selection.rename_replacement,
        include_aliases: Some(false),
        include_global_state: false,
        index_settings: Some(settings),
        ignore_index_settings: None,
        partial: false,
        dry_run: false,
        source: None,
    };
    let started = crate::restore::restore(ctx, &request, place).await?;
    tracing::info!(
        snapshot,
        restored = started.restored.count,
        already = started.already_restoring.count,
        "drill restore started"
    );
    Ok(())
}

/// Where each drill copy stands.
#[derive(Debug, Default)]
struct Standing {
    /// Restored from this snapshot, and recovered.
    recovered: Vec<RestoredIndex>,
    /// Restored from this snapshot, still recovering: `from: stage`.
    recovering: Vec<String>,
    /// A primary the domain could not restore: `(from, to, why)`.
    restore_failed: Vec<(String, String, String)>,
    /// Allocated by nothing yet, after the restore created it.
    allocating: Vec<String>,
    /// An index with the drill's name that this snapshot did not restore.
    foreign: Vec<RestoredIndex>,
    missing: Vec<RestoredIndex>,
}

async fn stand(
    api: &SnapshotApi,
    repository: &str,
    snapshot: &str,
    pairs: &[RestoredIndex],
    cluster: &BTreeMap<String, CatIndex>,
) -> Result<Standing, snapshot_api::ApiError> {
    let mut standing = Standing::default();
    let present: Vec<&RestoredIndex> = pairs
        .iter()
        .filter(|p| {
            let here = cluster.contains_key(&p.to);
            if !here {
                standing.missing.push((*p).clone());
            }
            here
        })
        .collect();
    let names: Vec<&str> = present.iter().map(|p| p.to.as_str()).collect();
    let room = name_batches::room(&[], crate::restore::RECOVERY_PATH_AND_QUERY);
    let mut recoveries = snapshot_api::recovery::RecoveryByIndex::new();
    let mut shards = Vec::new();
    for batch in name_batches::batches(
        &names,
        crate::restore::RECOVERY_BATCH,
        room,
        name_batches::encoded_len,
    ) {
        recoveries.extend(api.recovery_of_existing(batch).await?);
        shards.extend(api.cat_shards(batch).await?);
    }
    for pair in present {
        let shards_of = recoveries
            .get(&pair.to)
            .map_or(&[][..], |r| r.shards.as_slice());
        let primaries: Vec<_> = shards_of.iter().filter(|s| s.primary).collect();
        let from_this_snapshot =
            crate::restore::restored_from_snapshot(shards_of, repository, snapshot, &pair.from);
        let failed = shards
            .iter()
            .find(|s| s.index == pair.to && s.is_failed_primary());
        if let Some(failed) = failed {
            let why = failed.failure_cause();
            standing
                .restore_failed
                .push((pair.from.clone(), pair.to.clone(), why));
        } else if from_this_snapshot {
            let pending: Vec<String> = primaries
                .iter()
                .filter(|s| !s.is_done())
                .map(|s| format!("{}[{}]: {}", pair.from, s.id, s.stage))
                .collect();
            if pending.is_empty() {
                standing.recovered.push(pair.clone());
            } else {
                standing.recovering.extend(pending);
            }
        } else if primaries.is_empty()
            && shards
                .iter()
                .any(|s| s.index == pair.to && s.prirep == "p" && s.state != "STARTED")
        {
            standing.allocating.push(pair.from.clone());
        } else {
            standing.foreign.push(pair.clone());
        }
    }
    Ok(standing)
}

async fn check(
    api: &SnapshotApi,
    repository: &str,
    snapshot: &str,
    pairs: &[RestoredIndex],
    manifest: Result<Manifest, String>,
    store: Option<&ManifestStore>,
    report: Report,
) -> Result<VerifyResponse, OsnapError> {
    let subject = Subject {
        repository,
        snapshot: Some(snapshot),
    };
    let cluster = index_listing(api).await.map_err(|e| from_api(e, subject))?;
    let standing = stand(api, repository, snapshot, pairs, &cluster)
        .await
        .map_err(|e| from_api(e, subject))?;
    // Every copy gone: a check repeated after this drill's own delete answers its verdict.
    if standing.missing.len() == pairs.len()
        && let Ok(manifest) = &manifest
        && let Some(record) = &manifest.last_drill
        && record.prefix == report.prefix
        && record.sample == report.sample
    {
        return Ok(report.answer(
            repository,
            snapshot,
            if record.failed.is_empty() {
                "DRILL_PASSED"
            } else {
                "DRILL_FAILED"
            },
            DrillPhase::Done,
            Outcome {
                passed: record
                    .passed
                    .iter()
                    .map(|i| (i.clone(), "passed (recorded)".into()))
                    .collect(),
                failed: record.failed.clone().into_iter().collect(),
                deleted: record.deleted.clone(),
                kept: record.kept.clone(),
                pending: Vec::new(),
            },
        ));
    }
    if !standing.recovering.is_empty() || !standing.allocating.is_empty() {
        let mut pending = standing.recovering;
        pending.extend(
            standing
                .allocating
                .iter()
                .map(|i| format!("{i}: waiting for a node")),
        );
        return Ok(report.restoring(repository, snapshot, pairs, pending));
    }
    let mut outcome = Outcome::default();
    for (from, to, why) in &standing.restore_failed {
        outcome.failed.push((
            from.clone(),
            format!("the restore of its copy `{to}` failed: {why}"),
        ));
        outcome.kept.push(to.clone());
    }
    for pair in &standing.foreign {
        outcome.failed.push((
            pair.from.clone(),
            format!(
                "`{}` exists but was not restored from this snapshot: left alone",
                pair.to
            ),
        ));
    }
    for pair in &standing.missing {
        outcome.failed.push((
            pair.from.clone(),
            format!(
                "its copy `{}` is missing (deleted during the drill?)",
                pair.to
            ),
        ));
    }
    let recovered: Vec<&str> = standing.recovered.iter().map(|p| p.to.as_str()).collect();
    // The listing was read before the recoveries: a copy that recovered in between has no
    // count in it (`_cat/indices` leaves `docs.count` empty until the primaries are active).
    let cluster = if recovered.is_empty() {
        cluster
    } else {
        index_listing(api).await.map_err(|e| from_api(e, subject))?
    };
    let described = crate::manifest::describe(api, &recovered)
        .await
        .map_err(|e| from_api(e, subject))?;
    let engine = api
        .engine()
        .await
        .map_err(|e| from_api(e, subject))?
        .to_string();
    for pair in &standing.recovered {
        let count = cluster
            .get(&pair.to)
            .and_then(|row| row.is_open().then_some(row.docs_count).flatten());
        let verdict = judge_copy(
            manifest.as_ref().map_err(String::as_str),
            &engine,
            &pair.from,
            count,
            described.get(&pair.to).map(|d| (&d.mappings, &d.settings)),
        );
        match verdict {
            Ok(why) => outcome.passed.push((pair.from.clone(), why)),
            Err(why) => outcome.failed.push((pair.from.clone(), why)),
        }
    }
    outcome.failed.sort();
    // The verdict is recorded before the copies go.
    if let (Ok(mut manifest), Some(store)) = (manifest, store) {
        manifest.last_drill = Some(DrillRecord {
            domain: report.host.clone(),
            prefix: report.prefix.clone(),
            sample: report.sample.clone(),
            passed: outcome.passed.iter().map(|(i, _)| i.clone()).collect(),
            failed: outcome.failed.iter().cloned().collect(),
            deleted: recovered.iter().map(|s| (*s).to_owned()).collect(),
            kept: outcome.kept.clone(),
        });
        if let Err(error) = store.put(&manifest).await {
            tracing::warn!(%error, "the drill's verdict could not be recorded in the manifest");
        }
    }
    outcome.deleted = delete_own(api, &standing.recovered, &report.prefix)
        .await
        .map_err(|e| from_api(e, subject))?;
    let state = if outcome.failed.is_empty() && outcome.kept.is_empty() {
        "DRILL_PASSED"
    } else {
        "DRILL_FAILED"
    };
    tracing::info!(snapshot, state, passed = outcome.passed.len(), failed = ?outcome.failed,
        deleted = ?outcome.deleted, kept = ?outcome.kept, "drill judged");
    Ok(report.answer(repository, snapshot, state, DrillPhase::Done, outcome))
}

/// The cluster's indices by name.
async fn index_listing(
    api: &SnapshotApi,
) -> Result<BTreeMap<String, CatIndex>, snapshot_api::ApiError> {
    Ok(api
        .cat_indices(None)
        .await?
        .into_iter()
        .map(|row| (row.index.clone(), row))
        .collect())
}

/// One recovered copy against the manifest's record of its index: its count (exact, or
/// within the snapshot's interval) and, on the engine that took the snapshot, its mapping
/// and settings fingerprints.
fn judge_copy(
    manifest: Result<&Manifest, &str>,
    engine: &str,
    from: &str,
    count: Option<u64>,
    described: Option<(&Value, &Value)>,
) -> Result<String, String> {
    let manifest = manifest.map_err(|why| format!("no manifest to judge by: {why}"))?;
    let record = manifest.indices.get(from);
    let (verdict, why) = judge_count(record, count);
    if !matches!(verdict, CountVerdict::Exact | CountVerdict::WithinInterval) {
        return Err(why);
    }
    let Some(record) = record else {
        return Err(why);
    };
    if manifest.engine != engine {
        return Ok(format!(
            "{why}; fingerprints not compared ({engine} here, {} took the snapshot)",
            manifest.engine
        ));
    }
    let Some((mappings, settings)) = described else {
        return Err(format!("{why}; its copy could not be described"));
    };
    if record
        .mapping_sha256
        .as_deref()
        .is_some_and(|m| m != mapping_fingerprint(mappings))
    {
        return Err(format!(
            "{why}; but its mappings differ from the manifest's"
        ));
    }
    if record
        .settings_sha256
        .as_deref()
        .is_some_and(|s| s != settings_fingerprint(settings))
    {
        return Err(format!(
            "{why}; but its settings differ from the manifest's"
        ));
    }
    Ok(format!("{why}; mappings and settings as recorded"))
}

/// Deletes the recovered copies, each checked again to carry the prefix and to be no system
/// index, by name in batches within the request line.
async fn delete_own(
    api: &SnapshotApi,
    recovered: &[RestoredIndex],
    prefix: &str,
) -> Result<Vec<String>, snapshot_api::ApiError> {
    let own: BTreeSet<&str> = recovered
        .iter()
        .filter(|p| p.to.starts_with(prefix) && p.to != p.from && !is_system_index(&p.to))
        .map(|p| p.to.as_str())
        .collect();
    let names: Vec<&str> = own.into_iter().collect();
    let room = name_batches::room(&[], "");
    for batch in name_batches::batches(
        &names,
        crate::restore::RECOVERY_BATCH,
        room,
        name_batches::encoded_len,
    ) {
        api.delete_indices(batch).await?;
    }
    tracing::info!(deleted = ?names, "drill copies deleted");
    Ok(names.into_iter().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(indices: &[&str]) -> SnapshotInfo {
        serde_json::from_value(json!({
            "snapshot": "nightly-1", "uuid": "u-1", "state": "SUCCESS",
            "indices": indices,
        }))
        .unwrap()
    }

    #[test]
    fn a_sample_never_takes_system_or_backing_indices_and_draws_the_same_each_time() {
        let snapshot = info(&[
            ".kibana_1",
            ".ds-app-000001",
            "logs-1",
            "logs-2",
            "orders",
            "users",
        ]);
        assert_eq!(
            choose(&DrillSample::All, &snapshot, None).unwrap(),
            ["logs-1", "logs-2", "orders", "users"]
        );
        let first = choose(&DrillSample::Random(2), &snapshot, None).unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(
            choose(&DrillSample::Random(2), &snapshot, None).unwrap(),
            first
        );
        assert_eq!(
            choose(
                &DrillSample::Indices(vec!["logs-*".into()]),
                &snapshot,
                None
            )
            .unwrap(),
            ["logs-1", "logs-2"]
        );
        assert!(choose(&DrillSample::Random(0), &snapshot, None).is_err());
    }

    #[test]
    fn the_largest_are_read_from_the_manifest() {
        let snapshot = info(&["a", "b", "c"]);
        let mut manifest: Manifest = serde_json::from_value(json!({
            "format": "osnap-manifest/1", "repository": "r", "snapshot": "nightly-1",
            "engine": "OpenSearch 2.13.0", "counted_before_millis": 1, "indices": {}
        }))
        .unwrap();
        for (name, bytes) in [("a", 10), ("b", 30), ("c", 20)] {
            manifest.indices.insert(
                name.into(),
                crate::manifest::IndexRecord {
                    primary_store_bytes: Some(bytes),
                    ..Default::default()
                },
            );
        }
        assert_eq!(
            choose(&DrillSample::Largest(2), &snapshot, Some(&manifest)).unwrap(),
            ["b", "c"]
        );
    }

    #[test]
    fn prefixes_that_could_name_a_live_or_system_index_are_refused() {
        for bad in [
            "", ".drill-", "-x", "_x", "+x", "Drill-", "drill$1", "a/b", "drill *",
        ] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
        check_prefix("osnap-drill-").unwrap();
    }

    #[test]
    fn days_are_read_from_the_utc_date() {
        // 2026-11-29 was a Sunday, 2026-12-01 a Tuesday.
        let sunday = UtcDateTime::from_unix_seconds(1_795_910_400);
        assert_eq!((sunday.year, sunday.month, sunday.day), (2026, 11, 29));
        assert!(is_due(DrillDay::Sunday, sunday));
        assert!(!is_due(DrillDay::Monday, sunday));
        let first = UtcDateTime::from_unix_seconds(1_795_910_400 + 2 * 86_400);
        assert!(is_due(DrillDay::Monthly, first) && is_due(DrillDay::Tuesday, first));
        assert!(!is_due(DrillDay::Monthly, sunday));
        assert!(is_due(DrillDay::Always, sunday) && is_due(DrillDay::Daily, first));
    }
}
