//! What an emulated domain is: its engine and version, who may call it, where it writes
//! snapshots, how long its background work takes, and which faults it injects.

use std::time::Duration;

use aws_credential_types::Credentials;
use policy::engines::{self, Capabilities, EngineError};

use crate::TEST_REGION;
use crate::auth::TestPrincipal;
use crate::domain::state::calendar::Calendar;
use crate::domain::state::faults::FaultPlan;
use crate::domain::state::security::SecurityConfig;

/// The engine a domain runs: its kind and version (read from `policy::engines`, the same
/// table the functions read) and the version text `GET /` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    engine: engines::Engine,
    number: String,
}

impl Engine {
    /// OpenSearch 2.13.0, the default.
    pub fn opensearch() -> Self {
        Self::os_2()
    }

    /// Elasticsearch 7.10.2.
    pub fn elasticsearch() -> Self {
        Self::es_7_10()
    }

    pub fn es_6_8() -> Self {
        Self::from_policy(engines::Engine::elasticsearch((6, 8, 23)))
    }

    pub fn es_7_4() -> Self {
        Self::from_policy(engines::Engine::elasticsearch((7, 4, 2)))
    }

    pub fn es_7_10() -> Self {
        Self::from_policy(engines::Engine::elasticsearch((7, 10, 2)))
    }

    pub fn os_1_3() -> Self {
        Self::from_policy(engines::Engine::opensearch((1, 3, 20)))
    }

    pub fn os_2() -> Self {
        Self::from_policy(engines::Engine::opensearch((2, 13, 0)))
    }

    pub fn os_3() -> Self {
        Self::from_policy(engines::Engine::opensearch((3, 1, 0)))
    }

    /// Every profile osnap is tested against ([`engines::PROFILES`]).
    pub fn profiles() -> Vec<Self> {
        engines::PROFILES
            .iter()
            .copied()
            .map(Self::from_policy)
            .collect()
    }

    /// An OpenSearch domain of `version` (`"2.17.0"`).
    pub fn opensearch_at(version: &str) -> Result<Self, EngineError> {
        Self::parse(engines::EngineKind::OpenSearch, version)
    }

    /// An Elasticsearch domain of `version` (`"7.4.2"`).
    pub fn elasticsearch_at(version: &str) -> Result<Self, EngineError> {
        Self::parse(engines::EngineKind::Elasticsearch, version)
    }

    fn parse(kind: engines::EngineKind, version: &str) -> Result<Self, EngineError> {
        let numbers = engines::parse_version(version)?;
        Ok(Self {
            engine: engines::Engine {
                kind,
                version: numbers,
                compatibility_mode: false,
            },
            number: version.to_owned(),
        })
    }

    fn from_policy(engine: engines::Engine) -> Self {
        let (major, minor, patch) = engine.version;
        Self {
            engine,
            number: format!("{major}.{minor}.{patch}"),
        }
    }

    pub fn version(&self) -> &str {
        &self.number
    }

    pub fn is_opensearch(&self) -> bool {
        self.engine.is_opensearch()
    }

    /// The engine as the functions see it.
    pub fn policy(&self) -> engines::Engine {
        self.engine
    }

    /// What this version accepts and writes: the one place the stand-in reads the table.
    pub fn capabilities(&self) -> Capabilities {
        self.engine.capabilities()
    }

    /// `(major, minor, patch)`.
    pub(crate) fn numbers(&self) -> (u32, u32, u32) {
        self.engine.version
    }

    /// The numeric id the engine writes into snapshots. OpenSearch sets bit 27 so that every
    /// OpenSearch version sorts after every Elasticsearch one.
    pub(crate) fn version_id(&self) -> u64 {
        let (major, minor, patch) = self.numbers();
        let id =
            u64::from(major) * 1_000_000 + u64::from(minor) * 10_000 + u64::from(patch) * 100 + 99;
        if self.is_opensearch() {
            id ^ 0x0800_0000
        } else {
            id
        }
    }

    /// The word the engine uses for the node that coordinates the cluster.
    pub(crate) fn manager_word(&self) -> &'static str {
        if self.is_opensearch() {
            "cluster-manager"
        } else {
            "master"
        }
    }

    pub(crate) fn product(&self) -> &'static str {
        if self.is_opensearch() {
            "OpenSearch"
        } else {
            "Elasticsearch"
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.product(), self.number)
    }
}

/// How a domain is set up. [`DomainConfig::new`] gives the defaults; fields are public so
/// tests change only what they need.
#[derive(Debug, Clone)]
pub struct DomainConfig {
    /// The domain name (the cluster name is `<account>:<name>`, as on AWS).
    pub name: String,
    pub engine: Engine,
    /// The region requests must be signed for.
    pub region: String,
    /// The callers whose signatures are accepted.
    pub credentials: Vec<TestPrincipal>,
    /// Role ARNs a caller may pass to the domain (`iam:PassRole`) when registering a
    /// repository.
    pub passable_roles: Vec<String>,
    /// The S3 endpoint the domain writes snapshots to, and its credentials.
    pub s3_endpoint: String,
    pub s3_credentials: Credentials,
    /// How long a snapshot stays `IN_PROGRESS`.
    pub snapshot_duration: Duration,
    /// How long a restored index takes to recover.
    pub recovery_duration: Duration,
    pub faults: FaultPlan,
    /// The most snapshots a verbose `GET _snapshot` describes before the gateway gives up on
    /// it (answering 504): see `snapshot_views::get`.
    pub verbose_listing_limit: usize,
    /// Seeds every random choice of the fault injection.
    pub seed: u64,
    /// Fine-grained access control: the security plugin on, with these roles and mappings
    /// (`None`: off, every accepted signer may do anything).
    pub security: Option<SecurityConfig>,
    /// The wall-clock time the domain writes (real unless a test moves it).
    pub calendar: Calendar,
    /// Each data node's disk, as `_cat/allocation` reports it (tests fill it).
    pub node_disk: NodeDisk,
    /// Whether the domain starts with the indices every AWS domain holds (`.kibana_1`,
    /// `.opendistro_security`). Off for upstream's REST tests, which start on an empty
    /// cluster.
    pub system_indices: bool,
    /// A self-managed cluster instead of an AWS domain (`None`: AWS, SigV4 and AWS's own
    /// features): how callers authenticate to it. See [`SelfManagedAccess`].
    pub self_managed: Option<SelfManagedAccess>,
}

/// How callers reach a self-managed cluster (one not behind AWS: no SigV4, no AWS-only APIs,
/// no `cs-automated`, no `role_arn` requirement). Its nodes reach S3 with their keystore's
/// `s3.client.default.*` credentials: [`DomainConfig::s3_credentials`].
#[derive(Clone, PartialEq, Eq)]
pub enum SelfManagedAccess {
    /// HTTP basic authentication (the security plugin's internal user, or Elasticsearch's native realm).
    Basic { username: String, password: String },
    /// No authentication at all (a cluster without a security plugin, behind its own network controls).
    Open,
}

impl std::fmt::Debug for SelfManagedAccess {
    // The password is a credential: never formatted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
            Self::Open => f.write_str("Open"),
        }
    }
}

/// One data node's disk: its size and what takes room on it besides the domain's shards
/// (the operating system, logs, translog headroom). `_cat/allocation` reports the shards'
/// bytes as `disk.indices`, and `disk.used` as both together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeDisk {
    pub total_bytes: u64,
    pub other_used_bytes: u64,
}

impl Default for NodeDisk {
    /// 100 GiB with 1 GiB taken.
    fn default() -> Self {
        Self {
            total_bytes: 100 << 30,
            other_used_bytes: 1 << 30,
        }
    }
}

/// Where a verbose listing stops being answered in time on a real domain (OpenSearch issue
/// #22238 reports the failure from about 1,000 snapshots on).
pub const VERBOSE_LISTING_LIMIT: usize = 1_000;

/// The role the default configuration lets callers pass.
pub const DEFAULT_SNAPSHOT_ROLE: &str = "arn:aws:iam::123456789012:role/osnap-snapshots";

/// The AWS account the emulated domains live in.
pub(crate) const ACCOUNT_ID: &str = "123456789012";

impl DomainConfig {
    /// An OpenSearch 2.13 domain writing to the S3 server at `s3_endpoint`.
    pub fn new(name: impl Into<String>, s3_endpoint: impl Into<String>, s3: Credentials) -> Self {
        Self {
            name: name.into(),
            engine: Engine::opensearch(),
            region: TEST_REGION.to_owned(),
            credentials: vec![TestPrincipal::default_operator()],
            passable_roles: vec![DEFAULT_SNAPSHOT_ROLE.to_owned()],
            s3_endpoint: s3_endpoint.into(),
            s3_credentials: s3,
            snapshot_duration: Duration::from_millis(300),
            recovery_duration: Duration::from_millis(300),
            faults: FaultPlan::default(),
            calendar: Calendar::default(),
            node_disk: NodeDisk::default(),
            system_indices: true,
            verbose_listing_limit: VERBOSE_LISTING_LIMIT,
            seed: 0,
            security: None,
            self_managed: None,
        }
    }

    /// A self-managed cluster (OpenSearch 2.13 unless the engine is changed) writing to the S3
    /// server at `s3_endpoint` with `s3` as its nodes' client credentials. It starts without
    /// AWS's system indices (`.kibana_1`, `.opendistro_security`): a self-managed cluster holds
    /// what its operator put there.
    pub fn self_managed(
        name: impl Into<String>,
        s3_endpoint: impl Into<String>,
        s3: Credentials,
        access: SelfManagedAccess,
    ) -> Self {
        Self {
            system_indices: false,
            self_managed: Some(access),
            ..Self::new(name, s3_endpoint, s3)
        }
    }

    /// Whether the cluster is an AWS domain (not [`DomainConfig::self_managed`]).
    pub fn is_aws(&self) -> bool {
        self.self_managed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_order_opensearch_after_elasticsearch() {
        assert_eq!(Engine::elasticsearch().version_id(), 7_100_299);
        assert_eq!(Engine::opensearch().version_id(), 136_347_827);
        assert!(Engine::opensearch_at("1.0.0").unwrap().version_id() > 7_100_299);
        assert_eq!(Engine::es_6_8().version(), "6.8.23");
        assert_eq!(Engine::profiles().len(), 6);
    }
}
