//! Listing a repository cheaply, whatever its size. OpenSearch has no paging for `GET
//! _snapshot`, and a verbose listing makes the domain read one blob per snapshot from S3: over
//! about a thousand snapshots it takes minutes and the gateway gives up (OpenSearch issue
//! #22238), while `verbose=false` (the repository index only) answers in under a second. So
//! osnap never lists a repository verbosely: it lists with `verbose=false`, takes each
//! snapshot's time from its name when osnap's own template made it, and reads by name (in
//! batches that fit a request line) only the few matching snapshots whose names carry no
//! time or whose brief entry has no state.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use policy::indices::glob_match;
use policy::naming::{DEFAULT_TEMPLATE, NameTemplate};
use snapshot_api::snapshot::{SnapshotInfo, SnapshotState};
use snapshot_api::{ApiError, SnapshotApi};

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::name_batches;

/// The most undated snapshots read by name in one invocation; any more stay undated (prune
/// keeps them, `latest` passes them by), so the cost stays bounded.
pub const MAX_READ_BY_NAME: usize = 200;
/// Names per read.
const READ_BATCH: usize = 50;
/// The query of a read by name (`SnapshotApi::get_snapshots`).
const READ_QUERY: &str = "?ignore_unavailable=true";

/// `names` in batches of at most `max_count` that each fit one read by name
/// (`GET _snapshot/<repository>/<a>,<b>?ignore_unavailable=true`) within the request line.
pub fn read_batches<'n, 'a>(
    repository: &str,
    names: &'n [&'a str],
    max_count: usize,
) -> Vec<&'n [&'a str]> {
    let room = name_batches::room(&["_snapshot", repository], READ_QUERY);
    name_batches::batches(names, max_count, room, name_batches::encoded_len)
}

/// A snapshot with the time it was taken, where known.
#[derive(Debug, Clone)]
pub struct Dated {
    pub info: SnapshotInfo,
    pub time: Option<SystemTime>,
}

/// A time in milliseconds since the epoch; 0 is the engine's "not set" (a running snapshot's
/// end time), never a time.
pub(crate) fn time_of_millis(ms: Option<u64>) -> Option<SystemTime> {
    ms.filter(|&ms| ms > 0)
        .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
}

/// The snapshots whose names match `pattern`, dated: one brief listing, plus at most
/// [`MAX_READ_BY_NAME`] snapshots read by name.
pub async fn dated_snapshots(
    api: &SnapshotApi,
    repository: &str,
    pattern: &str,
) -> Result<Vec<Dated>, ApiError> {
    let template = NameTemplate::parse(DEFAULT_TEMPLATE).ok();
    let brief = api.list_snapshots(repository, false).await?;
    let mut dated: Vec<Dated> = brief
        .into_iter()
        .filter(|s| glob_match(pattern, &s.snapshot))
        .map(|info| {
            let time = template.as_ref().and_then(|t| t.time_of(&info.snapshot));
            Dated { info, time }
        })
        .collect();
    let unknown: Vec<String> = dated
        .iter()
        .filter(|d| d.time.is_none() || d.info.state.is_none())
        .map(|d| d.info.snapshot.clone())
        .collect();
    if unknown.is_empty() {
        return Ok(dated);
    }
    if unknown.len() > MAX_READ_BY_NAME {
        tracing::warn!(
            repository,
            pattern,
            undated = unknown.len(),
            read = MAX_READ_BY_NAME,
            "more snapshots without a time in their names than osnap reads; the rest stay undated"
        );
    }
    let unknown: Vec<&str> = unknown
        .iter()
        .take(MAX_READ_BY_NAME)
        .map(String::as_str)
        .collect();
    let at: HashMap<String, usize> = dated
        .iter()
        .enumerate()
        .map(|(i, d)| (d.info.snapshot.clone(), i))
        .collect();
    for batch in read_batches(repository, &unknown, READ_BATCH) {
        for full in api.get_snapshots(repository, batch).await? {
            let Some(entry) = at.get(&full.snapshot).and_then(|&i| dated.get_mut(i)) else {
                continue;
            };
            if entry.time.is_none() {
                entry.time = time_of_millis(full.start_time_in_millis);
            }
            if entry.info.state.is_none() {
                entry.info.state.clone_from(&full.state);
            }
        }
    }
    Ok(dated)
}

/// The newest snapshot among `dated` whose state `accept` allows.
pub fn newest(dated: &[Dated], accept: impl Fn(&SnapshotState) -> bool) -> Option<&Dated> {
    dated
        .iter()
        .filter(|d| d.time.is_some() && d.info.state.as_ref().is_some_and(&accept))
        .max_by(|a, b| {
            a.time
                .cmp(&b.time)
                .then_with(|| a.info.snapshot.cmp(&b.info.snapshot))
        })
}

/// The name of the newest snapshot in `repository` matching `pattern` whose state `accept`
/// allows: what `latest` means. `kind` names what was looked for in the refusal when there is
/// none ("snapshot", "successful snapshot").
pub(crate) async fn newest_name(
    api: &SnapshotApi,
    repository: &str,
    pattern: &str,
    kind: &str,
    accept: impl Fn(&SnapshotState) -> bool,
) -> Result<String, OsnapError> {
    let dated = dated_snapshots(api, repository, pattern)
        .await
        .map_err(|e| {
            from_api(
                e,
                Subject {
                    repository,
                    snapshot: None,
                },
            )
        })?;
    newest(&dated, accept)
        .map(|d| d.info.snapshot.clone())
        .ok_or_else(|| OsnapError::SnapshotMissing {
            repository: repository.to_owned(),
            snapshot: format!(
                "latest (no {kind} matching `{}`)",
                policy::quote::short(pattern)
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dated(name: &str, state: SnapshotState, secs: u64) -> Dated {
        Dated {
            info: SnapshotInfo {
                snapshot: name.into(),
                uuid: None,
                version: None,
                version_id: None,
                indices: vec![],
                data_streams: vec![],
                include_global_state: None,
                state: Some(state),
                reason: None,
                start_time_in_millis: None,
                end_time_in_millis: None,
                duration_in_millis: None,
                failures: vec![],
                shards: None,
                metadata: None,
            },
            time: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
        }
    }

    #[test]
    fn zero_is_no_time() {
        assert_eq!(time_of_millis(Some(0)), None);
        assert_eq!(time_of_millis(None), None);
        assert_eq!(
            time_of_millis(Some(1_500)),
            Some(SystemTime::UNIX_EPOCH + Duration::from_millis(1_500))
        );
    }

    #[test]
    fn newest_honours_the_state_filter() {
        let all = [
            dated("a", SnapshotState::Success, 10),
            dated("b", SnapshotState::Failed, 30),
            dated("c", SnapshotState::Success, 20),
        ];
        assert_eq!(newest(&all, |_| true).unwrap().info.snapshot, "b");
        assert_eq!(
            newest(&all, |s| *s == SnapshotState::Success)
                .unwrap()
                .info
                .snapshot,
            "c"
        );
        assert!(newest(&all, |s| *s == SnapshotState::Partial).is_none());
    }
}
