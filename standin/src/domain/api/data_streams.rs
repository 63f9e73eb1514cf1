//! The index template and data stream APIs, as much as data streams need:
//! `PUT/GET _index_template/<name>` (`index_patterns`, `priority`, `data_stream: {}`,
//! `template.settings` and `template.mappings`), `PUT/GET/DELETE _data_stream/<name>` and
//! `POST <stream>/_rollover` (no conditions: it always rolls). Engines without data streams
//! (`policy::engines`, `Feature::DataStreams`) get the stand-in's refusal. Body and answer
//! shapes: OpenSearch's REST API specs (`indices.put_index_template`,
//! `indices.create_data_stream`, `indices.get_data_stream`, `indices.rollover`) and
//! `GetDataStreamAction.Response`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::domain::state::Shared;
use crate::domain::state::data_streams::{IndexTemplate, TIMESTAMP_FIELD, not_on_this_engine};
use crate::domain::state::settings::{self, Settings};
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::{simple_match, split_list};
use crate::domain::wire::reply::{EsError, Reply};

fn ensure_streams(shared: &Shared) -> Result<(), EsError> {
    if shared.capabilities().data_streams {
        Ok(())
    } else {
        Err(not_on_this_engine(shared))
    }
}

fn parse_template(body: &Map<String, Value>) -> Result<IndexTemplate, EsError> {
    let mut template = IndexTemplate {
        patterns: Vec::new(),
        priority: 0,
        data_stream: false,
        settings: Settings::new(),
        mappings: json!({}),
        body: Value::Object(body.clone()),
    };
    for (key, value) in body {
        match key.as_str() {
            "index_patterns" => {
                template.patterns = match value {
                    Value::String(s) => split_list(s),
                    Value::Array(items) => items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect(),
                    _ => return Err(EsError::parse("index_patterns must be a list")),
                };
            }
            "priority" => {
                template.priority = value
                    .as_i64()
                    .ok_or_else(|| EsError::parse("priority must be a number"))?;
            }
            "data_stream" => template.data_stream = value.is_object(),
            "template" => {
                let Value::Object(inner) = value else {
                    return Err(EsError::parse("template must be an object"));
                };
                for (k, v) in inner {
                    match k.as_str() {
                        "settings" => template.settings = settings::flatten(v)?,
                        "mappings" if v.is_object() => template.mappings = v.clone(),
                        other => {
                            return Err(EsError::illegal_argument(format!(
                                "stand-in: template field [{other}] is not modelled"
                            )));
                        }
                    }
                }
            }
            "_meta" | "version" => {}
            other => {
                return Err(EsError::illegal_argument(format!(
                    "stand-in: index template field [{other}] is not modelled (composed_of, \
                     aliases and the rest are refused rather than ignored)"
                )));
            }
        }
    }
    if template.patterns.is_empty() {
        return Err(EsError::bad_request(
            "action_request_validation_exception",
            "Validation Failed: 1: index patterns are missing;",
        ));
    }
    settings::validate(&template.settings)?;
    Ok(template)
}

/// `PUT _index_template/<name>`.
pub(crate) fn put_template(shared: &Arc<Shared>, call: &Call, name: &str) -> Answer {
    ensure_streams(shared)?;
    let template = parse_template(&call.json_object()?)?;
    shared.cluster().templates.insert(name.to_owned(), template);
    Ok(Reply::ok(&json!({"acknowledged": true})))
}

/// `GET _index_template[/<name>]`.
pub(crate) fn get_templates(shared: &Arc<Shared>, name: Option<&str>) -> Answer {
    ensure_streams(shared)?;
    let cluster = shared.cluster();
    let pattern = name.unwrap_or("*");
    let found: Vec<Value> = cluster
        .templates
        .iter()
        .filter(|(n, _)| simple_match(pattern, n))
        .map(|(n, t)| json!({"name": n, "index_template": t.body}))
        .collect();
    if found.is_empty() && name.is_some_and(|n| !n.contains('*')) {
        return Err(EsError::new(
            http::StatusCode::NOT_FOUND,
            "resource_not_found_exception",
            format!("index template matching [{pattern}] not found"),
        )
        .into());
    }
    Ok(Reply::ok(&json!({"index_templates": found})))
}

/// `PUT _data_stream/<name>`.
pub(crate) fn create(shared: &Arc<Shared>, name: &str) -> Answer {
    ensure_streams(shared)?;
    shared.cluster().create_data_stream(shared, name)?;
    Ok(Reply::ok(&json!({"acknowledged": true})))
}

fn missing(expression: &str) -> EsError {
    EsError::new(
        http::StatusCode::NOT_FOUND,
        "resource_not_found_exception",
        format!("data_stream matching [{expression}] not found"),
    )
}

/// The streams `expression` names: a comma list of names and wildcards; a missing name fails.
fn selected(shared: &Shared, expression: Option<&str>) -> Result<Vec<String>, EsError> {
    let cluster = shared.cluster();
    let parts = expression.map_or_else(|| vec!["*".to_owned()], split_list);
    let mut out = Vec::new();
    for part in &parts {
        let matched: Vec<&String> = cluster
            .data_streams
            .keys()
            .filter(|n| simple_match(part, n) || part == "_all")
            .collect();
        if matched.is_empty() && !part.contains('*') && part != "_all" {
            return Err(missing(part));
        }
        for name in matched {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    Ok(out)
}

/// `GET _data_stream[/<names>]`.
pub(crate) fn get(shared: &Arc<Shared>, name: Option<&str>) -> Answer {
    ensure_streams(shared)?;
    let names = selected(shared, name)?;
    let cluster = shared.cluster();
    let now = std::time::Instant::now();
    let streams: Vec<Value> = names
        .iter()
        .filter_map(|n| cluster.data_streams.get(n))
        .map(|s| {
            let health = s
                .indices
                .iter()
                .filter_map(|i| cluster.indices.get(i))
                .map(|i| i.health(now))
                .max()
                .map_or("GREEN", |h| match h.as_str() {
                    "green" => "GREEN",
                    "yellow" => "YELLOW",
                    _ => "RED",
                });
            json!({
                "name": s.name,
                "timestamp_field": {"name": TIMESTAMP_FIELD},
                "indices": s.indices.iter().map(|i| json!({
                    "index_name": i,
                    "index_uuid": cluster.indices.get(i).map(|m| m.uuid.clone()),
                })).collect::<Vec<_>>(),
                "generation": s.generation,
                "status": health,
                "template": s.template,
            })
        })
        .collect();
    Ok(Reply::ok(&json!({"data_streams": streams})))
}

/// `DELETE _data_stream/<names>`: the streams and every backing index.
pub(crate) fn delete(shared: &Arc<Shared>, _call: &Call, expression: &str) -> Answer {
    ensure_streams(shared)?;
    let names = selected(shared, Some(expression))?;
    let mut cluster = shared.cluster();
    let busy: Vec<String> = names
        .iter()
        .filter(|n| {
            cluster.running.iter().any(|r| {
                cluster.data_streams[*n]
                    .indices
                    .iter()
                    .any(|i| r.record.indices.contains(i))
            })
        })
        .cloned()
        .collect();
    if !busy.is_empty() {
        return Err(EsError::bad_request(
            "snapshot_in_progress_exception",
            format!(
                "Cannot delete data streams that are being snapshotted: [{}]",
                busy.join(", ")
            ),
        )
        .into());
    }
    for name in &names {
        if let Some(stream) = cluster.data_streams.remove(name) {
            for index in &stream.indices {
                cluster.indices.remove(index);
            }
        }
    }
    Ok(Reply::ok(&json!({"acknowledged": true})))
}

/// `POST <stream>/_rollover` (streams only: alias rollover is not modelled).
pub(crate) fn rollover(shared: &Arc<Shared>, target: &str) -> Answer {
    ensure_streams(shared)?;
    let mut cluster = shared.cluster();
    if !cluster.data_streams.contains_key(target) {
        return Err(EsError::illegal_argument(format!(
            "stand-in: rollover of [{target}] is not modelled (only data streams roll over here)"
        ))
        .into());
    }
    let (old, new) = cluster.rollover(shared, target)?;
    Ok(Reply::ok(&json!({
        "acknowledged": true,
        "shards_acknowledged": true,
        "old_index": old,
        "new_index": new,
        "rolled_over": true,
        "dry_run": false,
        "conditions": {}
    })))
}
