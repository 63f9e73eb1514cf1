//! verify: a snapshot's true state, or a restore's progress. One poll is one cheap call, so a
//! Step Functions loop can call it every few seconds; `done` says when to stop polling and
//! `ok` whether the outcome is good.
//!
//! The first check that sees a snapshot SUCCESS completes its manifest with the counts read
//! then (`crate::manifest`); `check: counts` judges restored copies against the manifest.

use std::time::{Duration, SystemTime};

use policy::duration::{format_duration, parse_duration};
use policy::indices::glob_match;
use serde_json::Value;
use snapshot_api::recovery::RecoveryByIndex;
use snapshot_api::snapshot::{SnapshotInfo, SnapshotState};
use snapshot_api::{ApiError, SnapshotApi};

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::bounded::{Bounded, SAMPLE};
use crate::context::Context;
use crate::contract::{Target, parse_event};
use crate::listing::{newest_name, time_of_millis};
use crate::manifest::{self, Lookup, ManifestStore, StoreMissing};
use crate::name_batches;
use crate::requests::{
    DEFAULT_LATEST_MAX_AGE, ManifestNote, ShardCounts, VerifyCheck, VerifyRequest, VerifyResponse,
};

mod counts;
mod drill;

/// Handles one `verify` event.
pub async fn handle(ctx: Context, event: Value) -> Result<VerifyResponse, OsnapError> {
    let (request, target) = parse_event::<VerifyRequest>(event, &ctx.defaults)?;
    verify(&ctx, &request, &target).await
}

pub async fn verify(
    ctx: &Context,
    request: &VerifyRequest,
    target: &Target,
) -> Result<VerifyResponse, OsnapError> {
    let latest = request.check == VerifyCheck::Snapshot && request.snapshot == "latest";
    let max_age = request
        .max_age
        .as_deref()
        .or(latest.then_some(DEFAULT_LATEST_MAX_AGE))
        .map(parse_duration)
        .transpose()
        .map_err(|e| OsnapError::invalid(e.to_string()))?;
    let response = match request.check {
        VerifyCheck::Snapshot => verify_snapshot(ctx, request, target, max_age).await?,
        VerifyCheck::Restore => verify_restore(ctx, request, target).await?,
        VerifyCheck::Counts => verify_counts(ctx, request, target).await?,
        VerifyCheck::Drill => drill::drill(ctx, request, target).await?,
    };
    if request.raise_on_failure && response.done && !response.ok {
        return Err(failure_error(&response, max_age));
    }
    Ok(response)
}

async fn verify_snapshot(
    ctx: &Context,
    request: &VerifyRequest,
    target: &Target,
    max_age: Option<Duration>,
) -> Result<VerifyResponse, OsnapError> {
    let repository = target.repository.as_str();
    let api = ctx.api(target).await?;
    let info = if request.snapshot == "latest" {
        let latest = newest_name(&api, repository, &request.name_pattern, "snapshot", |_| {
            true
        })
        .await?;
        fetch(&api, repository, &latest).await?
    } else {
        fetch(&api, repository, &request.snapshot).await?
    };
    let mut verdict = judge_snapshot(
        repository,
        &info,
        &request.expect_indices,
        max_age,
        ctx.now(),
    );
    if info.state == Some(SnapshotState::Success) {
        let (note, index_bytes) = complete_manifest(ctx, target, &api, &info).await;
        verdict.manifest = Some(note);
        verdict.index_bytes = index_bytes;
    }
    Ok(verdict)
}

/// Completes the snapshot's manifest with the counts read now, the first time it is seen
/// SUCCESS, and answers the primaries' store size of the indices it records, that time
/// only. Never fails the check: the answer says what became of it.
async fn complete_manifest(
    ctx: &Context,
    target: &Target,
    api: &SnapshotApi,
    info: &SnapshotInfo,
) -> (ManifestNote, Option<u64>) {
    let (mut found, store) = match manifest_of(ctx, target, info).await {
        Ok(found) => found,
        Err(why) => return (ManifestNote::not_recorded(&why), None),
    };
    if found.completed.is_some() {
        return (
            ManifestNote::kept(store.location().key(&info.snapshot)),
            None,
        );
    }
    if let Err(error) = manifest::complete(api, &mut found, info, ctx.now()).await {
        let why = format!("the counts after the snapshot could not be read: {error}");
        return (ManifestNote::not_recorded(&why), None);
    }
    match store.put(&found).await {
        Ok(key) => {
            tracing::info!(key, "manifest completed");
            let index_bytes = found
                .indices
                .values()
                .filter_map(|r| r.primary_store_bytes)
                .sum();
            (ManifestNote::written(key), Some(index_bytes))
        }
        Err(error) => {
            let why = format!("the completed manifest could not be written: {error}");
            (ManifestNote::not_recorded(&why), None)
        }
    }
}

async fn fetch(
    api: &SnapshotApi,
    repository: &str,
    snapshot: &str,
) -> Result<SnapshotInfo, OsnapError> {
    api.get_snapshot(repository, snapshot).await.map_err(|e| {
        from_api(
            e,
            Subject {
                repository,
                snapshot: Some(snapshot),
            },
        )
    })
}

/// The verdict on one snapshot (pure, so every rule is tested directly).
pub fn judge_snapshot(
    repository: &str,
    info: &SnapshotInfo,
    expect_indices: &[String],
    max_age: Option<Duration>,
    now: SystemTime,
) -> VerifyResponse {
    let state = info.state.clone().unwrap_or(SnapshotState::InProgress);
    let done = state.is_done();
    // A snapshot that failed as a whole often says why only at the top.
    let mut failures: Vec<String> = info
        .reason
        .iter()
        .map(|reason| format!("snapshot {}: {reason}", state.as_str()))
        .collect();
    failures.extend(info.failures.iter().map(|f| {
        format!(
            "{}[{}]: {}",
            f.index.as_deref().unwrap_or("?"),
            f.shard_id.map_or_else(|| "?".to_owned(), |s| s.to_string()),
            f.reason
                .as_deref()
                .map_or("no reason given", snapshot_api::error::innermost_cause)
        )
    }));
    for pattern in expect_indices {
        if !info.indices.iter().any(|i| glob_match(pattern, i)) {
            failures.push(format!("expected index `{pattern}` is not in the snapshot"));
        }
    }
    // A running snapshot's end time is 0: its age counts from its start.
    let taken =
        time_of_millis(info.end_time_in_millis).or(time_of_millis(info.start_time_in_millis));
    let age = taken.map(|t| now.duration_since(t).unwrap_or_default());
    if let (Some(age), Some(max)) = (age, max_age)
        && age > max
    {
        failures.push(format!(
            "snapshot is {} old, more than {}",
            format_duration(age),
            format_duration(max)
        ));
    }
    let ok = done && state == SnapshotState::Success && failures.is_empty();
    let shards = info.shards.unwrap_or_default();
    VerifyResponse {
        repository: repository.to_owned(),
        snapshot: info.snapshot.clone(),
        state: state.as_str().to_owned(),
        done,
        ok,
        indices: Bounded::from_slice(&info.indices),
        shards: ShardCounts {
            total: shards.total,
            successful: shards.successful,
            failed: shards.failed,
        },
        failure_count: failures.len(),
        failures: capped(failures),
        age_seconds: age.map(|a| a.as_secs()),
        duration_millis: done.then(|| snapshot_duration(info)).flatten(),
        manifest: None,
        counts: None,
        drill: None,
        index_bytes: None,
    }
}

/// A finished snapshot's duration: the domain's own figure, else its end less its start.
fn snapshot_duration(info: &SnapshotInfo) -> Option<u64> {
    info.duration_in_millis.or_else(|| {
        let (start, end) = (info.start_time_in_millis?, info.end_time_in_millis?);
        (end >= start && end > 0).then(|| end - start)
    })
}

async fn verify_restore(
    ctx: &Context,
    request: &VerifyRequest,
    target: &Target,
) -> Result<VerifyResponse, OsnapError> {
    let repository = target.repository.as_str();
    let api = ctx.api(target).await?;
    let indices: Vec<String> = match &request.restore_of {
        Some(selection) => crate::restore::restored_pairs(&api, repository, selection)
            .await?
            .into_iter()
            .map(|pair| pair.to)
            .collect(),
        None => request.indices.clone(),
    };
    let snapshot = request
        .restore_of
        .as_ref()
        .map_or(request.snapshot.as_str(), |s| s.snapshot.as_str());
    if indices.is_empty() {
        return Err(OsnapError::invalid(
            "check \"restore\" needs \"restore_of\" (the restore asked) or \"indices\" (the \
             restored indices to follow)",
        ));
    }
    let names: Vec<&str> = indices.iter().map(String::as_str).collect();
    let room = name_batches::room(&[], "/_recovery");
    let mut recovery = RecoveryByIndex::new();
    for batch in name_batches::batches(
        &names,
        crate::restore::RECOVERY_BATCH,
        room,
        name_batches::encoded_len,
    ) {
        match api.recovery(batch).await {
            Ok(found) => recovery.extend(found),
            // An index the restore has not created yet: not done, not an error.
            Err(ApiError::IndexNotFound { index }) => {
                return Ok(restore_progress(
                    repository,
                    snapshot,
                    &indices,
                    0,
                    0,
                    vec![format!("index `{index}` does not exist yet")],
                ));
            }
            Err(error) => return Err(repository_error(error, repository)),
        }
    }
    let mut total = 0;
    let mut finished = 0;
    let mut pending = Vec::new();
    // The restore took as long as its slowest shard.
    let longest = recovery
        .values()
        .flat_map(|r| r.shards.iter())
        .filter_map(|s| s.total_time_in_millis)
        .max();
    for index in &indices {
        let shards = recovery
            .get(index)
            .map(|r| r.shards.as_slice())
            .unwrap_or_default();
        if shards.is_empty() {
            pending.push(format!("index `{index}` has no recovery yet"));
        }
        total += shards.len() as u64;
        for shard in shards {
            if shard.is_done() {
                finished += 1;
            } else {
                pending.push(format!("{index}[{}]: {}", shard.id, shard.stage));
            }
        }
    }
    let unrecovered: Vec<&str> = indices
        .iter()
        .filter(|i| recovery.get(*i).is_none_or(|r| r.shards.is_empty()))
        .map(String::as_str)
        .collect();
    if let Some(failure) = failed_primaries(&api, repository, &unrecovered).await? {
        // Done, and not ok: waiting longer would change nothing.
        let mut failed = restore_progress(repository, snapshot, &indices, total, finished, vec![]);
        failed.state = RESTORE_FAILED.into();
        failed.ok = false;
        failed.failures = vec![failure];
        failed.failure_count = 1;
        return Ok(failed);
    }
    let mut progress = restore_progress(repository, snapshot, &indices, total, finished, pending);
    if progress.done {
        progress.duration_millis = longest;
    }
    Ok(progress)
}

/// An API failure about `repository` as a whole.
fn repository_error(error: ApiError, repository: &str) -> OsnapError {
    from_api(
        error,
        Subject {
            repository,
            snapshot: None,
        },
    )
}

/// The state a restore whose primaries the domain gave up recovering is reported in.
pub const RESTORE_FAILED: &str = "RESTORE_FAILED";

/// Among indices that have no recovery, the ones whose primaries the domain tried to recover
/// and gave up on (a repository it could not read, a corrupt file): said in a sentence, or
/// `None`. `GET _recovery` lists no shard that is unassigned, so waiting would never end.
async fn failed_primaries(
    api: &SnapshotApi,
    repository: &str,
    indices: &[&str],
) -> Result<Option<String>, OsnapError> {
    let room = name_batches::room(&[], "/_cat/shards");
    let mut failed = Vec::new();
    for batch in name_batches::batches(
        indices,
        crate::restore::RECOVERY_BATCH,
        room,
        name_batches::encoded_len,
    ) {
        let shards = match api.cat_shards(batch).await {
            Ok(shards) => shards,
            // Deleted since its recovery was read: nothing of it is failing.
            Err(ApiError::IndexNotFound { .. }) => continue,
            Err(error) => return Err(repository_error(error, repository)),
        };
        failed.extend(shards.into_iter().filter(|s| s.is_failed_primary()));
    }
    let Some(first) = failed.first() else {
        return Ok(None);
    };
    let mut names: Vec<&str> = failed.iter().map(|s| s.index.as_str()).collect();
    names.dedup();
    let more = match names.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Ok(Some(format!(
        "the domain could not recover the primaries of `{}`{more}: {}; the indices stay red, \
         with no documents. Once the cause is fixed, delete them and restore again",
        policy::quote::short(first.index.as_str()),
        policy::quote::bounded_message(&first.failure_cause()),
    )))
}

async fn verify_counts(
    ctx: &Context,
    request: &VerifyRequest,
    target: &Target,
) -> Result<VerifyResponse, OsnapError> {
    let Some(selection) = &request.restore_of else {
        return Err(OsnapError::invalid(
            "check \"counts\" needs \"restore_of\": the restore asked (snapshot, indices, \
             on_conflict, rename)",
        ));
    };
    let repository = target.repository.as_str();
    let subject = Subject {
        repository,
        snapshot: Some(&selection.snapshot),
    };
    let here = ctx.api(target).await?;
    let restored = crate::restore::restored_pairs(&here, repository, selection).await?;
    let info = fetch(&here, repository, &selection.snapshot).await?;
    let manifest = manifest_of(ctx, target, &info)
        .await
        .map(|(manifest, _)| manifest);
    let found = open_counts(&here).await.map_err(|e| from_api(e, subject))?;
    let source = match &request.source {
        Some(domain) => {
            let there = ctx
                .api(&Target {
                    domain: domain.clone(),
                    repository: target.repository.clone(),
                    event_time: None,
                })
                .await?;
            Some(
                open_counts(&there)
                    .await
                    .map_err(|e| from_api(e, subject))?,
            )
        }
        None => None,
    };
    let pairs: Vec<(&str, &str)> = restored
        .iter()
        .map(|p| (p.from.as_str(), p.to.as_str()))
        .collect();
    let judged = counts::judge(
        &pairs,
        manifest.as_ref().map_err(String::as_str),
        &found,
        source.as_ref(),
    );
    Ok(counts::response(
        repository,
        &selection.snapshot,
        &pairs,
        judged,
    ))
}

/// The manifest of the snapshot `info` describes, with its store, or why there is none (no
/// bucket known, none written, one of an earlier snapshot of that name, unreadable).
pub(crate) async fn manifest_of(
    ctx: &Context,
    target: &Target,
    info: &SnapshotInfo,
) -> Result<(manifest::Manifest, ManifestStore), String> {
    let store = match ManifestStore::of_repository(ctx, target).await {
        Ok(store) => store,
        Err(StoreMissing::NoBucket(why)) => return Err(why),
        Err(StoreMissing::Failed(error)) => {
            return Err(format!(
                "the repository's bucket could not be reached: {error}"
            ));
        }
    };
    match store.get(&info.snapshot).await {
        Ok(Lookup::Found(found)) if found.describes(&info.snapshot, info.uuid.as_deref()) => {
            Ok((*found, store))
        }
        Ok(Lookup::Found(_)) => Err(format!(
            "the manifest at `{}` describes an earlier snapshot of that name",
            store.location().key(&info.snapshot)
        )),
        Ok(Lookup::Missing(why)) => Err(why),
        Err(error) => Err(format!("the manifest could not be read: {error}")),
    }
}

/// Every open index's `docs.count` (`_cat/indices`, one request): a closed index has none,
/// a missing one no row.
async fn open_counts(api: &SnapshotApi) -> Result<counts::Counts, ApiError> {
    Ok(api
        .cat_indices(None)
        .await?
        .into_iter()
        .map(|row| {
            let count = row.is_open().then_some(row.docs_count).flatten();
            (row.index, count)
        })
        .collect())
}

fn restore_progress(
    repository: &str,
    snapshot: &str,
    indices: &[String],
    total: u64,
    finished: u64,
    pending: Vec<String>,
) -> VerifyResponse {
    let done = pending.is_empty();
    VerifyResponse {
        repository: repository.to_owned(),
        snapshot: snapshot.to_owned(),
        state: if done { "DONE" } else { "IN_PROGRESS" }.to_owned(),
        done,
        ok: done,
        indices: Bounded::from_slice(indices),
        shards: ShardCounts {
            total,
            successful: finished,
            failed: 0,
        },
        failure_count: pending.len(),
        failures: capped(pending),
        age_seconds: None,
        duration_millis: None,
        manifest: None,
        counts: None,
        drill: None,
        index_bytes: None,
    }
}

/// The first [`SAMPLE`] of `all`, each quoted short: a response crosses Step Functions (256 KB
/// for a whole state) and lands in notifications. The log has every one.
fn capped(all: Vec<String>) -> Vec<String> {
    if all.len() > SAMPLE {
        for failure in &all {
            tracing::info!(failure = %failure, "verify failure");
        }
    }
    all.iter()
        .take(SAMPLE)
        .map(|f| policy::quote::short(f))
        .collect()
}

fn failure_error(response: &VerifyResponse, max_age: Option<Duration>) -> OsnapError {
    let stale_only = response.state == "SUCCESS"
        && response
            .failures
            .iter()
            .all(|f| f.starts_with("snapshot is "));
    match (stale_only, response.age_seconds, max_age) {
        (true, Some(age), Some(max)) => OsnapError::SnapshotStale {
            snapshot: response.snapshot.clone(),
            age: format_duration(Duration::from_secs(age)),
            max_age: format_duration(max),
        },
        _ => OsnapError::SnapshotFailed {
            snapshot: response.snapshot.clone(),
            state: response.state.clone(),
            detail: if response.failures.is_empty() {
                "no failure detail was reported".to_owned()
            } else {
                response.failures.join("; ")
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use snapshot_api::snapshot::{ShardFailure, ShardStats};

    use super::*;

    const NOW: u64 = 1_795_000_000;

    fn info(state: SnapshotState, end_secs: u64) -> SnapshotInfo {
        serde_json::from_value(serde_json::json!({
            "snapshot": "nightly-1", "indices": ["logs-1", "orders"], "state": state.as_str(),
            "start_time_in_millis": (end_secs - 60) * 1000, "end_time_in_millis": end_secs * 1000,
            "shards": {"total": 2, "successful": 2, "failed": 0}
        }))
        .unwrap()
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn success_that_is_fresh_and_complete_is_ok() {
        let v = judge_snapshot(
            "r",
            &info(SnapshotState::Success, NOW - 3_600),
            &["logs-*".into()],
            Some(Duration::from_secs(26 * 3_600)),
            at(NOW),
        );
        assert!(v.done && v.ok, "{v:?}");
        assert_eq!(v.age_seconds, Some(3_600));
        assert_eq!(v.duration_millis, Some(60_000), "end less start");
        assert_eq!(
            v.shards,
            ShardCounts {
                total: 2,
                successful: 2,
                failed: 0
            }
        );
    }

    #[test]
    fn a_running_snapshot_ages_from_its_start_not_from_its_zero_end() {
        let mut running = info(SnapshotState::InProgress, NOW - 30);
        running.end_time_in_millis = Some(0);
        let v = judge_snapshot(
            "r",
            &running,
            &[],
            Some(Duration::from_secs(3_600)),
            at(NOW),
        );
        assert_eq!(v.age_seconds, Some(90));
        assert_eq!(v.duration_millis, None, "not finished");
        assert!(v.failures.is_empty(), "{v:?}");
    }

    #[test]
    fn a_whole_snapshot_failure_says_why() {
        let mut failed = info(SnapshotState::Failed, NOW);
        failed.reason = Some("Indices don't have primary shards [logs-1]".into());
        let v = judge_snapshot("r", &failed, &[], None, at(NOW));
        assert!(v.done && !v.ok);
        assert_eq!(
            v.failures,
            ["snapshot FAILED: Indices don't have primary shards [logs-1]"]
        );
        assert_eq!(v.failure_count, 1);
    }

    #[test]
    fn failures_are_capped_and_quoted_short() {
        let mut partial = info(SnapshotState::Partial, NOW);
        partial.failures = (0..40)
            .map(|shard| ShardFailure {
                index: Some("logs-1".into()),
                shard_id: Some(shard),
                reason: Some("x".repeat(10_000)),
                node_id: None,
                status: None,
            })
            .collect();
        let v = judge_snapshot("r", &partial, &[], None, at(NOW));
        assert_eq!((v.failures.len(), v.failure_count), (SAMPLE, 40));
        assert!(
            v.failures.iter().all(|f| f.len() < 300),
            "{:?}",
            v.failures[0]
        );
    }

    #[test]
    fn in_progress_is_not_done() {
        let v = judge_snapshot(
            "r",
            &info(SnapshotState::InProgress, NOW),
            &[],
            None,
            at(NOW),
        );
        assert!(!v.done && !v.ok);
    }

    #[test]
    fn partial_failed_missing_index_and_stale_are_not_ok() {
        let mut partial = info(SnapshotState::Partial, NOW);
        partial.shards = Some(ShardStats {
            total: 2,
            failed: 1,
            successful: 1,
        });
        partial.failures = vec![ShardFailure {
            index: Some("orders".into()),
            shard_id: Some(0),
            reason: Some("IndexShardSnapshotFailedException".into()),
            node_id: None,
            status: None,
        }];
        let v = judge_snapshot("r", &partial, &[], None, at(NOW));
        assert!(v.done && !v.ok);
        assert_eq!(v.failures, ["orders[0]: IndexShardSnapshotFailedException"]);

        let v = judge_snapshot(
            "r",
            &info(SnapshotState::Success, NOW),
            &["users".into()],
            None,
            at(NOW),
        );
        assert!(!v.ok && v.failures[0].contains("users"));

        let stale = judge_snapshot(
            "r",
            &info(SnapshotState::Success, NOW - 3 * 86_400),
            &[],
            Some(Duration::from_secs(86_400)),
            at(NOW),
        );
        assert!(!stale.ok);
        let error = failure_error(&stale, Some(Duration::from_secs(86_400)));
        assert_eq!(error.error_type(), "SnapshotStale");
        assert_eq!(failure_error(&v, None).error_type(), "SnapshotFailed");
    }
}
