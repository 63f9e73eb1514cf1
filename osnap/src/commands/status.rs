//! `osnap status`: a snapshot's progress from `_snapshot/<repo>/<snapshot>/_status` (shards
//! and bytes), or a restore's from the restored indices' `_recovery`, followed to the end.

use std::time::Duration;

use operations::OsnapError;
use operations::api_error::{Subject, from_api};
use operations::listing;
use serde::Serialize;
use snapshot_api::SnapshotApi;
use snapshot_api::snapshot::SnapshotStatus;

use crate::cli::{Common, StatusArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{Counts, Progress, print_json, print_out};

/// A snapshot's progress, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotProgress {
    pub repository: String,
    pub snapshot: String,
    /// `_status`'s state: `INIT`, `STARTED`, `SUCCESS`, `FAILED`, `ABORTED`.
    pub state: String,
    pub done: bool,
    pub shards: Counts,
    pub failed_shards: u64,
    /// What this snapshot copies (its incremental part), and how much of it is copied.
    pub bytes: Counts,
}

impl SnapshotProgress {
    fn of(status: &SnapshotStatus) -> Self {
        let done = status.state.is_finished();
        let incremental = status.stats.incremental.size_in_bytes;
        let copied = match (&status.stats.processed, done) {
            (_, true) => incremental,
            (Some(processed), false) => processed.size_in_bytes,
            (None, false) => 0,
        };
        Self {
            repository: status.repository.clone(),
            snapshot: status.snapshot.clone(),
            state: status.state.as_str().to_owned(),
            done,
            shards: Counts {
                done: status.shards_stats.done,
                total: status.shards_stats.total,
            },
            failed_shards: status.shards_stats.failed,
            bytes: Counts {
                done: copied,
                total: incremental,
            },
        }
    }
}

/// A restore's progress: the shards recovering from a snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreProgress {
    pub indices: Vec<String>,
    pub done: bool,
    pub shards: Counts,
    pub bytes: Counts,
}

pub async fn run(session: &Session, common: &Common, args: &StatusArgs) -> Result<(), CliError> {
    let repository = session.repository()?;
    let api = session.api().await?;
    if args.restore {
        let progress = follow_restore(
            &api,
            args.snapshot.as_deref(),
            &args.indices,
            args.poll.interval,
            args.once,
        )
        .await?;
        if common.json {
            return print_json(&progress);
        }
        return print_out(&format!(
            "restore of {} indices: {}, {}/{} shards recovered",
            progress.indices.len(),
            if progress.done { "done" } else { "recovering" },
            progress.shards.done,
            progress.shards.total
        ));
    }
    let snapshot = match &args.snapshot {
        Some(name) => name.clone(),
        None => newest(&api, &repository, &args.pattern).await?,
    };
    let progress =
        follow_snapshot(&api, &repository, &snapshot, args.poll.interval, args.once).await?;
    if common.json {
        print_json(&progress)?;
    } else {
        print_out(&format!(
            "{}: {}, {}/{} shards, {} copied",
            progress.snapshot,
            progress.state,
            progress.shards.done,
            progress.shards.total,
            indicatif::HumanBytes(progress.bytes.total)
        ))?;
    }
    if progress.done && (progress.state != "SUCCESS" || progress.failed_shards > 0) {
        return Err(OsnapError::SnapshotFailed {
            snapshot: progress.snapshot,
            state: progress.state,
            detail: format!(
                "{} of {} shards failed",
                progress.failed_shards, progress.shards.total
            ),
        }
        .into());
    }
    Ok(())
}

/// The newest snapshot matching `pattern`, dated as `latest` dates them.
async fn newest(api: &SnapshotApi, repository: &str, pattern: &str) -> Result<String, OsnapError> {
    let subject = Subject {
        repository,
        snapshot: None,
    };
    let dated = listing::dated_snapshots(api, repository, pattern)
        .await
        .map_err(|e| from_api(e, subject))?;
    listing::newest(&dated, |_| true)
        .map(|d| d.info.snapshot.clone())
        .ok_or_else(|| OsnapError::SnapshotMissing {
            repository: repository.to_owned(),
            snapshot: format!("newest matching {}", policy::quote::short(pattern)),
        })
}

/// Polls `_status` until the snapshot is finished (or once), drawing its progress.
pub async fn follow_snapshot(
    api: &SnapshotApi,
    repository: &str,
    snapshot: &str,
    every: Duration,
    once: bool,
) -> Result<SnapshotProgress, OsnapError> {
    let subject = Subject {
        repository,
        snapshot: Some(snapshot),
    };
    let mut bar = Progress::new(&format!("snapshot {snapshot}"), every);
    loop {
        let status = api
            .snapshot_status(repository, snapshot)
            .await
            .map_err(|e| from_api(e, subject))?;
        let progress = SnapshotProgress::of(&status);
        if progress.done || once {
            bar.finish(&progress.state, progress.shards, progress.bytes);
            return Ok(progress);
        }
        bar.update(&progress.state, progress.shards, progress.bytes);
        tokio::time::sleep(every).await;
    }
}

/// Polls the recoveries of `indices` (every index when none is named) until every shard
/// restored from a snapshot (`snapshot`, when given) is done.
pub async fn follow_restore(
    api: &SnapshotApi,
    snapshot: Option<&str>,
    indices: &[String],
    every: Duration,
    once: bool,
) -> Result<RestoreProgress, OsnapError> {
    let names: Vec<&str> = indices.iter().map(String::as_str).collect();
    let mut bar = Progress::new("restore", every);
    loop {
        let recovery = api.recovery(&names).await.map_err(|e| {
            from_api(
                e,
                Subject {
                    repository: "",
                    snapshot,
                },
            )
        })?;
        let mut progress = RestoreProgress {
            indices: Vec::new(),
            done: true,
            shards: Counts::default(),
            bytes: Counts::default(),
        };
        for (index, shards) in &recovery {
            let restored: Vec<_> = shards
                .shards
                .iter()
                .filter(|s| s.recovery_type == "SNAPSHOT")
                .filter(|s| snapshot.is_none_or(|want| s.source.snapshot.as_deref() == Some(want)))
                .collect();
            if restored.is_empty() {
                continue;
            }
            progress.indices.push(index.clone());
            for shard in restored {
                progress.shards.total += 1;
                if shard.is_done() {
                    progress.shards.done += 1;
                } else {
                    progress.done = false;
                }
                if let Some(size) = shard.index.as_ref().and_then(|i| i.size.as_ref()) {
                    progress.bytes.total += size.total_in_bytes;
                    progress.bytes.done += size.recovered_in_bytes;
                }
            }
        }
        if progress.indices.is_empty() {
            return Err(OsnapError::SnapshotMissing {
                repository: String::new(),
                snapshot: format!(
                    "{}: no index recovers from it",
                    snapshot.map_or_else(|| "any snapshot".to_owned(), policy::quote::short)
                ),
            });
        }
        let state = if progress.done { "DONE" } else { "RECOVERING" };
        if progress.done || once {
            bar.finish(state, progress.shards, progress.bytes);
            return Ok(progress);
        }
        bar.update(state, progress.shards, progress.bytes);
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_snapshot_has_copied_all_it_had_to() {
        let body = r#"{"snapshot":"s1","repository":"r","state":"SUCCESS","shards_stats":{"done":3,"total":3},
            "stats":{"incremental":{"file_count":3,"size_in_bytes":900},"total":{"file_count":5,"size_in_bytes":1500}}}"#;
        let status: SnapshotStatus = serde_json::from_str(body).unwrap();
        let progress = SnapshotProgress::of(&status);
        assert!(progress.done);
        assert_eq!(
            progress.bytes,
            Counts {
                done: 900,
                total: 900
            }
        );
    }
}
