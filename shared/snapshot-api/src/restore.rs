//! `POST _snapshot/<repo>/<snapshot>/_restore`.

use serde::{Deserialize, Serialize};

use crate::snapshot::ShardStats;

/// Every field of the restore body; unset fields are not sent, so the server's defaults apply.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RestoreRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indices: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_unavailable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_global_state: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_aliases: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_settings: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_index_settings: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rename_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rename_replacement: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RestoreResponse {
    Completed { snapshot: RestoredSnapshot },
    Accepted { accepted: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RestoredSnapshot {
    pub snapshot: String,
    #[serde(default)]
    pub indices: Vec<String>,
    #[serde(default)]
    pub shards: ShardStats,
}
