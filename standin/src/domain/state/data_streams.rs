//! Data streams and the index templates that make them: a stream is a name over hidden
//! backing indices, the newest its write index; documents need `@timestamp` and are only
//! ever created, never overwritten.
//!
//! Sources (opensearch-project/OpenSearch, `server/src/main/java/org/opensearch/`):
//! - `cluster/metadata/DataStream.java`: `getDefaultBackingIndexName` is
//!   `.ds-<stream>-<generation, %06d>`; `rollover` appends the next generation. Elasticsearch
//!   7.9 and 7.10 name them the same way (a date in the name starts at 7.11, with no profile
//!   here), so the name is not an engine difference.
//! - `cluster/metadata/MetadataCreateDataStreamService.java`: a stream needs a matching
//!   composable template with `data_stream` (`no matching index template found for data
//!   stream [<name>]`), its first backing index is generation 1 and hidden.
//! - `cluster/metadata/MetadataDeleteIndexService.java`: the write index of a stream cannot be
//!   deleted.
//! - `action/bulk/TransportBulkAction.java`: writes to a stream must be `create`.
//! - `index/mapper/DataStreamFieldMapper.java`: every document carries the timestamp field.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::state::Shared;
use crate::domain::state::cluster::Cluster;
use crate::domain::state::index_creation::create_index;
use crate::domain::state::settings::Settings;
use crate::domain::wire::names::simple_match;
use crate::domain::wire::reply::EsError;

/// The timestamp field every stream document carries (the default, and the only one
/// OpenSearch lets a template name differently; the stand-in keeps the default).
pub(crate) const TIMESTAMP_FIELD: &str = "@timestamp";

/// Backing indices start with this (`DataStream.BACKING_INDEX_PREFIX`).
pub(crate) const BACKING_PREFIX: &str = ".ds-";

/// One data stream: its backing indices, oldest first (the last is the write index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DataStream {
    pub name: String,
    pub indices: Vec<String>,
    pub generation: u64,
    /// The template that made it (`GET _data_stream` shows it).
    #[serde(default)]
    pub template: String,
}

impl DataStream {
    pub fn write_index(&self) -> Option<&str> {
        self.indices.last().map(String::as_str)
    }
}

/// A composable index template (`PUT _index_template/<name>`), as much as streams need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexTemplate {
    pub patterns: Vec<String>,
    pub priority: i64,
    pub data_stream: bool,
    pub settings: Settings,
    pub mappings: Value,
    /// The body as given, for `GET _index_template`.
    pub body: Value,
}

/// `.ds-<stream>-<generation>`, zero-padded to six digits.
pub(crate) fn backing_index_name(stream: &str, generation: u64) -> String {
    format!("{BACKING_PREFIX}{stream}-{generation:06}")
}

/// The engine's refusal on a version without data streams: the stand-in does not model what
/// those versions answer for these paths, so it says so.
pub(crate) fn not_on_this_engine(shared: &Shared) -> EsError {
    EsError::new(
        http::StatusCode::NOT_IMPLEMENTED,
        "stand_in_refusal",
        format!(
            "stand-in: {} {} has no data streams (policy::engines, Feature::DataStreams); its \
             answer to this request is not modelled",
            shared.config.engine.product(),
            shared.config.engine.version()
        ),
    )
}

impl Cluster {
    /// The template a new index or stream named `name` takes: the highest priority match.
    pub fn template_for(&self, name: &str) -> Option<(&String, &IndexTemplate)> {
        self.templates
            .iter()
            .filter(|(_, t)| t.patterns.iter().any(|p| simple_match(p, name)))
            .max_by_key(|(_, t)| t.priority)
    }

    /// The stream `index` backs, if any.
    pub fn stream_of(&self, index: &str) -> Option<&DataStream> {
        self.data_streams
            .values()
            .find(|s| s.indices.iter().any(|i| i == index))
    }

    fn new_backing_index(
        &mut self,
        shared: &Shared,
        stream: &str,
        generation: u64,
        template: &IndexTemplate,
    ) -> Result<String, EsError> {
        let name = backing_index_name(stream, generation);
        let mut settings = template.settings.clone();
        settings.insert("index.hidden".into(), "true".into());
        let mut mappings = template.mappings.clone();
        if let Some(map) = mappings.as_object_mut() {
            let properties = map
                .entry("properties")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(properties) = properties.as_object_mut() {
                properties
                    .entry(TIMESTAMP_FIELD)
                    .or_insert_with(|| serde_json::json!({"type": "date"}));
            }
        }
        create_index(shared, self, &name, settings, mappings, Default::default())?;
        Ok(name)
    }

    /// `PUT _data_stream/<name>`, or the first write to a name a data-stream template
    /// matches.
    pub fn create_data_stream(&mut self, shared: &Shared, name: &str) -> Result<(), EsError> {
        if self.data_streams.contains_key(name) {
            return Err(EsError::bad_request(
                "resource_already_exists_exception",
                format!("data_stream [{name}] already exists"),
            ));
        }
        if self.indices.contains_key(name) || self.has_alias(name) {
            return Err(EsError::bad_request(
                "resource_already_exists_exception",
                format!("index or alias [{name}] already exists"),
            ));
        }
        let (template_name, template) = match self.template_for(name) {
            Some((n, t)) if t.data_stream => (n.clone(), t.clone()),
            _ => {
                return Err(EsError::illegal_argument(format!(
                    "no matching index template found for data stream [{name}]"
                )));
            }
        };
        let first = self.new_backing_index(shared, name, 1, &template)?;
        self.data_streams.insert(
            name.to_owned(),
            DataStream {
                name: name.to_owned(),
                indices: vec![first],
                generation: 1,
                template: template_name,
            },
        );
        Ok(())
    }

    /// `POST <stream>/_rollover`: a new write index, the next generation. Returns the old and
    /// the new write index.
    pub fn rollover(&mut self, shared: &Shared, name: &str) -> Result<(String, String), EsError> {
        let Some(stream) = self.data_streams.get(name).cloned() else {
            return Err(EsError::illegal_argument(format!(
                "rollover target [{name}] does not exist"
            )));
        };
        let template = self
            .templates
            .get(&stream.template)
            .cloned()
            .ok_or_else(|| {
                EsError::illegal_argument(format!(
                    "no matching index template found for data stream [{name}]"
                ))
            })?;
        let generation = stream.generation + 1;
        let new = self.new_backing_index(shared, name, generation, &template)?;
        let old = stream.write_index().unwrap_or_default().to_owned();
        if let Some(s) = self.data_streams.get_mut(name) {
            s.indices.push(new.clone());
            s.generation = generation;
        }
        Ok((old, new))
    }

    /// The streams a snapshot of `expressions` holds: those the expressions name (names,
    /// wildcards, `-` exclusions after a wildcard; none or `_all` or `*` name every stream)
    /// whose backing indices are all in `indices`. `SnapshotsService.metadataForSnapshot`:
    /// "Only keep those data streams ... that were actually requested by the initial snapshot
    /// create operation and that have all their indices contained in the snapshot".
    pub fn streams_in_snapshot(
        &self,
        expressions: &[String],
        indices: &[String],
    ) -> Vec<DataStream> {
        let all = expressions.is_empty()
            || (expressions.len() == 1 && (expressions[0] == "_all" || expressions[0] == "*"));
        let mut requested: Vec<&String> = Vec::new();
        if all {
            requested.extend(self.data_streams.keys());
        } else {
            let mut wildcard_seen = false;
            for raw in expressions {
                let (add, expression) = match raw.strip_prefix('-') {
                    Some(rest) if wildcard_seen => (false, rest),
                    _ => (true, raw.as_str()),
                };
                wildcard_seen |= expression.contains('*');
                let matched = self
                    .data_streams
                    .keys()
                    .filter(|n| simple_match(expression, n));
                if add {
                    for name in matched {
                        if !requested.contains(&name) {
                            requested.push(name);
                        }
                    }
                } else {
                    let matched: Vec<&String> = matched.collect();
                    requested.retain(|r| !matched.contains(r));
                }
            }
        }
        requested
            .into_iter()
            .filter_map(|n| self.data_streams.get(n))
            .filter(|s| s.indices.iter().all(|i| indices.contains(i)))
            .cloned()
            .collect()
    }

    /// Refuses to delete a stream's write index; other backing indices leave their stream.
    pub fn release_backing_indices(&mut self, names: &[String]) -> Result<(), EsError> {
        for name in names {
            if let Some(stream) = self.stream_of(name)
                && stream.write_index() == Some(name.as_str())
            {
                return Err(EsError::illegal_argument(format!(
                    "index [{name}] is the write index for data stream [{}] and cannot be deleted",
                    stream.name
                )));
            }
        }
        for stream in self.data_streams.values_mut() {
            stream.indices.retain(|i| !names.contains(i));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backing_indices_are_named_by_generation() {
        assert_eq!(backing_index_name("logs", 1), ".ds-logs-000001");
        assert_eq!(backing_index_name("logs-web", 12), ".ds-logs-web-000012");
        // `%06d` is a minimum width.
        assert_eq!(backing_index_name("x", 1_234_567), ".ds-x-1234567");
    }

    #[test]
    fn the_highest_priority_template_wins() {
        let mut cluster = Cluster::default();
        let template = |priority, data_stream| IndexTemplate {
            patterns: vec!["logs-*".into()],
            priority,
            data_stream,
            settings: Settings::new(),
            mappings: serde_json::json!({}),
            body: serde_json::json!({}),
        };
        cluster.templates.insert("low".into(), template(1, true));
        cluster.templates.insert("high".into(), template(5, false));
        assert_eq!(
            cluster.template_for("logs-a").map(|(n, _)| n.as_str()),
            Some("high")
        );
        assert!(cluster.template_for("metrics").is_none());
    }
}
