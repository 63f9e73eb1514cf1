//! Aliases: `GET [<indices>/]_alias[/<names>]`, atomic `POST _aliases` (add, remove,
//! remove_index), `PUT` and `DELETE <index>/_alias/<name>`, with the engine's checks (an
//! alias may not take an index's name; an alias has at most one write index).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::domain::state::Shared;
use crate::domain::state::cluster::{Cluster, Index};
use crate::domain::state::expressions::IndicesOptions;
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::{is_pattern, simple_match, split_list, validate_alias_name};
use crate::domain::wire::reply::{EsError, Reply};

/// The parts of an alias definition the engine keeps.
const DEFINITION_KEYS: [&str; 6] = [
    "is_write_index",
    "filter",
    "routing",
    "index_routing",
    "search_routing",
    "is_hidden",
];

fn definition(source: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for key in DEFINITION_KEYS {
        if let Some(value) = source.get(key) {
            match key {
                "routing" => {
                    out.insert("index_routing".into(), value.clone());
                    out.insert("search_routing".into(), value.clone());
                }
                _ => {
                    out.insert(key.into(), value.clone());
                }
            }
        }
    }
    Value::Object(out)
}

fn get_options(call: &Call) -> Result<IndicesOptions, EsError> {
    IndicesOptions {
        closed: true,
        ..IndicesOptions::STRICT
    }
    .with_query(&call.query)
}

/// `GET [<indices>/]_alias[/<names>]`.
pub(crate) fn get(
    shared: &Arc<Shared>,
    call: &Call,
    index: Option<&str>,
    names: Option<&str>,
) -> Answer {
    let cluster = shared.cluster();
    let indices = cluster.resolve(
        &index.map(split_list).unwrap_or_default(),
        get_options(call)?,
    )?;
    let patterns = names.map(split_list).unwrap_or_default();
    let wanted = |alias: &str| {
        patterns.is_empty()
            || patterns
                .iter()
                .any(|p| p == "_all" || simple_match(p, alias))
    };
    let mut body = Map::new();
    let mut found: Vec<String> = Vec::new();
    for name in &indices {
        let Some(meta) = cluster.indices.get(name) else {
            continue;
        };
        let aliases: Map<String, Value> = meta
            .aliases
            .iter()
            .filter(|(a, _)| wanted(a))
            .map(|(a, d)| (a.clone(), d.clone()))
            .collect();
        found.extend(aliases.keys().cloned());
        if aliases.is_empty() && !patterns.is_empty() {
            continue;
        }
        body.insert(name.clone(), json!({"aliases": aliases}));
    }
    let missing: Vec<&String> = patterns
        .iter()
        .filter(|p| !is_pattern(p) && *p != "_all" && !found.contains(p))
        .collect();
    if missing.is_empty() {
        return Ok(Reply::ok(&Value::Object(body)));
    }
    let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    let message = if list.len() == 1 {
        format!("alias [{}] missing", list[0])
    } else {
        format!("aliases [{}] missing", list.join(","))
    };
    body.insert("error".into(), json!(message));
    body.insert("status".into(), json!(404));
    Ok(Reply::json(StatusCode::NOT_FOUND, &Value::Object(body)))
}

fn aliases_not_found(names: &[String]) -> EsError {
    EsError::new(
        StatusCode::NOT_FOUND,
        "aliases_not_found_exception",
        format!("aliases [{}] missing", names.join(",")),
    )
    .with("resource.type", "aliases")
    .with("resource.id", names.join(","))
}

fn one_or_many(action: &Map<String, Value>, one: &str, many: &str) -> Result<Vec<String>, EsError> {
    let mut out = Vec::new();
    if let Some(v) = action.get(one) {
        match v {
            Value::String(s) => out.push(s.clone()),
            _ => return Err(EsError::parse(format!("[{one}] must be a string"))),
        }
    }
    if let Some(v) = action.get(many) {
        match v {
            Value::String(s) => out.extend(split_list(s)),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        _ => return Err(EsError::parse(format!("[{many}] must hold strings"))),
                    }
                }
            }
            _ => return Err(EsError::parse(format!("[{many}] must be a list"))),
        }
    }
    Ok(out)
}

fn add_alias(
    shared: &Shared,
    indices: &mut BTreeMap<String, Index>,
    index: &str,
    alias: &str,
    def: Value,
) -> Result<(), EsError> {
    validate_alias_name(alias, shared.opensearch())?;
    if indices.contains_key(alias) {
        return Err(EsError::bad_request(
            "invalid_alias_name_exception",
            format!(
                "Invalid alias name [{alias}], an index or data stream exists with the same name \
                 as the alias"
            ),
        )
        .with("index_uuid", "_na_")
        .with("index", alias));
    }
    match indices.get_mut(index) {
        Some(meta) => {
            meta.aliases.insert(alias.to_owned(), def);
            Ok(())
        }
        None => Err(EsError::index_not_found(index)),
    }
}

/// Each alias may have one write index at most.
fn check_write_indices(cluster: &Cluster) -> Result<(), EsError> {
    for alias in cluster.alias_names() {
        let writers: Vec<String> = cluster
            .alias_indices(&alias)
            .into_iter()
            .filter(|i| {
                cluster.indices[i].aliases[&alias].get("is_write_index") == Some(&json!(true))
            })
            .collect();
        if writers.len() > 1 {
            return Err(EsError::illegal_state(format!(
                "alias [{alias}] has more than one write index [{}]",
                writers.join(",")
            )));
        }
    }
    Ok(())
}

fn resolve_targets(cluster: &Cluster, expressions: &[String]) -> Result<Vec<String>, EsError> {
    if expressions.is_empty() {
        return Err(EsError::bad_request(
            "action_request_validation_exception",
            "Validation Failed: 1: One of [index] or [indices] is required;",
        ));
    }
    cluster.resolve(
        expressions,
        IndicesOptions {
            allow_no_indices: false,
            closed: true,
            forbid_aliases: true,
            ..IndicesOptions::STRICT
        },
    )
}

fn apply(shared: &Shared, cluster: &mut Cluster, actions: &[Value]) -> Result<(), EsError> {
    // Applied to a copy, so a failing action leaves nothing half done.
    let mut scratch = Cluster {
        indices: cluster.indices.clone(),
        ..Cluster::default()
    };
    for action in actions {
        let Some((kind, body)) = action.as_object().and_then(|m| m.iter().next()) else {
            return Err(EsError::parse("an alias action must be an object"));
        };
        let Value::Object(body) = body else {
            return Err(EsError::parse(format!("[{kind}] must be an object")));
        };
        let targets = resolve_targets(&scratch, &one_or_many(body, "index", "indices")?)?;
        match kind.as_str() {
            "add" => {
                let aliases = one_or_many(body, "alias", "aliases")?;
                if aliases.is_empty() {
                    return Err(EsError::bad_request(
                        "action_request_validation_exception",
                        "Validation Failed: 1: [alias] or [aliases] is required;",
                    ));
                }
                for index in &targets {
                    for alias in &aliases {
                        add_alias(shared, &mut scratch.indices, index, alias, definition(body))?;
                    }
                }
            }
            "remove" => {
                let patterns = one_or_many(body, "alias", "aliases")?;
                let mut removed = false;
                for index in &targets {
                    if let Some(meta) = scratch.indices.get_mut(index) {
                        let before = meta.aliases.len();
                        meta.aliases
                            .retain(|a, _| !patterns.iter().any(|p| simple_match(p, a)));
                        removed |= meta.aliases.len() != before;
                    }
                }
                if !removed {
                    return Err(aliases_not_found(&patterns));
                }
            }
            "remove_index" => {
                for index in &targets {
                    scratch.indices.remove(index);
                }
            }
            other => {
                return Err(EsError::parse(format!("[aliases] unknown field [{other}]")));
            }
        }
    }
    check_write_indices(&scratch)?;
    cluster.indices = scratch.indices;
    Ok(())
}

/// `POST _aliases`.
pub(crate) fn update(shared: &Arc<Shared>, call: &Call) -> Answer {
    let body = call.json_object()?;
    let actions = match body.get("actions") {
        Some(Value::Array(actions)) if !actions.is_empty() => actions.clone(),
        _ => {
            return Err(EsError::bad_request(
                "action_request_validation_exception",
                "Validation Failed: 1: no actions specified;",
            )
            .into());
        }
    };
    let mut cluster = shared.cluster();
    apply(shared, &mut cluster, &actions)?;
    Ok(Reply::acknowledged())
}

/// `PUT <indices>/_alias/<name>`.
pub(crate) fn put(shared: &Arc<Shared>, call: &Call, index: &str, name: &str) -> Answer {
    let mut body = call.json_object()?;
    body.insert("indices".into(), json!(split_list(index)));
    body.insert("alias".into(), json!(name));
    let mut cluster = shared.cluster();
    apply(shared, &mut cluster, &[json!({"add": body})])?;
    Ok(Reply::acknowledged())
}

/// `DELETE <indices>/_alias/<names>`.
pub(crate) fn delete(shared: &Arc<Shared>, _call: &Call, index: &str, name: &str) -> Answer {
    let action = json!({"remove": {"indices": split_list(index), "aliases": split_list(name)}});
    let mut cluster = shared.cluster();
    apply(shared, &mut cluster, &[action])?;
    Ok(Reply::acknowledged())
}
