//! `GET <indices>/_recovery`: how far restored shards have come.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Index → its shards' recoveries.
pub type RecoveryByIndex = BTreeMap<String, IndexRecovery>;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IndexRecovery {
    #[serde(default)]
    pub shards: Vec<ShardRecovery>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShardRecovery {
    pub id: u32,
    /// `SNAPSHOT`, `EMPTY_STORE`, `EXISTING_STORE`, `PEER`…
    #[serde(rename = "type")]
    pub recovery_type: String,
    /// `INIT`, `INDEX`, `VERIFY_INDEX`, `TRANSLOG`, `FINALIZE`, `DONE`.
    pub stage: String,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub source: RecoverySource,
    #[serde(default)]
    pub index: Option<RecoveryIndexStats>,
    /// How long this shard's recovery has taken, or took (`RecoveryState.Timer`).
    #[serde(default)]
    pub total_time_in_millis: Option<u64>,
}

impl ShardRecovery {
    pub fn is_done(&self) -> bool {
        self.stage == "DONE"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct RecoverySource {
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub snapshot: Option<String>,
    #[serde(default)]
    pub index: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecoveryIndexStats {
    #[serde(default)]
    pub size: Option<RecoverySize>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecoverySize {
    #[serde(default)]
    pub total_in_bytes: u64,
    #[serde(default)]
    pub recovered_in_bytes: u64,
    /// e.g. `"42.0%"`.
    #[serde(default)]
    pub percent: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_snapshot_recovery() {
        let body = r#"{"logs-1":{"shards":[{"id":0,"type":"SNAPSHOT","stage":"INDEX","primary":true,"start_time_in_millis":1,"total_time_in_millis":5,"source":{"repository":"nightly","snapshot":"s1","version":"2.13.0","index":"logs-1","restoreUUID":"x"},"target":{"id":"n","host":"h","name":"node"},"index":{"size":{"total_in_bytes":100,"reused_in_bytes":0,"recovered_in_bytes":40,"percent":"40.0%"},"files":{"total":3,"recovered":1,"percent":"33.3%"}},"translog":{"recovered":0,"total":0},"verify_index":{"check_index_time_in_millis":0}}]}}"#;
        let recovery: RecoveryByIndex = serde_json::from_str(body).unwrap();
        let shard = &recovery["logs-1"].shards[0];
        assert_eq!(
            (shard.recovery_type.as_str(), shard.stage.as_str()),
            ("SNAPSHOT", "INDEX")
        );
        assert!(!shard.is_done());
        assert_eq!(shard.source.snapshot.as_deref(), Some("s1"));
        assert_eq!(
            shard
                .index
                .as_ref()
                .and_then(|i| i.size.as_ref())
                .map(|s| s.recovered_in_bytes),
            Some(40)
        );
    }
}
