//! Index settings: read in any of the accepted forms (nested, flat, with or without the
//! `index.` prefix), kept flat with string values as the engine stores them, checked against
//! the settings a domain knows, and rendered back nested.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::domain::wire::reply::EsError;

pub(crate) type Settings = BTreeMap<String, String>;

/// Flattens `{"index":{"number_of_shards":1}}`, `{"number_of_shards":"1"}` and
/// `{"index.number_of_shards":1}` alike into `index.number_of_shards = "1"`.
pub(crate) fn flatten(value: &Value) -> Result<Settings, EsError> {
    let mut out = Settings::new();
    let Value::Object(map) = value else {
        return Err(EsError::parse("settings must be an object"));
    };
    flatten_into("", map, &mut out)?;
    Ok(out
        .into_iter()
        .map(|(k, v)| {
            if k.starts_with("index.") {
                (k, v)
            } else {
                (format!("index.{k}"), v)
            }
        })
        .collect())
}

fn flatten_into(prefix: &str, map: &Map<String, Value>, out: &mut Settings) -> Result<(), EsError> {
    for (key, value) in map {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) => flatten_into(&key, inner, out)?,
            Value::String(s) => {
                out.insert(key, s.clone());
            }
            Value::Number(n) => {
                out.insert(key, n.to_string());
            }
            Value::Bool(b) => {
                out.insert(key, b.to_string());
            }
            Value::Array(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                out.insert(key, parts.join(","));
            }
            Value::Null => {}
        }
    }
    Ok(())
}

/// Renders flat settings nested, as `GET <index>` answers them.
pub(crate) fn nest(settings: &Settings) -> Value {
    let mut root = Map::new();
    for (key, value) in settings {
        let mut node = &mut root;
        let parts: Vec<&str> = key.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                node.insert((*part).to_owned(), Value::from(value.clone()));
            } else {
                let entry = node
                    .entry((*part).to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                let Value::Object(next) = entry else {
                    unreachable!("replaced by an object just above")
                };
                node = next;
            }
        }
    }
    Value::Object(root)
}

/// Settings a caller may set, as exact keys or `prefix.` groups. Anything else is refused,
/// as the engine refuses settings no module registered.
const KNOWN: [&str; 30] = [
    "index.number_of_shards",
    "index.number_of_replicas",
    "index.auto_expand_replicas",
    "index.refresh_interval",
    "index.codec",
    "index.hidden",
    "index.max_result_window",
    "index.priority",
    "index.default_pipeline",
    "index.final_pipeline",
    "index.write.wait_for_active_shards",
    "index.max_inner_result_window",
    "index.max_docvalue_fields_search",
    "index.max_script_fields",
    "index.max_ngram_diff",
    "index.max_shingle_diff",
    "index.max_terms_count",
    "index.max_regex_length",
    "index.gc_deletes",
    "index.knn",
    "index.blocks.",
    "index.analysis.",
    "index.routing.",
    "index.mapping.",
    "index.translog.",
    "index.merge.",
    "index.search.",
    "index.query.",
    "index.sort.",
    "index.plugins.",
];

/// Settings the engine sets itself and keeps with the index.
const INTERNAL: [&str; 6] = [
    "index.uuid",
    "index.version.created",
    "index.creation_date",
    "index.provided_name",
    "index.history.uuid",
    "index.routing.allocation.",
];

fn is_known(key: &str) -> bool {
    let listed = |list: &[&str]| {
        list.iter().any(|k| {
            if k.ends_with('.') {
                key.starts_with(k)
            } else {
                key == *k
            }
        })
    };
    listed(&KNOWN)
        || listed(&INTERNAL)
        || key.starts_with("index.opendistro.")
        || key.starts_with("index.lifecycle.")
        || key.starts_with("index.store.")
}

/// Checks settings a caller sent: each must be known and the shard counts must parse.
pub(crate) fn validate(settings: &Settings) -> Result<(), EsError> {
    for key in settings.keys() {
        // A real index setting (`IndexSettings.INDEX_SOFT_DELETES_SETTING`) whose effect and
        // deprecation warnings differ by version: refused rather than called unknown.
        if key == "index.soft_deletes.enabled" {
            return Err(EsError::new(
                http::StatusCode::NOT_IMPLEMENTED,
                "stand-in_refusal",
                "stand-in: index.soft_deletes.enabled is not modelled",
            ));
        }
        if !is_known(key) {
            return Err(EsError::illegal_argument(format!(
                "unknown setting [{key}] please check that any required plugins are installed, \
                 or check the breaking changes documentation for removed settings"
            )));
        }
    }
    for (key, min) in [
        ("index.number_of_shards", 1),
        ("index.number_of_replicas", 0),
    ] {
        if let Some(value) = settings.get(key) {
            match value.parse::<u32>() {
                Ok(n) if n >= min => {}
                Ok(_) => {
                    return Err(EsError::illegal_argument(format!(
                        "Failed to parse value [{value}] for setting [{key}] must be >= {min}"
                    )));
                }
                Err(_) => {
                    return Err(EsError::illegal_argument(format!(
                        "Failed to parse value [{value}] for setting [{key}]"
                    )));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn number(settings: &Settings, key: &str, default: u32) -> u32 {
    settings
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn shards(settings: &Settings) -> u32 {
    number(settings, "index.number_of_shards", 1).max(1)
}

pub(crate) fn replicas(settings: &Settings) -> u32 {
    number(settings, "index.number_of_replicas", 1)
}

pub(crate) fn is_hidden(settings: &Settings) -> bool {
    settings.get("index.hidden").is_some_and(|v| v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_form_flattens_alike() {
        for form in [
            json!({"index": {"number_of_shards": 2}}),
            json!({"number_of_shards": "2"}),
            json!({"index.number_of_shards": 2}),
        ] {
            let flat = flatten(&form).unwrap();
            assert_eq!(flat["index.number_of_shards"], "2");
        }
    }

    #[test]
    fn nesting_round_trips() {
        let flat =
            flatten(&json!({"index": {"number_of_shards": 2, "blocks": {"write": true}}})).unwrap();
        assert_eq!(
            nest(&flat),
            json!({"index": {"number_of_shards": "2", "blocks": {"write": "true"}}})
        );
    }

    #[test]
    fn unknown_and_malformed_settings_are_refused() {
        assert!(validate(&flatten(&json!({"number_of_replicas": 0})).unwrap()).is_ok());
        assert!(validate(&flatten(&json!({"numbr_of_shards": 1})).unwrap()).is_err());
        assert!(validate(&flatten(&json!({"number_of_shards": 0})).unwrap()).is_err());
        assert!(validate(&flatten(&json!({"number_of_shards": "x"})).unwrap()).is_err());
    }
}
