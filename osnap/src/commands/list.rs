//! `osnap list`: snapshots newest first. One brief listing (`verbose=false`, the repository
//! index only, however many snapshots it holds), dated as prune and `latest` date them; then
//! only the rows shown are read by name, in batches that fit a request line, for their
//! duration and shards.

use std::collections::HashMap;

use operations::api_error::{Subject, from_api};
use operations::listing::{self, Dated};
use serde::Serialize;
use snapshot_api::snapshot::SnapshotInfo;

use crate::cli::{Common, ListArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{note, print_json, print_out};

/// Names read by name per request.
const READ_BATCH: usize = 50;

/// One row, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Row {
    snapshot: String,
    state: Option<String>,
    /// Seconds since the Unix epoch.
    start_time: Option<u64>,
    duration_in_millis: Option<u64>,
    indices: usize,
    shards: Option<snapshot_api::snapshot::ShardStats>,
}

#[derive(Debug, Serialize)]
struct Listing {
    repository: String,
    #[serde(rename = "match")]
    pattern: String,
    matching: usize,
    snapshots: Vec<Row>,
}

pub async fn run(session: &Session, common: &Common, args: &ListArgs) -> Result<(), CliError> {
    let repository = session.repository()?;
    let api = session.api().await?;
    let subject = Subject {
        repository: &repository,
        snapshot: None,
    };
    let mut dated = listing::dated_snapshots(&api, &repository, &args.pattern)
        .await
        .map_err(|e| from_api(e, subject))?;
    // Newest first; snapshots with no known time last.
    dated.sort_by(|a, b| {
        b.time
            .cmp(&a.time)
            .then_with(|| b.info.snapshot.cmp(&a.info.snapshot))
    });
    let matching = dated.len();
    dated.truncate(args.limit);
    let full = read_shown(&api, &repository, &dated)
        .await
        .map_err(|e| from_api(e, subject))?;
    let rows: Vec<Row> = dated
        .iter()
        .map(|d| row(d, full.get(&d.info.snapshot)))
        .collect();
    if common.json {
        return print_json(&Listing {
            repository,
            pattern: args.pattern.clone(),
            matching,
            snapshots: rows,
        });
    }
    let mut table = super::table(&[
        "snapshot",
        "state",
        "start (UTC)",
        "duration",
        "indices",
        "shards",
    ]);
    for row in &rows {
        table.add_row(vec![
            row.snapshot.clone(),
            row.state.clone().unwrap_or_else(|| "?".into()),
            row.start_time
                .map(|s| super::utc(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s)))
                .unwrap_or_default(),
            row.duration_in_millis
                .map(|ms| format!("{:.1} s", ms as f64 / 1_000.0))
                .unwrap_or_default(),
            row.indices.to_string(),
            row.shards
                .as_ref()
                .map(|s| format!("{}/{}", s.successful, s.total))
                .unwrap_or_default(),
        ]);
    }
    print_out(&table.to_string())?;
    note(&format!(
        "{} of {matching} snapshots matching `{}` in `{repository}`",
        rows.len(),
        args.pattern
    ));
    Ok(())
}

async fn read_shown(
    api: &snapshot_api::SnapshotApi,
    repository: &str,
    shown: &[Dated],
) -> Result<HashMap<String, SnapshotInfo>, snapshot_api::ApiError> {
    let names: Vec<&str> = shown.iter().map(|d| d.info.snapshot.as_str()).collect();
    let mut full = HashMap::new();
    for batch in listing::read_batches(repository, &names, READ_BATCH) {
        for info in api.get_snapshots(repository, batch).await? {
            full.insert(info.snapshot.clone(), info);
        }
    }
    Ok(full)
}

fn row(dated: &Dated, full: Option<&SnapshotInfo>) -> Row {
    let seconds = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .ok()
    };
    let state = full
        .and_then(|f| f.state.as_ref())
        .or(dated.info.state.as_ref())
        .map(|s| s.as_str().to_owned());
    Row {
        snapshot: dated.info.snapshot.clone(),
        state,
        start_time: full
            .and_then(|f| f.start_time_in_millis)
            .filter(|&ms| ms > 0)
            .map(|ms| ms / 1_000)
            .or_else(|| dated.time.and_then(seconds)),
        duration_in_millis: full.and_then(|f| f.duration_in_millis),
        indices: dated.info.indices.len(),
        shards: full.and_then(|f| f.shards),
    }
}
