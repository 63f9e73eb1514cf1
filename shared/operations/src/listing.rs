//! Listing a repository cheaply. OpenSearch has no paging for `GET _snapshot`, and a verbose
//! listing makes the domain read one blob per snapshot from S3, so osnap lists with
//! `verbose=false` (the repository index only) and takes each snapshot's time from its name
//! when osnap's own template made it. Only names it cannot date, or a listing without states,
//! cost one verbose listing.

use std::time::{Duration, SystemTime};

use policy::indices::glob_match;
use policy::naming::{DEFAULT_TEMPLATE, NameTemplate};
use snapshot_api::snapshot::{SnapshotInfo, SnapshotState};
use snapshot_api::{ApiError, SnapshotApi};

/// A snapshot with the time it was taken, where known.
#[derive(Debug, Clone)]
pub struct Dated {
    pub info: SnapshotInfo,
    pub time: Option<SystemTime>,
}

/// The snapshots whose names match `pattern`, dated.
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
    if dated
        .iter()
        .all(|d| d.time.is_some() && d.info.state.is_some())
    {
        return Ok(dated);
    }
    tracing::info!(
        repository,
        "some names carry no time; reading the verbose listing once"
    );
    let verbose = api.list_snapshots(repository, true).await?;
    for entry in &mut dated {
        if let Some(full) = verbose.iter().find(|v| v.snapshot == entry.info.snapshot) {
            if entry.time.is_none() {
                entry.time = full
                    .start_time_in_millis
                    .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dated(name: &str, state: SnapshotState, secs: u64) -> Dated {
        Dated {
            info: SnapshotInfo {
                snapshot: name.into(),
                uuid: None,
                version: None,
                indices: vec![],
                data_streams: vec![],
                include_global_state: None,
                state: Some(state),
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
