//! What a restore may and may not do to an index's settings, and the cluster's shard limit:
//! one statement of the engine's rules, read by the restore plan and by the local stand-in.

/// Settings a restore's `index_settings` may not change (OpenSearch and Elasticsearch
/// `RestoreService.UNMODIFIABLE_SETTINGS`: the engine answers "cannot modify setting [...] on
/// restore").
pub const UNMODIFIABLE_SETTINGS: [&str; 5] = [
    "index.number_of_shards",
    "index.version.created",
    "index.uuid",
    "index.creation_date",
    "index.history.uuid",
];

/// Settings `ignore_index_settings` may not drop, besides the unmodifiable ones
/// (`RestoreService.UNREMOVABLE_SETTINGS`: "cannot remove setting [...] on restore").
pub const UNREMOVABLE_SETTINGS: [&str; 4] = [
    "index.number_of_replicas",
    "index.auto_expand_replicas",
    "index.version.upgraded",
    "index.version.upgraded_string",
];

/// `index.number_of_shards` → itself; `number_of_shards` → `index.number_of_shards` (the
/// engine prefixes a bare name with `index.` before it checks).
pub fn normalized_setting(key: &str) -> String {
    if key.starts_with("index.") {
        key.to_owned()
    } else {
        format!("index.{key}")
    }
}

/// The first of `keys` a restore may not change, if any.
pub fn unmodifiable<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<String> {
    keys.into_iter()
        .map(normalized_setting)
        .find(|k| UNMODIFIABLE_SETTINGS.contains(&k.as_str()))
}

/// The first of `keys` a restore may not drop, if any.
pub fn unremovable<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<String> {
    keys.into_iter().map(normalized_setting).find(|k| {
        UNMODIFIABLE_SETTINGS.contains(&k.as_str()) || UNREMOVABLE_SETTINGS.contains(&k.as_str())
    })
}

/// `cluster.routing.allocation.disk.watermark.high`'s default, as the share of a node's disk
/// in use (`DiskThresholdSettings`: "90%"). The allocator places a shard copy on a node only
/// if the node stays under it afterwards (`DiskThresholdDecider.canAllocate`: "allocating the
/// shard to this node will bring the node above the high watermark"), restored primaries
/// included.
pub const DEFAULT_HIGH_DISK_WATERMARK_PERCENT: u64 = 90;

/// The bytes a node can still take before it passes the high watermark.
pub fn room_below_high_watermark(total_bytes: u64, available_bytes: u64) -> u64 {
    let kept_free = total_bytes / 100 * (100 - DEFAULT_HIGH_DISK_WATERMARK_PERCENT);
    available_bytes.saturating_sub(kept_free)
}

/// `cluster.max_shards_per_node`'s default (`ShardLimitValidator`, OpenSearch and
/// Elasticsearch 7.x).
pub const DEFAULT_MAX_SHARDS_PER_NODE: u64 = 1000;

/// The shard limit's check (`ShardLimitValidator.checkShardLimit`): adding `new_shards`
/// (primaries × (1 + replicas)) to `open_shards` must stay within `max_per_node` × the data
/// nodes. With no data node the engine does not check.
pub fn shard_limit_exceeded(
    new_shards: u64,
    open_shards: u64,
    max_per_node: u64,
    data_nodes: u64,
) -> Option<String> {
    let limit = max_per_node.saturating_mul(data_nodes);
    (data_nodes > 0 && open_shards.saturating_add(new_shards) > limit).then(|| {
        format!(
            "this action would add [{new_shards}] total shards, but this cluster currently has \
             [{open_shards}]/[{limit}] maximum shards open"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_prefixed_setting_names_are_the_same_setting() {
        assert_eq!(
            unmodifiable(["number_of_shards"]).as_deref(),
            Some("index.number_of_shards")
        );
        assert_eq!(unmodifiable(["index.number_of_replicas"]), None);
        assert_eq!(
            unremovable(["index.refresh_interval", "number_of_replicas"]).as_deref(),
            Some("index.number_of_replicas")
        );
    }

    #[test]
    fn the_shard_limit_counts_every_data_node() {
        assert_eq!(shard_limit_exceeded(2, 1998, 1000, 2), None);
        assert_eq!(
            shard_limit_exceeded(3, 1998, 1000, 2).as_deref(),
            Some(
                "this action would add [3] total shards, but this cluster currently has \
                 [1998]/[2000] maximum shards open"
            )
        );
        assert_eq!(shard_limit_exceeded(10_000, 0, 1, 0), None);
    }
}
