//! Amazon OpenSearch Service's cold tier (Developer Guide, cold-storage.md): cold indices are
//! detached from the cluster and in no snapshot of it. Only an AWS domain has the tier, and
//! its listing API (`_cold/indices/_search`); a self-managed cluster is not asked.

use snapshot_api::indices::ColdIndices;
use snapshot_api::{ApiError, SnapshotApi};

/// What the cold listing said.
#[derive(Debug)]
pub(crate) enum ColdListing {
    /// A self-managed cluster: there is no such tier to list.
    NoTier,
    /// The first page of the domain's cold indices.
    Listed(ColdIndices),
    /// The domain refused the listing. What a domain without cold storage answers is not
    /// documented, so a refusal is taken to mean none.
    Refused(ApiError),
}

impl ColdListing {
    /// The cold indices listed, none when there is no tier or the listing was refused.
    pub(crate) fn names(&self) -> Vec<String> {
        match self {
            Self::Listed(page) => page.indices.iter().map(|c| c.index.clone()).collect(),
            Self::NoTier | Self::Refused(_) => Vec::new(),
        }
    }
}

/// Lists the cold indices of an AWS domain; `self_managed` says there is no tier to ask.
pub(crate) async fn list(api: &SnapshotApi, self_managed: bool) -> ColdListing {
    if self_managed {
        return ColdListing::NoTier;
    }
    match api.cold_indices().await {
        Ok(page) => ColdListing::Listed(page),
        Err(error) => ColdListing::Refused(error),
    }
}
