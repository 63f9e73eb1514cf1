//! Reading snapshots: `GET _snapshot/<repo>/<names>` (verbose or not), `_status`, and the
//! snapshot descriptions the cat API shows. Finished snapshots come from the repository in
//! S3, running ones from this domain's memory. A verbose answer reads each snapshot's
//! manifest from S3, as the real service reads each snapshot's metadata; `verbose=false`
//! reads only the repository index.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::domain::state::Shared;
use crate::domain::state::blobstore::SnapshotRecord;
use crate::domain::state::catalog::{
    Listed, entry_record, full_record, full_records, info_json, select,
};
use crate::domain::state::repositories::{self};
use crate::domain::state::running::Running;
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::split_list;
use crate::domain::wire::reply::Reply;

/// `GET _snapshot/<repository>/<snapshots>`.
pub(crate) async fn get(shared: &Arc<Shared>, call: &Call, repo: &str, names: &str) -> Answer {
    let verbose = call.query.flag("verbose", true)?;
    let ignore_unavailable = call.query.flag("ignore_unavailable", false)?;
    let repository = repositories::lookup(shared, repo)?;
    let listed = select(shared, &repository, &split_list(names), ignore_unavailable).await?;
    // Only AWS has a load balancer in front that gives up; a self-managed cluster answers.
    if shared.aws() && verbose && listed.len() > shared.config.verbose_listing_limit {
        // The engine reads one metadata blob per snapshot before it answers: over about a
        // thousand snapshots that takes minutes (OpenSearch issue #22238: 502 behind a proxy
        // after 30-120 s, while `verbose=false` answered in 0.6 s), and AWS's load balancer
        // gives up first. The stand-in answers what the caller would see, at once.
        return Err(Reply::gateway_timeout());
    }
    let snapshots: Vec<Value> = if verbose {
        full_records(shared, &repository, &listed)
            .await?
            .iter()
            .map(|r| info_json(shared, r, true))
            .collect()
    } else {
        let mut records: Vec<(u64, SnapshotRecord)> = listed
            .iter()
            .map(|l| match l {
                Listed::Stored(e) => (0, entry_record(e)),
                Listed::Running(r) => (r.start_time_in_millis, (**r).clone()),
            })
            .collect();
        records.sort_by(|a, b| (a.0, &a.1.snapshot).cmp(&(b.0, &b.1.snapshot)));
        records
            .iter()
            .map(|(_, r)| info_json(shared, r, false))
            .collect()
    };
    Ok(Reply::ok(&json!({"snapshots": snapshots})))
}

fn file_stats(files: u64, bytes: u64) -> Value {
    json!({"file_count": files, "size_in_bytes": bytes})
}

fn shards_stats(started: u64, done: u64, failed: u64) -> Value {
    json!({
        "initializing": 0, "started": started, "finalizing": 0, "done": done,
        "failed": failed, "total": started + done + failed
    })
}

/// One snapshot's `_status`: live progress while running, the stored outcome after.
fn status_json(
    shared: &Shared,
    repository: &str,
    record: &SnapshotRecord,
    running: Option<(f64, bool)>,
) -> Value {
    let state = match (running, record.state.as_str()) {
        (Some((_, true)), _) => "ABORTED",
        (Some(_), _) => "STARTED",
        (None, "FAILED") => "FAILED",
        (None, _) => "SUCCESS",
    };
    let fraction = running.map_or(1.0, |(f, _)| f);
    let elapsed = match running {
        Some(_) => crate::domain::wire::time::millis(shared.config.calendar.now())
            .saturating_sub(record.start_time_in_millis),
        None => record
            .end_time_in_millis
            .saturating_sub(record.start_time_in_millis),
    };
    let mut indices = Map::new();
    let (mut all_started, mut all_done, mut all_failed) = (0, 0, 0);
    let (mut all_files, mut all_bytes, mut all_pfiles, mut all_pbytes) = (0, 0, 0, 0);
    for (name, stats) in &record.index_stats {
        let per_bytes = stats.bytes / u64::from(stats.shards);
        let per_files = stats.files.div_ceil(u64::from(stats.shards));
        let mut shards = Map::new();
        let (mut started, mut done, mut failed) = (0, 0, 0);
        let (mut files, mut bytes, mut pfiles, mut pbytes) = (0, 0, 0, 0);
        for shard in 0..stats.shards {
            let failure = record
                .failures
                .iter()
                .find(|f| &f.index == name && f.shard_id == shard);
            let (stage, processed) = if let Some(failure) = failure {
                failed += 1;
                shards.insert(
                    shard.to_string(),
                    json!({"stage": "FAILURE", "reason": failure.reason,
                           "stats": {"incremental": file_stats(0, 0), "total": file_stats(0, 0),
                                     "start_time_in_millis": record.start_time_in_millis,
                                     "time_in_millis": 0}}),
                );
                continue;
            } else if running.is_some() {
                started += 1;
                ("STARTED", fraction)
            } else {
                done += 1;
                ("DONE", 1.0)
            };
            let done_bytes = (per_bytes as f64 * processed) as u64;
            let done_files = (per_files as f64 * processed) as u64;
            files += per_files;
            bytes += per_bytes;
            pfiles += done_files;
            pbytes += done_bytes;
            let mut shard_stats = json!({
                "incremental": file_stats(per_files, per_bytes),
                "total": file_stats(per_files, per_bytes),
                "start_time_in_millis": record.start_time_in_millis,
                "time_in_millis": elapsed
            });
            if running.is_some() {
                shard_stats["processed"] = file_stats(done_files, done_bytes);
            }
            let mut entry = json!({"stage": stage, "stats": shard_stats});
            if running.is_some()
                && let Some(node) = shared
                    .identity
                    .nodes
                    .get(shard as usize % shared.identity.nodes.len().max(1))
            {
                entry["node"] = json!(node.id);
            }
            shards.insert(shard.to_string(), entry);
        }
        let mut index_stats = json!({
            "incremental": file_stats(files, bytes),
            "total": file_stats(files, bytes),
            "start_time_in_millis": record.start_time_in_millis,
            "time_in_millis": elapsed
        });
        if running.is_some() {
            index_stats["processed"] = file_stats(pfiles, pbytes);
        }
        indices.insert(
            name.clone(),
            json!({
                "shards_stats": shards_stats(started, done, failed),
                "stats": index_stats,
                "shards": shards
            }),
        );
        all_started += started;
        all_done += done;
        all_failed += failed;
        all_files += files;
        all_bytes += bytes;
        all_pfiles += pfiles;
        all_pbytes += pbytes;
    }
    let mut stats = json!({
        "incremental": file_stats(all_files, all_bytes),
        "total": file_stats(all_files, all_bytes),
        "start_time_in_millis": record.start_time_in_millis,
        "time_in_millis": elapsed
    });
    if running.is_some() {
        stats["processed"] = file_stats(all_pfiles, all_pbytes);
    }
    json!({
        "snapshot": record.snapshot,
        "repository": repository,
        "uuid": record.uuid,
        "state": state,
        "include_global_state": record.include_global_state,
        "shards_stats": shards_stats(all_started, all_done, all_failed),
        "stats": stats,
        "indices": indices
    })
}

/// How far a running snapshot has come (never all the way until it is written).
fn running_progress(shared: &Shared, running: &Running) -> (f64, bool) {
    let duration = shared.config.snapshot_duration.as_secs_f64();
    let elapsed = Instant::now()
        .saturating_duration_since(running.started_at)
        .as_secs_f64();
    let fraction = if duration <= 0.0 {
        0.99
    } else {
        (elapsed / duration).min(0.99)
    };
    (fraction, running.aborted)
}

fn running_statuses(shared: &Shared, repository: Option<&str>, name: Option<&str>) -> Vec<Value> {
    let cluster = shared.cluster();
    cluster
        .running
        .iter()
        .filter(|r| repository.is_none_or(|repo| r.repository == repo))
        .filter(|r| name.is_none_or(|n| r.record.snapshot == n))
        .map(|r| {
            status_json(
                shared,
                &r.repository,
                &r.record,
                Some(running_progress(shared, r)),
            )
        })
        .collect()
}

/// `GET _snapshot[/<repository>[/<snapshots>]]/_status`.
pub(crate) async fn status(
    shared: &Arc<Shared>,
    call: &Call,
    repo: Option<&str>,
    names: Option<&str>,
) -> Answer {
    let ignore_unavailable = call.query.flag("ignore_unavailable", false)?;
    let Some(repo) = repo else {
        return Ok(Reply::ok(
            &json!({"snapshots": running_statuses(shared, None, None)}),
        ));
    };
    let repository = repositories::lookup(shared, repo)?;
    let Some(names) = names else {
        return Ok(Reply::ok(
            &json!({"snapshots": running_statuses(shared, Some(repo), None)}),
        ));
    };
    let mut out = Vec::new();
    for name in split_list(names) {
        if name == "_current" {
            out.extend(running_statuses(shared, Some(repo), None));
            continue;
        }
        let live = running_statuses(shared, Some(repo), Some(&name));
        if !live.is_empty() {
            out.extend(live);
            continue;
        }
        let listed = select(
            shared,
            &repository,
            std::slice::from_ref(&name),
            ignore_unavailable,
        )
        .await?;
        for l in &listed {
            let record = full_record(shared, &repository, l).await?;
            out.push(status_json(shared, repo, &record, None));
        }
    }
    Ok(Reply::ok(&json!({"snapshots": out})))
}
