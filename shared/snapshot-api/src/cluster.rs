//! `GET /`: which engine and version the domain runs; the cluster's shard limit.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub cluster_name: String,
    #[serde(default)]
    pub cluster_uuid: String,
    pub version: VersionInfo,
    /// `The OpenSearch Project: …` on OpenSearch (in compatibility mode too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub number: String,
    /// `opensearch` on OpenSearch; absent on Elasticsearch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_flavor: Option<String>,
}

impl ClusterInfo {
    /// The engine and version as `policy::engines` reads them (compatibility mode included).
    pub fn engine(&self) -> Result<policy::engines::Engine, policy::engines::EngineError> {
        policy::engines::Engine::from_root(
            &self.version.number,
            self.version.distribution.as_deref(),
            self.tagline.as_deref(),
        )
    }
}

/// `GET _cluster/settings?include_defaults=true&flat_settings=true`, the part osnap reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClusterSettings {
    #[serde(default)]
    pub persistent: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub transient: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub defaults: serde_json::Map<String, serde_json::Value>,
}

impl ClusterSettings {
    /// A flat setting as the cluster applies it: transient over persistent over the default.
    fn effective(&self, key: &str) -> Option<&serde_json::Value> {
        self.transient
            .get(key)
            .or_else(|| self.persistent.get(key))
            .or_else(|| self.defaults.get(key))
    }

    /// `cluster.max_shards_per_node` (the engine's default when the answer does not say).
    pub fn max_shards_per_node(&self) -> u64 {
        self.effective("cluster.max_shards_per_node")
            .and_then(|v| match v {
                serde_json::Value::String(s) => s.parse().ok(),
                other => other.as_u64(),
            })
            .unwrap_or(policy::restore_rules::DEFAULT_MAX_SHARDS_PER_NODE)
    }
}

/// `GET _cluster/health`, the part osnap reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClusterHealth {
    #[serde(default)]
    pub number_of_data_nodes: u64,
}

/// What the shard limit allows: `max_per_node` × `data_nodes` open shard copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardLimit {
    pub max_per_node: u64,
    pub data_nodes: u64,
}

#[cfg(test)]
mod tests {
    use policy::engines::Engine;

    use super::*;

    #[test]
    fn tells_opensearch_from_elasticsearch() {
        let os: ClusterInfo = serde_json::from_str(r#"{"name":"n","cluster_name":"123:logs","cluster_uuid":"u","version":{"distribution":"opensearch","number":"2.13.0","build_type":"tar","lucene_version":"9.10.0","minimum_wire_compatibility_version":"7.10.0"},"tagline":"The OpenSearch Project: https://opensearch.org/"}"#).unwrap();
        assert_eq!(os.engine(), Ok(Engine::opensearch((2, 13, 0))));
        let es: ClusterInfo = serde_json::from_str(r#"{"name":"n","cluster_name":"c","cluster_uuid":"u","version":{"number":"7.10.2","build_flavor":"oss","build_type":"tar","lucene_version":"8.7.0"},"tagline":"You Know, for Search"}"#).unwrap();
        assert_eq!(es.engine(), Ok(Engine::elasticsearch((7, 10, 2))));
    }

    #[test]
    fn the_shard_limit_is_read_transient_first_then_persistent_then_default() {
        let all: ClusterSettings = serde_json::from_str(r#"{"persistent":{"cluster.max_shards_per_node":"1200"},"transient":{"cluster.max_shards_per_node":"900"},"defaults":{"cluster.max_shards_per_node":"1000"}}"#).unwrap();
        assert_eq!(all.max_shards_per_node(), 900);
        let defaults: ClusterSettings = serde_json::from_str(
            r#"{"persistent":{},"transient":{},"defaults":{"cluster.max_shards_per_node":"4000"}}"#,
        )
        .unwrap();
        assert_eq!(defaults.max_shards_per_node(), 4000);
        assert_eq!(ClusterSettings::default().max_shards_per_node(), 1000);
    }
}
