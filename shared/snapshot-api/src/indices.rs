//! Indices, aliases and document counts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de::count_or_string;

/// One row of `GET _cat/indices?format=json&bytes=b`. The cat API answers numbers as strings,
/// and `null` for a closed index's counts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatIndex {
    #[serde(default)]
    pub health: Option<String>,
    /// `open` or `close`.
    #[serde(default)]
    pub status: Option<String>,
    pub index: String,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default, deserialize_with = "count_or_string")]
    pub pri: Option<u64>,
    #[serde(default, deserialize_with = "count_or_string")]
    pub rep: Option<u64>,
    #[serde(rename = "docs.count", default, deserialize_with = "count_or_string")]
    pub docs_count: Option<u64>,
    #[serde(rename = "docs.deleted", default, deserialize_with = "count_or_string")]
    pub docs_deleted: Option<u64>,
    #[serde(rename = "store.size", default, deserialize_with = "count_or_string")]
    pub store_size: Option<u64>,
    /// The primaries' bytes (`store.size` counts the replicas too; `null` for a closed index).
    #[serde(
        rename = "pri.store.size",
        default,
        deserialize_with = "count_or_string"
    )]
    pub pri_store_size: Option<u64>,
}

impl CatIndex {
    pub fn is_open(&self) -> bool {
        self.status.as_deref() != Some("close")
    }
}

/// One row of `GET _cat/allocation?format=json&bytes=b`: a data node's shard copies and disk
/// (numbers as strings; the `UNASSIGNED` row has only `shards` and `node`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatAllocation {
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default, deserialize_with = "count_or_string")]
    pub shards: Option<u64>,
    #[serde(rename = "disk.indices", default, deserialize_with = "count_or_string")]
    pub disk_indices: Option<u64>,
    #[serde(rename = "disk.used", default, deserialize_with = "count_or_string")]
    pub disk_used: Option<u64>,
    #[serde(rename = "disk.avail", default, deserialize_with = "count_or_string")]
    pub disk_avail: Option<u64>,
    #[serde(rename = "disk.total", default, deserialize_with = "count_or_string")]
    pub disk_total: Option<u64>,
}

impl CatAllocation {
    /// The row of copies no node holds.
    pub fn is_unassigned(&self) -> bool {
        self.node.as_deref() == Some("UNASSIGNED")
    }
}

/// One row of `GET _cat/shards?format=json`: a shard copy (`prirep` `p` or `r`), its state
/// (`STARTED`, `INITIALIZING`, `RELOCATING`, `UNASSIGNED`) and, while it is not started, the
/// reason it was last unassigned (`UnassignedInfo.Reason`, e.g. `NEW_INDEX_RESTORED`,
/// `ALLOCATION_FAILED`) with its details.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatShard {
    pub index: String,
    #[serde(default)]
    pub shard: Option<String>,
    pub prirep: String,
    pub state: String,
    #[serde(rename = "unassigned.reason", default)]
    pub unassigned_reason: Option<String>,
    #[serde(rename = "unassigned.details", default)]
    pub unassigned_details: Option<String>,
}

impl CatShard {
    /// A primary the domain tried to start and could not (a restore that failed reading its
    /// files, among others): it stays unassigned once its retries are spent.
    pub fn is_failed_primary(&self) -> bool {
        self.prirep == "p"
            && self.state == "UNASSIGNED"
            && self.unassigned_reason.as_deref() == Some("ALLOCATION_FAILED")
    }

    /// What made the shard fail: the innermost of the causes the engine nests in its details
    /// (`...; nested: IOException[...]`), or the reason when there are no details.
    pub fn failure_cause(&self) -> String {
        match self.unassigned_details.as_deref() {
            Some(details) => crate::error::innermost_cause(details).to_owned(),
            None => self.unassigned_reason.clone().unwrap_or_default(),
        }
    }
}

/// `GET _plugins/_security/authinfo`, the part osnap reads: who the caller is to the security
/// plugin and the roles it is mapped to (names only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct AuthInfo {
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub backend_roles: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The setting that puts an index on UltraWarm nodes (Amazon OpenSearch Service Developer
/// Guide, ultrawarm.md, "Migrating indexes to UltraWarm storage").
pub const BOX_TYPE_SETTING: &str = "index.routing.allocation.require.box_type";

/// `GET <indices>/_settings/<one setting>?flat_settings=true`: index → its settings (only
/// the asked one, absent where the index does not carry it).
pub type SettingsByIndex = BTreeMap<String, IndexSettings>;

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct IndexSettings {
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
}

impl IndexSettings {
    /// Whether the index lives on UltraWarm nodes.
    pub fn is_warm(&self) -> bool {
        self.settings
            .get(BOX_TYPE_SETTING)
            .and_then(serde_json::Value::as_str)
            == Some("warm")
    }
}

/// `GET _cold/indices/_search` (cold-storage.md, "Listing cold indexes"): one page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ColdIndices {
    #[serde(default)]
    pub total_results: Option<u64>,
    #[serde(default)]
    pub indices: Vec<ColdIndex>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ColdIndex {
    pub index: String,
}

/// `GET <indices>/_alias`: index → its aliases.
pub type AliasesByIndex = BTreeMap<String, IndexAliases>;

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct IndexAliases {
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasDefinition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AliasDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_write_index: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_routing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_routing: Option<String>,
}

/// `GET <indices>`: each index's aliases, mappings and settings (nested, values as strings).
pub type IndicesByName = BTreeMap<String, IndexDescription>;

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct IndexDescription {
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasDefinition>,
    #[serde(default)]
    pub mappings: serde_json::Value,
    #[serde(default)]
    pub settings: serde_json::Value,
}

/// One action of `POST _aliases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AliasAction {
    Add {
        index: String,
        alias: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        is_write_index: Option<bool>,
    },
    Remove {
        index: String,
        alias: String,
    },
}

#[derive(Deserialize)]
pub(crate) struct CountResponse {
    pub(crate) count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cat_rows_read_strings_and_nulls() {
        let rows: Vec<CatIndex> = serde_json::from_str(r#"[{"health":"green","status":"open","index":"logs-1","uuid":"u","pri":"1","rep":"1","docs.count":"120","docs.deleted":"0","store.size":"20480","pri.store.size":"10240"},{"health":null,"status":"close","index":"old","uuid":"v","pri":"1","rep":"1","docs.count":null,"docs.deleted":null,"store.size":null,"pri.store.size":null}]"#).unwrap();
        assert_eq!(rows[0].docs_count, Some(120));
        assert_eq!(rows[0].store_size, Some(20_480));
        assert_eq!(rows[0].pri_store_size, Some(10_240));
        assert!(rows[0].is_open() && !rows[1].is_open());
        assert_eq!(rows[1].docs_count, None);
    }

    #[test]
    fn alias_actions_serialise_as_the_api_wants() {
        let actions = vec![
            AliasAction::Add {
                index: "a".into(),
                alias: "x".into(),
                is_write_index: Some(true),
            },
            AliasAction::Remove {
                index: "b".into(),
                alias: "x".into(),
            },
        ];
        assert_eq!(
            serde_json::to_string(&actions).unwrap(),
            r#"[{"add":{"index":"a","alias":"x","is_write_index":true}},{"remove":{"index":"b","alias":"x"}}]"#
        );
    }
}
