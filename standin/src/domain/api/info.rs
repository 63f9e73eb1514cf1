//! `GET /`, `GET _cluster/health` and `GET _recovery`: who the domain is, how healthy it is,
//! and where its shard copies are in their recoveries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::domain::state::Shared;
use crate::domain::state::cluster::{Cluster, DATA_NODES, Health, Index};
use crate::domain::state::config::{Engine, SelfManagedAccess};
use crate::domain::state::expressions::IndicesOptions;
use crate::domain::state::recovery::ShardView;
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::split_list;
use crate::domain::wire::reply::{EsError, Reply};

fn lucene_version(engine: &Engine) -> &'static str {
    match (engine.is_opensearch(), engine.numbers()) {
        (false, (6, _, _)) => "7.7.3",
        (false, (7, minor, _)) if minor < 7 => "8.2.0",
        (false, _) => "8.7.0",
        (true, (1, _, _)) => "8.10.1",
        (true, (2, minor, _)) if minor < 12 => "9.7.0",
        (true, (2, 12 | 13, _)) => "9.10.0",
        (true, (2, _, _)) => "9.11.1",
        (true, _) => "10.2.1",
    }
}

/// The oldest versions a node talks to and reads indices of.
fn compatibility(engine: &Engine) -> (&'static str, &'static str) {
    match (engine.is_opensearch(), engine.numbers().0) {
        (false, 6) => ("5.6.0", "5.0.0"),
        (false, _) => ("6.8.0", "6.0.0-beta1"),
        (true, 1 | 2) => ("7.10.0", "7.0.0"),
        (true, _) => ("2.19.0", "2.0.0"),
    }
}

/// AWS runs the OSS build of Elasticsearch. Elasticsearch security (basic authentication)
/// exists only in the default distribution, whose `GET /` says `default`.
fn build_flavor(shared: &Shared) -> &'static str {
    match shared.config.self_managed {
        Some(SelfManagedAccess::Basic { .. }) => "default",
        _ => "oss",
    }
}

pub(crate) fn root(shared: &Shared) -> Reply {
    let engine = &shared.config.engine;
    let (wire, index) = compatibility(engine);
    let version = if engine.is_opensearch() {
        json!({
            "distribution": "opensearch",
            "number": engine.version(),
            "build_type": "tar",
            "build_hash": "unknown",
            "build_date": "2024-04-30T10:00:00.000000Z",
            "build_snapshot": false,
            "lucene_version": lucene_version(engine),
            "minimum_wire_compatibility_version": wire,
            "minimum_index_compatibility_version": index
        })
    } else {
        json!({
            "number": engine.version(),
            "build_flavor": build_flavor(shared),
            "build_type": "tar",
            "build_hash": "unknown",
            "build_date": "2021-01-13T00:42:12.435326Z",
            "build_snapshot": false,
            "lucene_version": lucene_version(engine),
            "minimum_wire_compatibility_version": wire,
            "minimum_index_compatibility_version": index
        })
    };
    let tagline = if engine.is_opensearch() {
        "The OpenSearch Project: https://opensearch.org/"
    } else {
        "You Know, for Search"
    };
    let identity = &shared.identity;
    let name = identity
        .nodes
        .first()
        .map(|n| n.name.clone())
        .unwrap_or_default();
    Reply::ok(&json!({
        "name": name,
        "cluster_name": identity.cluster_name,
        "cluster_uuid": identity.cluster_uuid,
        "version": version,
        "tagline": tagline
    }))
}

/// Shard copies of one index, by state.
#[derive(Debug, Default, Clone, Copy)]
struct ShardCounts {
    active_primary: u64,
    active: u64,
    initializing: u64,
    unassigned: u64,
}

fn shard_counts(index: &Index, now: Instant) -> ShardCounts {
    let shards = u64::from(index.shards());
    let replicas = u64::from(index.replicas());
    let assigned = u64::from(index.assigned_replicas());
    let mut counts = ShardCounts {
        unassigned: shards * (replicas - assigned),
        ..ShardCounts::default()
    };
    if index.red {
        counts.unassigned += shards * (1 + assigned);
    } else if !index.primaries_active(now) {
        counts.initializing += shards;
        counts.unassigned += shards * assigned;
    } else {
        counts.active_primary += shards;
        counts.active += shards;
        if index.recovery.replicas_done(now, index.replicas()) {
            counts.active += shards * assigned;
        } else {
            counts.initializing += shards * assigned;
        }
    }
    counts
}

fn health_body(
    shared: &Shared,
    cluster: &Cluster,
    names: &[String],
    now: Instant,
) -> (Health, Value) {
    let mut total = ShardCounts::default();
    let mut status = Health::Green;
    for index in names.iter().filter_map(|n| cluster.indices.get(n)) {
        let c = shard_counts(index, now);
        total.active_primary += c.active_primary;
        total.active += c.active;
        total.initializing += c.initializing;
        total.unassigned += c.unassigned;
        status = status.max(index.health(now));
    }
    let all = total.active + total.initializing + total.unassigned;
    let percent = if all == 0 {
        100.0
    } else {
        total.active as f64 * 100.0 / all as f64
    };
    let mut body = Map::new();
    body.insert("cluster_name".into(), json!(shared.identity.cluster_name));
    body.insert("status".into(), json!(status.as_str()));
    body.insert("timed_out".into(), json!(false));
    body.insert("number_of_nodes".into(), json!(DATA_NODES));
    body.insert("number_of_data_nodes".into(), json!(DATA_NODES));
    if shared.opensearch() {
        body.insert("discovered_master".into(), json!(true));
        body.insert("discovered_cluster_manager".into(), json!(true));
    }
    for (key, value) in [
        ("active_primary_shards", total.active_primary),
        ("active_shards", total.active),
        ("relocating_shards", 0),
        ("initializing_shards", total.initializing),
        ("unassigned_shards", total.unassigned),
        ("delayed_unassigned_shards", 0),
        ("number_of_pending_tasks", 0),
        ("number_of_in_flight_fetch", 0),
        ("task_max_waiting_in_queue_millis", 0),
    ] {
        body.insert(key.into(), json!(value));
    }
    body.insert("active_shards_percent_as_number".into(), json!(percent));
    (status, Value::Object(body))
}

/// `30s`, `500ms`, `1m`.
fn parse_timeout(text: &str) -> Result<Duration, EsError> {
    let bad = || {
        EsError::parse(format!(
            "failed to parse setting [timeout] with value [{text}] as a time value: unit is missing or unrecognized"
        ))
    };
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map(|at| text.split_at(at))
        .ok_or_else(bad)?;
    let n: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(bad()),
    }
}

fn wanted_health(text: &str) -> Result<Health, EsError> {
    match text {
        "green" => Ok(Health::Green),
        "yellow" => Ok(Health::Yellow),
        "red" => Ok(Health::Red),
        other => Err(EsError::illegal_argument(format!(
            "unknown cluster health status [{other}]"
        ))),
    }
}

/// `GET _cluster/health[/<indices>]`, waiting for `wait_for_status` up to `timeout`.
pub(crate) async fn health(shared: &Arc<Shared>, call: &Call, index: Option<&str>) -> Answer {
    let wanted = call
        .query
        .get("wait_for_status")
        .map(wanted_health)
        .transpose()?;
    let timeout = call
        .query
        .get("timeout")
        .map(parse_timeout)
        .transpose()?
        .unwrap_or(Duration::from_secs(30));
    let expressions = index.map(split_list).unwrap_or_default();
    let options = IndicesOptions {
        hidden: true,
        closed: true,
        ..IndicesOptions::STRICT
    }
    .with_query(&call.query)?;
    let deadline = Instant::now() + timeout;
    loop {
        let now = Instant::now();
        let (status, mut body) = {
            let cluster = shared.cluster();
            let names = cluster.resolve(&expressions, options)?;
            health_body(shared, &cluster, &names, now)
        };
        let reached = wanted.is_none_or(|w| status <= w);
        if reached || now >= deadline {
            if reached {
                return Ok(Reply::ok(&body));
            }
            body["timed_out"] = json!(true);
            return Ok(Reply::json(StatusCode::REQUEST_TIMEOUT, &body));
        }
        tokio::time::sleep(Duration::from_millis(10).min(deadline - now)).await;
    }
}

/// `GET [<indices>/]_recovery`.
pub(crate) fn recovery(shared: &Shared, call: &Call, index: Option<&str>) -> Answer {
    let active_only = call.query.flag("active_only", false)?;
    let expressions = index.map(split_list).unwrap_or_default();
    let options = IndicesOptions {
        hidden: true,
        ..IndicesOptions::STRICT
    }
    .with_query(&call.query)?;
    let cluster = shared.cluster();
    let names = cluster.resolve(&expressions, options)?;
    let nodes = &shared.identity.nodes;
    let now = Instant::now();
    let mut body = Map::new();
    for name in names {
        let Some(index) = cluster.indices.get(&name) else {
            continue;
        };
        if index.red || nodes.is_empty() {
            continue;
        }
        let shards = index.shards();
        // A restore copies what the snapshot holds; an empty store starts from nothing.
        let (all_bytes, all_files) = if index.recovery.is_snapshot() {
            (index.recovery.total_bytes, index.recovery.total_files)
        } else {
            (index.primary_bytes(), index.primary_files())
        };
        let bytes = all_bytes / u64::from(shards);
        let files = all_files.div_ceil(u64::from(shards));
        let mut entries = Vec::new();
        for shard in 0..shards {
            let primary_node = &nodes[shard as usize % nodes.len()];
            let primary = ShardView {
                shard,
                primary: true,
                progress: index.recovery.primary(now, index.replicas()),
                recovery: &index.recovery,
                target: primary_node,
                source_node: None,
                bytes,
                files,
            };
            entries.push(primary);
            for copy in 0..index.assigned_replicas() {
                let target = &nodes[(shard + copy + 1) as usize % nodes.len()];
                if let Some(progress) = index.recovery.replica(now, index.replicas()) {
                    entries.push(ShardView {
                        shard,
                        primary: false,
                        progress,
                        recovery: &index.recovery,
                        target,
                        source_node: Some(primary_node),
                        bytes,
                        files,
                    });
                }
            }
        }
        let shards: Vec<Value> = entries
            .iter()
            .filter(|e| {
                !active_only || e.progress.stage != crate::domain::state::recovery::Stage::Done
            })
            .map(ShardView::to_json)
            .collect();
        if !shards.is_empty() {
            body.insert(name, json!({"shards": shards}));
        }
    }
    Ok(Reply::ok(&Value::Object(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_timeout("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_timeout("soon").is_err());
    }
}
