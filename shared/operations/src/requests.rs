//! The five functions' requests and responses: the public JSON contract.

use policy::retention::Protected;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bounded::Bounded;
use crate::contract::DomainInput;
use crate::impl_request;
use crate::preflight::PreflightReport;

/// The repository settings an operator gives `register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositorySettingsInput {
    pub bucket: String,
    /// The bucket's region; resolved with S3 when neither this nor `endpoint` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The S3 endpoint, for a bucket in another region than the domain (AWS's rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
    /// The role an AWS domain assumes to write to the bucket (required there). A self-managed
    /// cluster reaches S3 with its own client's credentials and takes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// A self-managed cluster's `repository-s3` client (`s3.client.<name>.*` in its keystore
    /// and configuration); `default` when absent. Not an AWS domain setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_encryption: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[serde(default)]
    pub domain: Option<DomainInput>,
    #[serde(default)]
    pub repository: Option<String>,
    pub settings: RepositorySettingsInput,
    /// Ask the domain to verify it can write to the bucket.
    #[serde(default = "yes")]
    pub verify: bool,
    /// Update a repository registered with other settings instead of failing.
    #[serde(default)]
    pub replace: bool,
}
impl_request!(RegisterRequest);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegisterStatus {
    Created,
    Unchanged,
    Updated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    pub repository: String,
    pub status: RegisterStatus,
    /// Nodes that verified access to the bucket (empty when verification was skipped).
    pub verified_nodes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRequest {
    #[serde(default)]
    pub domain: Option<DomainInput>,
    #[serde(default)]
    pub repository: Option<String>,
    /// A name or a template such as `nightly-{now:%Y.%m.%d-%H%M}` (UTC).
    #[serde(default)]
    pub snapshot: Option<String>,
    /// The time `{now}` stands for (RFC 3339, e.g. a Step Functions execution's start time),
    /// so that a retried invocation names the same snapshot. Default: the EventBridge event's
    /// time, else the current time.
    #[serde(default)]
    pub time: Option<String>,
    /// Index patterns; system indices are excluded unless named.
    #[serde(default)]
    pub indices: Option<Vec<String>>,
    #[serde(default)]
    pub include_global_state: bool,
    #[serde(default)]
    pub partial: bool,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// What to do with the selection's UltraWarm indices.
    #[serde(default)]
    pub warm: WarmChoice,
}
impl_request!(SnapshotRequest);

/// What a snapshot does with UltraWarm indices. Amazon OpenSearch Service refuses a manual
/// snapshot that mixes hot and warm indexes, wildcards included, or holds more than one warm
/// index (Developer Guide, ultrawarm.md, "Manual snapshots of warm indexes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WarmChoice {
    /// Leave them out: AWS's automated `cs-ultrawarm` repository already holds a snapshot of
    /// each warm index, taken when it migrated ("Restoring warm indexes from snapshots").
    #[default]
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotResponse {
    pub repository: String,
    pub snapshot: String,
    pub state: String,
    /// False when the snapshot already existed (a retried invocation).
    pub started: bool,
    /// The selection's hot indices, which the snapshot names explicitly.
    pub hot: Bounded,
    pub warm: WarmReport,
    pub cold: ColdReport,
    /// What became of the snapshot's manifest (see the README's "Manifest").
    pub manifest: ManifestNote,
}

/// Whether a snapshot's manifest was recorded. A manifest that could not be written never
/// fails the snapshot: it is said here, and a later count check says it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestNote {
    pub status: ManifestStatus,
    /// The object key, where one was written or found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why none was written, quoted short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ManifestNote {
    pub fn written(key: String) -> Self {
        Self {
            status: ManifestStatus::Written,
            key: Some(key),
            reason: None,
        }
    }

    pub fn kept(key: String) -> Self {
        Self {
            status: ManifestStatus::Kept,
            key: Some(key),
            reason: None,
        }
    }

    /// Logged, and quoted short for the answer.
    pub fn not_recorded(reason: &str) -> Self {
        tracing::warn!(%reason, "no manifest recorded");
        Self {
            status: ManifestStatus::NotRecorded,
            key: None,
            reason: Some(policy::quote::short(reason)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManifestStatus {
    /// Written (or, by `verify`, completed) by this invocation.
    Written,
    /// Written (or completed) by an earlier invocation, and left as it was.
    Kept,
    /// None was written (`reason` says why).
    NotRecorded,
}

/// The selection's UltraWarm indices and what was done with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmReport {
    pub choice: WarmChoice,
    pub indices: Bounded,
    pub note: String,
}

/// The domain's cold indices: detached from the cluster, never in a snapshot of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColdReport {
    /// Whether the domain answered `GET _cold/indices/_search`.
    pub listed: bool,
    pub indices: Bounded,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyCheck {
    #[default]
    Snapshot,
    Restore,
    /// Compare document counts of restored indices with their source domain.
    Counts,
    /// Restore a sample of the snapshot under a prefix, judge it against the manifest, and
    /// delete it (`drill`).
    Drill,
}

/// `check: drill`: which of the snapshot's indices to restore, under which prefix, where, and
/// on which days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillRequest {
    #[serde(default)]
    pub sample: DrillSample,
    /// Prepended to each drilled index's name; the drill touches no index without it.
    #[serde(default = "default_drill_prefix")]
    pub prefix: String,
    /// A scratch domain to drill on, with the repository registered there under the same
    /// name; the snapshot's own domain by default.
    #[serde(default)]
    pub domain: Option<DomainInput>,
    /// Which runs drill (by the UTC date of the run); the others answer `NOT_DUE`.
    #[serde(default)]
    pub on: DrillDay,
}

pub const DEFAULT_DRILL_PREFIX: &str = "osnap-drill-";

fn default_drill_prefix() -> String {
    DEFAULT_DRILL_PREFIX.to_owned()
}

/// Which of the snapshot's indices a drill restores (system indices and data streams' backing
/// indices never).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillSample {
    #[default]
    All,
    /// N of them, chosen by the snapshot's UUID: every poll, and a drill run again, choose
    /// the same.
    Random(usize),
    /// The N largest by the manifest's primary store size.
    Largest(usize),
    /// Those matching these names or `*` patterns.
    Indices(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillDay {
    #[default]
    Always,
    Daily,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
    /// The first day of each month.
    Monthly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillPhase {
    #[default]
    Start,
    Check,
    /// In an answer: the drill is over (or was not due); nothing more to send.
    Done,
}

/// What a drill did, in a `check: drill` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillReport {
    /// What to send next: `check` until the drill is `done`.
    pub phase: DrillPhase,
    /// The domain drilled on (its endpoint's host).
    pub domain: String,
    pub prefix: String,
    /// The snapshot's indices drilled (their names in the snapshot).
    pub sample: Bounded,
    pub passed: Bounded,
    pub failed: Bounded,
    /// The drill's copies deleted once judged.
    pub deleted: Bounded,
    /// Drill copies left in place: those whose restore failed (their failure can be read
    /// there; osnap deletes only a copy it can show was restored from this snapshot).
    pub kept: Bounded,
    /// The first verdicts, each `index: why`, quoted short.
    pub results: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[serde(default)]
    pub domain: Option<DomainInput>,
    #[serde(default)]
    pub repository: Option<String>,
    /// A snapshot name, or `latest`.
    #[serde(default = "latest")]
    pub snapshot: String,
    /// With `latest`: only snapshots whose names match (`*` wildcards) count, so another
    /// tool's snapshot in the same repository is not taken for tonight's backup.
    #[serde(default = "nightly_pattern", rename = "match")]
    pub name_pattern: String,
    #[serde(default)]
    pub expect_indices: Vec<String>,
    /// E.g. `26h`: older than this is not ok. For `latest` it is [`DEFAULT_LATEST_MAX_AGE`]
    /// unless given; a named snapshot is judged on its age only when it is given.
    #[serde(default)]
    pub max_age: Option<String>,
    #[serde(default)]
    pub check: VerifyCheck,
    /// With `check: restore`, the restored indices to follow.
    #[serde(default)]
    pub indices: Vec<String>,
    /// With `check: counts`, the domain the indices were restored from: its drift since the
    /// snapshot is reported, and without a manifest its counts are compared.
    #[serde(default)]
    pub source: Option<DomainInput>,
    /// With `check: restore` (instead of `indices`) or `counts`: the restore to follow, as it
    /// was asked. The indices it restored, and from which, are worked out again from the
    /// snapshot by the restore's own rules, so no list of them crosses the workflow.
    #[serde(default)]
    pub restore_of: Option<RestoreSelection>,
    /// With `check: drill`: what to drill.
    #[serde(default)]
    pub drill: Option<DrillRequest>,
    /// With `check: drill`: `start` restores the sample; `check`, sent until the answer is
    /// `done`, follows the restore and, once it has recovered, judges the copies and deletes
    /// them.
    #[serde(default)]
    pub drill_phase: DrillPhase,
    #[serde(default)]
    pub raise_on_failure: bool,
}
impl_request!(VerifyRequest);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShardCounts {
    pub total: u64,
    pub successful: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResponse {
    pub repository: String,
    pub snapshot: String,
    pub state: String,
    /// Whether polling can stop.
    pub done: bool,
    /// Whether the outcome is good.
    pub ok: bool,
    pub indices: Bounded,
    pub shards: ShardCounts,
    /// The first [`crate::bounded::SAMPLE`] failures, each quoted short; `failure_count`
    /// says how many there are in all (the log has them all).
    pub failures: Vec<String>,
    pub failure_count: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<u64>,
    /// How long a finished snapshot took, as the domain reports it; with `check: restore`,
    /// how long the restore's slowest shard took to recover, once all have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_millis: Option<u64>,
    /// `check: snapshot` on a SUCCESS snapshot: whether its manifest was completed with the
    /// counts read after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<ManifestNote>,
    /// `check: counts`: how the restored counts were judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<CountsReport>,
    /// `check: drill`: what the drill did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<DrillReport>,
    /// `check: snapshot`, on the check that completes the manifest (once per snapshot): the
    /// primaries' store size of the indices it records, read just before the create (the
    /// data the snapshot protects, not what it added to the bucket, which is incremental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_bytes: Option<u64>,
}

/// What `check: counts` judged the restored indices' counts against, and how they fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountsReport {
    pub basis: CountBasis,
    /// Why the snapshot's manifest could not be used, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_manifest: Option<String>,
    /// Indices per verdict (see `manifest::judge::CountVerdict`).
    pub exact: usize,
    pub within_interval: usize,
    pub mismatch: usize,
    pub unverified: usize,
    /// Information, never a failure: source indices whose count has changed since the
    /// snapshot (`index: N at the snapshot, M now`).
    pub drift: Bounded,
    /// Information, never a failure: source indices deleted since the snapshot.
    pub deleted_on_source: Bounded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBasis {
    /// The snapshot's manifest.
    Manifest,
    /// No manifest: the source as it is now (equal counts pass; any difference is
    /// unverified, since the source's writes since the snapshot cannot be told from loss).
    LiveSource,
    /// Neither: nothing to judge by.
    Nothing,
}

/// How old the newest snapshot may be when `verify` is asked for `latest` without a
/// `max_age`: a nightly backup plus two hours of slack.
pub const DEFAULT_LATEST_MAX_AGE: &str = "26h";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    #[default]
    Fail,
    Rename,
    Replace,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    #[serde(default)]
    pub domain: Option<DomainInput>,
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default = "latest")]
    pub snapshot: String,
    /// With `latest`: only snapshots whose names match (`*` wildcards) count.
    #[serde(default = "nightly_pattern", rename = "match")]
    pub name_pattern: String,
    #[serde(default)]
    pub indices: Option<Vec<String>>,
    #[serde(default)]
    pub on_conflict: OnConflict,
    #[serde(default)]
    pub rename_pattern: Option<String>,
    #[serde(default)]
    pub rename_replacement: Option<String>,
    #[serde(default)]
    pub include_aliases: Option<bool>,
    #[serde(default)]
    pub include_global_state: bool,
    #[serde(default)]
    pub index_settings: Option<Map<String, Value>>,
    #[serde(default)]
    pub ignore_index_settings: Option<Vec<String>>,
    /// Restore from a PARTIAL snapshot (only its complete indices).
    #[serde(default)]
    pub partial: bool,
    #[serde(default)]
    pub dry_run: bool,
    /// With `dry_run`: the domain the snapshot is (or will be) taken from, for a migration's
    /// preflight. Its indices are read in place of a snapshot's (selected as a snapshot of
    /// `indices` takes them), so it runs before the snapshot exists; `snapshot` is not read.
    #[serde(default)]
    pub source: Option<DomainInput>,
}
impl_request!(RestoreRequest);

/// What a restore selects and how it names it: its snapshot (a name), `indices`,
/// `on_conflict` and rename, the fields of the restore request that decide which index of the
/// snapshot is restored under which name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreSelection {
    pub snapshot: String,
    #[serde(default)]
    pub indices: Option<Vec<String>>,
    #[serde(default)]
    pub on_conflict: OnConflict,
    #[serde(default)]
    pub rename_pattern: Option<String>,
    #[serde(default)]
    pub rename_replacement: Option<String>,
}

impl RestoreRequest {
    /// This request's selection, for `snapshot` (the name `latest` resolved to).
    pub fn selection(&self, snapshot: &str) -> RestoreSelection {
        RestoreSelection {
            snapshot: snapshot.to_owned(),
            indices: self.indices.clone(),
            on_conflict: self.on_conflict,
            rename_pattern: self.rename_pattern.clone(),
            rename_replacement: self.rename_replacement.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoredIndex {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreResponse {
    pub repository: String,
    pub snapshot: String,
    /// The indices restored (their names on the target); with a rename, the restore request
    /// (or `verify`'s `restore_of`) says from which.
    pub restored: Bounded,
    /// The data streams restored as streams (their names on the target), each with every
    /// backing index (listed in `restored`).
    pub data_streams: Bounded,
    /// Existing indices `replace` restores over: closed, then restored in place (never
    /// deleted); reopened unchanged when the domain refuses the restore.
    pub replaced: Bounded,
    /// Targets the domain was already restoring from this snapshot (an earlier invocation
    /// whose answer was lost): left as they were, neither replaced nor restored again.
    pub already_restoring: Bounded,
    pub dry_run: bool,
    /// A dry run's preflight report: what would go wrong, typed and bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<PreflightReport>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneRequest {
    #[serde(default)]
    pub domain: Option<DomainInput>,
    #[serde(default)]
    pub repository: Option<String>,
    /// Only snapshots whose names match (`*` wildcards) are pruned.
    #[serde(default = "nightly_pattern", rename = "match")]
    pub name_pattern: String,
    #[serde(default)]
    pub keep_last: Option<usize>,
    #[serde(default)]
    pub max_age: Option<String>,
    #[serde(default = "one")]
    pub min_count: usize,
    /// Index patterns (`*` wildcards) whose newest successful copy is never pruned.
    #[serde(default)]
    pub protect_last_copy_of: Vec<String>,
    /// Snapshot names that are never pruned (as is a snapshot whose metadata has
    /// `"pinned": true`).
    #[serde(default)]
    pub pinned: Vec<String>,
    #[serde(default)]
    pub dry_run: bool,
}
impl_request!(PruneRequest);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneResponse {
    pub repository: String,
    pub dry_run: bool,
    /// Deleted by this invocation (in a dry run: those that would be), oldest first.
    pub deleted: Bounded,
    /// Considered and kept, newest first.
    pub kept: Bounded,
    /// Due for deletion but left for the next run, because the invocation was running out
    /// of time. Empty when the run completed.
    pub pending: Bounded,
    /// How many kept snapshots each protection covers (see `policy::retention`).
    pub protected: Protected,
}

fn yes() -> bool {
    true
}

fn one() -> usize {
    1
}

fn latest() -> String {
    "latest".to_owned()
}

fn nightly_pattern() -> String {
    "nightly-*".to_owned()
}
