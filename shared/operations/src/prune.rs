//! prune: delete what the retention rule no longer needs, and nothing else.
//!
//! The rule is decided over the brief listing (no metadata). Then the candidates are taken in
//! batches, in dry runs too: each batch is read by name (`GET _snapshot/<repo>/<a>,<b>`, the
//! candidates' manifests only), any snapshot pinned in its metadata is kept, and the rest of
//! the batch is deleted. Outputs carry bounded lists; the whole lists go to the log.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use policy::duration::parse_duration;
use policy::retention::{RetentionRule, SnapshotFacts, SnapshotState as RetentionState};
use serde_json::{Map, Value};
use snapshot_api::ApiError;
use snapshot_api::snapshot::SnapshotState;

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::bounded::Bounded;
use crate::context::Context;
use crate::contract::{Target, parse_event};
use crate::listing::{dated_snapshots, read_batches};
use crate::requests::{PruneRequest, PruneResponse};
use crate::validate::validate_repository_name;

/// Snapshots read and deleted per request: the domain takes a comma-separated batch.
const DELETE_BATCH: usize = 50;
/// The least time left in which prune starts another batch.
const MIN_TIME_FOR_A_BATCH: Duration = Duration::from_secs(5);
/// Names per log line when a whole list is logged.
const NAMES_PER_LOG_LINE: usize = 100;

/// Handles one `prune` event.
pub async fn handle(ctx: Context, event: Value) -> Result<PruneResponse, OsnapError> {
    let (request, target) = parse_event::<PruneRequest>(event, &ctx.defaults)?;
    prune(&ctx, &request, &target).await
}

pub async fn prune(
    ctx: &Context,
    request: &PruneRequest,
    target: &Target,
) -> Result<PruneResponse, OsnapError> {
    let repository = target.repository.as_str();
    // Also refuses AWS's cs-automated repositories.
    validate_repository_name(repository)?;
    let rule = RetentionRule {
        name_pattern: request.name_pattern.clone(),
        keep_last: request.keep_last,
        max_age: request
            .max_age
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|e| OsnapError::invalid(e.to_string()))?,
        min_count: request.min_count,
        protect_last_copy_of: request.protect_last_copy_of.clone(),
        pinned: request.pinned.clone(),
    };
    rule.validate()
        .map_err(|e| OsnapError::invalid(e.to_string()))?;

    let api = ctx.api(target).await?;
    let subject = Subject {
        repository,
        snapshot: None,
    };
    let dated = dated_snapshots(&api, repository, &request.name_pattern)
        .await
        .map_err(|e| from_api(e, subject))?;
    let facts: Vec<SnapshotFacts<'_>> = dated
        .iter()
        .map(|d| SnapshotFacts {
            name: &d.info.snapshot,
            state: retention_state(d.info.state.as_ref()),
            time: d.time,
            indices: &d.info.indices,
            // Known only when the listing carried metadata; the candidates are read below.
            pinned: is_pinned(d.info.metadata.as_ref()),
        })
        .collect();
    let decision = rule
        .decide(&facts, ctx.now())
        .map_err(|e| OsnapError::invalid(e.to_string()))?;
    for (name, reason) in &decision.keep {
        tracing::debug!(snapshot = name, ?reason, "kept");
    }
    let outcome = work_through(ctx, &api, repository, &decision.delete, request.dry_run).await?;

    let mut protected = decision.protected;
    protected.pinned += outcome.pinned.len();
    let mut kept: Vec<&str> = decision.keep.iter().map(|(name, _)| *name).collect();
    if !outcome.pinned.is_empty() {
        kept.extend(&outcome.pinned);
        // Newest first, as the decision orders them.
        let times: HashMap<&str, Option<SystemTime>> =
            facts.iter().map(|f| (f.name, f.time)).collect();
        let time = |name: &str| times.get(name).copied().flatten();
        kept.sort_by(|a, b| time(b).cmp(&time(a)).then_with(|| b.cmp(a)));
    }
    log_names(repository, "deleted", &outcome.deleted);
    log_names(repository, "kept", &kept);
    log_names(repository, "pending", &outcome.pending);
    tracing::info!(
        repository,
        dry_run = request.dry_run,
        ?protected,
        "prune done"
    );
    Ok(PruneResponse {
        repository: repository.to_owned(),
        dry_run: request.dry_run,
        deleted: Bounded::from_slice(&outcome.deleted),
        kept: Bounded::from_slice(&kept),
        pending: Bounded::from_slice(&outcome.pending),
        protected,
    })
}

/// What became of the snapshots the rule marked.
#[derive(Debug, Default)]
struct Outcome<'a> {
    /// Deleted (in a dry run: would be), in order.
    deleted: Vec<&'a str>,
    /// Kept because their metadata pins them.
    pinned: Vec<&'a str>,
    /// Not reached before the deadline: left for the next run.
    pending: Vec<&'a str>,
}

/// Takes `doomed` in batches, in order, while another batch fits in the invocation's time:
/// reads each batch's metadata, keeps the pinned, and deletes the rest unless `dry_run`.
async fn work_through<'a>(
    ctx: &Context,
    api: &snapshot_api::SnapshotApi,
    repository: &str,
    doomed: &[&'a str],
    dry_run: bool,
) -> Result<Outcome<'a>, OsnapError> {
    let mut outcome = Outcome::default();
    let mut done = 0;
    let mut slowest = Duration::ZERO;
    let subject = Subject {
        repository,
        snapshot: None,
    };
    let capabilities = api.capabilities().await.map_err(|e| from_api(e, subject))?;
    // One snapshot per batch where a delete names one (before Elasticsearch 7.8), so the
    // deadline is checked between single deletes.
    let per_batch = capabilities.snapshots_per_delete(DELETE_BATCH);
    // The metadata read is the longer of a batch's two requests (the delete has no query).
    for batch in read_batches(repository, doomed, per_batch) {
        if done > 0 && !time_for_another_batch(ctx.time_left(), slowest) {
            tracing::warn!(
                repository,
                pending = doomed.len() - done,
                "running out of time: the rest is left for the next run"
            );
            break;
        }
        let started = Instant::now();
        // Without snapshot metadata (before Elasticsearch 7.3) nothing can be pinned in it.
        let pinned = if capabilities.snapshot_metadata {
            pinned_in_metadata(api, repository, batch).await?
        } else {
            HashSet::new()
        };
        let (held, going): (Vec<&'a str>, Vec<&'a str>) =
            batch.iter().partition(|name| pinned.contains(**name));
        if !dry_run && !going.is_empty() {
            delete_batch(api, repository, &going).await?;
            tracing::info!(repository, count = going.len(), "snapshots deleted");
        }
        slowest = slowest.max(started.elapsed());
        done += batch.len();
        outcome.deleted.extend(going);
        outcome.pinned.extend(held);
    }
    outcome.pending = doomed[done..].to_vec();
    Ok(outcome)
}

/// The names in `batch` whose metadata pins them. A snapshot already gone is not in the
/// answer, and is then not pinned (its delete counts it as deleted).
async fn pinned_in_metadata(
    api: &snapshot_api::SnapshotApi,
    repository: &str,
    batch: &[&str],
) -> Result<HashSet<String>, OsnapError> {
    let subject = Subject {
        repository,
        snapshot: None,
    };
    let found = api
        .get_snapshots(repository, batch)
        .await
        .map_err(|e| from_api(e, subject))?;
    Ok(found
        .into_iter()
        .filter(|s| is_pinned(s.metadata.as_ref()))
        .map(|s| s.snapshot)
        .collect())
}

/// `"pinned": true` in a snapshot's metadata (only the JSON boolean).
fn is_pinned(metadata: Option<&Map<String, Value>>) -> bool {
    metadata
        .and_then(|m| m.get("pinned"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// Logs a whole list: its count, then its names a bounded number per line.
fn log_names(repository: &str, list: &str, names: &[&str]) {
    tracing::info!(repository, list, count = names.len(), "prune list");
    for chunk in names.chunks(NAMES_PER_LOG_LINE) {
        tracing::info!(repository, list, names = %chunk.join(","), "prune list names");
    }
}

/// Whether another batch fits in the time left: twice the slowest batch so far, and never
/// less than [`MIN_TIME_FOR_A_BATCH`]. Without a deadline, there is always time. (A batch cut
/// off by Lambda's timeout would still be deleted by the domain, but the invocation would
/// fail and its report be lost.)
fn time_for_another_batch(time_left: Option<Duration>, slowest: Duration) -> bool {
    time_left.is_none_or(|left| left >= (slowest * 2).max(MIN_TIME_FOR_A_BATCH))
}

/// Deletes a batch. A snapshot already gone (a retried invocation deleted it) counts as
/// deleted: the batch is then retried one by one, ignoring the missing ones.
async fn delete_batch(
    api: &snapshot_api::SnapshotApi,
    repository: &str,
    batch: &[&str],
) -> Result<(), OsnapError> {
    let subject = Subject {
        repository,
        snapshot: None,
    };
    match api.delete_snapshots(repository, batch).await {
        Ok(()) => Ok(()),
        Err(ApiError::SnapshotMissing { .. }) => {
            for name in batch {
                match api.delete_snapshots(repository, &[name]).await {
                    Ok(()) | Err(ApiError::SnapshotMissing { .. }) => {}
                    Err(error) => return Err(from_api(error, subject)),
                }
            }
            Ok(())
        }
        Err(error) => Err(from_api(error, subject)),
    }
}

fn retention_state(state: Option<&SnapshotState>) -> RetentionState {
    match state {
        Some(SnapshotState::Success) => RetentionState::Success,
        Some(SnapshotState::Partial) => RetentionState::Partial,
        Some(SnapshotState::Failed) => RetentionState::Failed,
        Some(SnapshotState::Incompatible) => RetentionState::Incompatible,
        Some(SnapshotState::InProgress) => RetentionState::InProgress,
        Some(SnapshotState::Other(_)) | None => RetentionState::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_batch_needs_twice_the_slowest_and_at_least_the_minimum() {
        let secs = Duration::from_secs;
        assert!(time_for_another_batch(None, secs(600)), "no deadline");
        assert!(time_for_another_batch(Some(secs(40)), secs(20)));
        assert!(!time_for_another_batch(Some(secs(39)), secs(20)));
        assert!(time_for_another_batch(
            Some(MIN_TIME_FOR_A_BATCH),
            Duration::from_millis(10)
        ));
        assert!(!time_for_another_batch(
            Some(secs(4)),
            Duration::from_millis(10)
        ));
    }

    #[test]
    fn only_a_boolean_true_pins() {
        let meta = |v: Value| v.as_object().cloned();
        assert!(is_pinned(
            meta(serde_json::json!({"pinned": true})).as_ref()
        ));
        assert!(!is_pinned(
            meta(serde_json::json!({"pinned": "true"})).as_ref()
        ));
        assert!(!is_pinned(
            meta(serde_json::json!({"pinned": false})).as_ref()
        ));
        assert!(!is_pinned(
            meta(serde_json::json!({"ticket": "OPS-1"})).as_ref()
        ));
        assert!(!is_pinned(None));
    }
}
