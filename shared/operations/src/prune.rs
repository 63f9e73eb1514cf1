//! prune: delete what the retention rule no longer needs, and nothing else.

use std::time::{Duration, Instant};

use policy::duration::parse_duration;
use policy::retention::{RetentionRule, SnapshotFacts, SnapshotState as RetentionState};
use serde_json::Value;
use snapshot_api::ApiError;
use snapshot_api::snapshot::SnapshotState;

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::context::Context;
use crate::contract::{Target, parse_event};
use crate::listing::dated_snapshots;
use crate::requests::{PruneRequest, PruneResponse};
use crate::validate::validate_repository_name;

/// Snapshots deleted per request: the domain deletes a comma-separated batch in one go.
const DELETE_BATCH: usize = 50;
/// The least time left in which prune starts another batch.
const MIN_TIME_FOR_A_BATCH: Duration = Duration::from_secs(5);

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
        protect_last_copy_of: Vec::new(),
        pinned: Vec::new(),
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
            pinned: false,
        })
        .collect();
    let decision = rule
        .decide(&facts, ctx.now())
        .map_err(|e| OsnapError::invalid(e.to_string()))?;
    let kept: Vec<String> = decision.keep.iter().map(|(s, _)| (*s).to_owned()).collect();
    for (name, reason) in &decision.keep {
        tracing::debug!(snapshot = name, ?reason, "kept");
    }
    let done = if request.dry_run {
        decision.delete.len()
    } else {
        delete_while_time_allows(ctx, &api, repository, &decision.delete).await?
    };
    let (deleted, pending) = decision.delete.split_at(done);
    let owned = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Ok(PruneResponse {
        repository: repository.to_owned(),
        deleted: owned(deleted),
        kept,
        pending: owned(pending),
        dry_run: request.dry_run,
    })
}

/// Deletes `doomed` in batches, in order, while another batch fits in the invocation's time.
/// Returns how many were deleted: the rest is left for the next run.
async fn delete_while_time_allows(
    ctx: &Context,
    api: &snapshot_api::SnapshotApi,
    repository: &str,
    doomed: &[&str],
) -> Result<usize, OsnapError> {
    let mut done = 0;
    let mut slowest = Duration::ZERO;
    for batch in doomed.chunks(DELETE_BATCH) {
        if done > 0 && !time_for_another_batch(ctx.time_left(), slowest) {
            tracing::warn!(
                repository,
                pending = doomed.len() - done,
                "running out of time: the rest is left for the next run"
            );
            break;
        }
        let started = Instant::now();
        delete_batch(api, repository, batch).await?;
        slowest = slowest.max(started.elapsed());
        done += batch.len();
        tracing::info!(repository, count = batch.len(), "snapshots deleted");
    }
    Ok(done)
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
}
