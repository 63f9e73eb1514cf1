//! Which engine a domain runs and what that engine and version accept: one table of version
//! thresholds, read by the functions (through `snapshot-api`) and by the local stand-in alike.
//!
//! The engine is read once from `GET /`: OpenSearch answers `"distribution": "opensearch"`,
//! Elasticsearch has no `distribution`. OpenSearch 1.x/2.x in compatibility mode
//! (`compatibility.override_main_response_version`, a checkbox on Amazon OpenSearch Service)
//! reports `"number": "7.10.2"` and drops `distribution` (OpenSearch PR #898), but its tagline
//! still names the OpenSearch Project; its real version is then unknown and osnap assumes the
//! oldest OpenSearch (1.0.0), the conservative choice. The setting is gone in 3.0 (OpenSearch
//! issue #18228), so a 3.x domain always reports its own version.
//!
//! Every threshold below says where it comes from. Where one could not be established the
//! table assumes the older behaviour and says so.

use std::fmt;

/// `(major, minor, patch)`.
pub type Version = (u32, u32, u32);

/// The two engines Amazon OpenSearch Service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineKind {
    OpenSearch,
    Elasticsearch,
}

/// An engine and its version, as `GET /` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Engine {
    pub kind: EngineKind,
    pub version: Version,
    /// OpenSearch reporting `7.10.2` (compatibility mode): `version` is then the assumed 1.0.0.
    pub compatibility_mode: bool,
}

/// Why `GET /`'s version could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the domain reports version `{0}`, which is not MAJOR.MINOR.PATCH")]
    Version(String),
}

/// What the engine writes in its tagline on OpenSearch (in compatibility mode too).
const OPENSEARCH_TAGLINE: &str = "The OpenSearch Project";

impl Engine {
    pub const fn opensearch(version: Version) -> Self {
        Self {
            kind: EngineKind::OpenSearch,
            version,
            compatibility_mode: false,
        }
    }

    pub const fn elasticsearch(version: Version) -> Self {
        Self {
            kind: EngineKind::Elasticsearch,
            version,
            compatibility_mode: false,
        }
    }

    /// The engine from `GET /`'s `version.number`, `version.distribution` and `tagline`.
    pub fn from_root(
        number: &str,
        distribution: Option<&str>,
        tagline: Option<&str>,
    ) -> Result<Self, EngineError> {
        let version = parse_version(number)?;
        let opensearch = distribution == Some("opensearch")
            || tagline.is_some_and(|t| t.contains(OPENSEARCH_TAGLINE));
        if !opensearch {
            return Ok(Self::elasticsearch(version));
        }
        // OpenSearch numbers start at 1; a 7.x number is the compatibility-mode answer.
        if version.0 >= 5 {
            return Ok(Self {
                kind: EngineKind::OpenSearch,
                version: (1, 0, 0),
                compatibility_mode: true,
            });
        }
        Ok(Self::opensearch(version))
    }

    /// The engine from the numeric id it writes into snapshots (`version_id`):
    /// `major * 1_000_000 + minor * 10_000 + revision * 100 + build`, with OpenSearch's
    /// ids marked by bit 27 (`Version.MASK = 0x08000000` in OpenSearch's `Version.java`), so
    /// that every OpenSearch version sorts after every Elasticsearch one.
    pub fn from_version_id(id: u64) -> Option<Self> {
        const OPENSEARCH_MASK: u64 = 0x0800_0000;
        let opensearch = id & OPENSEARCH_MASK != 0 && id >= OPENSEARCH_MASK;
        let plain = if opensearch { id ^ OPENSEARCH_MASK } else { id };
        let part = |n: u64| u32::try_from(n % 100).ok();
        let version = (
            u32::try_from(plain / 1_000_000).ok()?,
            part(plain / 10_000)?,
            part(plain / 100)?,
        );
        Some(if opensearch {
            Self::opensearch(version)
        } else {
            Self::elasticsearch(version)
        })
    }

    pub fn is_opensearch(&self) -> bool {
        self.kind == EngineKind::OpenSearch
    }

    /// Whether the engine is at `since` or later (a `None` threshold: never).
    fn at_least(&self, since: Since) -> bool {
        let threshold = match self.kind {
            EngineKind::OpenSearch => since.opensearch,
            EngineKind::Elasticsearch => since.elasticsearch,
        };
        threshold.is_some_and(|t| self.version >= t)
    }

    pub fn supports(&self, feature: Feature) -> bool {
        TABLE
            .iter()
            .find(|row| row.feature == feature)
            .is_some_and(|row| self.at_least(row.since))
    }

    pub fn capabilities(&self) -> Capabilities {
        Capabilities::of(self)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor, patch) = self.version;
        match (self.kind, self.compatibility_mode) {
            (EngineKind::OpenSearch, true) => {
                f.write_str("OpenSearch (compatibility mode, 7.10.2)")
            }
            (EngineKind::OpenSearch, false) => write!(f, "OpenSearch {major}.{minor}.{patch}"),
            (EngineKind::Elasticsearch, _) => write!(f, "Elasticsearch {major}.{minor}.{patch}"),
        }
    }
}

/// `7.10.2`, `2.13.0`, `3.0.0-SNAPSHOT`, `6.8.0-beta1`: the three leading numbers (a missing
/// patch counts as 0).
pub fn parse_version(number: &str) -> Result<Version, EngineError> {
    let bad = || EngineError::Version(number.to_owned());
    let core = number.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.');
    let mut next = |required: bool| -> Result<u32, EngineError> {
        match parts.next() {
            Some(p) => p.parse::<u32>().map_err(|_| bad()),
            None if required => Err(bad()),
            None => Ok(0),
        }
    };
    Ok((next(true)?, next(true)?, next(false)?))
}

/// Something a request or an answer depends on that not every engine version has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// The `verbose` query parameter of `GET _snapshot/<repo>/<names>`.
    VerboseListingParam,
    /// `expand_wildcards` accepted by `GET _cat/indices`.
    ExpandWildcardsOnCatIndices,
    /// The `index.hidden` setting: wildcards skip hidden indices unless told otherwise.
    HiddenIndices,
    /// Comma-separated names (and wildcards) in `DELETE _snapshot/<repo>/<names>`.
    MultiSnapshotDelete,
    /// Snapshot creates and deletes running side by side.
    ConcurrentSnapshots,
    /// Data streams, and the `data_streams` field of a snapshot's description.
    DataStreams,
    /// The `metadata` object of a create-snapshot body, stored and shown back.
    SnapshotMetadata,
    /// The `cluster_manager_timeout` query parameter.
    ClusterManagerTimeout,
    /// The `master_timeout` query parameter.
    MasterTimeout,
    /// `POST <index>/_close` accepted by the domain (so a restore can go over a closed index).
    CloseIndex,
    /// The `remote_store_index_shallow_copy` field of a verbose snapshot description.
    RemoteStoreShallowCopyField,
    /// A self-managed cluster's security refuses a request without credentials with a body
    /// (OpenSearch's plain-text `Unauthorized`; Elasticsearch's is always a JSON error).
    UnauthorizedBody,
    /// Elasticsearch security says "missing authentication credentials" (before, "token").
    MissingCredentialsWording,
}

/// The first version of each engine with a feature; `None`: no version has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    pub elasticsearch: Option<Version>,
    pub opensearch: Option<Version>,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Threshold {
    pub feature: Feature,
    pub since: Since,
}

const fn row(feature: Feature, es: Option<Version>, os: Option<Version>) -> Threshold {
    Threshold {
        feature,
        since: Since {
            elasticsearch: es,
            opensearch: os,
        },
    }
}

/// Every OpenSearch version: the fork started from Elasticsearch 7.10.2 and kept what it had.
const ALL_OPENSEARCH: Option<Version> = Some((1, 0, 0));
/// Every Elasticsearch version Amazon's service runs (1.5 and later).
const ALL_ELASTICSEARCH: Option<Version> = Some((0, 0, 0));

/// The table: what each engine and version accepts and writes.
pub const TABLE: &[Threshold] = &[
    // Elasticsearch PR #24477 ("Enhances get snapshots API to allow retrieving repository index
    // only", merged 2017-05, released in 5.5.0) added `verbose`; 5.4 and older refuse it as an
    // unrecognized parameter.
    row(
        Feature::VerboseListingParam,
        Some((5, 5, 0)),
        ALL_OPENSEARCH,
    ),
    // Elasticsearch PR #53248 ("Allow _cat indices & aliases to use indices options", 7.7.0,
    // documented by #56964 and its 7.7 backport #57066): before it `_cat/indices` read no
    // indices options and refuses `expand_wildcards` as unrecognized. Its default expansion
    // there is open and closed indices (PR #18545, 5.0), so nothing is left out.
    row(
        Feature::ExpandWildcardsOnCatIndices,
        Some((7, 7, 0)),
        ALL_OPENSEARCH,
    ),
    // Elasticsearch PR #51164 / #50452 ("Introduce hidden indices", 7.7.0; the `hidden` value
    // of `expand_wildcards` went into 7.7 with PR #54551).
    row(Feature::HiddenIndices, Some((7, 7, 0)), ALL_OPENSEARCH),
    // Elasticsearch PR #55474 ("Allow Deleting Multiple Snapshots at Once", backported to 7.8
    // as #56083; the REST spec's `snapshot` became a list in #57326). Before, the path
    // segment is one snapshot name: `a,b` is looked up as a snapshot called `a,b`
    // (`snapshot_missing_exception`, "[repo:a,b] is missing").
    row(
        Feature::MultiSnapshotDelete,
        Some((7, 8, 0)),
        ALL_OPENSEARCH,
    ),
    // Elasticsearch PR #56911 ("Enable Fully Concurrent Snapshot Operations", 7.9.0, backport
    // #59578) with `snapshot.max_concurrent_operations` (default 1000). Before, one snapshot
    // operation at a time (`concurrent_snapshot_execution_exception`).
    row(
        Feature::ConcurrentSnapshots,
        Some((7, 9, 0)),
        ALL_OPENSEARCH,
    ),
    // Data streams and the snapshot description's `data_streams` field: Elasticsearch 7.9.0
    // (the 7.9 release of data streams; snapshot docs PR #59730 describe the field).
    row(Feature::DataStreams, Some((7, 9, 0)), ALL_OPENSEARCH),
    // Elasticsearch PR #41281 ("Add custom metadata to snapshots", backported to 7.x as
    // #42902, released in 7.3.0). Older versions do not keep a body's `metadata`.
    row(Feature::SnapshotMetadata, Some((7, 3, 0)), ALL_OPENSEARCH),
    // OpenSearch issue #2511 and PRs #2557/#2658/#2660/#2680 (labelled v2.0.0) added
    // `cluster_manager_timeout`; no Elasticsearch and no OpenSearch 1.x reads it.
    row(Feature::ClusterManagerTimeout, None, Some((2, 0, 0))),
    // `master_timeout` is read everywhere: deprecated on OpenSearch 2.x without a warning
    // (PR #2920), and still parsed in 3.x with a deprecation warning (the REST handlers call
    // `parseDeprecatedMasterTimeoutParameter`; removal was planned, PR #2863, not done).
    row(Feature::MasterTimeout, ALL_ELASTICSEARCH, ALL_OPENSEARCH),
    // Amazon OpenSearch Service accepts the close index API "only for OpenSearch and
    // Elasticsearch versions 7.4 and later" (Developer Guide, Troubleshooting, "Can't close
    // index"); the engines themselves always had it. A restore goes over an existing index only
    // when it is closed (RestoreService.validateExistingIndex), so this decides how `replace`
    // can work at all without deleting first.
    row(Feature::CloseIndex, Some((7, 4, 0)), ALL_OPENSEARCH),
    // Self-managed clusters' 401 (the stand-in's, for a migration's source). The OpenSearch
    // security plugin's challenge (`HTTPBasicAuthenticator.reRequestAuthentication`) had an
    // empty body up to 2.13 and `Unauthorized` from 2.14 (PR #4233, "Ensure that challenge
    // response contains body"); Elasticsearch's `DefaultAuthenticationFailureHandler` always
    // answers a `security_exception`.
    row(
        Feature::UnauthorizedBody,
        ALL_ELASTICSEARCH,
        Some((2, 14, 0)),
    ),
    // Elasticsearch PR #36750 (7.0.0) changed "missing authentication token" to "missing
    // authentication credentials"; the OpenSearch security plugin never says either.
    row(Feature::MissingCredentialsWording, Some((7, 0, 0)), None),
    // OpenSearch PR #7118 (shallow-copy snapshots for remote-store indices, 2.9) added
    // `remote_store_index_shallow_copy` to verbose snapshot descriptions. Not established
    // exactly; osnap never reads the field (unknown fields are ignored).
    row(Feature::RemoteStoreShallowCopyField, None, Some((2, 9, 0))),
];

/// `snapshot.max_concurrent_operations`' default where snapshots run concurrently
/// (Elasticsearch PR #56911; OpenSearch kept it).
pub const MAX_CONCURRENT_OPERATIONS: u32 = 1000;

/// What one engine version accepts and writes, derived from [`TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub verbose_listing_param: bool,
    pub expand_wildcards_on_cat_indices: bool,
    pub hidden_indices: bool,
    pub multi_snapshot_delete: bool,
    pub concurrent_snapshots: bool,
    pub data_streams: bool,
    pub snapshot_metadata: bool,
    pub cluster_manager_timeout: bool,
    pub master_timeout: bool,
    pub close_index: bool,
    pub remote_store_shallow_copy_field: bool,
}

impl Capabilities {
    pub fn of(engine: &Engine) -> Self {
        let has = |feature| engine.supports(feature);
        Self {
            verbose_listing_param: has(Feature::VerboseListingParam),
            expand_wildcards_on_cat_indices: has(Feature::ExpandWildcardsOnCatIndices),
            hidden_indices: has(Feature::HiddenIndices),
            multi_snapshot_delete: has(Feature::MultiSnapshotDelete),
            concurrent_snapshots: has(Feature::ConcurrentSnapshots),
            data_streams: has(Feature::DataStreams),
            snapshot_metadata: has(Feature::SnapshotMetadata),
            cluster_manager_timeout: has(Feature::ClusterManagerTimeout),
            master_timeout: has(Feature::MasterTimeout),
            close_index: has(Feature::CloseIndex),
            remote_store_shallow_copy_field: has(Feature::RemoteStoreShallowCopyField),
        }
    }

    /// The default `snapshot.max_concurrent_operations`: 1 where operations do not overlap.
    pub fn max_concurrent_operations(&self) -> u32 {
        if self.concurrent_snapshots {
            MAX_CONCURRENT_OPERATIONS
        } else {
            1
        }
    }

    /// The most snapshots one `DELETE _snapshot` may name.
    pub fn snapshots_per_delete(&self, wanted: usize) -> usize {
        if self.multi_snapshot_delete {
            wanted.max(1)
        } else {
            1
        }
    }

    /// The parameter naming the coordinating node's timeout that this version prefers.
    pub fn manager_timeout_param(&self) -> &'static str {
        if self.cluster_manager_timeout {
            "cluster_manager_timeout"
        } else {
            "master_timeout"
        }
    }
}

/// A range of one engine's major versions, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Majors {
    pub kind: EngineKind,
    pub first: u32,
    pub last: u32,
}

const fn es(first: u32, last: u32) -> Majors {
    Majors {
        kind: EngineKind::Elasticsearch,
        first,
        last,
    }
}

const fn os(first: u32, last: u32) -> Majors {
    Majors {
        kind: EngineKind::OpenSearch,
        first,
        last,
    }
}

impl Majors {
    fn holds(&self, engine: &Engine) -> bool {
        engine.kind == self.kind && (self.first..=self.last).contains(&engine.version.0)
    }
}

/// One row of [`SNAPSHOT_COMPATIBILITY`]: a snapshot taken on `from` restores on `onto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestorePair {
    pub from: Majors,
    pub onto: &'static [Majors],
}

/// Where a snapshot restores: always onto the same or a newer version (the Amazon OpenSearch
/// Service Developer Guide, "Migrating to Amazon OpenSearch Service": "Snapshots are only
/// forward-compatible, and only by one major version … Minor version matters, too. You can't
/// restore a snapshot from a self-managed 5.3.3 cluster on a 5.3.2 OpenSearch Service
/// domain"), and only onto the majors of its row. Every row cites its source; a pair no row
/// names is incompatible. Compatibility is really decided per index, by the version that
/// created it (Elasticsearch's "Snapshot and restore" index compatibility table): an index a
/// source carried over from an older major may fail where its domain's row says yes.
pub const SNAPSHOT_COMPATIBILITY: &[RestorePair] = &[
    // Developer Guide, "Using a snapshot to migrate data": 1.5 → 2.3 works, 1.5 → 5.x does
    // not ("Elasticsearch 1.5 snapshots are not compatible with 5.x").
    RestorePair {
        from: es(1, 1),
        onto: &[es(1, 2)],
    },
    // Same table: 2.3 → 5.x works; "Elasticsearch 2.3 snapshots are not compatible with 6.x".
    RestorePair {
        from: es(2, 2),
        onto: &[es(2, 5)],
    },
    // Same table: 5.x → 5.6 and 5.x → 6.x; Elasticsearch's index compatibility table: an
    // index created in 5.x restores on 6.8, not on 7.x.
    RestorePair {
        from: es(5, 5),
        onto: &[es(5, 6)],
    },
    // Same table: 6.x → 6.8, 6.x → 7.x, and "Elasticsearch 6.x or 7.x → OpenSearch 1.x".
    // OpenSearch 2.x reads no index of 6.x (one major back: OpenSearch 1.x stands for 7.x).
    RestorePair {
        from: es(6, 6),
        onto: &[es(6, 7), os(1, 1)],
    },
    // Same table: "Elasticsearch 6.x or 7.x → OpenSearch 1.x"; OpenSearch 2.x reads indices
    // created in 7.x (the Developer Guide's upgrade page asks to reindex indices "created in
    // OpenSearch 1.3, Elasticsearch 7.10, or earlier" only before OpenSearch 3.x).
    RestorePair {
        from: es(7, 7),
        onto: &[es(7, 7), os(1, 2)],
    },
    // "Migrating to Amazon OpenSearch Service": a snapshot of OpenSearch 1.x restores on
    // "only an OpenSearch 1.x or 2.x cluster", never on Elasticsearch 7.x.
    RestorePair {
        from: os(1, 1),
        onto: &[os(1, 2)],
    },
    // "Using a snapshot to migrate data": OpenSearch 2.x → 2.x; OpenSearch 3.x reads indices
    // of one major back (OpenSearch issue #13291: 1.x indices must be reindexed for 3.0,
    // 2.x ones are read).
    RestorePair {
        from: os(2, 2),
        onto: &[os(2, 3)],
    },
    // Same or newer within 3.x (the upgrade page: 3.3 "maintains full compatibility" with
    // 3.1).
    RestorePair {
        from: os(3, 3),
        onto: &[os(3, 3)],
    },
];

/// Whether a snapshot taken on `from` can be restored on `onto`, by [`SNAPSHOT_COMPATIBILITY`].
pub fn restores_onto(from: &Engine, onto: &Engine) -> bool {
    let same_kind_older = from.kind == onto.kind && onto.version < from.version;
    !same_kind_older
        && SNAPSHOT_COMPATIBILITY
            .iter()
            .filter(|pair| pair.from.holds(from))
            .any(|pair| pair.onto.iter().any(|m| m.holds(onto)))
}

/// The engine profiles osnap is tested against (Amazon OpenSearch Service versions).
pub const PROFILES: &[Engine] = &[
    Engine::elasticsearch((6, 8, 23)),
    Engine::elasticsearch((7, 4, 2)),
    Engine::elasticsearch((7, 10, 2)),
    Engine::opensearch((1, 3, 20)),
    Engine::opensearch((2, 13, 0)),
    Engine::opensearch((3, 1, 0)),
];

#[cfg(test)]
mod tests {
    use super::*;

    const ES: fn(Version) -> Engine = Engine::elasticsearch;
    const OS: fn(Version) -> Engine = Engine::opensearch;

    /// The version before the threshold lacks the feature, the threshold has it.
    fn edge(feature: Feature, before: Engine, at: Engine) {
        assert!(
            !before.supports(feature),
            "{before} should lack {feature:?}"
        );
        assert!(at.supports(feature), "{at} should have {feature:?}");
    }

    #[test]
    fn each_threshold_at_its_edge() {
        edge(Feature::VerboseListingParam, ES((5, 4, 3)), ES((5, 5, 0)));
        edge(
            Feature::ExpandWildcardsOnCatIndices,
            ES((7, 6, 2)),
            ES((7, 7, 0)),
        );
        edge(Feature::HiddenIndices, ES((7, 6, 2)), ES((7, 7, 0)));
        edge(Feature::MultiSnapshotDelete, ES((7, 7, 1)), ES((7, 8, 0)));
        edge(Feature::ConcurrentSnapshots, ES((7, 8, 1)), ES((7, 9, 0)));
        edge(Feature::DataStreams, ES((7, 8, 1)), ES((7, 9, 0)));
        edge(Feature::SnapshotMetadata, ES((7, 2, 1)), ES((7, 3, 0)));
        edge(Feature::CloseIndex, ES((7, 1, 1)), ES((7, 4, 0)));
        edge(Feature::UnauthorizedBody, OS((2, 13, 0)), OS((2, 14, 0)));
        edge(
            Feature::MissingCredentialsWording,
            ES((6, 8, 23)),
            ES((7, 0, 0)),
        );
        edge(
            Feature::ClusterManagerTimeout,
            OS((1, 3, 20)),
            OS((2, 0, 0)),
        );
        edge(
            Feature::RemoteStoreShallowCopyField,
            OS((2, 8, 0)),
            OS((2, 9, 0)),
        );
    }

    #[test]
    fn opensearch_has_everything_it_inherited() {
        let first = OS((1, 0, 0)).capabilities();
        assert!(first.verbose_listing_param && first.expand_wildcards_on_cat_indices);
        assert!(first.hidden_indices && first.multi_snapshot_delete);
        assert!(first.concurrent_snapshots && first.data_streams && first.snapshot_metadata);
        assert!(!first.cluster_manager_timeout && first.master_timeout);
        assert!(!first.remote_store_shallow_copy_field);
    }

    #[test]
    fn no_elasticsearch_takes_cluster_manager_timeout() {
        for version in [(6, 8, 23), (7, 10, 2), (99, 0, 0)] {
            let caps = ES(version).capabilities();
            assert!(!caps.cluster_manager_timeout && caps.master_timeout);
            assert_eq!(caps.manager_timeout_param(), "master_timeout");
        }
        assert_eq!(
            OS((3, 1, 0)).capabilities().manager_timeout_param(),
            "cluster_manager_timeout"
        );
        assert!(OS((3, 1, 0)).capabilities().master_timeout);
    }

    #[test]
    fn derived_limits() {
        let old = ES((7, 4, 2)).capabilities();
        assert_eq!(old.max_concurrent_operations(), 1);
        assert_eq!(old.snapshots_per_delete(50), 1);
        let new = ES((7, 10, 2)).capabilities();
        assert_eq!(new.max_concurrent_operations(), 1000);
        assert_eq!(new.snapshots_per_delete(50), 50);
        assert_eq!(new.snapshots_per_delete(0), 1);
    }

    #[test]
    fn every_feature_has_one_row() {
        for feature in [
            Feature::VerboseListingParam,
            Feature::ExpandWildcardsOnCatIndices,
            Feature::HiddenIndices,
            Feature::MultiSnapshotDelete,
            Feature::ConcurrentSnapshots,
            Feature::DataStreams,
            Feature::SnapshotMetadata,
            Feature::ClusterManagerTimeout,
            Feature::MasterTimeout,
            Feature::CloseIndex,
            Feature::RemoteStoreShallowCopyField,
            Feature::UnauthorizedBody,
            Feature::MissingCredentialsWording,
        ] {
            assert_eq!(TABLE.iter().filter(|r| r.feature == feature).count(), 1);
        }
    }

    #[test]
    fn engines_read_from_the_root_answer() {
        assert_eq!(
            Engine::from_root("2.13.0", Some("opensearch"), None),
            Ok(OS((2, 13, 0)))
        );
        assert_eq!(
            Engine::from_root("7.10.2", None, Some("You Know, for Search")),
            Ok(ES((7, 10, 2)))
        );
        assert_eq!(Engine::from_root("6.8.0", None, None), Ok(ES((6, 8, 0))));
        assert_eq!(
            Engine::from_root("3.0.0-SNAPSHOT", Some("opensearch"), None),
            Ok(OS((3, 0, 0)))
        );
        // Compatibility mode: no distribution, 7.10.2, an OpenSearch tagline.
        let compat = Engine::from_root(
            "7.10.2",
            None,
            Some("The OpenSearch Project: https://opensearch.org/"),
        )
        .unwrap();
        assert!(compat.is_opensearch() && compat.compatibility_mode);
        assert_eq!(compat.version, (1, 0, 0));
        assert!(!compat.capabilities().cluster_manager_timeout);
        assert_eq!(
            Engine::from_root("seven", None, None),
            Err(EngineError::Version("seven".into()))
        );
        assert_eq!(parse_version("7.10"), Ok((7, 10, 0)));
    }

    #[test]
    fn profiles_differ_where_the_table_says() {
        let caps: Vec<Capabilities> = PROFILES.iter().map(Engine::capabilities).collect();
        assert!(!caps[0].expand_wildcards_on_cat_indices && !caps[0].multi_snapshot_delete);
        assert!(!caps[1].expand_wildcards_on_cat_indices && caps[1].snapshot_metadata);
        assert!(caps[2].multi_snapshot_delete && caps[2].data_streams);
        assert!(!caps[3].cluster_manager_timeout);
        assert!(caps[4].cluster_manager_timeout && caps[5].remote_store_shallow_copy_field);
    }
    #[test]
    fn snapshots_restore_forward_by_one_major_and_never_back() {
        for (from, onto, ok) in [
            (ES((7, 10, 2)), OS((1, 3, 20)), true),
            (ES((7, 10, 2)), OS((2, 13, 0)), true),
            (ES((7, 10, 2)), OS((3, 1, 0)), false),
            (ES((6, 8, 23)), ES((7, 10, 2)), true),
            (ES((6, 8, 23)), OS((1, 3, 20)), true),
            (ES((6, 8, 23)), OS((2, 13, 0)), false),
            (ES((5, 6, 16)), ES((7, 10, 2)), false),
            (ES((2, 3, 0)), ES((6, 8, 0)), false),
            (ES((1, 5, 2)), ES((2, 3, 0)), true),
            (OS((1, 3, 20)), ES((7, 10, 2)), false),
            (OS((1, 3, 20)), OS((2, 13, 0)), true),
            (OS((1, 3, 20)), OS((3, 1, 0)), false),
            (OS((2, 13, 0)), OS((3, 1, 0)), true),
            (OS((2, 13, 0)), OS((2, 13, 0)), true),
            (OS((2, 13, 0)), OS((2, 11, 0)), false),
            (ES((5, 3, 3)), ES((5, 3, 2)), false),
            (OS((3, 1, 0)), OS((2, 19, 0)), false),
        ] {
            assert_eq!(restores_onto(&from, &onto), ok, "{from} onto {onto}");
        }
    }

    #[test]
    fn version_ids_tell_the_engine() {
        assert_eq!(Engine::from_version_id(7_100_299), Some(ES((7, 10, 2))));
        assert_eq!(
            Engine::from_version_id(2_130_099 ^ 0x0800_0000),
            Some(OS((2, 13, 0)))
        );
        assert_eq!(Engine::from_version_id(6_082_399), Some(ES((6, 8, 23))));
    }

    #[test]
    fn every_compatibility_row_includes_its_own_major() {
        for pair in SNAPSHOT_COMPATIBILITY {
            assert!(pair.from.first <= pair.from.last);
            assert!(
                pair.onto.iter().any(|m| m.kind == pair.from.kind
                    && m.first <= pair.from.first
                    && m.last >= pair.from.last),
                "{pair:?}"
            );
        }
    }
}
