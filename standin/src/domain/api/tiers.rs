//! The storage-tier APIs of Amazon OpenSearch Service: `GET _cold/indices/_search`
//! (Developer Guide, cold-storage.md, "Listing cold indexes").

use std::sync::Arc;

use crate::domain::state::Shared;
use crate::domain::state::tiers::{cold_listing, no_cold_storage};
use crate::domain::wire::call::Answer;
use crate::domain::wire::reply::Reply;

/// `GET _cold/indices/_search`: every cold index, or the stand-in's refusal on a domain
/// without cold storage.
pub(crate) fn cold_indices(shared: &Arc<Shared>) -> Answer {
    let cluster = shared.cluster();
    if !cluster.cold.enabled {
        return Err(no_cold_storage());
    }
    Ok(Reply::ok(&cold_listing(&cluster.cold)))
}
