//! The cluster's state: its nodes, its indices (settings, mappings, aliases, documents,
//! recovery) and registered repositories, with the health each index and the cluster has.
//! A fresh domain already holds the system indices AWS creates.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use serde_json::{Value, json};

use crate::domain::state::cluster_settings::ClusterSettings;
use crate::domain::state::data_streams::{DataStream, IndexTemplate};
use crate::domain::state::recovery::Recovery;
use crate::domain::state::repositories::RepositoryDef;
use crate::domain::state::running::Running;
use crate::domain::state::settings::{self, Settings};
use crate::domain::state::tiers::ColdStorage;
use crate::domain::wire::time::millis;

/// One emulated node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub id: String,
    pub name: String,
    pub ip: String,
}

/// How many data nodes hold shards: replicas beyond one per other node stay unassigned.
pub(crate) const DATA_NODES: u32 = 2;

/// The security plugin's own index: no caller may delete it, and wildcards pass over it.
pub(crate) const SECURITY_INDEX: &str = ".opendistro_security";

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Doc {
    pub source: Value,
    pub version: u64,
    pub seq_no: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Index {
    pub uuid: String,
    pub settings: Settings,
    pub mappings: Value,
    pub aliases: BTreeMap<String, Value>,
    pub docs: BTreeMap<String, Doc>,
    pub deleted_docs: u64,
    pub next_seq_no: u64,
    pub open: bool,
    /// Primaries unassigned (a test helper sets this, or a failed restore).
    pub red: bool,
    /// Why the primaries are unassigned, when a restore's recovery of them failed: the engine
    /// leaves them `UNASSIGNED` with `UnassignedInfo.Reason.ALLOCATION_FAILED` and the failure
    /// as its details (after `index.allocation.max_retries`, 5 by default, it stops trying).
    pub failed_recovery: Option<String>,
    pub recovery: Recovery,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Health {
    Green,
    Yellow,
    Red,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::Red => "red",
        }
    }
}

/// Bytes an empty shard takes on disk.
const EMPTY_SHARD_BYTES: u64 = 208;
/// Per-document overhead beside its source (doc values, ids, postings).
const DOC_OVERHEAD_BYTES: u64 = 96;

impl Index {
    /// A new, empty index. `settings` are the caller's; the engine's own are added.
    pub fn new(
        name: &str,
        uuid: String,
        mut settings: Settings,
        version_id: u64,
        now: SystemTime,
    ) -> Self {
        settings
            .entry("index.number_of_shards".into())
            .or_insert_with(|| "1".into());
        settings
            .entry("index.number_of_replicas".into())
            .or_insert_with(|| "1".into());
        settings.insert("index.uuid".into(), uuid.clone());
        settings.insert("index.provided_name".into(), name.to_owned());
        settings.insert("index.creation_date".into(), millis(now).to_string());
        settings.insert("index.version.created".into(), version_id.to_string());
        Self {
            uuid,
            settings,
            mappings: json!({}),
            aliases: BTreeMap::new(),
            docs: BTreeMap::new(),
            deleted_docs: 0,
            next_seq_no: 0,
            open: true,
            red: false,
            failed_recovery: None,
            recovery: Recovery::empty(now),
        }
    }

    pub fn shards(&self) -> u32 {
        settings::shards(&self.settings)
    }

    pub fn replicas(&self) -> u32 {
        settings::replicas(&self.settings)
    }

    pub fn is_hidden(&self) -> bool {
        settings::is_hidden(&self.settings)
    }

    /// Bytes of the primaries.
    pub fn primary_bytes(&self) -> u64 {
        let docs: u64 = self
            .docs
            .values()
            .map(|d| d.source.to_string().len() as u64 + DOC_OVERHEAD_BYTES)
            .sum();
        EMPTY_SHARD_BYTES * u64::from(self.shards()) + docs
    }

    /// Segment files of the primaries.
    pub fn primary_files(&self) -> u64 {
        let per_shard = if self.docs.is_empty() { 1 } else { 4 };
        u64::from(self.shards()) * per_shard + self.docs.len() as u64 / 500
    }

    /// Replica copies that can be placed (one per other data node).
    pub fn assigned_replicas(&self) -> u32 {
        self.replicas().min(DATA_NODES - 1)
    }

    pub fn primaries_active(&self, now: Instant) -> bool {
        !self.red && self.recovery.primaries_done(now, self.replicas())
    }

    pub fn health(&self, now: Instant) -> Health {
        if !self.primaries_active(now) {
            Health::Red
        } else if self.replicas() > self.assigned_replicas()
            || !self.recovery.replicas_done(now, self.replicas())
        {
            Health::Yellow
        } else {
            Health::Green
        }
    }

    /// Bytes of every active copy.
    pub fn store_bytes(&self, now: Instant) -> u64 {
        if !self.primaries_active(now) {
            return 0;
        }
        let copies = if self.recovery.replicas_done(now, self.replicas()) {
            1 + u64::from(self.assigned_replicas())
        } else {
            1
        };
        self.primary_bytes() * copies
    }

    pub fn next_seq_no(&mut self) -> u64 {
        let seq = self.next_seq_no;
        self.next_seq_no += 1;
        seq
    }
}

/// Everything a domain keeps in memory.
#[derive(Debug, Default)]
pub(crate) struct Cluster {
    pub indices: BTreeMap<String, Index>,
    pub repositories: BTreeMap<String, RepositoryDef>,
    pub running: Vec<Running>,
    pub settings: ClusterSettings,
    pub data_streams: BTreeMap<String, DataStream>,
    pub templates: BTreeMap<String, IndexTemplate>,
    /// Detached (cold) indices: not in `indices`.
    pub cold: ColdStorage,
}

impl Cluster {
    /// The indices an alias points to.
    pub fn alias_indices(&self, alias: &str) -> Vec<String> {
        self.indices
            .iter()
            .filter(|(_, i)| i.aliases.contains_key(alias))
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn has_alias(&self, alias: &str) -> bool {
        self.indices.values().any(|i| i.aliases.contains_key(alias))
    }

    /// Every alias name, sorted.
    pub fn alias_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .indices
            .values()
            .flat_map(|i| i.aliases.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The system indices every AWS domain starts with, each holding a few documents.
    pub fn seed_system_indices(&mut self, uuid: &mut dyn FnMut() -> String, version_id: u64) {
        let kibana = [
            (
                "config:2.13.0",
                json!({"type": "config", "config": {"buildNum": 7_421}}),
            ),
            (
                "index-pattern:logs",
                json!({"type": "index-pattern", "index-pattern": {"title": "logs-*"}}),
            ),
        ];
        let security = [
            ("config", json!({"config": "e30="})),
            ("roles", json!({"roles": "e30="})),
            ("rolesmapping", json!({"rolesmapping": "e30="})),
            ("internalusers", json!({"internalusers": "e30="})),
        ];
        for (name, docs, alias) in [
            (".kibana_1", &kibana[..], Some(".kibana")),
            (".opendistro_security", &security[..], None),
        ] {
            let mut settings = Settings::new();
            settings.insert("index.number_of_shards".into(), "1".into());
            settings.insert("index.number_of_replicas".into(), "1".into());
            let mut index = Index::new(name, uuid(), settings, version_id, SystemTime::now());
            for (id, source) in docs {
                let seq_no = index.next_seq_no();
                index.docs.insert(
                    (*id).to_owned(),
                    Doc {
                        source: source.clone(),
                        version: 1,
                        seq_no,
                    },
                );
            }
            if let Some(alias) = alias {
                index.aliases.insert(alias.to_owned(), json!({}));
            }
            self.indices.insert(name.to_owned(), index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_replicas_and_red_primaries() {
        let mut settings = Settings::new();
        settings.insert("index.number_of_replicas".into(), "1".into());
        let mut index = Index::new("logs", "u".into(), settings, 1, SystemTime::now());
        let now = Instant::now();
        assert_eq!(index.health(now), Health::Green);
        index
            .settings
            .insert("index.number_of_replicas".into(), "2".into());
        assert_eq!(index.health(now), Health::Yellow);
        index.red = true;
        assert_eq!(index.health(now), Health::Red);
        assert_eq!(index.store_bytes(now), 0);
    }

    #[test]
    fn a_fresh_cluster_holds_the_system_indices() {
        let mut cluster = Cluster::default();
        let mut n = 0;
        cluster.seed_system_indices(
            &mut || {
                n += 1;
                format!("uuid-{n}")
            },
            1,
        );
        assert_eq!(
            cluster.indices.keys().collect::<Vec<_>>(),
            [".kibana_1", ".opendistro_security"]
        );
        assert_eq!(cluster.alias_indices(".kibana"), [".kibana_1"]);
        assert!(!cluster.indices[".kibana_1"].docs.is_empty());
    }
}
