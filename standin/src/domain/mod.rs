//! **An emulated Amazon OpenSearch Service domain, for tests and the demo.** It answers the
//! index, alias, repository, snapshot and restore APIs with the status codes, error types and
//! body shapes the real service sends, checks SigV4 on every request, and writes snapshots
//! into S3 through the real S3 API. It is not a search engine: documents are kept, counted
//! and copied, never searched.
//!
//! # Layout
//! - [`config`]: what a domain is ([`DomainConfig`], [`Engine`]).
//! - [`faults`]: injected failures ([`FaultPlan`], [`FaultControl`]).
//! - `service`: the HTTP front: latency, signature check, faults, routing.
//! - `routes`: endpoints, accepted query parameters, unknown paths and methods.
//! - `reply`: answers and the engine's error envelope.
//! - `cluster`, `settings`, `names`, `expressions`, `recovery`: the in-memory state and the
//!   engine's rules for names, patterns, settings and shard recovery.
//! - `info`, `indices`, `documents`, `aliases`, `cat`: the cluster and index APIs.
//! - `repository`, `blobstore`, `snapshots`, `snapshot_views`, `restore`, `rename`: the
//!   snapshot APIs and their storage in S3.
//! - [`security`]: fine-grained access control (the security plugin's roles, mappings and
//!   403s), on when [`DomainConfig::security`] is set.
//! - `benchmarks`: seeding thousands of snapshots at once, and counting requests.

pub mod config;
pub mod faults;
pub mod security;

mod aliases;
mod benchmarks;
mod blobstore;
mod cat;
mod cluster;
mod cluster_settings;
mod documents;
mod expressions;
mod indices;
mod info;
mod names;
mod recovery;
mod rename;
mod reply;
mod repository;
mod restore;
mod routes;
mod service;
mod settings;
mod snapshot_views;
mod snapshots;
mod time;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::net::TcpListener;
use tokio::task::AbortHandle;

pub use benchmarks::{RequestCounts, SeedPlan};
pub use config::{DEFAULT_SNAPSHOT_ROLE, DomainConfig, Engine, VERBOSE_LISTING_LIMIT};
pub use faults::{Fault, FaultControl, FaultPlan, FaultRule};

use crate::StandinError;
use crate::auth::AuthConfig;
use crate::server::{ServerHandle, serve};
use cluster::{Cluster, Node};
use repository::RepositoryDef;

/// Who the domain is, as `GET /` and the node-level APIs tell it.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub cluster_name: String,
    pub cluster_uuid: String,
    pub nodes: Vec<Node>,
}

/// State shared by every request of one domain.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: DomainConfig,
    pub identity: Identity,
    pub auth: AuthConfig,
    pub faults: FaultControl,
    /// The security plugin, on a domain with fine-grained access control.
    pub security: Option<security::SecurityPlugin>,
    pub s3: aws_sdk_s3::Client,
    cluster: Mutex<Cluster>,
    snapshot_info_reads: AtomicU64,
    /// Every refusal of a query parameter the engine version does not read.
    unrecognized: Mutex<Vec<String>>,
    /// Every authenticated request, as the endpoint saw it.
    seen: Mutex<Vec<SeenRequest>>,
    requests: benchmarks::RequestCounter,
    tasks: Mutex<Vec<AbortHandle>>,
}

/// One request a domain answered: see [`Domain::take_requests`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub segments: Vec<String>,
    pub query: Vec<String>,
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random id in the engine's form (22 characters of URL-safe base64).
pub(crate) fn new_uuid() -> String {
    (0..22)
        .map(|_| char::from(BASE64URL[fastrand::usize(..64)]))
        .collect()
}

impl Shared {
    pub fn cluster(&self) -> MutexGuard<'_, Cluster> {
        self.cluster.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn opensearch(&self) -> bool {
        self.config.engine.is_opensearch()
    }

    /// What the engine version accepts and writes (`policy::engines`).
    pub fn capabilities(&self) -> policy::engines::Capabilities {
        self.config.engine.capabilities()
    }

    /// Counts one read of a snapshot's full description from S3.
    pub fn count_snapshot_info_read(&self) {
        self.snapshot_info_reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Records an authenticated request.
    pub(crate) fn record_seen(&self, request: SeenRequest) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    /// Records a refusal of parameters this engine version does not read.
    pub(crate) fn record_unrecognized(&self, reason: &str) {
        self.unrecognized
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(reason.to_owned());
    }

    /// Runs background work that [`Domain::shutdown`] stops.
    pub fn spawn<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(work);
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle.abort_handle());
        handle
    }
}

/// A running emulated domain.
#[derive(Debug)]
pub struct Domain {
    shared: Arc<Shared>,
    server: ServerHandle,
}

fn node(name_seed: u64) -> Node {
    let name: String = (0..32)
        .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)]))
        .collect();
    Node {
        id: new_uuid(),
        name,
        ip: format!("10.0.{}.{}", name_seed % 250, 10 + name_seed),
    }
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
        if config.credentials.is_empty() {
            return Err(StandinError::Setup(
                "a domain needs at least one accepted principal".into(),
            ));
        }
        let identity = Identity {
            cluster_name: format!("{}:{}", config::ACCOUNT_ID, config.name),
            cluster_uuid: new_uuid(),
            nodes: (1..=cluster::DATA_NODES).map(u64::from).map(node).collect(),
        };
        let mut cluster = Cluster::default();
        let version_id = config.engine.version_id();
        if config.system_indices {
            cluster.seed_system_indices(&mut new_uuid, version_id);
        }
        cluster.repositories.insert(
            "cs-automated".into(),
            RepositoryDef::aws_managed("cs-automated"),
        );
        let shared = Arc::new(Shared {
            auth: AuthConfig {
                region: config.region.clone(),
                service: "es".into(),
                principals: config.credentials.clone(),
            },
            faults: FaultControl::new(config.faults.clone(), config.seed),
            security: config.security.clone().map(security::SecurityPlugin::new),
            s3: crate::s3::s3_client(&config.s3_endpoint, config.s3_credentials.clone()),
            identity,
            config,
            cluster: Mutex::new(cluster),
            snapshot_info_reads: AtomicU64::new(0),
            unrecognized: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            requests: benchmarks::RequestCounter::default(),
            tasks: Mutex::new(Vec::new()),
        });
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

    /// Changes this domain's faults while it runs.
    pub fn faults(&self) -> &FaultControl {
        &self.shared.faults
    }

    /// How many full snapshot descriptions the domain has read from S3: one per snapshot for
    /// every verbose listing, status or cat request, none for `verbose=false`.
    pub fn snapshot_info_reads(&self) -> u64 {
        self.shared.snapshot_info_reads.load(Ordering::Relaxed)
    }

    /// Every authenticated request since the last call (method, decoded path segments, query
    /// parameter names), oldest first: what a client sent, to compare with upstream's specs.
    pub fn take_requests(&self) -> Vec<SeenRequest> {
        std::mem::take(
            &mut *self
                .shared
                .seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The reasons of every request refused for a query parameter this engine version does not
    /// read (`contains unrecognized parameter`), oldest first.
    pub fn unrecognized_parameters(&self) -> Vec<String> {
        self.shared
            .unrecognized
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
        let tasks = std::mem::take(
            &mut *self
                .shared
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for task in tasks {
            task.abort();
        }
    }
}
