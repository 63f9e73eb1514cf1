//! Index lifecycle: create (settings, mappings, aliases), delete (lists, wildcards, `_all`),
//! get, exists, open and close.

use std::sync::Arc;

use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::domain::state::Shared;
use crate::domain::state::cluster::SECURITY_INDEX;
use crate::domain::state::cluster::{Cluster, Index};
use crate::domain::state::cluster_settings::check_shard_limit;
use crate::domain::state::expressions::IndicesOptions;
use crate::domain::state::index_creation::create_index;
use crate::domain::state::settings::{self, Settings};
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::{is_pattern, simple_match, split_list, validate_alias_name};
use crate::domain::wire::reply::{EsError, Reply};

fn security_refusal(shared: &Shared, call: &Call, action: &str) -> EsError {
    EsError::new(
        StatusCode::FORBIDDEN,
        "security_exception",
        format!(
            "no permissions for [{action}] and User [name={}, backend_roles=[], requestedTenant=null]",
            call.caller_arn
        ),
    )
    .with("index", SECURITY_INDEX)
    .with("cluster", shared.identity.cluster_name.as_str())
}

/// The aliases of a create-index or restore body, checked.
pub(crate) fn parse_aliases(
    value: &Value,
    opensearch: bool,
) -> Result<std::collections::BTreeMap<String, Value>, EsError> {
    let Value::Object(map) = value else {
        return Err(EsError::parse("aliases must be an object"));
    };
    let mut out = std::collections::BTreeMap::new();
    for (name, definition) in map {
        validate_alias_name(name, opensearch)?;
        let definition = match definition {
            // `Alias.routing` sets both routings, as a put-alias body's `routing` does.
            Value::Object(d) => {
                let mut d = d.clone();
                if let Some(routing) = d.remove("routing") {
                    d.entry("index_routing").or_insert_with(|| routing.clone());
                    d.entry("search_routing").or_insert(routing);
                }
                Value::Object(d)
            }
            Value::Null => json!({}),
            _ => return Err(EsError::parse(format!("alias [{name}] must be an object"))),
        };
        out.insert(name.clone(), definition);
    }
    Ok(out)
}

/// Amazon OpenSearch Service refuses the close index API before Elasticsearch 7.4 (Developer
/// Guide, Troubleshooting, "Can't close index"); what its refusal looks like is not
/// documented, so the stand-in answers with a refusal of its own that says so.
fn close_not_modelled(shared: &Shared) -> Reply {
    if !shared.aws() {
        // The engine's own close API exists there; the stand-in models it as 7.4+ runs it.
        return Reply::json(
            StatusCode::NOT_IMPLEMENTED,
            &json!({"error": format!(
                "stand-in: _close on a self-managed {} {} is not modelled (only as Elasticsearch \
                 7.4+ and OpenSearch run it)",
                shared.config.engine.product(),
                shared.config.engine.version()
            )}),
        );
    }
    Reply::json(
        StatusCode::NOT_IMPLEMENTED,
        &json!({"error": format!(
            "stand-in: Amazon OpenSearch Service accepts _close only from Elasticsearch 7.4; its \
             answer on {} {} is not modelled",
            shared.config.engine.product(),
            shared.config.engine.version()
        )}),
    )
}

/// `ObjectMapper.TypeParser`: a mapped field needs a name; the create index service wraps the
/// refusal as a mapping that failed to parse.
fn check_field_names(mapping: &Value) -> Result<(), EsError> {
    let Some(properties) = mapping.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, field) in properties {
        if name.is_empty() {
            let why = "field name cannot be an empty string";
            return Err(EsError::bad_request(
                "mapper_parsing_exception",
                format!("Failed to parse mapping [_doc]: {why}"),
            )
            .caused_by(EsError::illegal_argument(why)));
        }
        check_field_names(field)?;
    }
    Ok(())
}

/// `PUT <index>`.
pub(crate) fn create(shared: &Arc<Shared>, call: &Call, name: &str) -> Answer {
    let body = call.json_object()?;
    let (mut settings, mut mappings, mut aliases) =
        (Settings::new(), json!({}), Default::default());
    for (key, value) in &body {
        match key.as_str() {
            "settings" => settings = settings::flatten(value)?,
            "mappings" => {
                if !value.is_object() {
                    return Err(EsError::parse("mappings must be an object").into());
                }
                check_field_names(value)?;
                mappings = value.clone();
            }
            "aliases" => aliases = parse_aliases(value, shared.opensearch())?,
            other => {
                return Err(
                    EsError::parse(format!("unknown key [{other}] for create index")).into(),
                );
            }
        }
    }
    let mut cluster = shared.cluster();
    create_index(shared, &mut cluster, name, settings, mappings, aliases)?;
    Ok(Reply::ok(&json!({
        "acknowledged": true, "shards_acknowledged": true, "index": name
    })))
}

/// Refuses to touch indices a running snapshot is copying.
pub(crate) fn ensure_not_snapshotting(
    cluster: &Cluster,
    names: &[String],
    verb: &str,
) -> Result<(), EsError> {
    let busy: Vec<String> = names
        .iter()
        .filter(|n| cluster.running.iter().any(|r| r.record.indices.contains(n)))
        .filter_map(|n| cluster.indices.get(n).map(|i| format!("[{n}/{}]", i.uuid)))
        .collect();
    if busy.is_empty() {
        return Ok(());
    }
    Err(EsError::bad_request(
        "snapshot_in_progress_exception",
        format!(
            "Cannot {verb} indices that are being snapshotted: [{}]. Try again after snapshot \
             finishes or cancel the currently running snapshot.",
            busy.join(", ")
        ),
    ))
}

/// `DELETE <indices>`.
pub(crate) fn delete(shared: &Arc<Shared>, call: &Call, expression: &str) -> Answer {
    let expressions = split_list(expression);
    if expressions.iter().any(|e| e == SECURITY_INDEX) {
        return Err(security_refusal(shared, call, "indices:admin/delete").into());
    }
    let options = IndicesOptions {
        closed: true,
        forbid_aliases: true,
        ..IndicesOptions::STRICT
    }
    .with_query(&call.query)?;
    let mut cluster = shared.cluster();
    let mut names = cluster.resolve(&expressions, options)?;
    names.retain(|n| n != SECURITY_INDEX);
    ensure_not_snapshotting(&cluster, &names, "delete")?;
    cluster.release_backing_indices(&names)?;
    for name in &names {
        cluster.indices.remove(name);
    }
    Ok(Reply::acknowledged())
}

fn describe(index: &Index) -> Value {
    let aliases: Map<String, Value> = index
        .aliases
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({
        "aliases": aliases,
        "mappings": index.mappings,
        "settings": settings::nest(&index.settings)
    })
}

fn get_options(call: &Call) -> Result<IndicesOptions, EsError> {
    IndicesOptions {
        closed: true,
        ..IndicesOptions::STRICT
    }
    .with_query(&call.query)
}

/// `GET <indices>`.
pub(crate) fn get(shared: &Arc<Shared>, call: &Call, expression: &str) -> Answer {
    let options = get_options(call)?;
    let cluster = shared.cluster();
    let names = cluster.resolve(&split_list(expression), options)?;
    let body: Map<String, Value> = names
        .iter()
        .filter_map(|n| cluster.indices.get(n).map(|i| (n.clone(), describe(i))))
        .collect();
    Ok(Reply::ok(&Value::Object(body)))
}

/// `GET <indices>/_settings[/<names>]`: each index's settings, those `names` match (comma
/// separated, with wildcards) when given; flat with `flat_settings`, else nested.
pub(crate) fn get_settings(
    shared: &Arc<Shared>,
    call: &Call,
    expression: &str,
    names: Option<&str>,
) -> Answer {
    let options = get_options(call)?;
    let flat = call.query.flag("flat_settings", false)?;
    let wanted = names.map(split_list);
    let cluster = shared.cluster();
    let indices = cluster.resolve(&split_list(expression), options)?;
    let body: Map<String, Value> = indices
        .iter()
        .filter_map(|n| cluster.indices.get(n).map(|i| (n, i)))
        .map(|(n, i)| {
            let chosen: Settings = i
                .settings
                .iter()
                .filter(|(k, _)| {
                    wanted
                        .as_ref()
                        .is_none_or(|w| w.iter().any(|p| simple_match(p, k)))
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let settings = if flat {
                serde_json::to_value(&chosen).unwrap_or_default()
            } else {
                settings::nest(&chosen)
            };
            (n.clone(), json!({ "settings": settings }))
        })
        .collect();
    Ok(Reply::ok(&Value::Object(body)))
}

/// `HEAD <indices>`: 200 when every name resolves to an index.
pub(crate) fn exists(shared: &Arc<Shared>, call: &Call, expression: &str) -> Answer {
    let options = get_options(call)?;
    let cluster = shared.cluster();
    let status = match cluster.resolve(&split_list(expression), options) {
        Ok(names) if !names.is_empty() || is_pattern(expression) => StatusCode::OK,
        _ => StatusCode::NOT_FOUND,
    };
    Ok(Reply::empty(status))
}

/// `POST <indices>/_open` and `POST <indices>/_close`.
pub(crate) fn set_open(shared: &Arc<Shared>, call: &Call, expression: &str, open: bool) -> Answer {
    let options = IndicesOptions {
        open: !open,
        closed: open,
        ..IndicesOptions::STRICT
    }
    .with_query(&call.query)?;
    if !open && !shared.capabilities().close_index {
        return Err(close_not_modelled(shared));
    }
    let mut cluster = shared.cluster();
    let names = cluster.resolve(&split_list(expression), options)?;
    if !open {
        ensure_not_snapshotting(&cluster, &names, "close")?;
    } else {
        let reopened: u64 = names
            .iter()
            .filter_map(|n| cluster.indices.get(n))
            .filter(|i| !i.open)
            .map(|i| u64::from(i.shards()) * (1 + u64::from(i.replicas())))
            .sum();
        check_shard_limit(&cluster, reopened)?;
    }
    for name in &names {
        if let Some(index) = cluster.indices.get_mut(name) {
            index.open = open;
        }
    }
    if open {
        return Ok(Reply::ok(
            &json!({"acknowledged": true, "shards_acknowledged": true}),
        ));
    }
    let closed: Map<String, Value> = names
        .iter()
        .map(|n| (n.clone(), json!({"closed": true})))
        .collect();
    Ok(Reply::ok(&json!({
        "acknowledged": true, "shards_acknowledged": true, "indices": closed
    })))
}
