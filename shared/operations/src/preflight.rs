//! preflight: before a restore or a migration moves anything, what would go wrong, read from
//! both sides: the engine that took (or will take) the snapshot, and the target domain.
//!
//! Each finding is typed: a stable `code`, blocking or a warning, a short quoted subject and
//! a bounded sample of names. The report holds at most one finding per code, so it stays
//! small whatever the domains hold (it crosses Step Functions). Blocking findings are what the
//! domain would refuse or could not hold: versions that do not restore onto each other, names
//! that clash under the chosen `on_conflict`, no shard headroom, not enough disk, a caller
//! with no role. Warnings are what an operator should know: a repository the target could
//! write to, system indices the restore skips, data streams, roles osnap cannot read.
//!
//! Two readings of "what would be restored": from a snapshot (the restore's dry run), or from
//! the source domain itself (a migration's first step, before its snapshot exists), selected
//! by the rule the snapshot will apply (`indices`, system indices only when named).
//!
//! On a live source, UltraWarm indices (the snapshot skips them: AWS refuses a manual
//! snapshot of a warm index, and its `cs-ultrawarm` copies restore only there) and cold ones
//! (detached from the cluster, in no snapshot) are `warm_or_cold_indices`, and the warm ones
//! are not counted as incoming. Not yet detected: data streams on a live source
//! (`data_streams` is found from a snapshot's `data_streams` only).

use std::collections::{BTreeMap, BTreeSet};

use policy::engines::{self, Engine};
use policy::indices::is_system_index;
use policy::restore_rules;
use serde::{Deserialize, Serialize};
use snapshot_api::SnapshotApi;
use snapshot_api::indices::{AliasesByIndex, CatAllocation, CatIndex};
use snapshot_api::snapshot::SnapshotInfo;

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::bounded::Bounded;
use crate::requests::{OnConflict, RestoreRequest, RestoredIndex};

/// What a finding is about; each has a fixed [`Severity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    /// The snapshot's engine does not restore onto the target's (`engines::restores_onto`).
    VersionIncompatible,
    /// A side reports OpenSearch's compatibility-mode 7.10.2: its real version is unknown.
    VersionUnknown,
    /// Target names that exist, which the chosen `on_conflict` refuses.
    NameClash,
    /// A target name that is an alias on the target, or a restored alias that is an index
    /// there: the engine refuses both.
    AliasClash,
    /// Existing indices `replace` will restore over.
    ReplacesExisting,
    /// The new shard copies pass `cluster.max_shards_per_node` × data nodes.
    ShardHeadroom,
    /// The restored copies do not fit below the target's high disk watermark.
    DiskSpace,
    /// Under fine-grained access control the caller is mapped to no role.
    PermissionsMissing,
    /// Under fine-grained access control the caller's roles cannot be read to check them.
    PermissionsUnverified,
    /// The repository is registered on the target without `readonly`: two writers corrupt a
    /// repository.
    RepositoryWritable,
    /// System indices the restore leaves out (they are restored only when named).
    SystemIndicesSkipped,
    /// Data streams in the snapshot.
    DataStreams,
    /// UltraWarm or cold indices on the source, which its snapshot does not take.
    WarmOrColdIndices,
}

impl FindingCode {
    pub fn severity(self) -> Severity {
        match self {
            Self::VersionIncompatible
            | Self::NameClash
            | Self::AliasClash
            | Self::ShardHeadroom
            | Self::DiskSpace
            | Self::PermissionsMissing => Severity::Blocking,
            Self::VersionUnknown
            | Self::ReplacesExisting
            | Self::PermissionsUnverified
            | Self::RepositoryWritable
            | Self::SystemIndicesSkipped
            | Self::DataStreams
            | Self::WarmOrColdIndices => Severity::Warning,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Blocking,
    Warning,
}

/// One finding: what, how bad, a short subject and the names it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    /// One sentence, every untrusted value in it quoted short.
    pub subject: String,
    pub sample: Bounded,
}

/// The report: how many blocking findings and warnings, and the findings (one per code).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PreflightReport {
    pub blocking: usize,
    pub warnings: usize,
    pub findings: Vec<Finding>,
}

impl PreflightReport {
    fn add<S: AsRef<str>>(&mut self, code: FindingCode, subject: String, names: &[S]) {
        match code.severity() {
            Severity::Blocking => self.blocking += 1,
            Severity::Warning => self.warnings += 1,
        }
        let sample: Vec<String> = names
            .iter()
            .map(|n| policy::quote::short(n.as_ref()).to_string())
            .collect();
        self.findings.push(Finding {
            code,
            severity: code.severity(),
            subject,
            sample: Bounded::from_slice(&sample),
        });
    }

    pub fn has(&self, code: FindingCode) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }

    pub fn is_blocked(&self) -> bool {
        self.blocking > 0
    }
}

/// One index the restore would bring, as its source describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub from: String,
    pub to: String,
    pub primaries: u64,
    /// `None` where the source does not say (a snapshot: its settings are the domain's to
    /// read); the checks then count primaries alone.
    pub replicas: Option<u64>,
    /// The primaries' bytes, where known.
    pub primary_bytes: Option<u64>,
    /// The aliases the index brings (a live source only).
    pub aliases: Vec<String>,
}

impl Incoming {
    fn copies(&self) -> u64 {
        self.primaries * (1 + self.replicas.unwrap_or(0))
    }
}

/// What the restore would bring, from a snapshot or from the source domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    /// The engine that took the snapshot (or will).
    pub engine: Option<Engine>,
    pub incoming: Vec<Incoming>,
    /// System indices left out of the selection.
    pub skipped_system: Vec<String>,
    pub data_streams: Vec<String>,
    /// Selected UltraWarm indices of a live source, which its snapshot skips.
    pub warm: Vec<String>,
    /// A live source's cold indices (none where it lists none).
    pub cold: Vec<String>,
    /// Whether the restore brings the indices' aliases.
    pub with_aliases: bool,
}

/// What the target holds, as read for the checks.
#[derive(Debug, Clone, Default)]
pub struct TargetState {
    pub engine: Option<Engine>,
    pub close_index: bool,
    pub indices: Vec<CatIndex>,
    pub aliases: AliasesByIndex,
    pub max_shards_per_node: u64,
    pub data_nodes: u64,
    pub allocation: Vec<CatAllocation>,
    /// `None`: no security plugin answered (access is IAM's alone); `Some(Err)`: it answered
    /// but the roles could not be read.
    pub roles: Option<Result<Vec<String>, String>>,
    /// The repository's `readonly`, when it is registered there.
    pub repository_readonly: Option<bool>,
}

/// The role the project ships for fine-grained access control (`infra/fgac/osnap-role.json`),
/// granting what every function needs; `all_access` grants everything.
const ROLES_THAT_GRANT_THE_RESTORE: [&str; 2] = ["osnap", "all_access"];

/// The source side read from a live domain: its engine, the indices a snapshot of
/// `request.indices` takes (system indices only when named), renamed by the restore's rule,
/// with their shards, sizes and aliases.
pub async fn read_source(
    api: &SnapshotApi,
    request: &RestoreRequest,
    repository: &str,
    self_managed: bool,
) -> Result<Source, OsnapError> {
    let subject = Subject {
        repository,
        snapshot: None,
    };
    let engine = api.engine().await.map_err(|e| from_api(e, subject))?;
    let listed = api
        .cat_indices(None)
        .await
        .map_err(|e| from_api(e, subject))?;
    let aliases = api
        .get_aliases(None)
        .await
        .map_err(|e| from_api(e, subject))?;
    let names: Vec<String> = listed.iter().map(|c| c.index.clone()).collect();
    let pairs = crate::restore::select_and_rename(&request.selection(&request.snapshot), &names)?;
    if pairs.is_empty() {
        return Err(OsnapError::invalid(format!(
            "no index of the source matches {:?} (system indices only match when named)",
            request.indices.as_deref().unwrap_or(&["*".to_owned()])
        )));
    }
    let by_name: BTreeMap<&str, &CatIndex> = listed.iter().map(|c| (c.index.as_str(), c)).collect();
    let selected: BTreeSet<&str> = pairs.iter().map(|p| p.from.as_str()).collect();
    // The snapshot names the hot indices only (see `snapshot`): the warm ones stay behind.
    let tiers = api.box_types("*").await.map_err(|e| from_api(e, subject))?;
    let warm: Vec<String> = pairs
        .iter()
        .filter(|p| tiers.get(&p.from).is_some_and(|t| t.is_warm()))
        .map(|p| p.from.clone())
        .collect();
    let listed_cold = crate::cold_tier::list(api, self_managed).await.names();
    // Those the selection would take, were they in the cluster.
    let cold: Vec<String> =
        crate::restore::select_and_rename(&request.selection(&request.snapshot), &listed_cold)?
            .into_iter()
            .map(|p| p.from)
            .collect();
    let incoming = pairs
        .iter()
        .filter(|p| !warm.contains(&p.from))
        .map(|RestoredIndex { from, to }| {
            let row = by_name.get(from.as_str());
            Incoming {
                from: from.clone(),
                to: to.clone(),
                primaries: row.and_then(|c| c.pri).unwrap_or(1),
                replicas: row.and_then(|c| c.rep),
                primary_bytes: row.and_then(|c| c.pri_store_size),
                aliases: aliases
                    .get(from)
                    .map(|a| a.aliases.keys().cloned().collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    Ok(Source {
        engine: Some(engine),
        incoming,
        skipped_system: names
            .iter()
            .filter(|n| is_system_index(n) && !selected.contains(n.as_str()))
            .cloned()
            .collect(),
        data_streams: Vec::new(),
        warm,
        cold,
        with_aliases: with_aliases(request),
    })
}

/// The source side read from a snapshot: its engine from the version id it records, the
/// indices the restore selects with their primaries and bytes from `_status`.
pub async fn read_snapshot(
    api: &SnapshotApi,
    request: &RestoreRequest,
    repository: &str,
    info: &SnapshotInfo,
) -> Result<Source, OsnapError> {
    let subject = Subject {
        repository,
        snapshot: Some(&info.snapshot),
    };
    let status = api
        .snapshot_status(repository, &info.snapshot)
        .await
        .map_err(|e| from_api(e, subject))?;
    let pairs = crate::restore::targets(&request.selection(&info.snapshot), info)?;
    let selected: BTreeSet<&str> = pairs.iter().map(|p| p.from.as_str()).collect();
    let incoming = pairs
        .iter()
        .map(|RestoredIndex { from, to }| {
            let index = status.indices.get(from);
            Incoming {
                from: from.clone(),
                to: to.clone(),
                primaries: index.map_or(1, |s| s.shards_stats.total),
                replicas: None,
                primary_bytes: index.map(|s| s.stats.total.size_in_bytes),
                aliases: Vec::new(),
            }
        })
        .collect();
    Ok(Source {
        engine: info.version_id.and_then(Engine::from_version_id),
        incoming,
        skipped_system: info
            .indices
            .iter()
            .filter(|n| is_system_index(n) && !selected.contains(n.as_str()))
            .cloned()
            .collect(),
        data_streams: info.data_streams.clone(),
        warm: Vec::new(),
        cold: Vec::new(),
        with_aliases: with_aliases(request),
    })
}

/// Whether the restore brings aliases: the restore plan's rule (with a rename, only when
/// asked; otherwise unless turned off).
fn with_aliases(request: &RestoreRequest) -> bool {
    let renamed = request.rename_pattern.is_some() || request.on_conflict == OnConflict::Rename;
    if renamed {
        request.include_aliases == Some(true)
    } else {
        request.include_aliases != Some(false)
    }
}

/// The target side: what it holds, its limits, its disks, the caller's roles and how the
/// repository is registered there.
pub async fn read_target(api: &SnapshotApi, repository: &str) -> Result<TargetState, OsnapError> {
    let subject = Subject {
        repository,
        snapshot: None,
    };
    let err = |e| from_api(e, subject);
    let roles = match api.authinfo().await {
        Ok(None) => None,
        Ok(Some(info)) => Some(Ok(info.roles)),
        Err(e) => Some(Err(e.to_string())),
    };
    if matches!(&roles, Some(Ok(r)) if r.is_empty()) {
        // Mapped to no role, the caller may read nothing else: that is the finding.
        return Ok(TargetState {
            roles,
            ..TargetState::default()
        });
    }
    let engine = api.engine().await.map_err(err)?;
    let limit = api.shard_limit().await.map_err(err)?;
    Ok(TargetState {
        engine: Some(engine),
        close_index: engine.capabilities().close_index,
        indices: api.cat_indices(None).await.map_err(err)?,
        aliases: api.get_aliases(None).await.map_err(err)?,
        max_shards_per_node: limit.max_per_node,
        data_nodes: limit.data_nodes,
        allocation: api.cat_allocation().await.map_err(err)?,
        roles,
        repository_readonly: api
            .get_repository(repository)
            .await
            .map_err(err)?
            .map(|r| r.settings.readonly.unwrap_or(false)),
    })
}

/// Every check, pure. `migration`: the source is another domain, so the repository must be
/// read-only on the target.
pub fn check(
    source: &Source,
    target: &TargetState,
    on_conflict: OnConflict,
    migration: bool,
) -> PreflightReport {
    let mut report = PreflightReport::default();
    check_versions(&mut report, source, target);
    let replaced = check_names(&mut report, source, target, on_conflict);
    check_room(&mut report, source, target, &replaced);
    check_permissions(&mut report, target);
    if migration && target.repository_readonly == Some(false) {
        report.add::<&str>(
            FindingCode::RepositoryWritable,
            "the repository is registered on the target without readonly: only one domain \
             should write to a repository (Developer Guide, migrating to a new domain); register \
             it there with \"readonly\": true"
                .to_owned(),
            &[],
        );
    }
    if !source.skipped_system.is_empty() {
        report.add(
            FindingCode::SystemIndicesSkipped,
            format!(
                "{} system indices are not restored unless named",
                source.skipped_system.len()
            ),
            &source.skipped_system,
        );
    }
    if !source.warm.is_empty() || !source.cold.is_empty() {
        let mut names = source.warm.clone();
        names.extend(source.cold.iter().cloned());
        report.add(
            FindingCode::WarmOrColdIndices,
            format!(
                "{} UltraWarm and {} cold indices are in no manual snapshot, so they do not \
                 migrate: move them to hot storage first (`_ultrawarm/migration/<index>/_hot`, \
                 `_cold/migration/_warm` then `_hot`), or leave them",
                source.warm.len(),
                source.cold.len()
            ),
            &names,
        );
    }
    if !source.data_streams.is_empty() {
        report.add(
            FindingCode::DataStreams,
            format!(
                "the snapshot holds {} data streams: their backing indices restore with them, \
                 and a data stream of the same name on the target is refused",
                source.data_streams.len()
            ),
            &source.data_streams,
        );
    }
    report
}

fn check_versions(report: &mut PreflightReport, source: &Source, target: &TargetState) {
    let (Some(from), Some(onto)) = (source.engine, target.engine) else {
        return;
    };
    if from.compatibility_mode || onto.compatibility_mode {
        report.add::<&str>(
            FindingCode::VersionUnknown,
            format!(
                "{from} onto {onto}: a domain in compatibility mode hides its real version, so \
                 the pair was checked with the oldest OpenSearch"
            ),
            &[],
        );
    }
    if !engines::restores_onto(&from, &onto) {
        report.add::<&str>(
            FindingCode::VersionIncompatible,
            format!(
                "a snapshot taken on {from} does not restore onto {onto}: snapshots restore \
                 only onto the same or a newer compatible version"
            ),
            &[],
        );
    }
}

/// Name and alias clashes; answers the indices `replace` would restore over.
fn check_names(
    report: &mut PreflightReport,
    source: &Source,
    target: &TargetState,
    on_conflict: OnConflict,
) -> BTreeSet<String> {
    let existing: BTreeSet<&str> = target.indices.iter().map(|c| c.index.as_str()).collect();
    let alias_names: BTreeSet<&str> = target
        .aliases
        .values()
        .flat_map(|e| e.aliases.keys().map(String::as_str))
        .collect();
    let mut alias_clashes: Vec<String> = source
        .incoming
        .iter()
        .filter(|i| alias_names.contains(i.to.as_str()))
        .map(|i| format!("{} (an alias on the target)", i.to))
        .collect();
    if source.with_aliases {
        let brought: BTreeSet<&str> = source
            .incoming
            .iter()
            .flat_map(|i| i.aliases.iter().map(String::as_str))
            .collect();
        alias_clashes.extend(
            brought
                .iter()
                .filter(|a| existing.contains(*a))
                .map(|a| format!("{a} (an alias restored, an index on the target)")),
        );
    }
    if !alias_clashes.is_empty() {
        report.add(
            FindingCode::AliasClash,
            format!(
                "{} names would be both an index and an alias on the target, which the engine \
                 refuses",
                alias_clashes.len()
            ),
            &alias_clashes,
        );
    }
    let mut refused = Vec::new();
    let mut replaced = BTreeSet::new();
    for incoming in source
        .incoming
        .iter()
        .filter(|i| existing.contains(i.to.as_str()))
    {
        let replaceable = on_conflict == OnConflict::Replace
            && target.close_index
            && incoming.from == incoming.to
            && !is_system_index(&incoming.to);
        if replaceable {
            replaced.insert(incoming.to.clone());
        } else {
            refused.push(incoming.to.clone());
        }
    }
    if !refused.is_empty() {
        let why = match on_conflict {
            OnConflict::Replace => {
                "replace cannot restore over them (system indices, renamed names, or a domain \
                 that cannot close indices)"
            }
            OnConflict::Fail | OnConflict::Rename => "on_conflict refuses existing indices",
        };
        report.add(
            FindingCode::NameClash,
            format!("{} target indices exist and {why}", refused.len()),
            &refused,
        );
    }
    if !replaced.is_empty() {
        let names: Vec<&String> = replaced.iter().collect();
        report.add(
            FindingCode::ReplacesExisting,
            format!(
                "{} existing indices will be closed and restored over",
                replaced.len()
            ),
            &names,
        );
    }
    replaced
}

fn check_room(
    report: &mut PreflightReport,
    source: &Source,
    target: &TargetState,
    replaced: &BTreeSet<String>,
) {
    let existing: BTreeSet<&str> = target.indices.iter().map(|c| c.index.as_str()).collect();
    let new: Vec<&Incoming> = source
        .incoming
        .iter()
        .filter(|i| !existing.contains(i.to.as_str()))
        .collect();
    let open: u64 = target
        .indices
        .iter()
        .filter(|c| c.is_open() && !replaced.contains(&c.index))
        .map(|c| c.pri.unwrap_or(0) * (1 + c.rep.unwrap_or(0)))
        .sum();
    let added: u64 = new.iter().map(|i| i.copies()).sum();
    if let Some(refusal) = restore_rules::shard_limit_exceeded(
        added,
        open,
        target.max_shards_per_node,
        target.data_nodes,
    ) {
        let names: Vec<&str> = new.iter().map(|i| i.to.as_str()).collect();
        report.add(
            FindingCode::ShardHeadroom,
            format!(
                "the restore's {added} new shard copies pass the shard limit \
                 (cluster.max_shards_per_node): {refusal}"
            ),
            &names,
        );
    }
    let needed: u64 = source
        .incoming
        .iter()
        .map(|i| i.primary_bytes.unwrap_or(0) * (1 + i.replicas.unwrap_or(0)))
        .sum();
    let nodes: Vec<&CatAllocation> = target
        .allocation
        .iter()
        .filter(|a| !a.is_unassigned())
        .collect();
    let room: u64 = nodes
        .iter()
        .filter_map(|a| {
            Some(restore_rules::room_below_high_watermark(
                a.disk_total?,
                a.disk_avail?,
            ))
        })
        .sum();
    if !nodes.is_empty() && needed > room {
        let names: Vec<&str> = source.incoming.iter().map(|i| i.to.as_str()).collect();
        report.add(
            FindingCode::DiskSpace,
            format!(
                "the restore needs {needed} bytes and the target's data nodes can take {room} \
                 before the high disk watermark ({}%), where the allocator stops placing shards",
                restore_rules::DEFAULT_HIGH_DISK_WATERMARK_PERCENT
            ),
            &names,
        );
    }
}

fn check_permissions(report: &mut PreflightReport, target: &TargetState) {
    match &target.roles {
        None => {}
        Some(Err(error)) => report.add::<&str>(
            FindingCode::PermissionsUnverified,
            format!(
                "the security plugin's authinfo could not be read ({}): the restore's actions \
                 are unchecked",
                policy::quote::short(error)
            ),
            &[],
        ),
        Some(Ok(roles)) if roles.is_empty() => report.add::<&str>(
            FindingCode::PermissionsMissing,
            "fine-grained access control maps the caller to no role: the restore would be \
             refused; map it to the osnap role (infra/fgac)"
                .to_owned(),
            &[],
        ),
        Some(Ok(roles))
            if !roles
                .iter()
                .any(|r| ROLES_THAT_GRANT_THE_RESTORE.contains(&r.as_str())) =>
        {
            report.add(
                FindingCode::PermissionsUnverified,
                "the caller's roles are neither osnap nor all_access, and what they grant \
                 takes the security REST API to read: the restore's actions are unchecked"
                    .to_owned(),
                roles,
            );
        }
        Some(Ok(_)) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(from: &str, to: &str) -> Incoming {
        Incoming {
            from: from.into(),
            to: to.into(),
            primaries: 1,
            replicas: Some(1),
            primary_bytes: Some(1_000),
            aliases: Vec::new(),
        }
    }

    fn source(engine: Engine) -> Source {
        Source {
            engine: Some(engine),
            incoming: vec![one("orders", "orders")],
            ..Source::default()
        }
    }

    fn target(engine: Engine) -> TargetState {
        TargetState {
            engine: Some(engine),
            close_index: true,
            max_shards_per_node: 1000,
            data_nodes: 2,
            ..TargetState::default()
        }
    }

    #[test]
    fn a_snapshots_data_streams_are_a_warning() {
        let mut from = source(Engine::opensearch((2, 13, 0)));
        from.data_streams = vec!["logs-app".into()];
        let report = check(
            &from,
            &target(Engine::opensearch((2, 13, 0))),
            OnConflict::Fail,
            true,
        );
        assert_eq!(report.blocking, 0);
        assert!(report.has(FindingCode::DataStreams));
        assert_eq!(report.findings[0].sample.names, ["logs-app"]);
    }

    #[test]
    fn compatibility_mode_hides_the_version_and_says_so() {
        let compat = Engine::from_root("7.10.2", None, Some("The OpenSearch Project: x")).unwrap();
        let report = check(
            &source(compat),
            &target(Engine::opensearch((2, 13, 0))),
            OnConflict::Fail,
            true,
        );
        assert!(report.has(FindingCode::VersionUnknown));
        assert!(!report.has(FindingCode::VersionIncompatible));
    }

    #[test]
    fn codes_are_stable_snake_case_with_fixed_severities() {
        let finding = Finding {
            code: FindingCode::WarmOrColdIndices,
            severity: FindingCode::WarmOrColdIndices.severity(),
            subject: String::new(),
            sample: Bounded::default(),
        };
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(json["code"], "warm_or_cold_indices");
        assert_eq!(json["severity"], "warning");
        assert_eq!(FindingCode::DiskSpace.severity(), Severity::Blocking);
        assert_eq!(
            FindingCode::RepositoryWritable.severity(),
            Severity::Warning
        );
    }

    #[test]
    fn room_counts_replicas_and_leaves_replaced_indices_out() {
        let mut state = target(Engine::opensearch((2, 13, 0)));
        state.max_shards_per_node = 2;
        state.indices = serde_json::from_value(serde_json::json!([
            {"index": "orders", "status": "open", "pri": "1", "rep": "1"},
            {"index": "other", "status": "open", "pri": "1", "rep": "1"}
        ]))
        .unwrap();
        let mut from = source(Engine::opensearch((2, 13, 0)));
        from.incoming.push(one("logs", "logs"));
        // replace closes `orders`: 2 open copies + 2 new for `logs` fit 2 × 2.
        let report = check(&from, &state, OnConflict::Replace, false);
        assert!(!report.has(FindingCode::ShardHeadroom), "{report:?}");
        from.incoming[1].replicas = Some(2);
        let report = check(&from, &state, OnConflict::Replace, false);
        assert!(report.has(FindingCode::ShardHeadroom), "{report:?}");
    }
}
