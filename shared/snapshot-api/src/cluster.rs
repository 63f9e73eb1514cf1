//! `GET /`: which engine and version the domain runs.

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
}
