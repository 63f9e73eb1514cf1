//! The cat APIs osnap reads: `_cat/indices`, `_cat/snapshots`, `_cat/allocation` and
//! `_cat/shards`, as JSON
//! (every value a string) or as the text table, with the `h`, `s`, `v`, `bytes` and `health`
//! parameters.

use std::sync::Arc;
use std::time::Instant;

use http::StatusCode;
use serde_json::{Map, Value};

use crate::domain::state::Shared;
use crate::domain::state::catalog::{full_records, select};
use crate::domain::state::expressions::IndicesOptions;
use crate::domain::state::repositories;
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::split_list;
use crate::domain::wire::reply::{EsError, Reply};
use crate::domain::wire::time::{human_duration, millis, time_of_day};

/// One column: its name, the other names `h` accepts, and whether it is numeric.
struct Column {
    name: &'static str,
    aliases: &'static [&'static str],
    numeric: bool,
    default: bool,
}

const fn column(
    name: &'static str,
    aliases: &'static [&'static str],
    numeric: bool,
    default: bool,
) -> Column {
    Column {
        name,
        aliases,
        numeric,
        default,
    }
}

const INDEX_COLUMNS: [Column; 12] = [
    column("health", &["h"], false, true),
    column("status", &["s"], false, true),
    column("index", &["i", "idx"], false, true),
    column("uuid", &["id", "uuid"], false, true),
    column("pri", &["p", "shards.primary", "shardsPrimary"], true, true),
    column("rep", &["r", "shards.replica", "shardsReplica"], true, true),
    column("docs.count", &["dc", "docsCount"], true, true),
    column("docs.deleted", &["dd", "docsDeleted"], true, true),
    column("store.size", &["ss", "storeSize"], true, true),
    column("pri.store.size", &[], true, true),
    column("creation.date", &["cd"], true, false),
    column("creation.date.string", &["cds"], false, false),
];

const SNAPSHOT_COLUMNS: [Column; 12] = [
    column("id", &["snapshot"], false, true),
    column("status", &["s"], false, true),
    column("start_epoch", &["ste", "startEpoch"], true, true),
    column("start_time", &["sti", "startTime"], false, true),
    column("end_epoch", &["ete", "endEpoch"], true, true),
    column("end_time", &["eti", "endTime"], false, true),
    column("duration", &["dur"], false, true),
    column("indices", &["i"], true, true),
    column("successful_shards", &["ss"], true, true),
    column("failed_shards", &["fs"], true, true),
    column("total_shards", &["ts"], true, true),
    column("reason", &["r"], false, false),
];

/// `RestAllocationAction`'s columns (the API spec's `cat.allocation` schema describes them).
const ALLOCATION_COLUMNS: [Column; 9] = [
    column("shards", &["s"], true, true),
    column("disk.indices", &["di", "diskIndices"], true, true),
    column("disk.used", &["du", "diskUsed"], true, true),
    column("disk.avail", &["da", "diskAvail"], true, true),
    column("disk.total", &["dt", "diskTotal"], true, true),
    column("disk.percent", &["dp", "diskPercent"], true, true),
    column("host", &["h"], false, true),
    column("ip", &[], false, true),
    column("node", &["n"], false, true),
];

/// `RestShardsAction`'s columns that the stand-in models (the API spec's `cat.shards` schema
/// describes them); any other is refused as the engine refuses an unknown one.
const SHARD_COLUMNS: [Column; 11] = [
    column("index", &["i", "idx"], false, true),
    column("shard", &["s", "sh"], true, true),
    column("prirep", &["p", "pr", "primaryOrReplica"], false, true),
    column("state", &["st"], false, true),
    column("docs", &["d", "dc"], true, true),
    column("store", &["sto"], true, true),
    column("ip", &[], false, true),
    column("id", &[], false, false),
    column("node", &["n"], false, true),
    column("unassigned.reason", &["ur"], false, false),
    column("unassigned.details", &["ud"], false, false),
];

/// Rows keyed by column name; `None` renders as `null` (JSON) or blank (text).
type Row = Vec<(&'static str, Option<String>)>;

fn value_of<'a>(row: &'a Row, name: &str) -> Option<&'a Option<String>> {
    row.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
}

fn render(call: &Call, columns: &[Column], mut rows: Vec<Row>) -> Result<Reply, EsError> {
    // The requested headers, each with the name it is shown under.
    let selected: Vec<(&Column, String)> = match call.query.get("h") {
        Some(h) => split_list(h)
            .into_iter()
            .map(|wanted| {
                columns
                    .iter()
                    .find(|c| c.name == wanted || c.aliases.contains(&wanted.as_str()))
                    .map(|c| (c, wanted.clone()))
                    .ok_or_else(|| {
                        EsError::illegal_argument(format!("unable to find column [{wanted}]"))
                    })
            })
            .collect::<Result<_, _>>()?,
        None => columns
            .iter()
            .filter(|c| c.default)
            .map(|c| (c, c.name.to_owned()))
            .collect(),
    };
    if let Some(sort) = call.query.get("s") {
        for key in split_list(sort).iter().rev() {
            let (name, desc) = match key.rsplit_once(':') {
                Some((n, "desc")) => (n, true),
                Some((n, _)) => (n, false),
                None => (key.as_str(), false),
            };
            let Some(col) = columns
                .iter()
                .find(|c| c.name == name || c.aliases.contains(&name))
            else {
                return Err(EsError::illegal_argument(format!(
                    "Unable to sort by unknown sort key `{name}`"
                )));
            };
            rows.sort_by(|a, b| {
                let (x, y) = (value_of(a, col.name), value_of(b, col.name));
                let order = if col.numeric {
                    let n = |v: Option<&Option<String>>| {
                        v.and_then(|v| v.as_ref())
                            .and_then(|s| s.parse::<f64>().ok())
                    };
                    n(x).partial_cmp(&n(y)).unwrap_or(std::cmp::Ordering::Equal)
                } else {
                    x.cmp(&y)
                };
                if desc { order.reverse() } else { order }
            });
        }
    }
    if call.query.get("format") == Some("json") {
        let out: Vec<Value> = rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> = selected
                    .iter()
                    .map(|(c, shown)| {
                        let v = value_of(row, c.name).cloned().flatten();
                        (shown.clone(), v.map_or(Value::Null, Value::from))
                    })
                    .collect();
                Value::Object(object)
            })
            .collect();
        return Ok(Reply::ok(&Value::Array(out)));
    }
    let mut table: Vec<Vec<String>> = Vec::new();
    if call.query.flag("v", false)? {
        table.push(selected.iter().map(|(_, shown)| shown.clone()).collect());
    }
    for row in &rows {
        table.push(
            selected
                .iter()
                .map(|(c, _)| value_of(row, c.name).cloned().flatten().unwrap_or_default())
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..selected.len())
        .map(|i| table.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    // `RestTable.buildTextPlainResponse`: one space between columns, every cell padded to its
    // column's width except a left-aligned cell in the last column, so empty cells keep their
    // separators.
    let mut text = String::new();
    let last = selected.len().saturating_sub(1);
    for row in &table {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if selected[i].0.numeric {
                    format!("{cell:>width$}", width = widths[i])
                } else if i == last {
                    cell.clone()
                } else {
                    format!("{cell:<width$}", width = widths[i])
                }
            })
            .collect();
        text.push_str(&cells.join(" "));
        text.push('\n');
    }
    Ok(Reply::text(StatusCode::OK, text))
}

/// A size as `bytes` asks (`b`, `kb`, …) or for people (`5.2kb`).
fn size(bytes: u64, unit: Option<&str>) -> Result<String, EsError> {
    let div = |d: u64| (bytes / d).to_string();
    Ok(match unit {
        Some("b") => bytes.to_string(),
        Some("k" | "kb") => div(1 << 10),
        Some("m" | "mb") => div(1 << 20),
        Some("g" | "gb") => div(1 << 30),
        Some(other) => {
            return Err(EsError::illegal_argument(format!(
                "failed to parse [{other}]"
            )));
        }
        None => {
            const UNITS: [(u64, &str); 3] = [(1 << 30, "gb"), (1 << 20, "mb"), (1 << 10, "kb")];
            for (scale, suffix) in UNITS {
                if bytes >= scale {
                    let value = (bytes as f64 / scale as f64 * 10.0).round() / 10.0;
                    let text = format!("{value:.1}");
                    return Ok(format!("{}{suffix}", text.trim_end_matches(".0")));
                }
            }
            format!("{bytes}b")
        }
    })
}

/// `GET _cat/indices[/<pattern>]`.
pub(crate) fn indices(shared: &Arc<Shared>, call: &Call, pattern: Option<&str>) -> Answer {
    // Before hidden indices (Elasticsearch 7.7) nothing is hidden: the default lists every
    // open and closed index.
    let options = IndicesOptions {
        closed: true,
        hidden: !shared.capabilities().hidden_indices,
        ..IndicesOptions::STRICT
    }
    .with_query(&call.query)?;
    let unit = call.query.get("bytes");
    let health_filter = call.query.get("health");
    // `ClusterHealthStatus.fromString`, read by `RestIndicesAction`.
    if let Some(other) = health_filter.filter(|h| !matches!(*h, "green" | "yellow" | "red")) {
        return Err(
            EsError::illegal_argument(format!("unknown cluster health status [{other}]")).into(),
        );
    }
    let cluster = shared.cluster();
    let names = cluster.resolve(&pattern.map(split_list).unwrap_or_default(), options)?;
    let now = Instant::now();
    let mut rows = Vec::new();
    for name in names {
        let Some(index) = cluster.indices.get(&name) else {
            continue;
        };
        let health = index.health(now).as_str();
        if health_filter.is_some_and(|h| h != health) {
            continue;
        }
        let live = index.open && index.primaries_active(now);
        let count = |v: u64| live.then(|| v.to_string());
        let created: u64 = index
            .settings
            .get("index.creation_date")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        rows.push(vec![
            ("health", Some(health.to_owned())),
            (
                "status",
                Some(if index.open { "open" } else { "close" }.to_owned()),
            ),
            ("index", Some(name.clone())),
            ("uuid", Some(index.uuid.clone())),
            ("pri", Some(index.shards().to_string())),
            ("rep", Some(index.replicas().to_string())),
            ("docs.count", count(index.docs.len() as u64)),
            ("docs.deleted", count(index.deleted_docs)),
            (
                "store.size",
                if live {
                    Some(size(index.store_bytes(now), unit)?)
                } else {
                    None
                },
            ),
            (
                "pri.store.size",
                if live {
                    Some(size(index.primary_bytes(), unit)?)
                } else {
                    None
                },
            ),
            ("creation.date", Some(created.to_string())),
            (
                "creation.date.string",
                Some(crate::domain::wire::time::iso(created)),
            ),
        ]);
    }
    drop(cluster);
    rows.sort_by(|a, b| value_of(a, "index").cmp(&value_of(b, "index")));
    Ok(render(call, &INDEX_COLUMNS, rows)?)
}

/// `GET _cat/allocation[/<nodes>]`: each data node's assigned shard copies and its disk
/// (`DomainConfig::node_disk`, plus the bytes of the copies it holds), then one `UNASSIGNED`
/// row, as the engine adds, when some copies have no node. Copies go round the nodes, shard
/// by shard, the primary first.
pub(crate) fn allocation(shared: &Arc<Shared>, call: &Call, nodes: Option<&str>) -> Answer {
    let unit = call.query.get("bytes");
    let now = Instant::now();
    let count = shared.identity.nodes.len().max(1);
    let mut shards = vec![0u64; count];
    let mut bytes = vec![0u64; count];
    let mut unassigned = 0u64;
    {
        let cluster = shared.cluster();
        for index in cluster.indices.values() {
            let primaries = u64::from(index.shards());
            let per_copy = index.store_bytes(now)
                / (primaries.max(1) * u64::from(1 + index.assigned_replicas()));
            for shard in 0..primaries {
                for copy in 0..=u64::from(index.assigned_replicas()) {
                    let node = usize::try_from((shard + copy) % count as u64).unwrap_or(0);
                    shards[node] += 1;
                    bytes[node] += per_copy;
                }
            }
            unassigned +=
                primaries * u64::from(index.replicas().saturating_sub(index.assigned_replicas()));
        }
    }
    let disk = shared.config.node_disk;
    let wanted = nodes.map(split_list);
    let mut rows = Vec::new();
    for (i, node) in shared.identity.nodes.iter().enumerate() {
        if wanted.as_ref().is_some_and(|w| {
            !w.iter()
                .any(|n| n == &node.name || n == &node.id || n == "_all")
        }) {
            continue;
        }
        let used = disk
            .other_used_bytes
            .saturating_add(bytes[i])
            .min(disk.total_bytes);
        let percent = (used * 100).checked_div(disk.total_bytes).unwrap_or(0);
        rows.push(vec![
            ("shards", Some(shards[i].to_string())),
            ("disk.indices", Some(size(bytes[i], unit)?)),
            ("disk.used", Some(size(used, unit)?)),
            ("disk.avail", Some(size(disk.total_bytes - used, unit)?)),
            ("disk.total", Some(size(disk.total_bytes, unit)?)),
            ("disk.percent", Some(percent.to_string())),
            ("host", Some(node.ip.clone())),
            ("ip", Some(node.ip.clone())),
            ("node", Some(node.name.clone())),
        ]);
    }
    if unassigned > 0 && wanted.is_none() {
        rows.push(vec![
            ("shards", Some(unassigned.to_string())),
            ("disk.indices", None),
            ("disk.used", None),
            ("disk.avail", None),
            ("disk.total", None),
            ("disk.percent", None),
            ("host", None),
            ("ip", None),
            ("node", Some("UNASSIGNED".to_owned())),
        ]);
    }
    Ok(render(call, &ALLOCATION_COLUMNS, rows)?)
}

/// `GET _cat/shards[/<indices>]`: each shard's primary, then its replicas. A copy that is
/// not started says why in `unassigned.reason` (`UnassignedInfo.Reason`): a restored index's
/// copies start as `NEW_INDEX_RESTORED`, a new one's as `INDEX_CREATED`, and a primary whose
/// restore failed stays `UNASSIGNED` as `ALLOCATION_FAILED`, with the failure in
/// `unassigned.details`. Replicas a domain has no node for stay unassigned.
pub(crate) fn shards(shared: &Arc<Shared>, call: &Call, pattern: Option<&str>) -> Answer {
    let options = IndicesOptions {
        closed: true,
        hidden: true,
        ..IndicesOptions::STRICT
    }
    .with_query(&call.query)?;
    let unit = call.query.get("bytes");
    let nodes = &shared.identity.nodes;
    let cluster = shared.cluster();
    let names = cluster.resolve(&pattern.map(split_list).unwrap_or_default(), options)?;
    let now = Instant::now();
    let mut rows = Vec::new();
    for name in names {
        let Some(index) = cluster.indices.get(&name) else {
            continue;
        };
        if !index.open {
            continue;
        }
        let created_as = if index.recovery.is_snapshot() {
            "NEW_INDEX_RESTORED"
        } else {
            "INDEX_CREATED"
        };
        let primaries_up = index.primaries_active(now);
        let replicas_up = index.recovery.replicas_done(now, index.replicas());
        let per_copy = index.primary_bytes() / u64::from(index.shards().max(1));
        for shard in 0..index.shards() {
            for copy in 0..=index.replicas() {
                let primary = copy == 0;
                let node = (copy <= index.assigned_replicas() && !nodes.is_empty())
                    .then(|| &nodes[(shard + copy) as usize % nodes.len()]);
                let (state, reason, details) = match (primary, node) {
                    (true, _) if index.red => match &index.failed_recovery {
                        Some(failure) => (
                            "UNASSIGNED",
                            Some("ALLOCATION_FAILED"),
                            Some(failure.clone()),
                        ),
                        None => ("UNASSIGNED", Some("NODE_LEFT"), None),
                    },
                    (true, _) if !primaries_up => ("INITIALIZING", Some(created_as), None),
                    (true, _) => ("STARTED", None, None),
                    (false, None) => ("UNASSIGNED", Some(created_as), None),
                    (false, Some(_)) if !primaries_up => ("UNASSIGNED", Some(created_as), None),
                    (false, Some(_)) if !replicas_up => ("INITIALIZING", Some(created_as), None),
                    (false, Some(_)) => ("STARTED", None, None),
                };
                let started = state == "STARTED";
                let node = node.filter(|_| state != "UNASSIGNED");
                rows.push(vec![
                    ("index", Some(name.clone())),
                    ("shard", Some(shard.to_string())),
                    ("prirep", Some(if primary { "p" } else { "r" }.to_owned())),
                    ("state", Some(state.to_owned())),
                    (
                        "docs",
                        started.then(|| {
                            (index.docs.len() as u64 / u64::from(index.shards().max(1))).to_string()
                        }),
                    ),
                    (
                        "store",
                        if started {
                            Some(size(per_copy, unit)?)
                        } else {
                            None
                        },
                    ),
                    ("ip", node.map(|n| n.ip.clone())),
                    ("id", node.map(|n| n.id.chars().take(4).collect())),
                    ("node", node.map(|n| n.name.clone())),
                    ("unassigned.reason", reason.map(str::to_owned)),
                    ("unassigned.details", details),
                ]);
            }
        }
    }
    drop(cluster);
    Ok(render(call, &SHARD_COLUMNS, rows)?)
}

/// `GET _cat/snapshots/<repository>`: every snapshot, from the same descriptions a verbose
/// listing reads.
pub(crate) async fn snapshots(shared: &Arc<Shared>, call: &Call, repo: Option<&str>) -> Answer {
    let Some(repo) = repo else {
        return Err(EsError::bad_request(
            "action_request_validation_exception",
            "Validation Failed: 1: repositories are missing;",
        )
        .into());
    };
    let ignore_unavailable = call.query.flag("ignore_unavailable", false)?;
    let repository = repositories::lookup(shared, repo)?;
    let listed = select(
        shared,
        &repository,
        &["_all".to_owned()],
        ignore_unavailable,
    )
    .await?;
    let records = full_records(shared, &repository, &listed).await?;
    let now = millis(shared.config.calendar.now());
    let rows: Vec<Row> = records
        .iter()
        .map(|r| {
            let end = r.end_time_in_millis;
            let duration = if end == 0 { now } else { end }.saturating_sub(r.start_time_in_millis);
            vec![
                ("id", Some(r.snapshot.clone())),
                ("status", Some(r.state.clone())),
                (
                    "start_epoch",
                    Some((r.start_time_in_millis / 1000).to_string()),
                ),
                ("start_time", Some(time_of_day(r.start_time_in_millis))),
                ("end_epoch", Some((end / 1000).to_string())),
                ("end_time", Some(time_of_day(end))),
                ("duration", Some(human_duration(duration))),
                ("indices", Some(r.indices.len().to_string())),
                ("successful_shards", Some(r.shards.successful.to_string())),
                ("failed_shards", Some(r.shards.failed.to_string())),
                ("total_shards", Some(r.shards.total.to_string())),
                ("reason", r.reason.clone()),
            ]
        })
        .collect();
    Ok(render(call, &SNAPSHOT_COLUMNS, rows)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people_and_in_units() {
        assert_eq!(size(208, None).unwrap(), "208b");
        assert_eq!(size(1024, None).unwrap(), "1kb");
        assert_eq!(size(5325, None).unwrap(), "5.2kb");
        assert_eq!(size(5325, Some("b")).unwrap(), "5325");
        assert_eq!(size(5325, Some("kb")).unwrap(), "5");
        assert!(size(1, Some("parsecs")).is_err());
    }
}
