//! Creating an index after the engine's checks (name, aliases, settings, the shard limit):
//! the create-index API and a write to a missing index both create one this way.

use serde_json::Value;

use crate::domain::state::cluster::{Cluster, Index};
use crate::domain::state::cluster_settings::check_shard_limit;
use crate::domain::state::settings::{self, Settings};
use crate::domain::state::{Shared, new_uuid};
use crate::domain::wire::names::validate_index_name;
use crate::domain::wire::reply::EsError;

/// Creates an empty index after the engine's checks.
pub(crate) fn create_index(
    shared: &Shared,
    cluster: &mut Cluster,
    name: &str,
    settings: Settings,
    mappings: Value,
    aliases: std::collections::BTreeMap<String, Value>,
) -> Result<(), EsError> {
    validate_index_name(name, shared.opensearch())?;
    if let Some(existing) = cluster.indices.get(name) {
        return Err(EsError::resource_already_exists(name, &existing.uuid));
    }
    if cluster.has_alias(name) {
        return Err(EsError::invalid_index_name(name, "already exists as alias"));
    }
    settings::validate(&settings)?;
    for alias in aliases.keys() {
        if cluster.indices.contains_key(alias) || alias == name {
            return Err(EsError::bad_request(
                "invalid_alias_name_exception",
                format!(
                    "Invalid alias name [{alias}], an index or data stream exists with the same \
                     name as the alias"
                ),
            ));
        }
    }
    let copies = 1 + u64::from(settings::replicas(&settings));
    check_shard_limit(cluster, u64::from(settings::shards(&settings)) * copies)?;
    let mut index = Index::new(
        name,
        new_uuid(),
        settings,
        shared.config.engine.version_id(),
        shared.config.calendar.now(),
    );
    index.mappings = mappings;
    index.aliases = aliases;
    cluster.indices.insert(name.to_owned(), index);
    Ok(())
}
