//! UltraWarm and cold storage (Amazon OpenSearch Service Developer Guide, `ultrawarm.md` and
//! `cold-storage.md`). A warm index is an ordinary index of the cluster that carries
//! `index.routing.allocation.require.box_type: warm` ("Migrating indexes to UltraWarm
//! storage") and is read-only; a cold index is detached: it leaves the cluster's index list
//! and is listed only by `GET _cold/indices/_search` ("Listing cold indexes").

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::domain::state::cluster::Cluster;
use crate::domain::state::settings::Settings;
use crate::domain::wire::reply::{EsError, Reply};
use crate::domain::wire::time::iso;

/// The setting that puts an index on UltraWarm nodes.
pub(crate) const BOX_TYPE: &str = "index.routing.allocation.require.box_type";

/// AWS's automated repository of warm indexes; its snapshots restore to warm storage
/// ("Restoring warm indexes from snapshots"), every other one's to hot.
pub(crate) const ULTRAWARM_REPOSITORY: &str = "cs-ultrawarm";

/// Where an index of the cluster lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Hot,
    Warm,
}

pub(crate) fn tier(settings: &Settings) -> Tier {
    match settings.get(BOX_TYPE).map(String::as_str) {
        Some("warm") => Tier::Warm,
        _ => Tier::Hot,
    }
}

/// A detached index, as `GET _cold/indices/_search` describes it.
#[derive(Debug, Clone)]
pub(crate) struct ColdIndex {
    pub cold_uuid: String,
    pub size: u64,
    pub creation_date: String,
}

/// What the cluster holds outside its index list.
#[derive(Debug, Default)]
pub(crate) struct ColdStorage {
    /// Whether the domain has cold storage at all.
    pub enabled: bool,
    /// A self-managed cluster: no UltraWarm, so `_warm` and `_hot` are plain names.
    pub no_ultrawarm: bool,
    pub indices: BTreeMap<String, ColdIndex>,
}

/// Why a move between tiers was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MoveError {
    NoSuchIndex,
    /// The guide migrates to cold from warm only ("Migrating indexes to cold storage").
    NotWarm,
    /// A self-managed cluster has neither UltraWarm nor cold storage.
    NoUltraWarm,
}

impl Cluster {
    /// Moves a hot index to warm: the box type the guide shows, and read-only from then on.
    pub fn move_to_warm(&mut self, name: &str) -> Result<(), MoveError> {
        if self.cold.no_ultrawarm {
            return Err(MoveError::NoUltraWarm);
        }
        let index = self.indices.get_mut(name).ok_or(MoveError::NoSuchIndex)?;
        index.settings.insert(BOX_TYPE.into(), "warm".into());
        Ok(())
    }

    /// Detaches a warm index into cold storage (and gives the domain cold storage).
    pub fn move_to_cold(&mut self, name: &str, cold_uuid: String) -> Result<(), MoveError> {
        if self.cold.no_ultrawarm {
            return Err(MoveError::NoUltraWarm);
        }
        match self.indices.get(name) {
            None => return Err(MoveError::NoSuchIndex),
            Some(index) if tier(&index.settings) != Tier::Warm => return Err(MoveError::NotWarm),
            Some(_) => {}
        }
        let Some(index) = self.indices.remove(name) else {
            return Err(MoveError::NoSuchIndex);
        };
        let creation = index
            .settings
            .get("index.creation_date")
            .and_then(|m| m.parse::<u64>().ok())
            .map(iso)
            .unwrap_or_default();
        self.cold.enabled = true;
        self.cold.indices.insert(
            name.to_owned(),
            ColdIndex {
                cold_uuid,
                size: index.primary_bytes(),
                creation_date: creation,
            },
        );
        Ok(())
    }

    /// The indices of `names` in warm storage.
    pub fn warm_among<'a>(&self, names: &'a [String]) -> Vec<&'a String> {
        names
            .iter()
            .filter(|n| {
                self.indices
                    .get(n.as_str())
                    .is_some_and(|i| tier(&i.settings) == Tier::Warm)
            })
            .collect()
    }
}

/// The documented refusal of a write to a warm index ("Migrating indexes to UltraWarm
/// storage": "you can't add, update, or delete individual documents").
pub(crate) fn warm_write_refused(index: &str) -> EsError {
    EsError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "cluster_block_exception",
        format!(
            "index [{index}] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage \
             watermark, index has read-only-allow-delete block];"
        ),
    )
}

/// The guide says which manual snapshots of warm indexes fail ("Manual snapshots of warm
/// indexes") but not with what answer, so the stand-in refuses them with an answer of its
/// own that says so.
pub(crate) fn manual_warm_snapshot_refused(why: &str) -> Reply {
    Reply::json(
        StatusCode::NOT_IMPLEMENTED,
        &json!({"error": format!(
            "stand-in: Amazon OpenSearch Service refuses a manual snapshot that {why}; its \
             answer is not documented and not modelled"
        )}),
    )
}

/// The guide does not say what a domain without cold storage answers to `_cold` requests.
pub(crate) fn no_cold_storage() -> Reply {
    Reply::json(
        StatusCode::NOT_IMPLEMENTED,
        &json!({"error": "stand-in: this domain has no cold storage; what Amazon OpenSearch \
                          Service answers to `_cold` requests then is not documented and not \
                          modelled"}),
    )
}

/// `GET _cold/indices/_search`: every cold index, sorted by name, in the documented shape.
/// The stand-in answers one page (no `pagination_id`).
pub(crate) fn cold_listing(cold: &ColdStorage) -> Value {
    let indices: Vec<Value> = cold
        .indices
        .iter()
        .map(|(name, c)| {
            json!({
                "index": name,
                "index_cold_uuid": c.cold_uuid,
                "size": c.size,
                "creation_date": c.creation_date,
            })
        })
        .collect();
    json!({"total_results": indices.len(), "indices": indices})
}
