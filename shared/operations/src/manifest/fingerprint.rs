//! Fingerprints of an index's mappings and settings: the SHA-256 of a canonical JSON form, so
//! two copies of an index compare equal exactly when what defines their content does.
//!
//! Settings are flattened (`index.number_of_shards`) and the volatile ones left out: those
//! that name one copy of the index, record where or how it is kept, or change without its
//! content changing (see [`is_volatile_setting`]).

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Settings that differ between two faithful copies of one index, each with the reason:
/// - `index.uuid`: a restore gives the index a new UUID (`RestoreService`);
/// - `index.creation_date`, `index.provided_name`: when and under which name (date math
///   included) this copy was created; a renamed restore keeps the old `provided_name`;
/// - `index.version.*`: the engine version that created or upgraded the copy;
/// - `index.routing.*`: which nodes hold the shards (allocation filters, UltraWarm's
///   `box_type`, rebalancing);
/// - `index.number_of_replicas`, `index.auto_expand_replicas`: redundancy, not content (a
///   drill restores with no replicas);
/// - `index.blocks.read_only_allow_delete`: set and cleared by the disk watermark;
/// - `index.verified_before_close`: set when the index is closed (a replace closes it);
/// - `index.resize.*`, `index.shrink.*`: the source of a shrink or split;
/// - `index.lifecycle.*`, `index.plugins.index_state_management.*`,
///   `index.opendistro.index_state_management.*`: the state of a lifecycle policy;
/// - `index.replication.*`: cross-cluster replication's leader.
const VOLATILE_PREFIXES: [&str; 15] = [
    "index.uuid",
    "index.creation_date",
    "index.provided_name",
    "index.version.",
    "index.routing.",
    "index.number_of_replicas",
    "index.auto_expand_replicas",
    "index.blocks.read_only_allow_delete",
    "index.verified_before_close",
    "index.resize.",
    "index.shrink.",
    "index.lifecycle.",
    "index.plugins.index_state_management.",
    "index.opendistro.index_state_management.",
    "index.replication.",
];

/// Whether a flattened setting is left out of the settings fingerprint.
pub fn is_volatile_setting(key: &str) -> bool {
    VOLATILE_PREFIXES.iter().any(|prefix| {
        if prefix.ends_with('.') {
            key.starts_with(prefix)
        } else {
            key == *prefix
        }
    })
}

/// `sha256:<hex>` of the mappings in canonical form.
pub fn mapping_fingerprint(mappings: &Value) -> String {
    digest(&canonical(mappings))
}

/// `sha256:<hex>` of the non-volatile settings, flattened, in canonical form.
pub fn settings_fingerprint(settings: &Value) -> String {
    let kept: serde_json::Map<String, Value> = flatten(settings)
        .into_iter()
        .filter(|(key, _)| !is_volatile_setting(key))
        .map(|(key, value)| (key, Value::String(value)))
        .collect();
    digest(&canonical(&Value::Object(kept)))
}

/// Nested settings (`{"index": {"number_of_shards": "1"}}`, as `GET <index>` answers them)
/// as dotted keys; a value that is not a string is kept as its JSON text.
pub fn flatten(settings: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, inner, out);
                }
            }
            Value::String(text) => {
                out.insert(prefix.to_owned(), text.clone());
            }
            other => {
                out.insert(prefix.to_owned(), canonical(other));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", settings, &mut out);
    out
}

/// JSON with every object's keys in order and no whitespace, whatever order the domain
/// wrote them in.
fn canonical(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    if let Some(inner) = map.get(key) {
                        write(inner, out);
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(7 + hash.len() * 2);
    out.push_str("sha256:");
    for byte in hash {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_mapping_fingerprint_ignores_key_order_and_sees_every_change() {
        let a = json!({"properties": {"n": {"type": "long"}, "at": {"type": "date"}}});
        let reordered: Value =
            serde_json::from_str(r#"{"properties":{"at":{"type":"date"},"n":{"type":"long"}}}"#)
                .unwrap();
        assert_eq!(mapping_fingerprint(&a), mapping_fingerprint(&reordered));
        let retyped = json!({"properties": {"n": {"type": "keyword"}, "at": {"type": "date"}}});
        assert_ne!(mapping_fingerprint(&a), mapping_fingerprint(&retyped));
        let fingerprint = mapping_fingerprint(&a);
        assert!(fingerprint.starts_with("sha256:") && fingerprint.len() == 7 + 64);
        // The empty mapping's, known from outside: SHA-256 of `{}`.
        assert_eq!(
            mapping_fingerprint(&json!({})),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn settings_are_flattened_and_volatile_ones_left_out() {
        let original = json!({"index": {
            "number_of_shards": "2", "number_of_replicas": "1", "refresh_interval": "5s",
            "uuid": "AbC", "creation_date": "1795000000000", "provided_name": "<logs-{now/d}>",
            "version": {"created": "136327827"},
            "routing": {"allocation": {"require": {"box_type": "warm"}}},
            "analysis": {"analyzer": {"folded": {"type": "custom", "filter": ["lowercase"]}}}
        }});
        let flat = flatten(&original);
        assert_eq!(flat["index.number_of_shards"], "2");
        assert_eq!(
            flat["index.analysis.analyzer.folded.filter"],
            r#"["lowercase"]"#
        );
        // A drill's copy: new identity, no replicas, elsewhere, restored by a newer engine.
        let drilled = json!({"index": {
            "number_of_shards": "2", "number_of_replicas": "0", "refresh_interval": "5s",
            "uuid": "XyZ", "creation_date": "1795999999999", "provided_name": "drill-logs",
            "version": {"created": "136327827", "upgraded": "137217827"},
            "verified_before_close": "true",
            "analysis": {"analyzer": {"folded": {"filter": ["lowercase"], "type": "custom"}}}
        }});
        assert_eq!(
            settings_fingerprint(&original),
            settings_fingerprint(&drilled)
        );
        let changed = json!({"index": {
            "number_of_shards": "2", "refresh_interval": "30s",
            "analysis": {"analyzer": {"folded": {"type": "custom", "filter": ["lowercase"]}}}
        }});
        assert_ne!(
            settings_fingerprint(&original),
            settings_fingerprint(&changed)
        );
    }

    #[test]
    fn volatile_prefixes_match_whole_keys_or_subtrees_only() {
        for key in [
            "index.uuid",
            "index.version.created",
            "index.routing.allocation.include._tier_preference",
            "index.number_of_replicas",
            "index.plugins.index_state_management.policy_id",
        ] {
            assert!(is_volatile_setting(key), "{key}");
        }
        for key in [
            "index.uuid_like",
            "index.number_of_shards",
            "index.routing_partition_size",
            "index.blocks.write",
            "index.versioning",
        ] {
            assert!(!is_volatile_setting(key), "{key}");
        }
    }
}
