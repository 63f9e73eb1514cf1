//! The cluster's persistent and transient settings, and the shard limit
//! `cluster.max_shards_per_node` sets (OpenSearch and Elasticsearch `ShardLimitValidator`, its
//! check stated once in `policy::restore_rules`).

use std::collections::BTreeMap;

use policy::restore_rules::{DEFAULT_MAX_SHARDS_PER_NODE, shard_limit_exceeded};

use crate::domain::state::cluster::{Cluster, DATA_NODES};
use crate::domain::wire::reply::EsError;

pub(crate) const MAX_SHARDS_PER_NODE: &str = "cluster.max_shards_per_node";

/// The cluster's persistent and transient settings (a transient value wins).
#[derive(Debug, Default, Clone)]
pub(crate) struct ClusterSettings {
    pub persistent: BTreeMap<String, String>,
    pub transient: BTreeMap<String, String>,
}

impl ClusterSettings {
    fn effective(&self, key: &str) -> Option<&String> {
        self.transient.get(key).or_else(|| self.persistent.get(key))
    }

    pub fn max_shards_per_node(&self) -> u64 {
        self.effective(MAX_SHARDS_PER_NODE)
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_SHARDS_PER_NODE)
    }
}

/// Shards of open indices, every copy counted (`Metadata.getTotalOpenIndexShards`).
fn open_shards(cluster: &Cluster) -> u64 {
    cluster
        .indices
        .values()
        .filter(|i| i.open)
        .map(|i| u64::from(i.shards()) * (1 + u64::from(i.replicas())))
        .sum()
}

/// The engine's answer when `new_shards` more would pass the limit: a `validation_exception`.
pub(crate) fn check_shard_limit(cluster: &Cluster, new_shards: u64) -> Result<(), EsError> {
    match shard_limit_exceeded(
        new_shards,
        open_shards(cluster),
        cluster.settings.max_shards_per_node(),
        u64::from(DATA_NODES),
    ) {
        None => Ok(()),
        Some(message) => Err(EsError::bad_request(
            "validation_exception",
            format!("Validation Failed: 1: {message};"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transient_limit_wins_over_a_persistent_one() {
        let mut settings = ClusterSettings::default();
        assert_eq!(settings.max_shards_per_node(), 1000);
        settings
            .persistent
            .insert(MAX_SHARDS_PER_NODE.into(), "7".into());
        settings
            .transient
            .insert(MAX_SHARDS_PER_NODE.into(), "3".into());
        assert_eq!(settings.max_shards_per_node(), 3);
    }
}
