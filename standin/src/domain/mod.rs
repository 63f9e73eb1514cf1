//! **An emulated Amazon OpenSearch Service domain, for tests and the demo.** It answers the
//! index, alias, repository, snapshot and restore APIs with the status codes, error types and
//! body shapes the real service sends, checks SigV4 on every request, and writes snapshots
//! into S3 through the real S3 API. It is not a search engine: documents are kept, counted
//! and copied, never searched.
//!
//! # Layers (each imports only those below it; `tests/layers.rs` checks it)
//! - `service` (top): the HTTP front — latency, signature check, faults, then dispatch of
//!   each route to its API module.
//! - `api`: one module per API family (`info`, `indices`, `documents`, `aliases`, `cat`,
//!   `repository`, `snapshots`, `snapshot_views`, `restore`, `cluster_settings`,
//!   `security`, `tiers`). An API module never imports a sibling.
//! - `state`: what the domain holds and the engine's rules over it — `cluster` (indices,
//!   aliases, documents), `settings`, `expressions`, `index_creation`, `recovery`,
//!   `cluster_settings` (the shard limit), `repositories`, `blobstore` (S3), `catalog` (the
//!   snapshots a repository holds), `running` (snapshots being taken), [`config`] (the
//!   engine profile), [`calendar`] (the wall-clock time it writes), [`faults`], [`security`]
//!   (the plugin's roles), `requests`, `tiers` (UltraWarm and cold storage).
//! - `wire` (bottom): the decoded `Call` and `Answer`, `routes`, `reply` (answers and the
//!   error envelope), `body` fields, `names`, `rename`, `time`.
//!
//! `benchmarks` (seeding thousands of snapshots, counting requests) works on the state
//! beside the service.

mod api;
mod benchmarks;
mod service;
mod state;
mod wire;

use std::sync::Arc;

use tokio::net::TcpListener;

pub use benchmarks::SeedPlan;
pub use state::SeenRequest;
pub use state::blobstore::drop_a_stored_document;
pub use state::calendar::Calendar;
pub use state::config::{
    self, DEFAULT_SNAPSHOT_ROLE, DomainConfig, Engine, NodeDisk, SelfManagedAccess,
    VERBOSE_LISTING_LIMIT,
};
pub use state::faults::{self, Fault, FaultControl, FaultPlan, FaultRule};
pub use state::requests::RequestCounts;
pub use state::security;

use crate::StandinError;
use crate::server::{ServerHandle, serve};
use state::Shared;

/// A running emulated domain.
#[derive(Debug)]
pub struct Domain {
    shared: Arc<Shared>,
    server: ServerHandle,
}

impl Domain {
    /// Starts the domain on `127.0.0.1:0`.
    pub async fn start(config: DomainConfig) -> Result<Self, StandinError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| StandinError::io("bind the domain's listener", e))?;
        Self::start_on(listener, config)
    }

    /// Starts the domain on a listener of the caller's choosing.
    pub fn start_on(listener: TcpListener, config: DomainConfig) -> Result<Self, StandinError> {
        if config.self_managed.is_some() && config.security.is_some() {
            // The plugin model maps IAM identities to users; internal users are not modelled.
            return Err(StandinError::Setup(
                "fine-grained access control (`security`) on a self-managed cluster is not \
                 modelled"
                    .into(),
            ));
        }
        if config.is_aws() && config.credentials.is_empty() {
            return Err(StandinError::Setup(
                "a domain needs at least one accepted principal".into(),
            ));
        }
        let shared = Arc::new(Shared::new(config));
        let server = serve(listener, service::DomainService::new(shared.clone()))?;
        Ok(Self { shared, server })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.address())
    }

    pub fn name(&self) -> &str {
        &self.shared.config.name
    }

    /// The wall-clock time this domain writes; a test moves it to simulate the nights going
    /// by (see [`Calendar`]).
    pub fn calendar(&self) -> &Calendar {
        &self.shared.config.calendar
    }

    /// Changes this domain's faults while it runs.
    pub fn faults(&self) -> &FaultControl {
        &self.shared.faults
    }

    /// How many full snapshot descriptions the domain has read from S3: one per snapshot for
    /// every verbose listing, status or cat request, none for `verbose=false`.
    pub fn snapshot_info_reads(&self) -> u64 {
        self.shared.snapshot_info_reads()
    }

    /// Every authenticated request since the last call (method, decoded path segments, query
    /// parameter names), oldest first: what a client sent, to compare with upstream's specs.
    pub fn take_requests(&self) -> Vec<SeenRequest> {
        self.shared.take_seen()
    }

    /// The reasons of every request refused for a query parameter this engine version does not
    /// read (`contains unrecognized parameter`), oldest first.
    pub fn unrecognized_parameters(&self) -> Vec<String> {
        self.shared.unrecognized()
    }

    /// Every action the security plugin checked since the last call, oldest first (empty on a
    /// domain without fine-grained access control).
    pub fn take_checked_actions(&self) -> Vec<security::CheckedAction> {
        self.shared
            .security
            .as_ref()
            .map(security::SecurityPlugin::take_checked)
            .unwrap_or_default()
    }

    /// Takes one of AWS's automated snapshots, as the service does every hour: the whole
    /// cluster, system indices included, into `cs-automated` (kept in a bucket of the
    /// stand-in's that callers never see), waiting for it to finish.
    /// A self-managed cluster has none: refused.
    pub async fn take_automated_snapshot(&self, name: &str) -> Result<(), StandinError> {
        if !self.shared.aws() {
            return Err(StandinError::Setup(
                "a self-managed cluster has no AWS automated snapshots".into(),
            ));
        }
        let repository = api::snapshots::AUTOMATED_REPOSITORY;
        state::repositories::provision_managed(&self.shared, repository)
            .await
            .map_err(|e| StandinError::S3(e.to_string()))?;
        api::snapshots::take_automated(&self.shared, name)
            .await
            .map(|_| ())
            .map_err(|refusal| {
                StandinError::Setup(format!(
                    "the automated snapshot was refused: {}",
                    String::from_utf8_lossy(&refusal.body)
                ))
            })
    }

    /// Unassigns an index's primaries (red health); snapshots of it fail or are partial.
    pub fn mark_index_red(&self, index: &str) -> bool {
        self.set_red(index, true)
    }

    /// Undoes [`Domain::mark_index_red`].
    pub fn mark_index_green(&self, index: &str) -> bool {
        self.set_red(index, false)
    }

    fn set_red(&self, index: &str, red: bool) -> bool {
        match self.shared.cluster().indices.get_mut(index) {
            Some(i) => {
                i.red = red;
                true
            }
            None => false,
        }
    }

    /// Migrates an index to UltraWarm, as `POST _ultrawarm/migration/<index>/_warm` does once
    /// it completes (the migration's stages are not modelled): the index carries the warm box
    /// type and is read-only. False when there is no such index, or on a self-managed cluster
    /// (no UltraWarm).
    pub fn migrate_to_warm(&self, index: &str) -> bool {
        self.shared.cluster().move_to_warm(index).is_ok()
    }

    /// Migrates a warm index to cold storage (giving the domain cold storage): it leaves the
    /// index list and `GET _cold/indices/_search` lists it. False when there is no such warm
    /// index, or on a self-managed cluster.
    pub fn migrate_to_cold(&self, index: &str) -> bool {
        let uuid = state::new_uuid();
        self.shared.cluster().move_to_cold(index, uuid).is_ok()
    }

    /// Gives the domain cold storage with no cold index yet (nothing on a self-managed
    /// cluster, which has no `_cold` APIs).
    pub fn enable_cold_storage(&self) {
        if self.shared.aws() {
            self.shared.cluster().cold.enabled = true;
        }
    }

    /// The domain's indices, sorted, without going through HTTP.
    pub fn index_names(&self) -> Vec<String> {
        self.shared.cluster().indices.keys().cloned().collect()
    }

    /// An index's document count, without going through HTTP.
    pub fn doc_count(&self, index: &str) -> Option<usize> {
        self.shared
            .cluster()
            .indices
            .get(index)
            .map(|i| i.docs.len())
    }

    /// Stops serving and stops the domain's background work (running snapshots never
    /// finish).
    pub async fn shutdown(self) {
        self.server.shutdown().await;
        self.shared.abort_tasks();
    }
}
