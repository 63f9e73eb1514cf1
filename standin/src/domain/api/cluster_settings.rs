//! `GET` and `PUT _cluster/settings`, for the one cluster setting the stand-in models:
//! `cluster.max_shards_per_node`, and the shard limit it sets (OpenSearch and Elasticsearch
//! `ShardLimitValidator`, its check stated once in `policy::restore_rules`). The limit is
//! checked where the engine checks it: creating an index, opening closed ones, and restoring
//! an index that does not exist yet (a restore over a closed index is not checked:
//! `RestoreService` validates the limit only when `currentIndexMetadata == null`). Any other
//! setting is refused rather than accepted and ignored.

use std::collections::BTreeMap;
use std::sync::Arc;

use policy::restore_rules::DEFAULT_MAX_SHARDS_PER_NODE;
use serde_json::{Map, Value, json};

use crate::domain::state::Shared;
use crate::domain::state::cluster_settings::MAX_SHARDS_PER_NODE;
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::reply::{EsError, Reply};

/// `GET _cluster/settings[?flat_settings][&include_defaults]`. The defaults list only what
/// the stand-in models.
pub(crate) fn get(shared: &Arc<Shared>, call: &Call) -> Answer {
    let flat = call.query.flag("flat_settings", false)?;
    let defaults = call.query.flag("include_defaults", false)?;
    let cluster = shared.cluster();
    let shape = |settings: &BTreeMap<String, String>| -> Value {
        if flat {
            json!(settings)
        } else {
            nested(settings)
        }
    };
    let mut body = Map::new();
    body.insert("persistent".into(), shape(&cluster.settings.persistent));
    body.insert("transient".into(), shape(&cluster.settings.transient));
    if defaults {
        let mut modelled = BTreeMap::new();
        modelled.insert(
            MAX_SHARDS_PER_NODE.to_owned(),
            DEFAULT_MAX_SHARDS_PER_NODE.to_string(),
        );
        body.insert("defaults".into(), shape(&modelled));
    }
    Ok(Reply::ok(&Value::Object(body)))
}

/// `{"cluster.max_shards_per_node": "5"}` → `{"cluster": {"max_shards_per_node": "5"}}`.
fn nested(settings: &BTreeMap<String, String>) -> Value {
    fn insert(node: &mut Map<String, Value>, parts: &[&str], value: &str) {
        match parts {
            [] => {}
            [last] => {
                node.insert((*last).to_owned(), json!(value));
            }
            [first, rest @ ..] => {
                let child = node.entry((*first).to_owned()).or_insert_with(|| json!({}));
                if let Value::Object(child) = child {
                    insert(child, rest, value);
                }
            }
        }
    }
    let mut root = Map::new();
    for (key, value) in settings {
        let parts: Vec<&str> = key.split('.').collect();
        insert(&mut root, &parts, value);
    }
    Value::Object(root)
}

/// `PUT _cluster/settings {"persistent": {...}, "transient": {...}}`; `null` resets.
pub(crate) fn put(shared: &Arc<Shared>, call: &Call) -> Answer {
    let body = call.json_object()?;
    let mut updated = shared.cluster().settings.clone();
    let mut answer = Map::new();
    answer.insert("acknowledged".into(), json!(true));
    for (scope, target) in [
        ("persistent", &mut updated.persistent),
        ("transient", &mut updated.transient),
    ] {
        let mut applied = BTreeMap::new();
        if let Some(values) = body.get(scope) {
            let Value::Object(values) = values else {
                return Err(EsError::parse(format!("[{scope}] must be an object")).into());
            };
            for (key, value) in flatten(values) {
                if key != MAX_SHARDS_PER_NODE {
                    return Err(EsError::illegal_argument(format!(
                        "{scope} setting [{key}]: the stand-in models only \
                         [{MAX_SHARDS_PER_NODE}] and refuses other cluster settings"
                    ))
                    .into());
                }
                match value {
                    Value::Null => {
                        target.remove(&key);
                    }
                    value => {
                        let text = match &value {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        if !text.parse::<u64>().is_ok_and(|n| n >= 1) {
                            return Err(EsError::illegal_argument(format!(
                                "Failed to parse value [{text}] for setting [{key}] must be >= 1"
                            ))
                            .into());
                        }
                        target.insert(key.clone(), text.clone());
                        applied.insert(key, text);
                    }
                }
            }
        }
        answer.insert(scope.into(), nested(&applied));
    }
    shared.cluster().settings = updated;
    Ok(Reply::ok(&Value::Object(answer)))
}

/// Nested objects to dotted keys.
fn flatten(values: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (key, value) in values {
        match value {
            Value::Object(inner) => {
                for (k, v) in flatten(inner) {
                    out.push((format!("{key}.{k}"), v));
                }
            }
            other => out.push((key.clone(), other.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_flat_keys_are_one_setting() {
        let values = json!({"cluster": {"max_shards_per_node": 5}, "cluster.x": "y"});
        let flat = flatten(values.as_object().unwrap());
        assert_eq!(
            flat,
            vec![
                ("cluster.max_shards_per_node".to_owned(), json!(5)),
                ("cluster.x".to_owned(), json!("y"))
            ]
        );
        let mut settings = BTreeMap::new();
        settings.insert("cluster.max_shards_per_node".to_owned(), "5".to_owned());
        assert_eq!(
            nested(&settings),
            json!({"cluster": {"max_shards_per_node": "5"}})
        );
    }
}
