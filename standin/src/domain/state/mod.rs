//! **The state layer**: what a domain holds and the engine's rules over it — the cluster
//! (indices, aliases, documents, settings, recovery), registered repositories and the
//! snapshots they hold in S3, running work, cluster settings and the shard limit, the engine
//! profile and injected faults (its configuration), the security plugin's roles, and the
//! request count. It reads request types from `wire` and never imports an API module.

pub mod config;
pub mod faults;
pub mod security;

pub mod calendar;

pub(crate) mod blobstore;
pub(crate) mod catalog;
pub(crate) mod cluster;
pub(crate) mod cluster_settings;
pub(crate) mod data_streams;
pub(crate) mod expressions;
pub(crate) mod index_creation;
pub(crate) mod recovery;
pub(crate) mod repositories;
pub(crate) mod requests;
pub(crate) mod running;
pub(crate) mod settings;
pub(crate) mod tiers;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::task::AbortHandle;

use crate::auth::AuthConfig;
use cluster::{Cluster, Node};
use config::DomainConfig;
use faults::FaultControl;
use repositories::RepositoryDef;

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
    pub requests: requests::RequestCounter,
    tasks: Mutex<Vec<AbortHandle>>,
    /// Work the gateway timed out on before the domain got to it (`Fault::GatewayTimeoutQueued`).
    queued: Mutex<Vec<QueuedWork>>,
}

/// A request's work waiting in the cluster manager's queue.
pub(crate) struct QueuedWork(pub std::pin::Pin<Box<dyn Future<Output = ()> + Send>>);

impl std::fmt::Debug for QueuedWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueuedWork")
    }
}

/// One request a domain answered: see `Domain::take_requests`.
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

impl Shared {
    /// A fresh domain's state: the system indices AWS creates and its `cs-automated`
    /// repository (AWS's: a self-managed cluster has no such repository).
    pub fn new(config: DomainConfig) -> Self {
        // AWS names a domain's cluster `<account>:<domain>`; a self-managed one is named by
        // its own `cluster.name`.
        let cluster_name = if config.is_aws() {
            format!("{}:{}", config::ACCOUNT_ID, config.name)
        } else {
            config.name.clone()
        };
        let identity = Identity {
            cluster_name,
            cluster_uuid: new_uuid(),
            nodes: (1..=cluster::DATA_NODES).map(u64::from).map(node).collect(),
        };
        let mut cluster = Cluster::default();
        let version_id = config.engine.version_id();
        if config.system_indices {
            cluster.seed_system_indices(&mut new_uuid, version_id);
        }
        if config.is_aws() {
            cluster.repositories.insert(
                "cs-automated".into(),
                RepositoryDef::aws_managed("cs-automated"),
            );
        } else {
            cluster.cold.no_ultrawarm = true;
        }
        Self {
            auth: AuthConfig {
                region: config.region.clone(),
                service: "es".into(),
                principals: config.credentials.clone(),
            },
            faults: FaultControl::new(config.faults.clone(), config.seed),
            security: config.security.clone().map(security::SecurityPlugin::new),
            s3: crate::s3::engine_s3_client(&config.s3_endpoint, config.s3_credentials.clone()),
            identity,
            config,
            cluster: Mutex::new(cluster),
            snapshot_info_reads: AtomicU64::new(0),
            unrecognized: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            requests: requests::RequestCounter::default(),
            tasks: Mutex::new(Vec::new()),
            queued: Mutex::new(Vec::new()),
        }
    }

    /// Records an authenticated request.
    pub(crate) fn record_seen(&self, request: SeenRequest) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    /// Every request recorded since the last call, oldest first.
    pub(crate) fn take_seen(&self) -> Vec<SeenRequest> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn cluster(&self) -> MutexGuard<'_, Cluster> {
        self.cluster.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An Amazon OpenSearch Service domain (not a self-managed cluster).
    pub fn aws(&self) -> bool {
        self.config.is_aws()
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

    /// How many snapshot descriptions were read from S3 so far.
    pub fn snapshot_info_reads(&self) -> u64 {
        self.snapshot_info_reads.load(Ordering::Relaxed)
    }

    /// Records a refusal of parameters this engine version does not read.
    pub(crate) fn record_unrecognized(&self, reason: &str) {
        self.unrecognized
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(reason.to_owned());
    }

    /// Every refusal recorded so far, oldest first.
    pub fn unrecognized(&self) -> Vec<String> {
        self.unrecognized
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Holds `work` until the domain has answered its next request.
    pub(crate) fn queue(&self, work: QueuedWork) {
        self.queued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(work);
    }

    /// The queued work, oldest first, taken out of the queue.
    pub(crate) fn take_queued(&self) -> Vec<QueuedWork> {
        std::mem::take(&mut *self.queued.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs background work that `Domain::shutdown` stops.
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

    /// Stops every background task.
    pub fn abort_tasks(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            task.abort();
        }
    }
}
